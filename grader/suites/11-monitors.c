/*
 * The hidden tests of lab 11, monitors: a blocking queue, an Event and a
 * reusable Barrier, built from a mutex and condition variables.
 *
 * The bugs of monitors are about waking up, so the tests control wake-ups.
 * Every call that may block runs in a probe thread; the test waits until
 * /proc shows the probe asleep inside the call, then acts, and gives it a
 * deadline to come back, so that a lost wake-up is reported as such, not as
 * a timeout. Spurious wake-ups, which POSIX allows at any time, are made to
 * happen: the test broadcasts the student's condition variables itself
 * while nothing has changed. The stress tests do the same all along, from
 * a noise thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monitors.h"
#include "suite.h"

#define MAX_PROBES   8
#define PROBE_MS     2000 /* how long a probe may take to block, or to return once it may */
#define NOISE_ROUNDS 5    /* spurious broadcasts a test makes at one spot */
#define NOISE_GAP_MS 10   /* the pause after each */
#define STRESS_MS    6000 /* how long a stress test may take before it is a lost wake-up */

/* ==== Probes: one call in a thread of its own, watched from outside ==== */

struct probe {
	pthread_t thread;
	int (*call)(struct probe *p); /* the call under test */
	void *obj;                    /* the queue, event or barrier */
	void *item;                   /* what to put; what was got */
	long timeout;                 /* the call's timeout_ms */
	_Atomic pid_t tid;            /* the probe thread, once it runs */
	atomic_int done;              /* the call returned */
	int ret;                      /* what it returned */
	int err;                      /* errno after it */
	uint64_t ms;                  /* how long it took */
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	uint64_t start = clock_now_ns();

	atomic_store(&p->tid, gettid());
	p->ret = p->call(p);
	p->err = errno;
	p->ms = (clock_now_ns() - start) / 1000000u;
	atomic_store(&p->done, 1);
	return NULL;
}

static void probe_start(struct probe *p, int (*call)(struct probe *), void *obj, void *item,
			long timeout)
{
	*p = (struct probe){.call = call, .obj = obj, .item = item, .timeout = timeout};
	xpthread_create(&p->thread, probe_main, p);
}

/* Whether the probe is asleep inside its call (twice, 5 ms apart). */
static int probe_asleep(struct probe *p)
{
	pid_t tid = atomic_load(&p->tid);

	if (tid == 0 || atomic_load(&p->done) || proc_state(0, tid) != 'S')
		return 0;
	clock_sleep_ms(5);
	return !atomic_load(&p->done) && proc_state(0, tid) == 'S';
}

/*
 * Wait until each of the n probes has either returned or fallen asleep in
 * its call. Returns how many returned (0: all are blocked, as they should).
 */
static int probes_settle(struct probe *p, int n)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;
	int settled = 0, returned = 0;

	while (settled < n && clock_now_ns() < deadline) {
		settled = returned = 0;
		for (int i = 0; i < n; i++) {
			if (atomic_load(&p[i].done))
				returned++, settled++;
			else if (probe_asleep(&p[i]))
				settled++;
		}
		if (settled < n)
			clock_sleep_ms(1);
	}
	ck_assert_msg(settled == n, "a call neither returned nor blocked within %d ms", PROBE_MS);
	return returned;
}

/* Wait up to PROBE_MS for the n probes to return; joins those that did. Returns how many hang. */
static int probes_finish(struct probe *p, int n)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;
	int hung;

	do {
		hung = 0;
		for (int i = 0; i < n; i++)
			hung += !atomic_load(&p[i].done);
		if (hung > 0)
			clock_sleep_ms(1);
	} while (hung > 0 && clock_now_ns() < deadline);
	for (int i = 0; i < n && hung == 0; i++)
		xpthread_join(p[i].thread, NULL);
	return hung;
}

/* Wait up to PROBE_MS until at least count of the n probes have returned; 1 if they did. */
static int probes_done_within(struct probe *p, int n, int count)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;
	int done;

	do {
		done = 0;
		for (int i = 0; i < n; i++)
			done += atomic_load(&p[i].done);
		if (done < count)
			clock_sleep_ms(1);
	} while (done < count && clock_now_ns() < deadline);
	return done >= count;
}

/* Run one call in a probe and wait for it; fail if it takes longer than PROBE_MS. */
static struct probe *probe_run(struct probe *p, int (*call)(struct probe *), void *obj, void *item,
			       long timeout, const char *what)
{
	probe_start(p, call, obj, item, timeout);
	ck_assert_msg(probes_finish(p, 1) == 0,
		      "%s had not returned after %d ms: it waits for ever where it should not "
		      "wait (timeout_ms 0) or not this long",
		      what, PROBE_MS);
	return p;
}

/* Broadcast cond NOISE_ROUNDS times with nothing changed: spurious wake-ups. */
static void spurious_wakeups(pthread_cond_t *cond)
{
	for (int i = 0; i < NOISE_ROUNDS; i++) {
		pthread_cond_broadcast(cond);
		clock_sleep_ms(NOISE_GAP_MS);
	}
}

/* Lock m within PROBE_MS (a student's bug may hold it for ever); 1 when locked. */
static int lock_within(pthread_mutex_t *m)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;

	while (pthread_mutex_trylock(m) != 0) {
		if (clock_now_ns() > deadline)
			return 0;
		clock_sleep_ms(1);
	}
	return 1;
}

