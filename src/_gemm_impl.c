/* See _gemm.h. Plain C with GCC vector extensions; no Python. */
#include <stdlib.h>
#include <string.h>
#include "_gemm.h"

#define MC 48         /* rows per block: an A block of 48 x KC stays near L1 while panels sweep it */
#define KC 256        /* depth per block: a panel's slice stays in L1 */

typedef float v8f __attribute__((vector_size(32), aligned(4), may_alias));
typedef double v4d __attribute__((vector_size(32), aligned(8), may_alias));

ptrdiff_t fr_packed_size_f32(int k, int n) {
    return (ptrdiff_t)((n + FR_NR_F32 - 1) / FR_NR_F32) * FR_NR_F32 * (k > 0 ? k : 1);
}
ptrdiff_t fr_packed_size_f64(int k, int n) {
    return (ptrdiff_t)((n + FR_NR_F64 - 1) / FR_NR_F64) * FR_NR_F64 * (k > 0 ? k : 1);
}

/* bp[k-block][panel][p][j] = B[p0 + p, panel*NR + j], zero past n: a block of KC rows
 * of every panel is contiguous, so a sweep over the panels streams memory in order. */
#define DEFINE_PACK(NAME, T, NR)                                                   \
void NAME(int trans, int k, int n, const T *b, int ldb, T *bp) {                  \
    int panels = (n + NR - 1) / NR;                                                \
    for (int p0 = 0; p0 < k; p0 += KC) {                                           \
        int kc = k - p0 < KC ? k - p0 : KC;                                        \
        for (int jp = 0; jp < panels; jp++) {                                      \
            T *dst = bp + (ptrdiff_t)p0 * panels * NR + (ptrdiff_t)jp * NR * kc;   \
            for (int p = 0; p < kc; p++) {                                         \
                for (int j = 0; j < NR; j++) {                                     \
                    int col = jp * NR + j;                                         \
                    T v = 0;                                                       \
                    if (col < n)                                                   \
                        v = trans ? b[(ptrdiff_t)col * ldb + p0 + p]               \
                                  : b[(ptrdiff_t)(p0 + p) * ldb + col];            \
                    dst[(ptrdiff_t)p * NR + j] = v;                                \
                }                                                                  \
            }                                                                      \
        }                                                                          \
    }                                                                              \
}
DEFINE_PACK(fr_pack_f32, float, FR_NR_F32)
DEFINE_PACK(fr_pack_f64, double, FR_NR_F64)

/* One ROWS x NR tile: acc = A[0:ROWS, :] @ panel; then C += acc, or with overwrite
 * C = init + acc (init: NR values, or NULL for zeros) without reading C. Only nr
 * columns are valid. ROWS is a compile-time constant so the accumulators live in
 * registers. */
