/*
 * Benchmark of lab 14: items per second through the lock-free ring and
 * through the mutex and condition variable ring, both the lab's reference
 * code, between two threads and between two processes (a producer child,
 * the parent consuming, over a MAP_SHARED mapping), each timed REPEATS times
 * with measure_repeat (min and median), then the ratio lock-free / mutex.
 *
 * Every item is its own sequence number and the consumer checks each one:
 * a figure is printed only for a run that delivered every item in order.
 * Nothing here passes or fails on speed. Exit status 0 unless a ring broke
 * or a call failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomics.h"
#include "ipclab.h"

#define ITEMS    2000000 /* items in one timed run */
#define CAPACITY 1024    /* slots of both rings */
#define REPEATS  7       /* timed runs of each case */

struct bench_case {
	const char *ring; /* "lock-free" or "mutex" */
	int locked;       /* 1: the mutex ring */
	int processes;    /* 1: a producer child; 0: a producer thread */
	void *mem;        /* the ring's MAP_SHARED memory */
	void *r;          /* the ring in it, made anew before each run */
	struct measure_stats st;
};

/* ==== One run: ITEMS items from a producer to this thread ==== */

static void produce(struct bench_case *c)
{
	for (uint64_t i = 0; i < ITEMS; i++) {
		if (!c->locked)
			ring_push(c->r, i);
		else if (mring_push(c->r, i) < 0)
			err_die("mring_push:");
	}
}

static void *producer_thread(void *arg)
{
	produce(arg);
	return NULL;
}

static void consume(struct bench_case *c)
{
	uint64_t item;

	for (uint64_t i = 0; i < ITEMS; i++) {
		if (!c->locked)
			item = ring_pop(c->r);
		else if (mring_pop(c->r, &item) < 0)
			err_die("mring_pop:");
		if (item != i)
			err_die("%s ring: item %llu arrived as %llu: the ring is broken", c->ring,
				(unsigned long long)i, (unsigned long long)item);
	}
}

/* Make the ring anew in c->mem. */
static void ring_reset(struct bench_case *c)
{
	if (c->locked) {
		if (c->r && mring_destroy(c->r) < 0)
			err_die("mring_destroy:");
		c->r = mring_init(c->mem, CAPACITY);
	} else {
		c->r = ring_init(c->mem, CAPACITY);
	}
	if (!c->r)
		err_die("%s ring: init:", c->ring);
}

static void run_once(void *arg)
{
	struct bench_case *c = arg;
	pthread_t t;
	pid_t pid;
	int status;

	ring_reset(c);
	if (!c->processes) {
		xpthread_create(&t, producer_thread, c);
		consume(c);
		xpthread_join(t, NULL);
		return;
	}
	pid = xfork();
	if (pid == 0) {
		produce(c);
		_exit(0);
	}
	consume(c);
	xwaitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		err_die("%s ring: the producer child did not exit 0", c->ring);
}

/* ==== The table ==== */

static double rate(uint64_t ns)
{
	return ns ? ITEMS / ((double)ns / 1e9) : 0;
}

static void measure(struct bench_case *c)
{
	size_t size = c->locked ? mring_size(CAPACITY) : ring_size(CAPACITY);

	if (size == 0)
		err_die("%s ring: size:", c->ring);
	c->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c->mem == MAP_FAILED)
		err_die("mmap:");
	run_once(c); /* warm up: page faults, caches, the first fork */
	if (measure_repeat(run_once, c, REPEATS, &c->st) < 0)
		err_die("measure_repeat:");
	if (c->locked && mring_destroy(c->r) < 0)
		err_die("mring_destroy:");
	munmap(c->mem, size);
	printf("%-10s %-10s %9.1f %9.1f %12.2f %12.2f\n", c->ring,
	       c->processes ? "processes" : "threads", c->st.min_ns / 1e6, c->st.median_ns / 1e6,
	       rate(c->st.median_ns) / 1e6, rate(c->st.min_ns) / 1e6);
	fflush(stdout);
}

int main(void)
{
	struct bench_case cases[] = {
	    {.ring = "lock-free", .locked = 0, .processes = 0},
	    {.ring = "mutex", .locked = 1, .processes = 0},
	    {.ring = "lock-free", .locked = 0, .processes = 1},
	    {.ring = "mutex", .locked = 1, .processes = 1},
	};
	struct stopwatch sw;

	stopwatch_start(&sw);
	printf("lab 14: %d items of 8 bytes through a ring of %d slots, %d timed runs each, "
	       "%ld cores online\n\n",
	       ITEMS, CAPACITY, REPEATS, sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-10s %-10s %9s %9s %12s %12s\n", "ring", "between", "min ms", "median ms",
	       "M items/s", "best M/s");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		measure(&cases[i]);
	printf("\nlock-free / mutex, items per second (medians): %.1fx between threads, "
	       "%.1fx between processes\n",
	       (double)cases[1].st.median_ns / cases[0].st.median_ns,
	       (double)cases[3].st.median_ns / cases[2].st.median_ns);
	printf("(best runs: %.1fx and %.1fx; measured in %.1f s)\n",
	       (double)cases[1].st.min_ns / cases[0].st.min_ns,
	       (double)cases[3].st.min_ns / cases[2].st.min_ns, stopwatch_ms(&sw) / 1000);
	return 0;
}
