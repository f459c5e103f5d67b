/*
 * Demo of lab 13: readers that never pause and a few writers share a
 * table, first under your lock, then under glibc's pthread_rwlock_t, whose
 * default kind prefers readers. For each, how many reads and writes were
 * done, the longest wait of each kind, and whether any reader ever saw a
 * half-written table.
 *
 *	make run LAB=13 [ARGS="[READERS [WRITERS [SECONDS]]]"]
 *
 * Defaults: 4 readers, 2 writers, 2 seconds for each lock.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ipclab.h"
#include "starvation.h"

#define MAX_THREADS 32
#define CELLS       64 /* the shared table: a writer sets every cell to one new value */

/* The four operations a lock offers, so that the same threads can run on either lock. */
struct lock_ops {
	const char *name;
	int (*rdlock)(void *lock);
	int (*wrlock)(void *lock);
	int (*rdunlock)(void *lock);
	int (*wrunlock)(void *lock);
};

static struct {
	const struct lock_ops *ops; /* the lock under test */
	void *lock;                 /* and the lock itself */
	long table[CELLS];          /* the shared data: all cells equal, unless torn */
	atomic_int stop;            /* time is up */
	atomic_long reads, writes;  /* done so far */
	atomic_long torn;           /* reads that saw cells differ */
	atomic_long read_wait_max;  /* the longest wait for a read lock, in microseconds */
	atomic_long write_wait_max; /* the longest wait for the write lock */
} db;

/* ==== The two locks ==== */

static int yours_rdlock(void *l)
{
	return rw_rdlock(l);
}
static int yours_wrlock(void *l)
{
	return rw_wrlock(l);
}
static int yours_rdunlock(void *l)
{
	return rw_rdunlock(l);
}
static int yours_wrunlock(void *l)
{
	return rw_wrunlock(l);
}

static const struct lock_ops yours = {"your rwlock", yours_rdlock, yours_wrlock, yours_rdunlock,
				      yours_wrunlock};

static int glibc_rdlock(void *l)
{
	return pthread_rwlock_rdlock(l);
}
static int glibc_wrlock(void *l)
{
	return pthread_rwlock_wrlock(l);
}
static int glibc_unlock(void *l)
{
	return pthread_rwlock_unlock(l);
}

static const struct lock_ops glibc = {"pthread_rwlock_t (glibc, prefers readers)", glibc_rdlock,
				      glibc_wrlock, glibc_unlock, glibc_unlock};

/* ==== Readers and writers ==== */

static void note_max(atomic_long *max, long value)
{
	long old = atomic_load(max);

	while (value > old && !atomic_compare_exchange_weak(max, &old, value))
		;
}

/* Take the lock with take, and note how long it took in max. */
static void timed_take(int (*take)(void *), atomic_long *max)
{
	uint64_t start = clock_now_ns();

	if (take(db.lock) != 0)
		err_die("%s: taking the lock failed", db.ops->name);
	note_max(max, (long)((clock_now_ns() - start) / 1000));
}

/* Read the whole table over and over, without a pause: a flood of readers. */
static void *reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&db.stop)) {
		timed_take(db.ops->rdlock, &db.read_wait_max);
		for (int i = 1; i < CELLS; i++)
			if (db.table[i] != db.table[0]) {
				atomic_fetch_add(&db.torn, 1);
				break;
			}
		clock_sleep_ms(1); /* reading takes a while */
		db.ops->rdunlock(db.lock);
		atomic_fetch_add(&db.reads, 1);
	}
	return NULL;
}

/* Think a little, then rewrite the whole table. */
static void *writer(void *arg)
{
	(void)arg;
	while (!atomic_load(&db.stop)) {
		clock_sleep_ms(5);
		timed_take(db.ops->wrlock, &db.write_wait_max);
		for (int i = 0; i < CELLS; i++)
			db.table[i] = db.table[i] + 1;
		db.ops->wrunlock(db.lock);
		atomic_fetch_add(&db.writes, 1);
	}
	return NULL;
}

static void run(const struct lock_ops *ops, void *lock, int readers, int writers, int seconds)
{
	pthread_t t[MAX_THREADS];
	int n = readers + writers;

	db.ops = ops;
	db.lock = lock;
	atomic_store(&db.stop, 0);
	atomic_store(&db.reads, 0);
	atomic_store(&db.writes, 0);
	atomic_store(&db.torn, 0);
	atomic_store(&db.read_wait_max, 0);
	atomic_store(&db.write_wait_max, 0);
	for (int i = 0; i < n; i++)
		xpthread_create(&t[i], i < readers ? reader : writer, NULL);
	clock_sleep_ms(1000L * seconds);
	atomic_store(&db.stop, 1);
	for (int i = 0; i < n; i++)
		xpthread_join(t[i], NULL);
	printf("%s:\n", ops->name);
	printf("  %ld reads, %ld writes, %ld torn reads\n", atomic_load(&db.reads),
	       atomic_load(&db.writes), atomic_load(&db.torn));
	printf("  longest wait: reader %.1f ms, writer %.1f ms\n",
	       atomic_load(&db.read_wait_max) / 1e3, atomic_load(&db.write_wait_max) / 1e3);
	if (atomic_load(&db.write_wait_max) > 900L * seconds)
		printf("  the writers waited through most of the run: starved by the readers\n");
	if (atomic_load(&db.read_wait_max) > 900L * seconds)
		printf("  the readers waited through most of the run: starved by the writers\n");
}

int main(int argc, char **argv)
{
	int readers = argc > 1 ? atoi(argv[1]) : 4;
	int writers = argc > 2 ? atoi(argv[2]) : 2;
	int seconds = argc > 3 ? atoi(argv[3]) : 2;
	pthread_rwlock_t theirs = PTHREAD_RWLOCK_INITIALIZER;
	struct rwlock *mine;

	if (argc > 4 || readers < 0 || writers < 0 || readers + writers > MAX_THREADS ||
	    seconds < 1)
		err_die("usage: %s [READERS [WRITERS [SECONDS]]]", argv[0]);
	printf("%d readers (never pausing), %d writers, %d s for each lock\n\n", readers, writers,
	       seconds);
	mine = rw_create();
	if (!mine)
		err_die("rw_create:");
	run(&yours, mine, readers, writers, seconds);
	if (rw_destroy(mine) < 0)
		err_die("rw_destroy:");
	run(&glibc, &theirs, readers, writers, seconds);
	return 0;
}
