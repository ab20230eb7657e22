"""fastrnn.metrics (epoch averaging, names, "accuracy" resolution) and fastrnn.callbacks."""
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose

from pure_modules import load

callbacks, losses, metrics = load("callbacks", "losses", "metrics")


# ----------------------------------------------------------------------------- metrics

def test_mean_over_batches_of_different_sizes_is_the_per_sample_mean(rng):
    y_true, y_pred = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    per_sample = np.mean((y_true - y_pred) ** 2, axis=-1)
    m = metrics.MeanSquaredError()
    for lo, hi in [(0, 4), (4, 6), (6, 7)]:
        m.update_state(y_true[lo:hi], y_pred[lo:hi])
    assert m.result() == pytest.approx(per_sample.mean(), rel=1e-12)
    assert m.result() != pytest.approx(np.mean([per_sample[:4].mean(), per_sample[4:6].mean(),
                                                per_sample[6:].mean()]), rel=1e-6)
    assert m.count == 7


def test_loss_tracker_weights_batch_losses_by_batch_size():
    tracker = metrics.Mean(name="loss")
    tracker.update_state(1.0, sample_weight=3)
    tracker.update_state(5.0, sample_weight=1)
    assert tracker.result() == pytest.approx((3 * 1.0 + 5.0) / 4)
    tracker.reset_state()
    assert tracker.result() == 0.0 and tracker.count == 0


def test_mean_with_sample_weight_and_extra_axes():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == 2.0
    m.reset_state()
    m.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]))           # each row averaged first
    assert m.result() == 4.0 and m.count == 2


def test_per_timestep_metric_counts_each_sample_once(rng):
    y_true, y_pred = rng.normal(size=(4, 5, 2)), rng.normal(size=(4, 5, 2))
    m = metrics.MeanAbsoluteError()
    m.update_state(y_true[:3], y_pred[:3])
    m.update_state(y_true[3:], y_pred[3:])
    assert m.result() == pytest.approx(np.mean(np.abs(y_true - y_pred)), rel=1e-12)
    assert m.count == 4


def test_metric_sample_weight():
    m = metrics.MeanAbsoluteError()
    m.update_state([[0.0], [0.0], [0.0]], [[1.0], [2.0], [4.0]], sample_weight=[1, 0, 1])
    assert m.result() == pytest.approx(2.5)


def test_binary_accuracy():
    m = metrics.BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert m.result() == 0.75 and m.name == "binary_accuracy"
    m.update_state([0, 0], [[0.5], [0.5]])       # 0.5 is not > 0.5: predicted 0
    assert m.result() == pytest.approx(5 / 6)
    strict = metrics.BinaryAccuracy(threshold=0.99)
    strict.update_state([[1], [1]], [[0.98], [1.0]])
    assert strict.result() == 0.5


def test_categorical_and_sparse_accuracy(rng):
    scores = rng.normal(size=(6, 4, 3))
    labels = rng.integers(0, 3, size=(6, 4))
    expected = np.mean(np.argmax(scores, -1) == labels)
    cat, sparse, sparse1 = (metrics.CategoricalAccuracy(), metrics.SparseCategoricalAccuracy(),
                            metrics.SparseCategoricalAccuracy())
    cat.update_state(np.eye(3)[labels], scores)
    sparse.update_state(labels, scores)
    sparse1.update_state(labels[..., None].astype(float), scores)
    for m in (cat, sparse, sparse1):
        assert m.result() == pytest.approx(expected, rel=1e-12)
    assert 0 < expected < 1


