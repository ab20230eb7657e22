# Source: fchollet/deep-learning-with-python-notebooks, second_edition/chapter10_dl-for-timeseries.ipynb
#   (commit dea84a4e12cc3bb3cb61ce952a0168bca113d315), cells 40-47 ("Understanding recurrent neural networks":
#   NumPy RNN, then SimpleRNN in the functional API: shapes, return_sequences, a stack of three).
#   "Deep Learning with Python", 2nd ed., section 10.4.
# Changes: `from tensorflow import keras` / `from tensorflow.keras import layers` -> `import fastrnn as keras` /
#   `from fastrnn import layers`. Added prints of outputs.shape for cells that only built tensors, and a model
#   built from the stack so the program does something checkable (clearly marked "added").
import numpy as np
timesteps = 100
input_features = 32
output_features = 64
inputs = np.random.random((timesteps, input_features))
state_t = np.zeros((output_features,))
W = np.random.random((output_features, input_features))
U = np.random.random((output_features, output_features))
b = np.random.random((output_features,))
successive_outputs = []
for input_t in inputs:
    output_t = np.tanh(np.dot(W, input_t) + np.dot(U, state_t) + b)
    successive_outputs.append(output_t)
    state_t = output_t
final_output_sequence = np.stack(successive_outputs, axis=0)

import fastrnn as keras
from fastrnn import layers

num_features = 14
inputs = keras.Input(shape=(None, num_features))
outputs = layers.SimpleRNN(16)(inputs)
print(outputs.shape)  # added

num_features = 14
steps = 120
inputs = keras.Input(shape=(steps, num_features))
outputs = layers.SimpleRNN(16, return_sequences=False)(inputs)
print(outputs.shape)

num_features = 14
steps = 120
inputs = keras.Input(shape=(steps, num_features))
outputs = layers.SimpleRNN(16, return_sequences=True)(inputs)
print(outputs.shape)

inputs = keras.Input(shape=(steps, num_features))
x = layers.SimpleRNN(16, return_sequences=True)(inputs)
x = layers.SimpleRNN(16, return_sequences=True)(x)
outputs = layers.SimpleRNN(16)(x)

model = keras.Model(inputs, outputs)  # added
model.summary()  # added
print(model.predict(np.random.random((2, steps, num_features))).shape)  # added
