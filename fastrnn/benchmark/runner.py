"""Running the benchmark: agreement check then timing of every (workload, mode, contender);
the thread scaling, contention and memory cases.

Threads: ``_limits(n)`` limits OpenBLAS/OpenMP through threadpoolctl when it is installed
and sets fastrnn's own kernel thread count (``fastrnn.set_num_threads``) either way.
"""
import contextlib
import statistics
import subprocess
import sys
import time

from . import workloads as W
from .contenders import _CONTENDERS, CONTENDERS
from .keras_contender import Remote, RemoteKeras
from .workloads import (LOSS_TOLERANCE, MODES, TOLERANCE, WORKLOADS, AgreementError, Skip,
                        _rel_err, _time_fn, flops, make_case, output_labels)

__all__ = ["run", "blas_rate", "memory_case", "scaling", "contention", "THREADED"]

# contenders whose thread count this process sets per case (JAX's pool is fixed at start;
# Keras runs in another interpreter)
THREADED = ("fastrnn", "torch", "onnxruntime", "openvino")


def blas_rate(n=2048, dtype="float32", repeats=3):
    """This machine's matrix-product rate in GFLOP/s: best of `repeats` n x n @ n x n."""
    import numpy as np
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty((n, n), dtype)
    np.matmul(a, b, out=out)
    best = min(_time_fn(lambda: np.matmul(a, b, out=out), 0.0, repeats, warmup=0))
    return 2 * n ** 3 / best / 1e9


def _check(contender, name, mode, dtype, outs, ref_outs):
    """The largest max|a - b| / max(1, max|b|) over the canonical outputs; AgreementError
    when one exceeds its tolerance (TOLERANCE; LOSS_TOLERANCE for a whole epoch's losses)."""
    if len(outs) != len(ref_outs):
        raise AgreementError(f"contender {contender!r} on {name}/{mode} returned {len(outs)} "
                             f"arrays, fastrnn {len(ref_outs)}")
    tol_fwd, tol_grad = TOLERANCE[dtype]
    worst = 0.0
    for label, a, b in zip(output_labels(name, mode, len(outs)), outs, ref_outs):
        err = _rel_err(a, b)
        if label.startswith("final"):
            tol = LOSS_TOLERANCE
        else:
            worst = max(worst, err)
            tol = tol_fwd if mode == "inference" else tol_grad
        if not err <= tol:
            raise AgreementError(
                f"contender {contender!r} disagrees with fastrnn on {name}/{mode} ({dtype}): "
                f"{label} max|diff|/max(1,|ref|) = {err:.3g} > {tol:g} "
                f"(shapes {getattr(a, 'shape', None)} vs {getattr(b, 'shape', None)})")
    return worst


@contextlib.contextmanager
def _limits(threads):
    """threadpool_limits(threads) if threadpoolctl is installed, and fastrnn's kernel
    threads set to `threads`; both restored on exit."""
    from fastrnn import functional
    saved = functional._threads["n"]
    functional.set_num_threads(threads)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            yield
        else:
            with threadpool_limits(threads):
                yield
    finally:
        functional._threads["n"] = saved


def _warmup(name):
    # a whole fit epoch: the agreement call already warmed everything up
    return 0 if W.is_model(name) and name != "seed-step" else 2


def np_copy(a):
    import numpy as np
    return np.array(a, copy=True)


def _validate(workloads, modes, contenders, dtype):
    for w in workloads:
        if w not in WORKLOADS:
            raise ValueError(f"Unknown workload {w!r}; expected some of {list(WORKLOADS)}.")
    for c in contenders:
        if c not in CONTENDERS:
            raise ValueError(f"Unknown contender {c!r}; expected some of {list(CONTENDERS)}.")
    for m in modes:
        if m not in MODES:
            raise ValueError(f"Unknown mode {m!r}; expected some of {list(MODES)}.")
    if dtype not in TOLERANCE:
        raise ValueError(f"Argument `dtype` must be 'float32' or 'float64', got {dtype!r}.")


