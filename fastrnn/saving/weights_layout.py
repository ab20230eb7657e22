"""Where each weight lives in Keras 3's ``model.weights.h5`` / ``.weights.h5`` files, and
the optimizer's variables in Keras's order.

Keras 3 (keras/src/saving/saving_lib.py, ``_save_state``) writes one ``vars`` group per
saveable object with the object's name in ``@name`` and its variables as datasets ``0,
1, ...``; layers sit under ``layers/<snake_case class name>[_k]`` (numbered per class in
``model.layers`` order, never by layer name), a recurrent layer's weights under
``cell/vars``, Bidirectional's under ``forward_layer/cell/vars`` and
``backward_layer/cell/vars``, the optimizer's under ``optimizer/vars``: ``iterations``,
``learning_rate``, then its slots (Adam: momentum and velocity per variable,
interleaved, then velocity_hat for AMSGrad; RMSprop: velocities, then momentums, then
average gradients; SGD: momentums).
"""
import re

import numpy as np

__all__ = ["keras_snake_case", "model_layers", "entries", "optimizer_slots",
           "optimizer_arrays", "set_optimizer_arrays"]


def keras_snake_case(name):
    """keras.src.utils.naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def model_layers(model, order=None):
    """The layers as Keras's ``model.layers`` lists them (a Sequential without its
    InputLayer); ``order``: layer names to follow instead (a file's config)."""
    from ..layers.input_layer import InputLayer
    from ..models.sequential import Sequential
    layers = list(model._stack) if isinstance(model, Sequential) else list(model.layers)
    if order is None:
        return layers
    by_name = {layer.name: layer for layer in layers}
    ordered = [by_name[n] for n in order if n in by_name]
    missing = [layer for layer in layers if all(layer is not o for o in ordered)]
    ordered += [layer for layer in missing if not isinstance(layer, InputLayer)]
    return ordered


def _cell(prefix, layer, label=None):
    label = label or layer.name
    return [(prefix, layer.name, [], label),
            (f"{prefix}/cell", keras_snake_case(type(layer).__name__) + "_cell",
             list(layer.weights), label)]


def _layer_entries(prefix, layer):
    from ..layers.base import Layer
    from ..layers.rnn.base import BaseRNN
    from ..layers.rnn.bidirectional import Bidirectional
    from ..models.model import Model
    if isinstance(layer, Model):
        return entries(layer, prefix)
    if isinstance(layer, Bidirectional):
        b, f = layer.backward_layer, layer.forward_layer
        return ([(prefix, layer.name, [], layer.name)] +
                _cell(f"{prefix}/backward_layer", b, f"{layer.name} ({b.name})") +
                _cell(f"{prefix}/forward_layer", f, f"{layer.name} ({f.name})"))
    if isinstance(layer, BaseRNN):
        return _cell(prefix, layer)
    inner = getattr(layer, "layer", None)
    if isinstance(inner, Layer):  # a wrapper (TimeDistributed): Keras walks `.layer`
        return [(prefix, layer.name, [], layer.name)] + _layer_entries(f"{prefix}/layer",
                                                                       inner)
    return [(prefix, layer.name, list(layer.weights), layer.name)]


def entries(model, prefix="", order=None):
    """``[(group path, @name, [weight arrays], layer label)]`` for every ``vars`` group
    Keras writes for ``model`` (the arrays are the model's own, in Keras's order)."""
    out = [(prefix, model.name, [], model.name)]
    used = {}
    for layer in model_layers(model, order):
        base = keras_snake_case(type(layer).__name__)
        if type(layer).__name__ in ("Model", "Functional"):
            base = "functional"
        n = used.get(base, 0)
        used[base] = n + 1
        key = base if n == 0 else f"{base}_{n}"
        path = f"{prefix}/layers/{key}" if prefix else f"layers/{key}"
        out += _layer_entries(path, layer)
    return out


def optimizer_slots(opt):
    """Groups of slot names; each group is created for every variable in turn."""
    name = type(opt).__name__
    if name == "Adam":
        return [("momentum", "velocity")] + ([("velocity_hat",)] if opt.amsgrad else [])
    if name == "RMSprop":
        return [("velocity",)] + ([("momentum",)] if opt.momentum > 0 else []) + \
            ([("average_gradient",)] if opt.centered else [])
    if name == "SGD":
        return [("momentum",)] if opt.momentum != 0 else []
    raise ValueError(f"fastrnn cannot save the state of optimizer {name}.")


def _slot_list(opt, variables):
    return [(v, s) for group in optimizer_slots(opt) for v in variables for s in group]


def optimizer_arrays(opt, variables):
    """``[iterations (int64), learning_rate (float32), slots...]`` in Keras's order
    (slots never created yet are zeros, as Keras's freshly built optimizer has them)."""
    out = [np.asarray(opt.iterations, np.int64), np.asarray(opt.learning_rate, np.float32)]
    for v, s in _slot_list(opt, variables):
        entry = opt._slots.get(id(v))
        arr = entry[1].get(s) if entry is not None and entry[0] is v else None
        out.append(np.zeros_like(v) if arr is None else arr)
    return out


def slot_names(opt, variables, weight_names):
    """Keras 3's legacy-h5 names of ``optimizer_arrays``."""
    pre = opt.name
    names = [f"{pre}/iteration", f"{pre}/learning_rate"]
    index = {id(v): n for v, n in zip(variables, weight_names)}
    for v, s in _slot_list(opt, variables):
        names.append(f"{pre}/{index[id(v)].replace('/', '_')}_{s}")
    return names


def set_optimizer_arrays(opt, variables, arrays, where):
    """Restore ``optimizer_arrays`` (iterations and learning rate first when
    ``len(arrays)`` says so). Returns False (and sets nothing) when the count does not
    fit this optimizer and these variables, as Keras skips it with a warning."""
    slots = _slot_list(opt, variables)
    arrays = list(arrays)
    if len(arrays) in (1, 2):  # an optimizer never built: iterations (and lr) only
        head, arrays, slots = arrays, [], []
    elif len(arrays) == len(slots) + 2:
        head, arrays = arrays[:2], arrays[2:]
    elif len(arrays) == len(slots) + 1:  # Keras 2: iterations only
        head, arrays = arrays[:1], arrays[1:]
    else:
        return False
    for (v, _), a in zip(slots, arrays):
        if np.shape(a) != v.shape:
            raise ValueError(f"{where}: an optimizer slot has shape {np.shape(a)} but the "
                             f"variable it belongs to has shape {v.shape}: the optimizer "
                             "state is from another model.")
    opt.iterations = int(np.asarray(head[0]))
    if len(head) > 1 and isinstance(opt._learning_rate, (int, float)):  # not a schedule
        opt.learning_rate = float(np.asarray(head[1]))
    for (v, s), a in zip(slots, arrays):
        opt._slot(v, s)[...] = np.asarray(a, v.dtype)
    return True
