"""Callbacks that watch one logged quantity: ``EarlyStopping`` and ``ReduceLROnPlateau``.

Both follow Keras 3.15's ``MonitorCallback``: ``mode="auto"`` minimises ``loss`` /
``val_loss`` and otherwise takes the direction (``_direction`` ``"up"``/``"down"``) of the
model's metric of that name, searched in ``model.metrics`` and ``model.compiled_metrics``
(metric containers flattened); when none is found it raises ValueError, as Keras does. A
value improves when ``value - min_delta < best`` (min) or ``value + min_delta > best``
(max); the first value seen always improves (``best`` starts as None).
"""
import math
import numbers
import warnings

import numpy as np

from .base import Callback

__all__ = ["MonitorCallback", "EarlyStopping", "ReduceLROnPlateau"]


def _check_int(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"Received an invalid value for argument `{name}` of {owner}, "
                         f"expected an integer >= 0, got {value!r}.")
    return int(value)


def _check_real(owner, name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"Received an invalid value for argument `{name}` of {owner}, "
                         f"expected a real number, got {value!r}.")
    return float(value)


class MonitorCallback(Callback):
    """Base of callbacks comparing ``logs[monitor]`` against the best value so far.

    Args:
        monitor: key of the epoch logs, e.g. ``"val_loss"``.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (anything else warns and means auto).
        baseline: initial ``best`` (None: the first value is an improvement).
        min_delta: smallest change that counts as an improvement (its absolute value).
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        name = type(self).__name__
        if not isinstance(monitor, str):
            raise ValueError(f"Received an invalid value for argument `monitor` of {name}, "
                             f"expected a string (a key of the logs), got {monitor!r}.")
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{name} mode '{mode}' is unknown, fallback to auto mode.",
                          stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = _check_real(name, "baseline", baseline, allow_none=True)
        self.min_delta = abs(_check_real(name, "min_delta", min_delta))
        self.monitor_op = None

    def _model_metrics(self):
        found = []
        for attr in ("metrics", "compiled_metrics"):
            for m in getattr(self.model, attr, None) or []:
                inner = getattr(m, "metrics", None)
                found.extend(inner if isinstance(inner, (list, tuple)) else [m])
        return found

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            metric_name = self.monitor.removeprefix("val_")
            if metric_name == "loss":
                self.monitor_op = np.less
            for m in self._model_metrics():
                if getattr(m, "name", None) == metric_name and hasattr(m, "_direction"):
                    self.monitor_op = np.greater if m._direction == "up" else np.less
            if self.monitor_op is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but "
                    "Keras isn't able to automatically determine whether that metric should "
                    "be maximized or minimized. Pass `mode='max'` in order to monitor based "
                    "on the highest metric value, or pass `mode='min'` in order to use the "
                    "lowest value.")
        if self.monitor_op is np.less:
            self.min_delta = -abs(self.min_delta)
        else:
            self.min_delta = abs(self.min_delta)

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))


class EarlyStopping(MonitorCallback):
    """Stop training when a monitored quantity has stopped improving (Keras 3 semantics).

    At each epoch end from ``start_from_epoch`` on, ``wait`` grows by one; an improvement
    records ``best`` (and the weights, with ``restore_best_weights``) and resets ``wait``
    to 0 only if it also beats ``baseline`` (when given). Once ``wait >= patience`` (and
    ``epoch > 0``) it sets ``model.stop_training = True``. With ``restore_best_weights``,
    ``on_train_end`` calls ``model.set_weights`` with the best epoch's weights.

    Args:
        monitor: key of the epoch logs to watch, default ``"val_loss"``.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping (int >= 0).
        verbose: 1 prints a line when stopping or restoring.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (see the module docstring).
        baseline: value the monitored quantity must beat to reset the patience.
        restore_best_weights: restore the weights of the best epoch at the end of training.
        start_from_epoch: epochs to wait before monitoring (int >= 0).
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = _check_int("EarlyStopping", "patience", patience)
        self.start_from_epoch = _check_int("EarlyStopping", "start_from_epoch",
                                           start_from_epoch)
        self.verbose = verbose
        self.baseline = _check_real("EarlyStopping", "baseline", baseline, allow_none=True)
        self.restore_best_weights = bool(restore_best_weights)
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}", stacklevel=3)
        return value

    def _copy_weights(self):
        # copies: arrays that the optimizer updates in place must not alias the best ones
        return [np.array(w, copy=True) for w in self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self._copy_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self._copy_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the learning rate by ``factor`` when the monitored quantity stalls.

    Keras 3 semantics, at each epoch end: ``logs["learning_rate"]`` is set to the current
    rate; during ``cooldown`` epochs after a reduction ``wait`` stays 0; an improvement
    resets ``wait``; otherwise ``wait`` grows and when it reaches ``patience`` the rate
    becomes ``max(lr * factor, min_lr)`` (only if ``lr > float32(min_lr)``), then the
    cooldown starts. Talks to ``model.optimizer.learning_rate`` only.

    Args:
        monitor: key of the logs, default ``"val_loss"``.
        factor: float < 1, the multiplier.
        patience: epochs without improvement before reducing (int >= 0).
        verbose: 1 prints a line at each reduction.
        mode: ``"auto"``, ``"min"`` or ``"max"``.
        min_delta: threshold for an improvement, default 1e-4.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: lower bound of the learning rate.

    Raises:
        ValueError: ``factor >= 1`` (Keras's message) or invalid numbers.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        factor = _check_real("ReduceLROnPlateau", "factor", factor)
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.factor = factor
        self.min_lr = _check_real("ReduceLROnPlateau", "min_lr", min_lr)
        self.patience = _check_int("ReduceLROnPlateau", "patience", patience)
        self.cooldown = _check_int("ReduceLROnPlateau", "cooldown", cooldown)
        self.verbose = verbose
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _reduce_lr(self, epoch):
        optimizer = self.model.optimizer
        old_lr = float(optimizer.learning_rate)
        if old_lr > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizer.learning_rate = new_lr
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                      f"{new_lr}.")
            return True
        return False

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          f"which is not available. Available metrics are: "
                          f"{','.join(logs)}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_lr(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0
