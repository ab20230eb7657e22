"""Masks through every layer and in training (Keras 3.15 rules), TimeDistributed, stateful
states, and config round trips of every argument (issue 8's bug reports, by kind)."""

import numpy as np
import pytest

import fastrnn
from fastrnn import layers as L
from fastrnn.models import Model, Sequential
from fastrnn import reference as R
from layer_test import run_layer_test

F64 = {"dtype": "float64"}


def _mask(rng, b=4, t=5):
    m = rng.random((b, t)) > 0.3
    m[0] = False  # an all-masked row
    m[1] = True
    return m


# ----------------------------------------------------------------- masks flow
@pytest.mark.parametrize("between", [None, "dropout", "dense", "activation", "masking"])
def test_a_models_mask_reaches_every_recurrent_layer(rng, between):
    x = rng.normal(size=(4, 5, 2))
    m = _mask(rng)
    layers = [L.SimpleRNN(3, return_sequences=True, seed=1, **F64)]
    if between == "dropout":
        layers.append(L.Dropout(0.5, **F64))
    elif between == "dense":
        layers.append(L.Dense(3, **F64))
    elif between == "activation":
        layers.append(L.Activation("relu", **F64))
    elif between == "masking":  # a Masking layer in the middle makes its own mask
        layers.append(L.Masking(0.0, **F64))
    layers.append(L.SimpleRNN(2, seed=2, **F64))
    model = Sequential([fastrnn.Input(shape=(5, 2), dtype="float64")] + layers)
    w = model.get_weights()
    first, _ = R.simple_rnn_forward(x, *w[:3], mask=m)  # masked steps repeat outputs
    h = first
    if between == "dense":
        h = first @ w[3] + w[4]
    elif between == "activation":
        h = np.maximum(first, 0)
    expected_mask = m if between != "masking" else np.any(h != 0, axis=-1)
    _, last = R.simple_rnn_forward(h, *w[-3:], mask=expected_mask)
    for _ in range(2):  # several consecutive calls, eager and predict
        np.testing.assert_allclose(model(x, mask=m), last, rtol=1e-12, atol=1e-13)
    if between != "masking":
        masked_in = np.where(m[..., None], x, 0.0)
        masking = Sequential([fastrnn.Input(shape=(5, 2), dtype="float64"),
                              L.Masking(0.0, **F64)] + [type(layer).from_config(
                                  layer.get_config()) for layer in layers])
        masking.set_weights(w)
        np.testing.assert_allclose(masking.predict(masked_in, verbose=0), last, rtol=1e-12,
                                   atol=1e-13)


def test_embedding_mask_zero_masks_padding(rng):
    tokens = rng.integers(1, 9, (3, 6))
    tokens[0, :2] = 0  # pre-padding
    tokens[1, 4:] = 0  # post-padding
    model = Sequential([L.Embedding(9, 3, mask_zero=True, **F64),
                        L.SimpleRNN(4, **F64)])
    out = model.predict(tokens, verbose=0)
    e, *w = model.get_weights()
    _, expected = R.simple_rnn_forward(e[tokens], *w, mask=tokens != 0)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-13)
    layer = model.layers[0]
    assert layer.supports_masking and layer.compute_mask(tokens).tolist() == \
        (tokens != 0).tolist()


