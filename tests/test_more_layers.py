"""Embedding, Dropout, Activation and Flatten: values, shapes, gradients, errors, training."""
import doctest

import numpy as np
import pytest

import fastrnn
from fastrnn import layers as layers_mod
from fastrnn.layers import Activation, Dense, Dropout, Embedding, Flatten, SimpleRNN
from fastrnn.models import Sequential

from gradcheck import check_model_gradients


def rand_weights(model, rng):
    model.set_weights([rng.uniform(-0.6, 0.6, w.shape) for w in model.weights])


# ---------------------------------------------------------------- exports and docs
def test_exported():
    for name in ("Embedding", "Dropout", "Activation", "Flatten"):
        assert getattr(fastrnn, name) is getattr(layers_mod, name)
        assert name in layers_mod.__all__ and name in fastrnn.__all__


@pytest.mark.parametrize("cls", [Embedding, Dropout, Activation, Flatten])
def test_docstring_examples(cls):
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(cls, globs={"np": np, cls.__name__: cls}):
        runner.run(test)
    assert runner.failures == 0


# ---------------------------------------------------------------- Embedding
def test_embedding_lookup_matches_numpy(rng):
    layer = Embedding(7, 3)
    x = rng.integers(0, 7, (4, 5))
    out = layer(x)
    assert out.shape == (4, 5, 3) and out.dtype == np.float32
    (table,) = layer.get_weights()
    assert table.shape == (7, 3)
    np.testing.assert_array_equal(out, table[x])
    assert layer.count_params() == 21
    assert layer.compute_output_shape((None, 5)) == (None, 5, 3)


def test_embedding_uniform_initializer_and_seed():
    a = Embedding(200, 50, seed=3)
    a.build((None, 4))
    (table,) = a.get_weights()
    assert table.min() >= -0.05 and table.max() <= 0.05
    assert table.min() < -0.04 and table.max() > 0.04
    b = Embedding(200, 50, seed=3)
    b.build((None, 4))
    np.testing.assert_array_equal(table, b.get_weights()[0])
    assert Embedding(3, 2, embeddings_initializer="RandomUniform").embeddings_initializer \
        == "random_uniform"


def test_embedding_float64_and_float_indices(rng):
    layer = Embedding(6, 2, dtype="float64")
    x = rng.integers(0, 6, (3, 4))
    out = layer(x.astype("float32"))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, layer.embeddings[x])


def test_embedding_input_length_declares_shape():
    layer = Embedding(1000, 16, input_length=20)
    assert layer.batch_input_shape == (None, 20)
    assert Embedding(10, 2, input_shape=(5,)).batch_input_shape == (None, 5)
    model = Sequential([Embedding(10, 4, input_length=6), SimpleRNN(3)])
    assert model.input_shape == (None, 6)
    assert model.output_shape == (None, 3)


def test_embedding_built_on_call_in_sequential(rng):
    model = Sequential([Embedding(10, 4), SimpleRNN(3, return_sequences=True), Dense(2)])
    out = model(rng.integers(0, 10, (2, 7)))
    assert out.shape == (2, 7, 2)
    assert model.output_shape == (None, None, 2)  # Keras 2: Embedding declares (None, None)


@pytest.mark.parametrize("bad, message", [
    (np.array([[0, 1, 10]]), r"\[0, 10\).*got min 0 and max 10"),
    (np.array([[-1, 2]]), r"\[0, 10\).*got min -1 and max 2"),
    (np.array([[0.5, 1.0]]), r"non-integer"),
])
def test_embedding_bad_indices(bad, message):
    layer = Embedding(10, 2)
    with pytest.raises(ValueError, match=r"argument `x`.*" + message):
        layer(bad)
    with pytest.raises(ValueError, match=r"argument `x`"):
        layer.forward(bad)


def test_embedding_argument_errors():
    with pytest.raises(ValueError, match="`input_dim`"):
        Embedding(0, 2)
    with pytest.raises(ValueError, match="`output_dim`"):
        Embedding(10, 2.5)
    with pytest.raises(ValueError, match="`embeddings_initializer`"):
        Embedding(10, 2, embeddings_initializer="nope")
    with pytest.raises(ValueError, match="embeddings_regularizer"):
        Embedding(10, 2, embeddings_regularizer="l7")
    with pytest.raises(TypeError, match="kernel_constraint"):
        Embedding(10, 2, kernel_constraint="non_neg")
    with pytest.raises(TypeError, match="unexpected keyword"):
        Embedding(10, 2, bogus=1)


def test_embedding_gradient_scatter_adds_repeated_indices():
    layer = Embedding(4, 2, dtype="float64")
    x = np.array([[1, 1, 3], [1, 0, 3]])
    _, ctx = layer.forward(x)
    d = np.arange(12, dtype=np.float64).reshape(2, 3, 2)
    d_inputs, (grad,) = layer.backward(ctx, d)
    assert d_inputs == (None,)  # integer inputs get no gradient
    expected = np.zeros((4, 2))
    for b in range(2):
        for t in range(3):
            expected[x[b, t]] += d[b, t]
    assert grad.indices.tolist() == x.ravel().tolist()  # one row per lookup, as TF
    np.testing.assert_array_equal(grad.to_dense(), expected)
    assert not expected[2].any()


