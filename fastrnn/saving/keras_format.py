"""Keras 3's native formats: the ``.keras`` zip (``config.json``, ``metadata.json``,
``model.weights.h5``) and ``.weights.h5`` files (keras/src/saving/saving_lib.py).

Nothing in a file is executed: the config goes through the layer whitelist, the weights
are plain HDF5 datasets read with h5py.
"""
import datetime
import io
import json
import warnings
import zipfile
import zlib

import numpy as np

from . import serialization as S
from . import weights_layout as W
from .files import LoadError, atomic_write, reading

__all__ = ["save_keras", "load_keras", "write_weights", "read_weights", "save_weights_h5",
           "load_weights_h5"]

_MAX_JSON = 64 * 2**20  # a config larger than this is not a model config


def _h5py():
    import h5py
    return h5py


# ---------------------------------------------------------------------- weights
def write_weights(f, model, include_optimizer=True):
    """Write ``model``'s weights (and optimizer state) into the open h5py file ``f``."""
    for path, name, arrays, _ in W.entries(model):
        group = f.create_group(f"{path}/vars" if path else "vars")
        group.attrs["name"] = name
        for i, a in enumerate(arrays):
            group.create_dataset(str(i), data=np.asarray(a))
    opt = getattr(model, "optimizer", None)
    if include_optimizer and getattr(model, "compiled", False) and opt is not None:
        group = f.create_group("optimizer/vars")
        group.attrs["name"] = opt.name
        for i, a in enumerate(W.optimizer_arrays(opt, model.trainable_weights)):
            group.create_dataset(str(i), data=a)


def _datasets(f, where):
    """{vars group path: number of datasets} of every weights group in the file."""
    h5py = _h5py()
    found = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            parent = name.rsplit("/", 1)[0]
            found[parent] = found.get(parent, 0) + 1
    try:
        f.visititems(visit)
    except (OSError, RuntimeError, KeyError) as exc:
        raise LoadError(f"{where}: the HDF5 file is corrupt ({exc}).") from None
    return found


def read_weights(f, model, where, order=None, optimizer=True):
    """Set ``model``'s weights from the open h5py file ``f`` (Keras 3 layout). Every
    array is checked before any is assigned, so a failed load changes nothing.

    Raises:
        LoadError: a layer's group is missing, has another number of arrays or other
            shapes, or the file holds weights the model has no place for (naming the
            file and the layer).
    """
    found = _datasets(f, where)
    plan = []
    visited = set()
    for path, name, arrays, owner in W.entries(model, order=order):
        key = f"{path}/vars" if path else "vars"
        visited.add(key)
        n_file = found.get(key, 0)
        if not arrays:
            continue
        label = f"layer `{owner}` (group '{key}')"
        if key not in f:
            raise LoadError(f"{where} has no weights for {label}: the file holds another "
                            "architecture.")
        if n_file != len(arrays):
            raise LoadError(f"{where}: {label} has {n_file} weight arrays in the file, the "
                            f"model expects {len(arrays)}.")
        group = f[key]
        for i, a in enumerate(arrays):
            try:
                value = group[str(i)][()]
            except (KeyError, OSError, RuntimeError) as exc:
                raise LoadError(f"{where}: cannot read weight {i} of {label} ({exc}).") \
                    from None
            if value.shape != a.shape:
                raise LoadError(f"{where}: weight {i} of {label} has shape {value.shape} in "
                                f"the file, the model expects {a.shape}.")
            plan.append((a, value))
    # (a layer's own ``vars`` are visited even when empty here: a stateful RNN's states
    # that Keras keeps there are not weights)
    extra = sorted(k for k in found if k.startswith("layers/") and k not in visited)
    if extra:
        raise LoadError(f"{where} holds weights in {extra} that model `{model.name}` has no "
                        "layer for: the file holds another architecture.")
    for a, value in plan:
        a[...] = np.asarray(value, a.dtype)
    opt = getattr(model, "optimizer", None)
    if optimizer and "optimizer/vars" in f and getattr(model, "compiled", False) and opt:
        group = f["optimizer/vars"]
        arrays = [group[str(i)][()] for i in range(len(group))]
        if not W.set_optimizer_arrays(opt, model.trainable_weights, arrays, where):
            expected = 2 + len(W._slot_list(opt, model.trainable_weights))
            warnings.warn(f"{where}: skipping the optimizer state: the file has "
                          f"{len(arrays)} optimizer variables, optimizer `{opt.name}` of "
                          f"model `{model.name}` has {expected}.", stacklevel=3)


def save_weights_h5(model, filepath, overwrite=True):
    h5py = _h5py()

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            write_weights(f, model)
    atomic_write(filepath, write, overwrite)


