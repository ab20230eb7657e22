"""Model builders shared by the Keras 3 fixture generator and fastrnn's graph tests.

Each builder takes a module ``K`` and builds its model with only the Keras 3 public
API that both ``import keras as K`` and ``import fastrnn as K`` expose: ``K.Input``,
``K.Model``, ``K.Sequential`` and ``K.layers.<Name>`` (including the lowercase merge
functions ``K.layers.concatenate``, ``add``, ...). Every layer gets an explicit
``name=`` so that weights recorded from Keras are set layer by layer with
``model.get_layer(name).set_weights(...)``.

``tools/make_keras_graph_fixtures.py`` (run with Keras 3) builds each case of
``CASES`` with Keras, writes ``tests/fixtures/<case>.npz``; ``tests/test_keras_graph.py``
builds the same case with fastrnn and compares. This module imports neither.

A case is a dict:

- ``build``: ``build(K, dtype)`` returns the model (``dtype`` is "float32" or
  "float64"; float64 builders pass ``dtype=`` to every layer and Input).
- ``dtype``; ``batch`` (number of samples);
- ``inputs``: one entry per model input, ``("float", shape)`` uniform in [-1, 1);
  ``("tokens", (T,), vocab)`` integer ids in [1, vocab) with zero padding, pre-padded
  rows and post-padded rows alternating (one row fully padded unless
  ``"no_empty_rows"`` is set on the case); ``("masked_float", (T, F))`` floats whose
  padded timesteps are exactly 0.0 (pre and post padding), for ``Masking(0.0)``.
- ``predict_batch_size`` (optional): outputs come from ``model.predict(x, batch_size=)``
  instead of ``model(x)``.
- ``train`` (optional): ``{"compile": {"optimizer": {"class", "config"}, "loss",
  "loss_weights", "metrics"}, "method": "fit" | "train_on_batch", "fit": {...},
  "steps": n, "targets": [("float", shape) | ("binary", shape) | ("class", (T,), n)]}``.
- ``summary`` (optional): record Keras's ``summary()`` text in the spec.

``SAVED`` (at the end) lists the models that ``tools/make_keras_saved_fixtures.py``
saves with Keras into ``tests/fixtures/saved/`` for ``tests/test_keras_saved.py``.
"""


def _kw(dtype):
    """``dtype=`` for every layer of a float64 model; Keras defaults for float32."""
    return {} if dtype == "float32" else {"dtype": dtype}


# ----------------------------------------------------------------- issue 7: graphs
def encoder_decoder(K, dtype="float32"):
    """Encoder ``return_state`` -> decoder ``initial_state`` -> per-step Dense head."""
    kw = _kw(dtype)
    enc_in = K.Input(shape=(5, 3), name="enc_in", **kw)
    dec_in = K.Input(shape=(4, 2), name="dec_in", **kw)
    _, h = K.layers.SimpleRNN(4, return_state=True, name="encoder", **kw)(enc_in)
    seq = K.layers.SimpleRNN(4, return_sequences=True, name="decoder", **kw)(
        dec_in, initial_state=[h])
    out = K.layers.Dense(3, name="head", **kw)(seq)
    return K.Model([enc_in, dec_in], out, name="encoder_decoder")


def siamese_subtract(K, dtype="float32"):
    """One SimpleRNN shared by two inputs, ``Subtract`` -> Dense(sigmoid)."""
    a = K.Input(shape=(6, 3), name="left")
    b = K.Input(shape=(6, 3), name="right")
    shared = K.layers.SimpleRNN(4, name="shared_rnn")
    diff = K.layers.Subtract(name="diff")([shared(a), shared(b)])
    out = K.layers.Dense(1, activation="sigmoid", name="score")(diff)
    return K.Model([a, b], out, name="siamese")


def siamese_concat(K, dtype="float32"):
    """Shared SimpleRNN (sequences) on two inputs, ``concatenate`` on the feature axis."""
    a = K.Input(shape=(5, 2), name="left")
    b = K.Input(shape=(5, 2), name="right")
    shared = K.layers.SimpleRNN(3, return_sequences=True, name="shared_rnn")
    both = K.layers.concatenate([shared(a), shared(b)], name="joined")
    last = K.layers.SimpleRNN(4, name="top_rnn")(both)
    out = K.layers.Dense(2, activation="softmax", name="probs")(last)
    return K.Model([a, b], out, name="siamese_concat")


