"""Run every user program under fastrnn (and, with --keras, under real Keras 3 from the same start weights).

    PYTHONPATH=<worktree> python tools/user_programs/run_all.py [--keras] [names...]

Each program runs in its own scratch folder with `timeout 300`; the result (exit status, last exception
line, time) goes to tools/user_programs/results/<name>.{fastrnn,keras}.txt. With --keras the program's
fastrnn imports are turned back into Keras imports (the reverse of the one change made to each program),
_compare_hook.py gives both runs the same initial weights and shuffle=False, and the logged fit / predict /
evaluate numbers are compared (max relative difference).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KERAS_PY = "/work/kvenv/bin/python"


def to_keras(src):
    src = src.replace("import fastrnn as keras", "import keras")
    src = re.sub(r"^import fastrnn$", "import keras as fastrnn", src, flags=re.M)
    src = src.replace("import fastrnn.", "import keras.")
    src = src.replace("from fastrnn.", "from keras.").replace("from fastrnn import", "from keras import")
    return src


def run(name, mode, cmp_dir):
    src = open(os.path.join(HERE, name + ".py")).read()
    work = tempfile.mkdtemp(prefix="up_")
    shutil.copy(os.path.join(HERE, "_synthetic.py"), work)
    shutil.copy(os.path.join(HERE, "_compare_hook.py"), work)
    prog = os.path.join(work, name + ".py")
    env = dict(os.environ, MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3", CMP_DIR=cmp_dir)
    if mode == "keras":
        open(prog, "w").write(to_keras(src))
        py, env["CMP_MODE"] = KERAS_PY, "save"
        env.pop("PYTHONPATH", None)
    else:
        open(prog, "w").write(src)
        py = sys.executable
        env["CMP_MODE"] = "load" if cmp_dir != work and os.path.exists(os.path.join(cmp_dir, "log_save.jsonl")) else "off"
    boot = "import sys; sys.path.insert(0, %r); import _compare_hook; import runpy; runpy.run_path(%r, run_name='__main__')" % (work, prog)
    t0 = time.time()
    p = subprocess.run(["timeout", "300", py, "-c", boot], cwd=work, env=env, capture_output=True, text=True)
    dt = time.time() - t0
    err = [l for l in p.stderr.strip().splitlines() if l.strip()]
    last = err[-1] if (p.returncode and err) else ""
    out = os.path.join(HERE, "results", "%s.%s.txt" % (name, mode))
    with open(out, "w") as f:
        f.write("exit %d in %.1f s\nlast: %s\n==== stdout\n%s\n==== stderr (tail)\n%s\n" % (
            p.returncode, dt, last, p.stdout[-6000:], "\n".join(err[-40:])))
    shutil.rmtree(work, ignore_errors=True)
    return p.returncode, last, dt


def compare(cmp_dir):
    def load(m):
        p = os.path.join(cmp_dir, "log_%s.jsonl" % m)
        return [json.loads(l) for l in open(p)] if os.path.exists(p) else []
    k, f = load("save"), load("load")
    worst = 0.0
    lines = []
    for i, (a, b) in enumerate(zip(k, f)):
        va, vb = json.dumps(a["value"], sort_keys=True), json.dumps(b["value"], sort_keys=True)
        na = [float(x) for x in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", va)]
        nb = [float(x) for x in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", vb)]
        if len(na) != len(nb):
            lines.append("event %d %s: structure differs keras=%s fastrnn=%s" % (i, a["kind"], va[:200], vb[:200]))
            continue
        d = max([abs(x - y) / max(1.0, abs(x)) for x, y in zip(na, nb)] or [0.0])
        worst = max(worst, d)
        if a["kind"] != b["kind"]:
            lines.append("event %d: kinds differ keras=%s fastrnn=%s" % (i, a["kind"], b["kind"]))
        lines.append("event %d %s: max rel diff %.2e  keras=%s  fastrnn=%s" % (i, a["kind"], d, va[:160], vb[:160]))
    lines.append("events keras=%d fastrnn=%d, worst %.2e" % (len(k), len(f), worst))
    return "\n".join(lines), worst, len(k), len(f)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    keras = "--keras" in sys.argv
    names = args or sorted(n[:-3] for n in os.listdir(HERE) if n.endswith(".py") and not n.startswith(("_", "run_all")))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    for name in names:
        cmp_dir = tempfile.mkdtemp(prefix="cmp_")
        if keras:
            kc, kl, kt = run(name, "keras", cmp_dir)
            print("%-40s keras   exit %3d %6.1fs %s" % (name, kc, kt, kl[:150]), flush=True)
        c, l, t = run(name, "fastrnn", cmp_dir)
        print("%-40s fastrnn exit %3d %6.1fs %s" % (name, c, t, l[:150]), flush=True)
        if keras:
            text, worst, nk, nf = compare(cmp_dir)
            open(os.path.join(HERE, "results", name + ".compare.txt"), "w").write(text + "\n")
            print("%-40s compare: %d/%d events, worst rel diff %.2e" % (name, nk, nf, worst), flush=True)
            print("    " + text.replace("\n", "\n    "), flush=True)
        shutil.rmtree(cmp_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
