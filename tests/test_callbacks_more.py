"""ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, CSVLogger, TerminateOnNaN,
LambdaCallback: Keras 3 semantics with a fake model that records what it is asked."""
import math

import numpy as np
import pytest

from pure_modules import load

callbacks, optimizers, metrics = load("callbacks", "optimizers", "metrics")


class RecordingModel:
    """The model surface callbacks use: stop flag, weights, optimizer, save calls."""

    def __init__(self, lr=0.1, metrics_list=()):
        self.stop_training = False
        self.optimizer = optimizers.SGD(learning_rate=lr)
        self.metrics = list(metrics_list)
        self.saved = []

    def get_weights(self):
        return [np.zeros(1)]

    def set_weights(self, weights):
        pass

    def save(self, path, overwrite=True):
        self.saved.append(("save", path, overwrite))

    def save_weights(self, path, overwrite=True):
        self.saved.append(("save_weights", path, overwrite))


def run(cb, logs_per_epoch, model=None, batches=0):
    model = model or RecordingModel()
    cb.set_model(model)
    cb.on_train_begin({})
    for epoch, logs in enumerate(logs_per_epoch):
        cb.on_epoch_begin(epoch, {})
        for b in range(batches):
            cb.on_train_batch_begin(b, {})
            cb.on_train_batch_end(b, {"loss": logs.get("loss", 0.0)})
        cb.on_epoch_end(epoch, dict(logs))
        if model.stop_training:
            break
    cb.on_train_end({})
    return model


def test_model_checkpoint_formats_paths_and_saves_every_epoch(tmp_path):
    pattern = str(tmp_path / "ckpt" / "m-{epoch:02d}-{val_loss:.2f}.keras")
    model = run(callbacks.ModelCheckpoint(pattern), [{"val_loss": 0.5}, {"val_loss": 0.25}])
    assert model.saved == [("save", str(tmp_path / "ckpt" / "m-01-0.50.keras"), True),
                           ("save", str(tmp_path / "ckpt" / "m-02-0.25.keras"), True)]
    assert (tmp_path / "ckpt").is_dir()            # the folder is created


def test_model_checkpoint_save_best_only_and_weights_only(tmp_path):
    path = str(tmp_path / "best.weights.h5")
    cb = callbacks.ModelCheckpoint(path, save_best_only=True, save_weights_only=True)
    model = run(cb, [{"val_loss": 0.5}, {"val_loss": 0.7}, {"val_loss": 0.4}])
    assert [c[0] for c in model.saved] == ["save_weights", "save_weights"]
    assert cb.best == 0.4
    cb = callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), monitor="val_acc", mode="max",
                                   save_best_only=True)
    model = run(cb, [{"val_acc": 0.5}, {"val_acc": 0.4}, {"val_acc": 0.6}])
    assert len(model.saved) == 2
    # auto mode takes the direction of the model's metric of that name
    cb = callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), monitor="val_accuracy",
                                   save_best_only=True)
    model = run(cb, [{"val_accuracy": 0.5}, {"val_accuracy": 0.4}, {"val_accuracy": 0.6}],
                model=RecordingModel(metrics_list=[metrics.get("accuracy")]))
    assert len(model.saved) == 2
    with pytest.warns(UserWarning, match="val_loss available"):
        model = run(callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_best_only=True),
                    [{"loss": 1.0}])
    assert len(model.saved) == 1


def test_model_checkpoint_integer_save_freq_counts_batches(tmp_path):
    cb = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}-{batch}.keras"), save_freq=3)
    model = run(cb, [{"loss": 1.0}, {"loss": 0.5}], batches=4)
    assert [c[1].rsplit("/", 1)[-1] for c in model.saved] == ["m-1-3.keras", "m-2-2.keras"]


def test_model_checkpoint_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        callbacks.ModelCheckpoint(str(tmp_path / "w.h5"), save_weights_only=True)
    with pytest.raises(ValueError, match="must end in `.keras`"):
        callbacks.ModelCheckpoint(str(tmp_path / "model.ckpt"))
    with pytest.raises(ValueError, match="Unrecognized save_freq"):
        callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="batch")
    with pytest.raises(KeyError, match="Failed to format"):
        run(callbacks.ModelCheckpoint(str(tmp_path / "m-{val_acc}.keras")), [{"loss": 1.0}])
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(IOError, match="non-directory"):
        run(callbacks.ModelCheckpoint(str(tmp_path / "dir.keras")), [{"loss": 1.0}])