#define DEFINE_TILE(SUFFIX, ATTR, T, V, W, NR, ROWS, KS)                            \
ATTR static inline void tile##ROWS##_##SUFFIX(int nr, int k, const T *a, ptrdiff_t rs,\
                                              ptrdiff_t cs, const T *bp,            \
                                              ptrdiff_t bs, T *c,                   \
                                              int ldc, int overwrite,               \
                                              const T *init) {                      \
    /* KS independent partial sums over k hide the FMA latency for short tiles */   \
    V acc0[KS][ROWS], acc1[KS][ROWS];                                               \
    if (!overwrite) {                                                               \
        /* C's lines arrive while the products run */                               \
        _Pragma("GCC unroll 8")                                                     \
        for (int i = 0; i < ROWS; i++) {                                            \
            __builtin_prefetch(c + (ptrdiff_t)i * ldc, 1, 3);                       \
            __builtin_prefetch(c + (ptrdiff_t)i * ldc + NR - 1, 1, 3);              \
        }                                                                           \
    }                                                                               \
    _Pragma("GCC unroll 8")                                                         \
    for (int s = 0; s < KS; s++)                                                    \
        _Pragma("GCC unroll 8")                                                     \
        for (int i = 0; i < ROWS; i++) { acc0[s][i] = (V){0}; acc1[s][i] = (V){0}; } \
    int p = 0;                                                                      \
    for (; p + KS <= k; p += KS) {                                                  \
        _Pragma("GCC unroll 8")                                                     \
        for (int s = 0; s < KS; s++) {                                              \
            V b0 = *(const V *)(bp + (ptrdiff_t)(p + s) * bs);                      \
            V b1 = *(const V *)(bp + (ptrdiff_t)(p + s) * bs + W);                  \
            _Pragma("GCC unroll 8")                                                 \
            for (int i = 0; i < ROWS; i++) {                                        \
                T ai = a[i * rs + (p + s) * cs];                                    \
                acc0[s][i] += ai * b0;                                              \
                acc1[s][i] += ai * b1;                                              \
            }                                                                       \
        }                                                                           \
    }                                                                               \
    for (; p < k; p++) {                                                            \
        V b0 = *(const V *)(bp + (ptrdiff_t)p * bs);                                \
        V b1 = *(const V *)(bp + (ptrdiff_t)p * bs + W);                            \
        _Pragma("GCC unroll 8")                                                     \
        for (int i = 0; i < ROWS; i++) {                                            \
            T ai = a[i * rs + p * cs];                                              \
            acc0[0][i] += ai * b0;                                                  \
            acc1[0][i] += ai * b1;                                                  \
        }                                                                           \
    }                                                                               \
    _Pragma("GCC unroll 8")                                                         \
    for (int s = 1; s < KS; s++)                                                    \
        _Pragma("GCC unroll 8")                                                     \
        for (int i = 0; i < ROWS; i++) {                                            \
            acc0[0][i] += acc0[s][i];                                               \
            acc1[0][i] += acc1[s][i];                                               \
        }                                                                           \
    if (nr == NR && overwrite) {                                                    \
        V i0 = {0}, i1 = {0};                                                       \
        if (init != NULL) { i0 = *(const V *)init; i1 = *(const V *)(init + W); }   \
        _Pragma("GCC unroll 8")                                                     \
        for (int i = 0; i < ROWS; i++) {                                            \
            T *ci = c + (ptrdiff_t)i * ldc;                                         \
            *(V *)ci = i0 + acc0[0][i];                                             \
            *(V *)(ci + W) = i1 + acc1[0][i];                                       \
        }                                                                           \
    } else if (nr == NR) {                                                          \
        _Pragma("GCC unroll 8")                                                     \
        for (int i = 0; i < ROWS; i++) {                                            \
            T *ci = c + (ptrdiff_t)i * ldc;                                         \
            *(V *)ci += acc0[0][i];                                                 \
            *(V *)(ci + W) += acc1[0][i];                                           \
        }                                                                           \
    } else {                                                                        \
        T tmp[2 * W];                                                               \
        for (int i = 0; i < ROWS; i++) {                                            \
            T *ci = c + (ptrdiff_t)i * ldc;                                         \
            *(V *)tmp = acc0[0][i];                                                 \
            *(V *)(tmp + W) = acc1[0][i];                                           \
            for (int j = 0; j < nr; j++)                                            \
                ci[j] = (overwrite ? (init != NULL ? init[j] : 0) : ci[j]) + tmp[j]; \
        }                                                                           \
    }                                                                               \
}

/* C += A @ Bp, with A(i, p) = a[i*rs + p*cs] (so A may be a transposed view).
 * Blocks of KC along k and MC rows; in each, every panel sweeps the block's tiles.
 * ldb == 0: bp is packed (fr_pack); ldb > 0: bp is B itself, row-major with row
 * stride ldb, read in place (n a multiple of NR: whole panels only). */
