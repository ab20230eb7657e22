"""The array contract for the LSTM and GRU kernels (re-exported by fastrnn.functional).

Each function validates and coerces its arrays, allocates the outputs and calls
``fastrnn._gates``, as ``simple_rnn_forward``/``simple_rnn_backward`` do for the Elman
recurrence. The cells are Keras 3's (keras/src/layers/rnn/lstm.py, gru.py):

    LSTM   [i, f, g, o] = x @ kernel + h @ recurrent_kernel + bias   (4 blocks of units)
           i, f, o = recurrent_activation(.), g = activation(.)
           c_t = f * c_{t-1} + i * g ;  h_t = o * activation(c_t)
    GRU    [z, r] = recurrent_activation(x @ W_zr + b_zr + h @ U_zr [+ rb_zr])
           reset_after=True:  hh = activation(x @ W_h + b_h + r * (h @ U_h + rb_h))
           reset_after=False: hh = activation(x @ W_h + b_h + (r * h) @ U_h)
           h_t = z * h_{t-1} + (1 - z) * hh

Dropout masks are (batch, width), one shared by every gate (Keras's implementation=2),
or (gates, batch, width), one per gate (implementation=1, which Keras uses whenever
recurrent_dropout > 0): gate k reads x * dropout_mask[k] and h * recurrent_dropout_mask[k].
"""
from collections import namedtuple

import numpy as np

from . import _gates
from . import functional as _F

__all__ = ["lstm_forward", "lstm_backward", "gru_forward", "gru_backward",
           "compile_gated_forward", "LSTMGradients", "GRUGradients"]

LSTMGradients = namedtuple(
    "LSTMGradients", ["x", "kernel", "recurrent_kernel", "bias", "initial_h", "initial_c"])
GRUGradients = namedtuple(
    "GRUGradients", ["x", "kernel", "recurrent_kernel", "bias", "initial_state"])

# What the forward keeps for the backward (return_cache=True); opaque to callers.
_Cache = namedtuple("_Cache", ["cell", "x_in", "gates", "hs", "cs", "aux", "h0", "c0"])

_LSTM, _GRU_AFTER, _GRU = (_gates.CELLS[k] for k in ("lstm", "gru_reset_after", "gru"))
_NAMES = {_LSTM: "LSTM", _GRU_AFTER: "GRU", _GRU: "GRU"}


def _act(value, name):
    if value not in _gates.ACTIVATIONS:
        raise ValueError(f"Received an invalid value for argument `{name}`, expected one "
                         f"of {list(_gates.ACTIVATIONS)}, got {value!r}.")
    return _gates.ACTIVATIONS[value]


def _weights(cell, kernel, recurrent_kernel, bias, D, dtype):
    """Checked (kernel, recurrent_kernel, input bias, recurrent bias, units)."""
    G = 4 if cell == _LSTM else 3
    kernel = _F._as_array(kernel, "kernel", dtype, f"(features, {G} * units)", 2)
    if kernel.shape[0] != D or kernel.shape[1] < G or kernel.shape[1] % G:
        raise ValueError(f"Argument `kernel` must have shape ({D}, {G} * units) to match "
                         f"the {D} input features of `x` and the {_NAMES[cell]}'s {G} "
                         f"gates, got {kernel.shape}.")
    U = kernel.shape[1] // G
    recurrent_kernel = _F._as_array(recurrent_kernel, "recurrent_kernel", dtype,
                                    f"(units, {G} * units)", 2)
    if recurrent_kernel.shape != (U, G * U):
        raise ValueError(f"Argument `recurrent_kernel` must have shape {(U, G * U)}, "
                         f"got {recurrent_kernel.shape}.")
    if bias is None:
        return kernel, recurrent_kernel, None, None, U
    if cell == _GRU_AFTER:
        bias = _F._as_array(bias, "bias", dtype, f"(2, {G * U})", 2)
        if bias.shape != (2, G * U):
            raise ValueError(f"Argument `bias` must have shape {(2, G * U)} (input and "
                             f"recurrent biases, reset_after=True), got {bias.shape}.")
        return kernel, recurrent_kernel, bias[0].copy(), bias[1].copy(), U
    bias = _F._as_array(bias, "bias", dtype, f"({G * U},)", 1)
    if bias.shape != (G * U,):
        raise ValueError(f"Argument `bias` must have shape {(G * U,)}, got {bias.shape}.")
    return kernel, recurrent_kernel, bias, None, U


