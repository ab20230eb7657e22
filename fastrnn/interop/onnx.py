"""Export fastrnn models to ONNX with standard operators: ``to_onnx``.

Each layer becomes a few standard nodes, built with ``onnx.helper`` (never hand-written
protobuf). Tensors stay batch-major (batch, timesteps, features) between layers, as in
fastrnn; the ONNX ``RNN`` operator is time-major, so each recurrent layer sits between two
``Transpose`` nodes (ONNX Runtime's CPU RNN does not implement ``layout=1``):

    SimpleRNN      Transpose -> RNN(direction forward | reverse) -> Squeeze -> [Slice
                   reversing time for go_backwards, since Keras returns the sequence in
                   processing order] -> Transpose; return_sequences=False uses Y_h.
    LSTM, GRU      the same with the ONNX LSTM / GRU operators (gate blocks reordered,
                   GRU linear_before_reset = reset_after; see fastrnn/interop/_onnx_gated.py);
                   return_state gives h (and c for LSTM) from Y_h (and Y_c).
    Bidirectional  [Slice reversing time if the wrapped layer goes backwards] -> Transpose
                   -> RNN / LSTM / GRU(direction bidirectional) -> Transpose + Reshape (concat) or
                   Gather per direction + Add / Mul / Div (sum, mul, ave) or two outputs
                   (merge_mode None).
    Dense          Gemm (2-D inputs) or MatMul + Add (3-D), then the activation.
    Embedding      Gather(embeddings, indices).    Dropout    Identity (inference).
    Activation     Tanh / Relu / Sigmoid / Softmax(axis=-1) / Identity.    Flatten   Flatten.
    Reshape        Reshape.  RepeatVector  Unsqueeze + Tile.  Permute  Transpose.
    Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate
                   Sum, Sub, Mul, Sum + Div, Max, Min, Concat.

Keras's ``h_t = act(x_t kernel + h_{t-1} recurrent_kernel + bias)`` is ONNX's
``H_t = f(X_t W^T + H_{t-1} R^T + Wb + Rb)`` (onnx.ai/onnx/operators/onnx__RNN.html) with
W = kernel^T, R = recurrent_kernel^T, Wb = bias, Rb = 0; the linear activation is ONNX's
``Affine`` with alpha 1, beta 0.
"""
import os
import tempfile

import numpy as np

from ._onnx_layers import _EMITTERS, _MERGES, _Graph, _T, _cast, _emit_merge

__all__ = ["to_onnx"]

DEFAULT_OPSET = 17
_MIN_OPSET = 13  # Squeeze / Unsqueeze take their axes as an input from opset 13
_SUPPORTED = ("SimpleRNN", "LSTM", "GRU", "Bidirectional", "Dense", "Embedding", "Dropout",
              "Activation", "Flatten", "Reshape", "RepeatVector", "Permute", "Add", "Subtract",
              "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Sequential", "Model")


def _emit(g, layer, inputs, init):
    """ONNX nodes for one call of ``layer`` on the tensors ``inputs``; returns its outputs."""
    if _is_graph(layer):
        return _walk_graph(g, layer, inputs)
    if _is_old_sequential(layer):
        return _walk_sequential(g, layer, inputs[0])
    kind = type(layer).__name__
    if kind == "Masking":
        raise NotImplementedError(f"Layer `{layer.name}` (Masking) makes a mask; masks are "
                                  "not exported to ONNX.")
    emitter = _EMITTERS.get(kind)
    if emitter is None and kind not in _MERGES:
        raise NotImplementedError(
            f"to_onnx cannot export layer `{layer.name}` ({type(layer).__name__}); it exports "
            f"{', '.join(_SUPPORTED)}.")
    if not getattr(layer, "built", True):
        raise ValueError(f"Layer `{layer.name}` is not built; build the model (or call it "
                         "on data) before exporting.")
    if kind in _MERGES and not init:
        return _emit_merge(g, layer, [_cast(g, t, layer.dtype, layer.name) for t in inputs])
    if len(inputs) != 1:
        raise NotImplementedError(f"Layer `{layer.name}` gets {len(inputs)} inputs; to_onnx "
                                  "exports these layers with one input.")
    x = inputs[0]
    if init and type(layer).__name__ not in ("SimpleRNN", "LSTM", "GRU", "Bidirectional"):
        raise NotImplementedError(f"Layer `{layer.name}` takes no initial_state.")
    if type(layer).__name__ != "Embedding" and x.dtype != layer.dtype:
        x = _cast(g, x, layer.dtype, layer.name)  # fastrnn layers compute in their dtype
    return emitter(g, layer, x, init)


