"""Stateful metrics by their Keras names, averaged over an epoch as Keras 3 averages them.

Every metric here is a ``Mean`` of per-sample values (Keras's ``MeanMetricWrapper``):
``update_state`` adds ``sum(values)`` to ``total`` and the number of samples (or the sum of
``sample_weight``) to ``count``; ``result()`` is ``total / count`` (0 before any update). A
value with extra axes, e.g. per timestep ``(batch, timesteps)``, is first averaged over those
axes, so each sample counts once. Over an epoch of batches of different sizes the result is
therefore the per-sample mean over the whole epoch.

The loss shown in Keras's History is a ``Mean`` of batch losses weighted by batch size:
``loss_tracker.update_state(batch_loss, sample_weight=batch_size)``.

Accumulators are float64 (Keras uses float32 variables); ``result()`` is a Python float.
"""
import numpy as np

from .. import losses as _losses

__all__ = ["Metric", "Mean", "MeanMetricWrapper"]


def _shape_error(name, expected, y_true_shape, y_pred_shape):
    return ValueError(
        f"Received an invalid shape for argument `y` (the targets) of metric '{name}': "
        f"expected {expected} to go with predictions of shape {tuple(y_pred_shape)}, "
        f"got y.shape={tuple(y_true_shape)}.")


class Metric:
    """Base class: ``update_state(...)``, ``result() -> float``, ``reset_state()``, ``name``.

    ``_direction`` is ``"up"`` (higher is better), ``"down"`` or None (unknown), as in Keras;
    EarlyStopping reads it in its ``"auto"`` mode.
    """

    default_name = "metric"
    _direction = None

    def __init__(self, name=None):
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Received an invalid value for argument `name`, expected a "
                             f"string, got {name!r}.")
        self.name = name or self.default_name
        self.reset_state()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} result={self.result():.6g}>"

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        pass

    def get_config(self):
        return {"name": self.name}


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight)``.

    Example:
        >>> m = Mean()
        >>> m.update_state([1, 3, 5, 7])
        >>> m.result()
        4.0
        >>> m.reset_state(); m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        >>> m.result()
        2.0
    """

    default_name = "mean"

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        """Add ``values`` (scalar or ``(batch, ...)``), weighted by ``sample_weight``
        (a scalar or an array broadcastable from the left, e.g. ``(batch,)``)."""
        values = np.asarray(values, dtype=np.float64)
        sw = None
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64)
            values, sw = _losses._squeeze_or_expand(values, sw)
            if values.ndim > sw.ndim:          # average the axes the weights do not have
                values = values.mean(axis=tuple(range(sw.ndim, values.ndim)))
            try:
                sw = np.broadcast_to(sw, values.shape)
            except ValueError:
                raise ValueError(
                    f"Received an invalid shape for argument `sample_weight` of metric "
                    f"'{self.name}', expected a shape broadcastable to {values.shape}, "
                    f"got {np.shape(sample_weight)}.") from None
            values = values * sw
            if sw.ndim > 1:
                sw = sw.mean(axis=tuple(range(1, sw.ndim)))
        if values.ndim > 1:
            values = values.mean(axis=tuple(range(1, values.ndim)))
        self.total += float(np.sum(values))
        if sw is not None:
            self.count += float(np.sum(sw))
        else:
            self.count += values.shape[0] if values.ndim >= 1 else 1

    def result(self):
        return self.total / self.count if self.count != 0 else 0.0


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` (per-sample values) over all samples.

    Args:
        fn: function ``(y_true, y_pred) -> values of shape (batch, ...)``.
        name: the metric's name (defaults to ``fn.__name__``).
        **kwargs: passed on to ``fn``.
    """

    def __init__(self, fn, name=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", None))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add the values of a batch: ``y_true``/``y_pred`` as the wrapped function takes
        them, ``sample_weight`` optional ``(batch,)``."""
        super().update_state(self._fn(y_true, y_pred, **self._fn_kwargs),
                             sample_weight=sample_weight)
