"""The ONNX nodes of each fastrnn layer (used by ``fastrnn.interop.onnx.to_onnx``).

Every emitter takes the graph being built, the layer and its input tensor(s) (batch-major
``_T`` records: ONNX name, shape with dim names, dtype) and returns its output tensors.
See ``fastrnn/interop/onnx.py`` for the operator mapping and its sources.
"""
import numpy as np

from ._onnx_gated import check_gated, gated_node, state_count

_RNN_ACTS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid", "linear": "Affine"}
_ACTS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid", "softmax": "Softmax",
         "linear": "Identity"}


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
    if name not in _ACTS:
        raise NotImplementedError(f"to_onnx: activation {name!r} has no ONNX export in fastrnn "
                                  f"(exported: {sorted(_ACTS)}).")
    return g.node(_ACTS[name], [x], base)


# ---------------------------------------------------------------------- recurrent layers
def _check_rnn(layer, sub):
    if getattr(sub, "stateful", False):
        raise NotImplementedError(f"Layer `{layer.name}` is stateful; an ONNX graph keeps no "
                                  "state between runs. Export a stateful=False copy.")
    if type(sub).__name__ in ("LSTM", "GRU"):
        check_gated(layer, sub)
    elif sub.activation not in _RNN_ACTS:
        raise NotImplementedError(f"Layer `{layer.name}`: activation {sub.activation!r} has "
                                  "no ONNX RNN equivalent.")


def _recurrent_node(g, layer, subs, x_t, init, direction):
    """One ONNX RNN / LSTM / GRU node over time-major x_t for the fastrnn layers ``subs``
    (one per direction); returns the name of Y (T, dirs, B, H) and the list of the final
    states' names ([Y_h], or [Y_h, Y_c] for an LSTM), each (dirs, B, H)."""
    if type(subs[0]).__name__ in ("LSTM", "GRU"):
        def unsqueeze(h):
            return g.unsqueeze(_cast(g, h, layer.dtype, layer.name).name, 0, layer.name)
        return gated_node(g, layer, subs, x_t, init, direction, unsqueeze)
    y, y_h = _rnn_node(g, layer, subs, x_t, init, direction)
    return y, [y_h]


def _rnn_node(g, layer, subs, x_t, init, direction):
    """One ONNX RNN node over time-major x_t for SimpleRNN layers ``subs`` (one per
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
    """SimpleRNN, LSTM and GRU: one RNN / LSTM / GRU node."""
    _check_rnn(layer, layer)
    B, T = x.shape[0], x.shape[1]
    x_t = g.transpose(x.name, (1, 0, 2), layer.name)
    y, finals = _recurrent_node(g, layer, [layer], x_t, init,
                                "reverse" if layer.go_backwards else "forward")
    states = [_T(g.squeeze(s, 0, layer.name), (B, layer.units), layer.dtype)
              for s in finals]
    last = states[0]
    if layer.return_sequences:
        seq = g.squeeze(y, 1, layer.name)                   # (T, B, H), positions
        if layer.go_backwards:
            seq = g.reverse(seq, 0, layer.name)             # processing order, as Keras
        out = _T(g.transpose(seq, (1, 0, 2), layer.name), (B, T, layer.units), layer.dtype)
    else:
        out = last
    return [out] + states if layer.return_state else [out]


def _emit_bidirectional(g, layer, x, init):
    f, b = layer.forward_layer, layer.backward_layer
    for sub in (f, b):
        _check_rnn(layer, sub)
    if f.units != b.units or type(f) is not type(b) \
            or getattr(f, "reset_after", None) != getattr(b, "reset_after", None):
        raise NotImplementedError(f"Layer `{layer.name}`: ONNX's bidirectional "
                                  f"{type(f).__name__} needs both directions of one kind and "
                                  f"size (and GRU reset_after), got {f!r} and {b!r}.")
    B, T, H = x.shape[0], x.shape[1], f.units
    name = x.name
    if f.go_backwards:
        # Reversing the input makes the forward direction the go_backwards layer and the
        # reverse direction the forward-going one; outputs then line up as Keras merges them.
        name = g.reverse(name, 1, layer.name)
    x_t = g.transpose(name, (1, 0, 2), layer.name)
    y, finals = _recurrent_node(g, layer, [f, b], x_t, init, "bidirectional")
    # Keras's order: the forward direction's states (h[, c]), then the backward one's
    states = [_T(g.pick(s, i, 0, layer.name), (B, H), layer.dtype)
              for i in (0, 1) for s in finals]
    n = state_count(f)
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
        halves = [states[0], states[n]]  # each direction's h
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
             "Permute": _emit_permute, "SimpleRNN": _emit_simple_rnn,
             "LSTM": _emit_simple_rnn, "GRU": _emit_simple_rnn,
             "Bidirectional": _emit_bidirectional,
             "Dense": _emit_dense, "Embedding": _emit_embedding, "Dropout": _emit_dropout,
             "Activation": _emit_activation, "Flatten": _emit_flatten}


