# cython: language_level=3
"""fastrnn's compiled kernel: the Elman recurrence, forward and backward.

    out[:, t] = act(x[:, t] @ kernel + h[t-1] @ recurrent_kernel + bias)

One fused-type source for float32 and float64. Every entry point takes
C-contiguous buffers that ``fastrnn.functional`` has validated, coerced and
allocated; the entry points add only per-call scratch (packed weights, per-thread
partial sums), and the loops over time allocate nothing and run with the GIL
released. Arrays are in input-time (position) order: with ``reverse``
(go_backwards) the loops walk time from the last position to the first.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memcpy, memset

cimport numpy as cnp
import numpy as np

cnp.import_array()
from scipy.linalg.cython_blas cimport sgemm, dgemm

# Below this many multiply-adds (m*n*k) our own loops beat the BLAS call.
cdef enum:
    SMALL_GEMM = 4096

ACTIVATIONS = {"tanh": FR_TANH, "relu": FR_RELU, "sigmoid": FR_SIGMOID,
               "linear": FR_LINEAR}


cdef inline void act_inplace(int act, floating *x, Py_ssize_t n) noexcept nogil:
    if floating is float:
        fr_act_f32(act, x, n)
    else:
        fr_act_f64(act, x, n)


cdef inline void dact_inplace(int act, const floating *y, floating *d,
                              Py_ssize_t n) noexcept nogil:
    if floating is float:
        fr_dact_f32(act, y, d, n)
    else:
        fr_dact_f64(act, y, d, n)


cdef void gemm(bint trans_a, bint trans_b, int m, int n, int k, floating alpha,
               const floating *a, int lda, const floating *b, int ldb,
               floating beta, floating *c, int ldc) noexcept nogil:
    """Row-major C = alpha * op(A) @ op(B) + beta * C."""
    cdef Py_ssize_t i, j, p
    cdef floating aip
    cdef floating *ci
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    if m <= 0 or n <= 0:
        return
    if k <= 0 or <long long>m * n * k <= SMALL_GEMM:
        # c[i] = beta * c[i] + sum_p alpha * a[i, p] * b[p]
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


cdef inline void mm_acc(int m, int n, int k, const floating *a, int lda,
                        const floating *bp, const floating *b, int ldb, bint trans_b,
                        floating *c, int ldc) noexcept nogil:
    """C += A @ op(B): the packed microkernel when bp is given, else BLAS."""
    if bp != NULL:
        if floating is float:
            fr_gemm_packed_f32(m, n, k, a, lda, 1, bp, c, ldc)
        else:
            fr_gemm_packed_f64(m, n, k, a, lda, 1, bp, c, ldc)
    else:
        gemm(False, trans_b, m, n, k, <floating>1, a, lda, b, ldb, <floating>1, c, ldc)


cdef inline void mm_set(int m, int n, int k, const floating *a, int lda,
                        const floating *bp, const floating *b, int ldb, bint trans_b,
                        floating *c, int ldc) noexcept nogil:
    """C = A @ op(B), without reading C: the packed microkernel when bp is given."""
    if bp != NULL:
        if floating is float:
            fr_gemm_packed_set_f32(m, n, k, a, lda, 1, bp, c, ldc, NULL)
        else:
            fr_gemm_packed_set_f64(m, n, k, a, lda, 1, bp, c, ldc, NULL)
    else:
        gemm(False, trans_b, m, n, k, <floating>1, a, lda, b, ldb, <floating>0, c, ldc)


cdef void rnn_forward(int B, int T, int D, int H,
                      const floating *x, const floating *kernel,
                      const floating *recurrent_kernel, const floating *bias,
                      const unsigned char *mask, bint zero_output, int act, bint reverse,
                      const floating *rec_drop, const floating *kernel_packed,
                      const floating *rk_packed,
                      floating *out, int ldo, floating *state, floating *prev_out,
                      floating *work) noexcept nogil:
    """Forward over x (B, T, D) into out (B, T, H). Rows of the batch are independent,
    so a sub-batch is run by offsetting every per-row pointer.

    ldo: elements between out[b, t] and out[b, t + 1] (H, or more to write into a
    wider array such as one half of a Bidirectional concatenation).

    kernel_packed, rk_packed: the weights packed for the microkernel, or NULL for BLAS.
    reverse: process time from the last position to the first (go_backwards); out
    stays in position order, out[:, t] being the output of the step that read x[:, t].

    rec_drop (B, H) or NULL: recurrent dropout, h_prev * rec_drop feeds the product
    (through the workspace work (B, H)).

    state (B, H): the initial state on entry, the final state on exit.
    prev_out (B, H), mask path only: the output before step 0 on entry (Keras
    starts from zeros), the last output on exit.
    """
    cdef Py_ssize_t rows = <Py_ssize_t>B * T
    cdef Py_ssize_t r, b, s, t, j
    cdef int ld = T * ldo, ldh
    cdef floating *o
    cdef const floating *h_p
    # out = bias + x @ kernel          (one GEMM over all B*T rows)
    if kernel_packed != NULL:
        if floating is float:
            fr_gemm_packed_set_f32(<int>rows, H, D, x, D, 1, kernel_packed, out, ldo, bias)
        else:
            fr_gemm_packed_set_f64(<int>rows, H, D, x, D, 1, kernel_packed, out, ldo, bias)
    else:
        for r in range(rows):
            if bias != NULL:
                memcpy(out + r * ldo, bias, H * sizeof(floating))
            else:
                memset(out + r * ldo, 0, H * sizeof(floating))
        mm_acc(<int>rows, H, D, x, D, NULL, kernel, H, False, out, ldo)
    for s in range(T):
        t = T - 1 - s if reverse else s
        o = out + t * ldo
        # o[b] += h_prev[b] @ recurrent_kernel, h_prev read in place from out
        if mask == NULL and s > 0:
            h_p = o + ldo if reverse else o - ldo
            ldh = ld
        else:
            h_p = state
            ldh = H
        if rec_drop != NULL:
            # work = h_prev * rec_drop
            for b in range(B):
                for j in range(H):
                    work[b * H + j] = h_p[b * ldh + j] * rec_drop[b * H + j]
            h_p = work
            ldh = H
        mm_acc(B, H, H, h_p, ldh, rk_packed, recurrent_kernel, H, False, o, ld)
        # o = act(o)
        if T == 1 and ldo == H:
            act_inplace(act, o, <Py_ssize_t>B * H)
        else:
            for b in range(B):
                act_inplace(act, o + b * ld, H)
        if mask != NULL:
            # masked rows keep the state and repeat the previous output (or zeros)
            for b in range(B):
                if mask[b * T + t]:
                    memcpy(state + b * H, o + b * ld, H * sizeof(floating))
                    memcpy(prev_out + b * H, o + b * ld, H * sizeof(floating))
                elif zero_output:
                    memset(o + b * ld, 0, H * sizeof(floating))
                else:
                    memcpy(o + b * ld, prev_out + b * H, H * sizeof(floating))
    if mask == NULL and T > 0:
        t = 0 if reverse else T - 1
        for b in range(B):
            memcpy(state + b * H, out + b * ld + t * ldo, H * sizeof(floating))


cdef void rnn_backward_steps(int B, int T, int H,
                             const floating *recurrent_kernel, const floating *rkT_packed,
                             const floating *h0, const floating *out,
                             const floating *d_out, const floating *d_last,
                             const unsigned char *mask, bint zero_output, int act,
                             bint reverse, const floating *rec_drop, floating *d_h0,
                             floating *d_pre, floating *h_prev, floating *d_carry,
                             floating *d_state_new) noexcept nogil:
    """The per-step half of BPTT, for a batch (or an independent sub-batch).

    d_out (B, T, H) and d_last (B, H) are the upstream gradients (either may be NULL).
    Writes d_pre (B, T, H), the gradient of the pre-activations; h_prev (B, T, H), the
    state each step read (times rec_drop); d_h0 (B, H). rkT_packed: recurrent_kernel.T
    packed for the microkernel, or NULL for BLAS. Workspaces d_carry, d_state_new (B, H).
    reverse: the forward ran with reverse; every array stays in position order.
    """
    cdef Py_ssize_t b, s, t, j, r
    cdef int ld = T * H
    cdef floating *g
    cdef floating *dh
    cdef floating *target
    cdef const floating *src
    cdef const floating *y
    cdef bint on
    # d_h0 holds dH, the gradient of the state after the current step
    if d_last != NULL:
        memcpy(d_h0, d_last, <Py_ssize_t>B * H * sizeof(floating))
    else:
        memset(d_h0, 0, <Py_ssize_t>B * H * sizeof(floating))
    if mask != NULL:
        memset(d_carry, 0, <Py_ssize_t>B * H * sizeof(floating))
    for s in range(T - 1, -1, -1):
        t = T - 1 - s if reverse else s
        for b in range(B):
            g = d_pre + b * ld + t * H
            y = out + b * ld + t * H
            dh = d_h0 + b * H
            on = mask == NULL or mask[b * T + t]
            if on:
                # g = (d_out[b, t] + d_carry[b] + dH[b]) * act'(out[b, t])
                if d_out != NULL:
                    src = d_out + b * ld + t * H
                    for j in range(H):
                        g[j] = src[j] + dh[j]
                else:
                    memcpy(g, dh, H * sizeof(floating))
                if mask != NULL:
                    for j in range(H):
                        g[j] = g[j] + d_carry[b * H + j]
                        d_carry[b * H + j] = 0
                dact_inplace(act, y, g, H)
            else:
                # a masked step only passes gradients through
                memset(g, 0, H * sizeof(floating))
                if zero_output:
                    memset(d_carry + b * H, 0, H * sizeof(floating))
                elif d_out != NULL:
                    src = d_out + b * ld + t * H
                    for j in range(H):
                        d_carry[b * H + j] = d_carry[b * H + j] + src[j]
        # dH = (g @ recurrent_kernel.T) * rec_drop      (the only product per step)
        target = d_h0 if mask == NULL else d_state_new
        mm_set(B, H, H, d_pre + t * H, ld, rkT_packed, recurrent_kernel, H, True, target, H)
        if mask == NULL:
            if rec_drop != NULL:
                for r in range(<Py_ssize_t>B * H):
                    d_h0[r] = d_h0[r] * rec_drop[r]
        else:
            for b in range(B):
                if mask[b * T + t]:
                    if rec_drop != NULL:
                        for j in range(H):
                            d_h0[b * H + j] = d_state_new[b * H + j] * rec_drop[b * H + j]
                    else:
                        memcpy(d_h0 + b * H, d_state_new + b * H, H * sizeof(floating))
    # h_prev[b, t] = state before step t (times the recurrent dropout mask)
    for b in range(B):
        src = h0 + b * H if h0 != NULL else NULL
        for s in range(T):
            t = T - 1 - s if reverse else s
            if src == NULL:
                memset(h_prev + b * ld + t * H, 0, H * sizeof(floating))
            else:
                memcpy(h_prev + b * ld + t * H, src, H * sizeof(floating))
            if rec_drop != NULL:
                for j in range(H):
                    h_prev[b * ld + t * H + j] = h_prev[b * ld + t * H + j] * rec_drop[b * H + j]
            if mask == NULL or mask[b * T + t]:
                src = out + b * ld + t * H


cdef void rnn_backward_merge(int B, int T, int D, int H, const floating *x,
                             const floating *kernel, const floating *d_pre,
                             const floating *h_prev, floating *dx, floating *d_kernel,
                             floating *d_recurrent, floating *d_bias) noexcept nogil:
    """The merged half of BPTT: three GEMMs over all B*T rows, after the time loop."""
    cdef Py_ssize_t rows = <Py_ssize_t>B * T
    cdef Py_ssize_t r, j
    # d_recurrent = h_prev.T @ d_pre ; d_kernel = x.T @ d_pre ; dx = d_pre @ kernel.T
    gemm(True, False, H, H, <int>rows, <floating>1, h_prev, H, d_pre, H, <floating>0,
         d_recurrent, H)
    gemm(True, False, D, H, <int>rows, <floating>1, x, D, d_pre, H, <floating>0,
         d_kernel, H)
    gemm(False, True, <int>rows, D, H, <floating>1, d_pre, H, kernel, H, <floating>0,
         dx, D)
    if d_bias != NULL:
        # d_bias = d_pre.sum(rows)
        memset(d_bias, 0, H * sizeof(floating))
        for r in range(rows):
            for j in range(H):
                d_bias[j] = d_bias[j] + d_pre[r * H + j]


cdef void rnn_backward_merge_packed(int B, int T, int D, int H, const floating *x,
                                    const floating *kT_packed, const floating *d_pre,
                                    const floating *h_prev, floating *dp_packed,
                                    floating *dx, floating *d_kernel,
                                    floating *d_recurrent, floating *d_bias) noexcept nogil:
    """rnn_backward_merge on the microkernel, for a batch or sub-batch: d_kernel,
    d_recurrent and d_bias are overwritten with this sub-batch's sums.
    kT_packed: pack(kernel, transpose=True); dp_packed: room for pack(d_pre)."""
    cdef Py_ssize_t rows = <Py_ssize_t>B * T
    cdef Py_ssize_t r, j
    if floating is float:
        fr_pack_f32(False, <int>rows, H, d_pre, H, dp_packed)
        # d_recurrent = h_prev.T @ d_pre ; d_kernel = x.T @ d_pre ; dx = d_pre @ kernel.T
        fr_gemm_packed_set_f32(H, H, <int>rows, h_prev, 1, H, dp_packed, d_recurrent, H, NULL)
        fr_gemm_packed_set_f32(D, H, <int>rows, x, 1, D, dp_packed, d_kernel, H, NULL)
        fr_gemm_packed_set_f32(<int>rows, D, H, d_pre, H, 1, kT_packed, dx, D, NULL)
    else:
        fr_pack_f64(False, <int>rows, H, d_pre, H, dp_packed)
        fr_gemm_packed_set_f64(H, H, <int>rows, h_prev, 1, H, dp_packed, d_recurrent, H, NULL)
        fr_gemm_packed_set_f64(D, H, <int>rows, x, 1, D, dp_packed, d_kernel, H, NULL)
        fr_gemm_packed_set_f64(<int>rows, D, H, d_pre, H, 1, kT_packed, dx, D, NULL)
    # d_bias = d_pre.sum(rows)
    memset(d_bias, 0, H * sizeof(floating))
    for r in range(rows):
        for j in range(H):
            d_bias[j] = d_bias[j] + d_pre[r * H + j]


# ---------------------------------------------------------------- Python entry points

# Below this many multiply-adds per call, one thread beats starting two.
cdef long long PARALLEL_MIN_WORK = 2000000


cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    static int fr_omp_max_threads(void) { return omp_get_max_threads(); }
    #else
    static int fr_omp_max_threads(void) { return 1; }
    #endif
    """
    int fr_omp_max_threads() nogil


