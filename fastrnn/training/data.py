"""Batches for fit / evaluate / predict from arrays, Python generators and ``PyDataset``s,
with Keras 3's epoch rules (keras/src/trainers/epoch_iterator.py):

- ``steps`` (``steps_per_epoch`` / ``validation_steps`` / ``steps``) given: an epoch takes
  that many batches and the iterator carries on across epochs; a source with a known
  number of batches ends the epoch early (with Keras's warning) when it is used up and
  starts again at the next one (3 batches, 2 steps: epochs of [0, 1], [2], [0, 1]). A
  generator that runs out warns with Keras's message and training stops after that epoch.
- no ``steps``: an epoch is one pass (``ceil(n / batch_size)`` slices of arrays,
  ``len(dataset)`` batches of a ``PyDataset``, a generator until it is exhausted).
- a ``PyDataset``'s ``on_epoch_end()`` is called after every epoch; with ``shuffle=True``
  ``fit`` visits its batches in a new random order each epoch (Keras's PyDatasetAdapter).

Each batch is ``(xs, ys, sample_weights)``: lists with one entry per model input / output.
"""
import inspect
import math
import warnings

import numpy as np

from .. import _validation as V

__all__ = ["RAN_OUT", "EpochIterator", "check_steps", "is_batch_source",
           "standardize_sample_weights"]

RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset "
           "or generator can generate at least `steps_per_epoch * epochs` batches.")


def _is_dataset(x):
    from ..utils import PyDataset
    if isinstance(x, PyDataset):
        return True
    return (not isinstance(x, (list, tuple, dict, np.ndarray)) and hasattr(x, "__getitem__")
            and hasattr(x, "__len__") and hasattr(x, "on_epoch_end"))


def _is_generator(x):
    return inspect.isgenerator(x) or (hasattr(x, "__next__") and hasattr(x, "__iter__")
                                      and not isinstance(x, np.ndarray))


def is_batch_source(x):
    """True for a Python generator/iterator or a ``PyDataset``/``Sequence``-like object."""
    return _is_dataset(x) or _is_generator(x)


def check_steps(value, argument):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise V.invalid(argument, "a positive integer or None", value)
    return int(value)


def standardize_sample_weights(sample_weight, names, n, what, argument="sample_weight"):
    """One ``(n, ...)`` float array (or None) per output from a single array (used for
    every output, as Keras 3 does), a list, or a dict keyed by output name.

    Raises:
        ValueError: a wrong number of entries, unknown output names, a weight array whose
            first axis is not ``n`` or that holds non-finite or negative values.
    """
    k = len(names)
    if sample_weight is None:
        return [None] * k
    if isinstance(sample_weight, dict):
        unknown = set(sample_weight) - set(names)
        if unknown:
            raise ValueError(f"Argument `{argument}` of `{what}` names outputs "
                             f"{sorted(unknown)}, but the model's outputs are {names}.")
        items = [sample_weight.get(name) for name in names]
    elif isinstance(sample_weight, (list, tuple)) and k > 1:
        if len(sample_weight) != k:
            raise ValueError(f"Argument `{argument}` of `{what}` must hold one array per "
                             f"output ({k}: {names}), got {len(sample_weight)}.")
        items = list(sample_weight)
    else:
        items = [sample_weight] * k
    out = []
    for w in items:
        if w is None:
            out.append(None)
            continue
        w = V.numeric_array(w, argument, f"`{what}`")
        if w.ndim == 0 or w.shape[0] != n:
            raise ValueError(f"Argument `{argument}` of `{what}` must have one weight per "
                             f"sample (shape ({n},)), got shape {w.shape}.")
        w = np.asarray(w, np.float64 if w.dtype == np.float64 else np.float32)
        if not np.all(np.isfinite(w)):
            raise ValueError(f"Argument `{argument}` of `{what}` holds non-finite values.")
        out.append(w)
    return out


