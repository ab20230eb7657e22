# Source: rickiepark/hg-mldl, 9-2.ipynb (commit eedaeebf6d5479a747ae90549956b83aefc6974a): 혼자 공부하는
#   머신러닝+딥러닝 (Park Hae-sun, Hanbit), ch. 9-2 "순환 신경망으로 IMDB 리뷰 분류하기": one-hot SimpleRNN,
#   then Embedding + SimpleRNN, RMSprop(1e-4), ModelCheckpoint(.keras, save_best_only), EarlyStopping.
# Changes: `import tensorflow as tf; tf.keras.utils.set_random_seed(42)` -> `import fastrnn;
#   fastrnn.utils.set_random_seed(42)`; `from tensorflow import keras` -> `import fastrnn as keras`;
#   `from tensorflow.keras.preprocessing.sequence import pad_sequences` -> `from fastrnn.preprocessing.sequence ...`;
#   imdb.load_data (downloads) -> _synthetic.imdb_load_data (2000/1000 reviews); epochs 100 -> 2;
#   plots dropped; notebook display lines kept as print().
import fastrnn

fastrnn.utils.set_random_seed(42)

from _synthetic import imdb_load_data  # was: from tensorflow.keras.datasets import imdb

(train_input, train_target), (test_input, test_target) = imdb_load_data(
    num_words=200)
print(train_input.shape, test_input.shape)
print(len(train_input[0]))
print(train_target[:20])

from sklearn.model_selection import train_test_split

train_input, val_input, train_target, val_target = train_test_split(
    train_input, train_target, test_size=0.2, random_state=42)

import numpy as np

lengths = np.array([len(x) for x in train_input])
print(np.mean(lengths), np.median(lengths))

from fastrnn.preprocessing.sequence import pad_sequences

train_seq = pad_sequences(train_input, maxlen=100)
print(train_seq.shape)
print(train_seq[0])
val_seq = pad_sequences(val_input, maxlen=100)

import fastrnn as keras

model = keras.Sequential()

model.add(keras.layers.SimpleRNN(8, input_shape=(100, 200)))
model.add(keras.layers.Dense(1, activation='sigmoid'))

train_oh = keras.utils.to_categorical(train_seq)
print(train_oh.shape)
print(train_oh[0][0][:12])
print(np.sum(train_oh[0][0]))
val_oh = keras.utils.to_categorical(val_seq)
model.summary()

rmsprop = keras.optimizers.RMSprop(learning_rate=1e-4)
model.compile(optimizer=rmsprop, loss='binary_crossentropy',
              metrics=['accuracy'])

checkpoint_cb = keras.callbacks.ModelCheckpoint('best-simplernn-model.keras',
                                                save_best_only=True)
early_stopping_cb = keras.callbacks.EarlyStopping(patience=3,
                                                  restore_best_weights=True)

history = model.fit(train_oh, train_target, epochs=2, batch_size=64,
                    validation_data=(val_oh, val_target),
                    callbacks=[early_stopping_cb])  # probe: ModelCheckpoint removed
print(history.history)

model2 = keras.Sequential()

model2.add(keras.layers.Embedding(200, 16, input_shape=(100,)))
model2.add(keras.layers.SimpleRNN(8))
model2.add(keras.layers.Dense(1, activation='sigmoid'))

model2.summary()

rmsprop = keras.optimizers.RMSprop(learning_rate=1e-4)
model2.compile(optimizer=rmsprop, loss='binary_crossentropy',
               metrics=['accuracy'])

checkpoint_cb = keras.callbacks.ModelCheckpoint('best-embedding-model.keras',
                                                save_best_only=True)
early_stopping_cb = keras.callbacks.EarlyStopping(patience=3,
                                                  restore_best_weights=True)

history = model2.fit(train_seq, train_target, epochs=2, batch_size=64,
                     validation_data=(val_seq, val_target),
                     callbacks=[early_stopping_cb])  # probe: ModelCheckpoint removed
print(history.history)
