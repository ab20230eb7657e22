"""Losses by their Keras names, each with its value and its gradient side by side.

A loss object maps targets ``y_true`` and predictions ``y_pred`` to one number, as Keras 3
does with its default reduction ``"sum_over_batch_size"``:

    per_sample = fn(y_true, y_pred)            # shape y_pred.shape[:-1] (sparse: same)
    loss       = sum(per_sample * w) / per_sample.size          # w = sample_weight or 1

and ``gradient(y_true, y_pred)`` returns d loss / d y_pred, same shape and dtype as
``y_pred``. The per-sample functions follow Keras 3 with the TensorFlow backend:

- mean_squared_error   mean((y_pred - y_true)**2, axis=-1)
- mean_absolute_error  mean(|y_pred - y_true|, axis=-1)              (gradient 0 at a tie)
- binary_crossentropy  mean(-(t log q + (1-t) log(1-q)), axis=-1),  q = clip(p, eps, 1-eps)
                       from_logits: mean(max(x,0) - x t + log1p(exp(-|x|)), axis=-1)
- categorical_crossentropy   -sum(t log clip(p / sum(p), eps, 1-eps), axis=-1)
                       from_logits: -sum(t log_softmax(x), axis=-1)
- sparse_categorical_crossentropy  -log_softmax(log clip(p, eps, 1-eps))[y]
                       (TensorFlow's path: clip, log, then softmax cross-entropy on those
                       "logits"; equal to -log(p[y] / sum(p)) while nothing is clipped)
                       from_logits: -log_softmax(x)[y]

eps = 1e-7 (Keras's ``backend.epsilon()``), cast to the dtype of ``y_pred``. Where a value is
clipped its gradient is zero, as with ``tf.clip_by_value`` (the bounds themselves pass).

Arrays are computed in the float dtype of ``y_pred`` (float32 when it is an integer array);
``y_true`` is cast to it. Shapes: ``y_pred`` is ``(batch, classes)`` or
``(batch, timesteps, classes)``; ``y_true`` has the same shape, or (sparse) that shape without
its last axis, optionally with a trailing axis of 1. As Keras does, a target of shape
``(batch,)`` is accepted for predictions of shape ``(batch, 1)`` and vice versa.
"""
import numpy as np

__all__ = [
    "Loss", "LossFunctionWrapper",
    "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
    "mean_squared_error", "mean_absolute_error", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy",
    "mse", "mae", "MSE", "MAE", "bce", "BCE", "get", "serialize",
]

EPSILON = 1e-7
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ----------------------------------------------------------------------------- helpers

def _float_dtype(y_pred):
    """The compute dtype: a float array's own dtype, else float32 (Keras's floatx)."""
    dtype = getattr(y_pred, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating):
        return np.dtype(dtype)
    return np.dtype("float32")


def _squeeze_or_expand(y_true, y_pred):
    """Keras's squeeze_or_expand_to_same_rank: fix a rank difference of one trailing 1."""
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        else:
            y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[:, None]
        else:
            y_pred = y_pred[..., 0]
    return y_true, y_pred


def _shape_error(name, expected, y_true_shape, y_pred_shape):
    return ValueError(
        f"Received an invalid shape for argument `y` (the targets) of loss '{name}': "
        f"expected {expected} to go with predictions of shape {tuple(y_pred_shape)}, "
        f"got y.shape={tuple(y_true_shape)}.")


def _dense_pair(name, y_true, y_pred):
    """Coerce a (targets, predictions) pair of equal shapes; returns (t, p, dtype)."""
    dtype = _float_dtype(y_pred)
    p = np.asarray(y_pred, dtype=dtype)
    t = np.asarray(y_true, dtype=dtype)
    t2, p2 = _squeeze_or_expand(t, p)
    if t2.shape != p2.shape:
        raise _shape_error(name, f"shape {tuple(p.shape)}", t.shape, p.shape)
    if p2.ndim == 0:
        raise ValueError(f"Received an invalid value for argument `y_pred` of loss '{name}', "
                         f"expected an array of rank >= 1, got a scalar.")
    return t2, p2, dtype


