"""Time the SimpleRNN, LSTM or GRU kernel at 1 thread and at the default thread count,
optionally with another process keeping a core busy (the case issue 12 calls contention).

    python tools/time_threads.py [--busy] [--repeat 15] [--workloads tutorial,online,...]
                                 [--cells simple,lstm,gru]

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


GATES = {"simple": 1, "lstm": 4, "gru": 3}


def make(name, rng, cell="simple"):
    B, T, D, H = WORKLOADS[name]
    G = GATES[cell]
    dirs = 4 if name == "deep-bidir" else 1
    layers = []
    for i in range(dirs):
        d = D if i < 2 else 2 * H
        bias = np.zeros((2, G * H) if cell == "gru" else G * H, np.float32)
        layers.append((rng.standard_normal((d, G * H), dtype=np.float32) / np.sqrt(d),
                       rng.standard_normal((H, G * H), dtype=np.float32) / np.sqrt(H),
                       bias))
    x = rng.standard_normal((B, T, D), dtype=np.float32)
    return x, layers


def run_gated(F, cell, name, x, layers, train):
    """The LSTM or GRU version of run (forward of all sequences, backward from ones)."""
    fwd = F.lstm_forward if cell == "lstm" else F.gru_forward
    bwd = F.lstm_backward if cell == "lstm" else F.gru_backward
    inp = x
    saved = []
    for lay in range(2 if name == "deep-bidir" else 1):
        outs = []
        for d in range(2 if name == "deep-bidir" else 1):
            k, r, b = layers[2 * lay + d]
            res = fwd(inp, k, r, b, go_backwards=bool(d), positions=True,
                      return_cache=train)
            outs.append(res[0])
            if train:
                saved.append((inp, k, r, b, res[0], res[-1], bool(d)))
        inp = np.concatenate(outs, axis=-1) if len(outs) > 1 else outs[0]
    for inp, k, r, b, seq, cache, rev in reversed(saved):
        extra = (None,) if cell == "lstm" else ()
        bwd(np.ones_like(seq), None, *extra, inp, k, r, b, go_backwards=rev, positions=True,
            cache=cache)


def run(F, name, x, layers, train, cell="simple"):
    if cell != "simple":
        return run_gated(F, cell, name, x, layers, train)
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
    ap.add_argument("--cells", default="simple",
                    help="comma-separated: simple (SimpleRNN), lstm, gru")
    args = ap.parse_args()
    from fastrnn import functional as F
    busy = None
    if args.busy:
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        rng = np.random.default_rng(0)
        default = F.get_num_threads()
        print(f"default threads {default}; busy core: {args.busy}")
        for cell in args.cells.split(","):
            for name in args.workloads.split(","):
                x, layers = make(name, rng, cell)
                for mode in args.modes.split(","):
                    res = {}
                    # alternate 1 and default so drift in the machine's load hits both
                    for rep in range(3):
                        for nt in (1, None):
                            F.set_num_threads(nt)
                            t = median_ms(
                                lambda: run(F, name, x, layers, mode == "train", cell),
                                max(3, args.repeat // 3))
                            res.setdefault(nt, []).append(t)
                    one = float(np.median(res[1]))
                    dflt = float(np.median(res[None]))
                    print(f"{cell:6s} {name:11s} {mode:8s} 1 thread {one:9.3f} ms   default "
                          f"{dflt:9.3f} ms   ratio {dflt / one:5.2f}", flush=True)
        F.set_num_threads(None)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


if __name__ == "__main__":
    main()
