"""Timing script (not a test) for issue 9's note: one IMDB-sized fit epoch,
Embedding(10000, 32) -> SimpleRNN(32) -> Dense(1, sigmoid), RMSprop, binary crossentropy,
batch 128, T=500, 5,000 random sequences, validation_split=0.2.

Run: PYTHONPATH=$PWD python tools/bench_imdb_fit.py [profile]
"""
import sys
import time

import numpy as np

from fastrnn.layers import Dense, Embedding, SimpleRNN
from fastrnn.models import Sequential
from fastrnn.optimizers import RMSprop

rng = np.random.default_rng(0)
x = rng.integers(1, 10000, (5000, 500)).astype("int32")
y = rng.integers(0, 2, (5000, 1)).astype("float32")
model = Sequential([Embedding(10000, 32), SimpleRNN(32), Dense(1, activation="sigmoid")])
model.compile(optimizer=RMSprop(), loss="binary_crossentropy", metrics=["accuracy"])
model.predict(x[:2], verbose=0)  # build
if len(sys.argv) > 1 and sys.argv[1] == "profile":
    import cProfile
    import pstats
    cProfile.run("model.fit(x, y, epochs=1, batch_size=128, validation_split=0.2, verbose=0)",
                 "imdb.prof")
    pstats.Stats("imdb.prof").sort_stats("cumulative").print_stats(25)
    pstats.Stats("imdb.prof").sort_stats("tottime").print_stats(15)
else:
    t = time.perf_counter()
    hist = model.fit(x, y, epochs=1, batch_size=128, validation_split=0.2, verbose=0)
    print(f"{time.perf_counter() - t:.3f} s", {k: round(v[0], 4) for k, v in hist.history.items()})
