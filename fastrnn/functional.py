"""The contract between the layers and the kernel.

Each function validates and coerces its arrays, allocates the outputs and calls
``fastrnn._kernel``. Layers call only this module; this module never knows about
layers, names or configs.

    h_t = act(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)
"""
import os
from collections import namedtuple

import numpy as np

from . import _kernel
from .activations import RECURRENT

__all__ = ["simple_rnn_forward", "simple_rnn_backward", "compile_forward", "RNNGradients",
           "compile_backward",
           "set_num_threads", "get_num_threads"]

RNNGradients = namedtuple(
    "RNNGradients", ["x", "kernel", "recurrent_kernel", "bias", "initial_state"])

_ACT_CODES = _kernel.ACTIVATIONS
# With return_sequences=False the sequence is computed in time chunks of about
# this many bytes of output, so memory stays bounded however long T is.
CHUNK_BYTES = 16 << 20
_INT_MAX = 2**31 - 1
# The packed AVX2/FMA microkernel where the CPU has it; BLAS (SciPy's) otherwise.
_PACKED = _kernel.simd()
_threads = {"n": None, "env": None}


def set_num_threads(n):
    """Threads the kernel splits a batch across; None restores the default:
    FASTRNN_NUM_THREADS if set, else OpenMP's count (OMP_NUM_THREADS, threadpoolctl's
    limit, or the CPUs this process may use)."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))
                          or n < 1):
        raise ValueError("Received an invalid value for argument `n`, expected a positive "
                         f"integer or None, got {n!r}.")
    _threads["n"] = None if n is None else int(n)


def get_num_threads():
    if _threads["n"] is not None:
        return _threads["n"]
    if _threads["env"] is None:
        env = os.environ.get("FASTRNN_NUM_THREADS", "")
        _threads["env"] = int(env) if env.isdigit() and int(env) > 0 else 0
    return _threads["env"] or _kernel.omp_max_threads()


class _Workspace:
    """Scratch arrays by name, kept in a caller's dict between calls (or fresh)."""

    def __init__(self, store, dtype):
        self.store = store
        self.dtype = dtype

    def __call__(self, name, shape):
        arr = None if self.store is None else self.store.get(name)
        if arr is None or arr.shape != shape or arr.dtype != self.dtype:
            arr = np.empty(shape, self.dtype)
            if self.store is not None:
                self.store[name] = arr
        return arr


def _packed(weights):
    return _kernel.pack_array(weights) if _PACKED else None


def _dtype_of(kernel):
    """float64 for a float64 kernel in either byte order ('<f8', '>f8'), else float32."""
    dt = getattr(kernel, "dtype", None)
    if not isinstance(dt, np.dtype):
        try:
            dt = np.asarray(kernel).dtype
        except Exception:  # ragged: _check_weights names it
            return np.float32
    return np.float64 if dt.kind == "f" and dt.itemsize == 8 else np.float32


def _native(arr, dtype):
    """arr as a C-contiguous, aligned array of dtype in native byte order: the only
    layout the kernel reads (a '>f4' array has float32's type number but swapped bytes).
    Copies only when arr is not so already."""
    if type(arr) is np.ndarray and arr.dtype == dtype and arr.dtype.isnative:
        flags = arr.flags
        if flags.c_contiguous and flags.aligned:
            return arr
    return np.require(arr, np.dtype(dtype).newbyteorder("="), ["C_CONTIGUOUS", "ALIGNED"])


_NUMERIC = {}  # dtype -> a real number or bool (np.issubdtype is slow on every call)


def _real_numeric(dtype):
    ok = _NUMERIC.get(dtype)
    if ok is None:
        ok = (dtype != np.dtype(object) and (np.issubdtype(dtype, np.number) or dtype == np.bool_)
              and not np.issubdtype(dtype, np.complexfloating))
        _NUMERIC[dtype] = ok
    return ok


def _to_array(value, name, shape_doc):
    """np.asarray(value), with a ragged nested list reported under the argument's name."""
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged lists and the like
        what = ("a ragged nested sequence (its rows have different lengths)"
                if "inhomogeneous" in str(exc) or "sequence" in str(exc)
                else f"{type(value).__name__} ({exc})")
        raise TypeError(f"Argument `{name}` must be an array of shape {shape_doc}, "
                        f"got {what}.") from None