def _open_h5(source, where):
    h5py = _h5py()
    try:
        return h5py.File(source, "r")
    except (OSError, ValueError) as exc:
        raise LoadError(f"{where} is not a readable HDF5 file (truncated or corrupt?): "
                        f"{exc}") from None


def load_weights_h5(model, filepath):
    with reading(filepath), _open_h5(filepath, filepath) as f:
        if "model_weights" in f or "layer_names" in f.attrs:
            from . import legacy_h5
            legacy_h5.read_legacy_weights(f, model, filepath)
        else:
            read_weights(f, model, filepath)


# ---------------------------------------------------------------------- .keras
def save_keras(model, filepath, overwrite=True):
    """Write ``model`` as Keras 3's ``.keras`` zip, atomically."""
    h5py = _h5py()
    spec = S.model_spec(model)
    config = S.to_json(spec)
    metadata = json.dumps({"keras_version": S.KERAS_VERSION,
                           "date_saved": datetime.datetime.now().strftime(
                               "%Y-%m-%d@%H:%M:%S")})
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        write_weights(f, model)

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("metadata.json", metadata)
            zf.writestr("config.json", config)
            zf.writestr("model.weights.h5", buffer.getvalue())
    atomic_write(filepath, write, overwrite)


def _read_member(zf, name, where, limit=None):
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise LoadError(f"{where} is not a Keras model file: it has no `{name}` (members: "
                        f"{zf.namelist()[:10]}).") from None
    if limit is not None and info.file_size > limit:
        raise LoadError(f"{where}: `{name}` is {info.file_size} bytes, more than a model "
                        "config can be.")
    try:
        return zf.read(name)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
            NotImplementedError) as exc:  # zipfile: "compression method", "version"
        raise LoadError(f"{where}: `{name}` is corrupt ({exc}).") from None


def read_keras_zip(filepath):
    """``(config dict, weights bytes or None)`` from a ``.keras`` file."""
    try:
        zf = zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
            NotImplementedError) as exc:  # zipfile: "compression method", "version"
        raise LoadError(f"{filepath} is not a valid .keras file (a zip archive): {exc}; it "
                        "may be truncated or corrupt.") from None
    with zf:
        raw = _read_member(zf, "config.json", filepath, _MAX_JSON)
        try:
            spec = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise LoadError(f"{filepath}: config.json is not valid JSON ({exc}).") from None
        names = zf.namelist()
        weights = None
        if "model.weights.h5" in names:
            weights = _read_member(zf, "model.weights.h5", filepath)
        elif "model.weights.npz" in names:
            raise LoadError(f"{filepath} stores its weights as model.weights.npz, which "
                            "fastrnn does not read; save with Keras's default (h5).")
    return spec, weights


def _config_order(spec):
    """The layer names in the order the file lists them (its weights' order)."""
    layers = (spec.get("config") or {}).get("layers") or []
    sequential = spec.get("class_name") == "Sequential"
    return [s.get("name") or (s.get("config") or {}).get("name") for s in layers
            if isinstance(s, dict) and not (sequential and s.get("class_name") == "InputLayer")]


def build_model(spec, where, custom_objects, compile):
    """A fastrnn model from a Keras model entry, compiled from its compile config."""
    try:
        model = S.model_from_spec(spec, custom_objects)
    except NotImplementedError as exc:
        raise NotImplementedError(f"{where}: {exc}") from None
    except (ValueError, TypeError, KeyError) as exc:
        raise LoadError(f"{where}: {exc}") from None
    except (AttributeError, IndexError, MemoryError, OverflowError, RecursionError) as exc:
        raise LoadError(f"{where}: the model config is malformed ({type(exc).__name__}: "
                        f"{exc}).") from None
    cc = spec.get("compile_config")
    if compile and cc:
        try:
            S.compile_from_config(model, cc)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError,
                NotImplementedError) as exc:
            warnings.warn(f"{where}: the model is returned uncompiled: its compile config "
                          f"cannot be restored ({exc}).", stacklevel=3)
    return model


def load_keras(filepath, custom_objects=None, compile=True):
    spec, weights = read_keras_zip(filepath)
    if not isinstance(spec, dict):
        raise LoadError(f"{filepath}: config.json holds no model config.")
    model = build_model(spec, filepath, custom_objects, compile)
    if weights is not None:
        where = f"{filepath} (model.weights.h5)"
        with reading(where), _open_h5(io.BytesIO(weights), where) as f:
            read_weights(f, model, filepath, order=_config_order(spec))
    return model


def load_weights_keras_zip(model, filepath):
    spec, weights = read_keras_zip(filepath)
    if weights is None:
        raise LoadError(f"{filepath} holds no weights.")
    where = f"{filepath} (model.weights.h5)"
    with reading(where), _open_h5(io.BytesIO(weights), where) as f:
        read_weights(f, model, filepath)