def _gate_mask(mask, name, G, B, W, dtype):
    """A dropout mask as (1 or G, B, W), or None."""
    if mask is None:
        return None
    arr = np.asarray(mask)
    if arr.ndim == 2:
        arr = arr[None]
    arr = _F._as_array(arr, name, dtype, f"{(B, W)} or {(G, B, W)}", 3)
    if arr.shape[1:] != (B, W) or arr.shape[0] not in (1, G):
        raise ValueError(f"Argument `{name}` must have shape {(B, W)} (one mask for every "
                         f"gate) or {(G, B, W)} (one per gate), got {np.shape(mask)}.")
    return arr


def _states(cell, initial_state, B, U, dtype):
    if cell != _LSTM:
        if isinstance(initial_state, (list, tuple)) and len(initial_state) == 1:
            initial_state = initial_state[0]
        return _F._check_state(initial_state, "initial_state", B, U, dtype), None
    if initial_state is None:
        return np.zeros((B, U), dtype), np.zeros((B, U), dtype)
    if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2:
        got = (f"{len(initial_state)} arrays" if isinstance(initial_state, (list, tuple))
               else type(initial_state).__name__)
        raise ValueError("Argument `initial_state` of an LSTM must be two arrays [h, c] of "
                         f"shape {(B, U)}, got {got}.")
    return (_F._check_state(initial_state[0], "initial_state[0]", B, U, dtype),
            _F._check_state(initial_state[1], "initial_state[1]", B, U, dtype))


class _Setup:
    """Everything one call checks and derives from its arguments."""

    def __init__(self, cell, x, kernel, recurrent_kernel, bias, initial_state, activation,
                 recurrent_activation, mask, dropout_mask, recurrent_dropout_mask):
        self.cell = cell
        self.dtype = dtype = _F._dtype_of(kernel)
        self.act = _act(activation, "activation")
        self.ract = _act(recurrent_activation, "recurrent_activation")
        x, B, T, D = _F._check_x(x)
        self.G = G = 4 if cell == _LSTM else 3
        (self.kernel, self.rk, self.bias, self.rbias, U) = _weights(
            cell, kernel, recurrent_kernel, bias, D, dtype)
        _F._check_sizes(B, T, D, G * U)
        self.B, self.T, self.D, self.U = B, T, D, U
        self.h0, self.c0 = _states(cell, initial_state, B, U, dtype)
        self.mask8 = _F._check_mask(mask, B, T)
        self.dmask = _gate_mask(dropout_mask, "dropout_mask", G, B, D, dtype)
        self.rmask = _gate_mask(recurrent_dropout_mask, "recurrent_dropout_mask", G, B, U,
                                dtype)
        # one input-dropout mask: applied to x; one per gate: the projection is done here
        self.projected = self.dmask is not None and self.dmask.shape[0] > 1
        if self.dmask is not None and not self.projected:
            x = np.asarray(x, dtype) * self.dmask[0][:, None, :]
        self.x = np.ascontiguousarray(x, dtype)
        self.packed = _F._PACKED
        self.per_gate = self.rmask is not None and self.rmask.shape[0] > 1

    def projection(self, t0, t1):
        """gates[:, t0:t1] = x_k * dropout_mask[k] @ kernel_k + bias_k for each gate k."""
        U = self.U
        out = np.empty((self.B, t1 - t0, self.G * U), self.dtype)
        for k in range(self.G):
            cols = slice(k * U, (k + 1) * U)
            np.matmul(self.x[:, t0:t1] * self.dmask[k][:, None, :], self.kernel[:, cols],
                      out=out[:, :, cols])
            if self.bias is not None:
                out[:, :, cols] += self.bias[cols]
        return out

    def run(self, t0, t1, bufs, h, c, prev_out, reverse):
        """The kernel's forward over positions t0:t1 into bufs (gates, hs, out, cs, aux)."""
        gates, hs, out, cs, aux = bufs
        if self.projected:
            gates[...] = self.projection(t0, t1)
        _gates.forward(self.cell, np.ascontiguousarray(self.x[:, t0:t1]), self.kernel,
                       self.rk, self.bias, self.rbias,
                       None if self.mask8 is None else np.ascontiguousarray(self.mask8[:, t0:t1]),
                       self.zero_output, self.act, self.ract, self.rmask, gates, hs, out,
                       cs, aux, h, c, prev_out, self.work,
                       kpacked=self.kpacked, rpacked=self.rpacked, projected=self.projected,
                       num_threads=_F.get_num_threads(), reverse=reverse)