def two_in_two_out(K, dtype="float32"):
    """A sequence and a vector in; a regression head and a sigmoid head out."""
    seq = K.Input(shape=(6, 3), name="seq")
    aux = K.Input(shape=(2,), name="aux")
    h = K.layers.SimpleRNN(4, name="rnn")(seq)
    a = K.layers.Dense(3, activation="relu", name="aux_dense")(aux)
    joined = K.layers.Concatenate(axis=-1, name="joined")([h, a])
    reg = K.layers.Dense(2, name="reg")(joined)
    cls = K.layers.Dense(1, activation="sigmoid", name="cls")(joined)
    return K.Model(inputs=[seq, aux], outputs=[reg, cls], name="two_heads")


def bidir_return_state(K, dtype="float32"):
    """``Bidirectional(SimpleRNN(return_state=True))`` -> [merged, fwd_h, bwd_h] + a head."""
    x = K.Input(shape=(5, 3), name="x")
    merged, fwd_h, bwd_h = K.layers.Bidirectional(
        K.layers.SimpleRNN(3, return_sequences=True, return_state=True, name="rnn"),
        name="bidir")(x)
    states = K.layers.Concatenate(name="states")([fwd_h, bwd_h])
    head = K.layers.Dense(2, name="head")(states)
    return K.Model(x, [merged, fwd_h, bwd_h, head], name="bidir_state")


def bidir_state_none(K, dtype="float32"):
    """``merge_mode=None`` with ``return_state``: [fwd, bwd, fwd_h, bwd_h]; sum merge too.

    (Keras 3 refuses ``Bidirectional(SimpleRNN(go_backwards=True))``: its backward copy
    always gets ``go_backwards=True``, and equal values are an error.)
    """
    x = K.Input(shape=(4, 2), name="x")
    outs = K.layers.Bidirectional(
        K.layers.SimpleRNN(3, return_sequences=True, return_state=True, name="rnn"),
        merge_mode=None, name="bidir_none")(x)
    summed, fh, bh = K.layers.Bidirectional(
        K.layers.SimpleRNN(2, return_state=True, name="rnn2"),
        merge_mode="sum", name="bidir_sum")(x)
    return K.Model(x, list(outs) + [summed, fh, bh], name="bidir_none")


def merge_layers(K, dtype="float32"):
    """Every merge layer class on two SimpleRNN sequences (and a 3-input ``Add``)."""
    a = K.Input(shape=(5, 3), name="a")
    b = K.Input(shape=(5, 3), name="b")
    ra = K.layers.SimpleRNN(4, return_sequences=True, name="rnn_a")(a)
    rb = K.layers.SimpleRNN(4, return_sequences=True, name="rnn_b")(b)
    pa = K.layers.Dense(4, name="proj_a")(a)
    L = K.layers
    outs = [
        L.Concatenate(axis=-1, name="concat_last")([ra, rb]),
        L.Concatenate(axis=1, name="concat_time")([ra, rb]),
        L.Add(name="add")([ra, rb]),
        L.Subtract(name="subtract")([ra, rb]),
        L.Multiply(name="multiply")([ra, rb]),
        L.Average(name="average")([ra, rb]),
        L.Maximum(name="maximum")([ra, rb]),
        L.Minimum(name="minimum")([ra, rb]),
        L.Add(name="add3")([ra, rb, pa]),
    ]
    return K.Model([a, b], outs, name="merges")


def merge_functions(K, dtype="float32"):
    """The lowercase merge functions, with a final SimpleRNN over their concatenation."""
    a = K.Input(shape=(4, 2), name="a")
    b = K.Input(shape=(4, 2), name="b")
    ra = K.layers.SimpleRNN(3, return_sequences=True, name="rnn_a")(a)
    rb = K.layers.SimpleRNN(3, return_sequences=True, name="rnn_b")(b)
    L = K.layers
    parts = [L.add([ra, rb], name="f_add"), L.subtract([ra, rb], name="f_subtract"),
             L.multiply([ra, rb], name="f_multiply"), L.average([ra, rb], name="f_average"),
             L.maximum([ra, rb], name="f_maximum"), L.minimum([ra, rb], name="f_minimum")]
    cat = L.concatenate(parts, axis=-1, name="f_concat")
    out = L.SimpleRNN(2, name="top")(cat)
    return K.Model([a, b], [cat, out], name="merge_functions")


