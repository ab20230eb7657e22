"""The graph under every model: nodes in topological order, layers in Keras's order, and a
run over arrays (values and masks kept by tensor id).

The ordering follows Keras 3's ``map_graph`` (keras/src/ops/function.py): depth-first from
the outputs; a node's depth is the longest path to an output; layers sorted by decreasing
depth, ties by first traversal. ``get_weights`` order therefore matches Keras's, so
``set_weights(keras_model.get_weights())`` carries a Keras functional model over.
"""
import warnings
from collections import defaultdict

from ..layers.input_layer import InputLayer, KerasTensor, flatten, map_structure

__all__ = ["map_graph", "run_graph", "run_node"]


def _build_map(inputs, outputs):
    finished, in_progress, ordered, op_index = set(), set(), [], {}
    input_ids = {id(t) for t in inputs}

    def visit(tensor):
        if tensor._history is None:
            raise ValueError(f"{tensor!r} was not made by `fastrnn.Input` or a layer called on "
                             "one: a model's tensors must come from its inputs.")
        layer, node_index, _ = tensor._history
        node = layer._inbound_nodes[node_index]
        if node in finished:
            return
        if not isinstance(layer, InputLayer) and id(tensor) in input_ids:
            finished.add(node)
            return
        if node in in_progress:
            raise ValueError(f"Tensor {tensor!r} from layer `{layer.name}` is part of a "
                             "cycle.")
        op_index.setdefault(layer, len(op_index))
        in_progress.add(node)
        if not isinstance(layer, InputLayer):
            for t in node.inputs:
                visit(t)
        finished.add(node)
        in_progress.discard(node)
        ordered.append(node)

    for out in outputs:
        visit(out)
    return ordered, op_index