def test_masked_per_timestep_loss_and_metric_leave_masked_steps_out(rng):
    tokens = rng.integers(1, 9, (4, 6))
    tokens[0, 3:] = 0
    tokens[2, :4] = 0
    y = rng.integers(0, 3, (4, 6))
    model = Sequential([L.Embedding(9, 3, mask_zero=True, **F64),
                        L.SimpleRNN(4, return_sequences=True, **F64),
                        L.TimeDistributed(L.Dense(3, **F64))])
    model.compile("sgd", fastrnn.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    logits = model.predict(tokens, verbose=0)
    z = logits - logits.max(-1, keepdims=True)
    nll = -(np.take_along_axis(z, y[..., None], -1)[..., 0] - np.log(np.exp(z).sum(-1)))
    valid = tokens != 0
    loss, acc = model.test_on_batch(tokens, y)
    np.testing.assert_allclose(loss, nll[valid].mean(), rtol=1e-10)
    np.testing.assert_allclose(acc, (logits.argmax(-1) == y)[valid].mean(), rtol=1e-10)


def test_masked_training_step_matches_finite_differences(rng):
    from gradcheck import numerical_gradient
    tokens = rng.integers(1, 9, (3, 5))
    tokens[0, 3:] = 0
    y = rng.normal(size=(3, 5, 2))
    model = Sequential([L.Embedding(9, 3, mask_zero=True, **F64),
                        L.SimpleRNN(4, return_sequences=True, **F64), L.Dense(2, **F64)])
    model.compile(fastrnn.optimizers.SGD(learning_rate=0.1), "mse")
    valid = tokens != 0

    def loss():
        out = model(tokens)
        return float(((out - y) ** 2).mean(-1)[valid].mean())
    lr = float(np.float32(0.1))  # the learning rate Keras (and fastrnn) applies: float32
    expected = [w - lr * numerical_gradient(loss, w) for w in model.weights]
    model.train_on_batch(tokens, y)
    for w, e in zip(model.get_weights(), expected):
        np.testing.assert_allclose(w, e, rtol=1e-7, atol=1e-10)


# ----------------------------------------------------------------- mask errors
def test_layers_without_a_mask_argument_refuse_one_as_keras_does(rng):
    x = rng.normal(size=(2, 5, 3))
    for layer in (L.Dense(2, name="d_nomask"), L.Dropout(0.1, name="drop_nomask"),
                  L.Flatten(name="flat_nomask")):
        with pytest.raises(TypeError, match=f"`{layer.name}`.*does not take a `mask`"):
            layer(x, mask=np.ones((2, 5), bool))


def test_a_mask_that_does_not_fit_is_refused_naming_the_layer(rng):
    x = rng.normal(size=(2, 5, 3))
    model = Sequential([L.SimpleRNN(4, return_sequences=True, name="first_rnn",
                                    input_shape=(5, 3)), L.SimpleRNN(2)])
    with pytest.raises(ValueError, match="`first_rnn`.*\\(batch, timesteps\\) = \\(2, 5\\)"):
        model(x, mask=np.ones((2, 4), bool))
    with pytest.raises(TypeError, match="`first_rnn`.*booleans"):
        model(x, mask=np.full((2, 5), "yes"))
    bi = L.Bidirectional(L.SimpleRNN(2), name="bi_mask")
    with pytest.raises(ValueError, match="`bi_mask`"):
        bi(x, mask=np.ones((3, 5), bool))
    td = L.TimeDistributed(L.Dense(2), name="td_mask")
    with pytest.raises(ValueError, match="`td_mask`"):
        td(x, mask=np.ones((2, 3), bool))


def test_a_layer_that_destroys_a_mask_warns_as_keras(rng):
    tokens = rng.integers(0, 5, (2, 4))
    model = Sequential([L.Embedding(5, 3, mask_zero=True, input_length=4),
                        L.Flatten(name="flat_warn"), L.Dense(1)])
    with pytest.warns(UserWarning, match="flat_warn.*destroy the mask"):
        model.predict(tokens, verbose=0)


@pytest.mark.parametrize("axis", [-1, 1])
def test_merge_masks_follow_keras_315(rng, axis):
    a, b = np.array([[1, 1, 0]], bool), np.array([[0, 1, 0]], bool)
    xs = [np.ones((1, 3, 2)), np.ones((1, 3, 2))]
    np.testing.assert_array_equal(L.Add().compute_mask(xs, [a, b]), a | b)
    assert L.Add().compute_mask(xs, [a, None]) is None
    cat = L.Concatenate(axis=axis).compute_mask(xs, [a, None])
    if axis == -1:
        np.testing.assert_array_equal(cat, np.ones((1, 3), bool))
    else:
        np.testing.assert_array_equal(cat, np.concatenate([a, np.ones((1, 3), bool)], 1))


# ----------------------------------------------------------------- TimeDistributed
def test_time_distributed_dense_and_rnn(rng):
    run_layer_test(lambda: L.TimeDistributed(L.Dense(3, activation="tanh", **F64)),
                   rng.normal(size=(2, 4, 5)), rng, expected_output_shape=(2, 4, 3),
                   expected_num_weights=2)
    run_layer_test(lambda: L.TimeDistributed(L.SimpleRNN(2, seed=3, **F64)),
                   rng.normal(size=(2, 3, 4, 5)), rng, expected_output_shape=(2, 3, 2),
                   expected_num_weights=3)


# ----------------------------------------------------------------- stateful
def test_stateful_states_are_a_list_of_batch_by_units(rng):
    layer = L.SimpleRNN(3, stateful=True)
    x = rng.normal(size=(2, 4, 5)).astype("float32")
    out = layer(x)
    assert isinstance(layer.states, list) and layer.states[0].shape == (2, 3)
    np.testing.assert_array_equal(layer.states[0], out)
    with pytest.raises(ValueError, match="batch size 2.*reset_states\\(\\)"):
        layer(x[:1])
    layer.reset_states()  # the advice is true: the new batch size works
    assert layer(x[:1]).shape == (1, 3)
    declared = L.SimpleRNN(3, stateful=True, batch_input_shape=(2, 4, 5))
    declared(x)
    declared.reset_states()
    np.testing.assert_array_equal(declared.states[0], 0)
    with pytest.raises(ValueError, match="declared.*feed batches of 2\\.$"):
        declared(x[:1])


def test_reset_states_takes_no_states_as_keras_3():
    for layer in (L.SimpleRNN(2, stateful=True),
                  L.Bidirectional(L.SimpleRNN(2, stateful=True))):
        layer(np.ones((1, 3, 2), "float32"))
        with pytest.raises(TypeError, match="takes no states"):
            layer.reset_states([np.ones((1, 2))])
    with pytest.raises(AttributeError, match="not stateful"):
        L.SimpleRNN(2).reset_states()


def test_stateful_forward_layer_needs_a_stateful_backward_layer():
    with pytest.raises(ValueError, match="`backward_layer`.*`stateful`"):
        L.Bidirectional(L.SimpleRNN(2, stateful=True),
                        backward_layer=L.SimpleRNN(2, go_backwards=True))


def test_bidirectional_stateful_carries_both_directions(rng):
    bi = L.Bidirectional(L.SimpleRNN(2, stateful=True, return_sequences=True, **F64))
    x1, x2 = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 3, 2))
    bi(x1)
    second = bi(x2)
    wf, wb = bi.get_weights()[:3], bi.get_weights()[3:]
    _, hf = R.simple_rnn_forward(x1, *wf)
    _, hb = R.simple_rnn_forward(x1, *wb, go_backwards=True)
    f, _ = R.simple_rnn_forward(x2, *wf, initial_state=hf)
    b, _ = R.simple_rnn_forward(x2, *wb, go_backwards=True, initial_state=hb)
    np.testing.assert_allclose(second, np.concatenate([f, b[:, ::-1]], -1), rtol=1e-12,
                               atol=1e-13)


