"""Keras's ``keras.utils`` toolbox (NumPy forms), seeding and small shared helpers."""
import re

import numpy as np

from .class_weight import class_weight_to_sample_weights
from .data import pack_x_y_sample_weight, unpack_x_y_sample_weight
from .file_utils import get_file
from .numerical import normalize, to_categorical
from .py_dataset import PyDataset, Sequence
from .sequence import pad_sequences
from .timeseries import timeseries_dataset_from_array

__all__ = ["set_random_seed", "to_categorical", "normalize", "pad_sequences",
           "timeseries_dataset_from_array", "PyDataset", "Sequence",
           "class_weight_to_sample_weights", "pack_x_y_sample_weight",
           "unpack_x_y_sample_weight", "get_file"]

_global = {"rng": np.random.default_rng()}
_name_counts = {}


def set_random_seed(seed):
    """Seed fastrnn's global generator (weight initialisation and dropout),
    and NumPy's legacy one, like ``keras.utils.set_random_seed``."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError("Received an invalid value for argument `seed`, expected a "
                         f"non-negative integer, got {seed!r}.")
    _global["rng"] = np.random.default_rng(int(seed))
    np.random.seed(int(seed) % 2**32)


def make_rng(seed=None):
    """A generator for one layer: its own if ``seed`` is given, else one drawn
    from the global generator (so set_random_seed makes whole models reproducible)."""
    if seed is None:
        return np.random.default_rng(_global["rng"].integers(2**63))
    if isinstance(seed, np.random.Generator):
        return seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError("Received an invalid value for argument `seed`, expected a "
                         f"non-negative integer or None, got {seed!r}.")
    return np.random.default_rng(int(seed))


def snake_case(name):
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def unique_name(base):
    """'simple_rnn', then 'simple_rnn_1', ... as Keras names layers and models."""
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"
