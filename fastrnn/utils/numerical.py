"""``to_categorical`` and ``normalize``, NumPy forms of Keras's numerical utilities."""
import numbers

import numpy as np

__all__ = ["to_categorical", "normalize"]


def to_categorical(x, num_classes=None):
    """One-hot encode integer class labels (``keras.utils.to_categorical``).

    Args:
        x: array-like of integer labels in ``[0, num_classes)``, any shape ``S``; a trailing
            axis of size 1 is dropped (``(n, 1)`` gives ``(n, num_classes)``).
        num_classes: number of classes; default ``max(x) + 1``.

    Returns:
        float64 array of shape ``S + (num_classes,)`` (Keras's NumPy path returns float64).

    Raises:
        ValueError: non-integer or negative labels, a label >= ``num_classes``, or an
            invalid ``num_classes``.

    Example:
        >>> to_categorical([0, 2, 1], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]])
    """
    raw = np.asarray(x)
    if raw.dtype == object or not (np.issubdtype(raw.dtype, np.number)
                                   or raw.dtype == np.bool_):
        raise ValueError("Received an invalid value for argument `x` of to_categorical, "
                         f"expected integer class labels, got dtype {raw.dtype}.")
    if np.issubdtype(raw.dtype, np.floating) and raw.size and (
            not np.all(np.isfinite(raw)) or np.any(raw != np.floor(raw))):
        raise ValueError("Received an invalid value for argument `x` of to_categorical, "
                         "expected integer class labels, got non-integer values.")
    x = np.array(raw, dtype="int64")
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(
            num_classes, numbers.Integral) or num_classes < 0):
        raise ValueError("Received an invalid value for argument `num_classes`, expected a "
                         f"positive integer or None, got {num_classes!r}.")
    if not num_classes:
        num_classes = int(np.max(x)) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(f"Received an invalid value for argument `x` of to_categorical, "
                         f"expected labels in [0, {num_classes - 1}], got values in "
                         f"[{x.min()}, {x.max()}].")
    categorical = np.zeros((x.shape[0], int(num_classes)))
    categorical[np.arange(x.shape[0]), x] = 1
    return categorical.reshape(input_shape + (int(num_classes),))


def normalize(x, axis=-1, order=2):
    """Divide ``x`` by its ``order``-norm along ``axis`` (``keras.utils.normalize``).

    Args:
        x: array-like (converted with ``np.asarray``).
        axis: the axis along which norms are taken (``None`` is read as ``-1``).
        order: the norm order passed to ``np.linalg.norm`` (2: Euclidean; ``np.inf`` too).

    Returns:
        Array of ``x``'s shape; slices with norm 0 are left unchanged.

    Keras's NumPy path turns ``axis=0`` into ``-1`` after taking the norm (a broadcast
    error, or wrong values for square input); here ``axis=0`` gives what Keras's tensor
    path (``ops.nn.normalize``) gives.
    """
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("Received an invalid value for argument `x` of normalize, expected "
                         "an array of rank >= 1, got a scalar.")
    if axis is None:
        axis = -1
    norm = np.atleast_1d(np.linalg.norm(x, order, axis, keepdims=True))
    norm[norm == 0] = 1
    return x / norm
