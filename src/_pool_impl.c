/* See _pool.h. */
#define _GNU_SOURCE  /* sched_getcpu */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include "_pool.h"

#define FR_POOL_MAX 64
/* After a short job whose helpers all woke on the caller's CPU, or one whose caller
 * waited longer than FR_POOL_LATE_NS for a helper to finish (it was descheduled with
 * work in hand), the next short jobs run on the caller alone, without waking anyone:
 * 1, then 2, 4 .. up to this many. */
#define FR_POOL_BACKOFF_MAX 16
#define FR_POOL_LATE_NS 200000L

static long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* The CPU the calling thread runs on, or -1 where unknown. */
static int current_cpu(void) {
#ifdef __linux__
    return sched_getcpu();
#else
    return -1;
#endif
}

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;        /* helpers wait here for a new job */
    pthread_cond_t done;        /* the caller waits here for helpers to finish */
    int created;                /* helper threads alive */
    unsigned long gen;          /* job generation */
    fr_task_fn fn;
    void *ctx;
    int nt;                     /* workers the current job may use */
    int next_worker;            /* next worker id to hand out */
    int active;                 /* helpers inside fn */
    int closed;                 /* the caller finished: no helper may join */
    int caller_cpu;             /* the caller's CPU when it posted the job (-1: unknown) */
    int short_job;              /* the current job is short: stand down on its CPU */
    int same_cpu;               /* helpers of this job that woke on the caller's CPU */
    int skip;                   /* jobs still to run without waking the helpers */
    int backoff;                /* the last back-off length (0: none) */
    long stats[4];              /* jobs helped, helpers that stood down, jobs run alone,
                                   short jobs whose caller waited for a late helper */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
          0, 0, NULL, NULL, 0, 1, 0, 1, -1, 0, 0, 0, 0, {0, 0, 0, 0}};

/* Serialises jobs: two Python threads calling the kernel at once take turns on the
 * helpers (each job still runs on its caller). */
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static int atfork_done = 0;
static int backoff_on = 1;

long fr_claim(long *counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

void fr_pool_stats(long out[4]) {
    pthread_mutex_lock(&pool.lock);
    for (int i = 0; i < 4; i++)
        out[i] = pool.stats[i];
    pthread_mutex_unlock(&pool.lock);
}

void fr_pool_backoff(int on) {
    pthread_mutex_lock(&pool.lock);
    backoff_on = on;
    if (!on) {
        pool.skip = 0;
        pool.backoff = 0;
    }
    pthread_mutex_unlock(&pool.lock);
}

static void *helper_main(void *arg) {
    unsigned long seen = (unsigned long)(size_t)arg;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.gen == seen)
            pthread_cond_wait(&pool.wake, &pool.lock);
        seen = pool.gen;
        if (pool.closed || pool.next_worker >= pool.nt)
            continue;
        if (pool.short_job && pool.caller_cpu >= 0 && current_cpu() == pool.caller_cpu) {
            /* woken on the caller's own CPU (the others are busy): on a short job
             * running here would only take turns with the caller, so stand down */
            pool.same_cpu++;
            pool.stats[1]++;
            continue;
        }
        int worker = pool.next_worker++;
        fr_task_fn fn = pool.fn;
        void *ctx = pool.ctx;
        pool.active++;
        pthread_mutex_unlock(&pool.lock);
        fn(ctx, worker);
        pthread_mutex_lock(&pool.lock);
        if (--pool.active == 0 && pool.closed)
            pthread_cond_signal(&pool.done);
    }
    return NULL;
}

static void reset_in_child(void) {
    /* only the forking thread survives a fork: start again without helpers */
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pthread_mutex_init(&job_lock, NULL);
    pool.created = 0;
    pool.active = 0;
    pool.closed = 1;
}

static void grow(int helpers) {
    if (!atfork_done) {
        pthread_atfork(NULL, NULL, reset_in_child);
        atfork_done = 1;
    }
    while (pool.created < helpers) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&th, &attr, helper_main, (void *)(size_t)pool.gen);
        pthread_attr_destroy(&attr);
        if (rc != 0)
            break;  /* fewer helpers: the caller does the rest */
        pool.created++;
    }
}

int fr_pool_run(int nt, fr_task_fn fn, void *ctx) {
    return fr_pool_run_short(nt, fn, ctx, 0);
}

int fr_pool_run_short(int nt, fr_task_fn fn, void *ctx, int short_job) {
    int ran;
    if (nt > FR_POOL_MAX)
        nt = FR_POOL_MAX;
    if (nt <= 1) {
        fn(ctx, 0);
        return 1;
    }
    pthread_mutex_lock(&job_lock);
    pthread_mutex_lock(&pool.lock);
    if (pool.skip > 0 && short_job) {
        /* backing off: the helpers keep sleeping */
        pool.skip--;
        pool.stats[2]++;
        pthread_mutex_unlock(&pool.lock);
        fn(ctx, 0);
        pthread_mutex_unlock(&job_lock);
        return 1;
    }
    grow(nt - 1);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.nt = nt;
    pool.next_worker = 1;
    pool.active = 0;
    pool.closed = 0;
    pool.caller_cpu = current_cpu();
    pool.short_job = short_job;
    pool.same_cpu = 0;
    pool.gen++;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    fn(ctx, 0);
    pthread_mutex_lock(&pool.lock);
    pool.closed = 1;
    long waited = 0;
    if (pool.active > 0) {
        long t0 = now_ns();
        while (pool.active > 0)
            pthread_cond_wait(&pool.done, &pool.lock);
        waited = now_ns() - t0;
    }
    ran = pool.next_worker;
    if (ran > 1)
        pool.stats[0]++;
    if (short_job && waited > FR_POOL_LATE_NS)
        pool.stats[3]++;
    if (ran > 1 && !(short_job && waited > FR_POOL_LATE_NS)) {
        pool.backoff = 0;
    } else if ((pool.same_cpu > 0 || ran > 1) && backoff_on) {
        /* every helper that woke stood down, or one kept the caller waiting: the
         * other CPUs are busy. Helpers that did not wake in time are no such sign
         * (they are often late on an idle machine too): they start no back-off. */
        pool.backoff = pool.backoff == 0 ? 1
                       : (pool.backoff < FR_POOL_BACKOFF_MAX ? 2 * pool.backoff
                                                              : FR_POOL_BACKOFF_MAX);
        pool.skip = pool.backoff;
    }
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&job_lock);
    return ran;
}
