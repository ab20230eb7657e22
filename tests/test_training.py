"""Backward through layers and models against finite differences; fit, evaluate and friends."""
import numpy as np
import pytest

import fastrnn
from fastrnn import callbacks, optimizers
from fastrnn.layers import Bidirectional, Dense, SimpleRNN
from fastrnn.models import Sequential

from gradcheck import check_model_gradients


def rand_weights(model, rng):
    model.set_weights([rng.uniform(-0.6, 0.6, w.shape) for w in model.weights])


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_simple_rnn_gradients(rng, activation, return_sequences, go_backwards):
    model = Sequential([SimpleRNN(3, activation=activation, return_sequences=return_sequences,
                                  go_backwards=go_backwards, dtype="float64",
                                  input_shape=(4, 2))])
    rand_weights(model, rng)
    check_model_gradients(model, rng.uniform(-1, 1, (2, 4, 2)), rng)


def test_simple_rnn_without_bias_gradients(rng):
    model = Sequential([SimpleRNN(3, use_bias=False, dtype="float64", input_shape=(3, 2))])
    rand_weights(model, rng)
    check_model_gradients(model, rng.uniform(-1, 1, (2, 3, 2)), rng)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gradients(rng, merge_mode, return_sequences):
    model = Sequential([Bidirectional(SimpleRNN(3, return_sequences=return_sequences,
                                                dtype="float64"),
                                      merge_mode=merge_mode, input_shape=(4, 2),
                                      dtype="float64")])
    rand_weights(model, rng)
    check_model_gradients(model, rng.uniform(-1, 1, (2, 4, 2)), rng)


@pytest.mark.parametrize("activation", [None, "tanh", "relu", "sigmoid", "softmax"])
def test_stack_with_dense_gradients(rng, activation):
    model = Sequential([
        Bidirectional(SimpleRNN(2, return_sequences=True, dtype="float64"),
                      input_shape=(3, 2), dtype="float64"),
        SimpleRNN(3, return_sequences=True, dtype="float64"),
        Dense(2, activation=activation, dtype="float64"),  # 3-D input: per timestep
    ])
    rand_weights(model, rng)
    check_model_gradients(model, rng.uniform(-1, 1, (2, 3, 2)), rng)


# ------------------------------------------------------------------ dropout
def test_dropout_is_training_only_and_one_mask_per_sequence(rng):
    layer = SimpleRNN(4, dropout=0.5, return_sequences=True, seed=0, input_shape=(5, 6))
    x = np.ones((3, 5, 6), np.float32)
    np.testing.assert_array_equal(layer(x), layer(x, training=False))
    a, b = layer(x, training=True), layer(x, training=True)
    assert not np.allclose(a, b)  # a fresh mask per call
    drop, _ = layer._dropout_masks(x, True)
    assert drop.shape == (3, 6) and set(np.unique(drop)) <= {0.0, 2.0}
    # one mask reused at every timestep: a linear layer with no recurrence shows it
    lin = SimpleRNN(6, activation="linear", dropout=0.5, use_bias=False, seed=1,
                    return_sequences=True)
    lin.build((None, 5, 6))
    lin.set_weights([np.eye(6, dtype=np.float32), np.zeros((6, 6), np.float32)])
    out = lin(x, training=True)
    assert (out == out[:, :1]).all()


def test_recurrent_dropout_trains_and_is_reproducible(rng):
    def run():
        fastrnn.set_random_seed(5)
        model = Sequential([SimpleRNN(4, dropout=0.2, recurrent_dropout=0.3,
                                      input_shape=(5, 3)), Dense(1)])
        model.compile(optimizers.SGD(0.1), "mse")
        x = np.random.default_rng(0).uniform(size=(16, 5, 3))
        y = x.sum(axis=(1, 2))[:, None] / 15
        return model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]

    assert run() == run()


# ------------------------------------------------------------------ fit & co
def regression_data(rng, n=64):
    x = rng.uniform(-1, 1, (n, 6, 2)).astype(np.float32)
    y = (x[:, :, 0].mean(axis=1, keepdims=True) - x[:, -1, 1:]).astype(np.float32)
    return x, y


def small_model():
    return Sequential([SimpleRNN(8, input_shape=(6, 2)), Dense(1)])


