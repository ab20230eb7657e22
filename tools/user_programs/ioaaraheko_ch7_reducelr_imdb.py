# Source: ioaaraheko/deeplearning_with_python, ch7_callbacks_reduceLR.py (Chollet ch. 7 callbacks applied to the
#   ch. 6 SimpleRNN IMDB model: ReduceLROnPlateau, validation_data).
# Changes: `import keras` -> `import fastrnn as keras`; `from keras.preprocessing import sequence` ->
#   `from fastrnn.preprocessing import sequence`; `from keras.models/layers` -> `from fastrnn.models/layers`;
#   imdb.load_data -> _synthetic.imdb_load_data (2000/1000 reviews); epochs 10 -> 2.
import fastrnn as keras

callbacks_lst = [
    keras.callbacks.ReduceLROnPlateau(
        monitor='val_loss',
        factor=0.1,
        patience=10
    )
]

from _synthetic import imdb_load_data  # was: from keras.datasets import imdb
from fastrnn.preprocessing import sequence

max_features = 10000
max_len = 500
batch_size = 32

print('Loading data...')
(input_train, y_train), (input_test, y_test) = imdb_load_data(num_words=max_features)

print(len(input_train), 'train_sequences')
print(len(input_test), 'test_sequences')

print('Pad sequences (samples x time)')
input_train = sequence.pad_sequences(input_train, maxlen=max_len)
input_test = sequence.pad_sequences(input_test, maxlen=max_len)

print('input_train shape :', input_train.shape)
print('input_test shape :', input_test.shape)

from fastrnn.models import Sequential
from fastrnn.layers import Dense, Embedding, SimpleRNN

model = Sequential()
model.add(Embedding(max_features,
                   32))
model.add(SimpleRNN(32))
model.add(Dense(1, activation='sigmoid'))

model.compile(optimizer='rmsprop',
              loss='binary_crossentropy',
              metrics=['acc'])

model.fit(input_train, y_train,
                epochs=2,
                batch_size=128,
                callbacks=callbacks_lst,
                validation_data=(input_test, y_test))
