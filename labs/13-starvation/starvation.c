/*
 * Lab 13, starvation: your implementation of starvation.h.
 *
 * A readers-writers lock made of one mutex, which guards a few counters,
 * and two condition variables, where readers and writers wait. Getting
 * exclusion right is the easy half. The hard half is fairness: no writer
 * kept out for ever by readers that keep overlapping, and no reader kept
 * out for ever by writers that keep coming.
 *
 * Read starvation.h for the exact contract, then follow the TODOs in order.
 * `make run LAB=13` runs the demo; `make grade LAB=13` grades this file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "starvation.h"

/*
 * A suggestion for the lock's fields; change them as you like. Every field
 * but the mutex and the condition variables is read and written only with
 * the mutex held.
 */
struct rwlock {
	pthread_mutex_t mutex;     /* guards every field below */
	pthread_cond_t readers_go; /* where readers wait for their turn */
	pthread_cond_t writer_go;  /* where writers wait for theirs */
	int readers;               /* readers inside */
	int writer;                /* 1 while a writer is inside */
	pthread_t owner;           /* that writer, for rw_wrunlock's EPERM check */
	int waiting_readers;       /* readers waiting */
	int waiting_writers;       /* writers waiting */
	unsigned long batch;       /* bumped each time a leaving writer lets readers in */
};

/*
 * TODO(13): two small helpers save a lot of repetition. One checks rw (NULL
 * is EINVAL) and locks rw->mutex; the other unlocks it and returns 0, or -1
 * with errno set to the error you pass it (EBUSY, EPERM...). Every function
 * below then reads: enter; look at the counters; wait or change them; leave.
 */

struct rwlock *rw_create(void)
{
	/*
	 * TODO(13): calloc the struct, then pthread_mutex_init and two
	 * pthread_cond_init. They return an error number; when one fails, destroy
	 * what was initialised, free, set errno and return NULL (a goto ladder).
	 */
	errno = ENOSYS;
	return NULL;
}

int rw_destroy(struct rwlock *rw)
{
	/*
	 * TODO(13): EBUSY while anyone holds the lock or waits for it; otherwise
	 * destroy the condition variables and the mutex (after unlocking it) and
	 * free.
	 */
	(void)rw;
	errno = ENOSYS;
	return -1;
}

int rw_rdlock(struct rwlock *rw)
{
	/*
	 * TODO(13): with no writer inside AND no writer waiting, count yourself
	 * in (readers++) and return. Checking only "no writer inside" is the
	 * reader-preference lock: readers that overlap without pause keep a
	 * waiting writer out for ever.
	 */

	/*
	 * TODO(13): otherwise queue: note the current batch, waiting_readers++,
	 * and pthread_cond_wait on readers_go until the batch number changes.
	 * The writer that bumps it has already counted you in readers (see
	 * rw_wrunlock), so there is nothing left to do but return. Waiting "while
	 * a writer waits" instead would starve readers under a flood of writers.
	 * Always wait in a loop: a wake-up can be spurious.
	 */
	(void)rw;
	errno = ENOSYS;
	return -1;
}

int rw_wrlock(struct rwlock *rw)
{
	/*
	 * TODO(13): waiting_writers++ (this is what stops new readers), then
	 * wait on writer_go while a writer or any reader is inside; then
	 * waiting_writers--, writer = 1, owner = pthread_self().
	 */
	(void)rw;
	errno = ENOSYS;
	return -1;
}

int rw_tryrdlock(struct rwlock *rw)
{
	/*
	 * TODO(13): the same test as rw_rdlock's fast path, without waiting:
	 * EBUSY when a writer is inside or waiting. A try-reader that ignores
	 * waiting writers is one more way to starve them.
	 */
	(void)rw;
	errno = ENOSYS;
	return -1;
}

int rw_trywrlock(struct rwlock *rw)
{
	/* TODO(13): EBUSY when a writer or any reader is inside; else take it. */
	(void)rw;
	errno = ENOSYS;
	return -1;
}

int rw_rdunlock(struct rwlock *rw)
{
	/*
	 * TODO(13): EPERM when no reader is inside. Otherwise readers--, and when
	 * that was the last reader and a writer waits, pthread_cond_signal
	 * writer_go. Forget it and the writer sleeps for ever: a lost wake-up.
	 */
	(void)rw;
	errno = ENOSYS;
	return -1;
}

int rw_wrunlock(struct rwlock *rw)
{
	/*
	 * TODO(13): EPERM unless a writer is inside and it is the calling thread
	 * (pthread_equal(owner, pthread_self())). Then writer = 0 and hand over:
	 *  - readers waiting: readers += waiting_readers, waiting_readers = 0,
	 *    batch++, pthread_cond_BROADCAST readers_go (signal would wake only
	 *    one of them, and the rest would sleep while counted as inside).
	 *    Counting them in here, before they wake, is what stops a writer that
	 *    arrives meanwhile from slipping in ahead of them;
	 *  - else writers waiting: pthread_cond_signal writer_go.
	 */
	(void)rw;
	errno = ENOSYS;
	return -1;
}
