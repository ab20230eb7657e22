# Note A evidence (RESULTS.md): run with /work/kvenv/bin/python fit_vs_tob.py keras <opt> ... then
# PYTHONPATH=<worktree> python fit_vs_tob.py fastrnn <opt> ... (step_check2 and fit_check share weights via /tmp/*.npz).
import sys, numpy as np
sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), ".."))
from _synthetic import imdb_load_data
lib = sys.argv[1]; optname = sys.argv[2]
(xt, yt), _ = imdb_load_data(num_words=10000)
if lib == "keras":
    import keras
    from keras import layers as L, optimizers as O
    from keras.utils import pad_sequences
else:
    import fastrnn as keras
    from fastrnn import layers as L, optimizers as O
    from fastrnn.utils import pad_sequences
x = pad_sequences(xt, maxlen=500)
def make():
    m = keras.Sequential([L.Embedding(10000, 32), L.SimpleRNN(32), L.Dense(1, activation="sigmoid")])
    m.build((None, 500))
    return m
a = make(); w0 = a.get_weights()
b = make(); b.set_weights(w0)
opt = lambda: {"rmsprop": O.RMSprop(), "adam": O.Adam(), "sgd": O.SGD(0.01)}[optname]
a.compile(optimizer=opt(), loss="binary_crossentropy")
b.compile(optimizer=opt(), loss="binary_crossentropy")
a.fit(x, yt, epochs=1, batch_size=128, shuffle=False, verbose=0)
for i in range(16):
    b.train_on_batch(x[128*i:128*(i+1)], yt[128*i:128*(i+1)])
print(lib, optname, "fit vs train_on_batch max weight diff", ['%.1e' % float(np.abs(p - q).max()) for p, q in zip(a.get_weights(), b.get_weights())])
