# cython: language_level=3
"""fastrnn's compiled kernel: the Elman recurrence, forward and backward.

    out[:, t] = act(x[:, t] @ kernel + h[t-1] @ recurrent_kernel + bias)

One fused-type source for float32 and float64. Every entry point takes
C-contiguous buffers that ``fastrnn.functional`` has validated, coerced and
allocated; the entry points add only per-call scratch (packed weights, per-thread
partial sums), and the loops over time allocate nothing and run with the GIL
released. Long calls run in chunks with Python's signal handlers in between
(CHECK_WORK), so Ctrl-C interrupts them. Offsets are 64-bit; counts passed as int
(rows of one call, leading dimensions) are below 2**31 (functional checks).
Arrays are in input-time (position) order: with ``reverse`` (go_backwards) the
loops walk time from the last position to the first.
"""
from cython cimport floating
from libc.string cimport memcpy, memset
from libc.stdlib cimport malloc, free
from cpython.exc cimport PyErr_CheckSignals

cimport numpy as cnp
import numpy as np

cnp.import_array()
from scipy.linalg.cython_blas cimport sgemm, dgemm

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


cdef inline void dact_sum(int act, const floating *y, const floating *a, const floating *b,
                          floating *d, Py_ssize_t n) noexcept nogil:
    if floating is float:
        fr_dact_sum_f32(act, y, a, b, d, n)
    else:
        fr_dact_sum_f64(act, y, a, b, d, n)


include "_blas_gemm.pxi"


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


cdef void rnn_project(Py_ssize_t r0, Py_ssize_t r1, int D, int H, const floating *x,
                      const floating *kernel, const floating *bias,
                      const floating *kernel_packed, floating *out, int ldo) noexcept nogil:
    """out[r] = bias + x[r] @ kernel for the rows r0 <= r < r1 of the (B*T, D) input
    (row r of out starts at out + r * ldo)."""
    cdef Py_ssize_t r, n = r1 - r0
    cdef const floating *xr = x + r0 * D
    cdef floating *o = out + r0 * ldo
    if n <= 0:
        return
    if kernel_packed != NULL:
        if floating is float:
            fr_gemm_packed_set_f32(<int>n, H, D, xr, D, 1, kernel_packed, o, ldo, bias)
        else:
            fr_gemm_packed_set_f64(<int>n, H, D, xr, D, 1, kernel_packed, o, ldo, bias)
        return
    for r in range(n):
        if bias != NULL:
            memcpy(o + r * ldo, bias, H * sizeof(floating))
        else:
            memset(o + r * ldo, 0, H * sizeof(floating))
    mm_acc(<int>n, H, D, xr, D, NULL, kernel, H, False, o, ldo)


cdef void rnn_steps(int B, int T, int s0, int s1, int H,
                    const floating *recurrent_kernel, const floating *rk_packed,
                    const unsigned char *mask, bint zero_output, int act, bint reverse,
                    const floating *rec_drop, floating *out, int ldo, floating *state,
                    floating *prev_out, floating *work) noexcept nogil:
    """Steps s0 <= s < s1 (processing order) of the recurrence, out already holding the
    projection (rnn_project). After the last step (s1 == T) state holds the final state.
    Arguments as rnn_forward's."""
    cdef Py_ssize_t ld = <Py_ssize_t>T * ldo
    cdef Py_ssize_t b, s, t, j
    cdef floating *o
    cdef const floating *h_p
    cdef Py_ssize_t ldh
    for s in range(s0, s1):
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
        mm_acc(B, H, H, h_p, <int>ldh, rk_packed, recurrent_kernel, H, False, o, <int>ld)
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
    if mask == NULL and s1 == T and T > 0:
        t = 0 if reverse else T - 1
        for b in range(B):
            memcpy(state + b * H, out + b * ld + t * ldo, H * sizeof(floating))


cdef void rnn_forward(int B, int T, int D, int H,
                      const floating *x, const floating *kernel,
                      const floating *recurrent_kernel, const floating *bias,
                      const unsigned char *mask, bint zero_output, int act, bint reverse,
                      const floating *rec_drop, const floating *kernel_packed,
                      const floating *rk_packed,
                      floating *out, int ldo, floating *state, floating *prev_out,
                      floating *work) noexcept nogil:
    """Forward over x (B, T, D) into out (B, T, H): rnn_project over all rows, then
    rnn_steps over all steps. Rows of the batch are independent, so a sub-batch is run
    by offsetting every per-row pointer.

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
    # out = bias + x @ kernel          (one GEMM over all B*T rows)
    rnn_project(0, <Py_ssize_t>B * T, D, H, x, kernel, bias, kernel_packed, out, ldo)
    rnn_steps(B, T, 0, T, H, recurrent_kernel, rk_packed, mask, zero_output, act, reverse,
              rec_drop, out, ldo, state, prev_out, work)


cdef void rnn_backward_init(int B, int H, const floating *d_last, bint masked,
                            floating *d_h0, floating *d_carry) noexcept nogil:
    """Before the reverse time loop: dH = d_last (or zeros); d_carry = 0 (mask path)."""
    # d_h0 holds dH, the gradient of the state after the current step
    if d_last != NULL:
        memcpy(d_h0, d_last, <Py_ssize_t>B * H * sizeof(floating))
    else:
        memset(d_h0, 0, <Py_ssize_t>B * H * sizeof(floating))
    if masked:
        memset(d_carry, 0, <Py_ssize_t>B * H * sizeof(floating))


cdef void rnn_backward_range(int B, int T, int s_lo, int s_hi, int H,
                             const floating *recurrent_kernel, const floating *rkT_packed,
                             const floating *out, const floating *d_out,
                             const unsigned char *mask, bint zero_output, int act,
                             bint reverse, const floating *rec_drop, floating *d_h0,
                             floating *d_pre, floating *d_carry,
                             floating *d_state_new) noexcept nogil:
    """Steps s_hi - 1 down to s_lo (processing order) of the reverse time loop; see
    rnn_backward_steps. d_h0 and d_carry carry the loop's state between ranges."""
    cdef Py_ssize_t b, s, t, j, r
    cdef Py_ssize_t ld = <Py_ssize_t>T * H
    cdef floating *g
    cdef floating *dh
    cdef floating *target
    cdef const floating *src
    cdef const floating *y
    cdef bint on
    for s in range(s_hi - 1, s_lo - 1, -1):
        t = T - 1 - s if reverse else s
        if s > s_lo:  # the next step's rows, 4*T*H bytes apart, arrive during this one
            r = T - s if reverse else s - 1
            fr_prefetch_rows(out + r * H, B, ld * sizeof(floating), H * sizeof(floating), 0)
            fr_prefetch_rows(d_pre + r * H, B, ld * sizeof(floating), H * sizeof(floating), 1)
            if d_out != NULL:
                fr_prefetch_rows(d_out + r * H, B, ld * sizeof(floating),
                                 H * sizeof(floating), 0)
        for b in range(B):
            g = d_pre + b * ld + t * H
            y = out + b * ld + t * H
            dh = d_h0 + b * H
            on = mask == NULL or mask[b * T + t]
            if on and mask == NULL:
                # g = (d_out[b, t] + dH[b]) * act'(out[b, t]), in one pass
                dact_sum(act, y, d_out + b * ld + t * H if d_out != NULL else NULL, dh, g,
                         H)
            elif on:
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
        mm_set(B, H, H, d_pre + t * H, <int>ld, rkT_packed, recurrent_kernel, H, True,
               target, H)
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


