"""Regression losses: value and gradient side by side (Keras 3 formulas, eps = 1e-7).

- mean_squared_error              mean((p - t)**2)
- mean_absolute_error             mean(|p - t|)                            (gradient 0 at a tie)
- mean_absolute_percentage_error  100 * mean(|t - p| / max(|t|, eps))
- mean_squared_logarithmic_error  mean((log(max(p, eps) + 1) - log(max(t, eps) + 1))**2)
- huber (delta)                   mean(0.5 e**2 if |e| <= delta else delta |e| - 0.5 delta**2),
                                  e = p - t  (Huber, 1964)
- log_cosh                        mean(e + softplus(-2 e) - log 2) = mean(log cosh e)
- cosine_similarity               -sum(l2_normalize(t) * l2_normalize(p))
                                  (l2_normalize(x) = x * min(1/||x||, 1/eps))

Means and sums run over the last axis; per-sample values have shape ``y_pred.shape[:-1]``.
A ``max``/``clip`` passes its gradient where the argument is kept (``x >= bound``), as
TensorFlow's ``maximum`` does.
"""
import numpy as np

from .base import EPSILON, Loss, _dense_pair

__all__ = ["MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
           "MeanSquaredLogarithmicError", "Huber", "LogCosh", "CosineSimilarity",
           "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
           "mean_squared_logarithmic_error", "huber", "log_cosh", "cosine_similarity"]


def _mse_forward(t, p):
    return np.mean(np.square(p - t), axis=-1)


def _mse_backward(t, p, g):
    return (g[..., None] * (2 * (p - t))) / p.dtype.type(p.shape[-1])


def _mae_forward(t, p):
    return np.mean(np.abs(p - t), axis=-1)


def _mae_backward(t, p, g):
    return (g[..., None] * np.sign(p - t)) / p.dtype.type(p.shape[-1])


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


# ----------------------------------------------------------------------------- elementwise
# ``_xxx_elem(t, p)`` gives the elementwise terms, ``_xxx_elem_grad(t, p)`` their derivative
# in ``p``; the per-sample loss is their mean over the last axis.

def _eps(p):
    return p.dtype.type(EPSILON)


def _mape_elem(t, p):
    return p.dtype.type(100) * np.abs((t - p) / np.maximum(np.abs(t), _eps(p)))


def _mape_elem_grad(t, p):
    return p.dtype.type(100) * np.sign(p - t) / np.maximum(np.abs(t), _eps(p))


def _msle_elem(t, p):
    one = p.dtype.type(1)
    return np.square(np.log(np.maximum(p, _eps(p)) + one) - np.log(np.maximum(t, _eps(p)) + one))


def _msle_elem_grad(t, p):
    one, eps = p.dtype.type(1), _eps(p)
    a = np.maximum(p, eps) + one
    diff = np.log(a) - np.log(np.maximum(t, eps) + one)
    return np.where(p >= eps, 2 * diff / a, 0).astype(p.dtype, copy=False)


def _huber_elem(t, p, delta):
    delta = p.dtype.type(delta)
    half = p.dtype.type(0.5)
    e = p - t
    a = np.abs(e)
    return np.where(a <= delta, half * np.square(e), delta * a - half * np.square(delta))


def _huber_elem_grad(t, p, delta):
    delta = p.dtype.type(delta)
    e = p - t
    return np.where(np.abs(e) <= delta, e, delta * np.sign(e)).astype(p.dtype, copy=False)


def _log_cosh_elem(t, p):
    e = p - t
    # e + softplus(-2 e) - log 2, with softplus(z) = logaddexp(0, z) (never overflows)
    return e + np.logaddexp(p.dtype.type(0), p.dtype.type(-2) * e) - p.dtype.type(np.log(2.0))


def _log_cosh_elem_grad(t, p):
    return np.tanh(p - t)


def _l2_normalize(x):
    inv = np.minimum(1 / np.sqrt(np.sum(np.square(x), axis=-1, keepdims=True)),
                     x.dtype.type(1 / EPSILON))
    return x * inv, inv


def _cosine_forward(t, p):
    return -np.sum(_l2_normalize(t)[0] * _l2_normalize(p)[0], axis=-1)


def _cosine_backward(t, p, g):
    tn = _l2_normalize(t)[0]
    with np.errstate(divide="ignore"):
        q, inv = _l2_normalize(p)
    # q = p * r, r = min(1/||p||, 1/eps): dq/dp = r (I - q q^T) while 1/||p|| < 1/eps
    free = 1 / np.sqrt(np.sum(np.square(p), axis=-1, keepdims=True)) < p.dtype.type(1 / EPSILON)
    dot = np.sum(tn * q, axis=-1, keepdims=True)
    grad = np.where(free, -inv * (tn - q * dot), -inv * tn)
    return (g[..., None] * grad).astype(p.dtype, copy=False)


# ----------------------------------------------------------------------------- functions

