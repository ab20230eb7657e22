"""fastrnn.datasets: Keras's load_data processing on small files in Keras's format, the
cache folder, safe loading, and clear errors when offline. No test touches the network."""
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from pure_modules import load

(datasets,) = load("datasets")
imdb, mnist = datasets.imdb, datasets.mnist


def _object_array(lists):
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


TRAIN = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [2, 2]]
TEST = [[9, 1], [3, 3, 3, 3, 3], [5]]


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    folder = tmp_path / "datasets"
    folder.mkdir()
    np.savez(folder / "imdb.npz", x_train=_object_array(TRAIN), y_train=np.array([0, 1, 1, 0]),
             x_test=_object_array(TEST), y_test=np.array([1, 0, 1]))
    (folder / "imdb_word_index.json").write_text(json.dumps({"the": 1, "movie": 2}))
    rng = np.random.default_rng(0)
    np.savez(folder / "mnist.npz",
             x_train=rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
             y_train=np.arange(5, dtype=np.uint8),
             x_test=rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
             y_test=np.arange(2, dtype=np.uint8))
    return folder


def _keras_order(n, rng):
    idx = np.arange(n)
    rng.shuffle(idx)
    return idx


def test_imdb_load_data_follows_keras_processing(keras_home):
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    rng = np.random.RandomState(113)
    tr, te = _keras_order(4, rng), _keras_order(3, rng)
    # Keras's quirk kept: num_words=None becomes the largest index, and `w < num_words`
    # then turns that largest index (here 9 + 3) into oov_char
    def expected(seqs, order):
        return [[w if w < 12 else 2 for w in [1] + [w + 3 for w in seqs[i]]] for i in order]

    assert [list(x) for x in x_train] == expected(TRAIN, tr)
    assert [list(x) for x in x_test] == expected(TEST, te)
    assert y_train.tolist() == [[0, 1, 1, 0][i] for i in tr]
    assert y_test.tolist() == [[1, 0, 1][i] for i in te]
    assert x_train.dtype == object and x_train.shape == (4,)


def test_imdb_num_words_skip_top_maxlen_oov(keras_home):
    (x_train, y_train), (x_test, _) = imdb.load_data(num_words=8, skip_top=2, maxlen=4,
                                                     seed=1, index_from=0, start_char=1,
                                                     oov_char=0)
    rng = np.random.RandomState(1)
    tr, te = _keras_order(4, rng), _keras_order(3, rng)

    def expected(seqs, order):
        out = []
        for i in order:
            x = [1] + seqs[i]
            if len(x) < 4:
                out.append([w if 2 <= w < 8 else 0 for w in x])
        return out

    assert [list(x) for x in x_train] == expected(TRAIN, tr)
    assert [list(x) for x in x_test] == expected(TEST, te)
    assert len(y_train) == len(x_train)
    (x_train, _), _ = imdb.load_data(num_words=6, oov_char=None, start_char=None,
                                     index_from=0, seed=0)
    assert all(all(w < 6 for w in x) for x in x_train)


def test_imdb_errors(keras_home):
    with pytest.raises(ValueError, match="maxlen=1"):
        imdb.load_data(maxlen=1)
    with pytest.raises(ValueError, match="`num_words`"):
        imdb.load_data(num_words="all")
    with pytest.raises(TypeError, match="nb_words"):
        imdb.load_data(nb_words=10)
    assert imdb.get_word_index() == {"the": 1, "movie": 2}


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_loading_never_executes_code(keras_home, tmp_path):
    evil = np.empty(1, dtype=object)
    evil[0] = _Evil()
    path = tmp_path / "evil.npz"
    np.savez(path, x_train=evil, y_train=np.zeros(1), x_test=evil, y_test=np.zeros(1))
    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system|nt.system"):
        imdb.load_data(path=str(path))
    notzip = tmp_path / "bad.npz"
    notzip.write_bytes(b"not a zip file")
    with pytest.raises(zipfile.BadZipFile):
        imdb.load_data(path=str(notzip))


def test_mnist_load_data(keras_home):
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (5, 28, 28) and x_train.dtype == np.uint8
    assert y_train.tolist() == [0, 1, 2, 3, 4] and x_test.shape == (2, 28, 28)
    assert y_test.dtype == np.uint8


def test_absent_file_offline_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    import urllib.request

    def offline(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(OSError, match="place the file at .*mnist.npz"):
        mnist.load_data()
    assert not any(p.name.endswith(".part") for p in (tmp_path / "datasets").iterdir())
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        mnist.load_data(path="sub/dir/mnist.npz")


def test_download_is_checked_against_keras_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    import io
    import urllib.request

    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda url, timeout=None: io.BytesIO(b"tampered"))
    with pytest.raises(ValueError, match="corrupted file.*expected 731c5ac6"):
        mnist.load_data()
    assert not (tmp_path / "datasets" / "mnist.npz").exists()


def test_get_file_downloads_once_checks_hashes_and_extracts_safely(tmp_path):
    import hashlib
    import tarfile

    (utils,) = load("utils")
    src = tmp_path / "src"
    src.mkdir()
    payload = src / "notes.txt"
    payload.write_text("to be or not to be")
    digest = hashlib.sha256(payload.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    path = utils.get_file(origin=payload.as_uri(), file_hash=digest, cache_dir=str(cache))
    assert path == str(cache / "datasets" / "notes.txt")
    payload.write_text("changed")            # cached: not downloaded again
    assert open(utils.get_file("notes.txt", payload.as_uri(), cache_dir=str(cache))).read() \
        == "to be or not to be"
    with pytest.raises(ValueError, match="corrupted"):
        utils.get_file("other.txt", payload.as_uri(), md5_hash="0" * 32,
                       cache_dir=str(cache))
    archive = src / "data.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(payload, arcname="inner/notes.txt")
    folder = utils.get_file("data.tar.gz", archive.as_uri(), extract=True,
                            cache_dir=str(cache))
    assert folder == str(cache / "datasets" / "data_extracted")
    assert (cache / "datasets" / "data_extracted" / "inner" / "notes.txt").read_text() == \
        "changed"
    evil = src / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../escaped.txt", "x")
    with pytest.raises(ValueError, match="outside the target folder"):
        utils.get_file("evil.zip", evil.as_uri(), extract=True, cache_dir=str(cache))
    assert not (tmp_path / "escaped.txt").exists()
    with pytest.raises(ValueError, match='"origin"'):
        utils.get_file("x.txt")
    with pytest.raises(ValueError, match="`origin`"):
        utils.get_file("y.txt", "ftp://example.org/y.txt", cache_dir=str(cache))
