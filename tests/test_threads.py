"""The kernel's threads: the pool hands every task out exactly once, and every threaded
path -- many batch blocks, product row blocks, chunked calls, 1 to 3 threads, batches
from 1 up -- matches the NumPy reference over several consecutive calls."""
import multiprocessing
import os

import numpy as np
import pytest

import fastrnn
from fastrnn import _kernel
from fastrnn import functional as F
from fastrnn import reference as R

from conftest import ATOL, RTOL


@pytest.fixture
def forced_threads():
    """Threads on every call whatever its size, restored afterwards."""
    old = _kernel.parallel_min_work(0)
    yield
    _kernel.parallel_min_work(old)
    fastrnn.set_num_threads(None)


@pytest.mark.parametrize("nt", [1, 2, 3, 8])
@pytest.mark.parametrize("tasks", [0, 1, 5, 200])
def test_pool_runs_every_task_once(nt, tasks):
    for _ in range(3):  # consecutive jobs reuse the helpers
        owner, ran = _kernel.pool_owners(nt, tasks)
        assert (owner >= 0).all() and (owner < nt).all()
        assert 1 <= ran <= nt


def _fork_child(q):
    owner, ran = _kernel.pool_owners(2, 50)
    q.put(bool((owner >= 0).all()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_pool_works_in_a_forked_child():
    _kernel.pool_owners(2, 50)  # helpers exist in the parent
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_fork_child, args=(q,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert q.get(timeout=5)


def make(rng, B, T, D, H, dtype):
    return (rng.normal(size=(B, T, D)).astype(dtype),
            (rng.normal(size=(D, H)) / np.sqrt(D)).astype(dtype),
            (rng.normal(size=(H, H)) / np.sqrt(H)).astype(dtype),
            rng.normal(size=(H,)).astype(dtype) * 0.1,
            rng.normal(size=(B, H)).astype(dtype))


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("B", [1, 2, 7, 40, 100])
@pytest.mark.parametrize("chunked", [False, True])
def test_threaded_paths_match_reference(rng, forced_threads, threads, B, chunked):
    """Batch blocks of 1 to 18 rows and product row blocks, in one chunk or many."""
    dtype = np.float32
    T, D, H = 9, 6, 20
    x, W, U, b, h0 = make(rng, B, T, D, H, dtype)
    mask = rng.uniform(size=(B, T)) > 0.2
    rm = ((rng.uniform(size=(B, H)) > 0.3) / 0.7).astype(dtype)
    fastrnn.set_num_threads(threads)
    old = _kernel.check_work(3000 if chunked else None)
    try:
        tol = dict(rtol=RTOL[dtype] * 50, atol=ATOL[dtype] * 50)
        for kw in (dict(), dict(initial_state=h0, mask=mask, go_backwards=True,
                                recurrent_dropout_mask=rm)):
            ref_seq, ref_last = R.simple_rnn_forward(x, W, U, b, **kw)
            dY = rng.normal(size=ref_seq.shape).astype(dtype)
            h = kw.pop("initial_state", None)
            ref = R.simple_rnn_backward(dY, None, x, W, U, h, b, **kw)
            for _ in range(3):  # consecutive calls
                seq, last = F.simple_rnn_forward(x, W, U, b, h, **kw)
                np.testing.assert_allclose(seq, ref_seq, **tol)
                np.testing.assert_allclose(last, ref_last, **tol)
                got = F.simple_rnn_backward(dY, None, x, W, U, seq, h, **kw)
                for a, e in zip(got, ref):
                    np.testing.assert_allclose(a, e, rtol=RTOL[dtype] * 500,
                                               atol=ATOL[dtype] * 500)
        plan = F.compile_forward(W, U, b)
        ref_seq, _ = R.simple_rnn_forward(x, W, U, b)
        for _ in range(3):
            lean_seq, _ = plan(np.ascontiguousarray(x), threads)
            np.testing.assert_allclose(lean_seq, ref_seq, **tol)
    finally:
        _kernel.check_work(old)


@pytest.mark.parametrize("B,T,D,H", [(128, 60, 16, 32), (40, 30, 24, 64), (7, 200, 5, 20)])
def test_backward_is_deterministic_with_threads(rng, forced_threads, B, T, D, H):
    """Weight gradients summed in per-block partial sums added in block order: the same
    call gives the same bits every time at 2 threads, whichever thread ran which block
    (per-thread sums made them differ in the last bits from run to run)."""
    x, W, U, b, h0 = make(rng, B, T, D, H, np.float32)
    seq, _ = F.simple_rnn_forward(x, W, U, b, h0)
    dY = rng.normal(size=seq.shape).astype(np.float32)
    fastrnn.set_num_threads(2)
    old = _kernel.check_work(20000)  # several chunks of merged products as well
    try:
        first = F.simple_rnn_backward(dY, None, x, W, U, seq, h0)
        for _ in range(12):
            again = F.simple_rnn_backward(dY, None, x, W, U, seq, h0)
            for a, e in zip(again, first):
                np.testing.assert_array_equal(a, e)
    finally:
        _kernel.check_work(old)
    ref = R.simple_rnn_backward(dY, None, x, W, U, h0, b)
    for a, e in zip(first, ref):
        np.testing.assert_allclose(a, e, rtol=RTOL[np.float32] * 500, atol=ATOL[np.float32] * 500)


def test_threads_from_several_python_threads(forced_threads):
    """Two Python threads calling the kernel at once take turns on the pool."""
    import threading
    rng = np.random.default_rng(1)
    x, W, U, b, _ = make(rng, 30, 12, 8, 16, np.float64)
    ref, _ = R.simple_rnn_forward(x, W, U, b)
    fastrnn.set_num_threads(2)
    errors = []

    def work():
        for _ in range(20):
            seq, _ = F.simple_rnn_forward(x, W, U, b)
            if not np.allclose(seq, ref, rtol=1e-9, atol=1e-9):
                errors.append("mismatch")

    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
