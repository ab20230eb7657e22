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
activations and the cell update in fused loops. Nothing is allocated inside the loops;
the batch is split across OpenMP threads; BPTT does the per-step products only and merges
the weight and input gradients in whole-sequence products afterwards.

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
from cython.parallel cimport prange
from libc.string cimport memcpy, memset

import numpy as np
from scipy.linalg.cython_blas cimport sgemm, dgemm

cdef extern from "_act.h" nogil:
    int FR_TANH, FR_RELU, FR_SIGMOID, FR_LINEAR
    void fr_act_f32(int act, float *x, Py_ssize_t n)
    void fr_act_f64(int act, double *x, Py_ssize_t n)
    void fr_dact_f32(int act, const float *y, float *d, Py_ssize_t n)
    void fr_dact_f64(int act, const double *y, double *d, Py_ssize_t n)
    unsigned int fr_ftz_on()
    void fr_ftz_restore(unsigned int state)

cdef extern from "_gemm.h" nogil:
    Py_ssize_t fr_packed_size_f32(int k, int n)
    Py_ssize_t fr_packed_size_f64(int k, int n)
    void fr_pack_f32(int trans, int k, int n, const float *b, int ldb, float *bp)
    void fr_pack_f64(int trans, int k, int n, const double *b, int ldb, double *bp)
    void fr_gemm_packed_f32(int m, int n, int k, const float *a, Py_ssize_t rs,
                            Py_ssize_t cs, const float *bp, float *c, int ldc)
    void fr_gemm_packed_f64(int m, int n, int k, const double *a, Py_ssize_t rs,
                            Py_ssize_t cs, const double *bp, double *c, int ldc)
    void fr_gemm_packed_set_f32(int m, int n, int k, const float *a, Py_ssize_t rs,
                                Py_ssize_t cs, const float *bp, float *c, int ldc,
                                const float *row)
    void fr_gemm_packed_set_f64(int m, int n, int k, const double *a, Py_ssize_t rs,
                                Py_ssize_t cs, const double *bp, double *c, int ldc,
                                const double *row)
    int fr_gemm_simd()

cdef enum:
    SMALL_GEMM = 4096      # below this many multiply-adds our loops beat a BLAS call
    HARD_SIGMOID = 4       # not in _act.h: Keras 3's relu6(x + 3) / 6, done here
    LSTM = 0
    GRU_AFTER = 1          # reset_after=True (Keras 3's default, PyTorch's GRU)
    GRU_BEFORE = 2         # reset_after=False

CELLS = {"lstm": LSTM, "gru_reset_after": GRU_AFTER, "gru": GRU_BEFORE}
ACTIVATIONS = {"tanh": FR_TANH, "relu": FR_RELU, "sigmoid": FR_SIGMOID,
               "linear": FR_LINEAR, "hard_sigmoid": HARD_SIGMOID}
# Elements of the forward/backward `work` buffer per batch row, in units.
WORK_UNITS = 4
cdef long long PARALLEL_MIN_WORK = 2000000


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


cdef void gemm(bint trans_a, bint trans_b, int m, int n, int k, floating alpha,
               const floating *a, int lda, const floating *b, int ldb,
               floating beta, floating *c, int ldc) noexcept nogil:
    """Row-major C = alpha * op(A) @ op(B) + beta * C (as _kernel.gemm)."""
    cdef Py_ssize_t i, j, p
    cdef floating aip
    cdef floating *ci
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    if m <= 0 or n <= 0:
        return
    if k <= 0 or <long long>m * n * k <= SMALL_GEMM:
        for i in range(m):
            ci = c + i * ldc
            if beta == 0:
                memset(ci, 0, n * sizeof(floating))
            elif beta != 1:
                for j in range(n):
                    ci[j] = beta * ci[j]
            for p in range(k):
                aip = alpha * (a[p * lda + i] if trans_a else a[i * lda + p])
                if trans_b:
                    for j in range(n):
                        ci[j] += aip * b[j * ldb + p]
                else:
                    for j in range(n):
                        ci[j] += aip * b[p * ldb + j]
        return
    # Column-major BLAS sees row-major matrices transposed: C^T = op(B)^T op(A)^T.
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float *>b, &ldb, <float *>a, &lda,
              &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double *>b, &ldb, <double *>a, &lda,
              &beta, c, &ldc)


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


def pack_recurrent(const floating[:, ::1] rk, int cell, bint per_gate, bint transpose):
    """The recurrent kernel (U, G*U) packed block by block for the microkernel; with
    transpose, each block's transpose (for BPTT)."""
    cdef int U = rk.shape[0], GU = rk.shape[1]
    cdef int nb = _nblocks(cell, per_gate), k, c0, n
    cdef bint single = floating is float
    cdef Py_ssize_t total = _block_offset(cell, per_gate, U, nb, transpose, single)
    packed = np.empty(total, np.float32 if single else np.float64)
    cdef floating[::1] p = packed
    cdef Py_ssize_t off
    with nogil:
        for k in range(nb):
            _block(cell, per_gate, U, k, &c0, &n)
            off = _block_offset(cell, per_gate, U, k, transpose, single)
            if floating is float:
                if transpose:
                    fr_pack_f32(1, n, U, &rk[0, c0], GU, &p[off])
                else:
                    fr_pack_f32(0, U, n, &rk[0, c0], GU, &p[off])
            else:
                if transpose:
                    fr_pack_f64(1, n, U, &rk[0, c0], GU, &p[off])
                else:
                    fr_pack_f64(0, U, n, &rk[0, c0], GU, &p[off])
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


