"""fastrnn.interop.to_onnx: files ONNX Runtime runs to fastrnn's numbers (skipped without
onnx / onnxruntime)."""
import itertools
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx.reference import ReferenceEvaluator  # noqa: E402

from fastrnn.interop import to_onnx  # noqa: E402
from fastrnn.layers import (Activation, Bidirectional, Dense, Dropout, Embedding,  # noqa: E402
                            Flatten, Layer, SimpleRNN)
from fastrnn.models import Sequential  # noqa: E402

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _close(actual, expected, dtype):
    actual, expected = _as_list(actual), _as_list(expected)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.shape == np.shape(e) and a.dtype == np.dtype(dtype)
        np.testing.assert_allclose(a, e, **TOL[dtype])


def _ops(proto):
    return [n.op_type for n in proto.graph.node]


def _rnn_attrs(proto):
    return [{a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            for n in proto.graph.node if n.op_type == "RNN"]


def _general(model, x):
    """The model's outputs through the general path: a mask of ones given to the first
    layer (the lean concat path of a pre-built Bidirectional with go_backwards=True
    returns time reversed, issue 11 item 2)."""
    return model(x, mask=np.ones(x.shape[:2], bool))


@pytest.mark.parametrize("go_backwards,return_sequences,return_state,activation,use_bias",
                         list(itertools.product((False, True), (False, True), (False, True),
                                                ("tanh", "relu", "sigmoid", "linear"),
                                                (True, False))))
def test_simple_rnn_flags(tmp_path, rng, go_backwards, return_sequences, return_state,
                          activation, use_bias):
    model = Sequential([SimpleRNN(4, activation=activation, use_bias=use_bias,
                                  go_backwards=go_backwards, return_sequences=return_sequences,
                                  return_state=return_state, bias_initializer="random_normal",
                                  input_shape=(None, 3), seed=1)])
    proto = to_onnx(model, tmp_path / "m.onnx")
    attrs = _rnn_attrs(proto)
    assert len(attrs) == 1
    assert attrs[0]["direction"] == (b"reverse" if go_backwards else b"forward")
    sess = _session(tmp_path / "m.onnx")
    for shape in ((2, 5, 3), (1, 1, 3), (7, 9, 3)):  # dynamic batch and time
        x = rng.standard_normal(shape).astype("float32")
        _close(sess.run(None, {"input": x}), model(x), "float32")


@pytest.mark.parametrize("merge_mode,go_backwards,return_sequences,return_state",
                         list(itertools.product(("concat", "sum", "mul", "ave", None),
                                                (False, True), (False, True), (False, True))))
def test_bidirectional_flags(tmp_path, rng, merge_mode, go_backwards, return_sequences,
                             return_state):
    model = Sequential([Bidirectional(
        SimpleRNN(3, go_backwards=go_backwards, return_sequences=return_sequences,
                  return_state=return_state, bias_initializer="random_normal", seed=2),
        merge_mode=merge_mode, input_shape=(None, 4))])
    proto = to_onnx(model, tmp_path / "m.onnx")
    assert [a["direction"] for a in _rnn_attrs(proto)] == [b"bidirectional"]
    sess = _session(tmp_path / "m.onnx")
    for shape in ((2, 5, 4), (3, 2, 4)):
        x = rng.standard_normal(shape).astype("float32")
        _close(sess.run(None, {"input": x}), _general(model, x), "float32")


def test_mixed_model_with_flatten_and_gemm(tmp_path, rng):
    model = Sequential([
        Embedding(30, 5, input_length=6, seed=0),
        SimpleRNN(4, return_sequences=True, go_backwards=True, seed=1),
        Dropout(0.3),
        Bidirectional(SimpleRNN(3, activation="relu", return_sequences=True, seed=2),
                      merge_mode="ave"),
        Dense(4, activation="tanh", seed=3),            # 3-D: MatMul + Add
        Activation("relu"),
        Flatten(),
        Dense(3, activation="softmax", seed=4),         # 2-D: Gemm
    ])
    proto = to_onnx(model, tmp_path / "m.onnx")
    ops = _ops(proto)
    for op in ("Gather", "RNN", "Identity", "MatMul", "Add", "Tanh", "Relu", "Flatten",
               "Gemm", "Softmax"):
        assert op in ops
    inp = proto.graph.input[0]
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim] == ["batch", 6]
    x = rng.integers(0, 30, size=(5, 6))
    out = _session(tmp_path / "m.onnx").run(None, {"input": x.astype(np.int64)})
    _close(out, model.predict(x, verbose=0), "float32")


