"""Pickling and copying through config + weights (no code objects, no graph internals).

``pickle.dumps(layer_or_model)`` stores ``(serialized config, weights)``, the config in
Keras 3's form, and unpickling rebuilds the object through the layer whitelist, as
loading a file does; ``copy.deepcopy`` takes the same route. A layer class outside
fastrnn (a user's own) travels by reference to its class, like any pickled class.
"""
import numpy as np

__all__ = ["reduce_layer", "rebuild_layer", "rebuild_model"]


def _custom_classes(obj):
    """{class name: class} of the user's own layer classes in ``obj`` (by reference)."""
    from ..layers import LAYERS
    from ..models import MODELS
    from ..models.model import Model
    out = {}
    stack = [obj]
    while stack:
        layer = stack.pop()
        name = type(layer).__name__
        if LAYERS.get(name) is not type(layer) and MODELS.get(name) is not type(layer):
            out[name] = type(layer)
        if isinstance(layer, Model):
            stack += list(getattr(layer, "_stack", None) or layer.layers)
    return out


def reduce_layer(obj):
    """``__reduce__`` of a layer or model: ``(rebuild, (spec, weights, custom))``."""
    from ..models.model import Model
    from .serialization import model_spec, serialize_layer
    from ..layers.stateless import Lambda
    if isinstance(obj, Lambda):  # its function travels by reference, as pickle sends one
        return rebuild_lambda, (obj.function, obj.output_shape, obj.arguments, obj.name,
                                obj.dtype)
    custom = _custom_classes(obj)
    if isinstance(obj, Model):
        from . import _check_savable
        _check_savable(obj)
        spec = model_spec(obj, include_compile=False)
        weights = [w.copy() for w in obj.weights] if obj.built else None
        return rebuild_model, (spec, weights, custom)
    spec = serialize_layer(obj)
    if obj.batch_input_shape is not None and not getattr(obj, "_implicit_input", False) \
            and "batch_shape" not in spec["config"]:
        spec["config"]["batch_input_shape"] = list(obj.batch_input_shape)
    weights = [w.copy() for w in obj.weights] if obj.built else None
    return rebuild_layer, (spec, weights, custom)


def rebuild_layer(spec, weights, custom_objects=None):
    from ..layers import deserialize
    from .serialization import normalize_spec
    layer = deserialize(normalize_spec(spec), custom_objects or None)
    shape = (spec.get("build_config") or {}).get("input_shape")
    if weights is not None:
        if not layer.built:
            if shape is None:
                raise ValueError(f"Cannot rebuild layer `{layer.name}`: it had weights but "
                                 "no recorded input shape.")
            shape = [tuple(s) for s in shape] if shape and isinstance(shape[0], list) \
                else tuple(shape)
            layer.build(shape)
        layer.set_weights([np.asarray(w) for w in weights])
    return layer


def rebuild_model(spec, weights, custom_objects=None):
    from .serialization import model_from_spec
    model = model_from_spec(spec, custom_objects or None)
    if weights is not None:
        model.set_weights(weights)
    return model


def rebuild_lambda(function, output_shape, arguments, name, dtype):
    from ..layers.stateless import Lambda
    return Lambda(function, output_shape=output_shape, arguments=arguments, name=name,
                  dtype=dtype)
