"""The LSTM/GRU kernel's threads: every threaded path -- batch blocks of 1 to 18 rows,
product row blocks, chunked calls (signal checks between chunks), 1 to 3 threads, batches
from 1 up, masks, dropout, reverse -- matches the NumPy reference and the one-thread
result over several consecutive calls, on the microkernel and on BLAS."""
import threading

import numpy as np
import pytest

import fastrnn
from fastrnn import _gates, functional as F, reference as R

from test_gates_kernel import CELLS, Case, close


@pytest.fixture
def forced_threads():
    """Threads on every call whatever its size, restored afterwards."""
    old = _gates.parallel_min_work(0)
    yield
    _gates.parallel_min_work(old)
    fastrnn.set_num_threads(None)


def flags(case, rng, which):
    if which == "plain":
        return {}
    B, D, U, G = case.B, case.x.shape[2], case.U, case.G
    lead = (G,) if which == "per_gate" else ()
    return dict(mask=case.mask(), go_backwards=True,
                dropout_mask=rng.uniform(0.5, 1.5, lead + (B, D)).astype(case.dtype),
                recurrent_dropout_mask=rng.uniform(0.5, 1.5, lead + (B, U)).astype(case.dtype))


def run(case, kw, ws):
    got = case.forward(F, return_cache=True, **kw)
    d_seq, d_h, d_c = case.upstream_fixed
    grads = case.backward(F, d_seq, d_h, d_c, cache=got[-1], workspace=ws, **kw)
    return got[:-1], grads


@pytest.fixture(params=["rows", "units"])
def split(request):
    """The time loop split by batch rows, or (forced at any size) by units per step."""
    old = _gates.unit_split_bytes(0 if request.param == "units" else None)
    yield request.param
    _gates.unit_split_bytes(old)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("B", [1, 7, 40])
@pytest.mark.parametrize("which", ["plain", "shared", "per_gate"])
@pytest.mark.parametrize("chunked", [False, True])
def test_threaded_paths_match_reference(rng, forced_threads, split, cell, B, which, chunked):
    dtype = np.float64
    # 70 units: unit slices of 16 with a short last one
    case = Case(rng, cell, B, 9, 6, 70 if split == "units" else 13, dtype)
    kw = flags(case, rng, which)
    case.upstream_fixed = case.upstream()
    ref = case.forward(R, **kw)
    ref_g = case.backward(R, *case.upstream_fixed, **kw)
    old = _gates.check_work(2000 if chunked else None)
    try:
        results = {}
        for threads in (1, 2, 3):
            fastrnn.set_num_threads(threads)
            ws = {}
            for _ in range(3):  # consecutive calls, one workspace
                out, grads = run(case, kw, ws)
                for a, e in zip(out, ref):
                    close(a, e, dtype)
                for name, a, e in zip(grads._fields, grads, ref_g):
                    close(a, e, dtype, 50, name)
            results[threads] = (out, grads)
        # the threads change only the order of sums (tiles, partial gradient sums)
        for threads in (2, 3):
            for a, e in zip(results[threads][0] + tuple(results[threads][1]),
                            results[1][0] + tuple(results[1][1])):
                np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-12)
    finally:
        _gates.check_work(old)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("path", ["microkernel", "blas"])
def test_float32_threads_and_blas(rng, forced_threads, split, monkeypatch, cell, path):
    if path == "blas":
        monkeypatch.setattr(F, "_PACKED", False)
    elif not _gates.simd():
        pytest.skip("this CPU runs the BLAS path only")
    case = Case(rng, cell, 20, 11, 5, 17, np.float32)
    kw = dict(mask=case.mask())
    case.upstream_fixed = case.upstream()
    fastrnn.set_num_threads(1)
    one = run(case, kw, {})
    fastrnn.set_num_threads(2)
    for _ in range(3):
        two = run(case, kw, {})
        for a, e in zip(two[0] + tuple(two[1]), one[0] + tuple(one[1])):
            close(a, e, np.float32, 10)


def test_threads_from_several_python_threads(rng, forced_threads):
    """Python threads calling the LSTM kernel at once take turns on the pool."""
    case = Case(rng, "lstm", 30, 12, 8, 16, np.float64)
    ref = case.forward(R)
    fastrnn.set_num_threads(2)
    errors = []

    def work():
        for _ in range(10):
            got = case.forward(F)
            if not all(np.allclose(a, e, rtol=1e-9, atol=1e-9) for a, e in zip(got, ref)):
                errors.append("mismatch")

    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


@pytest.mark.parametrize("cell", CELLS)
def test_backward_is_deterministic_with_threads(rng, forced_threads, cell):
    """The merged products' weight gradients go to one partial sum per block of rows,
    added in block order: 2 threads give the same bits on every run (per-thread sums
    made them depend on which thread had run which block)."""
    case = Case(rng, cell, 64, 80, 16, 32, np.float32)
    case.upstream_fixed = case.upstream()
    fastrnn.set_num_threads(2)
    old = _gates.check_work(20000)  # several chunks of merged products
    try:
        _, first = run(case, {}, None)
        for _ in range(10):
            _, again = run(case, {}, None)
            for a, e in zip(again, first):
                if a is None:
                    assert e is None
                else:
                    np.testing.assert_array_equal(a, e)
    finally:
        _gates.check_work(old)
