"""The in-process layer contenders: fastrnn itself, the NumPy reference, PyTorch and ONNX
Runtime (JAX, OpenVINO and Keras have their own modules; gated.py has the LSTM/GRU parts),
and the table of every contender.

Each factory takes (name, x, weights, mode, dtype, threads) and returns (fn, outputs):
fn() runs the timed computation; outputs(fn()) are NumPy arrays in the canonical order

    inference: [sequence (B, T, units_out)]
    training:  [dx (B, T, D), then kernel, recurrent_kernel, bias grads per layer-direction]

(weights and gradients in Keras's layout, for every cell: see workloads.make_case)

for an upstream gradient of ones on the sequence. Model workloads (workloads.is_model) are
dispatched to models.py, where x is the pair (x, y); see output_labels for their outputs.
A factory raises Skip when it can't run a case.
"""
from . import gated, models
from .workloads import WORKLOADS, Skip, _flat, cell, is_model

__all__ = ["CONTENDERS", "_CONTENDERS"]


def _fastrnn(name, x, weights, mode, dtype, threads):
    if is_model(name):
        return models.fastrnn_model(name, x, weights, mode, dtype, threads)
    import numpy as np
    from fastrnn.layers import GRU, LSTM, Bidirectional, SimpleRNN
    from fastrnn.models import Sequential
    B, T, D, H, kind = WORKLOADS[name]
    if cell(name) != "simple_rnn":  # GRU: Keras 3's default reset_after=True
        model = (LSTM if cell(name) == "lstm" else GRU)(H, return_sequences=True, dtype=dtype)
        model.build((None, T, D))
        layers = [model]
    elif kind == "deep-bidir":
        model = Sequential([
            Bidirectional(SimpleRNN(H, return_sequences=True, dtype=dtype),
                          input_shape=(T, D)),
            Bidirectional(SimpleRNN(H, return_sequences=True, dtype=dtype))])
        layers = model.layers
    else:
        model = SimpleRNN(H, return_sequences=True, dtype=dtype)
        model.build((None, T, D))
        layers = [model]
    model.set_weights(_flat(weights))
    if mode == "inference":
        def fn():
            return model(x)
        return fn, lambda out: [out]

    ones = np.ones((B, T, H * (2 if kind == "deep-bidir" else 1)), dtype)

    def fn():  # protocol v2: each call's context, then the reverse walk
        h, ctxs = x, []
        for layer in layers:
            h, ctx = layer.forward(h, training=True)
            ctxs.append(ctx)
        d, grads = ones, []
        for layer, ctx in zip(reversed(layers), reversed(ctxs)):
            (d,), d_w = layer.backward(ctx, d)
            grads = list(d_w) + grads
        return [d] + grads
    return fn, lambda out: out


def _numpy(name, x, weights, mode, dtype, threads):
    if is_model(name):
        raise Skip("the NumPy reference runs layer workloads only")
    import numpy as np
    from fastrnn import reference as ref
    B, T, D, H, kind = WORKLOADS[name]
    if cell(name) != "simple_rnn":
        return gated.numpy_gated(name, x, weights, mode, dtype)
    if kind != "deep-bidir":
        (W, U, b), = weights
        if mode == "inference":
            return lambda: ref.simple_rnn_forward(x, W, U, b)[0], lambda out: [out]
        ones = np.ones((B, T, H), dtype)

        def fn():
            ref.simple_rnn_forward(x, W, U, b)
            dx, dW, dU, db, _ = ref.simple_rnn_backward(ones, None, x, W, U, None, b)
            return [dx, dW, dU, db]
        return fn, lambda out: out

    def bidir(inp, fw, bw):
        y_f = ref.simple_rnn_forward(inp, *fw)[0]
        y_b = ref.simple_rnn_forward(inp, *bw, go_backwards=True)[0][:, ::-1]
        return np.concatenate([y_f, y_b], axis=-1)

    if mode == "inference":
        return (lambda: bidir(bidir(x, weights[0], weights[1]), weights[2], weights[3]),
                lambda out: [out])
    ones = np.ones((B, T, 2 * H), dtype)

    def fn():
        h1 = bidir(x, weights[0], weights[1])
        bidir(h1, weights[2], weights[3])
        grads = [None] * 4
        d = ones
        for inp, k in ((h1, 2), (x, 0)):
            (Wf, Uf, bf), (Wb, Ub, bb) = weights[k], weights[k + 1]
            gf = ref.simple_rnn_backward(d[..., :H], None, inp, Wf, Uf, None, bf)
            # the backward direction's sequence is in processing (reversed) order
            gb = ref.simple_rnn_backward(d[..., H:][:, ::-1], None, inp, Wb, Ub, None, bb,
                                         go_backwards=True)
            grads[k], grads[k + 1] = gf[1:4], gb[1:4]
            d = gf[0] + gb[0]
        return [d] + [g for triple in grads for g in triple]
    return fn, lambda out: out


