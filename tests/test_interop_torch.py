"""fastrnn.interop.from_torch / to_torch against real PyTorch (skipped without torch)."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fastrnn.interop import from_torch, to_torch  # noqa: E402
from fastrnn.interop._torch_modules import FastrnnSequential, KerasRNN  # noqa: E402
from fastrnn.layers import (Activation, Bidirectional, Dense, Dropout, Embedding,  # noqa: E402
                            Flatten, SimpleRNN)
from fastrnn.models import Sequential  # noqa: E402

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-12, atol=1e-12)}
nn = torch.nn


def _run(module, x):
    with torch.no_grad():
        out = module(torch.from_numpy(x))
    if isinstance(out, (list, tuple)):
        return [o.numpy() for o in out]
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


@pytest.mark.parametrize("num_layers,bidirectional,batch_first,nonlinearity,bias,dtype",
                         list(itertools.product((1, 3), (False, True), (True, False),
                                                ("tanh", "relu"), (True, False),
                                                ("float32", "float64"))))
def test_from_torch_rnn_grid(rng, num_layers, bidirectional, batch_first, nonlinearity, bias,
                             dtype):
    torch.manual_seed(1)
    rnn = nn.RNN(3, 4, num_layers=num_layers, nonlinearity=nonlinearity, bias=bias,
                 batch_first=batch_first, dropout=0.25 if num_layers > 1 else 0.0,
                 bidirectional=bidirectional).to(getattr(torch, dtype)).eval()
    if bias:  # torch's default biases are small; make the sum of the two matter
        with torch.no_grad():
            for name, p in rnn.named_parameters():
                if name.startswith("bias"):
                    p.uniform_(-0.5, 0.5)
    x = rng.standard_normal((2, 5, 3)).astype(dtype)
    expected = _run(rnn, x if batch_first else np.ascontiguousarray(x.transpose(1, 0, 2)))[0]
    if not batch_first:
        expected = expected.transpose(1, 0, 2)
    model = from_torch(rnn)
    rnn_layers = [lay for lay in model.layers if not isinstance(lay, Dropout)]
    assert len(rnn_layers) == num_layers
    assert all(isinstance(lay, Bidirectional if bidirectional else SimpleRNN) for lay in rnn_layers)
    dropouts = [lay for lay in model.layers if isinstance(lay, Dropout)]
    assert [d.rate for d in dropouts] == [0.25] * (num_layers - 1)
    _close(model.predict(x, verbose=0), expected, dtype)
    # and back: one nn.RNN with the same stack, same numbers
    back = to_torch(model).eval()
    inner = back.steps[0].rnn
    assert (inner.num_layers, inner.bidirectional, inner.nonlinearity, inner.bias) == (
        num_layers, bidirectional, nonlinearity, bias)
    assert inner.dropout == (0.25 if num_layers > 1 else 0.0)
    _close(_run(back, x), expected, dtype)


@pytest.mark.parametrize("go_backwards,return_sequences,return_state,activation,use_bias",
                         list(itertools.product((False, True), (False, True), (False, True),
                                                ("tanh", "relu"), (True, False))))
def test_to_torch_simple_rnn_flags(rng, go_backwards, return_sequences, return_state,
                                   activation, use_bias):
    layer = SimpleRNN(4, activation=activation, use_bias=use_bias, go_backwards=go_backwards,
                      return_sequences=return_sequences, return_state=return_state, seed=3,
                      bias_initializer="random_normal")
    x = rng.standard_normal((3, 6, 2)).astype("float32")
    expected = layer(x)
    module = to_torch(layer)
    plain = return_sequences and not go_backwards and not return_state
    assert isinstance(module, nn.RNN if plain else KerasRNN)
    actual = _run(module, x)
    _close(actual[0] if plain else actual, expected, "float32")
    _close(_run(to_torch(Sequential([layer])), x), expected, "float32")
    # round trip through from_torch (calling the model: it may return [output, state])
    _close(from_torch(module if not plain else KerasRNN(module))(x), expected, "float32")


@pytest.mark.parametrize("merge_mode,go_backwards,return_sequences,return_state,dtype",
                         list(itertools.product(("concat", "sum", "mul", "ave", None),
                                                (False, True), (False, True), (False, True),
                                                ("float32", "float64"))))
def test_to_torch_bidirectional_flags(rng, merge_mode, go_backwards, return_sequences,
                                      return_state, dtype):
    layer = Bidirectional(SimpleRNN(3, go_backwards=go_backwards, dtype=dtype, seed=5,
                                    return_sequences=return_sequences,
                                    return_state=return_state,
                                    bias_initializer="random_normal"), merge_mode=merge_mode)
    x = rng.standard_normal((2, 5, 4)).astype(dtype)
    # a mask of ones takes the general path: the lean concat path of a pre-built
    # Bidirectional with go_backwards=True returns time reversed (issue 11, item 2)
    ones = np.ones(x.shape[:2], bool)
    expected = layer(x, mask=ones)
    module = to_torch(layer)
    actual = _run(module, x)
    if isinstance(module, nn.RNN):
        actual = actual[0]
    _close(actual, expected, dtype)
    back = from_torch(module if isinstance(module, KerasRNN) else KerasRNN(module))
    assert back.layers[0].merge_mode == merge_mode
    _close(back.layers[0](x, mask=ones), expected, dtype)


def test_initial_state_through_keras_rnn(rng):
    layer = Bidirectional(SimpleRNN(3, return_sequences=True, go_backwards=True, seed=2))
    x = rng.standard_normal((2, 4, 5)).astype("float32")
    h_f, h_b = (rng.standard_normal((2, 3)).astype("float32") for _ in range(2))
    expected = layer(x, initial_state=[h_f, h_b])
    module = to_torch(layer)
    with torch.no_grad():
        actual = module(torch.from_numpy(x),
                        initial_state=[torch.from_numpy(h_f), torch.from_numpy(h_b)])
    _close(actual.numpy(), expected, "float32")
    with pytest.raises(ValueError, match="initial_state"):
        module(torch.from_numpy(x), initial_state=[torch.from_numpy(h_f)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sequential_mixed_model_both_ways(rng, dtype):
    model = Sequential([
        Embedding(20, 6, dtype=dtype, seed=0),
        SimpleRNN(5, return_sequences=True, go_backwards=True, dtype=dtype, seed=1),
        Dropout(0.2, dtype=dtype),
        SimpleRNN(5, return_sequences=True, dtype=dtype, seed=2),
        Bidirectional(SimpleRNN(4, activation="relu", return_sequences=True, dtype=dtype,
                                seed=3), merge_mode="sum"),
        Dense(3, activation="tanh", dtype=dtype, seed=4),
        Flatten(dtype=dtype),
        Dense(2, activation="softmax", dtype=dtype, seed=5),
    ])
    model.build((None, 7))
    x = rng.integers(0, 20, size=(3, 7))
    expected = model.predict(x, verbose=0)
    module = to_torch(model).eval()
    assert isinstance(module, FastrnnSequential)
    rnns = [s for s in module.steps if isinstance(s, KerasRNN)]
    # the two SimpleRNNs (Dropout between) fuse into one nn.RNN(num_layers=2, dropout=0.2)
    assert [(r.rnn.num_layers, r.rnn.bidirectional) for r in rnns] == [(2, False), (1, True)]
    assert rnns[0].rnn.dropout == pytest.approx(0.2) and rnns[0].go_backwards
    _close(_run(module, x), expected, dtype)
    again = from_torch(module, input_shape=(None, 7))
    _close(again.predict(x, verbose=0), expected, dtype)


def test_torch_sequential_with_rnn_maps_output_zero(rng):
    torch.manual_seed(0)
    emb, rnn, lin = nn.Embedding(9, 4), nn.RNN(4, 5, batch_first=True), nn.Linear(5, 2)
    model = from_torch(nn.Sequential(emb, rnn, lin, nn.Sigmoid()))
    assert [type(lay) for lay in model.layers] == [Embedding, SimpleRNN, Dense]
    assert model.layers[-1].activation == "sigmoid"
    x = rng.integers(0, 9, size=(2, 6))
    with torch.no_grad():
        expected = torch.sigmoid(lin(rnn(emb(torch.from_numpy(x)))[0])).numpy()
    _close(model.predict(x, verbose=0), expected, "float32")


def test_linear_embedding_and_activations(rng):
    torch.manual_seed(0)
    lin = nn.Linear(4, 3)
    dense = from_torch(lin)
    x = rng.standard_normal((5, 4)).astype("float32")
    _close(dense(x), _run(lin, x), "float32")
    _close(_run(to_torch(dense), x), dense(x), "float32")
    emb = nn.Embedding(7, 2)
    idx = rng.integers(0, 7, size=(3, 4))
    layer = from_torch(emb)
    _close(layer(idx), emb(torch.from_numpy(idx)).detach().numpy(), "float32")
    _close(to_torch(layer)(torch.from_numpy(idx)).detach().numpy(), layer(idx), "float32")
    seq = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Identity(), nn.Dropout(0.1),
                        nn.Linear(3, 2), nn.Softmax(dim=-1)).eval()
    model = from_torch(seq)
    assert [lay.activation for lay in model.layers if isinstance(lay, Dense)] == ["relu", "softmax"]
    _close(model.predict(x, verbose=0), _run(seq, x), "float32")
    act = Sequential([Activation("sigmoid"), Activation("linear")])
    act.build((None, 4))
    _close(_run(to_torch(act), x), act.predict(x, verbose=0), "float32")


def test_refusals():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        from_torch(object())
    with pytest.raises(NotImplementedError, match="Conv1d"):
        from_torch(nn.Conv1d(2, 3, 1))
    with pytest.raises(NotImplementedError, match="Conv1d"):
        from_torch(nn.Sequential(nn.Linear(2, 2), nn.Conv1d(2, 2, 1)))
    with pytest.raises(NotImplementedError, match="dim=-1"):
        from_torch(nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=0)))
    with pytest.raises(NotImplementedError, match="max_norm"):
        from_torch(nn.Embedding(3, 2, max_norm=1.0))
    with pytest.raises(ValueError, match="float16"):
        from_torch(nn.Linear(2, 2).half())
    assert from_torch(nn.Linear(2, 2).half(), dtype="float32").kernel.dtype == np.float32
    with pytest.raises(NotImplementedError, match="nonlinearity"):
        to_torch(SimpleRNN(2, activation="sigmoid", input_shape=(3, 2)))
    with pytest.raises(NotImplementedError, match="stateful"):
        to_torch(SimpleRNN(2, stateful=True, batch_input_shape=(1, 3, 2)))
    with pytest.raises(ValueError, match="not built"):
        to_torch(SimpleRNN(2))
    with pytest.raises(TypeError, match="layer_or_model"):
        to_torch("SimpleRNN")


def test_to_torch_refuses_functional_models_if_available():
    import fastrnn
    if not hasattr(fastrnn, "Model"):
        pytest.skip("fastrnn.Model (the functional API) is not in this build yet")
    x = fastrnn.Input(shape=(3,))
    with pytest.raises(NotImplementedError, match="functional"):
        to_torch(fastrnn.Model(x, Dense(2)(x)))
