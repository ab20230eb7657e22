"""Reading ``.npz`` archives without ever executing code from them.

``np.load(..., allow_pickle=True)`` unpickles object arrays, and unpickling can call any
importable function: a crafted file could run code. Keras's ``imdb.npz`` stores its
reviews as object arrays of Python lists, so it needs pickle; here a member is read with
``allow_pickle=False`` when it can be, and otherwise with a restricted unpickler that
resolves only the globals NumPy needs to rebuild an array (``ndarray``, ``dtype``,
``_reconstruct``) — lists, ints and strings are plain pickle opcodes, no import at all.
Anything else (``os.system``, ``builtins.eval``, ...) raises ``pickle.UnpicklingError``.
This is also what Keras 3.15 does (keras/src/datasets/npz_utils.py).
"""
import io
import pickle
import zipfile

import numpy as np

__all__ = ["load_npz"]

_ALLOWED_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
})


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"Refusing to load `{module}.{name}` from a dataset "
                                     "file: only NumPy arrays are allowed. The file may be "
                                     "corrupted or malicious.")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("Refusing a persistent id in a dataset file.")


def _read_member(fp):
    try:
        return np.lib.format.read_array(fp, allow_pickle=False)
    except ValueError:
        fp.seek(0)
        version = np.lib.format.read_magic(fp)
        if version[0] == 1:
            np.lib.format.read_array_header_1_0(fp)
        elif version[0] in (2, 3):
            np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"Unsupported `.npy` file version: {version}.")
        array = _RestrictedUnpickler(fp).load()
        if not isinstance(array, np.ndarray):
            raise pickle.UnpicklingError("A dataset member is not a NumPy array.")
        return array


def load_npz(path):
    """``{name: array}`` of the ``.npy`` members of the archive at ``path``.

    Raises:
        pickle.UnpicklingError: a member would need anything but NumPy's array globals.
        zipfile.BadZipFile, ValueError: not a valid ``.npz`` file.
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                with archive.open(member) as raw:
                    arrays[member[:-len(".npy")]] = _read_member(io.BytesIO(raw.read()))
    return arrays
