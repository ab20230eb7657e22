"""Keras 3 fixture: categorical crossentropy's gradient when targets do not sum to 1.

Run by hand with the TensorFlow venv (never in fastrnn's own environment)::

    /work/kvenv/bin/python tools/make_keras_cce_fixtures.py

Padded one-hot sequence targets (the keras.io character-level seq2seq example: the decoder
target's last step is all zeros) and scaled targets do not sum to 1. TensorFlow differentiates
``softmax_cross_entropy_with_logits`` as ``softmax(x) - t`` (exact only when sum(t) = 1), and
Keras 3 takes that path both for ``from_logits=True`` and for a softmax output layer.

Writes ``tests/fixtures/tool_cce_targets.npz``:
  - ``logits`` (3, 4, 5), ``targets`` (3, 4, 5) (one-hot rows, all-zero rows, rows x 0.5 and x 2),
    ``loss`` (3, 4) = keras.losses.categorical_crossentropy(targets, logits, from_logits=True) and
    ``grad`` = d sum(loss) / d logits (tf.GradientTape);
  - the same loss on probabilities that are not a softmax (``probs``): ``loss_p``, ``grad_p``;
  - a model Input((4, 3)) -> LSTM(3, return_sequences=True) -> Dense(5, softmax), compiled with
    SGD(learning_rate=0.5) + categorical_crossentropy: ``x`` (6, 4, 3), ``y`` (6, 4, 5) (last
    step all zeros), ``w0_<i>`` its initial weights, ``loss_<s>`` and ``w<s+1>_<i>`` after each of
    2 ``train_on_batch`` steps.
Keras 3.15.1, TF 2.21, CPU.
"""
import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tool_cce_targets.npz")


def main():
    rng = np.random.default_rng(0)
    out = {"keras_version": np.array(keras.__version__), "tf_version": np.array(tf.__version__)}
    logits = rng.normal(scale=2.0, size=(3, 4, 5)).astype("float32")
    t = np.zeros((3, 4, 5), "float32")
    t[np.arange(3)[:, None], np.arange(4)[None], rng.integers(0, 5, size=(3, 4))] = 1.0
    t[:, 3] = 0.0                 # padded step
    t[0, 1] *= 0.5
    t[1, 2] *= 2.0
    t[2, 0] = rng.uniform(0, 1, size=5)
    out["logits"], out["targets"] = logits, t
    x = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = keras.losses.categorical_crossentropy(t, x, from_logits=True)
        total = tf.reduce_sum(loss)
    out["loss"], out["grad"] = loss.numpy(), tape.gradient(total, x).numpy()

    probs = rng.uniform(0.05, 1.0, size=(3, 4, 5)).astype("float32")
    p = tf.constant(probs)
    with tf.GradientTape() as tape:
        tape.watch(p)
        loss = keras.losses.categorical_crossentropy(t, p)
        total = tf.reduce_sum(loss)
    out["probs"], out["loss_p"] = probs, loss.numpy()
    out["grad_p"] = tape.gradient(total, p).numpy()

    keras.utils.set_random_seed(1)
    inp = keras.Input(shape=(4, 3))
    model = keras.Model(inp, keras.layers.Dense(5, activation="softmax")(
        keras.layers.LSTM(3, return_sequences=True)(inp)))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5),
                  loss="categorical_crossentropy")
    xs = rng.normal(size=(6, 4, 3)).astype("float32")
    ys = np.zeros((6, 4, 5), "float32")
    ys[np.arange(6)[:, None], np.arange(4)[None], rng.integers(0, 5, size=(6, 4))] = 1.0
    ys[:, -1] = 0.0
    out["x"], out["y"] = xs, ys
    for i, w in enumerate(model.get_weights()):
        out[f"w0_{i}"] = w
    for s in range(2):
        out[f"loss_{s}"] = np.asarray(model.train_on_batch(xs, ys), "float32")
        for i, w in enumerate(model.get_weights()):
            out[f"w{s + 1}_{i}"] = w
    np.savez(OUT, **out)
    print("wrote", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
