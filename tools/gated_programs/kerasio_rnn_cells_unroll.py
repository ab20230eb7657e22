# Follows: Keras guide "Working with RNNs" (keras-team/keras-io guides/working_with_rnns.py),
#   section "RNN layers and RNN cells" / "Performance optimization and CuDNN kernels":
#   `keras.layers.RNN(keras.layers.LSTMCell(units), input_shape=(None, input_dim))` next to the
#   fused `keras.layers.LSTM(units, input_shape=(None, input_dim))` on MNIST rows
#   (28 steps x 28 features), Dense(10) logits, SparseCategoricalCrossentropy(from_logits=True),
#   "sgd", metrics=["accuracy"]; then copying weights between the two
#   (`other_model.set_weights(model.get_weights())`). Also `unroll=True`, which the Keras docs
#   recommend for short sequences.
# Changed: MNIST replaced by random 28x28 "images"; BatchNormalization left out; sizes cut.
import numpy as np
import keras

batch_size, input_dim, units, output_size = 16, 28, 24, 10
rng = np.random.default_rng(8)
x_train = rng.uniform(0, 1, size=(64, 28, 28)).astype("float32")
y_train = rng.integers(0, 10, size=64)
sample, sample_label = x_train[0], y_train[0]


def build_model(allow_cudnn_kernel=True):
    if allow_cudnn_kernel:
        lstm_layer = keras.layers.LSTM(units, input_shape=(None, input_dim))
    else:
        lstm_layer = keras.layers.RNN(keras.layers.LSTMCell(units), input_shape=(None, input_dim))
    model = keras.models.Sequential([lstm_layer, keras.layers.Dense(output_size)])
    return model


model = build_model(allow_cudnn_kernel=True)
model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              optimizer="sgd", metrics=["accuracy"])
model.fit(x_train, y_train, validation_split=0.25, batch_size=batch_size, epochs=1)

slow_model = build_model(allow_cudnn_kernel=False)
slow_model.set_weights(model.get_weights())
slow_model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                   optimizer="sgd", metrics=["accuracy"])
slow_model.fit(x_train, y_train, validation_split=0.25, batch_size=batch_size, epochs=1)
print(slow_model.predict(sample[None, ...]).argmax(), sample_label)

for cell in (keras.layers.GRUCell(12), keras.layers.GRUCell(12, reset_after=False),
             keras.layers.SimpleRNNCell(12)):
    model = keras.Sequential([keras.Input(shape=(None, input_dim)),
                              keras.layers.RNN(cell, return_sequences=True),
                              keras.layers.RNN(keras.layers.LSTMCell(8)),
                              keras.layers.Dense(output_size)])
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
    print(model.predict(x_train[:4]).shape)
    model.train_on_batch(x_train[:16], y_train[:16])

model = keras.Sequential([keras.Input(shape=(28, input_dim)),
                          keras.layers.GRU(12, unroll=True, return_sequences=True),
                          keras.layers.LSTM(8, unroll=True),
                          keras.layers.Dense(output_size)])
model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), optimizer="adam")
print(model.predict(x_train[:4]))
model.fit(x_train, y_train, batch_size=batch_size, epochs=1)
