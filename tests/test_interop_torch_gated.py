"""fastrnn.interop.from_torch / to_torch for nn.LSTM and nn.GRU against real PyTorch
(skipped without torch): gate orders (torch LSTM i, f, g, o = Keras i, f, c, o; torch GRU
r, z, n -> Keras z, r, h with the two biases in Keras's (2, 3U) reset_after=True bias)."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fastrnn.interop import from_torch, to_torch  # noqa: E402
from fastrnn.interop._torch_modules import FastrnnSequential, KerasRNN  # noqa: E402
from fastrnn.layers import (GRU, LSTM, Bidirectional, Dense, Dropout,  # noqa: E402
                            Embedding, SimpleRNN)
from fastrnn.models import Sequential  # noqa: E402

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-12, atol=1e-12)}
nn = torch.nn
CELLS = {"LSTM": LSTM, "GRU": GRU}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """torch's oneDNN LSTM takes ~1 s per tiny call with 2 threads on a loaded 2-core
    machine (thread spinning); these models are tiny, so one thread, restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _run(module, x, **kwargs):
    with torch.no_grad():
        out = module(torch.from_numpy(x), **kwargs)
    if isinstance(out, (list, tuple)):
        return [o.numpy() if torch.is_tensor(o) else [p.numpy() for p in o] for o in out]
    return out.numpy()


def _as_list(out):
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [out]


def _close(actual, expected, dtype):
    actual, expected = _as_list(actual), _as_list(expected)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.shape == e.shape
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, e, **TOL[dtype])


def _torch_module(kind, dtype, **kwargs):
    torch.manual_seed(1)
    module = getattr(nn, kind)(3, 4, **kwargs).to(getattr(torch, dtype)).eval()
    with torch.no_grad():  # torch's default weights are small; make every gate matter
        for name, p in module.named_parameters():
            p.uniform_(-0.6, 0.6)
    return module


@pytest.mark.parametrize("kind,num_layers,bidirectional,batch_first,bias,dtype",
                         list(itertools.product(("LSTM", "GRU"), (1, 2), (False, True),
                                                (True, False), (True, False),
                                                ("float32", "float64"))))
def test_from_torch_grid_and_back(rng, kind, num_layers, bidirectional, batch_first, bias,
                                  dtype):
    module = _torch_module(kind, dtype, num_layers=num_layers, bias=bias,
                           batch_first=batch_first, bidirectional=bidirectional,
                           dropout=0.25 if num_layers > 1 else 0.0)
    x = rng.standard_normal((2, 6, 3)).astype(dtype)
    expected = _run(module, x if batch_first else np.ascontiguousarray(x.transpose(1, 0, 2)))[0]
    if not batch_first:
        expected = expected.transpose(1, 0, 2)
    model = from_torch(module)
    rnns = [lay for lay in model.layers if not isinstance(lay, Dropout)]
    assert len(rnns) == num_layers
    cells = [lay.forward_layer if bidirectional else lay for lay in rnns]
    assert all(type(c) is CELLS[kind] and c.use_bias == bias for c in cells)
    if kind == "GRU":
        assert all(c.reset_after for c in cells)
        if bias:  # torch's b_ih / b_hh kept apart, blocks (r, z, n) -> (z, r, h)
            b_ih = module.bias_ih_l0.detach().numpy()
            np.testing.assert_array_equal(cells[0].bias[0][:4], b_ih[4:8])
            np.testing.assert_array_equal(cells[0].bias[1][8:],
                                          module.bias_hh_l0.detach().numpy()[8:])
    assert [d.rate for d in model.layers if isinstance(d, Dropout)] == \
        [0.25] * (num_layers - 1)
    _close(model.predict(x, verbose=0), expected, dtype)
    back = to_torch(model).eval()
    inner = back.steps[0].rnn
    assert type(inner) is getattr(nn, kind)
    assert (inner.num_layers, inner.bidirectional, inner.bias) == (num_layers, bidirectional,
                                                                   bias)
    _close(_run(back, x), expected, dtype)


@pytest.mark.parametrize("kind,go_backwards,return_sequences,return_state,use_bias",
                         list(itertools.product(("LSTM", "GRU"), (False, True), (False, True),
                                                (False, True), (True, False))))
