/*
 * Lab 14's demo: a spinlock under four threads, then items streamed through
 * the lock-free ring and the mutex ring, between two threads and between
 * two processes, each checked for order and timed.
 *
 *	make run LAB=14                      # 2000000 items through a ring of 1024
 *	make run LAB=14 ARGS="500000 16"     # ITEMS and CAPACITY (a power of two)
 *
 * Every item is its own sequence number, so the consumer knows exactly what
 * must come next: a lost, duplicated or stale item stops the demo with the
 * first one that was wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomics.h"
#include "ipclab.h"

#define THREADS 4       /* spinlock demo: threads */
#define ROUNDS  1000000 /* spinlock demo: increments each */

/* ==== The spinlock ==== */

static struct spinlock lock;
static long counter; /* a plain long: only the spinlock keeps it right */

static void *bump(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		spin_lock(&lock);
		counter++;
		spin_unlock(&lock);
	}
	return NULL;
}

static void demo_spinlock(void)
{
	pthread_t t[THREADS];
	struct stopwatch sw;

	spin_init(&lock);
	if (spin_trylock(&lock) < 0)
		err_die("spin_trylock on a free lock:");
	spin_unlock(&lock);
	stopwatch_start(&sw);
	for (int i = 0; i < THREADS; i++)
		xpthread_create(&t[i], bump, NULL);
	for (int i = 0; i < THREADS; i++)
		xpthread_join(t[i], NULL);
	printf("spinlock: %d threads x %d increments = %ld (expected %ld), %.0f ms\n", THREADS,
	       ROUNDS, counter, (long)THREADS * ROUNDS, stopwatch_ms(&sw));
	if (counter != (long)THREADS * ROUNDS)
		err_die("spinlock: updates were lost: two threads were inside at once");
}

/* ==== The rings ==== */

struct stream {
	void *ring; /* a struct spsc_ring or a struct mutex_ring */
	int locked; /* 1: the mutex ring */
	long items; /* how many to send */
};

static void produce(const struct stream *s)
{
	for (long i = 0; i < s->items; i++) {
		if (!s->locked)
			ring_push(s->ring, (uint64_t)i);
		else if (mring_push(s->ring, (uint64_t)i) < 0)
			err_die("mring_push:");
	}
}

static void consume(const struct stream *s)
{
	uint64_t item;

	for (long i = 0; i < s->items; i++) {
		if (!s->locked)
			item = ring_pop(s->ring);
		else if (mring_pop(s->ring, &item) < 0)
			err_die("mring_pop:");
		if (item != (uint64_t)i)
			err_die("item %ld arrived as %llu: the ring lost or reordered items", i,
				(unsigned long long)item);
	}
}

static void *producer_thread(void *arg)
{
	produce(arg);
	return NULL;
}

/* Stream s->items items from a thread (or a child process) to this one; print the rate. */
static void run(struct stream *s, int processes)
{
	struct stopwatch sw;
	pthread_t t;
	pid_t pid = 0;
	int status;

	stopwatch_start(&sw);
	if (processes) {
		pid = xfork();
		if (pid == 0) {
			produce(s);
			_exit(0);
		}
	} else {
		xpthread_create(&t, producer_thread, s);
	}
	consume(s);
	if (processes)
		xwaitpid(pid, &status, 0);
	else
		xpthread_join(t, NULL);
	printf("%-10s ring, two %-9s: %ld items in order, %7.1f ms, %6.2f M items/s\n",
	       s->locked ? "mutex" : "lock-free", processes ? "processes" : "threads", s->items,
	       stopwatch_ms(&sw), s->items / stopwatch_ms(&sw) / 1000.0);
}

/* A shared anonymous mapping of len bytes: children forked later share it. */
static void *map_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		err_die("mmap:");
	return p;
}

int main(int argc, char **argv)
{
	long items = argc > 1 ? atol(argv[1]) : 2000000;
	size_t capacity = argc > 2 ? (size_t)atol(argv[2]) : 1024;
	size_t size = ring_size(capacity), msize = mring_size(capacity);
	struct stream s = {.items = items};
	void *mem, *mmem;

	if (items < 1)
		err_die("usage: demo [ITEMS [CAPACITY]]");
	demo_spinlock();
	if (size == 0 || msize == 0)
		err_die("ring_size(%zu):", capacity);
	mem = map_shared(size);
	mmem = map_shared(msize);
	if (!(s.ring = ring_init(mem, capacity)))
		err_die("ring_init:");
	run(&s, 0);
	run(&s, 1);
	if (!(s.ring = mring_init(mmem, capacity)))
		err_die("mring_init:");
	s.locked = 1;
	run(&s, 0);
	run(&s, 1);
	if (mring_destroy(s.ring) < 0)
		err_die("mring_destroy:");
	munmap(mem, size);
	munmap(mmem, msize);
	return 0;
}