# ---------------------------------------------------------------- forward

cdef void gates_forward(const Spec *sp, int B, const floating *rk, const floating *rbias,
                        const unsigned char *mask, const floating *rec_drop,
                        const floating *rpacked, floating *gates, floating *hs,
                        floating *out, floating *cs, floating *aux, floating *h_state,
                        floating *c_state, floating *prev_out,
                        floating *work) noexcept nogil:
    """The time loop for B independent rows (a batch or a slice of it). gates holds the
    projection x @ W + b on entry. States and prev_out: (B, U) in/out; work (B, 4U)."""
    cdef int U = sp.U, GU = sp.G * sp.U, T = sp.T
    cdef int ldg = T * GU, ldh = T * U, ldp, nb = _nblocks(sp.cell, sp.per_gate)
    cdef int k, c0, n, ldr3 = 3 * U
    cdef Py_ssize_t b, s, t, tp, j
    cdef bint single = floating is float
    cdef floating *tmp = work                   # (B, U)
    cdef floating *R = work + <Py_ssize_t>B * U  # (B, 3U), GRU's recurrent products
    cdef floating *z
    cdef floating *hn
    cdef floating *cn
    cdef floating *rh
    cdef const floating *hp
    cdef const floating *cp
    cdef const floating *h_src
    cdef const floating *pk
    cdef const floating *m
    cdef floating f_, zz
    cdef bint on
    for s in range(T):
        t = T - 1 - s if sp.reverse else s
        tp = t + 1 if sp.reverse else t - 1
        # the states before the step: the initial ones, or the previous step's
        if s == 0:
            h_src = h_state
            ldp = U
        else:
            h_src = hs + tp * U
            ldp = ldh
        # ---- recurrent products
        for k in range(nb):
            _block(sp.cell, sp.per_gate, U, k, &c0, &n)
            if sp.cell == GRU_BEFORE and c0 == 2 * U:
                continue  # the h gate's product needs r: below
            pk = rpacked + _block_offset(sp.cell, sp.per_gate, U, k, False, single) \
                if rpacked != NULL else NULL
            m = _mask_of(sp, rec_drop, k)
            if sp.cell == LSTM:
                # gates[:, t, block] += (h * m) @ U[:, block]
                rec_block(B, U, n, h_src, ldp, m, rk + c0, GU, pk, NULL,
                          gates + t * GU + c0, ldg, False, tmp)
            else:
                # R[:, block] = rb[block] + (h * m) @ U[:, block]
                rec_block(B, U, n, h_src, ldp, m, rk + c0, GU, pk,
                          rbias + c0 if rbias != NULL else NULL, R + c0, ldr3, True, tmp)
        # ---- activations and the cell update, row by row
        for b in range(B):
            z = gates + b * ldg + t * GU
            hn = hs + b * ldh + t * U
            hp = h_src + b * ldp
            if sp.cell == LSTM:
                cn = cs + b * ldh + t * U
                cp = c_state + b * U if s == 0 else cs + b * ldh + tp * U
                # i, f, o = ract(.), g = act(.); c = f * c_prev + i * g; h = o * act(c)
                gact(sp.ract, z, 2 * U)
                gact(sp.act, z + 2 * U, U)
                gact(sp.ract, z + 3 * U, U)
                for j in range(U):
                    cn[j] = z[U + j] * cp[j] + z[j] * z[2 * U + j]
                    hn[j] = cn[j]
                gact(sp.act, hn, U)
                for j in range(U):
                    hn[j] = hn[j] * z[3 * U + j]
            else:
                rh = aux + b * ldh + t * U
                # z, r = ract(x-part + recurrent part)
                for j in range(2 * U):
                    z[j] = z[j] + R[b * ldr3 + j]
                gact(sp.ract, z, 2 * U)
                if sp.cell == GRU_AFTER:
                    # hh = act(x_h + r * (h @ U_h + rb_h))
                    for j in range(U):
                        rh[j] = R[b * ldr3 + 2 * U + j]
                        z[2 * U + j] = z[2 * U + j] + z[U + j] * rh[j]
                    gact(sp.act, z + 2 * U, U)
                else:
                    # aux = r * h * mask_h: the h gate's product input
                    m = _mask_of(sp, rec_drop, 2)
                    for j in range(U):
                        rh[j] = z[U + j] * hp[j] * (m[b * U + j] if m != NULL else 1)
        if sp.cell == GRU_BEFORE:
            # gates[:, t, h] += aux @ U_h     (the second product of the step)
            _block(sp.cell, sp.per_gate, U, nb - 1, &c0, &n)
            pk = rpacked + _block_offset(sp.cell, sp.per_gate, U, nb - 1, False, single) \
                if rpacked != NULL else NULL
            rec_block(B, U, U, aux + t * U, ldh, NULL, rk + 2 * U, GU, pk, NULL,
                      gates + t * GU + 2 * U, ldg, False, tmp)
            for b in range(B):
                gact(sp.act, gates + b * ldg + t * GU + 2 * U, U)
        if sp.cell != LSTM:
            # h = z * h_prev + (1 - z) * hh
            for b in range(B):
                z = gates + b * ldg + t * GU
                hn = hs + b * ldh + t * U
                hp = h_src + b * ldp
                for j in range(U):
                    zz = z[j]
                    hn[j] = zz * hp[j] + (1 - zz) * z[2 * U + j]
        if mask != NULL:
            # masked rows carry the states and repeat the previous output (or zeros)
            for b in range(B):
                on = mask[b * T + t]
                hn = hs + b * ldh + t * U
                if on:
                    memcpy(out + b * ldh + t * U, hn, U * sizeof(floating))
                    memcpy(prev_out + b * U, hn, U * sizeof(floating))
                    continue
                memcpy(hn, h_src + b * ldp, U * sizeof(floating))
                if sp.cell == LSTM:
                    memcpy(cs + b * ldh + t * U,
                           c_state + b * U if s == 0 else cs + b * ldh + tp * U,
                           U * sizeof(floating))
                if sp.zero_output:
                    memset(out + b * ldh + t * U, 0, U * sizeof(floating))
                else:
                    memcpy(out + b * ldh + t * U, prev_out + b * U, U * sizeof(floating))
    if T > 0:
        t = 0 if sp.reverse else T - 1
        for b in range(B):
            memcpy(h_state + b * U, hs + b * ldh + t * U, U * sizeof(floating))
            if sp.cell == LSTM:
                memcpy(c_state + b * U, cs + b * ldh + t * U, U * sizeof(floating))