cdef void rnn_backward_hprev(int B, int T, int H, const floating *h0, const floating *out,
                             const unsigned char *mask, bint reverse,
                             const floating *rec_drop, floating *h_prev) noexcept nogil:
    """h_prev[b, t] = state before step t (times the recurrent dropout mask)."""
    cdef Py_ssize_t b, s, t, j
    cdef Py_ssize_t ld = <Py_ssize_t>T * H
    cdef const floating *src
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
    rnn_backward_init(B, H, d_last, mask != NULL, d_h0, d_carry)
    rnn_backward_range(B, T, 0, T, H, recurrent_kernel, rkT_packed, out, d_out, mask,
                       zero_output, act, reverse, rec_drop, d_h0, d_pre, d_carry,
                       d_state_new)
    rnn_backward_hprev(B, T, H, h0, out, mask, reverse, rec_drop, h_prev)


cdef void rnn_backward_merge(Py_ssize_t r0, Py_ssize_t r1, int D, int H, const floating *x,
                             const floating *kernel, const floating *d_pre,
                             const floating *h_prev, floating *dx, floating *d_kernel,
                             floating *d_recurrent, floating *d_bias) noexcept nogil:
    """The merged half of BPTT over the rows r0 <= r < r1 of the B*T rows, on BLAS:
    d_kernel, d_recurrent and d_bias accumulate (+=), dx rows are written."""
    cdef Py_ssize_t n = r1 - r0, r, j
    if n <= 0:
        return
    # d_recurrent += h_prev.T @ d_pre ; d_kernel += x.T @ d_pre ; dx = d_pre @ kernel.T
    gemm(True, False, H, H, <int>n, <floating>1, h_prev + r0 * H, H, d_pre + r0 * H, H,
         <floating>1, d_recurrent, H)
    gemm(True, False, D, H, <int>n, <floating>1, x + r0 * D, D, d_pre + r0 * H, H,
         <floating>1, d_kernel, H)
    gemm(False, True, <int>n, D, H, <floating>1, d_pre + r0 * H, H, kernel, H, <floating>0,
         dx + r0 * D, D)
    # d_bias += d_pre.sum(rows)
    for r in range(r0, r1):
        for j in range(H):
            d_bias[j] = d_bias[j] + d_pre[r * H + j]


cdef void rnn_backward_merge_packed(Py_ssize_t r0, Py_ssize_t r1, int D, int H,
                                    const floating *x, const floating *kT_packed,
                                    const floating *d_pre, const floating *h_prev,
                                    floating *dp_packed, floating *dx, floating *d_kernel,
                                    floating *d_recurrent, floating *d_bias) noexcept nogil:
    """rnn_backward_merge on the microkernel. kT_packed: pack(kernel, transpose=True);
    dp_packed: room for pack(d_pre[r0:r1])."""
    cdef Py_ssize_t n = r1 - r0, r, j
    cdef const floating *hp = h_prev + r0 * H
    cdef const floating *xp = x + r0 * D
    cdef const floating *dp = d_pre + r0 * H
    if n <= 0:
        return
    # d_recurrent += h_prev.T @ d_pre ; d_kernel += x.T @ d_pre ; dx = d_pre @ kernel.T
    if floating is float:
        fr_pack_f32(False, <int>n, H, dp, H, dp_packed)
        fr_gemm_packed_f32(H, H, <int>n, hp, 1, H, dp_packed, d_recurrent, H)
        fr_gemm_packed_f32(D, H, <int>n, xp, 1, D, dp_packed, d_kernel, H)
        fr_gemm_packed_set_f32(<int>n, D, H, dp, H, 1, kT_packed, dx + r0 * D, D, NULL)
    else:
        fr_pack_f64(False, <int>n, H, dp, H, dp_packed)
        fr_gemm_packed_f64(H, H, <int>n, hp, 1, H, dp_packed, d_recurrent, H)
        fr_gemm_packed_f64(D, H, <int>n, xp, 1, D, dp_packed, d_kernel, H)
        fr_gemm_packed_set_f64(<int>n, D, H, dp, H, 1, kT_packed, dx + r0 * D, D, NULL)
    # d_bias += d_pre.sum(rows)
    for r in range(n):
        for j in range(H):
            d_bias[j] = d_bias[j] + dp[r * H + j]


cdef inline void gemm_rows(int m, int n, int k, const floating *a, Py_ssize_t rs,
                           Py_ssize_t cs, const floating *b, Py_ssize_t ldb, floating *c,
                           int ldc) noexcept nogil:
    """C += A @ B, B row-major and read in place (fr_gemm_*): n a multiple of the panel
    width (16 float32, 8 float64)."""
    if floating is float:
        fr_gemm_f32(m, n, k, a, rs, cs, b, ldb, c, ldc)
    else:
        fr_gemm_f64(m, n, k, a, rs, cs, b, ldb, c, ldc)


cdef inline bint merge_in_place(int H, bint single, bint masked,
                                bint dropped) noexcept nogil:
    """Whether rnn_backward_merge_shifted applies: no mask, no recurrent dropout (the
    state a step read is the previous output, or h0) and whole panels of units (16
    float32, 8 float64)."""
    return not masked and not dropped and H % (16 if single else 8) == 0


cdef void rnn_backward_merge_shifted(Py_ssize_t r0, Py_ssize_t r1, int T, int D, int H,
                                     const floating *x, const floating *kT_packed,
                                     const floating *d_pre, const floating *out,
                                     const floating *h0, bint reverse, floating *dx,
                                     floating *d_kernel, floating *d_recurrent,
                                     floating *d_bias) noexcept nogil:
    """rnn_backward_merge_packed where merge_in_place holds: the state step t read is
    out[b, t - 1] (out[b, t + 1] with reverse), or h0[b] (zeros when NULL) at the first
    step processed, so h_prev is read from out in place, sequence by sequence, and
    d_pre is read unpacked. Rows r0 <= r < r1 of the B*T rows."""
    cdef Py_ssize_t n = r1 - r0, r, e, b, t0, t1, lo, hi, j
    cdef Py_ssize_t TT = T
    cdef const floating *dp = d_pre + r0 * H
    if n <= 0:
        return
    # d_kernel += x.T @ d_pre
    gemm_rows(D, H, <int>n, x + r0 * D, 1, D, dp, H, d_kernel, H)
    # d_recurrent += h_prev.T @ d_pre, over the rows of one sequence at a time
    r = r0
    while r < r1:
        b = r // TT
        e = (b + 1) * TT if (b + 1) * TT < r1 else r1
        t0 = r - b * TT
        t1 = e - b * TT
        if not reverse:
            lo = t0 if t0 >= 1 else 1
            if t1 > lo:
                gemm_rows(H, H, <int>(t1 - lo), out + (b * TT + lo - 1) * H, 1, H,
                          d_pre + (b * TT + lo) * H, H, d_recurrent, H)
            if t0 == 0 and h0 != NULL:
                gemm_rows(H, H, 1, h0 + b * H, 1, H, d_pre + b * TT * H, H, d_recurrent, H)
        else:
            hi = t1 if t1 < TT else TT - 1
            if hi > t0:
                gemm_rows(H, H, <int>(hi - t0), out + (b * TT + t0 + 1) * H, 1, H,
                          d_pre + (b * TT + t0) * H, H, d_recurrent, H)
            if t1 == TT and h0 != NULL:
                gemm_rows(H, H, 1, h0 + b * H, 1, H, d_pre + (b * TT + TT - 1) * H, H,
                          d_recurrent, H)
        r = e
    # dx = d_pre @ kernel.T
    if floating is float:
        fr_gemm_packed_set_f32(<int>n, D, H, dp, H, 1, kT_packed, dx + r0 * D, D, NULL)
    else:
        fr_gemm_packed_set_f64(<int>n, D, H, dp, H, 1, kT_packed, dx + r0 * D, D, NULL)
    # d_bias += d_pre.sum(rows)
    for r in range(n):
        for j in range(H):
            d_bias[j] = d_bias[j] + dp[r * H + j]


