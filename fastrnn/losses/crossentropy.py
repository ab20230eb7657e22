"""Crossentropy losses (binary, categorical, sparse categorical): value and gradient.

Keras 3 with the TensorFlow backend:

- binary_crossentropy  mean(-(t log q + (1-t) log(1-q)), axis=-1),  q = clip(p, eps, 1-eps)
                       from_logits: mean(max(x,0) - x t + log1p(exp(-|x|)), axis=-1)
- categorical_crossentropy   -sum(t log clip(p / sum(p), eps, 1-eps), axis=-1)
                       from_logits: -sum(t log_softmax(x), axis=-1)
- sparse_categorical_crossentropy  -log_softmax(log clip(p, eps, 1-eps))[y]
                       (TensorFlow's path: clip, log, then softmax cross-entropy on those
                       "logits"; equal to -log(p[y] / sum(p)) while nothing is clipped)
                       from_logits: -log_softmax(x)[y]

Where a value is clipped its gradient is zero, as with ``tf.clip_by_value``.

Gradient from logits (``from_logits=True``, or a softmax output layer, which Keras 3 turns
back into logits): ``softmax(x) - t``, TensorFlow's ``softmax_cross_entropy_with_logits``
gradient. It is the exact derivative only when each target row sums to 1; Keras 3 trains
with it also when rows do not (the all-zero rows of padded one-hot sequences, scaled
targets), so fastrnn does too (fixture ``tool_cce_targets.npz``).
"""
import numpy as np

from .. import _kernel
from .base import (Loss, _clip_bounds, _dense_pair, _log_softmax, _one_hot, _sigmoid,
                   _sparse_pair, _take_label)

# BinaryCrossentropy's lean function computes the elementwise terms around exp and log1p
# in C (the same operations; tests switch this off to compare with the NumPy code)
_COMPILED_TERMS = True

__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy"]


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
    if from_logits:                    # TensorFlow's: softmax(x) - t (exact when sum(t) = 1)
        return g * (np.exp(_log_softmax(p)) - t)
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


# ----------------------------------------------------------------------------- classes

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

    def value_and_gradient(self, y_true, y_pred, sample_weight=None, mask=None):
        """As ``Loss.value_and_gradient``; from logits without weights or mask, through
        ``lean_value_and_gradient``."""
        if sample_weight is None and mask is None:
            fn = self.lean_value_and_gradient(y_true, y_pred)
            if fn is not None:
                return fn(y_true, y_pred)
        return super().value_and_gradient(y_true, y_pred, sample_weight, mask)

    def lean_value_and_gradient(self, y_true, y_pred):
        """A function ``f(t, p)`` = ``value_and_gradient(t, p)`` for float arrays ``t``
        and ``p`` of the dtype and shape of these two (one dtype, one shape), without
        sample weights or mask, when the loss is computed from logits with a mean
        reduction and no label smoothing; else None. It runs the operations of
        ``_bce_forward`` / ``_bce_backward`` in place, ``exp(-|x|)`` shared by the value
        and the gradient: the same numbers as ``__call__`` and ``gradient``."""
        if (not self.from_logits or self.label_smoothing
                or self.reduction not in ("sum_over_batch_size", "mean")
                or type(y_pred) is not np.ndarray or type(y_true) is not np.ndarray
                or y_pred.dtype.kind != "f" or y_true.dtype != y_pred.dtype
                or y_true.shape != y_pred.shape or y_pred.ndim == 0):
            return None
        dtype = y_pred.dtype
        k = y_pred.shape[-1]
        values_shape = y_pred.shape[:-1]
        count = dtype.type(max(int(np.prod(values_shape)), 1))
        w = self._mean_weights(values_shape, dtype)[..., None]
        kk = dtype.type(k)
        shape = y_pred.shape
        scratch = []  # e, log1p(e) and the terms, made at the first compiled call

        def f(t, p):
            if _COMPILED_TERMS and t.flags.c_contiguous and p.flags.c_contiguous:
                # the same operations, those around exp and log1p in C (src/_step.h)
                if not scratch:
                    scratch.extend(np.empty(shape, dtype) for _ in range(3))
                e, lg, elem = scratch
                _kernel.neg_abs(p, e)
                np.exp(e, out=e)                              # exp(-|x|)
                np.log1p(e, out=lg)
                grad = np.empty(p.shape, dtype)
                _kernel.bce_terms(p, t, e, lg, w, k == 1, elem, grad)
                # k == 1: elem + 0.0 already, values_shape + (1,) read as values_shape
                values = elem if k == 1 else np.mean(elem, axis=-1)
                value = float(np.add.reduce(values.reshape(values_shape), axis=None,
                                            dtype=dtype) / count)
                return value, (grad if k == 1 else grad / kk)
            e = np.abs(p)
            np.negative(e, out=e)
            np.exp(e, out=e)                              # exp(-|x|), never overflows
            elem = np.maximum(p, 0)
            elem -= p * t
            elem += np.log1p(e)
            # np.mean over an axis of one value adds it to 0 (so -0.0 becomes 0.0)
            values = elem[..., 0] + 0.0 if k == 1 else np.mean(elem, axis=-1)
            value = float(np.add.reduce(values, axis=None, dtype=dtype) / count)
            # _sigmoid(x) = where(x >= 0, 1 / (1 + e), e / (1 + e)), one division
            grad = np.where(p >= 0, 1, e)
            e += 1
            grad /= e
            grad -= t
            grad *= w
            return value, (grad if k == 1 else grad / kk)

        return f


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
