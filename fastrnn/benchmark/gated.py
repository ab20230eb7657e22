"""LSTM and GRU for the layer contenders: the NumPy reference and PyTorch (``nn.LSTM`` /
``nn.GRU``), and Keras's weights in the layouts of PyTorch, ONNX and OpenVINO.

Keras 3 (keras/src/layers/rnn/lstm.py, gru.py) keeps one kernel (D, G*U), one recurrent
kernel (U, G*U) and the bias with the gate blocks side by side: LSTM i, f, c, o with one
bias (4U,); GRU z, r, h with reset_after=True (the only GRU the benchmark runs) and a bias
(2, 3U) = [input bias, recurrent bias]:

    hh = tanh(x W_h + b_h + r * (h U_h + rb_h)),   h' = z * h + (1 - z) * hh

The others store each block transposed, (G*U, D) and (G*U, U), in their own gate order:

    PyTorch  LSTM i, f, g, o (= Keras's);  GRU r, z, n  (docs of torch.nn.LSTM / GRU);
             two biases b_ih, b_hh added to every gate, except that GRU's n gate puts
             r * (h W_hn + b_hn): b_hh is exactly Keras's recurrent bias (reset_after=True).
             LSTM: b_ih = Keras's bias, b_hh = 0.
    ONNX     LSTM i, o, f, c;  GRU z, r, h with linear_before_reset=1 (onnx__LSTM / GRU);
             B = [Wb, Rb] (2*G*U,) as PyTorch's two biases.
    OpenVINO LSTMSequence f, i, c, o with one bias (4U,);  GRUSequence z, r, h, with
             linear_before_reset=True a bias (4U,) = [Wb_z + Rb_z, Wb_r + Rb_r, Wb_h, Rb_h]
             (OpenVINO's GRUCell-3 / LSTMSequence-5 specifications).
"""
import numpy as np

from .workloads import WORKLOADS, cell

__all__ = ["ORDER", "blocks", "torch_layout", "keras_grads", "onnx_layout",
           "openvino_layout", "numpy_gated", "torch_gated"]

# Keras's gate blocks in each runtime's order (a permutation of Keras's block indices)
ORDER = {"torch": {"lstm": (0, 1, 2, 3), "gru": (1, 0, 2)},
         "onnx": {"lstm": (0, 3, 1, 2), "gru": (0, 1, 2)},
         "openvino": {"lstm": (1, 0, 2, 3), "gru": (0, 1, 2)}}


def blocks(array, order, axis=-1):
    """`array`'s gate blocks along `axis` taken in `order` (Keras block indices)."""
    parts = np.split(np.asarray(array), len(order), axis=axis)
    return np.concatenate([parts[j] for j in order], axis=axis)


def _inverse(order):
    return tuple(int(i) for i in np.argsort(order))


def torch_layout(kind, W, U, b):
    """Keras (kernel, recurrent_kernel, bias) -> PyTorch (weight_ih, weight_hh, bias_ih,
    bias_hh), C-contiguous."""
    o = ORDER["torch"][kind]
    if kind == "gru":
        b_ih, b_hh = blocks(b[0], o), blocks(b[1], o)
    else:
        b_ih, b_hh = blocks(b, o), np.zeros_like(b)
    return tuple(np.ascontiguousarray(a) for a in
                 (blocks(W, o).T, blocks(U, o).T, b_ih, b_hh))


def keras_grads(kind, g_ih, g_hh, gb_ih, gb_hh):
    """PyTorch's gradients (weight_ih, weight_hh, bias_ih, bias_hh) -> Keras's (d_kernel,
    d_recurrent_kernel, d_bias). LSTM: bias_hh's gradient equals bias_ih's, one Keras bias."""
    inv = _inverse(ORDER["torch"][kind])
    db = (np.stack([blocks(gb_ih, inv), blocks(gb_hh, inv)]) if kind == "gru"
          else blocks(gb_ih, inv))
    return blocks(np.asarray(g_ih).T, inv), blocks(np.asarray(g_hh).T, inv), db


