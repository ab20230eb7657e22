# Source: pan93412/nkust-homework, semester-4/ai/impl/src/impl/sotest1.py (a student's Keras 3 version of
#   Géron ch. 15's first SimpleRNN: `import keras`, `keras.models.Sequential`, `from keras.optimizers import Adam`).
# Changes: `import keras` -> `import fastrnn as keras`; `import tensorflow as tf` + `tf.random.set_seed(42)` ->
#   `keras.utils.set_random_seed(42)`; `from keras.optimizers import Adam` -> `from fastrnn.optimizers import Adam`;
#   epochs 20 -> 1.
import numpy as np
import fastrnn as keras

def generate_time_series(batch_size, n_steps):
    freq1, freq2, offsets1, offsets2 = np.random.rand(4, batch_size, 1)
    time = np.linspace(0, 1, n_steps)
    series = 0.5 * np.sin((time - offsets1) * (freq1 * 10 + 10)) # wave 1
    series += 0.2 * np.sin((time - offsets2) * (freq2 * 20 + 20)) # + wave 2
    series += 0.1 * (np.random.rand(batch_size, n_steps) - 0.5) # + noise
    return series[..., np.newaxis].astype(np.float32)

np.random.seed(42)
n_steps = 50
series = generate_time_series(10000, n_steps + 1)

X_train, y_train = series[:7000, :n_steps], series[:7000, -1]
X_valid, y_valid = series[7000:9000, :n_steps], series[7000:9000, -1]
X_test, y_test = series[9000:, :n_steps], series[9000:, -1]

# Implementing simple RRN
np.random.seed(42)
keras.utils.set_random_seed(42)

model = keras.models.Sequential([keras.layers.SimpleRNN(1, input_shape=[None, 1])])

from fastrnn.optimizers import Adam
optimizer = Adam(learning_rate=0.005)
model.compile(loss="mse", optimizer=optimizer)
history = model.fit(X_train, y_train, epochs=1,
                    validation_data=(X_valid, y_valid))
print(history.history)
