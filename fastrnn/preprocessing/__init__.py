"""Keras 2 import paths kept working: ``fastrnn.preprocessing.sequence.pad_sequences``,
``fastrnn.preprocessing.text.Tokenizer``."""
from . import sequence, text
from ..utils.timeseries import timeseries_dataset_from_array

__all__ = ["sequence", "text", "timeseries_dataset_from_array"]
