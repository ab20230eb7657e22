"""``class_weight`` -> per-sample weights, as Keras 3's fit does for NumPy targets."""
import math
import numbers
from collections.abc import Mapping

import numpy as np

__all__ = ["class_weight_to_sample_weights"]


def _check_class_weight(class_weight):
    if not isinstance(class_weight, Mapping):
        raise ValueError("Received an invalid value for argument `class_weight`, expected a "
                         "dict {class index: weight}, got "
                         f"{type(class_weight).__name__}.")
    checked = {}
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
            raise ValueError("Received an invalid value for argument `class_weight`: its keys "
                             f"must be class indices (integers >= 0), got {key!r}.")
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
                not math.isfinite(value):
            raise ValueError("Received an invalid value for argument `class_weight`: the "
                             f"weight of class {key} must be a finite number, got {value!r}.")
        checked[int(key)] = float(value)
    return checked


def class_weight_to_sample_weights(y, class_weight, dtype="float32"):
    """Per-sample weights from ``class_weight`` (Keras 3's ``class_weight_to_sample_weights``).

    A sample's class is ``argmax(y[i])`` for one-hot targets ``(batch, classes)``, else
    ``round(y[i])`` for ``(batch,)`` / ``(batch, 1)`` targets; classes missing from
    ``class_weight`` weigh 1.0, as in Keras. 2-D targets follow Keras's rule (one-hot when
    the last axis is > 1); ``(batch, timesteps, classes)`` or ``(batch, timesteps, 1)``
    targets give weights ``(batch, timesteps)`` (Keras 3 cannot weight those).

    Args:
        y: the targets of the whole dataset or of one batch.
        class_weight: dict ``{class index: weight}``.
        dtype: dtype of the result (Keras: floatx, float32).

    Returns:
        Array ``(batch,)`` (or ``(batch, timesteps)``) of weights.

    Raises:
        ValueError: ``class_weight`` not a dict of int >= 0 -> finite number; a class index
            that the one-hot targets cannot have (``>= classes``); targets of rank 0.
    """
    weights = _check_class_weight(class_weight)
    y = np.asarray(y)
    if y.ndim == 0:
        raise ValueError("Received an invalid value for argument `y`, expected targets of "
                         "shape (batch, ...), got a scalar.")
    if y.ndim > 1 and y.shape[-1] != 1:
        n_classes = y.shape[-1]
        unknown = sorted(k for k in weights if k >= n_classes)
        if unknown:
            raise ValueError(f"Received an invalid value for argument `class_weight`: classes "
                             f"{unknown} do not exist, the targets have {n_classes} classes "
                             f"(indices 0 to {n_classes - 1}).")
        labels = np.argmax(y, axis=-1)
    else:
        labels = y[..., 0] if y.ndim > 1 else y
        labels = np.round(labels.astype(np.float64)).astype(np.int64)
    table_size = max([int(labels.max()) + 1 if labels.size else 0] + [k + 1 for k in weights])
    table = np.ones(table_size, dtype=dtype)
    for k, w in weights.items():
        table[k] = w
    out = np.ones(labels.shape, dtype=dtype)
    valid = labels >= 0
    out[valid] = table[labels[valid]]
    return out