def _forward(cell, x, kernel, recurrent_kernel, bias, initial_state, activation,
             recurrent_activation, go_backwards, mask, return_sequences, zero_output_for_mask,
             dropout_mask, recurrent_dropout_mask, positions, return_cache):
    st = _Setup(cell, x, kernel, recurrent_kernel, bias, initial_state, activation,
                recurrent_activation, mask, dropout_mask, recurrent_dropout_mask)
    B, T, U, G, dtype = st.B, st.T, st.U, st.G, st.dtype
    st.zero_output = bool(zero_output_for_mask)
    st.kpacked = _gates.pack(st.kernel) if st.packed and not st.projected else None
    st.rpacked = (_gates.pack_recurrent(st.rk, cell, st.per_gate, False)
                  if st.packed else None)
    st.work = np.empty((B, _gates.WORK_UNITS * U), dtype)
    h, c = st.h0.copy(), (st.c0.copy() if cell == _LSTM else None)
    prev_out = np.zeros((B, U), dtype) if st.mask8 is not None else None
    reverse = bool(go_backwards)

    def buffers(n):
        return (np.empty((B, n, G * U), dtype), np.empty((B, n, U), dtype),
                np.empty((B, n, U), dtype) if st.mask8 is not None else None,
                np.empty((B, n, U), dtype) if cell == _LSTM else None,
                np.empty((B, n, U), dtype) if cell != _LSTM else None)

    step_bytes = max(1, B * (G + 3) * U * np.dtype(dtype).itemsize)
    chunk = T if return_sequences or return_cache else max(
        1, min(T, _F.CHUNK_BYTES // step_bytes))
    states = (h, c) if cell == _LSTM else (h,)
    last = 0 if reverse else -1  # position of the last step processed
    if chunk == T:
        bufs = buffers(T)
        st.run(0, T, bufs, h, c, prev_out, reverse)
        seq = bufs[2] if bufs[2] is not None else bufs[1]
        if return_sequences:
            result = (seq[:, ::-1] if reverse and not positions else seq,) + states
        else:
            result = (np.ascontiguousarray(seq[:, last]),) + states
        if return_cache:
            result += (_Cache(cell, st.x, bufs[0], bufs[1], bufs[3], bufs[4], st.h0, st.c0),)
        return result
    # time chunks in processing order, each run into the same buffers
    bufs = buffers(chunk)
    for i in range(-(-T // chunk)):
        t0, t1 = (max(0, T - (i + 1) * chunk), T - i * chunk) if reverse else \
            (i * chunk, min(T, (i + 1) * chunk))
        b = bufs if t1 - t0 == chunk else buffers(t1 - t0)
        st.run(t0, t1, b, h, c, prev_out, reverse)
    seq = b[2] if b[2] is not None else b[1]
    return (np.ascontiguousarray(seq[:, last]),) + states


def _backward(cell, d_sequences, d_h, d_c, x, kernel, recurrent_kernel, bias, initial_state,
              activation, recurrent_activation, go_backwards, mask, zero_output_for_mask,
              dropout_mask, recurrent_dropout_mask, positions, cache, workspace):
    st = _Setup(cell, x, kernel, recurrent_kernel, bias, initial_state, activation,
                recurrent_activation, mask, dropout_mask, recurrent_dropout_mask)
    B, T, D, U, G, dtype = st.B, st.T, st.D, st.U, st.G, st.dtype
    if cache is None:
        cache = _forward(cell, x, kernel, recurrent_kernel, bias, initial_state, activation,
                         recurrent_activation, go_backwards, mask, True, zero_output_for_mask,
                         dropout_mask, recurrent_dropout_mask, True, True)[-1]
    elif (not isinstance(cache, _Cache) or cache.cell != cell
          or cache.gates.shape != (B, T, G * U) or cache.gates.dtype != dtype):
        raise ValueError("Argument `cache` must be what the forward call with "
                         "return_cache=True returned for these arrays, got "
                         f"{type(cache).__name__}.")
    flip = bool(go_backwards) and not positions
    if flip and d_sequences is not None:  # to position order, as the kernel keeps them
        d_sequences = np.asarray(d_sequences)[:, ::-1]
    d_seq = None
    if d_sequences is not None:
        d_seq = _F._as_array(d_sequences, "d_sequences", dtype, f"{(B, T, U)}", 3)
        if d_seq.shape != (B, T, U):
            raise ValueError(f"Argument `d_sequences` must have shape {(B, T, U)}, "
                             f"got {d_seq.shape}.")
    d_h = None if d_h is None else _F._check_state(d_h, "d_h", B, U, dtype)
    if d_c is not None:
        d_c = _F._check_state(d_c, "d_c", B, U, dtype)
    work = _F._Workspace(workspace, dtype)
    dx = np.empty((B, T, D), dtype)
    dk = np.empty((D, G * U), dtype)
    dr = np.empty((U, G * U), dtype)
    db = np.empty((G * U,), dtype)
    drb = np.empty((G * U,), dtype) if cell == _GRU_AFTER else None
    dh0 = np.empty((B, U), dtype)
    dc0 = np.empty((B, U), dtype) if cell == _LSTM else None
    d_pre = work("d_pre", (B, T, G * U))
    nt = _F.get_num_threads()
    _gates.backward(cell, cache.x_in, st.kernel, st.rk, st.mask8, bool(zero_output_for_mask),
                    st.act, st.ract, st.rmask, cache.gates, cache.hs, cache.cs, cache.aux,
                    cache.h0, cache.c0, d_seq, d_h, d_c, dx, dk, dr, db, drb, dh0, dc0, d_pre,
                    work("d_rec", (B, T, G * U)) if cell == _GRU_AFTER else None,
                    work("h_prev", (B, T, U)), work("d_carry", (B, U)),
                    work("wk", (B, _gates.WORK_UNITS * U)),
                    rkT_packed=_gates.pack_recurrent(st.rk, cell, st.per_gate, True)
                    if st.packed else None,
                    merge_input=not st.projected, num_threads=nt,
                    reverse=bool(go_backwards),
                    kT_packed=_gates.pack(st.kernel, True) if st.packed else None,
                    dp_work=work("dp_packed", (_gates.packed_size(B * T, G * U, dtype),))
                    if st.packed else None,
                    part_work=work("parts", (_gates.merge_parts_size(nt, D, U, G, dtype),))
                    if st.packed and nt > 1 else None)
    if st.projected:
        # one input mask per gate: the projection's gradients, gate by gate
        dx[...] = 0
        for k in range(G):
            cols = slice(k * U, (k + 1) * U)
            m = st.dmask[k][:, None, :]
            dk[:, cols] = ((st.x * m).reshape(B * T, D).T
                           @ d_pre[:, :, cols].reshape(B * T, U))
            dx += (d_pre[:, :, cols] @ st.kernel[:, cols].T) * m
        db[...] = d_pre.reshape(B * T, G * U).sum(axis=0)
    elif st.dmask is not None:
        dx *= st.dmask[0][:, None, :]
    if cell == _LSTM:
        return LSTMGradients(dx, dk, dr, db, dh0, dc0)
    return GRUGradients(dx, dk, dr, np.stack([db, drb]) if cell == _GRU_AFTER else db, dh0)


def compile_gated_forward(cell, kernel, recurrent_kernel, bias=None, activation="tanh",
                          recurrent_activation="sigmoid", go_backwards=False,
                          reset_after=True):
    """A lean LSTM or GRU forward for repeated calls with the same weight arrays.

    Args:
        cell: "lstm" or "gru".
        kernel, recurrent_kernel, bias: as ``lstm_forward`` / ``gru_forward``; they must
            already be C-contiguous float32 or float64 arrays of one dtype, and are held
            by reference (in-place updates are seen; a GRU's (2, 3U) bias through views
            of its rows).
        activation, recurrent_activation, go_backwards, reset_after: as there.

    Returns:
        ``plan(x, num_threads, max_bytes=-1)``, which returns what ``lstm_forward`` /
        ``gru_forward`` return with positions=True and no mask, initial state or dropout
        -- (sequences (batch, timesteps, units) in position order, h[, c]) -- or None
        when ``x`` is not a C-contiguous (batch, timesteps, features) array of the
        weights' dtype (or its buffers would pass ``max_bytes``): then call the general
        function.

    Raises:
        ValueError / TypeError naming the argument for bad weights or names.
    """
    if cell not in ("lstm", "gru"):
        raise ValueError("Received an invalid value for argument `cell`, expected 'lstm' or "
                         f"'gru', got {cell!r}.")
    code = _LSTM if cell == "lstm" else (_GRU_AFTER if reset_after else _GRU)
    act = _act(activation, "activation")
    ract = _act(recurrent_activation, "recurrent_activation")
    dtype = _F._dtype_of(kernel)
    D = _F._as_array(kernel, "kernel", dtype, "(features, gates * units)", 2).shape[0]
    _weights(code, kernel, recurrent_kernel, bias, D, dtype)  # shapes and dtypes checked
    rbias = None
    if bias is not None and code == _GRU_AFTER:
        bias, rbias = bias[0], bias[1]
    return _gates.Forward(code, kernel, recurrent_kernel, bias, rbias, act, ract,
                          _F._PACKED, bool(go_backwards))


def lstm_forward(x, kernel, recurrent_kernel, bias=None, initial_state=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                 mask=None, *, return_sequences=True, zero_output_for_mask=False,
                 dropout_mask=None, recurrent_dropout_mask=None, positions=False,
                 return_cache=False):
    """Run Keras 3's LSTM cell over a batch of sequences.

    Args:
        x: (batch, timesteps, features), any real dtype or layout (converted to the
            weights' dtype: float64 if kernel is float64, else float32).
        kernel: (features, 4 * units), gates in Keras's order i, f, c, o.
        recurrent_kernel: (units, 4 * units). bias: (4 * units,) or None.
        initial_state: None (zeros) or [h, c], each (batch, units).
        activation, recurrent_activation: "tanh", "sigmoid", "relu", "linear" or
            "hard_sigmoid" (Keras 3's: clip(a / 6 + 0.5, 0, 1)).
        go_backwards, mask, return_sequences, zero_output_for_mask, positions: as
            ``simple_rnn_forward`` (a masked step keeps h and c).
        dropout_mask: (batch, features), or (4, batch, features) one per gate.
        recurrent_dropout_mask: (batch, units), or (4, batch, units) one per gate.
        return_cache: also return what ``lstm_backward(cache=...)`` needs (it implies
            the whole sequence is kept).

    Returns:
        (sequences (batch, timesteps, units) or last output (batch, units),
         h (batch, units), c (batch, units)) [+ cache].

    Raises:
        ValueError / TypeError naming the argument for a bad shape, dtype or name.
    """
    return _forward(_LSTM, x, kernel, recurrent_kernel, bias, initial_state, activation,
                    recurrent_activation, go_backwards, mask, return_sequences,
                    zero_output_for_mask, dropout_mask, recurrent_dropout_mask, positions,
                    return_cache)


def lstm_backward(d_sequences, d_h, d_c, x, kernel, recurrent_kernel, bias=None,
                  initial_state=None, activation="tanh", recurrent_activation="sigmoid",
                  go_backwards=False, mask=None, *, zero_output_for_mask=False,
                  dropout_mask=None, recurrent_dropout_mask=None, positions=False,
                  cache=None, workspace=None):
    """Backpropagation through time for ``lstm_forward``.

    Args:
        d_sequences: (batch, timesteps, units) gradient of the returned sequence
            (processing order unless positions), or None.
        d_h, d_c: (batch, units) gradients of the last h and c, or None.
        x ... recurrent_dropout_mask: as given to the forward call.
        cache: what the forward returned with return_cache=True; None recomputes it.
        workspace: a dict this call may keep its scratch buffers in between calls.

    Returns:
        LSTMGradients(x (batch, timesteps, features), kernel (features, 4U),
        recurrent_kernel (units, 4U), bias (4U,), initial_h, initial_c (batch, units)).
    """
    return _backward(_LSTM, d_sequences, d_h, d_c, x, kernel, recurrent_kernel, bias,
                     initial_state, activation, recurrent_activation, go_backwards, mask,
                     zero_output_for_mask, dropout_mask, recurrent_dropout_mask, positions,
                     cache, workspace)


def gru_forward(x, kernel, recurrent_kernel, bias=None, initial_state=None,
                activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                mask=None, *, reset_after=True, return_sequences=True,
                zero_output_for_mask=False, dropout_mask=None, recurrent_dropout_mask=None,
                positions=False, return_cache=False):
    """Run Keras 3's GRU cell over a batch of sequences.

    Args:
        x: (batch, timesteps, features).
        kernel: (features, 3 * units), gates in Keras's order z, r, h.
        recurrent_kernel: (units, 3 * units).
        bias: reset_after=True: (2, 3 * units), the input and the recurrent bias;
            reset_after=False: (3 * units,); or None.
        initial_state: (batch, units) or None.
        reset_after: True (Keras 3's default, PyTorch's convention): r multiplies
            h @ U_h + rb_h; False: hh reads (r * h) @ U_h.
        dropout_mask: (batch, features) or (3, batch, features).
        recurrent_dropout_mask: (batch, units) or (3, batch, units).
        The rest as ``lstm_forward``.

    Returns:
        (sequences (batch, timesteps, units) or last output (batch, units),
         h (batch, units)) [+ cache].
    """
    return _forward(_GRU_AFTER if reset_after else _GRU, x, kernel, recurrent_kernel, bias,
                    initial_state, activation, recurrent_activation, go_backwards, mask,
                    return_sequences, zero_output_for_mask, dropout_mask,
                    recurrent_dropout_mask, positions, return_cache)


def gru_backward(d_sequences, d_h, x, kernel, recurrent_kernel, bias=None, initial_state=None,
                 activation="tanh", recurrent_activation="sigmoid", go_backwards=False,
                 mask=None, *, reset_after=True, zero_output_for_mask=False,
                 dropout_mask=None, recurrent_dropout_mask=None, positions=False,
                 cache=None, workspace=None):
    """Backpropagation through time for ``gru_forward`` (arguments as there; d_h the
    gradient of the last state).

    Returns:
        GRUGradients(x, kernel, recurrent_kernel, bias ((2, 3U) with reset_after, else
        (3U,)), initial_state (batch, units)).
    """
    return _backward(_GRU_AFTER if reset_after else _GRU, d_sequences, d_h, None, x, kernel,
                     recurrent_kernel, bias, initial_state, activation, recurrent_activation,
                     go_backwards, mask, zero_output_for_mask, dropout_mask,
                     recurrent_dropout_mask, positions, cache, workspace)
