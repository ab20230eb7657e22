"""The LSTM and GRU kernels (through fastrnn.functional) against the NumPy reference,
and the reference against finite differences."""
import numpy as np
import pytest

from fastrnn import _gates, functional as F, reference as R

from conftest import ATOL, RTOL
from gradcheck import numerical_gradient

DTYPES = [np.float32, np.float64]
CELLS = ["lstm", "gru", "gru_before"]  # gru: reset_after=True (Keras 3's default)
SHAPES = [(1, 1, 1, 1), (0, 3, 2, 2), (1, 5, 3, 4), (4, 1, 3, 2), (3, 7, 5, 1),
          (5, 9, 17, 33), (2, 3, 64, 40)]


@pytest.fixture(params=["microkernel", "blas"])
def path(request, monkeypatch):
    """Both products: the packed microkernel (where the CPU has AVX2/FMA) and SciPy's BLAS."""
    if request.param == "blas":
        monkeypatch.setattr(F, "_PACKED", False)
    elif not _gates.simd():
        pytest.skip("this CPU runs the BLAS path only")
    return request.param


class Case:
    """Random weights for one cell, and both floors' calls with the same arguments."""

    def __init__(self, rng, cell, B, T, D, U, dtype, use_bias=True, scale=0.6):
        self.cell, self.dtype, self.B, self.T, self.U = cell, dtype, B, T, U
        G = 4 if cell == "lstm" else 3
        self.G = G
        self.x = rng.uniform(-1, 1, (B, T, D)).astype(dtype)
        self.W = rng.uniform(-scale, scale, (D, G * U)).astype(dtype)
        self.Rk = (rng.uniform(-scale, scale, (U, G * U)) / np.sqrt(U)).astype(dtype)
        bshape = (2, G * U) if cell == "gru" else (G * U,)
        self.b = rng.uniform(-0.5, 0.5, bshape).astype(dtype) if use_bias else None
        self.h0 = rng.uniform(-1, 1, (B, U)).astype(dtype)
        self.c0 = rng.uniform(-1, 1, (B, U)).astype(dtype)
        self.rng = rng

    def state(self, use_h0):
        if not use_h0:
            return None
        return [self.h0, self.c0] if self.cell == "lstm" else self.h0

    def forward(self, floor, use_h0=True, **kw):
        init = self.state(use_h0)
        if self.cell == "lstm":
            if floor is R and init is not None:
                init = tuple(init)
            return floor.lstm_forward(self.x, self.W, self.Rk, self.b, init, **kw)
        return floor.gru_forward(self.x, self.W, self.Rk, self.b, init,
                                 reset_after=self.cell == "gru", **kw)

    def backward(self, floor, d_seq, d_h, d_c, use_h0=True, **kw):
        init = self.state(use_h0)
        if self.cell == "lstm":
            if floor is R and init is not None:
                init = tuple(init)
            if floor is R:
                return R.lstm_backward(d_seq, d_h, d_c, self.x, self.W, self.Rk, self.b,
                                       init, **kw)
            return F.lstm_backward(d_seq, d_h, d_c, self.x, self.W, self.Rk, self.b, init, **kw)
        return floor.gru_backward(d_seq, d_h, self.x, self.W, self.Rk, self.b, init,
                                  reset_after=self.cell == "gru", **kw)

    def upstream(self):
        r, B, T, U, dt = self.rng, self.B, self.T, self.U, self.dtype
        return (r.normal(size=(B, T, U)).astype(dt), r.normal(size=(B, U)).astype(dt),
                r.normal(size=(B, U)).astype(dt) if self.cell == "lstm" else None)

    def mask(self):
        m = self.rng.uniform(size=(self.B, self.T)) > 0.4
        m[0, 0] = False  # first step masked
        if self.B > 1:
            m[1, -1] = False  # last step masked
        if self.B > 2:
            m[2, :] = False  # a fully masked row
        return m


def close(actual, expected, dtype, factor=10, name=""):
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype] * factor,
                               atol=ATOL[dtype] * factor, err_msg=name)


def check_all(case, use_h0=True, **kw):
    """Forward outputs and every gradient of both floors agree."""
    dt = case.dtype
    got = case.forward(F, use_h0, **kw)
    ref = case.forward(R, use_h0, **kw)
    assert len(got) == len(ref)
    for a, e in zip(got, ref):
        assert a.dtype == dt and a.shape == e.shape
        close(a, e, dt)
    d_seq, d_h, d_c = case.upstream()
    got = case.backward(F, d_seq, d_h, d_c, use_h0, **kw)
    ref = case.backward(R, d_seq, d_h, d_c, use_h0, **kw)
    for name, a, e in zip(got._fields, got, ref):
        assert a.shape == np.shape(e), name
        close(a, e, dt, 50, name)


