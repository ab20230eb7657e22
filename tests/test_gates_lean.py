"""The lean compiled forward of LSTM/GRU layers (the common inference call) against the
general path, over every flag and several consecutive calls; what must fall back to
the general path does, and weight updates are seen."""
import numpy as np
import pytest

import fastrnn
from fastrnn import _gates, functional
from fastrnn.layers import GRU, LSTM

from conftest import ATOL, RTOL

KINDS = ["lstm", "gru", "gru_before"]


def make(kind, units, dtype="float32", **kw):
    if kind == "lstm":
        return LSTM(units, dtype=dtype, **kw)
    return GRU(units, reset_after=kind == "gru", dtype=dtype, **kw)


def general(layer, x):
    return layer.forward(x, keep=False)[0]


@pytest.fixture
def no_general(monkeypatch):
    """Make the general forward fail, to prove a call took the lean path."""
    def fail(*a, **k):
        raise AssertionError("the general path ran")

    def block():
        monkeypatch.setattr(functional, "lstm_forward", fail)
        monkeypatch.setattr(functional, "gru_forward", fail)
    return block


def same(a, b, dtype):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for u, v in zip(a, b):
            same(u, v, dtype)
        return
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=RTOL[np.dtype(dtype).type],
                               atol=ATOL[np.dtype(dtype).type])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("return_state", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_lean_matches_general(rng, no_general, kind, dtype, return_sequences, return_state,
                              go_backwards):
    layer = make(kind, 6, dtype, return_sequences=return_sequences,
                 return_state=return_state, go_backwards=go_backwards, seed=1)
    xs = [rng.normal(size=(B, T, 5)).astype(dtype) for B, T in ((3, 7), (1, 1), (4, 9))]
    layer(xs[0])  # builds
    expected = [general(layer, x) for x in xs]
    no_general()
    for _ in range(2):  # consecutive calls, changing shapes
        for x, e in zip(xs, expected):
            same(layer(x), e, dtype)
    assert layer._lean is not None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("acts", [("relu", "hard_sigmoid"), ("linear", "tanh")])
def test_lean_activations_and_threads(rng, no_general, kind, acts):
    layer = make(kind, 20, activation=acts[0], recurrent_activation=acts[1],
                 return_sequences=True, seed=2)
    x = rng.normal(size=(13, 8, 7)).astype("float32")
    layer(x)
    old = _gates.parallel_min_work(0)
    try:
        results = {}
        for threads in (1, 2, 3):
            fastrnn.set_num_threads(threads)
            results[threads] = general(layer, x)
        with pytest.MonkeyPatch.context():
            no_general()
            for threads in (1, 2, 3):
                fastrnn.set_num_threads(threads)
                for _ in range(2):
                    same(layer(x), results[threads], "float32")
    finally:
        _gates.parallel_min_work(old)
        fastrnn.set_num_threads(None)


@pytest.mark.parametrize("kind", KINDS)
def test_lean_sees_weight_updates(rng, kind):
    layer = make(kind, 4, return_sequences=True, seed=3)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    first = layer(x)
    layer.set_weights([w * 0.5 for w in layer.get_weights()])  # in place
    second = layer(x)
    assert not np.allclose(first, second)
    same(second, general(layer, x), "float32")
    layer.kernel = layer.kernel * 2  # a new array
    third = layer(x)
    same(third, general(layer, x), "float32")
    assert not np.allclose(second, third)


@pytest.mark.parametrize("kind", KINDS)
def test_calls_the_lean_path_cannot_take(rng, kind):
    """Masks, initial states, other dtypes or layouts, dropout in training, stateful:
    the general path, with the same answers as before."""
    layer = make(kind, 4, return_sequences=True, seed=4, dropout=0.3)
    x = rng.normal(size=(3, 6, 2)).astype("float32")
    lean = layer(x)
    same(lean, general(layer, x), "float32")
    same(layer(x.astype("float64")), lean, "float32")        # converted
    xf = np.asfortranarray(x)
    same(layer(xf), lean, "float32")                         # any layout
    same(layer(x.tolist()), lean, "float32")                 # not an array
    mask = np.ones((3, 6), bool)
    mask[0, 2:] = False
    masked = layer(x, mask=mask)
    assert not np.allclose(masked[0], lean[0])
    states = [np.full((3, 4), 0.5, "float32")] * layer.n_states
    assert not np.allclose(layer(x, initial_state=states), lean)
    assert not np.allclose(layer(x, training=True), lean)    # dropout
    stateful = make(kind, 4, return_sequences=True, seed=4, stateful=True)
    stateful(x)
    stateful.set_weights(layer.get_weights())
    stateful.reset_states()
    same(stateful(x), lean, "float32")
    assert not np.allclose(stateful(x), lean)                # carried its states