/* q->count, read under q->lock; -1 if the lock could not be had. */
static long queue_count(struct bqueue *q)
{
	long count;

	if (!lock_within(&q->lock))
		return -1;
	count = (long)q->count;
	pthread_mutex_unlock(&q->lock);
	return count;
}

/* ==== Calls for probes ==== */

static int call_get(struct probe *p)
{
	return bq_get(p->obj, &p->item, p->timeout);
}

static int call_put(struct probe *p)
{
	return bq_put(p->obj, p->item, p->timeout);
}

static int call_event_wait(struct probe *p)
{
	return event_wait(p->obj, p->timeout);
}

static int call_barrier(struct probe *p)
{
	return barrier_wait(p->obj);
}

/* A distinct non-NULL pointer standing for item number i. */
static void *item_of(long i)
{
	return (void *)(uintptr_t)(0x1000 + 16 * i);
}

static void init_queue(struct bqueue *q, size_t capacity)
{
	int ret = bq_init(q, capacity);

	ck_assert_msg(ret == 0, "bq_init(capacity %zu) returned %d (errno %s), expected 0",
		      capacity, ret, err_name(errno));
}

static void put_now(struct bqueue *q, long i)
{
	struct probe p;

	probe_run(&p, call_put, q, item_of(i), 0, "bq_put with timeout_ms 0 on a queue with room");
	ck_assert_msg(p.ret == 0, "bq_put(timeout_ms 0) with room returned %d (errno %s)", p.ret,
		      err_name(p.err));
}

static void get_now(struct bqueue *q, long i)
{
	struct probe p;

	probe_run(&p, call_get, q, NULL, 0, "bq_get with timeout_ms 0 on a queue holding items");
	ck_assert_msg(p.ret == 0, "bq_get(timeout_ms 0) on a queue holding items returned %d (%s)",
		      p.ret, err_name(p.err));
	ck_assert_msg(p.item == item_of(i),
		      "bq_get returned item %p, expected %p: items come out in the order they "
		      "went in (head is the oldest, the tail is head + count, modulo capacity)",
		      p.item, item_of(i));
}

/* ==== Core: the blocking queue ==== */

START_TEST(test_bq_fifo)
{
	struct bqueue q;
	struct probe p;
	int ret;

	errno = 0;
	ret = bq_init(&q, 0);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "bq_init(capacity 0): expected -1 with EINVAL, got %d with %s", ret,
		      err_name(errno));
	init_queue(&q, 3);
	for (long i = 0; i < 3; i++)
		put_now(&q, i);
	probe_run(&p, call_put, &q, item_of(9), 0, "bq_put(timeout_ms 0) on a full queue");
	ck_assert_msg(p.ret == -1 && p.err == ETIMEDOUT,
		      "bq_put(timeout_ms 0) on a full queue: expected -1 with ETIMEDOUT, got %d "
		      "with %s",
		      p.ret, err_name(p.err));
	for (long i = 0; i < 3; i++)
		get_now(&q, i);
	probe_run(&p, call_get, &q, NULL, 0, "bq_get(timeout_ms 0) on an empty queue");
	ck_assert_msg(p.ret == -1 && p.err == ETIMEDOUT,
		      "bq_get(timeout_ms 0) on an empty queue: expected -1 with ETIMEDOUT, got %d "
		      "with %s",
		      p.ret, err_name(p.err));
	for (long i = 10; i < 40; i += 2) { /* round the ring several times */
		put_now(&q, i);
		put_now(&q, i + 1);
		get_now(&q, i);
		get_now(&q, i + 1);
	}
	ck_assert_msg(bq_destroy(&q) == 0, "bq_destroy failed (%s)", err_name(errno));
}
END_TEST

START_TEST(test_bq_blocking)
{
	struct bqueue q;
	struct probe p;

	init_queue(&q, 2);
	probe_start(&p, call_get, &q, NULL, -1);
	ck_assert_msg(probes_settle(&p, 1) == 0,
		      "bq_get on an empty queue returned %d (errno %s) instead of waiting for an "
		      "item",
		      p.ret, err_name(p.err));
	put_now(&q, 1);
	ck_assert_msg(probes_finish(&p, 1) == 0,
		      "a consumer waiting in bq_get on an empty queue was not woken by bq_put: "
		      "after adding an item, signal not_empty");
	ck_assert_msg(p.ret == 0 && p.item == item_of(1),
		      "the woken bq_get returned %d with %p, expected 0 with %p", p.ret, p.item,
		      item_of(1));
	put_now(&q, 2);
	put_now(&q, 3);
	probe_start(&p, call_put, &q, item_of(4), -1);
	ck_assert_msg(probes_settle(&p, 1) == 0,
		      "bq_put on a full queue returned %d (errno %s) instead of waiting for room",
		      p.ret, err_name(p.err));
	get_now(&q, 2);
	ck_assert_msg(probes_finish(&p, 1) == 0,
		      "a producer waiting in bq_put on a full queue was not woken by bq_get: "
		      "after taking an item, signal not_full");
	ck_assert_msg(p.ret == 0, "the woken bq_put returned %d (%s)", p.ret, err_name(p.err));
	get_now(&q, 3);
	get_now(&q, 4);
	bq_destroy(&q);
}
END_TEST