def test_to_torch_flags(rng, kind, go_backwards, return_sequences, return_state, use_bias):
    layer = CELLS[kind](4, use_bias=use_bias, go_backwards=go_backwards,
                        return_sequences=return_sequences, return_state=return_state, seed=3,
                        bias_initializer="random_normal")
    x = rng.standard_normal((3, 6, 2)).astype("float32")
    expected = layer(x)
    module = to_torch(layer)
    plain = return_sequences and not go_backwards and not return_state
    assert isinstance(module, getattr(nn, kind) if plain else KerasRNN)
    actual = _run(module, x)
    _close(actual[0] if plain else actual, expected, "float32")
    _close(_run(to_torch(Sequential([layer])), x), expected, "float32")
    again = from_torch(module if not plain else KerasRNN(module))
    assert type(again.layers[0]) is CELLS[kind]
    _close(again(x), expected, "float32")


@pytest.mark.parametrize("kind,merge_mode,go_backwards,return_sequences,return_state",
                         list(itertools.product(("LSTM", "GRU"),
                                                ("concat", "sum", "mul", "ave", None),
                                                (False, True), (False, True), (False, True))))
def test_to_torch_bidirectional_flags(rng, kind, merge_mode, go_backwards, return_sequences,
                                      return_state):
    layer = Bidirectional(CELLS[kind](3, go_backwards=go_backwards, seed=5,
                                      return_sequences=return_sequences,
                                      return_state=return_state,
                                      bias_initializer="random_normal"),
                          merge_mode=merge_mode)
    x = rng.standard_normal((2, 5, 4)).astype("float32")
    expected = layer(x)
    if return_state:  # forward states then backward states; two per direction for LSTM
        assert len(_as_list(expected)) == (1 if merge_mode else 2) + (4 if kind == "LSTM"
                                                                      else 2)
    module = to_torch(layer)
    actual = _run(module, x)
    if isinstance(module, nn.Module) and not isinstance(module, KerasRNN):
        actual = actual[0]
    _close(actual, expected, "float32")
    back = from_torch(module if isinstance(module, KerasRNN) else KerasRNN(module))
    assert back.layers[0].merge_mode == merge_mode
    _close(back.layers[0](x), expected, "float32")


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_final_states_match_torch_h_n(rng, kind):
    """KerasRNN's return_state gives torch's h_n (and c_n) of the last layer, Keras-ordered;
    from_torch of it returns the same."""
    module = _torch_module(kind, "float32", num_layers=2, bidirectional=True,
                           batch_first=True)
    x = rng.standard_normal((3, 5, 3)).astype("float32")
    _, finals = _run(module, x)
    finals = finals if kind == "LSTM" else [finals]  # (h_n, c_n) or h_n: (4, B, H) each
    wrapper = KerasRNN(module, return_sequences=False, return_state=True)
    out = _run(wrapper, x)
    expected_states = [s[d] for d in (2, 3) for s in finals]  # last layer: fwd, bwd
    _close(out[1:], expected_states, "float32")
    model = from_torch(wrapper)
    _close(model(x), out, "float32")


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_initial_state_through_keras_rnn(rng, kind):
    layer = Bidirectional(CELLS[kind](3, return_sequences=True, go_backwards=True, seed=2,
                                      bias_initializer="random_normal"))
    x = rng.standard_normal((2, 4, 5)).astype("float32")
    n = 4 if kind == "LSTM" else 2  # [h_f, c_f, h_b, c_b] or [h_f, h_b]
    states = [rng.standard_normal((2, 3)).astype("float32") for _ in range(n)]
    expected = layer(x, initial_state=states)
    module = to_torch(layer)
    actual = _run(module, x, initial_state=[torch.from_numpy(s) for s in states])
    _close(actual, expected, "float32")
    with pytest.raises(ValueError, match=f"list of {n}"):
        module(torch.from_numpy(x), initial_state=[torch.from_numpy(states[0])])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sequential_mixed_model_both_ways(rng, dtype):
    model = Sequential([
        Embedding(20, 6, dtype=dtype, seed=0),
        LSTM(5, return_sequences=True, go_backwards=True, dtype=dtype, seed=1),
        Dropout(0.2, dtype=dtype),
        LSTM(5, return_sequences=True, dtype=dtype, seed=2),
        GRU(5, return_sequences=True, dtype=dtype, seed=3),         # another kind: new module
        Bidirectional(GRU(4, dtype=dtype, seed=4), merge_mode="sum"),
        Dense(2, activation="softmax", dtype=dtype, seed=5),
    ])
    model.build((None, 7))
    x = rng.integers(0, 20, size=(3, 7))
    expected = model.predict(x, verbose=0)
    module = to_torch(model).eval()
    assert isinstance(module, FastrnnSequential)
    rnns = [s for s in module.steps if isinstance(s, KerasRNN)]
    assert [(type(r.rnn).__name__, r.rnn.num_layers, r.rnn.bidirectional) for r in rnns] == \
        [("LSTM", 2, False), ("GRU", 1, False), ("GRU", 1, True)]
    assert rnns[0].rnn.dropout == pytest.approx(0.2) and rnns[0].go_backwards
    _close(_run(module, x), expected, dtype)
    again = from_torch(module, input_shape=(None, 7))
    _close(again.predict(x, verbose=0), expected, dtype)


