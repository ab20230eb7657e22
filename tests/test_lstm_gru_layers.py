"""LSTM and GRU layers: run_layer_test over the flags (float64 finite-difference gradients
of inputs, initial states and weights), masks, dropout as Keras 3.15.1 draws it, stateful
calls, Bidirectional, TimeDistributed and stacks, config round trips and bad input."""
import doctest
import json

import numpy as np
import pytest

import fastrnn
from fastrnn import reference as R
from fastrnn.layers import (GRU, LSTM, Bidirectional, Dense, TimeDistributed, deserialize,
                            serialize)
from fastrnn.models import Sequential
from gradcheck import numerical_gradient
from layer_test import run_layer_test
from tolerances import ATOL, RTOL

F64 = {"dtype": "float64"}
CELLS = {"lstm": (LSTM, {}), "gru": (GRU, {}), "gru_ra_false": (GRU, {"reset_after": False})}
N_STATES = {"lstm": 2, "gru": 1, "gru_ra_false": 1}


def x3(rng, b=3, t=4, d=2):
    return rng.normal(size=(b, t, d))


def make(cell, units=3, **kwargs):
    cls, base = CELLS[cell]
    return cls(units, **dict(base, **kwargs))


FLAGS = [dict(return_sequences=rs, return_state=st, go_backwards=gb, **acts)
         for rs in (False, True) for st in (False, True) for gb in (False, True)
         for acts in (dict(), dict(activation="sigmoid", recurrent_activation="tanh",
                                   use_bias=False))]


@pytest.mark.parametrize("flags", FLAGS, ids=str)
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("cell", list(CELLS))
def test_run_layer_test(rng, cell, flags, with_state):
    state = [rng.normal(size=(3, 3)) for _ in range(N_STATES[cell])] if with_state else None
    n_weights = 3 if flags.get("use_bias", True) else 2
    run_layer_test(lambda: make(cell, seed=7, **flags, **F64), x3(rng), rng,
                   initial_state=state, expected_num_weights=n_weights)


@pytest.mark.parametrize("cell", list(CELLS))
def test_weight_layout_is_keras(cell):
    layer = make(cell, 5)
    layer.build((None, 7, 4))
    G = 4 if cell == "lstm" else 3
    bias = (2, 15) if cell == "gru" else (G * 5,)
    assert [w.shape for w in layer.weights] == [(4, G * 5), (5, G * 5), bias]
    assert layer.count_params() == 4 * G * 5 + 5 * G * 5 + int(np.prod(bias))


def test_unit_forget_bias_sets_the_forget_block_to_ones():
    layer = LSTM(3, bias_initializer="random_uniform", seed=1)
    layer.build((None, 2, 4))
    np.testing.assert_array_equal(layer.bias[3:6], 1.0)
    assert np.all(layer.bias[:3] != 1.0) and np.all(layer.bias[6:] != 1.0)
    layer = LSTM(3, unit_forget_bias=False)
    layer.build((None, 2, 4))
    np.testing.assert_array_equal(layer.bias, 0.0)


@pytest.mark.parametrize("cell", list(CELLS))
def test_matches_the_reference(rng, cell):
    layer = make(cell, 4, return_sequences=True, return_state=True, go_backwards=True,
                 recurrent_activation="hard_sigmoid", seed=3, **F64)
    x = x3(rng, 3, 6, 5)
    h0 = [rng.normal(size=(3, 4)) for _ in range(N_STATES[cell])]
    out = layer(x, initial_state=h0)
    args = (x, layer.kernel, layer.recurrent_kernel, layer.bias)
    kw = dict(recurrent_activation="hard_sigmoid", go_backwards=True)
    if cell == "lstm":
        expected = R.lstm_forward(*args, initial_state=h0, **kw)
    else:
        expected = R.gru_forward(*args, initial_state=h0[0], reset_after=layer.reset_after,
                                 **kw)
    for a, e in zip(out, expected):
        np.testing.assert_allclose(a, e, rtol=RTOL["float64"], atol=ATOL["float64"])


