"""Per-direction weight conversion between PyTorch's recurrent modules and fastrnn's
recurrent layers (used by ``fastrnn.interop.torch``). Pure NumPy: no PyTorch import.

PyTorch stores ``weight_ih`` (gates * H, D), ``weight_hh`` (gates * H, H) and two biases
``bias_ih``, ``bias_hh`` (gates * H,); Keras stores ``kernel`` (D, gates * U),
``recurrent_kernel`` (U, gates * U) and one bias. Per kind (torch.nn.LSTM / GRU / RNN
documentation; keras/src/layers/rnn/lstm.py, gru.py, simple_rnn.py):

    nn.RNN   one gate           kernel = W_ih^T; bias = b_ih + b_hh (one bias added per step)
    nn.LSTM  i, f, g, o         the same order as Keras's i, f, c, o: kernel = W_ih^T,
                                bias = b_ih + b_hh (both are added to every gate's sum)
    nn.GRU   r, z, n            Keras's z, r, h: blocks 0 and 1 swap. PyTorch's
                                n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) is Keras's
                                reset_after=True, whose bias (2, 3U) keeps b_ih (row 0)
                                and b_hh (row 1) apart, since b_hn sits inside r * (.)
"""
import numpy as np

__all__ = ["KINDS", "torch_kind", "layer_kwargs", "fastrnn_weights", "torch_weights",
           "check_convertible", "settings"]

KINDS = ("RNN", "LSTM", "GRU")  # torch class name == fastrnn class name (SimpleRNN for RNN)
_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
_GRU_SWAP = (1, 0, 2)  # torch (r, z, n) <-> Keras (z, r, h); the swap is its own inverse


def torch_kind(module):
    """"RNN", "LSTM" or "GRU" for a torch.nn.RNN / LSTM / GRU (or a subclass), else None."""
    for cls in type(module).__mro__:
        if cls.__name__ in KINDS and cls.__module__.startswith("torch.nn"):
            return cls.__name__
    return None


def _reorder(array, kind, axis):
    if kind != "GRU":
        return array
    blocks = np.split(array, 3, axis=axis)
    return np.concatenate([blocks[j] for j in _GRU_SWAP], axis=axis)


def layer_kwargs(rnn, kind):
    """The fastrnn layer class name and keyword arguments reproducing ``rnn``'s cell."""
    if kind == "RNN":
        if rnn.mode not in ("RNN_TANH", "RNN_RELU"):
            raise ValueError(f"Module {rnn!r} has mode {rnn.mode!r}; from_torch converts "
                             "nn.RNN with nonlinearity 'tanh' or 'relu'.")
        return "SimpleRNN", dict(activation="tanh" if rnn.mode == "RNN_TANH" else "relu")
    if getattr(rnn, "proj_size", 0):
        raise NotImplementedError(
            f"Module {rnn!r} has proj_size={rnn.proj_size}: an LSTM with projections has "
            "no Keras/fastrnn equivalent (Keras's LSTM state is its output). Use "
            "proj_size=0.")
    if kind == "LSTM":
        return "LSTM", dict(activation="tanh", recurrent_activation="sigmoid")
    return "GRU", dict(activation="tanh", recurrent_activation="sigmoid", reset_after=True)


def fastrnn_weights(kind, params, dtype, use_bias):
    """fastrnn's ``set_weights`` list for one direction of one torch layer, from NumPy
    ``params`` = (weight_ih, weight_hh, bias_ih, bias_hh) (biases None without bias)."""
    w_ih, w_hh, b_ih, b_hh = params
    out = [_reorder(w_ih.T, kind, 1).astype(dtype), _reorder(w_hh.T, kind, 1).astype(dtype)]
    if use_bias:
        if kind == "GRU":
            out.append(np.stack([_reorder(b_ih, kind, 0),
                                 _reorder(b_hh, kind, 0)]).astype(dtype))
        else:
            out.append((b_ih + b_hh).astype(dtype))
    return out


def torch_weights(layer):
    """(weight_ih, weight_hh, bias_ih, bias_hh) in torch's layout for one fastrnn
    SimpleRNN / LSTM / GRU (biases None without use_bias; bias_hh zeros except for GRU)."""
    kind = _fastrnn_kind(layer)
    w_ih = _reorder(layer.kernel, kind, 1).T
    w_hh = _reorder(layer.recurrent_kernel, kind, 1).T
    if not layer.use_bias:
        return w_ih, w_hh, None, None
    if kind == "GRU":
        return w_ih, w_hh, _reorder(layer.bias[0], kind, 0), _reorder(layer.bias[1], kind, 0)
    return w_ih, w_hh, layer.bias, np.zeros_like(layer.bias)


def _fastrnn_kind(layer):
    name = type(layer).__name__
    return "RNN" if name == "SimpleRNN" else name


def check_convertible(owner, sub):
    """Raise NotImplementedError when the fastrnn recurrent layer ``sub`` (of the layer
    named ``owner``) has no torch.nn counterpart."""
    kind = _fastrnn_kind(sub)
    if kind not in KINDS:
        raise NotImplementedError(f"Layer `{owner}`: to_torch converts SimpleRNN, LSTM and "
                                  f"GRU, got {type(sub).__name__}.")
    if kind == "RNN":
        if sub.activation not in ("tanh", "relu"):
            raise NotImplementedError(
                f"Layer `{owner}`: torch.nn.RNN's nonlinearity is 'tanh' or 'relu', got "
                f"activation={sub.activation!r}.")
    else:
        if (sub.activation, sub.recurrent_activation) != ("tanh", "sigmoid"):
            raise NotImplementedError(
                f"Layer `{owner}`: torch.nn.{kind} computes activation='tanh' and "
                "recurrent_activation='sigmoid' only, got activation="
                f"{sub.activation!r}, recurrent_activation={sub.recurrent_activation!r}.")
        if kind == "GRU" and not sub.reset_after:
            raise NotImplementedError(
                f"Layer `{owner}`: GRU with reset_after=False applies the reset gate before "
                "the recurrent product; torch.nn.GRU has no such cell (it is Keras's "
                "reset_after=True). Export it with to_onnx instead "
                "(linear_before_reset=0).")
    if getattr(sub, "stateful", False):
        raise NotImplementedError(f"Layer `{owner}` is stateful; torch.nn.{kind} keeps no "
                                  "state between calls. Use stateful=False.")


def settings(sub):
    """What must agree between the directions and stacked layers of one torch module."""
    return (_fastrnn_kind(sub), sub.units, sub.activation,
            getattr(sub, "recurrent_activation", None), sub.use_bias,
            getattr(sub, "reset_after", None))
