"""fastrnn.interop.to_onnx for LSTM and GRU: the standard ONNX LSTM / GRU operators that
ONNX Runtime runs to fastrnn's numbers (skipped without onnx / onnxruntime)."""
import itertools

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx.reference import ReferenceEvaluator  # noqa: E402

from fastrnn.interop import to_onnx  # noqa: E402
from fastrnn.layers import GRU, LSTM, Bidirectional, Dense, Dropout, Embedding  # noqa: E402
from fastrnn.models import Sequential  # noqa: E402

TOL = {"float32": dict(rtol=1e-5, atol=1e-5), "float64": dict(rtol=1e-10, atol=1e-12)}
# (layer class, its keyword arguments, ONNX op, linear_before_reset)
KINDS = {"LSTM": (LSTM, {}, "LSTM", None),
         "GRU": (GRU, dict(reset_after=True), "GRU", 1),
         "GRU-reset-before": (GRU, dict(reset_after=False), "GRU", 0)}
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "hard_sigmoid")


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


def _gated_attrs(proto):
    return [(n.op_type, {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute})
            for n in proto.graph.node if n.op_type in ("LSTM", "GRU", "RNN")]


def _cell(kind, **kwargs):
    cls, extra, _, _ = KINDS[kind]
    return cls(4, bias_initializer="random_normal", **extra, **kwargs)


def _check_node(proto, kind, direction):
    (op, attrs), = _gated_attrs(proto)
    assert op == KINDS[kind][2] and attrs["direction"] == direction.encode()
    assert attrs["hidden_size"] == 4
    if op == "GRU":
        assert attrs["linear_before_reset"] == KINDS[kind][3]


@pytest.mark.parametrize("kind,go_backwards,return_sequences,return_state,use_bias",
                         list(itertools.product(KINDS, (False, True), (False, True),
                                                (False, True), (True, False))))
def test_flags(tmp_path, rng, kind, go_backwards, return_sequences, return_state, use_bias):
    model = Sequential([_cell(kind, use_bias=use_bias, go_backwards=go_backwards,
                              return_sequences=return_sequences, return_state=return_state,
                              input_shape=(None, 3), seed=1)])
    proto = to_onnx(model, tmp_path / "m.onnx")
    _check_node(proto, kind, "reverse" if go_backwards else "forward")
    assert len(proto.graph.output) == 1 + return_state * (2 if kind == "LSTM" else 1)
    sess = _session(tmp_path / "m.onnx")
    for shape in ((2, 5, 3), (1, 1, 3), (6, 9, 3)):  # dynamic batch and time
        x = rng.standard_normal(shape).astype("float32")
        _close(sess.run(None, {"input": x}), model(x), "float32")


@pytest.mark.parametrize("kind,merge_mode,go_backwards,return_sequences,return_state",
                         list(itertools.product(KINDS, ("concat", "sum", "mul", "ave", None),
                                                (False, True), (False, True), (False, True))))
def test_bidirectional_flags(tmp_path, rng, kind, merge_mode, go_backwards, return_sequences,
                             return_state):
    model = Sequential([Bidirectional(
        _cell(kind, go_backwards=go_backwards, return_sequences=return_sequences,
              return_state=return_state, seed=2), merge_mode=merge_mode,
        input_shape=(None, 3))])
    proto = to_onnx(model, tmp_path / "m.onnx")
    _check_node(proto, kind, "bidirectional")
    sess = _session(tmp_path / "m.onnx")
    x = rng.standard_normal((3, 6, 3)).astype("float32")
    expected = model(x)
    if return_state:  # Keras's order: forward states then backward (h, c each for LSTM)
        assert len(expected) == (1 if merge_mode else 2) + (4 if kind == "LSTM" else 2)
    _close(sess.run(None, {"input": x}), expected, "float32")