def test_embedding_rnn_dense_dynamic_time(tmp_path, rng):
    model = Sequential([Embedding(12, 4, seed=0), SimpleRNN(6, seed=1),
                        Dense(1, activation="sigmoid", seed=2)])
    model.build((None, None))
    to_onnx(model, tmp_path / "m.onnx")
    sess = _session(tmp_path / "m.onnx")
    for T in (1, 4, 11):
        x = rng.integers(0, 12, size=(3, T))
        _close(sess.run(None, {"input": x}), model.predict(x, verbose=0), "float32")


def test_float64(tmp_path, rng):
    """ONNX Runtime implements RNN for float32 only: float64 files are checked with the
    onnx package's reference evaluator; RNN-free float64 files run in ONNX Runtime too."""
    model = Sequential([Bidirectional(SimpleRNN(3, return_sequences=True, go_backwards=True,
                                                dtype="float64", seed=0),
                                      input_shape=(None, 2)),
                        Dense(2, dtype="float64", seed=1)])
    proto = to_onnx(model, tmp_path / "m.onnx")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    x = rng.standard_normal((2, 4, 2))
    _close(ReferenceEvaluator(proto).run(None, {"input": x}), _general(model, x), "float64")
    dense = Sequential([Dense(3, activation="tanh", dtype="float64", input_shape=(5,))])
    to_onnx(dense, tmp_path / "d.onnx")
    x = rng.standard_normal((4, 5))
    _close(_session(tmp_path / "d.onnx").run(None, {"input": x}), dense.predict(x, verbose=0),
           "float64")


def test_opset_and_checker(tmp_path, rng):
    model = Sequential([SimpleRNN(2, return_sequences=True, input_shape=(None, 2), seed=0)])
    proto = to_onnx(model, tmp_path / "m.onnx", opset=13)
    assert proto.opset_import[0].version == 13
    onnx.checker.check_model(str(tmp_path / "m.onnx"), full_check=True)
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    _close(_session(tmp_path / "m.onnx").run(None, {"input": x}), model(x), "float32")
    for bad in (12, 10_000, "17", True):
        with pytest.raises(ValueError, match="opset"):
            to_onnx(model, tmp_path / "bad.onnx", opset=bad)
    assert not (tmp_path / "bad.onnx").exists()


def test_refusals(tmp_path):
    with pytest.raises(ValueError, match="not built"):
        to_onnx(Sequential([SimpleRNN(2)]), tmp_path / "m.onnx")
    with pytest.raises(NotImplementedError, match="stateful"):
        to_onnx(Sequential([SimpleRNN(2, stateful=True, batch_input_shape=(1, 3, 2))]),
                tmp_path / "m.onnx")

    class Custom(Layer):
        def build(self, input_shape):
            self.built = True

        def compute_output_shape(self, input_shape):
            return input_shape

    with pytest.raises(NotImplementedError, match="Custom"):
        to_onnx(Sequential([Dense(2, input_shape=(3,)), Custom()]), tmp_path / "m.onnx")
    with pytest.raises(TypeError, match="Sequential or Model"):
        to_onnx(Dense(2), tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"previous file")
    model = Sequential([Dense(2, input_shape=(3,), seed=0)])

    def broken_replace(src, dst):
        raise OSError("disk went away")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk went away"):
        to_onnx(model, path)
    assert path.read_bytes() == b"previous file"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]  # no temporary left over
    monkeypatch.undo()
    to_onnx(model, path)
    onnx.checker.check_model(str(path))


