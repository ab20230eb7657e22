"""Callbacks with Keras 3's hooks: ``Callback``, ``CallbackList``, ``History``, ``EarlyStopping``.

The training loop calls, in this order::

    on_train_begin(logs)
      on_epoch_begin(epoch, logs)
        on_train_batch_begin(batch, logs) / on_train_batch_end(batch, logs)   (each batch)
        on_test_begin / on_test_batch_* / on_test_end                        (validation)
      on_epoch_end(epoch, logs)      # logs: {"loss": ..., "mae": ..., "val_loss": ...}
      (stops when model.stop_training is True)
    on_train_end(logs)

A callback reaches the model through ``self.model`` (set by ``set_model``) and the fit
arguments through ``self.params`` (``{"epochs": ..., "steps": ..., "verbose": ...}``).
"""
import warnings

import numpy as np

__all__ = ["Callback", "CallbackList", "History", "EarlyStopping"]


class Callback:
    """Base class: every hook is a no-op; ``on_train_batch_*`` also call ``on_batch_*``."""

    def __init__(self):
        self.model = None
        self.params = {}

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def set_params(self, params):
        self.params = dict(params)

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)       # as Keras, for backwards compatibility

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class CallbackList:
    """Calls each hook on every callback in order.

    Args:
        callbacks: list of ``Callback`` objects (or None).
        add_history: append a ``History`` if none is in ``callbacks``.
        model: the model given to every callback (``set_model``).
        **params: the fit parameters given to every callback (``set_params``).
    """

    def __init__(self, callbacks=None, add_history=False, model=None, **params):
        callbacks = list(callbacks or [])
        for i, cb in enumerate(callbacks):
            if not isinstance(cb, Callback):
                raise ValueError(f"Received an invalid value for argument `callbacks` at index "
                                 f"{i}, expected a fastrnn.callbacks.Callback, got {cb!r}.")
        if add_history and not any(isinstance(cb, History) for cb in callbacks):
            callbacks.append(History())
        self.callbacks = callbacks
        self.history = next((cb for cb in callbacks if isinstance(cb, History)), None)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def __getattr__(self, name):
        if name in _HOOKS:
            def dispatch(*args, **kwargs):
                for cb in self.callbacks:
                    getattr(cb, name)(*args, **kwargs)
            return dispatch
        raise AttributeError(name)


class History(Callback):
    """Records the logs of every epoch: ``history[key]`` is a list with one value per epoch.

    Attributes:
        history: dict ``{"loss": [...], "val_loss": [...], ...}``.
        epoch: list of the epoch indices seen.
        params: the fit parameters.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self

    def plot(self, keys=None, ax=None):
        """Plot the recorded values against the epoch; needs matplotlib.

        Args:
            keys: the history keys to draw (default: all of them).
            ax: a matplotlib Axes to draw into (default: a new figure's).

        Returns:
            The matplotlib Axes.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError("History.plot needs matplotlib, which is not installed: "
                              "pip install matplotlib") from e
        keys = list(self.history) if keys is None else list(keys)
        missing = [k for k in keys if k not in self.history]
        if missing:
            raise ValueError(f"Received an invalid value for argument `keys`, expected keys of "
                             f"the history {list(self.history)}, got {missing}.")
        if ax is None:
            _, ax = plt.subplots()
        for k in keys:
            values = self.history[k]
            ax.plot(self.epoch[:len(values)] if self.epoch else range(len(values)), values,
                    label=k)
        ax.set_xlabel("epoch")
        ax.legend()
        return ax


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving (Keras 3 semantics).

    At each epoch end (from ``start_from_epoch`` on): the value improves when it beats the
    best so far by more than ``min_delta``; then ``wait`` goes back to 0 (only if it also
    beats ``baseline``, when given). Otherwise ``wait`` grows, and once ``wait >= patience``
    (and ``epoch > 0``) it sets ``model.stop_training = True``. With
    ``restore_best_weights``, ``on_train_end`` puts back ``model.get_weights()`` from the
    best epoch.

    Args:
        monitor: key of the epoch logs to watch, default ``"val_loss"``.
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints a line when stopping or restoring.
        mode: ``"min"``, ``"max"`` or ``"auto"``: the direction of a metric of
            ``model.metrics`` with that name (its ``_direction``, as Keras 3), else ``"min"``
            for ``loss``, else ``"max"`` if the name contains ``"acc"`` and ``"min"`` if not.
        baseline: value the monitored quantity must beat to reset the patience.
        restore_best_weights: restore the weights of the best epoch at the end of training.
        start_from_epoch: epochs to wait before monitoring.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if not isinstance(monitor, str):
            raise ValueError(f"Received an invalid value for argument `monitor`, expected a "
                             f"string, got {monitor!r}.")
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) \
                or patience < 0:
            raise ValueError(f"Received an invalid value for argument `patience`, expected an "
                             f"integer >= 0, got {patience!r}.")
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"EarlyStopping mode {mode} is unknown, fallback to auto mode.",
                          stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.monitor_op = None
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _direction_from_model(self, metric_name):
        found = []
        for m in getattr(self.model, "metrics", None) or []:
            found.extend(getattr(m, "metrics", None) or [m])   # flatten metric containers
        for m in found:
            if getattr(m, "name", None) == metric_name and getattr(m, "_direction", None):
                return m._direction
        return None

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            metric_name = self.monitor.removeprefix("val_")
            direction = "down" if metric_name == "loss" else self._direction_from_model(
                metric_name)
            if direction is None:
                direction = "up" if "acc" in metric_name else "down"
            self.monitor_op = np.greater if direction == "up" else np.less
        self._signed_delta = -self.min_delta if self.monitor_op is np.less else self.min_delta
        self.best = float("inf") if self.monitor_op is np.less else -float("inf")

    def _is_improvement(self, value, reference):
        return bool(self.monitor_op(value - self._signed_delta, reference))

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        if self.monitor_op is not None:     # re-used instance: start from scratch
            self._set_monitor_op()

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}", stacklevel=3)
        return value

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

    def _copy_weights(self):
        # copies, so that arrays the optimizer keeps updating in place cannot alias them
        return [np.array(w, copy=True) for w in self.model.get_weights()]

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
