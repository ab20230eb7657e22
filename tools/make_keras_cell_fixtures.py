"""Keras 3 fixture: ``keras.layers.RNN(cell)`` with the built-in cells, and one-step cell calls.

Run by hand with the TensorFlow venv (never in fastrnn's own environment)::

    /work/kvenv/bin/python tools/make_keras_cell_fixtures.py

Writes ``tests/fixtures/tool_rnn_cells.npz``: input ``x`` (4, 5, 3) float32 and, per case of
``spec`` (JSON: name -> {"cell": [class, kwargs], "rnn": kwargs}), the layer's weights
``<name>/w<i>``, its outputs ``<name>/out<j>`` (a list when ``return_state``) and its
serialized config ``<name>/config`` (``keras.layers.serialize``, JSON); then one-step cell calls
``step_<cell>``: ``x_t`` (4, 3), states ``step_<cell>/s<k>``, weights, output and new states.
Keras 3.15.1, TF 2.21, CPU.
"""
import json
import os

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["CUDA_VISIBLE_DEVICES"] = ""
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tool_rnn_cells.npz")
SPEC = {
    "lstm_last": {"cell": ["LSTMCell", {"units": 3}], "rnn": {}},
    "lstm_seq_state": {"cell": ["LSTMCell", {"units": 3, "unit_forget_bias": False,
                                             "recurrent_activation": "hard_sigmoid"}],
                       "rnn": {"return_sequences": True, "return_state": True}},
    "gru_back": {"cell": ["GRUCell", {"units": 4, "reset_after": False}],
                 "rnn": {"return_sequences": True, "go_backwards": True}},
    "gru_default_state": {"cell": ["GRUCell", {"units": 2}], "rnn": {"return_state": True}},
    "simple_relu": {"cell": ["SimpleRNNCell", {"units": 3, "activation": "relu",
                                               "use_bias": False}],
                    "rnn": {"return_sequences": True, "unroll": True}},
}


def main():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 5, 3)).astype("float32")
    out = {"x": x, "spec": np.array(json.dumps(SPEC)),
           "keras_version": np.array(keras.__version__), "tf_version": np.array(tf.__version__)}
    for name, case in SPEC.items():
        cls, kwargs = case["cell"]
        layer = keras.layers.RNN(getattr(keras.layers, cls)(**kwargs), **case["rnn"])
        y = layer(x)
        ys = y if isinstance(y, (list, tuple)) else [y]
        for j, a in enumerate(ys):
            out[f"{name}/out{j}"] = np.asarray(a)
        for i, w in enumerate(layer.get_weights()):
            out[f"{name}/w{i}"] = w
        out[f"{name}/config"] = np.array(json.dumps(keras.layers.serialize(layer), default=str))
    x_t = rng.normal(size=(4, 3)).astype("float32")
    out["x_t"] = x_t
    for cls, n_states in (("LSTMCell", 2), ("GRUCell", 1), ("SimpleRNNCell", 1)):
        cell = getattr(keras.layers, cls)(3)
        states = [rng.normal(size=(4, 3)).astype("float32") for _ in range(n_states)]
        y, new = cell(x_t, states)
        key = f"step_{cls}"
        for k, s in enumerate(states):
            out[f"{key}/s{k}"] = s
        for i, w in enumerate(cell.get_weights()):
            out[f"{key}/w{i}"] = w
        out[f"{key}/out"] = np.asarray(y)
        for k, s in enumerate(new if isinstance(new, (list, tuple)) else [new]):
            out[f"{key}/new{k}"] = np.asarray(s)
    np.savez(OUT, **out)
    print("wrote", os.path.abspath(OUT))


if __name__ == "__main__":
    main()
