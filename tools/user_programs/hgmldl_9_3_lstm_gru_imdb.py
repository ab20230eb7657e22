# Source: rickiepark/hg-mldl, 9-3.ipynb (commit eedaeebf6d5479a747ae90549956b83aefc6974a): 혼자 공부하는
#   머신러닝+딥러닝 ch. 9-3 "LSTM과 GRU 셀" — the next section after 9-2's SimpleRNN, same data: LSTM, LSTM with
#   dropout, stacked LSTM, GRU, then load_model of the best checkpoint and evaluate on the test set.
#   Kept: LSTM (cells 6-7), GRU (18-19), final load_model/evaluate (cells 22-23, loading the GRU file since
#   the dropout / stacked LSTM models (cells 10-15) are omitted).
# Changes: as hgmldl_9_2 (imports -> fastrnn, set_random_seed via fastrnn.utils, synthetic IMDB of 2000/1000
#   reviews, epochs 100 -> 1, plots dropped).
import fastrnn

fastrnn.utils.set_random_seed(42)

from _synthetic import imdb_load_data  # was: from tensorflow.keras.datasets import imdb
from sklearn.model_selection import train_test_split

(train_input, train_target), (test_input, test_target) = imdb_load_data(
    num_words=500)

train_input, val_input, train_target, val_target = train_test_split(
    train_input, train_target, test_size=0.2, random_state=42)

from fastrnn.preprocessing.sequence import pad_sequences

train_seq = pad_sequences(train_input, maxlen=100)
val_seq = pad_sequences(val_input, maxlen=100)

import fastrnn as keras

model = keras.Sequential()

model.add(keras.layers.Embedding(500, 16, input_shape=(100,)))
model.add(keras.layers.LSTM(8))
model.add(keras.layers.Dense(1, activation='sigmoid'))

model.summary()

rmsprop = keras.optimizers.RMSprop(learning_rate=1e-4)
model.compile(optimizer=rmsprop, loss='binary_crossentropy',
              metrics=['accuracy'])

checkpoint_cb = keras.callbacks.ModelCheckpoint('best-lstm-model.keras',
                                                save_best_only=True)
early_stopping_cb = keras.callbacks.EarlyStopping(patience=3,
                                                  restore_best_weights=True)

history = model.fit(train_seq, train_target, epochs=1, batch_size=64,
                    validation_data=(val_seq, val_target),
                    callbacks=[checkpoint_cb, early_stopping_cb])

model4 = keras.Sequential()

model4.add(keras.layers.Embedding(500, 16, input_shape=(100,)))
model4.add(keras.layers.GRU(8))
model4.add(keras.layers.Dense(1, activation='sigmoid'))

model4.summary()

rmsprop = keras.optimizers.RMSprop(learning_rate=1e-4)
model4.compile(optimizer=rmsprop, loss='binary_crossentropy',
               metrics=['accuracy'])

checkpoint_cb = keras.callbacks.ModelCheckpoint('best-gru-model.keras',
                                                save_best_only=True)
early_stopping_cb = keras.callbacks.EarlyStopping(patience=3,
                                                  restore_best_weights=True)

history = model4.fit(train_seq, train_target, epochs=1, batch_size=64,
                     validation_data=(val_seq, val_target),
                     callbacks=[checkpoint_cb, early_stopping_cb])

test_seq = pad_sequences(test_input, maxlen=100)
rnn_model = keras.models.load_model('best-gru-model.keras')  # book: 'best-2rnn-model.keras' (model3, omitted here)
print(rnn_model.evaluate(test_seq, test_target))
