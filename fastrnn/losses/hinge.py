"""Hinge losses: value and gradient (Keras 3 formulas).

- hinge              mean(max(1 - t * p, 0), axis=-1)
- squared_hinge      mean(max(1 - t * p, 0)**2, axis=-1)
- categorical_hinge  max(max((1 - t) * p) - sum(t * p) + 1, 0)

For ``hinge`` and ``squared_hinge``, targets that are all 0 or 1 (over the whole batch) are
first mapped to -1 / 1, as Keras's ``convert_binary_labels_to_hinge`` does. ``max(x, 0)``
passes its gradient where ``x >= 0`` (TensorFlow's ``maximum``); the ``max`` over classes of
``categorical_hinge`` shares it equally between tied maxima (TensorFlow's ``reduce_max``).
"""
import numpy as np

from .base import Loss, _dense_pair

__all__ = ["Hinge", "SquaredHinge", "CategoricalHinge", "hinge", "squared_hinge",
           "categorical_hinge"]


def _to_signs(t):
    if np.all((t == 0) | (t == 1)):
        return 2 * t - t.dtype.type(1)
    return t


def _margin(t, p):
    return t.dtype.type(1) - t * p


def _hinge_forward(t, p):
    return np.mean(np.maximum(_margin(t, p), 0), axis=-1)


def _hinge_backward(t, p, g):
    grad = np.where(_margin(t, p) >= 0, -t, 0).astype(p.dtype, copy=False)
    return g[..., None] * grad / p.dtype.type(p.shape[-1])


def _sq_hinge_forward(t, p):
    return np.mean(np.square(np.maximum(_margin(t, p), 0)), axis=-1)


def _sq_hinge_backward(t, p, g):
    grad = 2 * np.maximum(_margin(t, p), 0) * -t
    return g[..., None] * grad / p.dtype.type(p.shape[-1])


def _cat_hinge_parts(t, p):
    one = p.dtype.type(1)
    pos = np.sum(t * p, axis=-1)
    scores = (one - t) * p
    neg = np.max(scores, axis=-1)
    return pos, scores, neg


def _cat_hinge_forward(t, p):
    pos, _, neg = _cat_hinge_parts(t, p)
    return np.maximum(neg - pos + p.dtype.type(1), p.dtype.type(0))


def _cat_hinge_backward(t, p, g):
    pos, scores, neg = _cat_hinge_parts(t, p)
    active = (neg - pos + p.dtype.type(1)) >= 0
    ties = (scores == neg[..., None]).astype(p.dtype)
    d_neg = ties / np.sum(ties, axis=-1, keepdims=True) * (p.dtype.type(1) - t)
    return (g * active)[..., None] * (d_neg - t)


def hinge(y_true, y_pred):
    """Per-sample hinge loss ``mean(max(1 - y_true * y_pred, 0), axis=-1)``; 0/1 targets
    become -1/1. Returns ``y_pred.shape[:-1]``.

    Example:
        >>> hinge([[0., 1.]], [[0.5, 0.5]])     # targets -1, 1: (1.5 + 0.5) / 2
        array([1.], dtype=float32)
    """
    t, p, _ = _dense_pair("hinge", y_true, y_pred)
    return _hinge_forward(_to_signs(t), p)


def squared_hinge(y_true, y_pred):
    """Per-sample ``mean(max(1 - y_true * y_pred, 0)**2, axis=-1)``; 0/1 targets become
    -1/1. Returns ``y_pred.shape[:-1]``."""
    t, p, _ = _dense_pair("squared_hinge", y_true, y_pred)
    return _sq_hinge_forward(_to_signs(t), p)


def categorical_hinge(y_true, y_pred):
    """Per-sample ``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` with
    one-hot targets; returns ``y_pred.shape[:-1]``."""
    t, p, _ = _dense_pair("categorical_hinge", y_true, y_pred)
    return _cat_hinge_forward(t, p)


class _SignedTargets(Loss):
    def _prepare(self, y_true, y_pred):
        t, p, dtype = super()._prepare(y_true, y_pred)
        return _to_signs(t), p, dtype


class Hinge(_SignedTargets):
    """Hinge loss, per sample then reduced (``name`` defaults to ``"hinge"``)."""
    default_name = "hinge"

    def _forward(self, t, p):
        return _hinge_forward(t, p)

    def _backward(self, t, p, g):
        return _hinge_backward(t, p, g)


class SquaredHinge(_SignedTargets):
    """Squared hinge loss, per sample then reduced (``name``: ``"squared_hinge"``)."""
    default_name = "squared_hinge"

    def _forward(self, t, p):
        return _sq_hinge_forward(t, p)

    def _backward(self, t, p, g):
        return _sq_hinge_backward(t, p, g)


class CategoricalHinge(Loss):
    """Categorical hinge loss, per sample then reduced (``name``: ``"categorical_hinge"``)."""
    default_name = "categorical_hinge"

    def _forward(self, t, p):
        return _cat_hinge_forward(t, p)

    def _backward(self, t, p, g):
        return _cat_hinge_backward(t, p, g)
