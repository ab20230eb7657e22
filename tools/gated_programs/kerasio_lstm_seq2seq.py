# Follows: keras.io example "Character-level recurrent sequence-to-sequence model"
#   (keras-team/keras-io examples/nlp/lstm_seq2seq.py; F. Chollet's blog post "A ten-minute
#   introduction to sequence-to-sequence learning in Keras")
# Encoder LSTM(return_state=True) -> states [h, c] -> decoder LSTM(return_sequences=True,
# return_state=True)(decoder_inputs, initial_state=encoder_states) -> Dense(softmax);
# rmsprop + categorical_crossentropy + accuracy, fit with validation_split=0.2; then the
# inference encoder/decoder models and a greedy decode loop with predict.
# Changed: the fra.txt download replaced by random one-hot "sentences"; sizes cut; epochs 2.
import numpy as np
import keras

num_encoder_tokens, num_decoder_tokens, latent_dim = 7, 9, 16
max_encoder_seq_length, max_decoder_seq_length, num_samples = 6, 7, 40
rng = np.random.default_rng(2)
encoder_input_data = np.zeros((num_samples, max_encoder_seq_length, num_encoder_tokens), dtype="float32")
decoder_input_data = np.zeros((num_samples, max_decoder_seq_length, num_decoder_tokens), dtype="float32")
decoder_target_data = np.zeros((num_samples, max_decoder_seq_length, num_decoder_tokens), dtype="float32")
for i in range(num_samples):
    src = rng.integers(0, num_encoder_tokens, size=max_encoder_seq_length)
    tgt = np.concatenate([[0], rng.integers(2, num_decoder_tokens, size=max_decoder_seq_length - 2), [1]])
    encoder_input_data[i, np.arange(max_encoder_seq_length), src] = 1.0
    for t, char in enumerate(tgt):
        decoder_input_data[i, t, char] = 1.0
        if t > 0:
            decoder_target_data[i, t - 1, char] = 1.0

encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
encoder = keras.layers.LSTM(latent_dim, return_state=True)
encoder_outputs, state_h, state_c = encoder(encoder_inputs)
encoder_states = [state_h, state_c]

decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
decoder_outputs = decoder_dense(decoder_outputs)

model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)
model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit([encoder_input_data, decoder_input_data], decoder_target_data,
          batch_size=8, epochs=2, validation_split=0.2)

encoder_model = keras.Model(encoder_inputs, encoder_states)
decoder_state_input_h = keras.Input(shape=(latent_dim,))
decoder_state_input_c = keras.Input(shape=(latent_dim,))
decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(decoder_inputs, initial_state=decoder_states_inputs)
decoder_states = [state_h_dec, state_c_dec]
decoder_outputs = decoder_dense(decoder_outputs)
decoder_model = keras.Model([decoder_inputs] + decoder_states_inputs, [decoder_outputs] + decoder_states)


def decode_sequence(input_seq):
    states_value = encoder_model.predict(input_seq, verbose=0)
    target_seq = np.zeros((1, 1, num_decoder_tokens))
    target_seq[0, 0, 0] = 1.0
    decoded = []
    for _ in range(max_decoder_seq_length):
        output_tokens, h, c = decoder_model.predict([target_seq] + states_value, verbose=0)
        sampled = int(np.argmax(output_tokens[0, -1, :]))
        decoded.append(sampled)
        if sampled == 1:
            break
        target_seq = np.zeros((1, 1, num_decoder_tokens))
        target_seq[0, 0, sampled] = 1.0
        states_value = [h, c]
    return decoded


for seq_index in range(3):
    print(decode_sequence(encoder_input_data[seq_index: seq_index + 1]))
