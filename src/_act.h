/* Vectorised activations for the fastrnn kernel, applied in place.
 *
 * act codes: 0 tanh, 1 relu, 2 sigmoid, 3 linear.
 * float32 tanh is a branch-free rational approximation (Eigen's), compiled for
 * AVX-512 / AVX2 / baseline and picked at run time (GCC target_clones).
 * float64 uses libm so results agree with NumPy to ~1e-15.
 * NaN and +-inf propagate as in NumPy (np.tanh, np.maximum(x, 0), 1 / (1 + exp(-x))).
 */
#ifndef FASTRNN_ACT_H
#define FASTRNN_ACT_H
#include <stddef.h>

#define FR_TANH 0
#define FR_RELU 1
#define FR_SIGMOID 2
#define FR_LINEAR 3

void fr_act_f32(int act, float *x, ptrdiff_t n);
void fr_act_f64(int act, double *x, ptrdiff_t n);
/* d[i] *= act'(y[i]) where y = act(a) is the activation's output. */
void fr_dact_f32(int act, const float *y, float *d, ptrdiff_t n);
void fr_dact_f64(int act, const double *y, double *d, ptrdiff_t n);
/* d[i] = (a[i] + b[i]) * act'(y[i]), or b[i] * act'(y[i]) when a is NULL, in one pass
 * (b may be d): the backward's gradient of a step's pre-activations, the same bits as
 * d = a + b then fr_dact. */
void fr_dact_sum_f32(int act, const float *y, const float *a, const float *b, float *d,
                     ptrdiff_t n);
void fr_dact_sum_f64(int act, const double *y, const double *a, const double *b,
                     double *d, ptrdiff_t n);
/* Denormals to zero in this thread (MXCSR FTZ|DAZ); returns the previous state. */
unsigned int fr_ftz_on(void);
void fr_ftz_restore(unsigned int state);
#endif
