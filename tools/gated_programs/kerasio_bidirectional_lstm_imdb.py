# Follows: keras.io example "Bidirectional LSTM on IMDB" (keras-team/keras-io examples/nlp/bidirectional_lstm_imdb.py)
# Functional: Input(shape=(None,), dtype="int32") -> Embedding -> Bidirectional(LSTM(return_sequences=True))
# -> Bidirectional(LSTM) -> Dense(1, sigmoid); compile("adam", "binary_crossentropy", ["accuracy"]).
# Changed: imdb.load_data replaced by random ids, pre-padded with 0 like pad_sequences(maxlen=...)
# (no mask: the example does not set mask_zero); sizes cut; epochs 2.
import numpy as np
import keras
from keras import layers

max_features = 300
maxlen = 24
rng = np.random.default_rng(1)
x_train = rng.integers(1, max_features, size=(80, maxlen))
x_val = rng.integers(1, max_features, size=(32, maxlen))
for arr in (x_train, x_val):  # pad_sequences default: padding="pre"
    for row in arr:
        row[: rng.integers(0, maxlen // 2)] = 0
y_train = rng.integers(0, 2, size=80)
y_val = rng.integers(0, 2, size=32)

inputs = keras.Input(shape=(None,), dtype="int32")
x = layers.Embedding(max_features, 16)(inputs)
x = layers.Bidirectional(layers.LSTM(12, return_sequences=True))(x)
x = layers.Bidirectional(layers.LSTM(12))(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)
model.summary()

model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
print(model.evaluate(x_val, y_val, batch_size=32))
model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))
print(model.predict(x_val[:5]))