# ---------------------------------------------------------------------- model walks
def _is_graph(model):
    return all(hasattr(model, a) for a in ("_nodes", "inputs", "outputs"))


def _is_old_sequential(model):
    from ..models import Sequential
    return isinstance(model, Sequential) and not _is_graph(model)


def _walk_sequential(g, model, x):
    """A Sequential without a node graph: its layers in order, one tensor between them."""
    outs = [x]
    for layer in model.layers:
        if len(outs) != 1:
            raise ValueError(f"Layer before `{layer.name}` returns {len(outs)} outputs.")
        outs = _emit(g, layer, outs, None)
    return outs


def _walk_graph(g, model, feeds):
    """A functional model (or a Sequential on the graph): its nodes in topological order,
    values kept by tensor identity. Symbolic ``initial_state`` keyword arguments become
    the RNN node's initial_h; symbolic masks are refused."""
    if len(feeds) != len(model.inputs):
        raise ValueError(f"Model `{model.name}` takes {len(model.inputs)} inputs, got "
                         f"{len(feeds)}.")
    values = {id(kt): t for kt, t in zip(model.inputs, feeds)}
    for node in model._nodes:
        kwargs = dict(getattr(node, "call_kwargs", None) or {})
        init = kwargs.pop("initial_state", None)
        if init is None:
            init = getattr(node, "initial_state", None)
        init = [] if init is None else list(init) if isinstance(init, (list, tuple)) \
            else [init]
        if kwargs.pop("mask", None) is not None:
            raise NotImplementedError(f"Layer `{node.layer.name}` is called with a mask; "
                                      "masks are not exported to ONNX.")
        kwargs.pop("training", None)
        extra = {k: v for k, v in kwargs.items() if v is not None}
        if extra:
            raise NotImplementedError(f"Layer `{node.layer.name}` is called with "
                                      f"{sorted(extra)}, which to_onnx does not export.")
        init_ids = {id(k) for k in init}
        try:
            main = [values[id(k)] for k in node.inputs if id(k) not in init_ids]
            init_t = [values[id(k)] for k in init]
        except KeyError:
            raise ValueError(f"Model `{model.name}`: node of layer `{node.layer.name}` "
                             "reads a tensor no earlier node wrote (is `_nodes` in "
                             "topological order?).") from None
        outs = _emit(g, node.layer, main, init_t or None)
        if len(outs) != len(node.outputs):
            raise ValueError(f"Layer `{node.layer.name}` gave {len(outs)} ONNX outputs for "
                             f"{len(node.outputs)} symbolic outputs.")
        values.update((id(kt), t) for kt, t in zip(node.outputs, outs))
    return [values[id(kt)] for kt in model.outputs]


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _feeds(model):
    """The graph inputs: batch ("batch", shared) and time ("time", or "<input>_time" per
    input of a several-input model) dynamic; time fixed only where a Flatten makes the
    model depend on it."""
    fixed_time = any(type(lay).__name__ == "Flatten" for lay in _all_layers(model))
    from ..models import Sequential
    if _is_graph(model) and not model.inputs:
        raise ValueError(f"Model `{model.name}` is not built; build it (or call it on "
                         "data) before exporting so its input shape is known.")
    if _is_graph(model):
        sequential = isinstance(model, Sequential)  # named "input", as without the graph
        specs = [("input" if sequential else getattr(kt, "name", None) or f"input_{i}",
                  tuple(kt.shape),
                  str(getattr(kt, "dtype", "float32")), _consumer(model, kt))
                 for i, kt in enumerate(model.inputs)]
    else:
        if not model.built or not model.layers:
            raise ValueError(f"Model `{model.name}` is not built; build it (or call it on "
                             "data) before exporting so its input shape is known.")
        first = model.layers[0]
        specs = [("input", tuple(model.input_shape),
                  "int64" if type(first).__name__ == "Embedding" else first.dtype, first)]
    feeds = []
    for name, shape, dtype, consumer in specs:
        if consumer is not None and type(consumer).__name__ == "Embedding" \
                or not dtype.startswith("float"):
            dtype = "int64"
        elif consumer is not None:
            dtype = consumer.dtype
        dims = ["batch"] + [d if d is not None else f"{name}_dim{i + 1}"
                            for i, d in enumerate(shape[1:])]
        if len(shape) >= 2 and not fixed_time and (len(shape) == 3 or dtype.startswith("int")):
            dims[1] = "time" if len(specs) == 1 else f"{name}_time"  # lengths may differ
        feeds.append(_T(name, dims, dtype))
    return feeds


