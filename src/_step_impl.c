/* The training step's elementwise helpers (see _step.h): the NumPy operations of an
 * optimizer's update_step and of the logistic loss, one rounded operation at a time. No contraction into fused multiply-adds (GCC contracts
 * across statements by default where the target has FMA), whatever the flags. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#elif defined(_MSC_VER)
#pragma fp_contract(off)
#else
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>
#include "_step.h"

#define DEFINE_STEP(T, SUFFIX, SQRT)                                                    \
int fr_all_finite_##SUFFIX(const T *g, ptrdiff_t n)                                   \
{                                                                                     \
    int ok = 1;                                                                       \
    for (ptrdiff_t i = 0; i < n; i++)                                                 \
        ok &= isfinite(g[i]) != 0;                                                    \
    return ok;                                                                        \
}                                                                                     \
                                                                                      \
void fr_weight_decay_##SUFFIX(ptrdiff_t n, T *w, double weight_decay, double lr)      \
{                                                                                     \
    const T wd = (T)weight_decay, r = (T)lr;                                          \
    /* w -= w * weight_decay * lr */                                                  \
    for (ptrdiff_t i = 0; i < n; i++) {                                               \
        T t = w[i] * wd;                                                              \
        t = t * r;                                                                    \
        w[i] = w[i] - t;                                                              \
    }                                                                                 \
}                                                                                     \
                                                                                      \
void fr_optim_step_##SUFFIX(int rule, ptrdiff_t n, T *w, const T *g, T *s0, T *s1,   \
                            T *s2, const double *c)                                   \
{                                                                                     \
    ptrdiff_t i;                                                                      \
    if (rule == FR_SGD) {                                                             \
        const T lr = (T)c[0];                                                         \
        /* variable -= gradient * learning_rate */                                    \
        for (i = 0; i < n; i++) {                                                     \
            T t = g[i] * lr;                                                          \
            w[i] = w[i] - t;                                                          \
        }                                                                             \
    } else if (rule == FR_SGD_MOMENTUM) {                                             \
        const T lr = (T)c[0], mom = (T)c[1];                                          \
        const int nesterov = c[2] != 0;                                               \
        for (i = 0; i < n; i++) {                                                     \
            /* m[...] = m * momentum - gradient * learning_rate */                    \
            T a = s0[i] * mom, b = g[i] * lr;                                         \
            T m = a - b;                                                              \
            s0[i] = m;                                                                \
            if (nesterov) {                                                           \
                /* variable += m * momentum - gradient * learning_rate */             \
                T a2 = m * mom;                                                       \
                T d = a2 - b;                                                         \
                w[i] = w[i] + d;                                                      \
            } else {                                                                  \
                w[i] = w[i] + m;   /* variable += m */                                \
            }                                                                         \
        }                                                                             \
    } else if (rule == FR_RMSPROP) {                                                  \
        const T lr = (T)c[0], rho = (T)c[1], one_rho = (T)c[2], eps = (T)c[3];        \
        const T mom = (T)c[4];                                                        \
        const int use_momentum = c[5] != 0, centered = c[6] != 0;                     \
        for (i = 0; i < n; i++) {                                                     \
            /* g2 = square(g); g2 *= 1 - rho; v *= rho; v += g2 */                    \
            T g2 = g[i] * g[i];                                                       \
            g2 = g2 * one_rho;                                                        \
            T v = s0[i] * rho;                                                        \
            v = v + g2;                                                               \
            s0[i] = v;                                                                \
            T den;                                                                    \
            if (centered) {                                                           \
                /* a[...] = rho * a + (1 - rho) * g; den = v - square(a) + eps */     \
                T a1 = rho * s2[i], a2 = one_rho * g[i];                              \
                T a = a1 + a2;                                                        \
                s2[i] = a;                                                            \
                T aa = a * a;                                                         \
                den = v - aa;                                                         \
                den = den + eps;                                                      \
            } else {                                                                  \
                den = v + eps;                                                        \
            }                                                                         \
            /* increment = lr * g; increment /= sqrt(den) */                          \
            T inc = lr * g[i];                                                        \
            inc = inc / SQRT(den);                                                    \
            if (use_momentum) {                                                       \
                /* m *= momentum; m += increment; variable -= m */                    \
                T m = s1[i] * mom;                                                    \
                m = m + inc;                                                          \
                s1[i] = m;                                                            \
                w[i] = w[i] - m;                                                      \
            } else {                                                                  \
                w[i] = w[i] - inc;                                                    \
            }                                                                         \
        }                                                                             \
    } else if (rule == FR_ADAM) {                                                     \
        const T alpha = (T)c[0], c1 = (T)c[1], c2 = (T)c[2], eps = (T)c[3];           \
        const int amsgrad = c[4] != 0;                                                \
        for (i = 0; i < n; i++) {                                                     \
            /* m += (g - m) * (1 - beta_1); v += (g2 - v) * (1 - beta_2) */           \
            T gi = g[i];                                                              \
            T g2 = gi * gi;                                                           \
            T dm = gi - s0[i];                                                        \
            dm = dm * c1;                                                             \
            T m = s0[i] + dm;                                                         \
            s0[i] = m;                                                                \
            T dv = g2 - s1[i];                                                        \
            dv = dv * c2;                                                             \
            T v = s1[i] + dv;                                                         \
            s1[i] = v;                                                                \
            if (amsgrad) {                                                            \
                /* np.maximum(v_hat, v, out=v_hat); v = v_hat (NaN propagates) */     \
                T h = (v > s2[i] || v != v) ? v : s2[i];                              \
                s2[i] = h;                                                            \
                v = h;                                                                \
            }                                                                         \
            /* variable -= (m * alpha) / (sqrt(v) + epsilon) */                       \
            T num = m * alpha;                                                        \
            T den = SQRT(v);                                                          \
            den = den + eps;                                                          \
            T step = num / den;                                                       \
            w[i] = w[i] - step;                                                       \
        }                                                                             \
    }                                                                                 \
}

