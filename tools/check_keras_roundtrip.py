"""Round trip into real Keras 3: fastrnn saves models, Keras loads them and predicts.

Run by hand (not part of pytest: it needs TensorFlow)::

    PYTHONPATH=$PWD python tools/check_keras_roundtrip.py --out /tmp/rt        # fastrnn side
    /work/kvenv/bin/python tools/check_keras_roundtrip.py --out /tmp/rt --keras # Keras side

The fastrnn side builds models of every layer kind (Sequential and functional), trains
one with each optimizer for a few steps, and writes NAME.keras, NAME.h5 and
NAME.weights.h5 plus NAME.npz (inputs, fastrnn's predictions, and for the trained ones
the targets and fastrnn's next train_on_batch result and weights). The Keras side loads
every file with ``keras.saving.load_model`` (``load_weights`` into a model rebuilt from
the .keras file for the weights files), predicts, and for trained models runs the next
``train_on_batch``, which only matches when the optimizer state came across. Exit
status 1 on any mismatch.
"""
import argparse
import json
import os
import pathlib
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
RTOL = ATOL = 2e-5


def _models():
    import fastrnn
    from fastrnn.layers import (Activation, Add, Bidirectional, Concatenate, Dense,
                                Dropout, Embedding, Flatten, Masking, Permute,
                                RepeatVector, Reshape, SimpleRNN, Subtract)
    from fastrnn.models import Model, Sequential
    from fastrnn.optimizers import SGD, Adam, RMSprop
    rng = np.random.default_rng(7)
    out = {}

    def floats(*shape):
        return rng.uniform(-1, 1, shape).astype("float32")

    out["stack"] = (Sequential([fastrnn.Input((5, 3)), SimpleRNN(4, return_sequences=True),
                                SimpleRNN(3, activation="relu", go_backwards=True),
                                Dense(2, activation="softmax")], name="stack"),
                    floats(4, 5, 3), None)
    out["bidir"] = (Sequential([fastrnn.Input((6, 2)),
                                Bidirectional(SimpleRNN(3, return_sequences=True)),
                                Bidirectional(SimpleRNN(2, use_bias=False), merge_mode="sum"),
                                Dense(2)], name="bidir"), floats(4, 6, 2), None)
    ids = rng.integers(1, 20, (4, 7)).astype("int32")
    ids[1, 4:] = 0
    out["embed"] = (Sequential([fastrnn.Input((7,), dtype="int32"),
                                Embedding(20, 4, mask_zero=True), SimpleRNN(3),
                                Dense(1, activation="sigmoid")], name="embed"), ids, None)
    out["misc"] = (Sequential([fastrnn.Input((4, 3)), Masking(0.0), Dropout(0.3),
                               Permute((2, 1)), Reshape((12,)), RepeatVector(2),
                               Flatten(), Activation("tanh"), Dense(3)], name="misc"),
                   floats(3, 4, 3), None)
    a = fastrnn.Input((5, 3), name="enc_in")
    b = fastrnn.Input((4, 2), name="dec_in")
    _, h = SimpleRNN(4, return_state=True, name="encoder")(a)
    seq = SimpleRNN(4, return_sequences=True, name="decoder")(b, initial_state=[h])
    out["encdec"] = (Model([a, b], Dense(3, name="head")(seq), name="encdec"),
                     [floats(4, 5, 3), floats(4, 4, 2)], None)
    left, right = fastrnn.Input((6, 3)), fastrnn.Input((6, 3))
    shared = SimpleRNN(4)
    d = Subtract()([shared(left), shared(right)])
    c = Concatenate()([d, Add()([shared(left), shared(right)])])
    out["siamese"] = (Model([left, right], Dense(1, activation="sigmoid")(c),
                            name="siamese"), [floats(4, 6, 3), floats(4, 6, 3)], None)
    k2 = Sequential(name="keras2_style")  # Keras 2 spellings, no Input
    k2.add(Embedding(30, 4, input_length=6))
    k2.add(SimpleRNN(3, return_sequences=True))
    k2.add(Flatten())
    k2.add(Dense(2))
    out["keras2_style"] = (k2, rng.integers(0, 30, (3, 6)).astype("int32"), None)
    out["float64"] = (Sequential([fastrnn.Input((5, 3), dtype="float64"),
                                  SimpleRNN(4, dtype="float64", return_sequences=True),
                                  Bidirectional(SimpleRNN(2, dtype="float64")),
                                  Dense(1, dtype="float64")], name="float64"),
                      rng.uniform(-1, 1, (4, 5, 3)), None)
    inner_in = fastrnn.Input((5, 3))
    inner = Model(inner_in, SimpleRNN(4, return_sequences=True)(inner_in), name="inner")
    outer_in = fastrnn.Input((5, 3))
    sub = Sequential([fastrnn.Input((5, 4)), SimpleRNN(2)], name="sub")
    out["nested"] = (Model(outer_in, Dense(1)(sub(inner(outer_in))), name="nested"),
                     floats(3, 5, 3), None)
    for name, opt in (("adam", Adam(0.05)), ("rmsprop", RMSprop(0.01, momentum=0.5)),
                      ("sgd", SGD(0.1, momentum=0.9))):
        m = Sequential([fastrnn.Input((6, 2)), SimpleRNN(4, return_sequences=True),
                        Bidirectional(SimpleRNN(3)), Dense(1, activation="sigmoid")],
                       name=f"trained_{name}")
        m.compile(optimizer=opt, loss="binary_crossentropy", metrics=["accuracy"])
        out[f"trained_{name}"] = (m, floats(8, 6, 2),
                                  rng.integers(0, 2, (8, 1)).astype("float32"))
    return out


