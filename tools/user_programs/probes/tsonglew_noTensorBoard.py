# Source: tsonglew/py-ml, kaggle/imdb/simpleRNN.py (SimpleRNN IMDB with a TensorBoard(histogram_freq=1) callback).
# Changes: `from keras import preprocessing, callbacks` -> `from fastrnn import preprocessing, callbacks`;
#   `from keras.layers/models` -> `from fastrnn.layers/models`; imdb.load_data -> _synthetic.imdb_load_data
#   (2000/1000 reviews); epochs 10 -> 1.
import numpy as np
from fastrnn import preprocessing, callbacks
from fastrnn.layers import Embedding, Flatten, Dense, SimpleRNN
from _synthetic import imdb_load_data  # was: from keras.datasets import imdb
from fastrnn.models import Sequential


max_features = 10000
maxlen = 500
batch_size = 32

(x_train, y_train), (x_test, y_test) = imdb_load_data(num_words=max_features)
x_train = preprocessing.sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = preprocessing.sequence.pad_sequences(x_test, maxlen=maxlen)

model = Sequential()
model.add(Embedding(max_features, 32))
model.add(SimpleRNN(32))
model.add(Dense(1, activation='sigmoid'))
model.compile(
    optimizer='rmsprop',
    loss='binary_crossentropy',
    metrics=['acc']
)
model.summary()
history = model.fit(
    x_train,
    y_train,
    epochs=1,
    batch_size=128,
    validation_split=0.2,
    # probe: TensorBoard callback removed
)
