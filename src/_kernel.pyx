# cython: language_level=3
"""fastrnn's compiled kernel: the Elman recurrence, forward and backward.

    out[:, t] = act(x[:, t] @ kernel + h[t-1] @ recurrent_kernel + bias)

One fused-type source for float32 and float64. Every entry point takes
C-contiguous buffers that ``fastrnn.functional`` has validated, coerced and
allocated; the kernel allocates nothing and runs with the GIL released.
Time runs along axis 1 in *processing order*: ``go_backwards`` is handled
by the caller, which hands over the time-reversed input.
"""
from cython cimport floating
from libc.string cimport memcpy, memset
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


cdef void rnn_forward(int B, int T, int D, int H,
                      const floating *x, const floating *kernel,
                      const floating *recurrent_kernel, const floating *bias,
                      const unsigned char *mask, bint zero_output, int act,
                      const floating *rec_drop,
                      floating *out, floating *state, floating *prev_out,
                      floating *work) noexcept nogil:
    """Forward over x (B, T, D) into out (B, T, H).

    rec_drop (B, H) or NULL: recurrent dropout, h_prev * rec_drop feeds the product
    (through the workspace work (B, H)).

    state (B, H): the initial state on entry, the final state on exit.
    prev_out (B, H), mask path only: the output before step 0 on entry (Keras
    starts from zeros), the last output on exit.
    """
    cdef Py_ssize_t rows = <Py_ssize_t>B * T
    cdef Py_ssize_t r, b, t, j
    cdef int ld = T * H, ldh
    cdef floating *o
    cdef const floating *h_p
    cdef floating beta = 0
    # out = bias; out += x @ kernel          (one GEMM over all B*T rows)
    if bias != NULL:
        for r in range(rows):
            memcpy(out + r * H, bias, H * sizeof(floating))
        beta = 1
    gemm(False, False, <int>rows, H, D, <floating>1, x, D, kernel, H, beta, out, H)
    for t in range(T):
        o = out + t * H
        # o[b] += h_prev[b] @ recurrent_kernel, h_prev read in place from out
        if mask == NULL and t > 0:
            h_p = o - H
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
        gemm(False, False, B, H, H, <floating>1, h_p, ldh, recurrent_kernel, H,
             <floating>1, o, ld)
        # o = act(o)
        if T == 1:
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
        for b in range(B):
            memcpy(state + b * H, out + b * ld + (T - 1) * H, H * sizeof(floating))


cdef void rnn_backward(int B, int T, int D, int H,
                       const floating *x, const floating *kernel,
                       const floating *recurrent_kernel, const floating *h0,
                       const floating *out, const floating *d_out, const floating *d_last,
                       const unsigned char *mask, bint zero_output, int act,
                       const floating *rec_drop,
                       floating *dx, floating *d_kernel, floating *d_recurrent,
                       floating *d_bias, floating *d_h0,
                       floating *d_pre, floating *h_prev, floating *d_carry,
                       floating *d_state_new) noexcept nogil:
    """Backpropagation through time for rnn_forward.

    d_out (B, T, H) and d_last (B, H) are the upstream gradients (either may be
    NULL). Writes dx (B, T, D), d_kernel (D, H), d_recurrent (H, H), d_bias (H,)
    unless NULL, d_h0 (B, H). Workspaces: d_pre and h_prev (B, T, H), d_carry and
    d_state_new (B, H).
    """
    cdef Py_ssize_t rows = <Py_ssize_t>B * T
    cdef Py_ssize_t b, t, j, r
    cdef int ld = T * H
    cdef floating *g
    cdef floating *dh
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
    for t in range(T - 1, -1, -1):
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
        if mask == NULL:
            gemm(False, True, B, H, H, <floating>1, d_pre + t * H, ld,
                 recurrent_kernel, H, <floating>0, d_h0, H)
            if rec_drop != NULL:
                for r in range(<Py_ssize_t>B * H):
                    d_h0[r] = d_h0[r] * rec_drop[r]
        else:
            gemm(False, True, B, H, H, <floating>1, d_pre + t * H, ld,
                 recurrent_kernel, H, <floating>0, d_state_new, H)
            for b in range(B):
                if mask[b * T + t]:
                    if rec_drop != NULL:
                        for j in range(H):
                            d_h0[b * H + j] = d_state_new[b * H + j] * rec_drop[b * H + j]
                    else:
                        memcpy(d_h0 + b * H, d_state_new + b * H, H * sizeof(floating))
    # h_prev[b, t] = state before step t
    for b in range(B):
        src = h0 + b * H if h0 != NULL else NULL
        for t in range(T):
            if src == NULL:
                memset(h_prev + b * ld + t * H, 0, H * sizeof(floating))
            else:
                memcpy(h_prev + b * ld + t * H, src, H * sizeof(floating))
            if rec_drop != NULL:
                for j in range(H):
                    h_prev[b * ld + t * H + j] = h_prev[b * ld + t * H + j] * rec_drop[b * H + j]
            if mask == NULL or mask[b * T + t]:
                src = out + b * ld + t * H
    # merged products over all B*T rows
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


