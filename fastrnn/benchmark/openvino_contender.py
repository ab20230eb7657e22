"""The OpenVINO contender (optional: ``pip install openvino``), inference only: the layer
workloads as OpenVINO's ``RNNSequence`` op (``LSTMSequence``, ``GRUSequence`` with
linear_before_reset=True for the LSTM/GRU ones; weights: gated.openvino_layout),
batch-major, built with ``openvino.opset13`` and compiled for the CPU plugin in float32
(``INFERENCE_PRECISION_HINT=f32``, so no bf16 on CPUs that have it) with
``INFERENCE_NUM_THREADS`` = the benchmark's threads. OpenVINO's CPU plugin has no float64.
"""
from .gated import openvino_layout
from .workloads import WORKLOADS, Skip, cell, is_model

__all__ = ["openvino_factory"]


def _graph(ov, ops, name, weights, dtype):
    import numpy as np
    B, T, D, H, kind = WORKLOADS[name]
    per_layer = [weights[0:2], weights[2:4]] if kind == "deep-bidir" else [weights[:1]]
    X = ops.parameter([B, T, D], ov.Type.f32, name="X")
    cur = X
    if cell(name) != "simple_rnn":
        return ov.Model([_gated(ops, name, X, weights, dtype)], [X], "fastrnn_bench")
    for dirs in per_layer:
        nd = len(dirs)
        rnn = ops.rnn_sequence(
            cur, ops.constant(np.zeros((B, nd, H), dtype)),
            ops.constant(np.full(B, T, np.int32)),
            ops.constant(np.stack([w.T for w, _, _ in dirs]).astype(dtype)),   # (nd, H, D)
            ops.constant(np.stack([u.T for _, u, _ in dirs]).astype(dtype)),   # (nd, H, H)
            ops.constant(np.stack([b for _, _, b in dirs]).astype(dtype)),     # (nd, H)
            H, "bidirectional" if nd == 2 else "forward", activations=["tanh"])
        # Y (B, nd, T, H) -> (B, T, nd, H) -> (B, T, nd * H)
        y = ops.transpose(rnn.output(0), ops.constant(np.array([0, 2, 1, 3], np.int64)))
        cur = ops.reshape(y, ops.constant(np.array([B, T, nd * H], np.int64)), False)
    return ov.Model([cur], [X], "fastrnn_bench")


def _gated(ops, name, X, weights, dtype):
    """One forward LSTMSequence / GRUSequence; its output (B, 1, T, H) reshaped (B, T, H)."""
    import numpy as np
    B, T, D, H, _ = WORKLOADS[name]
    W, R, Bb = (ops.constant(a[None]) for a in openvino_layout(cell(name), *weights[0], dtype))
    h0 = ops.constant(np.zeros((B, 1, H), dtype))
    lengths = ops.constant(np.full(B, T, np.int32))
    if cell(name) == "lstm":
        seq = ops.lstm_sequence(X, h0, ops.constant(np.zeros((B, 1, H), dtype)), lengths,
                                W, R, Bb, H, "forward")
    else:
        seq = ops.gru_sequence(X, h0, lengths, W, R, Bb, H, "forward",
                               linear_before_reset=True)
    return ops.reshape(seq.output(0), ops.constant(np.array([B, T, H], np.int64)), False)


def openvino_factory(name, x, weights, mode, dtype, threads):
    if is_model(name):
        raise Skip("OpenVINO runs layer workloads only")
    if mode != "inference":
        raise Skip("OpenVINO: inference only")
    if dtype != "float32":
        raise Skip("OpenVINO's CPU plugin has no float64")
    try:
        import openvino as ov
        import openvino.opset13 as ops
    except ImportError:
        raise Skip("openvino is not importable (pip install openvino)") from None
    import numpy as np
    compiled = ov.Core().compile_model(
        _graph(ov, ops, name, weights, dtype), "CPU",
        {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32",
         "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    out = compiled.output(0)

    def fn():
        return request.infer({0: x})[out]
    return fn, lambda y: [np.array(y, copy=True)]
