# dtype: float64
# Follows: Keras docs on floatx ("keras.config.set_floatx('float64')", keras.io/api/utils/config_utils)
#   as used in scientific code (physics / ODE surrogate notebooks) that needs double precision, with
#   the Keras guide's functional LSTM/GRU models: GRU(return_sequences=True, reset_after=True/False)
#   -> LSTM(return_state=True) -> Dense; Adam and SGD training steps; fit 2 epochs.
import numpy as np
import keras
from keras import layers

keras.config.set_floatx("float64")
rng = np.random.default_rng(7)
x = rng.normal(size=(16, 6, 3))
y = np.sin(x.sum(axis=(1, 2)))[:, None]

inputs = keras.Input(shape=(6, 3))
seq = layers.GRU(5, return_sequences=True)(inputs)
seq = layers.GRU(5, return_sequences=True, reset_after=False)(seq)
out, h, c = layers.LSTM(4, return_state=True)(seq)
pred = layers.Dense(1)(layers.Concatenate()([out, c]))
model = keras.Model(inputs, pred)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
print(model.predict(x).dtype, model.predict(x)[:3])
for i in range(3):
    print(model.train_on_batch(x, y))
model.fit(x, y, batch_size=4, epochs=2)
print(model.evaluate(x, y))

model = keras.Sequential([
    keras.Input(shape=(6, 3)),
    layers.Bidirectional(layers.LSTM(4, return_sequences=True), merge_mode="ave"),
    layers.TimeDistributed(layers.Dense(2)),
])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
yt = rng.normal(size=(16, 6, 2))
print(model.predict(x)[:2])
for i in range(3):
    print(model.train_on_batch(x, yt))