class EpochIterator:
    """Batches of one data source, epoch after epoch (see the module docstring).

    Args:
        model: the model (standardizes inputs, targets and weights).
        x, y, sample_weight: arrays, or ``x`` a generator / PyDataset yielding ``x``,
            ``(x, y)`` or ``(x, y, sample_weight)`` (``y`` and ``sample_weight`` then None).
        batch_size: rows per batch for arrays.
        steps: batches per epoch, or None (see above).
        shuffle: shuffle array rows / dataset batch order at every epoch.
        class_weight: ``{class: weight}`` turned into sample weights (single output).
        what: the method name for messages ("fit", "evaluate", "predict").
        argument: the argument name for messages ("x", "validation_data").
        targets: whether batches must have targets (fit/evaluate) or not (predict).
    """

    def __init__(self, model, x, y=None, sample_weight=None, batch_size=32, steps=None,
                 shuffle=False, class_weight=None, what="fit", argument="x", targets=True,
                 rng=None):
        self.model, self.what, self.argument, self.targets = model, what, argument, targets
        self.steps = steps
        self.shuffle = shuffle
        self.rng = rng if rng is not None else np.random.default_rng()
        self.class_weight = class_weight
        self.ran_out = False
        self._it, self._seen = None, 0
        if class_weight is not None and sample_weight is not None:
            raise ValueError(f"You cannot pass `class_weight` and `sample_weight` to "
                             f"`{what}` at the same time.")
        if class_weight is not None and len(model.output_names) > 1:
            raise ValueError("`class_weight` is only supported for Models with a single "
                             f"output; model `{model.name}` has {model.output_names}.")
        if _is_dataset(x) or _is_generator(x):
            for name, value in (("y", y), ("sample_weight", sample_weight)):
                if value is not None:
                    raise ValueError(f"Argument `{name}` of `{what}` must be None when `x` "
                                     f"is a generator or PyDataset (its batches hold the "
                                     f"targets and weights), got {type(value).__name__}.")
            self.source = x
            self.kind = "dataset" if _is_dataset(x) else "generator"
            self.num_batches = len(x) if self.kind == "dataset" else None
            if self.num_batches == 0:
                raise ValueError(f"Argument `{argument}` of `{what}` is a PyDataset with no "
                                 "batches (len 0).")
        else:
            self.kind = "arrays"
            self.xs = model._standardize_inputs(x, what)
            n = self.xs[0].shape[0]
            if n == 0:
                raise ValueError(f"Argument `x` of `{what}` has no samples (shape "
                                 f"{self.xs[0].shape}); expected at least one.")
            if targets:
                model._resolve_compile()
                self.ys = model._standardize_targets(y, n, what)
                self.sws = self._weights(sample_weight, self.ys, n)
            self.n, self.batch_size = n, batch_size
            self.num_batches = max(1, math.ceil(n / batch_size))

    @classmethod
    def from_arrays(cls, model, xs, ys, sws, batch_size, what="fit", shuffle=False, rng=None,
                    steps=None):
        """An iterator over already standardized arrays (e.g. a validation split)."""
        self = cls.__new__(cls)
        self.model, self.what, self.argument, self.targets = model, what, "x", True
        self.steps, self.shuffle, self.class_weight, self.ran_out = steps, shuffle, None, False
        self.rng = rng if rng is not None else np.random.default_rng()
        self._it, self._seen = None, 0
        self.kind, self.xs, self.ys, self.sws = "arrays", xs, ys, sws
        self.n, self.batch_size = xs[0].shape[0], batch_size
        self.num_batches = max(1, math.ceil(self.n / batch_size))
        return self

    def split(self, validation_split):
        """Keras 3's ``validation_split``: the last fraction of the arrays (before any
        shuffling) becomes a validation iterator; this one keeps the rest."""
        if self.kind != "arrays":
            raise ValueError("Argument `validation_split` of `fit` is only supported for "
                             f"arrays, not a {self.kind}; pass `validation_data` instead.")
        split = int(math.floor(self.n * (1 - validation_split)))
        if split == 0:
            raise ValueError(f"validation_split={validation_split} leaves no training "
                             "samples.")

        def part(arrays, sl):
            return [None if a is None else a[sl] for a in arrays]

        val = EpochIterator.from_arrays(self.model, part(self.xs, slice(split, None)),
                                        part(self.ys, slice(split, None)),
                                        part(self.sws, slice(split, None)), self.batch_size,
                                        self.what)
        self.xs, self.ys, self.sws = (part(self.xs, slice(None, split)),
                                      part(self.ys, slice(None, split)),
                                      part(self.sws, slice(None, split)))
        self.n = split
        self.num_batches = max(1, math.ceil(self.n / self.batch_size))
        return val

    # ------------------------------------------------------------------ batches
    def _weights(self, sample_weight, ys, n):
        names = self.model.output_names
        sws = standardize_sample_weights(sample_weight, names, n, self.what)
        if self.class_weight is not None and ys[0] is not None:
            from ..utils import class_weight_to_sample_weights
            sws = [class_weight_to_sample_weights(ys[0], self.class_weight)]
        return sws

    def _standardize(self, batch):
        from ..utils import unpack_x_y_sample_weight
        try:
            x, y, sw = unpack_x_y_sample_weight(batch)
        except ValueError as e:
            raise ValueError(f"The {self.kind} passed as argument `{self.argument}` of "
                             f"`{self.what}` yielded a batch of the wrong structure: {e}") \
                from None
        if x is None:
            raise ValueError(f"The {self.kind} passed as argument `{self.argument}` of "
                             f"`{self.what}` yielded a batch without inputs: {batch!r:.200}")
        xs = self.model._standardize_inputs(x, self.what)
        if not self.targets:
            return xs, None, None
        if y is None:
            raise ValueError(f"The {self.kind} passed as argument `{self.argument}` of "
                             f"`{self.what}` must yield `(x, y)` or `(x, y, sample_weight)` "
                             f"batches; got a batch with no targets ({type(batch).__name__}"
                             f"{'' if not isinstance(batch, (list, tuple)) else len(batch)}).")
        n = xs[0].shape[0]
        ys = self.model._standardize_targets(y, n, self.what)
        return xs, ys, self._weights(sw, ys, n)

    def _new_iter(self):
        if self.kind == "generator":
            return iter(self.source)
        if self.kind == "dataset":
            order = self.rng.permutation(self.num_batches) if self.shuffle else \
                range(self.num_batches)
            return (self._standardize(self.source[int(i)]) for i in order)
        return self._slices()

    def _slices(self):
        order = self.rng.permutation(self.n) if self.shuffle else None
        for s in range(0, self.n, self.batch_size):
            if order is None:
                idx = slice(s, s + self.batch_size)
                rows = _view_rows
            else:
                idx = order[s:s + self.batch_size]
                rows = _take_rows
            xs = [rows(a, idx) for a in self.xs]
            if not self.targets:
                yield xs, None, None
                continue
            yield (xs, [None if t is None else rows(t, idx) for t in self.ys],
                   [None if w is None else rows(w, idx) for w in self.sws])

    def _next(self, it):
        batch = next(it)
        return self._standardize(batch) if self.kind == "generator" else batch

    def epoch(self):
        """Yield this epoch's batches ``(xs, ys, sample_weights)``."""
        n = self.steps or self.num_batches or -1
        if n > 0:
            if self._it is None or self.steps is None:
                self._it, self._seen = self._new_iter(), 0
            for _ in range(n):
                if self.num_batches and self._seen >= self.num_batches:
                    if self.steps:  # Keras warns, and the epoch ends short
                        warnings.warn(RAN_OUT, UserWarning, stacklevel=3)
                    break
                self._seen += 1
                try:
                    batch = self._next(self._it)
                except StopIteration:
                    self._ran_out()
                    break
                yield batch
            if self.num_batches and self._seen >= self.num_batches:
                self._it, self._seen = self._new_iter(), 0
        else:
            it, seen = self._new_iter(), 0
            while True:
                try:
                    batch = self._next(it)
                except StopIteration:
                    break
                seen += 1
                yield batch
            if seen == 0:
                self._ran_out()
            else:
                self.num_batches = seen
                self._it, self._seen = None, 0
        if self.kind == "dataset":
            self.source.on_epoch_end()

    def _ran_out(self):
        self.ran_out = True
        self._it = None
        warnings.warn(RAN_OUT, UserWarning, stacklevel=4)


def _view_rows(a, rows):
    """a[rows] for a slice of rows."""
    return a[rows]


def _take_rows(a, rows):
    """a[rows] for an array of row indices: ``ndarray.take`` (the same copy, without
    fancy indexing's overhead) for a NumPy array."""
    return a.take(rows, axis=0) if type(a) is np.ndarray else a[rows]
