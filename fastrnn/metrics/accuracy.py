"""Accuracy metrics: binary, categorical, sparse categorical, top-k (Keras 3 rules)."""
import numpy as np

from .. import losses as _losses
from .base import Metric, MeanMetricWrapper, _shape_error

__all__ = ["BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
           "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "binary_accuracy",
           "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"]


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


def _in_top_k(targets, scores, k):
    """TensorFlow's in_top_k: the target's score is beaten by fewer than ``k`` others
    (ties at the boundary count as in), and all of the row's scores are finite."""
    target_scores = np.take_along_axis(scores, targets[:, None], axis=-1)
    beaten_by = np.sum(scores > target_scores, axis=-1)
    return (beaten_by < k) & np.all(np.isfinite(scores), axis=-1)


def _check_k(k):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"Received an invalid value for argument `k`, expected a positive "
                         f"integer, got {k!r}.")
    return int(k)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the class of ``argmax(y_true)`` is among the ``k`` highest predictions.

    Args:
        y_true: one-hot targets, same shape as ``y_pred``.
        y_pred: scores ``(batch, classes)`` or ``(batch, timesteps, classes)``.
        k: how many of the highest scores count.

    Returns:
        float32 array of shape ``y_pred.shape[:-1]``.

    Example:
        >>> top_k_categorical_accuracy([[0, 0, 1], [0, 1, 0]],
        ...                            [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=1)
        array([0., 1.], dtype=float32)
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape or p.ndim < 2:
        raise _shape_error("top_k_categorical_accuracy", f"shape {p.shape} (one-hot)",
                           t.shape, p.shape)
    labels = np.argmax(t, axis=-1)
    flat = _in_top_k(labels.reshape(-1), p.reshape(-1, p.shape[-1]), _check_k(k))
    return flat.reshape(labels.shape).astype(np.float32)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer target is among the ``k`` highest predictions.

    Args:
        y_true: class indices ``y_pred.shape[:-1]`` (or with a trailing axis of 1).
        y_pred: scores ``(batch, classes)``; with ``from_sorted_ids``, class ids sorted by
            score (best first), of which the first ``k`` columns are read.
        k: how many of the highest scores count.

    Returns:
        float32 array of the shape of ``y_true``.
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if p.ndim < 2:
        raise ValueError("Received an invalid shape for argument `y_pred` of metric "
                         "'sparse_top_k_categorical_accuracy', expected (batch, classes), "
                         f"got {p.shape}.")
    k = _check_k(k)
    t_flat = t.reshape(-1)
    p_flat = p.reshape(-1, p.shape[-1])
    if t_flat.shape[0] != p_flat.shape[0]:
        raise _shape_error("sparse_top_k_categorical_accuracy",
                           f"{p.shape[:-1]} class indices", t.shape, p.shape)
    if from_sorted_ids:
        matches = np.any(t_flat[:, None] == p_flat[:, :k], axis=1)
    else:
        labels = t_flat.astype(np.int64)
        if labels.size and (labels.min() < 0 or labels.max() >= p.shape[-1]):
            raise ValueError("Received an invalid value for argument `y` of metric "
                             "'sparse_top_k_categorical_accuracy', expected class indices "
                             f"in [0, {p.shape[-1] - 1}], got values in "
                             f"[{labels.min()}, {labels.max()}].")
        matches = _in_top_k(labels, p_flat, k)
    return matches.reshape(t.shape).astype(np.float32)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target is in the top ``k`` predictions (default k=5)."""
    default_name = "top_k_categorical_accuracy"
    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy"):
        self.k = _check_k(k)
        super().__init__(top_k_categorical_accuracy, name=name, k=self.k)

    def get_config(self):
        return {"name": self.name, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target is in the top ``k`` predictions (default k=5)."""
    default_name = "sparse_top_k_categorical_accuracy"
    _direction = "up"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", from_sorted_ids=False):
        self.k = _check_k(k)
        self.from_sorted_ids = bool(from_sorted_ids)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, k=self.k,
                         from_sorted_ids=self.from_sorted_ids)

    def get_config(self):
        config = {"name": self.name, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