def _sparse_pair(name, y_true, y_pred):
    """Coerce sparse integer targets and (..., classes) predictions."""
    dtype = _float_dtype(y_pred)
    p = np.asarray(y_pred, dtype=dtype)
    if p.ndim < 2:
        raise ValueError(f"Received an invalid shape for argument `y_pred` of loss '{name}', "
                         f"expected (batch, classes) or (batch, timesteps, classes), "
                         f"got {tuple(p.shape)}.")
    t = np.asarray(y_true)
    t2 = t[..., 0] if (t.ndim == p.ndim and t.shape[-1] == 1) else t
    if t2.shape != p.shape[:-1]:
        raise _shape_error(name, f"shape {tuple(p.shape[:-1])} or {tuple(p.shape[:-1]) + (1,)} "
                           "(integer class indices)", t.shape, p.shape)
    if not (np.issubdtype(t2.dtype, np.integer) or np.issubdtype(t2.dtype, np.bool_)):
        if not np.all(np.isfinite(t2)) or not np.all(t2 == np.floor(t2)):
            raise ValueError(f"Received an invalid value for argument `y` of loss '{name}', "
                             "expected integer class indices, got non-integer values.")
    labels = t2.astype(np.int64)
    n_classes = p.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"Received an invalid value for argument `y` of loss '{name}', "
                         f"expected class indices in [0, {n_classes - 1}], got values in "
                         f"[{labels.min()}, {labels.max()}].")
    return labels, p, dtype


def _clip_bounds(dtype):
    return dtype.type(EPSILON), dtype.type(1.0 - EPSILON)


def _log_softmax(x):
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def _sigmoid(x):
    e = np.exp(-np.abs(x))                     # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def _take_label(a, labels):
    return np.take_along_axis(a, labels[..., None], axis=-1)[..., 0]


def _one_hot(labels, n_classes, dtype):
    out = np.zeros(labels.shape + (n_classes,), dtype=dtype)
    np.put_along_axis(out, labels[..., None], 1, axis=-1)
    return out


# ----------------------------------------------------------------------------- per-sample
# Each ``_xxx_forward`` returns per-sample losses; each ``_xxx_backward`` takes the upstream
# gradient ``g`` (d loss / d per-sample losses, same shape) and returns d loss / d y_pred.

def _mse_forward(t, p):
    return np.mean(np.square(p - t), axis=-1)


def _mse_backward(t, p, g):
    return (g[..., None] * (2 * (p - t))) / p.dtype.type(p.shape[-1])


def _mae_forward(t, p):
    return np.mean(np.abs(p - t), axis=-1)


def _mae_backward(t, p, g):
    return (g[..., None] * np.sign(p - t)) / p.dtype.type(p.shape[-1])


def _bce_elem_forward(t, p, from_logits):
    if from_logits:                    # tf.nn.sigmoid_cross_entropy_with_logits
        return np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p)))
    lo, hi = _clip_bounds(p.dtype)
    q = np.clip(p, lo, hi)
    return -(t * np.log(q) + (1 - t) * np.log(1 - q))


def _bce_elem_backward(t, p, from_logits):
    if from_logits:
        return _sigmoid(p) - t
    lo, hi = _clip_bounds(p.dtype)
    q = np.clip(p, lo, hi)
    inside = (p >= lo) & (p <= hi)
    return np.where(inside, -t / q + (1 - t) / (1 - q), 0).astype(p.dtype, copy=False)


def _bce_forward(t, p, from_logits):
    return np.mean(_bce_elem_forward(t, p, from_logits), axis=-1)


def _bce_backward(t, p, g, from_logits):
    return (g[..., None] * _bce_elem_backward(t, p, from_logits)) / p.dtype.type(p.shape[-1])


def _cce_forward(t, p, from_logits):
    if from_logits:
        return -np.sum(t * _log_softmax(p), axis=-1)
    lo, hi = _clip_bounds(p.dtype)
    q = p / np.sum(p, axis=-1, keepdims=True)
    return -np.sum(t * np.log(np.clip(q, lo, hi)), axis=-1)


def _cce_backward(t, p, g, from_logits):
    g = g[..., None]
    if from_logits:                    # d/dx of -sum(t * log_softmax(x))
        return g * (np.exp(_log_softmax(p)) * np.sum(t, axis=-1, keepdims=True) - t)
    lo, hi = _clip_bounds(p.dtype)
    s = np.sum(p, axis=-1, keepdims=True)
    q = p / s
    inside = (q >= lo) & (q <= hi)
    g_q = np.where(inside, -t / np.clip(q, lo, hi), 0).astype(p.dtype, copy=False)
    # q = p / s  =>  d/dp_k = (g_q_k - sum_j g_q_j q_j) / s
    return g * (g_q - np.sum(g_q * q, axis=-1, keepdims=True)) / s