# ---------------------------------------------------------------- Python entry points

# Below this many multiply-adds per call, one thread beats starting two.
cdef long long PARALLEL_MIN_WORK = 2000000


cdef extern from "_pool.h" nogil:
    ctypedef void (*fr_task_fn)(void *ctx, int worker) noexcept nogil
    enum: FR_POOL_SHORT_WORK
    int fr_pool_run(int nt, fr_task_fn fn, void *ctx)
    int fr_pool_run_short(int nt, fr_task_fn fn, void *ctx, int short_job)
    long fr_claim(long *counter)
    void fr_pool_stats(long out[4])
    void fr_pool_backoff(int on)


cdef extern from "_small.h" nogil:
    enum: FR_SMALL_MAX_B
    ctypedef struct fr_small_args:
        int single, B, T, D, H, ldo, act, reverse, split
        const void *x
        const void *kernel
        const void *rk
        const void *bias
        void *out
        void *state
        void *hb
    int fr_small_split(int H)
    int fr_small_stall_step
    long fr_small_steps(const fr_small_args *a, int s0, int s1, int nt)


# A batch of at most FR_SMALL_MAX_B rows without mask or recurrent dropout runs on
# src/_small_impl.c: each step's units cut in two halves, the second on a pool helper
# when a step has at least this many multiply-adds (below, the per-step meeting of the
# two threads costs more than the half it saves).
cdef long long SMALL_SPLIT_WORK = 32768
SMALL_BATCH = FR_SMALL_MAX_B  # batches up to this many rows take that path


def small_split_work(work=None):
    """Multiply-adds per step from which a small batch's units are split across two
    threads; set it with an int (tests only). Returns the value in force before."""
    global SMALL_SPLIT_WORK
    old = SMALL_SPLIT_WORK
    if work is not None:
        SMALL_SPLIT_WORK = max(0, int(work))
    return old


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


def segment_sums(const cnp.int64_t[::1] position, const floating[:, ::1] values,
                 floating[:, ::1] out, bint square=False):
    """out[position[k]] += values[k] (or values[k] ** 2 with square) for k = 0, 1, ...
    in that order, the GIL released: the per-row sums of a row-sparse gradient
    (TensorFlow's ``unsorted_segment_sum``), in occurrence order, so the same bits as
    summing a row's occurrences one after another from zero. ``out`` (rows, n) is
    added to (zero it first for plain sums); every position must be in [0, rows):
    checked before any sum, raising ValueError naming the first bad one."""
    cdef Py_ssize_t n = values.shape[0], w = values.shape[1], rows = out.shape[0]
    cdef Py_ssize_t k, c, p, bad = -1
    cdef floating a
    cdef floating *o
    cdef const floating *v
    if position.shape[0] != n or out.shape[1] != w:
        raise ValueError(f"segment_sums: expected {n} positions and out of width {w}, "
                         f"got {position.shape[0]} and {out.shape[1]}")
    if n == 0 or w == 0:
        return
    with nogil:
        for k in range(n):
            if position[k] < 0 or position[k] >= rows:
                bad = k
                break
    if bad >= 0:
        raise ValueError(f"segment_sums: position {position[bad]} of occurrence {bad} is "
                         f"outside [0, {rows})")
    with nogil:
        for k in range(n):
            p = position[k]
            o = &out[p, 0]
            v = &values[k, 0]
            if square:
                for c in range(w):
                    a = v[c] * v[c]
                    o[c] = o[c] + a
            else:
                for c in range(w):
                    o[c] = o[c] + v[c]


def parallel_min_work(work=None):
    """The multiply-adds below which a call runs on one thread; set it with an int
    (tests only, to force the threaded paths on small cases). Returns the value in
    force before the call."""
    global PARALLEL_MIN_WORK
    old = PARALLEL_MIN_WORK
    if work is not None:
        PARALLEL_MIN_WORK = max(0, int(work))
    return old


cdef struct ClaimJob:
    long next
    long tasks
    int *owner


cdef void claim_task(void *ctx, int worker) noexcept nogil:
    cdef ClaimJob *j = <ClaimJob *>ctx
    cdef long i
    cdef double acc = 0
    cdef int k
    while True:
        i = fr_claim(&j.next)
        if i >= j.tasks:
            break
        for k in range(2000):  # a little work, so both threads get some tasks
            acc = acc * 0.5 + k
        j.owner[i] = worker if acc >= 0 else -2


def pool_owners(int nt, long tasks, bint short_job=False):
    """Run `tasks` tiny tasks on up to nt pool threads (tests only), as a short job
    (fr_pool_run_short) with short_job. Returns (owner, ran): the worker (0 .. nt-1)
    that ran each task, and how many workers ran."""
    owner = np.full(tasks, -1, np.intc)
    cdef int[::1] o = owner
    cdef ClaimJob j
    cdef int ran
    j.next = 0
    j.tasks = tasks
    j.owner = &o[0] if tasks > 0 else NULL
    with nogil:
        ran = fr_pool_run_short(nt, claim_task, &j, short_job)
    return owner, ran


def pool_stats():
    """The thread pool's counters since the process started (tests, diagnostics): a dict
    of jobs a helper joined (`helped`), helpers that woke on the caller's CPU during a
    short job and stood down (`stood_down`), short jobs run without waking the helpers
    (`backed_off`), and short jobs whose caller waited over 200 us for a helper
    (`late_helper`)."""
    cdef long s[4]
    fr_pool_stats(s)
    return dict(helped=s[0], stood_down=s[1], backed_off=s[2], late_helper=s[3])


def pool_backoff(bint on):
    """Let the pool skip waking its helpers after they stood down (True, the default),
    or never (False: every job wakes them; tests)."""
    fr_pool_backoff(on)