START_TEST(test_bq_spurious_wakeup)
{
	enum { CONSUMERS = 3, PRODUCERS = 2 };
	struct probe p[MAX_PROBES];
	struct bqueue q;
	int returned;

	init_queue(&q, 2);
	for (int i = 0; i < CONSUMERS; i++)
		probe_start(&p[i], call_get, &q, NULL, i == 0 ? 5000 : -1);
	ck_assert_msg(probes_settle(p, CONSUMERS) == 0, "bq_get on an empty queue did not wait");
	spurious_wakeups(&q.not_empty);
	returned = probes_settle(p, CONSUMERS);
	for (int i = 0; i < CONSUMERS && returned > 0; i++)
		ck_assert_msg(
		    !atomic_load(&p[i].done),
		    "bq_get (timeout %ld) returned %d (errno %s, item %p) on an empty "
		    "queue after a spurious wake-up (the test broadcast not_empty with "
		    "nothing in it, as POSIX allows to happen): wait in a while loop that "
		    "checks count again, not an if",
		    p[i].timeout, p[i].ret, err_name(p[i].err), p[i].item);
	for (long i = 0; i < CONSUMERS; i++) { /* one at a time: this test is not about signal */
		put_now(&q, i);
		ck_assert_msg(probes_done_within(p, CONSUMERS, (int)i + 1),
			      "a consumer waiting in bq_get was not woken by bq_put");
	}
	ck_assert_msg(probes_finish(p, CONSUMERS) == 0, "consumers not woken by bq_put");
	put_now(&q, 10);
	put_now(&q, 11);
	for (int i = 0; i < PRODUCERS; i++)
		probe_start(&p[i], call_put, &q, item_of(20 + i), -1);
	ck_assert_msg(probes_settle(p, PRODUCERS) == 0, "bq_put on a full queue did not wait");
	spurious_wakeups(&q.not_full);
	returned = probes_settle(p, PRODUCERS);
	ck_assert_msg(
	    returned == 0,
	    "bq_put returned on a full queue after a spurious wake-up (the test broadcast "
	    "not_full with no room made); the queue now counts %ld items in %d slots: "
	    "wait in a while loop that checks count again, not an if",
	    queue_count(&q), 2);
	get_now(&q, 10);
	ck_assert_msg(probes_done_within(p, PRODUCERS, 1),
		      "a producer waiting in bq_put was not woken by bq_get");
	get_now(&q, 11);
	ck_assert_msg(probes_finish(p, PRODUCERS) == 0, "producers not woken by bq_get");
	bq_destroy(&q);
}
END_TEST

START_TEST(test_bq_wakes_each_consumer)
{
	enum { CONSUMERS = 4, ROUNDS = 3 };
	struct probe p[MAX_PROBES];
	struct bqueue q;
	int hung;

	init_queue(&q, 8);
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < CONSUMERS; i++)
			probe_start(&p[i], call_get, &q, NULL, -1);
		ck_assert_msg(probes_settle(p, CONSUMERS) == 0, "bq_get on an empty queue did not "
								"wait");
		for (long i = 0; i < CONSUMERS; i++) /* back to back, faster than they wake */
			ck_assert_msg(bq_put(&q, item_of(i), 0) == 0, "bq_put failed (%s)",
				      err_name(errno));
		hung = probes_finish(p, CONSUMERS);
		ck_assert_msg(hung == 0,
			      "%d consumers were waiting and 4 items were put, but %d of them were "
			      "never woken and %ld items are still in the queue: a lost wake-up. "
			      "Signal not_empty at every put, not only when the queue was empty",
			      CONSUMERS, hung, queue_count(&q));
	}
	bq_destroy(&q);
}
END_TEST

/* ==== Stress: many producers and consumers, with spurious wake-ups ==== */

enum { S_PRODUCERS = 4, S_CONSUMERS = 4, S_ITEMS = 3000, S_CAPACITY = 4 };

static struct {
	struct bqueue q;
	atomic_int seen[S_PRODUCERS][S_ITEMS]; /* how many times each item was got */
	atomic_int delivered;                  /* items got, in all */
	atomic_int bad;                        /* items that were never put */
	atomic_int disorder;                   /* a consumer got a producer's items out of order */
	atomic_int errors;                     /* puts or gets that failed */
	atomic_int stop_noise;                 /* the noise thread may stop */
	atomic_int consumers_done;             /* consumers that saw EPIPE */
	int last_err;                          /* an errno from a failed call */
} st;

static void *stress_producer(void *arg)
{
	long p = (long)(intptr_t)arg;

	for (long i = 0; i < S_ITEMS; i++)
		if (bq_put(&st.q, item_of(p * S_ITEMS + i), -1) < 0) {
			st.last_err = errno;
			atomic_fetch_add(&st.errors, 1);
			break;
		}
	return NULL;
}

static void *stress_consumer(void *arg)
{
	long last[S_PRODUCERS];
	void *item;

	(void)arg;
	for (int p = 0; p < S_PRODUCERS; p++)
		last[p] = -1;
	while (bq_get(&st.q, &item, -1) == 0) {
		long n = ((long)(uintptr_t)item - 0x1000) / 16;
		long p = n / S_ITEMS, i = n % S_ITEMS;

		if (item != item_of(n) || n < 0 || p >= S_PRODUCERS) {
			atomic_fetch_add(&st.bad, 1);
			continue;
		}
		atomic_fetch_add(&st.seen[p][i], 1);
		atomic_fetch_add(&st.delivered, 1);
		if (i <= last[p])
			atomic_fetch_add(&st.disorder, 1);
		last[p] = i;
	}
	if (errno != EPIPE) {
		st.last_err = errno;
		atomic_fetch_add(&st.errors, 1);
	}
	atomic_fetch_add(&st.consumers_done, 1);
	return NULL;
}