def _scce_forward(labels, p, from_logits):
    if not from_logits:
        lo, hi = _clip_bounds(p.dtype)
        p = np.log(np.clip(p, lo, hi))
    return -_take_label(_log_softmax(p), labels)


def _scce_backward(labels, p, g, from_logits):
    g = g[..., None]
    one_hot = _one_hot(labels, p.shape[-1], p.dtype)
    if from_logits:
        return g * (np.exp(_log_softmax(p)) - one_hot)
    lo, hi = _clip_bounds(p.dtype)
    q = np.clip(p, lo, hi)
    inside = (p >= lo) & (p <= hi)
    # logits z = log q; dL/dz = softmax(z) - onehot = q / sum(q) - onehot; dz/dq = 1 / q
    g_q = (q / np.sum(q, axis=-1, keepdims=True) - one_hot) / q
    return g * np.where(inside, g_q, 0).astype(p.dtype, copy=False)


# ----------------------------------------------------------------------------- functions

def mean_squared_error(y_true, y_pred):
    """Per-sample mean squared error, ``mean((y_true - y_pred)**2, axis=-1)``.

    Args:
        y_true: targets, same shape as ``y_pred`` (e.g. ``(batch, units)``).
        y_pred: predictions, ``(batch, units)`` or ``(batch, timesteps, units)``.

    Returns:
        Array of shape ``y_pred.shape[:-1]``.

    Example:
        >>> mean_squared_error([[0., 1.]], [[1., 1.]])  # shape (1,)
        array([0.5], dtype=float32)
    """
    t, p, _ = _dense_pair("mean_squared_error", y_true, y_pred)
    return _mse_forward(t, p)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean absolute error, ``mean(|y_true - y_pred|, axis=-1)``.

    Args:
        y_true: targets, same shape as ``y_pred``.
        y_pred: predictions, ``(batch, units)`` or ``(batch, timesteps, units)``.

    Returns:
        Array of shape ``y_pred.shape[:-1]``.
    """
    t, p, _ = _dense_pair("mean_absolute_error", y_true, y_pred)
    return _mae_forward(t, p)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Per-sample binary crossentropy, averaged over the last axis.

    Args:
        y_true: targets in [0, 1], same shape as ``y_pred``.
        y_pred: probabilities (or logits when ``from_logits``), ``(batch, units)`` or
            ``(batch, timesteps, units)``.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: float in [0, 1]; targets become ``t * (1 - ls) + 0.5 * ls``.

    Returns:
        Array of shape ``y_pred.shape[:-1]``.

    Example:
        >>> binary_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]).round(4)
        array([0.9163, 0.7136], dtype=float32)
    """
    t, p, _ = _dense_pair("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    return _bce_forward(t, p, from_logits)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Per-sample categorical crossentropy over the last (class) axis.

    Args:
        y_true: one-hot (or probability) targets, same shape as ``y_pred``.
        y_pred: probabilities (or logits when ``from_logits``), ``(batch, classes)`` or
            ``(batch, timesteps, classes)``. Probabilities are first divided by their sum.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: float in [0, 1]; targets become ``t * (1 - ls) + ls / classes``.

    Returns:
        Array of shape ``y_pred.shape[:-1]``.

    Example:
        >>> categorical_crossentropy([[0, 1, 0], [0, 0, 1]],
        ...                          [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).round(4)
        array([0.0513, 2.3026], dtype=float32)
    """
    t, p, _ = _dense_pair("categorical_crossentropy", y_true, y_pred)
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / p.shape[-1]
    return _cce_forward(t, p, from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Per-sample categorical crossentropy with integer class targets.

    Args:
        y_true: class indices, ``(batch,)`` / ``(batch, 1)`` for ``y_pred`` of shape
            ``(batch, classes)``, or ``(batch, timesteps)`` / ``(batch, timesteps, 1)`` for
            ``(batch, timesteps, classes)``. Integer or integral float values.
        y_pred: probabilities (or logits when ``from_logits``).
        from_logits: whether ``y_pred`` holds logits rather than probabilities.

    Returns:
        Array of shape ``y_pred.shape[:-1]``.

    Example:
        >>> sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]).round(4)
        array([0.0513, 2.3026], dtype=float32)
    """
    labels, p, _ = _sparse_pair("sparse_categorical_crossentropy", y_true, y_pred)
    return _scce_forward(labels, p, from_logits)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
bce = BCE = binary_crossentropy


# ----------------------------------------------------------------------------- classes

class Loss:
    """Base class: a reduced loss and its gradient with respect to the predictions.

    Subclasses implement ``call(y_true, y_pred)`` (per-sample losses) and
    ``gradient(y_true, y_pred, sample_weight=None)``.

    Args:
        reduction: ``"sum_over_batch_size"`` (default, Keras's), ``"mean"`` (the same),
            ``"sum"``, ``"mean_with_sample_weight"``, or ``"none"``/``None`` (no reduction;
            ``gradient`` is then unavailable).
        name: name of the loss; defaults to the Keras name of the class.
    """

    default_name = "loss"
    #: activation whose pre-activation values the TensorFlow backend of Keras feeds to this
    #: loss as logits when the model's output comes straight from that activation.
    logits_activation = None

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"Received an invalid value for argument `reduction`, expected one of "
                f"{list(_REDUCTIONS)}, got {reduction!r}.")
        self.reduction = reduction
        self.name = name or self.default_name

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"

    # ``_prepare`` returns (targets, predictions, dtype) in the shapes ``_forward`` uses.
    def _prepare(self, y_true, y_pred):
        return _dense_pair(self.name, y_true, y_pred)

    def _forward(self, t, p):
        raise NotImplementedError

    def _backward(self, t, p, g):
        raise NotImplementedError

    def call(self, y_true, y_pred):
        """Per-sample losses, shape ``y_pred.shape[:-1]``."""
        t, p, _ = self._prepare(y_true, y_pred)
        return self._forward(t, p)

    def _sample_weight(self, values_shape, sample_weight, dtype):
        """``sample_weight`` broadcast to the per-sample losses (None stays None)."""
        if sample_weight is None:
            return None
        sw = np.asarray(sample_weight, dtype=dtype)
        if sw.ndim == len(values_shape) + 1 and sw.shape[-1] == 1:
            sw = sw[..., 0]
        try:
            sw = sw.reshape(sw.shape + (1,) * (len(values_shape) - sw.ndim))
            return np.broadcast_to(sw, values_shape)
        except ValueError:
            raise ValueError(
                f"Received an invalid shape for argument `sample_weight` of loss "
                f"'{self.name}', expected a shape that broadcasts to the per-sample losses "
                f"{tuple(values_shape)}, e.g. {tuple(values_shape[:1])}, "
                f"got {np.shape(sample_weight)}.") from None

    def _weights(self, values_shape, sample_weight, dtype):
        """d (reduced loss) / d (per-sample losses), an array of ``values_shape``."""
        sw = self._sample_weight(values_shape, sample_weight, dtype)
        w = np.ones(values_shape, dtype=dtype) if sw is None else sw
        if self.reduction == "sum":
            return w
        if self.reduction == "mean_with_sample_weight" and sw is not None:
            total = np.sum(sw)
            return w / total if total != 0 else np.zeros_like(w)
        return w / dtype.type(max(int(np.prod(values_shape)), 1))

    def _reduce(self, values, sample_weight, dtype):
        """Keras's reduce_weighted_values: weight, sum, then divide."""
        sw = self._sample_weight(values.shape, sample_weight, dtype)
        if sw is not None:
            values = values * sw
        if self.reduction in ("none", None):
            return values
        total = np.sum(values, dtype=dtype)
        if self.reduction == "sum":
            return float(total)
        if self.reduction == "mean_with_sample_weight" and sw is not None:
            divisor = np.sum(sw, dtype=dtype)
            return float(total / divisor) if divisor != 0 else 0.0
        return float(total / dtype.type(max(values.size, 1)))

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Reduced loss (a Python float; an array when ``reduction`` is ``"none"``)."""
        t, p, dtype = self._prepare(y_true, y_pred)
        return self._reduce(self._forward(t, p), sample_weight, dtype)

    def gradient(self, y_true, y_pred, sample_weight=None):
        """d (reduced loss) / d y_pred: an array of the shape and dtype of ``y_pred``."""
        if self.reduction in ("none", None):
            raise ValueError(f"Loss '{self.name}' has reduction={self.reduction!r}: "
                             "its gradient needs a reduction to a scalar.")
        t, p, dtype = self._prepare(y_true, y_pred)
        w = self._weights(p.shape[:-1], sample_weight, dtype)
        grad = self._backward(t, p, w.astype(dtype, copy=False))
        return np.asarray(grad, dtype=dtype).reshape(np.shape(y_pred))

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A loss from a per-sample function ``fn(y_true, y_pred) -> (batch, ...)``.

    Its ``gradient`` needs ``gradient_fn(y_true, y_pred, upstream) -> d/dy_pred`` (upstream:
    d loss / d per-sample losses); without it ``gradient`` raises NotImplementedError.
    """

    def __init__(self, fn, gradient_fn=None, reduction="sum_over_batch_size", name=None,
                 **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn = fn
        self.gradient_fn = gradient_fn
        self._fn_kwargs = kwargs

    def _prepare(self, y_true, y_pred):
        return np.asarray(y_true), np.asarray(y_pred), _float_dtype(y_pred)

    def _forward(self, t, p):
        return np.asarray(self.fn(t, p, **self._fn_kwargs), dtype=_float_dtype(p))

    def gradient(self, y_true, y_pred, sample_weight=None):
        if self.gradient_fn is None:
            raise NotImplementedError(
                f"Loss '{self.name}' wraps a plain function and has no gradient; pass a "
                "fastrnn.losses.Loss with a `gradient` method (or `gradient_fn=`).")
        t, p, dtype = self._prepare(y_true, y_pred)
        w = self._weights(self._forward(t, p).shape, sample_weight, dtype)
        return np.asarray(self.gradient_fn(t, p, w), dtype=dtype).reshape(p.shape)


class MeanSquaredError(Loss):
    """``mean((y_true - y_pred)**2)`` over the last axis, then over the batch.

    Example:
        >>> MeanSquaredError()([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
        0.5
    """
    default_name = "mean_squared_error"

    def _forward(self, t, p):
        return _mse_forward(t, p)

    def _backward(self, t, p, g):
        return _mse_backward(t, p, g)


class MeanAbsoluteError(Loss):
    """``mean(|y_true - y_pred|)`` over the last axis, then over the batch.

    Example:
        >>> MeanAbsoluteError()([[0., 1.], [0., 0.]], [[1., 1.], [1., 0.]])
        0.5
    """
    default_name = "mean_absolute_error"

    def _forward(self, t, p):
        return _mae_forward(t, p)

    def _backward(self, t, p, g):
        return _mae_backward(t, p, g)


class _Crossentropy(Loss):
    def __init__(self, from_logits=False, reduction="sum_over_batch_size", name=None):
        super().__init__(reduction=reduction, name=name)
        if not isinstance(from_logits, (bool, np.bool_)):
            raise ValueError(f"Received an invalid value for argument `from_logits`, "
                             f"expected a bool, got {from_logits!r}.")
        self.from_logits = bool(from_logits)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} from_logits={self.from_logits}>"

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class _SmoothedCrossentropy(_Crossentropy):
    def __init__(self, from_logits=False, label_smoothing=0.0,
                 reduction="sum_over_batch_size", name=None):
        super().__init__(from_logits=from_logits, reduction=reduction, name=name)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"Received an invalid value for argument `label_smoothing`, "
                             f"expected a float in [0, 1], got {label_smoothing!r}.")
        self.label_smoothing = float(label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_SmoothedCrossentropy):
    """Binary crossentropy, averaged over the last axis, then over the batch.

    Args:
        from_logits: whether predictions are logits (default: probabilities).
        label_smoothing: float in [0, 1], targets become ``t * (1 - ls) + 0.5 * ls``.

    Example:
        >>> round(BinaryCrossentropy()([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]), 5)
        0.81492
    """
    default_name = "binary_crossentropy"
    logits_activation = "sigmoid"

    def _prepare(self, y_true, y_pred):
        t, p, dtype = super()._prepare(y_true, y_pred)
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        return t.astype(dtype, copy=False), p, dtype

    def _forward(self, t, p):
        return _bce_forward(t, p, self.from_logits)

    def _backward(self, t, p, g):
        return _bce_backward(t, p, g, self.from_logits)


