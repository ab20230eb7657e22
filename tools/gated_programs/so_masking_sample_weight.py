# Follows: common Stack Overflow / Keras-docs patterns for padded sequences:
#   "Masking(mask_value=0., input_shape=(timesteps, features)) before LSTM" (keras.io/api/layers/
#   core_layers/masking, and SO 'How to use Keras Masking layer with LSTM'), many-to-many tagging with
#   LSTM(return_sequences=True) + TimeDistributed(Dense(softmax)) and per-timestep sample_weight
#   (SO 'Keras: temporal sample weights for padded sequences'); Embedding(mask_zero=True) + GRU with
#   go_backwards; fit with validation_split, EarlyStopping and ReduceLROnPlateau callbacks, per-sample
#   sample_weight; evaluate with sample_weight.
import numpy as np
import keras
from keras.layers import Masking, LSTM, GRU, Dense, TimeDistributed, Embedding, Bidirectional

rng = np.random.default_rng(6)
samples, timesteps, features, n_tags = 48, 8, 5, 4
x = rng.normal(size=(samples, timesteps, features)).astype("float32")
lengths = rng.integers(2, timesteps + 1, size=samples)
for i, n in enumerate(lengths):
    x[i, n:] = 0.0                       # padded steps: all features = mask_value
y = rng.integers(0, n_tags, size=(samples, timesteps))
w = (np.arange(timesteps)[None, :] < lengths[:, None]).astype("float32")

model = keras.Sequential()
model.add(Masking(mask_value=0.0, input_shape=(timesteps, features)))
model.add(LSTM(10, return_sequences=True))
model.add(TimeDistributed(Dense(n_tags, activation="softmax")))
model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
print(model.predict(x[:3]))
model.fit(x, y, sample_weight=w, batch_size=12, epochs=2, validation_split=0.25,
          callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=1),
                     keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=1)])
print(model.evaluate(x, y, sample_weight=w))

model = keras.Sequential([
    Masking(mask_value=0.0, input_shape=(timesteps, features)),
    Bidirectional(GRU(6, return_sequences=True)),
    Bidirectional(LSTM(5), merge_mode="sum"),
    Dense(1, activation="sigmoid"),
])
model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"])
yb = (lengths > 4).astype("float32")
sw = rng.uniform(0.5, 2.0, size=samples).astype("float32")
print(model.predict(x[:4]))
model.fit(x, yb, sample_weight=sw, batch_size=16, epochs=2, validation_split=0.25)
print(model.evaluate(x, yb, batch_size=16))

ids = rng.integers(1, 30, size=(samples, timesteps))
for i, n in enumerate(lengths):
    ids[i, n:] = 0
inp = keras.Input(shape=(timesteps,))
emb = Embedding(30, 6, mask_zero=True)(inp)
seq, h = GRU(7, return_sequences=True, return_state=True, go_backwards=True)(emb)
out = LSTM(4, go_backwards=True)(seq)
model = keras.Model(inp, Dense(1)(out))
model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.5))
print(model.predict(ids[:4]))
model.fit(ids, yb, batch_size=16, epochs=2)
print(model.evaluate(ids, yb))