def test_reduce_lr_on_plateau_patience_min_lr_and_logs():
    cb = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_lr=0.03,
                                     min_delta=0.0)
    seen = []

    class Spy(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(logs["learning_rate"])

    model = RecordingModel()
    cbs = callbacks.CallbackList([cb, Spy()], model=model)
    cbs.on_train_begin({})
    lrs = []
    for epoch, loss in enumerate([1.0, 0.9, 0.9, 0.9, 0.9, 0.9]):
        cbs.on_epoch_end(epoch, {"loss": loss})
        lrs.append(model.optimizer.learning_rate)
    # 0.05 * 0.5 is below min_lr: 0.03; then lr == float32(min_lr): no more reductions
    assert lrs == pytest.approx([0.1, 0.1, 0.05, 0.03, 0.03, 0.03], rel=1e-6)
    assert seen == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.03, 0.03], rel=1e-6)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.raises(ValueError, match="`patience`"):
        callbacks.ReduceLROnPlateau(patience=-1)
    with pytest.warns(UserWarning, match="val_loss"):
        run(callbacks.ReduceLROnPlateau(), [{"loss": 1.0}])


def test_reduce_lr_refuses_an_optimizer_with_a_schedule():
    model = RecordingModel()
    model.optimizer = optimizers.SGD(optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="not settable"):
        run(callbacks.ReduceLROnPlateau(monitor="loss", patience=0, min_delta=0),
            [{"loss": 1.0}, {"loss": 1.0}], model=model)


def test_learning_rate_scheduler_old_and_new_signatures():
    model = run(callbacks.LearningRateScheduler(lambda epoch: 0.5 ** epoch), [{}] * 3)
    assert model.optimizer.learning_rate == pytest.approx(0.25)
    model = run(callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.1), [{}] * 2)
    assert model.optimizer.learning_rate == pytest.approx(0.001, rel=1e-5)
    with pytest.raises(ValueError, match="should be a float"):
        run(callbacks.LearningRateScheduler(lambda epoch: 1), [{}])   # int: Keras refuses
    with pytest.raises(ValueError, match="`schedule`"):
        callbacks.LearningRateScheduler(0.1)


def test_terminate_on_nan():
    cb = callbacks.TerminateOnNaN()
    model = RecordingModel()
    cb.set_model(model)
    cb.on_train_batch_end(0, {"loss": 0.5})
    assert not model.stop_training
    cb.on_train_batch_end(1, {"loss": math.inf})
    assert model.stop_training
    cb = callbacks.TerminateOnNaN(raise_error=True)
    cb.set_model(RecordingModel())
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 3"):
        cb.on_batch_end(3, {"loss": float("nan")})


def test_lambda_callback():
    calls = []
    cb = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: calls.append(("end", epoch, logs["loss"])),
        on_train_begin=lambda logs: calls.append("begin"),
        on_train_batch_end=lambda batch, logs: calls.append(("batch", batch)),
        on_test_end=lambda logs: calls.append("test"))
    run(cb, [{"loss": 2.0}], batches=1)
    cb.on_test_end({})
    assert calls == ["begin", ("batch", 0), ("end", 0, 2.0), "test"]
    with pytest.raises(ValueError, match="`on_epoch_end`"):
        callbacks.LambdaCallback(on_epoch_end=3)


def test_csv_logger_values_and_missing_keys(tmp_path):
    path = tmp_path / "log.tsv"
    run(callbacks.CSVLogger(str(path), separator="\t"),
        [{"loss": 0.5, "mae": np.float32(0.25)}, {"loss": 0.25}])
    assert path.read_text().splitlines() == [
        "epoch\tloss\tmae\tval_loss\tval_mae", "0\t0.5\t0.25\tNA\tNA", "1\t0.25\tNA\tNA\tNA"]