#define DEFINE_GEMM(SUFFIX, ATTR, T, V, W, NR)                                      \
DEFINE_TILE(SUFFIX, ATTR, T, V, W, NR, 6, 1)                                        \
DEFINE_TILE(SUFFIX, ATTR, T, V, W, NR, 4, 1)                                        \
DEFINE_TILE(SUFFIX, ATTR, T, V, W, NR, 2, 2)                                        \
DEFINE_TILE(SUFFIX, ATTR, T, V, W, NR, 1, 4)                                        \
ATTR static void gemm_##SUFFIX(int m, int n, int k, const T *a, ptrdiff_t rs,      \
                               ptrdiff_t cs, const T *bp, ptrdiff_t ldb, T *c,     \
                               int ldc, int overwrite, const T *init) {            \
    int panels = (n + NR - 1) / NR;                                                 \
    ptrdiff_t bs = ldb > 0 ? ldb : NR;                                              \
    /* A read down its columns (cs != 1, a transposed view) with columns over 256   \
     * bytes apart is copied block by block into tiles of 6 rows, [tile][p][6], so  \
     * the tiles read it contiguously rather than one cache line (and one L1 set)   \
     * per step of p. Closer columns (the backward's (rows, 32) arrays read         \
     * transposed) already stream in order and are read in place: copying them cost \
     * a quarter of the tutorial-shape backward. */                                 \
    T *ap = NULL;                                                                   \
    if (cs != 1 && m > 1 && cs * (ptrdiff_t)sizeof(T) > 256)                        \
        ap = (T *)malloc(sizeof(T) * (size_t)(MC + 6) * KC);                        \
    for (int p0 = 0; p0 < k; p0 += KC) {                                            \
        int kc = k - p0 < KC ? k - p0 : KC;                                         \
        for (int i0 = 0; i0 < m; i0 += MC) {                                        \
            int i1 = i0 + MC < m ? i0 + MC : m;                                     \
            const T *ablk = a + p0 * cs + i0 * rs;                                  \
            ptrdiff_t brs = rs, bcs = cs, tstep = 0;                                \
            if (ap != NULL) {                                                       \
                for (int t = 0; t < i1 - i0; t += 6) {                              \
                    int rows = i1 - i0 - t < 6 ? i1 - i0 - t : 6;                   \
                    T *dst = ap + (ptrdiff_t)t * kc;                                \
                    for (int p = 0; p < kc; p++)                                    \
                        for (int i = 0; i < rows; i++)                              \
                            dst[p * 6 + i] = ablk[(t + i) * rs + p * cs];           \
                }                                                                   \
                ablk = ap;                                                          \
                brs = 1;                                                            \
                bcs = 6;                                                            \
                tstep = (ptrdiff_t)6 * kc; /* tile t starts at ap + (t/6)*6*kc */   \
            }                                                                       \
            for (int jp = 0; jp < panels; jp++) {                                   \
                int nr = n - jp * NR < NR ? n - jp * NR : NR;                       \
                const T *panel = ldb > 0 ? bp + (ptrdiff_t)p0 * ldb + jp * NR       \
                                 : bp + (ptrdiff_t)p0 * panels * NR                 \
                                   + (ptrdiff_t)jp * NR * kc;                       \
                T *cj = c + jp * NR + (ptrdiff_t)i0 * ldc;                          \
                int ow = overwrite && p0 == 0;                                      \
                const T *ij = init != NULL ? init + jp * NR : NULL;                 \
                int i = 0, h = i1 - i0;                                             \
                for (; i + 6 <= h; i += 6)                                          \
                    tile6_##SUFFIX(nr, kc, ablk + (tstep ? (i / 6) * tstep : i * brs), \
                                   brs, bcs, panel, bs, cj + (ptrdiff_t)i * ldc, ldc, ow, ij);  \
                if (i + 4 <= h) {                                                   \
                    tile4_##SUFFIX(nr, kc, ablk + (tstep ? (i / 6) * tstep : i * brs), \
                                   brs, bcs, panel, bs, cj + (ptrdiff_t)i * ldc, ldc, ow, ij);  \
                    i += 4;                                                         \
                }                                                                   \
                if (i + 2 <= h) {                                                   \
                    tile2_##SUFFIX(nr, kc, ablk + (tstep ? (i / 6) * tstep + i % 6 : i * brs), \
                                   brs, bcs, panel, bs, cj + (ptrdiff_t)i * ldc, ldc, ow, ij);  \
                    i += 2;                                                         \
                }                                                                   \
                if (i < h)                                                          \
                    tile1_##SUFFIX(nr, kc, ablk + (tstep ? (i / 6) * tstep + i % 6 : i * brs), \
                                   brs, bcs, panel, bs, cj + (ptrdiff_t)i * ldc, ldc, ow, ij);  \
            }                                                                       \
        }                                                                           \
    }                                                                               \
    free(ap);                                                                       \
}


