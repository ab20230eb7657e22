/* See _act.h. Plain C, no Python. */
#include <math.h>
#include <string.h>
#include "_act.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FR_CLONES
#endif

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
unsigned int fr_ftz_on(void) {
    unsigned int old = _mm_getcsr();
    _mm_setcsr(old | 0x8040); /* FTZ (bit 15) | DAZ (bit 6) */
    return old;
}
void fr_ftz_restore(unsigned int state) { _mm_setcsr(state); }
#else
unsigned int fr_ftz_on(void) { return 0; }
void fr_ftz_restore(unsigned int state) { (void)state; }
#endif

/* tanh(x) ~= x * P(x^2) / Q(x^2), clamped to |x| <= 7.9053 where it rounds to +-1.
 * Coefficients from Eigen's generic_fast_tanh_float (max error a few ulp). */
FR_CLONES
static void tanh_f32(float *x, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = x[i];
        v = v > 7.90531110763549805f ? 7.90531110763549805f : v;
        v = v < -7.90531110763549805f ? -7.90531110763549805f : v;
        float v2 = v * v;
        float p = -2.76076847742355e-16f;
        p = p * v2 + 2.00018790482477e-13f;
        p = p * v2 + -8.60467152213735e-11f;
        p = p * v2 + 5.12229709037114e-08f;
        p = p * v2 + 1.48572235717979e-05f;
        p = p * v2 + 6.37261928875436e-04f;
        p = p * v2 + 4.89352455891786e-03f;
        p = p * v;
        float q = 1.19825839466702e-06f;
        q = q * v2 + 1.18534705686654e-04f;
        q = q * v2 + 2.26843463243900e-03f;
        q = q * v2 + 4.89352518554385e-03f;
        float r = p / q;
        /* tiny |x|: tanh(x) == x in float32 */
        x[i] = (v2 < 1.6e-7f) ? v : r;
    }
}

/* float64 tanh, branch-free so it vectorises; Cephes's approximations (relative
 * error ~1e-16): a rational x + x^3 P(x^2)/Q(x^2) below |x| = 0.625, above it
 * 1 - 2 / (exp(2|x|) + 1) with exp reduced by powers of two and a Pade form. */
