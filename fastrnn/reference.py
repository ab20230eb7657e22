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


# ---------------------------------------------------------------- LSTM and GRU
# Keras 3's cells (keras/src/layers/rnn/lstm.py, gru.py), written as plain loops.
# Dropout masks are either one (batch, width) array shared by every gate (Keras's
# implementation=2, the default without recurrent_dropout) or (gates, batch, width),
# one per gate (implementation=1, which Keras uses whenever recurrent_dropout > 0).

_ACT["hard_sigmoid"] = lambda a: np.clip(a / 6 + 0.5, 0, 1)  # Keras 3: relu6(a + 3) / 6
_DACT["hard_sigmoid"] = lambda y: ((y > 0) & (y < 1)).astype(y.dtype) / 6


def _per_gate(mask, gates, dtype):
    """A list of `gates` multipliers: ones, the shared mask, or one mask per gate."""
    if mask is None:
        return [dtype.type(1)] * gates
    mask = np.asarray(mask, dtype)
    return [mask] * gates if mask.ndim == 2 else [mask[g] for g in range(gates)]


def _split(a, gates):
    return np.split(a, gates, axis=-1)


def lstm_forward(x, kernel, recurrent_kernel, bias=None, initial_state=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                 mask=None, zero_output_for_mask=False, dropout_mask=None,
                 recurrent_dropout_mask=None):
    """Keras's LSTMCell over time. initial_state: None or (h0, c0), each (B, U).
    Returns (sequences (B, T, U) in processing order, h (B, U), c (B, U))."""
    return _lstm(x, kernel, recurrent_kernel, bias, initial_state, activation,
                 recurrent_activation, go_backwards, mask, zero_output_for_mask,
                 dropout_mask, recurrent_dropout_mask)[0]


def _lstm(x, kernel, recurrent_kernel, bias, initial_state, activation, recurrent_activation,
          go_backwards, mask, zero_output_for_mask, dropout_mask, recurrent_dropout_mask):
    dtype = kernel.dtype
    x = np.asarray(x, dtype)
    B, T, _ = x.shape
    U = recurrent_kernel.shape[0]
    act, ract = _ACT[activation], _ACT[recurrent_activation]
    dm = _per_gate(dropout_mask, 4, dtype)
    rm = _per_gate(recurrent_dropout_mask, 4, dtype)
    W, R = _split(kernel, 4), _split(recurrent_kernel, 4)
    b = _split(np.zeros(4 * U, dtype) if bias is None else np.asarray(bias, dtype), 4)
    if initial_state is None:
        h, c = np.zeros((B, U), dtype), np.zeros((B, U), dtype)
    else:
        h, c = (np.array(s, dtype) for s in initial_state)
    m_all = np.ones((B, T), bool) if mask is None else np.asarray(mask, bool)
    prev = np.zeros((B, U), dtype)
    outs, tape = [], []
    for t in _order(T, go_backwards):
        xt = x[:, t]
        i, f, g, o = ((xt * dm[k]) @ W[k] + (h * rm[k]) @ R[k] + b[k] for k in range(4))
        i, f, g, o = ract(i), ract(f), act(g), ract(o)
        c_new = f * c + i * g
        h_new = o * act(c_new)
        tape.append((t, h, c, i, f, g, o, c_new))
        m = m_all[:, t][:, None]
        h, c = np.where(m, h_new, h), np.where(m, c_new, c)
        y = np.where(m, h_new, 0 if zero_output_for_mask else prev)
        prev = y
        outs.append(y)
    return (np.stack(outs, axis=1), h, c), tape


