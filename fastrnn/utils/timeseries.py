"""``timeseries_dataset_from_array``: sliding windows over a series, as NumPy batches."""
import numbers

import numpy as np

__all__ = ["timeseries_dataset_from_array", "TimeseriesDataset"]


def _int_arg(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"Received an invalid value for argument `{name}`, expected an "
                         f"integer{' or None' if allow_none else ''}, got {value!r}.")
    return int(value)


class TimeseriesDataset:
    """An iterable of batches of windows (what ``timeseries_dataset_from_array`` returns).

    Iterating yields ``(x, y)`` NumPy batches (``x`` alone when there are no targets):
    ``x`` has shape ``(batch, sequence_length) + data.shape[1:]`` and ``y`` shape
    ``(batch,) + targets.shape[1:]``; the last batch may be smaller. ``len()`` is the number
    of batches. Iterating again gives the same batches (a shuffled order is drawn once).
    """

    def __init__(self, data, targets, windows, starts, batch_size):
        self._data, self._targets = data, targets
        self._windows, self._starts = windows, starts
        self.batch_size = batch_size

    def __len__(self):
        n = len(self._windows)
        if self.batch_size is None:
            return n
        return -(-n // self.batch_size)

    def __iter__(self):
        n = len(self._windows)
        if self.batch_size is None:
            for i in range(n):
                yield self._item(slice(i, i + 1), single=True)
            return
        for lo in range(0, n, self.batch_size):
            yield self._item(slice(lo, lo + self.batch_size), single=False)

    def _item(self, rows, single):
        x = self._data[self._windows[rows]]
        if single:
            x = x[0]
        if self._targets is None:
            return x
        y = self._targets[self._starts[rows]]
        return x, (y[0] if single else y)

    def __repr__(self):
        return f"<TimeseriesDataset windows={len(self._windows)} batches={len(self)}>"


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Sliding windows over ``data`` (``keras.utils.timeseries_dataset_from_array``).

    Window ``i`` starts at ``start_index + s_i`` with ``s_i = i * sequence_stride`` and
    takes ``data[start + j * sampling_rate]`` for ``j < sequence_length``; its target is
    ``targets[start_index + s_i]`` (the targets are sliced as the data are). There are
    ``num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate`` candidate
    starts (at most ``len(targets)``), stepped by ``sequence_stride``.

    Args:
        data: array-like ``(timesteps, ...)``.
        targets: array-like ``(timesteps, ...)`` or None (then batches are ``x`` only).
        sequence_length: int, timesteps per window.
        sequence_stride, sampling_rate: ints >= 1 and < ``len(data)``.
        batch_size: int or None (None: single windows, no batch axis).
        shuffle, seed: shuffle the window order with ``np.random.RandomState(seed)`` as
            Keras does (Keras's TensorFlow path also shuffles within a buffer; here the
            order is just the permuted start positions).
        start_index, end_index: the part of ``data`` to use (``end_index`` exclusive).

    Returns:
        A ``TimeseriesDataset``: iterate for ``(x, y)`` NumPy batches; ``len()`` batches.

    Raises:
        ValueError: the argument checks of Keras (same messages).

    Example:
        >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10), 3, batch_size=4)
        >>> x, y = next(iter(ds)); x.shape, y.tolist()
        ((4, 3), [0, 1, 2, 3])
    """
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError("Received an invalid value for argument `data`, expected an array "
                         "of shape (timesteps, ...), got a scalar.")
    sequence_length = _int_arg("sequence_length", sequence_length)
    sequence_stride = _int_arg("sequence_stride", sequence_stride)
    sampling_rate = _int_arg("sampling_rate", sampling_rate)
    start_index = _int_arg("start_index", start_index, allow_none=True)
    end_index = _int_arg("end_index", end_index, allow_none=True)
    batch_size = _int_arg("batch_size", batch_size, allow_none=True)
    if sequence_length < 1:
        raise ValueError("Received an invalid value for argument `sequence_length`, expected "
                         f"a positive integer, got {sequence_length}.")
    if batch_size is not None and batch_size < 1:
        raise ValueError("Received an invalid value for argument `batch_size`, expected a "
                         f"positive integer or None, got {batch_size}.")
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError("`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= n:
            raise ValueError("`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= n:
            raise ValueError("`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: "
                         f"sampling_rate={sampling_rate}")
    if sampling_rate >= n:
        raise ValueError("`sampling_rate` must be lower than the length of the data. "
                         f"Received: sampling_rate={sampling_rate}, for data of length {n}")
    if sequence_stride <= 0:
        raise ValueError("`sequence_stride` must be higher than 0. Received: "
                         f"sequence_stride={sequence_stride}")
    if sequence_stride >= n:
        raise ValueError("`sequence_stride` must be lower than the length of the data. "
                         f"Received: sequence_stride={sequence_stride}, for data of length {n}")
    start_index = start_index or 0
    end_index = end_index or n
    if targets is not None:
        targets = np.asarray(targets)
        if targets.ndim == 0:
            raise ValueError("Received an invalid value for argument `targets`, expected an "
                             "array of shape (timesteps, ...) or None, got a scalar.")
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)
    windows = start_index + starts[:, None] + np.arange(sequence_length) * sampling_rate
    target_rows = None if targets is None else start_index + starts
    return TimeseriesDataset(data, targets, windows, target_rows, batch_size)
