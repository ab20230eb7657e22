# Follows: F. Chollet, Deep Learning with Python 2nd ed., ch. 10 "Deep learning for timeseries"
#   (fchollet/deep-learning-with-python-notebooks chapter10_dl-for-timeseries.ipynb):
# the bidirectional LSTM (layers.Bidirectional(layers.LSTM(16))), then "Using recurrent dropout
# to fight overfitting" (LSTM(32, recurrent_dropout=0.25) + Dropout(0.5)) and the stacked GRUs
# (GRU(32, recurrent_dropout=0.5, return_sequences=True) -> GRU(32, recurrent_dropout=0.5));
# rmsprop, mse, metrics=["mae"], ModelCheckpoint(save_best_only=True).
# Changed: the Jena climate CSV + timeseries_dataset_from_array replaced by a random-walk array
# of the same layout (sequence_length x 14 features), sizes cut, epochs 2.
import numpy as np
import keras
from keras import layers

rng = np.random.default_rng(3)
raw = np.cumsum(rng.normal(size=(400, 14)), axis=0).astype("float32")
raw = (raw - raw.mean(axis=0)) / raw.std(axis=0)
sequence_length = 24
starts = np.arange(0, 400 - sequence_length - 1, 3)
samples = np.stack([raw[s:s + sequence_length] for s in starts])
targets = np.array([raw[s + sequence_length, 1] for s in starts], dtype="float32")
x_train, y_train = samples[:80], targets[:80]
x_val, y_val = samples[80:], targets[80:]

inputs = keras.Input(shape=(sequence_length, raw.shape[-1]))
x = layers.Bidirectional(layers.LSTM(16))(inputs)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
history = model.fit(x_train, y_train, epochs=2, batch_size=16, validation_data=(x_val, y_val))

inputs = keras.Input(shape=(sequence_length, raw.shape[-1]))
x = layers.LSTM(32, recurrent_dropout=0.25)(inputs)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
callbacks = [keras.callbacks.ModelCheckpoint("jena_lstm_dropout.keras", save_best_only=True)]
model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
print(model.evaluate(x_val, y_val))  # before training: dropout is off in inference
history = model.fit(x_train, y_train, epochs=2, batch_size=16, validation_data=(x_val, y_val),
                    callbacks=callbacks)
model = keras.models.load_model("jena_lstm_dropout.keras")
print(f"Test MAE: {model.evaluate(x_val, y_val)[1]:.2f}")

inputs = keras.Input(shape=(sequence_length, raw.shape[-1]))
x = layers.GRU(32, recurrent_dropout=0.5, return_sequences=True)(inputs)
x = layers.GRU(32, recurrent_dropout=0.5)(x)
x = layers.Dropout(0.5)(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
history = model.fit(x_train, y_train, epochs=2, batch_size=16, validation_data=(x_val, y_val))
print(model.evaluate(x_val, y_val))
