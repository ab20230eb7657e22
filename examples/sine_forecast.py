"""Forecast a noisy sine wave with a Bidirectional SimpleRNN stack, trained with fit.

    python examples/sine_forecast.py            # add --plot loss.png to draw History

Each sample is 40 noisy steps of a sine wave with a random phase and period; the
target is the clean value 5 steps after the window.
"""
import argparse
import time

import numpy as np

import fastrnn
from fastrnn.layers import Bidirectional, Dense, SimpleRNN
from fastrnn.models import Sequential
from fastrnn.optimizers import Adam


def make_data(n, steps=40, horizon=5, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    period = rng.uniform(10, 30, (n, 1))
    t = np.arange(steps + horizon)[None, :]
    clean = np.sin(2 * np.pi * t / period + phase)
    x = clean[:, :steps] + noise * rng.normal(size=(n, steps))
    y = clean[:, steps + horizon - 1:]
    return x[:, :, None].astype(np.float32), y.astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--plot", metavar="FILE.png")
    args = parser.parse_args(argv)

    fastrnn.set_random_seed(0)
    x, y = make_data(3000)
    model = Sequential()
    model.add(Bidirectional(SimpleRNN(32, return_sequences=True), input_shape=(40, 1)))
    model.add(SimpleRNN(32))
    model.add(Dense(1))
    model.compile(optimizer=Adam(learning_rate=3e-3), loss="mse", metrics=["mae"])
    model.summary()

    start = time.perf_counter()
    history = model.fit(x, y, batch_size=64, epochs=args.epochs, validation_split=0.2,
                        verbose=2)
    seconds = time.perf_counter() - start
    baseline = float(np.mean((y[2400:] - y[:2400].mean()) ** 2))
    print(f"trained in {seconds:.1f} s; final val_loss {history.history['val_loss'][-1]:.4f}"
          f" (predicting the mean gives {baseline:.4f})")
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        ax = history.plot(["loss", "val_loss"])
        ax.set_yscale("log")
        ax.figure.savefig(args.plot)
        print("plot written to", args.plot)
    return history


if __name__ == "__main__":
    main()
