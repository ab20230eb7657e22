# Source: ageron/handson-ml2, 15_processing_sequences_using_rnns_and_cnns.ipynb
#   (commit 1e2115277b50f6c584cd668fa30e3af309a5b136), cells 8, 55, 57 (last_time_step_mse), 70-71 (LSTM),
#   76-77 (GRU): the "next section" after the SimpleRNN forecasts, same data.
# Changes: `from tensorflow import keras` -> `import fastrnn as keras`; `tf.random.set_seed(42)` ->
#   `keras.utils.set_random_seed(42)`; epochs 20 -> 1; plots dropped.
import numpy as np
import fastrnn as keras

def generate_time_series(batch_size, n_steps):
    freq1, freq2, offsets1, offsets2 = np.random.rand(4, batch_size, 1)
    time = np.linspace(0, 1, n_steps)
    series = 0.5 * np.sin((time - offsets1) * (freq1 * 10 + 10))  #   wave 1
    series += 0.2 * np.sin((time - offsets2) * (freq2 * 20 + 20)) # + wave 2
    series += 0.1 * (np.random.rand(batch_size, n_steps) - 0.5)   # + noise
    return series[..., np.newaxis].astype(np.float32)

np.random.seed(42)

n_steps = 50
series = generate_time_series(10000, n_steps + 10)
X_train = series[:7000, :n_steps]
X_valid = series[7000:9000, :n_steps]
X_test = series[9000:, :n_steps]
Y = np.empty((10000, n_steps, 10))
for step_ahead in range(1, 10 + 1):
    Y[..., step_ahead - 1] = series[..., step_ahead:step_ahead + n_steps, 0]
Y_train = Y[:7000]
Y_valid = Y[7000:9000]
Y_test = Y[9000:]

def last_time_step_mse(Y_true, Y_pred):
    return keras.metrics.mean_squared_error(Y_true[:, -1], Y_pred[:, -1])

np.random.seed(42)
keras.utils.set_random_seed(42)

model = keras.models.Sequential([
    keras.layers.LSTM(20, return_sequences=True, input_shape=[None, 1]),
    keras.layers.LSTM(20, return_sequences=True),
    keras.layers.TimeDistributed(keras.layers.Dense(10))
])

model.compile(loss="mse", optimizer="adam", metrics=[last_time_step_mse])
history = model.fit(X_train, Y_train, epochs=1,
                    validation_data=(X_valid, Y_valid))
print("lstm", model.evaluate(X_valid, Y_valid))

np.random.seed(42)
keras.utils.set_random_seed(42)

model = keras.models.Sequential([
    keras.layers.GRU(20, return_sequences=True, input_shape=[None, 1]),
    keras.layers.GRU(20, return_sequences=True),
    keras.layers.TimeDistributed(keras.layers.Dense(10))
])

model.compile(loss="mse", optimizer="adam", metrics=[last_time_step_mse])
history = model.fit(X_train, Y_train, epochs=1,
                    validation_data=(X_valid, Y_valid))
print("gru", model.evaluate(X_valid, Y_valid))
