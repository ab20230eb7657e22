"""Global settings, as ``keras.config``: the default float dtype (floatx) and epsilon.

``set_floatx("float64")`` makes every layer, ``Input`` and loss created afterwards default to
float64, as in Keras 3 (keras/src/backend/config.py). Only "float32" and "float64" are
available: the kernel runs in those two precisions.
"""
from . import _validation as V

__all__ = ["floatx", "set_floatx", "epsilon"]

_STATE = {"floatx": "float32"}


def floatx():
    """The default float dtype name: "float32" unless ``set_floatx`` changed it.

    Example:
        >>> floatx()
        'float32'
    """
    return _STATE["floatx"]


def set_floatx(value):
    """Set the default float dtype of layers, inputs and losses created from now on.

    Args:
        value: "float32" or "float64" (a NumPy dtype works too).

    Raises:
        ValueError: naming `value` when it is another dtype ("float16", "bfloat16": the
            kernel has no half precision).
    """
    _STATE["floatx"] = V.float_dtype(value, argument="value", default="float32")


def epsilon():
    """The fuzz factor Keras clips probabilities with (1e-7; fixed in fastrnn)."""
    return 1e-7