/* Broadcast both condition variables every millisecond: spurious wake-ups all along. */
static void *stress_noise(void *arg)
{
	(void)arg;
	while (!atomic_load(&st.stop_noise)) {
		pthread_cond_broadcast(&st.q.not_empty);
		pthread_cond_broadcast(&st.q.not_full);
		clock_sleep_ms(1);
	}
	return NULL;
}

/* Wait until the consumers are done, or STRESS_MS; returns 1 when they are. */
static int stress_wait(void)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)STRESS_MS * 1000000u;

	while (atomic_load(&st.consumers_done) < S_CONSUMERS && clock_now_ns() < deadline)
		clock_sleep_ms(2);
	return atomic_load(&st.consumers_done) == S_CONSUMERS;
}

START_TEST(test_bq_stress)
{
	pthread_t prod[S_PRODUCERS], cons[S_CONSUMERS], noise;
	int total = S_PRODUCERS * S_ITEMS;

	init_queue(&st.q, S_CAPACITY);
	xpthread_create(&noise, stress_noise, NULL);
	for (int i = 0; i < S_CONSUMERS; i++)
		xpthread_create(&cons[i], stress_consumer, NULL);
	for (long i = 0; i < S_PRODUCERS; i++)
		xpthread_create(&prod[i], stress_producer, (void *)(intptr_t)i);
	for (int i = 0; i < S_PRODUCERS; i++)
		xpthread_join(prod[i], NULL);
	bq_close(&st.q);
	ck_assert_msg(stress_wait(),
		      "%d producers and %d consumers through a queue of %d: after %d s, %d of "
		      "%d items were delivered, %ld are in the queue and %d consumers are still "
		      "waiting: a lost wake-up, or a waiter that never checks again",
		      S_PRODUCERS, S_CONSUMERS, S_CAPACITY, STRESS_MS / 1000,
		      atomic_load(&st.delivered), total, queue_count(&st.q),
		      S_CONSUMERS - atomic_load(&st.consumers_done));
	atomic_store(&st.stop_noise, 1);
	xpthread_join(noise, NULL);
	for (int i = 0; i < S_CONSUMERS; i++)
		xpthread_join(cons[i], NULL);
	ck_assert_msg(atomic_load(&st.bad) == 0,
		      "consumers got %d items that no producer put (garbage from an empty slot): "
		      "after a wake-up, check count again in a while loop before taking",
		      atomic_load(&st.bad));
	ck_assert_msg(atomic_load(&st.errors) == 0, "%d calls failed, the last with %s",
		      atomic_load(&st.errors), err_name(st.last_err));
	for (int p = 0; p < S_PRODUCERS; p++)
		for (int i = 0; i < S_ITEMS; i++)
			ck_assert_msg(atomic_load(&st.seen[p][i]) == 1,
				      "item %d of producer %d was got %d times, expected once "
				      "(%d of %d delivered)",
				      i, p, atomic_load(&st.seen[p][i]), atomic_load(&st.delivered),
				      total);
	ck_assert_msg(atomic_load(&st.disorder) == 0,
		      "a consumer got a producer's items out of order %d times: the queue is "
		      "first in, first out",
		      atomic_load(&st.disorder));
	bq_destroy(&st.q);
}
END_TEST

/* ==== Close: everyone wakes ==== */

START_TEST(test_bq_close_wakes_all)
{
	enum { CONSUMERS = 4, PRODUCERS = 3 };
	struct probe p[MAX_PROBES], one;
	struct bqueue q;
	int hung;

	init_queue(&q, 2);
	for (int i = 0; i < CONSUMERS; i++)
		probe_start(&p[i], call_get, &q, NULL, -1);
	ck_assert_msg(probes_settle(p, CONSUMERS) == 0, "bq_get on an empty queue did not wait");
	ck_assert_msg(bq_close(&q) == 0, "bq_close failed (%s)", err_name(errno));
	hung = probes_finish(p, CONSUMERS);
	ck_assert_msg(hung == 0,
		      "%d of %d consumers waiting in bq_get were still asleep after bq_close: "
		      "pthread_cond_signal wakes one waiter; the close concerns them all, "
		      "pthread_cond_broadcast",
		      hung, CONSUMERS);
	for (int i = 0; i < CONSUMERS; i++)
		ck_assert_msg(p[i].ret == -1 && p[i].err == EPIPE,
			      "bq_get woken by bq_close on an empty queue: expected -1 with EPIPE, "
			      "got %d with %s",
			      p[i].ret, err_name(p[i].err));
	probe_run(&one, call_put, &q, item_of(1), -1, "bq_put on a closed queue");
	ck_assert_msg(one.ret == -1 && one.err == EPIPE,
		      "bq_put on a closed queue: expected -1 with EPIPE, got %d with %s", one.ret,
		      err_name(one.err));
	bq_destroy(&q);

	init_queue(&q, 2);
	put_now(&q, 1);
	put_now(&q, 2);
	for (int i = 0; i < PRODUCERS; i++)
		probe_start(&p[i], call_put, &q, item_of(10 + i), -1);
	ck_assert_msg(probes_settle(p, PRODUCERS) == 0, "bq_put on a full queue did not wait");
	bq_close(&q);
	hung = probes_finish(p, PRODUCERS);
	ck_assert_msg(hung == 0,
		      "%d of %d producers waiting in bq_put were still asleep after bq_close: "
		      "broadcast not_full too",
		      hung, PRODUCERS);
	for (int i = 0; i < PRODUCERS; i++)
		ck_assert_msg(p[i].ret == -1 && p[i].err == EPIPE,
			      "bq_put woken by bq_close: expected -1 with EPIPE, got %d with %s",
			      p[i].ret, err_name(p[i].err));
	get_now(&q, 1);
	get_now(&q, 2);
	probe_run(&one, call_get, &q, NULL, -1, "bq_get on a closed, empty queue");
	ck_assert_msg(one.ret == -1 && one.err == EPIPE,
		      "bq_get on a closed queue once its items were taken: expected -1 with EPIPE, "
		      "got %d with %s",
		      one.ret, err_name(one.err));
	ck_assert_msg(bq_close(&q) == 0, "closing twice failed (%s)", err_name(errno));
	bq_destroy(&q);
}
END_TEST