# ---------------------------------------------------------------------------- masks
def _objective_check(layer, x, rng, mask=None, initial_state=None, training=False):
    """Protocol v2 gradients against finite differences for one masked call."""
    kwargs = dict(mask=mask, initial_state=initial_state)
    outs, ctx = layer.forward(x, training=training, **kwargs)
    outs = outs if isinstance(outs, list) else [outs]
    G = [rng.normal(size=o.shape) for o in outs]

    def objective():
        o = layer.forward(x, training=training, **kwargs)[0]
        o = o if isinstance(o, list) else [o]
        return float(sum((a * g).sum() for a, g in zip(o, G)))

    d_in, d_w = layer.backward(ctx, G if layer.return_state else G[0])
    for w, g in zip(layer.weights, d_w):
        np.testing.assert_allclose(g, numerical_gradient(objective, w), rtol=1e-7, atol=1e-9)
    for arr, g in zip([x] + list(initial_state or []), d_in):
        np.testing.assert_allclose(g, numerical_gradient(objective, arr), rtol=1e-7,
                                   atol=1e-9)


MASK = np.array([[0, 1, 1, 1, 1], [1, 1, 0, 0, 1], [1, 1, 1, 0, 0]], bool)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output", [False, True])
def test_mask_gradients(rng, cell, go_backwards, zero_output):
    layer = make(cell, 3, return_sequences=True, return_state=True, seed=5,
                 go_backwards=go_backwards, zero_output_for_mask=zero_output, **F64)
    h0 = [rng.normal(size=(3, 3)) for _ in range(N_STATES[cell])]
    _objective_check(layer, x3(rng, 3, 5, 2), rng, mask=MASK, initial_state=h0)


@pytest.mark.parametrize("cell", list(CELLS))
def test_masked_steps_keep_the_states(rng, cell):
    layer = make(cell, 3, return_sequences=True, return_state=True, **F64)
    x = x3(rng, 3, 5, 2)
    seq, *states = layer(x, mask=MASK)
    # row 2 is masked at its last two steps: the same as running its first three
    short = layer(x[2:3, :3])
    for a, b in zip(states, short[1:]):
        np.testing.assert_allclose(a[2], b[0], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(seq[2, 3], seq[2, 2], rtol=0, atol=0)  # repeated output
    np.testing.assert_array_equal(seq[0, 0], 0.0)  # zeros before the first unmasked step


# ---------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("rates,implementation,per_gate", [
    ((0.3, 0.0), 2, False),  # implementation 2: one mask for every gate
    ((0.3, 0.4), 2, True),   # recurrent_dropout forces Keras's implementation 1
    ((0.0, 0.4), 2, True),
    ((0.3, 0.0), 1, True)])
def test_dropout_masks_as_keras(rng, cell, rates, implementation, per_gate):
    layer = make(cell, 3, dropout=rates[0], recurrent_dropout=rates[1], seed=11,
                 implementation=implementation, return_sequences=True, **F64)
    x = x3(rng, 4, 5, 2)
    G = 4 if cell == "lstm" else 3
    out, ctx = layer.forward(x, training=True)
    for mask, rate, width in ((ctx.drop, rates[0], 2), (ctx.rec_drop, rates[1], 3)):
        if rate == 0:
            assert mask is None
            continue
        assert mask.shape == ((G, 4, width) if per_gate else (4, width))
        assert set(np.unique(mask)) <= {0.0, 1 / (1 - rate)}
    kw = dict(dropout_mask=ctx.drop, recurrent_dropout_mask=ctx.rec_drop)
    args = (x, layer.kernel, layer.recurrent_kernel, layer.bias)
    if cell == "lstm":
        expected = R.lstm_forward(*args, **kw)[0]
    else:
        expected = R.gru_forward(*args, reset_after=layer.reset_after, **kw)[0]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-13)
    # inference ignores dropout; a second training call draws new masks
    np.testing.assert_allclose(layer(x), layer.forward(x)[0], rtol=0, atol=0)
    assert not np.array_equal(layer.forward(x, training=True)[1].drop
                              if rates[0] else layer.forward(x, training=True)[1].rec_drop,
                              ctx.drop if rates[0] else ctx.rec_drop)


