# Follows: the encoder-decoder of many NMT tutorials and Stack Overflow answers ("How to use a
#   Bidirectional LSTM encoder with a decoder in Keras": Bidirectional(LSTM(latent_dim,
#   return_state=True)) returns [output, forward_h, forward_c, backward_h, backward_c];
#   state_h = Concatenate()([forward_h, backward_h]), state_c = Concatenate()([forward_c,
#   backward_c]); decoder LSTM(latent_dim * 2, return_sequences=True)(dec_emb,
#   initial_state=[state_h, state_c])), e.g. wikidocs.net/24996 and the Keras-2 era
#   "lstm_seq2seq" variants; Embedding(mask_zero=True) on both sides; the GRU version with
#   Bidirectional(GRU(return_state=True, reset_after=False)) and initial_state passed to a
#   Bidirectional decoder layer.
import numpy as np
import keras
from keras.layers import Input, LSTM, GRU, Embedding, Dense, Bidirectional, Concatenate
from keras.models import Model

src_vocab, tar_vocab, latent_dim, T_src, T_tar = 40, 30, 8, 7, 6
rng = np.random.default_rng(9)
enc_data = rng.integers(1, src_vocab, size=(48, T_src))
dec_data = rng.integers(1, tar_vocab, size=(48, T_tar))
for i in range(48):
    enc_data[i, rng.integers(3, T_src + 1):] = 0
    dec_data[i, rng.integers(2, T_tar + 1):] = 0
target = np.concatenate([dec_data[:, 1:], np.zeros((48, 1), dtype=dec_data.dtype)], axis=1)

encoder_inputs = Input(shape=(None,))
enc_emb = Embedding(src_vocab, 16, mask_zero=True)(encoder_inputs)
encoder_outputs, forward_h, forward_c, backward_h, backward_c = Bidirectional(
    LSTM(latent_dim, return_state=True))(enc_emb)
state_h = Concatenate()([forward_h, backward_h])
state_c = Concatenate()([forward_c, backward_c])

decoder_inputs = Input(shape=(None,))
dec_emb = Embedding(tar_vocab, 16, mask_zero=True)(decoder_inputs)
decoder_outputs = LSTM(latent_dim * 2, return_sequences=True)(dec_emb, initial_state=[state_h, state_c])
decoder_outputs = Dense(tar_vocab, activation="softmax")(decoder_outputs)
model = Model([encoder_inputs, decoder_inputs], decoder_outputs)
model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["acc"])
print(model.predict([enc_data[:2], dec_data[:2]]).shape)
model.fit([enc_data, dec_data], target, batch_size=16, epochs=2, validation_split=0.25)

encoder_inputs = Input(shape=(T_src,))
enc_emb = Embedding(src_vocab, 16, mask_zero=True)(encoder_inputs)
enc_seq, fwd_h, bwd_h = Bidirectional(GRU(latent_dim, return_sequences=True, return_state=True,
                                          reset_after=False))(enc_emb)
decoder_inputs = Input(shape=(T_tar,))
dec_emb = Embedding(tar_vocab, 16, mask_zero=True)(decoder_inputs)
dec_seq = Bidirectional(GRU(latent_dim, return_sequences=True), merge_mode="sum")(
    dec_emb, initial_state=[fwd_h, bwd_h])
outputs = Dense(tar_vocab)(dec_seq)
model = Model([encoder_inputs, decoder_inputs], outputs)
model.compile(optimizer=keras.optimizers.Adam(0.01),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
print(model.predict([enc_data[:2], dec_data[:2]]).shape)
for _ in range(3):
    model.train_on_batch([enc_data[:16], dec_data[:16]], target[:16])
print(model.evaluate([enc_data, dec_data], target))
