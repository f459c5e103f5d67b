/*
 * Lab 15, thread pool: your implementation of threadpool.h.
 *
 * Two monitors, each a mutex and a condition variable (lab 11):
 *  - the pool: p->lock guards the queue (head, tail) and p->stopping; idle
 *    workers sleep on p->work;
 *  - a future: f->lock guards f->state and f->result; future_get sleeps on
 *    f->settled until the state is no longer FUTURE_PENDING.
 *
 * A worker's life: lock the pool; while the queue is empty and the pool is
 * not stopping, wait on p->work; take the head; unlock; run the task with
 * no lock held; store its result in its future and wake the getters; again.
 *
 * Read threadpool.h for the exact contract, then follow the TODOs in order.
 * `make run LAB=15` runs the demo; `make grade LAB=15` grades this file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "threadpool.h"

/* ==== Futures ==== */

/*
 * TODO(15): write two static helpers for futures:
 *
 * - future_new(fn, arg): malloc a struct future, pthread_mutex_init its
 *   lock and pthread_cond_init its settled condition variable (undo what
 *   succeeded when a later step fails: goto), state FUTURE_PENDING, result
 *   NULL, fn and arg stored, next NULL. NULL with errno on failure.
 *
 * - future_settle(f, state, result): under f->lock, store result and
 *   state, then pthread_cond_broadcast(&f->settled): several threads may
 *   wait for the same future, and signal would wake only one. Change the
 *   state under the lock, or a getter between its check and its wait
 *   sleeps through the change (a lost wake-up). Do not touch f after the
 *   unlock: the getter may free it at once.
 */

int future_get(struct future *f, void **result)
{
	/*
	 * TODO(15): lock f->lock; while (f->state == FUTURE_PENDING) wait on
	 * f->settled — a while, not an if: a wake-up is a hint, not a promise.
	 * Read the state first and wait only if it is pending: a task that
	 * finished before you came has already broadcast, and nobody will
	 * broadcast again. Never spin on the state instead of waiting.
	 */
	/*
	 * TODO(15): FUTURE_DONE: *result = f->result (when result is not
	 * NULL), unlock, return 0. FUTURE_CANCELLED: unlock, errno ECANCELED,
	 * return -1.
	 */
	(void)f;
	(void)result;
	errno = ENOSYS;
	return -1;
}

int future_done(struct future *f)
{
	/* TODO(15): read f->state under f->lock: 1 when it is not FUTURE_PENDING. */
	(void)f;
	return 0;
}

void future_free(struct future *f)
{
	/* TODO(15): NULL does nothing; else destroy the condition variable and the mutex, free f. */
	(void)f;
}

/* ==== Workers ==== */

/*
 * TODO(15): write the worker as two static functions:
 *
 * - take_task(p): lock p->lock; while the queue is empty and the pool is
 *   not stopping, pthread_cond_wait(&p->work, &p->lock). Then, if there is
 *   a head, unlink it (head = head->next; tail = NULL when that empties the
 *   queue) — under the lock, or two workers take the same task. Unlock and
 *   return it; NULL (empty and stopping) means: leave. A stopping pool
 *   still hands out what is queued: pool_shutdown(p, 0) drains the queue.
 *
 * - worker_main(arg): while ((f = take_task(p))) settle f with FUTURE_DONE
 *   and what f->fn(f->arg) returned. Run the task with no lock held: a
 *   worker that holds p->lock while its task runs makes every other worker
 *   wait, and the pool runs one task at a time.
 */

/*
 * TODO(15): and a static stop_workers(p, cancel) for pool_shutdown and for
 * pool_create's error path: under p->lock set stopping (when cancel, also
 * take the whole queue off: head = tail = NULL, keeping the list), then
 * pthread_cond_broadcast(&p->work) — every idle worker sleeps there, and a
 * signal wakes one: the others would sleep for ever and their join would
 * never return. Unlock; settle each dropped future as FUTURE_CANCELLED
 * (read f->next before settling f); pthread_join every worker.
 */

/* ==== The pool ==== */

struct pool *pool_create(int nworkers)
{
	/*
	 * TODO(15): nworkers < 1 is EINVAL. calloc the pool and its array of
	 * nworkers pthread_t, init the mutex and the condition variable.
	 */
	/*
	 * TODO(15): start the workers: pthread_create(&p->workers[i], NULL,
	 * worker_main, p), counting in p->nworkers. pthread_create returns an
	 * error number (it does not set errno). When one fails, the workers
	 * already started are asleep on p->work: stop_workers(p, 0) to wake
	 * and join them, then destroy and free everything, set errno to the
	 * error and return NULL.
	 */
	(void)nworkers;
	errno = ENOSYS;
	return NULL;
}

struct future *pool_submit(struct pool *p, pool_task *fn, void *arg)
{
	/*
	 * TODO(15): fn NULL is EINVAL. Make a future (future_new), lock
	 * p->lock. When p->stopping is set, unlock, free the future and fail
	 * with ESHUTDOWN: the workers may have left already, and the task
	 * would never run.
	 */
	/*
	 * TODO(15): append the future at the tail (head too when the queue was
	 * empty), pthread_cond_signal(&p->work) — one task needs one worker —
	 * unlock, return the future.
	 */
	(void)p;
	(void)fn;
	(void)arg;
	errno = ENOSYS;
	return NULL;
}

int pool_shutdown(struct pool *p, int cancel_pending)
{
	/*
	 * TODO(15): stop_workers(p, cancel_pending), then destroy the
	 * condition variable and the mutex, free the workers array and p.
	 * Return -1 with errno set to the error of a failed pthread_join.
	 */
	(void)p;
	(void)cancel_pending;
	errno = ENOSYS;
	return -1;
}

/* ==== Map and reduce ==== */

int pool_map(struct pool *p, pool_task *fn, void *const args[], void *results[], size_t n)
{
	/*
	 * TODO(15): fn NULL is EINVAL; n 0 returns 0. malloc an array of n
	 * futures and submit every task FIRST: a loop that submits one and
	 * waits for it before the next runs them one at a time.
	 */
	/*
	 * TODO(15): then future_get(fs[i], &results[i]) for i in order — the
	 * order of args, not the order the tasks finish in — and future_free
	 * each. When a submit failed half-way, still wait for (and free) the
	 * futures submitted before it: those tasks use args the caller may
	 * free as soon as you return. Keep the first errno, return -1.
	 */
	(void)p;
	(void)fn;
	(void)args;
	(void)results;
	(void)n;
	errno = ENOSYS;
	return -1;
}

int pool_map_reduce(struct pool *p, pool_task *fn, void *const args[], size_t n,
		    pool_combine *combine, void *init, void **out)
{
	/*
	 * TODO(15): combine NULL is EINVAL. malloc n results, pool_map into
	 * them, then in this thread: acc = init; for i in 0..n-1, acc =
	 * combine(acc, results[i]); *out = acc. Free the array on every path.
	 */
	(void)p;
	(void)fn;
	(void)args;
	(void)n;
	(void)combine;
	(void)init;
	(void)out;
	errno = ENOSYS;
	return -1;
}