def lstm_backward(d_sequences, d_h, d_c, x, kernel, recurrent_kernel, bias=None,
                  initial_state=None, activation="tanh", recurrent_activation="sigmoid",
                  go_backwards=False, mask=None, zero_output_for_mask=False,
                  dropout_mask=None, recurrent_dropout_mask=None):
    """Naive BPTT for lstm_forward. d_sequences (B, T, U) in processing order, d_h and
    d_c (B, U); any may be None. Returns (dx, d_kernel, d_recurrent, d_bias, d_h0, d_c0)."""
    dtype = kernel.dtype
    x = np.asarray(x, dtype)
    B, T, D = x.shape
    U = recurrent_kernel.shape[0]
    _, tape = _lstm(x, kernel, recurrent_kernel, bias, initial_state, activation,
                    recurrent_activation, go_backwards, mask, zero_output_for_mask,
                    dropout_mask, recurrent_dropout_mask)
    dact, dract = _DACT[activation], _DACT[recurrent_activation]
    dm = _per_gate(dropout_mask, 4, dtype)
    rm = _per_gate(recurrent_dropout_mask, 4, dtype)
    W, R = _split(kernel, 4), _split(recurrent_kernel, 4)
    m_all = np.ones((B, T), bool) if mask is None else np.asarray(mask, bool)
    dx = np.zeros_like(x)
    dW, dR = np.zeros_like(kernel), np.zeros_like(recurrent_kernel)
    db = np.zeros(4 * U, dtype)
    dh = np.zeros((B, U), dtype) if d_h is None else np.array(d_h, dtype)
    dc = np.zeros((B, U), dtype) if d_c is None else np.array(d_c, dtype)
    dy_carry = np.zeros((B, U), dtype)
    for s in range(T - 1, -1, -1):
        t, h_prev, c_prev, i, f, g, o, c_new = tape[s]
        m = m_all[:, t][:, None]
        gy = dy_carry + (0 if d_sequences is None else d_sequences[:, s])
        dh_new = np.where(m, gy + dh, 0)
        ac = _ACT[activation](c_new)
        dc_new = np.where(m, dc + dh_new * o * dact(ac), 0)
        dz = [dc_new * g * dract(i), dc_new * c_prev * dract(f), dc_new * i * dact(g),
              dh_new * ac * dract(o)]
        dh_prev = sum((dz[k] @ R[k].T) * rm[k] for k in range(4))
        for k in range(4):
            cols = slice(k * U, (k + 1) * U)
            dW[:, cols] += (x[:, t] * dm[k]).T @ dz[k]
            dR[:, cols] += (h_prev * rm[k]).T @ dz[k]
            db[cols] += dz[k].sum(axis=0)
            dx[:, t] += (dz[k] @ W[k].T) * dm[k]
        dh = np.where(m, 0, dh) + dh_prev
        dc = np.where(m, dc_new * f, dc)
        dy_carry = np.where(m | zero_output_for_mask, 0, gy)
    return dx, dW, dR, db, dh, dc


def gru_forward(x, kernel, recurrent_kernel, bias=None, initial_state=None,
                activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                mask=None, zero_output_for_mask=False, dropout_mask=None,
                recurrent_dropout_mask=None, reset_after=True):
    """Keras's GRUCell over time: gates z, r, h; h_t = z * h_{t-1} + (1 - z) * hh.
    bias: (2, 3U) [input bias, recurrent bias] with reset_after, else (3U,), or None.
    Returns (sequences (B, T, U) in processing order, h (B, U))."""
    return _gru(x, kernel, recurrent_kernel, bias, initial_state, activation,
                recurrent_activation, go_backwards, mask, zero_output_for_mask,
                dropout_mask, recurrent_dropout_mask, reset_after)[0]


def _gru_bias(bias, U, reset_after, dtype):
    if bias is None:
        return np.zeros(3 * U, dtype), np.zeros(3 * U, dtype)
    bias = np.asarray(bias, dtype)
    return (bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * U, dtype))


def _gru(x, kernel, recurrent_kernel, bias, initial_state, activation, recurrent_activation,
         go_backwards, mask, zero_output_for_mask, dropout_mask, recurrent_dropout_mask,
         reset_after):
    dtype = kernel.dtype
    x = np.asarray(x, dtype)
    B, T, _ = x.shape
    U = recurrent_kernel.shape[0]
    act, ract = _ACT[activation], _ACT[recurrent_activation]
    dm = _per_gate(dropout_mask, 3, dtype)
    rm = _per_gate(recurrent_dropout_mask, 3, dtype)
    W, R = _split(kernel, 3), _split(recurrent_kernel, 3)
    b, rb = (_split(v, 3) for v in _gru_bias(bias, U, reset_after, dtype))
    h = np.zeros((B, U), dtype) if initial_state is None else np.array(initial_state, dtype)
    m_all = np.ones((B, T), bool) if mask is None else np.asarray(mask, bool)
    prev = np.zeros((B, U), dtype)
    outs, tape = [], []
    for t in _order(T, go_backwards):
        xt = x[:, t]
        xz, xr, xh = ((xt * dm[k]) @ W[k] + b[k] for k in range(3))
        z = ract(xz + (h * rm[0]) @ R[0] + rb[0])
        r = ract(xr + (h * rm[1]) @ R[1] + rb[1])
        if reset_after:
            rh = (h * rm[2]) @ R[2] + rb[2]  # the recurrent part r multiplies
            hh = act(xh + r * rh)
        else:
            rh = None
            hh = act(xh + (r * (h * rm[2])) @ R[2])
        h_new = z * h + (1 - z) * hh
        tape.append((t, h, z, r, hh, rh))
        m = m_all[:, t][:, None]
        h = np.where(m, h_new, h)
        y = np.where(m, h_new, 0 if zero_output_for_mask else prev)
        prev = y
        outs.append(y)
    return (np.stack(outs, axis=1), h), tape


