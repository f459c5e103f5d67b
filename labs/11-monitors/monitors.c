/*
 * Lab 11, monitors: your implementation of monitors.h.
 *
 * Three objects, one pattern. Each has a mutex that guards its state and
 * condition variables to sleep on until the state changes:
 *
 *	pthread_mutex_lock(&lock);
 *	while (!condition)                       // while, never if
 *		pthread_cond_wait(&cond, &lock);  // unlocks, sleeps, relocks
 *	... use the state ...
 *	pthread_mutex_unlock(&lock);
 *
 * and whoever changes the state does it under the same mutex, then signals
 * (one waiter can use the change) or broadcasts (every waiter must see it).
 *
 * Read monitors.h for the exact contract, then follow the TODOs in order.
 * `make run LAB=11` runs the demo; `make grade LAB=11` grades this file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "monitors.h"

/* ==== Waiting with a timeout ==== */

/*
 * TODO(11): write the helpers every wait below needs, as static functions:
 *
 * - one that initialises a condition variable on CLOCK_MONOTONIC:
 *   pthread_condattr_init, pthread_condattr_setclock(&attr,
 *   CLOCK_MONOTONIC), pthread_cond_init(cond, &attr),
 *   pthread_condattr_destroy. The default clock is CLOCK_REALTIME, the
 *   date, which an administrator or NTP can move while you wait.
 *
 * - one that turns a timeout in milliseconds into an absolute deadline:
 *   clock_gettime(CLOCK_MONOTONIC, &ts), then add the seconds to tv_sec and
 *   the rest, in nanoseconds, to tv_nsec, and carry: tv_nsec must stay below
 *   1000000000 or pthread_cond_timedwait fails with EINVAL. Compute the
 *   deadline once, before the loop: every spurious wake-up then waits only
 *   for the time left.
 *
 * - one that waits once: pthread_cond_wait for a negative timeout,
 *   ETIMEDOUT at once for 0, pthread_cond_timedwait(cond, lock, &deadline)
 *   otherwise. It returns an error number; the caller loops.
 */

/* ==== A blocking queue ==== */

int bq_init(struct bqueue *q, size_t capacity)
{
	/*
	 * TODO(11): capacity 0 is EINVAL. calloc the ring of capacity void *,
	 * init the mutex and both condition variables (on CLOCK_MONOTONIC),
	 * undoing what succeeded when a later step fails (goto), then head,
	 * count and closed at 0.
	 */
	(void)q;
	(void)capacity;
	errno = ENOSYS;
	return -1;
}

int bq_destroy(struct bqueue *q)
{
	/* TODO(11): destroy both condition variables and the mutex, free the ring. */
	(void)q;
	errno = ENOSYS;
	return -1;
}

int bq_put(struct bqueue *q, void *item, long timeout_ms)
{
	/*
	 * TODO(11): lock; while the queue is full and not closed, wait on
	 * not_full. An if is not enough: a waiter can wake with nothing
	 * changed (a spurious wake-up), or find that another producer took
	 * the slot it was woken for.
	 */

	/*
	 * TODO(11): closed is EPIPE. Otherwise store item at (head + count) %
	 * capacity, count++, and pthread_cond_signal(&q->not_empty) on every
	 * put, not only when the queue was empty: two items put while two
	 * consumers sleep need two wake-ups.
	 */
	(void)q;
	(void)item;
	(void)timeout_ms;
	errno = ENOSYS;
	return -1;
}

int bq_get(struct bqueue *q, void **item, long timeout_ms)
{
	/*
	 * TODO(11): the mirror of bq_put: while empty and not closed, wait on
	 * not_empty. If there is an item take it (even when closed: the items
	 * put before the close still go out), move head, count--, and signal
	 * not_full. Empty and closed is EPIPE; still empty when the wait timed
	 * out is ETIMEDOUT.
	 */
	(void)q;
	(void)item;
	(void)timeout_ms;
	errno = ENOSYS;
	return -1;
}

int bq_close(struct bqueue *q)
{
	/*
	 * TODO(11): under the lock, set closed, then wake every waiter:
	 * pthread_cond_broadcast on both condition variables. signal wakes one
	 * thread; the others would sleep for ever.
	 */
	(void)q;
	errno = ENOSYS;
	return -1;
}

/* ==== An Event ==== */

int event_init(struct event *e)
{
	/* TODO(11): the mutex, the condition variable on CLOCK_MONOTONIC, flag 0. */
	(void)e;
	errno = ENOSYS;
	return -1;
}

int event_destroy(struct event *e)
{
	/* TODO(11): destroy the condition variable and the mutex. */
	(void)e;
	errno = ENOSYS;
	return -1;
}

void event_set(struct event *e)
{
	/* TODO(11): under the lock, flag = 1 and broadcast: every waiter must wake. */
	(void)e;
}

void event_clear(struct event *e)
{
	/* TODO(11): under the lock, flag = 0. */
	(void)e;
}

int event_is_set(struct event *e)
{
	/* TODO(11): read the flag under the lock. */
	(void)e;
	return -1;
}

int event_wait(struct event *e, long timeout_ms)
{
	/*
	 * TODO(11): compute the deadline, lock, and while the flag is clear
	 * wait (until the deadline). Return the flag: 1, or 0 when the time
	 * ran out. A wake-up with the flag clear is not a timeout: loop.
	 */
	(void)e;
	(void)timeout_ms;
	errno = ENOSYS;
	return -1;
}

/* ==== A reusable Barrier ==== */

int barrier_init(struct barrier *b, int parties)
{
	/* TODO(11): parties < 1 is EINVAL; the mutex, the condition variable, zeros. */
	(void)b;
	(void)parties;
	errno = ENOSYS;
	return -1;
}

int barrier_destroy(struct barrier *b)
{
	/* TODO(11): destroy the condition variable and the mutex. */
	(void)b;
	errno = ENOSYS;
	return -1;
}

int barrier_wait(struct barrier *b)
{
	/*
	 * TODO(11): lock; note the current generation and your index
	 * (waiting++). The last arrival resets waiting to 0, moves the
	 * generation on and broadcasts. The others wait while the generation
	 * is still the one they noted. Do not wait for "waiting == 0" or
	 * "waiting == parties": a thread already back for the next round
	 * changes waiting before a slow one wakes, and the slow one sleeps on.
	 */
	(void)b;
	errno = ENOSYS;
	return -1;
}
