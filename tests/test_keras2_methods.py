"""Keras 2 method and module names old tutorials use: ``utils.np_utils``,
``fit_generator`` / ``evaluate_generator`` / ``predict_generator`` (tf_keras 2.x) and
Sequential's ``predict_classes`` / ``predict_proba`` (Keras 2.3)."""
import warnings

import numpy as np
import pytest

from fastrnn.layers import Dense, SimpleRNN
from fastrnn.models import Model, Sequential
from fastrnn.layers import Input
from fastrnn.utils import np_utils


def test_np_utils_to_categorical_and_normalize_as_keras2():
    out = np_utils.to_categorical([[2], [0], [1]])
    assert out.dtype == np.float32  # Keras 2's default dtype
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1]])
    assert np_utils.to_categorical([1, 0], 3, dtype="int64").dtype == np.int64
    np.testing.assert_array_equal(np_utils.to_categorical([1.9, 0.2]), [[0, 1], [1, 0]])
    np.testing.assert_allclose(np_utils.normalize([[3.0, 4.0]]), [[0.6, 0.8]])
    with pytest.raises(ValueError):
        np_utils.to_categorical([3], num_classes=2)


def _model(units=3, activation="softmax"):
    model = Sequential([SimpleRNN(4, input_shape=(5, 2), seed=0),
                        Dense(units, activation=activation, seed=1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


def _batches(x, y, batch):
    while True:
        for i in range(0, len(x), batch):
            yield x[i:i + batch], y[i:i + batch]


def test_generator_methods_warn_and_equal_their_keras3_forms():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 5, 2)).astype("float32")
    y = rng.normal(size=(12, 3)).astype("float32")
    a, b = _model(), _model()
    with pytest.warns(DeprecationWarning, match="fit_generator.*Model.fit"):
        ha = a.fit_generator(_batches(x, y, 4), steps_per_epoch=3, epochs=2, verbose=0,
                             validation_data=(x, y), max_queue_size=3, workers=2,
                             use_multiprocessing=True)
    hb = b.fit(_batches(x, y, 4), steps_per_epoch=3, epochs=2, verbose=0,
               validation_data=(x, y))
    assert ha.history == hb.history and len(ha.history["loss"]) == 2
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    with pytest.warns(DeprecationWarning, match="evaluate_generator"):
        ev = a.evaluate_generator(_batches(x, y, 4), steps=3)
    assert ev == b.evaluate(x, y, batch_size=4, verbose=0)
    with pytest.warns(DeprecationWarning, match="predict_generator"):
        pred = a.predict_generator(_batches(x, y, 5), steps=2)
    np.testing.assert_array_equal(pred, b.predict(x[:10], batch_size=5, verbose=0))
    inp = Input((5, 2))
    functional = Model(inp, Dense(1)(SimpleRNN(2)(inp)))
    functional.compile(optimizer="sgd", loss="mse")
    with pytest.warns(DeprecationWarning):
        functional.fit_generator(_batches(x, y[:, :1], 6), steps_per_epoch=2, verbose=0)


def test_predict_classes_and_proba_as_keras_2_3():
    x = np.random.default_rng(1).normal(size=(7, 5, 2))
    model = _model()
    p = model.predict(x, verbose=0)
    with pytest.warns(DeprecationWarning, match="predict_classes"):
        classes = model.predict_classes(x)
    np.testing.assert_array_equal(classes, p.argmax(axis=-1))
    assert classes.shape == (7,)
    binary = _model(1, "sigmoid")
    p = binary.predict(x, verbose=0)
    with pytest.warns(DeprecationWarning):
        classes = binary.predict_classes(x, batch_size=3)
    assert classes.shape == (7, 1) and classes.dtype == np.int32
    np.testing.assert_array_equal(classes, (p > 0.5).astype("int32"))
    with pytest.warns(DeprecationWarning, match="predict_proba"):
        np.testing.assert_array_equal(binary.predict_proba(x), p)
    linear = _model(2, "linear")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        linear.predict_proba(x * 100)
    assert any("invalid probability" in str(w.message) for w in caught)


def test_float_steps_mean_ceil_batches_as_keras2():
    # hse_intro_to_dl_pos_tagging: fit_generator(gen, len(train_data) / BATCH_SIZE, ...)
    drawn = []

    def gen():
        while True:
            drawn.append(1)
            yield np.ones((2, 5, 2)), np.zeros((2, 3))

    model = _model()
    with pytest.warns(DeprecationWarning):
        model.fit_generator(gen(), 2.5, epochs=2, verbose=0)
    assert len(drawn) == 6 and model.optimizer.iterations == 6
    drawn.clear()
    with pytest.warns(DeprecationWarning):
        model.predict_generator(gen(), steps=1.2)
    assert len(drawn) == 2
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(gen(), steps_per_epoch=2.5, verbose=0)  # Keras 3 refuses it too
