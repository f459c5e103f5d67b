/*
 * The hidden tests of lab 13, starvation: the readers-writers lock of
 * starvation.h.
 *
 * Exclusion is checked with counters that the test's own threads keep
 * inside their critical sections (readers inside, writers inside): a reader
 * that sees a writer inside, or a writer that sees anyone, is a violation.
 * Whether a thread is blocked in a call is read from /proc/self/task/TID/stat
 * (state S, several times in a row, while it is known to be inside the call)
 * rather than guessed with a sleep.
 *
 * Starvation is made deterministic by relays. In the writers' test, readers
 * overlap on purpose: a reader leaves only once another reader is inside,
 * so a lock that lets a reader in whenever readers are inside never has a
 * moment without one, and the writer never gets in; a fair lock stops new
 * readers once the writer waits, the last reader gives up its relay after
 * RELAY_MS, and the writer goes in. In the readers' test, writers do the
 * same: one leaves only once another writer is blocked in rw_wrlock, so a
 * lock that always prefers a waiting writer never lets the reader in.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "suite.h"
#include "starvation.h"

#define SETTLE_MS 2000 /* the longest a thread may take to get in or fall asleep */
#define ENTER_MS  2000 /* the longest a woken thread may take to get in */
#define RELAY_MS  200  /* the longest a relay runner waits for the next one */
#define BOUND_MS  1000 /* a starving thread's wait: the bound it must get in within */
#define FLOOD_MAX 8    /* threads in a flood */

/* ==== Small helpers ==== */

