/*
 * Lab 15: a thread pool with futures, the C version of Python's
 * concurrent.futures.ThreadPoolExecutor.
 *
 * A pool is a fixed set of worker threads and one queue of tasks. The
 * threads are started once, by pool_create, and each loops: take the oldest
 * task off the queue (sleeping while it is empty), run it, store its result,
 * take the next. pool_submit queues a task and hands back at once a future:
 * a small object that will hold the task's result, which future_get waits
 * for. pool_map and pool_map_reduce are built on the two, as Executor.map
 * and functools.reduce are. pool_shutdown stops the pool: no new tasks, the
 * queue drained (or cancelled), every worker joined, everything freed.
 *
 * Two monitors (lab 11) make it work:
 *  - the pool: its lock guards the queue and the stopping flag; idle
 *    workers sleep on the condition variable work;
 *  - each future: its lock guards state and result; future_get sleeps on
 *    settled until the state is no longer FUTURE_PENDING.
 *
 * This header is the contract. Do not edit it: the grader builds your
 * threadpool.c against its own copy.
 */
#ifndef THREADPOOL_H
#define THREADPOOL_H

#include <pthread.h>
#include <stddef.h>

/* A task: what a worker runs. Its return value becomes the future's result. */
typedef void *pool_task(void *arg);

/* A reducer for pool_map_reduce: the accumulator so far combined with one more value. */
typedef void *pool_combine(void *acc, void *value);

/* ==== Futures ==== */

enum future_state {
	FUTURE_PENDING,   /* queued or running: future_get waits */
	FUTURE_DONE,      /* the task ran; result holds what it returned */
	FUTURE_CANCELLED, /* pool_shutdown(p, 1) dropped the task before it started */
};

struct future {
	pthread_mutex_t lock;    /* protects state and result */
	pthread_cond_t settled;  /* future_get sleeps here while state is FUTURE_PENDING */
	enum future_state state; /* see above; only ever leaves FUTURE_PENDING once */
	void *result;            /* the task's return value, once state is FUTURE_DONE */
	pool_task *fn;           /* the task to run: set by pool_submit, read by a worker */
	void *arg;               /* its argument */
	struct future *next;     /* the next task in the pool's queue (under the pool's lock) */
};

/*
 * Wait until f's task has run, then store what it returned in *result
 * (when result is not NULL) and return 0. Returns at once when the task
 * has already run. Otherwise sleeps on f->settled, never spinning, in a
 * loop that reads f->state under f->lock: a wake-up is a hint, not a
 * promise (lab 11). May be called several times and from several threads
 * at once; each gets the same result.
 *
 * Errors: -1 with errno ECANCELED when pool_shutdown(p, 1) cancelled the
 * task before it started (*result is left alone).
 */
int future_get(struct future *f, void **result);

/*
 * Whether f is settled: 1 once its task has run or was cancelled, 0 while
 * it is queued or running. Never waits for the task. Can't fail.
 */
int future_done(struct future *f);

/*
 * Destroy f's mutex and condition variable and free it. f must be settled
 * (future_get returned, future_done said 1, or its pool was shut down):
 * a pending future is still in use by the pool. NULL does nothing.
 */
void future_free(struct future *f);

/* ==== The pool ==== */

struct pool {
	pthread_mutex_t lock; /* protects head, tail and stopping */
	pthread_cond_t work;  /* idle workers sleep here until there is a task or a stop */
	struct future *head;  /* the oldest queued task, the next to run; NULL: empty */
	struct future *tail;  /* the newest, after which pool_submit appends */
	int stopping;         /* pool_shutdown was called: pool_submit refuses tasks */
	int nworkers;         /* how many worker threads run */
	pthread_t *workers;   /* their ids, for pthread_join */
};

/*
 * Make a pool of nworkers worker threads, every one started before
 * pool_create returns, each asleep on p->work until there is a task.
 *
 * Returns the pool, or NULL with errno: EINVAL when nworkers < 1; ENOMEM;
 * the error number that pthread_create (EAGAIN: too many threads) or a
 * pthread_*_init call returned. On error nothing is left behind: the
 * workers already started are told to stop, woken and joined, and all
 * memory is freed. Cleanup: pool_shutdown.
 */
struct pool *pool_create(int nworkers);

/*
 * Queue fn(arg) to run on one of p's workers and return at once a new
 * future for its result, FUTURE_PENDING. Tasks start in the order they
 * were submitted (first in, first out); each submit wakes one sleeping
 * worker. Any thread may submit, a task running on p too.
 *
 * Returns the future, which the caller owns (future_free once settled), or
 * NULL with errno: EINVAL when fn is NULL; ESHUTDOWN once pool_shutdown has
 * been called on p (also while it still waits for tasks to finish);
 * ENOMEM.
 */
struct future *pool_submit(struct pool *p, pool_task *fn, void *arg);

/*
 * Run fn(args[i]) for every i from 0 to n - 1 on p's workers and store each
 * return value in results[i]: in the order of args, whatever order the
 * tasks finished in (Python's Executor.map). Every task is submitted before
 * any is waited for, so that they run side by side. Returns once all have
 * run; n = 0 does nothing.
 *
 * Returns 0, or -1 with errno: EINVAL when fn is NULL; the errno of a
 * failed pool_submit (ESHUTDOWN, ENOMEM) or future_get (ECANCELED). Even
 * then, every task already submitted has finished before pool_map returns
 * (tasks may use memory the caller frees next), and no future is left
 * allocated; results[] is then undefined.
 */
int pool_map(struct pool *p, pool_task *fn, void *const args[], void *results[], size_t n);

/*
 * Map, then reduce: run fn over args[0..n-1] as pool_map does, then fold
 * the results in the calling thread, in the order of args:
 *	acc = init; acc = combine(acc, r[0]); ...; acc = combine(acc, r[n-1]);
 * and store acc in *out (init when n is 0). The order matters to a combine
 * that is not commutative.
 *
 * Returns 0, or -1 with errno as pool_map (also EINVAL for a NULL combine,
 * ENOMEM for the results array); *out is left alone then.
 */
int pool_map_reduce(struct pool *p, pool_task *fn, void *const args[], size_t n,
		    pool_combine *combine, void *init, void **out);

/*
 * Stop p and free it. From this call on, pool_submit on p fails with
 * ESHUTDOWN. With cancel_pending 0, every task still queued runs first
 * (Python's shutdown(wait=True)); with 1, the tasks not yet started are
 * taken off the queue and their futures settled as FUTURE_CANCELLED, their
 * waiters woken (Python's cancel_futures=True). Tasks already running
 * finish either way. Then every worker is woken — all of them, since all
 * may be asleep on p->work — and joined, and the pool's mutex, condition
 * variable and memory are freed. The futures stay valid: they are the
 * caller's, to future_free.
 *
 * Returns 0, or -1 with errno set to the error number pthread_join
 * returned (p is freed all the same). Must not be called from one of p's
 * own tasks: a worker cannot join itself.
 */
int pool_shutdown(struct pool *p, int cancel_pending);

#endif
