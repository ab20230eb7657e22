"""Keras 3 fixture for row-sparse gradients (tf.IndexedSlices) in every optimizer.

Run by hand with the TensorFlow venv (never in fastrnn's own environment)::

    /work/kvenv/bin/python tools/make_keras_sparse_opt_fixtures.py

Writes ``tests/fixtures/tool_sparse_opt.npz``: a (7, 3) float32 matrix ``w0`` receiving
``tf.IndexedSlices(vals<i>, idx<i>, (7, 3))`` (row 1 repeats; rows 0, 2, 4, 6 are never
looked up) and a dense (4,) vector ``d0`` receiving ``dg<i>``, in 3 ``apply_gradients``
steps of each optimizer configuration of ``spec`` (JSON: name -> [class, kwargs]).
``<name>_w`` / ``<name>_d`` are the variables Keras leaves. Keras 3.15.1, TF 2.21, CPU.
"""
import json
import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

SPEC = {
    "sgd": ["SGD", {"learning_rate": 0.1}],
    "sgdm": ["SGD", {"learning_rate": 0.1, "momentum": 0.9}],
    "sgdn": ["SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}],
    "rms": ["RMSprop", {"learning_rate": 0.01}],
    "rmsm": ["RMSprop", {"learning_rate": 0.01, "momentum": 0.5}],
    "rmsc": ["RMSprop", {"learning_rate": 0.01, "centered": True}],
    "adam": ["Adam", {"learning_rate": 0.01}],
    "adamams": ["Adam", {"learning_rate": 0.01, "amsgrad": True}],
    "adamw": ["AdamW", {"learning_rate": 0.01}],
    "adagrad": ["Adagrad", {"learning_rate": 0.1}],
    "adadelta": ["Adadelta", {"learning_rate": 1.0}],
    "adamax": ["Adamax", {"learning_rate": 0.01}],
    "nadam": ["Nadam", {"learning_rate": 0.01}],
    "sgd_clipnorm": ["SGD", {"learning_rate": 0.1, "clipnorm": 0.5}],
    "adam_gclip": ["Adam", {"learning_rate": 0.01, "global_clipnorm": 0.5}],
    "rms_clipvalue": ["RMSprop", {"learning_rate": 0.01, "clipvalue": 0.3}],
    "sgd_wd": ["SGD", {"learning_rate": 0.1, "weight_decay": 0.1}],
    "rms_wd": ["RMSprop", {"learning_rate": 0.01, "weight_decay": 0.1}],
}


def main():
    rng = np.random.default_rng(0)
    V, D = 7, 3
    w0 = rng.normal(size=(V, D)).astype("float32")
    d0 = rng.normal(size=(4,)).astype("float32")
    out = {"w0": w0, "d0": d0, "spec": np.array(json.dumps(SPEC)),
           "keras_version": np.array(keras.__version__), "tf_version": np.array(tf.__version__)}
    steps = []
    for s in range(3):
        idx = np.array([1, 3, 1, 1, 5][:3 + s % 3], dtype=np.int64)
        vals = rng.normal(size=(len(idx), D)).astype("float32")
        dg = rng.normal(size=(4,)).astype("float32")
        steps.append((idx, vals, dg))
        out[f"idx{s}"], out[f"vals{s}"], out[f"dg{s}"] = idx, vals, dg
    for name, (cls, kwargs) in SPEC.items():
        opt = getattr(keras.optimizers, cls)(**kwargs)
        w, d = keras.Variable(w0), keras.Variable(d0)
        for idx, vals, dg in steps:
            g = tf.IndexedSlices(tf.constant(vals), tf.constant(idx),
                                 tf.constant([V, D], dtype=tf.int64))
            opt.apply_gradients([(g, w), (tf.constant(dg), d)])
        out[name + "_w"], out[name + "_d"] = np.asarray(w), np.asarray(d)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                        "tool_sparse_opt.npz")
    np.savez(path, **out)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
