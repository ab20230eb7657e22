# cython: language_level=3
"""fastrnn's compiled gate kernels: Keras 3's LSTM and GRU cells, forward and backward.

    LSTM   z = x @ W + b + h @ U          (gates i, f, c, o; W (D, 4U), U (U, 4U))
           c_t = f * c_{t-1} + i * act(z_c);  h_t = o * act(c_t)
    GRU    z = ract(x W_z + b_z + h U_z + rb_z), r likewise          (gates z, r, h)
           reset_after:  hh = act(x W_h + b_h + r * (h U_h + rb_h))
           otherwise:    hh = act(x W_h + b_h + (r * h) U_h)
           h_t = z * h_{t-1} + (1 - z) * hh                   (keras/src/layers/rnn/*.py)

The design is _kernel.pyx's: one fused-type source for float32 and float64; the input
projection is one product over all B*T rows for every gate, with the bias pre-filled;
each step does one recurrent product for all gates (two for GRU reset_after=False, whose
h-gate product needs r first) on the packed microkernel (or BLAS), then the gate
activations and the cell update in fused loops. Each step's products write compact (B, n)
scratch, never the (B, T, G*U) buffers directly (rows T*G*U apart defeat the caches).
Nothing is allocated inside the loops; the work is shared by the thread pool of
src/_pool_impl.c as in _kernel.pyx (blocks of batch rows, each run through a chunk of
steps; blocks of product rows; past 4 MB of recurrent weights, the forward's steps split
by units instead, _gates_units.pxi); BPTT does the per-step products only and merges
the weight and input gradients in whole-sequence products afterwards. The lean forward
of the layers' common call is _gates_lean.pxi.

Recurrent dropout masks are (1, B, U), one shared by every gate (Keras's implementation 2),
or (G, B, U), one per gate (implementation 1, used whenever recurrent_dropout > 0).
The recurrent kernel is then handled in column blocks, one per mask (see `_block`).

Buffers are in position order (with `reverse`, time runs from the last position):
gates (B, T, G*U): the projection on entry, the activated gates after the forward;
hs, cs (B, T, U): the h and c states after each step (a masked step carries them);
out (B, T, U): the outputs, only with a mask (else they are hs);
aux (B, T, U), GRU: reset_after, h @ U_h + rb_h; otherwise r * h * mask_h (the h-gate
product's input).
"""
from cython cimport floating
from cpython.exc cimport PyErr_CheckSignals
from libc.string cimport memcpy, memset

import numpy as np
cimport numpy as cnp
from scipy.linalg.cython_blas cimport sgemm, dgemm

cnp.import_array()

include "_c_api.pxi"

cdef enum:
    HARD_SIGMOID = 4       # not in _act.h: Keras 3's relu6(x + 3) / 6, done here
    LSTM = 0
    GRU_AFTER = 1          # reset_after=True (Keras 3's default, PyTorch's GRU)
    GRU_BEFORE = 2         # reset_after=False

CELLS = {"lstm": LSTM, "gru_reset_after": GRU_AFTER, "gru": GRU_BEFORE}
ACTIVATIONS = {"tanh": FR_TANH, "relu": FR_RELU, "sigmoid": FR_SIGMOID,
               "linear": FR_LINEAR, "hard_sigmoid": HARD_SIGMOID}
# Elements of the forward/backward `work` buffer per batch row, in units.
WORK_UNITS = 8


# ---------------------------------------------------------------- small helpers