DEFINE_STEP(float, f32, sqrtf)
DEFINE_STEP(double, f64, sqrt)

#define DEFINE_ELEMENTWISE(T, SUFFIX, FABS)                                                         \
void fr_neg_abs_##SUFFIX(ptrdiff_t n, const T *p, T *e)                          \
{                                                                                     \
    for (ptrdiff_t i = 0; i < n; i++)                                                 \
        e[i] = -FABS(p[i]);                                                           \
}                                                                                     \
                                                                                      \
void fr_bce_terms_##SUFFIX(ptrdiff_t n, ptrdiff_t k, const T *p, const T *t,         \
                           const T *e, const T *l, const T *w, int plus_zero,         \
                           T *elem, T *grad)                                          \
{                                                                                     \
    for (ptrdiff_t i = 0; i < n; i++) {                                               \
        T x = p[i];                                                                   \
        /* elem = max(p, 0) - p * t + log1p(exp(-|p|)) (NaN propagates) */           \
        T m = (x >= 0 || x != x) ? x : (T)0;                                          \
        T pt = x * t[i];                                                              \
        T v = m - pt;                                                                 \
        v = v + l[i];                                                                 \
        if (plus_zero)                                                                \
            v = v + (T)0;                                                             \
        elem[i] = v;                                                                  \
        /* grad = (where(p >= 0, 1, e) / (e + 1) - t) * w */                         \
        T num = x >= 0 ? (T)1 : e[i];                                                 \
        T den = e[i] + (T)1;                                                          \
        T d = num / den;                                                              \
        d = d - t[i];                                                                 \
        grad[i] = d * w[i / k];                                                       \
    }                                                                                 \
}                                                                                     \
                                                                                      \
void fr_sigmoid_tail_##SUFFIX(ptrdiff_t n, const T *x, const T *e, T *y)             \
{                                                                                     \
    for (ptrdiff_t i = 0; i < n; i++) {                                               \
        /* d = 1 + e; y = where(x >= 0, 1 / d, e / d) */                              \
        T d = (T)1 + e[i];                                                            \
        y[i] = x[i] >= 0 ? (T)1 / d : e[i] / d;                                       \
    }                                                                                 \
}                                                                                     \
                                                                                      \
void fr_add_rows_##SUFFIX(ptrdiff_t rows, ptrdiff_t n, T *z, const T *b)             \
{                                                                                     \
    /* z += b, b (n,) broadcast over the rows of z (rows, n) */                       \
    for (ptrdiff_t r = 0; r < rows; r++)                                              \
        for (ptrdiff_t i = 0; i < n; i++)                                             \
            z[r * n + i] = z[r * n + i] + b[i];                                       \
}

DEFINE_ELEMENTWISE(float, f32, fabsf)
DEFINE_ELEMENTWISE(double, f64, fabs)
