"""Weight regularizers of Keras 3: ``L1``, ``L2``, ``L1L2``, ``OrthogonalRegularizer``.

A regularizer maps a weight array ``x`` to a penalty added to the loss, and here also gives
its gradient (same shape as ``x``) for the fit loop:

    L1:   l1 * sum(|x|)                 gradient l1 * sign(x)    (0 at 0, as tf.abs)
    L2:   l2 * sum(x**2)                gradient 2 * l2 * x
    L1L2: both terms

computed in ``x``'s dtype. As in Keras 3, ``L1`` keeps its factor as a float32 number
(``L1(0.01).l1 == 0.009999999776482582``). Names: ``get("l1")`` is ``L1()`` (0.01),
``get("l2")`` is ``L2()`` (0.01); Keras 2's ``"l1_l2"`` is ``L1L2(l1=0.01, l2=0.01)``
(Keras 2's defaults; Keras 3.15 rejects that string).
"""
import math
import numbers

import numpy as np

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize",
           "activity_regularization"]


def _validate(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
            not math.isfinite(value) or value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)


def _weights(x):
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    return x


class Regularizer:
    """Base class: ``__call__(x) -> penalty`` (a float) and ``gradient(x)`` (d penalty/dx)."""

    def __call__(self, x):
        return 0.0

    def gradient(self, x):
        return np.zeros_like(_weights(x))

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``.

    Args:
        l1, l2: non-negative floats (None means 0), default 0.0 each (Keras 3).

    Example:
        >>> L1L2(l1=0.5, l2=0.25)(np.array([1.0, -2.0]))
        2.75
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _validate(0.0 if l1 is None else l1, "l1")
        self.l2 = _validate(0.0 if l2 is None else l2, "l2")

    def __call__(self, x):
        x = _weights(x)
        total = x.dtype.type(0)
        if self.l1 != 0.0:
            total += x.dtype.type(self.l1) * np.sum(np.abs(x))
        if self.l2 != 0.0:
            total += x.dtype.type(self.l2) * np.sum(np.square(x))
        return float(total)

    def gradient(self, x):
        x = _weights(x)
        grad = np.zeros_like(x)
        if self.l1 != 0.0:
            grad += x.dtype.type(self.l1) * np.sign(x)
        if self.l2 != 0.0:
            grad += x.dtype.type(2 * self.l2) * x
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)``; ``l1`` defaults to 0.01 (kept as float32, as Keras 3 does)."""

    def __init__(self, l1=0.01):
        self.l1 = float(np.float32(_validate(0.01 if l1 is None else l1, "l1")))

    def __call__(self, x):
        x = _weights(x)
        return float(x.dtype.type(self.l1) * np.sum(np.abs(x)))

    def gradient(self, x):
        x = _weights(x)
        return x.dtype.type(self.l1) * np.sign(x)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x**2)``; ``l2`` defaults to 0.01."""

    def __init__(self, l2=0.01):
        self.l2 = _validate(0.01 if l2 is None else l2, "l2")

    def __call__(self, x):
        x = _weights(x)
        return float(x.dtype.type(self.l2) * np.sum(np.square(x)))

    def gradient(self, x):
        x = _weights(x)
        return x.dtype.type(2 * self.l2) * x

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """``factor * 0.5 * sum(|offdiag(N N^T)|) / (n (n - 1) / 2)`` with ``N`` the rows
    (``mode="rows"``) or columns of a rank-2 ``x`` normalised to unit L2 norm (Keras 3).
    Its ``gradient`` is not provided (NotImplementedError)."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = float(np.float32(_validate(factor, "factor")))
        if mode not in ("rows", "columns"):
            raise ValueError('Invalid value for argument `mode`. Expected one of {"rows", '
                             f'"columns"}}. Received: mode={mode}')
        self.mode = mode

    def __call__(self, x):
        x = _weights(x)
        if x.ndim != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={x.shape}")
        m = x if self.mode == "rows" else x.T
        inv = np.minimum(1 / np.sqrt(np.sum(np.square(m), axis=1, keepdims=True)),
                         m.dtype.type(1e7))
        n = m * inv
        product = n @ n.T
        size = m.shape[0]
        off = product * (1 - np.eye(size, dtype=x.dtype))
        return float(self.factor * 0.5 * np.sum(np.abs(off)) / (size * (size - 1.0) / 2.0))

    def gradient(self, x):
        raise NotImplementedError("OrthogonalRegularizer has no gradient in fastrnn.")

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def activity_regularization(regularizer, output):
    """A layer's activity penalty as Keras 3 adds it to the loss, and its gradient.

    Keras 3 (``Layer.__call__``) adds ``regularizer(output) / batch_size`` for each output
    of rank >= 1 (``output.shape[0]`` is the batch), ``regularizer(output)`` for a scalar.

    Args:
        regularizer: a ``Regularizer`` (or anything ``get`` accepts).
        output: the layer's output array, e.g. ``(batch, units)``.

    Returns:
        ``(penalty, d penalty / d output)``: a float and an array like ``output``.
    """
    regularizer = get(regularizer)
    output = _weights(output)
    scale = output.shape[0] if output.ndim > 0 else 1
    if scale == 0:
        return 0.0, np.zeros_like(output)
    return (float(output.dtype.type(regularizer(output)) / output.dtype.type(scale)),
            regularizer.gradient(output) / output.dtype.type(scale))


l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

_CLASSES = {cls.__name__: cls for cls in (L1, L2, L1L2, OrthogonalRegularizer)}
_STRINGS = {"l1": L1, "l2": L2, "orthogonal_regularizer": OrthogonalRegularizer}


def serialize(regularizer):
    """``{"module", "class_name", "config", "registered_name"}`` as Keras 3 writes it."""
    if regularizer is None:
        return None
    if not isinstance(regularizer, Regularizer):
        raise ValueError("Received an invalid value for argument `regularizer`, expected a "
                         f"fastrnn.regularizers.Regularizer, got {regularizer!r}.")
    return {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
            "config": regularizer.get_config(), "registered_name": None}


def deserialize(config):
    """A regularizer from ``serialize``'s dict (only this module's classes; no code runs)."""
    if not isinstance(config, dict) or config.get("class_name") not in _CLASSES:
        raise ValueError(f"Could not interpret regularizer identifier: {config!r} (expected "
                         f"a dict with 'class_name' in {sorted(_CLASSES)})")
    return _CLASSES[config["class_name"]].from_config(dict(config.get("config") or {}))


def get(identifier):
    """A regularizer from None, a name (``"l1"``, ``"l2"``, ``"l1_l2"``, a class name), a
    config dict, a class or an instance (or any callable, returned as is, as Keras does).

    Raises:
        ValueError: an unknown name or object (Keras's message).
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier == "l1_l2":
            return L1L2(l1=0.01, l2=0.01)
        cls = _STRINGS.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret regularizer identifier: {identifier}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}")
