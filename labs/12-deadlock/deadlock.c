/*
 * Lab 12, deadlock: your implementation of deadlock.h.
 *
 * Three functions, one problem: a thread that needs two locks. The naive
 * way (lock one, then the other, in whatever order the code happens to
 * name them) works in every test you try by hand, and deadlocks the day
 * every thread holds its first lock at the same moment. dine_ordered cures
 * it with a global lock order, dine_backoff by never waiting while holding
 * a lock, account_transfer with the same order as dine_ordered.
 *
 * Read deadlock.h for the exact contract, then follow the TODOs in order.
 * `make run LAB=12` runs the demo; `make grade LAB=12` grades this file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "deadlock.h"

/*
 * A suggestion: what each philosopher's thread is given. Change it as you
 * like.
 */
struct seat {
	const struct table *t; /* the table */
	int i;                 /* which philosopher this is */
	int meals;             /* how many meals to eat */
	int err;               /* 0, or the error number of a failed pthread_mutex call */
};

/*
 * TODO(12): write a helper shared by both dinners, static int seat_all(const
 * struct table *t, int meals, void *(*body)(void *)):
 *  - an invalid table or meals < 0 is EINVAL, before any thread starts;
 *  - start one thread per philosopher with its own struct seat (an array of
 *    TABLE_MAX on the stack is enough), then join every thread you started,
 *    also when a pthread_create failed half-way: the philosophers already
 *    seated are holding forks;
 *  - return -1 with errno set to pthread_create's number, or to the error a
 *    philosopher stored in its seat.
 */

/*
 * TODO(12): the body of an ordered philosopher. Philosopher i's forks are
 * forks[i] (left) and forks[(i + 1) % n] (right). Lock the LOWER-numbered
 * one first, then the other, call t->eat(t->ctx, i), unlock both; meals
 * times. Left-then-right is the naive version: philosopher n - 1's left
 * fork is n - 1 and its right fork is 0, and when all n hold their left
 * fork at once each waits for its neighbour forever.
 */

int dine_ordered(const struct table *t, int meals)
{
	/* TODO(12): return seat_all(t, meals, your ordered body). */
	(void)t;
	(void)meals;
	errno = ENOSYS;
	return -1;
}

/*
 * TODO(12): the body of a backing-off philosopher. Each round: lock the
 * left fork with pthread_mutex_lock, then pthread_mutex_trylock the right
 * one.
 *  - 0: you hold both. Eat, unlock both, count the meal.
 *  - EBUSY: unlock the LEFT fork first, then sleep a random while
 *    (nanosleep of 1 to 500 microseconds, from rand_r(&seed) with a seed of
 *    this philosopher's own), and go round again. Waiting with the left fork
 *    in your hand (pthread_mutex_lock on the right one, or retrying trylock
 *    in a loop) is hold-and-wait: the deadlock, or a livelock, again.
 *  - anything else is an error: store it in the seat and stop.
 * Why random: philosophers that all back off for the same time all come
 * back at the same time, and collide again.
 */

int dine_backoff(const struct table *t, int meals)
{
	/* TODO(12): return seat_all(t, meals, your backing-off body). */
	(void)t;
	(void)meals;
	errno = ENOSYS;
	return -1;
}

int account_transfer(struct account *from, struct account *to, long amount)
{
	/*
	 * TODO(12): NULL accounts, from == to, or amount < 0 is EINVAL. from ==
	 * to matters most: locking the same (default) mutex twice waits for
	 * yourself, forever.
	 */

	/*
	 * TODO(12): lock the account with the lower id first, then the other,
	 * whichever of them is from: transfer(a, b) and transfer(b, a) must
	 * agree on the order, or each can hold one lock and wait for the other.
	 * Check what pthread_mutex_lock returns (an error number, 0 on success).
	 */

	/*
	 * TODO(12): with BOTH locks held, take amount from from->balance and add
	 * it to to->balance; then unlock both and return 0.
	 */
	(void)from;
	(void)to;
	(void)amount;
	errno = ENOSYS;
	return -1;
}
