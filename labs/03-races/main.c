/*
 * Demo of lab 03: the same count made by several threads four ways. First
 * with a plain shared variable and no lock, which loses updates, then with
 * the counter behind a mutex, the atomic counter and run_critical, which
 * do not; then a bank whose money moves between accounts from many threads
 * while its total stays the same.
 *
 *	make run LAB=03 [ARGS="[THREADS [ITERATIONS]]"]
 *
 * THREADS defaults to 4, ITERATIONS (per thread) to 1000000.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipclab.h"
#include "races.h"

#define MAX_THREADS 64

struct job {
	int nthreads;                       /* threads to run */
	long iterations;                    /* what each of them does */
	void *shared;                       /* what they all work on */
	void (*step)(void *shared, long i); /* one iteration */
	atomic_int ready;                   /* threads at the start line */
};

/* ==== Running one job in threads ==== */

static void *job_thread(void *arg)
{
	struct job *job = arg;

	/* Line up: no thread starts counting before all have been created. */
	atomic_fetch_add(&job->ready, 1);
	while (atomic_load(&job->ready) < job->nthreads)
		sched_yield();
	for (long i = 0; i < job->iterations; i++)
		job->step(job->shared, i);
	return NULL;
}

/* Run the job in its threads, print how long it took and what came out. */
static void run_job(const char *name, struct job *job, long (*result)(void *shared))
{
	pthread_t tids[MAX_THREADS];
	struct stopwatch sw;
	long expected = job->nthreads * job->iterations, got;

	atomic_store(&job->ready, 0);
	stopwatch_start(&sw);
	for (int k = 0; k < job->nthreads; k++)
		xpthread_create(&tids[k], job_thread, job);
	for (int k = 0; k < job->nthreads; k++)
		xpthread_join(tids[k], NULL);
	got = result(job->shared);
	printf("  %-26s %10ld of %ld  %8.1f ms  %s\n", name, got, expected, stopwatch_ms(&sw),
	       got == expected ? "ok" : "UPDATES LOST");
}

/* ==== Four counters ==== */

static void plain_step(void *shared, long i)
{
	(void)i;
	(*(volatile long *)shared)++; /* the race this lab is about, on purpose */
}

static long plain_result(void *shared)
{
	return *(long *)shared;
}

static void counter_step(void *shared, long i)
{
	(void)i;
	if (counter_increment(shared) < 0)
		err_die("counter_increment:");
}

static long counter_result(void *shared)
{
	return counter_get(shared);
}

static void acounter_step(void *shared, long i)
{
	(void)i;
	acounter_add(shared, 1);
}

static long acounter_result(void *shared)
{
	return acounter_get(shared);
}

static void critical_fn(void *ctx)
{
	(*(long *)ctx)++; /* plain, and safe: run_critical holds its lock around us */
}

static void demo_counters(int nthreads, long iterations)
{
	struct job job = {.nthreads = nthreads, .iterations = iterations};
	struct counter c;
	struct acounter a;
	struct stopwatch sw;
	long plain = 0, critical = 0;

	printf("%d threads, %ld increments each:\n", nthreads, iterations);
	job.shared = &plain;
	job.step = plain_step;
	run_job("plain long, no lock", &job, plain_result);
	if (counter_init(&c) < 0)
		err_die("counter_init:");
	job.shared = &c;
	job.step = counter_step;
	run_job("counter (mutex)", &job, counter_result);
	counter_destroy(&c);
	acounter_init(&a, 0);
	job.shared = &a;
	job.step = acounter_step;
	run_job("acounter (atomic)", &job, acounter_result);
	stopwatch_start(&sw);
	if (run_critical(nthreads, iterations, critical_fn, &critical) < 0)
		err_die("run_critical:");
	printf("  %-26s %10ld of %ld  %8.1f ms  %s\n", "run_critical (plain long)", critical,
	       nthreads * iterations, stopwatch_ms(&sw),
	       critical == nthreads * iterations ? "ok" : "UPDATES LOST");
}

/* ==== A bank ==== */

static void *bank_thread(void *arg)
{
	struct bank *b = arg;

	for (long i = 0; i < 100000; i++) {
		int from = (int)(i % b->naccounts), to = (int)((i * 7 + 3) % b->naccounts);

		if (from != to && bank_transfer(b, from, to, 1 + i % 50) < 0 && errno != ERANGE)
			err_die("bank_transfer:");
	}
	return NULL;
}

static void demo_bank(int nthreads)
{
	pthread_t tids[MAX_THREADS];
	struct bank b;

	if (bank_init(&b, 10, 100) < 0)
		err_die("bank_init:");
	printf("\nbank of 10 accounts holding 100 each; %d threads make 100000 transfers each\n",
	       nthreads);
	printf("  total before: %ld\n", bank_total(&b));
	for (int k = 0; k < nthreads; k++)
		xpthread_create(&tids[k], bank_thread, &b);
	for (int k = 0; k < nthreads; k++)
		xpthread_join(tids[k], NULL);
	printf("  total after:  %ld\n", bank_total(&b));
	if (bank_withdraw(&b, 0, 1000000) < 0)
		printf("  withdrawing 1000000 from account 0: %s, as it should be\n",
		       err_name(errno));
	if (bank_withdraw(&b, 0, 1) == 0 || errno == ERANGE)
		printf("  a second withdrawal did not hang: the first one released the lock\n");
	if (bank_destroy(&b) < 0)
		err_die("bank_destroy:");
}

int main(int argc, char **argv)
{
	int nthreads = argc > 1 ? atoi(argv[1]) : 4;
	long iterations = argc > 2 ? atol(argv[2]) : 1000000;

	if (argc > 3 || nthreads < 1 || nthreads > MAX_THREADS || iterations < 1)
		err_die("usage: %s [THREADS (1-%d) [ITERATIONS]]", argv[0], MAX_THREADS);
	demo_counters(nthreads, iterations);
	demo_bank(nthreads);
	return 0;
}