def test_metric_shape_errors_name_y():
    with pytest.raises(ValueError, match="`y`"):
        metrics.CategoricalAccuracy().update_state(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"`y`.*\(4,\)"):
        metrics.SparseCategoricalAccuracy().update_state(np.zeros((3,)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="`y`"):
        metrics.BinaryAccuracy().update_state(np.zeros((4, 2)), np.zeros((4, 1)))


@pytest.mark.parametrize("y_true_shape, y_pred_shape, cls", [
    ((8, 1), (8, 1), metrics.BinaryAccuracy),
    ((8,), (8, 1), metrics.BinaryAccuracy),
    ((8, 5, 1), (8, 5, 1), metrics.BinaryAccuracy),
    ((8,), (8, 3), metrics.SparseCategoricalAccuracy),
    ((8, 1), (8, 3), metrics.SparseCategoricalAccuracy),
    ((8, 5), (8, 5, 3), metrics.SparseCategoricalAccuracy),
    ((8, 3), (8, 3), metrics.CategoricalAccuracy),
    ((8, 5, 3), (8, 5, 3), metrics.CategoricalAccuracy),
])
@pytest.mark.parametrize("identifier", ["accuracy", "acc"])
def test_accuracy_is_resolved_from_shapes_like_keras3(y_true_shape, y_pred_shape, cls,
                                                       identifier):
    eager = metrics.get(identifier, y_true=np.zeros(y_true_shape), y_pred=np.zeros(y_pred_shape))
    assert type(eager) is cls and eager.name == identifier
    lazy = metrics.get(identifier, loss="mse")
    assert lazy.name == identifier and lazy.result() == 0.0
    lazy.update_state(np.zeros(y_true_shape), np.full(y_pred_shape, 0.25))
    assert type(lazy.resolved) is cls and lazy.result() == 1.0


@pytest.mark.parametrize("identifier, cls, name", [
    ("mae", metrics.MeanAbsoluteError, "mae"),
    ("MAE", metrics.MeanAbsoluteError, "MAE"),
    ("mean_absolute_error", metrics.MeanAbsoluteError, "mean_absolute_error"),
    ("mse", metrics.MeanSquaredError, "mse"),
    ("mean_squared_error", metrics.MeanSquaredError, "mean_squared_error"),
    ("MeanSquaredError", metrics.MeanSquaredError, "MeanSquaredError"),
    ("binary_accuracy", metrics.BinaryAccuracy, "binary_accuracy"),
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy,
     "sparse_categorical_accuracy"),
    ("categorical_crossentropy", metrics.CategoricalCrossentropy, "categorical_crossentropy"),
    (metrics.CategoricalAccuracy, metrics.CategoricalAccuracy, "categorical_accuracy"),
])
def test_get_names_metrics_as_keras_history_does(identifier, cls, name):
    m = metrics.get(identifier)
    assert type(m) is cls and m.name == name


def test_get_passes_instances_and_wraps_functions():
    inst = metrics.BinaryAccuracy(name="ba", threshold=0.3)
    assert metrics.get(inst) is inst

    def max_error(y_true, y_pred):
        return np.max(np.abs(np.asarray(y_true) - np.asarray(y_pred)), axis=-1)

    m = metrics.get(max_error)
    assert m.name == "max_error"
    m.update_state([[0.0, 0.0], [0.0, 0.0]], [[1.0, -3.0], [0.5, 0.0]])
    assert m.result() == pytest.approx(1.75)


@pytest.mark.parametrize("identifier", ["f1_score", "", 3, None])
def test_get_unknown_metric_raises(identifier):
    with pytest.raises(ValueError, match="`metrics`.*accuracy") as info:
        metrics.get(identifier)
    assert repr(identifier) in str(info.value)


def test_crossentropy_metric_matches_loss(rng):
    p = rng.uniform(0.1, 0.9, size=(5, 3))
    labels = rng.integers(0, 3, size=5)
    m = metrics.SparseCategoricalCrossentropy()
    m.update_state(labels, p)
    assert m.result() == pytest.approx(losses.SparseCategoricalCrossentropy()(labels, p),
                                       rel=1e-12)


# ----------------------------------------------------------------------------- callbacks

