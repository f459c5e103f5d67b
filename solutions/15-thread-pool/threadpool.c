/*
 * Lab 15, thread pool: the reference solution. Two monitors. The pool's
 * lock guards a first-in first-out list of queued futures and the stopping
 * flag; idle workers wait on p->work in a loop, a submit signals one of
 * them, a shutdown broadcasts to all. Each future's lock guards its state
 * and result; the worker that settles it broadcasts f->settled, since any
 * number of threads may wait for one result. A task runs with no lock
 * held, so that the workers really run side by side.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "threadpool.h"

/* ==== Futures ==== */

/* A new pending future for fn(arg), or NULL with errno set. */
static struct future *future_new(pool_task *fn, void *arg)
{
	struct future *f = malloc(sizeof(*f));
	int err;

	if (!f)
		return NULL;
	err = pthread_mutex_init(&f->lock, NULL);
	if (err != 0)
		goto free_future;
	err = pthread_cond_init(&f->settled, NULL);
	if (err != 0)
		goto destroy_lock;
	f->state = FUTURE_PENDING;
	f->result = NULL;
	f->fn = fn;
	f->arg = arg;
	f->next = NULL;
	return f;
destroy_lock:
	pthread_mutex_destroy(&f->lock);
free_future:
	free(f);
	errno = err;
	return NULL;
}

/*
 * Settle f: store its result and state, and wake every thread waiting in
 * future_get. The waiter may free f as soon as the lock is released, so
 * the caller must not touch f after this.
 */
static void future_settle(struct future *f, enum future_state state, void *result)
{
	pthread_mutex_lock(&f->lock);
	f->result = result;
	f->state = state;
	pthread_cond_broadcast(&f->settled); /* every getter, not one */
	pthread_mutex_unlock(&f->lock);
}

int future_get(struct future *f, void **result)
{
	enum future_state state;

	pthread_mutex_lock(&f->lock);
	while (f->state == FUTURE_PENDING) /* while, never if: lab 11 */
		pthread_cond_wait(&f->settled, &f->lock);
	state = f->state;
	if (state == FUTURE_DONE && result)
		*result = f->result;
	pthread_mutex_unlock(&f->lock);
	if (state == FUTURE_CANCELLED) {
		errno = ECANCELED;
		return -1;
	}
	return 0;
}

int future_done(struct future *f)
{
	int done;

	pthread_mutex_lock(&f->lock);
	done = f->state != FUTURE_PENDING;
	pthread_mutex_unlock(&f->lock);
	return done;
}