def test_embedding_rnn_dense_gradients(rng):
    model = Sequential([Embedding(6, 3, dtype="float64", input_length=4),
                        SimpleRNN(3, dtype="float64"), Dense(2, dtype="float64")])
    rand_weights(model, rng)
    x = rng.integers(0, 6, (3, 4))
    x[0, :2] = 2  # repeated indices
    d = check_model_gradients(model, x, rng, input_gradient=False)
    assert d is None


def test_embedding_get_config_round_trip():
    layer = Embedding(9, 4, input_length=3, name="emb", dtype="float64")
    config = layer.get_config()
    assert config["input_dim"] == 9 and config["output_dim"] == 4
    clone = Embedding.from_config(config)
    assert clone.batch_input_shape == (None, 3)
    assert clone.dtype == "float64"


# ---------------------------------------------------------------- Dropout
def test_dropout_identity_at_inference(rng):
    x = rng.normal(size=(5, 4)).astype("float32")
    layer = Dropout(0.7)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)
    y, ctx = layer.forward(x, training=False)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(layer.backward(ctx, np.ones_like(x))[0][0], np.ones_like(x))
    assert layer.weights == [] and layer.count_params() == 0


def test_dropout_training_fraction_and_scale():
    rate = 0.3
    x = np.ones((200, 500), "float32")
    y = Dropout(rate, seed=1)(x, training=True)
    assert y.dtype == np.float32
    dropped = np.mean(y == 0)
    assert abs(dropped - rate) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / (1 - rate), rtol=1e-6)
    assert abs(y.mean() - 1) < 0.02


def test_dropout_seeded_and_fresh_mask():
    x = np.ones((8, 16), "float32")
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    first = a(x, training=True)
    np.testing.assert_array_equal(first, b(x, training=True))
    assert not np.array_equal(first, a(x, training=True))


def test_dropout_backward_uses_same_mask(rng):
    layer = Dropout(0.4, seed=2, dtype="float64")
    x = rng.normal(size=(6, 3, 5))
    y, ctx = layer.forward(x, training=True)
    d = rng.normal(size=x.shape)
    (dx,), d_weights = layer.backward(ctx, d)
    mask = np.where(y != 0, y / x, 0.0)
    np.testing.assert_allclose(dx, d * mask, rtol=1e-12)
    np.testing.assert_array_equal(dx == 0, y == 0)
    assert d_weights == ()


def test_dropout_rate_zero_is_identity(rng):
    x = rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_array_equal(Dropout(0.0)(x, training=True), x)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5", True])
def test_dropout_bad_rate(rate):
    with pytest.raises(ValueError, match="argument `rate`"):
        Dropout(rate)


def test_dropout_noise_shape_not_implemented():
    with pytest.raises(NotImplementedError, match="noise_shape"):
        Dropout(0.5, noise_shape=(None, 1, 4))


