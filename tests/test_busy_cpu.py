"""The thread pool on a busy CPU (src/_pool_impl.c): a helper that wakes up on the
caller's own CPU during a short job stands down, the caller runs the whole job, and the
next short jobs back off (they do not wake the helpers); on a long job it joins.
Pinning a process to one CPU makes every helper wake there, so these paths run
deterministically in a child process; their results must be the bits of an ordinary
2-thread call (the work is cut the same way, whoever runs it)."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastrnn
from fastrnn import _kernel
from fastrnn import functional as F

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(os, "sched_setaffinity"),
    reason="needs Linux CPU affinity")

# the child imports the fastrnn this process imported (the installed package under CI,
# the checkout when built in place), not necessarily the checkout
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(fastrnn.__file__)))

CHILD = textwrap.dedent("""
    import os, sys, json
    cpu = sorted(os.sched_getaffinity(0))[0]
    os.sched_setaffinity(0, {cpu})   # before any thread exists: every thread on one CPU
    import numpy as np
    import fastrnn
    from fastrnn import _kernel
    from fastrnn import functional as F
    out = {}

    def job(short=True):
        # ~15 ms of tasks: the woken helper gets the CPU before the end
        owner, ran = _kernel.pool_owners(2, 5000, short)
        return bool((owner == 0).all()), ran

    # a long job: the helper joins wherever it woke (no stand-down, no back-off)
    s0 = _kernel.pool_stats()
    for _ in range(3):
        job(False)
    s1 = _kernel.pool_stats()
    out["long_stood_down"] = s1["stood_down"] - s0["stood_down"]
    out["long_backed_off"] = s1["backed_off"] - s0["backed_off"]

    # short jobs without back-off: every one wakes the helper, which stands down, and
    # the caller runs every task
    _kernel.pool_backoff(False)
    s0 = _kernel.pool_stats()
    jobs = [job() for _ in range(3)]
    s1 = _kernel.pool_stats()
    out["alone"] = all(a and ran == 1 for a, ran in jobs)
    out["stood_down"] = s1["stood_down"] - s0["stood_down"]
    out["backed_off_without"] = s1["backed_off"] - s0["backed_off"]
    out["helped"] = s1["helped"] - s0["helped"]
    # with back-off: the job after a stand-down does not wake the helper
    _kernel.pool_backoff(True)
    backed = None
    for _ in range(10):
        s0 = _kernel.pool_stats()
        job()
        s1 = _kernel.pool_stats()
        if s1["stood_down"] > s0["stood_down"]:
            job()
            backed = _kernel.pool_stats()["backed_off"] - s1["backed_off"]
            break
    out["backed_after_stand_down"] = backed

    # the kernels at 2 threads, forced onto the pool whatever the size
    _kernel.parallel_min_work(0)
    _kernel.small_split_work(0)
    fastrnn.set_num_threads(2)
    data = np.load(sys.argv[1])
    x, W, U, b, dY = (data[k] for k in ("x", "W", "U", "b", "dY"))
    res = {}
    for backoff in (False, True):
        _kernel.pool_backoff(backoff)
        seq, last = F.simple_rnn_forward(x, W, U, b)
        grads = F.simple_rnn_backward(dY, None, x, W, U, seq, None)
        res[backoff] = [seq, last] + list(grads)
    out["same_with_and_without_backoff"] = all(
        np.array_equal(a, c) for a, c in zip(res[False], res[True]))
    xs = np.ascontiguousarray(x[:2])
    o2 = np.empty((2, x.shape[1], W.shape[1]), x.dtype)
    st2 = np.zeros((2, W.shape[1]), x.dtype)
    out["small_helped"] = _kernel.small_steps(xs, W, U, b, 0, o2, st2, 2)
    np.savez(sys.argv[2], *res[True], o2, st2)
    print(json.dumps(out))