def seq2seq_reshape(K, dtype="float32"):
    """SimpleRNN -> RepeatVector -> SimpleRNN(seq) -> Permute -> Reshape -> Dense."""
    x = K.Input(shape=(6, 2), name="x")
    code = K.layers.SimpleRNN(4, name="enc")(x)
    rep = K.layers.RepeatVector(3, name="repeat")(code)                  # (3, 4)
    dec = K.layers.SimpleRNN(5, return_sequences=True, name="dec")(rep)  # (3, 5)
    perm = K.layers.Permute((2, 1), name="permute")(dec)                 # (5, 3)
    flat = K.layers.Reshape((15,), name="flat")(perm)
    out = K.layers.Dense(4, name="head")(flat)
    back = K.layers.Reshape((-1, 3), name="unflat")(flat)                # (5, 3)
    again = K.layers.SimpleRNN(2, name="again")(back)
    return K.Model(x, [out, perm, again], name="seq2seq")


def nested_models(K, dtype="float32"):
    """A functional model and a Sequential used as layers (the functional one shared)."""
    inner_in = K.Input(shape=(5, 3), name="inner_in")
    inner_h = K.layers.SimpleRNN(4, name="inner_rnn")(inner_in)
    inner_out = K.layers.Dense(3, activation="tanh", name="inner_dense")(inner_h)
    inner = K.Model(inner_in, inner_out, name="inner")
    seq_model = K.Sequential([K.Input(shape=(5, 3)),
                              K.layers.SimpleRNN(3, return_sequences=True, name="seq_rnn"),
                              K.layers.SimpleRNN(3, name="seq_rnn2")], name="stack")
    a = K.Input(shape=(5, 3), name="a")
    b = K.Input(shape=(5, 3), name="b")
    summed = K.layers.Add(name="sum")([inner(a), inner(b), seq_model(a)])
    out = K.layers.Dense(2, name="out")(summed)
    return K.Model([a, b], out, name="outer")


def f64_bidir_encoder_decoder(K, dtype="float64"):
    """Float64: Bidirectional encoder states start two decoders; Add; Dense."""
    kw = _kw(dtype)
    enc_in = K.Input(shape=(5, 3), name="enc_in", **kw)
    dec_in = K.Input(shape=(4, 2), name="dec_in", **kw)
    _, fh, bh = K.layers.Bidirectional(
        K.layers.SimpleRNN(3, return_state=True, name="rnn", **kw), name="enc", **kw)(enc_in)
    d1 = K.layers.SimpleRNN(3, return_sequences=True, name="dec_f", **kw)(
        dec_in, initial_state=[fh])
    d2 = K.layers.SimpleRNN(3, return_sequences=True, go_backwards=True, name="dec_b", **kw)(
        dec_in, initial_state=[bh])
    s = K.layers.Add(name="add", **kw)([d1, d2])
    out = K.layers.Dense(2, activation="tanh", name="head", **kw)(s)
    return K.Model([enc_in, dec_in], [out, fh, bh], name="f64_enc_dec")


def sequential_return_state(K, dtype="float32"):
    """Issue 7's ``Sequential([SimpleRNN(4, return_state=True, input_shape=(3, 2))])``."""
    return K.Sequential([K.layers.SimpleRNN(4, return_state=True, input_shape=(3, 2),
                                            name="rnn")], name="seq_state")


# ----------------------------------------------------------------- issue 8: masks
def mask_embed_bidir_td(K, dtype="float32"):
    """Embedding(mask_zero) -> Bidirectional(SimpleRNN(seq)) -> TimeDistributed(Dense)."""
    x = K.Input(shape=(7,), dtype="int32", name="tokens")
    e = K.layers.Embedding(12, 4, mask_zero=True, name="embed")(x)
    h = K.layers.Bidirectional(K.layers.SimpleRNN(3, return_sequences=True, name="rnn"),
                               name="bidir")(e)
    out = K.layers.TimeDistributed(K.layers.Dense(2, name="dense"), name="td")(h)
    return K.Model(x, out, name="embed_bidir_td")


