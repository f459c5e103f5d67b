/*
 * Lab 11, monitors: a mutex and condition variables, put together into the
 * objects Python's threading and queue modules offer. A blocking queue
 * (queue.Queue, with a close that wakes everyone), an Event
 * (threading.Event) and a reusable Barrier (threading.Barrier), each one
 * mutex guarding its state and one or two condition variables to wait on.
 *
 * Timeouts are in milliseconds: a negative timeout waits for ever, 0 does
 * not wait at all, a positive one waits at most that long, measured on
 * CLOCK_MONOTONIC (the condition variables are made to use that clock with
 * pthread_condattr_setclock, so that setting the date never stretches or
 * cuts a wait).
 *
 * This header is the contract. Do not edit it: the grader builds your
 * monitors.c against its own copy.
 */
#ifndef MONITORS_H
#define MONITORS_H

#include <pthread.h>
#include <stddef.h>

/* ==== A blocking queue ==== */

struct bqueue {
	pthread_mutex_t lock;     /* protects every field below */
	pthread_cond_t not_empty; /* consumers wait here for an item, or the close */
	pthread_cond_t not_full;  /* producers wait here for a free slot, or the close */
	void **items;             /* a ring of capacity slots */
	size_t capacity;          /* how many items fit */
	size_t head;              /* the slot of the oldest item */
	size_t count;             /* how many items are in the queue */
	int closed;               /* bq_close was called: no more puts */
};

/*
 * Make q an empty, open queue of capacity items. Both condition variables
 * use CLOCK_MONOTONIC. Returns 0. Errors: -1 with errno EINVAL when
 * capacity is 0; ENOMEM; the error number a pthread_*_init call returned.
 * On error nothing is left allocated. Cleanup: bq_destroy.
 */
int bq_init(struct bqueue *q, size_t capacity);

/*
 * Free q's ring and destroy its mutex and condition variables, once no
 * thread uses q any more. The items themselves are the caller's. Returns 0,
 * or -1 with errno set to the first error number a destroy call returned.
 */
int bq_destroy(struct bqueue *q);

/*
 * Append item (any pointer, NULL too) at the tail of q, waiting while q is
 * full, for at most timeout_ms (see the top of this file). Whatever woke it,
 * a waiting producer checks again that there is room before it puts: a wake-up
 * is a hint, not a promise. Each put wakes a consumer waiting for an item.
 *
 * Returns 0. Errors: -1 with errno EPIPE when q is closed (also when it gets
 * closed while the producer waits); ETIMEDOUT when q was still full when
 * the timeout ran out (nothing is put).
 */
int bq_put(struct bqueue *q, void *item, long timeout_ms);

/*
 * Take the item at the head of q into *item, waiting while q is empty, for
 * at most timeout_ms. Whatever woke it, a waiting consumer checks again that
 * there is an item before it takes one. Each get wakes a producer waiting
 * for room. Items put before bq_close are still handed out after it.
 *
 * Returns 0. Errors: -1 with errno EPIPE when q is closed and empty (the
 * end: every item has been taken); ETIMEDOUT when q was still empty when
 * the timeout ran out (*item left alone).
 */
int bq_get(struct bqueue *q, void **item, long timeout_ms);

/*
 * Close q: later puts fail with EPIPE, and gets do once q is empty. Every
 * thread waiting in bq_put or bq_get wakes up to see it, all of them, not
 * one. Closing twice is harmless. Returns 0, or -1 with errno set to the
 * number a pthread call returned.
 */
int bq_close(struct bqueue *q);

/* ==== An Event: a flag threads can wait for ==== */

struct event {
	pthread_mutex_t lock; /* protects flag */
	pthread_cond_t cond;  /* waiters sleep here until flag is set */
	int flag;             /* 1 once set, until cleared */
};

/*
 * Make e an event, not set, whose condition variable uses CLOCK_MONOTONIC.
 * Returns 0, or -1 with errno set to the number a pthread_*_init call
 * returned (nothing is left initialised then). Cleanup: event_destroy.
 */
int event_init(struct event *e);

/* Destroy e's mutex and condition variable. Returns 0, or -1 with errno. */
int event_destroy(struct event *e);

/* Set the flag and wake every thread waiting in event_wait, all of them. */
void event_set(struct event *e);

/* Clear the flag: later event_wait calls wait again. */
void event_clear(struct event *e);

/* Whether the flag is set: 1 or 0. */
int event_is_set(struct event *e);

/*
 * Wait until the flag is set, for at most timeout_ms. A wake-up that finds
 * the flag still clear (a spurious one) goes back to waiting, for the time
 * left. Returns 1 when the flag is set (at once if it already was), 0 when
 * the timeout ran out first, like Python's Event.wait; -1 with errno on a
 * pthread error.
 */
int event_wait(struct event *e, long timeout_ms);

/* ==== A reusable Barrier ==== */

struct barrier {
	pthread_mutex_t lock;     /* protects the fields below */
	pthread_cond_t cond;      /* early arrivals wait here for the last one */
	int parties;              /* how many threads make up a round */
	int waiting;              /* how many have arrived in the current round */
	unsigned long generation; /* which round this is: the last arrival moves it on */
};

/*
 * Make b a barrier for parties threads. Returns 0. Errors: -1 with errno
 * EINVAL when parties < 1; the number a pthread_*_init call returned.
 * Cleanup: barrier_destroy.
 */
int barrier_init(struct barrier *b, int parties);

/* Destroy b's mutex and condition variable. Returns 0, or -1 with errno. */
int barrier_destroy(struct barrier *b);

/*
 * Wait until parties threads (this one included) have called barrier_wait
 * in this round, then return in all of them. The barrier is then ready for
 * the next round at once: a thread that comes back for round 2 before a slow
 * one has left round 1 must neither let the slow one miss its release nor
 * be counted in round 1. The round number (generation) is what a waiter
 * waits on to change: a wake-up that finds it unchanged is spurious.
 *
 * Returns the arrival index, 0 for the first thread of the round to arrive
 * to parties - 1 for the last, which is the one that releases the others
 * (as Python's Barrier.wait); -1 with errno on a pthread error.
 */
int barrier_wait(struct barrier *b);

#endif
