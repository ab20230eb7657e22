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

from . import losses as _losses

__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "MeanSquaredError", "MeanAbsoluteError",
    "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "get",
]


# ----------------------------------------------------------------------------- functions

def _shape_error(name, expected, y_true_shape, y_pred_shape):
    return ValueError(
        f"Received an invalid shape for argument `y` (the targets) of metric '{name}': "
        f"expected {expected} to go with predictions of shape {tuple(y_pred_shape)}, "
        f"got y.shape={tuple(y_true_shape)}.")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold) == y_true``, else 0.0, elementwise.

    Args:
        y_true: 0/1 targets, same shape as ``y_pred`` (or without its trailing axis of 1).
        y_pred: probabilities, e.g. ``(batch, 1)`` or ``(batch, timesteps, 1)``.
        threshold: predictions above it count as 1.

    Returns:
        float32 array of the (rank-matched) shape of ``y_pred``.

    Example:
        >>> binary_accuracy([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])[:, 0]
        array([1., 1., 1., 0.], dtype=float32)
    """
    t, p = _losses._squeeze_or_expand(np.asarray(y_true), np.asarray(y_pred))
    if t.shape != p.shape:
        raise _shape_error("binary_accuracy", f"shape {p.shape}", np.shape(y_true), p.shape)
    return (t == (p > threshold).astype(t.dtype)).astype(np.float32)


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` over the last axis, else 0.0.

    Args:
        y_true: one-hot targets, same shape as ``y_pred``.
        y_pred: scores, ``(batch, classes)`` or ``(batch, timesteps, classes)``.

    Returns:
        float32 array of shape ``y_pred.shape[:-1]``.

    Example:
        >>> categorical_accuracy([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        array([0., 1.], dtype=float32)
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape or p.ndim < 1:
        raise _shape_error("categorical_accuracy", f"shape {p.shape} (one-hot)", t.shape,
                           p.shape)
    return (np.argmax(t, axis=-1) == np.argmax(p, axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where ``y_true == argmax(y_pred)`` over the last axis, else 0.0.

    Args:
        y_true: class indices, ``y_pred.shape[:-1]`` or that with a trailing axis of 1.
        y_pred: scores, ``(batch, classes)`` or ``(batch, timesteps, classes)``.

    Returns:
        float32 array of shape ``y_pred.shape[:-1]``.

    Example:
        >>> sparse_categorical_accuracy([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
        array([0., 1.], dtype=float32)
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if p.ndim < 2:
        raise ValueError("Received an invalid shape for argument `y_pred` of metric "
                         "'sparse_categorical_accuracy', expected (batch, classes) or (batch, "
                         f"timesteps, classes), got {p.shape}.")
    if t.ndim == p.ndim and t.shape[-1] == 1:
        t = t[..., 0]
    if t.shape != p.shape[:-1]:
        raise _shape_error("sparse_categorical_accuracy",
                           f"shape {p.shape[:-1]} or {p.shape[:-1] + (1,)} (class indices)",
                           np.shape(y_true), p.shape)
    return (t == np.argmax(p, axis=-1).astype(t.dtype)).astype(np.float32)


# ----------------------------------------------------------------------------- classes

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


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``mean((y_true - y_pred)**2, axis=-1)`` over all samples seen."""
    default_name = "mean_squared_error"
    _direction = "down"

    def __init__(self, name="mean_squared_error"):
        super().__init__(_losses.mean_squared_error, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``mean(|y_true - y_pred|, axis=-1)`` over all samples seen."""
    default_name = "mean_absolute_error"
    _direction = "down"

    def __init__(self, name="mean_absolute_error"):
        super().__init__(_losses.mean_absolute_error, name=name)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``(y_pred > threshold)`` equals the 0/1 targets.

    Example:
        >>> m = BinaryAccuracy()
        >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
        >>> m.result()
        0.75
    """
    default_name = "binary_accuracy"
    _direction = "up"

    def __init__(self, name="binary_accuracy", threshold=0.5):
        self.threshold = float(threshold)
        super().__init__(binary_accuracy, name=name, threshold=self.threshold)

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of the predictions matches that of the one-hot targets."""
    default_name = "categorical_accuracy"
    _direction = "up"

    def __init__(self, name="categorical_accuracy"):
        super().__init__(categorical_accuracy, name=name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of the predictions matches the integer targets."""
    default_name = "sparse_categorical_accuracy"
    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy"):
        super().__init__(sparse_categorical_accuracy, name=name)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy (per-sample as ``fastrnn.losses.binary_crossentropy``)."""
    default_name = "binary_crossentropy"
    _direction = "down"

    def __init__(self, name="binary_crossentropy", from_logits=False, label_smoothing=0.0):
        super().__init__(_losses.binary_crossentropy, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical crossentropy (as ``fastrnn.losses.categorical_crossentropy``)."""
    default_name = "categorical_crossentropy"
    _direction = "down"

    def __init__(self, name="categorical_crossentropy", from_logits=False,
                 label_smoothing=0.0):
        super().__init__(_losses.categorical_crossentropy, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical crossentropy (``fastrnn.losses`` per-sample values)."""
    default_name = "sparse_categorical_crossentropy"
    _direction = "down"

    def __init__(self, name="sparse_categorical_crossentropy", from_logits=False):
        super().__init__(_losses.sparse_categorical_crossentropy, name=name,
                         from_logits=from_logits)


class _AutoAccuracy(Metric):
    """``"accuracy"``/``"acc"``: becomes binary, sparse categorical or categorical accuracy at
    its first update, by Keras 3's rule on the shapes (compile_utils.get_metric):
    binary if ``y_pred.shape[-1] == 1``; else sparse if ``y_true`` has lower rank than
    ``y_pred`` or ``y_true.shape[-1] == 1``; else categorical."""

    _direction = "up"

    def __init__(self, name="accuracy"):
        self.resolved = None
        super().__init__(name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.resolved is None:
            self.resolved = _accuracy_for_shapes(np.shape(y_true), np.shape(y_pred))(
                name=self.name)
        self.resolved.update_state(y_true, y_pred, sample_weight=sample_weight)

    def result(self):
        return 0.0 if self.resolved is None else self.resolved.result()

    def reset_state(self):
        if getattr(self, "resolved", None) is not None:
            self.resolved.reset_state()


def _accuracy_for_shapes(y_true_shape, y_pred_shape):
    t_rank, p_rank = len(y_true_shape), len(y_pred_shape)
    t_last = y_true_shape[-1] if t_rank else None
    p_last = y_pred_shape[-1] if p_rank else None
    if p_last == 1:
        return BinaryAccuracy
    if t_rank < p_rank or (t_last == 1 and p_last is not None and p_last > 1):
        return SparseCategoricalAccuracy
    return CategoricalAccuracy


# ----------------------------------------------------------------------------- lookup

_CLASSES = (MeanSquaredError, MeanAbsoluteError, BinaryAccuracy, CategoricalAccuracy,
            SparseCategoricalAccuracy, BinaryCrossentropy, CategoricalCrossentropy,
            SparseCategoricalCrossentropy, Mean)
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({cls.default_name: cls for cls in _CLASSES})
_BY_NAME.update({"mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
                 "MAE": MeanAbsoluteError, "bce": BinaryCrossentropy,
                 "BCE": BinaryCrossentropy})
ALLOWED_NAMES = ("accuracy", "acc") + tuple(_BY_NAME)


def get(identifier, loss=None, y_true=None, y_pred=None):
    """A metric object, named as Keras 3's ``compile(metrics=[...])`` names it.

    Args:
        identifier: a name (``"accuracy"``, ``"acc"``, ``"mae"``, ``"mse"``,
            ``"mean_absolute_error"``, ``"binary_accuracy"``, a class name ...), a ``Metric``
            (class or instance), or a function ``(y_true, y_pred) -> per-sample values``.
            A string names the metric (``"mae"`` is reported as ``"mae"``, as in Keras).
        loss: accepted for compatibility; Keras 3 does not consult the loss: ``"accuracy"``
            is resolved from the shapes of ``y_true`` and ``y_pred``.
        y_true, y_pred: arrays (or shapes) of one batch; when both are given, ``"accuracy"``
            is resolved now, otherwise at the metric's first ``update_state``.

    Example:
        >>> m = get("acc"); m.update_state([[1], [0]], [[0.7], [0.7]]); (m.name, m.result())
        ('acc', 0.5)
    """
    del loss  # Keras 3 resolves "accuracy" from the shapes only.
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            if y_true is not None and y_pred is not None:
                shapes = [y if isinstance(y, tuple) else np.shape(y) for y in (y_true, y_pred)]
                return _accuracy_for_shapes(*shapes)(name=identifier)
            return _AutoAccuracy(name=identifier)
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier)
    elif callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(
        f"Received an invalid value for argument `metrics`, expected one of "
        f"{list(ALLOWED_NAMES)}, a fastrnn.metrics.Metric or a callable, got {identifier!r}.")
