"""``RNN(cell)`` with Keras's built-in cells, and one-step cell calls, against Keras 3
(fixture ``tool_rnn_cells.npz`` from tools/make_keras_cell_fixtures.py)."""
import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from keras_spec import ATOL, RTOL, FIXTURES

from fastrnn import layers
from fastrnn.layers import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell

with np.load(FIXTURES / "tool_rnn_cells.npz") as _npz:
    F = {k: _npz[k] for k in _npz.files}
SPEC = json.loads(str(F["spec"]))


def _numbered(prefix):
    out = []
    while f"{prefix}{len(out)}" in F:
        out.append(F[f"{prefix}{len(out)}"])
    return out


def _check(layer, name):
    layer.build((None,) + F["x"].shape[1:])
    layer.set_weights(_numbered(f"{name}/w"))
    y = layer(F["x"])
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    expected = _numbered(f"{name}/out")
    assert len(ys) == len(expected)
    for a, b in zip(ys, expected):
        assert_allclose(a, b, rtol=RTOL["float32"], atol=ATOL["float32"])


@pytest.mark.parametrize("name", sorted(SPEC))
def test_rnn_of_a_cell_matches_keras(name):
    cls, kwargs = SPEC[name]["cell"]
    layer = RNN(getattr(layers, cls)(**kwargs), **SPEC[name]["rnn"])
    assert type(layer) is {"LSTMCell": LSTM, "GRUCell": GRU, "SimpleRNNCell": SimpleRNN}[cls]
    _check(layer, name)


@pytest.mark.parametrize("name", sorted(SPEC))
def test_keras_rnn_config_deserializes(name):
    layer = layers.deserialize(json.loads(str(F[f"{name}/config"])))
    for key, value in SPEC[name]["rnn"].items():
        assert getattr(layer, key) == value
    _check(layer, name)


@pytest.mark.parametrize("cls, n_states", [(LSTMCell, 2), (GRUCell, 1), (SimpleRNNCell, 1)])
def test_one_step_cell_call_matches_keras(cls, n_states):
    key = f"step_{cls.__name__}"
    cell = cls(3)
    states = [F[f"{key}/s{k}"] for k in range(n_states)]
    cell(F["x_t"], states)                     # builds the weights
    cell._layer.set_weights(_numbered(f"{key}/w"))
    y, new = cell(F["x_t"], states)
    assert_allclose(y, F[f"{key}/out"], rtol=RTOL["float32"], atol=ATOL["float32"])
    assert len(new) == n_states
    for k, s in enumerate(new):
        assert_allclose(s, F[f"{key}/new{k}"], rtol=RTOL["float32"], atol=ATOL["float32"])
    assert cell.state_size == ([3, 3] if cls is LSTMCell else 3)


def test_rnn_names_and_weights_move_to_the_fused_layer():
    a = RNN(LSTMCell(4), input_shape=(None, 3))
    assert a.name.startswith("rnn")
    b = LSTM(4)
    b.build((None, 5, 3))
    a.build((None, 5, 3))
    b.set_weights(a.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    assert_allclose(a(x), b(x), rtol=0, atol=0)


def test_unsupported_cells_raise_clear_errors():
    with pytest.raises(NotImplementedError, match="list of cells"):
        RNN([LSTMCell(2), LSTMCell(2)])

    class MyCell:
        units = 2

    with pytest.raises(NotImplementedError, match="Custom cell"):
        RNN(MyCell())
    with pytest.raises(TypeError, match="`return_sequences`"):
        LSTMCell(2, return_sequences=True)
    with pytest.raises(ValueError, match="`recurrent_activation`"):
        GRUCell(2, recurrent_activation="nope")
    with pytest.raises(ValueError, match=r"\(batch, features\)"):
        LSTMCell(2)(np.ones((1, 2, 3)), [np.zeros((1, 2))] * 2)