def run(workloads=None, modes=MODES, dtype="float32", threads=2, min_time=0.3,
        contenders=None, min_reps=5, blas_gflops=None, keras_python=None, log=None):
    """Time fastrnn and every requested contender (workloads None: DEFAULT_WORKLOADS);
    returns one dict per timed case.

    Rows: workload, mode, contender, batch, timesteps, features, units, dtype, threads,
    median_us, min_us, reps, flops, gflops, ratio (contender time / fastrnn time; > 1 means
    fastrnn is faster), pct_blas, max_rel_diff, agreed. Contenders that cannot run are
    returned as rows with ``skipped`` (the reason) and no times. Raises AgreementError when
    a contender's outputs differ from fastrnn's (checked before it is timed).
    """
    workloads = list(W.DEFAULT_WORKLOADS) if workloads is None else list(workloads)
    contenders = list(CONTENDERS) if contenders is None else list(contenders)
    _validate(workloads, modes, contenders, dtype)
    log = log or (lambda msg: None)
    factories = dict(_CONTENDERS)
    remote = None
    if "keras" in contenders and keras_python:
        try:
            import keras  # noqa: F401
        except ImportError:
            remote = RemoteKeras(keras_python, threads)
            factories["keras"] = remote.factory
    rows = []
    try:
        with _limits(threads):
            if blas_gflops is None:
                blas_gflops = blas_rate(dtype=dtype)
            for name in workloads:
                B, T, D, H, _ = WORKLOADS[name]
                x, weights = make_case(name, dtype)
                for mode in modes:
                    fl = flops(name, mode)
                    base = dict(workload=name, mode=mode, batch=B, timesteps=T, features=D,
                                units=H, dtype=dtype, threads=threads, flops=fl)
                    fn, conv = factories["fastrnn"](name, x, weights, mode, dtype, threads)
                    ref_outs = [np_copy(a) for a in conv(fn())]
                    fast = None
                    for contender in ["fastrnn"] + contenders:
                        row = dict(base, contender=contender)
                        try:
                            if contender == "fastrnn":
                                err = 0.0
                            else:
                                fn, conv = factories[contender](name, x, weights, mode,
                                                                dtype, threads)
                                outs = conv(None if isinstance(fn, Remote) else fn())
                                err = _check(contender, name, mode, dtype, outs, ref_outs)
                        except Skip as exc:
                            log(f"  skip {contender} on {name}/{mode}: {exc}")
                            rows.append(dict(row, skipped=str(exc)))
                            continue
                        if isinstance(fn, Remote):
                            times = fn.time(min_time, min_reps, _warmup(name))["times"]
                        else:
                            times = _time_fn(fn, min_time, min_reps, warmup=_warmup(name),
                                             cooldown=W.COOLDOWN)
                        med = statistics.median(times)
                        if contender == "fastrnn":
                            fast = med
                        gf = fl / med / 1e9
                        row.update(median_us=med * 1e6, min_us=min(times) * 1e6,
                                   reps=len(times), gflops=gf, ratio=med / fast,
                                   pct_blas=100 * gf / blas_gflops, max_rel_diff=err,
                                   agreed=True, blas_gflops=blas_gflops)
                        if isinstance(fn, Remote):
                            row.update(remote_python=remote.python, version=remote.version)
                        log(f"  {name:13s} {mode:9s} {contender:11s} {med * 1e6:12.1f} us")
                        rows.append(row)
    finally:
        if remote is not None:
            remote.close()
    return rows


# ---------------------------------------------------------------------------- extras
def memory_case(B=64, T=20_000, D=128, H=256, dtype="float32", check_steps=2000, log=None):
    """fastrnn inference with return_sequences=False on a long sequence: peak memory beyond
    the input (tracemalloc, which sees NumPy's allocations but not plain C mallocs inside the
    kernel), and the last state checked against an unchunked computation on a prefix."""
    import tracemalloc

    import numpy as np
    from fastrnn import reference as ref
    from fastrnn.layers import SimpleRNN
    log = log or (lambda msg: None)
    rng = np.random.default_rng(2)
    x = np.empty((B, T, D), dtype)
    for t0 in range(0, T, 1000):  # uniform(-1, 1) in pieces, without float64 temporaries
        x[:, t0:t0 + 1000] = rng.uniform(-1, 1, x[:, t0:t0 + 1000].shape).astype(dtype)
    layer = SimpleRNN(H, return_sequences=False, dtype=dtype)
    layer.build((None, T, D))
    W = (rng.uniform(-1, 1, (D, H)) / np.sqrt(D)).astype(dtype)
    U = (rng.uniform(-1, 1, (H, H)) / np.sqrt(H)).astype(dtype)
    b = rng.uniform(-0.1, 0.1, H).astype(dtype)
    layer.set_weights([W, U, b])
    # correctness: the chunked path against the unchunked sequence path and the reference
    xp = np.ascontiguousarray(x[:, :check_steps])
    last = layer(xp)
    seq_layer = SimpleRNN(H, return_sequences=True, dtype=dtype)
    seq_layer.build((None, check_steps, D))
    seq_layer.set_weights([W, U, b])
    err_seq = _rel_err(last, seq_layer(xp)[:, -1])
    err_ref = _rel_err(last, ref.simple_rnn_forward(xp, W, U, b)[1])
    del xp
    tracemalloc.start()
    t0 = time.perf_counter()
    out = layer(x)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    fl = 2 * B * T * H * (D + H)
    result = dict(batch=B, timesteps=T, features=D, units=H, dtype=dtype,
                  input_mb=x.nbytes / 2**20, output_shape=list(out.shape),
                  full_sequence_mb=B * T * H * x.itemsize / 2**20,
                  peak_traced_mb=peak / 2**20,
                  seconds=seconds, gflops=fl / seconds / 1e9, finite=bool(np.isfinite(out).all()),
                  check_steps=check_steps, rel_diff_vs_sequences=err_seq,
                  rel_diff_vs_reference=err_ref)
    tol = TOLERANCE[dtype][0]
    result["agreed"] = bool(err_seq <= tol and err_ref <= tol and result["finite"])
    if not result["agreed"]:
        raise AgreementError(f"memory case: chunked last state disagrees (vs sequences "
                             f"{err_seq:.3g}, vs reference {err_ref:.3g}, tol {tol:g})")
    return result


