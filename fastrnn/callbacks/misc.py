"""Small callbacks of Keras 3: ``LearningRateScheduler``, ``CSVLogger``,
``TerminateOnNaN`` and ``LambdaCallback``."""
import collections
import csv
import math
import os

import numpy as np

from .base import Callback

__all__ = ["LearningRateScheduler", "CSVLogger", "TerminateOnNaN", "LambdaCallback"]


class LearningRateScheduler(Callback):
    """Set ``model.optimizer.learning_rate = schedule(epoch, lr)`` at each epoch start.

    ``schedule`` takes ``(epoch, lr)`` (``epoch`` from 0, ``lr`` the current rate as a
    float) or, if that raises TypeError, just ``(epoch)`` (the Keras 2 form). At each epoch
    end ``logs["learning_rate"]`` is set.

    Args:
        schedule: the function.
        verbose: 1 prints the new rate.

    Raises:
        ValueError: ``schedule`` is not callable, or returns something that is not a float
            (Python, numpy float32 or float64 — Keras's rule: an int is refused).
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError("Received an invalid value for argument `schedule` of "
                             f"LearningRateScheduler, expected a function, got {schedule!r}.")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            lr = self.schedule(epoch, float(optimizer.learning_rate))
        except TypeError:
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {lr}")
        optimizer.learning_rate = lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """Write one CSV row per epoch: ``epoch`` then the sorted keys of the logs.

    As Keras 3: the keys are fixed at the first epoch (and ``val_`` copies of them are
    added when none is present; missing values are written ``NA``); with ``append`` the
    header is written only if the file is empty or absent.

    Args:
        filename: path of the CSV file.
        separator: the field delimiter.
        append: append to an existing file instead of overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}

        def handle_value(k):
            zero_dim = isinstance(k, np.ndarray) and k.ndim == 0
            if isinstance(k, str):
                return k
            if isinstance(k, collections.abc.Iterable) and not zero_dim:
                return f'"[{", ".join(map(str, k))}]"'
            return k

        if self.keys is None:
            self.keys = sorted(logs.keys())
            if not any(k.startswith("val_") for k in self.keys) and self.keys:
                self.keys.extend([f"val_{k}" for k in self.keys])
        if not self.writer:
            class CustomDialect(csv.excel):
                delimiter = self.sep
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=CustomDialect)
            if self.append_header:
                self.writer.writeheader()
        row = collections.OrderedDict({"epoch": epoch})
        row.update((key, handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


class TerminateOnNaN(Callback):
    """Stop training (``model.stop_training = True``) when a batch's ``logs["loss"]`` is
    NaN or infinite; with ``raise_error=True`` raise RuntimeError instead."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. "
                                   f"Loss value: {loss}. Terminating training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)``,
    ``on_train_batch_begin(batch, logs)``, ``on_train_batch_end(batch, logs)``; other
    keyword arguments become attributes (Keras 3 also accepts e.g. ``on_batch_end`` so).

    Raises:
        ValueError: a hook that is given but not callable.
    """

    _HOOK_NAMES = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
                   "on_train_batch_begin", "on_train_batch_end")

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for name, fn in {**hooks, **kwargs}.items():
            if name.startswith("on_") and fn is not None and not callable(fn):
                raise ValueError(f"Received an invalid value for argument `{name}` of "
                                 f"LambdaCallback, expected a function, got {fn!r}.")
        self.__dict__.update(kwargs)
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