def _as_array(value, name, dtype, shape_doc, ndim):
    if (type(value) is np.ndarray and value.ndim == ndim and value.dtype == dtype
            and value.dtype.isnative):
        flags = value.flags
        if flags.c_contiguous and flags.aligned:
            return value  # what the checks below would return, unchanged
    arr = _to_array(value, name, shape_doc)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"Argument `{name}` must be a numeric array of shape {shape_doc}, "
                        f"got dtype {arr.dtype}.")
    if arr.ndim != ndim:
        raise ValueError(f"Argument `{name}` must be a {ndim}-D array of shape {shape_doc}, "
                         f"got an array of shape {arr.shape}.")
    if np.iscomplexobj(arr):
        raise TypeError(f"Argument `{name}` must be real, got dtype {arr.dtype}.")
    return _native(arr, dtype)


def _activation_code(activation):
    if activation not in _ACT_CODES:
        raise ValueError(f"Received an invalid value for argument `activation`, expected "
                         f"one of {list(RECURRENT)}, got {activation!r}.")
    return _ACT_CODES[activation]


def _check_weights(kernel, recurrent_kernel, bias, D, dtype):
    kernel = _as_array(kernel, "kernel", dtype, "(features, units)", 2)
    H = kernel.shape[1]
    if kernel.shape[0] != D:
        raise ValueError(f"Argument `kernel` must have shape ({D}, units) to match the "
                         f"{D} input features of `x`, got {kernel.shape}.")
    if H < 1:
        raise ValueError(f"Argument `kernel` must have at least one unit, got {kernel.shape}.")
    recurrent_kernel = _as_array(recurrent_kernel, "recurrent_kernel", dtype, "(units, units)", 2)
    if recurrent_kernel.shape != (H, H):
        raise ValueError(f"Argument `recurrent_kernel` must have shape {(H, H)}, "
                         f"got {recurrent_kernel.shape}.")
    if bias is not None:
        bias = _as_array(bias, "bias", dtype, "(units,)", 1)
        if bias.shape != (H,):
            raise ValueError(f"Argument `bias` must have shape {(H,)}, got {bias.shape}.")
    return kernel, recurrent_kernel, bias, H


def _check_x(x):
    arr = _to_array(x, "x", "(batch, timesteps, features)")
    if not _real_numeric(arr.dtype):
        raise TypeError("Argument `x` must be a real numeric array of shape (batch, "
                        f"timesteps, features), got dtype {arr.dtype}.")
    if arr.ndim != 3:
        raise ValueError("Argument `x` must be a 3-D array of shape (batch, timesteps, "
                         f"features), got an array of shape {np.shape(arr)}.")
    B, T, D = arr.shape
    if T < 1 or D < 1:
        raise ValueError("Argument `x` must have at least one timestep and one feature, "
                         f"got shape {arr.shape}.")
    return arr, B, T, D


def _check_state(value, name, B, H, dtype):
    if value is None:
        return np.zeros((B, H), dtype)
    arr = _as_array(value, name, dtype, f"(batch, units) = {(B, H)}", 2)
    if arr.shape != (B, H):
        raise ValueError(f"Argument `{name}` must have shape {(B, H)} (batch, units), "
                         f"got {arr.shape}.")
    return arr


def _check_mask(mask, B, T):
    if mask is None:
        return None
    arr = _to_array(mask, "mask", f"{(B, T)} (batch, timesteps)")
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError("Argument `mask` must be a boolean array of shape "
                        f"{(B, T)} (batch, timesteps), got dtype {arr.dtype}.")
    if arr.shape != (B, T):
        raise ValueError(f"Argument `mask` must have shape {(B, T)} (batch, timesteps), "
                         f"got {arr.shape}.")
    return np.ascontiguousarray(arr.astype(bool, copy=False)).view(np.uint8)


