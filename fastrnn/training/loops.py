"""fit / evaluate / predict / *_on_batch: the loops over batches, with Keras 3's arguments
(sample and class weights, validation data with weights, generators and ``PyDataset``s,
``steps_per_epoch`` / ``validation_steps`` / ``validation_freq``, ``initial_epoch``).

The per-batch steps (``_train_step``, ``_test_step``) live in ``trainer.py``; batching and
Keras's epoch rules for generators in ``data.py``.
"""
import numpy as np

from .. import _validation as V
from . import infer_plan
from .data import EpochIterator, check_steps, is_batch_source
from .progbar import Progbar

__all__ = ["Loops"]


def _batch_size(batch_size):
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise V.invalid("batch_size", "a positive integer", batch_size)
    return int(batch_size)


def _verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise V.invalid("verbose", "'auto', 0, 1 or 2", verbose)
    return int(verbose)


def _is_dask(x):
    import sys
    if "dask.array" not in sys.modules:  # plain NumPy prediction never imports dask
        return False
    import dask.array as da
    items = x if isinstance(x, (list, tuple)) else [x]
    return bool(items) and all(isinstance(v, da.Array) for v in items)


def _validation_iterator(model, validation_data, batch_size, steps):
    """An EpochIterator for ``validation_data``: ``(x, y)``, ``(x, y, sample_weight)``, a
    generator or a PyDataset."""
    if is_batch_source(validation_data):
        return EpochIterator(model, validation_data, batch_size=batch_size, steps=steps,
                             what="fit", argument="validation_data")
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        got = type(validation_data).__name__
        if isinstance(validation_data, (tuple, list)):
            got += f" of {len(validation_data)}"
        raise ValueError("Argument `validation_data` of `fit` must be a tuple (x_val, y_val) "
                         "or (x_val, y_val, val_sample_weight), a generator or a PyDataset, "
                         f"got a {got}.")
    x, y = validation_data[:2]
    sw = validation_data[2] if len(validation_data) == 3 else None
    return EpochIterator(model, x, y, sw, batch_size=batch_size, steps=steps, what="fit",
                         argument="validation_data")


