"""The callback protocol of Keras 3: ``Callback``, ``CallbackList`` and ``History``.

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
__all__ = ["Callback", "CallbackList", "History"]


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
# the Keras 2 hooks Callback's on_train_batch_* call
_BATCH_ALIASES = {"on_train_batch_begin": "on_batch_begin",
                  "on_train_batch_end": "on_batch_end"}


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

    def wants(self, name):
        """Whether some callback does something in hook ``name``: a method of its own
        there (or, for ``on_train_batch_*``, in the Keras 2 ``on_batch_*`` they call),
        not ``Callback``'s no-op. fit skips a hook no callback wants, and the logs only
        that hook would receive."""
        names = (name, _BATCH_ALIASES[name]) if name in _BATCH_ALIASES else (name,)
        return any(n in vars(cb) or getattr(type(cb), n) is not getattr(Callback, n)
                   for cb in self.callbacks for n in names)


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