def onnx_layout(kind, W, U, b, dtype):
    """Keras weights -> the ONNX node's W (G*U, D), R (G*U, U), B (2*G*U,) of one direction;
    kind "simple_rnn" too (ONNX ``RNN``)."""
    if kind == "simple_rnn":
        Bb = np.concatenate([b, np.zeros_like(b)])
        return W.T.astype(dtype), U.T.astype(dtype), Bb.astype(dtype)
    o = ORDER["onnx"][kind]
    Bb = (np.concatenate([b[0], b[1]]) if kind == "gru"
          else np.concatenate([blocks(b, o), np.zeros_like(b)]))
    return blocks(W, o).T.astype(dtype), blocks(U, o).T.astype(dtype), Bb.astype(dtype)


def openvino_layout(kind, W, U, b, dtype):
    """Keras weights -> OpenVINO's W (G*U, D), R (G*U, U), B of one direction (LSTM: (4U,),
    GRU with linear_before_reset: (4U,), see the module docstring)."""
    o = ORDER["openvino"][kind]
    if kind == "gru":
        U_ = b.shape[1] // 3
        Bb = np.concatenate([b[0, :2 * U_] + b[1, :2 * U_], b[0, 2 * U_:], b[1, 2 * U_:]])
    else:
        Bb = blocks(b, o)
    return blocks(W, o).T.astype(dtype), blocks(U, o).T.astype(dtype), Bb.astype(dtype)


def numpy_gated(name, x, weights, mode, dtype):
    """fastrnn.reference's lstm_/gru_forward and _backward (plain per-step loops)."""
    from fastrnn import reference as ref
    B, T, D, H, _ = WORKLOADS[name]
    (W, U, b), = weights
    if cell(name) == "lstm":
        def forward():
            return ref.lstm_forward(x, W, U, b)[0]

        def backward(d_seq):  # (dx, d_kernel, d_recurrent, d_bias, d_h0, d_c0)
            return ref.lstm_backward(d_seq, None, None, x, W, U, b)[:4]
    else:
        def forward():
            return ref.gru_forward(x, W, U, b, reset_after=True)[0]

        def backward(d_seq):  # (dx, d_kernel, d_recurrent, d_bias, d_h0)
            return ref.gru_backward(d_seq, None, x, W, U, b, reset_after=True)[:4]
    if mode == "inference":
        return forward, lambda out: [out]
    ones = np.ones((B, T, H), dtype)
    # the reference's backward runs its own forward (it keeps the gates on a tape)
    return lambda: list(backward(ones)), lambda out: out


def torch_gated(name, x, weights, mode, dtype, threads):
    """``torch.nn.LSTM`` / ``nn.GRU`` (batch_first) on Keras's weights (torch_layout)."""
    import torch
    B, T, D, H, _ = WORKLOADS[name]
    kind = cell(name)
    torch.set_num_threads(threads)
    rnn = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(D, H, batch_first=True)
    rnn = rnn.double() if dtype == "float64" else rnn.float()
    tags = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    params = dict(rnn.named_parameters())
    with torch.no_grad():
        for tag, arr in zip(tags, torch_layout(kind, *weights[0])):
            params[tag].copy_(torch.from_numpy(arr))
    fn = torch_timed(rnn, x, mode)
    if mode == "inference":
        return fn, lambda out: [out.numpy()]

    def outputs(dx):
        return [dx.numpy()] + list(keras_grads(kind, *(params[t].grad.numpy() for t in tags)))
    return fn, outputs


def torch_timed(rnn, x, mode):
    """The timed call of a PyTorch recurrent module (batch_first) on x (B, T, D), shared
    with the SimpleRNN contender: "inference" returns the sequences under
    ``inference_mode``; "training" runs backward for an upstream gradient of ones (the
    parameters' ``.grad`` filled) and returns dL/dx."""
    import torch
    if mode == "inference":
        xt = torch.from_numpy(x)

        def fn():
            with torch.inference_mode():
                return rnn(xt)[0]
        return fn

    xt = torch.from_numpy(x.copy()).requires_grad_(True)

    def fn():
        rnn.zero_grad(set_to_none=True)
        xt.grad = None
        rnn(xt)[0].sum().backward()
        return xt.grad
    return fn