def scaling(workloads=("medium", "large", "deep-bidir"), modes=MODES, dtype="float32",
            min_time=0.3, min_reps=5):
    """fastrnn's median time with 1 and with 2 threads (BLAS limited when threadpoolctl is
    installed)."""
    rows = []
    for name in workloads:
        x, weights = make_case(name, dtype)
        for mode in modes:
            med = {}
            for n in (1, 2):
                with _limits(n):
                    fn, _ = _CONTENDERS["fastrnn"](name, x, weights, mode, dtype, n)
                    med[n] = statistics.median(_time_fn(fn, min_time, min_reps,
                                                        warmup=_warmup(name),
                                                        cooldown=W.COOLDOWN))
            rows.append(dict(workload=name, mode=mode, us_1_thread=med[1] * 1e6,
                             us_2_threads=med[2] * 1e6, speedup=med[1] / med[2]))
    return rows


_BUSY = "import time\nend = time.time() + {limit}\nwhile time.time() < end:\n    pass\n"


@contextlib.contextmanager
def busy_core(limit=1800.0):
    """One other process keeping a core busy (a Python busy loop), for at most `limit`
    seconds; killed on exit. Yields its process id."""
    proc = subprocess.Popen([sys.executable, "-c", _BUSY.format(limit=float(limit))])
    try:
        time.sleep(0.1)
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def contention(workloads=None, modes=MODES, contenders=("torch",), dtype="float32",
               threads=2, min_time=0.3, min_reps=5, limit=1800.0, log=None):
    """With one other process keeping a core busy (busy_core), each contender's median time
    at `threads` threads (this machine's default when it has `threads` CPUs) and at one
    thread; ratio = threads-time / one-thread time (> 1: the threads lose). Only the
    contenders whose threads this process controls run (THREADED); the outputs were checked
    by run(), so here they are only timed."""
    workloads = list(W.DEFAULT_WORKLOADS) if workloads is None else list(workloads)
    contenders = [c for c in contenders if c in THREADED and c != "fastrnn"]
    _validate(workloads, modes, contenders, dtype)
    log = log or (lambda msg: None)
    rows = []
    with busy_core(limit) as pid:
        log(f"  contention: busy process {pid}")
        for name in workloads:
            x, weights = make_case(name, dtype)
            for mode in modes:
                for contender in ["fastrnn"] + contenders:
                    med = {}
                    try:
                        for n in (threads, 1):
                            with _limits(n):
                                fn, _ = _CONTENDERS[contender](name, x, weights, mode,
                                                               dtype, n)
                                med[n] = statistics.median(_time_fn(
                                    fn, min_time, min_reps, warmup=max(1, _warmup(name)),
                                    cooldown=W.COOLDOWN))
                    except Skip:
                        continue
                    rows.append(dict(workload=name, mode=mode, contender=contender,
                                     threads=threads, us_threads=med[threads] * 1e6,
                                     us_1_thread=med[1] * 1e6, ratio=med[threads] / med[1]))
                    log(f"  {name:13s} {mode:9s} {contender:11s} {threads} threads / 1: "
                        f"{med[threads] / med[1]:.2f}")
    return rows
