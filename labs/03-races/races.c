/*
 * Lab 03, races: your implementation of races.h.
 *
 * Four pieces, one lesson: a read-modify-write of shared data must happen
 * in one indivisible step. The counter does it with a mutex, the acounter
 * with one atomic operation, the bank with a mutex that every path out of
 * the function releases, and run_critical with one mutex that all its
 * threads share. On the way you build WITH_LOCK, a lock that its block
 * releases for you, like Python's `with lock:`.
 *
 * Read races.h for the exact contract, then follow the TODOs in order.
 * `make run LAB=03` runs the demo; `make grade LAB=03` grades this file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "races.h"

/* ==== A scoped lock: C's `with lock:` ==== */

/*
 * WITH_LOCK(m) { ... } runs the block once with mutex m locked, and unlocks
 * m however the block is left: at its end, or by a return, break or goto
 * out of it. It is a for loop around a guard variable that points to the
 * mutex it holds (NULL once released):
 *
 *	for (guard = guard_acquire(m); guard != NULL; guard_release(&guard))
 *
 * The loop's step releases the mutex when the block ends normally. A return
 * from inside the block skips the step: that path needs the compiler's help.
 * GCC and Clang call a function of your choice when a variable goes out of
 * scope, however it does: declare the guard as
 *
 *	pthread_mutex_t *guard __attribute__((cleanup(guard_release))) = ...;
 *
 * and guard_release(&guard) runs on every way out.
 */

/*
 * TODO(03): lock m with pthread_mutex_lock and return m: the guard then
 * holds it. If locking fails (a mutex never initialised), that is a bug, not
 * an error to handle: print a message to stderr and abort().
 */
static pthread_mutex_t *guard_acquire(pthread_mutex_t *m)
{
	return m;
}

/*
 * TODO(03): if *guard is not NULL, unlock it and set *guard to NULL. It runs
 * twice when the block ends normally (as the loop's step, then as the
 * cleanup): the second call must do nothing.
 */
static void guard_release(pthread_mutex_t **guard)
{
	*guard = NULL;
}

/*
 * TODO(03): give the guard variable __attribute__((cleanup(guard_release))),
 * so that a return from inside the block still unlocks. Without it, the
 * loop's step is the only unlock, and an early return leaks the lock.
 */
#define WITH_LOCK(m)                                                                               \
	for (pthread_mutex_t *with_lock_guard_ = guard_acquire(m); with_lock_guard_ != NULL;       \
	     guard_release(&with_lock_guard_))

/* ==== A counter behind a mutex ==== */

int counter_init(struct counter *c)
{
	/*
	 * TODO(03): pthread_mutex_init(&c->lock, NULL) and value 0. pthread
	 * calls return an error number (0 on success) and leave errno alone:
	 * on failure set errno to that number and return -1.
	 */
	(void)c;
	errno = ENOSYS;
	return -1;
}

int counter_increment(struct counter *c)
{
	/*
	 * TODO(03): c->value++ is three steps: read, add, write. Two threads
	 * that read the same old value both write back value + 1 and one
	 * update is lost. Lock c->lock (the counter's own mutex: a mutex
	 * declared here would be a new one at every call and protect nothing),
	 * increment, unlock.
	 */
	(void)c;
	errno = ENOSYS;
	return -1;
}

long counter_get(struct counter *c)
{
	long value = 0;

	/* Done for you, as an example: right as soon as WITH_LOCK is. */
	WITH_LOCK(&c->lock)
	{
		value = c->value;
	}
	return value;
}

int counter_destroy(struct counter *c)
{
	/* TODO(03): pthread_mutex_destroy(&c->lock); an error number goes to errno. */
	(void)c;
	errno = ENOSYS;
	return -1;
}

/* ==== A counter that is one atomic ==== */

void acounter_init(struct acounter *a, long value)
{
	/* TODO(03): atomic_init(&a->value, value). */
	(void)a;
	(void)value;
}

