/*
 * Lab 13, starvation: the reference solution.
 *
 * A fair readers-writers lock on one mutex and two condition variables.
 * Fairness comes from two rules and one trick:
 *  - a reader that finds a writer inside or waiting does not go in: it
 *    queues, so that overlapping readers cannot keep a writer out;
 *  - a writer that leaves lets in every reader queued at that moment before
 *    any other writer, so that writers one after another cannot keep the
 *    readers out;
 *  - the trick: the leaving writer counts those readers in itself
 *    (readers += waiting_readers) before it wakes them. A writer that comes
 *    along before they have woken up then sees readers inside and waits,
 *    instead of slipping in ahead of them. The readers recognise their turn
 *    by the batch number, which also makes them immune to spurious wake-ups.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "starvation.h"

struct rwlock {
	pthread_mutex_t mutex;     /* guards every field below */
	pthread_cond_t readers_go; /* broadcast when a writer lets the waiting readers in */
	pthread_cond_t writer_go;  /* signalled when a waiting writer may try to go in */
	int readers;               /* readers inside, or let in and about to wake up */
	int writer;                /* 1 while a writer is inside */
	pthread_t owner;           /* that writer, while writer is 1 */
	int waiting_readers;       /* readers queued for the next batch */
	int waiting_writers;       /* writers waiting to go in */
	unsigned long batch;       /* bumped each time a batch of readers is let in */
};

/* ==== Entering and leaving the lock's own mutex ==== */

/* Check rw and lock its mutex. Returns 0, or -1 with errno set. */
static int rw_enter(struct rwlock *rw)
{
	int err;

	if (!rw) {
		errno = EINVAL;
		return -1;
	}
	err = pthread_mutex_lock(&rw->mutex);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Unlock rw's mutex. Returns 0 when err is 0, else -1 with errno err. */
static int rw_leave(struct rwlock *rw, int err)
{
	int unlock_err = pthread_mutex_unlock(&rw->mutex);

	if (err == 0)
		err = unlock_err;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ==== Making and unmaking ==== */

struct rwlock *rw_create(void)
{
	struct rwlock *rw = calloc(1, sizeof(*rw));
	int err;

	if (!rw)
		return NULL;
	if ((err = pthread_mutex_init(&rw->mutex, NULL)) != 0)
		goto free_rw;
	if ((err = pthread_cond_init(&rw->readers_go, NULL)) != 0)
		goto destroy_mutex;
	if ((err = pthread_cond_init(&rw->writer_go, NULL)) != 0)
		goto destroy_readers_go;
	return rw;
destroy_readers_go:
	pthread_cond_destroy(&rw->readers_go);
destroy_mutex:
	pthread_mutex_destroy(&rw->mutex);
free_rw:
	free(rw);
	errno = err;
	return NULL;
}

int rw_destroy(struct rwlock *rw)
{
	int busy;

	if (rw_enter(rw) < 0)
		return -1;
	busy = rw->readers || rw->writer || rw->waiting_readers || rw->waiting_writers;
	if (busy)
		return rw_leave(rw, EBUSY);
	if (rw_leave(rw, 0) < 0)
		return -1;
	pthread_cond_destroy(&rw->writer_go);
	pthread_cond_destroy(&rw->readers_go);
	pthread_mutex_destroy(&rw->mutex);
	free(rw);
	return 0;
}

/* ==== Readers ==== */

int rw_rdlock(struct rwlock *rw)
{
	unsigned long batch;
	int err = 0;

	if (rw_enter(rw) < 0)
		return -1;
	if (!rw->writer && rw->waiting_writers == 0) {
		rw->readers++;
		return rw_leave(rw, 0);
	}
	/* A writer is inside or waiting: queue for the batch after it. */
	batch = rw->batch;
	rw->waiting_readers++;
	while (rw->batch == batch && err == 0)
		err = pthread_cond_wait(&rw->readers_go, &rw->mutex);
	if (err != 0)
		rw->waiting_readers--;
	/* Otherwise the writer that let us in has already counted us in readers. */
	return rw_leave(rw, err);
}

int rw_tryrdlock(struct rwlock *rw)
{
	if (rw_enter(rw) < 0)
		return -1;
	if (rw->writer || rw->waiting_writers > 0)
		return rw_leave(rw, EBUSY);
	rw->readers++;
	return rw_leave(rw, 0);
}

int rw_rdunlock(struct rwlock *rw)
{
	int err = 0;

	if (rw_enter(rw) < 0)
		return -1;
	if (rw->readers == 0)
		return rw_leave(rw, EPERM);
	if (--rw->readers == 0 && rw->waiting_writers > 0)
		err = pthread_cond_signal(&rw->writer_go);
	return rw_leave(rw, err);
}

/* ==== Writers ==== */

int rw_wrlock(struct rwlock *rw)
{
	int err = 0;

	if (rw_enter(rw) < 0)
		return -1;
	rw->waiting_writers++;
	while ((rw->writer || rw->readers > 0) && err == 0)
		err = pthread_cond_wait(&rw->writer_go, &rw->mutex);
	rw->waiting_writers--;
	if (err == 0) {
		rw->writer = 1;
		rw->owner = pthread_self();
	}
	return rw_leave(rw, err);
}

int rw_trywrlock(struct rwlock *rw)
{
	if (rw_enter(rw) < 0)
		return -1;
	if (rw->writer || rw->readers > 0)
		return rw_leave(rw, EBUSY);
	rw->writer = 1;
	rw->owner = pthread_self();
	return rw_leave(rw, 0);
}

int rw_wrunlock(struct rwlock *rw)
{
	int err = 0;

	if (rw_enter(rw) < 0)
		return -1;
	if (!rw->writer || !pthread_equal(rw->owner, pthread_self()))
		return rw_leave(rw, EPERM);
	rw->writer = 0;
	if (rw->waiting_readers > 0) {
		/* Hand the lock to every queued reader before any other writer. */
		rw->readers += rw->waiting_readers;
		rw->waiting_readers = 0;
		rw->batch++;
		err = pthread_cond_broadcast(&rw->readers_go);
	} else if (rw->waiting_writers > 0) {
		err = pthread_cond_signal(&rw->writer_go);
	}
	return rw_leave(rw, err);
}