void future_free(struct future *f)
{
	if (!f)
		return;
	pthread_cond_destroy(&f->settled);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* ==== Workers ==== */

/*
 * Take the oldest task off p's queue, sleeping while the queue is empty.
 * Returns NULL once p is stopping and the queue is drained: the worker's
 * signal to leave.
 */
static struct future *take_task(struct pool *p)
{
	struct future *f;

	pthread_mutex_lock(&p->lock);
	while (!p->head && !p->stopping)
		pthread_cond_wait(&p->work, &p->lock);
	f = p->head; /* a stopping pool still hands out what is queued */
	if (f) {
		p->head = f->next;
		if (!p->head)
			p->tail = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return f;
}

/* A worker: run tasks, one after another, until take_task says stop. */
static void *worker_main(void *arg)
{
	struct pool *p = arg;
	struct future *f;

	while ((f = take_task(p)) != NULL)
		future_settle(f, FUTURE_DONE, f->fn(f->arg)); /* run with no lock held */
	return NULL;
}

/*
 * Tell p's workers to stop (when cancel, after taking the queued tasks off
 * and cancelling them), wake them all, and join them. Returns 0 or the
 * first error number pthread_join returned.
 */
static int stop_workers(struct pool *p, int cancel)
{
	struct future *dropped = NULL, *next;
	int err = 0;

	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	if (cancel) {
		dropped = p->head;
		p->head = p->tail = NULL;
	}
	pthread_cond_broadcast(&p->work); /* every sleeping worker must see it */
	pthread_mutex_unlock(&p->lock);
	for (; dropped; dropped = next) {
		next = dropped->next; /* read before settling: a getter may free it */
		future_settle(dropped, FUTURE_CANCELLED, NULL);
	}
	for (int i = 0; i < p->nworkers; i++) {
		int e = pthread_join(p->workers[i], NULL);

		if (e != 0 && err == 0)
			err = e;
	}
	return err;
}

/* Destroy p's mutex and condition variable and free it. */
static void pool_free(struct pool *p)
{
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p->workers);
	free(p);
}

/* ==== The pool ==== */

/* Start p's nworkers threads; on a failure stop and join those started. Returns 0 or an error. */
static int start_workers(struct pool *p, int nworkers)
{
	int err = 0;

	for (p->nworkers = 0; p->nworkers < nworkers; p->nworkers++) {
		err = pthread_create(&p->workers[p->nworkers], NULL, worker_main, p);
		if (err != 0)
			break; /* pthread functions return the error; errno is untouched */
	}
	if (err != 0)
		stop_workers(p, 0); /* or they would sleep on p->work for ever */
	return err;
}

struct pool *pool_create(int nworkers)
{
	struct pool *p;
	int err;

	if (nworkers < 1) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->workers = calloc((size_t)nworkers, sizeof(*p->workers));
	if (!p->workers) {
		err = ENOMEM;
		goto free_pool;
	}
	err = pthread_mutex_init(&p->lock, NULL);
	if (err != 0)
		goto free_pool;
	err = pthread_cond_init(&p->work, NULL);
	if (err != 0)
		goto destroy_lock;
	err = start_workers(p, nworkers);
	if (err != 0)
		goto destroy_cond;
	return p;
destroy_cond:
	pthread_cond_destroy(&p->work);
destroy_lock:
	pthread_mutex_destroy(&p->lock);
free_pool:
	free(p->workers);
	free(p);
	errno = err;
	return NULL;
}

struct future *pool_submit(struct pool *p, pool_task *fn, void *arg)
{
	struct future *f;

	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	f = future_new(fn, arg);
	if (!f)
		return NULL;
	pthread_mutex_lock(&p->lock);
	if (p->stopping) {
		pthread_mutex_unlock(&p->lock);
		future_free(f);
		errno = ESHUTDOWN;
		return NULL;
	}
	if (p->tail)
		p->tail->next = f;
	else
		p->head = f;
	p->tail = f;
	pthread_cond_signal(&p->work); /* one task: one worker is enough */
	pthread_mutex_unlock(&p->lock);
	return f;
}

int pool_shutdown(struct pool *p, int cancel_pending)
{
	int err = stop_workers(p, cancel_pending);

	pool_free(p);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ==== Map and reduce ==== */

int pool_map(struct pool *p, pool_task *fn, void *const args[], void *results[], size_t n)
{
	struct future **fs;
	size_t submitted, i;
	int err = 0;

	if (!fn) {
		errno = EINVAL;
		return -1;
	}
	if (n == 0)
		return 0;
	fs = malloc(n * sizeof(*fs));
	if (!fs)
		return -1;
	/* Submit them all first: waiting for each in turn would run them one at a time. */
	for (submitted = 0; submitted < n; submitted++) {
		fs[submitted] = pool_submit(p, fn, args[submitted]);
		if (!fs[submitted]) {
			err = errno;
			break;
		}
	}
	/* Then wait for each in the order of args, also after an error. */
	for (i = 0; i < submitted; i++) {
		if (future_get(fs[i], &results[i]) < 0 && err == 0)
			err = errno;
		future_free(fs[i]);
	}
	free(fs);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int pool_map_reduce(struct pool *p, pool_task *fn, void *const args[], size_t n,
		    pool_combine *combine, void *init, void **out)
{
	void **results, *acc = init;

	if (!combine) {
		errno = EINVAL;
		return -1;
	}
	results = malloc((n ? n : 1) * sizeof(*results));
	if (!results)
		return -1;
	if (pool_map(p, fn, args, results, n) < 0) {
		int err = errno; /* free() may change errno */

		free(results);
		errno = err;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		acc = combine(acc, results[i]); /* in the order of args */
	free(results);
	*out = acc;
	return 0;
}
