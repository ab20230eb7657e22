"""Keras 2's text preprocessing (``keras.preprocessing.text``, tf_keras 2.x; removed in
Keras 3): ``Tokenizer``, ``tokenizer_from_json``, ``text_to_word_sequence``, ``one_hot``,
``hashing_trick``. Outputs are Keras 2's exactly (tests compare with fixtures written by
tf_keras 2.21: word order, indices, matrices, JSON).

Indices start at 1 (0 is left for padding); the ``oov_token``, when given, is index 1;
then words by decreasing count, ties in order of first appearance.
"""
import collections
import hashlib
import json
import numbers
import warnings

import numpy as np

__all__ = ["Tokenizer", "tokenizer_from_json", "text_to_word_sequence", "one_hot",
           "hashing_trick"]

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(input_text, filters=FILTERS, lower=True, split=" "):
    """Split a text into words: lower-cased (``lower``), every character of ``filters``
    turned into ``split``, split on ``split``, empty pieces dropped.

    Example:
        >>> text_to_word_sequence("The cat, the HAT.")
        ['the', 'cat', 'the', 'hat']
    """
    if not isinstance(input_text, str):
        raise ValueError("Received an invalid value for argument `input_text`, expected a "
                         f"str, got {type(input_text).__name__}.")
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [w for w in input_text.split(split) if w]


