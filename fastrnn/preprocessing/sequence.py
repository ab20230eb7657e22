"""``keras.preprocessing.sequence``: ``pad_sequences`` (the same function as in utils)."""
from ..utils.sequence import pad_sequences
from ..utils.timeseries import timeseries_dataset_from_array

__all__ = ["pad_sequences", "timeseries_dataset_from_array"]