@pytest.mark.parametrize("kind,activation,recurrent_activation",
                         [(k, a, r) for k in KINDS for a, r in
                          [("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("sigmoid", "tanh"),
                           ("linear", "sigmoid"), ("hard_sigmoid", "linear"),
                           ("tanh", "relu")]])
def test_activations(tmp_path, rng, kind, activation, recurrent_activation):
    """Non-default activations map to the operator's ``activations`` attribute (with
    Affine / HardSigmoid alphas and betas) for both directions."""
    model = Sequential([Bidirectional(
        _cell(kind, activation=activation, recurrent_activation=recurrent_activation,
              return_sequences=True, return_state=True, seed=3), input_shape=(None, 3))])
    proto = to_onnx(model, tmp_path / "m.onnx")
    (_, attrs), = _gated_attrs(proto)
    per_dir = len(attrs["activations"]) // 2
    assert per_dir == (3 if kind == "LSTM" else 2)
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    _close(_session(tmp_path / "m.onnx").run(None, {"input": x}), model(x), "float32")


@pytest.mark.parametrize("kind", list(KINDS))
def test_float64(tmp_path, rng, kind):
    """float64 files: the onnx package's reference evaluator (default activations only),
    and ONNX Runtime once it has float64 kernels for the operator."""
    cell = _cell(kind, dtype="float64", return_sequences=True, go_backwards=True, seed=4)
    model = Sequential([Bidirectional(cell, input_shape=(None, 2)),
                        Dense(2, dtype="float64", seed=5)])
    proto = to_onnx(model, tmp_path / "m.onnx")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    x = rng.standard_normal((2, 4, 2))
    expected = model.predict(x, verbose=0)
    _close(ReferenceEvaluator(proto).run(None, {"input": x}), expected, "float64")
    try:  # ONNX Runtime 1.32: "LSTM operator does not support double yet" (GRU likewise)
        got = _session(tmp_path / "m.onnx").run(None, {"input": x})
    except Exception as exc:
        assert "double" in str(exc) or "NOT_IMPLEMENTED" in str(exc), exc
        return
    _close(got, expected, "float64")


def test_mixed_model(tmp_path, rng):
    model = Sequential([
        Embedding(30, 5, seed=0),
        LSTM(4, return_sequences=True, go_backwards=True, seed=1),
        Dropout(0.3),
        Bidirectional(GRU(3, return_sequences=True, seed=2), merge_mode="ave"),
        GRU(3, reset_after=False, seed=3),
        Dense(2, activation="softmax", seed=4),
    ])
    model.build((None, None))
    proto = to_onnx(model, tmp_path / "m.onnx")
    assert [op for op, _ in _gated_attrs(proto)] == ["LSTM", "GRU", "GRU"]
    sess = _session(tmp_path / "m.onnx")
    for T in (1, 6, 13):
        x = rng.integers(0, 30, size=(4, T))
        _close(sess.run(None, {"input": x}), model.predict(x, verbose=0), "float32")


@pytest.mark.parametrize("kind", list(KINDS))
def test_functional_encoder_states_feed_decoder(tmp_path, rng, kind):
    """An encoder's final states (LSTM: h and c) become the decoder's initial_h
    (and initial_c); a Bidirectional encoder's four (or two) states feed a bidirectional
    decoder."""
    import fastrnn
    if not hasattr(fastrnn, "Model"):
        pytest.skip("fastrnn.Model (the functional API) is not in this build yet")
    enc_in = fastrnn.Input(shape=(None, 3), name="enc")
    dec_in = fastrnn.Input(shape=(None, 2), name="dec")
    enc = _cell(kind, return_state=True, go_backwards=True, seed=0)(enc_in)
    seq = _cell(kind, return_sequences=True, seed=1)(dec_in, initial_state=enc[1:])
    bi_enc = Bidirectional(_cell(kind, return_state=True, seed=2))(enc_in)
    bi_seq = Bidirectional(_cell(kind, return_sequences=True, seed=3), merge_mode="sum")(
        dec_in, initial_state=bi_enc[1:])
    model = fastrnn.Model([enc_in, dec_in], [Dense(3, seed=4)(seq), bi_seq] + enc[1:])
    proto = to_onnx(model, tmp_path / "m.onnx")
    n = 2 if kind == "LSTM" else 1
    wired = [list(node.input) for node in proto.graph.node if node.op_type == KINDS[kind][2]]
    assert sorted(len(w) for w in wired) == [4, 4, 5 + n, 5 + n]  # decoders: initial_h (, _c)
    sess = _session(tmp_path / "m.onnx")
    for T1, T2 in ((5, 3), (2, 7)):
        a = rng.standard_normal((2, T1, 3)).astype("float32")
        b = rng.standard_normal((2, T2, 2)).astype("float32")
        _close(sess.run(None, {"enc": a, "dec": b}), model.predict([a, b], verbose=0),
               "float32")


def test_refusals(tmp_path):
    with pytest.raises(NotImplementedError, match="stateful"):
        to_onnx(Sequential([LSTM(2, stateful=True, batch_input_shape=(1, 3, 2))]),
                tmp_path / "m.onnx")
    mixed = Bidirectional(LSTM(2, return_sequences=True),
                          backward_layer=GRU(2, return_sequences=True, go_backwards=True),
                          input_shape=(None, 2))
    with pytest.raises(NotImplementedError, match="both directions"):
        to_onnx(Sequential([mixed]), tmp_path / "m.onnx")
    two_resets = Bidirectional(GRU(2, return_sequences=True),
                               backward_layer=GRU(2, return_sequences=True, go_backwards=True,
                                                  reset_after=False),
                               input_shape=(None, 2))
    with pytest.raises(NotImplementedError, match="reset_after"):
        to_onnx(Sequential([two_resets]), tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []
