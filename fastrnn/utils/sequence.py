"""``pad_sequences``: lists of sequences to one rectangular array, as Keras pads them."""
import numbers

import numpy as np

__all__ = ["pad_sequences"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pad (or truncate) sequences to a common length (``keras.utils.pad_sequences``).

    Args:
        sequences: list (or array) of ``num_samples`` sequences; each a list or array of
            length ``len_i`` whose items share one shape ``sample_shape`` (scalars usually).
        maxlen: optional int >= 0, the output length; default: the longest sequence.
        dtype: output dtype, default ``"int32"`` (``object`` for strings).
        padding: ``"pre"`` or ``"post"``: pad before or after each sequence.
        truncating: ``"pre"`` or ``"post"``: drop values from the start or the end of
            sequences longer than ``maxlen``.
        value: the padding value (float or string).

    Returns:
        Array of shape ``(num_samples, maxlen) + sample_shape`` and dtype ``dtype``.

    Raises:
        ValueError: ``sequences`` not a sized iterable of iterables, an invalid
            ``padding``/``truncating``/``maxlen``, a string ``value`` with a non-string
            ``dtype``, or samples of differing shapes (Keras's messages).

    Example:
        >>> pad_sequences([[1], [2, 3], [4, 5, 6]], maxlen=2)
        array([[0, 1],
               [2, 3],
               [5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    if maxlen is not None and (isinstance(maxlen, bool) or not isinstance(
            maxlen, numbers.Integral) or maxlen < 0):
        raise ValueError("Received an invalid value for argument `maxlen`, expected None or "
                         f"an integer >= 0, got {maxlen!r}.")
    num_samples = len(sequences)
    lengths = []
    sample_shape = ()
    found_shape = False
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError as e:
            raise ValueError("`sequences` must be a list of iterables. "
                             f"Found non-iterable: {x}") from e
        if not found_shape and len(x):
            sample_shape = np.asarray(x).shape[1:]
            found_shape = True
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    maxlen = int(maxlen)
    is_dtype_str = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_dtype_str:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: "
                         f"{type(value)}\nYou should set `dtype=object` for variable length "
                         "strings.")
    x = np.full((num_samples, maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0 and any(len(s) for s in sequences):
        # Keras fails here with NumPy's broadcast error; say which argument is at fault
        raise ValueError("Received an invalid value for argument `maxlen`: 0 leaves no room "
                         "for the non-empty sequences (Keras raises too).")
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {trunc.shape[1:]} of sequence at position "
                             f"{idx} is different from expected shape {sample_shape}")
        if padding == "post":
            x[idx, :len(trunc)] = trunc
        else:
            x[idx, -len(trunc):] = trunc
    return x
