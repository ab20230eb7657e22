"""Weight constraints of Keras 3, applied to a variable after each optimizer update.

``c(w)`` returns the projected array (same shape and dtype); eps = 1e-7:

    MaxNorm(max_value=2, axis=0):  w * clip(n, 0, max_value) / (eps + n)
    NonNeg():                      max(w, 0)
    UnitNorm(axis=0):              w / (eps + n)
    MinMaxNorm(min_value=0, max_value=1, rate=1, axis=0):
                                   w * (rate * clip(n, min, max) + (1 - rate) * n) / (eps + n)

with ``n = sqrt(sum(w**2, axis, keepdims=True))``. ``axis=0`` on a Dense kernel
``(input_dim, units)`` constrains each unit's incoming weight vector.
"""
import numbers

import numpy as np

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm",
           "non_neg", "unit_norm", "min_max_norm", "get", "serialize", "deserialize"]

_EPSILON = 1e-7


def _number(owner, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"Received an invalid value for argument `{name}` of {owner}, "
                         f"expected a finite number, got {value!r}.")
    return value


def _axis(owner, axis):
    if isinstance(axis, (list, tuple)):
        return [_axis(owner, a) for a in axis]
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"Received an invalid value for argument `axis` of {owner}, "
                         f"expected an integer or a list of integers, got {axis!r}.")
    return int(axis)


def _norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=tuple(np.atleast_1d(axis)), keepdims=True))


def _array(w):
    w = np.asarray(w)
    return w if np.issubdtype(w.dtype, np.floating) else w.astype(np.float32)


class Constraint:
    """Base class: ``__call__(w) -> w`` (identity), ``get_config``, ``from_config``."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} {self.get_config()}>"


class MaxNorm(Constraint):
    """Rescale slices whose L2 norm along ``axis`` exceeds ``max_value`` (default 2)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = _number("MaxNorm", "max_value", max_value)
        self.axis = _axis("MaxNorm", axis)

    def __call__(self, w):
        w = _array(w)
        n = _norms(w, self.axis)
        desired = np.clip(n, 0, self.max_value)
        return (w * (desired / (w.dtype.type(_EPSILON) + n))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Set negative weights to 0."""

    def __call__(self, w):
        w = _array(w)
        return np.maximum(w, w.dtype.type(0))


class UnitNorm(Constraint):
    """Scale each slice along ``axis`` (default 0) to unit L2 norm."""

    def __init__(self, axis=0):
        self.axis = _axis("UnitNorm", axis)

    def __call__(self, w):
        w = _array(w)
        return (w / (w.dtype.type(_EPSILON) + _norms(w, self.axis))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keep the L2 norm of each slice along ``axis`` within ``[min_value, max_value]``,
    moving a fraction ``rate`` of the way there at each call."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _number("MinMaxNorm", "min_value", min_value)
        self.max_value = _number("MinMaxNorm", "max_value", max_value)
        self.rate = _number("MinMaxNorm", "rate", rate)
        self.axis = _axis("MinMaxNorm", axis)
        if min_value > max_value:
            raise ValueError("Received an invalid value for argument `min_value` of "
                             f"MinMaxNorm, expected <= max_value={max_value}, got {min_value}.")

    def __call__(self, w):
        w = _array(w)
        n = _norms(w, self.axis)
        desired = self.rate * np.clip(n, self.min_value, self.max_value) + (1 - self.rate) * n
        return (w * (desired / (w.dtype.type(_EPSILON) + n))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm

_CLASSES = {cls.__name__: cls for cls in (MaxNorm, NonNeg, UnitNorm, MinMaxNorm)}
_STRINGS = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
            "min_max_norm": MinMaxNorm}


def serialize(constraint):
    """``{"module", "class_name", "config", "registered_name"}`` as Keras 3 writes it."""
    if constraint is None:
        return None
    if not isinstance(constraint, Constraint):
        raise ValueError("Received an invalid value for argument `constraint`, expected a "
                         f"fastrnn.constraints.Constraint, got {constraint!r}.")
    return {"module": "keras.constraints", "class_name": type(constraint).__name__,
            "config": constraint.get_config(), "registered_name": None}


def deserialize(config):
    """A constraint from ``serialize``'s dict (only this module's classes; no code runs)."""
    if not isinstance(config, dict) or config.get("class_name") not in _CLASSES:
        raise ValueError(f"Could not interpret constraint identifier: {config!r} (expected "
                         f"a dict with 'class_name' in {sorted(_CLASSES)})")
    return _CLASSES[config["class_name"]].from_config(dict(config.get("config") or {}))


def get(identifier):
    """A constraint from None, a name (``"max_norm"``, ``"non_neg"``, ``"unit_norm"``,
    ``"min_max_norm"`` or a class name), a config dict, a class or an instance.

    Raises:
        ValueError: an unknown name or object (Keras's message).
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _STRINGS.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret constraint identifier: {identifier}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}")