def test_compiled_module_is_in_use():
    assert _gates.compiled()
    assert _gates.__file__.endswith((".so", ".pyd"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cell", CELLS)
def test_matches_reference_over_shapes(rng, path, cell, dtype, shape):
    check_all(Case(rng, cell, *shape, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masking", ["none", "mask", "zero_output"])
@pytest.mark.parametrize("use_bias", [False, True])
@pytest.mark.parametrize("use_h0", [False, True])
def test_flags(rng, path, cell, dtype, go_backwards, masking, use_bias, use_h0):
    case = Case(rng, cell, 4, 6, 5, 7, dtype, use_bias=use_bias)
    kw = dict(go_backwards=go_backwards)
    if masking != "none":
        kw.update(mask=case.mask(), zero_output_for_mask=masking == "zero_output")
    check_all(case, use_h0, **kw)
    # the last output alone, as return_sequences=False computes it
    last = case.forward(F, use_h0, return_sequences=False, **kw)
    ref = case.forward(R, use_h0, **kw)
    close(last[0], ref[0][:, -1], dtype)
    for a, e in zip(last[1:], ref[1:]):
        close(a, e, dtype)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("act,ract", [("tanh", "hard_sigmoid"), ("relu", "sigmoid"),
                                      ("linear", "tanh"), ("sigmoid", "linear")])
def test_activations(rng, path, cell, act, ract):
    case = Case(rng, cell, 3, 5, 4, 6, np.float64)
    check_all(case, activation=act, recurrent_activation=ract)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("per_gate", [False, True])
def test_dropout_masks(rng, path, cell, dtype, per_gate):
    """One mask for every gate (Keras's implementation 2) or one per gate (1)."""
    B, T, D, U = 3, 5, 4, 6
    case = Case(rng, cell, B, T, D, U, dtype)
    lead = (case.G,) if per_gate else ()
    dm = ((rng.uniform(size=lead + (B, D)) > 0.3) / 0.7).astype(dtype)
    rm = ((rng.uniform(size=lead + (B, U)) > 0.3) / 0.7).astype(dtype)
    check_all(case, dropout_mask=dm, recurrent_dropout_mask=rm)
    check_all(case, dropout_mask=dm, recurrent_dropout_mask=rm, mask=case.mask(),
              go_backwards=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cell", CELLS)
def test_long_sequence_and_chunking(rng, path, cell, dtype, monkeypatch):
    case = Case(rng, cell, 3, 1500, 4, 5, dtype)
    mask = rng.uniform(size=(3, 1500)) > 0.1
    ref = case.forward(R, go_backwards=True, mask=mask)
    # a few timesteps per chunk
    monkeypatch.setattr(F, "CHUNK_BYTES", 3 * 5 * 8 * np.dtype(dtype).itemsize * 7)
    got = case.forward(F, go_backwards=True, mask=mask, return_sequences=False)
    close(got[0], ref[0][:, -1], dtype)
    for a, e in zip(got[1:], ref[1:]):
        close(a, e, dtype)
    got = case.forward(F, go_backwards=True, mask=mask)
    close(got[0], ref[0], dtype)


@pytest.mark.parametrize("cell", CELLS)
def test_chunks_with_per_gate_input_dropout(rng, path, cell, monkeypatch):
    """One input mask per gate: the projection is done outside the kernel, chunk by chunk."""
    B, T, D, U = 3, 50, 4, 5
    case = Case(rng, cell, B, T, D, U, np.float64)
    kw = dict(go_backwards=True, mask=case.mask(),
              dropout_mask=rng.uniform(0, 2, (case.G, B, D)),
              recurrent_dropout_mask=rng.uniform(0, 2, (case.G, B, U)))
    ref = case.forward(R, **kw)
    monkeypatch.setattr(F, "CHUNK_BYTES", B * U * 8 * 9 * 7)
    got = case.forward(F, return_sequences=False, **kw)
    close(got[0], ref[0][:, -1], np.float64)
    for a, e in zip(got[1:], ref[1:]):
        close(a, e, np.float64)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dropout", [None, "shared", "per_gate"])
def test_threads_and_consecutive_calls(rng, path, cell, dropout):
    """Batches large enough to split across two threads (B*T*gates*U*U > 2e6); repeated
    calls with one workspace (and a cache) give the same answers as fresh ones."""
    B, T, D, U = 8, 30, 16, 56
    case = Case(rng, cell, B, T, D, U, np.float64)
    kw = dict(mask=case.mask())
    if dropout:
        lead = (case.G,) if dropout == "per_gate" else ()
        kw.update(dropout_mask=rng.uniform(0.5, 1.5, lead + (B, D)),
                  recurrent_dropout_mask=rng.uniform(0.5, 1.5, lead + (B, U)))
    F.set_num_threads(2)
    try:
        ref = case.forward(R, **kw)
        d_seq, d_h, d_c = case.upstream()
        ref_g = case.backward(R, d_seq, d_h, d_c, **kw)
        ws = {}
        for _ in range(3):
            got = case.forward(F, return_cache=True, **kw)
            for a, e in zip(got[:-1], ref):
                close(a, e, np.float64)
            g = case.backward(F, d_seq, d_h, d_c, cache=got[-1], workspace=ws, **kw)
            for a, e in zip(g, ref_g):
                close(a, e, np.float64, 50)
        assert ws and all(isinstance(v, np.ndarray) for v in ws.values())
        # a different shape through the same workspace
        small = Case(rng, cell, 2, 3, 16, 48, np.float64)
        check_all(small)
    finally:
        F.set_num_threads(None)


@pytest.mark.parametrize("cell", CELLS)
def test_positions_order(rng, cell):
    case = Case(rng, cell, 2, 5, 3, 4, np.float32)
    seq = case.forward(F, go_backwards=True)[0]
    pos = case.forward(F, go_backwards=True, positions=True)[0]
    np.testing.assert_array_equal(pos, seq[:, ::-1])
    d_seq, d_h, d_c = case.upstream()
    a = case.backward(F, d_seq, d_h, d_c, go_backwards=True)
    b = case.backward(F, d_seq[:, ::-1], d_h, d_c, go_backwards=True, positions=True)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cell", CELLS)
def test_any_input_layout(rng, cell):
    case = Case(rng, cell, 3, 4, 5, 6, np.float32)
    ref = case.forward(R)
    x = case.x
    case.x = np.asfortranarray(x)
    case.x.setflags(write=False)
    case.W = case.W.copy()
    case.W.setflags(write=False)
    for a, e in zip(case.forward(F), ref):
        close(a, e, np.float32)
    case.x = x.astype(np.float64)  # converted to the weights' dtype
    assert case.forward(F)[0].dtype == np.float32


def test_bad_input_names_the_argument(rng):
    case = Case(rng, "lstm", 2, 3, 4, 5, np.float32)
    x, W, Rk, b, h0, c0 = case.x, case.W, case.Rk, case.b, case.h0, case.c0
    with pytest.raises(ValueError, match="`kernel`"):
        F.lstm_forward(x, W[:, :-1], Rk, b)
    with pytest.raises(ValueError, match="`recurrent_kernel`"):
        F.lstm_forward(x, W, Rk[:, :-4], b)
    with pytest.raises(ValueError, match="`bias`"):
        F.lstm_forward(x, W, Rk, b[:-1])
    with pytest.raises(ValueError, match="`initial_state`.*two arrays"):
        F.lstm_forward(x, W, Rk, b, [h0])
    with pytest.raises(ValueError, match=r"`initial_state\[1\]`"):
        F.lstm_forward(x, W, Rk, b, [h0, c0[:, :2]])
    with pytest.raises(ValueError, match="`recurrent_activation`"):
        F.lstm_forward(x, W, Rk, b, recurrent_activation="softmax")
    with pytest.raises(ValueError, match="`activation`"):
        F.lstm_forward(x, W, Rk, b, activation="gelu")
    with pytest.raises(ValueError, match="`recurrent_dropout_mask`"):
        F.lstm_forward(x, W, Rk, b, recurrent_dropout_mask=np.ones((3, 2, 5)))
    with pytest.raises(ValueError, match="`dropout_mask`"):
        F.lstm_forward(x, W, Rk, b, dropout_mask=np.ones((2, 3)))
    with pytest.raises(ValueError, match="`mask`"):
        F.lstm_forward(x, W, Rk, b, mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="`x`"):
        F.lstm_forward(x[0], W, Rk, b)
    with pytest.raises(ValueError, match="`cache`"):
        F.lstm_backward(None, h0, None, x, W, Rk, b, cache=("not", "a", "cache"))
    with pytest.raises(ValueError, match="`d_sequences`"):
        F.lstm_backward(np.ones((2, 3, 4)), None, None, x, W, Rk, b)
    g = Case(rng, "gru", 2, 3, 4, 5, np.float32)
    with pytest.raises(ValueError, match=r"`bias`.*\(2, 15\)"):
        F.gru_forward(g.x, g.W, g.Rk, g.b[0])
    with pytest.raises(ValueError, match=r"`bias`.*\(15,\)"):
        F.gru_forward(g.x, g.W, g.Rk, g.b, reset_after=False)
    with pytest.raises(ValueError, match="`kernel`"):
        F.gru_forward(g.x, W, Rk, None)
    with pytest.raises(ValueError, match="`initial_state`"):
        F.gru_forward(g.x, g.W, g.Rk, g.b, np.ones((3, 5)))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("flags", ["plain", "masked_backwards", "per_gate_dropout",
                                   "hard_sigmoid_relu"])
def test_reference_gradients_match_finite_differences(rng, cell, flags):
    """The oracle itself, against fourth-order central differences in float64."""
    case = Case(rng, cell, 2, 4, 3, 3, np.float64)
    kw = {}
    if flags == "masked_backwards":
        kw = dict(mask=np.array([[False, True, True, False], [True, False, True, True]]),
                  go_backwards=True)
    elif flags == "per_gate_dropout":
        kw = dict(dropout_mask=rng.uniform(0.5, 1.5, (case.G, 2, 3)),
                  recurrent_dropout_mask=rng.uniform(0.5, 1.5, (case.G, 2, 3)))
    elif flags == "hard_sigmoid_relu":
        kw = dict(recurrent_activation="hard_sigmoid", activation="relu")
    d_seq, d_h, d_c = case.upstream()

    def objective():
        out = case.forward(R, **kw)
        total = (out[0] * d_seq).sum() + (out[1] * d_h).sum()
        return total + ((out[2] * d_c).sum() if case.cell == "lstm" else 0)

    grads = case.backward(R, d_seq, d_h, d_c, **kw)
    arrays = [case.x, case.W, case.Rk, case.b, case.h0] + (
        [case.c0] if cell == "lstm" else [])
    for g, arr in zip(grads, arrays):
        np.testing.assert_allclose(g, numerical_gradient(objective, arr), rtol=1e-7,
                                   atol=1e-9)


def _keras_cases():
    import json
    import pathlib
    path = pathlib.Path(__file__).resolve().parent / "fixtures" / "gates_keras.npz"
    data = np.load(path)
    names = sorted({k.split("/")[0] for k in data.files if "/" in k})
    return [(n, json.loads(str(data[f"{n}/spec"])), {k.split("/", 1)[1]: data[k]
             for k in data.files if k.startswith(n + "/")}) for n in names]


KERAS_CASES = _keras_cases()


@pytest.mark.parametrize("name,spec,a", KERAS_CASES, ids=[c[0] for c in KERAS_CASES])
def test_matches_keras_values_and_gradients(path, name, spec, a):
    """Keras 3's own outputs and TensorFlow's gradients (tools/make_gates_fixtures.py)."""
    assert len(KERAS_CASES) == 18
    dtype = np.float64 if spec["dtype"] == "float64" else np.float32
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-12)
    kw = {k: spec[k] for k in ("go_backwards", "zero_output_for_mask", "activation",
                               "recurrent_activation") if k in spec}
    if spec.get("mask"):
        kw["mask"] = a["mask"]
    W, Rk, b = a["w0"], a["w1"], a["w2"]
    if spec["cell"] == "lstm":
        seq, h, c, cache = F.lstm_forward(a["x"], W, Rk, b, [a["h0"], a["c0"]],
                                          return_cache=True, **kw)
        g = F.lstm_backward(a["g_seq"], a["g_h"], a["g_c"], a["x"], W, Rk, b,
                            [a["h0"], a["c0"]], cache=cache, **kw)
        np.testing.assert_allclose(c, a["c"], **tol)
        np.testing.assert_allclose(g.initial_c, a["d_c0"], **tol)
    else:
        ra = spec["cell"] == "gru"
        seq, h, cache = F.gru_forward(a["x"], W, Rk, b, a["h0"], reset_after=ra,
                                      return_cache=True, **kw)
        g = F.gru_backward(a["g_seq"], a["g_h"], a["x"], W, Rk, b, a["h0"], reset_after=ra,
                           cache=cache, **kw)
    assert seq.dtype == dtype
    np.testing.assert_allclose(seq, a["seq"], **tol)
    np.testing.assert_allclose(h, a["h"], **tol)
    for got, key in zip(g[:4], ["d_x", "d_w0", "d_w1", "d_w2"]):
        np.testing.assert_allclose(got, a[key], err_msg=key, **tol)
    np.testing.assert_allclose(g[4], a["d_h0"], **tol)