/* ==== Timeouts on CLOCK_MONOTONIC ==== */

/* The bytes in which a fresh CLOCK_MONOTONIC condition variable differs from a default one. */
static unsigned char clock_mask[sizeof(pthread_cond_t)], clock_mono[sizeof(pthread_cond_t)];

static int clock_calibrate(void)
{
	pthread_cond_t plain, mono;
	pthread_condattr_t attr;
	unsigned char a[sizeof(pthread_cond_t)], b[sizeof(pthread_cond_t)];
	int any = 0;

	ck_assert(pthread_condattr_init(&attr) == 0);
	ck_assert(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0);
	ck_assert(pthread_cond_init(&plain, NULL) == 0 && pthread_cond_init(&mono, &attr) == 0);
	memcpy(a, &plain, sizeof(a));
	memcpy(b, &mono, sizeof(b));
	for (size_t i = 0; i < sizeof(a); i++) {
		clock_mask[i] = a[i] ^ b[i];
		clock_mono[i] = b[i] & clock_mask[i];
		any |= clock_mask[i];
	}
	pthread_cond_destroy(&plain);
	pthread_cond_destroy(&mono);
	pthread_condattr_destroy(&attr);
	return any != 0;
}

static void check_monotonic(const pthread_cond_t *cond, const char *name)
{
	unsigned char c[sizeof(pthread_cond_t)];

	memcpy(c, cond, sizeof(c));
	for (size_t i = 0; i < sizeof(c); i++)
		ck_assert_msg((c[i] & clock_mask[i]) == clock_mono[i],
			      "%s measures timeouts on CLOCK_REALTIME, the date, which can be "
			      "set back or forward while a thread waits: initialise it with a "
			      "pthread_condattr_t given pthread_condattr_setclock(&attr, "
			      "CLOCK_MONOTONIC)",
			      name);
}

/* Sleep until the monotonic clock is late in its second, so a short timeout crosses into the next. */
static void late_in_second(void)
{
	struct timespec now;

	do {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_nsec < 900000000L || now.tv_nsec >= 960000000L)
			clock_sleep_ms(1);
	} while (now.tv_nsec < 900000000L || now.tv_nsec >= 960000000L);
}

/* Check a probe that should have timed out after timeout ms. */
static void check_timed_out(const struct probe *p, const char *what)
{
	ck_assert_msg(!(p->ret == -1 && p->err == EINVAL),
		      "%s failed with EINVAL: pthread_cond_timedwait rejects a deadline whose "
		      "tv_nsec is 1000000000 or more; carry whole seconds into tv_sec",
		      what);
	ck_assert_msg(p->ret == -1 && p->err == ETIMEDOUT,
		      "%s: expected -1 with ETIMEDOUT, got %d with %s", what, p->ret,
		      err_name(p->err));
	ck_assert_msg(p->ms + 5 >= (uint64_t)p->timeout,
		      "%s returned after %llu ms, before its %ld ms were up: is the deadline "
		      "measured on the clock the condition variable uses (CLOCK_MONOTONIC for "
		      "both)?",
		      what, (unsigned long long)p->ms, p->timeout);
	ck_assert_msg(p->ms < (uint64_t)p->timeout + 1800, "%s took %llu ms for a %ld ms timeout",
		      what, (unsigned long long)p->ms, p->timeout);
}

START_TEST(test_timeouts_monotonic)
{
	struct bqueue empty, full;
	struct event e;
	struct probe p[3];
	int calibrated = clock_calibrate();

	init_queue(&empty, 1);
	init_queue(&full, 1);
	ck_assert_msg(event_init(&e) == 0, "event_init failed (%s)", err_name(errno));
	if (calibrated) {
		check_monotonic(&empty.not_empty, "q->not_empty");
		check_monotonic(&empty.not_full, "q->not_full");
		check_monotonic(&e.cond, "e->cond");
	}
	put_now(&full, 1);
	/* Three waits at once, each crossing into the next second: tv_nsec must carry. */
	late_in_second();
	probe_start(&p[0], call_get, &empty, NULL, 120);
	probe_start(&p[1], call_put, &full, item_of(2), 100);
	probe_start(&p[2], call_event_wait, &e, NULL, 130);
	ck_assert_msg(probes_finish(p, 3) == 0,
		      "a wait with a timeout of 100 to 130 ms had not returned after %d ms "
		      "(bq_get %s, bq_put %s, event_wait %s): a deadline on another clock than "
		      "the condition variable's (CLOCK_REALTIME against CLOCK_MONOTONIC) lies "
		      "decades away",
		      PROBE_MS, atomic_load(&p[0].done) ? "returned" : "still waiting",
		      atomic_load(&p[1].done) ? "returned" : "still waiting",
		      atomic_load(&p[2].done) ? "returned" : "still waiting");
	check_timed_out(&p[0], "bq_get(timeout 120 ms) on an empty queue");
	check_timed_out(&p[1], "bq_put(timeout 100 ms) on a full queue");
	ck_assert_msg(!(p[2].ret == -1 && p[2].err == EINVAL),
		      "event_wait(130 ms) failed with EINVAL: carry whole seconds of tv_nsec into "
		      "tv_sec");
	ck_assert_msg(p[2].ret == 0 && p[2].ms + 5 >= 130 && p[2].ms < 1930,
		      "event_wait(130 ms) on a clear event returned %d after %llu ms (errno %s): "
		      "expected 0 after 130 ms",
		      p[2].ret, (unsigned long long)p[2].ms, err_name(p[2].err));
	event_destroy(&e);
	bq_destroy(&empty);
	bq_destroy(&full);
}
END_TEST

