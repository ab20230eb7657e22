# Note A evidence (RESULTS.md): run with /work/kvenv/bin/python step_check2.py keras <opt> ... then
# PYTHONPATH=<worktree> python step_check2.py fastrnn <opt> ... (step_check2 and fit_check share weights via /tmp/*.npz).
import sys, numpy as np
sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), ".."))
from _synthetic import imdb_load_data
lib, opt, nsteps = sys.argv[1], sys.argv[2], int(sys.argv[3])
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
model = keras.Sequential([L.Embedding(10000, 32), L.SimpleRNN(32), L.Dense(1, activation="sigmoid")])
model.build((None, 500))
if lib == "keras":
    np.savez("/tmp/s2_w.npz", *model.get_weights())
else:
    d = np.load("/tmp/s2_w.npz"); model.set_weights([d["arr_%d" % i] for i in range(len(d.files))])
model.compile(optimizer={"rmsprop": O.RMSprop(), "sgd": O.SGD(0.01), "adam": O.Adam()}[opt], loss="binary_crossentropy")
B = int(sys.argv[4]) if len(sys.argv) > 4 else 128
losses = [float(model.train_on_batch(x[B*i:B*(i+1)], yt[B*i:B*(i+1)])) for i in range(nsteps)]
np.savez("/tmp/s2_%s.npz" % lib, *model.get_weights())
print(lib, opt, ["%.7f" % l for l in losses])