# ---------------------------------------------------------------- functional graphs
class _KT:
    """A stand-in symbolic tensor with the GRAPH-API.md contract (shape, dtype, name)."""

    def __init__(self, shape, dtype="float32", name=None):
        self.shape, self.dtype, self.name = tuple(shape), dtype, name


class _Node:
    def __init__(self, layer, inputs, outputs, **call_kwargs):
        self.layer, self.inputs, self.outputs = layer, inputs, outputs
        self.call_kwargs = dict(call_kwargs, training=None)


class _Graph:
    """A stand-in functional model: inputs, outputs, layers and topologically ordered
    _nodes, as GRAPH-API.md describes Model."""

    def __init__(self, inputs, outputs, nodes, name="graph"):
        self.inputs, self.outputs, self._nodes, self.name = inputs, outputs, nodes, name
        self.layers = [n.layer for n in nodes]


def _encoder_decoder():
    enc_in, dec_in = _KT((None, None, 3), name="encoder_in"), _KT((None, None, 2),
                                                                  name="decoder_in")
    encoder = SimpleRNN(4, return_state=True, go_backwards=True, seed=0)
    decoder = SimpleRNN(4, return_sequences=True, seed=1)
    dense = Dense(5, activation="softmax", seed=2)
    for layer, shape in ((encoder, (None, None, 3)), (decoder, (None, None, 2)),
                         (dense, (None, None, 4))):
        layer.build(shape)
    enc_out, enc_state = _KT((None, 4)), _KT((None, 4))
    dec_seq, probs = _KT((None, None, 4)), _KT((None, None, 5))
    nodes = [_Node(encoder, [enc_in], [enc_out, enc_state]),
             _Node(decoder, [dec_in, enc_state], [dec_seq], initial_state=[enc_state]),
             _Node(dense, [dec_seq], [probs])]
    model = _Graph([enc_in, dec_in], [probs, enc_state], nodes)

    def run(a, b):
        _, state = encoder(a)
        return [dense(decoder(b, initial_state=[state])), state]

    return model, run


def test_functional_encoder_decoder_with_initial_state(tmp_path, rng):
    model, run = _encoder_decoder()
    proto = to_onnx(model, tmp_path / "m.onnx")
    assert [i.name for i in proto.graph.input] == ["encoder_in", "decoder_in"]
    rnn_inputs = [list(n.input) for n in proto.graph.node if n.op_type == "RNN"]
    assert len(rnn_inputs[1]) == 6 and rnn_inputs[1][5]  # initial_h wired
    sess = _session(tmp_path / "m.onnx")
    for T1, T2 in ((5, 3), (2, 7)):
        a = rng.standard_normal((2, T1, 3)).astype("float32")
        b = rng.standard_normal((2, T2, 2)).astype("float32")
        _close(sess.run(None, {"encoder_in": a, "decoder_in": b}), run(a, b), "float32")


def test_functional_bidirectional_initial_state_and_nested_model(tmp_path, rng):
    x_in, h_in = _KT((None, None, 3), name="x"), _KT((None, 2), name="h")
    bi = Bidirectional(SimpleRNN(2, return_sequences=True, go_backwards=True, seed=3),
                       merge_mode="mul")
    bi.build((None, None, 3))
    inner = Sequential([Dense(3, activation="relu", seed=4), Dense(1, seed=5)])
    inner.build((None, None, 2))
    seq, out = _KT((None, None, 2)), _KT((None, None, 1))
    model = _Graph([x_in, h_in], [out], [
        _Node(bi, [x_in, h_in, h_in], [seq], initial_state=[h_in, h_in]),
        _Node(inner, [seq], [out])])
    to_onnx(model, tmp_path / "m.onnx")
    x = rng.standard_normal((3, 4, 3)).astype("float32")
    h = rng.standard_normal((3, 2)).astype("float32")
    expected = inner(bi(x, initial_state=[h, h]))
    _close(_session(tmp_path / "m.onnx").run(None, {"x": x, "h": h}), expected, "float32")


