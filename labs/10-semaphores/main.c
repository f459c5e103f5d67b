/*
 * Lab 10's demo: producer and consumer processes around one bounded buffer,
 * then workers that take turns through a named semaphore.
 *
 *	make run LAB=10                          # 3 producers, 2 consumers, a ring of 4
 *	make run LAB=10 ARGS='-p 4 -c 4 -n 100000 -s 16'
 *	make run LAB=10 ARGS='-w 6 -l 2'         # 6 workers, at most 2 at a time
 *
 * -p producers each put -n items tagged "producer:sequence" into a ring of
 * -s slots; -c consumers take them all and record each one in a shared
 * table, and the demo checks that every item arrived exactly once. -w and -l
 * run the named-semaphore part instead: each worker says when it enters and
 * leaves, and how many were inside with it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"
#include "semaphores.h"

struct opts {
	int producers;  /* processes that put */
	int consumers;  /* processes that get */
	long items;     /* items each producer puts */
	unsigned slots; /* slots in the ring */
	int workers;    /* run_limited: workers, 0 for the ring demo */
	int limit;      /* run_limited: how many at once */
};

/* ==== The ring ==== */

static void produce(struct ring *r, int p, long items)
{
	for (long s = 0; s < items; s++)
		if (ring_put(r, (uint64_t)p << 32 | (uint64_t)s) < 0)
			err_die("producer %d: ring_put:", p);
}

/* Take n items and count each in seen[producer * items + sequence]. */
static void consume(struct ring *r, long n, atomic_uchar *seen, const struct opts *o)
{
	uint64_t item;

	for (long k = 0; k < n; k++) {
		if (ring_get(r, &item) < 0)
			err_die("consumer: ring_get:");
		if ((long)(item >> 32) < o->producers && (long)(uint32_t)item < o->items)
			atomic_fetch_add(&seen[(item >> 32) * (uint64_t)o->items + (uint32_t)item],
					 1);
	}
}

static void demo_ring(const struct opts *o)
{
	long total = o->producers * o->items, lost = 0, twice = 0;
	atomic_uchar *seen;
	struct ring *r;
	struct stopwatch sw;

	seen = mmap(NULL, (size_t)total + 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		    0);
	if (seen == MAP_FAILED)
		err_die("mmap:");
	r = ring_create(o->slots);
	if (!r)
		err_die("ring_create(%u):", o->slots);
	stopwatch_start(&sw);
	for (int p = 0; p < o->producers; p++)
		if (xfork() == 0) {
			produce(r, p, o->items);
			_exit(0);
		}
	for (int c = 0; c < o->consumers; c++)
		if (xfork() == 0) {
			/* The last consumer also takes what does not divide evenly. */
			long share = total / o->consumers;

			consume(r, share + (c == o->consumers - 1 ? total % o->consumers : 0), seen,
				o);
			_exit(0);
		}
	while (wait(NULL) > 0)
		;
	for (long i = 0; i < total; i++) {
		lost += seen[i] == 0;
		twice += seen[i] > 1;
	}
	printf("%d producers x %ld items through %u slots to %d consumers in %.0f ms\n",
	       o->producers, o->items, o->slots, o->consumers, stopwatch_ms(&sw));
	printf("lost %ld, received more than once %ld: %s\n", lost, twice,
	       lost || twice ? "WRONG" : "every item exactly once");
	if (ring_free(r) < 0)
		err_warn("ring_free:");
	munmap(seen, (size_t)total + 1);
}

/* ==== The named semaphore ==== */

static atomic_int *inside; /* [0]: workers inside now, [1]: the most at once */

static int visit(int i, void *arg)
{
	int now = atomic_fetch_add(&inside[0], 1) + 1;
	int most = atomic_load(&inside[1]);

	(void)arg;
	while (now > most && !atomic_compare_exchange_weak(&inside[1], &most, now))
		;
	printf("worker %d (pid %d) enters: %d inside\n", i, (int)getpid(), now);
	fflush(stdout);
	usleep(200000);
	atomic_fetch_sub(&inside[0], 1);
	printf("worker %d leaves\n", i);
	fflush(stdout);
	return 0;
}

static void demo_limited(const struct opts *o)
{
	char name[64];

	inside = mmap(NULL, 2 * sizeof(*inside), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		      -1, 0);
	if (inside == MAP_FAILED)
		err_die("mmap:");
	snprintf(name, sizeof(name), "/ipclab-demo-%d", (int)getpid());
	if (run_limited(name, o->workers, o->limit, visit, NULL) < 0)
		err_die("run_limited(%s, %d workers, limit %d):", name, o->workers, o->limit);
	printf("all %d workers done; at most %d were inside at once (limit %d)\n", o->workers,
	       atomic_load(&inside[1]), o->limit);
}

int main(int argc, char **argv)
{
	struct opts o = {3, 2, 10000, 4, 0, 2};
	int c;

	while ((c = getopt(argc, argv, "p:c:n:s:w:l:")) != -1) {
		switch (c) {
		case 'p':
			o.producers = atoi(optarg);
			break;
		case 'c':
			o.consumers = atoi(optarg);
			break;
		case 'n':
			o.items = atol(optarg);
			break;
		case 's':
			o.slots = (unsigned)atoi(optarg);
			break;
		case 'w':
			o.workers = atoi(optarg);
			break;
		case 'l':
			o.limit = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: demo [-p P] [-c C] [-n ITEMS] [-s SLOTS] | "
					"-w WORKERS [-l LIMIT]\n");
			return 2;
		}
	}
	if (o.producers < 1 || o.consumers < 1 || o.items < 1)
		err_die("-p, -c and -n must be at least 1");
	if (o.workers > 0)
		demo_limited(&o);
	else
		demo_ring(&o);
	return 0;
}