def fastrnn_side(out):
    from fastrnn.utils import set_random_seed
    set_random_seed(3)
    for name, (model, x, y) in _models().items():
        arrays = {}
        xs = x if isinstance(x, list) else [x]
        arrays.update({f"x_{i}": v for i, v in enumerate(xs)})
        if y is not None:
            for _ in range(3):
                model.train_on_batch(x, y)
            arrays["y"] = y
        arrays["pred"] = np.asarray(model.predict(x, verbose=0))
        model.save(out / f"{name}.keras")
        model.save(out / f"{name}.h5")
        model.save_weights(out / f"{name}.weights.h5")
        if y is not None:
            arrays["next_returns"] = np.ravel(np.asarray(model.train_on_batch(x, y), float))
            arrays["next_weights"] = np.concatenate([w.ravel() for w in model.weights])
        np.savez(out / f"{name}.npz", **arrays)
        print("wrote", name)


def keras_side(out):
    import keras
    print("Keras", keras.__version__)
    bad = 0
    for npz in sorted(out.glob("*.npz")):
        name = npz.stem
        d = np.load(npz)
        xs = [d[k] for k in sorted(k for k in d if k.startswith("x_"))]
        x = xs[0] if len(xs) == 1 else xs
        for suffix in (".keras", ".h5", ".weights.h5"):
            try:
                if suffix == ".weights.h5":
                    model = keras.saving.load_model(out / f"{name}.keras")
                    model.load_weights(out / f"{name}.weights.h5")
                else:
                    model = keras.saving.load_model(out / f"{name}{suffix}")
                pred = model.predict(x, verbose=0)
                err = float(np.max(np.abs(pred - d["pred"])))
                ok = err <= ATOL + RTOL * float(np.max(np.abs(d["pred"])))
                msg = f"{name}{suffix}: predict max |diff| {err:.2e}"
                if "y" in d and suffix == ".h5":
                    # Keras 3.15.1 cannot train a model it loaded from a legacy .h5 with
                    # optimizer state ("Unknown variable"), its own files included: check
                    # what it restored instead.
                    opt = model.optimizer
                    its = int(opt.iterations.numpy())
                    ok = ok and its == 3
                    msg += (f"; compiled with {type(opt).__name__}(learning_rate="
                            f"{float(opt.learning_rate.numpy()):.4g}), iterations {its}")
                elif "y" in d and suffix != ".weights.h5":
                    ret = np.ravel(np.asarray(model.train_on_batch(x, d["y"]), float))
                    w = np.concatenate([np.ravel(v) for v in model.get_weights()])
                    e_ret = float(np.max(np.abs(ret - d["next_returns"])))
                    e_w = float(np.max(np.abs(w - d["next_weights"])))
                    ok = ok and e_ret < 1e-4 and e_w < 1e-4
                    msg += (f"; next train_on_batch {ret.round(6).tolist()} (|diff| "
                            f"{e_ret:.1e}), weights after it |diff| {e_w:.1e}, optimizer "
                            f"iterations {int(model.optimizer.iterations.numpy())}")
            except Exception as exc:  # noqa: BLE001  (report every file)
                ok, msg = False, f"{name}{suffix}: {type(exc).__name__}: {exc}"
            bad += not ok
            print(("ok   " if ok else "FAIL ") + msg)
    print(json.dumps({"failures": bad}))
    return bad


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="/tmp/fastrnn_keras_roundtrip")
    p.add_argument("--keras", action="store_true", help="run the Keras side")
    args = p.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.keras:
        return 1 if keras_side(out) else 0
    fastrnn_side(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
