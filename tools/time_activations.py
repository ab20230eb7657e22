"""Time the forward (and forward + backward) per activation and dtype, to measure what a
kernel change costs: run it once per build and compare (minimum of the repeats).

    PYTHONPATH=<build A> python tools/time_activations.py
    PYTHONPATH=<build B> python tools/time_activations.py

Shapes are small-unit ones, where the activations are the largest share of the work.
One thread (FASTRNN_NUM_THREADS=1 is set here) so the numbers do not depend on load
from other threads as much.
"""
import os
import sys
import time

os.environ.setdefault("FASTRNN_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from fastrnn import functional as F  # noqa: E402

SHAPES = [(32, 500, 32, 32), (128, 100, 16, 16)]
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 30


def best_time(fn):
    fn()
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.min(times))  # the least disturbed run, on a shared machine


def main():
    rng = np.random.default_rng(0)
    print(f"fastrnn from {os.path.dirname(F.__file__)}; minimum of {REPEATS}")
    for B, T, D, H in SHAPES:
        for dtype in (np.float32, np.float64):
            x = rng.uniform(-1, 1, (B, T, D)).astype(dtype)
            w = rng.uniform(-0.3, 0.3, (D, H)).astype(dtype)
            u = (rng.uniform(-0.5, 0.5, (H, H)) / np.sqrt(H)).astype(dtype)
            row = []
            for act in ("tanh", "relu", "sigmoid", "linear"):
                seq, _ = F.simple_rnn_forward(x, w, u, activation=act)
                dy = np.ones_like(seq)
                fwd = best_time(lambda: F.simple_rnn_forward(x, w, u, activation=act))
                bwd = best_time(lambda: F.simple_rnn_backward(dy, None, x, w, u, seq,
                                                                activation=act))
                row.append(f"{act} {fwd * 1e3:6.2f}/{bwd * 1e3:6.2f}")
            print(f"{(B, T, D, H)} {np.dtype(dtype).name}: fwd/bwd ms  " + "  ".join(row))


if __name__ == "__main__":
    main()