def test_fit_reduces_loss_and_history_keys(rng):
    fastrnn.set_random_seed(0)
    x, y = regression_data(rng)
    model = small_model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    hist = model.fit(x, y, epochs=15, batch_size=16, validation_split=0.25, verbose=0)
    assert set(hist.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert len(hist.history["loss"]) == 15 and hist.epoch == list(range(15))
    assert hist.history["loss"][-1] < hist.history["loss"][0] * 0.7
    ev = model.evaluate(x[48:], y[48:], verbose=0)
    np.testing.assert_allclose(ev, [hist.history["val_loss"][-1], hist.history["val_mae"][-1]],
                               rtol=1e-5)


def test_evaluate_weights_batches_by_size(rng):
    x, y = regression_data(rng, n=10)
    model = small_model()
    model.compile("sgd", "mse")
    full = model.evaluate(x, y, batch_size=10, verbose=0)
    parts = model.evaluate(x, y, batch_size=4, verbose=0)  # 4 + 4 + 2
    np.testing.assert_allclose(parts, full, rtol=1e-5)
    np.testing.assert_allclose(full, np.mean((model.predict(x, verbose=0) - y) ** 2), rtol=1e-5)


def test_train_on_batch_returns_loss_before_update(rng):
    x, y = regression_data(rng, n=8)
    model = small_model()
    model.compile(optimizers.SGD(0.5), "mse")
    before = float(np.mean((model(x) - y) ** 2))
    assert model.train_on_batch(x, y) == pytest.approx(before, rel=1e-5)
    assert model.test_on_batch(x, y) < before


def test_fit_verbose_output(rng, capsys):
    x, y = regression_data(rng, n=20)
    model = small_model()
    model.compile("adam", "mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=1, validation_data=(x[:4], y[:4]))
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "3/3" in out
    assert " - loss: " in out and " - mae: " in out and " - val_loss: " in out
    model.fit(x, y, epochs=2, batch_size=8, verbose=2)
    lines = [line for line in capsys.readouterr().out.splitlines()
             if line.startswith("3/3 - ")]
    assert len(lines) == 2
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_early_stopping_restores_best_weights(rng):
    x, y = regression_data(rng, n=32)
    model = small_model()
    model.compile(optimizers.SGD(learning_rate=2.0), "mse")  # too large: loss goes up
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    hist = model.fit(x, y, epochs=30, batch_size=32, shuffle=False, verbose=0,
                     callbacks=[stop])
    losses = hist.history["loss"]
    assert len(losses) < 30
    best = int(np.argmin(losses))
    assert len(losses) == best + 2  # stopped one epoch (patience) after the best


def test_non_finite_loss_stops_and_keeps_weights(rng):
    x, y = regression_data(rng, n=16)
    y[5] = np.nan
    model = small_model()
    model.compile("sgd", "mse")
    before = model.get_weights()
    with pytest.warns(RuntimeWarning, match="epoch 1, step 1.*nan"):
        model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_sparse_categorical_training_with_accuracy(rng):
    fastrnn.set_random_seed(1)
    x = rng.uniform(-1, 1, (96, 5, 3)).astype(np.float32)
    labels = (x[:, :, 0].sum(axis=1) > 0).astype(int) + (x[:, -1, 1] > 0.5)
    model = Sequential([SimpleRNN(8, input_shape=(5, 3)), Dense(3, activation="softmax")])
    model.compile(optimizers.Adam(0.02), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    hist = model.fit(x, labels, epochs=30, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.8


@pytest.mark.parametrize("call", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_training_calls_before_compile_raise(call):
    model = small_model()
    with pytest.raises(RuntimeError, match="compile"):
        getattr(model, call)(np.zeros((2, 6, 2)), np.zeros((2, 1)))


def test_bad_targets_and_names(rng):
    x, y = regression_data(rng, n=8)
    model = small_model()
    with pytest.raises(ValueError, match="`loss`"):
        model.compile("adam", "not_a_loss")
    with pytest.raises(ValueError, match="`optimizer`"):
        model.compile("adamw2", "mse")
    with pytest.raises(ValueError, match="`metrics`"):
        model.compile("adam", "mse", metrics=["f1ish"])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="no samples"):
        model.fit(x[:0], y[:0], verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(x, y[:5], verbose=0)
    with pytest.raises(ValueError, match="`y`"):
        model.fit(x, np.zeros((8, 3)), verbose=0)


@pytest.mark.parametrize("activation,loss,y", [
    ("sigmoid", "binary_crossentropy", [[0.0]]),
    ("softmax", "categorical_crossentropy", [[1.0, 0.0]]),
    ("softmax", "sparse_categorical_crossentropy", [0]),
])
def test_crossentropy_after_its_activation_uses_logits_like_keras(activation, loss, y):
    """Keras's TensorFlow backend takes the logits under a final sigmoid/softmax, so a
    saturated prediction is not clipped at 1e-7: the loss is the logits' exact value."""
    units = 1 if activation == "sigmoid" else 2
    model = Sequential([Dense(units, activation=activation, input_shape=(1,),
                              dtype="float64")])
    model.set_weights([np.array([[40.0] * units]) * ([1] if units == 1 else [-1, 1]),
                       np.zeros(units)])
    model.compile("sgd", loss)
    x = np.ones((1, 1))
    z = 40.0 if units == 1 else 80.0  # logit margin for the wrong class
    expected = z + np.log1p(np.exp(-z))  # -log sigmoid(-z) and -log softmax alike
    assert model.evaluate(x, np.array(y), verbose=0) == pytest.approx(expected, rel=1e-12)
    assert model.train_on_batch(x, np.array(y)) == pytest.approx(expected, rel=1e-12)
    # the gradient went through the logits: the weights moved by lr * dL/dW
    assert abs(model.get_weights()[0]).max() < 40.0
