# Follows: TensorFlow tutorial "Text classification with an RNN"
#   https://www.tensorflow.org/text/tutorials/text_classification_rnn
# Sequential: Embedding(mask_zero=True) -> Bidirectional(LSTM) -> Dense(relu) -> Dense(1) logits,
# BinaryCrossentropy(from_logits=True), Adam(1e-4), fit with validation_data; then the stacked
# version (Bidirectional(LSTM(return_sequences=True)) -> Bidirectional(LSTM)).
# Changed: TextVectorization + IMDB download replaced by random token ids padded with 0 at the end
# (what TextVectorization outputs); sizes cut; the stacked model's Dropout(0.5) left out so that its
# training can be compared step by step.
import numpy as np
from tensorflow import keras

VOCAB_SIZE = 200
rng = np.random.default_rng(0)
lengths = rng.integers(3, 21, size=96)
x = np.zeros((96, 20), dtype="int64")
for i, n in enumerate(lengths):
    x[i, :n] = rng.integers(1, VOCAB_SIZE, size=n)
y = (x[:, 0] % 2).astype("float32")
x_train, y_train, x_test, y_test = x[:64], y[:64], x[64:], y[64:]

model = keras.Sequential([
    keras.layers.Embedding(input_dim=VOCAB_SIZE, output_dim=16, mask_zero=True),
    keras.layers.Bidirectional(keras.layers.LSTM(16)),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(1),
])
model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
              optimizer=keras.optimizers.Adam(1e-4), metrics=["accuracy"])
print(model.predict(x_test[:4]))
history = model.fit(x_train, y_train, epochs=2, batch_size=16,
                    validation_data=(x_test, y_test), validation_steps=2)
test_loss, test_acc = model.evaluate(x_test, y_test)
print("Test Loss:", test_loss, "Test Accuracy:", test_acc)
sample = np.array([[5, 17, 120, 3, 0, 0, 0, 0]])
print(model.predict(sample))

model = keras.Sequential([
    keras.layers.Embedding(VOCAB_SIZE, 16, mask_zero=True),
    keras.layers.Bidirectional(keras.layers.LSTM(16, return_sequences=True)),
    keras.layers.Bidirectional(keras.layers.LSTM(8)),
    keras.layers.Dense(16, activation="relu"),
    keras.layers.Dense(1),
])
model.compile(loss=keras.losses.BinaryCrossentropy(from_logits=True),
              optimizer=keras.optimizers.Adam(1e-4), metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=2, batch_size=16, validation_data=(x_test, y_test))
print(model.evaluate(x_test, y_test))
print(model.predict(sample))
