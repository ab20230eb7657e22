"""Benchmark fastrnn against the NumPy reference, PyTorch, ONNX Runtime, JAX, OpenVINO and
Keras 3.

Run it as::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m fastrnn.benchmark [options]

Options:
    --workloads seed,online,small,tutorial,medium,large,deep-bidir,imdb-fit,seed-step,
                lstm-medium,gru-medium,lstm-large,gru-large,lstm-imdb-fit,gru-imdb-fit
                               or all (default: all but lstm-large, gru-large,
                               lstm-imdb-fit and gru-imdb-fit, minutes each on a 2-core
                               machine; see workloads.py for what each one runs)
    --modes inference,training (default: both)
    --contenders numpy,torch,onnxruntime,jax,openvino,keras
                               (default: all; each runs only when importable)
    --dtype float32|float64    (default float32)
    --threads N                (default 2) BLAS / intra-op threads of every contender
    --min-time SECONDS         (default 0.3) time budget per (workload, contender, mode);
                               at least --min-reps (default 5) repetitions
    --json FILE                all results and the environment, as JSON
    --plot FILE.png            a bar chart of the ratios (needs matplotlib)
    --memory                   also run the memory case (B=64, T=20000, D=128, H=256,
                               return_sequences=False) and report its peak memory; opt-in:
                               it is 251 GFLOP plus a 625 MiB input (about a minute on a
                               shared 2-core machine)
    --scaling                  also time fastrnn with 1 and 2 threads and print the speedup
    --keras-python PATH        run the Keras contender in another interpreter (one with
                               Keras 3/TensorFlow, e.g. /work/kvenv/bin/python) when Keras is
                               not importable here; it needs only numpy there
    --contention               also run every selected workload with one other process
                               keeping a core busy (a bounded busy loop, killed after), and
                               report each threaded contender's --threads time against its
                               one-thread time

Every contender gets the same weights, and before anything is timed its outputs (inference:
the sequence; training: the input gradient and every weight gradient; model workloads: the
predictions, the first batch's loss and gradients, and loosely a fit epoch's final losses)
are checked against fastrnn's; a disagreement raises :class:`AgreementError` naming the
contender.

The table reports the MEDIAN time in microseconds, GFLOP/s (forward: 2*B*T*H*(D+H) flops per
layer and direction; training counts 3x that), the ratio contender time / fastrnn time (> 1
means fastrnn is faster) and the percentage of this machine's float32 (or float64) matrix
product rate, measured in the same run with a 2048x2048 NumPy matmul (best of 3).

Threads: with threadpoolctl installed, fastrnn's and NumPy's OpenBLAS are limited through
``threadpool_limits(N)``. Without it the only way to limit OpenBLAS is the environment
(OPENBLAS_NUM_THREADS / OMP_NUM_THREADS), which is read once, when the BLAS library loads.
``python -m fastrnn.benchmark`` imports the ``fastrnn`` package - and so NumPy - before this
package runs, so in that case ``main()`` sets the variables and re-executes the interpreter
once (command line only; a ``main([...])`` call from Python just warns).

OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, pick slow BLAS kernels; the header warns.
"""
import argparse
import json
import os
import sys

from .contenders import CONTENDERS
from .keras_contender import worker as _keras_worker
from .report import environment, format_contention, format_header, format_table, plot
from .runner import _limits, blas_rate, contention, memory_case, run, scaling
from .workloads import DEFAULT_WORKLOADS, MODES, WORKLOADS

__all__ = ["main", "parse_args"]


def _csv(value):
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m fastrnn.benchmark",
                                description="Benchmark fastrnn against other RNN runtimes.")
    p.add_argument("--workloads", type=_csv, default=list(DEFAULT_WORKLOADS),
                   help=f"comma-separated, from {','.join(WORKLOADS)}, or all (default all "
                        f"but {','.join(w for w in WORKLOADS if w not in DEFAULT_WORKLOADS)})")
    p.add_argument("--modes", type=_csv, default=list(MODES),
                   help="inference,training (default both)")
    p.add_argument("--contenders", type=_csv, default=list(CONTENDERS),
                   help=f"comma-separated, from {','.join(CONTENDERS)} (default all "
                        "importable)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--min-time", type=float, default=0.3,
                   help="seconds of repetitions per case (default 0.3)")
    p.add_argument("--min-reps", type=int, default=5)
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--plot", metavar="FILE.png")
    p.add_argument("--memory", action="store_true", help="also run the memory case")
    p.add_argument("--scaling", action="store_true",
                   help="also time fastrnn with 1 and 2 threads")
    p.add_argument("--keras-python", metavar="PATH",
                   help="interpreter with Keras 3 for the keras contender")
    p.add_argument("--contention", action="store_true",
                   help="also time every workload with one other process keeping a core "
                        "busy, --threads threads against one")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--keras-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads < 1:
        p.error("--threads must be >= 1")
    if args.workloads == ["all"]:
        args.workloads = list(WORKLOADS)
    return args


