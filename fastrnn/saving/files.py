"""File plumbing shared by the formats: atomic writes, path checks, and one error type
that names the file."""
import contextlib
import os
import tempfile
import zipfile
import zlib

__all__ = ["atomic_write", "check_path", "LoadError", "reading"]


class LoadError(ValueError):
    """A file that cannot be loaded: corrupt, truncated, of another architecture, or
    holding a class fastrnn will not rebuild. The message names the file (and layer)."""


def check_path(filepath, argument="filepath"):
    """``filepath`` as a ``str`` (accepts ``os.PathLike``)."""
    if isinstance(filepath, os.PathLike):
        filepath = os.fspath(filepath)
    if not isinstance(filepath, str):
        raise TypeError(f"Argument `{argument}` must be a path (str or os.PathLike), got "
                        f"{type(filepath).__name__}: {filepath!r}.")
    return filepath


def atomic_write(filepath, write, overwrite=True):
    """Call ``write(tmp_path)`` on a temporary file in ``filepath``'s folder, then
    ``os.replace`` it onto ``filepath``: an interrupted or failed save leaves whatever
    was at ``filepath`` before untouched, and no temporary file behind.

    Raises:
        FileExistsError: ``overwrite=False`` and ``filepath`` exists.
        FileNotFoundError: the folder does not exist.
    """
    filepath = check_path(filepath)
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and `overwrite=False`.")
    folder = os.path.dirname(os.path.abspath(filepath))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"Cannot save to {filepath}: folder {folder} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(filepath) + ".",
                               suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, filepath)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


@contextlib.contextmanager
def reading(where):
    """Turn what h5py, zipfile and json raise on damaged bytes into a ``LoadError`` naming
    the file (ours, and NotImplementedError, pass through unchanged)."""
    try:
        yield
    except (LoadError, NotImplementedError, FileNotFoundError):
        raise
    except (OSError, RuntimeError, KeyError, TypeError, ValueError, UnicodeError,
            AttributeError, IndexError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise LoadError(f"{where} is corrupt or truncated: it cannot be read "
                        f"({type(exc).__name__}: {exc}).") from None
