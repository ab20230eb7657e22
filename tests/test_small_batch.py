"""The small-batch forward (src/_small_impl.c): batches of 1 to 4 rows without mask or
recurrent dropout, each step's units cut in two halves, the second on a helper thread.

Its results must not depend on the thread count or on whether the helper came (the
halves are always computed apart, one FMA chain per unit), so 1 and 2 threads give the
same bits; and every entry point that reaches it -- the functional forward (with and
without an initial state, return_sequences False in chunks), the lean layer call,
Bidirectional's shared output buffer, go_backwards, stateful layers over consecutive
calls -- matches the NumPy reference and the general (row-block) path."""
import numpy as np
import pytest

import fastrnn
from fastrnn import _kernel
from fastrnn import functional as F
from fastrnn import reference as R
from fastrnn.layers import Bidirectional, SimpleRNN

from tolerances import ATOL, RTOL

ACTS = ["tanh", "relu", "sigmoid", "linear"]


@pytest.fixture
def split_always():
    """The units split across two threads however small the step, restored after."""
    old = _kernel.small_split_work(0)
    yield
    _kernel.small_split_work(old)
    fastrnn.set_num_threads(None)


def weights(rng, D, H, dtype):
    return ((rng.normal(size=(D, H)) / np.sqrt(D)).astype(dtype),
            (rng.normal(size=(H, H)) / np.sqrt(H)).astype(dtype),
            (rng.normal(size=(H,)) * 0.1).astype(dtype))


