"""Issue 11 at the functional and kernel level: byte order and odd layouts at every
entry, batch 0, non-finite values, ragged lists, the 32-bit size limits and
interruptible long calls. Each kind is tested over every entry point and flag."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fastrnn import _kernel, functional as F, reference as R

DTYPES = [np.float32, np.float64]
ACTS = ["tanh", "relu", "sigmoid", "linear"]
SWAP = {np.float32: ">f4", np.float64: ">f8"}
if sys.byteorder == "big":  # the non-native order is little-endian there
    SWAP = {np.float32: "<f4", np.float64: "<f8"}


def unaligned(a):
    """A copy of a whose data sits one byte off its dtype's alignment."""
    buf = np.zeros(a.nbytes + 1, np.uint8)
    out = np.frombuffer(buf.data, a.dtype, a.size, offset=1).reshape(a.shape)
    out[...] = a
    assert not out.flags.aligned
    return out


def problem(rng, dtype, B=3, T=4, D=2, H=5):
    return dict(
        x=rng.uniform(-1, 1, (B, T, D)).astype(dtype),
        kernel=rng.uniform(-0.8, 0.8, (D, H)).astype(dtype),
        recurrent_kernel=(rng.uniform(-0.5, 0.5, (H, H)) / np.sqrt(H)).astype(dtype),
        bias=rng.uniform(-0.3, 0.3, H).astype(dtype),
        initial_state=rng.uniform(-1, 1, (B, H)).astype(dtype),
        mask=rng.uniform(size=(B, T)) > 0.3,
        dropout_mask=((rng.uniform(size=(B, D)) > 0.3) / 0.7).astype(dtype),
        recurrent_dropout_mask=((rng.uniform(size=(B, H)) > 0.3) / 0.7).astype(dtype),
    )


FORWARD_ARRAYS = ["x", "kernel", "recurrent_kernel", "bias", "initial_state",
                  "dropout_mask", "recurrent_dropout_mask"]
BACKWARD_ARRAYS = ["d_sequences", "d_last_state", "x", "kernel", "recurrent_kernel",
                   "sequences", "initial_state", "dropout_mask", "recurrent_dropout_mask"]


def backward_args(p, seq, rng):
    a = {k: v for k, v in p.items() if k != "bias"}
    a.update(sequences=seq, d_sequences=rng.normal(size=seq.shape).astype(seq.dtype),
             d_last_state=rng.normal(size=p["initial_state"].shape).astype(seq.dtype))
    return a


def backward(a, **kw):
    return F.simple_rnn_backward(a["d_sequences"], a["d_last_state"], a["x"], a["kernel"],
                                 a["recurrent_kernel"], a["sequences"],
                                 **{k: v for k, v in a.items() if k not in (
                                     "d_sequences", "d_last_state", "x", "kernel",
                                     "recurrent_kernel", "sequences")}, **kw)


# ------------------------------------------------------------ byte order and alignment

