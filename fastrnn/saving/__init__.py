"""Saving and loading in Keras's own formats; loading never executes code.

- ``.keras`` (Keras 3's zip: config.json, metadata.json, model.weights.h5), both ways;
- legacy full-model ``.h5`` (Keras 2, and Keras 3's legacy writer), both ways;
- ``.weights.h5`` (Keras 3's weights layout), and Keras 2 ``.h5`` weights for reading;
- JSON configs (``model.to_json()`` / ``model_from_json``).

Configs are read through fastrnn's layer whitelist (``fastrnn.layers.LAYERS``) and
``custom_objects`` only: no pickle, no eval, no import by name. A ``Lambda`` or an
unknown class is refused with its name. Every save writes a temporary file in the same
folder and renames it over the target.
"""
import json
import os

from .files import LoadError, check_path

__all__ = ["save_model", "load_model", "model_from_json", "save_weights", "load_weights",
           "LoadError"]


def _ext(filepath):
    lower = filepath.lower()
    for ext in (".weights.h5", ".keras", ".h5", ".hdf5"):
        if lower.endswith(ext):
            return ext
    return os.path.splitext(lower)[1]


def _check_savable(model):
    from ..layers.stateless import Lambda
    from ..models.model import Model
    if not isinstance(model, Model):
        raise TypeError(f"Argument `model` must be a fastrnn Model or Sequential, got "
                        f"{type(model).__name__}.")
    stack = list(getattr(model, "_stack", None) or model.layers)
    while stack:
        layer = stack.pop()
        if isinstance(layer, Lambda):
            raise ValueError(f"Model `{model.name}` holds the Lambda layer `{layer.name}`: "
                             "fastrnn does not write Python code into model files (and "
                             "never loads it). Replace it with fastrnn layers to save.")
        if isinstance(layer, Model):
            stack += list(getattr(layer, "_stack", None) or layer.layers)


def save_model(model, filepath, overwrite=True, zipped=None, include_optimizer=True,
               **kwargs):
    """Save ``model`` to ``filepath``: ``.keras`` (Keras 3's format) or ``.h5`` /
    ``.hdf5`` (the legacy HDF5 format), written atomically.

    Raises:
        ValueError: another extension, or a model holding a ``Lambda``.
        FileExistsError: ``overwrite=False`` and the file exists.
    """
    from . import keras_format, legacy_h5
    filepath = check_path(filepath)
    for key, value in kwargs.items():
        if key != "save_format" or value not in (None, "keras", "h5", "tf"):
            raise TypeError(f"save_model() got an unexpected keyword argument `{key}`.")
    if zipped is False:
        raise NotImplementedError("fastrnn writes `.keras` files zipped only.")
    _check_savable(model)
    ext = _ext(filepath)
    if ext == ".keras":
        keras_format.save_keras(model, filepath, overwrite)
    elif ext in (".h5", ".hdf5"):
        legacy_h5.save_h5(model, filepath, overwrite, include_optimizer)
    else:
        raise ValueError("Invalid filepath extension for saving: expected `.keras` (Keras "
                         f"3's format, recommended) or `.h5`, got {filepath!r}.")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a ``.keras`` file or a legacy full-model ``.h5`` file written by
    Keras 3, Keras 2 or fastrnn, compiled as saved (optimizer state included) when
    ``compile``.

    Args:
        custom_objects: ``{class name: class}`` for the user's own layers.
        safe_mode: must stay True: fastrnn never deserializes code.

    Raises:
        FileNotFoundError: no such file.
        LoadError (a ValueError): a corrupt or truncated file, a wrong extension, an
            unknown class or a Lambda (named), weights that don't fit (file and layer named).
        NotImplementedError: a Keras feature fastrnn lacks (named).
    """
    from . import keras_format, legacy_h5
    filepath = check_path(filepath)
    if not safe_mode:
        raise ValueError("fastrnn never deserializes code: `safe_mode=False` is not "
                         "supported; pass your own classes in `custom_objects`.")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError("Argument `custom_objects` must be a dict {name: class}, got "
                        f"{type(custom_objects).__name__}.")
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file or directory found at {filepath}.")
    ext = _ext(filepath)
    if ext == ".keras":
        return keras_format.load_keras(filepath, custom_objects, compile)
    if ext in (".h5", ".hdf5"):
        return legacy_h5.load_h5(filepath, custom_objects, compile)
    raise LoadError(f"File format not supported: {filepath}. fastrnn loads `.keras` files "
                    "and legacy `.h5` files.")


def model_from_json(json_string, custom_objects=None):
    """A model (fresh weights) from ``model.to_json()`` or Keras's ``to_json()``."""
    try:
        spec = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as exc:
        raise ValueError(f"Argument `json_string` is not a JSON model config: {exc}.") \
            from None
    from .serialization import model_from_spec
    return model_from_spec(spec, custom_objects)


def model_to_json(model, **kwargs):
    from .serialization import model_spec, to_json
    spec = model_spec(model, include_compile=False)
    spec.pop("build_config", None)
    return to_json(spec, **kwargs)


def save_weights(model, filepath, overwrite=True):
    """Write ``model``'s weights (and optimizer state) in Keras 3's ``.weights.h5``
    layout.

    Raises:
        ValueError: ``filepath`` does not end in ``.weights.h5`` (as Keras 3 requires).
    """
    from . import keras_format
    filepath = check_path(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError("The filename must end in `.weights.h5`, got "
                         f"filepath={filepath!r}.")
    keras_format.save_weights_h5(model, filepath, overwrite)


def load_weights(model, filepath, skip_mismatch=False):
    """Set ``model``'s weights from a ``.weights.h5`` file (Keras 3's layout, matched by
    topology), a ``.keras`` file, or a legacy ``.h5`` weights/model file."""
    from . import keras_format
    filepath = check_path(filepath)
    if skip_mismatch:
        raise NotImplementedError("fastrnn's load_weights does not implement "
                                  "`skip_mismatch=True`.")
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file found at {filepath}.")
    ext = _ext(filepath)
    if ext == ".keras":
        keras_format.load_weights_keras_zip(model, filepath)
    elif ext in (".weights.h5", ".h5", ".hdf5"):
        keras_format.load_weights_h5(model, filepath)
    else:
        raise LoadError(f"File format not supported for weights: {filepath}. Expected "
                        "`.weights.h5`, `.keras` or `.h5`.")