cdef inline int is_short(long long work) noexcept nogil:
    """Whether a job of `work` multiply-adds is short for the pool (under ~1 ms): a
    helper that wakes on the caller's CPU stands down (src/_pool.h)."""
    return work < FR_POOL_SHORT_WORK


cdef inline int _threads(int requested, int B, long long work) noexcept nogil:
    if requested <= 1 or B < 2 or work < PARALLEL_MIN_WORK:
        return 1
    return requested if requested < B else B


# Calls of more than twice this many multiply-adds run in chunks of about as many; between
# chunks the entry points take the GIL back and run Python's signal handlers
# (PyErr_CheckSignals), so Ctrl-C raises KeyboardInterrupt within a fraction of a second,
# not when the call ends. 2**28 is ~5-50 ms on one core. Smaller calls run in one pass
# (one parallel region: on a busy CPU every region's barrier can cost a time slice).
cdef long long CHECK_WORK = 1 << 28


def check_work(work=None):
    """The multiply-adds between two signal checks; set it with an int (tests only).
    Returns the value in force before the call."""
    global CHECK_WORK
    old = CHECK_WORK
    if work is not None:
        CHECK_WORK = max(1, int(work))
    return old


cdef inline Py_ssize_t chunk_of(Py_ssize_t n, long long work_per_item) noexcept nogil:
    """How many of n items (rows, steps) make one chunk of about CHECK_WORK."""
    cdef long long c = CHECK_WORK // (work_per_item if work_per_item > 0 else 1)
    if c < 1:
        c = 1
    return <Py_ssize_t>c if c < n else n


# ------------------------------------------------------- work shared across threads
#
# A call's work is cut into many more tasks than threads -- blocks of batch rows, each
# run through every step of a chunk (rows are independent, so no barrier per step), or
# blocks of rows of a product -- and the threads of src/_pool_impl.c claim them one at a
# time. A thread the OS does not schedule (another process keeps the core busy) holds at
# most one task; the caller runs the rest, so threads never make a call much slower than
# one thread would. Tasks are cut at multiples of the microkernel's 6-row tile.

cdef inline int block_rows(int B, int nt, bint short_steps) noexcept nogil:
    """Batch rows per task: about 4 tasks per thread, whole 6-row tiles past 6 rows --
    and from 4 rows up when the steps are short jobs (is_short): those are the jobs a
    busy CPU leaves to the caller alone (src/_pool.h), and a 4- or 5-row block runs the
    microkernel's short tiles (32 rows in blocks of 4: ~3% slower than in one block).
    Long jobs keep more, smaller blocks: 2 threads share 32 rows evenly in 8 blocks of
    4, unevenly in 6 of 6 (large, deep-bidir: ~4% slower)."""
    cdef int bs
    if nt <= 1:
        return B if B > 0 else 1
    bs = (B + 4 * nt - 1) // (4 * nt)
    if bs > (3 if short_steps else 6):
        bs = (bs + 5) // 6 * 6
    return bs if bs > 0 else 1


cdef inline Py_ssize_t task_rows(Py_ssize_t n, int nt) noexcept nogil:
    """Product rows per task: about 4 tasks per thread, at least 48 rows."""
    cdef Py_ssize_t tr
    if nt <= 1 or n <= 48:
        return n if n > 0 else 1
    tr = (n + 4 * nt - 1) // (4 * nt)
    tr = (tr + 5) // 6 * 6
    return tr if tr > 48 else 48


cdef struct FwdJob:
    int single
    int B
    int T
    int D
    int H
    int ldo
    int act
    int zero_output
    int reverse
    int s0
    int s1
    int bs
    Py_ssize_t r0
    Py_ssize_t r1
    Py_ssize_t tr
    const void *x
    const void *kernel
    const void *rk
    const void *bias
    const void *kp
    const void *rp
    const void *rec_drop
    const unsigned char *mask
    void *out
    void *state
    void *prev_out
    void *work
    long next


cdef void project_task(void *ctx, int worker) noexcept nogil:
    """Claim blocks of projection rows until none is left."""
    cdef FwdJob *j = <FwdJob *>ctx
    cdef Py_ssize_t ra, rb
    cdef unsigned int csr = fr_ftz_on()
    while True:
        ra = j.r0 + <Py_ssize_t>fr_claim(&j.next) * j.tr
        if ra >= j.r1:
            break
        rb = ra + j.tr if j.tr < j.r1 - ra else j.r1
        if j.single:
            rnn_project(ra, rb, j.D, j.H, <const float *>j.x, <const float *>j.kernel,
                        <const float *>j.bias, <const float *>j.kp, <float *>j.out, j.ldo)
        else:
            rnn_project(ra, rb, j.D, j.H, <const double *>j.x, <const double *>j.kernel,
                        <const double *>j.bias, <const double *>j.kp, <double *>j.out,
                        j.ldo)
    fr_ftz_restore(csr)


cdef inline void steps_rows(FwdJob *j, floating *out, Py_ssize_t b0,
                            Py_ssize_t b1) noexcept nogil:
    cdef const floating *rd = <const floating *>j.rec_drop
    cdef floating *po = <floating *>j.prev_out
    cdef floating *wk = <floating *>j.work
    rnn_steps(<int>(b1 - b0), j.T, j.s0, j.s1, j.H, <const floating *>j.rk,
              <const floating *>j.rp, j.mask + b0 * j.T if j.mask != NULL else NULL,
              j.zero_output, j.act, j.reverse, rd + b0 * j.H if rd != NULL else NULL,
              out + b0 * j.T * j.ldo, j.ldo, <floating *>j.state + b0 * j.H,
              po + b0 * j.H if po != NULL else NULL, wk + b0 * j.H if wk != NULL else NULL)


cdef void steps_task(void *ctx, int worker) noexcept nogil:
    """Claim blocks of batch rows and run each through steps s0:s1."""
    cdef FwdJob *j = <FwdJob *>ctx
    cdef Py_ssize_t b0, b1
    cdef unsigned int csr = fr_ftz_on()
    while True:
        b0 = <Py_ssize_t>fr_claim(&j.next) * j.bs
        if b0 >= j.B:
            break
        b1 = b0 + j.bs if j.bs < j.B - b0 else j.B
        if j.single:
            steps_rows(j, <float *>j.out, b0, b1)
        else:
            steps_rows(j, <double *>j.out, b0, b1)
    fr_ftz_restore(csr)


# drive_small copies misaligned weights when the call runs at least this many rows
# (batch x steps): the copy is 1 / (B * T) of the call's multiply-adds.
cdef long long SMALL_ALIGN_ROWS = 8


cdef const void *aligned_copy(const void *src, size_t nbytes, void **raw) except NULL:
    """src itself when it is 64-byte aligned; else a 64-byte-aligned copy, its
    allocation in *raw (to free)."""
    cdef size_t p
    if (<size_t>src) % 64 == 0:
        return src
    raw[0] = malloc(nbytes + 64)
    if raw[0] == NULL:
        raise MemoryError()
    p = (<size_t>raw[0] + 63) // 64 * 64
    memcpy(<void *>p, src, nbytes)
    return <const void *>p