/* ---------------------------------------------------------------- GEMV-like products
 * C[i, 0:n] (=|+=) [init +] sum_p A[i, p] * B[p, 0:n] for a few rows i < m, B row-major
 * and unpacked (k x n, row stride ldb): the batch-of-one recurrence reads each weight
 * once per step, so packing buys nothing. Every column is one chain of FMAs over p in
 * order, whatever n, m and the column offset: a column range computed on its own gives
 * the same bits as inside a wider range (the split across threads relies on it). */
#define DEFINE_GV(SUFFIX, ATTR, T, V, W, ROWS, NB)                                   \
ATTR static inline void gv##ROWS##x##NB##_##SUFFIX(int k, const T *a, ptrdiff_t lda,  \
                                                 const T *b, ptrdiff_t ldb, T *c,      \
                                                 ptrdiff_t ldc, int overwrite,         \
                                                 const T *init) {                      \
    V acc[ROWS][NB];                                                                   \
    _Pragma("GCC unroll 8")                                                            \
    for (int i = 0; i < ROWS; i++)                                                     \
        _Pragma("GCC unroll 8")                                                        \
        for (int v = 0; v < NB; v++) acc[i][v] = (V){0};                               \
    for (int p = 0; p < k; p++) {                                                      \
        const T *bp = b + (ptrdiff_t)p * ldb;                                          \
        V bv[NB];                                                                      \
        _Pragma("GCC unroll 8")                                                        \
        for (int v = 0; v < NB; v++) bv[v] = *(const V *)(bp + v * W);                 \
        _Pragma("GCC unroll 8")                                                        \
        for (int i = 0; i < ROWS; i++) {                                               \
            T ai = a[i * lda + p];                                                     \
            _Pragma("GCC unroll 8")                                                    \
            for (int v = 0; v < NB; v++) acc[i][v] += ai * bv[v];                      \
        }                                                                              \
    }                                                                                  \
    _Pragma("GCC unroll 8")                                                            \
    for (int i = 0; i < ROWS; i++)                                                     \
        _Pragma("GCC unroll 8")                                                        \
        for (int v = 0; v < NB; v++) {                                                 \
            T *ci = c + i * ldc + v * W;                                               \
            if (overwrite)                                                             \
                *(V *)ci = (init != NULL ? *(const V *)(init + v * W) : (V){0})        \
                           + acc[i][v];                                                \
            else                                                                       \
                *(V *)ci += acc[i][v];                                                 \
        }                                                                              \
}

/* ROWS rows: blocks of NB vectors, then single vectors, then the last columns one by
 * one (each still one chain over p). */
#define DEFINE_GV_ROWS(SUFFIX, ATTR, T, V, W, ROWS, NB)                                \
DEFINE_GV(SUFFIX, ATTR, T, V, W, ROWS, NB)                                             \
DEFINE_GV(SUFFIX, ATTR, T, V, W, ROWS, 1)                                              \
ATTR static void gvrows##ROWS##_##SUFFIX(int n, int k, const T *a, ptrdiff_t lda,      \
                                         const T *b, ptrdiff_t ldb, T *c, ptrdiff_t ldc,\
                                         int overwrite, const T *init) {               \
    int j = 0;                                                                         \
    for (; j + NB * W <= n; j += NB * W)                                               \
        gv##ROWS##x##NB##_##SUFFIX(k, a, lda, b + j, ldb, c + j, ldc, overwrite,       \
                                   init != NULL ? init + j : NULL);                    \
    for (; j + W <= n; j += W)                                                         \
        gv##ROWS##x1_##SUFFIX(k, a, lda, b + j, ldb, c + j, ldc, overwrite,            \
                              init != NULL ? init + j : NULL);                         \
    for (; j < n; j++)                                                                 \
        for (int i = 0; i < ROWS; i++) {                                               \
            T s = 0;                                                                   \
            for (int p = 0; p < k; p++)                                                \
                s += a[i * lda + p] * b[(ptrdiff_t)p * ldb + j];                       \
            T *ci = c + i * ldc + j;                                                   \
            *ci = overwrite ? (init != NULL ? init[j] : 0) + s : *ci + s;              \
        }                                                                              \
}

