"""fit's per-batch hooks: run (with that batch's logs) for every callback that has one of
its own, Keras 2's ``on_batch_*`` included, and skipped with their logs when none has;
the non-finite warning still names the epoch and step."""
import numpy as np
import pytest

from fastrnn.callbacks import Callback, CallbackList, History, LambdaCallback
from fastrnn.layers import Dense, SimpleRNN
from fastrnn.models import Sequential
from fastrnn.utils import set_random_seed


def _model():
    set_random_seed(3)
    m = Sequential([SimpleRNN(3, input_shape=(2, 10)), Dense(1, activation="sigmoid")])
    m.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def _data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((40, 2, 10)).astype("float32"),
            (rng.random((40, 1)) > 0.5).astype("float32"))


class Ends(Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append((batch, dict(logs)))


class Keras2Begins(Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_batch_begin(self, batch, logs=None):
        self.seen.append(batch)


def test_batch_hooks_run_with_each_batch_logs():
    x, y = _data()
    lam_end, lam_k2 = [], []
    cbs = [Ends(), Keras2Begins(),
           LambdaCallback(on_train_batch_end=lambda b, logs: lam_end.append(logs["loss"])),
           LambdaCallback(on_batch_end=lambda b, logs: lam_k2.append(b))]
    hist = _model().fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
                        callbacks=cbs).history
    ends = cbs[0].seen
    assert [b for b, _ in ends] == list(range(5)) * 2
    assert all(set(logs) == {"loss", "accuracy"} for _, logs in ends)
    assert ends[4][1]["loss"] == hist["loss"][0] and ends[9][1]["loss"] == hist["loss"][1]
    assert cbs[1].seen == list(range(5)) * 2
    assert lam_end == [logs["loss"] for _, logs in ends]
    assert lam_k2 == list(range(5)) * 2
    # the same training without batch hooks: the same history
    assert _model().fit(x, y, batch_size=8, epochs=2, shuffle=False,
                        verbose=0).history == hist


def test_wants_sees_methods_attributes_and_keras2_aliases():
    class Other(Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    plain = CallbackList([Other(), History()])
    assert not plain.wants("on_train_batch_end") and not plain.wants("on_train_batch_begin")
    assert plain.wants("on_epoch_end")
    assert CallbackList([Ends()]).wants("on_train_batch_end")
    assert CallbackList([Keras2Begins()]).wants("on_train_batch_begin")
    assert not CallbackList([Keras2Begins()]).wants("on_train_batch_end")
    cb = Callback()
    cb.on_batch_end = lambda batch, logs=None: None
    assert CallbackList([cb]).wants("on_train_batch_end")


def test_non_finite_warning_names_epoch_and_step():
    x, y = _data()
    x[17] = np.inf  # batch 3 of 8 samples
    m = _model()
    with pytest.warns(RuntimeWarning, match=r"stopped at epoch 1, step 3: the loss is nan"):
        m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