def omp_max_threads():
    """OpenMP's thread count for this process: OMP_NUM_THREADS, or what threadpoolctl
    set, or the CPUs; 1 in a build without OpenMP."""
    return fr_omp_max_threads()


def packed_size(Py_ssize_t k, Py_ssize_t n, dtype):
    """Elements pack() needs for a (k, n) matrix of dtype."""
    return pack_size(k, n, np.dtype(dtype) == np.float32)


def simd():
    """True when the AVX2+FMA microkernel runs on this CPU."""
    return bool(fr_gemm_simd())


def pack(const floating[:, ::1] b, bint transpose=False):
    """Pack a weight matrix (k, n) -- or b.T with transpose -- for the microkernel."""
    cdef int k = b.shape[1] if transpose else b.shape[0]
    cdef int n = b.shape[0] if transpose else b.shape[1]
    if floating is float:
        packed = np.empty(fr_packed_size_f32(k, n), np.float32)
    else:
        packed = np.empty(fr_packed_size_f64(k, n), np.float64)
    cdef floating[::1] p = packed
    with nogil:
        if floating is float:
            fr_pack_f32(transpose, k, n, &b[0, 0], b.shape[1], &p[0])
        else:
            fr_pack_f64(transpose, k, n, &b[0, 0], b.shape[1], &p[0])
    return packed


