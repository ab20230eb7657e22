# Source: wikidocs.net/22886 (딥 러닝을 이용한 자연어 처리 입문, 08-02 "케라스의 SimpleRNN과 LSTM 이해하기" and 08-01
#   "케라스(Keras)로 RNN 구현하기"), as transcribed in sunghan-kim/Introduction-to-NLP-Using-DL
#   Ch09_RNN/Ch09_v01_Recurrent_Neural_Network_RNN.ipynb (commit 6b76eba8143a717a5415ef94a3d4aac780a812f2, cells 46-53)
#   and Jiyeon-b/Deep-learning-graduation-project RecurrentNeuralNetwork (the 08-02 listing, incl. the LSTM and
#   Bidirectional parts that follow SimpleRNN on the same page).
# Changes: `from tensorflow.keras.models/layers import ...` -> `from fastrnn.models/layers import ...`;
#   `import tensorflow as tf` dropped (unused after the change).
import numpy as np
from fastrnn.models import Sequential
from fastrnn.layers import SimpleRNN

model = Sequential()
model.add(SimpleRNN(3, input_shape=(2,10)))
# model.add(SimpleRNN(3, input_length=2, input_dim=10)) 와 동일함
model.summary()

model = Sequential()
model.add(SimpleRNN(3, batch_input_shape=(8, 2, 10)))
model.summary()

model = Sequential()
model.add(SimpleRNN(3, batch_input_shape=(8,2,10), return_sequences=True))
model.summary()

from fastrnn.layers import SimpleRNN, Bidirectional  # probe: LSTM part removed

train_X = [[[0.1, 4.2, 1.5, 1.1, 2.8], [1.0, 3.1, 2.5, 0.7, 1.1], [0.3, 2.1, 1.5, 2.1, 0.1], [2.2, 1.4, 0.5, 0.9, 1.1]]]
train_X = np.array(train_X, dtype=np.float32)
print(train_X.shape)

rnn = SimpleRNN(3)
hidden_state = rnn(train_X)
print('hidden state : {}, shape: {}'.format(hidden_state, hidden_state.shape))

rnn = SimpleRNN(3, return_sequences=True)
hidden_states = rnn(train_X)
print('hidden states : {}, shape: {}'.format(hidden_states, hidden_states.shape))

rnn = SimpleRNN(3, return_sequences=True, return_state=True)
hidden_states, last_state = rnn(train_X)
print('hidden states : {}, shape: {}'.format(hidden_states, hidden_states.shape))
print('last hidden state : {}, shape: {}'.format(last_state, last_state.shape))

rnn = SimpleRNN(3, return_sequences=False, return_state=True)
hidden_state, last_state = rnn(train_X)
print('hidden state : {}, shape: {}'.format(hidden_state, hidden_state.shape))
print('last hidden state : {}, shape: {}'.format(last_state, last_state.shape))