class Loops:
    """Mixed into Trainer (which supplies the steps, logs and compile state)."""

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on (x, y) (weighted by ``sample_weight`` ``(batch,)`` or
        ``class_weight`` ``{class: weight}``); returns that batch's loss (and metrics),
        computed before the update, regularization penalties included, as Keras 3 does."""
        self._require_compiled("train_on_batch")
        if sample_weight is None and class_weight is None:
            plan = self._validated_plan(x, y)
            if plan is not None:  # x and y as a general step already validated them
                self.stop_training = False
                plan.reset_metrics()
                plan.step([x], [y], [None], "train_on_batch", 3)
                return plan.logs(return_dict)
        it = EpochIterator(self, x, y, sample_weight, batch_size=1 << 62,
                           class_weight=class_weight, what="train_on_batch")
        xs, ys, sws = next(iter(it.epoch()))
        self.stop_training = False
        self.reset_metrics()
        self._train_step(xs, ys, "train_on_batch", sws)
        return self._return(self._logs(), return_dict)

    def _validated_plan(self, x, y):
        """The training plan for one input and one output array whose dtypes and
        shapes a general step already validated (and that standardizing would return
        as they are), else None."""
        plans = self.__dict__.get("_train_plans")
        if (plans is None or not self.use_train_plans
                or type(x) is not np.ndarray or type(y) is not np.ndarray
                or len(self.inputs) != 1 or len(self.outputs) != 1
                or not (x.dtype.isnative and y.dtype.isnative)):
            return None
        xd, yd, xs, ys = x.dtype, y.dtype, x.shape, y.shape
        last = self.__dict__.get("_last_train_plan")  # (dtypes, shapes, plan) last time
        if last is not None and last[0] is xd and last[1] is yd and last[2] == xs \
                and last[3] == ys and last[4].valid():
            return last[4]
        sig = (((xd, xs),), ((yd, ys),), (None,))
        plan = plans.get(sig)
        if plan is False:  # no plan covers this model (e.g. activity regularizers)
            return None
        if plan is None and sig in plans["seen"] or plan is not None and not plan.valid():
            plan = self._train_plan(sig)
        if plan is not None:
            self._last_train_plan = (xd, yd, xs, ys, plan)
        return plan

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        it = EpochIterator(self, x, y, sample_weight, batch_size=1 << 62, what="test_on_batch")
        xs, ys, sws = next(iter(it.epoch()))
        self.reset_metrics()
        self._test_step(xs, ys, sws)
        return self._return(self._logs(), return_dict)

    def predict_on_batch(self, x):
        """The outputs for one batch (a list for several outputs)."""
        plan = infer_plan.plan_for(self, x)
        if plan is not None:  # a chain, for an input a general call accepted
            return self._pack_outputs([plan.run(x)])
        out = self._pack_outputs(self._run(self._standardize_inputs(x, "predict_on_batch")))
        infer_plan.seen(self, x)
        return out

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics over (x, y) (or a generator / PyDataset of batches, ``steps``
        of them or until exhausted), averaged per sample over batches of ``batch_size``."""
        self._require_compiled("evaluate")
        for key in kwargs:
            raise TypeError(f"evaluate() got an unexpected keyword argument `{key}`.")
        it = EpochIterator(self, x, y, sample_weight, batch_size=_batch_size(batch_size),
                           steps=check_steps(steps, "steps"), what="evaluate")
        from ..callbacks import CallbackList
        cbs = CallbackList(callbacks, model=self)
        cbs.on_test_begin()  # Keras 3: the test hooks around evaluation (e.g. TensorBoard)
        logs = self._evaluate(it, _verbosity(verbose))
        cbs.on_test_end(logs)
        return self._return(logs, return_dict)

    def _evaluate(self, it, verbose, prefix=""):
        self.reset_metrics()
        bar = Progbar(it.steps or it.num_batches, verbose)
        for i, (xs, ys, sws) in enumerate(it.epoch()):
            self._test_step(xs, ys, sws)
            bar.update(i + 1, self._logs())
        bar.end()
        return self._logs(prefix)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for ``x`` computed in batches of ``batch_size`` (default 32), or for the
        batches of a generator / PyDataset (their inputs; targets ignored); a list of
        arrays when the model has several outputs. A ``dask.array.Array`` (or a list of
        them) chunked along the batch axis gives lazy dask arrays, computed chunk by chunk
        on the workers (``fastrnn.interop.dask.predict``)."""
        if _is_dask(x):
            from ..interop import dask as fdask
            return fdask.predict(self, x, batch_size=batch_size)
        it = EpochIterator(self, x, batch_size=_batch_size(batch_size),
                           steps=check_steps(steps, "steps"), what="predict", targets=False)
        bar = Progbar(it.steps or it.num_batches, _verbosity(verbose))
        parts = []
        for i, (xs, _, _) in enumerate(it.epoch()):
            parts.append(self._run(xs))
            bar.update(i + 1)
        bar.end()
        if not parts:
            raise ValueError("Argument `x` of `predict` gave no batches (an exhausted "
                             "generator?).")
        outs = [np.concatenate([p[k] for p in parts], axis=0) for k in range(len(parts[0]))]
        return self._pack_outputs(outs)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None,
            validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` epochs; returns a ``History`` (Keras 3 semantics).

        Args:
            x, y: arrays (one per input / output, or dicts by name), or ``x`` a Python
                generator or ``fastrnn.utils.PyDataset`` yielding ``(x, y)`` or
                ``(x, y, sample_weight)`` batches (then ``y`` is None).
            sample_weight: ``(samples,)`` weights (or one per output); class_weight:
                ``{class index: weight}`` for a single output (not both).
            validation_split: the last fraction of the arrays, taken before shuffling.
            validation_data: ``(x, y)``, ``(x, y, sample_weight)``, a generator or a
                PyDataset; evaluated every ``validation_freq`` epochs (an int, or a list of
                1-based epoch numbers), over ``validation_steps`` batches when given.
            steps_per_epoch: batches per epoch (the data carries on across epochs).
            initial_epoch: the epoch to start from (history and callbacks count from it).

        Raises:
            ValueError: bad arguments, each named (sample weights of the wrong length,
                class weights for unknown classes, a generator that yields the wrong
                structure, ...).
        """
        from ..callbacks import CallbackList
        self._require_compiled("fit")
        steps_per_epoch = check_steps(steps_per_epoch, "steps_per_epoch")
        validation_steps = check_steps(validation_steps, "validation_steps")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise V.invalid("epochs", "a non-negative integer", epochs)
        if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, (int, np.integer)) \
                or initial_epoch < 0:
            raise V.invalid("initial_epoch", "a non-negative integer", initial_epoch)
        freq = self._validation_freq(validation_freq)
        batch_size = _batch_size(batch_size)
        val_batch = _batch_size(validation_batch_size or batch_size)
        if isinstance(validation_split, bool) or not isinstance(validation_split, (int, float)) \
                or not 0 <= validation_split < 1:
            raise V.invalid("validation_split", "a float in [0, 1)", validation_split)
        if shuffle not in (True, False, "batch"):
            raise V.invalid("shuffle", "a bool", shuffle)
        train = EpochIterator(self, x, y, sample_weight, batch_size=batch_size,
                              steps=steps_per_epoch, shuffle=bool(shuffle),
                              class_weight=class_weight, what="fit", rng=self._rng)
        val = None
        if validation_data is not None:
            val = _validation_iterator(self, validation_data, val_batch, validation_steps)
        elif validation_split:
            val = train.split(validation_split)
            val.batch_size = val_batch
            val.num_batches = -(-val.n // val_batch)
        verbose = _verbosity(verbose)
        cbs = CallbackList(callbacks, add_history=True, model=self, verbose=verbose,
                           epochs=epochs, steps=steps_per_epoch or train.num_batches)
        history = cbs.history
        # the per-batch hooks and logs only when a callback or the bar reads them
        batch_begin = cbs.wants("on_train_batch_begin")
        batch_end = cbs.wants("on_train_batch_end")
        batch_logs = batch_end or verbose == 1
        self.stop_training = False
        cbs.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
            bar = Progbar(steps_per_epoch or train.num_batches, verbose)
            step = -1
            for step, (xs, ys, sws) in enumerate(train.epoch()):
                if batch_begin:
                    cbs.on_train_batch_begin(step)
                if not self._train_step(xs, ys, (epoch + 1, step + 1), sws):
                    break
                if batch_logs:
                    logs = self._logs()
                    if batch_end:
                        cbs.on_train_batch_end(step, logs)
                    bar.update(step + 1, logs)
                else:
                    bar.update(step + 1)
            if step < 0 and epoch == initial_epoch:
                raise ValueError("Argument `x` of `fit` gave no batches in the first epoch "
                                 "(an exhausted generator?).")
            if self._loss_tracker.count == 0:  # nothing ran: out of data, or NaN at once
                break
            logs = self._logs()
            if val is not None and freq(epoch):
                cbs.on_test_begin()  # as Keras 3's fit, which validates with evaluate()
                val_logs = self._evaluate(val, 0)
                cbs.on_test_end(val_logs)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            bar.end(logs)
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training or train.ran_out:
                break
        cbs.on_train_end()
        self.history = history
        return history

    @staticmethod
    def _validation_freq(validation_freq):
        if isinstance(validation_freq, (list, tuple, set)):
            wanted = set(validation_freq)
            return lambda epoch: epoch + 1 in wanted
        if isinstance(validation_freq, bool) or \
                not isinstance(validation_freq, (int, np.integer)) or validation_freq < 1:
            raise V.invalid("validation_freq", "a positive integer or a list of epochs",
                            validation_freq)
        return lambda epoch: (epoch + 1) % validation_freq == 0