cdef long drive_small(int B, int T, int D, int H, const floating *x,
                      const floating *kernel, const floating *recurrent_kernel,
                      const floating *bias, int act, bint reverse, floating *out, int ldo,
                      floating *state, int num_threads) except -1:
    """The forward of a batch of at most FR_SMALL_MAX_B rows (no mask, no recurrent
    dropout) on src/_small_impl.c: unpacked weights, each step's units in two halves,
    the second on a helper thread when num_threads >= 2 and the step is big enough;
    chunks of steps between signal checks. Returns the steps whose second half the
    helper computed."""
    cdef fr_small_args a
    cdef Py_ssize_t s0 = 0, s1, sc
    cdef long long per_step = <long long>B * H * (D + H)
    cdef int nt = 2 if num_threads >= 2 and per_step >= SMALL_SPLIT_WORK else 1
    cdef long helped = 0
    cdef floating *hb
    cdef void *kcopy = NULL
    cdef void *rcopy = NULL
    memset(&a, 0, sizeof(a))
    a.single = floating is float
    a.B = B
    a.T = T
    a.D = D
    a.H = H
    a.ldo = ldo
    a.act = act
    a.reverse = reverse
    a.split = fr_small_split(H)
    a.x = x
    a.kernel = kernel
    a.rk = recurrent_kernel
    a.bias = bias
    a.out = out
    a.state = state
    hb = <floating *>malloc(sizeof(floating) * (2 * <size_t>B * (H - a.split) + 1))
    if hb == NULL:
        raise MemoryError()
    a.hb = hb
    try:
        if <long long>B * T >= SMALL_ALIGN_ROWS:
            # the products read rows of the weights in whole vectors: off a 64-byte
            # line (NumPy aligns to 16) every other load splits a line, and a step
            # takes ~25% longer (online (1, 100, 64, 256): 390 us against 315 us).
            # The same values, so the same bits.
            a.kernel = aligned_copy(kernel, <size_t>D * H * sizeof(floating), &kcopy)
            a.rk = aligned_copy(recurrent_kernel, <size_t>H * H * sizeof(floating),
                                &rcopy)
        sc = chunk_of(T, per_step + H)
        while s0 < T:
            s1 = s0 + sc if sc < T - s0 else T
            with nogil:
                helped += fr_small_steps(&a, <int>s0, <int>s1, nt)
            PyErr_CheckSignals()
            s0 = s1
    finally:
        free(hb)
        free(kcopy)
        free(rcopy)
    return helped


def small_steps(const floating[:, :, ::1] x, const floating[:, ::1] kernel,
                const floating[:, ::1] recurrent_kernel, const floating[::1] bias,
                int act, floating[:, :, ::1] out, floating[:, ::1] state,
                int num_threads=1, bint reverse=False, int stall_step=-1):
    """drive_small on its own, for tests: out (B, T, H) written, state (B, H) in/out.
    Returns the number of steps whose second half of units a helper thread computed
    (0 with one thread; a half taken over counts too). stall_step >= 0: the helper
    sleeps 3 ms after claiming that step's half, so the caller takes it over (and
    goes on alone).
    B <= FR_SMALL_MAX_B; shapes are trusted."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], H = kernel.shape[1]
    if B < 1 or B > FR_SMALL_MAX_B or T < 1:
        raise ValueError(f"small_steps takes 1..{FR_SMALL_MAX_B} rows and >= 1 step")
    global fr_small_stall_step
    fr_small_stall_step = stall_step
    try:
        return drive_small(B, T, D, H, &x[0, 0, 0], &kernel[0, 0], &recurrent_kernel[0, 0],
                           &bias[0] if bias is not None else NULL, act, reverse,
                           &out[0, 0, 0], H, &state[0, 0], num_threads)
    finally:
        fr_small_stall_step = -1


cdef int drive_forward(int B, int T, int D, int H, const floating *x,
                       const floating *kernel, const floating *recurrent_kernel,
                       const floating *bias, const unsigned char *mask, bint zero_output,
                       int act, bint reverse, const floating *rec_drop,
                       const floating *kp, const floating *rp, floating *out, int ldo,
                       floating *state, floating *prev_out, floating *work,
                       int num_threads) except -1:
    """rnn_forward in chunks -- rows of the projection, then steps -- each run with the
    GIL released as tasks shared by up to num_threads threads, Python's signal handlers
    running between chunks. An exception from a handler (KeyboardInterrupt) leaves out
    and state part-written. A small batch without mask or recurrent dropout goes to
    drive_small (units split instead of rows)."""
    cdef Py_ssize_t rows = <Py_ssize_t>B * T, r0 = 0, r1, rc
    cdef Py_ssize_t s0 = 0, s1, sc
    cdef FwdJob j
    cdef int nt
    if B <= FR_SMALL_MAX_B and mask == NULL and rec_drop == NULL:
        drive_small(B, T, D, H, x, kernel, recurrent_kernel, bias, act, reverse, out, ldo,
                    state, num_threads)
        return 0
    nt = _threads(num_threads, B, <long long>B * T * H * (D + H))
    memset(&j, 0, sizeof(j))
    j.single = floating is float
    j.B = B
    j.T = T
    j.D = D
    j.H = H
    j.ldo = ldo
    j.act = act
    j.zero_output = zero_output
    j.reverse = reverse
    j.bs = block_rows(B, nt, is_short(<long long>B * T * H * H))
    j.x = x
    j.kernel = kernel
    j.rk = recurrent_kernel
    j.bias = bias
    j.kp = kp
    j.rp = rp
    j.rec_drop = rec_drop
    j.mask = mask
    j.out = out
    j.state = state
    j.prev_out = prev_out
    j.work = work
    # out = bias + x @ kernel, rows r0:r1 at a time
    rc = chunk_of(rows, <long long>D * H + H)
    while r0 < rows:
        r1 = r0 + rc if rc < rows - r0 else rows
        j.r0 = r0
        j.r1 = r1
        j.tr = task_rows(r1 - r0, nt)
        j.next = 0
        with nogil:
            fr_pool_run_short(nt, project_task, &j, is_short((r1 - r0) * D * H))
        PyErr_CheckSignals()
        r0 = r1
    # the steps, s0:s1 at a time, blocks of batch rows as tasks
    sc = chunk_of(T, <long long>B * H * (H + 16))
    while s0 < T:
        s1 = s0 + sc if sc < T - s0 else T
        j.s0 = <int>s0
        j.s1 = <int>s1
        j.next = 0
        with nogil:
            fr_pool_run_short(nt, steps_task, &j, is_short(<long long>B * (s1 - s0) * H * H))
        PyErr_CheckSignals()
        s0 = s1
    return 0


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
    """Run rnn_forward with the GIL released (between signal checks), on up to
    num_threads batch slices at once. Shapes are trusted (functional checks); a batch
    of 0 does nothing."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], H = kernel.shape[1]
    if B == 0 or T == 0:
        return
    drive_forward(B, T, D, H, &x[0, 0, 0], &kernel[0, 0], &recurrent_kernel[0, 0],
                  &bias[0] if bias is not None else NULL,
                  &mask[0, 0] if mask is not None else NULL, zero_output, act, reverse,
                  &rec_drop[0, 0] if rec_drop is not None else NULL,
                  &kernel_packed[0] if kernel_packed is not None else NULL,
                  &rk_packed[0] if rk_packed is not None else NULL,
                  &out[0, 0, 0], H, &state[0, 0],
                  &prev_out[0, 0] if prev_out is not None else NULL,
                  &work[0, 0] if work is not None else NULL, num_threads)


