"""callbacks.TensorBoard writes Keras 3's layout (keras/src/callbacks/tensorboard.py); the
event files are read back with tensorboard's EventAccumulator (skipped without it)."""
import builtins
import os

import numpy as np
import pytest

from fastrnn import callbacks
from fastrnn.layers import Dense, SimpleRNN
from fastrnn.models import Sequential

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _read(path):
    acc = event_accumulator.EventAccumulator(path, size_guidance={"scalars": 0,
                                                                   "histograms": 0})
    acc.Reload()
    scalars = {tag: [(e.step, e.value) for e in acc.Scalars(tag)]
               for tag in acc.Tags()["scalars"]}
    return scalars, acc.Tags()["histograms"], acc.Tags()["images"]


def _fit(tmp_path, **kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4, 3)).astype("float32")
    y = rng.normal(size=(20, 1)).astype("float32")
    model = Sequential([SimpleRNN(5, input_shape=(4, 3), seed=0, name="simple_rnn"),
                        Dense(1, seed=1, name="dense")],
                       name="sequential")
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    tb = callbacks.TensorBoard(log_dir=str(tmp_path / "logs"), **kwargs)
    history = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.2, verbose=0,
                        callbacks=[tb])
    return model, history, tb, x, y


def test_epoch_scalars_in_keras_layout(tmp_path):
    model, history, _, _, _ = _fit(tmp_path)
    train, hist, _ = _read(str(tmp_path / "logs" / "train"))
    val, _, _ = _read(str(tmp_path / "logs" / "validation"))
    assert set(train) == {"epoch_loss", "epoch_mae", "epoch_learning_rate"} and not hist
    for key in ("loss", "mae"):
        assert [s for s, _ in train[f"epoch_{key}"]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in train[f"epoch_{key}"]],
                                   history.history[key], rtol=1e-6)
        np.testing.assert_allclose([v for _, v in val[f"epoch_{key}"]],
                                   history.history[f"val_{key}"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], 0.001, rtol=1e-6)
    # Keras 3: each validation also logs evaluation_<name>_vs_iterations (2 batches/epoch)
    assert [s for s, _ in val["evaluation_loss_vs_iterations"]] == [2, 4, 6]
    np.testing.assert_allclose([v for _, v in val["evaluation_loss_vs_iterations"]],
                               history.history["val_loss"], rtol=1e-6)


def test_batch_scalars_histograms_and_images(tmp_path):
    model, _, _, x, y = _fit(tmp_path, update_freq=2, histogram_freq=2, write_images=True,
                             write_steps_per_second=True)
    train, hist, images = _read(str(tmp_path / "logs" / "train"))
    assert [s for s, _ in train["batch_loss"]] == [2, 4, 6]  # 2 batches per epoch
    assert "epoch_steps_per_second" in train
    assert set(hist) == {"sequential/simple_rnn/simple_rnn_cell/kernel/histogram",
                         "sequential/simple_rnn/simple_rnn_cell/recurrent_kernel/histogram",
                         "sequential/simple_rnn/simple_rnn_cell/bias/histogram",
                         "sequential/dense/kernel/histogram", "sequential/dense/bias/histogram"}
    assert "sequential/dense/kernel/image" in images
    model.evaluate(x, y, verbose=0, callbacks=[callbacks.TensorBoard(
        log_dir=str(tmp_path / "eval"))])
    val, _, _ = _read(str(tmp_path / "eval" / "validation"))
    assert set(val) == {"evaluation_loss_vs_iterations", "evaluation_mae_vs_iterations"}


def test_missing_dependency_and_bad_arguments(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_writers(name, *args, **kwargs):
        if name.startswith(("tensorboardX", "torch.utils.tensorboard")):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_writers)
    with pytest.raises(ImportError, match="pip install tensorboardX"):
        callbacks.TensorBoard(log_dir=str(tmp_path))
    monkeypatch.undo()
    for kwargs, match in [({"update_freq": "step"}, "update_freq"),
                          ({"histogram_freq": -1}, "histogram_freq"),
                          ({"profile_batch": 2}, "profile_batch")]:
        with pytest.raises(ValueError, match=match):
            callbacks.TensorBoard(log_dir=str(tmp_path), **kwargs)
    assert not os.listdir(tmp_path)  # no files before training, as Keras