def mask_masking_stack(K, dtype="float32"):
    """Masking(0.0) -> SimpleRNN(seq) -> SimpleRNN (the second layer must see the mask)."""
    return K.Sequential([K.Input(shape=(6, 2)),
                         K.layers.Masking(mask_value=0.0, name="masking"),
                         K.layers.SimpleRNN(3, return_sequences=True, name="rnn1"),
                         K.layers.SimpleRNN(2, name="rnn2")], name="masking_stack")


def mask_masking_dropout(K, dtype="float32"):
    """Masking -> Dropout -> SimpleRNN (inference: Dropout passes the mask on)."""
    x = K.Input(shape=(6, 2), name="x")
    m = K.layers.Masking(0.0, name="masking")(x)
    d = K.layers.Dropout(0.5, name="dropout")(m)
    seq = K.layers.SimpleRNN(3, return_sequences=True, name="rnn_seq")(d)
    last = K.layers.SimpleRNN(3, name="rnn_last")(d)
    return K.Model(x, [seq, last], name="masking_dropout")


def mask_go_backwards(K, dtype="float32"):
    """Masked input with ``go_backwards``: Embedding mask and Masking, seq and last."""
    tok = K.Input(shape=(6,), dtype="int32", name="tokens")
    flt = K.Input(shape=(6, 2), name="floats")
    e = K.layers.Embedding(10, 3, mask_zero=True, name="embed")(tok)
    seq, h = K.layers.SimpleRNN(3, return_sequences=True, return_state=True, go_backwards=True,
                                name="rnn_back_seq")(e)
    m = K.layers.Masking(0.0, name="masking")(flt)
    last = K.layers.SimpleRNN(2, go_backwards=True, name="rnn_back_last")(m)
    return K.Model([tok, flt], [seq, h, last], name="masked_backwards")


def mask_merge(K, dtype="float32"):
    """Two masked token inputs merged (masks combined by Add/Concatenate) -> SimpleRNN."""
    a = K.Input(shape=(6,), dtype="int32", name="a")
    b = K.Input(shape=(6,), dtype="int32", name="b")
    emb = K.layers.Embedding(10, 3, mask_zero=True, name="embed")
    ea, eb = emb(a), emb(b)
    added = K.layers.Add(name="add")([ea, eb])
    cat = K.layers.Concatenate(name="concat")([ea, eb])
    h1 = K.layers.SimpleRNN(2, return_sequences=True, name="rnn_add")(added)
    h2 = K.layers.SimpleRNN(2, name="rnn_cat")(cat)
    return K.Model([a, b], [h1, h2], name="masked_merge")


def mask_bidir_state(K, dtype="float32"):
    """Masked Bidirectional with ``return_state``: [merged seq, fwd_h, bwd_h], and last-only."""
    x = K.Input(shape=(6,), dtype="int32", name="tokens")
    e = K.layers.Embedding(10, 3, mask_zero=True, name="embed")(x)
    seq, fh, bh = K.layers.Bidirectional(
        K.layers.SimpleRNN(2, return_sequences=True, return_state=True, name="rnn"),
        merge_mode="concat", name="bidir_seq")(e)
    last = K.layers.Bidirectional(K.layers.SimpleRNN(2, name="rnn2"), merge_mode="ave",
                                  name="bidir_last")(e)
    return K.Model(x, [seq, fh, bh, last], name="masked_bidir_state")


def mask_pass_through(K, dtype="float32"):
    """Layers that pass a mask on: Dense on 3-D, Activation, TimeDistributed, Dropout."""
    tok = K.Input(shape=(6,), dtype="int32", name="tokens")
    flt = K.Input(shape=(6, 2), name="floats")
    e = K.layers.Embedding(10, 3, mask_zero=True, name="embed")(tok)
    t = K.layers.TimeDistributed(K.layers.Dense(4, name="inner"), name="td")(e)
    a = K.layers.Activation("relu", name="relu")(t)
    h1 = K.layers.SimpleRNN(3, name="rnn_tok")(a)
    m = K.layers.Masking(0.0, name="masking")(flt)
    d = K.layers.Dense(3, activation="tanh", name="dense3d")(m)
    d = K.layers.Dropout(0.3, name="dropout")(d)
    h2 = K.layers.SimpleRNN(3, return_sequences=True, name="rnn_flt")(d)
    return K.Model([tok, flt], [h1, h2], name="mask_pass_through")