def _ensure_thread_env(threads, from_command_line):
    """Without threadpoolctl, limit OpenBLAS through the environment: it must be set before
    NumPy loads, so re-execute once when NumPy is already imported (python -m imports the
    fastrnn package, and NumPy with it, before this module runs)."""
    try:
        import threadpoolctl  # noqa: F401
        return
    except ImportError:
        pass
    wanted = str(threads)
    if all(os.environ.get(v) == wanted for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")):
        return
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[v] = wanted
    if "numpy" not in sys.modules:
        return
    if from_command_line and not os.environ.get("FASTRNN_BENCH_REEXEC"):
        os.environ["FASTRNN_BENCH_REEXEC"] = "1"
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "fastrnn.benchmark"] + sys.argv[1:])
    print(f"warning: threadpoolctl is not installed and NumPy is already loaded, so BLAS "
          f"threads cannot be limited to {threads}; pip install threadpoolctl",
          file=sys.stderr)


def main(argv=None):
    args = parse_args(argv)  # first: thread settings must precede loading BLAS
    if args.keras_worker:
        return _keras_worker(args.threads)
    _ensure_thread_env(args.threads, from_command_line=argv is None)
    log = (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr,
                                                                   flush=True))
    with _limits(args.threads):
        rate = blas_rate(dtype=args.dtype)
        env = environment(args.threads, rate, args.dtype)
    print(format_header(env), flush=True)
    rows = run(workloads=args.workloads, modes=args.modes, dtype=args.dtype,
               threads=args.threads, min_time=args.min_time, contenders=args.contenders,
               min_reps=args.min_reps, blas_gflops=rate, keras_python=args.keras_python,
               log=log)
    print()
    print(format_table(rows), flush=True)
    result = {"environment": env, "results": rows}
    if args.memory:
        with _limits(args.threads):
            mem = memory_case(dtype=args.dtype, log=log)
        result["memory"] = mem
        print(f"\nmemory case: B={mem['batch']} T={mem['timesteps']} D={mem['features']} "
              f"H={mem['units']} {mem['dtype']}, return_sequences=False: "
              f"{mem['seconds']:.2f} s ({mem['gflops']:.1f} GFLOP/s); input "
              f"{mem['input_mb']:.0f} MiB; peak traced beyond the input "
              f"{mem['peak_traced_mb']:.1f} MiB (the full sequence would be "
              f"{mem['full_sequence_mb']:.0f} MiB); chunked == unchunked on "
              f"{mem['check_steps']} steps (rel diff {mem['rel_diff_vs_sequences']:.1e}, vs "
              f"reference {mem['rel_diff_vs_reference']:.1e})")
    if args.scaling:
        sc = scaling(dtype=args.dtype, min_time=args.min_time, min_reps=args.min_reps)
        result["scaling"] = sc
        print("\nscaling (fastrnn, threadpoolctl):")
        print(f"{'workload':<11}{'mode':<10}{'1 thread us':>13}{'2 threads us':>14}"
              f"{'speedup':>9}")
        for r in sc:
            print(f"{r['workload']:<11}{r['mode']:<10}{r['us_1_thread']:>13.1f}"
                  f"{r['us_2_threads']:>14.1f}{r['speedup']:>9.2f}")
    if args.contention:
        if args.threads == 1:
            log("  --contention with --threads 1 compares one thread with itself")
        cont = contention(workloads=args.workloads, modes=args.modes,
                          contenders=args.contenders, dtype=args.dtype, threads=args.threads,
                          min_time=args.min_time, min_reps=args.min_reps, log=log)
        result["contention"] = cont
        print()
        print(format_contention(cont, args.threads), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1, default=str)
    if args.plot:
        plot(rows, args.plot)
    return result