def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)``.

    Args:
        y_true, y_pred: arrays of the same shape, e.g. ``(batch, units)``.

    Returns:
        Array of shape ``y_pred.shape[:-1]``.

    Example:
        >>> mean_absolute_percentage_error([[2., 4.]], [[1., 5.]])
        array([37.5], dtype=float32)
    """
    t, p, _ = _dense_pair("mean_absolute_percentage_error", y_true, y_pred)
    return np.mean(_mape_elem(t, p), axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample ``mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2)``
    over the last axis; returns ``y_pred.shape[:-1]``."""
    t, p, _ = _dense_pair("mean_squared_logarithmic_error", y_true, y_pred)
    return np.mean(_msle_elem(t, p), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss (quadratic for ``|error| <= delta``, linear beyond), averaged
    over the last axis; returns ``y_pred.shape[:-1]``.

    Example:
        >>> huber([[0., 0.]], [[0.5, 3.]])   # (0.125 + 2.5) / 2
        array([1.3125], dtype=float32)
    """
    t, p, _ = _dense_pair("huber", y_true, y_pred)
    return np.mean(_huber_elem(t, p, delta), axis=-1)


def log_cosh(y_true, y_pred):
    """Per-sample ``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed as Keras does
    (``x + softplus(-2x) - log 2``); returns ``y_pred.shape[:-1]``."""
    t, p, _ = _dense_pair("log_cosh", y_true, y_pred)
    return np.mean(_log_cosh_elem(t, p), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample ``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 for
    parallel vectors, 0 for orthogonal ones; returns the shape without ``axis``."""
    t, p, _ = _dense_pair("cosine_similarity", y_true, y_pred)
    return _cosine_forward(np.moveaxis(t, axis, -1), np.moveaxis(p, axis, -1))


# ----------------------------------------------------------------------------- classes

class _Elementwise(Loss):
    """A loss whose per-sample value is the mean over the last axis of elementwise terms."""

    def _elem(self, t, p):
        raise NotImplementedError

    def _elem_grad(self, t, p):
        raise NotImplementedError

    def _forward(self, t, p):
        return np.mean(self._elem(t, p), axis=-1)

    def _backward(self, t, p, g):
        return (g[..., None] * self._elem_grad(t, p)) / p.dtype.type(p.shape[-1])


class MeanAbsolutePercentageError(_Elementwise):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, eps))`` per sample, then reduced."""
    default_name = "mean_absolute_percentage_error"

    def _elem(self, t, p):
        return _mape_elem(t, p)

    def _elem_grad(self, t, p):
        return _mape_elem_grad(t, p)


class MeanSquaredLogarithmicError(_Elementwise):
    """``mean((log(max(p, eps) + 1) - log(max(t, eps) + 1))**2)`` per sample."""
    default_name = "mean_squared_logarithmic_error"

    def _elem(self, t, p):
        return _msle_elem(t, p)

    def _elem_grad(self, t, p):
        return _msle_elem_grad(t, p)


class Huber(_Elementwise):
    """Huber loss (Huber, 1964).

    Args:
        delta: float > 0, where the loss changes from quadratic to linear (default 1.0).
        reduction, name: as ``Loss`` (``name`` defaults to ``"huber_loss"``, Keras's).

    Example:
        >>> Huber()([[0., 0.]], [[0.5, 3.]])
        1.3125
    """
    default_name = "huber_loss"

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name=None):
        super().__init__(reduction=reduction, name=name)
        if isinstance(delta, bool) or not isinstance(delta, (int, float, np.floating)) or \
                not delta > 0:
            raise ValueError("Received an invalid value for argument `delta` of Huber, "
                             f"expected a positive number, got {delta!r}.")
        self.delta = float(delta)

    def _elem(self, t, p):
        return _huber_elem(t, p, self.delta)

    def _elem_grad(self, t, p):
        return _huber_elem_grad(t, p, self.delta)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class LogCosh(_Elementwise):
    """``mean(log(cosh(y_pred - y_true)))`` per sample (gradient ``tanh(error)``)."""
    default_name = "log_cosh"

    def _elem(self, t, p):
        return _log_cosh_elem(t, p)

    def _elem_grad(self, t, p):
        return _log_cosh_elem_grad(t, p)


class CosineSimilarity(Loss):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred))`` along ``axis``, per sample.

    Args:
        axis: the axis of the vectors (default -1); the per-sample losses have the shape of
            ``y_pred`` without that axis.
        reduction, name: as ``Loss`` (``name`` defaults to ``"cosine_similarity"``).
    """
    default_name = "cosine_similarity"

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name=None):
        super().__init__(reduction=reduction, name=name)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError("Received an invalid value for argument `axis` of "
                             f"CosineSimilarity, expected an integer, got {axis!r}.")
        self.axis = int(axis)

    def _moved(self, y_true, y_pred):
        t, p, _ = _dense_pair(self.name, y_true, y_pred)
        if not -p.ndim <= self.axis < p.ndim:
            raise ValueError(f"Received an invalid value for argument `axis` of "
                             f"CosineSimilarity: {self.axis} is out of range for "
                             f"predictions of rank {p.ndim}.")
        return np.moveaxis(t, self.axis, -1), np.moveaxis(p, self.axis, -1)

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None):
        return super().__call__(*self._moved(y_true, y_pred), sample_weight=sample_weight,
                                mask=mask)

    def gradient(self, y_true, y_pred, sample_weight=None, mask=None):
        grad = super().gradient(*self._moved(y_true, y_pred), sample_weight=sample_weight,
                                mask=mask)
        return np.moveaxis(grad, -1, self.axis)

    def _forward(self, t, p):
        return _cosine_forward(t, p)

    def _backward(self, t, p, g):
        return _cosine_backward(t, p, g)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