def _torch(name, x, weights, mode, dtype, threads):
    try:
        import torch
    except ImportError:
        raise Skip("torch is not importable") from None
    if is_model(name):
        return models.torch_model(name, x, weights, mode, dtype, threads)
    if cell(name) != "simple_rnn":
        return gated.torch_gated(name, x, weights, mode, dtype, threads)
    B, T, D, H, kind = WORKLOADS[name]
    torch.set_num_threads(threads)
    bidir = kind == "deep-bidir"
    rnn = torch.nn.RNN(D, H, num_layers=2 if bidir else 1, bidirectional=bidir,
                       batch_first=True, nonlinearity="tanh")
    rnn = rnn.double() if dtype == "float64" else rnn.float()
    names = []
    for layer in range(2 if bidir else 1):
        for suffix in ("", "_reverse") if bidir else ("",):
            names.append(suffix and f"l{layer}{suffix}" or f"l{layer}")
    params = dict(rnn.named_parameters())
    with torch.no_grad():
        for tag, (W, U, b) in zip(names, weights):
            params[f"weight_ih_{tag}"].copy_(torch.from_numpy(W.T.copy()))
            params[f"weight_hh_{tag}"].copy_(torch.from_numpy(U.T.copy()))
            params[f"bias_ih_{tag}"].copy_(torch.from_numpy(b))
            params[f"bias_hh_{tag}"].zero_()
    fn = gated.torch_timed(rnn, x, mode)
    if mode == "inference":
        return fn, lambda out: [out.numpy()]

    def outputs(dx):
        grads = [dx.numpy()]
        for tag in names:  # bias_hh gets the same gradient as bias_ih; Keras has one bias
            grads += [params[f"weight_ih_{tag}"].grad.numpy().T,
                      params[f"weight_hh_{tag}"].grad.numpy().T,
                      params[f"bias_ih_{tag}"].grad.numpy()]
        return grads
    return fn, outputs


def _onnx_model(name, weights, dtype):
    """The RNN as an ONNX graph: batch-major X (B, T, D) -> Transpose -> RNN, LSTM or GRU
    (time-major, ONNX Runtime's CPU RNNs have no layout=1; weights: gated.onnx_layout) ->
    Transpose/Reshape -> Y (B, T, units_out)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    B, T, D, H, kind = WORKLOADS[name]
    c = cell(name)
    op, attrs = {"simple_rnn": ("RNN", {}), "lstm": ("LSTM", {}),
                 "gru": ("GRU", {"linear_before_reset": 1})}[c]
    elem = TensorProto.DOUBLE if dtype == "float64" else TensorProto.FLOAT
    per_layer = [weights[0:2], weights[2:4]] if kind == "deep-bidir" else [weights[:1]]
    nodes, inits = [], [numpy_helper.from_array(np.array([0, 0, -1], np.int64), "flat")]
    nodes.append(helper.make_node("Transpose", ["X"], ["x_tbd"], perm=[1, 0, 2]))
    cur = "x_tbd"
    for i, dirs in enumerate(per_layer):
        per_dir = [gated.onnx_layout(c, *triple, dtype) for triple in dirs]
        for j, tag in enumerate("WRB"):
            arr = np.stack([p[j] for p in per_dir])
            inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype), f"{tag}{i}"))
        if c == "simple_rnn":
            attrs = dict(activations=["Tanh"] * len(dirs))
        nodes.append(helper.make_node(
            op, [cur, f"W{i}", f"R{i}", f"B{i}"], [f"y{i}"], hidden_size=H,
            direction="bidirectional" if len(dirs) == 2 else "forward", **attrs))
        # Y (T, dirs, B, H) -> (T, B, dirs, H) -> (T, B, dirs*H)
        nodes.append(helper.make_node("Transpose", [f"y{i}"], [f"yt{i}"], perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("Reshape", [f"yt{i}", "flat"], [f"h{i}"]))
        cur = f"h{i}"
    nodes.append(helper.make_node("Transpose", [cur], ["Y"], perm=[1, 0, 2]))
    out_units = H * len(per_layer[-1])
    graph = helper.make_graph(
        nodes, "fastrnn_bench", [helper.make_tensor_value_info("X", elem, [B, T, D])],
        [helper.make_tensor_value_info("Y", elem, [B, T, out_units])], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


def _onnxruntime(name, x, weights, mode, dtype, threads):
    if is_model(name):
        raise Skip("ONNX Runtime runs layer workloads only")
    if mode != "inference":
        raise Skip("ONNX Runtime: inference only")
    try:
        import onnxruntime as ort
        import onnx  # noqa: F401
    except ImportError:
        raise Skip("onnx/onnxruntime is not importable") from None
    model = _onnx_model(name, weights, dtype)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        sess = ort.InferenceSession(model.SerializeToString(), opts,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # e.g. no double RNN kernel
        raise Skip(f"ONNX Runtime cannot run this model ({dtype}): "
                   f"{str(exc).splitlines()[0][:120]}") from None
    feed = {"X": x}
    return lambda: sess.run(["Y"], feed)[0], lambda out: [out]


def _jax(*args):
    from .jax_contender import jax_factory
    return jax_factory(*args)


def _openvino(*args):
    from .openvino_contender import openvino_factory
    return openvino_factory(*args)


def _keras(*args):
    from .keras_contender import keras_factory
    return keras_factory(*args)


_CONTENDERS = {"fastrnn": _fastrnn, "numpy": _numpy, "torch": _torch,
               "onnxruntime": _onnxruntime, "jax": _jax, "openvino": _openvino,
               "keras": _keras}
CONTENDERS = tuple(c for c in _CONTENDERS if c != "fastrnn")