/* ==== An Event ==== */

START_TEST(test_event_basic)
{
	struct event e;
	struct probe p;

	ck_assert_msg(event_init(&e) == 0, "event_init failed (%s)", err_name(errno));
	ck_assert_msg(event_is_set(&e) == 0, "a new event is set");
	probe_run(&p, call_event_wait, &e, NULL, 0, "event_wait(timeout 0) on a clear event");
	ck_assert_msg(p.ret == 0, "event_wait(0) on a clear event returned %d, expected 0", p.ret);
	event_set(&e);
	ck_assert_msg(event_is_set(&e) == 1, "event_is_set after event_set gave %d",
		      event_is_set(&e));
	probe_run(&p, call_event_wait, &e, NULL, -1, "event_wait(-1) on a set event");
	ck_assert_msg(p.ret == 1, "event_wait(-1) on a set event returned %d, expected 1", p.ret);
	probe_run(&p, call_event_wait, &e, NULL, 0, "event_wait(0) on a set event");
	ck_assert_msg(p.ret == 1, "event_wait(0) on a set event returned %d, expected 1", p.ret);
	event_clear(&e);
	ck_assert_msg(event_is_set(&e) == 0, "event_is_set after event_clear gave %d",
		      event_is_set(&e));
	probe_run(&p, call_event_wait, &e, NULL, 60, "event_wait(60 ms) on a cleared event");
	ck_assert_msg(p.ret == 0 && p.ms + 5 >= 60,
		      "event_wait(60 ms) on a cleared event returned %d after %llu ms, expected 0 "
		      "after 60 ms",
		      p.ret, (unsigned long long)p.ms);
	ck_assert_msg(event_destroy(&e) == 0, "event_destroy failed (%s)", err_name(errno));
}
END_TEST

START_TEST(test_event_set_wakes_all)
{
	enum { WAITERS = 5 };
	struct probe p[MAX_PROBES];
	struct event e;
	int hung;

	ck_assert_msg(event_init(&e) == 0, "event_init failed (%s)", err_name(errno));
	for (int i = 0; i < WAITERS; i++)
		probe_start(&p[i], call_event_wait, &e, NULL, -1);
	ck_assert_msg(probes_settle(p, WAITERS) == 0,
		      "event_wait(-1) on a clear event returned instead of waiting");
	event_set(&e);
	hung = probes_finish(p, WAITERS);
	ck_assert_msg(hung == 0,
		      "%d of %d threads waiting in event_wait were still asleep after event_set: "
		      "setting the flag concerns every waiter, pthread_cond_broadcast, not signal",
		      hung, WAITERS);
	for (int i = 0; i < WAITERS; i++)
		ck_assert_msg(p[i].ret == 1,
			      "event_wait woken by event_set returned %d, expected 1", p[i].ret);
	event_destroy(&e);
}
END_TEST

START_TEST(test_event_spurious)
{
	enum { WAITERS = 3 };
	struct probe p[MAX_PROBES];
	struct event e;

	ck_assert_msg(event_init(&e) == 0, "event_init failed (%s)", err_name(errno));
	for (int i = 0; i < WAITERS; i++)
		probe_start(&p[i], call_event_wait, &e, NULL, i == 0 ? -1 : 4000);
	ck_assert_msg(probes_settle(p, WAITERS) == 0, "event_wait on a clear event did not wait");
	spurious_wakeups(&e.cond);
	probes_settle(p, WAITERS);
	for (int i = 0; i < WAITERS; i++)
		ck_assert_msg(!atomic_load(&p[i].done),
			      "event_wait(timeout %ld) returned %d after %llu ms with the flag "
			      "still clear, woken by a spurious wake-up (the test broadcast the "
			      "condition variable, as POSIX allows to happen): wait in a while "
			      "loop on the flag, until the deadline",
			      p[i].timeout, p[i].ret, (unsigned long long)p[i].ms);
	event_set(&e);
	ck_assert_msg(probes_finish(p, WAITERS) == 0, "waiters not woken by event_set");
	for (int i = 0; i < WAITERS; i++)
		ck_assert_msg(p[i].ret == 1, "event_wait returned %d after event_set, expected 1",
			      p[i].ret);
	event_destroy(&e);
}
END_TEST

/* ==== A reusable Barrier ==== */