def hashing_trick(text, n, hash_function=None, filters=FILTERS, lower=True, split=" ",
                  analyzer=None):
    """Each word of ``text`` as ``hash_function(word) % (n - 1) + 1``, an index in
    ``[1, n)``. ``hash_function``: None (Python's ``hash``, which changes between
    processes unless PYTHONHASHSEED is set), ``"md5"`` (stable) or a function of a str.

    Raises:
        ValueError: ``n`` not an integer >= 2.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"Received an invalid value for argument `n`, expected an integer "
                         f">= 2 (the size of the index space), got {n!r}.")
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        def hash_function(word):
            return int(hashlib.md5(word.encode()).hexdigest(), 16)
    words = (analyzer(text) if analyzer is not None else
             text_to_word_sequence(text, filters=filters, lower=lower, split=split))
    return [hash_function(w) % (n - 1) + 1 for w in words]


def one_hot(input_text, n, filters=FILTERS, lower=True, split=" ", analyzer=None):
    """``hashing_trick`` with Python's ``hash`` (Keras 2: an index per word, not a
    one-hot array)."""
    return hashing_trick(input_text, n, hash_function=hash, filters=filters, lower=lower,
                         split=split, analyzer=analyzer)


class Tokenizer:
    """Keras 2's text tokenizer: builds a word index, then turns texts into sequences of
    indices or into ``(texts, num_words)`` matrices.

    Args:
        num_words: keep only words of index < num_words in outputs (None: all).
        filters, lower, split: as ``text_to_word_sequence``.
        char_level: every character is a token.
        oov_token: a token given index 1, used for words not in the index.
        analyzer: a function text -> list of tokens, instead of the splitting rules.

    Attributes (after ``fit_on_texts``):
        word_counts: ``OrderedDict`` word -> count, in order of first appearance.
        word_docs: word -> number of texts it occurs in.
        word_index / index_word: word -> index and back (all words, whatever num_words).
        index_docs: index -> number of texts; document_count: texts seen.
    """

    def __init__(self, num_words=None, filters=FILTERS, lower=True, split=" ",
                 char_level=False, oov_token=None, analyzer=None, **kwargs):
        if "nb_words" in kwargs:
            warnings.warn("The `nb_words` argument in `Tokenizer` has been renamed "
                          "`num_words`.")
            num_words = kwargs.pop("nb_words")
        document_count = kwargs.pop("document_count", 0)
        if kwargs:
            raise TypeError("Unrecognized keyword arguments: " + str(kwargs))
        if num_words is not None and (isinstance(num_words, bool) or
                                      not isinstance(num_words, numbers.Integral) or
                                      num_words < 0):
            raise ValueError("Received an invalid value for argument `num_words`, expected "
                             f"None or a non-negative integer, got {num_words!r}.")
        self.num_words = num_words
        self.filters, self.lower, self.split = filters, lower, split
        self.char_level, self.oov_token, self.analyzer = char_level, oov_token, analyzer
        self.document_count = document_count
        self.word_counts = collections.OrderedDict()
        self.word_docs = collections.defaultdict(int)
        self.index_docs = collections.defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    def __repr__(self):
        return f"<Tokenizer num_words={self.num_words}, words={len(self.word_index)}>"

    def _tokens(self, text):
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, filters=self.filters, lower=self.lower,
                                     split=self.split)

    def fit_on_texts(self, texts):
        """Count the words of ``texts`` (strings, or lists of tokens) and rebuild the index.

        Raises:
            ValueError: ``texts`` is a single string (Keras would count its characters).
        """
        if isinstance(texts, str):
            raise ValueError("Received an invalid value for argument `texts` of "
                             "`fit_on_texts`, expected a list of texts, got one str.")
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for w in tokens:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            for w in set(tokens):
                self.word_docs[w] += 1
        # stable sort: ties keep the order of first appearance
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        vocab = ([] if self.oov_token is None else [self.oov_token]) + [w for w, _ in ranked]
        self.word_index = {w: i for i, w in enumerate(vocab, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, c in list(self.word_docs.items()):
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences):
        """Count, for ``sequences_to_matrix(mode="tfidf")``, the sequences each index is in."""
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences_generator(self, texts):
        """``texts_to_sequences``, one list at a time."""
        oov = self.word_index.get(self.oov_token)
        for text in texts:
            seq = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is not None and not (self.num_words and i >= self.num_words):
                    seq.append(i)
                elif self.oov_token is not None:
                    seq.append(oov)
            yield seq

    def texts_to_sequences(self, texts):
        """Each text as a list of word indices; words out of the index (or of index >=
        num_words) become the oov_token's index, or are dropped without one."""
        if isinstance(texts, str):
            raise ValueError("Received an invalid value for argument `texts` of "
                             "`texts_to_sequences`, expected a list of texts, got one str.")
        return list(self.texts_to_sequences_generator(texts))

    def sequences_to_texts_generator(self, sequences):
        """``sequences_to_texts``, one string at a time."""
        oov = self.word_index.get(self.oov_token)
        for seq in sequences:
            words = []
            for i in seq:
                w = self.index_word.get(i)
                if w is not None and not (self.num_words and i >= self.num_words):
                    words.append(w)
                elif self.oov_token is not None:
                    words.append(self.index_word[oov])
            yield " ".join(words)

    def sequences_to_texts(self, sequences):
        """Each sequence of indices as its words joined by spaces (as texts_to_sequences
        treats unknown and out-of-num_words indices)."""
        return list(self.sequences_to_texts_generator(sequences))

    def texts_to_matrix(self, texts, mode="binary"):
        """``sequences_to_matrix(texts_to_sequences(texts), mode)``."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """A float64 ``(len(sequences), num_words)`` matrix (``len(word_index) + 1`` columns
        without num_words). ``mode``: "binary" (1 if present), "count", "freq" (count /
        sequence length) or "tfidf" (``(1 + log count) * log(1 + docs / (1 + docs of
        index))``, Wikipedia's weighting scheme 2, as Keras 2).

        Raises:
            ValueError: unknown mode; no num_words and no fitted index; tfidf before fitting.
        """
        if mode not in MODES:
            raise ValueError(f"Received an invalid value for argument `mode`, expected one of "
                             f"{MODES}, got {mode!r}.")
        num_words = self.num_words
        if not num_words:
            if not self.word_index:
                raise ValueError("Specify a dimension (`num_words` argument), or fit on "
                                 "some text data first.")
            num_words = len(self.word_index) + 1
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        x = np.zeros((len(sequences), num_words))
        for row, seq in enumerate(sequences):
            if not seq:
                continue
            counts = collections.Counter(j for j in seq if j < num_words)
            for j, c in counts.items():
                if mode == "count":
                    x[row, j] = c
                elif mode == "freq":
                    x[row, j] = c / len(seq)
                elif mode == "binary":
                    x[row, j] = 1
                else:
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[row, j] = (1 + np.log(c)) * idf
        return x

    def get_config(self):
        """Keras 2's config: the arguments, and the counts and indices as JSON strings."""
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower,
                "split": self.split, "char_level": self.char_level,
                "oov_token": self.oov_token, "document_count": self.document_count,
                "word_counts": json.dumps(self.word_counts),
                "word_docs": json.dumps(self.word_docs),
                "index_docs": json.dumps(self.index_docs),
                "index_word": json.dumps(self.index_word),
                "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs):
        """``{"class_name": "Tokenizer", "config": get_config()}`` as a JSON string
        (``kwargs`` go to ``json.dumps``)."""
        return json.dumps({"class_name": type(self).__name__, "config": self.get_config()},
                          **kwargs)


def tokenizer_from_json(json_string):
    """A ``Tokenizer`` from ``Tokenizer.to_json()`` (also Keras 2's); only reads JSON.

    Raises:
        ValueError: not a tokenizer's JSON.
    """
    try:
        config = dict(json.loads(json_string)["config"])
        loaded = {k: json.loads(config.pop(k)) for k in
                  ("word_counts", "word_docs", "index_docs", "index_word", "word_index")}
        tokenizer = Tokenizer(**config)
    except (TypeError, KeyError, ValueError) as e:
        raise ValueError("Received an invalid value for argument `json_string`, expected the "
                         f"JSON of Tokenizer.to_json(): {e}") from None
    tokenizer.word_counts = collections.OrderedDict(loaded["word_counts"])
    tokenizer.word_docs = collections.defaultdict(int, loaded["word_docs"])
    tokenizer.index_docs = collections.defaultdict(
        int, {int(k): v for k, v in loaded["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in loaded["index_word"].items()}
    tokenizer.word_index = loaded["word_index"]
    return tokenizer