def test_functional_refuses_masks_and_unordered_nodes(tmp_path):
    x_in, m_in = _KT((None, None, 3), name="x"), _KT((None, None), "bool", name="m")
    out = _KT((None, 2))
    rnn = SimpleRNN(2, seed=0)
    rnn.build((None, None, 3))
    masked = _Graph([x_in, m_in], [out], [_Node(rnn, [x_in, m_in], [out], mask=m_in)])
    with pytest.raises(NotImplementedError, match="mask"):
        to_onnx(masked, tmp_path / "m.onnx")
    mid, out2 = _KT((None, None, 2)), _KT((None, None, 2))
    layer_a = SimpleRNN(2, return_sequences=True, seed=1)
    layer_b = Dense(2, seed=2)
    layer_a.build((None, None, 3))
    layer_b.build((None, None, 2))
    unordered = _Graph([x_in], [out2], [_Node(layer_b, [mid], [out2]),
                                        _Node(layer_a, [x_in], [mid])])
    with pytest.raises(ValueError, match="topological"):
        to_onnx(unordered, tmp_path / "m.onnx")


def test_real_functional_model_if_available(tmp_path, rng):
    """Runs once the graph API (fastrnn.Model) is merged."""
    import fastrnn
    if not hasattr(fastrnn, "Model"):
        pytest.skip("fastrnn.Model (the functional API) is not in this build yet")
    enc_in = fastrnn.Input(shape=(None, 3), name="enc")
    dec_in = fastrnn.Input(shape=(None, 2), name="dec")
    _, state = SimpleRNN(4, return_state=True, seed=0)(enc_in)
    seq = SimpleRNN(4, return_sequences=True, seed=1)(dec_in, initial_state=[state])
    probs = Dense(3, activation="softmax", seed=2)(seq)
    model = fastrnn.Model([enc_in, dec_in], probs)
    to_onnx(model, tmp_path / "m.onnx")
    a = rng.standard_normal((2, 5, 3)).astype("float32")
    b = rng.standard_normal((2, 4, 2)).astype("float32")
    out = _session(tmp_path / "m.onnx").run(None, {"enc": a, "dec": b})
    _close(out, model.predict([a, b], verbose=0), "float32")


def test_real_functional_merging_and_reshaping_layers(tmp_path, rng):
    """Runs once the graph API and its merging / reshaping layers are merged."""
    import fastrnn
    from fastrnn import layers as L
    names = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
             "Reshape", "RepeatVector", "Permute")
    if not hasattr(fastrnn, "Model") or not all(hasattr(L, n) for n in names):
        pytest.skip("the functional API's merging and reshaping layers are not here yet")
    a, b = fastrnn.Input(shape=(5, 3), name="a"), fastrnn.Input(shape=(5, 3), name="b")
    r1 = SimpleRNN(4, return_sequences=True, seed=0)(a)
    r2 = SimpleRNN(4, return_sequences=True, go_backwards=True, seed=1)(b)
    s = L.Add()([r1, r2])
    merged = L.Concatenate()([s, L.Subtract()([r1, r2]), L.Multiply()([r1, r2, s]),
                              L.Average()([r1, r2, s]), L.Maximum()([r1, r2]),
                              L.Minimum()([r1, r2])])                       # (B, 5, 24)
    last = SimpleRNN(3, seed=2)(a)
    outputs = [merged, L.Permute((2, 1))(merged), L.Reshape((10, -1))(merged),
               L.RepeatVector(5)(last), L.Concatenate(axis=1)([r1, r2])]
    model = fastrnn.Model([a, b], outputs)
    to_onnx(model, tmp_path / "m.onnx")
    x = rng.standard_normal((3, 5, 3)).astype("float32")
    y = rng.standard_normal((3, 5, 3)).astype("float32")
    got = _session(tmp_path / "m.onnx").run(None, {"a": x, "b": y})
    _close(got, model([x, y]), "float32")
