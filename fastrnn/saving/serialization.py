"""Configs in Keras 3's exact form, both ways.

Writing: every layer as ``{"module", "class_name", "config", "registered_name",
"build_config"}`` with the argument set Keras 3.15 writes for it (DTypePolicy and
initializer dicts, null regularizers and constraints, ``quantization_config``), models as
Keras's ``Sequential`` / ``Functional`` entries, and the compile config (optimizer,
losses, metrics) as ``Model.get_compile_config`` writes it
(keras/src/saving/serialization_lib.py, keras/src/models/functional.py).

Reading: a config written by Keras 3 or Keras 2 becomes fastrnn objects through the
``fastrnn.layers.LAYERS`` whitelist only (plus ``custom_objects``); nothing is imported or
evaluated from a config.
"""
import json

import numpy as np

__all__ = ["serialize_layer", "keras_layer_config", "model_spec", "model_from_spec",
           "compile_config", "compile_from_config", "normalize_spec", "KERAS_VERSION"]

KERAS_VERSION = "3.15.1"  # the Keras release whose format this module writes

_NONE_ARGS = {
    "SimpleRNN": ("kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                  "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                  "bias_constraint"),
    "Dense": ("kernel_regularizer", "bias_regularizer", "kernel_constraint",
              "bias_constraint"),
}
_VARIANCE = {"seed": None, "input_axes": None, "output_axes": None}
_INITIALIZERS = {  # fastrnn name -> (Keras class, its default config as Keras 3.15 writes it)
    "glorot_uniform": ("GlorotUniform", _VARIANCE), "glorot_normal": ("GlorotNormal", _VARIANCE),
    "he_uniform": ("HeUniform", _VARIANCE), "he_normal": ("HeNormal", _VARIANCE),
    "lecun_uniform": ("LecunUniform", _VARIANCE),
    "orthogonal": ("Orthogonal", {"seed": None, "gain": 1.0}),
    "zeros": ("Zeros", {}), "ones": ("Ones", {}),
    "random_uniform": ("RandomUniform", {"seed": None, "minval": -0.05, "maxval": 0.05}),
    "random_normal": ("RandomNormal", {"seed": None, "mean": 0.0, "stddev": 0.05}),
}


def dtype_policy(name):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
            "registered_name": None}


def initializer(value):
    """Keras 3's serialized initializer for a fastrnn one: a name (Keras's default
    arguments written out) or a ``{"class_name", "config"}`` dict."""
    from .. import initializers as I
    if isinstance(value, str) and value in I._SNAKE and value not in _INITIALIZERS:
        value = {"class_name": I._SNAKE[value],  # "uniform" is RandomUniform, ...
                 "config": {k: v for k, v in I._CLASSES[I._SNAKE[value]][1].items()}}
    if isinstance(value, str) and value in _INITIALIZERS:
        cls, config = _INITIALIZERS[value]
    elif isinstance(value, str):  # other Keras names: the class with its defaults
        cls, config = "".join(p.capitalize() for p in value.split("_")), {}
    elif isinstance(value, dict) and isinstance(value.get("class_name"), str):
        cls, config = value["class_name"], value.get("config") or {}
    elif hasattr(value, "get_config"):
        cls = getattr(value, "class_name", type(value).__name__)
        config = value.get_config()
    else:
        raise ValueError(f"Cannot write the initializer {value!r} in Keras's format.")
    return {"module": "keras.initializers", "class_name": cls, "config": dict(config),
            "registered_name": None}


def _activation(name):
    return "linear" if name is None else name


