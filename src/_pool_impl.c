/* See _pool.h. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include "_pool.h"

/* A helper that started a job and was then descheduled (the machine has more runnable
 * threads than cores) holds the caller at the job's end: the caller cannot return while
 * a helper may still touch the job. When that wait passes FR_LATE_NS and a quarter of
 * the caller's own time, the next jobs run on the caller alone, for a stretch that
 * doubles while it keeps happening (up to FR_STRETCH_MAX jobs) and halves after a job
 * whose helpers kept up. Which thread runs a task never changes a result. */
#define FR_LATE_NS 50000LL
#define FR_STRETCH_MAX 1024

#define FR_POOL_MAX 64

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
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
          0, 0, NULL, NULL, 0, 1, 0, 1};

/* Serialises jobs: two Python threads calling the kernel at once take turns on the
 * helpers (each job still runs on its caller). */
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static int atfork_done = 0;
/* guarded by job_lock */
static int solo_left = 0, stretch = 0;
static long n_jobs = 0, n_solo = 0, n_late = 0;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void fr_pool_stats(long *jobs, long *solo, long *late) {
    pthread_mutex_lock(&job_lock);
    *jobs = n_jobs;
    *solo = n_solo;
    *late = n_late;
    pthread_mutex_unlock(&job_lock);
}

long fr_claim(long *counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

static void *helper_main(void *arg) {
    unsigned long seen = (unsigned long)(size_t)arg;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.gen == seen)
            pthread_cond_wait(&pool.wake, &pool.lock);
        seen = pool.gen;
        if (pool.closed || pool.next_worker >= pool.nt)
            continue;
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
    solo_left = stretch = 0;
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
    int ran;
    if (nt > FR_POOL_MAX)
        nt = FR_POOL_MAX;
    if (nt <= 1) {
        fn(ctx, 0);
        return 1;
    }
    pthread_mutex_lock(&job_lock);
    n_jobs++;
    if (solo_left > 0) {
        solo_left--;
        n_solo++;
        pthread_mutex_unlock(&job_lock);
        fn(ctx, 0);
        return 1;
    }
    pthread_mutex_lock(&pool.lock);
    grow(nt - 1);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.nt = nt;
    pool.next_worker = 1;
    pool.active = 0;
    pool.closed = 0;
    pool.gen++;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    long long t0 = now_ns();
    fn(ctx, 0);
    long long t1 = now_ns();
    pthread_mutex_lock(&pool.lock);
    pool.closed = 1;
    while (pool.active > 0)
        pthread_cond_wait(&pool.done, &pool.lock);
    ran = pool.next_worker;
    pthread_mutex_unlock(&pool.lock);
    long long waited = now_ns() - t1;
    if (waited > FR_LATE_NS && waited > (t1 - t0) / 4) {
        n_late++;
        stretch = stretch > 0 ? (stretch * 2 < FR_STRETCH_MAX ? stretch * 2 : FR_STRETCH_MAX)
                              : 8;
        solo_left = stretch;
    } else {
        stretch /= 2;
    }
    pthread_mutex_unlock(&job_lock);
    return ran;
}
