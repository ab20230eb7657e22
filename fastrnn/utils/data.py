"""Keras's batch structure helpers: ``(x, y, sample_weight)`` packing and unpacking."""
__all__ = ["unpack_x_y_sample_weight", "pack_x_y_sample_weight"]


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a batch ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)`` (a list counts as a tuple), as ``keras.utils`` does;
    missing parts are None.

    Raises:
        ValueError: a tuple of more than three elements (Keras's message), e.g. a generator
            that yields the wrong structure.

    Example:
        >>> unpack_x_y_sample_weight(([1], [2]))
        ([1], [2], None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found a tuple of {len(data)} elements: "
                     f"{_short(data)}")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of ``unpack_x_y_sample_weight``: ``x``, ``(x,)`` (when ``x`` is itself a
    tuple or list), ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _short(data):
    text = repr(data)
    return text if len(text) <= 200 else text[:200] + "..."
