"""The compiled kernel (through fastrnn.functional) against the NumPy reference."""
import numpy as np
import pytest

from fastrnn import _kernel, functional as F, reference as R

from conftest import ATOL, RTOL

DTYPES = [np.float32, np.float64]
ACTS = ["tanh", "relu", "sigmoid", "linear"]
SHAPES = [(1, 1, 1, 1), (1, 5, 3, 4), (4, 1, 3, 2), (3, 7, 5, 1), (8, 2, 10, 3),
          (5, 9, 17, 33), (2, 3, 64, 96)]


@pytest.fixture(params=["microkernel", "blas"])
def path(request, monkeypatch):
    """Both products: the packed microkernel (where the CPU has AVX2/FMA) and SciPy's
    BLAS, which CPUs without it use."""
    if request.param == "blas":
        monkeypatch.setattr(F, "_PACKED", False)
    elif not _kernel.simd():
        pytest.skip("this CPU runs the BLAS path only")
    return request.param


def make(rng, B, T, D, H, dtype, scale=0.7):
    x = rng.uniform(-1, 1, (B, T, D)).astype(dtype)
    W = rng.uniform(-scale, scale, (D, H)).astype(dtype)
    U = rng.uniform(-scale, scale, (H, H)).astype(dtype) / np.sqrt(H).astype(dtype)
    b = rng.uniform(-0.5, 0.5, H).astype(dtype)
    h0 = rng.uniform(-1, 1, (B, H)).astype(dtype)
    return x, W, U, b, h0


def close(actual, expected, dtype):
    np.testing.assert_allclose(actual, expected, rtol=RTOL[dtype] * 10, atol=ATOL[dtype] * 10)