def test_dropout_in_sequential_trains_and_infers(rng):
    model = Sequential([SimpleRNN(4, input_shape=(5, 3)), Dropout(0.5, seed=0), Dense(1)])
    x = rng.normal(size=(16, 5, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    model.compile("adam", "mse")
    history = model.fit(x, rng.normal(size=(16, 1)), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_sequential_config_round_trip(rng):
    model = Sequential([Embedding(12, 4, input_length=5), SimpleRNN(3, return_sequences=True),
                        Dropout(0.25, seed=1), Activation("tanh"), Flatten(),
                        Dense(2, activation="softmax")])
    config = model.get_config()
    assert config["layers"][0]["class_name"] == "InputLayer"  # Keras 3 lists it first
    assert config["layers"][3]["config"]["rate"] == 0.25
    clone = Sequential.from_config(config)
    assert [type(layer).__name__ for layer in clone.layers] == \
        [type(layer).__name__ for layer in model.layers]
    assert clone.output_shape == (None, 2)
    clone.set_weights(model.get_weights())
    x = rng.integers(0, 12, (3, 5))
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


# ---------------------------------------------------------------- Activation
@pytest.mark.parametrize("name, fn", [
    ("tanh", np.tanh),
    ("relu", lambda z: np.maximum(z, 0)),
    ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
    ("linear", lambda z: z),
    ("softmax", lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True)),
])
def test_activation_values(rng, name, fn):
    x = rng.normal(size=(3, 4, 5))
    out = Activation(name, dtype="float64")(x)
    np.testing.assert_allclose(out, fn(x), rtol=1e-12, atol=1e-15)
    out32 = Activation(name)(x)
    assert out32.dtype == np.float32 and out32.shape == x.shape


@pytest.mark.parametrize("name", ["tanh", "relu", "sigmoid", "linear", "softmax"])
def test_activation_gradients(rng, name):
    model = Sequential([SimpleRNN(3, return_sequences=True, dtype="float64", input_shape=(4, 2)),
                        Activation(name, dtype="float64"), Dense(2, dtype="float64")])
    rand_weights(model, rng)
    check_model_gradients(model, rng.uniform(-1, 1, (2, 4, 2)), rng)


def test_activation_errors_and_config():
    with pytest.raises(ValueError, match="argument `activation`"):
        Activation("swishy")
    layer = Activation(None)
    assert layer.activation == "linear"
    assert Activation.from_config(Activation("relu").get_config()).activation == "relu"


# ---------------------------------------------------------------- Flatten
def test_flatten_values_and_shapes(rng):
    x = rng.normal(size=(2, 3, 4))
    layer = Flatten(dtype="float64")
    out = layer(x)
    np.testing.assert_array_equal(out, x.reshape(2, 12))
    assert layer.compute_output_shape((None, 3, 4)) == (None, 12)
    assert layer.compute_output_shape((None, None, 4)) == (None, None)
    assert layer.compute_output_shape((None,)) == (None, 1)
    assert Flatten()(np.ones(3)).shape == (3, 1)
    _, ctx = layer.forward(x)
    np.testing.assert_array_equal(layer.backward(ctx, out)[0][0], x)


def test_flatten_gradients(rng):
    model = Sequential([SimpleRNN(3, return_sequences=True, dtype="float64", input_shape=(4, 2)),
                        Flatten(dtype="float64"), Dense(2, activation="tanh", dtype="float64")])
    assert model.output_shape == (None, 2)
    rand_weights(model, rng)
    check_model_gradients(model, rng.uniform(-1, 1, (2, 4, 2)), rng)


def test_flatten_data_format():
    with pytest.raises(NotImplementedError, match="channels_last"):
        Flatten(data_format="channels_first")
    with pytest.raises(ValueError, match="`data_format`"):
        Flatten(data_format="nchw")


# ---------------------------------------------------------------- end to end
def test_summary_rows():
    lines = []
    model = Sequential([Embedding(1000, 16, input_length=20, name="embedding_tut"),
                        SimpleRNN(16), Dropout(0.2), Dense(8), Activation("relu"),
                        Flatten(), Dense(1, activation="sigmoid")])
    model.summary(print_fn=lines.append)
    text = "\n".join(lines).replace(",", "")
    import re
    assert re.search(r"embedding_tut \(Embedding\)\s+\(None 20 16\)\s+16000", text)
    assert re.search(r"\(Dropout\)\s+\(None 16\)\s+0", text)
    assert re.search(r"\(Activation\)\s+\(None 8\)\s+0", text)
    assert re.search(r"\(Flatten\)\s+\(None 8\)\s+0", text)
    assert model.count_params() == 16000 + 528 + 136 + 9


def test_keras_tutorial_embedding_rnn():
    fastrnn.set_random_seed(0)
    rng = np.random.default_rng(0)
    n, T = 512, 20
    x = rng.integers(1, 1000, (n, T))
    y = (rng.random(n) < 0.5).astype("float32")
    # positive reviews contain word 7 a few times, negative ones word 9
    for i in range(n):
        pos = rng.choice(T, 4, replace=False)
        x[i, pos] = 7 if y[i] else 9
    model = Sequential([Embedding(1000, 16, input_length=20), SimpleRNN(16),
                        Dense(1, activation="sigmoid")])
    lines = []
    model.summary(print_fn=lines.append)
    emb = model.layers[0].name
    assert any(line.startswith(f"{emb} (Embedding)") and "(None, 20, 16)" in line
               and line.replace(",", "").split()[-1] == "16000" for line in lines)
    model.compile("rmsprop", "binary_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    acc = history.history["acc"]
    assert len(acc) == 3
    assert acc[-1] > acc[0] and acc[-1] > 0.8
    preds = model.predict(x, verbose=0)
    assert preds.shape == (n, 1)
    assert np.mean((preds[:, 0] > 0.5) == (y > 0.5)) > 0.8


def test_embedding_weights_argument_sets_the_initial_embeddings():
    # Keras 3's Embedding(weights=...): GloVe tutorials pass weights=[embedding_matrix]
    matrix = np.arange(12.0).reshape(4, 3)
    frozen = Embedding(4, 3, weights=[matrix], trainable=False)
    np.testing.assert_array_equal(frozen(np.array([[1, 3]]))[0], matrix[[1, 3]])
    assert frozen.get_weights()[0].dtype == np.float32 and not frozen.trainable
    np.testing.assert_array_equal(Embedding(4, 3, weights=matrix).get_weights()[0], matrix)
    with pytest.raises(ValueError, match=r"shape \(4, 2\)"):
        Embedding(4, 2, weights=[matrix])
