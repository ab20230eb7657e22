/* A tiny thread pool for the kernel: work handed out dynamically, waits that sleep.
 *
 * fr_pool_run(nt, fn, ctx) runs fn(ctx, worker) on the calling thread (worker 0) and on
 * up to nt - 1 helper threads (workers 1 .. nt-1), and returns when every one that
 * started has returned. fn claims its work itself (fr_claim on a counter in ctx), so a
 * helper that the OS does not schedule in time simply does nothing: the caller runs
 * every task and never waits for a thread that has not started. Helpers and the
 * caller sleep on condition variables (no spinning), so on a busy CPU the kernel's
 * threads do not steal time from each other or from other processes, and nothing is
 * configured through the environment (unlike OMP_WAIT_POLICY). The helpers are created
 * on first use, kept for later calls, and forgotten in a forked child.
 *
 * A busy CPU: a helper that wakes up on the caller's own CPU (Linux puts it there when
 * every other CPU is busy) can only take turns with the caller. On a short job
 * (fr_pool_run_short: under ~1 ms, FR_POOL_SHORT_WORK multiply-adds) it stands down
 * and the caller runs the job alone, and the next 1, then 2, 4 .. 16 short jobs run
 * without waking the helpers at all (the wake-up and stand-down cost ~5-10 us a job);
 * so do they after a short job whose caller waited more than 200 us for a helper to
 * finish (descheduled with a task in hand). The first job a helper joins without
 * such a wait ends the back-off. A helper that is merely late is not
 * a sign of a busy CPU and starts no back-off. On a long job the helper joins
 * wherever it woke: the scheduler has time to move it to a CPU of its own.
 */
#ifndef FASTRNN_POOL_H
#define FASTRNN_POOL_H

typedef void (*fr_task_fn)(void *ctx, int worker);

/* Jobs of fewer multiply-adds than this are short (fr_pool_run_short). */
#define FR_POOL_SHORT_WORK (1 << 24)

/* Returns the number of workers that ran fn (>= 1). */
int fr_pool_run(int nt, fr_task_fn fn, void *ctx);
/* fr_pool_run for a job known to be short (short_job != 0): see above. */
int fr_pool_run_short(int nt, fr_task_fn fn, void *ctx, int short_job);
/* The next index of a shared counter (an atomic fetch-and-add). */
long fr_claim(long *counter);
/* Counters since the process started (tests): [0] jobs a helper joined, [1] helpers
 * that woke on the caller's CPU and stood down, [2] short jobs run without waking
 * helpers (backing off), [3] short jobs whose caller waited > 200 us for a helper. */
void fr_pool_stats(long out[4]);
/* on = 0: never back off (and end a back-off in course); on = 1: back off (default). */
void fr_pool_backoff(int on);
#endif
