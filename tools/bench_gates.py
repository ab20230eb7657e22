"""Quick timing of fastrnn's LSTM/GRU kernels against PyTorch nn.LSTM / nn.GRU.

    python tools/bench_gates.py [--threads 2] [--shape 64 100 128 256] [--repeat 10]

Float32, batch-major (B, T, D) -> U units; forward (all sequences) and forward+backward
(gradient of sum(sequences * G)). Prints the median of --repeat runs in milliseconds,
wall-clock and (in brackets) CPU time of the process, which a machine shared with other
work distorts less.
"""
import argparse
import time

import numpy as np


def median_ms(fn, repeat):
    """(wall-clock, process CPU time) medians in ms."""
    fn()  # warm up
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return 1e3 * float(np.median(wall)), 1e3 * float(np.median(cpu))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shape", type=int, nargs=4, default=[64, 100, 128, 256],
                    metavar=("B", "T", "D", "U"))
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    import torch
    from fastrnn import functional as F

    B, T, D, U = args.shape
    F.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, D), dtype=np.float32)
    G = rng.standard_normal((B, T, U), dtype=np.float32)
    print(f"shape (B, T, D, U) = {tuple(args.shape)}, float32, {args.threads} threads, "
          f"median of {args.repeat} (ms)")
    print(f"{'':6} {'fastrnn fwd':>16} {'torch fwd':>16} {'fastrnn f+b':>16} {'torch f+b':>16}")
    for name, gates in (("LSTM", 4), ("GRU", 3)):
        W = (rng.standard_normal((D, gates * U)) * 0.05).astype(np.float32)
        R = (rng.standard_normal((U, gates * U)) * 0.05).astype(np.float32)
        if name == "LSTM":
            b = np.zeros(4 * U, np.float32)
            fwd = lambda: F.lstm_forward(x, W, R, b)  # noqa: E731

            def fb():
                *_, cache = F.lstm_forward(x, W, R, b, return_cache=True)
                F.lstm_backward(G, None, None, x, W, R, b, cache=cache, workspace=ws)
            net = torch.nn.LSTM(D, U, batch_first=True)
        else:
            b = np.zeros((2, 3 * U), np.float32)
            fwd = lambda: F.gru_forward(x, W, R, b)  # noqa: E731

            def fb():
                *_, cache = F.gru_forward(x, W, R, b, return_cache=True)
                F.gru_backward(G, None, x, W, R, b, cache=cache, workspace=ws)
            net = torch.nn.GRU(D, U, batch_first=True)
        ws = {}
        xt = torch.from_numpy(x)
        Gt = torch.from_numpy(G)

        def t_fwd():
            with torch.inference_mode():
                net(xt)

        def t_fb():
            xg = xt.clone().requires_grad_(True)
            out, _ = net(xg)
            (out * Gt).sum().backward()
        row = [median_ms(f, args.repeat) for f in (fwd, t_fwd, fb, t_fb)]
        print(f"{name:6} " + " ".join(f"{w:7.1f} ({c:6.1f})" for w, c in row))


if __name__ == "__main__":
    main()
