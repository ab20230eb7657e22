"""Argument checks shared by every layer and model: one place, one message style.

Every error names the argument (or layer), what was expected and what was received,
in Keras 3's words: "Received an invalid value for argument `units`, expected a positive
integer, got 0."
"""
import numpy as np

DTYPES = {"float32": np.float32, "float64": np.float64}


def invalid(argument, expected, got):
    return ValueError(f"Received an invalid value for argument `{argument}`, expected "
                      f"{expected}, got {got!r}.")


def _floatx():
    from .config import floatx
    return floatx()


def float_dtype(value, argument="dtype", default=None):
    """'float32' or 'float64' from a name, a NumPy dtype or None (``default``, else
    ``fastrnn.config.floatx()``)."""
    if value is None:
        return default or _floatx()
    try:
        name = value if isinstance(value, str) else np.dtype(value).name
    except TypeError:
        name = None
    if name not in DTYPES:
        raise invalid(argument, "'float32' or 'float64'", value)
    return name


def any_dtype(value, argument="dtype"):
    """A NumPy dtype name for an Input: floats, ints, bool (token ids are int32); None gives
    ``fastrnn.config.floatx()``."""
    if value is None:
        return _floatx()
    try:
        name = np.dtype(value).name
    except TypeError:
        raise invalid(argument, "a NumPy dtype name such as 'float32' or 'int32'",
                      value) from None
    if not (np.issubdtype(np.dtype(name), np.number) or name == "bool"):
        raise invalid(argument, "a numeric dtype", value)
    return name


def positive_int(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise invalid(argument, "a positive integer", value)
    return int(value)


def rate(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
            or not 0 <= value < 1:
        raise invalid(argument, "a float in [0, 1)", value)
    return float(value)


def shape_tuple(value, argument):
    """A shape as a tuple of non-negative ints or None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    try:
        shape = tuple(None if d is None else int(d) for d in value)
    except (TypeError, ValueError):
        raise invalid(argument, "a tuple of dimensions", value) from None
    if any(d is not None and d < 0 for d in shape):
        raise invalid(argument, "non-negative dimensions", value)
    return shape


def batch_input_shape(input_shape, batch_input_shape, batch_size, input_dim, input_length):
    """Resolve Keras 2's ways of declaring the input into one batch shape (or None)."""
    if batch_input_shape is not None:
        return shape_tuple(batch_input_shape, "batch_input_shape")
    if input_shape is None and (input_dim is not None or input_length is not None):
        input_shape = (input_length, input_dim)
    if input_shape is not None:
        return (batch_size,) + shape_tuple(input_shape, "input_shape")
    return None


# native-byte-order dtypes numeric_array returns as they are
_PLAIN = frozenset(np.dtype(t) for t in (np.float32, np.float64, np.float16, np.int8,
                                         np.int16, np.int32, np.int64, np.uint8,
                                         np.uint16, np.uint32, np.uint64, np.bool_))


def numeric_array(x, argument, owner):
    """``np.asarray(x)`` for a numeric or boolean array, in native byte order.

    Raises:
        ValueError: ``x`` is ragged. TypeError: ``x`` is not numeric.
    """
    if type(x) is np.ndarray and x.dtype in _PLAIN:
        return x  # the common case, decided without the checks below
    try:
        arr = np.asarray(x)
    except ValueError as exc:
        raise ValueError(f"Argument `{argument}` of {owner} must be a rectangular numeric "
                         f"array; got a ragged nested sequence ({exc}).") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"Argument `{argument}` of {owner} must be numeric, "
                        f"got dtype {arr.dtype}.")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def format_shape(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"