def gru_backward(d_sequences, d_h, x, kernel, recurrent_kernel, bias=None,
                 initial_state=None, activation="tanh", recurrent_activation="sigmoid",
                 go_backwards=False, mask=None, zero_output_for_mask=False,
                 dropout_mask=None, recurrent_dropout_mask=None, reset_after=True):
    """Naive BPTT for gru_forward. Returns (dx, d_kernel, d_recurrent, d_bias, d_h0);
    d_bias has the bias's shape ((2, 3U) with reset_after, else (3U,))."""
    dtype = kernel.dtype
    x = np.asarray(x, dtype)
    B, T, D = x.shape
    U = recurrent_kernel.shape[0]
    _, tape = _gru(x, kernel, recurrent_kernel, bias, initial_state, activation,
                   recurrent_activation, go_backwards, mask, zero_output_for_mask,
                   dropout_mask, recurrent_dropout_mask, reset_after)
    dact, dract = _DACT[activation], _DACT[recurrent_activation]
    dm = _per_gate(dropout_mask, 3, dtype)
    rm = _per_gate(recurrent_dropout_mask, 3, dtype)
    W, R = _split(kernel, 3), _split(recurrent_kernel, 3)
    m_all = np.ones((B, T), bool) if mask is None else np.asarray(mask, bool)
    dx = np.zeros_like(x)
    dW, dR = np.zeros_like(kernel), np.zeros_like(recurrent_kernel)
    db, drb = np.zeros(3 * U, dtype), np.zeros(3 * U, dtype)
    dh = np.zeros((B, U), dtype) if d_h is None else np.array(d_h, dtype)
    dy_carry = np.zeros((B, U), dtype)
    for s in range(T - 1, -1, -1):
        t, h_prev, z, r, hh, rh = tape[s]
        m = m_all[:, t][:, None]
        gy = dy_carry + (0 if d_sequences is None else d_sequences[:, s])
        dh_new = np.where(m, gy + dh, 0)
        da_h = dh_new * (1 - z) * dact(hh)          # gradient of hh's pre-activation
        da_z = dh_new * (h_prev - hh) * dract(z)
        if reset_after:
            da_r = da_h * rh * dract(r)
            d_rec = [da_z, da_r, da_h * r]          # gradients of the recurrent parts
            dh_prev = dh_new * z + sum((d_rec[k] @ R[k].T) * rm[k] for k in range(3))
            hin = [h_prev * rm[k] for k in range(3)]
        else:
            d_rh = da_h @ R[2].T                     # gradient of r * (h * rm_h)
            da_r = d_rh * h_prev * rm[2] * dract(r)
            d_rec = [da_z, da_r, da_h]
            dh_prev = (dh_new * z + (da_z @ R[0].T) * rm[0] + (da_r @ R[1].T) * rm[1]
                       + d_rh * r * rm[2])
            hin = [h_prev * rm[0], h_prev * rm[1], r * h_prev * rm[2]]
        d_in = [da_z, da_r, da_h]
        for k in range(3):
            cols = slice(k * U, (k + 1) * U)
            dW[:, cols] += (x[:, t] * dm[k]).T @ d_in[k]
            dR[:, cols] += hin[k].T @ d_rec[k]
            db[cols] += d_in[k].sum(axis=0)
            drb[cols] += d_rec[k].sum(axis=0)
            dx[:, t] += (d_in[k] @ W[k].T) * dm[k]
        dh = np.where(m, 0, dh) + dh_prev
        dy_carry = np.where(m | zero_output_for_mask, 0, gy)
    d_bias = np.stack([db, drb]) if reset_after else db
    return dx, dW, dR, d_bias, dh
