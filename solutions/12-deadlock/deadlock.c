/*
 * Lab 12, deadlock: the reference solution.
 *
 * A deadlock needs four things at once: locks held exclusively, a thread
 * that holds one lock while it waits for another, no way to take a lock
 * away, and a circle of such waiters. Each cure here removes one of them.
 * dine_ordered and account_transfer remove the circle: every thread takes
 * its locks in one global order (lower number first), so the last link of
 * a circle can never be made. dine_backoff removes hold-and-wait: the second
 * fork is only tried, and a philosopher who cannot have it puts the first
 * one down before it waits.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "deadlock.h"

#define BACKOFF_MAX_US 500 /* the longest pause after a failed try, in microseconds */

/* What a philosopher's thread is given, and where it reports a failure. */
struct seat {
	const struct table *t; /* the table */
	int i;                 /* which philosopher this is */
	int meals;             /* how many meals to eat */
	int err;               /* 0, or the error number of a failed pthread_mutex call */
};

/* ==== Seating the philosophers ==== */

static int table_valid(const struct table *t, int meals)
{
	return t && t->n >= 2 && t->n <= TABLE_MAX && t->forks && t->eat && meals >= 0;
}

/*
 * Run body in one thread per philosopher and join them all. Returns 0, or -1
 * with errno from pthread_create or from the first philosopher that failed.
 */
static int seat_all(const struct table *t, int meals, void *(*body)(void *))
{
	pthread_t tids[TABLE_MAX];
	struct seat seats[TABLE_MAX];
	int started, err = 0;

	if (!table_valid(t, meals)) {
		errno = EINVAL;
		return -1;
	}
	for (started = 0; started < t->n; started++) {
		seats[started] = (struct seat){.t = t, .i = started, .meals = meals};
		err = pthread_create(&tids[started], NULL, body, &seats[started]);
		if (err != 0)
			break;
	}
	/* Join whoever was seated, even after a failure: they are using the forks. */
	for (int i = 0; i < started; i++) {
		int join_err = pthread_join(tids[i], NULL);

		if (err == 0)
			err = join_err ? join_err : seats[i].err;
	}
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* Unlock a, then b. Returns 0, or the first error number. */
static int unlock_both(pthread_mutex_t *a, pthread_mutex_t *b)
{
	int err_a = pthread_mutex_unlock(a), err_b = pthread_mutex_unlock(b);

	return err_a ? err_a : err_b;
}

/* ==== Cure 1: a global lock order ==== */

/* Lock the lower-numbered fork first, then the other; eat; unlock both. */
static void *philosopher_ordered(void *arg)
{
	struct seat *s = arg;
	int left = s->i, right = (s->i + 1) % s->t->n;
	pthread_mutex_t *first = &s->t->forks[left < right ? left : right];
	pthread_mutex_t *second = &s->t->forks[left < right ? right : left];

	for (int meal = 0; meal < s->meals; meal++) {
		if ((s->err = pthread_mutex_lock(first)) != 0)
			break;
		if ((s->err = pthread_mutex_lock(second)) != 0) {
			pthread_mutex_unlock(first);
			break;
		}
		s->t->eat(s->t->ctx, s->i);
		if ((s->err = unlock_both(second, first)) != 0)
			break;
	}
	return NULL;
}

int dine_ordered(const struct table *t, int meals)
{
	return seat_all(t, meals, philosopher_ordered);
}

/* ==== Cure 2: try, and back off ==== */

/* Sleep a random while, up to BACKOFF_MAX_US, so that neighbours fall out of step. */
static void back_off(unsigned *seed)
{
	struct timespec pause = {.tv_nsec = 1000L * (1 + rand_r(seed) % BACKOFF_MAX_US)};

	nanosleep(&pause, NULL);
}

/* Lock the left fork, try the right; when it is busy, put the left down and back off. */
static void *philosopher_backoff(void *arg)
{
	struct seat *s = arg;
	pthread_mutex_t *left = &s->t->forks[s->i];
	pthread_mutex_t *right = &s->t->forks[(s->i + 1) % s->t->n];
	unsigned seed = 2654435761u * (unsigned)(s->i + 1) ^ (unsigned)time(NULL);
	int meal = 0, busy;

	while (meal < s->meals && s->err == 0) {
		if ((s->err = pthread_mutex_lock(left)) != 0)
			break;
		busy = pthread_mutex_trylock(right);
		if (busy == 0) {
			s->t->eat(s->t->ctx, s->i);
			meal++;
			s->err = unlock_both(right, left);
		} else {
			/* Put the left fork down before waiting: never wait while holding it. */
			s->err = pthread_mutex_unlock(left);
			if (busy != EBUSY)
				s->err = busy;
			else if (s->err == 0)
				back_off(&seed);
		}
	}
	return NULL;
}

int dine_backoff(const struct table *t, int meals)
{
	return seat_all(t, meals, philosopher_backoff);
}

/* ==== Two accounts, one order ==== */

int account_transfer(struct account *from, struct account *to, long amount)
{
	struct account *first, *second;
	int err;

	if (!from || !to || from == to || amount < 0) {
		errno = EINVAL;
		return -1;
	}
	/* The lower id first, whichever way the money goes. */
	first = from->id < to->id ? from : to;
	second = first == from ? to : from;
	if ((err = pthread_mutex_lock(&first->lock)) != 0)
		goto fail;
	if ((err = pthread_mutex_lock(&second->lock)) != 0) {
		pthread_mutex_unlock(&first->lock);
		goto fail;
	}
	from->balance -= amount;
	to->balance += amount;
	if ((err = unlock_both(&second->lock, &first->lock)) != 0)
		goto fail;
	return 0;
fail:
	errno = err;
	return -1;
}
