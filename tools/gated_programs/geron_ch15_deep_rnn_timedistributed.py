# Follows: A. Geron, Hands-On ML 2nd ed., ch. 15 (ageron/handson-ml2, 15_processing_sequences_using_rnns_and_cnns.ipynb):
# generate_time_series; "Forecasting Several Steps Ahead": GRU(20, return_sequences=True,
# input_shape=[None, 1]) x2 + TimeDistributed(Dense(10)), custom metric last_time_step_mse,
# Adam(learning_rate=0.01); the LSTM version of the same model; evaluate / predict.
# Changed: `import keras` (Keras 3) instead of `from tensorflow import keras`, and
# keras.metrics.mean_squared_error (gone in Keras 3) -> keras.losses.mean_squared_error; series count and length cut; epochs 2.
import numpy as np
import keras


def generate_time_series(batch_size, n_steps):
    freq1, freq2, offsets1, offsets2 = np.random.rand(4, batch_size, 1)
    time = np.linspace(0, 1, n_steps)
    series = 0.5 * np.sin((time - offsets1) * (freq1 * 10 + 10))
    series += 0.2 * np.sin((time - offsets2) * (freq2 * 20 + 20))
    series += 0.1 * (np.random.rand(batch_size, n_steps) - 0.5)
    return series[..., np.newaxis].astype(np.float32)


np.random.seed(42)
n_steps = 20
series = generate_time_series(120, n_steps + 10)
X_train, X_valid = series[:90, :n_steps], series[90:, :n_steps]
Y = np.empty((120, n_steps, 10))
for step_ahead in range(1, 10 + 1):
    Y[..., step_ahead - 1] = series[..., step_ahead:step_ahead + n_steps, 0]
Y_train, Y_valid = Y[:90], Y[90:]


def last_time_step_mse(Y_true, Y_pred):
    return keras.losses.mean_squared_error(Y_true[:, -1], Y_pred[:, -1])


model = keras.models.Sequential([
    keras.layers.GRU(20, return_sequences=True, input_shape=[None, 1]),
    keras.layers.GRU(20, return_sequences=True),
    keras.layers.TimeDistributed(keras.layers.Dense(10))
])
model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.01), metrics=[last_time_step_mse])
history = model.fit(X_train, Y_train, epochs=2, validation_data=(X_valid, Y_valid))
print(model.evaluate(X_valid, Y_valid))

model = keras.models.Sequential([
    keras.layers.LSTM(20, return_sequences=True, input_shape=[None, 1]),
    keras.layers.LSTM(20, return_sequences=True),
    keras.layers.TimeDistributed(keras.layers.Dense(10))
])
model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate=0.01), metrics=[last_time_step_mse])
history = model.fit(X_train, Y_train, epochs=2, validation_data=(X_valid, Y_valid))
print(model.evaluate(X_valid, Y_valid))
Y_pred = model.predict(X_valid[:4])
print(Y_pred[:, -1])
