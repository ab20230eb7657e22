"""Keras 3 fixture: optimizer steps on float64 variables.

Run by hand with the TensorFlow venv (never in fastrnn's own environment)::

    /work/kvenv/bin/python tools/make_keras_f64_opt_fixtures.py

Keras's update rules pass Python-float hyperparameters through ``ops.cast(value, variable.dtype)``
(``tf.cast`` makes a float32 tensor first: 0.999 becomes 0.9990000128746033 in float64), and the
learning rate lives in a variable of the floatx current when the optimizer was made. Writes
``tests/fixtures/tool_f64_opt.npz``: a float64 vector ``w0`` (5,) and gradients ``g<s>`` for 3
``apply_gradients`` steps of each configuration of ``spec`` (JSON: name -> [class, kwargs]), made
once with ``keras.config.set_floatx("float64")`` before the optimizer (``<name>_floatx64``) and
once under the default float32 floatx (``<name>_floatx32``). Keras 3.15.1, TF 2.21, CPU.
"""
import json
import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tool_f64_opt.npz")
SPEC = {
    "sgd": ["SGD", {"learning_rate": 0.1}],
    "sgdm": ["SGD", {"learning_rate": 0.1, "momentum": 0.9}],
    "sgdn": ["SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}],
    "rmsm": ["RMSprop", {"learning_rate": 0.01, "momentum": 0.5}],
    "rmsc": ["RMSprop", {"learning_rate": 0.01, "centered": True}],
    "adam": ["Adam", {"learning_rate": 0.01}],
    "adamams": ["Adam", {"learning_rate": 0.01, "amsgrad": True}],
    "adamw": ["AdamW", {"learning_rate": 0.01}],
    "adamax": ["Adamax", {"learning_rate": 0.01}],
    "nadam": ["Nadam", {"learning_rate": 0.01}],
    "adagrad": ["Adagrad", {"learning_rate": 0.1}],
    "adadelta": ["Adadelta", {"learning_rate": 1.0}],
    "sgd_wd": ["SGD", {"learning_rate": 0.1, "weight_decay": 0.1}],
}


def main():
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(5,))
    grads = [rng.normal(size=(5,)) for _ in range(3)]
    out = {"w0": w0, "spec": np.array(json.dumps(SPEC)),
           "keras_version": np.array(keras.__version__), "tf_version": np.array(tf.__version__)}
    for s, g in enumerate(grads):
        out[f"g{s}"] = g
    for floatx in ("float64", "float32"):
        keras.config.set_floatx(floatx)
        for name, (cls, kwargs) in SPEC.items():
            opt = getattr(keras.optimizers, cls)(**kwargs)
            w = keras.Variable(w0, dtype="float64")
            for g in grads:
                opt.apply_gradients([(tf.constant(g), w)])
            out[f"{name}_floatx{floatx[-2:]}"] = np.asarray(w.numpy())
    keras.config.set_floatx("float32")
    np.savez(OUT, **out)
    print("wrote", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
