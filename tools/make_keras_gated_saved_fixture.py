"""Keras 3 files of a functional, masked model with LSTM and GRU layers (issue 13: Keras-saved
LSTM/GRU models load). Keras 3 writes the mask computation as a NotEqual op node.

    /work/kvenv/bin/python tools/make_keras_gated_saved_fixture.py
"""
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "saved"


def main():
    rng = np.random.default_rng(0)
    x_in = keras.Input(shape=(5,), dtype="int32", name="tokens")
    e = layers.Embedding(20, 4, mask_zero=True, name="embed")(x_in)
    h = layers.Bidirectional(layers.LSTM(3, return_sequences=True, name="lstm"), name="bi")(e)
    g = layers.GRU(2, name="gru")(h)
    g2 = layers.GRU(2, reset_after=False, name="gru_ra")(h)
    out = layers.Dense(1, activation="sigmoid", name="out")(
        layers.concatenate([g, g2], name="cat"))
    m = keras.Model(x_in, out, name="gated")
    m.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in m.get_weights()])
    m.compile("adam", "binary_crossentropy")
    x = rng.integers(0, 20, (6, 5))
    x[0, 3:] = 0
    y = rng.integers(0, 2, (6, 1)).astype("float32")
    m.train_on_batch(x, y)
    m.save(OUT / "gated.keras")
    m.save(OUT / "gated.h5")
    np.savez(OUT / "gated.npz", x=x, y=y, out=m.predict(x, verbose=0))


if __name__ == "__main__":
    main()
