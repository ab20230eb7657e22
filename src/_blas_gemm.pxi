# The row-major BLAS wrapper shared by _kernel.pyx and _gates.pyx (Cython `include` is
# textual; each module cimports sgemm/dgemm from scipy.linalg.cython_blas).

cdef enum:
    SMALL_GEMM = 4096      # below this many multiply-adds (m*n*k) our own loops beat BLAS


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
