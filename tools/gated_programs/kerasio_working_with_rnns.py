# Follows: Keras guide "Working with RNNs" (keras-team/keras-io guides/working_with_rnns.py,
#   = tensorflow.org/guide/keras/working_with_rnns): the built-in layers example
#   (Embedding -> LSTM(128) -> Dense), GRU(256, return_sequences=True) -> SimpleRNN(128),
#   LSTM(64, return_state=True, name="encoder") -> LSTM(64, name="decoder")(..., initial_state=...),
#   Bidirectional(LSTM(64, return_sequences=True), input_shape=(5, 10)) -> Bidirectional(LSTM(32)),
#   and Bidirectional's merge_mode values (keras.io/api/layers/recurrent_layers/bidirectional).
# Changed: sizes cut; random data; a few training steps added so that training is compared.
import numpy as np
import keras
from keras import layers

rng = np.random.default_rng(5)

model = keras.Sequential()
model.add(layers.Embedding(input_dim=100, output_dim=8))
model.add(layers.LSTM(16))
model.add(layers.Dense(10))
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
ids = rng.integers(0, 100, size=(12, 9))
labels = rng.integers(0, 10, size=12)
print(model.predict(ids))
for step in range(3):
    print(model.train_on_batch(ids, labels))

model = keras.Sequential()
model.add(layers.Embedding(input_dim=100, output_dim=8))
model.add(layers.GRU(24, return_sequences=True))
model.add(layers.SimpleRNN(12))
model.add(layers.Dense(10))
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
print(model.predict(ids))
for step in range(3):
    print(model.train_on_batch(ids, labels))

encoder_vocab, decoder_vocab = 100, 80
encoder_input = layers.Input(shape=(None,))
encoder_embedded = layers.Embedding(input_dim=encoder_vocab, output_dim=8)(encoder_input)
output, state_h, state_c = layers.LSTM(16, return_state=True, name="encoder")(encoder_embedded)
encoder_state = [state_h, state_c]
decoder_input = layers.Input(shape=(None,))
decoder_embedded = layers.Embedding(input_dim=decoder_vocab, output_dim=8)(decoder_input)
decoder_output = layers.LSTM(16, name="decoder")(decoder_embedded, initial_state=encoder_state)
output = layers.Dense(10)(decoder_output)
model = keras.Model([encoder_input, decoder_input], output)
model.summary()
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
dec_ids = rng.integers(0, 80, size=(12, 7))
print(model.predict([ids, dec_ids]))
model.fit([ids, dec_ids], labels, batch_size=4, epochs=2)
print(model.evaluate([ids, dec_ids], labels))

model = keras.Sequential()
model.add(layers.Bidirectional(layers.LSTM(16, return_sequences=True), input_shape=(5, 10)))
model.add(layers.Bidirectional(layers.LSTM(8)))
model.add(layers.Dense(10))
model.summary()
x = rng.normal(size=(12, 5, 10)).astype("float32")
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
print(model.predict(x))
model.fit(x, labels, batch_size=6, epochs=2)

for merge_mode in ["sum", "mul", "ave", "concat"]:
    inputs = keras.Input(shape=(5, 10))
    seq = layers.Bidirectional(layers.GRU(8, return_sequences=True), merge_mode=merge_mode)(inputs)
    last = layers.Bidirectional(layers.LSTM(6), merge_mode=merge_mode)(seq)
    model = keras.Model(inputs, layers.Dense(1)(last))
    model.compile(optimizer="sgd", loss="mse")
    print(merge_mode, model.predict(x).ravel()[:3])
    model.train_on_batch(x, labels.astype("float32"))
    model.train_on_batch(x, labels.astype("float32"))

inputs = keras.Input(shape=(5, 10))
fwd, bwd = layers.Bidirectional(layers.LSTM(6), merge_mode=None)(inputs)
model = keras.Model(inputs, [fwd, bwd])
print([o.shape for o in model.predict(x)])
