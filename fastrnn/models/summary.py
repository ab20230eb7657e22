"""``summary()``: Keras 2's table (the seed tutorial's), with Keras 2's "Connected to"
column for models that are not a simple chain, and Keras 3's "?" / "0 (unbuilt)" rows
for layers not built yet."""
from .. import _validation as V
from ..layers.input_layer import InputLayer
from .config import node_index_map

__all__ = ["print_summary"]


def _row(print_fn, fields, positions):
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line += str(field)
        if i < len(fields) - 1:  # the last field may run past the line ("0 (unbuilt)")
            line = line[:positions[i]]
        line += " " * (positions[i] - len(line))
    print_fn(line)


def _is_chain(model):
    """Keras 2's test: one node per depth, each with at most one input, no shared layer."""
    seen = set()
    for node in model._nodes:
        if len(node.inputs) > 1 or node.layer in seen:
            return False
        seen.add(node.layer)
    depths = {}
    for node in model._nodes:
        for parent in node.parent_nodes:
            depths.setdefault(id(parent), 0)
            depths[id(parent)] += 1
    return all(count <= 1 for count in depths.values())


def _output_shape(node_set, layer):
    own = [n for n in layer._inbound_nodes if n in node_set]
    if isinstance(layer, InputLayer):
        return V.format_shape(layer.batch_shape)
    if len(own) > 1:
        return "multiple"
    if not own:
        return "?"
    shapes = [t.shape for t in own[0].outputs]
    return V.format_shape(shapes[0] if len(shapes) == 1 else shapes)


def print_summary(model, line_length=None, positions=None, print_fn=None, rows=None):
    """Print the table.

    Args:
        rows: for an unbuilt Sequential, ``[(layer, shape or None)]`` to print instead of
            the graph's layers (shapes unknown: "?").
    """
    print_fn = print if print_fn is None else print_fn
    chain = rows is not None or _is_chain(model)
    if chain:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    _row(print_fn, header, positions)
    print_fn("=" * line_length)
    if rows is None:
        node_set = set(model._nodes)
        rows = [(layer, _output_shape(node_set, layer)) for layer in model.layers]
        index = node_index_map(model)
    for i, (layer, shape) in enumerate(rows):
        built = layer.built or isinstance(layer, InputLayer)
        params = str(layer.count_params()) if built else "0 (unbuilt)"
        fields = [f"{layer.name} ({layer.class_name})", shape, params]
        connections = []
        if not chain:
            for node in layer._inbound_nodes:
                if node not in node_set:
                    continue
                for t in node.inputs:
                    src, node_i, tensor_i = t._history
                    k = index.get(id(src._inbound_nodes[node_i]), node_i)
                    connections.append(f"{src.name}[{k}][{tensor_i}]")
            fields.append(connections[0] if connections else "")
        _row(print_fn, fields, positions)
        for extra in connections[1:]:
            _row(print_fn, ["", "", "", extra], positions)
        print_fn("=" * line_length if i == len(rows) - 1 else "_" * line_length)
    weights = model.weights if model.built else []
    trainable = {id(w) for w in model.trainable_weights} if model.built else set()
    total = sum(w.size for w in weights)
    n_trainable = sum(w.size for w in weights if id(w) in trainable)
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {n_trainable:,}")
    print_fn(f"Non-trainable params: {total - n_trainable:,}")
    print_fn("_" * line_length)
