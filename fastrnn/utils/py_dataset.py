"""``PyDataset`` (alias ``Sequence``): Keras 3's base class for batch-indexable datasets."""
import itertools
import warnings

__all__ = ["PyDataset", "Sequence"]


class PyDataset:
    """Base class for a dataset of batches, as ``keras.utils.PyDataset``.

    Subclasses implement ``__len__`` (number of batches per epoch) and
    ``__getitem__(index)`` returning one batch: ``x``, ``(x, y)`` or
    ``(x, y, sample_weight)`` of NumPy arrays. ``on_epoch_begin`` / ``on_epoch_end`` are
    called by the fit loop around each epoch (shuffle there). ``workers``,
    ``use_multiprocessing`` and ``max_queue_size`` are accepted and stored for Keras
    compatibility; fastrnn reads batches in the calling thread.

    Example:
        >>> class Batches(PyDataset):
        ...     def __init__(self, x, y, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return -(-len(self.x) // self.batch_size)
        ...     def __getitem__(self, i):
        ...         s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        ...         return self.x[s], self.y[s]
        >>> [len(x) for x, _ in Batches(list(range(5)), list(range(5)), 2)]
        [2, 2, 1]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        warn = False
        for attr, default in (("_workers", 1), ("_use_multiprocessing", False),
                              ("_max_queue_size", 10)):
            if not hasattr(self, attr):
                setattr(self, attr, default)
                warn = True
        if warn:
            warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in "
                          "its constructor. `**kwargs` can include `workers`, "
                          "`use_multiprocessing`, `max_queue_size`. Do not pass these "
                          "arguments to `fit()`, as they will be ignored.", stacklevel=2)

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def __getitem__(self, index):
        """Batch number ``index`` (0 <= index < num_batches)."""
        raise NotImplementedError

    @property
    def num_batches(self):
        """Batches per epoch: ``len(self)`` (None for an infinite dataset)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError("You need to implement the `num_batches` property:\n\n"
                                  "@property\ndef num_batches(self):\n  return ...")

    def __iter__(self):
        index_range = None
        try:
            num_batches = self.num_batches
            if num_batches is not None:
                index_range = range(num_batches)
        except NotImplementedError:
            pass
        for index in (itertools.count() if index_range is None else index_range):
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of each epoch."""

    def on_epoch_end(self):
        """Called at the end of each epoch (shuffle the data here)."""


Sequence = PyDataset