def mask_bidir_tagger(K, dtype="float32"):
    """Embedding(mask_zero) -> Bidirectional(seq) -> TimeDistributed(Dense(softmax))."""
    return K.Sequential([K.Input(shape=(5,), dtype="int32"),
                         K.layers.Embedding(10, 3, mask_zero=True, name="embed"),
                         K.layers.Bidirectional(
                             K.layers.SimpleRNN(3, return_sequences=True, name="rnn"),
                             name="bidir"),
                         K.layers.TimeDistributed(
                             K.layers.Dense(3, activation="softmax", name="dense"), name="td")],
                        name="bidir_tagger")


def mask_classifier(K, dtype="float32"):
    """Embedding(mask_zero) -> SimpleRNN -> Dense(sigmoid) (Sequential, for training)."""
    return K.Sequential([K.Input(shape=(6,), dtype="int32"),
                         K.layers.Embedding(10, 3, mask_zero=True, name="embed"),
                         K.layers.SimpleRNN(4, name="rnn"),
                         K.layers.Dense(1, activation="sigmoid", name="out")], name="clf")


def mask_tagger(K, dtype="float32"):
    """Embedding(mask_zero) -> SimpleRNN(seq) -> TimeDistributed(Dense(softmax)): a tagger."""
    x = K.Input(shape=(6,), dtype="int32", name="tokens")
    e = K.layers.Embedding(10, 3, mask_zero=True, name="embed")(x)
    h = K.layers.SimpleRNN(4, return_sequences=True, name="rnn")(e)
    out = K.layers.TimeDistributed(K.layers.Dense(3, activation="softmax", name="dense"),
                                   name="td")(h)
    return K.Model(x, out, name="tagger")


def mask_seq_regressor(K, dtype="float32"):
    """Masking -> SimpleRNN(seq) -> Dense on 3-D input: per-timestep regression."""
    return K.Sequential([K.Input(shape=(5, 2)),
                         K.layers.Masking(0.0, name="masking"),
                         K.layers.SimpleRNN(3, return_sequences=True, name="rnn"),
                         K.layers.Dense(2, name="dense")], name="seq_regressor")


# ----------------------------------------------------------------- the cases
_TWO_HEADS_COMPILE = {
    "optimizer": {"class": "Adam", "config": {"learning_rate": 0.01}},
    "loss": ["mse", "binary_crossentropy"],
    "loss_weights": [1.0, 0.5],
    "metrics": [["mae"], ["accuracy"]],
}
_TWO_HEADS_TARGETS = [("float", (2,)), ("binary", (1,))]

def mask_initial_state_lstm(K, dtype="float32"):
    """Masked encoder -> [h, c] -> masked decoder LSTM(initial_state=...): Keras 3 runs the
    decoder unmasked (a layer given several tensor arguments gets no automatic mask) but keeps
    its output mask for the loss."""
    enc = K.Input(shape=(6,), dtype="int32", name="enc_tokens")
    dec = K.Input(shape=(5,), dtype="int32", name="dec_tokens")
    _, h, c = K.layers.LSTM(3, return_state=True, name="encoder")(
        K.layers.Embedding(10, 4, mask_zero=True, name="enc_embed")(enc))
    seq = K.layers.LSTM(3, return_sequences=True, name="decoder")(
        K.layers.Embedding(9, 4, mask_zero=True, name="dec_embed")(dec), initial_state=[h, c])
    return K.Model([enc, dec], K.layers.Dense(4, name="head")(seq), name="mask_init_lstm")


def mask_initial_state_bidir_gru(K, dtype="float32"):
    """Bidirectional(GRU(return_state, reset_after=False)) states start a masked
    Bidirectional(GRU) decoder (merge_mode="sum"), as above."""
    enc = K.Input(shape=(6,), dtype="int32", name="enc_tokens")
    dec = K.Input(shape=(5,), dtype="int32", name="dec_tokens")
    _, fh, bh = K.layers.Bidirectional(
        K.layers.GRU(3, return_state=True, reset_after=False, name="enc_gru"), name="encoder")(
        K.layers.Embedding(10, 4, mask_zero=True, name="enc_embed")(enc))
    seq = K.layers.Bidirectional(K.layers.GRU(3, return_sequences=True, name="dec_gru"),
                                 merge_mode="sum", name="decoder")(
        K.layers.Embedding(9, 4, mask_zero=True, name="dec_embed")(dec), initial_state=[fh, bh])
    return K.Model([enc, dec], K.layers.Dense(2, name="head")(seq), name="mask_init_bigru")