@pytest.mark.parametrize("cell", list(CELLS))
def test_dropout_gradients(rng, cell):
    layer = make(cell, 3, dropout=0.3, recurrent_dropout=0.3, return_state=True, seed=2,
                 **F64)
    x = x3(rng)
    outs, ctx = layer.forward(x, training=True)
    G = [rng.normal(size=o.shape) for o in outs]
    fixed = dict(dropout_mask=ctx.drop, recurrent_dropout_mask=ctx.rec_drop)

    def objective():
        args = (x, layer.kernel, layer.recurrent_kernel, layer.bias)
        if cell == "lstm":
            seq, h, c = R.lstm_forward(*args, **fixed)
            o = [seq[:, -1], h, c]
        else:
            seq, h = R.gru_forward(*args, reset_after=layer.reset_after, **fixed)
            o = [seq[:, -1], h]
        return float(sum((a * g).sum() for a, g in zip(o, G)))

    (dx,), d_w = layer.backward(ctx, G)
    for w, g in zip(layer.weights, d_w):
        np.testing.assert_allclose(g, numerical_gradient(objective, w), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(dx, numerical_gradient(objective, x), rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------------------- stateful
@pytest.mark.parametrize("cell", list(CELLS))
def test_stateful_calls_continue_the_sequence(rng, cell):
    layer = make(cell, 3, stateful=True, return_sequences=True, return_state=True, **F64)
    x = x3(rng, 2, 6, 2)
    first = layer(x[:, :3])
    second = layer(x[:, 3:])
    assert len(layer.states) == N_STATES[cell]
    whole = make(cell, 3, return_sequences=True, return_state=True, **F64)
    whole.build((None, 6, 2))
    whole.set_weights(layer.get_weights())
    full = whole(x)
    np.testing.assert_allclose(np.concatenate([first[0], second[0]], 1), full[0],
                               rtol=1e-12, atol=1e-13)
    for a, b in zip(second[1:], full[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)
    layer.reset_states()  # no declared batch size: the next call starts new zero states
    assert layer.states is None
    np.testing.assert_allclose(layer(x[:, :3])[0], first[0], rtol=0, atol=0)


# ---------------------------------------------------------------------------- wrappers
@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("merge_mode", ["concat", "mul", None])
def test_bidirectional(rng, cell, merge_mode):
    n = N_STATES[cell]
    state = [rng.normal(size=(3, 3)) for _ in range(2 * n)]
    layer = run_layer_test(lambda: Bidirectional(
        make(cell, 3, return_sequences=True, return_state=True, seed=4, **F64),
        merge_mode=merge_mode), x3(rng), rng, initial_state=state, expected_num_weights=6)
    assert layer.n_states == 2 * n
    shapes = layer.compute_output_shape((None, 4, 2))
    assert shapes[-2 * n:] == [(None, 3)] * (2 * n)


@pytest.mark.parametrize("cell", list(CELLS))
def test_bidirectional_mask_gradients(rng, cell):
    layer = Bidirectional(make(cell, 3, return_sequences=True, seed=6, **F64),
                          merge_mode="sum")
    x = x3(rng, 3, 5, 2)
    outs, ctx = layer.forward(x, mask=MASK)
    G = rng.normal(size=outs.shape)

    def objective():
        return float((layer.forward(x, mask=MASK)[0] * G).sum())

    (dx,), d_w = layer.backward(ctx, G)
    for w, g in zip(layer.weights, d_w):
        np.testing.assert_allclose(g, numerical_gradient(objective, w), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(dx, numerical_gradient(objective, x), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("cell", list(CELLS))
def test_time_distributed_over_a_recurrent_layer(rng, cell):
    # (batch, outer steps, inner steps, features): the RNN runs on every outer step
    run_layer_test(lambda: TimeDistributed(make(cell, 3, seed=8, **F64)),
                   rng.normal(size=(2, 3, 4, 2)), rng, expected_output_shape=(2, 3, 3))


def test_stack_trains_and_encoder_decoder_passes_states(rng):
    model = Sequential([fastrnn.Input(shape=(5, 3)), LSTM(4, return_sequences=True, seed=1),
                        GRU(3, return_sequences=True, seed=2),
                        TimeDistributed(Dense(1)), ])
    model.compile(optimizer=fastrnn.optimizers.Adam(learning_rate=0.02), loss="mse")
    x = rng.normal(size=(16, 5, 3)).astype("float32")
    y = np.cumsum(x[..., :1], axis=1) / 3
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=15, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.8 * first
    # encoder-decoder: the encoder's [h, c] start the decoder
    enc_in, dec_in = fastrnn.Input(shape=(5, 3)), fastrnn.Input(shape=(4, 2))
    _, h, c = LSTM(3, return_state=True)(enc_in)
    out = LSTM(3, return_sequences=True)(dec_in, initial_state=[h, c])
    enc_dec = fastrnn.Model([enc_in, dec_in], Dense(1)(out))
    pred = enc_dec.predict([x[:2], x[:2, :4, :2]], verbose=0)
    assert pred.shape == (2, 4, 1) and np.all(np.isfinite(pred))


def test_keras_2_spellings_summary_and_pickle(rng):
    import pickle

    model = Sequential()
    model.add(LSTM(3, input_shape=(2, 10)))  # Keras 2: input_length=2, input_dim=10
    model.add(Dense(1))
    lines = []
    model.summary(print_fn=lines.append)
    row = next(line for line in lines if "(LSTM)" in line)
    assert row.split()[-3:] == ["(None,", "3)", "168"]  # 4 * (10 * 3 + 3 * 3 + 3)
    gru = GRU(3, batch_input_shape=(4, 2, 10), reset_after=False)
    assert gru.count_params() == 3 * (10 * 3 + 3 * 3 + 3)
    x = rng.normal(size=(4, 2, 10)).astype("float32")
    for layer in (model.layers[0], gru):
        copy = pickle.loads(pickle.dumps(layer))
        np.testing.assert_array_equal(copy(x), layer(x))


# ---------------------------------------------------------------------------- config
EVERY_ARGUMENT = {
    "lstm": dict(units=5, activation="relu", recurrent_activation="hard_sigmoid",
                 use_bias=False, kernel_initializer="he_normal",
                 recurrent_initializer="glorot_normal", bias_initializer="ones",
                 unit_forget_bias=False, dropout=0.1, recurrent_dropout=0.2,
                 return_sequences=True, return_state=True, go_backwards=True, stateful=True,
                 unroll=True, seed=4, implementation=1, name="enc", dtype="float64",
                 batch_input_shape=(2, 3, 4)),
    "gru": dict(units=5, activation="sigmoid", recurrent_activation="tanh", use_bias=True,
                kernel_initializer="orthogonal", recurrent_initializer="zeros",
                bias_initializer="random_normal", reset_after=False, dropout=0.3,
                recurrent_dropout=0.0, return_sequences=True, return_state=False,
                go_backwards=True, stateful=False, unroll=False, seed=9, name="dec",
                dtype="float64", input_shape=(3, 4)),
}


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_config_round_trip_with_every_argument(cell):
    cls = LSTM if cell == "lstm" else GRU
    layer = cls(**EVERY_ARGUMENT[cell])
    config = layer.get_config()
    for key, value in EVERY_ARGUMENT[cell].items():
        if key == "input_shape":
            assert tuple(config["input_shape"]) == value
        else:
            assert config[key] == value, key
    clone = cls.from_config(config)
    assert clone.get_config() == config
    again = deserialize(json.loads(json.dumps(serialize(layer))))
    # Keras's serialized form keeps Keras's arguments (a declared input shape travels in
    # the model's InputLayer, not in the layer's own config)
    expected = {k: v for k, v in json.loads(json.dumps(config)).items()
                if k not in ("input_shape", "batch_input_shape")}
    got = {k: v for k, v in again.get_config().items()
           if k not in ("input_shape", "batch_input_shape")}
    assert type(again) is cls and got == expected
    again.set_weights(layer.get_weights())
    x = np.random.default_rng(0).normal(size=(2, 3, 4))
    a_out, b_out = layer(x), again(x)
    for a, b in zip(a_out if isinstance(a_out, list) else [a_out],
                    b_out if isinstance(b_out, list) else [b_out]):
        np.testing.assert_array_equal(a, b)


# What Keras 3.15.1 writes (keras.layers.LSTM(...).get_config(), GRU likewise).
KERAS_LSTM_CONFIG = {
    "name": "lstm_k", "trainable": True,
    "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": None},
    "return_sequences": True, "return_state": False, "go_backwards": True,
    "stateful": False, "unroll": False, "zero_output_for_mask": False, "units": 5,
    "activation": "tanh", "recurrent_activation": "hard_sigmoid", "use_bias": True,
    "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                           "config": {"seed": None, "input_axes": None, "output_axes": None},
                           "registered_name": None},
    "recurrent_initializer": {"module": "keras.initializers", "class_name": "Orthogonal",
                              "config": {"seed": None, "gain": 1.0}, "registered_name": None},
    "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros",
                         "config": {}, "registered_name": None},
    "unit_forget_bias": False, "kernel_regularizer": None, "recurrent_regularizer": None,
    "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
    "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.1,
    "recurrent_dropout": 0.2, "seed": 3}


def test_keras_configs_load():
    layer = deserialize({"module": "keras.layers", "class_name": "LSTM",
                         "config": KERAS_LSTM_CONFIG, "registered_name": None})
    assert isinstance(layer, LSTM) and layer.units == 5 and layer.go_backwards
    assert (layer.recurrent_activation, layer.unit_forget_bias) == ("hard_sigmoid", False)
    gru_config = {k: v for k, v in KERAS_LSTM_CONFIG.items() if k != "unit_forget_bias"}
    layer = deserialize({"class_name": "GRU", "config": dict(gru_config, reset_after=False)})
    assert isinstance(layer, GRU) and not layer.reset_after


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_docstring_examples(cls):
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(cls, globs={"np": np, cls.__name__: cls})
    assert sum(len(t.examples) for t in tests) >= 3
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


def test_imports_as_keras():
    from fastrnn.layers import GRU as G, LSTM as L  # noqa: N817
    assert (G, L) == (GRU, LSTM)
    assert fastrnn.layers.LAYERS["LSTM"] is LSTM and fastrnn.layers.LAYERS["GRU"] is GRU
    assert "LSTM" in fastrnn.layers.__all__ and "GRU" in fastrnn.layers.__all__


# ---------------------------------------------------------------------------- bad input
def test_wrong_initial_state_count_names_the_layer(rng):
    x = x3(rng)
    with pytest.raises(ValueError, match=r"`enc` has 2 state\(s\) but was passed 1"):
        LSTM(3, name="enc")(x, initial_state=[np.zeros((3, 3))])
    with pytest.raises(ValueError, match=r"`enc2` has 2 state\(s\) but was passed 1"):
        LSTM(3, name="enc2")(x, initial_state=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="list of 4 arrays"):
        Bidirectional(LSTM(3))(x, initial_state=[np.zeros((3, 3))] * 2)
    with pytest.raises(ValueError, match=r"has 1 state\(s\) but was passed 2"):
        GRU(3)(x, initial_state=[np.zeros((3, 3))] * 2)
    with pytest.raises(ValueError, match="initial_state"):
        LSTM(3)(x, initial_state=[np.zeros((3, 3)), np.zeros((3, 4))])
    enc_in = fastrnn.Input(shape=(4, 2))
    with pytest.raises(ValueError, match=r"has 2 state\(s\)"):
        LSTM(3)(enc_in, initial_state=[fastrnn.Input(shape=(3,))])


def test_set_weights_names_the_weight():
    layer = LSTM(3, name="lstm_x")
    layer.build((None, 4, 2))
    good = layer.get_weights()
    with pytest.raises(ValueError, match=r"`lstm_x` .* weight 1 \(`recurrent_kernel`\) must "
                                         r"have shape \(3, 12\), got \(3, 9\)"):
        layer.set_weights([good[0], np.zeros((3, 9)), good[2]])
    with pytest.raises(ValueError, match=r"expects 3 weight arrays"):
        layer.set_weights(good[:2])
    gru = GRU(3, name="gru_x")
    gru.build((None, 4, 2))
    w = gru.get_weights()
    with pytest.raises(ValueError, match=r"weight 2 \(`bias`\).*reset_after=False"):
        gru.set_weights([w[0], w[1], np.zeros(9)])
    np.testing.assert_array_equal(gru.get_weights()[2], w[2])  # nothing was written


@pytest.mark.parametrize("kwargs,argument", [
    (dict(recurrent_activation="swish"), "recurrent_activation"),
    (dict(activation="softmax"), "activation"),
    (dict(units=0), "units"), (dict(dropout=1.5), "dropout"),
    (dict(recurrent_dropout=-0.1), "recurrent_dropout"),
    (dict(implementation=3), "implementation"), (dict(use_cudnn="yes"), "use_cudnn"),
    (dict(kernel_initializer="nope"), "kernel_initializer")])
@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_bad_arguments_are_named(cls, kwargs, argument):
    kwargs = dict({"units": 3}, **kwargs)
    with pytest.raises(ValueError, match=f"`{argument}`"):
        cls(**kwargs)


def test_bad_inputs_name_the_layer(rng):
    layer = GRU(3, name="g")
    layer(x3(rng))
    with pytest.raises(ValueError, match="`g`.*expected axis -1 .* value 2"):
        layer(x3(rng, d=5))
    with pytest.raises(ValueError, match="`g`.*expected ndim=3"):
        layer(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="`mask` passed to layer `g`"):
        layer(x3(rng), mask=np.ones((3, 5), bool))
