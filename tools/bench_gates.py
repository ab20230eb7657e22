"""Quick timing of fastrnn's LSTM/GRU kernels against PyTorch nn.LSTM / nn.GRU.

    python tools/bench_gates.py [--threads 2] [--shape 64 100 128 256] [--repeat 10]

Float32, batch-major (B, T, D) -> U units; forward (all sequences) and forward+backward
(gradient of sum(sequences * G)). Prints the median of --repeat runs in milliseconds.
"""
import argparse
import time

import numpy as np


def median_ms(fn, repeat):
    fn()  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


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
    print(f"{'':6} {'fastrnn fwd':>12} {'torch fwd':>10} {'fastrnn f+b':>12} {'torch f+b':>10}")
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
        print(f"{name:6} {row[0]:12.1f} {row[1]:10.1f} {row[2]:12.1f} {row[3]:10.1f}")


if __name__ == "__main__":
    main()
