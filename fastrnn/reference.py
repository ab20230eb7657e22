"""A deliberately naive NumPy reference: the oracle every floor is checked against.

Plain loops over time, written for clarity; independent of the kernel and never
imported by the runtime path. Mask semantics follow Keras 3: a masked step keeps
the state and repeats the previous output (zeros before the first step, or
always zeros with ``zero_output_for_mask``).
"""
import numpy as np

_ACT = {
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0),
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "linear": lambda a: a,
}
_DACT = {  # derivative written through the output y = act(a)
    "tanh": lambda y: 1 - y**2,
    "relu": lambda y: (y > 0).astype(y.dtype),
    "sigmoid": lambda y: y * (1 - y),
    "linear": lambda y: np.ones_like(y),
}


def _order(T, go_backwards):
    return list(range(T - 1, -1, -1)) if go_backwards else list(range(T))


def simple_rnn_forward(x, kernel, recurrent_kernel, bias=None, initial_state=None,
                       activation="tanh", go_backwards=False, mask=None,
                       zero_output_for_mask=False, dropout_mask=None,
                       recurrent_dropout_mask=None):
    """Same contract as fastrnn.functional.simple_rnn_forward (sequences, last_state);
    sequences (B, T, H) are in processing order."""
    dtype = kernel.dtype
    x = np.asarray(x, dtype)
    if dropout_mask is not None:
        x = x * dropout_mask[:, None, :]
    rd = 1 if recurrent_dropout_mask is None else recurrent_dropout_mask
    B, T, _ = x.shape
    H = kernel.shape[1]
    h = np.zeros((B, H), dtype) if initial_state is None else np.array(initial_state, dtype)
    prev = np.zeros((B, H), dtype)
    b = np.zeros(H, dtype) if bias is None else bias
    outs = []
    for t in _order(T, go_backwards):
        y = _ACT[activation](x[:, t] @ kernel + (h * rd) @ recurrent_kernel + b).astype(dtype)
        if mask is not None:
            m = np.asarray(mask, bool)[:, t][:, None]
            h = np.where(m, y, h)
            y = np.where(m, y, 0 if zero_output_for_mask else prev)
        else:
            h = y
        prev = y
        outs.append(y)
    return np.stack(outs, axis=1), h


def simple_rnn_backward(d_sequences, d_last_state, x, kernel, recurrent_kernel,
                        initial_state=None, bias=None, activation="tanh",
                        go_backwards=False, mask=None, zero_output_for_mask=False,
                        dropout_mask=None, recurrent_dropout_mask=None):
    """Naive BPTT, step by step. Returns (dx, d_kernel, d_recurrent, d_bias, d_h0)."""
    dtype = kernel.dtype
    x = np.asarray(x, dtype)
    dm = 1 if dropout_mask is None else dropout_mask[:, None, :]
    x = x * dm
    rd = 1 if recurrent_dropout_mask is None else recurrent_dropout_mask
    B, T, D = x.shape
    H = kernel.shape[1]
    b = np.zeros(H, dtype) if bias is None else bias
    order = _order(T, go_backwards)
    m_all = np.ones((B, T), bool) if mask is None else np.asarray(mask, bool)
    # replay the forward pass, keeping every state and fresh activation
    h = np.zeros((B, H), dtype) if initial_state is None else np.array(initial_state, dtype)
    states_before, fresh = [], []
    for t in order:
        states_before.append(h)
        y = _ACT[activation](x[:, t] @ kernel + (h * rd) @ recurrent_kernel + b)
        fresh.append(y)
        h = np.where(m_all[:, t][:, None], y, h)
    dx = np.zeros_like(x)
    dW = np.zeros_like(kernel)
    dU = np.zeros_like(recurrent_kernel)
    db = np.zeros(H, dtype)
    dh = np.zeros((B, H), dtype) if d_last_state is None else np.array(d_last_state, dtype)
    dy_carry = np.zeros((B, H), dtype)  # gradient reaching the previous output
    for s in range(T - 1, -1, -1):
        t = order[s]
        m = m_all[:, t][:, None]
        gy = dy_carry + (0 if d_sequences is None else d_sequences[:, s])
        # a masked step passes nothing back, whatever its (discarded) activation was
        da = np.where(m, (gy + dh) * _DACT[activation](fresh[s]), 0)
        dW += x[:, t].T @ da
        dU += (states_before[s] * rd).T @ da
        db += da.sum(axis=0)
        dx[:, t] = da @ kernel.T
        dh = np.where(m, 0, dh) + (da @ recurrent_kernel.T) * rd
        dy_carry = np.where(m | zero_output_for_mask, 0, gy)
    return dx * dm, dW, dU, db, dh
