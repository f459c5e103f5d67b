/*
 * Benchmark of lab 15: a CPU-bound map-reduce on the reference thread
 * pool. The primes below LIMIT are counted by trial division in CHUNKS
 * tasks, one range each, and the counts added up (pool_map_reduce). The
 * same work runs on a pool of 1 worker, of 2, and of one worker a CPU when
 * the machine has more than 2; each is timed REPEATS times (min and
 * median), and the speedup is the ratio of the medians, T(1) / T(n).
 *
 * Amdahl's expectation comes from the same run: the serial part is what
 * the pool itself costs (submitting CHUNKS tasks, waking workers, waiting
 * for the futures, folding the counts), measured with tasks that do
 * nothing. Last, the same work cut into only 2 chunks on 2 workers: the
 * upper half of the range costs more than the lower, so one worker waits
 * for the other. Many small tasks are what lets a pool balance the load.
 *
 * Every figure is a ratio measured in this one run; nothing here passes or
 * fails. Exit status 0 unless the pool gave a wrong count.
 */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipclab.h"
#include "threadpool.h"

#define LIMIT     1000000 /* count the primes below this */
#define PRIMES    78498   /* how many there are */
#define CHUNKS    64      /* tasks in the map */
#define REPEATS   5       /* timed runs of each configuration */
#define MAX_SIZES 3       /* pool sizes measured: 1, 2, and one worker a CPU */

struct range {
	long lo, hi; /* count the primes in [lo, hi) */
};

struct run {
	struct pool *pool;           /* the pool to run on */
	pool_task *task;             /* what each chunk runs */
	int chunks;                  /* how many chunks the range is cut into */
	struct range ranges[CHUNKS]; /* the chunks */
	void *args[CHUNKS];          /* pointers to them, for the map */
	long total;                  /* the result of the last run */
};

/* ==== The work ==== */

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

/* A task that does nothing: what is left is the pool's own cost. */
static void *nothing(void *arg)
{
	(void)arg;
	return (void *)0;
}

static void *add(void *acc, void *value)
{
	return (void *)((intptr_t)acc + (intptr_t)value);
}

/* One timed run: the map-reduce over every chunk. */
static void run_once(void *arg)
{
	struct run *r = arg;
	void *total;

	if (pool_map_reduce(r->pool, r->task, r->args, (size_t)r->chunks, add, (void *)0, &total) <
	    0)
		err_die("pool_map_reduce:");
	r->total = (long)(intptr_t)total;
}

/* ==== Measuring ==== */

/* Time task over [0, LIMIT) in chunks on a new pool of workers; the stats go to *st. */
static void measure(int workers, pool_task *task, int chunks, struct measure_stats *st)
{
	static struct run r;

	r.task = task;
	r.chunks = chunks;
	for (int i = 0; i < chunks; i++) {
		r.ranges[i] =
		    (struct range){(long)LIMIT * i / chunks, (long)LIMIT * (i + 1) / chunks};
		r.args[i] = &r.ranges[i];
	}
	r.pool = pool_create(workers);
	if (!r.pool)
		err_die("pool_create(%d):", workers);
	run_once(&r); /* a warm-up: threads started, caches and pages touched */
	if (measure_repeat(run_once, &r, REPEATS, st) < 0)
		err_die("measure_repeat:");
	if (pool_shutdown(r.pool, 0) < 0)
		err_die("pool_shutdown:");
	if (task == count_primes && r.total != PRIMES) {
		fprintf(stderr, "wrong count: %ld primes below %d, expected %d\n", r.total, LIMIT,
			PRIMES);
		exit(1);
	}
}

/* The CPUs this process may run on. */
static int cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	return CPU_COUNT(&set);
}

/* The load average of the last minute: how many processes want a CPU, on average. */
static double load(void)
{
	double avg;

	return getloadavg(&avg, 1) == 1 ? avg : -1;
}

static double amdahl(double serial, int n)
{
	return 1.0 / (serial + (1.0 - serial) / n);
}

int main(void)
{
	struct measure_stats st[MAX_SIZES], idle, halves;
	int ncpu = cpus(), sizes[MAX_SIZES] = {1, 2, ncpu}, nsizes = ncpu > 2 ? 3 : 2;
	double t1, serial, load_before = load();

	printf("lab 15: primes below %d in %d tasks, %d runs each (after a warm-up), %d CPU%s, "
	       "load average %.1f\n\n",
	       LIMIT, CHUNKS, REPEATS, ncpu, ncpu > 1 ? "s" : "", load_before);
	measure(1, nothing, CHUNKS, &idle);
	for (int k = 0; k < nsizes; k++)
		measure(sizes[k], count_primes, CHUNKS, &st[k]);
	t1 = (double)st[0].median_ns;
	serial = (double)idle.median_ns / t1;
	printf("%8s %10s %10s %9s %11s %8s\n", "workers", "min ms", "median ms", "speedup",
	       "efficiency", "Amdahl");
	for (int k = 0; k < nsizes; k++) {
		double s = t1 / (double)st[k].median_ns;
		int n = sizes[k];

		printf("%8d %10.1f %10.1f %9.2f %11.2f %8.2f\n", n, (double)st[k].min_ns / 1e6,
		       (double)st[k].median_ns / 1e6, s, s / n,
		       amdahl(serial, n < ncpu ? n : ncpu));
	}
	printf("\nThe pool's own cost, %d empty tasks on 1 worker: %.3f ms, a serial fraction "
	       "of %.5f\n(%.3f%% of T(1)). Amdahl: S(n) = 1 / (%.5f + %.5f / n), with n capped at "
	       "the %d CPU%s.\nThe work is almost all parallel: expect close to min(n, CPUs), less "
	       "on a loaded machine.\n",
	       CHUNKS, (double)idle.median_ns / 1e6, serial, 100 * serial, serial, 1 - serial, ncpu,
	       ncpu > 1 ? "s" : "");
	measure(2, count_primes, 2, &halves);
	printf("\nThe same work in 2 chunks on 2 workers: median %.1f ms, speedup %.2f. The upper "
	       "half\nof the range costs more (longer trial divisions), so one worker waits for "
	       "the other:\nmany small tasks let the pool balance the load.\n",
	       (double)halves.median_ns / 1e6, t1 / (double)halves.median_ns);
	if (load_before > ncpu / 2.0)
		printf(
		    "\nThe load average was %.1f before the run and %.1f after, on %d CPU%s: other "
		    "processes\nwanted the CPUs too, and a worker gets only its share of one. "
		    "Run again on a quiet\nmachine to see the speedup the hardware allows.\n",
		    load_before, load(), ncpu, ncpu > 1 ? "s" : "");
	return 0;
}
