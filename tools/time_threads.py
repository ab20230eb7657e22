"""Time the SimpleRNN kernel at 1 thread and at the default thread count, optionally
with another process keeping a core busy (the case issue 12 calls contention).

    python tools/time_threads.py [--busy] [--repeat 15] [--workloads tutorial,online,...]

Prints, per workload and mode (forward; forward + backward), the median wall-clock ms at
1 thread and at the default count, and their ratio (default / one; <= 1.05 is the goal
under --busy). deep-bidir is two Bidirectional layers (4 layer-directions) run through
fastrnn.functional, as the benchmark's workload.
"""
import argparse
import subprocess
import sys
import time

import numpy as np

WORKLOADS = {
    "tutorial": (128, 500, 32, 32),
    "online": (1, 100, 64, 256),
    "small": (32, 50, 32, 64),
    "medium": (64, 100, 128, 256),
    "large": (32, 50, 512, 1024),
    "deep-bidir": (32, 100, 128, 256),
}


def make(name, rng):
    B, T, D, H = WORKLOADS[name]
    dirs = 4 if name == "deep-bidir" else 1
    layers = []
    for i in range(dirs):
        d = D if i < 2 else 2 * H
        layers.append((rng.standard_normal((d, H), dtype=np.float32) / np.sqrt(d),
                       rng.standard_normal((H, H), dtype=np.float32) / np.sqrt(H),
                       np.zeros(H, np.float32)))
    x = rng.standard_normal((B, T, D), dtype=np.float32)
    return x, layers


def run(F, name, x, layers, train):
    if name != "deep-bidir":
        k, r, b = layers[0]
        seq, _ = F.simple_rnn_forward(x, k, r, b)
        if train:
            F.simple_rnn_backward(np.ones_like(seq), None, x, k, r, seq)
        return
    inp = x
    saved = []
    for lay in range(2):
        outs = []
        for d in range(2):
            k, r, b = layers[2 * lay + d]
            seq, _ = F.simple_rnn_forward(inp, k, r, b, go_backwards=bool(d), positions=True)
            outs.append(seq)
            saved.append((inp, k, r, seq, bool(d)))
        inp = np.concatenate(outs, axis=-1)
    if train:
        for inp, k, r, seq, rev in reversed(saved):
            F.simple_rnn_backward(np.ones_like(seq), None, inp, k, r, seq,
                                  go_backwards=rev, positions=True)


def median_ms(fn, repeat):
    fn()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(ts))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--busy", action="store_true")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--modes", default="forward,train")
    args = ap.parse_args()
    from fastrnn import functional as F
    busy = None
    if args.busy:
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        rng = np.random.default_rng(0)
        default = F.get_num_threads()
        print(f"default threads {default}; busy core: {args.busy}")
        for name in args.workloads.split(","):
            x, layers = make(name, rng)
            for mode in args.modes.split(","):
                res = {}
                # alternate 1 and default so drift in the machine's load hits both
                for rep in range(3):
                    for nt in (1, None):
                        F.set_num_threads(nt)
                        t = median_ms(lambda: run(F, name, x, layers, mode == "train"),
                                      max(3, args.repeat // 3))
                        res.setdefault(nt, []).append(t)
                one = float(np.median(res[1]))
                dflt = float(np.median(res[None]))
                print(f"{name:11s} {mode:8s} 1 thread {one:9.3f} ms   default {dflt:9.3f} ms"
                      f"   ratio {dflt / one:5.2f}", flush=True)
        F.set_num_threads(None)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


if __name__ == "__main__":
    main()