START_TEST(test_barrier_basic)
{
	struct barrier b;
	struct probe p[3];
	int ret, last, seen[3] = {0};

	errno = 0;
	ret = barrier_init(&b, 0);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "barrier_init(0 parties): expected -1 with EINVAL, got %d with %s", ret,
		      err_name(errno));
	ck_assert_msg(barrier_init(&b, 1) == 0, "barrier_init(1) failed (%s)", err_name(errno));
	for (int i = 0; i < 2; i++) {
		probe_run(&p[0], call_barrier, &b, NULL, 0, "barrier_wait on a barrier of 1");
		ck_assert_msg(p[0].ret == 0,
			      "barrier_wait on a barrier of 1 returned %d, expected 0", p[0].ret);
	}
	barrier_destroy(&b);
	ck_assert_msg(barrier_init(&b, 3) == 0, "barrier_init(3) failed (%s)", err_name(errno));
	probe_start(&p[0], call_barrier, &b, NULL, 0);
	probe_start(&p[1], call_barrier, &b, NULL, 0);
	ck_assert_msg(probes_settle(p, 2) == 0,
		      "barrier_wait returned (%d) when only 2 of its 3 parties had arrived",
		      atomic_load(&p[0].done) ? p[0].ret : p[1].ret);
	probe_start(&p[2], call_barrier, &b, NULL, 0);
	ck_assert_msg(probes_finish(&p[2], 1) == 0,
		      "the third and last arrival at a barrier of 3 did not return: it must not "
		      "wait, it releases the others");
	last = p[2].ret;
	ck_assert_msg(probes_finish(p, 2) == 0,
		      "the third arrival returned, but the 2 threads waiting in barrier_wait were "
		      "not all released: the last arrival must broadcast, not signal");
	ck_assert_msg(last == 2, "the last of 3 arrivals got index %d, expected 2", last);
	for (int i = 0; i < 2; i++)
		if (p[i].ret >= 0 && p[i].ret < 3)
			seen[p[i].ret]++;
	ck_assert_msg(seen[0] == 1 && seen[1] == 1,
		      "the first two arrivals got indexes %d and %d, expected 0 and 1", p[0].ret,
		      p[1].ret);
	barrier_destroy(&b);
}
END_TEST

enum { B_PARTIES = 4, B_ROUNDS = 1000 };

static struct {
	struct barrier b;
	atomic_int arrived[B_ROUNDS]; /* threads that reached round r */
	atomic_int index_sum[B_ROUNDS];
	atomic_int early;       /* a thread left round r before all had arrived */
	atomic_int early_round; /* the first such round */
	atomic_int finished;    /* threads through every round */
	atomic_int stop_noise;
} br;

static void *barrier_thread(void *arg)
{
	(void)arg;
	for (int r = 0; r < B_ROUNDS; r++) {
		int index;

		atomic_fetch_add(&br.arrived[r], 1);
		index = barrier_wait(&br.b);
		if (atomic_load(&br.arrived[r]) != B_PARTIES && !atomic_exchange(&br.early, 1))
			atomic_store(&br.early_round, r);
		atomic_fetch_add(&br.index_sum[r], index);
	}
	atomic_fetch_add(&br.finished, 1);
	return NULL;
}

static void *barrier_noise(void *arg)
{
	(void)arg;
	while (!atomic_load(&br.stop_noise)) {
		pthread_cond_broadcast(&br.b.cond);
		clock_sleep_ms(1);
	}
	return NULL;
}

/* The first round that not every thread has reached. */
static int barrier_stuck_round(void)
{
	for (int r = 0; r < B_ROUNDS; r++)
		if (atomic_load(&br.arrived[r]) < B_PARTIES)
			return r;
	return B_ROUNDS;
}

START_TEST(test_barrier_rounds)
{
	pthread_t t[B_PARTIES], noise;
	uint64_t deadline;
	int stuck;

	ck_assert_msg(barrier_init(&br.b, B_PARTIES) == 0, "barrier_init failed (%s)",
		      err_name(errno));
	xpthread_create(&noise, barrier_noise, NULL);
	for (int i = 0; i < B_PARTIES; i++)
		xpthread_create(&t[i], barrier_thread, NULL);
	deadline = clock_now_ns() + (uint64_t)STRESS_MS * 1000000u;
	while (atomic_load(&br.finished) < B_PARTIES && clock_now_ns() < deadline)
		clock_sleep_ms(2);
	stuck = barrier_stuck_round();
	ck_assert_msg(atomic_load(&br.finished) == B_PARTIES,
		      "%d threads, %d rounds: after %d s the threads are stuck in round %d, "
		      "which only %d of them reached. A thread that comes back for the next "
		      "round before a slow one has left can change the count the slow one is "
		      "waiting on: wait for the generation to change, not for a count",
		      B_PARTIES, B_ROUNDS, STRESS_MS / 1000, stuck + 1,
		      stuck < B_ROUNDS ? atomic_load(&br.arrived[stuck]) : B_PARTIES);
	atomic_store(&br.stop_noise, 1);
	xpthread_join(noise, NULL);
	for (int i = 0; i < B_PARTIES; i++)
		xpthread_join(t[i], NULL);
	ck_assert_msg(!atomic_load(&br.early),
		      "in round %d a thread left barrier_wait before all %d had arrived (the test "
		      "broadcasts the condition variable now and then, as spurious wake-ups "
		      "can): wait in a while loop until the generation changes",
		      atomic_load(&br.early_round) + 1, B_PARTIES);
	for (int r = 0; r < B_ROUNDS; r++)
		ck_assert_msg(atomic_load(&br.index_sum[r]) == B_PARTIES * (B_PARTIES - 1) / 2,
			      "in round %d the indexes returned add up to %d, expected 0 + 1 + 2 + "
			      "3 = 6: each arrival of a round gets its own index",
			      r + 1, atomic_load(&br.index_sum[r]));
	barrier_destroy(&br.b);
}
END_TEST