#define DEFINE_GEMV(SUFFIX, ATTR, T, V, W)                                             \
DEFINE_GV_ROWS(SUFFIX, ATTR, T, V, W, 1, 8)                                            \
DEFINE_GV_ROWS(SUFFIX, ATTR, T, V, W, 2, 4)                                            \
DEFINE_GV_ROWS(SUFFIX, ATTR, T, V, W, 3, 2)                                            \
DEFINE_GV_ROWS(SUFFIX, ATTR, T, V, W, 4, 2)                                            \
ATTR static void gemv_##SUFFIX(int m, int n, int k, const T *a, ptrdiff_t lda,         \
                               const T *b, ptrdiff_t ldb, T *c, ptrdiff_t ldc,         \
                               int overwrite, const T *init) {                         \
    for (int i = 0; i < m; i += 4) {                                                   \
        int r = m - i < 4 ? m - i : 4;                                                 \
        const T *ai = a + (ptrdiff_t)i * lda;                                          \
        T *ci = c + (ptrdiff_t)i * ldc;                                                \
        if (r == 4) gvrows4_##SUFFIX(n, k, ai, lda, b, ldb, ci, ldc, overwrite, init); \
        else if (r == 3) gvrows3_##SUFFIX(n, k, ai, lda, b, ldb, ci, ldc, overwrite, init); \
        else if (r == 2) gvrows2_##SUFFIX(n, k, ai, lda, b, ldb, ci, ldc, overwrite, init); \
        else gvrows1_##SUFFIX(n, k, ai, lda, b, ldb, ci, ldc, overwrite, init);        \
    }                                                                                  \
}

#if defined(__x86_64__) && defined(__GNUC__)
#define FR_X86 1
DEFINE_GEMV(f32_avx2, __attribute__((target("avx2,fma"))), float, v8f, 8)
DEFINE_GEMV(f64_avx2, __attribute__((target("avx2,fma"))), double, v4d, 4)
DEFINE_GEMM(f32_avx2, __attribute__((target("avx2,fma"))), float, v8f, 8, FR_NR_F32)
DEFINE_GEMM(f64_avx2, __attribute__((target("avx2,fma"))), double, v4d, 4, FR_NR_F64)
#endif
DEFINE_GEMM(f32_base, , float, v8f, 8, FR_NR_F32)
DEFINE_GEMV(f32_base, , float, v8f, 8)
DEFINE_GEMV(f64_base, , double, v4d, 4)
DEFINE_GEMM(f64_base, , double, v4d, 4, FR_NR_F64)

void fr_prefetch_rows(const void *p, ptrdiff_t rows, ptrdiff_t stride, ptrdiff_t bytes,
                      int write) {
    const char *r = (const char *)p;
    if (bytes > 256)
        bytes = 256;
    for (ptrdiff_t i = 0; i < rows; i++, r += stride)
        for (ptrdiff_t o = 0; o < bytes; o += 64) {
            if (write)
                __builtin_prefetch(r + o, 1, 2);
            else
                __builtin_prefetch(r + o, 0, 2);
        }
}

