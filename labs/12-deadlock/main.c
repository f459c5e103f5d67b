/*
 * Demo of lab 12: five philosophers dine with each of your two cures, four
 * threads move money between accounts, and on request the naive dinner
 * (left fork, then right) shows its deadlock.
 *
 *	make run LAB=12 [ARGS="[MEALS]"]    the two cures and the bank
 *	make run LAB=12 ARGS=naive          the naive dinner, until it deadlocks
 *
 * MEALS is how many times each philosopher eats (default 20000).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipclab.h"
#include "deadlock.h"

#define N          5      /* philosophers */
#define TRANSFERS  100000 /* transfers per bank thread */
#define BANK_SIZE  4      /* accounts */
#define BANK_START 1000   /* each account's first balance */

/* ==== The two cures ==== */

struct tally {
	atomic_long meals[N]; /* meals eaten by each philosopher */
};

static void eat(void *ctx, int i)
{
	struct tally *tally = ctx;

	atomic_fetch_add(&tally->meals[i], 1);
}

static void demo_dinner(const char *name, int (*dine)(const struct table *, int), int meals)
{
	pthread_mutex_t forks[N];
	struct tally tally = {0};
	struct table t = {.n = N, .forks = forks, .eat = eat, .ctx = &tally};
	struct stopwatch sw;

	for (int i = 0; i < N; i++)
		pthread_mutex_init(&forks[i], NULL);
	stopwatch_start(&sw);
	if (dine(&t, meals) < 0)
		err_die("%s:", name);
	printf("%-13s %5.0f ms, meals:", name, stopwatch_ms(&sw));
	for (int i = 0; i < N; i++)
		printf(" %ld", atomic_load(&tally.meals[i]));
	printf("\n");
}

/* ==== The bank ==== */

static struct account bank[BANK_SIZE];

static void *teller(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg;

	for (int k = 0; k < TRANSFERS; k++) {
		int a = rand_r(&seed) % BANK_SIZE;
		int b = (a + 1 + rand_r(&seed) % (BANK_SIZE - 1)) % BANK_SIZE;

		if (account_transfer(&bank[a], &bank[b], 1 + rand_r(&seed) % 50) < 0)
			err_die("account_transfer:");
	}
	return NULL;
}

static void demo_bank(void)
{
	pthread_t tellers[4];
	struct stopwatch sw;
	long total = 0;

	for (int i = 0; i < BANK_SIZE; i++) {
		pthread_mutex_init(&bank[i].lock, NULL);
		bank[i].id = BANK_SIZE - i; /* ids need not follow the array */
		bank[i].balance = BANK_START;
	}
	stopwatch_start(&sw);
	for (int i = 0; i < 4; i++)
		xpthread_create(&tellers[i], teller, (void *)(size_t)(i + 1));
	for (int i = 0; i < 4; i++)
		xpthread_join(tellers[i], NULL);
	printf("\nbank: 4 threads x %d random transfers in %.0f ms; balances:", TRANSFERS,
	       stopwatch_ms(&sw));
	for (int i = 0; i < BANK_SIZE; i++) {
		printf(" %ld", bank[i].balance);
		total += bank[i].balance;
	}
	printf("\n      total %ld (expected %d)\n", total, BANK_SIZE * BANK_START);
}

/* ==== The naive dinner ==== */

static pthread_mutex_t naive_forks[N];
static atomic_long naive_meals;

/* Left fork, a moment's thought, right fork: the way everybody first writes it. */
static void *naive_philosopher(void *arg)
{
	int i = (int)(size_t)arg;
	struct timespec thought = {.tv_nsec = 1000000};

	for (;;) {
		pthread_mutex_lock(&naive_forks[i]);
		nanosleep(&thought, NULL);
		pthread_mutex_lock(&naive_forks[(i + 1) % N]);
		atomic_fetch_add(&naive_meals, 1);
		pthread_mutex_unlock(&naive_forks[(i + 1) % N]);
		pthread_mutex_unlock(&naive_forks[i]);
	}
	return NULL;
}

static void demo_naive(void)
{
	pthread_t t;
	long last = -1;

	printf("naive dinner: each philosopher takes its left fork, thinks 1 ms, takes its "
	       "right fork\n");
	for (int i = 0; i < N; i++)
		pthread_mutex_init(&naive_forks[i], NULL);
	for (int i = 0; i < N; i++)
		xpthread_create(&t, naive_philosopher, (void *)(size_t)i);
	while (atomic_load(&naive_meals) != last) {
		last = atomic_load(&naive_meals);
		clock_sleep_ms(1000);
		printf("  %ld meals so far\n", atomic_load(&naive_meals));
	}
	printf("no meal for a whole second. The forks:");
	for (int i = 0; i < N; i++) {
		int busy = pthread_mutex_trylock(&naive_forks[i]) == EBUSY;

		printf(" %d:%s", i, busy ? "taken" : "free");
	}
	printf("\ndeadlock: every philosopher holds its left fork and waits for its right one, "
	       "forever.\n");
	exit(0); /* the philosophers can never be joined: ending the process ends them */
}

int main(int argc, char **argv)
{
	int meals = 20000;

	if (argc > 1 && strcmp(argv[1], "naive") == 0)
		demo_naive();
	if (argc > 1)
		meals = atoi(argv[1]);
	if (argc > 2 || meals < 0)
		err_die("usage: %s [MEALS | naive]", argv[0]);
	printf("%d philosophers, %d meals each\n", N, meals);
	demo_dinner("dine_ordered", dine_ordered, meals);
	demo_dinner("dine_backoff", dine_backoff, meals);
	demo_bank();
	return 0;
}