class CategoricalCrossentropy(_SmoothedCrossentropy):
    """Categorical crossentropy with one-hot targets, averaged over the batch.

    Args:
        from_logits: whether predictions are logits (default: probabilities, which are
            divided by their sum over the last axis before clipping).
        label_smoothing: float in [0, 1], targets become ``t * (1 - ls) + ls / classes``.

    Example:
        >>> round(CategoricalCrossentropy()([[0, 1, 0], [0, 0, 1]],
        ...                                 [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]), 4)
        1.1769
    """
    default_name = "categorical_crossentropy"
    logits_activation = "softmax"

    def _prepare(self, y_true, y_pred):
        t, p, dtype = super()._prepare(y_true, y_pred)
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + self.label_smoothing / p.shape[-1]
        return t.astype(dtype, copy=False), p, dtype

    def _forward(self, t, p):
        return _cce_forward(t, p, self.from_logits)

    def _backward(self, t, p, g):
        return _cce_backward(t, p, g, self.from_logits)


class SparseCategoricalCrossentropy(_Crossentropy):
    """Categorical crossentropy with integer class targets, averaged over the batch.

    Args:
        from_logits: whether predictions are logits (default: probabilities).

    Example:
        >>> round(SparseCategoricalCrossentropy()([1, 2], [[0.05, 0.95, 0],
        ...                                               [0.1, 0.8, 0.1]]), 4)
        1.1769
    """
    default_name = "sparse_categorical_crossentropy"
    logits_activation = "softmax"

    def _prepare(self, y_true, y_pred):
        return _sparse_pair(self.name, y_true, y_pred)

    def _forward(self, labels, p):
        return _scce_forward(labels, p, self.from_logits)

    def _backward(self, labels, p, g):
        return _scce_backward(labels, p, g, self.from_logits)


