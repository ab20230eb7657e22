"""Keras 3 fixture: the elementwise activations Dense/Activation take, values and gradients.

Run by hand with the TensorFlow venv (never in fastrnn's own environment)::

    /work/kvenv/bin/python tools/make_keras_activation_fixtures.py

Writes ``tests/fixtures/tool_activations.npz``: ``x`` (float32, a grid over [-7, 7] plus the
kinks -3, 0, 3, 6 and random points), and per activation name ``<name>/y`` =
``keras.activations.get(name)(x)`` and ``<name>/dy`` = its gradient (tf.GradientTape of the
sum), in float32. Keras 3.15.1, TF 2.21, CPU.
"""
import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tool_activations.npz")
NAMES = ["elu", "selu", "softplus", "softsign", "silu", "swish", "gelu", "exponential",
         "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu", "relu6", "mish",
         "tanh", "relu", "sigmoid", "linear"]


def main():
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-7, 7, 57), [-3.0, 0.0, 3.0, 6.0],
                        rng.normal(scale=3, size=40)]).astype("float32")
    out = {"x": x, "keras_version": np.array(keras.__version__),
           "tf_version": np.array(tf.__version__)}
    for name in NAMES:
        t = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = keras.activations.get(name)(t)
            total = tf.reduce_sum(y)
        out[f"{name}/y"] = np.asarray(y)
        out[f"{name}/dy"] = np.asarray(tape.gradient(total, t))
    np.savez(OUT, **out)
    print("wrote", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
