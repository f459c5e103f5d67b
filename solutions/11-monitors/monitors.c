/*
 * Lab 11, monitors: the reference solution. Each object is a monitor: one
 * mutex guards its state, and a thread that must wait for the state to
 * change sleeps on a condition variable, in a loop that checks the
 * condition again after every wake-up. A change that one waiter can use
 * (an item, a free slot) signals one waiter; a change that every waiter
 * must see (a close, a set event, a completed round) broadcasts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "monitors.h"

/* ==== Waiting with a timeout ==== */

/* Initialise a condition variable whose timed waits use CLOCK_MONOTONIC. */
static int cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int err = pthread_condattr_init(&attr);

	if (err != 0)
		return err;
	err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (err == 0)
		err = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return err;
}

/* The CLOCK_MONOTONIC time timeout_ms from now, nanoseconds kept below a second. */
static struct timespec deadline_after(long timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * One wait on cond, which the caller rechecks in a loop: for ever when
 * timeout_ms < 0, not at all when it is 0 (ETIMEDOUT at once), else until
 * *deadline. Returns 0 (woken, maybe spuriously), ETIMEDOUT, or an error.
 */
static int wait_once(pthread_cond_t *cond, pthread_mutex_t *lock, long timeout_ms,
		     const struct timespec *deadline)
{
	if (timeout_ms < 0)
		return pthread_cond_wait(cond, lock);
	if (timeout_ms == 0)
		return ETIMEDOUT;
	return pthread_cond_timedwait(cond, lock, deadline);
}

/* Set errno to err and return -1, or return 0 when err is 0. */
static int result(int err)
{
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ==== A blocking queue ==== */

int bq_init(struct bqueue *q, size_t capacity)
{
	int err;

	if (capacity == 0)
		return result(EINVAL);
	q->items = calloc(capacity, sizeof(*q->items));
	if (!q->items)
		return -1;
	err = pthread_mutex_init(&q->lock, NULL);
	if (err != 0)
		goto free_items;
	err = cond_init_monotonic(&q->not_empty);
	if (err != 0)
		goto destroy_lock;
	err = cond_init_monotonic(&q->not_full);
	if (err != 0)
		goto destroy_not_empty;
	q->capacity = capacity;
	q->head = q->count = 0;
	q->closed = 0;
	return 0;
destroy_not_empty:
	pthread_cond_destroy(&q->not_empty);
destroy_lock:
	pthread_mutex_destroy(&q->lock);
free_items:
	free(q->items);
	return result(err);
}

int bq_destroy(struct bqueue *q)
{
	int err = pthread_cond_destroy(&q->not_full);
	int e2 = pthread_cond_destroy(&q->not_empty);
	int e3 = pthread_mutex_destroy(&q->lock);

	free(q->items);
	q->items = NULL;
	return result(err ? err : e2 ? e2 : e3);
}

int bq_put(struct bqueue *q, void *item, long timeout_ms)
{
	struct timespec deadline = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
	int err = 0;

	pthread_mutex_lock(&q->lock);
	/* while, not if: after any wake-up the slot may be gone, or never was there. */
	while (q->count == q->capacity && !q->closed && err == 0)
		err = wait_once(&q->not_full, &q->lock, timeout_ms, &deadline);
	if (q->closed) {
		err = EPIPE;
	} else if (q->count < q->capacity) {
		q->items[(q->head + q->count) % q->capacity] = item;
		q->count++;
		err = 0;
		pthread_cond_signal(&q->not_empty); /* one item: one consumer can use it */
	}
	pthread_mutex_unlock(&q->lock);
	return result(err);
}

int bq_get(struct bqueue *q, void **item, long timeout_ms)
{
	struct timespec deadline = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
	int err = 0;

	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed && err == 0)
		err = wait_once(&q->not_empty, &q->lock, timeout_ms, &deadline);
	if (q->count > 0) {
		*item = q->items[q->head];
		q->head = (q->head + 1) % q->capacity;
		q->count--;
		err = 0;
		pthread_cond_signal(&q->not_full); /* one slot: one producer can use it */
	} else if (q->closed) {
		err = EPIPE;
	}
	pthread_mutex_unlock(&q->lock);
	return result(err);
}

int bq_close(struct bqueue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	/* Every waiter must see the close: signal would wake one and strand the rest. */
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* ==== An Event ==== */

int event_init(struct event *e)
{
	int err = pthread_mutex_init(&e->lock, NULL);

	if (err != 0)
		return result(err);
	err = cond_init_monotonic(&e->cond);
	if (err != 0) {
		pthread_mutex_destroy(&e->lock);
		return result(err);
	}
	e->flag = 0;
	return 0;
}

int event_destroy(struct event *e)
{
	int err = pthread_cond_destroy(&e->cond);
	int e2 = pthread_mutex_destroy(&e->lock);

	return result(err ? err : e2);
}

void event_set(struct event *e)
{
	pthread_mutex_lock(&e->lock);
	e->flag = 1;
	pthread_cond_broadcast(&e->cond); /* every waiter, not one */
	pthread_mutex_unlock(&e->lock);
}

void event_clear(struct event *e)
{
	pthread_mutex_lock(&e->lock);
	e->flag = 0;
	pthread_mutex_unlock(&e->lock);
}

int event_is_set(struct event *e)
{
	int flag;

	pthread_mutex_lock(&e->lock);
	flag = e->flag;
	pthread_mutex_unlock(&e->lock);
	return flag;
}

int event_wait(struct event *e, long timeout_ms)
{
	struct timespec deadline = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
	int err = 0, flag;

	pthread_mutex_lock(&e->lock);
	while (!e->flag && err == 0)
		err = wait_once(&e->cond, &e->lock, timeout_ms, &deadline);
	flag = e->flag;
	pthread_mutex_unlock(&e->lock);
	if (flag || err == ETIMEDOUT)
		return flag;
	return result(err);
}

/* ==== A reusable Barrier ==== */

int barrier_init(struct barrier *b, int parties)
{
	int err;

	if (parties < 1)
		return result(EINVAL);
	err = pthread_mutex_init(&b->lock, NULL);
	if (err != 0)
		return result(err);
	err = pthread_cond_init(&b->cond, NULL);
	if (err != 0) {
		pthread_mutex_destroy(&b->lock);
		return result(err);
	}
	b->parties = parties;
	b->waiting = 0;
	b->generation = 0;
	return 0;
}

int barrier_destroy(struct barrier *b)
{
	int err = pthread_cond_destroy(&b->cond);
	int e2 = pthread_mutex_destroy(&b->lock);

	return result(err ? err : e2);
}

int barrier_wait(struct barrier *b)
{
	unsigned long round;
	int index;

	pthread_mutex_lock(&b->lock);
	round = b->generation;
	index = b->waiting++;
	if (b->waiting == b->parties) {
		/* The last arrival opens the next round and releases this one, everyone. */
		b->waiting = 0;
		b->generation++;
		pthread_cond_broadcast(&b->cond);
	} else {
		/* Wait for the round to change, not for a count another round may reuse. */
		while (b->generation == round)
			pthread_cond_wait(&b->cond, &b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return index;
}
