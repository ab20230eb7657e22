# The kernel's table of contents: C-level entry points of fastrnn._kernel.
# All take C-contiguous buffers that fastrnn.functional has validated.
from cython cimport floating

include "_c_api.pxi"

# C = alpha * op(A) @ op(B) + beta * C, all row-major; op(A) is (m, k), op(B) (k, n).
cdef void gemm(bint trans_a, bint trans_b, int m, int n, int k, floating alpha,
               const floating *a, int lda, const floating *b, int ldb,
               floating beta, floating *c, int ldc) noexcept nogil

# One direction of the Elman recurrence over (B, T) rows; see _kernel.pyx.
# One direction of the Elman recurrence over (B, T) rows; see _kernel.pyx.
# Indices and offsets are 64-bit (Py_ssize_t); ints are counts the caller keeps below 2**31.
cdef void rnn_project(Py_ssize_t r0, Py_ssize_t r1, int D, int H, const floating *x,
                      const floating *kernel, const floating *bias,
                      const floating *kernel_packed, floating *out, int ldo) noexcept nogil

cdef void rnn_steps(int B, int T, int s0, int s1, int H,
                    const floating *recurrent_kernel, const floating *rk_packed,
                    const unsigned char *mask, bint zero_output, int act, bint reverse,
                    const floating *rec_drop, floating *out, int ldo, floating *state,
                    floating *prev_out, floating *work) noexcept nogil

cdef void rnn_forward(int B, int T, int D, int H,
                      const floating *x, const floating *kernel,
                      const floating *recurrent_kernel, const floating *bias,
                      const unsigned char *mask, bint zero_output, int act, bint reverse,
                      const floating *rec_drop, const floating *kernel_packed,
                      const floating *rk_packed,
                      floating *out, int ldo, floating *state, floating *prev_out,
                      floating *work) noexcept nogil

cdef void rnn_backward_init(int B, int H, const floating *d_last, bint masked,
                            floating *d_h0, floating *d_carry) noexcept nogil

cdef void rnn_backward_range(int B, int T, int s_lo, int s_hi, int H,
                             const floating *recurrent_kernel, const floating *rkT_packed,
                             const floating *out, const floating *d_out,
                             const unsigned char *mask, bint zero_output, int act,
                             bint reverse, const floating *rec_drop, floating *d_h0,
                             floating *d_pre, floating *d_carry,
                             floating *d_state_new) noexcept nogil

cdef void rnn_backward_hprev(int B, int T, int H, const floating *h0, const floating *out,
                             const unsigned char *mask, bint reverse,
                             const floating *rec_drop, floating *h_prev) noexcept nogil

cdef void rnn_backward_steps(int B, int T, int H,
                             const floating *recurrent_kernel, const floating *rkT_packed,
                             const floating *h0, const floating *out,
                             const floating *d_out, const floating *d_last,
                             const unsigned char *mask, bint zero_output, int act,
                             bint reverse, const floating *rec_drop, floating *d_h0,
                             floating *d_pre, floating *h_prev, floating *d_carry,
                             floating *d_state_new) noexcept nogil

cdef void rnn_backward_merge(Py_ssize_t r0, Py_ssize_t r1, int D, int H, const floating *x,
                             const floating *kernel, const floating *d_pre,
                             const floating *h_prev, floating *dx, floating *d_kernel,
                             floating *d_recurrent, floating *d_bias) noexcept nogil