cdef struct BwdJob:
    int single
    int B
    int T
    int D
    int H
    int act
    int zero_output
    int reverse
    int s_lo
    int s_hi
    int bs
    Py_ssize_t r0
    Py_ssize_t r1
    Py_ssize_t tr
    Py_ssize_t panel
    const void *x
    const void *rk
    const void *rp
    const void *kp
    const void *out
    const void *d_out
    const void *rec_drop
    const void *h_prev
    const unsigned char *mask
    void *d_h0
    void *d_pre
    void *d_carry
    void *d_state_new
    void *dpp
    void *dx
    void *part_k
    void *part_r
    void *part_b
    int slots
    int shifted
    const void *h0
    long next


cdef inline void bsteps_rows(BwdJob *j, floating *d_pre, Py_ssize_t b0,
                             Py_ssize_t b1) noexcept nogil:
    cdef Py_ssize_t TH = <Py_ssize_t>j.T * j.H
    cdef const floating *d_out = <const floating *>j.d_out
    cdef const floating *rd = <const floating *>j.rec_drop
    rnn_backward_range(<int>(b1 - b0), j.T, j.s_lo, j.s_hi, j.H, <const floating *>j.rk,
                       <const floating *>j.rp, <const floating *>j.out + b0 * TH,
                       d_out + b0 * TH if d_out != NULL else NULL,
                       j.mask + b0 * j.T if j.mask != NULL else NULL, j.zero_output,
                       j.act, j.reverse, rd + b0 * j.H if rd != NULL else NULL,
                       <floating *>j.d_h0 + b0 * j.H, d_pre + b0 * TH,
                       <floating *>j.d_carry + b0 * j.H,
                       <floating *>j.d_state_new + b0 * j.H)


cdef void bsteps_task(void *ctx, int worker) noexcept nogil:
    """Claim blocks of batch rows and run each back through steps s_hi-1 .. s_lo."""
    cdef BwdJob *j = <BwdJob *>ctx
    cdef Py_ssize_t b0, b1
    cdef unsigned int csr = fr_ftz_on()
    while True:
        b0 = <Py_ssize_t>fr_claim(&j.next) * j.bs
        if b0 >= j.B:
            break
        b1 = b0 + j.bs if j.bs < j.B - b0 else j.B
        if j.single:
            bsteps_rows(j, <float *>j.d_pre, b0, b1)
        else:
            bsteps_rows(j, <double *>j.d_pre, b0, b1)
    fr_ftz_restore(csr)


cdef inline void merge_rows(BwdJob *j, floating *dx, Py_ssize_t ra, Py_ssize_t rb,
                            Py_ssize_t slot) noexcept nogil:
    cdef Py_ssize_t hh = <Py_ssize_t>j.H * j.H, dh = <Py_ssize_t>j.D * j.H
    if j.shifted:
        rnn_backward_merge_shifted(ra, rb, j.T, j.D, j.H, <const floating *>j.x,
                                   <const floating *>j.kp, <const floating *>j.d_pre,
                                   <const floating *>j.out, <const floating *>j.h0,
                                   j.reverse, dx, <floating *>j.part_k + slot * dh,
                                   <floating *>j.part_r + slot * hh,
                                   <floating *>j.part_b + slot * j.H)
        return
    rnn_backward_merge_packed(ra, rb, j.D, j.H, <const floating *>j.x,
                              <const floating *>j.kp, <const floating *>j.d_pre,
                              <const floating *>j.h_prev, <floating *>j.dpp + ra * j.panel,
                              dx, <floating *>j.part_k + slot * dh,
                              <floating *>j.part_r + slot * hh,
                              <floating *>j.part_b + slot * j.H)


cdef void merge_task(void *ctx, int worker) noexcept nogil:
    """Claim blocks of rows of the merged products; block k's weight gradients go to
    partial sum k (one per block, not per thread: which thread ran a block never
    changes the result, so a call's gradients are the same from run to run)."""
    cdef BwdJob *j = <BwdJob *>ctx
    cdef Py_ssize_t ra, rb, k
    cdef unsigned int csr = fr_ftz_on()
    while True:
        k = <Py_ssize_t>fr_claim(&j.next)
        ra = j.r0 + k * j.tr
        if ra >= j.r1:
            break
        rb = ra + j.tr if j.tr < j.r1 - ra else j.r1
        if j.single:
            merge_rows(j, <float *>j.dx, ra, rb, k if j.slots > 1 else 0)
        else:
            merge_rows(j, <double *>j.dx, ra, rb, k if j.slots > 1 else 0)
    fr_ftz_restore(csr)


cdef int merge_slots(int nt, int D, int H, Py_ssize_t item) noexcept nogil:
    """Partial sums of the weight gradients for nt > 1 threads: one per block of rows
    of the merged products, 4 per thread, fewer when they would pass 32 MB (at least
    nt); 1 (no partial sums: the gradients directly) for one thread."""
    cdef long long per = (<long long>D * H + <long long>H * H + H) * item
    cdef long long s = 4 * nt
    if nt <= 1:
        return 1
    if s * per > (32 << 20):
        s = (32 << 20) // per
    return <int>(s if s > nt else nt)


cdef inline Py_ssize_t slot_rows(Py_ssize_t n, int slots) noexcept nogil:
    """Rows per merge block so that n rows make at most `slots` blocks: whole 6-row
    tiles, at least 48 rows."""
    cdef Py_ssize_t tr
    if slots <= 1 or n <= 48:
        return n if n > 0 else 1
    tr = (n + slots - 1) // slots
    tr = (tr + 5) // 6 * 6
    return tr if tr > 48 else 48