FR_CLONES
static void tanh_f64(double *x, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) {
        double v = x[i];
        double a = fabs(v);
        a = a > 22.0 ? 22.0 : a;  /* tanh(22) rounds to 1; NaN stays NaN */
        /* small: x + x * s P(s) / Q(s), s = x^2 */
        double s = a * a;
        double p = (-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s
                   - 1.61468768441708447952e3;
        double q = ((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s
                   + 4.84406305325125486048e3;
        double small = a + a * (s * p / q);
        /* large: e = exp(2a) = 2^k * exp(r) */
        double y = 2.0 * a;
        double k = floor(1.4426950408889634073599 * y + 0.5);
        double r = y - k * 6.93145751953125e-1 - k * 1.42860682030941723212e-6;
        double rr = r * r;
        double pr = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
                         + 9.99999999999999999910e-1);
        double qr = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
                     + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
        double er = 1.0 + 2.0 * (pr / (qr - pr));
        double t = k + 6755399441055744.0;  /* 2^52 + 2^51: k in the low bits */
        unsigned long long bits;
        memcpy(&bits, &t, sizeof bits);
        bits = (bits - 0x4338000000000000ULL + 1023ULL) << 52;
        double scale;
        memcpy(&scale, &bits, sizeof scale);
        double large = 1.0 - 2.0 / (er * scale + 1.0);
        double res = a < 0.625 ? small : large;
        x[i] = copysign(res, v);
    }
}

FR_CLONES
static void relu_f32(float *x, ptrdiff_t n) {
    /* max(x, 0) as NumPy's maximum: NaN stays NaN */
    for (ptrdiff_t i = 0; i < n; i++) x[i] = x[i] < 0.0f ? 0.0f : x[i];
}

/* sigmoid(x) = (1 + tanh(x / 2)) / 2, through the vectorised tanh */
FR_CLONES
static void half_f32(float *x, ptrdiff_t n, float scale, float shift) {
    for (ptrdiff_t i = 0; i < n; i++) x[i] = x[i] * scale + shift;
}

static void sigmoid_f32(float *x, ptrdiff_t n) {
    half_f32(x, n, 0.5f, 0.0f);
    tanh_f32(x, n);
    half_f32(x, n, 0.5f, 0.5f);
}

/* d = (a + b) * act'(y), or b * act'(y) when a is NULL (b may be d). float32 with the
 * clones (as the activations); float64 without (no FMA contraction), so its results
 * match NumPy's formulas. */
#define DEFINE_DACT(NAME, ATTR, T, EXPR)                                            \
ATTR                                                                                \
static void NAME(const T *y, const T *a, const T *b, T *d, ptrdiff_t n) {           \
    if (a == NULL)                                                                  \
        for (ptrdiff_t i = 0; i < n; i++) d[i] = b[i] * (EXPR);                     \
    else                                                                            \
        for (ptrdiff_t i = 0; i < n; i++) d[i] = (a[i] + b[i]) * (EXPR);            \
}
DEFINE_DACT(dact_tanh_f32, FR_CLONES, float, 1.0f - y[i] * y[i])
/* d * (y > 0), a product as in NumPy: inf or NaN in d gives NaN where y <= 0 */
DEFINE_DACT(dact_relu_f32, FR_CLONES, float, y[i] > 0.0f ? 1.0f : 0.0f)
DEFINE_DACT(dact_sigmoid_f32, FR_CLONES, float, y[i] * (1.0f - y[i]))

void fr_act_f32(int act, float *x, ptrdiff_t n) {
    switch (act) {
    case FR_TANH: tanh_f32(x, n); break;
    case FR_RELU: relu_f32(x, n); break;
    case FR_SIGMOID: sigmoid_f32(x, n); break;
    default: break;
    }
}

void fr_act_f64(int act, double *x, ptrdiff_t n) {
    ptrdiff_t i;
    switch (act) {
    case FR_TANH: tanh_f64(x, n); break;
    case FR_RELU: for (i = 0; i < n; i++) x[i] = x[i] < 0.0 ? 0.0 : x[i]; break;
    case FR_SIGMOID: for (i = 0; i < n; i++) x[i] = 1.0 / (1.0 + exp(-x[i])); break;
    default: break;
    }
}

/* the pre-activation gradient's dispatch, for each dtype */
#define DEFINE_DACT_SUM(SUFFIX, T)                                                  \
void fr_dact_sum_##SUFFIX(int act, const T *y, const T *a, const T *b, T *d,        \
                          ptrdiff_t n) {                                            \
    switch (act) {                                                                  \
    case FR_TANH: dact_tanh_##SUFFIX(y, a, b, d, n); break;                         \
    case FR_RELU: dact_relu_##SUFFIX(y, a, b, d, n); break;                         \
    case FR_SIGMOID: dact_sigmoid_##SUFFIX(y, a, b, d, n); break;                   \
    default: /* linear */                                                           \
        if (a == NULL) { if (d != b) memmove(d, b, sizeof(T) * (size_t)n); }        \
        else for (ptrdiff_t i = 0; i < n; i++) d[i] = a[i] + b[i];                  \
        break;                                                                      \
    }                                                                               \
}
DEFINE_DACT_SUM(f32, float)

DEFINE_DACT(dact_tanh_f64, , double, 1.0 - y[i] * y[i])
DEFINE_DACT(dact_relu_f64, , double, y[i] > 0.0 ? 1.0 : 0.0)
DEFINE_DACT(dact_sigmoid_f64, , double, y[i] * (1.0 - y[i]))

DEFINE_DACT_SUM(f64, double)

void fr_dact_f32(int act, const float *y, float *d, ptrdiff_t n) {
    fr_dact_sum_f32(act, y, NULL, d, d, n);
}

void fr_dact_f64(int act, const double *y, double *d, ptrdiff_t n) {
    fr_dact_sum_f64(act, y, NULL, d, d, n);
}