cdef void project(Py_ssize_t rows, int D, int GU, const floating *x, const floating *kernel,
                  const floating *kp, const floating *bp, floating *gates) noexcept nogil:
    """gates = bias + x @ kernel: one product over `rows` rows for every gate; kp is
    the packed kernel (or NULL: BLAS), bp the bias (or NULL)."""
    cdef Py_ssize_t r
    if kp != NULL:
        if floating is float:
            fr_gemm_packed_set_f32(<int>rows, GU, D, x, D, 1, kp, gates, GU, bp)
        else:
            fr_gemm_packed_set_f64(<int>rows, GU, D, x, D, 1, kp, gates, GU, bp)
        return
    for r in range(rows):
        if bp != NULL:
            memcpy(gates + r * GU, bp, GU * sizeof(floating))
        else:
            memset(gates + r * GU, 0, GU * sizeof(floating))
    gemm(False, False, <int>rows, GU, D, <floating>1, x, D, kernel, GU, <floating>1, gates, GU)


cdef inline int _threads(int requested, int B, long long work) noexcept nogil:
    if requested <= 1 or B < 2 or work < PARALLEL_MIN_WORK:
        return 1
    return requested if requested < B else B


cdef Spec _spec(int cell, int T, int D, int U, int act, int ract, bint zero_output,
                bint reverse, int ngroups, int B):
    cdef Spec sp
    sp.cell = cell
    sp.T = T
    sp.D = D
    sp.U = U
    sp.G = _gates_of(cell)
    sp.act = act
    sp.ract = ract
    sp.zero_output = zero_output
    sp.reverse = reverse
    sp.per_gate = ngroups > 1
    sp.mstride = <Py_ssize_t>B * U
    return sp


