"""The legacy full-model HDF5 format (``model.save("m.h5")``), as Keras 2 and Keras 3's
legacy writer produce it (keras/src/legacy/saving/legacy_h5_format.py):

    @model_config, @training_config (JSON), @keras_version, @backend
    model_weights/  @layer_names; model_weights/<layer>/  @weight_names, datasets at the
                    paths the weight names give (Keras 3: "<model>/<layer>/.../kernel",
                    Keras 2: "<layer>/.../kernel:0")
    optimizer_weights/  @weight_names: iteration[, learning_rate], then the slots

Weights are matched to layers by name when the names agree, else by topological order
(as Keras does); every array is checked before any is assigned.
"""
import json
import warnings

import numpy as np

from . import serialization as S
from . import weights_layout as W
from .files import LoadError, atomic_write, reading

__all__ = ["save_h5", "load_h5", "read_legacy_weights"]

_ATTR_LIMIT = 64000  # HDF5 object headers hold 64 KiB: Keras splits longer attributes


def _decode(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def _attr_list(group, name):
    """A list attribute, joined from Keras's ``name0, name1, ...`` chunks if split."""
    if name in group.attrs:
        return [_decode(v) for v in np.atleast_1d(group.attrs[name])]
    out, k = [], 0
    while f"{name}{k}" in group.attrs:
        out += [_decode(v) for v in np.atleast_1d(group.attrs[f"{name}{k}"])]
        k += 1
    return out


def _write_attr_list(group, name, values):
    """A list of strings as Keras writes it (variable-length UTF-8), split into
    ``name0, name1, ...`` when it would not fit an object header."""
    import h5py
    kind = h5py.string_dtype()
    size = sum(len(v.encode("utf8")) + 16 for v in values)
    if size <= _ATTR_LIMIT:
        group.attrs[name] = np.array(values, dtype=kind)
        return
    chunks = int(np.ceil(size / _ATTR_LIMIT))
    for k, part in enumerate(np.array_split(np.array(values, dtype=object), chunks)):
        group.attrs[f"{name}{k}"] = np.array(list(part), dtype=kind)


def _json_attr(f, name, where):
    if name not in f.attrs:
        return None
    try:
        return json.loads(_decode(f.attrs[name]))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LoadError(f"{where}: attribute `{name}` is not valid JSON ({exc}).") from None


# ---------------------------------------------------------------------- reading
def _weighted_layers(model):
    return [layer for layer in W.model_layers(model) if layer.weights]


def read_legacy_weights(f, model, where):
    """Set ``model``'s weights from a legacy weights group (``model_weights`` or a whole
    Keras 2 weights file)."""
    g = f["model_weights"] if "model_weights" in f else f
    try:
        file_layers = []
        for name in _attr_list(g, "layer_names"):
            names = _attr_list(g[name], "weight_names")
            if names:
                file_layers.append((name, names, [g[name][n][()] for n in names]))
    except (KeyError, OSError, RuntimeError) as exc:
        raise LoadError(f"{where}: the weights are unreadable ({exc}); the file is corrupt or "
                        "not a Keras weights file.") from None
    layers = _weighted_layers(model)
    if len(file_layers) != len(layers):
        raise LoadError(f"{where} holds weights for {len(file_layers)} layers "
                        f"{[n for n, _, _ in file_layers]}, but model `{model.name}` has "
                        f"{len(layers)} layers with weights {[x.name for x in layers]}.")
    by_name = {x.name: x for x in layers}
    if {n for n, _, _ in file_layers} == set(by_name):
        pairs = [(by_name[n], n, names, values) for n, names, values in file_layers]
    else:
        pairs = [(x, n, names, values) for x, (n, names, values) in zip(layers, file_layers)]
    plan = []
    for layer, fname, names, values in pairs:
        own = layer.weights
        label = f"layer `{layer.name}` (file layer `{fname}`)"
        if len(values) != len(own):
            raise LoadError(f"{where}: {label} has {len(values)} weight arrays in the file "
                            f"{names}, the model expects {len(own)}.")
        for i, (w, v) in enumerate(zip(own, values)):
            if v.shape != w.shape:
                raise LoadError(f"{where}: weight {i} ({names[i]}) of {label} has shape "
                                f"{v.shape} in the file, the model expects {w.shape}.")
            plan.append((w, v))
    for w, v in plan:
        w[...] = np.asarray(v, w.dtype)


def load_h5(filepath, custom_objects=None, compile=True):
    """A model from a Keras 2 / Keras 3 legacy full-model ``.h5`` file."""
    from .keras_format import _open_h5, build_model
    with reading(filepath), _open_h5(filepath, filepath) as f:
        spec = _json_attr(f, "model_config", filepath)
        if spec is None:
            raise LoadError(f"{filepath} has no `model_config` attribute: it holds weights "
                            "only; build the model and call `model.load_weights(...)`.")
        if "model_weights" not in f:
            raise LoadError(f"{filepath} has no `model_weights` group.")
        training = _json_attr(f, "training_config", filepath) if compile else None
        spec = dict(spec, compile_config=training)
        model = build_model(spec, filepath, custom_objects, compile)
        read_legacy_weights(f, model, filepath)
        if compile and training and "optimizer_weights" in f and \
                getattr(model, "compiled", False):
            g = f["optimizer_weights"]
            names = _attr_list(g, "weight_names")
            values = [g[n][()] for n in names]
            if not W.set_optimizer_arrays(model.optimizer, model.trainable_weights, values,
                                          filepath):
                warnings.warn(f"{filepath}: skipping the optimizer state ({len(values)} "
                              "variables do not fit the model's optimizer).", stacklevel=2)
    return model


# ---------------------------------------------------------------------- writing
_CELL_NAMES = {"SimpleRNN": ("kernel", "recurrent_kernel", "bias")}


def _weight_names(layer, prefix):
    """Keras 3's variable paths for ``layer.weights``: ``<model>/<layer>/...`` in a
    Sequential (built in the model's scope), ``<layer>/...`` in a functional model."""
    from ..layers.rnn.base import BaseRNN
    from ..layers.rnn.bidirectional import Bidirectional
    from ..models.model import Model
    base = f"{prefix}/{layer.name}" if prefix else layer.name
    if isinstance(layer, Model):
        inner = base if _is_sequential(layer) else ""
        return [n for sub in W.model_layers(layer) for n in _weight_names(sub, inner)]
    if isinstance(layer, Bidirectional):
        return (_weight_names(layer.forward_layer, base) +
                _weight_names(layer.backward_layer, base))
    if isinstance(layer, BaseRNN):
        cell = W.keras_snake_case(type(layer).__name__) + "_cell"
        names = ("kernel", "recurrent_kernel", "bias")[:len(layer.weights)]
        return [f"{base}/{cell}/{n}" for n in names]
    if type(layer).__name__ == "Dense":
        return [f"{base}/{n}" for n in ("kernel", "bias")[:len(layer.weights)]]
    if type(layer).__name__ == "Embedding":
        return [f"{base}/embeddings"]
    return [f"{base}/variable_{i}" for i in range(len(layer.weights))]


def _is_sequential(model):
    from ..models.sequential import Sequential
    return isinstance(model, Sequential)


def _legacy_spec(spec):
    """Keras 3's legacy model_config: layer entries without module/registered_name/
    build_config."""
    out = {"class_name": spec["class_name"], "config": dict(spec["config"])}
    layers = []
    for entry in spec["config"].get("layers", []):
        item = {"class_name": entry["class_name"], "config": entry["config"]}
        if "layers" in entry["config"]:
            item = _legacy_spec(entry)
        for key in ("name", "inbound_nodes"):
            if key in entry:
                item[key] = entry[key]
        layers.append(item)
    out["config"]["layers"] = layers
    return out


def _write_file(f, model, include_optimizer):
    spec = S.model_spec(model)
    f.attrs["backend"] = "tensorflow"
    f.attrs["keras_version"] = S.KERAS_VERSION
    f.attrs["model_config"] = S.to_json(_legacy_spec(spec))
    g = f.create_group("model_weights")
    g.attrs["backend"] = "tensorflow"
    g.attrs["keras_version"] = S.KERAS_VERSION
    layers = W.model_layers(model)
    _write_attr_list(g, "layer_names", [layer.name for layer in layers])
    names_of = {}
    for layer in layers:
        lg = g.create_group(layer.name)
        names = _weight_names(layer, model.name if _is_sequential(model) else "")
        _write_attr_list(lg, "weight_names", names)
        for n, w in zip(names, layer.weights):
            lg.create_dataset(n, data=w)
            names_of[id(w)] = n
    _write_attr_list(g.create_group("top_level_model_weights"), "weight_names", [])
    cc = spec.get("compile_config")
    if cc:
        training = {k: v for k, v in cc.items() if k != "optimizer"}
        opt = cc["optimizer"]
        training["optimizer_config"] = {"class_name": opt["class_name"],
                                        "config": opt["config"]}
        f.attrs["training_config"] = S.to_json(training)
        if include_optimizer:
            variables = model.trainable_weights
            arrays = W.optimizer_arrays(model.optimizer, variables)
            names = W.slot_names(model.optimizer, variables,
                                 [names_of[id(v)] for v in variables])
            og = f.create_group("optimizer_weights")
            _write_attr_list(og, "weight_names", names)
            for n, a in zip(names, arrays):
                og.create_dataset(n, data=a)


def save_h5(model, filepath, overwrite=True, include_optimizer=True):
    """Write ``model`` as Keras 3's legacy writer does, atomically."""
    import h5py

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            _write_file(f, model, include_optimizer)
    atomic_write(filepath, write, overwrite)
