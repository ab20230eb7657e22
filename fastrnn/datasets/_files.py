"""Where Keras keeps its datasets, and a download that never runs anything it fetched."""
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request

__all__ = ["keras_home", "get_file", "ORIGIN"]

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def keras_home():
    """Keras's base folder: ``$KERAS_HOME`` if set, else ``~/.keras`` (as ``keras.config``)."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def _datadirs():
    """(the cache folder, a writable folder for downloads): ``<keras_home>/datasets``, or
    ``<tmp>/.keras/datasets`` for downloads when the former cannot be written (as Keras)."""
    home = os.path.join(os.path.expanduser(keras_home()), "datasets")
    try:
        os.makedirs(home, exist_ok=True)
        writable = os.access(home, os.W_OK)
    except OSError:
        writable = False
    return home, home if writable else os.path.join(tempfile.gettempdir(), ".keras",
                                                    "datasets")


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def get_file(fname, origin, file_hash=None):
    """The local path of dataset file ``fname``: Keras's cache folder
    (``<keras_home>/datasets/<fname>``) when present, else downloaded from ``origin``
    (over HTTPS, into a temporary file, checked against ``file_hash`` (sha256 of 64 hex
    digits, or md5 of 32), then moved into place). ``fname`` may also be the path of an
    existing file.

    Raises:
        ValueError: ``fname`` is not a plain file name (and not an existing file), or the
            download does not match ``file_hash``.
        OSError: the file is absent and cannot be downloaded (offline), with the path where
            it can be placed by hand.
    """
    fname = os.fspath(fname)
    if not isinstance(fname, str) or not fname:
        raise ValueError(f"Received an invalid value for argument `path`, expected a file "
                         f"name, got {fname!r}.")
    if os.sep in fname or (os.altsep and os.altsep in fname):
        if os.path.isfile(fname):
            return fname
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify "
                         "the file's parent directory, use the `cache_dir` argument. "
                         f"Received: fname={fname}")
    home, datadir = _datadirs()
    for folder in (home, datadir):
        if os.path.isfile(os.path.join(folder, fname)):
            return os.path.join(folder, fname)
    target = os.path.join(datadir, fname)
    os.makedirs(datadir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=datadir, prefix=f".{fname}.", suffix=".part")
    os.close(fd)
    try:
        try:
            with urllib.request.urlopen(origin, timeout=60) as response, \
                    open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError) as e:
            raise OSError(f"Could not download the dataset file {fname!r} from {origin} "
                          f"({e}). Without a network connection, place the file at "
                          f"{target} (or set KERAS_HOME).") from e
        if file_hash is not None:
            digest = _sha256(tmp) if len(file_hash) == 64 else _md5(tmp)
            if digest != file_hash:
                raise ValueError(f"The file downloaded from {origin} does not match its "
                                 f"expected hash {file_hash} (got {digest}); it was not "
                                 "kept.")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target