cdef inline void gact(int a, floating *x, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating v
    if a == HARD_SIGMOID:
        for i in range(n):
            v = x[i] / 6 + <floating>0.5
            x[i] = 0 if v <= 0 else (1 if v >= 1 else v)
    elif floating is float:
        fr_act_f32(a, x, n)
    else:
        fr_act_f64(a, x, n)


cdef inline void gdact(int a, const floating *y, floating *d, Py_ssize_t n) noexcept nogil:
    """d *= act'(pre-activation), written through the output y."""
    cdef Py_ssize_t i
    if a == HARD_SIGMOID:
        for i in range(n):
            d[i] = d[i] / 6 if (y[i] > 0 and y[i] < 1) else 0
    elif floating is float:
        fr_dact_f32(a, y, d, n)
    else:
        fr_dact_f64(a, y, d, n)


include "_blas_gemm.pxi"


cdef Py_ssize_t pack_size(int k, int n, bint single) noexcept nogil:
    return fr_packed_size_f32(k, n) if single else fr_packed_size_f64(k, n)


cdef inline int _gates_of(int cell) noexcept nogil:
    return 4 if cell == LSTM else 3


cdef inline int _nblocks(int cell, bint per_gate) noexcept nogil:
    if per_gate:
        return _gates_of(cell)
    return 2 if cell == GRU_BEFORE else 1


cdef inline void _block(int cell, bint per_gate, int U, int k, int *col0,
                        int *n) noexcept nogil:
    """Column block k of the recurrent kernel: one per gate with per-gate masks; else
    all gates at once (GRU reset_after=False: z and r, then h)."""
    if per_gate:
        col0[0] = k * U
        n[0] = U
    elif cell == GRU_BEFORE:
        col0[0] = 0 if k == 0 else 2 * U
        n[0] = 2 * U if k == 0 else U
    else:
        col0[0] = 0
        n[0] = _gates_of(cell) * U


cdef Py_ssize_t _block_offset(int cell, bint per_gate, int U, int k, bint transposed,
                              bint single) noexcept nogil:
    """Where block k starts in pack_recurrent's buffer."""
    cdef Py_ssize_t off = 0
    cdef int j, c0, n
    for j in range(k):
        _block(cell, per_gate, U, j, &c0, &n)
        off += pack_size(n, U, single) if transposed else pack_size(U, n, single)
    return off


cdef void pack_rec(const floating *rk, int U, int cell, bint per_gate, bint transpose,
                   floating *p) noexcept nogil:
    """The recurrent kernel rk (U, G*U) packed block by block into p (see pack_recurrent)."""
    cdef int GU = _gates_of(cell) * U, nb = _nblocks(cell, per_gate), k, c0, n
    cdef bint single = floating is float
    cdef Py_ssize_t off
    for k in range(nb):
        _block(cell, per_gate, U, k, &c0, &n)
        off = _block_offset(cell, per_gate, U, k, transpose, single)
        if floating is float:
            if transpose:
                fr_pack_f32(1, n, U, rk + c0, GU, p + off)
            else:
                fr_pack_f32(0, U, n, rk + c0, GU, p + off)
        else:
            if transpose:
                fr_pack_f64(1, n, U, rk + c0, GU, p + off)
            else:
                fr_pack_f64(0, U, n, rk + c0, GU, p + off)


def pack_recurrent(const floating[:, ::1] rk, int cell, bint per_gate, bint transpose):
    """The recurrent kernel (U, G*U) packed block by block for the microkernel; with
    transpose, each block's transpose (for BPTT)."""
    cdef int U = rk.shape[0]
    cdef bint single = floating is float
    cdef Py_ssize_t total = _block_offset(cell, per_gate, U, _nblocks(cell, per_gate),
                                          transpose, single)
    packed = np.empty(total, np.float32 if single else np.float64)
    cdef floating[::1] p = packed
    with nogil:
        pack_rec(&rk[0, 0], U, cell, per_gate, transpose, &p[0])
    return packed


def pack(const floating[:, ::1] b, bint transpose=False):
    """Pack a matrix (k, n) -- or b.T with transpose -- for the microkernel."""
    cdef int k = b.shape[1] if transpose else b.shape[0]
    cdef int n = b.shape[0] if transpose else b.shape[1]
    packed = np.empty(pack_size(k, n, floating is float),
                      np.float32 if floating is float else np.float64)
    cdef floating[::1] p = packed
    with nogil:
        if floating is float:
            fr_pack_f32(transpose, k, n, &b[0, 0], b.shape[1], &p[0])
        else:
            fr_pack_f64(transpose, k, n, &b[0, 0], b.shape[1], &p[0])
    return packed


def packed_size(Py_ssize_t k, Py_ssize_t n, dtype):
    """Elements pack() needs for a (k, n) matrix of dtype."""
    return pack_size(<int>k, <int>n, np.dtype(dtype) == np.float32)


cdef void rec_block(int B, int U, int n, const floating *h, int ldh, const floating *m,
                    const floating *rk, int ldr, const floating *pk, const floating *row,
                    floating *c, int ldc, bint overwrite, floating *tmp) noexcept nogil:
    """c (=|+=) [row +] (h * m) @ rk[:, :n]; m (B, U) or NULL; pk: the packed block or
    NULL for BLAS; tmp (B, U) scratch."""
    cdef Py_ssize_t b, j
    if m != NULL:
        # tmp = h * m
        for b in range(B):
            for j in range(U):
                tmp[b * U + j] = h[b * ldh + j] * m[b * U + j]
        h = tmp
        ldh = U
    if pk != NULL:
        if floating is float:
            if overwrite:
                fr_gemm_packed_set_f32(B, n, U, h, ldh, 1, pk, c, ldc, row)
            else:
                fr_gemm_packed_f32(B, n, U, h, ldh, 1, pk, c, ldc)
        else:
            if overwrite:
                fr_gemm_packed_set_f64(B, n, U, h, ldh, 1, pk, c, ldc, row)
            else:
                fr_gemm_packed_f64(B, n, U, h, ldh, 1, pk, c, ldc)
        return
    if overwrite:
        for b in range(B):
            if row != NULL:
                memcpy(c + b * ldc, row, n * sizeof(floating))
            else:
                memset(c + b * ldc, 0, n * sizeof(floating))
    gemm(False, False, B, n, U, <floating>1, h, ldh, rk, ldr, <floating>1, c, ldc)


cdef void rec_block_t(int B, int U, int n, const floating *dz, int ldz, const floating *rk,
                      int ldr, const floating *pkT, const floating *m, floating *pd,
                      bint first, floating *tmp) noexcept nogil:
    """pd (=|+=) (dz[:, :n] @ rk[:, :n].T) * m: one block's share of dL/dh_prev.
    pd, tmp (B, U); m (B, U) or NULL; pkT: the packed transposed block or NULL."""
    cdef Py_ssize_t r
    cdef floating *target = pd if (m == NULL and first) else tmp
    if pkT != NULL:
        if floating is float:
            fr_gemm_packed_set_f32(B, U, n, dz, ldz, 1, pkT, target, U, NULL)
        else:
            fr_gemm_packed_set_f64(B, U, n, dz, ldz, 1, pkT, target, U, NULL)
    else:
        gemm(False, True, B, U, n, <floating>1, dz, ldz, rk, ldr, <floating>0, target, U)
    if target == tmp:
        for r in range(<Py_ssize_t>B * U):
            if m != NULL:
                tmp[r] = tmp[r] * m[r]
            pd[r] = tmp[r] if first else pd[r] + tmp[r]


cdef struct Spec:
    int cell, T, D, U, G, act, ract
    bint zero_output, reverse, per_gate
    Py_ssize_t mstride      # elements between two gates' masks in rec_drop


cdef inline const floating *_mask_of(const Spec *sp, const floating *rec_drop,
                                     int k) noexcept nogil:
    if rec_drop == NULL:
        return NULL
    return rec_drop + k * sp.mstride if sp.per_gate else rec_drop


# ---------------------------------------------------------------- the loops

include "_gates_forward.pxi"
include "_gates_drive.pxi"
include "_gates_units.pxi"
include "_gates_bptt.pxi"
include "_gates_lean.pxi"


def simd():
    """True when the AVX2+FMA microkernel runs on this CPU."""
    return bool(fr_gemm_simd())


def compiled():
    return True
