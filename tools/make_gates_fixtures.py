"""Keras 3 values and gradients for the LSTM/GRU kernels' tests (phase 1, below layers).

Run by hand with Keras 3 and TensorFlow (never in fastrnn's environment)::

    /work/kvenv/bin/python tools/make_gates_fixtures.py [--out tests/fixtures/gates_keras.npz]

For each case, a Keras LSTM or GRU layer (return_sequences=True, return_state=True) is
built with seeded random weights (bias too) and called on x with an initial state and
optionally a mask; TensorFlow's GradientTape gives the gradients of

    loss = sum(sequences * g_seq) + sum(h * g_h) [+ sum(c * g_c)]

with respect to x, every weight and the initial states. One .npz holds every case, its
arrays under "<case>/<name>": spec (JSON), x, mask, h0, c0, g_seq, g_h, g_c, w0..w2
(get_weights order: kernel, recurrent_kernel, bias), seq, h, c, and d_x, d_w0..d_w2,
d_h0, d_c0.
"""
import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

SEED = 20261129
CASES = {
    f"{cell}_{flags}_{dtype}": dict(cell=cell, dtype=dtype, **opts)
    for cell in ("lstm", "gru", "gru_before")
    for flags, opts in {
        "plain": {},
        "backwards_mask": dict(go_backwards=True, mask=True),
        "zero_output_mask": dict(zero_output_for_mask=True, mask=True),
        "hard_sigmoid_relu": dict(recurrent_activation="hard_sigmoid", activation="relu"),
    }.items()
    for dtype in ("float32", "float64")
    if dtype == "float32" or flags in ("plain", "backwards_mask")
}


def make_case(keras, tf, name, spec, rng):
    B, T, D, U = 3, 6, 4, 5
    dtype = spec["dtype"]
    keras.config.set_floatx(dtype)
    kw = {k: spec[k] for k in ("go_backwards", "zero_output_for_mask", "activation",
                               "recurrent_activation") if k in spec}
    if spec["cell"] == "lstm":
        layer = keras.layers.LSTM(U, return_sequences=True, return_state=True, dtype=dtype,
                                  **kw)
    else:
        layer = keras.layers.GRU(U, return_sequences=True, return_state=True,
                                 reset_after=spec["cell"] == "gru", dtype=dtype, **kw)
    x = rng.uniform(-1, 1, (B, T, D)).astype(dtype)
    layer.build((B, T, D))
    weights = [rng.uniform(-0.6, 0.6, w.shape).astype(dtype) for w in layer.get_weights()]
    layer.set_weights(weights)
    h0 = rng.uniform(-1, 1, (B, U)).astype(dtype)
    c0 = rng.uniform(-1, 1, (B, U)).astype(dtype)
    mask = rng.uniform(size=(B, T)) > 0.35
    mask[0, 0] = mask[1, -1] = False
    mask[2, :2] = False
    g_seq = rng.normal(size=(B, T, U)).astype(dtype)
    g_h = rng.normal(size=(B, U)).astype(dtype)
    g_c = rng.normal(size=(B, U)).astype(dtype)
    tx, th0, tc0 = (tf.Variable(a) for a in (x, h0, c0))
    lstm = spec["cell"] == "lstm"
    with tf.GradientTape() as tape:
        init = [th0, tc0] if lstm else [th0]
        outs = layer(tx, initial_state=init, mask=mask if spec.get("mask") else None)
        loss = tf.reduce_sum(outs[0] * g_seq) + tf.reduce_sum(outs[1] * g_h)
        if lstm:
            loss += tf.reduce_sum(outs[2] * g_c)
    sources = [tx] + list(layer.trainable_variables) + [th0, tc0]
    grads = tape.gradient(loss, sources)
    arrays = dict(spec=np.array(json.dumps(spec)), x=x, mask=mask, h0=h0, c0=c0,
                  g_seq=g_seq, g_h=g_h, g_c=g_c, seq=np.asarray(outs[0]),
                  h=np.asarray(outs[1]), d_x=np.asarray(grads[0]), d_h0=np.asarray(grads[-2]))
    if lstm:
        arrays.update(c=np.asarray(outs[2]), d_c0=np.asarray(grads[-1]))
    for i, (w, g) in enumerate(zip(weights, grads[1:-2])):
        arrays[f"w{i}"] = w
        arrays[f"d_w{i}"] = np.asarray(g)
    return {f"{name}/{k}": v for k, v in arrays.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/fixtures/gates_keras.npz")
    args = ap.parse_args()
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(SEED)
    out = {"keras_version": np.array(keras.__version__), "tf_version": np.array(tf.__version__)}
    for name, spec in CASES.items():
        out.update(make_case(keras, tf, name, spec, rng))
    np.savez_compressed(args.out, **out)
    print(f"wrote {len(CASES)} cases to {args.out} (Keras {keras.__version__})")


if __name__ == "__main__":
    main()
