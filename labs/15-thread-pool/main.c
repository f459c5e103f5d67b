/*
 * Demo of lab 15: a thread pool at work. Futures first: tasks of different
 * lengths are submitted together and their results collected in order.
 * Then a map-reduce: the primes below LIMIT counted in chunks, one task a
 * chunk, the counts added up in order. Last, a shutdown that cancels what
 * is still queued.
 *
 *	make run LAB=15 [ARGS="[WORKERS [LIMIT]]"]
 *
 * WORKERS is the pool's size (default 4), LIMIT the bound of the prime
 * count (default 2000000).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipclab.h"
#include "threadpool.h"

#define SLEEPERS 4
#define CHUNKS   64
#define LATE     8

/* ==== Futures ==== */

struct nap {
	long ms;   /* how long the task sleeps */
	pid_t tid; /* the worker thread that ran it */
};

/* Sleep a while, note the worker's thread id, and return how long it slept. */
static void *nap_task(void *arg)
{
	struct nap *n = arg;

	n->tid = gettid();
	clock_sleep_ms(n->ms);
	return (void *)(intptr_t)n->ms;
}

static void demo_futures(struct pool *p)
{
	struct nap naps[SLEEPERS];
	struct future *f[SLEEPERS];
	struct stopwatch sw;

	stopwatch_start(&sw);
	for (int i = 0; i < SLEEPERS; i++) {
		naps[i] = (struct nap){.ms = 100 * (SLEEPERS - i)};
		f[i] = pool_submit(p, nap_task, &naps[i]);
		if (!f[i])
			err_die("pool_submit:");
	}
	printf("futures: %d tasks submitted in %.2f ms; they sleep 400, 300, 200, 100 ms\n",
	       SLEEPERS, stopwatch_ms(&sw));
	for (int i = 0; i < SLEEPERS; i++) {
		void *r;

		if (future_get(f[i], &r) < 0)
			err_die("future_get:");
		printf("  task %d: result %ld, ran on thread %d, got at %4.0f ms\n", i,
		       (long)(intptr_t)r, (int)naps[i].tid, stopwatch_ms(&sw));
		future_free(f[i]);
	}
}

/* ==== Map-reduce: counting primes ==== */

struct range {
	long lo, hi; /* count the primes in [lo, hi) */
};

static int is_prime(long n)
{
	if (n < 2)
		return 0;
	for (long d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

static void *count_primes(void *arg)
{
	const struct range *r = arg;
	long count = 0;

	for (long n = r->lo; n < r->hi; n++)
		count += is_prime(n);
	return (void *)(intptr_t)count;
}

static void *add(void *acc, void *value)
{
	return (void *)((intptr_t)acc + (intptr_t)value);
}

static void demo_map_reduce(struct pool *p, int workers, long limit)
{
	struct range ranges[CHUNKS];
	void *args[CHUNKS], *total;
	struct stopwatch sw;

	for (int i = 0; i < CHUNKS; i++) {
		ranges[i] = (struct range){limit * i / CHUNKS, limit * (i + 1) / CHUNKS};
		args[i] = &ranges[i];
	}
	stopwatch_start(&sw);
	if (pool_map_reduce(p, count_primes, args, CHUNKS, add, (void *)0, &total) < 0)
		err_die("pool_map_reduce:");
	printf("map-reduce: %ld primes below %ld, %d chunks on %d worker%s, %.0f ms\n",
	       (long)(intptr_t)total, limit, CHUNKS, workers, workers > 1 ? "s" : "",
	       stopwatch_ms(&sw));
}

/* ==== Shutdown ==== */

static void demo_cancel(int workers)
{
	struct nap naps[LATE];
	struct future *f[LATE];
	struct pool *p = pool_create(workers);
	int ran = 0, cancelled = 0;

	if (!p)
		err_die("pool_create:");
	for (int i = 0; i < LATE; i++) {
		naps[i] = (struct nap){.ms = 50};
		if (!(f[i] = pool_submit(p, nap_task, &naps[i])))
			err_die("pool_submit:");
	}
	clock_sleep_ms(10);          /* time for the workers to take the first tasks */
	if (pool_shutdown(p, 1) < 0) /* cancel what has not started */
		err_die("pool_shutdown:");
	for (int i = 0; i < LATE; i++) {
		if (future_get(f[i], NULL) == 0)
			ran++;
		else if (errno == ECANCELED)
			cancelled++;
		future_free(f[i]);
	}
	printf("shutdown(cancel): %d tasks of 50 ms on %d worker%s, shut down after 10 ms: "
	       "%d ran, %d cancelled\n",
	       LATE, workers, workers > 1 ? "s" : "", ran, cancelled);
}

int main(int argc, char **argv)
{
	int workers = argc > 1 ? atoi(argv[1]) : 4;
	long limit = argc > 2 ? atol(argv[2]) : 2000000;
	struct pool *p;

	if (argc > 3 || workers < 1 || limit < CHUNKS) {
		fprintf(stderr, "usage: %s [WORKERS [LIMIT]]\n", argv[0]);
		return 2;
	}
	p = pool_create(workers);
	if (!p)
		err_die("pool_create(%d):", workers);
	demo_futures(p);
	demo_map_reduce(p, workers, limit);
	if (pool_shutdown(p, 0) < 0)
		err_die("pool_shutdown:");
	demo_cancel(workers);
	return 0;
}