cdef int drive_backward(int B, int T, int D, int H, const floating *x,
                        const floating *kernel, const floating *recurrent_kernel,
                        const floating *h0, const floating *out, const floating *d_out,
                        const floating *d_last, const unsigned char *mask,
                        bint zero_output, int act, bint reverse, const floating *rec_drop,
                        floating *dx, floating *d_kernel, floating *d_recurrent,
                        floating *d_bias, floating *d_h0, floating *d_pre,
                        floating *h_prev, floating *d_carry, floating *d_state_new,
                        const floating *rp, const floating *kp, floating *dpp,
                        floating *part_k, floating *part_r, floating *part_b,
                        int nt, int slots) except -1:
    """BPTT in chunks -- steps, then h_prev by batch rows, then the merged products by
    rows -- with the GIL released in each and Python's signal handlers between them;
    the steps and the packed products run as tasks shared by up to nt threads. Where
    merge_in_place holds (no mask, no recurrent dropout, whole panels of units) the
    packed products read the previous states from out in place and d_pre unpacked
    (rnn_backward_merge_shifted): no h_prev copy, no packing of d_pre.

    rp, kp: recurrent_kernel.T and kernel.T packed, or NULL for BLAS; dpp: room for
    pack(d_pre). With packed products on nt > 1 threads, part_k (slots, D, H), part_r
    (slots, H, H) and part_b (slots, H) are zeroed partial sums, one per block of rows
    of the merged products (merge_slots), added in block order at the end. d_kernel, d_recurrent and
    d_bias are zeroed first, so a batch of 0 gets zero gradients."""
    cdef Py_ssize_t rows = <Py_ssize_t>B * T, r0 = 0, r1, rc
    cdef Py_ssize_t s_hi = T, s_lo, sc, bc, c0 = 0, c1
    cdef Py_ssize_t hh = <Py_ssize_t>H * H, dh = <Py_ssize_t>D * H, j2
    cdef int i
    cdef unsigned int csr
    cdef BwdJob j
    memset(d_kernel, 0, dh * sizeof(floating))
    memset(d_recurrent, 0, hh * sizeof(floating))
    memset(d_bias, 0, H * sizeof(floating))
    if B == 0 or T == 0:
        return 0
    memset(&j, 0, sizeof(j))
    j.single = floating is float
    j.B = B
    j.T = T
    j.D = D
    j.H = H
    j.act = act
    j.zero_output = zero_output
    j.reverse = reverse
    j.bs = block_rows(B, nt, is_short(<long long>B * T * H * H))
    j.panel = pack_size(1, H, floating is float)
    j.x = x
    j.rk = recurrent_kernel
    j.rp = rp
    j.kp = kp
    j.out = out
    j.d_out = d_out
    j.rec_drop = rec_drop
    j.h_prev = h_prev
    j.mask = mask
    j.d_h0 = d_h0
    j.d_pre = d_pre
    j.d_carry = d_carry
    j.d_state_new = d_state_new
    j.dpp = dpp
    j.dx = dx
    j.h0 = h0
    j.shifted = kp != NULL and merge_in_place(H, floating is float, mask != NULL,
                                                rec_drop != NULL)
    j.slots = slots if nt > 1 else 1
    if nt > 1:
        j.part_k = part_k
        j.part_r = part_r
        j.part_b = part_b
    else:
        j.part_k = d_kernel
        j.part_r = d_recurrent
        j.part_b = d_bias
    rnn_backward_init(B, H, d_last, mask != NULL, d_h0, d_carry)
    # the reverse time loop, s_lo:s_hi at a time, blocks of batch rows as tasks
    sc = chunk_of(T, <long long>B * H * (H + 16))
    while s_hi > 0:
        s_lo = s_hi - sc if sc < s_hi else 0
        j.s_lo = <int>s_lo
        j.s_hi = <int>s_hi
        j.next = 0
        with nogil:
            fr_pool_run_short(nt, bsteps_task, &j,
                              is_short(<long long>B * (s_hi - s_lo) * H * H))
        PyErr_CheckSignals()
        s_hi = s_lo
    # h_prev, batch rows c0:c1 at a time (memory-bound copies), unless the merged
    # products read it from out in place
    bc = chunk_of(B, <long long>T * H)
    while c0 < B and not j.shifted:
        c1 = c0 + bc if bc < B - c0 else B
        with nogil:
            rnn_backward_hprev(<int>(c1 - c0), T, H, h0 + c0 * H if h0 != NULL else NULL,
                               out + c0 * T * H, mask + c0 * T if mask != NULL else NULL,
                               reverse, rec_drop + c0 * H if rec_drop != NULL else NULL,
                               h_prev + c0 * T * H)
        PyErr_CheckSignals()
        c0 = c1
    # the merged products, rows r0:r1 at a time
    rc = chunk_of(rows, <long long>H * (H + 2 * D))
    while r0 < rows:
        r1 = r0 + rc if rc < rows - r0 else rows
        if kp == NULL:
            with nogil:
                csr = fr_ftz_on()
                rnn_backward_merge(r0, r1, D, H, x, kernel, d_pre, h_prev, dx, d_kernel,
                                   d_recurrent, d_bias)
                fr_ftz_restore(csr)
        else:
            j.r0 = r0
            j.r1 = r1
            j.tr = slot_rows(r1 - r0, j.slots)
            j.next = 0
            with nogil:
                fr_pool_run_short(nt, merge_task, &j,
                                  is_short((r1 - r0) * H * (H + 2 * D)))
        PyErr_CheckSignals()
        r0 = r1
    if kp != NULL and nt > 1:
        with nogil:
            # the blocks' sums, in block order
            for i in range(j.slots):
                for j2 in range(hh):
                    d_recurrent[j2] = d_recurrent[j2] + part_r[i * hh + j2]
                for j2 in range(dh):
                    d_kernel[j2] = d_kernel[j2] + part_k[i * dh + j2]
                for j2 in range(H):
                    d_bias[j2] = d_bias[j2] + part_b[<Py_ssize_t>i * H + j2]
    return 0


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
    """Run BPTT with the GIL released (between signal checks). Each of up to
    num_threads batch slices runs its time loop; with packed, the merged products run
    on the microkernel split over the same threads (their weight gradients summed),
    otherwise on BLAS. Shapes are trusted (functional checks). A batch of 0 gives zero
    weight gradients."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], H = kernel.shape[1]
    cdef int nt = _threads(num_threads, B, <long long>B * T * H * H)
    cdef Py_ssize_t need
    cdef floating[::1] rkT_p = None
    cdef floating[::1] kT_p = None
    cdef floating[::1] dp_p = None
    cdef floating[:, :, ::1] part_r = None
    cdef floating[:, :, ::1] part_k = None
    cdef floating[:, ::1] part_b = None
    cdef int slots = 1
    if B == 0 or T == 0:
        # nothing flows back: zero weight gradients
        memset(&d_kernel[0, 0], 0, <Py_ssize_t>D * H * sizeof(floating))
        memset(&d_recurrent[0, 0], 0, <Py_ssize_t>H * H * sizeof(floating))
        memset(&d_bias[0], 0, H * sizeof(floating))
        return
    dt = np.float32 if floating is float else np.float64
    if packed:
        rkT_p = pack(recurrent_kernel, True)
        kT_p = pack(kernel, True)
        # each slice packs its rows of d_pre: room for B*T rows of ceil(H / NR) panels
        need = pack_size(<Py_ssize_t>B * T, H, floating is float)
        dp_p = dp_work if dp_work is not None and dp_work.shape[0] >= need else np.empty(need, dt)
        if nt > 1:
            slots = merge_slots(nt, D, H, sizeof(floating))
            part_r = np.zeros((slots, H, H), dt)
            part_k = np.zeros((slots, D, H), dt)
            part_b = np.zeros((slots, H), dt)
    drive_backward(B, T, D, H, &x[0, 0, 0], &kernel[0, 0], &recurrent_kernel[0, 0],
                   &h0[0, 0] if h0 is not None else NULL, &out[0, 0, 0],
                   &d_out[0, 0, 0] if d_out is not None else NULL,
                   &d_last[0, 0] if d_last is not None else NULL,
                   &mask[0, 0] if mask is not None else NULL, zero_output, act, reverse,
                   &rec_drop[0, 0] if rec_drop is not None else NULL,
                   &dx[0, 0, 0], &d_kernel[0, 0], &d_recurrent[0, 0], &d_bias[0],
                   &d_h0[0, 0], &d_pre[0, 0, 0], &h_prev[0, 0, 0], &d_carry[0, 0],
                   &d_state_new[0, 0],
                   &rkT_p[0] if packed else NULL, &kT_p[0] if packed else NULL,
                   &dp_p[0] if packed else NULL,
                   &part_k[0, 0, 0] if part_k is not None else NULL,
                   &part_r[0, 0, 0] if part_r is not None else NULL,
                   &part_b[0, 0] if part_b is not None else NULL, nt, slots)


cdef Py_ssize_t pack_size(Py_ssize_t k, Py_ssize_t n, bint single) noexcept nogil:
    if single:
        return fr_packed_size_f32(<int>k, <int>n)
    return fr_packed_size_f64(<int>k, <int>n)


cdef class Forward:
    """A lean forward for one set of weights, for the common call: no mask, no initial
    state, no dropout, x already a C-contiguous, aligned, native-byte-order array of
    the weights' dtype.

    Holds references to the weight arrays (so in-place updates are seen) and packs
    them into its own buffers on every call, which costs little next to the product.
    With reverse (go_backwards) time runs backwards and sequences stay in position order.
    Calling it returns (sequences (B, T, H), last_state (B, H)), or None when x does
    not qualify (another dtype, byte order or layout, an empty batch, or sizes past the
    kernel's 32-bit limits; or the output would pass max_bytes) and the caller must take
    the general path (fastrnn.functional).
    """
    cdef cnp.ndarray kernel, recurrent_kernel, bias, kp, rp
    cdef int D, H, act, typenum
    cdef bint packed, reverse

    def __init__(self, cnp.ndarray kernel, cnp.ndarray recurrent_kernel, bias, int act,
                 bint packed, bint reverse=False):
        for w in (kernel, recurrent_kernel, bias):
            if w is not None and not (cnp.PyArray_IS_C_CONTIGUOUS(w) and
                                      cnp.PyArray_ISBEHAVED_RO(w) and
                                      cnp.PyArray_TYPE(w) == cnp.PyArray_TYPE(kernel)):
                raise ValueError("weights must be C-contiguous, aligned, native-byte-order "
                                 "arrays of one dtype")
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
        cdef long long B, T, big = 2**31 - 1
        if type(x) is not np.ndarray:
            return None
        xa = <cnp.ndarray>x
        # ISBEHAVED_RO: aligned and in native byte order ('>f4' is NPY_FLOAT32 too)
        if (cnp.PyArray_NDIM(xa) != 3 or cnp.PyArray_TYPE(xa) != self.typenum or
                not cnp.PyArray_IS_C_CONTIGUOUS(xa) or not cnp.PyArray_ISBEHAVED_RO(xa) or
                xa.shape[2] != self.D or xa.shape[0] < 1 or xa.shape[1] < 1):
            return None
        B = xa.shape[0]
        T = xa.shape[1]
        if B * T > big or T * max(self.D, self.H) > big or B * self.H > big:
            return None
        item = cnp.PyArray_ITEMSIZE(xa)
        if max_bytes >= 0 and B * T * self.H * item > max_bytes:
            return None
        dims[0] = B
        dims[1] = T
        dims[2] = self.H
        if out is None:
            out = cnp.PyArray_EMPTY(3, dims, self.typenum, 0)
            ldo = self.H
        else:
            if type(out) is not np.ndarray:
                return None
            oa = <cnp.ndarray>out
            if (cnp.PyArray_NDIM(oa) != 3 or cnp.PyArray_TYPE(oa) != self.typenum or
                    oa.shape[0] != dims[0] or oa.shape[1] != dims[1] or
                    oa.shape[2] != self.H or not cnp.PyArray_ISBEHAVED(oa) or
                    oa.strides[2] != item or
                    oa.strides[1] % item != 0 or oa.strides[1] < self.H * item or
                    oa.strides[0] != dims[1] * oa.strides[1] or
                    T * (oa.strides[1] // item) > big):
                return None
            ldo = oa.strides[1] // item
        dims[1] = self.H
        state = cnp.PyArray_ZEROS(2, dims, self.typenum, 0)
        self._run(xa, out, <int>ldo, state, num_threads)
        return out, state

    cdef int _run(self, cnp.ndarray x, cnp.ndarray out, int ldo, cnp.ndarray state,
                  int num_threads) except -1:
        cdef int B = x.shape[0], T = x.shape[1]
        cdef void *b = NULL
        cdef void *kp = NULL
        cdef void *rp = NULL
        cdef int nt = num_threads
        if self.bias is not None:
            b = cnp.PyArray_DATA(<cnp.ndarray>self.bias)
        if self.packed:
            kp = cnp.PyArray_DATA(self.kp)
            rp = cnp.PyArray_DATA(self.rp)
        if self.typenum == cnp.NPY_FLOAT32:
            lean_forward(<const float *>cnp.PyArray_DATA(x),
                         <const float *>cnp.PyArray_DATA(self.kernel),
                         <const float *>cnp.PyArray_DATA(self.recurrent_kernel),
                         <const float *>b, <float *>kp, <float *>rp,
                         <float *>cnp.PyArray_DATA(out), ldo,
                         <float *>cnp.PyArray_DATA(state),
                         B, T, self.D, self.H, self.act, self.reverse, nt)
        else:
            lean_forward(<const double *>cnp.PyArray_DATA(x),
                         <const double *>cnp.PyArray_DATA(self.kernel),
                         <const double *>cnp.PyArray_DATA(self.recurrent_kernel),
                         <const double *>b, <double *>kp, <double *>rp,
                         <double *>cnp.PyArray_DATA(out), ldo,
                         <double *>cnp.PyArray_DATA(state),
                         B, T, self.D, self.H, self.act, self.reverse, nt)
        return 0


cdef int lean_forward(const floating *xp, const floating *w, const floating *u,
                      const floating *b, floating *kp, floating *rp, floating *o,
                      int ldo, floating *st, int B, int T, int D, int H, int act,
                      bint reverse, int nt) except -1:
    """Pack the weights (when kp is given; a small batch reads them unpacked) and run
    drive_forward on up to nt threads."""
    if kp != NULL and B > FR_SMALL_MAX_B:
        with nogil:
            if floating is float:
                fr_pack_f32(False, D, H, w, H, kp)
                fr_pack_f32(False, H, H, u, H, rp)
            else:
                fr_pack_f64(False, D, H, w, H, kp)
                fr_pack_f64(False, H, H, u, H, rp)
    return drive_forward(B, T, D, H, xp, w, u, b, NULL, False, act, reverse, NULL, kp, rp,
                         o, ldo, st, NULL, NULL, nt)


def compiled():
    """True: this module is the compiled kernel (the CI checks it is the one in use)."""
    return True


include "_array_calls.pxi"
include "_step.pxi"
