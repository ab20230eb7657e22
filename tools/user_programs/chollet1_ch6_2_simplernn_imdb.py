# Source: fchollet/deep-learning-with-python-notebooks, first_edition/6.2-understanding-recurrent-neural-networks.ipynb
#   (commit dea84a4e12cc3bb3cb61ce952a0168bca113d315), code cells 0-13 (SimpleRNN part; the LSTM part is
#   chollet1_ch6_2_lstm_imdb.py). "Deep Learning with Python", 1st ed., section 6.2.
# Changes: imports keras -> fastrnn (`import fastrnn as keras`, `from fastrnn.layers/models ...`,
#   `from fastrnn.preprocessing import sequence`); imdb.load_data (downloads) -> _synthetic.imdb_load_data
#   (same structure, 2000/1000 reviews instead of 25000/25000); epochs 10 -> 1; `keras.__version__` printed;
#   plt.show() dropped (matplotlib Agg backend, no display).
import matplotlib
matplotlib.use("Agg")
import fastrnn as keras
print(keras.__version__)

from fastrnn.layers import SimpleRNN

from fastrnn.models import Sequential
from fastrnn.layers import Embedding, SimpleRNN

model = Sequential()
model.add(Embedding(10000, 32))
model.add(SimpleRNN(32))
model.summary()

model = Sequential()
model.add(Embedding(10000, 32))
model.add(SimpleRNN(32, return_sequences=True))
model.summary()

model = Sequential()
model.add(Embedding(10000, 32))
model.add(SimpleRNN(32, return_sequences=True))
model.add(SimpleRNN(32, return_sequences=True))
model.add(SimpleRNN(32, return_sequences=True))
model.add(SimpleRNN(32))  # This last layer only returns the last outputs.
model.summary()

from _synthetic import imdb_load_data  # was: from keras.datasets import imdb
from fastrnn.preprocessing import sequence

max_features = 10000  # number of words to consider as features
maxlen = 500  # cut texts after this number of words (among top max_features most common words)
batch_size = 32

print('Loading data...')
(input_train, y_train), (input_test, y_test) = imdb_load_data(num_words=max_features)
print(len(input_train), 'train sequences')
print(len(input_test), 'test sequences')

print('Pad sequences (samples x time)')
input_train = sequence.pad_sequences(input_train, maxlen=maxlen)
input_test = sequence.pad_sequences(input_test, maxlen=maxlen)
print('input_train shape:', input_train.shape)
print('input_test shape:', input_test.shape)

from fastrnn.layers import Dense

model = Sequential()
model.add(Embedding(max_features, 32))
model.add(SimpleRNN(32))
model.add(Dense(1, activation='sigmoid'))

model.compile(optimizer='rmsprop', loss='binary_crossentropy', metrics=['acc'])
history = model.fit(input_train, y_train,
                    epochs=1,
                    batch_size=128,
                    validation_split=0.2)

import matplotlib.pyplot as plt

acc = history.history['acc']
val_acc = history.history['val_acc']
loss = history.history['loss']
val_loss = history.history['val_loss']

epochs = range(len(acc))

plt.plot(epochs, acc, 'bo', label='Training acc')
plt.plot(epochs, val_acc, 'b', label='Validation acc')
plt.title('Training and validation accuracy')
plt.legend()

plt.figure()

plt.plot(epochs, loss, 'bo', label='Training loss')
plt.plot(epochs, val_loss, 'b', label='Validation loss')
plt.title('Training and validation loss')
plt.legend()
print('final', loss, val_loss, acc, val_acc)
