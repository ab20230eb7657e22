"""The benchmark's report: environment, header, tables and the plot."""
import os
import platform

from .contenders import CONTENDERS
from .workloads import MODEL_WORKLOADS

__all__ = ["environment", "format_header", "format_table", "format_contention", "plot"]
SLOW_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def _version(dist):
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:
        return None


def environment(threads, blas_gflops=None, dtype="float32"):
    try:
        from threadpoolctl import threadpool_info
        blas = [{k: i.get(k) for k in ("internal_api", "version", "num_threads", "filepath")}
                for i in threadpool_info()]
    except ImportError:
        blas = None
    versions = {}
    for dist in ("numpy", "scipy", "torch", "onnxruntime", "onnx", "keras", "tensorflow",
                 "jax", "jaxlib", "openvino", "threadpoolctl"):
        versions[dist] = _version(dist)
    versions["fastrnn"] = _version("fastrnn")
    return dict(python=platform.python_version(), platform=platform.platform(),
                machine=platform.machine(), cpu_count=os.cpu_count(), threads=threads,
                dtype=dtype, versions=versions,
                slow_blas_vars={v: os.environ[v] for v in SLOW_BLAS_VARS if v in os.environ},
                thread_vars={v: os.environ.get(v) for v in
                             ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if v in os.environ},
                threadpoolctl=blas, blas_gflops=blas_gflops)


def format_header(env):
    v = env["versions"]
    lines = [f"fastrnn benchmark - Python {env['python']} on {env['platform']}, "
             f"{env['cpu_count']} CPUs, threads={env['threads']}, dtype={env['dtype']}",
             "versions: " + ", ".join(f"{k} {v[k] or '-'}" for k in
                                      ("numpy", "scipy", "torch", "onnxruntime", "jax",
                                       "openvino", "keras"))]
    if env["slow_blas_vars"]:
        lines.append("WARNING: " + ", ".join(f"{k}={val}" for k, val in
                                             env["slow_blas_vars"].items())
                     + " is set: these slow BLAS; run with env -u OPENBLAS_CORETYPE "
                       "-u OPENBLAS_L2_SIZE")
    else:
        lines.append("OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: not set")
    if env.get("blas_gflops"):
        lines.append(f"BLAS rate (2048^3 {env['dtype']} matmul, best of 3): "
                     f"{env['blas_gflops']:.1f} GFLOP/s")
    return "\n".join(lines)


def format_table(rows):
    head = (f"{'workload':<14}{'mode':<10}{'contender':<12}{'median us':>12}{'GFLOP/s':>9}"
            f"{'ratio':>8}{'%BLAS':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        if "skipped" in r:
            continue
        lines.append(f"{r['workload']:<14}{r['mode']:<10}{r['contender']:<12}"
                     f"{r['median_us']:>12.1f}{r['gflops']:>9.2f}{r['ratio']:>8.2f}"
                     f"{r['pct_blas']:>7.1f}")
    for remote in sorted({(r["contender"], r["remote_python"], r.get("version"))
                          for r in rows if r.get("remote_python")}):
        lines.append("(%s ran in %s: %s)" % remote)
    skipped = sorted({(r["contender"], r["skipped"]) for r in rows if "skipped" in r})
    for contender, why in skipped:
        lines.append(f"(skipped {contender}: {why})")
    lines.append("ratio = contender time / fastrnn time (> 1: fastrnn is faster)")
    if any(r["workload"] in MODEL_WORKLOADS for r in rows):
        lines.append("imdb-fit (and lstm-/gru-imdb-fit): training = one fit epoch (4,000 "
                     "sequences + 1,000 for validation), inference = predict over 5,000;\n"
                     "seed-step: training = one train_on_batch, inference = one "
                     "predict_on_batch; their GFLOP/s count the recurrent layer only")
    return "\n".join(lines)


def format_contention(rows, threads):
    """The --contention table: times with `threads` threads and with one, and their ratio."""
    lines = [f"contention (one other process keeps a core busy): {threads} threads against 1",
             f"{'workload':<14}{'mode':<10}{'contender':<12}{f'{threads} threads us':>14}"
             f"{'1 thread us':>13}{'ratio':>8}"]
    for r in rows:
        lines.append(f"{r['workload']:<14}{r['mode']:<10}{r['contender']:<12}"
                     f"{r['us_threads']:>14.1f}{r['us_1_thread']:>13.1f}{r['ratio']:>8.2f}")
    lines.append(f"ratio = {threads}-thread time / 1-thread time (> 1: the threads lose)")
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    timed = [r for r in rows if "skipped" not in r and r["contender"] != "fastrnn"]
    labels = [f"{r['workload']}\n{r['mode'][:5]}\n{r['contender']}" for r in timed]
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(timed)), 5))
    ax.bar(range(len(timed)), [r["ratio"] for r in timed],
           color=[f"C{CONTENDERS.index(r['contender']) % 10}" for r in timed])
    ax.axhline(1, color="k", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(timed)))
    ax.set_xticklabels(labels, fontsize=7)
    ax.set_ylabel("contender time / fastrnn time (>1: fastrnn faster)")
    ax.set_title("fastrnn vs contenders")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