def mask_global_pooling(K, dtype="float32"):
    """Embedding(mask_zero) -> Bidirectional(LSTM(seq)) -> [GlobalMaxPooling1D (ignores the
    mask), GlobalAveragePooling1D (masked mean)] -> concatenate -> Dense(sigmoid)."""
    x = K.Input(shape=(7,), dtype="int32", name="tokens")
    seq = K.layers.Bidirectional(K.layers.LSTM(3, return_sequences=True, name="lstm"),
                                 name="bidir")(K.layers.Embedding(12, 4, mask_zero=True,
                                                                  name="embed")(x))
    pooled = K.layers.concatenate([K.layers.GlobalMaxPooling1D(name="max_pool")(seq),
                                   K.layers.GlobalAveragePooling1D(name="avg_pool")(seq)],
                                  name="pools")
    return K.Model(x, K.layers.Dense(1, activation="sigmoid", name="out")(pooled),
                   name="global_pooling")


CASES = {
    "graph_encoder_decoder": dict(build=encoder_decoder, dtype="float32", batch=4,
                                  inputs=[("float", (5, 3)), ("float", (4, 2))], summary=True),
    "graph_siamese_subtract": dict(build=siamese_subtract, dtype="float32", batch=4,
                                   inputs=[("float", (6, 3)), ("float", (6, 3))]),
    "graph_siamese_concat": dict(build=siamese_concat, dtype="float32", batch=3,
                                 inputs=[("float", (5, 2)), ("float", (5, 2))]),
    "graph_two_in_two_out": dict(build=two_in_two_out, dtype="float32", batch=4,
                                 inputs=[("float", (6, 3)), ("float", (2,))], summary=True),
    "graph_bidir_return_state": dict(build=bidir_return_state, dtype="float32", batch=3,
                                     inputs=[("float", (5, 3))]),
    "graph_bidir_state_none": dict(build=bidir_state_none, dtype="float32", batch=3,
                                   inputs=[("float", (4, 2))]),
    "graph_merge_layers": dict(build=merge_layers, dtype="float32", batch=3,
                               inputs=[("float", (5, 3)), ("float", (5, 3))]),
    "graph_merge_functions": dict(build=merge_functions, dtype="float32", batch=3,
                                  inputs=[("float", (4, 2)), ("float", (4, 2))]),
    "graph_seq2seq_reshape": dict(build=seq2seq_reshape, dtype="float32", batch=3,
                                  inputs=[("float", (6, 2))]),
    "graph_nested_models": dict(build=nested_models, dtype="float32", batch=3,
                                inputs=[("float", (5, 3)), ("float", (5, 3))], summary=True),
    "graph_f64_bidir_encoder_decoder": dict(build=f64_bidir_encoder_decoder, dtype="float64",
                                            batch=3, inputs=[("float", (5, 3)), ("float", (4, 2))]),
    "graph_sequential_return_state_predict": dict(build=sequential_return_state, dtype="float32",
                                                  batch=5, inputs=[("float", (3, 2))],
                                                  predict_batch_size=2),
    "graph_train_fit_two_heads": dict(
        build=two_in_two_out, dtype="float32", batch=8,
        inputs=[("float", (6, 3)), ("float", (2,))],
        train={"compile": _TWO_HEADS_COMPILE, "method": "fit",
               "fit": {"batch_size": 3, "epochs": 2, "shuffle": False},
               "targets": _TWO_HEADS_TARGETS}),
    "graph_train_tob_two_heads": dict(
        build=two_in_two_out, dtype="float32", batch=5,
        inputs=[("float", (6, 3)), ("float", (2,))],
        train={"compile": _TWO_HEADS_COMPILE, "method": "train_on_batch", "steps": 3,
               "targets": _TWO_HEADS_TARGETS}),
    "graph_train_tob_two_heads_dict": dict(
        build=two_in_two_out, dtype="float32", batch=6,
        inputs=[("float", (6, 3)), ("float", (2,))],
        train={"compile": {"optimizer": {"class": "SGD", "config": {"learning_rate": 0.1}},
                           "loss": {"reg": "mae", "cls": "binary_crossentropy"},
                           "loss_weights": {"reg": 0.3, "cls": 2.0},
                           "metrics": {"reg": ["mse"], "cls": ["accuracy"]}},
               "method": "train_on_batch", "steps": 3, "targets": _TWO_HEADS_TARGETS}),
    "graph_train_fit_encoder_decoder": dict(
        build=encoder_decoder, dtype="float32", batch=7,
        inputs=[("float", (5, 3)), ("float", (4, 2))],
        train={"compile": {"optimizer": {"class": "RMSprop", "config": {"learning_rate": 0.01}},
                           "loss": "mse", "metrics": ["mae"]},
               "method": "fit", "fit": {"batch_size": 4, "epochs": 2, "shuffle": False},
               "targets": [("float", (4, 3))]}),
    "graph_train_tob_siamese": dict(
        build=siamese_subtract, dtype="float32", batch=6,
        inputs=[("float", (6, 3)), ("float", (6, 3))],
        train={"compile": {"optimizer": {"class": "Adam", "config": {"learning_rate": 0.02}},
                           "loss": "binary_crossentropy", "metrics": ["accuracy"]},
               "method": "train_on_batch", "steps": 3, "targets": [("binary", (1,))]}),
    # a masked RNN called with initial_state tensors (gated_programs check)
    "mask_initial_state_lstm": dict(
        build=mask_initial_state_lstm, dtype="float32", batch=6,
        inputs=[("tokens", (6,), 10), ("tokens", (5,), 9)],
        train={"compile": {"optimizer": {"class": "Adam", "config": {"learning_rate": 0.02}},
                           "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
               "method": "fit", "fit": {"batch_size": 3, "epochs": 2, "shuffle": False},
               "targets": [("class", (5,), 4)]}),
    "mask_initial_state_bidir_gru": dict(
        build=mask_initial_state_bidir_gru, dtype="float32", batch=6,
        inputs=[("tokens", (6,), 10), ("tokens", (5,), 9)],
        train={"compile": {"optimizer": {"class": "SGD", "config": {"learning_rate": 0.1}},
                           "loss": "mse", "metrics": ["mae"]},
               "method": "train_on_batch", "steps": 3, "targets": [("float", (5, 2))]}),
    "mask_global_pooling": dict(
        build=mask_global_pooling, dtype="float32", batch=6, no_empty_rows=True,
        inputs=[("tokens", (7,), 12)],
        train={"compile": {"optimizer": {"class": "Adam", "config": {"learning_rate": 0.02}},
                           "loss": "binary_crossentropy", "metrics": ["accuracy"]},
               "method": "fit", "fit": {"batch_size": 3, "epochs": 2, "shuffle": False},
               "targets": [("binary", (1,))]}),
    # issue 8
    "mask_embed_bidir_td": dict(build=mask_embed_bidir_td, dtype="float32", batch=6,
                                inputs=[("tokens", (7,), 12)]),
    "mask_masking_stack": dict(build=mask_masking_stack, dtype="float32", batch=5,
                               inputs=[("masked_float", (6, 2))]),
    "mask_masking_dropout": dict(build=mask_masking_dropout, dtype="float32", batch=5,
                                 inputs=[("masked_float", (6, 2))]),
    "mask_go_backwards": dict(build=mask_go_backwards, dtype="float32", batch=5,
                              inputs=[("tokens", (6,), 10), ("masked_float", (6, 2))]),
    "mask_merge": dict(build=mask_merge, dtype="float32", batch=5,
                       inputs=[("tokens", (6,), 10), ("tokens", (6,), 10)]),
    "mask_bidir_state": dict(build=mask_bidir_state, dtype="float32", batch=5,
                             inputs=[("tokens", (6,), 10)]),
    "mask_pass_through": dict(build=mask_pass_through, dtype="float32", batch=5,
                              inputs=[("tokens", (6,), 10), ("masked_float", (6, 2))]),
    "mask_train_fit_bidir_tagger": dict(
        build=mask_bidir_tagger, dtype="float32", batch=7, no_empty_rows=True,
        inputs=[("tokens", (5,), 10)],
        train={"compile": {"optimizer": {"class": "RMSprop", "config": {"learning_rate": 0.02}},
                           "loss": "sparse_categorical_crossentropy",
                           "metrics": ["accuracy"]},
               "method": "fit", "fit": {"batch_size": 3, "epochs": 2, "shuffle": False},
               "targets": [("class", (5,), 3)]}),
    "mask_train_adam_classifier": dict(
        build=mask_classifier, dtype="float32", batch=6, no_empty_rows=True,
        inputs=[("tokens", (6,), 10)],
        train={"compile": {"optimizer": {"class": "Adam", "config": {"learning_rate": 0.05}},
                           "loss": "binary_crossentropy", "metrics": ["accuracy"]},
               "method": "train_on_batch", "steps": 3, "targets": [("binary", (1,))]}),
    "mask_train_tob_tagger": dict(
        build=mask_tagger, dtype="float32", batch=6, no_empty_rows=True,
        inputs=[("tokens", (6,), 10)],
        train={"compile": {"optimizer": {"class": "Adam", "config": {"learning_rate": 0.05}},
                           "loss": "sparse_categorical_crossentropy",
                           "metrics": ["accuracy"]},
               "method": "train_on_batch", "steps": 3, "targets": [("class", (6,), 3)]}),
    "mask_train_fit_seq_mse": dict(
        build=mask_seq_regressor, dtype="float32", batch=7, no_empty_rows=True,
        inputs=[("masked_float", (5, 2))],
        train={"compile": {"optimizer": {"class": "Adam", "config": {"learning_rate": 0.05}},
                           "loss": "mse", "metrics": ["mae"]},
               "method": "fit", "fit": {"batch_size": 3, "epochs": 2, "shuffle": False},
               "targets": [("float", (5, 2))]}),
}

BUILDERS = {name: case["build"] for name, case in CASES.items()}


# ----------------------------------------------------------------- issue 10: saved files
# Default layer names on purpose where users rarely name layers: the files then hold
# Keras's automatic names (simple_rnn, simple_rnn_1, ...).
def rnn_stack(K, dtype="float32"):
    return K.Sequential([K.Input(shape=(5, 3)),
                         K.layers.SimpleRNN(4, return_sequences=True),
                         K.layers.SimpleRNN(3, activation="relu")], name="rnn_stack")


def bidir_dense(K, dtype="float32"):
    return K.Sequential([K.Input(shape=(6, 2)),
                         K.layers.Bidirectional(K.layers.SimpleRNN(3, return_sequences=True)),
                         K.layers.Bidirectional(K.layers.SimpleRNN(2), merge_mode="sum"),
                         K.layers.Dense(2, activation="softmax")], name="bidir_dense")


def embed_rnn_dense(K, dtype="float32"):
    return K.Sequential([K.Input(shape=(7,), dtype="int32"),
                         K.layers.Embedding(20, 4, mask_zero=True),
                         K.layers.SimpleRNN(3),
                         K.layers.Dense(1, activation="sigmoid")], name="embed_rnn_dense")


def trained_adam(K, dtype="float32"):
    return K.Sequential([K.Input(shape=(6,), dtype="int32"),
                         K.layers.Embedding(10, 3, mask_zero=True, name="embed"),
                         K.layers.SimpleRNN(4, name="rnn"),
                         K.layers.Dense(1, activation="sigmoid", name="out")], name="trained")


# Models saved by tools/make_keras_saved_fixtures.py into tests/fixtures/saved/ as
# NAME.keras, NAME.h5, NAME.weights.h5 (and keras2_NAME.h5 / keras2_NAME_weights.h5
# by tf_keras); read by tests/test_keras_saved.py.
SAVED = {
    "rnn_stack": dict(build=rnn_stack, inputs=[("float", (5, 3))]),
    "bidir_dense": dict(build=bidir_dense, inputs=[("float", (6, 2))]),
    "embed_rnn_dense": dict(build=embed_rnn_dense, inputs=[("tokens", (7,), 20)]),
    "encoder_decoder": dict(build=encoder_decoder, inputs=[("float", (5, 3)), ("float", (4, 2))]),
    "trained_adam": dict(build=trained_adam, inputs=[("tokens", (6,), 10)], train_steps=3),
}
