"""A functional model's config in Keras 3's form, and the graph rebuilt from one.

    {"name": ..., "trainable": ...,
     "layers": [{"module", "class_name", "config", "registered_name", "name",
                 "inbound_nodes": [{"args": [...], "kwargs": {...}}, ...]}, ...],
     "input_layers": [[layer_name, node_index, tensor_index], ...],
     "output_layers": [[layer_name, node_index, tensor_index], ...]}

A tensor in ``args``/``kwargs`` is ``{"class_name": "__keras_tensor__", "config": {"shape",
"dtype", "keras_history": [layer_name, node_index, tensor_index]}}``, node indices
counting only the nodes of this model (keras/src/models/functional.py).
"""
from ..layers.input_layer import InputLayer, KerasTensor, map_structure

__all__ = ["functional_config", "rebuild_graph"]


def node_index_map(model):
    """{id(node): index among its layer's nodes that belong to this model}."""
    own = {id(n) for n in model._nodes}
    own.update(id(layer._inbound_nodes[0]) for layer in model.layers
               if isinstance(layer, InputLayer))
    index = {}
    for layer in model.layers:
        k = 0
        for node in layer._inbound_nodes:
            if id(node) in own:
                index[id(node)] = k
                k += 1
    return index


def _tensor_ref(t, index):
    layer, node_i, tensor_i = t._history
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(t.shape), "dtype": t.dtype,
                       "keras_history": [layer.name,
                                         index[id(layer._inbound_nodes[node_i])],
                                         tensor_i]}}


def functional_config(model):
    from ..layers import serialize
    index = node_index_map(model)
    own = {id(n) for n in model._nodes}
    layers = []
    for layer in model.layers:
        spec = serialize(layer)
        spec["name"] = layer.name
        nodes = []
        if not isinstance(layer, InputLayer):
            for node in layer._inbound_nodes:
                if id(node) not in own:
                    continue
                kwargs = dict(node.call_kwargs)
                if node.initial_state is not None:
                    refs = [_tensor_ref(t, index) for t in node.initial_state]
                    kwargs["initial_state"] = refs[0] if len(refs) == 1 else refs
                nodes.append({"args": [map_structure(lambda t: _tensor_ref(t, index),
                                                     node.args)],
                              "kwargs": kwargs})
        spec["inbound_nodes"] = nodes
        layers.append(spec)

    def refs(tensors):
        return [_tensor_ref(t, index)["config"]["keras_history"] for t in tensors]
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": refs(model.inputs), "output_layers": refs(model.outputs)}


def _is_ref(value):
    return isinstance(value, dict) and value.get("class_name") == "__keras_tensor__"


def rebuild_graph(config, custom_objects=None):
    """Create the layers of ``config`` and call them on symbolic tensors in an order that
    satisfies every node's inputs. Returns ``(inputs, outputs, name)``.

    Raises:
        ValueError: an unknown or code-carrying layer class (naming it), or nodes whose
            inputs can never be computed (a broken config).
    """
    from ..layers import deserialize
    created = {}
    produced = {}  # (layer name, node index) -> list of output tensors
    pending = []
    for spec in config["layers"]:
        name = spec.get("name") or spec.get("config", {}).get("name")
        layer = deserialize(spec, custom_objects)
        created[name] = layer
        if isinstance(layer, InputLayer):
            produced[(name, 0)] = [layer.output]
        for node_spec in spec.get("inbound_nodes", []):
            pending.append((name, node_spec))

    def resolve(value):
        if _is_ref(value):
            lname, ni, ti = value["config"]["keras_history"]
            outs = produced.get((lname, ni))
            if outs is None:
                raise LookupError
            return outs[ti]
        if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and \
                isinstance(value[1], int):  # Keras 2's [name, node, tensor, kwargs?] form
            outs = produced.get((value[0], value[1]))
            if outs is None:
                raise LookupError
            return outs[value[2]]
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    counts = {}
    while pending:
        progressed = False
        rest = []
        for name, node_spec in pending:
            try:
                args = resolve(node_spec.get("args", []))
                kwargs = resolve(node_spec.get("kwargs", {}))
            except LookupError:
                rest.append((name, node_spec))
                continue
            kwargs.pop("mask", None)
            if kwargs.get("training") is False:  # Keras records the default; not a choice
                kwargs.pop("training")
            x = args[0] if len(args) == 1 else args
            out = created[name](x, **kwargs)
            k = counts.get(name, 0)
            counts[name] = k + 1
            produced[(name, k)] = out if isinstance(out, list) else [out]
            progressed = True
        if not progressed:
            names = sorted({name for name, _ in rest})
            raise ValueError(f"The model config cannot be rebuilt: the inputs of layers "
                             f"{names} are never produced.")
        pending = rest

    def lookup(ref):
        lname, ni, ti = ref[:3]
        return produced[(lname, ni)][ti]
    def lookup_all(refs):
        if refs and not isinstance(refs[0], list):  # a single [name, 0, 0]
            return [lookup(refs)]
        return [lookup(r) for r in refs]
    inputs = lookup_all(config["input_layers"])
    outputs = lookup_all(config["output_layers"])
    if inputs and isinstance(inputs[0], KerasTensor) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, list) and len(outputs) == 1:
        outputs = outputs[0]
    return inputs, outputs, config.get("name")
