"""``get_file``: Keras's cached download (``keras.utils.get_file``), with safe extraction.

Files live in ``<cache_dir>/<cache_subdir>/`` with ``cache_dir`` defaulting to Keras's own
folder (``$KERAS_HOME`` or ``~/.keras``), so files Keras already downloaded are found.
Downloads go to a temporary file first, are checked against ``file_hash`` when given, and
only then take their final name. Archives are extracted with path checks (no member may
leave the extraction folder; tar members are filtered with Python's ``"data"`` filter), and
nothing downloaded is ever run or unpickled here.
"""
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

__all__ = ["get_file", "keras_home", "validate_file"]


def keras_home():
    """Keras's base folder: ``$KERAS_HOME`` if set, else ``~/.keras`` (as ``keras.config``)."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def _hash(path, algorithm):
    h = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _algorithm(file_hash, hash_algorithm):
    if hash_algorithm in ("sha256", "md5"):
        return hash_algorithm
    if hash_algorithm != "auto":
        raise ValueError("Received an invalid value for argument `hash_algorithm`, expected "
                         f"'auto', 'sha256' or 'md5', got {hash_algorithm!r}.")
    return "sha256" if len(file_hash) == 64 else "md5"


def validate_file(fpath, file_hash, algorithm="auto"):
    """Whether the file's sha256 (64 hex digits) or md5 hash equals ``file_hash``."""
    return _hash(fpath, _algorithm(file_hash, algorithm)) == str(file_hash)


def _within(root, path):
    root = os.path.realpath(root)
    return os.path.commonpath([root, os.path.realpath(path)]) == root


def _extract(archive, target, archive_format):
    formats = {"auto": ("tar", "zip"), "tar": ("tar",), "zip": ("zip",)}
    if archive_format not in formats:
        raise ValueError("Received an invalid value for argument `archive_format`, expected "
                         f"'auto', 'tar' or 'zip', got {archive_format!r}.")
    for kind in formats[archive_format]:
        if kind == "tar" and tarfile.is_tarfile(archive):
            os.makedirs(target, exist_ok=True)
            with tarfile.open(archive) as tar:
                tar.extractall(target, filter="data")     # refuses links/paths outside
            return True
        if kind == "zip" and zipfile.is_zipfile(archive):
            os.makedirs(target, exist_ok=True)
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():
                    if not _within(target, os.path.join(target, member)):
                        raise ValueError(f"Refusing to extract {member!r} from {archive}: "
                                         "it would be written outside the target folder.")
                zf.extractall(target)
            return True
    return False


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Download a file from ``origin`` unless it is already in the cache; return its path.

    Keras 3 semantics: ``fname`` defaults to the last part of the URL and must be a plain
    name; with ``extract`` (or Keras 2's ``untar``) the archive is extracted into
    ``<name>_extracted`` (or ``<name>``) and that folder is returned. One difference: a
    file already in the cache is used as is (Keras re-downloads it when its hash differs).
    ``fname`` may also be the path of an existing file (returned as is).

    Args:
        fname: file name in the cache folder.
        origin: URL of the file (http, https or file).
        untar, extract, archive_format: extraction (``"auto"``, ``"tar"``, ``"zip"``).
        md5_hash, file_hash, hash_algorithm: expected hash of a download (checked).
        cache_subdir, cache_dir: the folder (``<cache_dir>/<cache_subdir>``); when
            ``cache_dir`` cannot be written, ``<tmp>/.keras`` is used, as Keras does.
        force_download: download even when the file is cached.

    Returns:
        The local path (the extraction folder with ``extract``).

    Raises:
        ValueError: no ``origin``; a path as ``fname``; a download whose hash differs (it is
            not kept); an archive member that would leave the target folder.
        OSError: the file is absent and cannot be downloaded (offline), with the path where
            it can be placed by hand.
    """
    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    provided = fname is not None and os.fspath(fname) != ""
    fname = os.fspath(fname) if provided else ""
    if provided and (os.sep in fname or (os.altsep and os.altsep in fname)):
        if os.path.isfile(fname) and not (extract or untar):
            return fname
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify "
                         "the file's parent directory, use the `cache_dir` argument. "
                         f"Received: fname={fname}")
    if not provided:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: "
                             f"'{origin}'.Please specify the `fname` argument.")
    base = os.path.expanduser(cache_dir if cache_dir is not None else keras_home())
    datadir = os.path.join(base, cache_subdir)
    try:
        os.makedirs(datadir, exist_ok=True)
        writable = os.access(datadir, os.W_OK)
    except OSError:
        writable = False
    cached = None
    if not writable:
        cached = datadir
        datadir = os.path.join(tempfile.gettempdir(), ".keras", cache_subdir)
        os.makedirs(datadir, exist_ok=True)

    if extract or untar:
        if provided and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[:fname.find('.')]}_extracted")
        else:
            target = os.path.join(datadir, f"{fname}_archive")
            extraction_dir = os.path.join(datadir, fname)
    else:
        target = os.path.join(datadir, fname)
    if cached is not None and not force_download and os.path.isfile(
            os.path.join(cached, os.path.basename(target))):
        target = os.path.join(cached, os.path.basename(target))
    elif force_download or not os.path.isfile(target):
        _download(origin, target, file_hash, hash_algorithm)
    if extract or untar:
        if not _extract(target, extraction_dir, "tar" if untar else archive_format):
            raise ValueError(f"Could not extract {target}: not a {archive_format} archive.")
        return extraction_dir
    return target


def _download(origin, target, file_hash, hash_algorithm):
    if urllib.parse.urlsplit(origin).scheme not in ("http", "https", "file"):
        raise ValueError("Received an invalid value for argument `origin`, expected an "
                         f"http(s) or file URL, got {origin!r}.")
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target),
                               prefix=f".{os.path.basename(target)}.", suffix=".part")
    os.close(fd)
    try:
        try:
            with urllib.request.urlopen(origin, timeout=60) as response, \
                    open(tmp, "wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError) as e:
            raise OSError(f"Could not download {os.path.basename(target)!r} from {origin} "
                          f"({e}). Without a network connection, place the file at "
                          f"{target} (or set KERAS_HOME).") from e
        if file_hash is not None:
            algorithm = _algorithm(file_hash, hash_algorithm)
            digest = _hash(tmp, algorithm)
            if digest != file_hash:
                raise ValueError(f"Incomplete or corrupted file detected: the {algorithm} "
                                 f"hash of the file downloaded from {origin} is {digest}, "
                                 f"expected {file_hash}; it was not kept.")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