""")


def test_helpers_on_the_callers_cpu_stand_down_and_results_keep_their_bits(rng, tmp_path):
    # blocks of batch rows, the small path for 2 rows; short jobs (< 2**24 multiply-adds)
    B, T, D, H = 40, 30, 12, 64
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    W = (rng.normal(size=(D, H)) / np.sqrt(D)).astype(np.float32)
    U = (rng.normal(size=(H, H)) / np.sqrt(H)).astype(np.float32)
    b = (rng.normal(size=(H,)) * 0.1).astype(np.float32)
    dY = rng.normal(size=(B, T, H)).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x, W=W, U=U, b=b, dY=dY)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "in.npz"),
                           str(tmp_path / "out.npz")], capture_output=True, text=True,
                          env=env, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    import json
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["long_stood_down"] == 0 and got["long_backed_off"] == 0
    assert got["alone"]                      # the caller ran every task, alone
    assert got["helped"] == 0
    assert got["stood_down"] >= 1            # the helper woke, on the caller's CPU
    assert got["backed_off_without"] == 0    # pool_backoff(False): every job woke it
    assert got["backed_after_stand_down"] == 1
    assert got["same_with_and_without_backoff"]
    assert got["small_helped"] == 0

    # the same bits as an ordinary 2-thread call in this (unpinned) process
    old_work, old_split = _kernel.parallel_min_work(0), _kernel.small_split_work(0)
    fastrnn.set_num_threads(2)
    try:
        seq, last = F.simple_rnn_forward(x, W, U, b)
        grads = F.simple_rnn_backward(dY, None, x, W, U, seq, None)
        o2 = np.empty((2, T, H), np.float32)
        st2 = np.zeros((2, H), np.float32)
        _kernel.small_steps(np.ascontiguousarray(x[:2]), W, U, b, 0, o2, st2, 2)
    finally:
        _kernel.parallel_min_work(old_work)
        _kernel.small_split_work(old_split)
        fastrnn.set_num_threads(None)
    child = np.load(tmp_path / "out.npz")
    expect = [seq, last] + list(grads) + [o2, st2]
    assert len(child.files) == len(expect)
    for i, e in enumerate(expect):
        np.testing.assert_array_equal(child[f"arr_{i}"], e)


def test_pool_stats_and_backoff_switch():
    s = _kernel.pool_stats()
    assert set(s) == {"helped", "stood_down", "backed_off", "late_helper"}
    assert all(isinstance(v, int) and v >= 0 for v in s.values())
    _kernel.pool_backoff(False)
    _kernel.pool_backoff(True)
    for short in (False, True):
        owner, ran = _kernel.pool_owners(2, 20, short)
        assert (owner >= 0).all() and 1 <= ran <= 2


def test_a_late_helper_on_a_short_job_starts_a_back_off(rng):
    """A helper that keeps the caller waiting over 200 us at the end of a short job
    (here it sleeps 3 ms after claiming a half: small_steps' stall_step) is a sign of a
    busy CPU: the next short job runs without waking it. Its results keep their bits."""
    B, T, D, H = 1, 200, 5, 256  # ~1 us a step, 13.4M multiply-adds: a short job
    x = rng.normal(size=(B, T, D)).astype(np.float32)
    W = (rng.normal(size=(D, H)) / np.sqrt(D)).astype(np.float32)
    U = (rng.normal(size=(H, H)) / np.sqrt(H)).astype(np.float32)
    b = np.zeros(H, np.float32)
    one = np.empty((B, T, H), np.float32)
    _kernel.small_steps(x, W, U, b, 0, one, np.zeros((B, H), np.float32), 1)
    old = _kernel.small_split_work(0)
    try:
        seen = False
        for _ in range(100):  # until the helper claims the stalled half (it may be late)
            out = np.empty((B, T, H), np.float32)
            s0 = _kernel.pool_stats()
            _kernel.small_steps(x, W, U, b, 0, out, np.zeros((B, H), np.float32), 2,
                                False, 100)
            np.testing.assert_array_equal(out, one)
            s1 = _kernel.pool_stats()
            if s1["late_helper"] > s0["late_helper"]:
                _kernel.small_steps(x, W, U, b, 0, out, np.zeros((B, H), np.float32), 2)
                np.testing.assert_array_equal(out, one)
                assert _kernel.pool_stats()["backed_off"] == s1["backed_off"] + 1
                seen = True
                break
        if not seen:
            pytest.skip("the helper never claimed the stalled half")
    finally:
        _kernel.small_split_work(old)
        _kernel.pool_backoff(False)  # end any back-off in course
        _kernel.pool_backoff(True)
