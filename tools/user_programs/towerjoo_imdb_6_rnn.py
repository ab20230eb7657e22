# Source: towerjoo/myML, reviews/dl-with-python/imdb_6_rnn.py (a reader's script of Chollet ch. 6.2;
#   `from keras import preprocessing` style, summary before fit, validation_split).
# Changes: `from keras import preprocessing` -> `from fastrnn import preprocessing`; `from keras.models/layers`
#   -> `from fastrnn.models/layers`; imdb.load_data -> _synthetic.imdb_load_data (2000/1000 reviews);
#   epochs 10 -> 1.
from _synthetic import imdb_load_data  # was: from keras.datasets import imdb
from fastrnn import preprocessing
from fastrnn.models import Sequential
from fastrnn.layers import Flatten, Dense, Embedding, SimpleRNN

max_features = 10000
maxlen = 500
batch_size = 32

(x_train, y_train), (x_test, y_test) = imdb_load_data(num_words=max_features)

x_train = preprocessing.sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = preprocessing.sequence.pad_sequences(x_test, maxlen=maxlen)

model = Sequential()
model.add(Embedding(max_features, 32))
model.add(SimpleRNN(32))
model.add(Dense(1, activation="sigmoid"))
model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
model.summary()

history = model.fit(x_train, y_train, epochs=1, batch_size=128, validation_split=.2)
print(history.history)