int fr_gemm_simd(void) {
#ifdef FR_X86
    static int have = -1;
    if (have < 0) {
        __builtin_cpu_init();
        have = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return have;
#else
    return 0;
#endif
}

void fr_gemm_packed_f32(int m, int n, int k, const float *a, ptrdiff_t rs, ptrdiff_t cs,
                        const float *bp, float *c, int ldc) {
#ifdef FR_X86
    if (fr_gemm_simd()) { gemm_f32_avx2(m, n, k, a, rs, cs, bp, 0, c, ldc, 0, NULL); return; }
#endif
    gemm_f32_base(m, n, k, a, rs, cs, bp, 0, c, ldc, 0, NULL);
}

void fr_gemm_packed_f64(int m, int n, int k, const double *a, ptrdiff_t rs, ptrdiff_t cs,
                        const double *bp, double *c, int ldc) {
#ifdef FR_X86
    if (fr_gemm_simd()) { gemm_f64_avx2(m, n, k, a, rs, cs, bp, 0, c, ldc, 0, NULL); return; }
#endif
    gemm_f64_base(m, n, k, a, rs, cs, bp, 0, c, ldc, 0, NULL);
}

void fr_gemm_f32(int m, int n, int k, const float *a, ptrdiff_t rs, ptrdiff_t cs,
                 const float *b, ptrdiff_t ldb, float *c, int ldc) {
#ifdef FR_X86
    if (fr_gemm_simd()) { gemm_f32_avx2(m, n, k, a, rs, cs, b, ldb, c, ldc, 0, NULL); return; }
#endif
    gemm_f32_base(m, n, k, a, rs, cs, b, ldb, c, ldc, 0, NULL);
}

void fr_gemm_f64(int m, int n, int k, const double *a, ptrdiff_t rs, ptrdiff_t cs,
                 const double *b, ptrdiff_t ldb, double *c, int ldc) {
#ifdef FR_X86
    if (fr_gemm_simd()) { gemm_f64_avx2(m, n, k, a, rs, cs, b, ldb, c, ldc, 0, NULL); return; }
#endif
    gemm_f64_base(m, n, k, a, rs, cs, b, ldb, c, ldc, 0, NULL);
}

void fr_gemm_packed_set_f32(int m, int n, int k, const float *a, ptrdiff_t rs, ptrdiff_t cs,
                            const float *bp, float *c, int ldc, const float *row) {
#ifdef FR_X86
    if (fr_gemm_simd()) { gemm_f32_avx2(m, n, k, a, rs, cs, bp, 0, c, ldc, 1, row); return; }
#endif
    gemm_f32_base(m, n, k, a, rs, cs, bp, 0, c, ldc, 1, row);
}

void fr_gemm_packed_set_f64(int m, int n, int k, const double *a, ptrdiff_t rs, ptrdiff_t cs,
                            const double *bp, double *c, int ldc, const double *row) {
#ifdef FR_X86
    if (fr_gemm_simd()) { gemm_f64_avx2(m, n, k, a, rs, cs, bp, 0, c, ldc, 1, row); return; }
#endif
    gemm_f64_base(m, n, k, a, rs, cs, bp, 0, c, ldc, 1, row);
}

void fr_gemv_f32(int m, int n, int k, const float *a, ptrdiff_t lda, const float *b,
                 ptrdiff_t ldb, float *c, ptrdiff_t ldc, int overwrite, const float *init) {
#ifdef FR_X86
    if (fr_gemm_simd()) { gemv_f32_avx2(m, n, k, a, lda, b, ldb, c, ldc, overwrite, init); return; }
#endif
    gemv_f32_base(m, n, k, a, lda, b, ldb, c, ldc, overwrite, init);
}

void fr_gemv_f64(int m, int n, int k, const double *a, ptrdiff_t lda, const double *b,
                 ptrdiff_t ldb, double *c, ptrdiff_t ldc, int overwrite, const double *init) {
#ifdef FR_X86
    if (fr_gemm_simd()) { gemv_f64_avx2(m, n, k, a, lda, b, ldb, c, ldc, overwrite, init); return; }
#endif
    gemv_f64_base(m, n, k, a, lda, b, ldb, c, ldc, overwrite, init);
}
