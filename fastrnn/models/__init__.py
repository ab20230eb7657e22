"""Models: ``Model`` (the functional API: a graph of layers) and ``Sequential`` (a builder
over the same graph)."""
from .model import Model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "save_model", "model_from_json"]

MODELS = {"Model": Model, "Functional": Model, "Sequential": Sequential}


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """``fastrnn.saving.load_model``: a model from a ``.keras`` or legacy ``.h5`` file."""
    from ..saving import load_model as load
    return load(filepath, custom_objects=custom_objects, compile=compile,
                safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    """``fastrnn.saving.save_model``: ``model.save(filepath)``."""
    from ..saving import save_model as save
    save(model, filepath, overwrite=overwrite, **kwargs)


def model_from_json(json_string, custom_objects=None):
    """``fastrnn.saving.model_from_json``: a model from ``to_json()``'s string."""
    from ..saving import model_from_json as from_json
    return from_json(json_string, custom_objects=custom_objects)
