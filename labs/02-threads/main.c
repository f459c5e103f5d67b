/*
 * Demo of lab 02: a few threads say hello, an array is summed with 1, 2,
 * 4, ... threads, and the cost of starting a thread is set against the cost
 * of starting a process.
 *
 *	make run LAB=02 [ARGS="[N [MAXTHREADS]]"]
 *
 * N is the array's length (default 10000000), MAXTHREADS the most threads
 * tried (default 8).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"
#include "threads.h"

#define COST_RUNS 300 /* starts timed for each of thread and process */

/* ==== Hello ==== */

static void *greet(void *p)
{
	const struct thread_arg *arg = p;
	const int *n = arg->ctx;

	printf("  thread %d of %d: hello\n", arg->index, *n);
	return (void *)(arg->index % 2 ? "odd" : "even");
}

static void demo_hello(void)
{
	int n = 4;
	void *results[4];

	printf("run_threads with %d threads:\n", n);
	if (run_threads(n, greet, &n, results) < 0)
		err_die("run_threads:");
	for (int i = 0; i < n; i++)
		printf("  thread %d returned \"%s\"\n", i, (const char *)results[i]);
}

/* ==== Summing ==== */

static void demo_sum(size_t n, int maxthreads)
{
	long *data = xcalloc(n, sizeof(*data));
	long expected = 0, sum;
	double first_ms = 0;

	for (size_t i = 0; i < n; i++) {
		data[i] = (long)(i % 1000) - 499;
		expected += data[i];
	}
	printf("\nparallel_sum of %zu longs (expected %ld):\n", n, expected);
	for (int t = 1; t <= maxthreads; t *= 2) {
		struct stopwatch sw;
		double ms;

		stopwatch_start(&sw);
		if (parallel_sum(data, n, t, &sum) < 0)
			err_die("parallel_sum:");
		ms = stopwatch_ms(&sw);
		if (t == 1)
			first_ms = ms;
		printf("  %2d thread%s  sum %-12ld %8.2f ms  speed-up %.2f%s\n", t,
		       t > 1 ? "s" : " ", sum, ms, first_ms / ms, sum == expected ? "" : "  WRONG");
	}
	free(data);
}

/* ==== What a start costs ==== */

static void *nothing(void *arg)
{
	return arg;
}

static void start_thread(void *arg)
{
	pthread_t t;

	(void)arg;
	xpthread_create(&t, nothing, NULL);
	xpthread_join(t, NULL);
}

static void start_process(void *arg)
{
	(void)arg;
	if (xfork() == 0)
		_exit(0);
	xwaitpid(-1, NULL, 0);
}

static void demo_cost(void)
{
	struct measure_stats thread, process;

	if (measure_repeat(start_thread, NULL, COST_RUNS, &thread) < 0 ||
	    measure_repeat(start_process, NULL, COST_RUNS, &process) < 0)
		err_die("measure_repeat:");
	printf("\nstart and wait for one (median of %d):\n", COST_RUNS);
	printf("  pthread_create + pthread_join  %8.1f us\n", thread.median_ns / 1e3);
	printf("  fork + _exit + waitpid         %8.1f us\n", process.median_ns / 1e3);
	printf("  a process costs %.1f times a thread\n",
	       (double)process.median_ns / (double)thread.median_ns);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000000;
	int maxthreads = argc > 2 ? atoi(argv[2]) : 8;

	if (argc > 3 || maxthreads < 1)
		err_die("usage: %s [N [MAXTHREADS]]", argv[0]);
	demo_hello();
	demo_sum(n, maxthreads);
	demo_cost();
	return 0;
}
