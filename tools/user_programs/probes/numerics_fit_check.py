# Note A evidence: fit from Keras's initial weights, both libraries; args: lib opt validation_split [batch_size].
import sys, numpy as np
sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), ".."))
from _synthetic import imdb_load_data
lib, opt, vs = sys.argv[1], sys.argv[2], float(sys.argv[3])
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
    np.savez("/tmp/f_w.npz", *model.get_weights())
else:
    d = np.load("/tmp/f_w.npz"); model.set_weights([d["arr_%d" % i] for i in range(len(d.files))])
model.compile(optimizer=(O.RMSprop() if opt == "obj" else opt), loss="binary_crossentropy", metrics=["acc"])
h = model.fit(x, yt, epochs=1, batch_size=int(sys.argv[4]) if len(sys.argv) > 4 else 128, validation_split=vs, shuffle=False, verbose=0)
np.savez("/tmp/f_%s.npz" % lib, *model.get_weights())
print(lib, opt, {k: ["%.6f" % v for v in vals] for k, vals in sorted(h.history.items())})