static void pause_us(long us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

/* Milliseconds since start_ns (a clock_now_ns() reading). */
static uint64_t ms_since(uint64_t start_ns)
{
	return (clock_now_ns() - start_ns) / 1000000u;
}

/* A new lock from rw_create, or a failed test. */
static struct rwlock *lock_new(void)
{
	struct rwlock *rw;

	errno = 0;
	rw = rw_create();
	ck_assert_msg(rw != NULL, "rw_create() returned NULL (errno %s), expected a new lock",
		      err_name(errno));
	return rw;
}

/* Make the call and fail unless it returns 0. */
#define MUST(call)                                                                                 \
	do {                                                                                       \
		errno = 0;                                                                         \
		int ret_ = (call);                                                                 \
		ck_assert_msg(ret_ == 0, "%s returned %d (errno %s), expected 0", #call, ret_,     \
			      err_name(errno));                                                    \
	} while (0)

/* What a call that should have failed did instead, in words. */
static const char *outcome(int ret, int err)
{
	static char buf[64];

	if (ret == 0)
		return "0 (success)";
	snprintf(buf, sizeof(buf), "%d with errno %s", ret, err_name(err));
	return buf;
}

/* Make the call and fail unless it returns -1 with errno e; why says why it should. */
#define MUST_FAIL(call, e, why)                                                                    \
	do {                                                                                       \
		errno = 0;                                                                         \
		int ret_ = (call), err_ = errno;                                                   \
		ck_assert_msg(ret_ == -1 && err_ == (e),                                           \
			      "%s: expected -1 with errno %s, got %s: %s", #call, err_name(e),     \
			      outcome(ret_, err_), why);                                           \
	} while (0)

/* ==== Actors: threads that take the lock, hold it until told, and give it back ==== */

enum act { ACT_READ, ACT_WRITE, ACT_WRUNLOCK };

struct actor {
	struct rwlock *rw;  /* the lock */
	enum act act;       /* what to do */
	_Atomic pid_t tid;  /* the thread */
	atomic_int called;  /* it is in the call (or past it) */
	atomic_int entered; /* the call returned */
	atomic_int release; /* the test says: give it back now */
	atomic_int left;    /* it gave it back (or had nothing to give back) */
	int ret, err;       /* what the call returned, and errno */
	pthread_t thread;   /* to join it */
};

static struct {
	atomic_int readers; /* actors holding a read lock */
	atomic_int writers; /* actors holding the write lock */
	atomic_int clashes; /* times an actor got in beside one it should exclude */
} stage;

/* An actor's thread: make its call, note who is inside, hold until released. */
static void *actor_main(void *p)
{
	struct actor *a = p;

	atomic_store(&a->tid, gettid());
	atomic_store(&a->called, 1);
	if (a->act == ACT_WRUNLOCK) {
		a->ret = rw_wrunlock(a->rw);
		a->err = errno;
		atomic_store(&a->entered, 1);
		atomic_store(&a->left, 1);
		return NULL;
	}
	a->ret = a->act == ACT_READ ? rw_rdlock(a->rw) : rw_wrlock(a->rw);
	a->err = errno;
	if (a->ret == 0) {
		atomic_int *mine = a->act == ACT_READ ? &stage.readers : &stage.writers;

		if (atomic_fetch_add(mine, 1) > 0 && a->act == ACT_WRITE)
			atomic_fetch_add(&stage.clashes, 1);
		if (atomic_load(a->act == ACT_READ ? &stage.writers : &stage.readers) > 0)
			atomic_fetch_add(&stage.clashes, 1);
	}
	atomic_store(&a->entered, 1);
	while (!atomic_load(&a->release))
		pause_us(500);
	if (a->ret == 0) {
		atomic_fetch_sub(a->act == ACT_READ ? &stage.readers : &stage.writers, 1);
		if (a->act == ACT_READ)
			rw_rdunlock(a->rw);
		else
			rw_wrunlock(a->rw);
	}
	atomic_store(&a->left, 1);
	return NULL;
}

/* Start an actor that does act on rw. */
static void actor_start(struct actor *a, struct rwlock *rw, enum act act)
{
	memset(a, 0, sizeof(*a));
	a->rw = rw;
	a->act = act;
	xpthread_create(&a->thread, actor_main, a);
}

/* Wait until flag is set or ms pass. Returns whether it was set. */
static int wait_flag(atomic_int *flag, long ms)
{
	uint64_t start = clock_now_ns();

	while (!atomic_load(flag)) {
		if (ms_since(start) > (uint64_t)ms)
			return 0;
		pause_us(500);
	}
	return 1;
}

/*
 * Wait until the actor got in, or is asleep inside its call (state S seen
 * three times in a row, 2 ms apart), or SETTLE_MS pass.
 */
static void actor_settle(struct actor *a)
{
	uint64_t start = clock_now_ns();
	int asleep = 0;

	while (!atomic_load(&a->entered) && asleep < 3 && ms_since(start) < SETTLE_MS) {
		if (atomic_load(&a->called) && proc_state(0, atomic_load(&a->tid)) == 'S')
			asleep++;
		else
			asleep = 0;
		pause_us(2000);
	}
}

/* Tell the actor to give the lock back and join it. */
static void actor_end(struct actor *a)
{
	atomic_store(&a->release, 1);
	ck_assert_msg(wait_flag(&a->left, ENTER_MS), "a thread never came back from its call");
	xpthread_join(a->thread, NULL);
}

/* The name of the function the actor calls. */
static const char *act_name(const struct actor *a)
{
	return a->act == ACT_READ ? "rw_rdlock" : a->act == ACT_WRITE ? "rw_wrlock" : "rw_wrunlock";
}

/* The actor must have got in, with 0, within ENTER_MS. */
static void actor_must_enter(struct actor *a, const char *why)
{
	ck_assert_msg(wait_flag(&a->entered, ENTER_MS), "%s never returned: %s", act_name(a), why);
	ck_assert_msg(a->ret == 0, "%s returned %d (errno %s), expected 0", act_name(a), a->ret,
		      err_name(a->err));
}

/* ==== Core: exclusion ==== */

START_TEST(test_writer_excludes_all)
{
	struct rwlock *rw = lock_new();
	struct actor r, w;
	uint64_t start;

	MUST(rw_wrlock(rw));
	actor_start(&r, rw, ACT_READ);
	actor_start(&w, rw, ACT_WRITE);
	actor_settle(&r);
	actor_settle(&w);
	ck_assert_msg(!atomic_load(&r.entered),
		      "rw_rdlock returned %d while a writer held the lock: a reader must wait "
		      "while a writer is inside",
		      r.ret);
	ck_assert_msg(!atomic_load(&w.entered),
		      "rw_wrlock returned %d while another writer held the lock: a writer must "
		      "wait while a writer is inside",
		      w.ret);
	MUST(rw_wrunlock(rw));
	/* One of them gets in first; the other must wait for it, then follow. */
	start = clock_now_ns();
	while (!atomic_load(&r.entered) && !atomic_load(&w.entered)) {
		ck_assert_msg(ms_since(start) < ENTER_MS,
			      "after the writer left, neither the waiting reader nor the waiting "
			      "writer got in: wake them (broadcast the readers, signal a writer)");
		pause_us(500);
	}
	clock_sleep_ms(50);
	ck_assert_msg(!atomic_load(&stage.clashes),
		      "after the writer left, a reader and a writer were both inside at once: a "
		      "writer may go in only when no reader is inside, and the other way round");
	if (atomic_load(&r.entered)) {
		actor_end(&r);
		actor_must_enter(&w, "the reader left, so the waiting writer should have got in");
		actor_end(&w);
	} else {
		actor_end(&w);
		actor_must_enter(&r, "the writer left, so the waiting reader should have got in");
		actor_end(&r);
	}
	ck_assert_msg(!atomic_load(&stage.clashes), "a reader and a writer were inside together");
	MUST(rw_destroy(rw));
}
END_TEST

START_TEST(test_reader_excludes_writer)
{
	struct rwlock *rw = lock_new();
	struct actor w;

	MUST(rw_rdlock(rw));
	actor_start(&w, rw, ACT_WRITE);
	actor_settle(&w);
	ck_assert_msg(!atomic_load(&w.entered),
		      "rw_wrlock returned %d while a reader held the lock: a writer must wait "
		      "until no reader is inside",
		      w.ret);
	MUST(rw_rdunlock(rw));
	actor_must_enter(&w, "the last reader left while a writer waited, and the writer was "
			     "never woken: when readers drops to 0 and a writer waits, "
			     "pthread_cond_signal it (a lost wake-up)");
	actor_end(&w);
	MUST(rw_destroy(rw));
}
END_TEST

START_TEST(test_readers_share)
{
	enum { N = 4 };
	struct rwlock *rw = lock_new();
	struct actor r[N];
	uint64_t start = clock_now_ns();
	int in = 0;

	for (int i = 0; i < N; i++)
		actor_start(&r[i], rw, ACT_READ);
	while (in < N && ms_since(start) < ENTER_MS) {
		in = 0;
		for (int i = 0; i < N; i++)
			in += atomic_load(&r[i].entered);
		pause_us(1000);
	}
	ck_assert_msg(in == N,
		      "only %d of %d readers got in at the same time (the others waited): "
		      "readers share the lock; only a writer holds it alone",
		      in, N);
	for (int i = 0; i < N; i++)
		ck_assert_msg(r[i].ret == 0, "rw_rdlock returned %d (errno %s)", r[i].ret,
			      err_name(r[i].err));
	MUST(rw_tryrdlock(rw));
	MUST(rw_rdunlock(rw));
	for (int i = 0; i < N; i++)
		actor_end(&r[i]);
	MUST(rw_trywrlock(rw));
	MUST(rw_wrunlock(rw));
	MUST(rw_destroy(rw));
}
END_TEST

START_TEST(test_wakes_all_readers)
{
	enum { N = 3 };
	struct rwlock *rw = lock_new();
	struct actor r[N];
	uint64_t start;
	int in = 0;

	MUST(rw_wrlock(rw));
	for (int i = 0; i < N; i++)
		actor_start(&r[i], rw, ACT_READ);
	for (int i = 0; i < N; i++)
		actor_settle(&r[i]);
	MUST(rw_wrunlock(rw));
	start = clock_now_ns();
	while (in < N && ms_since(start) < ENTER_MS) {
		in = 0;
		for (int i = 0; i < N; i++)
			in += atomic_load(&r[i].entered);
		pause_us(1000);
	}
	ck_assert_msg(in == N,
		      "%d readers waited while a writer held the lock; after it left only %d got "
		      "in: wake every waiting reader (pthread_cond_broadcast), not just one",
		      N, in);
	for (int i = 0; i < N; i++)
		actor_end(&r[i]);
	MUST(rw_destroy(rw));
}
END_TEST

/* ==== Core: exclusion under stress ==== */

static struct {
	struct rwlock *rw;   /* the lock */
	atomic_int readers;  /* readers inside, counted by the test */
	atomic_int writers;  /* writers inside */
	atomic_int clashes;  /* exclusion broken */
	atomic_int failures; /* calls that did not return 0 */
	atomic_int progress; /* critical sections done */
	atomic_int finished; /* threads done */
	long counter;        /* changed by writers only, with the lock held */
} mix;

enum { MIX_ROUNDS = 3000 };

/* Take the lock (every fourth time with the try variant, retried), or return -1. */
static int mix_take(int write, int round)
{
	int ret;

	if (round % 4 != 3)
		return write ? rw_wrlock(mix.rw) : rw_rdlock(mix.rw);
	while ((ret = write ? rw_trywrlock(mix.rw) : rw_tryrdlock(mix.rw)) < 0 && errno == EBUSY)
		sched_yield();
	return ret;
}

/* A reader (p == NULL) or a writer of the stress test: MIX_ROUNDS critical sections. */
static void *mix_main(void *p)
{
	int write = p != NULL;

	for (int round = 0; round < MIX_ROUNDS; round++) {
		if (mix_take(write, round) < 0) {
			atomic_fetch_add(&mix.failures, 1);
			break;
		}
		if (write) {
			if (atomic_fetch_add(&mix.writers, 1) > 0 || atomic_load(&mix.readers) > 0)
				atomic_fetch_add(&mix.clashes, 1);
			mix.counter++;
			atomic_fetch_sub(&mix.writers, 1);
		} else {
			atomic_fetch_add(&mix.readers, 1);
			if (atomic_load(&mix.writers) > 0)
				atomic_fetch_add(&mix.clashes, 1);
			atomic_fetch_sub(&mix.readers, 1);
		}
		if ((write ? rw_wrunlock(mix.rw) : rw_rdunlock(mix.rw)) < 0)
			atomic_fetch_add(&mix.failures, 1);
		atomic_fetch_add(&mix.progress, 1);
	}
	atomic_fetch_add(&mix.finished, 1);
	return NULL;
}

START_TEST(test_exclusion_stress)
{
	enum { READERS = 3, WRITERS = 2 };
	pthread_t t[READERS + WRITERS];
	uint64_t moved = clock_now_ns();
	int last = -1;

	mix.rw = lock_new();
	for (int i = 0; i < READERS + WRITERS; i++)
		xpthread_create(&t[i], mix_main, i < WRITERS ? &mix : NULL);
	while (atomic_load(&mix.finished) < READERS + WRITERS) {
		if (atomic_load(&mix.progress) != last) {
			last = atomic_load(&mix.progress);
			moved = clock_now_ns();
		}
		ck_assert_msg(
		    ms_since(moved) < 2000,
		    "3 readers and 2 writers stopped making progress after %d critical "
		    "sections (no thread got in for 2 s): a wake-up was lost, or a thread "
		    "waits for a condition nobody signals",
		    last);
		pause_us(2000);
	}
	for (int i = 0; i < READERS + WRITERS; i++)
		xpthread_join(t[i], NULL);
	ck_assert_msg(!atomic_load(&mix.failures), "%d lock or unlock calls failed",
		      atomic_load(&mix.failures));
	ck_assert_msg(!atomic_load(&mix.clashes),
		      "exclusion broken %d times: a reader was inside with a writer, or two "
		      "writers at once",
		      atomic_load(&mix.clashes));
	ck_assert_msg(mix.counter == (long)WRITERS * MIX_ROUNDS,
		      "the writers' counter is %ld, expected %ld: writers overwrote each other",
		      mix.counter, (long)WRITERS * MIX_ROUNDS);
	MUST(rw_destroy(mix.rw));
}
END_TEST

/* ==== Starvation ==== */

/* A flood of readers or writers, and the one thread of the other kind that must get in. */
static struct {
	struct rwlock *rw;             /* the lock */
	atomic_int stop;               /* the flood ends */
	atomic_int readers;            /* readers inside, counted by the test */
	atomic_int writers;            /* writers inside */
	atomic_int entries;            /* flood threads' entries so far */
	atomic_int clashes;            /* exclusion broken */
	atomic_int failures;           /* calls that did not return 0 */
	atomic_int finished;           /* flood threads done */
	_Atomic pid_t tid[FLOOD_MAX];  /* the flood's writers ... */
	atomic_int wanting[FLOOD_MAX]; /* ... and which of them are in rw_wrlock */
	int count;                     /* flood threads */
	atomic_int got_in;             /* the lone thread got in */
	uint64_t waited_ms;            /* how long it waited */
} fl;

/* Note who is inside: a writer beside anyone, or a reader beside a writer, clashes. */
static void fl_enter(int write)
{
	if (write) {
		if (atomic_fetch_add(&fl.writers, 1) > 0 || atomic_load(&fl.readers) > 0)
			atomic_fetch_add(&fl.clashes, 1);
	} else {
		atomic_fetch_add(&fl.readers, 1);
		if (atomic_load(&fl.writers) > 0)
			atomic_fetch_add(&fl.clashes, 1);
	}
}

/*
 * A reader of the flood. Inside, it leaves only when another reader is
 * inside too (the count goes from c >= 2 to c - 1, never from 1 to 0), so
 * readers always overlap; after RELAY_MS alone it leaves anyway.
 */
static void *fl_reader(void *p)
{
	(void)p;
	while (!atomic_load(&fl.stop)) {
		uint64_t start;

		if (rw_rdlock(fl.rw) < 0) {
			atomic_fetch_add(&fl.failures, 1);
			break;
		}
		fl_enter(0);
		atomic_fetch_add(&fl.entries, 1);
		start = clock_now_ns();
		for (;;) {
			int c = atomic_load(&fl.readers);

			if (c >= 2 && atomic_compare_exchange_strong(&fl.readers, &c, c - 1))
				break;
			if (atomic_load(&fl.stop) || ms_since(start) >= RELAY_MS) {
				atomic_fetch_sub(&fl.readers, 1);
				break;
			}
			pause_us(200);
		}
		if (rw_rdunlock(fl.rw) < 0)
			atomic_fetch_add(&fl.failures, 1);
	}
	atomic_fetch_add(&fl.finished, 1);
	return NULL;
}

/* Whether a flood writer other than me has been seen asleep in rw_wrlock, seen[] times. */
static int fl_other_writer_asleep(int me, int seen[])
{
	for (int k = 0; k < fl.count; k++) {
		if (k == me)
			continue;
		if (atomic_load(&fl.wanting[k]) && proc_state(0, atomic_load(&fl.tid[k])) == 'S')
			seen[k]++;
		else
			seen[k] = 0;
		if (seen[k] >= 2)
			return 1;
	}
	return 0;
}

/*
 * A writer of the flood. Inside, it leaves only once another flood writer
 * is asleep in rw_wrlock, so that a writer is always waiting when it
 * leaves; after RELAY_MS it leaves anyway.
 */
static void *fl_writer(void *p)
{
	int me = (int)(size_t)p;

	atomic_store(&fl.tid[me], gettid());
	while (!atomic_load(&fl.stop)) {
		int seen[FLOOD_MAX] = {0};
		uint64_t start;

		atomic_store(&fl.wanting[me], 1);
		if (rw_wrlock(fl.rw) < 0) {
			atomic_fetch_add(&fl.failures, 1);
			break;
		}
		atomic_store(&fl.wanting[me], 0);
		fl_enter(1);
		atomic_fetch_add(&fl.entries, 1);
		start = clock_now_ns();
		while (!atomic_load(&fl.stop) && ms_since(start) < RELAY_MS &&
		       !fl_other_writer_asleep(me, seen))
			pause_us(200);
		atomic_fetch_sub(&fl.writers, 1);
		if (rw_wrunlock(fl.rw) < 0)
			atomic_fetch_add(&fl.failures, 1);
	}
	atomic_store(&fl.wanting[me], 0);
	atomic_fetch_add(&fl.finished, 1);
	return NULL;
}

/* The lone thread: take the lock once the other way, timing the wait. */
static void *fl_lone(void *p)
{
	int write = p != NULL;
	uint64_t start = clock_now_ns();

	if ((write ? rw_wrlock(fl.rw) : rw_rdlock(fl.rw)) < 0) {
		atomic_fetch_add(&fl.failures, 1);
		return NULL;
	}
	fl.waited_ms = ms_since(start);
	fl_enter(write);
	atomic_store(&fl.got_in, 1);
	pause_us(1000);
	atomic_fetch_sub(write ? &fl.writers : &fl.readers, 1);
	if ((write ? rw_wrunlock(fl.rw) : rw_rdunlock(fl.rw)) < 0)
		atomic_fetch_add(&fl.failures, 1);
	return NULL;
}

/*
 * Start count flood threads of one kind, wait until they have entered 30
 * times, then start the lone thread of the other kind. Returns whether it
 * got in within BOUND_MS. Then stops the flood and joins every thread.
 */
static int flood_run(int flood_writes, int count)
{
	pthread_t t[FLOOD_MAX], lone;
	uint64_t start = clock_now_ns();
	int got_in;

	memset(&fl, 0, sizeof(fl));
	fl.rw = lock_new();
	fl.count = count;
	for (int k = 0; k < count; k++)
		xpthread_create(&t[k], flood_writes ? fl_writer : fl_reader, (void *)(size_t)k);
	while (atomic_load(&fl.entries) < 30 && !atomic_load(&fl.failures))
		ck_assert_msg(ms_since(start) < 3000,
			      "the flood of %s did not get going (%d entries in 3 s)",
			      flood_writes ? "writers" : "readers", atomic_load(&fl.entries));
	xpthread_create(&lone, fl_lone, flood_writes ? NULL : &fl);
	start = clock_now_ns();
	while (!atomic_load(&fl.got_in) && ms_since(start) < BOUND_MS && !atomic_load(&fl.failures))
		pause_us(1000);
	got_in = atomic_load(&fl.got_in);
	atomic_store(&fl.stop, 1);
	start = clock_now_ns();
	while ((atomic_load(&fl.finished) < count || !atomic_load(&fl.got_in)) &&
	       !atomic_load(&fl.failures))
		ck_assert_msg(ms_since(start) < 3000,
			      "after the flood stopped, %d of %d threads were still stuck in the "
			      "lock%s: a lost wake-up?",
			      count - atomic_load(&fl.finished) + !atomic_load(&fl.got_in),
			      count + 1, got_in ? "" : " (the lone one among them)");
	for (int k = 0; k < count; k++)
		xpthread_join(t[k], NULL);
	xpthread_join(lone, NULL);
	ck_assert_msg(!atomic_load(&fl.failures), "%d lock or unlock calls failed",
		      atomic_load(&fl.failures));
	ck_assert_msg(!atomic_load(&fl.clashes), "exclusion broken %d times under the flood",
		      atomic_load(&fl.clashes));
	MUST(rw_destroy(fl.rw));
	return got_in;
}

START_TEST(test_writer_not_starved)
{
	int got_in = flood_run(0, 4);

	ck_assert_msg(got_in,
		      "a writer waited more than %d ms while 4 readers kept overlapping (it got "
		      "in only when they stopped): writer starvation. Once a writer is waiting, "
		      "readers that arrive must wait behind it, even while other readers are "
		      "inside",
		      BOUND_MS);
}
END_TEST

START_TEST(test_reader_not_starved)
{
	int got_in = flood_run(1, 3);

	ck_assert_msg(got_in,
		      "a reader waited more than %d ms while 3 writers took turns, one always "
		      "waiting (it got in only when they stopped): reader starvation. When a "
		      "writer leaves, let in every reader that was waiting before the next "
		      "writer, even if writers are waiting too",
		      BOUND_MS);
}
END_TEST

/* ==== The try variants ==== */

START_TEST(test_try_variants)
{
	struct rwlock *rw = lock_new();
	struct actor w;

	MUST(rw_tryrdlock(rw));
	MUST(rw_tryrdlock(rw));
	MUST_FAIL(rw_trywrlock(rw), EBUSY, "two readers hold the lock");
	MUST(rw_rdunlock(rw));
	MUST(rw_rdunlock(rw));
	MUST(rw_trywrlock(rw));
	MUST_FAIL(rw_tryrdlock(rw), EBUSY, "a writer holds the lock");
	MUST_FAIL(rw_trywrlock(rw), EBUSY, "a writer holds the lock");
	MUST(rw_wrunlock(rw));
	/* A writer waits behind a reader: a try-reader must not jump it. */
	MUST(rw_rdlock(rw));
	actor_start(&w, rw, ACT_WRITE);
	actor_settle(&w);
	ck_assert_msg(!atomic_load(&w.entered), "rw_wrlock got in while a reader held the lock");
	MUST_FAIL(rw_tryrdlock(rw), EBUSY,
		  "a writer is waiting, and a try-reader that jumps ahead of it starves it just "
		  "like rw_rdlock would");
	MUST(rw_rdunlock(rw));
	actor_must_enter(&w, "the reader left while a writer waited");
	actor_end(&w);
	MUST(rw_destroy(rw));
}
END_TEST

/* ==== Errors ==== */

START_TEST(test_unlock_errors)
{
	struct rwlock *rw = lock_new();
	struct actor other;

	MUST_FAIL(rw_rdunlock(rw), EPERM, "nobody holds the lock");
	MUST_FAIL(rw_wrunlock(rw), EPERM, "nobody holds the lock");
	MUST(rw_rdlock(rw));
	MUST_FAIL(rw_wrunlock(rw), EPERM, "a reader holds the lock, not a writer");
	MUST_FAIL(rw_trywrlock(rw), EBUSY, "the reader must still hold the lock after that");
	MUST(rw_rdunlock(rw));
	MUST_FAIL(rw_rdunlock(rw), EPERM, "the only reader already left");
	MUST(rw_wrlock(rw));
	MUST_FAIL(rw_rdunlock(rw), EPERM, "a writer holds the lock, not a reader");
	actor_start(&other, rw, ACT_WRUNLOCK);
	ck_assert(wait_flag(&other.left, ENTER_MS));
	xpthread_join(other.thread, NULL);
	ck_assert_msg(other.ret == -1 && other.err == EPERM,
		      "rw_wrunlock from a thread that is not the writer: expected -1 with errno "
		      "EPERM, got %d with %s: remember the writer (pthread_self) and compare "
		      "with pthread_equal",
		      other.ret, err_name(other.err));
	MUST_FAIL(rw_tryrdlock(rw), EBUSY, "the writer must still hold the lock");
	MUST(rw_wrunlock(rw));
	MUST(rw_trywrlock(rw));
	MUST(rw_wrunlock(rw));
	MUST(rw_destroy(rw));
}
END_TEST

START_TEST(test_create_destroy)
{
	struct rwlock *rw = lock_new();
	struct actor r;

	MUST(rw_destroy(rw));
	rw = lock_new();
	MUST(rw_rdlock(rw));
	MUST_FAIL(rw_destroy(rw), EBUSY, "a reader holds the lock");
	MUST(rw_rdunlock(rw));
	MUST(rw_wrlock(rw));
	MUST_FAIL(rw_destroy(rw), EBUSY, "a writer holds the lock");
	actor_start(&r, rw, ACT_READ);
	actor_settle(&r);
	MUST(rw_wrunlock(rw));
	actor_must_enter(&r, "the writer left while a reader waited");
	MUST_FAIL(rw_destroy(rw), EBUSY, "a reader holds the lock");
	actor_end(&r);
	MUST(rw_destroy(rw));
	for (int i = 0; i < 1000; i++) {
		rw = rw_create();
		ck_assert_msg(rw != NULL, "rw_create number %d returned NULL (errno %s)", i + 1,
			      err_name(errno));
		MUST(rw_destroy(rw));
	}
}
END_TEST

START_TEST(test_invalid)
{
	MUST_FAIL(rw_destroy(NULL), EINVAL, "a NULL lock");
	MUST_FAIL(rw_rdlock(NULL), EINVAL, "a NULL lock");
	MUST_FAIL(rw_wrlock(NULL), EINVAL, "a NULL lock");
	MUST_FAIL(rw_tryrdlock(NULL), EINVAL, "a NULL lock");
	MUST_FAIL(rw_trywrlock(NULL), EINVAL, "a NULL lock");
	MUST_FAIL(rw_rdunlock(NULL), EINVAL, "a NULL lock");
	MUST_FAIL(rw_wrunlock(NULL), EINVAL, "a NULL lock");
}
END_TEST

void suite_define(void)
{
	/* Core: exclusion */
	SUITE_TEST(
	    test_writer_excludes_all, 3,
	    "While a writer is inside, what stops a reader or a second writer from entering?\n"
	    "A writer holds the lock alone: both kinds of arrival wait in a loop on a condition "
	    "variable: pthread_cond_wait(3p).\n"
	    "rdlock waits while writer is set; wrlock waits while writer is set or readers > 0; "
	    "wrunlock clears it and wakes them.");
	SUITE_TEST(test_reader_excludes_writer, 2,
		   "Who wakes the writer waiting for the readers to leave?\n"
		   "A condition that turns true must be signalled by the thread that makes it "
		   "true, or the waiter sleeps on: pthread_cond_signal(3p).\n"
		   "In rdunlock: if (--readers == 0 && waiting_writers > 0) "
		   "pthread_cond_signal(&rw->writers_cv);");
	SUITE_TEST(test_readers_share, 2,
		   "Does a reader wait for another reader?\n"
		   "Readers only look at the data: any number may hold the lock together; only "
		   "writers exclude them.\n"
		   "rdlock waits only for writers (inside or waiting), never while readers > 0; "
		   "then readers++.");
	SUITE_TEST(test_wakes_all_readers, 2,
		   "When a writer leaves, how many of the waiting readers get in?\n"
		   "pthread_cond_signal(3p) wakes one thread; every waiting reader needs "
		   "pthread_cond_broadcast.\n"
		   "A leaving writer lets every waiting reader in: "
		   "pthread_cond_broadcast(&rw->readers_cv).");
	SUITE_TEST(
	    test_exclusion_stress, 2,
	    "Is every counter read and changed under the mutex, and is every wait in a loop?\n"
	    "A condition variable may wake a thread spuriously or late; only the state under the "
	    "mutex is true: pthread_cond_wait(3p).\n"
	    "Check and change the counters only with the mutex held; wait in a while loop on the "
	    "full condition, try variants included.");
	/* Starvation */
	SUITE_TEST(
	    test_writer_not_starved, 3,
	    "Under a flood of overlapping readers, is there ever a moment with none inside?\n"
	    "A waiting writer must be visible to new readers, or readers keep it out for ever: "
	    "that is starvation.\n"
	    "Count waiting_writers++ before the writer's wait loop; rdlock waits while writer || "
	    "waiting_writers > 0.");
	SUITE_TEST(test_reader_not_starved, 3,
		   "When a writer leaves while another writer waits, who goes first?\n"
		   "Just broadcasting lets a writer arriving a moment later take the lock before "
		   "the woken readers run: they starve again.\n"
		   "In wrunlock, let the waiting readers in yourself (readers += waiting_readers) "
		   "and bump a batch number; a reader waits while batch is unchanged.");
	/* Try variants and errors */
	SUITE_TEST(test_try_variants, 2,
		   "When must rw_tryrdlock() and rw_trywrlock() refuse?\n"
		   "A try variant does what the lock does when it would not wait, and fails with "
		   "EBUSY otherwise, like pthread_rwlock_tryrdlock(3p).\n"
		   "tryrdlock: EBUSY when a writer is inside or waiting; trywrlock: EBUSY when "
		   "anyone is inside.");
	SUITE_TEST(test_unlock_errors, 1,
		   "What should an unlock that matches no lock do?\n"
		   "Only the thread that holds the write lock may release it; pthread_self(3) and "
		   "pthread_equal(3) say who is calling.\n"
		   "EPERM, lock unchanged, for rdunlock with readers == 0, or wrunlock when "
		   "!writer or !pthread_equal(rw->owner, pthread_self()).");
	SUITE_TEST(test_create_destroy, 1,
		   "Can rw_destroy() free a lock that is held, or that someone waits for?\n"
		   "Destroying a mutex or condition variable in use is undefined: "
		   "pthread_mutex_destroy(3p); check under the mutex first.\n"
		   "rw_destroy refuses with EBUSY while readers, writer or any waiting count is "
		   "non-zero; else destroy the mutex and both conditions, free.");
	SUITE_TEST(test_invalid, 1,
		   "What does each function do with a NULL lock?\n"
		   "Check the pointer before touching the mutex, as starvation.h says.\n"
		   "if (!rw) { errno = EINVAL; return -1; } at the top of every function "
		   "(rw_create aside).");
}