def test_compiled_module_is_in_use():
    assert _kernel.compiled()
    assert _kernel.__file__.endswith((".so", ".pyd"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("act", ACTS)
def test_forward_matches_reference(rng, path, dtype, shape, act):
    x, W, U, b, h0 = make(rng, *shape, dtype)
    seq, last = F.simple_rnn_forward(x, W, U, b, h0, act)
    ref_seq, ref_last = R.simple_rnn_forward(x, W, U, b, h0, act)
    assert seq.dtype == dtype and seq.shape == ref_seq.shape
    close(seq, ref_seq, dtype)
    close(last, ref_last, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("use_bias", [False, True])
@pytest.mark.parametrize("use_h0", [False, True])
def test_forward_flags(rng, path, dtype, go_backwards, use_mask, zero_output, use_bias, use_h0):
    B, T, D, H = 4, 6, 5, 7
    x, W, U, b, h0 = make(rng, B, T, D, H, dtype)
    b = b if use_bias else None
    h0 = h0 if use_h0 else None
    mask = None
    if use_mask:
        mask = rng.uniform(size=(B, T)) > 0.4
        mask[0, 0] = False  # first step masked
        mask[1, -1] = False  # last step masked
        mask[2, :] = False  # a fully masked row
    kw = dict(zero_output_for_mask=zero_output)
    seq, last = F.simple_rnn_forward(x, W, U, b, h0, "tanh", go_backwards, mask, **kw)
    ref_seq, ref_last = R.simple_rnn_forward(x, W, U, b, h0, "tanh", go_backwards, mask,
                                             zero_output)
    close(seq, ref_seq, dtype)
    close(last, ref_last, dtype)
    out, last2 = F.simple_rnn_forward(x, W, U, b, h0, "tanh", go_backwards, mask,
                                      return_sequences=False, **kw)
    close(out, ref_seq[:, -1], dtype)
    close(last2, ref_last, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_long_sequence_and_chunking(rng, path, dtype, monkeypatch):
    B, T, D, H = 3, 3000, 4, 8
    x, W, U, b, h0 = make(rng, B, T, D, H, dtype)
    mask = rng.uniform(size=(B, T)) > 0.1
    ref_seq, ref_last = R.simple_rnn_forward(x, W, U, b, h0, "tanh", True, mask)
    # force many chunks: a few timesteps' worth of output per chunk
    monkeypatch.setattr(F, "CHUNK_BYTES", B * H * np.dtype(dtype).itemsize * 7)
    out, last = F.simple_rnn_forward(x, W, U, b, h0, "tanh", True, mask,
                                     return_sequences=False)
    close(out, ref_seq[:, -1], dtype)
    close(last, ref_last, dtype)
    seq, last = F.simple_rnn_forward(x, W, U, b, h0, "tanh", True, mask)
    close(seq, ref_seq, dtype)


@pytest.mark.parametrize("layout", ["fortran", "strided", "readonly", "int", "float16",
                                    "list", "bool"])
def test_any_input_layout_is_converted(rng, layout):
    x, W, U, b, h0 = make(rng, 3, 5, 4, 6, np.float32)
    if layout == "fortran":
        xin = np.asfortranarray(x)
    elif layout == "strided":
        big = np.zeros((6, 10, 8), np.float32)
        big[::2, ::2, ::2] = x
        xin = big[::2, ::2, ::2]
    elif layout == "readonly":
        xin = x.copy()
        xin.setflags(write=False)
        W = W.copy()
        W.setflags(write=False)
    elif layout == "int":
        x = rng.integers(-2, 3, x.shape)
        xin = x
    elif layout == "float16":
        xin = x.astype(np.float16)
        x = xin.astype(np.float32)
    elif layout == "list":
        xin = x.tolist()
    else:
        x = rng.uniform(size=x.shape) > 0.5
        xin = x
    seq, last = F.simple_rnn_forward(xin, W, U, b, h0)
    ref_seq, _ = R.simple_rnn_forward(np.asarray(x, np.float32), W, U, b, h0)
    close(seq, ref_seq, np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_mask", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_backward_matches_reference(rng, path, dtype, act, go_backwards, use_mask, zero_output):
    B, T, D, H = 3, 6, 5, 4
    x, W, U, b, h0 = make(rng, B, T, D, H, dtype)
    mask = None
    if use_mask:
        mask = rng.uniform(size=(B, T)) > 0.4
        mask[0, 0] = False
        mask[1, -1] = False
    kw = dict(zero_output_for_mask=zero_output)
    seq, _ = F.simple_rnn_forward(x, W, U, b, h0, act, go_backwards, mask, **kw)
    dY = rng.normal(size=seq.shape).astype(dtype)
    dL = rng.normal(size=(B, H)).astype(dtype)
    got = F.simple_rnn_backward(dY, dL, x, W, U, seq, h0, act, go_backwards, mask, **kw)
    ref = R.simple_rnn_backward(dY, dL, x, W, U, h0, b, act, go_backwards, mask, zero_output)
    for name, a, e in zip(got._fields, got, ref):
        np.testing.assert_allclose(a, e, rtol=RTOL[dtype] * 50, atol=ATOL[dtype] * 50,
                                   err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d_seq,d_last", [(True, False), (False, True), (True, True)])
def test_backward_either_upstream_gradient(rng, dtype, d_seq, d_last):
    B, T, D, H = 2, 5, 3, 4
    x, W, U, b, h0 = make(rng, B, T, D, H, dtype)
    seq, _ = F.simple_rnn_forward(x, W, U, b, None)
    dY = rng.normal(size=seq.shape).astype(dtype) if d_seq else None
    dL = rng.normal(size=(B, H)).astype(dtype) if d_last else None
    got = F.simple_rnn_backward(dY, dL, x, W, U, seq)
    ref = R.simple_rnn_backward(dY, dL, x, W, U, None, b)
    for a, e in zip(got, ref):
        np.testing.assert_allclose(a, e, rtol=RTOL[dtype] * 50, atol=ATOL[dtype] * 50)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_masks_match_reference(rng, path, dtype):
    B, T, D, H = 3, 5, 4, 6
    x, W, U, b, h0 = make(rng, B, T, D, H, dtype)
    dm = ((rng.uniform(size=(B, D)) > 0.3) / 0.7).astype(dtype)
    rm = ((rng.uniform(size=(B, H)) > 0.3) / 0.7).astype(dtype)
    kw = dict(dropout_mask=dm, recurrent_dropout_mask=rm)
    seq, last = F.simple_rnn_forward(x, W, U, b, h0, **kw)
    ref_seq, ref_last = R.simple_rnn_forward(x, W, U, b, h0, **kw)
    close(seq, ref_seq, dtype)
    dY = rng.normal(size=seq.shape).astype(dtype)
    got = F.simple_rnn_backward(dY, None, x, W, U, seq, h0, **kw)
    ref = R.simple_rnn_backward(dY, None, x, W, U, h0, b, **kw)
    for a, e in zip(got, ref):
        np.testing.assert_allclose(a, e, rtol=RTOL[dtype] * 50, atol=ATOL[dtype] * 50)


def test_reference_gradients_match_finite_differences(rng):
    """The oracle itself, against fourth-order central differences in float64."""
    B, T, D, H = 2, 5, 3, 4
    x, W, U, b, h0 = make(rng, B, T, D, H, np.float64)
    mask = np.array([[False, True, True, False, True], [True, True, False, True, False]])
    dY = rng.normal(size=(B, T, H))
    dL = rng.normal(size=(B, H))
    args = [x, W, U, b, h0]

    def objective(*a):
        s, h = R.simple_rnn_forward(a[0], a[1], a[2], a[3], a[4], "tanh", True, mask)
        return (s * dY).sum() + (h * dL).sum()

    grads = R.simple_rnn_backward(dY, dL, x, W, U, h0, b, "tanh", True, mask)
    for i, g in enumerate(grads):
        num = numerical_gradient(objective, args, i)
        np.testing.assert_allclose(g, num, rtol=1e-7, atol=1e-9)


def numerical_gradient(f, args, i, eps=1e-4):
    """d f / d args[i] by fourth-order central differences."""
    base = args[i]
    grad = np.zeros_like(base)
    for idx in np.ndindex(base.shape):
        vals = []
        for k in (2, 1, -1, -2):
            moved = base.copy()
            moved[idx] += k * eps
            vals.append(f(*(args[:i] + [moved] + args[i + 1:])))
        grad[idx] = (-vals[0] + 8 * vals[1] - 8 * vals[2] + vals[3]) / (12 * eps)
    return grad


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad,match", [
    (dict(x=np.zeros((2, 3))), "`x` must be a 3-D array"),
    (dict(x=np.zeros((2, 0, 4))), "at least one timestep"),
    (dict(kernel=np.zeros((5, 6))), "`kernel` must have shape \\(4, units\\)"),
    (dict(recurrent_kernel=np.zeros((6, 5))), "`recurrent_kernel` must have shape \\(6, 6\\)"),
    (dict(bias=np.zeros(5)), "`bias` must have shape \\(6,\\)"),
    (dict(initial_state=np.zeros((3, 6))), "`initial_state` must have shape \\(2, 6\\)"),
    (dict(mask=np.ones((2, 4), bool)), "`mask` must have shape \\(2, 3\\)"),
    (dict(activation="softplus"), "`activation`"),
])
def test_forward_rejects_bad_arguments(bad, match):
    args = dict(x=np.zeros((2, 3, 4)), kernel=np.zeros((4, 6)),
                recurrent_kernel=np.zeros((6, 6)), bias=np.zeros(6))
    args.update(bad)
    with pytest.raises(ValueError, match=match):
        F.simple_rnn_forward(**args)


def test_forward_rejects_non_numeric():
    with pytest.raises(TypeError, match="`x`"):
        F.simple_rnn_forward(np.array([[["a"]]]), np.zeros((1, 1)), np.zeros((1, 1)))
    with pytest.raises(TypeError, match="`kernel`"):
        F.simple_rnn_forward(np.zeros((1, 1, 1)), np.array([["a"]]), np.zeros((1, 1)))


def test_backward_rejects_mismatched_sequences():
    x = np.zeros((2, 3, 4), np.float32)
    W, U = np.zeros((4, 5), np.float32), np.zeros((5, 5), np.float32)
    with pytest.raises(ValueError, match="`sequences` must have shape"):
        F.simple_rnn_backward(None, None, x, W, U, np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="`d_sequences` must have shape"):
        F.simple_rnn_backward(np.zeros((2, 2, 5)), None, x, W, U, np.zeros((2, 3, 5)))


def test_non_finite_inputs_do_not_crash():
    x = np.full((2, 3, 4), np.nan, np.float32)
    x[0] = np.inf
    seq, _ = F.simple_rnn_forward(x, np.ones((4, 5), np.float32), np.ones((5, 5), np.float32))
    assert seq.shape == (2, 3, 5)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
def test_threaded_batch_split_matches_reference(rng, path, threads, dtype):
    """Big enough to take the multi-threaded path; 5 rows split unevenly over 2 or 3."""
    import fastrnn
    B, T, D, H = 5, 40, 48, 128  # above the kernel's PARALLEL_MIN_WORK
    x, W, U, b, h0 = make(rng, B, T, D, H, dtype)
    mask = rng.uniform(size=(B, T)) > 0.2
    rm = ((rng.uniform(size=(B, H)) > 0.3) / 0.7).astype(dtype)
    fastrnn.set_num_threads(threads)
    try:
        for kw in (dict(), dict(mask=mask, go_backwards=True, recurrent_dropout_mask=rm)):
            seq, last = F.simple_rnn_forward(x, W, U, b, h0, **kw)
            ref_seq, ref_last = R.simple_rnn_forward(x, W, U, b, h0, **kw)
            np.testing.assert_allclose(seq, ref_seq, rtol=RTOL[dtype] * 50,
                                       atol=ATOL[dtype] * 50)
            np.testing.assert_allclose(last, ref_last, rtol=RTOL[dtype] * 50,
                                       atol=ATOL[dtype] * 50)
            dY = rng.normal(size=seq.shape).astype(dtype)
            got = F.simple_rnn_backward(dY, None, x, W, U, seq, h0, **kw)
            ref = R.simple_rnn_backward(dY, None, x, W, U, h0, b, **kw)
            for a, e in zip(got, ref):
                np.testing.assert_allclose(a, e, rtol=RTOL[dtype] * 500, atol=ATOL[dtype] * 500)
        plan = F.compile_forward(W, U, b)
        lean_seq, _ = plan(np.ascontiguousarray(x), threads)
        ref_seq, _ = R.simple_rnn_forward(x, W, U, b)
        np.testing.assert_allclose(lean_seq, ref_seq, rtol=RTOL[dtype] * 50,
                                   atol=ATOL[dtype] * 50)
    finally:
        fastrnn.set_num_threads(None)


def test_lean_plan_declines_what_it_cannot_do(rng):
    x, W, U, b, h0 = make(rng, 2, 3, 4, 5, np.float32)
    plan = F.compile_forward(W, U, b)
    assert plan(x.astype(np.float64), 1) is None          # dtype differs
    assert plan(np.asfortranarray(x), 1) is None          # not C-contiguous
    assert plan(x[:, :, :3].copy(), 1) is None            # features differ
    assert plan(x.tolist(), 1) is None                    # not an array
    assert plan(x, 1, max_bytes=10) is None               # output too large
    seq, last = plan(x, 1)
    np.testing.assert_array_equal(seq[:, -1], last)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(3, 100, 7, 100), (2, 150, 300, 20), (7, 41, 5, 9)])
def test_backward_blocking_edges(rng, path, dtype, shape):
    """Merged products deeper than one k-block (B*T > 256 rows), with A blocks of
    more than one row-block and tiles left over."""
    x, W, U, b, h0 = make(rng, *shape, dtype)
    seq, _ = F.simple_rnn_forward(x, W, U, b, h0)
    dY = rng.normal(size=seq.shape).astype(dtype)
    got = F.simple_rnn_backward(dY, None, x, W, U, seq, h0)
    ref = R.simple_rnn_backward(dY, None, x, W, U, h0, b)
    for name, a, e in zip(got._fields, got, ref):
        np.testing.assert_allclose(a, e, rtol=RTOL[dtype] * 500, atol=ATOL[dtype] * 500,
                                   err_msg=name)


@pytest.mark.parametrize("dtype,act,tol", [
    (np.float64, "tanh", 4e-16), (np.float64, "sigmoid", 4e-16),
    (np.float32, "tanh", 4e-7), (np.float32, "sigmoid", 4e-7)])
def test_vectorised_activations_are_accurate(dtype, act, tol):
    """A one-unit layer with kernel 1 and no recurrence returns act(x) itself."""
    x = np.concatenate([np.linspace(-30, 30, 100001), np.logspace(-30, 1.5, 3000),
                        -np.logspace(-30, 1.5, 3000), [0.0, 0.625, -0.625, 22.0, 1e-300]])
    x = x.astype(dtype)
    seq, _ = F.simple_rnn_forward(x.reshape(-1, 1, 1), np.ones((1, 1), dtype),
                                  np.zeros((1, 1), dtype), activation=act)
    exact = R._ACT[act](x.astype(np.float64))
    err = np.abs(seq.ravel() - exact) / np.maximum(np.abs(exact), 1.0 if act == "sigmoid"
                                                   else np.finfo(dtype).tiny)
    # float32 tanh is relative near 0 and absolute near +-1
    if dtype == np.float32 and act == "tanh":
        err = np.minimum(err, np.abs(seq.ravel() - exact))
    assert err.max() <= tol, (x[err.argmax()], err.max())


def test_backward_workspace_reuse_gives_the_same_gradients(rng, path):
    workspace = {}
    for shape in [(3, 6, 4, 5), (3, 6, 4, 5), (2, 9, 4, 5), (3, 6, 4, 5)]:
        x, W, U, b, h0 = make(rng, *shape, np.float64)
        seq, _ = F.simple_rnn_forward(x, W, U, b, h0)
        dY = rng.normal(size=seq.shape)
        fresh = F.simple_rnn_backward(dY, None, x, W, U, seq, h0)
        reused = F.simple_rnn_backward(dY, None, x, W, U, seq, h0, workspace=workspace)
        for a, e in zip(reused, fresh):
            np.testing.assert_array_equal(a, e)
    assert "d_pre" in workspace and workspace["d_pre"].shape == (3, 6, 5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("H", [8, 16, 32, 48])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_h0", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_backward_reading_states_in_place(rng, path, dtype, H, go_backwards, use_h0, threads):
    """Without mask or recurrent dropout and whole panels of units, the merged products
    read each step's previous state from the outputs in place (rnn_backward_merge_shifted,
    sequence by sequence, blocks of rows starting mid-sequence with 2 threads). Against
    the reference, and against the same call with an all-true mask (the h_prev copy)."""
    import fastrnn
    B, T, D = 9, 37, 5
    x, W, U, b, h0 = make(rng, B, T, D, H, dtype)
    h0 = h0 if use_h0 else None
    kw = dict(go_backwards=go_backwards)
    fastrnn.set_num_threads(threads)
    old = _kernel.parallel_min_work(0)
    try:
        for _ in range(2):
            seq, _ = F.simple_rnn_forward(x, W, U, b, h0, **kw)
            dY = rng.normal(size=seq.shape).astype(dtype)
            dL = rng.normal(size=(B, H)).astype(dtype)
            got = F.simple_rnn_backward(dY, dL, x, W, U, seq, h0, **kw)
            ref = R.simple_rnn_backward(dY, dL, x, W, U, h0, b, **kw)
            copied = F.simple_rnn_backward(dY, dL, x, W, U, seq, h0,
                                           mask=np.ones((B, T), bool), **kw)
            for name, a, e, c in zip(got._fields, got, ref, copied):
                np.testing.assert_allclose(a, e, rtol=RTOL[dtype] * 50,
                                           atol=ATOL[dtype] * 50, err_msg=name)
                np.testing.assert_allclose(a, c, rtol=RTOL[dtype] * 10,
                                           atol=ATOL[dtype] * 10, err_msg=name)
    finally:
        _kernel.parallel_min_work(old)
        fastrnn.set_num_threads(None)
