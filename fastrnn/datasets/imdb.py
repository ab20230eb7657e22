"""The IMDB movie-review sentiment dataset, as ``keras.datasets.imdb``."""
import json
import numbers

import numpy as np

from ..utils.file_utils import get_file

from ._npz import load_npz

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

__all__ = ["load_data", "get_word_index"]


def _opt_int(name, value, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"Received an invalid value for argument `{name}` of "
                         f"imdb.load_data, expected an integer{' or None' if allow_none else ''}"
                         f", got {value!r}.")
    return int(value)


def _check_reviews(name, array):
    if array.ndim != 1 or not all(isinstance(x, (list, np.ndarray)) for x in array):
        raise ValueError(f"The IMDB file's `{name}` is not a list of word-index sequences.")


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Load the IMDB reviews (25,000 train, 25,000 test) as Keras 3 does.

    Reads ``imdb.npz`` from Keras's cache folder (``$KERAS_HOME`` or ``~/.keras``, then
    ``datasets/``), downloading it from Keras's public URL when absent. Processing, in
    Keras's order: shuffle train and test with ``np.random.RandomState(seed)`` (train
    first); prepend ``start_char`` and add ``index_from`` to every index; drop reviews of
    length ``>= maxlen``; words ``w`` outside ``skip_top <= w < num_words`` become
    ``oov_char`` (or are dropped when ``oov_char`` is None).

    Args:
        path: file name in the cache folder (or the path of an existing file).
        num_words: keep the ``num_words - 1`` most frequent indices (None: all).
        skip_top: also turn the ``skip_top`` most frequent indices into ``oov_char``.
        maxlen: keep only reviews shorter than this (None: all).
        seed: shuffling seed.
        start_char, oov_char, index_from: as described above.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: ``x`` object arrays of Python lists of
        int (one per review), ``y`` the 0/1 labels as stored (int64).

    Raises:
        ValueError: invalid arguments, an unexpected keyword (Keras's ``nb_words`` is gone),
            ``maxlen`` removing every review, a malformed file.
        OSError: the file is absent and cannot be downloaded.
        pickle.UnpicklingError: the file holds anything but arrays (it is never executed).
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}.")
    num_words = _opt_int("num_words", num_words)
    skip_top = _opt_int("skip_top", skip_top, allow_none=False)
    maxlen = _opt_int("maxlen", maxlen)
    start_char = _opt_int("start_char", start_char)
    oov_char = _opt_int("oov_char", oov_char)
    index_from = _opt_int("index_from", index_from, allow_none=False)
    path = get_file(path, origin=f"{ORIGIN}imdb.npz",
                    file_hash="69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f")
    f = load_npz(path)
    try:
        x_train, labels_train = f["x_train"], f["y_train"]
        x_test, labels_test = f["x_test"], f["y_test"]
    except KeyError as e:
        raise ValueError(f"The IMDB file {path} has no array {e}.") from None
    _check_reviews("x_train", x_train)
    _check_reviews("x_test", x_test)
    if len(x_train) != len(labels_train) or len(x_test) != len(labels_test):
        raise ValueError(f"The IMDB file {path} has reviews and labels of different lengths.")
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    if start_char is not None:
        x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
        x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
    elif index_from:
        x_train = [[w + index_from for w in x] for x in x_train]
        x_test = [[w + index_from for w in x] for x in x_test]
    else:
        x_train = [list(x) for x in x_train]
        x_test = [list(x) for x in x_test]

    if maxlen:
        x_train, labels_train = _remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = _remove_long_seq(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             "sequence was kept. Increase maxlen.")
    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    if not num_words:
        num_words = max(max(x) for x in xs if x) if any(xs) else 0
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    idx = len(x_train)
    x_train, y_train = _object_array(xs[:idx]), labels[:idx]
    x_test, y_test = _object_array(xs[idx:]), labels[idx:]
    return (x_train, y_train), (x_test, y_test)


def _object_array(lists):
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


def _remove_long_seq(maxlen, seq, label):
    new_seq, new_label = [], []
    for x, y in zip(seq, label):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, np.asarray(new_label, dtype=np.asarray(label).dtype)


def get_word_index(path="imdb_word_index.json"):
    """The word -> index dictionary of the IMDB dataset (indices before ``index_from`` is
    added), from Keras's cache folder or Keras's public URL.

    Raises:
        ValueError: the file is not a JSON object of str -> int.
        OSError: the file is absent and cannot be downloaded.
    """
    path = get_file(path, origin=f"{ORIGIN}imdb_word_index.json",
                    file_hash="bfafd718b763782e994055a2d397834f")
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict) or not all(
            isinstance(k, str) and isinstance(v, int) for k, v in index.items()):
        raise ValueError(f"The IMDB word index {path} is not a JSON object of word -> int.")
    return index