# ---------------------------------------------------------------- Python entry points

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
            floating[:, ::1] work):                  # WORK (B, H), recurrent dropout only
    """Run rnn_forward with the GIL released. Shapes are trusted (functional checks)."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], H = kernel.shape[1]
    cdef const floating *bias_p = &bias[0] if bias is not None else NULL
    cdef const unsigned char *mask_p = &mask[0, 0] if mask is not None and B * T > 0 else NULL
    cdef floating *prev_p = &prev_out[0, 0] if prev_out is not None and B > 0 else NULL
    cdef unsigned int csr
    if B == 0 or T == 0 or H == 0:
        return
    with nogil:
        csr = fr_ftz_on()
        rnn_forward(B, T, D, H, &x[0, 0, 0] if D > 0 else NULL, &kernel[0, 0] if D > 0 else NULL,
                    &recurrent_kernel[0, 0], bias_p, mask_p, zero_output, act,
                    &rec_drop[0, 0] if rec_drop is not None else NULL,
                    &out[0, 0, 0], &state[0, 0], prev_p,
                    &work[0, 0] if work is not None else NULL)
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
             floating[::1] d_bias,                    # OUT (H,) or None
             floating[:, ::1] d_h0,                   # OUT (B, H)
             floating[:, :, ::1] d_pre,               # WORK (B, T, H)
             floating[:, :, ::1] h_prev,              # WORK (B, T, H)
             floating[:, ::1] d_carry,                # WORK (B, H)
             floating[:, ::1] d_state_new):           # WORK (B, H)
    """Run rnn_backward with the GIL released. Shapes are trusted (functional checks)."""
    cdef int B = x.shape[0], T = x.shape[1], D = x.shape[2], H = kernel.shape[1]
    cdef unsigned int csr
    if B == 0 or T == 0 or H == 0:
        return
    if D == 0:
        raise ValueError("the kernel needs at least one input feature")
    with nogil:
        csr = fr_ftz_on()
        rnn_backward(B, T, D, H, &x[0, 0, 0], &kernel[0, 0], &recurrent_kernel[0, 0],
                     &h0[0, 0] if h0 is not None else NULL, &out[0, 0, 0],
                     &d_out[0, 0, 0] if d_out is not None else NULL,
                     &d_last[0, 0] if d_last is not None else NULL,
                     &mask[0, 0] if mask is not None else NULL, zero_output, act,
                     &rec_drop[0, 0] if rec_drop is not None else NULL,
                     &dx[0, 0, 0], &d_kernel[0, 0], &d_recurrent[0, 0],
                     &d_bias[0] if d_bias is not None else NULL, &d_h0[0, 0],
                     &d_pre[0, 0, 0], &h_prev[0, 0, 0], &d_carry[0, 0], &d_state_new[0, 0])
        fr_ftz_restore(csr)


def compiled():
    """True: this module is the compiled kernel (the CI checks it is the one in use)."""
    return True