class FakeModel:
    """What EarlyStopping needs: weights to get/set and a stop flag."""

    def __init__(self, metrics_list=()):
        self.weights = [np.zeros(2)]
        self.stop_training = False
        self.metrics = list(metrics_list)

    def get_weights(self):
        return self.weights                 # live arrays, as an in-place optimizer keeps them

    def set_weights(self, weights):
        for w, new in zip(self.weights, weights):
            w[...] = new


def fit(callback, values, monitor="val_loss", model=None):
    """Drive a callback through epochs; returns (model, epochs run)."""
    model = model or FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        callback.on_epoch_begin(epoch)
        model.weights[0][...] = epoch             # weights "after" this epoch
        callback.on_epoch_end(epoch, {"loss": 1.0, **{monitor: value}})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return model, epochs


@pytest.mark.parametrize("values, patience, epochs", [
    ([1.0, 0.9, 0.95, 0.8], 0, 3),
    ([1.0, 0.9, 0.95, 0.96, 0.97, 0.5], 2, 4),
    ([1.0, 0.9, 0.8, 0.7], 0, 4),
    ([1.0, 1.0, 1.0], 0, 2),                    # equal is no improvement
])
def test_early_stopping_patience(values, patience, epochs):
    es = callbacks.EarlyStopping(patience=patience)
    model, ran = fit(es, values)
    assert ran == epochs
    assert model.stop_training == (epochs < len(values))
    if model.stop_training:
        assert es.stopped_epoch == epochs - 1


def test_early_stopping_min_delta():
    es = callbacks.EarlyStopping(monitor="loss", min_delta=0.1, patience=1)
    _, ran = fit(es, [1.0, 0.95, 0.5], monitor="loss")
    assert ran == 2
    _, ran = fit(callbacks.EarlyStopping(monitor="loss", min_delta=0.01, patience=1),
                 [1.0, 0.95, 0.5], monitor="loss")
    assert ran == 3


@pytest.mark.parametrize("monitor, values, stops", [
    ("val_accuracy", [0.5, 0.6, 0.55], True),     # max mode
    ("val_acc", [0.5, 0.6, 0.7], False),
    ("val_mae", [0.5, 0.6], True),                # min mode
    ("loss", [0.5, 0.4], False),
])
def test_early_stopping_auto_mode(monitor, values, stops):
    # the direction comes from the model's metric of that name, as in Keras 3.15
    model = FakeModel([metrics.get(name) for name in ("accuracy", "acc", "mae")])
    model, _ = fit(callbacks.EarlyStopping(monitor=monitor), values, monitor=monitor,
                   model=model)
    assert model.stop_training == stops


def test_early_stopping_auto_mode_without_a_known_direction_raises_like_keras():
    with pytest.raises(ValueError, match="mode='max'"):
        fit(callbacks.EarlyStopping(monitor="val_accuracy"), [0.5, 0.6],
            monitor="val_accuracy")


def test_early_stopping_auto_mode_reads_metric_direction_from_the_model():
    class Score(metrics.Mean):
        _direction = "up"

    model = FakeModel([Score(name="score")])
    model, _ = fit(callbacks.EarlyStopping(monitor="val_score"), [0.1, 0.2, 0.3],
                   monitor="val_score", model=model)
    assert not model.stop_training
    model, _ = fit(callbacks.EarlyStopping(monitor="val_score", mode="min"), [0.1, 0.2],
                   monitor="val_score")
    assert model.stop_training


def test_early_stopping_baseline():
    # improving but never beating the baseline: patience still runs out at a non-improvement
    values = [0.8, 0.7, 0.75]
    _, ran = fit(callbacks.EarlyStopping(patience=2, baseline=0.5), values)
    assert ran == 3
    model, _ = fit(callbacks.EarlyStopping(patience=2, baseline=0.5), values)
    assert model.stop_training
    model, _ = fit(callbacks.EarlyStopping(patience=2), values)
    assert not model.stop_training


