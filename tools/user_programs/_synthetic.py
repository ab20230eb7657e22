"""Synthetic stand-ins for datasets that the user programs download (no network here).

Each function returns arrays of the same structure, dtype and per-sample shape as the Keras
loader it replaces (fewer samples, so a run stays short). Deterministic: the same call gives the
same arrays under fastrnn and under Keras, so the two runs can be compared.
"""
import numpy as np


def imdb_load_data(num_words=10000, n_train=2000, n_test=1000, seed=0, max_len=600):
    """Like keras.datasets.imdb.load_data(num_words=...): lists of word ids (1 = start, ids < num_words), labels 0/1."""
    rng = np.random.default_rng(seed)

    def make(n):
        xs = np.empty(n, dtype=object)
        for i in range(n):
            length = int(rng.integers(10, max_len))
            xs[i] = [1] + rng.integers(2, num_words, length - 1).tolist()
        ys = rng.integers(0, 2, n).astype(np.int64)
        return xs, ys

    return make(n_train), make(n_test)


def mnist_load_data(n_train=512, n_test=128, seed=0):
    """Like keras.datasets.mnist.load_data(): uint8 images (n, 28, 28), uint8 labels (n,)."""
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (n_train, 28, 28)).astype(np.uint8)
    y_train = rng.integers(0, 10, n_train).astype(np.uint8)
    x_test = rng.integers(0, 256, (n_test, 28, 28)).astype(np.uint8)
    y_test = rng.integers(0, 10, n_test).astype(np.uint8)
    return (x_train, y_train), (x_test, y_test)


def sunspots_csv(path, n_months=2820, seed=0):
    """Writes a file shaped like jbrownlee's monthly-sunspots.csv ("Month","Sunspots"), returns path."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_months)
    values = np.abs(80 * np.sin(2 * np.pi * t / 132.0) + 60 + rng.normal(0, 15, n_months))
    with open(path, "w") as f:
        f.write('"Month","Sunspots"\n')
        for i, v in enumerate(values):
            f.write('"%04d-%02d",%.1f\n' % (1749 + i // 12, i % 12 + 1, v))
    return path


def brown_tagged_sents(n_sents=3000, n_words=3000, seed=0):
    """Like nltk.corpus.brown.tagged_sents(tagset='universal'): sentences as lists of (word, tag) pairs.

    Each word has one fixed tag, so a tagger can learn the mapping.
    """
    rng = np.random.default_rng(seed)
    tags = ['ADV', 'NOUN', 'ADP', 'PRON', 'DET', '.', 'PRT', 'VERB', 'X', 'NUM', 'CONJ', 'ADJ']
    words = ["W%d" % i for i in range(n_words)]
    word_tag = {w: tags[int(rng.integers(len(tags)))] for w in words}
    zipf = 1.0 / np.arange(1, n_words + 1)
    zipf /= zipf.sum()
    sents = []
    for _ in range(n_sents):
        length = int(rng.integers(3, 40))
        ws = rng.choice(n_words, length, p=zipf)
        sents.append([(words[i], word_tag[words[i]]) for i in ws])
    return sents