@pytest.mark.parametrize("odd", ["swapped", "unaligned"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_forward_converts_every_argument(rng, odd, dtype, go_backwards, return_sequences):
    p = problem(rng, dtype)
    kw = dict(go_backwards=go_backwards, return_sequences=return_sequences)
    expected = F.simple_rnn_forward(**p, **kw)
    make = (lambda a: a.astype(SWAP[dtype])) if odd == "swapped" else unaligned
    for name in FORWARD_ARRAYS:
        q = dict(p, **{name: make(p[name])})
        for _ in range(3):  # consecutive calls
            got = F.simple_rnn_forward(**q, **kw)
            for g, e in zip(got, expected):
                assert g.dtype == np.dtype(dtype) and g.dtype.isnative, name
                np.testing.assert_array_equal(g, e, err_msg=name)


@pytest.mark.parametrize("odd", ["swapped", "unaligned"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("go_backwards", [False, True])
def test_backward_converts_every_argument(rng, odd, dtype, go_backwards):
    p = problem(rng, dtype)
    seq, _ = F.simple_rnn_forward(**p, go_backwards=go_backwards)
    a = backward_args(p, seq, rng)
    expected = backward(a, go_backwards=go_backwards)
    make = (lambda v: v.astype(SWAP[dtype])) if odd == "swapped" else unaligned
    for name in BACKWARD_ARRAYS:
        q = dict(a, **{name: make(a[name])})
        for _ in range(2):
            got = backward(q, go_backwards=go_backwards)
            for field, g, e in zip(got._fields, got, expected):
                assert g.dtype == np.dtype(dtype) and g.dtype.isnative
                np.testing.assert_array_equal(g, e, err_msg=f"{name} -> {field}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_bias", [False, True])
def test_lean_plan_never_reads_swapped_or_unaligned_bytes(rng, dtype, act, go_backwards,
                                                          use_bias):
    p = problem(rng, dtype)
    bias = p["bias"] if use_bias else None
    general = F.simple_rnn_forward(p["x"], p["kernel"], p["recurrent_kernel"], bias,
                                   activation=act, go_backwards=go_backwards, positions=True)
    # swapped weights: the plan holds native copies and computes the same thing
    for weights in [(p["kernel"], p["recurrent_kernel"], bias),
                    tuple(None if w is None else w.astype(SWAP[dtype])
                          for w in (p["kernel"], p["recurrent_kernel"], bias))]:
        plan = F.compile_forward(*weights, activation=act, go_backwards=go_backwards)
        for _ in range(3):
            assert plan(p["x"].astype(SWAP[dtype]), 1) is None
            assert plan(unaligned(p["x"]), 1) is None
            out = np.empty((3, 4, 5), SWAP[dtype])
            assert plan(p["x"], 1, out=out) is None
            seq, last = plan(p["x"], 1)
            np.testing.assert_array_equal(seq, general[0])
            np.testing.assert_array_equal(last, general[1])
            # what the caller falls back to gives the same for the swapped input
            seq2, _ = F.simple_rnn_forward(p["x"].astype(SWAP[dtype]), *weights,
                                           activation=act, go_backwards=go_backwards,
                                           positions=True)
            np.testing.assert_array_equal(seq2, general[0])


def test_swapped_float64_kernel_keeps_float64():
    """'>f8' weights are float64 (the dtype compares unequal to np.float64)."""
    x = np.array([[[1.0], [2.0]]], ">f8")
    w = np.ones((1, 1), ">f8")
    seq, last = F.simple_rnn_forward(x, w, w)
    assert seq.dtype == np.float64
    np.testing.assert_allclose(seq.ravel(), np.tanh([1.0, 2.0 + np.tanh(1.0)]), rtol=1e-15)
    assert F.compile_forward(w, w)(np.ascontiguousarray(x, np.float64), 1)[0].dtype == np.float64


# ------------------------------------------------------------------------- batch 0

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("flags", [dict(), dict(go_backwards=True), dict(mask=True),
                                   dict(zero_output_for_mask=True, mask=True),
                                   dict(initial_state=True), dict(dropout=True)])
def test_batch_zero_gives_zero_weight_gradients(rng, dtype, act, flags):
    D, H = 2, 3
    W = rng.normal(size=(D, H)).astype(dtype)
    U = rng.normal(size=(H, H)).astype(dtype)
    kw = {k: v for k, v in flags.items() if k in ("go_backwards", "zero_output_for_mask")}
    if flags.get("mask"):
        kw["mask"] = np.zeros((0, 4), bool)
    if flags.get("initial_state"):
        kw["initial_state"] = np.zeros((0, H), dtype)
    if flags.get("dropout"):
        kw.update(dropout_mask=np.ones((0, D), dtype), recurrent_dropout_mask=np.ones((0, H)))
    x = np.zeros((0, 4, D), dtype)
    for threads in (1, 2):
        F.set_num_threads(threads)
        try:
            for _ in range(3):  # fresh np.empty outputs each call
                seq, last = F.simple_rnn_forward(x, W, U, np.ones(H, dtype), activation=act,
                                                 **kw)
                assert seq.shape == (0, 4, H) and last.shape == (0, H)
                g = F.simple_rnn_backward(np.ones((0, 4, H)), np.ones((0, H)), x, W, U, seq,
                                          activation=act, **kw)
                assert g.x.shape == (0, 4, D) and g.initial_state.shape == (0, H)
                for name in ("kernel", "recurrent_kernel", "bias"):
                    arr = getattr(g, name)
                    assert arr.dtype == dtype
                    np.testing.assert_array_equal(arr, 0, err_msg=name)
        finally:
            F.set_num_threads(None)


def test_batch_zero_matches_reference(rng):
    x = np.zeros((0, 3, 2))
    W, U = rng.normal(size=(2, 4)), rng.normal(size=(4, 4))
    got = F.simple_rnn_backward(np.zeros((0, 3, 4)), None, x, W, U, np.zeros((0, 3, 4)))
    ref = R.simple_rnn_backward(np.zeros((0, 3, 4)), None, x, W, U)
    for g, e in zip(got, ref):
        np.testing.assert_array_equal(g, e)


# ---------------------------------------------------------------- non-finite values

def nonfinite_case(dtype, value, act):
    x = np.array([[[value], [1.0], [0.5]], [[0.2], [value], [-1.0]]], dtype)
    one = np.ones((1, 1), dtype)
    return x, one, one


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("path", ["microkernel", "blas"])
def test_non_finite_values_propagate_as_numpy(dtype, act, value, go_backwards, path,
                                              monkeypatch):
    if path == "blas":
        monkeypatch.setattr(F, "_PACKED", False)
    x, W, U = nonfinite_case(dtype, value, act)
    with np.errstate(all="ignore"):
        ref_seq, ref_last = R.simple_rnn_forward(x, W, U, None, None, act, go_backwards)
        dY = np.ones_like(ref_seq)
        ref = R.simple_rnn_backward(dY, None, x, W, U, None, None, act, go_backwards)
    for rs in (True, False):
        seq, last = F.simple_rnn_forward(x, W, U, activation=act, go_backwards=go_backwards,
                                         return_sequences=rs)
        expected = ref_seq if rs else ref_seq[:, -1]
        np.testing.assert_array_equal(np.isnan(seq), np.isnan(expected))
        np.testing.assert_allclose(seq, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(last, ref_last, rtol=1e-5, atol=1e-6)
    plan = F.compile_forward(W, U, activation=act, go_backwards=go_backwards)
    lean, _ = plan(x, 1)
    np.testing.assert_allclose(lean[:, ::-1] if go_backwards else lean, ref_seq,
                               rtol=1e-5, atol=1e-6)
    got = F.simple_rnn_backward(dY, None, x, W, U, ref_seq.astype(dtype), activation=act,
                                go_backwards=go_backwards)
    for name, g, e in zip(got._fields, got, ref):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(e), err_msg=name)
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", ACTS)
def test_activations_match_numpy_on_special_values(dtype, act):
    """The vectorised activations alone, on NaN, +-inf, +-0 and huge values."""
    v = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 3.0, -3.0], dtype)
    x = v.reshape(-1, 1, 1)  # one row each: one step, no recurrence
    one = np.ones((1, 1), dtype)
    zero = np.zeros((1, 1), dtype)
    seq, _ = F.simple_rnn_forward(x, one, zero, activation=act)
    with np.errstate(all="ignore"):
        expected = {"tanh": np.tanh, "relu": lambda a: np.maximum(a, 0),
                    "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "linear": lambda a: a}[act](v)
    np.testing.assert_array_equal(np.isnan(seq.ravel()), np.isnan(expected))
    np.testing.assert_allclose(seq.ravel(), expected, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ ragged arguments

RAGGED = [[[1.0], [2.0]], [[1.0]]]


@pytest.mark.parametrize("name", FORWARD_ARRAYS + ["mask"])
def test_ragged_forward_argument_is_named(rng, name):
    p = problem(rng, np.float32)
    p[name] = RAGGED
    with pytest.raises(TypeError, match=f"`{name}`.*ragged"):
        F.simple_rnn_forward(**p)


@pytest.mark.parametrize("name", BACKWARD_ARRAYS + ["mask"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_ragged_backward_argument_is_named(rng, name, go_backwards):
    p = problem(rng, np.float32)
    seq, _ = F.simple_rnn_forward(**p, go_backwards=go_backwards)
    a = backward_args(p, seq, rng)
    a[name] = RAGGED
    with pytest.raises(TypeError, match=f"`{name}`.*ragged"):
        backward(a, go_backwards=go_backwards)


@pytest.mark.parametrize("name", ["kernel", "recurrent_kernel", "bias"])
def test_ragged_compile_forward_argument_is_named(rng, name):
    p = problem(rng, np.float32)
    w = dict(kernel=p["kernel"], recurrent_kernel=p["recurrent_kernel"], bias=p["bias"])
    w[name] = RAGGED
    with pytest.raises(TypeError, match=f"`{name}`.*ragged"):
        F.compile_forward(**w)


# ------------------------------------------------------------ 32-bit size limits

def test_size_check_accepts_what_runs_chunked():
    big = 2**31 + 5
    item = 4
    # batch 1, timesteps*features past 2**31, last output only: chunks of CHUNK_BYTES
    chunk = F._time_chunk(1, big, 1, 4, item, return_sequences=False)
    assert chunk < big
    F._check_sizes(1, big, 1, 4, chunk)
    F._check_sizes(1, 2**20, 2**12, 4, F._time_chunk(1, 2**20, 2**12, 4, item, False))
    # the same with the whole sequence in one call is refused, naming `x`
    with pytest.raises(ValueError, match="`x`.*2\\*\\*31"):
        F._check_sizes(1, big, 1, 4, F._time_chunk(1, big, 1, 4, item, True))
    with pytest.raises(ValueError, match="`x`"):
        F._check_sizes(1, 2**20, 2**12, 4)
    # batch*timesteps rows, and batch*units
    with pytest.raises(ValueError, match="`x`"):
        F._check_sizes(2**16, 2**16, 1, 1)
    with pytest.raises(ValueError, match="`x`"):
        F._check_sizes(2**21, 1, 1, 2**11)
    F._check_sizes(2**20, 2**10, 1, 2**10)


def test_huge_inputs_are_refused_before_allocating():
    """A broadcast view of 2**31 timesteps costs no memory; the full-sequence forward
    and the backward refuse it with a clear error before allocating anything."""
    x = np.broadcast_to(np.zeros((1, 1, 1), np.float32), (1, 2**31 + 1, 1))
    w = np.zeros((1, 4), np.float32)
    u = np.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match="`x`"):
        F.simple_rnn_forward(x, w, u)
    with pytest.raises(ValueError, match="`x`"):
        F.simple_rnn_backward(None, np.zeros((1, 4)), x, w, u, x)
    plan = F.compile_forward(w, u)
    assert plan(np.zeros((1, 1, 1), np.float32), 1) is not None
    assert plan(x, 1) is None  # not C-contiguous: the caller takes the general path


def test_chunked_forward_handles_long_batch_one(rng, monkeypatch):
    """The chunked path that makes batch 1 with T*features past 2**31 possible,
    exercised with a tiny CHUNK_BYTES."""
    p = problem(rng, np.float64, B=1, T=50, D=3, H=2)
    monkeypatch.setattr(F, "CHUNK_BYTES", 3 * 2 * 8)
    for gb in (False, True):
        out, last = F.simple_rnn_forward(p["x"], p["kernel"], p["recurrent_kernel"],
                                         go_backwards=gb, return_sequences=False)
        ref, ref_last = R.simple_rnn_forward(p["x"], p["kernel"], p["recurrent_kernel"],
                                             go_backwards=gb)
        np.testing.assert_allclose(out, ref[:, -1], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(last, ref_last, rtol=1e-12, atol=1e-13)


# -------------------------------------------------- chunked kernel calls, Ctrl-C

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("packed", [True, False])
def test_signal_check_chunks_do_not_change_results(rng, dtype, threads, packed, monkeypatch):
    """Tiny chunks between signal checks (every row / step) give the same results as
    one chunk, on every path: projection, steps, h_prev, merged products, lean plan."""
    if packed and not _kernel.simd():
        pytest.skip("no microkernel on this CPU")
    monkeypatch.setattr(F, "_PACKED", packed)
    p = problem(rng, dtype, B=6, T=30, D=40, H=96)  # above PARALLEL_MIN_WORK
    seq0, last0 = F.simple_rnn_forward(**p)
    dY = rng.normal(size=seq0.shape).astype(dtype)
    g0 = F.simple_rnn_backward(dY, None, p["x"], p["kernel"], p["recurrent_kernel"], seq0,
                               p["initial_state"], mask=p["mask"],
                               dropout_mask=p["dropout_mask"],
                               recurrent_dropout_mask=p["recurrent_dropout_mask"])
    plan = F.compile_forward(p["kernel"], p["recurrent_kernel"], p["bias"])
    lean0 = plan(p["x"], threads)[0]
    F.set_num_threads(threads)
    old = _kernel.check_work(1)
    try:
        for _ in range(2):
            seq, last = F.simple_rnn_forward(**p)
            np.testing.assert_allclose(seq, seq0, rtol=1e-5, atol=1e-6)
            g = F.simple_rnn_backward(dY, None, p["x"], p["kernel"], p["recurrent_kernel"],
                                      seq, p["initial_state"], mask=p["mask"],
                                      dropout_mask=p["dropout_mask"],
                                      recurrent_dropout_mask=p["recurrent_dropout_mask"])
            for name, a, e in zip(g._fields, g, g0):
                np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5, err_msg=name)
            np.testing.assert_allclose(plan(p["x"], threads)[0], lean0, rtol=1e-5, atol=1e-6)
    finally:
        _kernel.check_work(old)
        F.set_num_threads(None)


CTRL_C = textwrap.dedent("""
    import os, signal, sys, threading, time
    import numpy as np
    from fastrnn import functional as F, reference as R

    entry, threads = sys.argv[1], int(sys.argv[2])
    F.set_num_threads(threads)
    rng = np.random.default_rng(0)
    B = 2 if threads > 1 else 1
    T, D, H = 10000 // B, 8, 1024
    x = rng.uniform(-1, 1, (B, T, D)).astype(np.float32)
    W = rng.uniform(-.1, .1, (D, H)).astype(np.float32)
    U = rng.uniform(-.03, .03, (H, H)).astype(np.float32)
    plan = F.compile_forward(W, U)
    seq = F.simple_rnn_forward(x[:, :2], W, U)[0]

    def call(x):
        B, T = x.shape[:2]
        if entry == "forward":
            F.simple_rnn_forward(x, W, U)
        elif entry == "last":
            F.simple_rnn_forward(x, W, U, return_sequences=False)
        elif entry == "lean":
            plan(x, threads)
        else:
            F.simple_rnn_backward(np.ones((B, T, H), np.float32), None, x, W, U,
                                  np.full((B, T, H), 0.5, np.float32))

    t0 = time.perf_counter()
    call(np.ascontiguousarray(x[:, :T // 10]))
    one = 10 * (time.perf_counter() - t0)  # the whole call's time, estimated
    if one < 0.8:  # a faster machine or kernel: lengthen the sequence so the call is long
        T = int(T * 0.8 / max(one, 1e-3)) + 1
        x = rng.uniform(-1, 1, (B, T, D)).astype(np.float32)
        seq = F.simple_rnn_forward(x[:, :2], W, U)[0]
        t0 = time.perf_counter()
        call(np.ascontiguousarray(x[:, :T // 10]))
        one = 10 * (time.perf_counter() - t0)
    assert one > 0.4, f"one call takes only {one:.3f} s: too short to interrupt"
    fired = []
    def fire():
        fired.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)
    timer = threading.Timer(0.2, fire)
    t0 = time.perf_counter()
    timer.start()
    try:
        call(x)
        print("NOT INTERRUPTED", one)
        sys.exit(1)
    except KeyboardInterrupt:
        latency = time.perf_counter() - fired[0]
    # still usable and right after the interrupt
    small = F.simple_rnn_forward(x[:, :2], W, U)[0]
    assert np.array_equal(small, seq), "state after interrupt"
    ref = R.simple_rnn_forward(x[:, :50], W, U)[0]
    np.testing.assert_allclose(plan(np.ascontiguousarray(x[:, :50]), threads)[0], ref,
                               rtol=1e-4, atol=1e-5)
    print(f"one call ~{one:.3f} s, interrupt answered after {latency:.3f} s")
    # within 0.25 s (a few ms to tens of ms on a quiet machine); on a loaded one, where
    # a chunk takes longer too, within a tenth of the call
    assert latency < max(0.25, one / 10), (latency, one)
""")


@pytest.mark.parametrize("entry,threads", [("forward", 1), ("lean", 1), ("backward", 1),
                                           ("last", 1), ("forward", 2), ("backward", 2)])
def test_ctrl_c_interrupts_a_long_call_quickly(entry, threads, tmp_path):
    """A timer thread sends SIGINT to the process during one long kernel call; the
    KeyboardInterrupt must arrive within 0.25 s, and the library must keep working."""
    import fastrnn
    root = os.path.dirname(os.path.dirname(os.path.abspath(fastrnn.__file__)))
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    # cwd outside the checkout: `python -c` puts the cwd first on sys.path, and the
    # checkout's fastrnn/ may be the uncompiled sources (CI tests the installed one)
    r = subprocess.run([sys.executable, "-c", CTRL_C, entry, str(threads)], env=env,
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "interrupt answered" in r.stdout, r.stdout
