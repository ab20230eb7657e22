# Source: fchollet/deep-learning-with-python-notebooks, first_edition/6.2-understanding-recurrent-neural-networks.ipynb
#   (commit dea84a4e12cc3bb3cb61ce952a0168bca113d315), cells 9 and 16: the "next section" after SimpleRNN,
#   the same IMDB model with LSTM(32).
# Changes: imports keras -> fastrnn; imdb.load_data -> _synthetic.imdb_load_data (2000/1000 reviews);
#   epochs 10 -> 1; plotting cell dropped.
from fastrnn.models import Sequential
from fastrnn.layers import Embedding, Dense
from _synthetic import imdb_load_data  # was: from keras.datasets import imdb
from fastrnn.preprocessing import sequence

max_features = 10000
maxlen = 500
batch_size = 32

print('Loading data...')
(input_train, y_train), (input_test, y_test) = imdb_load_data(num_words=max_features)
input_train = sequence.pad_sequences(input_train, maxlen=maxlen)
input_test = sequence.pad_sequences(input_test, maxlen=maxlen)

from fastrnn.layers import LSTM

model = Sequential()
model.add(Embedding(max_features, 32))
model.add(LSTM(32))
model.add(Dense(1, activation='sigmoid'))

model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['acc'])
history = model.fit(input_train, y_train,
                    epochs=1,
                    batch_size=128,
                    validation_split=0.2)
print('final', history.history)
