"""Keras 2 (tf_keras) files with optimizer state, for fastrnn's loading tests (issue 10).

Run by hand in the TensorFlow venv (``pip install tf_keras`` there)::

    /work/kvenv/bin/python tools/make_keras2_saved_fixtures.py [--out tests/fixtures/saved]

Writes ``keras2opt_NAME.keras`` (tf_keras's own v3 zip) and ``keras2opt_NAME.h5`` (its
legacy HDF5) for models trained two steps with RMSprop (momentum, centered) and SGD
(momentum, nesterov), and ``keras2opt_NAME.npz``: ``x`` (or ``x_0, x_1``), ``y``,
``out`` (predictions), ``next_returns`` (the next ``train_on_batch`` after saving) and
``next_weights`` (all weights after that step, flattened in ``model.weights`` order).
These complement tools/make_keras_saved_fixtures.py (branch fix), whose Keras 2 files
use Adam only.
"""
import argparse
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def models(K, rng):
    seq = K.Sequential([K.layers.Embedding(20, 4, input_length=6, mask_zero=True),
                        K.layers.Bidirectional(K.layers.SimpleRNN(3, return_sequences=True)),
                        K.layers.SimpleRNN(2), K.layers.Dense(1, activation="sigmoid")],
                       name="seq")
    ids = rng.integers(1, 20, (4, 6))
    ids[1, 4:] = 0
    a = K.Input((5, 3), name="a")
    b = K.Input((4, 2), name="b")
    _, h = K.layers.SimpleRNN(4, return_state=True, name="enc")(a)
    s = K.layers.SimpleRNN(4, name="dec")(b, initial_state=[h])
    fun = K.Model([a, b], K.layers.Dense(1, activation="sigmoid", name="out")(s),
                  name="fun")
    return {
        "rmsprop": (seq, ids.astype("int32"),
                    K.optimizers.RMSprop(0.01, momentum=0.5, centered=True)),
        "sgd": (fun, [rng.uniform(-1, 1, (4, 5, 3)).astype("float32"),
                      rng.uniform(-1, 1, (4, 4, 2)).astype("float32")],
                K.optimizers.SGD(0.1, momentum=0.9, nesterov=True)),
    }


def main(argv=None):
    import tf_keras as K
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent.parent /
                                        "tests" / "fixtures" / "saved"))
    out = pathlib.Path(p.parse_args(argv).out)
    rng = np.random.default_rng(20261129)
    for name, (model, x, opt) in models(K, rng).items():
        y = rng.integers(0, 2, (4, 1)).astype("float32")
        model.compile(optimizer=opt, loss="binary_crossentropy", metrics=["accuracy"])
        for _ in range(2):
            model.train_on_batch(x, y)
        stem = f"keras2opt_{name}"
        model.save(out / f"{stem}.keras")
        model.save(out / f"{stem}.h5")
        arrays = {"y": y, "out": model.predict(x, verbose=0)}
        arrays.update({"x": x} if not isinstance(x, list) else
                      {f"x_{i}": v for i, v in enumerate(x)})
        arrays["next_returns"] = np.asarray(model.train_on_batch(x, y), np.float64)
        arrays["next_weights"] = np.concatenate([w.numpy().ravel() for w in model.weights])
        arrays["keras_version"] = np.asarray(K.__version__)
        np.savez_compressed(out / f"{stem}.npz", **arrays)
        print("wrote", stem, "with tf_keras", K.__version__)


if __name__ == "__main__":
    main()
