/* A small packed GEMM for the recurrence's shapes: C (m x n) += A (m x k) @ B (k x n).
 *
 * B is packed (fr_pack_*) into column panels of NR columns, zero-padded, so the
 * per-timestep product reads the weights from a cache-friendly copy instead of letting
 * BLAS re-pack them every step. All matrices row-major; A and C take a leading dimension.
 * The AVX2+FMA version is chosen at run time; a portable version is always there.
 */
#ifndef FASTRNN_GEMM_H
#define FASTRNN_GEMM_H
#include <stddef.h>

#define FR_NR_F32 16
#define FR_NR_F64 8

ptrdiff_t fr_packed_size_f32(int k, int n);
ptrdiff_t fr_packed_size_f64(int k, int n);
/* trans=0: b is (k, n) with row stride ldb; trans=1: b is (n, k) and B = b^T. */
void fr_pack_f32(int trans, int k, int n, const float *b, int ldb, float *bp);
void fr_pack_f64(int trans, int k, int n, const double *b, int ldb, double *bp);
/* A(i, p) = a[i*rs + p*cs]: rs = lda, cs = 1 for A; rs = 1, cs = lda for A^T. */
void fr_gemm_packed_f32(int m, int n, int k, const float *a, ptrdiff_t rs, ptrdiff_t cs,
                        const float *bp, float *c, int ldc);
void fr_gemm_packed_f64(int m, int n, int k, const double *a, ptrdiff_t rs, ptrdiff_t cs,
                        const double *bp, double *c, int ldc);
/* C += A @ B with B row-major and unpacked (row stride ldb > 0), read in place; n must
 * be a multiple of FR_NR_F32 / FR_NR_F64. The same tiles and order as the packed one. */
void fr_gemm_f32(int m, int n, int k, const float *a, ptrdiff_t rs, ptrdiff_t cs,
                 const float *b, ptrdiff_t ldb, float *c, int ldc);
void fr_gemm_f64(int m, int n, int k, const double *a, ptrdiff_t rs, ptrdiff_t cs,
                 const double *b, ptrdiff_t ldb, double *c, int ldc);
/* C = row + A @ Bp (row: n values broadcast down the rows, or NULL for zeros), without
 * reading C. k >= 1. */
void fr_gemm_packed_set_f32(int m, int n, int k, const float *a, ptrdiff_t rs, ptrdiff_t cs,
                            const float *bp, float *c, int ldc, const float *row);
void fr_gemm_packed_set_f64(int m, int n, int k, const double *a, ptrdiff_t rs,
                            ptrdiff_t cs, const double *bp, double *c, int ldc,
                            const double *row);
/* C[i, :n] (=|+=) [init +] A[i, :k] @ B[:k, :n] for i < m, B row-major and unpacked
 * (row stride ldb), for a few rows (the batch-of-one recurrence). Each column is one
 * chain of FMAs over p in order, so a column range alone gives the same bits as inside a
 * wider range. overwrite: C = init (n values, or NULL: zeros) + A @ B without reading C. */
void fr_gemv_f32(int m, int n, int k, const float *a, ptrdiff_t lda, const float *b,
                 ptrdiff_t ldb, float *c, ptrdiff_t ldc, int overwrite, const float *init);
void fr_gemv_f64(int m, int n, int k, const double *a, ptrdiff_t lda, const double *b,
                 ptrdiff_t ldb, double *c, ptrdiff_t ldc, int overwrite, const double *init);
/* Prefetch the first min(bytes, 256) bytes of each of `rows` rows `stride` bytes apart
 * (for writing with write != 0): the next time step's rows of a (B, T, H) array, 4*T*H
 * bytes apart, which the hardware prefetchers do not foresee. Longer rows are
 * sequential from there and left to the hardware. */
void fr_prefetch_rows(const void *p, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t bytes,
                      int write);
/* 1 where the AVX2+FMA kernels run, 0 for the portable ones. */
int fr_gemm_simd(void);
#endif
