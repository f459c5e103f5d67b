/*
 * Demo of lab 11: the three monitors at work. Producers and consumers share
 * a small blocking queue until it is closed; runners wait for a starting
 * event; workers march through phases in step at a barrier.
 *
 *	make run LAB=11 [ARGS="[ITEMS]"]
 *
 * ITEMS is how many items each producer puts (default 10000).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipclab.h"
#include "monitors.h"

#define PRODUCERS 2
#define CONSUMERS 3
#define RUNNERS   4
#define WORKERS   3
#define PHASES    3

/* ==== A blocking queue between producers and consumers ==== */

struct pc {
	struct bqueue q;     /* the queue they share */
	long items;          /* what each producer puts */
	long got[CONSUMERS]; /* got[k]: what consumer k took */
	long sum[CONSUMERS]; /* the sum of the values it took */
};

struct pc_arg {
	struct pc *pc;
	int k; /* which producer or consumer */
};

static void *producer(void *arg)
{
	struct pc_arg *a = arg;

	for (long i = 1; i <= a->pc->items; i++)
		if (bq_put(&a->pc->q, (void *)(intptr_t)i, -1) < 0)
			err_die("bq_put:");
	return NULL;
}

static void *consumer(void *arg)
{
	struct pc_arg *a = arg;
	void *item;

	while (bq_get(&a->pc->q, &item, -1) == 0) {
		a->pc->got[a->k]++;
		a->pc->sum[a->k] += (long)(intptr_t)item;
	}
	if (errno != EPIPE)
		err_die("bq_get:");
	return NULL; /* EPIPE: closed and drained, the normal end */
}

static void demo_queue(long items)
{
	static struct pc pc;
	struct pc_arg pa[PRODUCERS], ca[CONSUMERS];
	pthread_t pt[PRODUCERS], ct[CONSUMERS];
	long total = 0, sum = 0;

	pc.items = items;
	if (bq_init(&pc.q, 4) < 0)
		err_die("bq_init:");
	for (int k = 0; k < CONSUMERS; k++) {
		ca[k] = (struct pc_arg){.pc = &pc, .k = k};
		xpthread_create(&ct[k], consumer, &ca[k]);
	}
	for (int k = 0; k < PRODUCERS; k++) {
		pa[k] = (struct pc_arg){.pc = &pc, .k = k};
		xpthread_create(&pt[k], producer, &pa[k]);
	}
	for (int k = 0; k < PRODUCERS; k++)
		xpthread_join(pt[k], NULL);
	bq_close(&pc.q); /* every consumer wakes, drains what is left, and sees EPIPE */
	for (int k = 0; k < CONSUMERS; k++) {
		xpthread_join(ct[k], NULL);
		printf("  consumer %d took %ld items\n", k, pc.got[k]);
		total += pc.got[k];
		sum += pc.sum[k];
	}
	printf("  %ld items of %ld, sum %ld (expected %ld)\n", total, PRODUCERS * items, sum,
	       PRODUCERS * items * (items + 1) / 2);
	bq_destroy(&pc.q);
}

/* ==== An Event as a starting pistol ==== */

static struct event start;

static void *runner(void *arg)
{
	struct stopwatch sw;

	stopwatch_start(&sw);
	if (event_wait(&start, -1) != 1)
		err_die("event_wait:");
	printf("  runner %ld off after %.0f ms\n", (long)(intptr_t)arg, stopwatch_ms(&sw));
	return NULL;
}

static void demo_event(void)
{
	pthread_t t[RUNNERS];
	struct stopwatch sw;
	int ret;

	if (event_init(&start) < 0)
		err_die("event_init:");
	for (long i = 0; i < RUNNERS; i++)
		xpthread_create(&t[i], runner, (void *)(intptr_t)i);
	clock_sleep_ms(200);
	printf("  bang (event_set)\n");
	event_set(&start); /* all of them, at once */
	for (int i = 0; i < RUNNERS; i++)
		xpthread_join(t[i], NULL);
	event_clear(&start);
	stopwatch_start(&sw);
	ret = event_wait(&start, 300);
	printf("  event_wait(300 ms) on a cleared event: %d after %.0f ms\n", ret,
	       stopwatch_ms(&sw));
	event_destroy(&start);
}

/* ==== A Barrier keeping workers in step ==== */

static struct barrier step;

static void *worker(void *arg)
{
	long id = (long)(intptr_t)arg;

	for (int phase = 1; phase <= PHASES; phase++) {
		clock_sleep_ms(20 * (id + 1)); /* uneven work: the barrier evens it out */
		if (barrier_wait(&step) == WORKERS - 1)
			printf("  phase %d done: worker %ld arrived last and released the others\n",
			       phase, id);
	}
	return NULL;
}

static void demo_barrier(void)
{
	pthread_t t[WORKERS];

	if (barrier_init(&step, WORKERS) < 0)
		err_die("barrier_init:");
	for (long i = 0; i < WORKERS; i++)
		xpthread_create(&t[i], worker, (void *)(intptr_t)i);
	for (int i = 0; i < WORKERS; i++)
		xpthread_join(t[i], NULL);
	barrier_destroy(&step);
}

int main(int argc, char **argv)
{
	long items = argc > 1 ? atol(argv[1]) : 10000;

	if (argc > 2 || items < 1)
		err_die("usage: %s [ITEMS]", argv[0]);
	printf("%d producers put %ld items each through a queue of 4; %d consumers take:\n",
	       PRODUCERS, items, CONSUMERS);
	demo_queue(items);
	printf("\n%d runners wait for the start event:\n", RUNNERS);
	demo_event();
	printf("\n%d workers, %d phases, one barrier:\n", WORKERS, PHASES);
	demo_barrier();
	return 0;
}
