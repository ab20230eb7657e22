/* See _small.h. */
#include <string.h>
#include <time.h>
#include "_act.h"
#include "_gemm.h"
#include "_pool.h"
#include "_small.h"

/* A half takes ~0.1-3 us. The caller waits for the helper's half at most as long as
 * its own half took (at least FR_SMALL_WAIT_MIN_NS, at most FR_SMALL_WAIT_NS): past
 * that, computing the half itself is faster -- the helper is slow (its core is shared
 * with another process) or not running -- and the caller goes on alone. */
#define FR_SMALL_WAIT_MIN_NS 1000L
#define FR_SMALL_WAIT_NS 8000L
#define FR_HELPER_WAIT_NS 20000L     /* the helper's longest wait for the caller's step */
#define FR_STOP (1L << 62)           /* claim value: the caller goes on alone */

int fr_small_stall_step = -1;

typedef struct {
    long v;
    char pad[64 - sizeof(long)];
} fr_line;

typedef struct {
    const fr_small_args *a;
    int s0, s1;
    /* each counter on its own cache line: they pass between the two cores every step */
    fr_line claim __attribute__((aligned(64)));  /* next step whose right half is free */
    fr_line pub;        /* steps (counted from 0) whose right half the helper put in hb */
    fr_line done;       /* steps whose whole output is in out */
    fr_line helped;     /* right halves the helper computed */
} fr_small_ctx;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static inline long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static inline long load_acq(const long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void store_rel(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline int cas(long *p, long expect, long v) {
    return __atomic_compare_exchange_n(p, &expect, v, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

int fr_small_split(int H) {
    int s;
    if (H < 32)
        return H;
    s = (H / 2 + 15) / 16 * 16;
    return s < H ? s : H;
}

/* Columns c0:c1 of step s into dst (row stride ldd), in two parts: xpart writes
 * bias + x_t @ kernel; hpart adds h_prev @ rk and applies the activation. h_prev is the
 * state for the chunk's first step s0, else the previous step's output in out. The x
 * part does not depend on the state, so each thread computes the next step's while the
 * other finishes the current one; the operations and their order are the same wherever
 * and whenever a half is computed. */
#define DEFINE_PARTS(SUF, R, GEMV, ACT)                                               \
static void xpart_##SUF(const fr_small_args *a, int s, int c0, int c1, R *dst,        \
                        ptrdiff_t ldd) {                                              \
    int t = a->reverse ? a->T - 1 - s : s;                                            \
    const R *bias = (const R *)a->bias;                                               \
    if (c1 <= c0)                                                                     \
        return;                                                                       \
    GEMV(a->B, c1 - c0, a->D, (const R *)a->x + (ptrdiff_t)t * a->D,                  \
         (ptrdiff_t)a->T * a->D, (const R *)a->kernel + c0, a->H, dst, ldd, 1,        \
         bias != NULL ? bias + c0 : NULL);                                            \
}                                                                                     \
static void hpart_##SUF(const fr_small_args *a, int s0, int s, int c0, int c1,        \
                        R *dst, ptrdiff_t ldd) {                                      \
    const R *hp = (const R *)a->state;                                                \
    ptrdiff_t ldh = a->H;                                                             \
    if (c1 <= c0)                                                                     \
        return;                                                                       \
    if (s > s0) {                                                                     \
        int t = a->reverse ? a->T - 1 - s : s;                                        \
        int tp = a->reverse ? t + 1 : t - 1;                                          \
        hp = (const R *)a->out + (ptrdiff_t)tp * a->ldo;                              \
        ldh = (ptrdiff_t)a->T * a->ldo;                                               \
    }                                                                                 \
    GEMV(a->B, c1 - c0, a->H, hp, ldh, (const R *)a->rk + c0, a->H, dst, ldd, 0,      \
         NULL);                                                                       \
    for (int b = 0; b < a->B; b++)                                                    \
        ACT(a->act, dst + b * ldd, c1 - c0);                                          \
}
DEFINE_PARTS(f32, float, fr_gemv_f32, fr_act_f32)
DEFINE_PARTS(f64, double, fr_gemv_f64, fr_act_f64)

static void xpart(const fr_small_args *a, int s, int c0, int c1, void *dst,
                  ptrdiff_t ldd) {
    if (a->single)
        xpart_f32(a, s, c0, c1, (float *)dst, ldd);
    else
        xpart_f64(a, s, c0, c1, (double *)dst, ldd);
}

static void hpart(const fr_small_args *a, int s0, int s, int c0, int c1, void *dst,
                  ptrdiff_t ldd) {
    if (a->single)
        hpart_f32(a, s0, s, c0, c1, (float *)dst, ldd);
    else
        hpart_f64(a, s0, s, c0, c1, (double *)dst, ldd);
}

static inline size_t item(const fr_small_args *a) {
    return a->single ? sizeof(float) : sizeof(double);
}

/* Row b, step s's output position, column c of out. */
static inline char *out_at(const fr_small_args *a, int s, int b, int c) {
    int t = a->reverse ? a->T - 1 - s : s;
    return (char *)a->out + (((ptrdiff_t)b * a->T + t) * a->ldo + c) * item(a);
}

static void leader(fr_small_ctx *cx) {
    const fr_small_args *a = cx->a;
    int H = a->H, sp = a->split, nr = H - sp, alone = 0;
    ptrdiff_t ldo_row = (ptrdiff_t)a->T * a->ldo;
    xpart(a, cx->s0, 0, sp, out_at(a, cx->s0, 0, 0), ldo_row);
    for (int s = cx->s0; s < cx->s1; s++) {
        long own = alone ? 0 : now_ns();
        hpart(a, cx->s0, s, 0, sp, out_at(a, s, 0, 0), ldo_row);
        if (s + 1 < cx->s1)
            xpart(a, s + 1, 0, sp, out_at(a, s + 1, 0, 0), ldo_row);
        if (nr > 0) {
            long limit = 0;
            if (!alone) {
                own = now_ns() - own;
                limit = own < FR_SMALL_WAIT_MIN_NS ? FR_SMALL_WAIT_MIN_NS
                        : (own > FR_SMALL_WAIT_NS ? FR_SMALL_WAIT_NS : own);
            }
            if (alone || cas(&cx->claim.v, s, s + 1)) {
                xpart(a, s, sp, H, out_at(a, s, 0, sp), ldo_row);
                hpart(a, cx->s0, s, sp, H, out_at(a, s, 0, sp), ldo_row);
            } else {
                /* the helper has this half: wait for it, a bounded time */
                long t0 = 0;
                int spins = 0, got = 0;
                for (;;) {
                    if (load_acq(&cx->pub.v) >= s + 1) { got = 1; break; }
                    cpu_relax();
                    if (++spins % 16 == 0) {
                        long t = now_ns();
                        if (t0 == 0) t0 = t;
                        else if (t - t0 > limit) break;
                    }
                }
                if (got) {
                    const char *src = (const char *)a->hb + (size_t)(s & 1) * a->B * nr * item(a);
                    for (int b = 0; b < a->B; b++)
                        memcpy(out_at(a, s, b, sp), src + (size_t)b * nr * item(a),
                               (size_t)nr * item(a));
                } else {
                    /* the helper stalled: take this half and every later one */
                    store_rel(&cx->claim.v, FR_STOP);
                    alone = 1;
                    xpart(a, s, sp, H, out_at(a, s, 0, sp), ldo_row);
                    hpart(a, cx->s0, s, sp, H, out_at(a, s, 0, sp), ldo_row);
                }
            }
        }
        store_rel(&cx->done.v, s + 1);
    }
    store_rel(&cx->claim.v, FR_STOP);
}

/* The helper's half of step s goes to hb's buffer s % 2: the caller copies buffer s % 2
 * before it marks step s done, and the helper writes that buffer again (for step s + 2)
 * only after seeing step s + 1 done. */
static void helper(fr_small_ctx *cx) {
    const fr_small_args *a = cx->a;
    int H = a->H, sp = a->split, nr = H - sp;
    long ready = -1;  /* the step whose x part is in its buffer */
    for (;;) {
        long s = load_acq(&cx->claim.v);
        if (s >= cx->s1)
            return;  /* FR_STOP, or every half is taken */
        char *buf = (char *)a->hb + (size_t)(s & 1) * a->B * nr * item(a);
        if (ready != s) {
            /* claim == s means step s - 1's right half was taken, which happens only
             * once step s - 2 is done: buffer s % 2 (step s - 2's) has been copied */
            xpart(a, (int)s, sp, H, buf, nr);
            ready = s;
        }
        /* step s needs step s - 1 whole */
        long t0 = 0;
        int spins = 0;
        while (s > cx->s0 && load_acq(&cx->done.v) < s) {
            cpu_relax();
            if (++spins % 16 == 0) {
                if (load_acq(&cx->claim.v) != s)
                    break;
                long t = now_ns();
                if (t0 == 0) t0 = t;
                else if (t - t0 > FR_HELPER_WAIT_NS) return;
            }
        }
        if (!cas(&cx->claim.v, s, s + 1))
            continue;  /* the caller took it (it ran ahead or stopped) */
        if (s == fr_small_stall_step) {
            /* tests: stall after claiming, as a descheduled helper would */
            struct timespec ts = {0, 3000000};
            nanosleep(&ts, NULL);
        }
        hpart(a, cx->s0, (int)s, sp, H, buf, nr);
        __atomic_fetch_add(&cx->helped.v, 1, __ATOMIC_RELAXED);
        store_rel(&cx->pub.v, s + 1);
        if (s + 1 < cx->s1) {
            /* buffer (s + 1) % 2 held step s - 1, copied before step s - 1 was done */
            xpart(a, (int)s + 1, sp, H, (char *)a->hb + (size_t)((s + 1) & 1) * a->B * nr * item(a), nr);
            ready = s + 1;
        }
    }
}

static void small_task(void *ctx, int worker) {
    fr_small_ctx *cx = (fr_small_ctx *)ctx;
    unsigned int csr = fr_ftz_on();
    if (worker == 0)
        leader(cx);
    else if (worker == 1)
        helper(cx);
    fr_ftz_restore(csr);
}

long fr_small_steps(const fr_small_args *a, int s0, int s1, int nt) {
    fr_small_ctx cx;
    memset(&cx, 0, sizeof(cx));
    cx.a = a;
    cx.s0 = s0;
    cx.s1 = s1;
    cx.claim.v = s0;
    cx.done.v = s0;
    cx.pub.v = s0;
    if (s1 <= s0)
        return 0;
    fr_pool_run_short(nt >= 2 && a->split < a->H ? 2 : 1, small_task, &cx,
                      (long long)(s1 - s0) * a->B * a->H * (a->D + a->H)
                          < FR_POOL_SHORT_WORK);
    /* the last output is the state for the next chunk (and the final state) */
    for (int b = 0; b < a->B; b++)
        memcpy((char *)a->state + (size_t)b * a->H * item(a), out_at(a, s1 - 1, b, 0),
               (size_t)a->H * item(a));
    return cx.helped.v;
}
