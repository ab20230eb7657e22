"""The loss base class: reductions, sample weights and masks, value and gradient.

A loss object maps targets ``y_true`` and predictions ``y_pred`` to one number, as Keras 3
does with its default reduction ``"sum_over_batch_size"``::

    per_sample = fn(y_true, y_pred)            # shape y_pred.shape[:-1] (sparse: same)
    loss       = sum(per_sample * w) / per_sample.size     # w = sample_weight (x mask) or 1

and ``gradient(y_true, y_pred)`` returns d loss / d y_pred, same shape and dtype as
``y_pred``. Arrays are computed in the float dtype of ``y_pred`` (float32 when it is an
integer array); ``y_true`` is cast to it. eps = 1e-7 (Keras's ``backend.epsilon()``), cast
to the dtype of ``y_pred``. As Keras does, a target of shape ``(batch,)`` is accepted for
predictions of shape ``(batch, 1)`` and vice versa.
"""
import numpy as np

__all__ = ["Loss", "LossFunctionWrapper", "EPSILON"]

EPSILON = 1e-7
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# ----------------------------------------------------------------------------- helpers

def _float_dtype(y_pred):
    """The compute dtype: a float array's own dtype, else Keras's floatx (float32)."""
    dtype = getattr(y_pred, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating):
        return np.dtype(dtype)
    from ..config import floatx
    return np.dtype(floatx())


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

    def _values_shape(self, p):
        """The shape of the per-sample losses for predictions ``p``."""
        return p.shape[:-1]

    def _forward(self, t, p):
        raise NotImplementedError

    def _backward(self, t, p, g):
        raise NotImplementedError

    def call(self, y_true, y_pred):
        """Per-sample losses, shape ``y_pred.shape[:-1]``."""
        t, p, _ = self._prepare(y_true, y_pred)
        return self._forward(t, p)

    def _sample_weight(self, values_shape, sample_weight, dtype, mask=None):
        """``sample_weight`` (times the mask's weights) broadcast to the per-sample losses
        (None when both are None)."""
        sw = self._broadcast("sample_weight", values_shape, sample_weight, dtype)
        if mask is None:
            return sw
        m = self._broadcast("mask", values_shape, np.asarray(mask).astype(bool), np.bool_)
        if self.reduction in ("sum_over_batch_size", "mean"):
            # Keras's apply_mask: valid entries weigh total / valid, so that the division
            # by the number of entries becomes a division by the number of valid ones
            valid = int(np.count_nonzero(m))
            scale = dtype.type(m.size / valid) if valid else dtype.type(0)
            fm = np.where(m, scale, dtype.type(0)).astype(dtype, copy=False)
        else:
            fm = m.astype(dtype)
        return fm if sw is None else sw * fm

    def _broadcast(self, argument, values_shape, sample_weight, dtype):
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
                f"Received an invalid shape for argument `{argument}` of loss "
                f"'{self.name}', expected a shape that broadcasts to the per-sample losses "
                f"{tuple(values_shape)}, e.g. {tuple(values_shape[:1])}, "
                f"got {np.shape(sample_weight)}.") from None

    def _weights(self, values_shape, sample_weight, dtype, mask=None):
        """d (reduced loss) / d (per-sample losses), an array of ``values_shape``."""
        sw = self._sample_weight(values_shape, sample_weight, dtype, mask)
        w = np.ones(values_shape, dtype=dtype) if sw is None else sw
        if self.reduction == "sum":
            return w
        if self.reduction == "mean_with_sample_weight" and sw is not None:
            total = np.sum(sw)
            return w / total if total != 0 else np.zeros_like(w)
        return w / dtype.type(max(int(np.prod(values_shape)), 1))

    def _reduce(self, values, sample_weight, dtype, mask=None):
        """Keras's reduce_weighted_values: weight (and mask), sum, then divide."""
        sw = self._sample_weight(values.shape, sample_weight, dtype, mask)
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

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        """Reduced loss (a Python float; an array when ``reduction`` is ``"none"``).

        Args:
            y_true, y_pred: targets and predictions (see the module docstring).
            sample_weight: optional weights broadcastable from the left to the per-sample
                losses ``y_pred.shape[:-1]``: ``(batch,)``, ``(batch, timesteps)``, a scalar.
            mask: optional boolean array of the same kind (e.g. ``(batch, timesteps)``);
                masked entries count zero and, with ``"sum_over_batch_size"``, the sum is
                divided by the number of unmasked entries (Keras 3's ``apply_mask``).

        Raises:
            ValueError: shapes that do not fit, naming ``y``, ``sample_weight`` or ``mask``.
        """
        t, p, dtype = self._prepare(y_true, y_pred)
        return self._reduce(self._forward(t, p), sample_weight, dtype, mask)

    def gradient(self, y_true, y_pred, sample_weight=None, mask=None):
        """d (reduced loss) / d y_pred: an array of the shape and dtype of ``y_pred``
        (arguments as ``__call__``)."""
        if self.reduction in ("none", None):
            raise ValueError(f"Loss '{self.name}' has reduction={self.reduction!r}: "
                             "its gradient needs a reduction to a scalar.")
        t, p, dtype = self._prepare(y_true, y_pred)
        w = self._weights(self._values_shape(p), sample_weight, dtype, mask)
        grad = self._backward(t, p, w.astype(dtype, copy=False))
        return np.asarray(grad, dtype=dtype).reshape(np.shape(y_pred))

    def value_and_gradient(self, y_true, y_pred, sample_weight=None, mask=None):
        """``(self(y_true, y_pred, ...), self.gradient(y_true, y_pred, ...))`` in one call:
        the same numbers, with the targets and predictions prepared once (a training
        step needs both)."""
        cls = type(self)
        if (cls.__call__ is not Loss.__call__ or cls.gradient is not Loss.gradient
                or self.reduction in ("none", None)):
            return (self(y_true, y_pred, sample_weight=sample_weight, mask=mask),
                    self.gradient(y_true, y_pred, sample_weight=sample_weight, mask=mask))
        t, p, dtype = self._prepare(y_true, y_pred)
        value = self._reduce(self._forward(t, p), sample_weight, dtype, mask)
        w = self._weights(self._values_shape(p), sample_weight, dtype, mask)
        grad = self._backward(t, p, w.astype(dtype, copy=False))
        return value, np.asarray(grad, dtype=dtype).reshape(np.shape(y_pred))

    def _mean_weights(self, shape, dtype):
        """``_weights(shape, None, dtype)`` for the mean reductions, computed once per
        shape (read-only: callers only multiply by it)."""
        cache = self.__dict__.setdefault("_mean_weights_cache", {})
        w = cache.get((shape, dtype))
        if w is None:
            # asarray: shape () gives a 0-d array, not a scalar (whose flags are fixed)
            w = np.asarray(np.ones(shape, dtype=dtype) / dtype.type(max(int(np.prod(shape)), 1)))
            w.flags.writeable = False
            cache[(shape, dtype)] = w
        return w

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

    def gradient(self, y_true, y_pred, sample_weight=None, mask=None):
        if self.gradient_fn is None:
            raise NotImplementedError(
                f"Loss '{self.name}' wraps a plain function and has no gradient; pass a "
                "fastrnn.losses.Loss with a `gradient` method (or `gradient_fn=`).")
        t, p, dtype = self._prepare(y_true, y_pred)
        w = self._weights(self._forward(t, p).shape, sample_weight, dtype, mask)
        return np.asarray(self.gradient_fn(t, p, w), dtype=dtype).reshape(p.shape)