def test_torch_sequential_with_lstm_and_gru_maps_output_zero(rng):
    torch.manual_seed(0)
    emb, lstm = nn.Embedding(9, 4), nn.LSTM(4, 5, batch_first=True, bidirectional=True)
    gru, lin = nn.GRU(10, 3, batch_first=True), nn.Linear(3, 2)
    model = from_torch(nn.Sequential(emb, lstm, gru, lin, nn.Sigmoid()))
    assert [type(lay) for lay in model.layers] == [Embedding, Bidirectional, GRU, Dense]
    x = rng.integers(0, 9, size=(2, 6))
    with torch.no_grad():
        expected = torch.sigmoid(lin(gru(lstm(emb(torch.from_numpy(x)))[0])[0])).numpy()
    _close(model.predict(x, verbose=0), expected, "float32")


def test_refusals():
    with pytest.raises(NotImplementedError, match="proj_size"):
        from_torch(nn.LSTM(3, 4, proj_size=2))
    with pytest.raises(NotImplementedError, match="proj_size"):
        from_torch(nn.Sequential(nn.LSTM(3, 4, proj_size=2)))
    with pytest.raises(ValueError, match="proj_size"):
        KerasRNN(nn.LSTM(3, 4, proj_size=2, batch_first=True))
    with pytest.raises(NotImplementedError, match="reset_after=False"):
        to_torch(GRU(2, reset_after=False, input_shape=(3, 2)))
    with pytest.raises(NotImplementedError, match="reset_after=False"):
        to_torch(Bidirectional(GRU(2, reset_after=False), input_shape=(3, 2)))
    with pytest.raises(NotImplementedError, match="activation='relu'"):
        to_torch(LSTM(2, activation="relu", input_shape=(3, 2)))
    with pytest.raises(NotImplementedError, match="recurrent_activation='hard_sigmoid'"):
        to_torch(Sequential([GRU(2, recurrent_activation="hard_sigmoid", input_shape=(3, 2))]))
    with pytest.raises(NotImplementedError, match="stateful"):
        to_torch(LSTM(2, stateful=True, batch_input_shape=(1, 3, 2)))
    with pytest.raises(ValueError, match="not built"):
        to_torch(GRU(2))
    mixed = Bidirectional(LSTM(2, return_sequences=True),
                          backward_layer=GRU(2, return_sequences=True, go_backwards=True),
                          input_shape=(3, 2))
    with pytest.raises(NotImplementedError, match="both directions"):
        to_torch(mixed)
    # a SimpleRNN next to an LSTM of the same size stays a separate torch module
    model = Sequential([SimpleRNN(3, return_sequences=True, input_shape=(None, 2), seed=0),
                        LSTM(3, return_sequences=True, seed=1)])
    assert [type(s.rnn).__name__ for s in to_torch(model).steps] == ["RNN", "LSTM"]
