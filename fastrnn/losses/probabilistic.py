"""KL divergence and Poisson losses: value and gradient (Keras 3 formulas, eps = 1e-7).

- kl_divergence  sum(tc * log(tc / pc), axis=-1),  tc = clip(t, eps, 1), pc = clip(p, eps, 1)
- poisson        mean(p - t * log(p + eps), axis=-1)

The clipped prediction passes its gradient only inside ``[eps, 1]`` (``tf.clip_by_value``).
"""
import numpy as np

from .base import EPSILON, Loss, _dense_pair

__all__ = ["KLDivergence", "Poisson", "kl_divergence", "poisson"]


def _kld_forward(t, p):
    eps, one = p.dtype.type(EPSILON), p.dtype.type(1)
    tc, pc = np.clip(t, eps, one), np.clip(p, eps, one)
    return np.sum(tc * np.log(tc / pc), axis=-1)


def _kld_backward(t, p, g):
    eps, one = p.dtype.type(EPSILON), p.dtype.type(1)
    tc, pc = np.clip(t, eps, one), np.clip(p, eps, one)
    inside = (p >= eps) & (p <= one)
    return g[..., None] * np.where(inside, -tc / pc, 0).astype(p.dtype, copy=False)


def _poisson_forward(t, p):
    return np.mean(p - t * np.log(p + p.dtype.type(EPSILON)), axis=-1)


def _poisson_backward(t, p, g):
    grad = 1 - t / (p + p.dtype.type(EPSILON))
    return g[..., None] * grad / p.dtype.type(p.shape[-1])


def kl_divergence(y_true, y_pred):
    """Per-sample Kullback-Leibler divergence ``sum(t * log(t / p), axis=-1)`` of clipped
    distributions; returns ``y_pred.shape[:-1]``.

    Example:
        >>> kl_divergence([[0.5, 0.5]], [[0.25, 0.75]]).round(4)
        array([0.1438], dtype=float32)
    """
    t, p, _ = _dense_pair("kl_divergence", y_true, y_pred)
    return _kld_forward(t, p)


def poisson(y_true, y_pred):
    """Per-sample Poisson loss ``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``;
    returns ``y_pred.shape[:-1]``."""
    t, p, _ = _dense_pair("poisson", y_true, y_pred)
    return _poisson_forward(t, p)


class KLDivergence(Loss):
    """Kullback-Leibler divergence of ``y_pred`` from ``y_true`` (distributions on the last
    axis), per sample, then reduced (``name`` defaults to ``"kl_divergence"``)."""
    default_name = "kl_divergence"

    def _forward(self, t, p):
        return _kld_forward(t, p)

    def _backward(self, t, p, g):
        return _kld_backward(t, p, g)


class Poisson(Loss):
    """Poisson loss ``mean(y_pred - y_true * log(y_pred + eps))`` per sample, then reduced
    (``name`` defaults to ``"poisson"``)."""
    default_name = "poisson"

    def _forward(self, t, p):
        return _poisson_forward(t, p)

    def _backward(self, t, p, g):
        return _poisson_backward(t, p, g)
