# Follows: Jeremy Howard's Kaggle kernel "Improved LSTM baseline: GloVe + dropout" (Toxic Comment
#   Classification Challenge, 2018; reused in countless kernels and blog posts):
#   inp = Input(shape=(maxlen,)); x = Embedding(max_features, embed_size,
#   weights=[embedding_matrix])(inp); x = Bidirectional(LSTM(50, return_sequences=True,
#   dropout=0.1, recurrent_dropout=0.1))(x); x = GlobalMaxPool1D()(x); x = Dense(50,
#   activation="relu")(x); x = Dropout(0.1)(x); x = Dense(6, activation="sigmoid")(x);
#   model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy']);
#   model.fit(X_t, y, batch_size=32, epochs=2, validation_split=0.1).
#   Then the same network without dropout, frozen embeddings (trainable=False) and
#   GlobalAveragePooling1D over a masked sequence (other kernels of the same competition).
# Changed: GloVe file and comments replaced by a random embedding matrix and random ids
#   (pad_sequences pads at the front: "pre"); sizes cut.
import numpy as np
from keras.layers import (Dense, Input, LSTM, GRU, Embedding, Dropout, Bidirectional,
                          GlobalMaxPool1D, GlobalAveragePooling1D, concatenate)
from keras.models import Model

max_features, maxlen, embed_size = 100, 12, 8
rng = np.random.default_rng(11)
embedding_matrix = rng.normal(0, 0.3, size=(max_features, embed_size)).astype("float32")
X_t = rng.integers(1, max_features, size=(60, maxlen))
for row in X_t:
    row[: rng.integers(0, maxlen - 2)] = 0
y = (rng.uniform(size=(60, 6)) < 0.3).astype("float32")

inp = Input(shape=(maxlen,))
x = Embedding(max_features, embed_size, weights=[embedding_matrix])(inp)
x = Bidirectional(LSTM(10, return_sequences=True, dropout=0.1, recurrent_dropout=0.1))(x)
x = GlobalMaxPool1D()(x)
x = Dense(10, activation="relu")(x)
x = Dropout(0.1)(x)
x = Dense(6, activation="sigmoid")(x)
model = Model(inputs=inp, outputs=x)
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
print(model.predict(X_t[:4]))
print(model.evaluate(X_t, y))

inp = Input(shape=(maxlen,))
emb = Embedding(max_features, embed_size, weights=[embedding_matrix], trainable=False,
                mask_zero=True)(inp)
seq = Bidirectional(GRU(10, return_sequences=True))(emb)
x = concatenate([GlobalMaxPool1D()(seq), GlobalAveragePooling1D()(seq)])
x = Dense(6, activation="sigmoid")(Dense(10, activation="relu")(x))
model = Model(inputs=inp, outputs=x)
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
print(model.predict(X_t[:4]))
model.fit(X_t, y, batch_size=16, epochs=2, validation_split=0.1)
print(model.evaluate(X_t, y))

model.fit(X_t, y, batch_size=16, epochs=1)   # after the deterministic model: dropout model
inp = Input(shape=(maxlen,))
x = Embedding(max_features, embed_size, weights=[embedding_matrix])(inp)
x = Bidirectional(LSTM(10, return_sequences=True, dropout=0.1, recurrent_dropout=0.1))(x)
x = Dense(6, activation="sigmoid")(Dropout(0.1)(Dense(10, activation="relu")(GlobalMaxPool1D()(x))))
model = Model(inputs=inp, outputs=x)
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(X_t, y, batch_size=32, epochs=2, validation_split=0.1)