void suite_define(void)
{
	/* Core: the blocking queue */
	SUITE_TEST(test_bq_fifo, 1,
		   "Where does the next item go, where does the oldest come from, and what does "
		   "timeout 0 do?\n"
		   "A ring of capacity slots: items sit from head, count of them, wrapping round; "
		   "capacity 0 is EINVAL.\n"
		   "Put at (head + count) % capacity, get at head and move head on; with timeout "
		   "0, a full or empty queue is ETIMEDOUT at once.");
	SUITE_TEST(test_bq_blocking, 2,
		   "What does bq_get() do on an empty queue, and who wakes it?\n"
		   "pthread_cond_wait(3p) releases the mutex while asleep and takes it back on "
		   "waking; the side that changes the state signals.\n"
		   "Wait on not_empty while empty, on not_full while full; bq_put signals "
		   "not_empty, bq_get signals not_full.");
	SUITE_TEST(test_bq_spurious_wakeup, 3,
		   "When pthread_cond_wait() returns, is the queue sure to hold an item?\n"
		   "A condition variable may wake a thread with nothing changed, or for someone "
		   "else: the wake-up is a hint: pthread_cond_wait(3p).\n"
		   "while (count == 0) pthread_cond_wait(&q->not_empty, &q->lock); -- while, never "
		   "if (the same for not_full).");
	SUITE_TEST(
	    test_bq_wakes_each_consumer, 2,
	    "Four consumers sleep and four items arrive back to back: how many signals are sent?\n"
	    "pthread_cond_signal(3p) wakes at most one waiter; a signal sent only when the queue "
	    "was empty is skipped for the next items.\n"
	    "Call pthread_cond_signal(&q->not_empty) at every put, not only when count was 0.");
	SUITE_TEST_EX(test_bq_stress, 3, 10, 0,
		      "Under load, with spurious wake-ups, can an item be lost, doubled, or a "
		      "thread left asleep?\n"
		      "Every wait in a while loop under the mutex, every change signalled, every "
		      "state all must hear broadcast: pthread_cond_wait(3p).\n"
		      "while loops around every wait, a signal per item on each side, a broadcast "
		      "of both conditions at close.");
	/* Close */
	SUITE_TEST(test_bq_close_wakes_all, 2,
		   "Who wakes the threads asleep in bq_put() and bq_get() when the queue closes?\n"
		   "A state every waiter must see needs pthread_cond_broadcast(3p); each waiting "
		   "loop must test closed too.\n"
		   "bq_close sets closed and broadcasts not_empty and not_full; put fails with "
		   "EPIPE once closed, get only once closed and empty.");
	/* Timeouts */
	SUITE_TEST(test_timeouts_monotonic, 2,
		   "On which clock is your deadline, and is its tv_nsec below a second?\n"
		   "pthread_cond_timedwait(3p) takes an absolute time on the condition's clock; "
		   "pthread_condattr_setclock(3p) chooses CLOCK_MONOTONIC.\n"
		   "pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) at init; deadline = now + "
		   "timeout computed once, carrying tv_nsec below 1e9.");
	/* Event */
	SUITE_TEST(test_event_basic, 1,
		   "What does event_wait() return when the event is already set, and when the time "
		   "is up?\n"
		   "An event is a flag behind a mutex and a condition: wait while it is clear, "
		   "until the deadline: pthread_cond_timedwait(3p).\n"
		   "Return 1 when the flag is set (at once if it already is), 0 on ETIMEDOUT; "
		   "timeout 0 never waits.");
	SUITE_TEST(test_event_set_wakes_all, 2,
		   "When event_set() is called, how many waiters wake?\n"
		   "pthread_cond_signal(3p) wakes one; pthread_cond_broadcast wakes them all.\n"
		   "In event_set: flag = 1; pthread_cond_broadcast(&e->cond); under the mutex.");
	SUITE_TEST(test_event_spurious, 2,
		   "When your waiter wakes, has the event really been set?\n"
		   "A wake-up alone proves nothing: test the flag again, and wait again until the "
		   "same deadline: pthread_cond_wait(3p).\n"
		   "while (!flag) { if (pthread_cond_timedwait(..., &deadline) == ETIMEDOUT) "
		   "break; } return flag;");
	/* Barrier */
	SUITE_TEST(
	    test_barrier_basic, 1,
	    "Who releases the threads waiting at the barrier, and what index does each get?\n"
	    "Arrivals wait until parties have come; the last one wakes them all with "
	    "pthread_cond_broadcast(3p).\n"
	    "index = waiting++; if it is the last, reset waiting, move the generation on and "
	    "broadcast; else wait; return the index (0 .. parties - 1).");
	SUITE_TEST_EX(
	    test_barrier_rounds, 3, 10, 0,
	    "What if a fast thread comes back for the next round before a slow one has woken?\n"
	    "Waiting for a count breaks when the count is reset for the next round; a round number "
	    "that only the last arrival changes does not.\n"
	    "Remember the generation on arrival and while (gen == b->generation) "
	    "pthread_cond_wait(...).");
}
