"""Activations by their Keras names: the recurrence runs them inside the kernel,
Dense applies them here (forward and derivative side by side).

The recurrent layers take only the kernel's set (``RECURRENT``; LSTM/GRU add hard_sigmoid).
``Dense`` and ``Activation`` also take Keras 3's elementwise activations elu, selu, softplus,
softsign, silu (swish), gelu (exact, erf), exponential, hard_sigmoid (relu6(x + 3) / 6),
hard_silu (hard_swish), leaky_relu (slope 0.2), relu6 and mish, with TensorFlow's gradients
(keras/src/activations/activations.py; fixture ``tool_activations.npz``).
"""
import numpy as np
from scipy.special import erf

from . import _kernel

_KERNEL_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))

__all__ = ["get", "tanh", "relu", "sigmoid", "linear", "softmax", "serialize"]


def tanh(x):
    return np.tanh(x)


def relu(x):
    return np.maximum(x, 0)


def sigmoid(x):
    """1 / (1 + exp(-x)) for x >= 0 and exp(x) / (1 + exp(x)) below, so exp never
    overflows; the same values as computing each branch on its own elements."""
    x = np.asarray(x)
    if x.dtype in _KERNEL_FLOATS and x.flags.c_contiguous:
        # the same operations, those around exp in C (src/_step.h)
        e = np.empty(x.shape, x.dtype)
        _kernel.neg_abs(x, e)
        np.exp(e, out=e)
        y = np.empty(x.shape, x.dtype)
        _kernel.sigmoid_tail(x, e, y)
        return y
    e = np.exp(-np.abs(x))
    d = 1 + e
    return np.where(x >= 0, 1 / d, e / d)


def linear(x):
    return x


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# d activation / d pre-activation, written in terms of the output y = act(a)
_DERIVATIVES = {
    "tanh": lambda y: 1 - y * y,
    "relu": lambda y: (y > 0).astype(y.dtype),
    "sigmoid": lambda y: y * (1 - y),
    "linear": lambda y: np.ones_like(y),
}

_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _softplus(x):
    return np.logaddexp(0, x)


def _relu6(x):
    return np.clip(x, 0, 6)


# Keras 3's other elementwise activations: value and d value / d pre-activation z
_MORE = {
    "elu": (lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
            lambda z: np.where(z > 0, 1, np.exp(np.minimum(z, 0)))),
    "selu": (lambda z: _SELU_SCALE * np.where(z > 0, z, _SELU_ALPHA * np.expm1(np.minimum(z, 0))),
             lambda z: _SELU_SCALE * np.where(z >= 0, 1, _SELU_ALPHA * np.exp(np.minimum(z, 0)))),
    "softplus": (_softplus, lambda z: sigmoid(z)),
    "softsign": (lambda z: z / (1 + np.abs(z)), lambda z: 1 / np.square(1 + np.abs(z))),
    "silu": (lambda z: z * sigmoid(z), lambda z: sigmoid(z) * (1 + z * (1 - sigmoid(z)))),
    "gelu": (lambda z: 0.5 * z * (1 + erf(z / np.sqrt(2))),
             lambda z: (0.5 * (1 + erf(z / np.sqrt(2)))
                        + z * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi))),
    "exponential": (np.exp, np.exp),
    "hard_sigmoid": (lambda z: _relu6(z + 3) / 6, lambda z: ((z > -3) & (z < 3)) / 6),
    "hard_silu": (lambda z: z * _relu6(z + 3) / 6,
                  lambda z: _relu6(z + 3) / 6 + z * ((z > -3) & (z < 3)) / 6),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.2 * z), lambda z: np.where(z > 0, 1, 0.2)),
    "relu6": (_relu6, lambda z: (z > 0) & (z < 6)),
    "mish": (lambda z: z * np.tanh(_softplus(z)),
             lambda z: np.tanh(_softplus(z)) + z * sigmoid(z) * (1 - np.tanh(_softplus(z)) ** 2)),
}
_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}

_BY_NAME = {"tanh": tanh, "relu": relu, "sigmoid": sigmoid, "linear": linear,
            "softmax": softmax}
_BY_NAME.update({name: fns[0] for name, fns in _MORE.items()})
RECURRENT = ("tanh", "relu", "sigmoid", "linear")


def get(identifier, argument="activation", allowed=None):
    """Return the Keras name of an activation given as a name, None or one of ours."""
    allowed = tuple(_BY_NAME) if allowed is None else tuple(allowed)
    name = identifier
    if identifier is None:
        name = "linear"
    elif isinstance(identifier, str):
        name = _ALIASES.get(identifier, identifier)
    elif callable(identifier):
        name = getattr(identifier, "__name__", None)
        module = getattr(identifier, "__module__", "") or ""
        if _BY_NAME.get(name) is not identifier and module.split(".")[0] != "keras":
            name = None
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(
            f"Received an invalid value for argument `{argument}`, expected one of "
            f"{list(allowed)}, got {identifier!r}.")
    return name


def apply(name, x):
    x = np.asarray(x)
    return np.asarray(_BY_NAME[name](x), dtype=x.dtype) if name in _MORE else _BY_NAME[name](x)


def derivative(name, z, y):
    """act'(z) for the pre-activation ``z`` and output ``y = act(z)`` (softmax: callers)."""
    if name in _MORE:
        return np.asarray(_MORE[name][1](z), dtype=y.dtype)
    return _DERIVATIVES[name](y)


def derivative_from_output(name, y):
    """act'(a) expressed through y = act(a); softmax is handled by its callers."""
    return _DERIVATIVES[name](y)


def serialize(name):
    return name