def test_early_stopping_restores_best_weights():
    es = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    model, ran = fit(es, [1.0, 0.5, 0.7, 0.8, 0.9])
    assert ran == 4 and es.best_epoch == 1
    assert_allclose(model.weights[0], 1.0)        # the weights after epoch 1
    model, _ = fit(callbacks.EarlyStopping(patience=2), [1.0, 0.5, 0.7, 0.8])
    assert_allclose(model.weights[0], 3.0)        # not restored


def test_early_stopping_start_from_epoch_and_missing_monitor():
    values = [1.0, 2.0, 3.0, 2.5]
    model, ran = fit(callbacks.EarlyStopping(start_from_epoch=2), values)
    assert ran == 4 and not model.stop_training
    _, ran = fit(callbacks.EarlyStopping(), values)
    assert ran == 2
    es = callbacks.EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match="val_loss"):
        model, ran = fit(es, [1.0, 2.0], monitor="loss_typo")
    assert ran == 2 and not model.stop_training


def test_early_stopping_instance_can_be_reused():
    es = callbacks.EarlyStopping(patience=0)
    fit(es, [0.1, 0.2])
    model, ran = fit(es, [1.0, 0.9, 0.8])         # the old best (0.1) is forgotten
    assert ran == 3 and not model.stop_training


def test_early_stopping_verbose_prints(capsys):
    fit(callbacks.EarlyStopping(patience=0, verbose=1, restore_best_weights=True),
        [1.0, 2.0])
    out = capsys.readouterr().out
    assert "Epoch 2: early stopping" in out and "best epoch: 1" in out


def test_early_stopping_invalid_arguments():
    with pytest.raises(ValueError, match="`patience`"):
        callbacks.EarlyStopping(patience=-1)
    with pytest.warns(UserWarning, match="unknown"):
        assert callbacks.EarlyStopping(mode="bigger").mode == "auto"


def test_history_records_epochs_and_sets_model_history():
    history = callbacks.History()
    model = FakeModel()
    history.set_model(model)
    history.set_params({"epochs": 2, "verbose": 0})
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0, "mae": 0.5})
    history.on_epoch_end(1, {"loss": 0.5, "mae": 0.25})
    assert history.history == {"loss": [1.0, 0.5], "mae": [0.5, 0.25]}
    assert history.epoch == [0, 1] and history.params["epochs"] == 2
    assert model.history is history


def test_history_plot_without_matplotlib_raises_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="matplotlib"):
        callbacks.History().plot()


def test_history_plot_with_matplotlib():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    history = callbacks.History()
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0, "val_loss": 2.0})
    history.on_epoch_end(1, {"loss": 0.5, "val_loss": 1.0})
    ax = history.plot(keys=["loss"])
    assert [line.get_label() for line in ax.get_lines()] == ["loss"]
    with pytest.raises(ValueError, match="`keys`"):
        history.plot(keys=["acc"])


def test_callback_hooks_and_callback_list():
    calls = []

    class Recorder(callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            calls.append(("batch_begin", batch))

        def on_epoch_end(self, epoch, logs=None):
            calls.append(("epoch_end", epoch, self.params["epochs"], self.model))

    model = FakeModel()
    cbs = callbacks.CallbackList([Recorder()], add_history=True, model=model, epochs=3)
    assert isinstance(cbs.history, callbacks.History) and len(cbs.callbacks) == 2
    cbs.on_train_begin()
    cbs.on_train_batch_begin(0)                    # Keras calls on_batch_begin from it
    cbs.on_epoch_end(0, {"loss": 2.0})
    assert calls == [("batch_begin", 0), ("epoch_end", 0, 3, model)]
    assert cbs.history.history == {"loss": [2.0]}
    with pytest.raises(ValueError, match="`callbacks`"):
        callbacks.CallbackList(["not a callback"])
    with pytest.raises(AttributeError):
        cbs.on_something_else
