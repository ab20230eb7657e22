# Follows: common Keras patterns from Stack Overflow answers and the Keras docs on regularizers
#   (keras.io/api/layers/regularizers: "LSTM(..., kernel_regularizer=regularizers.l2(1e-4),
#   recurrent_regularizer=..., bias_regularizer=...)"), constraints ("recurrent_constraint=
#   max_norm(3)"), class_weight for an imbalanced binary task (TF tutorial "Classification on
#   imbalanced data", with elu/swish Dense layers), Bidirectional with an explicit backward_layer
#   (keras.io/api/layers/recurrent_layers/bidirectional), and a stateful Bidirectional LSTM
#   reset between epochs.
import numpy as np
import keras
from keras import layers, regularizers, constraints

rng = np.random.default_rng(10)
x = rng.normal(size=(40, 6, 4)).astype("float32")
y = (rng.uniform(size=40) < 0.25).astype("float32")

model = keras.Sequential([
    keras.Input(shape=(6, 4)),
    layers.LSTM(8, kernel_regularizer=regularizers.l2(1e-3), recurrent_regularizer=regularizers.l1(1e-3),
                bias_regularizer=regularizers.l2(1e-2), activity_regularizer=regularizers.l2(1e-3),
                recurrent_constraint=constraints.max_norm(0.5), return_sequences=True),
    layers.GRU(4, kernel_constraint=constraints.unit_norm(), reset_after=False),
    layers.Dense(6, activation="elu"),
    layers.Dense(4, activation="swish"),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
              metrics=["accuracy", keras.metrics.AUC(name="auc")])
print(model.evaluate(x, y))
model.fit(x, y, batch_size=10, epochs=2, class_weight={0: 0.6, 1: 2.5})
print(model.evaluate(x, y))

forward_layer = layers.LSTM(5, return_sequences=True)
backward_layer = layers.GRU(5, activation="relu", return_sequences=True, go_backwards=True)
model = keras.Sequential([
    keras.Input(shape=(6, 4)),
    layers.Bidirectional(forward_layer, backward_layer=backward_layer, merge_mode="mul"),
    layers.Flatten(),
    layers.Dense(1),
])
model.compile(optimizer="rmsprop", loss="mse")
print(model.predict(x[:3]))
for _ in range(3):
    model.train_on_batch(x[:20], y[:20])

inputs = keras.Input(batch_shape=(10, 6, 4))
h = layers.Bidirectional(layers.LSTM(3, stateful=True, return_sequences=True))(inputs)
out = layers.TimeDistributed(layers.Dense(1))(h)
model = keras.Model(inputs, out)
model.compile(optimizer="sgd", loss="mse")
yt = rng.normal(size=(40, 6, 1)).astype("float32")
for epoch in range(2):
    model.fit(x, yt, batch_size=10, epochs=1, shuffle=False)
    model.layers[1].reset_states()
print(model.predict(x, batch_size=10)[:2, :, 0])