def forward(int cell,
            const floating[:, :, ::1] x,          # IN  (B, T, D)
            const floating[:, ::1] kernel,        # IN  (D, G*U)
            const floating[:, ::1] rk,            # IN  (U, G*U)
            const floating[::1] bias,             # IN  (G*U,) input bias, or None
            const floating[::1] rbias,            # IN  (G*U,) GRU reset_after's, or None
            const unsigned char[:, ::1] mask,     # IN  (B, T) or None
            bint zero_output, int act, int ract,
            const floating[:, :, ::1] rec_drop,   # IN  (1 or G, B, U) or None
            floating[:, :, ::1] gates,            # OUT (B, T, G*U) (IN: the projection
                                                  #     when projected)
            floating[:, :, ::1] hs,               # OUT (B, T, U)
            floating[:, :, ::1] out,              # OUT (B, T, U) with a mask, else None
            floating[:, :, ::1] cs,               # OUT (B, T, U) LSTM, else None
            floating[:, :, ::1] aux,              # OUT (B, T, U) GRU, else None
            floating[:, ::1] h_state,             # IN/OUT (B, U)
            floating[:, ::1] c_state,             # IN/OUT (B, U) LSTM, else None
            floating[:, ::1] prev_out,            # IN/OUT (B, U) with a mask, else None
            floating[:, ::1] work,                # WORK (B, 4U)
            const floating[::1] kpacked=None,     # IN  pack(kernel), or None: BLAS
            const floating[::1] rpacked=None,     # IN  pack_recurrent(rk, ...), or None
            bint projected=False, int num_threads=1, bint reverse=False):
    """Run one direction of an LSTM or GRU with the GIL released, on up to num_threads
    batch slices. Shapes are trusted (fastrnn.functional checks them)."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], U = rk.shape[0]
    cdef int GU = rk.shape[1], ng = rec_drop.shape[0] if rec_drop is not None else 1
    cdef Spec sp = _spec(cell, T, D, U, act, ract, zero_output, reverse, ng, B)
    if B == 0:
        return
    cdef const floating *bp = &bias[0] if bias is not None else NULL
    cdef const floating *rbp = &rbias[0] if rbias is not None else NULL
    cdef const unsigned char *mp = &mask[0, 0] if mask is not None else NULL
    cdef const floating *dp = &rec_drop[0, 0, 0] if rec_drop is not None else NULL
    cdef const floating *kp = &kpacked[0] if kpacked is not None else NULL
    cdef const floating *rp = &rpacked[0] if rpacked is not None else NULL
    cdef floating *op = &out[0, 0, 0] if out is not None else NULL
    cdef floating *cp = &cs[0, 0, 0] if cs is not None else NULL
    cdef floating *ap = &aux[0, 0, 0] if aux is not None else NULL
    cdef floating *csp = &c_state[0, 0] if c_state is not None else NULL
    cdef floating *pvp = &prev_out[0, 0] if prev_out is not None else NULL
    cdef Py_ssize_t rows = <Py_ssize_t>B * T, tu = <Py_ssize_t>T * U
    cdef int nt = _threads(num_threads, B, <long long>B * T * GU * (D + U))
    cdef int i, b0, b1
    cdef unsigned int csr
    if nt == 1:
        with nogil:
            csr = fr_ftz_on()
            # gates = bias + x @ kernel          (one product over all B*T rows)
            if not projected:
                project(rows, D, GU, &x[0, 0, 0], &kernel[0, 0], kp, bp, &gates[0, 0, 0])
            gates_forward(&sp, B, &rk[0, 0], rbp, mp, dp, rp, &gates[0, 0, 0],
                          &hs[0, 0, 0], op, cp, ap, &h_state[0, 0], csp, pvp, &work[0, 0])
            fr_ftz_restore(csr)
        return
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        b0 = <int>((<long long>i * B) // nt)
        b1 = <int>((<long long>(i + 1) * B) // nt)
        csr = fr_ftz_on()
        if not projected:
            # each thread projects its own rows
            project(<Py_ssize_t>(b1 - b0) * T, D, GU, &x[b0, 0, 0], &kernel[0, 0], kp, bp,
                    &gates[b0, 0, 0])
        gates_forward(&sp, b1 - b0, &rk[0, 0], rbp, mp + b0 * T if mp != NULL else NULL,
                      dp + b0 * U if dp != NULL else NULL, rp, &gates[b0, 0, 0],
                      &hs[b0, 0, 0], op + b0 * tu if op != NULL else NULL,
                      cp + b0 * tu if cp != NULL else NULL,
                      ap + b0 * tu if ap != NULL else NULL, &h_state[b0, 0],
                      csp + b0 * U if csp != NULL else NULL,
                      pvp + b0 * U if pvp != NULL else NULL, &work[b0, 0])
        fr_ftz_restore(csr)


# ---------------------------------------------------------------- backward

cdef void gates_backward_steps(const Spec *sp, int B, const floating *rk,
                               const floating *rkT_packed, const unsigned char *mask,
                               const floating *rec_drop, const floating *gates,
                               const floating *hs, const floating *cs, const floating *aux,
                               const floating *h0, const floating *c_init,
                               const floating *d_out, const floating *d_h,
                               const floating *d_c, floating *dh, floating *dc,
                               floating *d_pre, floating *d_rec, floating *d_carry,
                               floating *wk) noexcept nogil:
    """The per-step half of BPTT for B independent rows. d_out (B, T, U), d_h, d_c (B, U)
    are the upstream gradients (any may be NULL). Writes d_pre (B, T, G*U), the gradient
    of the gates' pre-activations (for GRU reset_after, of the input parts), d_rec
    (B, T, 3U) for GRU reset_after (of the recurrent parts h @ U + rb), and dh, dc (B, U):
    the gradients of the initial states. wk (B, 4U) scratch."""
    cdef int U = sp.U, GU = sp.G * sp.U, T = sp.T
    cdef int ldg = T * GU, ldh = T * U, nb = _nblocks(sp.cell, sp.per_gate)
    cdef int k, c0, n, nz
    cdef Py_ssize_t b, s, t, tp, j, r
    cdef bint single = floating is float, on, first
    cdef floating *pd = wk                          # (B, U) the product dL/dh_prev
    cdef floating *tmp = wk + <Py_ssize_t>B * U     # (B, U)
    cdef floating *base = wk + 2 * <Py_ssize_t>B * U  # (B, U) dL/dh_prev outside products
    cdef floating *drh = wk + 3 * <Py_ssize_t>B * U   # (B, U) GRU: d(aux)
    cdef const floating *z
    cdef const floating *hp
    cdef const floating *cp
    cdef const floating *src
    cdef const floating *m
    cdef const floating *pk
    cdef floating *g
    cdef floating *dr
    cdef floating *dhr
    cdef floating *ac
    cdef floating v
    if d_h != NULL:
        memcpy(dh, d_h, <Py_ssize_t>B * U * sizeof(floating))
    else:
        memset(dh, 0, <Py_ssize_t>B * U * sizeof(floating))
    if sp.cell == LSTM:
        if d_c != NULL:
            memcpy(dc, d_c, <Py_ssize_t>B * U * sizeof(floating))
        else:
            memset(dc, 0, <Py_ssize_t>B * U * sizeof(floating))
    if mask != NULL:
        memset(d_carry, 0, <Py_ssize_t>B * U * sizeof(floating))
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if sp.reverse else s
        tp = t + 1 if sp.reverse else t - 1
        for b in range(B):
            z = gates + b * ldg + t * GU
            g = d_pre + b * ldg + t * GU
            hp = h0 + b * U if s == 0 else hs + b * ldh + tp * U
            dhr = dh + b * U
            on = mask == NULL or mask[b * T + t]
            if not on:
                # a masked step passes the state gradients through untouched
                memset(g, 0, GU * sizeof(floating))
                if sp.cell == GRU_AFTER:
                    memset(d_rec + b * ldg + t * GU, 0, GU * sizeof(floating))
                if sp.zero_output:
                    memset(d_carry + b * U, 0, U * sizeof(floating))
                elif d_out != NULL:
                    src = d_out + b * ldh + t * U
                    for j in range(U):
                        d_carry[b * U + j] = d_carry[b * U + j] + src[j]
                continue
            # tmp[b] = dL/dh_t = dh + d_out[:, t] (+ d_carry)
            ac = tmp + b * U
            for j in range(U):
                ac[j] = dhr[j]
            if d_out != NULL:
                src = d_out + b * ldh + t * U
                for j in range(U):
                    ac[j] = ac[j] + src[j]
            if mask != NULL:
                for j in range(U):
                    ac[j] = ac[j] + d_carry[b * U + j]
                    d_carry[b * U + j] = 0
            if sp.cell == LSTM:
                cp = c_init + b * U if s == 0 else cs + b * ldh + tp * U
                dr = base + b * U     # act(c_t)
                src = cs + b * ldh + t * U
                for j in range(U):
                    dr[j] = src[j]
                gact(sp.act, dr, U)
                # d_o = dh_t * act(c_t) ; dc_t = dc + dh_t * o * act'(c_t)
                for j in range(U):
                    g[3 * U + j] = ac[j] * dr[j]
                    ac[j] = ac[j] * z[3 * U + j]
                gdact(sp.act, dr, ac, U)
                for j in range(U):
                    v = dc[b * U + j] + ac[j]
                    g[j] = v * z[2 * U + j]
                    g[U + j] = v * cp[j]
                    g[2 * U + j] = v * z[j]
                    dc[b * U + j] = v * z[U + j]
                gdact(sp.ract, z, g, 2 * U)
                gdact(sp.act, z + 2 * U, g + 2 * U, U)
                gdact(sp.ract, z + 3 * U, g + 3 * U, U)
            else:
                # d_hh = dh_t * (1 - z) ; d_z = dh_t * (h_prev - hh) ; base = dh_t * z
                for j in range(U):
                    g[2 * U + j] = ac[j] * (1 - z[j])
                    g[j] = ac[j] * (hp[j] - z[2 * U + j])
                    base[b * U + j] = ac[j] * z[j]
                gdact(sp.act, z + 2 * U, g + 2 * U, U)
                gdact(sp.ract, z, g, U)
                if sp.cell == GRU_AFTER:
                    # d_r = d_hh' * (h @ U_h + rb_h); recurrent parts: z, r, d_hh' * r
                    src = aux + b * ldh + t * U
                    dr = d_rec + b * ldg + t * GU
                    for j in range(U):
                        g[U + j] = g[2 * U + j] * src[j]
                        dr[2 * U + j] = g[2 * U + j] * z[U + j]
                    gdact(sp.ract, z + U, g + U, U)
                    memcpy(dr, g, 2 * U * sizeof(floating))
        if sp.cell == GRU_BEFORE:
            # drh = d_hh' @ U_h.T       (the h gate's product, through aux = r * h * m_h)
            pk = rkT_packed + _block_offset(sp.cell, sp.per_gate, U, nb - 1, True, single) \
                if rkT_packed != NULL else NULL
            rec_block_t(B, U, U, d_pre + t * GU + 2 * U, ldg, rk + 2 * U, GU, pk, NULL,
                        drh, True, tmp)
            m = _mask_of(sp, rec_drop, 2)
            for b in range(B):
                if mask != NULL and not mask[b * T + t]:
                    continue
                z = gates + b * ldg + t * GU
                g = d_pre + b * ldg + t * GU
                hp = h0 + b * U if s == 0 else hs + b * ldh + tp * U
                # d_r = drh * h_prev * m_h ; base += drh * r * m_h
                for j in range(U):
                    v = drh[b * U + j] * (m[b * U + j] if m != NULL else 1)
                    g[U + j] = v * hp[j]
                    base[b * U + j] = base[b * U + j] + v * z[U + j]
                gdact(sp.ract, z + U, g + U, U)
        # pd = sum over blocks of (d @ U_block.T) * m_block      (d_rec for reset_after)
        first = True
        for k in range(nb):
            _block(sp.cell, sp.per_gate, U, k, &c0, &n)
            if sp.cell == GRU_BEFORE and c0 == 2 * U:
                continue
            pk = rkT_packed + _block_offset(sp.cell, sp.per_gate, U, k, True, single) \
                if rkT_packed != NULL else NULL
            rec_block_t(B, U, n, (d_rec if sp.cell == GRU_AFTER else d_pre) + t * GU + c0,
                        ldg, rk + c0, GU, pk, _mask_of(sp, rec_drop, k), pd, first, tmp)
            first = False
        for b in range(B):
            if mask != NULL and not mask[b * T + t]:
                continue
            if sp.cell == LSTM:
                memcpy(dh + b * U, pd + b * U, U * sizeof(floating))
            else:
                for j in range(U):
                    dh[b * U + j] = pd[b * U + j] + base[b * U + j]


cdef void fill_h_prev(const Spec *sp, int B, const floating *h0, const floating *hs,
                      const floating *m, floating *h_prev) noexcept nogil:
    """h_prev[b, t] = the state before step t, times m (B, U) if given."""
    cdef int U = sp.U, T = sp.T
    cdef Py_ssize_t b, s, t, j, ldh = <Py_ssize_t>T * U
    cdef const floating *src
    cdef floating *dst
    for b in range(B):
        src = h0 + b * U
        for s in range(T):
            t = T - 1 - s if sp.reverse else s
            dst = h_prev + b * ldh + t * U
            if m != NULL:
                for j in range(U):
                    dst[j] = src[j] * m[b * U + j]
            else:
                memcpy(dst, src, U * sizeof(floating))
            src = hs + b * ldh + t * U


cdef void col_sum(Py_ssize_t rows, int n, const floating *a, int lda,
                  floating *out) noexcept nogil:
    cdef Py_ssize_t r, j
    memset(out, 0, n * sizeof(floating))
    for r in range(rows):
        for j in range(n):
            out[j] = out[j] + a[r * lda + j]


cdef inline void packed_mm(int m, int n, int k, const floating *a, Py_ssize_t rs,
                           Py_ssize_t cs, const floating *bp, floating *c,
                           int ldc) noexcept nogil:
    """C = A @ Bp on the microkernel, without reading C."""
    if floating is float:
        fr_gemm_packed_set_f32(m, n, k, a, rs, cs, bp, c, ldc, NULL)
    else:
        fr_gemm_packed_set_f64(m, n, k, a, rs, cs, bp, c, ldc, NULL)


cdef inline void pack_rows(int rows, int n, const floating *b, int ldb,
                           floating *bp) noexcept nogil:
    if floating is float:
        fr_pack_f32(0, rows, n, b, ldb, bp)
    else:
        fr_pack_f64(0, rows, n, b, ldb, bp)


cdef void merge_slice(const Spec *sp, int B, const floating *x, const floating *kT_packed,
                      const floating *h0, const floating *hs, const floating *aux,
                      const floating *rec_drop, const floating *d_pre,
                      const floating *d_rec, floating *h_prev, floating *dp_packed,
                      floating *dx, floating *d_kernel, floating *d_rk, floating *d_bias,
                      floating *d_rbias, bint merge_input) noexcept nogil:
    """The merged half of BPTT for B rows (a batch or a slice) on the microkernel:
    d_kernel, d_rk, d_bias and d_rbias are overwritten with these rows' sums, dx with
    their rows. dp_packed: room for pack(d_pre rows); h_prev (B, T, U) scratch."""
    cdef int U = sp.U, GU = sp.G * sp.U, D = sp.D, rows = B * sp.T
    cdef int k, c0, n, nb = _nblocks(sp.cell, sp.per_gate)
    cdef const floating *d = d_rec if sp.cell == GRU_AFTER else d_pre
    cdef const floating *m
    cdef bint filled = False, whole = sp.cell != GRU_AFTER and nb == 1
    # d_rk[:, block] = (h_prev * m_block).T @ d[:, block]    (aux.T @ d[:, h] for GRU
    # reset_after=False's h block)
    for k in range(nb):
        _block(sp.cell, sp.per_gate, U, k, &c0, &n)
        pack_rows(rows, n, d + c0, GU, dp_packed)
        if sp.cell == GRU_BEFORE and c0 == 2 * U:
            packed_mm(U, n, rows, aux, 1, U, dp_packed, d_rk + c0, GU)
            continue
        m = _mask_of(sp, rec_drop, k)
        if m != NULL or not filled:
            fill_h_prev(sp, B, h0, hs, m, h_prev)
            filled = m == NULL
        packed_mm(U, n, rows, h_prev, 1, U, dp_packed, d_rk + c0, GU)
    if d_rbias != NULL:
        col_sum(rows, GU, d_rec, GU, d_rbias)
    if merge_input:
        # d_kernel = x.T @ d_pre ; dx = d_pre @ kernel.T ; d_bias = d_pre.sum(rows)
        if not whole:
            pack_rows(rows, GU, d_pre, GU, dp_packed)
        packed_mm(D, GU, rows, x, 1, D, dp_packed, d_kernel, GU)
        packed_mm(rows, D, GU, d_pre, GU, 1, kT_packed, dx, D)
        col_sum(rows, GU, d_pre, GU, d_bias)


def backward(int cell,
             const floating[:, :, ::1] x,          # IN  (B, T, D)
             const floating[:, ::1] kernel,        # IN  (D, G*U)
             const floating[:, ::1] rk,            # IN  (U, G*U)
             const unsigned char[:, ::1] mask,     # IN  (B, T) or None
             bint zero_output, int act, int ract,
             const floating[:, :, ::1] rec_drop,   # IN  (1 or G, B, U) or None
             const floating[:, :, ::1] gates,      # IN  (B, T, G*U) from forward
             const floating[:, :, ::1] hs,         # IN  (B, T, U) from forward
             const floating[:, :, ::1] cs,         # IN  (B, T, U) LSTM, else None
             const floating[:, :, ::1] aux,        # IN  (B, T, U) GRU, else None
             const floating[:, ::1] h0,            # IN  (B, U)
             const floating[:, ::1] c0,            # IN  (B, U) LSTM, else None
             const floating[:, :, ::1] d_out,      # IN  (B, T, U) or None
             const floating[:, ::1] d_h,           # IN  (B, U) or None
             const floating[:, ::1] d_c,           # IN  (B, U) or None
             floating[:, :, ::1] dx,               # OUT (B, T, D) (merge_input only)
             floating[:, ::1] d_kernel,            # OUT (D, G*U) (merge_input only)
             floating[:, ::1] d_rk,                # OUT (U, G*U)
             floating[::1] d_bias,                 # OUT (G*U,) (merge_input only)
             floating[::1] d_rbias,                # OUT (G*U,) GRU reset_after, else None
             floating[:, ::1] d_h0,                # OUT (B, U)
             floating[:, ::1] d_c0,                # OUT (B, U) LSTM, else None
             floating[:, :, ::1] d_pre,            # OUT (B, T, G*U) gate pre-activations
             floating[:, :, ::1] d_rec,            # WORK (B, T, G*U) GRU reset_after
             floating[:, :, ::1] h_prev,           # WORK (B, T, U)
             floating[:, ::1] d_carry,             # WORK (B, U)
             floating[:, ::1] wk,                  # WORK (B, 4U)
             const floating[::1] rkT_packed=None,  # IN  pack_recurrent(rk, transpose)
             bint merge_input=True, int num_threads=1, bint reverse=False,
             const floating[::1] kT_packed=None,   # IN  pack(kernel, True) (merge_input)
             floating[::1] dp_work=None):          # WORK packed_size(B*T, G*U), or None
    """BPTT with the GIL released: the per-step loop on up to num_threads batch slices,
    then the weight (and, with merge_input, input and bias) gradients as products over
    all B*T rows: with dp_work, each slice's share on the microkernel and the slices'
    sums added; else on BLAS. Shapes are trusted (fastrnn.functional checks them)."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], U = rk.shape[0]
    cdef int GU = rk.shape[1], ng = rec_drop.shape[0] if rec_drop is not None else 1
    cdef Spec sp = _spec(cell, T, D, U, act, ract, zero_output, reverse, ng, B)
    if B == 0:  # no rows: the weight gradients are zeros
        d_kernel[:, :] = 0
        d_rk[:, :] = 0
        d_bias[:] = 0
        if d_rbias is not None:
            d_rbias[:] = 0
        return
    cdef const unsigned char *mp = &mask[0, 0] if mask is not None else NULL
    cdef const floating *dp = &rec_drop[0, 0, 0] if rec_drop is not None else NULL
    cdef const floating *cp = &cs[0, 0, 0] if cs is not None else NULL
    cdef const floating *ap = &aux[0, 0, 0] if aux is not None else NULL
    cdef const floating *c0p = &c0[0, 0] if c0 is not None else NULL
    cdef const floating *dop = &d_out[0, 0, 0] if d_out is not None else NULL
    cdef const floating *dhp = &d_h[0, 0] if d_h is not None else NULL
    cdef const floating *dcp = &d_c[0, 0] if d_c is not None else NULL
    cdef floating *dc0p = &d_c0[0, 0] if d_c0 is not None else NULL
    cdef floating *drp = &d_rec[0, 0, 0] if d_rec is not None else NULL
    cdef const floating *rp = &rkT_packed[0] if rkT_packed is not None else NULL
    cdef Py_ssize_t rows = <Py_ssize_t>B * T, tu = <Py_ssize_t>T * U, tg = <Py_ssize_t>T * GU
    cdef int nt = _threads(num_threads, B, <long long>B * T * GU * U)
    cdef int nb = _nblocks(cell, ng > 1), i, b0, b1, k, c0_, n
    cdef unsigned int csr
    cdef const floating *dsrc
    cdef const floating *m
    cdef bint filled = False, packed = dp_work is not None
    cdef const floating *ktp = &kT_packed[0] if kT_packed is not None else NULL
    cdef floating *dpw = &dp_work[0] if dp_work is not None else NULL
    cdef floating *drbp = &d_rbias[0] if d_rbias is not None else NULL
    cdef Py_ssize_t panel_row = pack_size(1, GU, floating is float), j
    cdef Py_ssize_t dk_n = <Py_ssize_t>D * GU, dr_n = <Py_ssize_t>U * GU
    cdef floating[:, :, ::1] part_k
    cdef floating[:, :, ::1] part_r
    cdef floating[:, ::1] part_b
    cdef floating[:, ::1] part_rb
    if nt == 1:
        with nogil:
            csr = fr_ftz_on()
            gates_backward_steps(&sp, B, &rk[0, 0], rp, mp, dp, &gates[0, 0, 0],
                                 &hs[0, 0, 0], cp, ap, &h0[0, 0], c0p, dop, dhp, dcp,
                                 &d_h0[0, 0], dc0p, &d_pre[0, 0, 0], drp, &d_carry[0, 0],
                                 &wk[0, 0])
            if packed:
                merge_slice(&sp, B, &x[0, 0, 0], ktp, &h0[0, 0], &hs[0, 0, 0], ap, dp,
                            &d_pre[0, 0, 0], drp, &h_prev[0, 0, 0], dpw, &dx[0, 0, 0],
                            &d_kernel[0, 0], &d_rk[0, 0], &d_bias[0], drbp, merge_input)
            fr_ftz_restore(csr)
        if packed:
            return
    else:
        dt = np.float32 if floating is float else np.float64
        if packed:
            part_k = np.empty((nt, D, GU), dt)
            part_r = np.empty((nt, U, GU), dt)
            part_b = np.empty((nt, GU), dt)
            part_rb = np.empty((nt, GU), dt)
        for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
            b0 = <int>((<long long>i * B) // nt)
            b1 = <int>((<long long>(i + 1) * B) // nt)
            csr = fr_ftz_on()
            gates_backward_steps(&sp, b1 - b0, &rk[0, 0], rp,
                                 mp + b0 * T if mp != NULL else NULL,
                                 dp + b0 * U if dp != NULL else NULL, &gates[b0, 0, 0],
                                 &hs[b0, 0, 0], cp + b0 * tu if cp != NULL else NULL,
                                 ap + b0 * tu if ap != NULL else NULL, &h0[b0, 0],
                                 c0p + b0 * U if c0p != NULL else NULL,
                                 dop + b0 * tu if dop != NULL else NULL,
                                 dhp + b0 * U if dhp != NULL else NULL,
                                 dcp + b0 * U if dcp != NULL else NULL, &d_h0[b0, 0],
                                 dc0p + b0 * U if dc0p != NULL else NULL, &d_pre[b0, 0, 0],
                                 drp + b0 * tg if drp != NULL else NULL, &d_carry[b0, 0],
                                 &wk[b0, 0])
            if packed:
                merge_slice(&sp, b1 - b0, &x[b0, 0, 0], ktp, &h0[b0, 0], &hs[b0, 0, 0],
                            ap + b0 * tu if ap != NULL else NULL,
                            dp + b0 * U if dp != NULL else NULL, &d_pre[b0, 0, 0],
                            drp + b0 * tg if drp != NULL else NULL, &h_prev[b0, 0, 0],
                            dpw + b0 * T * panel_row, &dx[b0, 0, 0], &part_k[i, 0, 0],
                            &part_r[i, 0, 0], &part_b[i, 0],
                            &part_rb[i, 0] if drbp != NULL else NULL, merge_input)
            fr_ftz_restore(csr)
        if packed:
            with nogil:
                # the slices' sums
                for i in range(nt):
                    for j in range(dr_n):
                        (&d_rk[0, 0])[j] = ((&d_rk[0, 0])[j] if i else 0) \
                            + (&part_r[i, 0, 0])[j]
                    if drbp != NULL:
                        for j in range(GU):
                            drbp[j] = (drbp[j] if i else 0) + part_rb[i, j]
                    if merge_input:
                        for j in range(dk_n):
                            (&d_kernel[0, 0])[j] = ((&d_kernel[0, 0])[j] if i else 0) \
                                + (&part_k[i, 0, 0])[j]
                        for j in range(GU):
                            d_bias[j] = (d_bias[j] if i else 0) + part_b[i, j]
            return
    with nogil:
        csr = fr_ftz_on()
        # d_rk[:, block] = (h_prev * m_block).T @ d[:, block]   (aux.T @ d_h for GRU
        # reset_after=False's h block); d = d_rec for reset_after, else d_pre
        dsrc = drp if cell == GRU_AFTER else &d_pre[0, 0, 0]
        for k in range(nb):
            _block(cell, ng > 1, U, k, &c0_, &n)
            if cell == GRU_BEFORE and c0_ == 2 * U:
                gemm(True, False, U, n, <int>rows, <floating>1, ap, U, dsrc + c0_, GU,
                     <floating>0, &d_rk[0, c0_], GU)
                continue
            m = _mask_of(&sp, dp, k)
            if m != NULL or not filled:
                fill_h_prev(&sp, B, &h0[0, 0], &hs[0, 0, 0], m, &h_prev[0, 0, 0])
                filled = m == NULL
            gemm(True, False, U, n, <int>rows, <floating>1, &h_prev[0, 0, 0], U, dsrc + c0_,
                 GU, <floating>0, &d_rk[0, c0_], GU)
        if d_rbias is not None:
            col_sum(rows, GU, drp, GU, &d_rbias[0])
        if merge_input:
            # d_kernel = x.T @ d_pre ; dx = d_pre @ kernel.T ; d_bias = d_pre.sum(rows)
            gemm(True, False, D, GU, <int>rows, <floating>1, &x[0, 0, 0], D, &d_pre[0, 0, 0],
                 GU, <floating>0, &d_kernel[0, 0], GU)
            gemm(False, True, <int>rows, D, GU, <floating>1, &d_pre[0, 0, 0], GU,
                 &kernel[0, 0], GU, <floating>0, &dx[0, 0, 0], D)
            col_sum(rows, GU, &d_pre[0, 0, 0], GU, &d_bias[0])
        fr_ftz_restore(csr)


def simd():
    """True when the AVX2+FMA microkernel runs on this CPU."""
    return bool(fr_gemm_simd())


def compiled():
    return True