# ----------------------------------------------------------------------------- lookup

_CLASSES = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy)}
_FUNCTIONS = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "MAE": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy, "bce": BinaryCrossentropy,
    "BCE": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_FUNCTION_OBJECTS = {
    mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
    binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
}
ALLOWED_NAMES = tuple(_FUNCTIONS) + tuple(_CLASSES)


def get(identifier):
    """Return a ``Loss`` object for a Keras loss name, a ``Loss`` (class or instance) or a
    callable.

    Names are resolved as ``model.compile(loss=...)`` does in Keras 3: a function name or
    alias (``"mse"``, ``"binary_crossentropy"``) gives a loss named by that string, a class
    name (``"MeanSquaredError"``) gives the class's default name. A plain callable
    ``fn(y_true, y_pred) -> per-sample losses`` is wrapped (``LossFunctionWrapper``, whose
    ``gradient`` is unavailable) unless it is one of this module's functions.

    Example:
        >>> get("mse")
        <MeanSquaredError name='mse'>
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier](name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
    elif callable(identifier):
        for fn, cls in _FUNCTION_OBJECTS.items():
            if identifier is fn:
                return cls(name=fn.__name__)
        if getattr(identifier, "__module__", "").split(".")[0] == "keras":
            return _from_keras(identifier)
        return LossFunctionWrapper(identifier)
    raise ValueError(
        f"Received an invalid value for argument `loss`, expected one of "
        f"{list(ALLOWED_NAMES)}, a fastrnn.losses.Loss or a callable, got {identifier!r}.")


def _from_keras(obj):
    """Our equivalent of a Keras loss function or Loss instance of the same name."""
    fn_name = getattr(obj, "__name__", None)
    if fn_name in _FUNCTIONS:
        return _FUNCTIONS[fn_name](name=fn_name)
    cls = _CLASSES.get(type(obj).__name__)
    if cls is None:
        raise ValueError(f"Received an invalid value for argument `loss`, expected one of "
                         f"{list(ALLOWED_NAMES)}, got the Keras object {obj!r}.")
    config = obj.get_config() if hasattr(obj, "get_config") else {}
    keep = {"name", "reduction"}
    if issubclass(cls, _Crossentropy):
        keep.add("from_logits")
    if issubclass(cls, _SmoothedCrossentropy):
        keep.add("label_smoothing")
    return cls(**{k: v for k, v in config.items() if k in keep})


def serialize(loss):
    """The Keras name of a loss object (for configs): its ``name``."""
    return get(loss).name