def tol(dtype, k=10):
    return dict(rtol=RTOL[dtype] * k, atol=ATOL[dtype] * k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B", [1, 2, 3, 4])
@pytest.mark.parametrize("H", [1, 17, 32, 40, 100, 256])
@pytest.mark.parametrize("reverse", [False, True])
def test_halves_match_reference_and_each_other(rng, split_always, dtype, B, H, reverse):
    T, D = 6, 5
    x = rng.normal(size=(B, T, D)).astype(dtype)
    W, U, b = weights(rng, D, H, dtype)
    h0 = rng.normal(size=(B, H)).astype(dtype)
    ref, ref_last = R.simple_rnn_forward(x, W, U, b, initial_state=h0, go_backwards=reverse)
    ref = ref[:, ::-1] if reverse else ref  # the kernel writes position order
    got = []
    for nt in (1, 2, 2, 1, 2):  # several consecutive calls, the helper reused
        out = np.full((B, T, H), np.nan, dtype)
        state = h0.copy()
        helped = _kernel.small_steps(x, W, U, b, 0, out, state, nt, reverse)
        assert 0 <= helped <= (T if nt == 2 and H >= 32 else 0)
        np.testing.assert_allclose(out, ref, **tol(dtype))
        np.testing.assert_allclose(state, ref_last, **tol(dtype))
        got.append((out, state))
    for out, state in got[1:]:
        np.testing.assert_array_equal(out, got[0][0])
        np.testing.assert_array_equal(state, got[0][1])


@pytest.mark.parametrize("act", ACTS)
def test_every_activation(rng, split_always, act):
    B, T, D, H = 2, 5, 3, 48
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    W, U, b = weights(rng, D, H, np.float32)
    code = _kernel.ACTIVATIONS[act]
    ref, _ = R.simple_rnn_forward(x, W, U, b, activation=act)
    outs = []
    for nt in (1, 2):
        out = np.empty((B, T, H), np.float32)
        state = np.zeros((B, H), np.float32)
        _kernel.small_steps(x, W, U, b, code, out, state, nt)
        np.testing.assert_allclose(out, ref, **tol(np.float32))
        outs.append(out)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_bad_batch_refused():
    x = np.zeros((5, 2, 3), np.float32)
    W, U, b = np.zeros((3, 4), np.float32), np.zeros((4, 4), np.float32), None
    with pytest.raises(ValueError, match="rows"):
        _kernel.small_steps(x, W, U, b, 0, np.zeros((5, 2, 4), np.float32),
                            np.zeros((5, 4), np.float32), 1)


@pytest.mark.parametrize("B", [1, 3, 4, 5])
@pytest.mark.parametrize("chunked", [False, True])
def test_functional_entry_points(rng, split_always, B, chunked):
    """The general forward reaches the small path for B <= 4 (B = 5: the row blocks),
    with or without an initial state, all sequences or the last output only, in one
    chunk or many; threads 1 and 2 agree bit for bit up to 4 rows."""
    dtype = np.float32
    T, D, H = 11, 7, 64
    x = rng.normal(size=(B, T, D)).astype(dtype)
    W, U, b = weights(rng, D, H, dtype)
    h0 = rng.normal(size=(B, H)).astype(dtype)
    old = _kernel.check_work(2000 if chunked else None)
    try:
        for kw in (dict(), dict(initial_state=h0), dict(go_backwards=True)):
            ref_seq, ref_last = R.simple_rnn_forward(x, W, U, b, **kw)
            results = []
            for threads in (1, 2, 2):
                fastrnn.set_num_threads(threads)
                seq, last = F.simple_rnn_forward(x, W, U, b, kw.get("initial_state"),
                                                 go_backwards=kw.get("go_backwards", False))
                np.testing.assert_allclose(seq, ref_seq, **tol(dtype))
                np.testing.assert_allclose(last, ref_last, **tol(dtype))
                out, last2 = F.simple_rnn_forward(x, W, U, b, kw.get("initial_state"),
                                                  go_backwards=kw.get("go_backwards", False),
                                                  return_sequences=False)
                np.testing.assert_allclose(out, ref_last, **tol(dtype))
                results.append((seq, last))
            if B <= 4:
                for seq, last in results[1:]:
                    np.testing.assert_array_equal(seq, results[0][0])
                    np.testing.assert_array_equal(last, results[0][1])
    finally:
        _kernel.check_work(old)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("B", [1, 2, 4])
def test_lean_layer_call_matches_general_path(rng, split_always, go_backwards, B):
    """SimpleRNN's lean call (unpacked weights for a small batch) against the general
    path (an all-ones mask takes it) and the reference, over consecutive calls with
    weights changed in place between them."""
    T, D, H = 9, 16, 96
    layer = SimpleRNN(H, return_sequences=True, go_backwards=go_backwards)
    layer.build((None, T, D))
    fastrnn.set_num_threads(2)
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    for step in range(3):
        lean = np.asarray(layer(x))
        general = np.asarray(layer(x, mask=np.ones((B, T), bool)))
        W, U, b = layer.get_weights()
        ref, _ = R.simple_rnn_forward(x, W, U, b, go_backwards=go_backwards)
        np.testing.assert_allclose(lean, ref, **tol(np.float32))
        np.testing.assert_allclose(lean, general, **tol(np.float32))
        layer.set_weights([W * 0.9, U * 1.1, b + 0.1])  # seen by the next call


@pytest.mark.parametrize("B", [1, 3])
def test_bidirectional_shared_buffer(rng, split_always, B):
    """Both directions write halves of one concatenated output (rows 2H wide)."""
    T, D, H = 7, 5, 40
    bi = Bidirectional(SimpleRNN(H, return_sequences=True))
    bi.build((None, T, D))
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    fastrnn.set_num_threads(2)
    for _ in range(2):
        got = np.asarray(bi(x))
        Wf, Uf, bf, Wb, Ub, bb = bi.get_weights()
        fwd, _ = R.simple_rnn_forward(x, Wf, Uf, bf)
        bwd, _ = R.simple_rnn_forward(x, Wb, Ub, bb, go_backwards=True)
        ref = np.concatenate([fwd, bwd[:, ::-1]], axis=-1)
        np.testing.assert_allclose(got, ref, **tol(np.float32))


def test_stateful_consecutive_calls(rng, split_always):
    """A stateful batch-of-one layer carries its state from call to call: three calls
    of 4 steps equal one call of 12."""
    D, H = 6, 64
    layer = SimpleRNN(H, stateful=True, return_sequences=True)
    layer.build((1, None, D))
    x = rng.normal(size=(1, 12, D)).astype(np.float32)
    fastrnn.set_num_threads(2)
    parts = [np.asarray(layer(x[:, i:i + 4])) for i in (0, 4, 8)]
    W, U, b = layer.get_weights()
    ref, _ = R.simple_rnn_forward(x, W, U, b)
    np.testing.assert_allclose(np.concatenate(parts, axis=1), ref, **tol(np.float32))


def _at_offset(a, offset_bytes):
    """A copy of a whose data starts offset_bytes past a 64-byte boundary."""
    item = a.itemsize
    buf = np.empty(a.size + 128 // item, a.dtype)
    start = (-buf.ctypes.data % 64 + offset_bytes) // item
    out = buf[start:start + a.size].reshape(a.shape)
    out[...] = a
    assert out.ctypes.data % 64 == offset_bytes
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B,T", [(1, 3), (1, 20), (3, 9)])
def test_misaligned_weights_give_the_same_bits(rng, split_always, dtype, B, T):
    """Weights off a 64-byte line are copied to an aligned buffer for calls of 8 rows x
    steps or more (the same values: the same bits as aligned weights), and read in
    place below that."""
    D, H = 5, 48
    x = rng.normal(size=(B, T, D)).astype(dtype)
    W, U, b = weights(rng, D, H, dtype)
    ref, _ = R.simple_rnn_forward(x, W, U, b)
    results = []
    for off in (0, 16, 32, 8):
        for nt in (1, 2):
            out = np.empty((B, T, H), dtype)
            state = np.zeros((B, H), dtype)
            _kernel.small_steps(x, _at_offset(W, off), _at_offset(U, off), b, 0, out,
                                state, nt)
            results.append((out, state))
    np.testing.assert_allclose(results[0][0], ref, **tol(dtype))
    for out, state in results[1:]:
        np.testing.assert_array_equal(out, results[0][0])
        np.testing.assert_array_equal(state, results[0][1])


@pytest.mark.parametrize("stall", [0, 1, 7, 19])
def test_half_taken_over_from_a_stalled_helper(rng, split_always, stall):
    """The helper sleeps 3 ms after claiming step `stall`'s half (as if descheduled): the
    caller takes that half over and goes on alone; every output keeps the bits of one
    thread."""
    B, T, D, H = 2, 20, 5, 64
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    W, U, b = weights(rng, D, H, np.float32)
    one = np.empty((B, T, H), np.float32)
    s1 = np.zeros((B, H), np.float32)
    _kernel.small_steps(x, W, U, b, 0, one, s1, 1)
    for _ in range(10):  # the helper claims that half in some of them (it may be late)
        out = np.full((B, T, H), np.nan, np.float32)
        state = np.zeros((B, H), np.float32)
        helped = _kernel.small_steps(x, W, U, b, 0, out, state, 2, False, stall)
        assert 0 <= helped <= T
        np.testing.assert_array_equal(out, one)
        np.testing.assert_array_equal(state, s1)
