"""Keras 2 import paths kept working: ``fastrnn.preprocessing.sequence.pad_sequences``."""
from . import sequence
from ..utils.timeseries import timeseries_dataset_from_array

__all__ = ["sequence", "timeseries_dataset_from_array"]