def _time_chunk(B, T, D, H, itemsize, return_sequences):
    """Timesteps per kernel call: all T, or with return_sequences=False as many as fit
    in CHUNK_BYTES of output and of input copy (the last state is all that is kept)."""
    if return_sequences:
        return T
    return max(1, min(T, CHUNK_BYTES // max(1, B * max(D, H) * itemsize)))


def _check_sizes(B, T, D, H, chunk=None):
    """Refuse what the kernel's 32-bit counts cannot hold. The kernel is called on
    ``chunk`` timesteps at a time (default all T): per call the rows batch*chunk, the
    leading dimension chunk*max(features, units) and batch*units must be below 2**31;
    offsets inside the kernel are 64-bit. So a batch of 1 whose timesteps*features
    passes 2**31 runs when it is chunked (return_sequences=False).

    Raises:
        ValueError naming `x` when a kernel call would pass these limits.
    """
    chunk = T if chunk is None else chunk
    if B * chunk > _INT_MAX or chunk * max(D, H) > _INT_MAX or B * H > _INT_MAX:
        raise ValueError(f"Argument `x` of shape {(B, T, D)} with {H} units is too large "
                         "for the kernel: batch*timesteps, timesteps*max(features, units) "
                         "and batch*units must be below 2**31 (timesteps per chunk with "
                         "return_sequences=False); split it into smaller batches.")


def _dropout_array(mask, name, B, width, dtype):
    arr = _as_array(mask, name, dtype, f"{(B, width)}", 2)
    if arr.shape != (B, width):
        raise ValueError(f"Argument `{name}` must have shape {(B, width)}, got {arr.shape}.")
    return arr


def _apply_dropout(x, dropout_mask, B, D, dtype):
    if dropout_mask is None:
        return x
    return np.asarray(x, dtype) * _dropout_array(dropout_mask, "dropout_mask", B, D,
                                                 dtype)[:, None, :]


def _recurrent_dropout(mask, B, H, dtype):
    if mask is None:
        return None, None
    return (_dropout_array(mask, "recurrent_dropout_mask", B, H, dtype),
            np.empty((B, H), dtype))


def compile_forward(kernel, recurrent_kernel, bias=None, activation="tanh", go_backwards=False):
    """A lean forward for repeated calls with the same weight arrays.

    The weights are held by reference (in-place updates are seen) and must be
    C-contiguous, float32 or float64, of one dtype. ``plan(x, num_threads, max_bytes=-1)``
    returns
    ``(sequences, last_state)`` as ``simple_rnn_forward`` with no mask, initial state or
    dropout, or None when ``x`` is not a C-contiguous (batch, timesteps, features) array
    of the weights' dtype (or the output would pass ``max_bytes``), in which case call
    ``simple_rnn_forward``. With go_backwards the sequences are in position order (see
    ``simple_rnn_forward``'s ``positions``).
    """
    dtype = _dtype_of(kernel)
    D = _as_array(kernel, "kernel", dtype, "(features, units)", 2).shape[0]
    kernel, recurrent_kernel, bias, _ = _check_weights(kernel, recurrent_kernel, bias, D, dtype)
    return _kernel.Forward(kernel, recurrent_kernel, bias, _activation_code(activation),
                           _PACKED, bool(go_backwards))


def simple_rnn_forward(x, kernel, recurrent_kernel, bias=None, initial_state=None,
                       activation="tanh", go_backwards=False, mask=None, *,
                       return_sequences=True, zero_output_for_mask=False,
                       dropout_mask=None, recurrent_dropout_mask=None, positions=False):
    """Run the recurrence over a batch of sequences.

    Args:
        x: (batch, timesteps, features) inputs; any real dtype, layout or
            writability (converted to the weights' dtype, float32 unless float64).
        kernel: (features, units). recurrent_kernel: (units, units).
        bias: (units,) or None.
        initial_state: (batch, units) or None for zeros.
        activation: "tanh", "relu", "sigmoid" or "linear".
        go_backwards: process time in reverse; the returned sequence is in
            processing order (reversed), as Keras returns it.
        mask: (batch, timesteps) booleans or None. A masked step keeps the state
            and repeats the previous output (zeros with zero_output_for_mask).
        return_sequences: if False, the first result is the last output
            (batch, units) and time is processed in chunks of bounded memory.
        dropout_mask: (batch, features) or None: x[:, t] * dropout_mask at every step.
        recurrent_dropout_mask: (batch, units) or None: the previous state is
            multiplied by it before the recurrent product (Keras's recurrent_dropout).
        positions: with go_backwards, return the sequence in input (position) order,
            sequences[:, t] being the output of the step that read x[:, t]; the
            kernel computes it so, and processing order is a reversed view of it.

    Returns:
        (sequences (batch, timesteps, units) or last output (batch, units),
         last_state (batch, units)).
    """
    dtype = _dtype_of(kernel)
    act = _activation_code(activation)
    x, B, T, D = _check_x(x)
    kernel, recurrent_kernel, bias, H = _check_weights(kernel, recurrent_kernel, bias, D, dtype)
    chunk = _time_chunk(B, T, D, H, np.dtype(dtype).itemsize, return_sequences)
    _check_sizes(B, T, D, H, chunk)
    state = _check_state(initial_state, "initial_state", B, H, dtype).copy()
    mask8 = _check_mask(mask, B, T)
    prev_out = np.zeros((B, H), dtype) if mask8 is not None else None
    zero_output = bool(zero_output_for_mask)
    x = _apply_dropout(x, dropout_mask, B, D, dtype)
    rec_drop, work = _recurrent_dropout(recurrent_dropout_mask, B, H, dtype)

    if B <= _kernel.SMALL_BATCH and mask8 is None and rec_drop is None:
        # the small-batch kernel reads the weights unpacked
        packs = dict(kernel_packed=None, rk_packed=None, num_threads=get_num_threads())
    else:
        packs = dict(kernel_packed=_packed(kernel), rk_packed=_packed(recurrent_kernel),
                     num_threads=get_num_threads())
    reverse = bool(go_backwards)
    last = 0 if reverse else -1  # position of the last step processed
    if chunk == T:
        out = np.empty((B, T, H), dtype)
        _kernel.forward_arrays(_native(x, dtype), kernel, recurrent_kernel, bias, mask8,
                               zero_output, act, rec_drop, out, state, prev_out, work,
                               reverse=reverse, **packs)
        if return_sequences:
            return (out[:, ::-1] if reverse and not positions else out), state
        return np.ascontiguousarray(out[:, last]), state
    # time chunks in processing order, each run into the same buffer
    out = np.empty((B, chunk, H), dtype)
    for i in range(-(-T // chunk)):
        t0, t1 = (max(0, T - (i + 1) * chunk), T - i * chunk) if reverse else \
            (i * chunk, min(T, (i + 1) * chunk))
        ms = np.ascontiguousarray(mask8[:, t0:t1]) if mask8 is not None else None
        o = out if t1 - t0 == chunk else np.empty((B, t1 - t0, H), dtype)
        _kernel.forward_arrays(_native(x[:, t0:t1], dtype), kernel, recurrent_kernel,
                               bias, ms, zero_output, act, rec_drop, o, state, prev_out,
                               work, reverse=reverse, **packs)
    return np.ascontiguousarray(o[:, last]), state


def simple_rnn_backward(d_sequences, d_last_state, x, kernel, recurrent_kernel, sequences,
                        initial_state=None, activation="tanh", go_backwards=False,
                        mask=None, *, zero_output_for_mask=False, dropout_mask=None,
                        recurrent_dropout_mask=None, positions=False, workspace=None):
    """Backpropagation through time for ``simple_rnn_forward``.

    Args:
        d_sequences: (batch, timesteps, units) gradient of the returned sequence
            (processing order, like ``sequences``), or None.
        d_last_state: (batch, units) gradient of the last state, or None.
        x, kernel, recurrent_kernel, initial_state, activation, go_backwards,
            mask: as given to the forward call.
        sequences: (batch, timesteps, units) what the forward call returned.
        dropout_mask, recurrent_dropout_mask: the same masks as the forward call.
        positions: sequences and d_sequences are in position order (see
            ``simple_rnn_forward``) rather than processing order.
        workspace: a dict this call may keep its scratch buffers in, so repeated calls
            (a training loop) reuse them instead of faulting in fresh memory.

    Returns:
        RNNGradients(x (batch, timesteps, features), kernel (features, units),
        recurrent_kernel (units, units), bias (units,), initial_state (batch, units)).
    """
    dtype = _dtype_of(kernel)
    act = _activation_code(activation)
    x, B, T, D = _check_x(x)
    kernel, recurrent_kernel, _, H = _check_weights(kernel, recurrent_kernel, None, D, dtype)
    _check_sizes(B, T, D, H)
    flip = bool(go_backwards) and not positions
    if flip:  # to position order, as the kernel keeps them
        sequences = _to_array(sequences, "sequences", f"{(B, T, H)}")[:, ::-1]
        d_sequences = (None if d_sequences is None else
                       _to_array(d_sequences, "d_sequences", f"{(B, T, H)}")[:, ::-1])
    seq = _as_array(sequences, "sequences", dtype, f"{(B, T, H)}", 3)
    if seq.shape != (B, T, H):
        raise ValueError(f"Argument `sequences` must have shape {(B, T, H)}, got {seq.shape}.")
    d_seq = None
    if d_sequences is not None:
        d_seq = _as_array(d_sequences, "d_sequences", dtype, f"{(B, T, H)}", 3)
        if d_seq.shape != (B, T, H):
            raise ValueError(f"Argument `d_sequences` must have shape {(B, T, H)}, "
                             f"got {d_seq.shape}.")
    d_last = None
    if d_last_state is not None:
        d_last = _check_state(d_last_state, "d_last_state", B, H, dtype)
    h0 = None if initial_state is None else _check_state(initial_state, "initial_state",
                                                         B, H, dtype)
    mask8 = _check_mask(mask, B, T)
    x_in = _native(_apply_dropout(x, dropout_mask, B, D, dtype), dtype)
    rec_drop, _ = _recurrent_dropout(recurrent_dropout_mask, B, H, dtype)

    dx = np.empty((B, T, D), dtype)
    dk = np.empty((D, H), dtype)
    dr = np.empty((H, H), dtype)
    db = np.empty((H,), dtype)
    dh0 = np.empty((B, H), dtype)
    work = _Workspace(workspace, dtype)
    _kernel.backward_arrays(x_in, kernel, recurrent_kernel, h0, seq, d_seq, d_last, mask8,
                            bool(zero_output_for_mask), act, rec_drop, dx, dk, dr, db, dh0,
                            work("d_pre", (B, T, H)), work("h_prev", (B, T, H)),
                            work("d_carry", (B, H)), work("d_state_new", (B, H)),
                            packed=_PACKED, num_threads=get_num_threads(),
                            reverse=bool(go_backwards),
                            dp_work=work("dp_packed", (_kernel.packed_size(B * T, H, dtype),))
                            if _PACKED else None)
    if dropout_mask is not None:
        dx *= _dropout_array(dropout_mask, "dropout_mask", B, D, dtype)[:, None, :]
    return RNNGradients(dx, dk, dr, db, dh0)


def compile_backward(kernel, recurrent_kernel, activation="tanh", go_backwards=False,
                     zero_output_for_mask=False):
    """A lean ``simple_rnn_backward`` for a training plan's plain call, with the same
    weight arrays each time (held by reference): no mask, initial state, dropout or
    last-state gradient, ``positions=True``. ``backward(d_sequences, x, sequences,
    out=None, need_dx=True, d_last=None)`` takes a C-contiguous native ``x`` of the
    kernel's dtype and the ``sequences`` the compiled forward returned for it (their
    shapes checked by a general call for this input signature; ``d_sequences`` and
    ``d_last`` are made C-contiguous here if they are not) and runs the same kernel
    computation with the same arguments as ``simple_rnn_backward`` (through
    ``_kernel.Backward``, which keeps its scratch memory), so it gives the same numbers.
    ``d_sequences`` (batch, timesteps, units) or None; ``d_last`` (batch, units), the
    gradient of the last state, or None. ``out``: C-contiguous arrays to write the
    kernel's (and recurrent kernel's, and bias's) gradients into; without ``need_dx``
    the input gradient goes to scratch memory.

    Returns:
        ``backward``, which returns ``(dx, d_kernel, d_recurrent_kernel, d_bias)`` (dx
        None without ``need_dx``, d_bias None when ``out`` has two arrays).
    """
    dtype = kernel.dtype
    D, H = kernel.shape
    run = _kernel.Backward(kernel, recurrent_kernel, _activation_code(activation), _PACKED,
                           bool(go_backwards), bool(zero_output_for_mask))
    empty = np.empty

    def backward(d_sequences, x, sequences, out=None, need_dx=True, d_last=None):
        if d_sequences is not None and (d_sequences.dtype != dtype
                                        or not d_sequences.flags.c_contiguous):
            d_sequences = _native(d_sequences, dtype)
        if d_last is not None and (d_last.dtype != dtype or not d_last.flags.c_contiguous):
            d_last = _native(d_last, dtype)
        dx = empty(x.shape[:2] + (D,), dtype) if need_dx else None
        if out is None:
            dk, dr, db = empty((D, H), dtype), empty((H, H), dtype), empty((H,), dtype)
        else:  # the caller's arrays (a bias-less layer passes two)
            dk, dr = out[0], out[1]
            db = out[2] if len(out) > 2 else None
        run(x, sequences, d_sequences, d_last, dx, dk, dr, db, get_num_threads())
        return dx, dk, dr, db

    return backward


from ._gates_functional import *  # noqa: E402,F401,F403  LSTM and GRU (lstm_*, gru_*)
