# The C kernels' declarations (src/_act.h, src/_gemm.h), shared by _kernel.pxd and
# _gates.pyx (Cython `include` is textual).

cdef extern from "_act.h" nogil:
    int FR_TANH, FR_RELU, FR_SIGMOID, FR_LINEAR
    void fr_act_f32(int act, float *x, Py_ssize_t n)
    void fr_act_f64(int act, double *x, Py_ssize_t n)
    void fr_dact_f32(int act, const float *y, float *d, Py_ssize_t n)
    void fr_dact_f64(int act, const double *y, double *d, Py_ssize_t n)
    void fr_dact_sum_f32(int act, const float *y, const float *a, const float *b,
                         float *d, Py_ssize_t n)
    void fr_dact_sum_f64(int act, const double *y, const double *a, const double *b,
                         double *d, Py_ssize_t n)
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
    void fr_gemm_f32(int m, int n, int k, const float *a, Py_ssize_t rs, Py_ssize_t cs,
                     const float *b, Py_ssize_t ldb, float *c, int ldc)
    void fr_gemm_f64(int m, int n, int k, const double *a, Py_ssize_t rs, Py_ssize_t cs,
                     const double *b, Py_ssize_t ldb, double *c, int ldc)
    void fr_gemm_packed_set_f32(int m, int n, int k, const float *a, Py_ssize_t rs,
                                Py_ssize_t cs, const float *bp, float *c, int ldc,
                                const float *row)
    void fr_gemm_packed_set_f64(int m, int n, int k, const double *a, Py_ssize_t rs,
                                Py_ssize_t cs, const double *bp, double *c, int ldc,
                                const double *row)
    void fr_prefetch_rows(const void *p, Py_ssize_t rows, Py_ssize_t stride,
                          Py_ssize_t bytes, int write)
    int fr_gemm_simd()