def _shape(shape):
    if shape is None:
        return None
    if len(shape) and isinstance(shape[0], (list, tuple)):
        return [_shape(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


# ---------------------------------------------------------------------- layers out
def keras_layer_config(layer, build=False):
    """The ``config`` Keras 3 writes for the Keras twin of ``layer`` (its keys, order and
    nested dicts).

    Raises:
        ValueError: a Lambda (fastrnn never writes code into a file) or a layer class
            Keras has no twin for.
    """
    from ..layers import input_layer
    cls = type(layer).__name__
    if isinstance(layer, input_layer.InputLayer):
        return {"batch_shape": _shape(layer.batch_shape), "dtype": layer.input_dtype,
                "sparse": False, "ragged": False, "name": layer.name, "optional": False}
    c = {"name": layer.name, "trainable": layer.trainable, "dtype": dtype_policy(layer.dtype)}
    native = layer.get_config()  # regularizers/constraints, where a layer has them

    def nulls(keys):
        return {k: native.get(k) for k in keys}
    if cls == "SimpleRNN":
        c.update(return_sequences=layer.return_sequences, return_state=layer.return_state,
                 go_backwards=layer.go_backwards, stateful=layer.stateful,
                 unroll=layer.unroll, zero_output_for_mask=layer.zero_output_for_mask,
                 units=layer.units, activation=_activation(layer.activation),
                 use_bias=layer.use_bias,
                 kernel_initializer=initializer(layer.kernel_initializer),
                 recurrent_initializer=initializer(layer.recurrent_initializer),
                 bias_initializer=initializer(layer.bias_initializer))
        c.update(nulls(_NONE_ARGS[cls]))
        c.update(dropout=layer.dropout, recurrent_dropout=layer.recurrent_dropout)
        if layer.seed is not None:
            c["seed"] = layer.seed
    elif cls == "Bidirectional":
        c.update(merge_mode=layer.merge_mode,
                 layer=serialize_layer(layer.forward_layer, build=build),
                 backward_layer=serialize_layer(layer.backward_layer, build=build))
    elif cls == "Dense":
        c.update(units=layer.units, activation=_activation(layer.activation),
                 use_bias=layer.use_bias,
                 kernel_initializer=initializer(layer.kernel_initializer),
                 bias_initializer=initializer(layer.bias_initializer))
        c.update(nulls(_NONE_ARGS[cls]))
        c["quantization_config"] = None
    elif cls == "Embedding":
        c.update(input_dim=layer.input_dim, output_dim=layer.output_dim,
                 embeddings_initializer=initializer(layer.embeddings_initializer),
                 **nulls(("embeddings_regularizer", "activity_regularizer",
                          "embeddings_constraint")), mask_zero=layer.mask_zero,
                 quantization_config=None)
    elif cls == "Dropout":
        c.update(rate=layer.rate, seed=layer.seed, noise_shape=None)
    elif cls == "Activation":
        c.update(activation=_activation(layer.activation))
    elif cls == "Flatten":
        c.update(data_format="channels_last")
    elif cls == "Reshape":
        c.update(target_shape=list(layer.get_config()["target_shape"]))
    elif cls == "RepeatVector":
        c.update(n=layer.n)
    elif cls == "Permute":
        c.update(dims=list(layer.get_config()["dims"]))
    elif cls == "Masking":
        c.update(mask_value=layer.mask_value)
    elif cls == "Concatenate":
        c.update(axis=layer.axis)
    elif cls in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
        pass
    else:  # other layers (and a user's own): their own config (saving refuses a Lambda)
        c = native
    if native.get("activity_regularizer") is not None:  # Keras's base Layer writes it if set
        c["activity_regularizer"] = native["activity_regularizer"]
    return c


def serialize_layer(layer, build=True):
    """``{"module", "class_name", "config", "registered_name"[, "build_config"]}`` of a
    layer or a nested model, as Keras 3 serializes it."""
    from ..layers import LAYERS
    from ..models.model import Model
    if isinstance(layer, Model):
        spec = model_spec(layer, include_compile=False)
        if not build:
            spec.pop("build_config", None)
        return spec
    cls = type(layer).__name__
    own = LAYERS.get(cls) is type(layer)
    spec = {"module": "keras.layers" if own else type(layer).__module__, "class_name": cls,
            "config": keras_layer_config(layer, build),
            "registered_name": None if own else f"Custom>{cls}"}
    shape = getattr(layer, "input_shape", None)
    if build and layer.built and shape is not None and cls != "InputLayer":
        spec["build_config"] = {"input_shape": _shape(shape)}
    return spec


# ---------------------------------------------------------------------- models out
def _with_build_config(entry, model):
    """A functional config's layer entry with Keras's ``build_config`` in its place."""
    layer = model.get_layer(entry["name"])
    shape = getattr(layer, "input_shape", None)
    if not layer.built or shape is None or entry["class_name"] == "InputLayer" or \
            "build_config" in entry:
        return entry
    build = {"input_shape": _shape(shape)}
    for node in entry.get("inbound_nodes", [])[:1]:
        state = node.get("kwargs", {}).get("initial_state")
        if isinstance(state, dict):  # Keras writes the states as a list
            node["kwargs"]["initial_state"] = state = [state]
        if state:
            build = {"shapes_dict": {
                "sequences_shape": _shape(shape),
                "initial_state_shape": [s["config"]["shape"] for s in state]}}
    out = {}
    for key, value in entry.items():
        if key == "name":
            out["build_config"] = build
        out[key] = value
    return out


def model_spec(model, include_compile=True):
    """The whole ``config.json`` entry of a model (Keras 3's structure)."""
    from ..models.sequential import Sequential
    if isinstance(model, Sequential):
        layers = [serialize_layer(layer) for layer in model._stack]
        config = {"name": model.name, "trainable": model.trainable,
                  "dtype": dtype_policy("float32"), "layers": layers}
        build = None
        if model._input_layer is not None:
            layers.insert(0, serialize_layer(model._input_layer))
            build = _shape(model._input_layer.batch_shape)
            config["build_input_shape"] = build
        spec = {"module": "keras", "class_name": "Sequential", "config": config,
                "registered_name": None, "build_config": {"input_shape": build}}
    else:
        config = model.get_config()  # functional_config over serialize_layer
        config["layers"] = [_with_build_config(entry, model) for entry in config["layers"]]
        for key, struct in (("input_layers", model._inputs_struct),
                            ("output_layers", model._outputs_struct)):
            if not isinstance(struct, (list, dict)) and len(config[key]) == 1:
                config[key] = config[key][0]  # Keras writes one tensor flat
        spec = {"module": "keras.src.models.functional", "class_name": "Functional",
                "config": config, "registered_name": "Functional",
                "build_config": {"input_shape": None}}
    if include_compile:
        spec["compile_config"] = compile_config(model)
    return spec


def _serialize_loss(loss):
    if loss is None or isinstance(loss, (str, int, float)):
        return loss
    if isinstance(loss, dict):
        return {k: _serialize_loss(v) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(v) for v in loss]
    module = "keras.metrics" if hasattr(loss, "update_state") else "keras.losses"
    if hasattr(loss, "get_config"):
        return {"module": module, "class_name": type(loss).__name__,
                "config": loss.get_config(), "registered_name": None}
    raise ValueError(f"Cannot save {loss!r}: fastrnn writes losses and metrics given by "
                     "name or as fastrnn objects, not Python functions.")


def serialize_optimizer(opt):
    config = dict(opt.get_config())
    base = {k: config.pop(k) for k in ("name", "learning_rate", "weight_decay", "clipnorm",
                                       "global_clipnorm", "clipvalue")}
    base.update(use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                loss_scale_factor=None, gradient_accumulation_steps=None)
    base.update(config)
    return {"module": "keras.optimizers", "class_name": type(opt).__name__, "config": base,
            "registered_name": None}


def compile_config(model):
    """``Model.get_compile_config()`` of Keras 3 ({} for a model never compiled)."""
    if not getattr(model, "compiled", False):
        return {}
    loss, loss_weights, metrics, weighted_metrics = model._compile_args
    return {"optimizer": serialize_optimizer(model.optimizer), "loss": _serialize_loss(loss),
            "loss_weights": loss_weights, "metrics": _serialize_loss(metrics),
            "weighted_metrics": _serialize_loss(weighted_metrics) if weighted_metrics
            else None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": False}


# ---------------------------------------------------------------------- reading
_RECURRENT = ("SimpleRNN", "LSTM", "GRU", "Bidirectional")


def _keras2_nodes(class_name, nodes):
    """Keras 2's ``[[name, node, tensor, kwargs], ...]`` node lists in Keras 3's form
    (an RNN's extra inputs are its initial states)."""
    out = []
    for node in nodes:
        if isinstance(node, dict):
            out.append(node)
            continue
        refs = [{"class_name": "__keras_tensor__",
                 "config": {"keras_history": [r[0], r[1], r[2]]}} for r in node]
        kwargs = {}
        for r in node:
            if len(r) > 3 and isinstance(r[3], dict):
                kwargs.update(r[3])
        if len(refs) == 1:
            args = [refs[0]]
        elif class_name in _RECURRENT:
            args = [refs[0]]
            kwargs["initial_state"] = refs[1:]
        else:
            args = [refs]
        out.append({"args": args, "kwargs": kwargs})
    return out


def normalize_spec(spec):
    """A copy of a Keras 3 or Keras 2 layer/model entry in the form fastrnn's
    ``from_config`` reads (node lists, Bidirectional's ``forward_`` names)."""
    if not isinstance(spec, dict):
        return spec
    spec = dict(spec)
    config = dict(spec.get("config") or {})
    cls = spec.get("class_name")
    if "inbound_nodes" in spec:
        spec["inbound_nodes"] = _keras2_nodes(cls, spec["inbound_nodes"])
    if isinstance(config.get("layers"), list):
        config["layers"] = _drop_mask_ops([normalize_spec(s) for s in config["layers"]])
    if cls == "Bidirectional":
        for key in ("layer", "backward_layer"):
            if isinstance(config.get(key), dict):
                config[key] = normalize_spec(config[key])
        inner = config.get("layer")
        if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
            name = inner["config"].get("name", "")
            if isinstance(name, str) and name.startswith("forward_"):
                inner["config"] = dict(inner["config"], name=name[len("forward_"):])
            if _default_backward(inner, config.get("backward_layer")):
                config.pop("backward_layer")
    spec["config"] = config
    return spec


def _refs(value):
    """Names of the layers a node argument refers to."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return {value["config"]["keras_history"][0]}
    if isinstance(value, dict):
        return set().union(*[_refs(v) for v in value.values()]) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*[_refs(v) for v in value]) if value else set()
    return set()


# the ops Keras writes for masks, by class (a legacy .h5 config has no `module`)
_MASK_OPS = ("NotEqual", "Equal", "Any", "All", "LogicalAnd", "LogicalOr", "LogicalNot",
             "Cast")


def _drop_mask_ops(layers):
    """Keras 3 writes the ops that compute a functional model's masks (``NotEqual`` on an
    ``Embedding(mask_zero=True)``'s tokens, module ``keras.src.ops.*``) as nodes feeding the
    ``mask`` arguments of later layers. fastrnn computes those masks itself (each layer's
    ``compute_mask``), so such ops and the ``mask`` arguments go; an op whose result feeds
    anything else stays, and is refused by name when the model is built."""
    ops = {s.get("name") for s in layers if isinstance(s, dict) and (
        str(s.get("module", "")).startswith("keras.src.ops")
        or (not s.get("module") and s.get("class_name") in _MASK_OPS))}  # legacy .h5
    if not ops:
        return layers
    used_otherwise = set()
    for s in layers:
        for node in s.get("inbound_nodes", []) if isinstance(s, dict) else []:
            if isinstance(node, dict):
                kwargs = {k: v for k, v in (node.get("kwargs") or {}).items() if k != "mask"}
                used_otherwise |= _refs(node.get("args", [])) | _refs(kwargs)
    droppable = ops - used_otherwise
    out = []
    for s in layers:
        if isinstance(s, dict) and s.get("name") in droppable:
            continue
        if isinstance(s, dict) and s.get("inbound_nodes"):
            s = dict(s)
            s["inbound_nodes"] = [
                dict(node, kwargs={k: v for k, v in (node.get("kwargs") or {}).items()
                                   if k != "mask"}) if isinstance(node, dict) else node
                for node in s["inbound_nodes"]]
        out.append(s)
    return out


def _default_backward(layer, backward):
    """Whether ``backward`` is what Bidirectional makes from ``layer`` by itself (Keras 3
    always writes it)."""
    if not isinstance(backward, dict) or backward.get("class_name") != layer.get("class_name"):
        return False
    a, b = dict(layer.get("config") or {}), dict(backward.get("config") or {})
    if a.get("go_backwards", False) == b.get("go_backwards", False):
        return False
    for c in (a, b):
        for key in ("name", "go_backwards", "zero_output_for_mask"):
            c.pop(key, None)
    return a == b


def model_from_spec(spec, custom_objects=None):
    """A fastrnn model from a Keras 3 / Keras 2 model entry (no compile)."""
    from ..layers import deserialize
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise ValueError("A model config must be a dict with `class_name` and `config`, got "
                         f"{str(spec)[:200]!r}.")
    return deserialize(normalize_spec(spec), custom_objects)


def _loss_from_config(value):
    from .. import losses
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [_loss_from_config(v) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _loss_from_config(v) for k, v in value.items()}
    if isinstance(value, dict):
        name = value["class_name"]
        cls = losses._CLASSES.get(name)
        if cls is None:
            raise ValueError(f"Unknown loss class `{name}`: fastrnn has no such loss.")
        config = dict(value.get("config") or {})
        known = cls().get_config()
        extra = {k: v for k, v in config.items() if k not in known}
        for k, v in extra.items():
            if not (k == "axis" and v == -1) and k != "dtype":
                raise NotImplementedError(f"fastrnn's {name} does not implement argument "
                                          f"`{k}`; got {v!r}.")
        return cls.from_config({k: v for k, v in config.items() if k in known})
    raise ValueError(f"Cannot read the loss {value!r} from a compile config.")


def _metric_from_config(value):
    from .. import metrics
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [_metric_from_config(v) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _metric_from_config(v) for k, v in value.items()}
    config = value.get("config") or {}
    for candidate in (config.get("name"), config.get("fn"), value["class_name"]):
        if isinstance(candidate, str):
            try:
                metrics.get(candidate)
                return candidate
            except (ValueError, TypeError):
                continue
    raise ValueError(f"Unknown metric `{value['class_name']}` in the compile config.")


_OPTIMIZER_DEFAULTS = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                       "loss_scale_factor": None, "gradient_accumulation_steps": None,
                       "jit_compile": None, "is_legacy_optimizer": False, "decay": 0.0}


def optimizer_from_config(value):
    """A fastrnn optimizer from Keras 3's or Keras 2's serialized optimizer."""
    from .. import optimizers
    if isinstance(value, str):
        return optimizers.get(value)
    if not isinstance(value, dict) or not isinstance(value.get("class_name"), str):
        raise ValueError(f"Cannot read the optimizer {value!r} from a compile config.")
    name = value["class_name"].split(">")[-1]  # Keras 2 writes "Custom>Adam"
    config = dict(value.get("config") or {})
    if not config.get("use_ema", False):  # EMA settings mean nothing without EMA
        config.pop("ema_momentum", None)
        config.pop("ema_overwrite_frequency", None)
    for key, default in _OPTIMIZER_DEFAULTS.items():
        if key in config:
            v = config.pop(key)
            if key != "jit_compile" and v != default:
                raise NotImplementedError(f"fastrnn's {name} optimizer does not implement "
                                          f"`{key}={v!r}`.")
    try:
        return optimizers.get({"class_name": name, "config": config})
    except (TypeError, ValueError) as exc:
        if isinstance(config.get("learning_rate"), dict):
            raise NotImplementedError(f"fastrnn cannot rebuild the learning-rate schedule "
                                      f"of the file's {name} optimizer ({exc}).") from None
        raise


def compile_from_config(model, config):
    """``model.compile`` from Keras 3's compile config or Keras 2's training config."""
    if not config:
        return
    opt = config.get("optimizer", config.get("optimizer_config"))
    metrics = _metric_from_config(config.get("metrics"))
    if isinstance(metrics, list) and len(metrics) == 1 and isinstance(metrics[0], list) \
            and len(model.outputs) == 1:
        metrics = metrics[0]  # Keras 2 writes one list per output
    model.compile(optimizer=optimizer_from_config(opt),
                  loss=_loss_from_config(config.get("loss")),
                  loss_weights=config.get("loss_weights"), metrics=metrics)


def to_json(obj, **kwargs):
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, tuple):
            return list(o)
        raise TypeError(f"Cannot write {o!r} ({type(o).__name__}) into a model config.")
    return json.dumps(obj, default=default, **kwargs)
