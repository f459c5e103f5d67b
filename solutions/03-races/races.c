/*
 * Lab 03, races: the reference solution. Every read-modify-write of shared
 * data happens in one indivisible step: under the mutex that protects the
 * data (counter, bank, run_critical) or as one atomic operation (acounter).
 * Every path out of a locked region unlocks: bank_transfer by funnelling its
 * exits through one unlock, bank_withdraw by a scoped lock that the compiler
 * releases on every way out of its block.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "races.h"

/* ==== A scoped lock: C's `with lock:` ==== */

/*
 * Lock m and return it: the guard now holds m. A mutex that cannot be
 * locked is a bug in the program (never initialised, or destroyed), not an
 * error to recover from, so the guard stops the program with a message.
 */
static pthread_mutex_t *guard_acquire(pthread_mutex_t *m)
{
	int err = pthread_mutex_lock(m);

	if (err != 0) {
		fprintf(stderr, "WITH_LOCK: pthread_mutex_lock: %s\n", strerror(err));
		abort();
	}
	return m;
}

/* Unlock the mutex *guard holds, if it still holds one, and mark it released. */
static void guard_release(pthread_mutex_t **guard)
{
	if (*guard) {
		pthread_mutex_unlock(*guard);
		*guard = NULL;
	}
}

/*
 * WITH_LOCK(m) { ... } runs the block once with m locked. The loop's step
 * releases m when the block ends normally; the cleanup attribute makes the
 * compiler call guard_release when the guard variable goes out of scope, so
 * a return, break or goto out of the block unlocks m too.
 */
#define WITH_LOCK(m)                                                                               \
	for (pthread_mutex_t * with_lock_guard_                                                    \
		 __attribute__((cleanup(guard_release))) = guard_acquire(m);                       \
	     with_lock_guard_ != NULL; guard_release(&with_lock_guard_))

/* ==== A counter behind a mutex ==== */

int counter_init(struct counter *c)
{
	int err = pthread_mutex_init(&c->lock, NULL);

	if (err != 0) {
		errno = err;
		return -1;
	}
	c->value = 0;
	return 0;
}

int counter_increment(struct counter *c)
{
	int err = pthread_mutex_lock(&c->lock);

	if (err != 0) {
		errno = err;
		return -1;
	}
	c->value++; /* a read, an add and a write: the lock makes them one step */
	pthread_mutex_unlock(&c->lock);
	return 0;
}

long counter_get(struct counter *c)
{
	long value = 0;

	WITH_LOCK(&c->lock)
	{
		value = c->value;
	}
	return value;
}

int counter_destroy(struct counter *c)
{
	int err = pthread_mutex_destroy(&c->lock);

	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ==== A counter that is one atomic ==== */

void acounter_init(struct acounter *a, long value)
{
	atomic_init(&a->value, value);
}

long acounter_add(struct acounter *a, long delta)
{
	/* One instruction reads, adds and writes: nothing can come in between. */
	return atomic_fetch_add(&a->value, delta);
}

long acounter_get(struct acounter *a)
{
	return atomic_load(&a->value);
}

/* ==== A bank: one lock for every balance ==== */

int bank_init(struct bank *b, int naccounts, long initial)
{
	int err;

	if (naccounts < 1 || initial < 0) {
		errno = EINVAL;
		return -1;
	}
	b->balance = malloc((size_t)naccounts * sizeof(*b->balance));
	if (!b->balance)
		return -1;
	err = pthread_mutex_init(&b->lock, NULL);
	if (err != 0) {
		free(b->balance);
		errno = err;
		return -1;
	}
	for (int i = 0; i < naccounts; i++)
		b->balance[i] = initial;
	b->naccounts = naccounts;
	return 0;
}

int bank_destroy(struct bank *b)
{
	int err = pthread_mutex_destroy(&b->lock);

	free(b->balance);
	b->balance = NULL;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Whether i names one of b's accounts; naccounts never changes, so no lock. */
static int valid_account(const struct bank *b, int i)
{
	return i >= 0 && i < b->naccounts;
}

int bank_transfer(struct bank *b, int from, int to, long amount)
{
	int err;

	if (!valid_account(b, from) || !valid_account(b, to) || from == to || amount <= 0) {
		errno = EINVAL;
		return -1;
	}
	err = pthread_mutex_lock(&b->lock);
	if (err != 0) {
		errno = err;
		return -1;
	}
	/* Check and move under one holding of the lock: no one can spend it in between. */
	if (b->balance[from] < amount) {
		err = ERANGE;
		goto unlock; /* the error path leaves through the same unlock */
	}
	b->balance[from] -= amount;
	b->balance[to] += amount;
unlock:
	pthread_mutex_unlock(&b->lock);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int bank_withdraw(struct bank *b, int account, long amount)
{
	if (!valid_account(b, account) || amount <= 0) {
		errno = EINVAL;
		return -1;
	}
	WITH_LOCK(&b->lock)
	{
		if (b->balance[account] < amount) {
			errno = ERANGE;
			return -1; /* the guard unlocks on the way out */
		}
		b->balance[account] -= amount;
	}
	return 0;
}

long bank_total(struct bank *b)
{
	long total = 0;

	WITH_LOCK(&b->lock)
	{
		for (int i = 0; i < b->naccounts; i++)
			total += b->balance[i];
	}
	return total;
}

/* ==== A critical section run from many threads ==== */

/* What every thread of run_critical shares: one lock for all of them. */
struct critical {
	pthread_mutex_t lock;  /* the one mutex every call is made under */
	long calls;            /* calls each thread makes */
	void (*fn)(void *ctx); /* the critical section */
	void *ctx;             /* its argument */
};

static void *critical_thread(void *arg)
{
	struct critical *cs = arg;

	for (long i = 0; i < cs->calls; i++) {
		WITH_LOCK(&cs->lock)
		{
			cs->fn(cs->ctx);
		}
	}
	return NULL;
}

int run_critical(int nthreads, long calls, void (*fn)(void *ctx), void *ctx)
{
	struct critical cs = {.calls = calls, .fn = fn, .ctx = ctx};
	pthread_t *tids;
	int started = 0, err;

	if (nthreads < 1 || calls < 0 || !fn) {
		errno = EINVAL;
		return -1;
	}
	tids = calloc((size_t)nthreads, sizeof(*tids));
	if (!tids)
		return -1;
	err = pthread_mutex_init(&cs.lock, NULL);
	if (err != 0)
		goto out;
	/* Every thread gets the same struct, and so the same lock. */
	for (; started < nthreads; started++) {
		err = pthread_create(&tids[started], NULL, critical_thread, &cs);
		if (err != 0)
			break;
	}
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	pthread_mutex_destroy(&cs.lock);
out:
	free(tids);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
