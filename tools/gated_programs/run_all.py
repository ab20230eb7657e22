"""Run Keras-written LSTM/GRU programs under Keras 3 and under fastrnn, from the same weights.

    PYTHONPATH=<worktree> python tools/gated_programs/run_all.py [names...]

Each program (``tools/gated_programs/<name>.py``) is written for Keras 3 as its public source writes
it. It runs twice in a scratch folder with ``timeout 300``: as written under ``/work/kvenv``
(Keras 3.15.1 / TF 2.21), then with its imports swapped to fastrnn (``import fastrnn as keras``,
``from fastrnn.layers import ...``) under this Python. ``_hook.py`` gives fastrnn each layer's
Keras initial weights, forces ``shuffle=False`` and logs every predict / evaluate / *_on_batch / fit
result in full, plus the weights after every training call. Every logged array is then compared:
``|fastrnn - keras| <= atol + rtol * |keras|`` with the tolerance of its kind (below).

Program header comments read by the runner:
    # dtype: float64            compare with the float64 tolerances

A training call of a model with dropout (kind ``fit~random`` / ``train_on_batch~random``) draws
random masks in both libraries: from then on only shapes and finiteness are compared.

Results: tools/gated_programs/results/<name>.txt (both runs' output and the comparison).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
KERAS_PY = "/work/kvenv/bin/python"
# (rtol, atol): forward = tests/tolerances.py KERAS_*; training = after a few optimizer steps
TOL = {"float32": {"forward": (1e-5, 1e-5), "train": (1e-4, 1e-4)},
       "float64": {"forward": (1e-10, 1e-10), "train": (1e-9, 1e-9)}}


def to_fastrnn(src):
    """The one change a user makes: Keras imports -> fastrnn imports."""
    src = re.sub(r"^from tensorflow import keras$", "import fastrnn as keras", src, flags=re.M)
    src = re.sub(r"^import keras$", "import fastrnn as keras", src, flags=re.M)
    src = re.sub(r"^from (?:tensorflow\.)?keras import ", "from fastrnn import ", src, flags=re.M)
    src = re.sub(r"^from (?:tensorflow\.)?keras\.", "from fastrnn.", src, flags=re.M)
    return src


def header(src, key):
    m = re.search(r"^# %s:\s*(\S+)" % re.escape(key), src, flags=re.M)
    return m.group(1) if m else None


def run(name, mode, cmp_dir):
    src = open(os.path.join(HERE, name + ".py")).read()
    work = tempfile.mkdtemp(prefix="gp_")
    shutil.copy(os.path.join(HERE, "_hook.py"), work)
    prog = os.path.join(work, name + ".py")
    env = dict(os.environ, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3", CMP_DIR=cmp_dir,
               PYTHONHASHSEED="0")
    if mode == "keras":
        open(prog, "w").write(src)
        py, env["CMP_MODE"] = KERAS_PY, "save"
        env.pop("PYTHONPATH", None)
    else:
        open(prog, "w").write(to_fastrnn(src))
        py, env["CMP_MODE"] = sys.executable, "load"
    boot = ("import sys; sys.path.insert(0, %r); import _hook; import runpy; "
            "runpy.run_path(%r, run_name='__main__')" % (work, prog))
    t0 = time.time()
    p = subprocess.run(["timeout", "300", py, "-c", boot], cwd=work, env=env,
                       capture_output=True, text=True)
    dt = time.time() - t0
    err = [line for line in p.stderr.strip().splitlines() if line.strip()]
    last = err[-1] if (p.returncode and err) else ""
    shutil.rmtree(work, ignore_errors=True)
    return p.returncode, last, dt, p.stdout, "\n".join(err[-30:])


def compare(cmp_dir, dtype):
    """Rows (event, array, kind, max abs diff, ok) and the overall verdict."""
    def load(m):
        p = os.path.join(cmp_dir, "events_%s.npz" % m)
        if not os.path.exists(p):
            return {}
        with np.load(p) as z:
            return {k: z[k] for k in z.files}
    k, f = load("save"), load("load")
    random_kinds = {key.split("/")[0] for key in k if key.split("/")[1].endswith("~random")}
    f = {("%s/%s~random/%s" % tuple(key.split("/", 2))
          if key.split("/")[0] in random_kinds else key): v
         for key, v in f.items()}
    rows, ok_all, trained, random_training = [], bool(k), False, False
    for key in sorted(set(k) | set(f)):
        event, kind, arr = key.split("/", 2)
        if key not in k or key not in f:
            rows.append((key, "missing in %s" % ("fastrnn" if key in k else "keras"), None, False))
            ok_all = False
            continue
        a, b = k[key], f[key]
        if kind.endswith("~random"):
            random_training = True
        if kind.startswith(("fit", "train_on_batch")):
            tol_kind = "train"
        else:
            tol_kind = "train" if trained else "forward"
        if a.shape != b.shape:
            rows.append((key, "shape keras %s fastrnn %s" % (a.shape, b.shape), None, False))
            ok_all = False
            continue
        diff = float(np.max(np.abs(a - b))) if a.size else 0.0
        if random_training:
            ok = bool(np.all(np.isfinite(b)))
            rows.append((key, "random (dropout): finite only", diff, ok))
        else:
            rtol, atol = TOL[dtype][tol_kind]
            ok = bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(a)))
            rows.append((key, tol_kind, diff, ok))
        ok_all &= ok
        if kind.startswith(("fit", "train_on_batch")) and arr.startswith("weights"):
            trained = True
    return rows, ok_all


def summarize(rows):
    """(max abs diff of non-weight outputs, of weights after training)."""
    out = [d for key, kind, d, ok in rows if d is not None and "/weights" not in key
           and not kind.startswith("random")]
    w = [d for key, kind, d, ok in rows if d is not None and "/weights" in key
         and not kind.startswith("random")]
    return (max(out) if out else float("nan")), (max(w) if w else float("nan"))


def main():
    names = [a for a in sys.argv[1:] if not a.startswith("--")]
    names = names or sorted(n[:-3] for n in os.listdir(HERE)
                            if n.endswith(".py") and not n.startswith(("_", "run_all")))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    table = []
    for name in names:
        src = open(os.path.join(HERE, name + ".py")).read()
        dtype = header(src, "dtype") or "float32"
        cmp_dir = tempfile.mkdtemp(prefix="gcmp_")
        kc, kl, kt, kout, kerr = run(name, "keras", cmp_dir)
        fc, fl, ft, fout, ferr = run(name, "fastrnn", cmp_dir)
        rows, ok = compare(cmp_dir, dtype)
        ok = ok and kc == 0 and fc == 0
        d_out, d_w = summarize(rows)
        shutil.rmtree(cmp_dir, ignore_errors=True)
        with open(os.path.join(HERE, "results", name + ".txt"), "w") as fh:
            fh.write("keras exit %d in %.1fs %s\nfastrnn exit %d in %.1fs %s\n"
                     % (kc, kt, kl, fc, ft, fl))
            for key, kind, d, r in rows:
                fh.write("%-4s %-60s %-32s %s\n" % ("ok" if r else "FAIL", key, kind,
                                                     "" if d is None else "%.2e" % d))
            fh.write("==== keras stdout\n%s\n==== keras stderr\n%s\n" % (kout[-3000:], kerr))
            fh.write("==== fastrnn stdout\n%s\n==== fastrnn stderr\n%s\n" % (fout[-3000:], ferr))
        fails = [key for key, kind, d, r in rows if not r]
        print("%-34s %s  keras %d/%.0fs fastrnn %d/%.0fs  events %3d  out %.1e  weights %.1e "
              "%s%s" % (
            name, "PASS" if ok else "FAIL", kc, kt, fc, ft, len(rows), d_out, d_w,
            (kl or fl)[:120], ("  first fail: " + fails[0]) if fails else ""), flush=True)
        table.append((name, ok))
    print("%d of %d programs pass" % (sum(ok for _, ok in table), len(table)))
    return 0 if all(ok for _, ok in table) else 1


if __name__ == "__main__":
    sys.exit(main())
