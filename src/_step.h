/* The training step's elementwise helpers, compiled without contraction into fused
 * multiply-adds so that each does exactly the rounded operations of the NumPy code it
 * stands for (equal bit for bit).
 *
 * One optimizer step of an elementwise rule over n values, in place, for the training
 * plans' flat update (fastrnn/optimizers/flat.py).
 *
 * Each rule does the float operations of its NumPy update_step in fastrnn/optimizers
 * (sgd.py, rmsprop.py, adam.py), in the same order and the same precision, so the
 * results are equal bit for bit: every operation is one IEEE-754 rounded +, -, *, /,
 * sqrt or max. The scalars c[] are those update_step computes (already rounded to
 * the variables' dtype):
 *   FR_SGD            c = {lr}                          w -= g * lr
 *   FR_SGD_MOMENTUM   c = {lr, momentum, nesterov}      s0: momentum
 *   FR_RMSPROP        c = {lr, rho, 1 - rho, epsilon, momentum, momentum > 0,
 *                          centered}
 *                     s0: velocity, s1: momentum (momentum > 0), s2: average_gradient
 *   FR_ADAM           c = {alpha, 1 - beta_1, 1 - beta_2, epsilon, amsgrad}
 *                     s0: momentum, s1: velocity, s2: velocity_hat (amsgrad)
 */
#ifndef FASTRNN_STEP_H
#define FASTRNN_STEP_H
#include <stddef.h>

#define FR_SGD 0
#define FR_SGD_MOMENTUM 1
#define FR_RMSPROP 2
#define FR_ADAM 3

/* 1 when every g[i] is finite, else 0. */
int fr_all_finite_f32(const float *g, ptrdiff_t n);
int fr_all_finite_f64(const double *g, ptrdiff_t n);
/* w -= w * weight_decay * lr (Optimizer.apply's decoupled weight decay). */
void fr_weight_decay_f32(ptrdiff_t n, float *w, double weight_decay, double lr);
void fr_weight_decay_f64(ptrdiff_t n, double *w, double weight_decay, double lr);
void fr_optim_step_f32(int rule, ptrdiff_t n, float *w, const float *g, float *s0,
                       float *s1, float *s2, const double *c);
void fr_optim_step_f64(int rule, ptrdiff_t n, double *w, const double *g, double *s0,
                       double *s1, double *s2, const double *c);

/* Binary crossentropy from logits (BinaryCrossentropy.lean_value_and_gradient), the
 * parts around NumPy's exp and log1p, over n = rows * k values (k: the last axis):
 *   fr_neg_abs:  e = -|p|             (then NumPy: e = exp(e), l = log1p(e))
 *   fr_bce_terms:    elem = max(p, 0) - p * t + l   (+ 0.0 when plus_zero)
 *                    grad = (where(p >= 0, 1, e) / (e + 1) - t) * w[i // k]   */
void fr_neg_abs_f32(ptrdiff_t n, const float *p, float *e);
void fr_neg_abs_f64(ptrdiff_t n, const double *p, double *e);
void fr_bce_terms_f32(ptrdiff_t n, ptrdiff_t k, const float *p, const float *t,
                      const float *e, const float *l, const float *w, int plus_zero,
                      float *elem, float *grad);
void fr_bce_terms_f64(ptrdiff_t n, ptrdiff_t k, const double *p, const double *t,
                      const double *e, const double *l, const double *w, int plus_zero,
                      double *elem, double *grad);

/* Activations' and layers' elementwise parts around NumPy's exp:
 *   fr_sigmoid_tail: y = where(x >= 0, 1 / (1 + e), e / (1 + e)), e = exp(-|x|)
 *                    (activations.sigmoid; fr_neg_abs makes -|x| for the exp)
 *   fr_add_rows:     z += b for z (rows, n) and b (n,) (Dense's bias)           */
void fr_sigmoid_tail_f32(ptrdiff_t n, const float *x, const float *e, float *y);
void fr_sigmoid_tail_f64(ptrdiff_t n, const double *x, const double *e, double *y);
void fr_add_rows_f32(ptrdiff_t rows, ptrdiff_t n, float *z, const float *b);
void fr_add_rows_f64(ptrdiff_t rows, ptrdiff_t n, double *z, const double *b);
#endif