cdef inline int _threads(int requested, int B, long long work) noexcept nogil:
    if requested <= 1 or B < 2 or work < PARALLEL_MIN_WORK:
        return 1
    return requested if requested < B else B


def forward(const floating[:, :, ::1] x,             # IN  (B, T, D)
            const floating[:, ::1] kernel,           # IN  (D, H)
            const floating[:, ::1] recurrent_kernel, # IN  (H, H)
            const floating[::1] bias,                # IN  (H,) or None
            const unsigned char[:, ::1] mask,        # IN  (B, T) or None
            bint zero_output, int act,
            const floating[:, ::1] rec_drop,         # IN  (B, H) or None
            floating[:, :, ::1] out,                 # OUT (B, T, H)
            floating[:, ::1] state,                  # IN/OUT (B, H)
            floating[:, ::1] prev_out,               # IN/OUT (B, H), mask path only
            floating[:, ::1] work,                   # WORK (B, H), recurrent dropout only
            const floating[::1] kernel_packed=None,  # IN  pack(kernel), or None: BLAS
            const floating[::1] rk_packed=None,      # IN  pack(recurrent_kernel)
            int num_threads=1, bint reverse=False):
    """Run rnn_forward with the GIL released, on up to num_threads batch slices at once.
    Shapes are trusted (functional checks)."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], H = kernel.shape[1]
    cdef const floating *bias_p = &bias[0] if bias is not None else NULL
    cdef const unsigned char *mask_p = &mask[0, 0] if mask is not None else NULL
    cdef const floating *drop_p = &rec_drop[0, 0] if rec_drop is not None else NULL
    cdef floating *prev_p = &prev_out[0, 0] if prev_out is not None else NULL
    cdef floating *work_p = &work[0, 0] if work is not None else NULL
    cdef const floating *kp = &kernel_packed[0] if kernel_packed is not None else NULL
    cdef const floating *rp = &rk_packed[0] if rk_packed is not None else NULL
    cdef int nt = _threads(num_threads, B, <long long>B * T * H * (D + H))
    cdef int i, b0, b1
    cdef unsigned int csr
    if B == 0:
        return
    if nt == 1:
        with nogil:
            csr = fr_ftz_on()
            rnn_forward(B, T, D, H, &x[0, 0, 0], &kernel[0, 0], &recurrent_kernel[0, 0],
                        bias_p, mask_p, zero_output, act, reverse, drop_p, kp, rp,
                        &out[0, 0, 0], H,
                        &state[0, 0], prev_p, work_p)
            fr_ftz_restore(csr)
        return
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        b0 = <int>((<long long>i * B) // nt)
        b1 = <int>((<long long>(i + 1) * B) // nt)
        csr = fr_ftz_on()
        rnn_forward(b1 - b0, T, D, H, &x[b0, 0, 0], &kernel[0, 0], &recurrent_kernel[0, 0],
                    bias_p, mask_p + b0 * T if mask_p != NULL else NULL, zero_output, act,
                    reverse, drop_p + b0 * H if drop_p != NULL else NULL, kp, rp,
                    &out[b0, 0, 0], H,
                    &state[b0, 0], prev_p + b0 * H if prev_p != NULL else NULL,
                    work_p + b0 * H if work_p != NULL else NULL)
        fr_ftz_restore(csr)


def backward(const floating[:, :, ::1] x,             # IN  (B, T, D)
             const floating[:, ::1] kernel,           # IN  (D, H)
             const floating[:, ::1] recurrent_kernel, # IN  (H, H)
             const floating[:, ::1] h0,               # IN  (B, H) or None (zeros)
             const floating[:, :, ::1] out,           # IN  (B, T, H) forward outputs
             const floating[:, :, ::1] d_out,         # IN  (B, T, H) or None
             const floating[:, ::1] d_last,           # IN  (B, H) or None
             const unsigned char[:, ::1] mask,        # IN  (B, T) or None
             bint zero_output, int act,
             const floating[:, ::1] rec_drop,         # IN  (B, H) or None
             floating[:, :, ::1] dx,                  # OUT (B, T, D)
             floating[:, ::1] d_kernel,               # OUT (D, H)
             floating[:, ::1] d_recurrent,            # OUT (H, H)
             floating[::1] d_bias,                    # OUT (H,)
             floating[:, ::1] d_h0,                   # OUT (B, H)
             floating[:, :, ::1] d_pre,               # WORK (B, T, H)
             floating[:, :, ::1] h_prev,              # WORK (B, T, H)
             floating[:, ::1] d_carry,                # WORK (B, H)
             floating[:, ::1] d_state_new,            # WORK (B, H)
             bint packed=False,
             int num_threads=1, bint reverse=False,
             floating[::1] dp_work=None):             # WORK room for pack(d_pre), or None
    """Run BPTT with the GIL released. With packed, each of up to num_threads batch
    slices runs its time loop and its share of the merged products on the microkernel,
    and the slices' weight gradients are summed; otherwise the time loop runs on the
    slices and the merged products on BLAS. Shapes are trusted (functional checks)."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], H = kernel.shape[1]
    cdef const floating *h0_p = &h0[0, 0] if h0 is not None else NULL
    cdef const floating *dout_p = &d_out[0, 0, 0] if d_out is not None else NULL
    cdef const floating *dlast_p = &d_last[0, 0] if d_last is not None else NULL
    cdef const unsigned char *mask_p = &mask[0, 0] if mask is not None else NULL
    cdef const floating *drop_p = &rec_drop[0, 0] if rec_drop is not None else NULL
    cdef int nt = _threads(num_threads, B, <long long>B * T * H * H)
    cdef int i, b0, b1
    cdef Py_ssize_t j, hh = <Py_ssize_t>H * H, dh = <Py_ssize_t>D * H, panel_rows
    cdef unsigned int csr
    cdef floating[:, :, ::1] part_r
    cdef floating[:, :, ::1] part_k
    cdef floating[:, ::1] part_b
    cdef floating[::1] rkT_p
    cdef floating[::1] kT_p
    cdef floating[::1] dp_p
    cdef const floating *rp = NULL
    cdef const floating *kp = NULL
    cdef floating *dpp = NULL
    if B == 0:
        return
    dt = np.float32 if floating is float else np.float64
    if packed:
        rkT_p = pack(recurrent_kernel, True)
        kT_p = pack(kernel, True)
        # each slice packs its rows of d_pre: room for B*T rows of ceil(H / NR) panels
        if dp_work is not None and dp_work.shape[0] >= pack_size(B * T, H, sizeof(floating) == 4):
            dp_p = dp_work
        else:
            dp_p = np.empty(pack_size(B * T, H, sizeof(floating) == 4), dt)
        rp = &rkT_p[0]
        kp = &kT_p[0]
        dpp = &dp_p[0]
        part_r = np.empty((nt, H, H), dt) if nt > 1 else None
        part_k = np.empty((nt, D, H), dt) if nt > 1 else None
        part_b = np.empty((nt, H), dt) if nt > 1 else None
    panel_rows = pack_size(1, H, floating is float)  # packed size of one row
    if nt == 1:
        with nogil:
            csr = fr_ftz_on()
            rnn_backward_steps(B, T, H, &recurrent_kernel[0, 0], rp, h0_p, &out[0, 0, 0],
                               dout_p, dlast_p, mask_p, zero_output, act, reverse, drop_p,
                               &d_h0[0, 0], &d_pre[0, 0, 0], &h_prev[0, 0, 0],
                               &d_carry[0, 0], &d_state_new[0, 0])
            if packed:
                rnn_backward_merge_packed(B, T, D, H, &x[0, 0, 0], kp, &d_pre[0, 0, 0],
                                          &h_prev[0, 0, 0], dpp, &dx[0, 0, 0],
                                          &d_kernel[0, 0], &d_recurrent[0, 0], &d_bias[0])
            else:
                rnn_backward_merge(B, T, D, H, &x[0, 0, 0], &kernel[0, 0], &d_pre[0, 0, 0],
                                   &h_prev[0, 0, 0], &dx[0, 0, 0], &d_kernel[0, 0],
                                   &d_recurrent[0, 0], &d_bias[0])
            fr_ftz_restore(csr)
        return
    for i in prange(nt, nogil=True, num_threads=nt, schedule="static", chunksize=1):
        b0 = <int>((<long long>i * B) // nt)
        b1 = <int>((<long long>(i + 1) * B) // nt)
        csr = fr_ftz_on()
        rnn_backward_steps(b1 - b0, T, H, &recurrent_kernel[0, 0], rp,
                           h0_p + b0 * H if h0_p != NULL else NULL, &out[b0, 0, 0],
                           dout_p + <Py_ssize_t>b0 * T * H if dout_p != NULL else NULL,
                           dlast_p + b0 * H if dlast_p != NULL else NULL,
                           mask_p + b0 * T if mask_p != NULL else NULL, zero_output,
                           act, reverse, drop_p + b0 * H if drop_p != NULL else NULL,
                           &d_h0[b0, 0], &d_pre[b0, 0, 0], &h_prev[b0, 0, 0],
                           &d_carry[b0, 0], &d_state_new[b0, 0])
        if packed:
            rnn_backward_merge_packed(b1 - b0, T, D, H, &x[b0, 0, 0], kp, &d_pre[b0, 0, 0],
                                      &h_prev[b0, 0, 0], dpp + b0 * T * panel_rows,
                                      &dx[b0, 0, 0], &part_k[i, 0, 0], &part_r[i, 0, 0],
                                      &part_b[i, 0])
        fr_ftz_restore(csr)
    with nogil:
        if packed:
            # the slices' sums
            memcpy(&d_recurrent[0, 0], &part_r[0, 0, 0], hh * sizeof(floating))
            memcpy(&d_kernel[0, 0], &part_k[0, 0, 0], dh * sizeof(floating))
            memcpy(&d_bias[0], &part_b[0, 0], H * sizeof(floating))
            for i in range(1, nt):
                for j in range(hh):
                    (&d_recurrent[0, 0])[j] += (&part_r[i, 0, 0])[j]
                for j in range(dh):
                    (&d_kernel[0, 0])[j] += (&part_k[i, 0, 0])[j]
                for j in range(H):
                    d_bias[j] += part_b[i, j]
        else:
            csr = fr_ftz_on()
            rnn_backward_merge(B, T, D, H, &x[0, 0, 0], &kernel[0, 0], &d_pre[0, 0, 0],
                               &h_prev[0, 0, 0], &dx[0, 0, 0], &d_kernel[0, 0],
                               &d_recurrent[0, 0], &d_bias[0])
            fr_ftz_restore(csr)


cdef Py_ssize_t pack_size(Py_ssize_t k, Py_ssize_t n, bint single) noexcept nogil:
    if single:
        return fr_packed_size_f32(<int>k, <int>n)
    return fr_packed_size_f64(<int>k, <int>n)


cdef class Forward:
    """A lean forward for one set of weights, for the common call: no mask, no initial
    state, no dropout, x already C-contiguous in the weights' dtype.

    Holds references to the weight arrays (so in-place updates are seen) and packs
    them into its own buffers on every call, which costs little next to the product.
    With reverse (go_backwards) time runs backwards and sequences stay in position order.
    Calling it returns (sequences (B, T, H), last_state (B, H)), or None when x does
    not qualify (or the output would pass max_bytes) and the caller must take the
    general path (fastrnn.functional).
    """
    cdef cnp.ndarray kernel, recurrent_kernel, bias, kp, rp
    cdef int D, H, act, typenum
    cdef bint packed, reverse

    def __init__(self, cnp.ndarray kernel, cnp.ndarray recurrent_kernel, bias, int act,
                 bint packed, bint reverse=False):
        if not (cnp.PyArray_IS_C_CONTIGUOUS(kernel) and
                cnp.PyArray_IS_C_CONTIGUOUS(recurrent_kernel)):
            raise ValueError("weights must be C-contiguous")
        self.typenum = cnp.PyArray_TYPE(kernel)
        if self.typenum not in (cnp.NPY_FLOAT32, cnp.NPY_FLOAT64):
            raise ValueError("weights must be float32 or float64")
        self.kernel = kernel
        self.recurrent_kernel = recurrent_kernel
        self.bias = bias
        self.D = kernel.shape[0]
        self.H = kernel.shape[1]
        self.act = act
        self.packed = packed
        self.reverse = reverse
        if packed:
            self.kp = pack(kernel)
            self.rp = pack(recurrent_kernel)

    def __call__(self, x, int num_threads, long long max_bytes=-1, out=None):
        """max_bytes >= 0: return None rather than allocate a larger output.
        out: write the sequences into this (B, T, H) array instead, whose last axis
        is contiguous and whose rows may be wider (one half of a concatenation)."""
        cdef cnp.ndarray xa, oa
        cdef cnp.npy_intp dims[3]
        cdef Py_ssize_t item, ldo
        if type(x) is not np.ndarray:
            return None
        xa = <cnp.ndarray>x
        if (cnp.PyArray_NDIM(xa) != 3 or cnp.PyArray_TYPE(xa) != self.typenum or
                not cnp.PyArray_IS_C_CONTIGUOUS(xa) or xa.shape[2] != self.D or
                xa.shape[0] < 1 or xa.shape[1] < 1 or
                xa.shape[0] * xa.shape[1] > 2**31 - 1 or
                xa.shape[1] * max(self.D, self.H) > 2**31 - 1):
            return None
        if max_bytes >= 0 and (<long long>xa.shape[0] * xa.shape[1] * self.H *
                               cnp.PyArray_ITEMSIZE(xa) > max_bytes):
            return None
        dims[0] = xa.shape[0]
        dims[1] = xa.shape[1]
        dims[2] = self.H
        item = cnp.PyArray_ITEMSIZE(xa)
        if out is None:
            out = cnp.PyArray_EMPTY(3, dims, self.typenum, 0)
            ldo = self.H
        else:
            if type(out) is not np.ndarray:
                return None
            oa = <cnp.ndarray>out
            if (cnp.PyArray_NDIM(oa) != 3 or cnp.PyArray_TYPE(oa) != self.typenum or
                    oa.shape[0] != dims[0] or oa.shape[1] != dims[1] or
                    oa.shape[2] != self.H or not cnp.PyArray_ISWRITEABLE(oa) or
                    not cnp.PyArray_ISALIGNED(oa) or oa.strides[2] != item or
                    oa.strides[1] % item != 0 or oa.strides[1] < self.H * item or
                    oa.strides[0] != dims[1] * oa.strides[1] or
                    dims[1] * (oa.strides[1] // item) > 2**31 - 1):
                return None
            ldo = oa.strides[1] // item
        dims[1] = self.H
        state = cnp.PyArray_ZEROS(2, dims, self.typenum, 0)
        self._run(xa, out, <int>ldo, state, num_threads)
        return out, state

    cdef void _run(self, cnp.ndarray x, cnp.ndarray out, int ldo, cnp.ndarray state,
                   int num_threads) noexcept:
        cdef int B = x.shape[0], T = x.shape[1]
        cdef void *b = NULL
        cdef void *kp = NULL
        cdef void *rp = NULL
        cdef int nt = _threads(num_threads, B, <long long>B * T * self.H * (self.D + self.H))
        if self.bias is not None:
            b = cnp.PyArray_DATA(<cnp.ndarray>self.bias)
        if self.packed:
            kp = cnp.PyArray_DATA(self.kp)
            rp = cnp.PyArray_DATA(self.rp)
        if self.typenum == cnp.NPY_FLOAT32:
            with nogil:
                lean_forward(<const float *>cnp.PyArray_DATA(x),
                             <const float *>cnp.PyArray_DATA(self.kernel),
                             <const float *>cnp.PyArray_DATA(self.recurrent_kernel),
                             <const float *>b, <float *>kp, <float *>rp,
                             <float *>cnp.PyArray_DATA(out), ldo,
                             <float *>cnp.PyArray_DATA(state),
                             B, T, self.D, self.H, self.act, self.reverse, nt)
        else:
            with nogil:
                lean_forward(<const double *>cnp.PyArray_DATA(x),
                             <const double *>cnp.PyArray_DATA(self.kernel),
                             <const double *>cnp.PyArray_DATA(self.recurrent_kernel),
                             <const double *>b, <double *>kp, <double *>rp,
                             <double *>cnp.PyArray_DATA(out), ldo,
                             <double *>cnp.PyArray_DATA(state),
                             B, T, self.D, self.H, self.act, self.reverse, nt)


cdef void lean_forward(const floating *xp, const floating *w, const floating *u,
                       const floating *b, floating *kp, floating *rp, floating *o,
                       int ldo, floating *st, int B, int T, int D, int H, int act,
                       bint reverse, int nt) noexcept nogil:
    """Pack the weights (when kp is given) and run rnn_forward on nt batch slices."""
    cdef int i, b0, b1
    cdef unsigned int csr
    if kp != NULL:
        if floating is float:
            fr_pack_f32(False, D, H, w, H, kp)
            fr_pack_f32(False, H, H, u, H, rp)
        else:
            fr_pack_f64(False, D, H, w, H, kp)
            fr_pack_f64(False, H, H, u, H, rp)
    if nt == 1:
        csr = fr_ftz_on()
        rnn_forward(B, T, D, H, xp, w, u, b, NULL, False, act, reverse, NULL, kp, rp, o, ldo,
                    st, NULL, NULL)
        fr_ftz_restore(csr)
        return
    for i in prange(nt, num_threads=nt, schedule="static", chunksize=1):
        b0 = <int>((<long long>i * B) // nt)
        b1 = <int>((<long long>(i + 1) * B) // nt)
        csr = fr_ftz_on()
        rnn_forward(b1 - b0, T, D, H, xp + <Py_ssize_t>b0 * T * D, w, u, b, NULL, False,
                    act, reverse, NULL, kp, rp, o + <Py_ssize_t>b0 * T * ldo, ldo,
                    st + <Py_ssize_t>b0 * H, NULL, NULL)
        fr_ftz_restore(csr)


def compiled():
    """True: this module is the compiled kernel (the CI checks it is the one in use)."""
    return True