def map_graph(inputs, outputs):
    """Return ``(nodes, layers)``: the non-input nodes in execution order and every layer
    (input layers included) in Keras's order.

    Raises:
        ValueError: a tensor the outputs need cannot be computed from ``inputs`` (the
            message names the layer and the tensor), or the graph has a cycle.
    """
    ordered, op_index = _build_map(inputs, outputs)
    in_graph = set(ordered)
    node_depth, layer_depth = {}, {}
    for node in reversed(ordered):
        depth = node_depth.setdefault(node, 0)
        depth = max(depth, layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes if not isinstance(node.layer, InputLayer) else []:
            if parent in in_graph:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for t in inputs:  # inputs not connected to any output still belong to the model
        layer = t._history[0]
        if isinstance(layer, InputLayer) and layer not in layer_depth:
            layer_depth[layer] = 0
            op_index[layer] = -1
            node_depth[layer._inbound_nodes[0]] = 0
    nodes_by_depth, layers_by_depth = defaultdict(list), defaultdict(list)
    for node, depth in node_depth.items():
        nodes_by_depth[depth].append(node)
    for layer, depth in layer_depth.items():
        layers_by_depth[depth].append(layer)
    layers = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers.extend(sorted(layers_by_depth[depth], key=lambda op: op_index[op]))
    computable = {id(t) for t in inputs}
    nodes, done = [], []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if isinstance(node.layer, InputLayer):
                if id(node.outputs[0]) not in computable:
                    raise ValueError(
                        f"Graph disconnected: the model needs input `{node.layer.name}` "
                        f"{node.outputs[0]!r}, which is not among the model's inputs. The "
                        f"layers reached before it: {done}.")
                continue
            for t in node.inputs:
                if id(t) not in computable:
                    raise ValueError(
                        f"Graph disconnected: cannot find parent for tensor {t!r} at layer "
                        f"`{node.layer.name}`. The layers reached without issue: {done}.")
            done.append(node.layer.name)
            nodes.append(node)
            computable.update(id(t) for t in node.outputs)
    names = [layer.name for layer in layers]
    for name in set(names):
        if names.count(name) > 1:
            raise ValueError(f"The name `{name}` is used {names.count(name)} times in the "
                             "model. All layer names should be unique.")
    return nodes, layers


def _fill(structure, values):
    return map_structure(lambda t: values[id(t)], structure)


def run_graph(nodes, inputs, outputs, arrays, masks=None, training=False, tape=None,
              ctx_for=(), values=None):
    """Run ``nodes`` on ``arrays`` (one per input tensor).

    Args:
        masks: one mask (or None) per input tensor.
        tape: a ``Tape`` recording every node's context for a backward pass, or None.
        ctx_for: ids of output tensors whose producing node must run ``forward`` (keep a
            context) even without a tape; their contexts are returned.
        values: a dict to receive every tensor's value by tensor id (activity
            regularizers need the intermediate outputs), or None.

    Returns:
        ``(output arrays, output masks, contexts)``: lists in ``outputs``' order, and a
        dict {tensor id: context} for ``ctx_for``.
    """
    values = {} if values is None else values
    values.update((id(t), a) for t, a in zip(inputs, arrays))
    mask_of = {id(t): m for t, m in zip(inputs, masks or [None] * len(inputs))}
    contexts = {}
    for node in nodes:
        run_node(node, values, mask_of, training, tape, ctx_for, contexts)
    return ([values[id(t)] for t in outputs], [mask_of.get(id(t)) for t in outputs],
            contexts)


def run_node(node, values, mask_of, training, tape=None, ctx_for=(), contexts=None):
    """Run one node of ``run_graph`` (its loop body): read the node's inputs and masks
    from ``values`` / ``mask_of`` (by tensor id), write its outputs and their masks
    there; record its context on ``tape`` and in ``contexts`` as ``run_graph`` says.
    Returns the node's context, or None when none was kept."""
    layer = node.layer
    a = node.args
    if type(a) is KerasTensor:  # one input, the common case: no structure to walk
        args = values[id(a)]
        arg_masks = mask_of.get(id(a))
        has_mask = arg_masks is not None
    else:
        args = _fill(a, values)
        arg_masks = map_structure(lambda t: mask_of.get(id(t)), a)
        has_mask = any(m is not None for m in flatten(arg_masks))
    kwargs = {"training": bool(node.call_kwargs.get("training", training))}
    # Keras 3 (Layer.__call__, step 6) fills in `mask` only for a layer called with one
    # tensor argument: an RNN also given `initial_state` tensors runs unmasked, while its
    # output mask still comes from the sequence's mask (fixture graph_mask_initial_state_*)
    if has_mask and layer.consumes_mask and node.initial_state is None:
        kwargs["mask"] = arg_masks
    elif has_mask and not layer.supports_masking and \
            not getattr(layer, "_warned_mask", False):
        layer._warned_mask = True
        warnings.warn(f"Layer '{layer.name}' (of type {type(layer).__name__}) was passed "
                      "an input with a mask attached to it. However, this layer does not "
                      "support masking and will therefore destroy the mask information. "
                      "Downstream layers will not see the mask.", UserWarning,
                      stacklevel=3)
    if node.initial_state is not None:
        kwargs["initial_state"] = _fill(node.initial_state, values)
    ctx = None
    want_ctx = tape is not None or (bool(ctx_for) and
                                    any(id(t) in ctx_for for t in node.outputs))
    if want_ctx:
        out, ctx = layer.forward(args, **kwargs)
        if tape is not None:
            tape.record(layer, ctx, node.inputs, node.outputs)
        for t in node.outputs:
            if id(t) in ctx_for:
                contexts[id(t)] = ctx
    else:
        out = layer.call(args, **kwargs)
    out_list = out if len(node.outputs) > 1 else [out]
    if len(out_list) != len(node.outputs):
        raise ValueError(f"Layer `{layer.name}` returned {len(out_list)} outputs where the "
                         f"model expects {len(node.outputs)}.")
    out_masks = layer.compute_mask(args, arg_masks if has_mask else None) \
        if layer.supports_masking else None
    out_masks = out_masks if isinstance(out_masks, list) else [out_masks]
    for i, (t, v) in enumerate(zip(node.outputs, out_list)):
        values[id(t)] = v
        mask_of[id(t)] = out_masks[i] if i < len(out_masks) else None
    return ctx


def check_symbolic(structure, what):
    for t in flatten(structure):
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Argument `{what}` of Model must hold fastrnn symbolic tensors "
                            f"(from `fastrnn.Input` or layer calls), got "
                            f"{type(t).__name__}: {t!r}.")