long acounter_add(struct acounter *a, long delta)
{
	/*
	 * TODO(03): one indivisible read-modify-write: atomic_fetch_add. Do
	 * not write atomic_store(&a->value, atomic_load(&a->value) + delta):
	 * each call is atomic, but another thread can store between the two,
	 * and its update is overwritten.
	 */
	(void)a;
	(void)delta;
	return -1;
}

long acounter_get(struct acounter *a)
{
	/* TODO(03): atomic_load. */
	(void)a;
	return -1;
}

/* ==== A bank: one lock for every balance ==== */

int bank_init(struct bank *b, int naccounts, long initial)
{
	/*
	 * TODO(03): EINVAL for naccounts < 1 or initial < 0. Allocate the
	 * balances, init the mutex (free the balances if that fails), fill
	 * every balance with initial, set naccounts.
	 */
	(void)b;
	(void)naccounts;
	(void)initial;
	errno = ENOSYS;
	return -1;
}

int bank_destroy(struct bank *b)
{
	/* TODO(03): free the balances and destroy the mutex. */
	(void)b;
	errno = ENOSYS;
	return -1;
}

int bank_transfer(struct bank *b, int from, int to, long amount)
{
	/* TODO(03): EINVAL for a bad account, from == to, or amount <= 0. */

	/*
	 * TODO(03): pthread_mutex_lock(&b->lock), then check that from holds
	 * at least amount and move it, all before you unlock: a check made
	 * before locking can be stale by the time you move the money.
	 */

	/*
	 * TODO(03): not enough money is ERANGE, found while you hold the lock.
	 * A `return -1` right there leaves the mutex locked for ever: the next
	 * caller waits without end. Record the error and `goto unlock`, so
	 * that every path leaves through one pthread_mutex_unlock.
	 */
	(void)b;
	(void)from;
	(void)to;
	(void)amount;
	errno = ENOSYS;
	return -1;
}

int bank_withdraw(struct bank *b, int account, long amount)
{
	/*
	 * TODO(03): EINVAL for a bad account or amount <= 0. Then
	 *
	 *	WITH_LOCK(&b->lock) {
	 *		if (too little) { errno = ERANGE; return -1; }
	 *		take the money;
	 *	}
	 *	return 0;
	 *
	 * The return inside the block is the point: with the cleanup attribute
	 * in WITH_LOCK it unlocks on its way out, without it the lock leaks.
	 */
	(void)b;
	(void)account;
	(void)amount;
	errno = ENOSYS;
	return -1;
}

long bank_total(struct bank *b)
{
	/* TODO(03): sum every balance inside one WITH_LOCK(&b->lock) block. */
	(void)b;
	return -1;
}

/* ==== A critical section run from many threads ==== */

/*
 * A suggestion for run_critical: what its threads share. Every thread gets
 * a pointer to the same one, and so the same lock. Change it as you like.
 */
struct critical {
	pthread_mutex_t lock;  /* the one mutex every call is made under */
	long calls;            /* calls each thread makes */
	void (*fn)(void *ctx); /* the critical section */
	void *ctx;             /* its argument */
};

int run_critical(int nthreads, long calls, void (*fn)(void *ctx), void *ctx)
{
	/* TODO(03): EINVAL for nthreads < 1, calls < 0 or a NULL fn. */

	/*
	 * TODO(03): above this function, write the thread body: calls times,
	 * WITH_LOCK(&cs->lock) { cs->fn(cs->ctx); }. Lock around each call,
	 * not around the whole loop, so the threads take turns.
	 */

	/*
	 * TODO(03): one struct critical for everyone, its mutex initialised
	 * once; create all nthreads threads with a pointer to it, then join
	 * them all (on a pthread_create failure too), destroy the mutex, free
	 * what you allocated. A mutex in each thread's own argument is a lock
	 * per thread: each thread waits only for itself, and calls overlap.
	 */
	(void)nthreads;
	(void)calls;
	(void)fn;
	(void)ctx;
	errno = ENOSYS;
	return -1;
}
