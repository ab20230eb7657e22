"""``SparseGradient``: a row-sparse gradient, like TensorFlow's ``tf.IndexedSlices``.

An ``Embedding`` looked up at rows ``indices`` produces one gradient row per lookup
(occurrence): ``values[k]`` belongs to row ``indices[k]``; a row may occur several times and
untouched rows have no entry. The dense gradient is ``dense[i] = sum of values[k] with
indices[k] == i`` (TensorFlow's ``unsorted_segment_sum``), but the optimizers never build
it unless Keras 3's TensorFlow backend does (see ``fastrnn.optimizers``' module docstring).
"""
import numbers

import numpy as np

__all__ = ["SparseGradient"]


class SparseGradient:
    """Row-sparse gradient of a variable of shape ``dense_shape``.

    Args:
        indices: integer array ``(n,)``, rows in ``[0, dense_shape[0])``, repeats allowed.
        values: float array ``(n,) + dense_shape[1:]``, one row per occurrence.
        dense_shape: the shape of the variable (a tuple of ints, rank >= 1).

    Raises:
        ValueError: shapes that do not fit together, non-integer or out-of-range indices.

    Example:
        >>> g = SparseGradient([2, 0, 2], np.ones((3, 2), "float32"), (4, 2))
        >>> g.to_dense()[:, 0]
        array([1., 0., 2., 0.], dtype=float32)
    """

    def __init__(self, indices, values, dense_shape):
        try:
            dense_shape = tuple(int(d) for d in dense_shape)
        except (TypeError, ValueError):
            raise ValueError("Received an invalid value for argument `dense_shape` of "
                             f"SparseGradient, expected a tuple of ints, got {dense_shape!r}.")
        if not dense_shape or any(d < 0 for d in dense_shape):
            raise ValueError("Received an invalid value for argument `dense_shape` of "
                             "SparseGradient, expected a shape of rank >= 1, got "
                             f"{dense_shape}.")
        indices = np.asarray(indices)
        if indices.ndim != 1 or not (np.issubdtype(indices.dtype, np.integer)
                                     or indices.size == 0):
            raise ValueError("Received an invalid value for argument `indices` of "
                             "SparseGradient, expected a 1-D integer array, got shape "
                             f"{indices.shape} and dtype {indices.dtype}.")
        indices = indices.astype(np.int64, copy=False)
        if indices.size and (indices.min() < 0 or indices.max() >= dense_shape[0]):
            raise ValueError("Received an invalid value for argument `indices` of "
                             f"SparseGradient, expected rows in [0, {dense_shape[0] - 1}], "
                             f"got values in [{indices.min()}, {indices.max()}].")
        values = np.asarray(values)
        if not np.issubdtype(values.dtype, np.floating):
            values = values.astype(np.float32)
        expected = (indices.shape[0],) + dense_shape[1:]
        if values.shape != expected:
            raise ValueError("Received an invalid shape for argument `values` of "
                             f"SparseGradient, expected {expected} (one row per index), "
                             f"got {values.shape}.")
        self.indices = indices
        self.values = values
        self.dense_shape = dense_shape
        self._segments = None

    def __repr__(self):
        return (f"<SparseGradient rows={self.indices.shape[0]} "
                f"dense_shape={self.dense_shape} dtype={self.values.dtype}>")

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def shape(self):
        return self.dense_shape

    def with_values(self, values):
        """The same indices with new per-occurrence ``values`` (same shape)."""
        out = SparseGradient.__new__(SparseGradient)
        out.indices, out.dense_shape, out._segments = (
            self.indices, self.dense_shape, self._segments)
        out.values = values
        return out

    def astype(self, dtype):
        return self.with_values(self.values.astype(dtype, copy=False))

    def _segment_info(self):
        """(the distinct rows sorted, the position of each occurrence's row among them),
        by counting (``np.bincount``), no comparison sort; computed once."""
        if self._segments is None:
            counts = np.bincount(self.indices, minlength=self.dense_shape[0])
            rows = np.flatnonzero(counts)
            position = np.zeros(self.dense_shape[0], dtype=np.int64)
            position[rows] = np.arange(rows.size)
            self._segments = (rows, position[self.indices])
        return self._segments

    @property
    def rows(self):
        """The distinct rows touched, sorted ascending."""
        return self._segment_info()[0]

    def row_sums(self, values=None, square=False):
        """Per distinct row, the sum over its occurrences of ``values`` (default: the
        gradient's own values), or of their squares with ``square`` (without making the
        squared array): an array ``(len(rows),) + dense_shape[1:]`` in the values' dtype.
        Each row's occurrences are added from zero in occurrence order, as TensorFlow's
        ``unsorted_segment_sum`` on CPU does; float32/float64 in one compiled pass
        (``_kernel.segment_sums``; 64,000 lookups of 32: 0.4 ms, a SciPy CSR product took
        1.4), other dtypes by ``np.add.at`` (the same order)."""
        values = np.asarray(self.values if values is None else values)
        rows, position = self._segment_info()
        shape = (rows.size,) + values.shape[1:]
        if self.indices.size == 0:
            return np.zeros(shape, dtype=values.dtype)
        if rows.size == self.indices.size and not square:   # no repeated row
            out = np.empty_like(values)
            out[position] = values
            return out
        flat = values.reshape(values.shape[0], -1)
        out = np.zeros((rows.size, flat.shape[1]), dtype=values.dtype)
        if values.dtype in (np.float32, np.float64):
            from .. import _kernel
            _kernel.segment_sums(position, np.ascontiguousarray(flat), out, bool(square))
        else:
            np.add.at(out, position, np.square(flat) if square else flat)
        return out.reshape(shape)

    def scatter(self, row_values, dtype=None):
        """A dense array of ``dense_shape`` with ``row_values`` (one per distinct row) at
        ``rows`` and zeros elsewhere."""
        out = np.zeros(self.dense_shape, dtype=dtype or row_values.dtype)
        out[self.rows] = row_values
        return out

    def to_dense(self, values=None, square=False):
        """The dense gradient (``values``, or their squares with ``square``, summed per
        row; TensorFlow's densification)."""
        return self.scatter(self.row_sums(values, square))


def is_sparse(gradient):
    return isinstance(gradient, SparseGradient)


def check_int(name, value, low=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or (
            low is not None and value < low):
        raise ValueError(f"Received an invalid value for argument `{name}`, expected an "
                         f"integer{'' if low is None else f' >= {low}'}, got {value!r}.")
    return int(value)
