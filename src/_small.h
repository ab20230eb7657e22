/* The forward recurrence for a batch of a few rows (B <= FR_SMALL_MAX_B), split across
 * two threads by UNITS instead of by rows.
 *
 * A batch too small to cut into row blocks leaves one core idle in the per-row driver;
 * here each step's output columns are cut in two halves at `split` (a multiple of 16):
 * the calling thread computes the left half, a pool helper the right half, and the two
 * meet once per step (the next step needs the whole state). Each half is
 *
 *     out[:, t, cols] = act(bias[cols] + x[:, t] @ kernel[:, cols]
 *                           + h[t-1] @ recurrent_kernel[:, cols])
 *
 * (fr_gemv_*: unpacked weights, one FMA chain per column), so the result does not depend
 * on which thread computed a half or on whether a helper came at all: the halves are
 * always computed separately, and 1 and 2 threads give the same bits.
 *
 * Nothing waits unboundedly: the right half of each step is claimed by whichever thread
 * gets there first (an atomic compare-and-swap); a helper that has not started, or that
 * the OS does not schedule, leaves the caller to claim every half itself. If the caller
 * waits for a half the helper claimed longer than its own half took (1-8 us), it
 * computes that half itself and goes on alone (the helper's copy, in its own buffer, is
 * dropped).
 */
#ifndef FASTRNN_SMALL_H
#define FASTRNN_SMALL_H
#include <stddef.h>

#define FR_SMALL_MAX_B 4

typedef struct {
    int single;             /* float32 (1) or float64 (0) */
    int B, T, D, H;
    int ldo;                /* elements between out[b, t] and out[b, t + 1] */
    int act, reverse;
    int split;              /* first column of the right half (H: no right half) */
    const void *x;          /* (B, T, D) */
    const void *kernel;     /* (D, H) */
    const void *rk;         /* (H, H) */
    const void *bias;       /* (H,) or NULL */
    void *out;              /* (B, T, ldo) */
    void *state;            /* (B, H): the initial state in, the final state out */
    void *hb;               /* (2, B, H - split): the helper's halves */
} fr_small_args;

/* Where the right half starts for H units: H itself (no split) below 32 units. */
int fr_small_split(int H);
/* Steps s0 <= s < s1 (processing order) on up to 2 threads (nt >= 2: one helper).
 * out must hold nothing in particular; state holds h before step s0 on entry and the
 * last output after step s1 - 1 on exit. Returns the number of steps whose right half
 * the helper computed (for tests). */
long fr_small_steps(const fr_small_args *a, int s0, int s1, int nt);
/* Tests: the helper sleeps 3 ms after claiming the right half of this step (-1: never),
 * so the caller takes it over. */
extern int fr_small_stall_step;
#endif
