"""The ONNX ``LSTM`` and ``GRU`` nodes of fastrnn's gated layers (used by
``fastrnn.interop._onnx_layers``).

Keras 3 (keras/src/layers/rnn/lstm.py, gru.py) against the ONNX operators
(onnx.ai/onnx/operators/onnx__LSTM.html, onnx__GRU.html), per direction:

    LSTM  Keras kernel (D, 4U) gate blocks i, f, c, o;  ONNX W (4H, D) blocks i, o, f, c:
          W = kernel^T with blocks [0, 3, 1, 2], R likewise from recurrent_kernel,
          Wb = bias in the same order, Rb = 0 (ONNX adds Wb + Rb to every gate).
          ONNX activations (f, g, h) = (recurrent_activation, activation, activation):
          c_t = f * c_{t-1} + i * g(.), h_t = o * h(c_t), as Keras. No peepholes.
    GRU   Keras z, r, h is ONNX's z, r, h: W = kernel^T, R = recurrent_kernel^T.
          reset_after=True  -> linear_before_reset=1, Wb = bias[0], Rb = bias[1]:
                               h~ = g(x W_h + Wb_h + r * (h R_h + Rb_h)).
          reset_after=False -> linear_before_reset=0, Wb = bias, Rb = 0:
                               h~ = g(x W_h + (r * h) R_h + Wb_h + Rb_h).
          ONNX activations (f, g) = (recurrent_activation, activation);
          h_t = (1 - z) * h~ + z * h_{t-1}, as Keras.

Activations: tanh, relu, sigmoid; "linear" is ``Affine`` (alpha 1, beta 0) and Keras 3's
"hard_sigmoid" (clip(x / 6 + 1/2, 0, 1)) is ``HardSigmoid`` (alpha 1/6, beta 1/2).
``activation_alpha`` / ``activation_beta`` list the values of the activations that take
them, in the order of the activations (ONNX Runtime's reading of the attribute).
"""
import numpy as np

__all__ = ["gated_node", "state_count"]

_ACTS = {"tanh": ("Tanh", None), "relu": ("Relu", None), "sigmoid": ("Sigmoid", None),
         "linear": ("Affine", (1.0, 0.0)), "hard_sigmoid": ("HardSigmoid", (1 / 6, 0.5))}
_LSTM_ORDER = (0, 3, 1, 2)  # Keras i, f, c, o -> ONNX i, o, f, c


def state_count(layer):
    """How many states one direction of ``layer`` returns (LSTM: h and c)."""
    return 2 if type(layer).__name__ == "LSTM" else 1


def check_gated(layer, sub):
    for arg in ("activation", "recurrent_activation"):
        if getattr(sub, arg) not in _ACTS:
            raise NotImplementedError(f"Layer `{layer.name}`: {arg} "
                                      f"{getattr(sub, arg)!r} has no ONNX equivalent.")


def _blocks(array, order, axis):
    parts = np.split(array, len(order), axis=axis)
    return np.concatenate([parts[j] for j in order], axis=axis)


def _direction_weights(kind, sub, dtype):
    """(W, R, B) of one direction in ONNX's layout."""
    G, U = (4, sub.units) if kind == "LSTM" else (3, sub.units)
    order = _LSTM_ORDER if kind == "LSTM" else (0, 1, 2)
    W = _blocks(sub.kernel, order, 1).T
    R = _blocks(sub.recurrent_kernel, order, 1).T
    zeros = np.zeros(G * U, dtype)
    if not sub.use_bias:
        wb, rb = zeros, zeros
    elif kind == "GRU" and sub.reset_after:
        wb, rb = sub.bias[0], sub.bias[1]
    else:
        wb, rb = _blocks(sub.bias, order, 0), zeros
    return W.astype(dtype), R.astype(dtype), np.concatenate([wb, rb]).astype(dtype)


def _activation_attrs(kind, subs):
    names, alphas, betas = [], [], []
    for sub in subs:
        acts = (sub.recurrent_activation, sub.activation) + (
            (sub.activation,) if kind == "LSTM" else ())
        for act in acts:
            op, ab = _ACTS[act]
            names.append(op)
            if ab:
                alphas.append(ab[0])
                betas.append(ab[1])
    attrs = dict(activations=names)
    if alphas:
        attrs.update(activation_alpha=alphas, activation_beta=betas)
    return attrs


def gated_node(g, layer, subs, x_t, init, direction, unsqueeze_state):
    """One ONNX LSTM / GRU node over time-major ``x_t`` for the fastrnn layers ``subs``
    (one per direction). ``init``: Keras's initial states ([h] or [h, c] per direction,
    forward first) or None. Returns the names of Y (T, dirs, B, H) and the list of final
    state outputs: [Y_h] (GRU) or [Y_h, Y_c] (LSTM), each (dirs, B, H)."""
    kind = type(subs[0]).__name__
    for sub in subs:
        check_gated(layer, sub)
    dtype = np.dtype(layer.dtype)
    parts = [_direction_weights(kind, s, dtype) for s in subs]
    inputs = [x_t] + [g.const(np.stack([p[i] for p in parts]), f"{layer.name}_{tag}")
                      for i, tag in enumerate("WRB")]
    if not any(s.use_bias for s in subs):
        inputs[3] = ""
    n_states = state_count(subs[0])
    if init:
        inputs.append("")  # sequence_lens unused: every step of every sequence runs
        for k in range(n_states):  # initial_h, then initial_c for an LSTM
            per_dir = [unsqueeze_state(h) for h in init[k::n_states]]
            inputs.append(per_dir[0] if len(per_dir) == 1 else
                          g.node("Concat", per_dir, layer.name, axis=0))
    attrs = dict(hidden_size=subs[0].units, direction=direction,
                 **_activation_attrs(kind, subs))
    if kind == "GRU":
        attrs["linear_before_reset"] = int(subs[0].reset_after)
    outs = g.node(kind, inputs, layer.name, outputs=1 + n_states, **attrs)
    return outs[0], outs[1:]