def _consumer(model, kt):
    for node in model._nodes:
        if any(k is kt for k in node.inputs):
            return node.layer
    return None


def to_onnx(model, path, opset=None):
    """Export a fastrnn model to an ONNX file of standard operators.

    Args:
        model: a built ``Sequential`` or functional ``Model`` (walked through its
            ``_nodes``) of SimpleRNN, LSTM, GRU (both ``reset_after``), Bidirectional of
            them (every merge mode), Dense (2-D and
            3-D inputs), Embedding, Dropout (Identity), Activation, Flatten, Reshape,
            RepeatVector, Permute and the merging layers (Add, Subtract, Multiply,
            Average, Maximum, Minimum, Concatenate); nested models are inlined.
        path: file to write (conventionally ``*.onnx``). The file is written to a
            temporary file in the same folder and renamed, so an interrupted export never
            leaves a partial file at ``path``.
        opset: ONNX opset version, at least 13 (default 17).

    Returns:
        The ``onnx.ModelProto`` written (checked with ``onnx.checker.check_model``,
        full_check=True).

    The graph's inputs keep the model's input names (Sequential: "input"), with the
    batch axis (and the time axis, unless a Flatten fixes it) dynamic; the features axis
    is fixed. Float inputs have the consuming layer's dtype (float32 or float64; note
    ONNX Runtime implements the RNN, LSTM and GRU operators only for float32); inputs of
    an Embedding (and other non-float inputs) are int64 indices. Outputs are named "output"
    ("output_0", "output_1"... when there are several, e.g. with return_state or
    merge_mode None), or after the model's ``output_names``.
    Exported: inference (Dropout is the identity), zero initial states, and in functional
    models symbolic ``initial_state`` tensors (an encoder's states feeding a decoder) as
    the node's ``initial_h`` (and an LSTM's ``initial_c``). Not exported: masks
    (refused), stateful layers (refused).

    Raises:
        ImportError without the ``onnx`` package; ValueError for an unbuilt model or a bad
        opset; NotImplementedError naming a layer or option ONNX export does not cover.
    """
    try:
        import onnx
    except ImportError:
        raise ImportError("fastrnn.interop.to_onnx needs the onnx package: "
                          "pip install onnx") from None
    max_opset = onnx.defs.onnx_opset_version()
    opset = DEFAULT_OPSET if opset is None else opset
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)) \
            or not _MIN_OPSET <= opset <= max_opset:
        raise ValueError(f"Received an invalid value for argument `opset`, expected an "
                         f"integer in [{_MIN_OPSET}, {max_opset}], got {opset!r}.")
    if not (_is_graph(model) or _is_old_sequential(model)):
        raise TypeError("Argument `model` of to_onnx must be a fastrnn Sequential or Model, "
                        f"got {type(model).__name__}.")
    g = _Graph(onnx, int(opset))
    feeds = _feeds(model)
    for t in feeds:
        g._used.add(t.name)
    outs = _walk_graph(g, model, feeds) if _is_graph(model) else \
        _walk_sequential(g, model, feeds[0])
    helper = onnx.helper
    graph_outputs = []
    for i, t in enumerate(outs):
        name = g.name(_output_name(model, i, len(outs)))
        g.nodes.append(helper.make_node("Identity", [t.name], [name], name=g.name(name + "/Id")))
        graph_outputs.append(_value_info(helper, name, t))
    graph = helper.make_graph(g.nodes, getattr(model, "name", "fastrnn"),
                              [_value_info(helper, t.name, t) for t in feeds], graph_outputs,
                              initializer=g.initializers)
    opsets = [helper.make_opsetid("", int(opset))]
    from .. import __version__
    proto = helper.make_model(graph, opset_imports=opsets, producer_name="fastrnn",
                              producer_version=__version__,
                              ir_version=helper.find_min_ir_version_for(opsets))
    if proto.ByteSize() >= 2**31:
        raise ValueError(f"Model `{getattr(model, 'name', '')}` needs {proto.ByteSize():,} "
                         "bytes as ONNX, past protobuf's 2 GB limit; to_onnx does not write "
                         "ONNX external-data files.")
    onnx.checker.check_model(proto, full_check=True)
    _write_atomically(proto, path)
    return proto


def _output_name(model, i, n):
    names = getattr(model, "output_names", None)
    if names and len(names) == n:
        return str(names[i])
    return "output" if n == 1 else f"output_{i}"


def _value_info(helper, name, t):
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(t.dtype))
    return helper.make_tensor_value_info(name, elem, list(t.shape))


def _write_atomically(proto, path):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(proto.SerializeToString())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