# ----------------------------------------------------------------- config round trips
CONFIGS = [
    lambda: L.SimpleRNN(3, activation="relu", use_bias=False, kernel_initializer="he_normal",
                        recurrent_initializer="identity", bias_initializer="ones",
                        dropout=0.1, recurrent_dropout=0.2, return_sequences=True,
                        return_state=True, go_backwards=True, stateful=True, unroll=True,
                        seed=4, zero_output_for_mask=True, dtype="float64",
                        batch_input_shape=(2, 5, 3), name="rnn_all", trainable=False),
    lambda: L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="mul",
                            backward_layer=L.SimpleRNN(2, activation="relu",
                                                       return_sequences=True,
                                                       go_backwards=True)),
    lambda: L.Dense(4, activation="softmax", use_bias=False, kernel_initializer={
        "class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out"}},
        bias_initializer="ones", seed=1, dtype="float64", input_shape=(7,)),
    lambda: L.Embedding(20, 4, embeddings_initializer="glorot_normal", mask_zero=True,
                        input_length=6, seed=3),
    lambda: L.Dropout(0.4, seed=2), lambda: L.Activation("sigmoid"), lambda: L.Flatten(),
    lambda: L.Reshape((3, -1)), lambda: L.RepeatVector(4), lambda: L.Permute((2, 1)),
    lambda: L.Masking(-1.0), lambda: L.Concatenate(axis=1), lambda: L.Add(),
    lambda: L.TimeDistributed(L.Dense(3, activation="relu")),
    lambda: L.InputLayer(batch_shape=(2, 5, 3), dtype="int32", name="tokens_in"),
]


@pytest.mark.parametrize("make", CONFIGS, ids=lambda f: "")
def test_every_argument_survives_a_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert type(clone) is type(layer)
    # Keras's own serialized form keeps every argument Keras has (files, configs)
    keras = L.deserialize(L.serialize(layer))
    assert type(keras) is type(layer)
    dropped = set(config) - set(keras.get_config())
    assert dropped <= {"seed", "input_shape", "batch_input_shape", "input_length"}, dropped


def test_models_come_back_built_with_their_batch_size(rng):
    for model in (Sequential([fastrnn.Input(shape=(5, 3)), L.SimpleRNN(4)]),
                  Sequential([fastrnn.Input(batch_shape=(2, 5, 3)),
                              L.SimpleRNN(4, stateful=True)])):
        clone = Sequential.from_config(model.get_config())
        assert clone.built and clone.input_shape == model.input_shape
        assert clone.get_config() == model.get_config()
        clone.set_weights(model.get_weights())
        x = rng.normal(size=(2, 5, 3)).astype("float32")
        np.testing.assert_allclose(clone(x), model(x), rtol=1e-6)


def test_bidirectional_with_another_backward_layer_reports_true_shapes(rng):
    bi = L.Bidirectional(L.SimpleRNN(3, return_sequences=True),
                         backward_layer=L.SimpleRNN(2, return_sequences=True,
                                                    go_backwards=True))
    x_in = fastrnn.Input(shape=(6, 4))
    y = L.Dense(1)(bi(x_in))
    model = Model(x_in, y)
    assert bi.compute_output_shape((None, 6, 4)) == (None, 6, 5)
    assert model.predict(rng.normal(size=(4, 6, 4)), verbose=0).shape == (4, 6, 1)
    states = L.Bidirectional(L.SimpleRNN(3, return_state=True),
                             backward_layer=L.SimpleRNN(2, return_state=True,
                                                        go_backwards=True))
    assert states.compute_output_shape((None, 6, 4)) == [(None, 5), (None, 3), (None, 2)]
