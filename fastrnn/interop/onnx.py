"""Export fastrnn models to ONNX with standard operators: ``to_onnx``.

Each layer becomes a few standard nodes, built with ``onnx.helper`` (never hand-written
protobuf). Tensors stay batch-major (batch, timesteps, features) between layers, as in
fastrnn; the ONNX ``RNN`` operator is time-major, so each recurrent layer sits between two
``Transpose`` nodes (ONNX Runtime's CPU RNN does not implement ``layout=1``):

    SimpleRNN      Transpose -> RNN(direction forward | reverse) -> Squeeze -> [Slice
                   reversing time for go_backwards, since Keras returns the sequence in
                   processing order] -> Transpose; return_sequences=False uses Y_h.
    Bidirectional  [Slice reversing time if the wrapped layer goes backwards] -> Transpose
                   -> RNN(direction bidirectional) -> Transpose + Reshape (concat) or
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

__all__ = ["to_onnx"]

DEFAULT_OPSET = 17
_MIN_OPSET = 13  # Squeeze / Unsqueeze take their axes as an input from opset 13
_RNN_ACTS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid", "linear": "Affine"}
_ACTS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid", "softmax": "Softmax",
         "linear": "Identity"}
_SUPPORTED = ("SimpleRNN", "Bidirectional", "Dense", "Embedding", "Dropout", "Activation",
              "Flatten", "Reshape", "RepeatVector", "Permute", "Add", "Subtract", "Multiply",
              "Average", "Maximum", "Minimum", "Concatenate", "Sequential", "Model")


class _T:
    """A tensor of the graph being built: ONNX name, shape (ints, dim names or None)
    and NumPy dtype name."""

    def __init__(self, name, shape, dtype):
        self.name, self.shape, self.dtype = name, tuple(shape), dtype


class _Graph:
    """Nodes and initializers, with unique names."""

    def __init__(self, onnx, opset):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.nodes, self.initializers, self._used = [], [], set()

    def name(self, base):
        base = "".join(c if c.isalnum() or c in "_-." else "_" for c in str(base)) or "t"
        name, i = base, 0
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    def const(self, array, base):
        name = self.name(base)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, base, outputs=1, **attrs):
        names = [self.name(f"{base}_{op}" if outputs == 1 else f"{base}_{op}_{i}")
                 for i in range(outputs)]
        self.nodes.append(self.helper.make_node(op, list(inputs), names,
                                                name=self.name(f"{base}/{op}"), **attrs))
        return names[0] if outputs == 1 else names

    # shorthands used by the emitters
    def transpose(self, x, perm, base):
        return self.node("Transpose", [x], base, perm=list(perm))

    def axes(self, axes, base):
        return self.const(np.array(axes, np.int64), f"{base}_axes")

    def squeeze(self, x, axis, base):
        return self.node("Squeeze", [x, self.axes([axis], base)], base)

    def unsqueeze(self, x, axis, base):
        return self.node("Unsqueeze", [x, self.axes([axis], base)], base)

    def reverse(self, x, axis, base):
        """x reversed along ``axis`` (Slice with step -1)."""
        consts = [self.const(np.array([v], np.int64), f"{base}_{tag}") for tag, v in
                  (("start", -1), ("end", np.iinfo(np.int64).min), ("axis", axis),
                   ("step", -1))]
        return self.node("Slice", [x] + consts, base)

    def pick(self, x, index, axis, base):
        """x[index] along ``axis`` (the axis removed)."""
        return self.node("Gather", [x, self.const(np.array(index, np.int64), f"{base}_i")],
                         base, axis=axis)


def _cast(g, t, dtype, base):
    if t.dtype == dtype:
        return t
    to = g.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return _T(g.node("Cast", [t.name], base, to=to), t.shape, dtype)


def _activation(g, name, x, base):
    if name == "linear":
        return x
    if name == "softmax":
        return g.node("Softmax", [x], base, axis=-1)
    return g.node(_ACTS[name], [x], base)


# ---------------------------------------------------------------------- recurrent layers
def _check_rnn(layer, sub):
    if getattr(sub, "stateful", False):
        raise NotImplementedError(f"Layer `{layer.name}` is stateful; an ONNX graph keeps no "
                                  "state between runs. Export a stateful=False copy.")
    if sub.activation not in _RNN_ACTS:
        raise NotImplementedError(f"Layer `{layer.name}`: activation {sub.activation!r} has "
                                  "no ONNX RNN equivalent.")


def _rnn_node(g, layer, subs, x_t, init, direction):
    """One ONNX RNN node over time-major x_t for the fastrnn layers ``subs`` (one per
    direction); returns the names of Y (T, dirs, B, H) and Y_h (dirs, B, H)."""
    dtype = np.dtype(layer.dtype)
    H = subs[0].units
    W = np.stack([s.kernel.T for s in subs]).astype(dtype)
    R = np.stack([s.recurrent_kernel.T for s in subs]).astype(dtype)
    biases = [s.bias if s.use_bias else np.zeros(H, dtype) for s in subs]
    inputs = [x_t, g.const(W, f"{layer.name}_W"), g.const(R, f"{layer.name}_R")]
    if any(s.use_bias for s in subs):
        Bb = np.stack([np.concatenate([b, np.zeros(H, dtype)]) for b in biases]).astype(dtype)
        inputs.append(g.const(Bb, f"{layer.name}_B"))
    else:
        inputs.append("")
    if init:
        parts = [g.unsqueeze(_cast(g, h, layer.dtype, layer.name).name, 0, layer.name)
                 for h in init]
        h0 = parts[0] if len(parts) == 1 else g.node("Concat", parts, layer.name, axis=0)
        inputs += ["", h0]  # sequence_lens unused: every step of every sequence runs
    acts = [_RNN_ACTS[s.activation] for s in subs]
    attrs = dict(hidden_size=H, activations=acts, direction=direction)
    affine = sum(a == "Affine" for a in acts)
    if affine:
        attrs.update(activation_alpha=[1.0] * affine, activation_beta=[0.0] * affine)
    return g.node("RNN", inputs, layer.name, outputs=2, **attrs)


def _emit_simple_rnn(g, layer, x, init):
    _check_rnn(layer, layer)
    B, T = x.shape[0], x.shape[1]
    x_t = g.transpose(x.name, (1, 0, 2), layer.name)
    y, y_h = _rnn_node(g, layer, [layer], x_t, init,
                       "reverse" if layer.go_backwards else "forward")
    last = _T(g.squeeze(y_h, 0, layer.name), (B, layer.units), layer.dtype)
    if layer.return_sequences:
        seq = g.squeeze(y, 1, layer.name)                   # (T, B, H), positions
        if layer.go_backwards:
            seq = g.reverse(seq, 0, layer.name)             # processing order, as Keras
        out = _T(g.transpose(seq, (1, 0, 2), layer.name), (B, T, layer.units), layer.dtype)
    else:
        out = last
    return [out, last] if layer.return_state else [out]


def _emit_bidirectional(g, layer, x, init):
    f, b = layer.forward_layer, layer.backward_layer
    for sub in (f, b):
        _check_rnn(layer, sub)
    if f.units != b.units:
        raise NotImplementedError(f"Layer `{layer.name}`: ONNX's bidirectional RNN needs "
                                  f"both directions of one size, got {f.units} and {b.units}.")
    B, T, H = x.shape[0], x.shape[1], f.units
    name = x.name
    if f.go_backwards:
        # Reversing the input makes the forward direction the go_backwards layer and the
        # reverse direction the forward-going one; outputs then line up as Keras merges them.
        name = g.reverse(name, 1, layer.name)
    x_t = g.transpose(name, (1, 0, 2), layer.name)
    y, y_h = _rnn_node(g, layer, [f, b], x_t, init, "bidirectional")
    states = [_T(g.pick(y_h, i, 0, layer.name), (B, H), layer.dtype) for i in (0, 1)]
    if layer.return_sequences:
        if layer.merge_mode == "concat":
            yt = g.transpose(y, (2, 0, 1, 3), layer.name)     # (B, T, 2, H)
            shape = g.const(np.array([0, 0, -1], np.int64), f"{layer.name}_shape")
            merged = _T(g.node("Reshape", [yt, shape], layer.name), (B, T, 2 * H),
                        layer.dtype)
            return [merged] + (states if layer.return_state else [])
        halves = [_T(g.transpose(g.pick(y, i, 1, layer.name), (1, 0, 2), layer.name),
                     (B, T, H), layer.dtype) for i in (0, 1)]
    else:
        halves = states
    y_f, y_b = halves
    shape = y_f.shape
    if layer.merge_mode is None:
        outs = [y_f, y_b]
    elif layer.merge_mode == "concat":
        outs = [_T(g.node("Concat", [y_f.name, y_b.name], layer.name, axis=-1),
                   shape[:-1] + (2 * H,), layer.dtype)]
    elif layer.merge_mode == "ave":
        total = g.node("Add", [y_f.name, y_b.name], layer.name)
        two = g.const(np.array(2, np.dtype(layer.dtype)), f"{layer.name}_two")
        outs = [_T(g.node("Div", [total, two], layer.name), shape, layer.dtype)]
    else:
        op = {"sum": "Add", "mul": "Mul"}[layer.merge_mode]
        outs = [_T(g.node(op, [y_f.name, y_b.name], layer.name), shape, layer.dtype)]
    return outs + (states if layer.return_state else [])


# ---------------------------------------------------------------------- other layers
def _emit_dense(g, layer, x, init):
    dtype = np.dtype(layer.dtype)
    kernel = g.const(layer.kernel.astype(dtype), f"{layer.name}_kernel")
    bias = g.const(layer.bias.astype(dtype), f"{layer.name}_bias") if layer.use_bias else None
    if len(x.shape) == 2:
        z = g.node("Gemm", [x.name, kernel] + ([bias] if bias else []), layer.name)
    else:
        z = g.node("MatMul", [x.name, kernel], layer.name)
        if bias:
            z = g.node("Add", [z, bias], layer.name)
    out = _activation(g, layer.activation, z, layer.name)
    return [_T(out, x.shape[:-1] + (layer.units,), layer.dtype)]


def _emit_embedding(g, layer, x, init):
    if getattr(layer, "mask_zero", False):
        raise NotImplementedError(f"Layer `{layer.name}` has mask_zero=True; masks are not "
                                  "exported to ONNX.")
    idx = x if x.dtype in ("int32", "int64") else _cast(g, x, "int64", layer.name)
    table = g.const(layer.embeddings.astype(np.dtype(layer.dtype)),
                    f"{layer.name}_embeddings")
    out = g.node("Gather", [table, idx.name], layer.name, axis=0)
    return [_T(out, x.shape + (layer.output_dim,), layer.dtype)]


def _emit_dropout(g, layer, x, init):
    return [_T(g.node("Identity", [x.name], layer.name), x.shape, x.dtype)]


def _emit_activation(g, layer, x, init):
    out = _activation(g, layer.activation, x.name, layer.name)
    if out == x.name:
        out = g.node("Identity", [x.name], layer.name)
    return [_T(out, x.shape, x.dtype)]


def _emit_flatten(g, layer, x, init):
    rest = x.shape[1:]
    size = int(np.prod(rest)) if all(isinstance(d, int) for d in rest) else None
    return [_T(g.node("Flatten", [x.name], layer.name, axis=1), (x.shape[0], size), x.dtype)]


def _emit_reshape(g, layer, x, init):
    target = tuple(int(d) for d in layer.target_shape)
    shape = g.const(np.array((0,) + target, np.int64), f"{layer.name}_shape")
    out_shape = (x.shape[0],) + tuple(None if d == -1 else d for d in target)
    return [_T(g.node("Reshape", [x.name, shape], layer.name), out_shape, x.dtype)]


def _emit_repeat_vector(g, layer, x, init):
    expanded = g.unsqueeze(x.name, 1, layer.name)                     # (B, 1, F)
    repeats = g.const(np.array([1, layer.n, 1], np.int64), f"{layer.name}_repeats")
    return [_T(g.node("Tile", [expanded, repeats], layer.name),
               (x.shape[0], layer.n, x.shape[1]), x.dtype)]


def _emit_permute(g, layer, x, init):
    perm = (0,) + tuple(int(d) for d in layer.dims)
    return [_T(g.transpose(x.name, perm, layer.name), tuple(x.shape[p] for p in perm),
               x.dtype)]


def _emit_merge(g, layer, xs):
    """Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate of several tensors."""
    kind = type(layer).__name__
    names = [t.name for t in xs]
    shape = xs[0].shape
    if kind == "Concatenate":
        axis = layer.axis if layer.axis >= 0 else len(shape) + layer.axis
        sizes = [t.shape[axis] for t in xs]
        size = sum(sizes) if all(isinstance(d, int) for d in sizes) else None
        out = g.node("Concat", names, layer.name, axis=axis)
        return [_T(out, shape[:axis] + (size,) + shape[axis + 1:], layer.dtype)]
    if kind == "Subtract":
        out = g.node("Sub", names, layer.name)
    elif kind in ("Add", "Average"):
        out = g.node("Sum", names, layer.name)
        if kind == "Average":  # Keras: the sum divided by the count
            n = g.const(np.array(len(xs), np.dtype(layer.dtype)), f"{layer.name}_count")
            out = g.node("Div", [out, n], layer.name)
    elif kind == "Multiply":
        out = names[0]
        for other in names[1:]:
            out = g.node("Mul", [out, other], layer.name)
    else:
        out = g.node({"Maximum": "Max", "Minimum": "Min"}[kind], names, layer.name)
    return [_T(out, shape, layer.dtype)]


_MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate")
_EMITTERS = {"Reshape": _emit_reshape, "RepeatVector": _emit_repeat_vector,
             "Permute": _emit_permute, "SimpleRNN": _emit_simple_rnn, "Bidirectional": _emit_bidirectional,
             "Dense": _emit_dense, "Embedding": _emit_embedding, "Dropout": _emit_dropout,
             "Activation": _emit_activation, "Flatten": _emit_flatten}


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
    if init and type(layer).__name__ not in ("SimpleRNN", "Bidirectional"):
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
    fixed_time = any(type(l).__name__ == "Flatten" for l in _all_layers(model))
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
            ``_nodes``) of SimpleRNN, Bidirectional (every merge mode), Dense (2-D and
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
    ONNX Runtime implements the RNN operator only for float32); inputs of an Embedding
    (and other non-float inputs) are int64 indices. Outputs are named "output"
    ("output_0", "output_1"... when there are several, e.g. with return_state or
    merge_mode None), or after the model's ``output_names``.
    Exported: inference (Dropout is the identity), zero initial states, and in functional
    models symbolic ``initial_state`` tensors (an encoder's states feeding a decoder) as
    the RNN's ``initial_h``. Not exported: masks (refused), stateful layers (refused).

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
