/*
 * The hidden tests of lab 03, races: counters, a bank, a scoped lock and a
 * critical section run from many threads.
 *
 * Races are made to show instead of hoped for. Whether a function takes the
 * lock it should is checked without luck: the test holds that lock itself,
 * calls the function from a probe thread, and looks in /proc whether the
 * probe went to sleep waiting (right) or returned (it never asked for the
 * lock). A non-atomic read-modify-write of the atomic counter is caught by
 * slipping an update in between its read and its write (a read-only page
 * and a fault handler, see check_indivisible). Lost updates are also looked
 * for with threads lined up at a start line and run until they have clashed
 * thousands of times rather than for a fixed count, so that they hammer the
 * data at the same moment even on a busy two-core machine; the count each
 * thread made is its own, and the total must match exactly. A lock left
 * locked is found with pthread_mutex_trylock the moment the function
 * returns, before any later call could hang on it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "races.h"
#include "suite.h"

#define MAX_THREADS   16
#define STRESS_MS     150  /* the least time stress threads hammer shared data, per round */
#define STRESS_MAX_MS 1500 /* the most, when they seldom ran at the same moment */
#define OVERLAPS      3000 /* batches that ran alongside another thread's, per round */
#define ROUNDS        2    /* stress rounds; one lost update in any fails the test */
#define PROBE_MS      2000 /* how long a probe may take to block or return */
#define INTRUDER_MS   300  /* how long the first critical call waits for an intruder */
#define ALL_MS        1000 /* how long a first call waits for all the threads to exist */

/* ==== Probes: one call in a thread of its own, watched from outside ==== */

struct probe {
	pthread_t thread;
	long (*call)(struct probe *p); /* the call under test */
	void *obj;                     /* what it works on */
	long a, b, c;                  /* its arguments */
	_Atomic pid_t tid;             /* the probe thread, once it runs */
	atomic_int done;               /* the call returned */
	long ret;                      /* what it returned */
	int err;                       /* errno after it */
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;

	atomic_store(&p->tid, gettid());
	p->ret = p->call(p);
	p->err = errno;
	atomic_store(&p->done, 1);
	return NULL;
}

static void probe_start(struct probe *p, long (*call)(struct probe *), void *obj, long a, long b,
			long c)
{
	*p = (struct probe){.call = call, .obj = obj, .a = a, .b = b, .c = c};
	xpthread_create(&p->thread, probe_main, p);
}

/*
 * Wait until the probe's call has returned (1) or its thread sleeps inside
 * the call, blocked (0); -1 when neither happened within PROBE_MS.
 */
static int probe_blocked_or_done(struct probe *p)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;

	while (clock_now_ns() < deadline) {
		pid_t tid = atomic_load(&p->tid);

		if (atomic_load(&p->done))
			return 1;
		if (tid != 0 && proc_state(0, tid) == 'S') {
			/* Asleep: confirm it is still inside the call, not just returning. */
			clock_sleep_ms(5);
			if (!atomic_load(&p->done) && proc_state(0, tid) == 'S')
				return 0;
		}
		clock_sleep_ms(1);
	}
	return -1;
}

/* Wait up to PROBE_MS for the probe's call to return, then join it. Returns 1, or 0 if hung. */
static int probe_finish(struct probe *p)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;

	while (!atomic_load(&p->done) && clock_now_ns() < deadline)
		clock_sleep_ms(1);
	if (!atomic_load(&p->done))
		return 0;
	xpthread_join(p->thread, NULL);
	return 1;
}

/*
 * Hold m, start call in a probe, and fail unless the probe waits for m.
 * Then let go of m and wait for the call to finish. what names the call.
 */
static void check_waits_for(pthread_mutex_t *m, const char *lock, const char *what,
			    long (*call)(struct probe *), void *obj, long a, long b, long c)
{
	struct probe p;
	int state;

	ck_assert(pthread_mutex_lock(m) == 0);
	probe_start(&p, call, obj, a, b, c);
	state = probe_blocked_or_done(&p);
	pthread_mutex_unlock(m);
	ck_assert_msg(state != 1,
		      "%s returned while the test was holding %s: it touched the shared data "
		      "without taking that lock (no lock at all, a mutex of its own, or another "
		      "mutex than %s)",
		      what, lock, lock);
	ck_assert_msg(state == 0, "%s neither returned nor waited within %d ms", what, PROBE_MS);
	ck_assert_msg(probe_finish(&p),
		      "%s was still blocked %d ms after the test released %s: does it lock "
		      "twice, or wait for something else?",
		      what, PROBE_MS, lock);
}

/* Fail if m is locked now that what has returned: the lock leaked on that path. */
static void check_unlocked(pthread_mutex_t *m, const char *lock, const char *what)
{
	int err = pthread_mutex_trylock(m);

	if (err == 0)
		pthread_mutex_unlock(m);
	ck_assert_msg(err == 0,
		      "%s is still locked after %s returned: that path returns without "
		      "unlocking, and the next caller would wait forever (pthread_mutex_trylock "
		      "said %s)",
		      lock, what, err_name(err));
}

/* ==== Stress: threads lined up, then run until they have clashed enough ==== */

/*
 * A race shows only while two threads really run at the same moment, and on
 * a busy machine that may seldom happen. So each thread counts the batches
 * of operations during which another thread made progress too, and the
 * threads go on (up to STRESS_MAX_MS) until there have been OVERLAPS of
 * them: thousands of chances for an update to be lost.
 */
struct stress {
	int nthreads;                 /* how many threads run */
	void (*op)(void *obj, int k); /* what thread k does, over and over */
	void *obj;                    /* what op works on */
	atomic_int ready;             /* threads at the start line */
	atomic_int go;                /* the start signal */
	uint64_t start_ns;            /* when they started; set before go */
	atomic_long progress;         /* operations made by all threads, batch by batch */
	atomic_long overlaps;         /* batches during which another thread made progress */
	long count[MAX_THREADS];      /* count[k]: how many ops thread k made */
	pthread_t tids[MAX_THREADS];
};

struct stress_arg {
	struct stress *s;
	int k; /* which thread */
};

static int stress_over(struct stress *s)
{
	uint64_t ms = (clock_now_ns() - s->start_ns) / 1000000u;

	return ms >= STRESS_MAX_MS || (ms >= STRESS_MS && atomic_load(&s->overlaps) >= OVERLAPS);
}

static void *stress_main(void *arg)
{
	struct stress_arg *sa = arg;
	struct stress *s = sa->s;
	long n = 0;

	atomic_fetch_add(&s->ready, 1);
	while (!atomic_load(&s->go))
		sched_yield();
	do {
		long before = atomic_load(&s->progress);

		for (int i = 0; i < 64; i++)
			s->op(s->obj, sa->k);
		n += 64;
		if (atomic_fetch_add(&s->progress, 64) != before)
			atomic_fetch_add(&s->overlaps, 1);
	} while (!stress_over(s));
	s->count[sa->k] = n;
	return NULL;
}

/* Run op(obj, k) from threads k = 0 .. nthreads - 1 at once (see above); returns the ops made. */
static long stress_run(int nthreads, void (*op)(void *obj, int k), void *obj)
{
	static struct stress s;
	struct stress_arg args[MAX_THREADS];
	long total = 0;

	memset(&s, 0, sizeof(s));
	s.nthreads = nthreads;
	s.op = op;
	s.obj = obj;
	for (int k = 0; k < nthreads; k++) {
		args[k] = (struct stress_arg){.s = &s, .k = k};
		xpthread_create(&s.tids[k], stress_main, &args[k]);
	}
	while (atomic_load(&s.ready) < nthreads)
		sched_yield();
	s.start_ns = clock_now_ns();
	atomic_store(&s.go, 1);
	for (int k = 0; k < nthreads; k++) {
		xpthread_join(s.tids[k], NULL);
		total += s.count[k];
	}
	return total;
}

/* ==== Calls for probes and stress ==== */

static long call_increment(struct probe *p)
{
	return counter_increment(p->obj);
}

static long call_get(struct probe *p)
{
	return counter_get(p->obj);
}

static long call_transfer(struct probe *p)
{
	return bank_transfer(p->obj, (int)p->a, (int)p->b, p->c);
}

static long call_total(struct probe *p)
{
	return bank_total(p->obj);
}

static long call_withdraw(struct probe *p)
{
	return bank_withdraw(p->obj, (int)p->a, p->b);
}

static void op_increment(void *obj, int k)
{
	(void)k;
	counter_increment(obj);
}

static void op_add(void *obj, int k)
{
	(void)k;
	acounter_add(obj, 1);
}

/* ==== Core: a counter behind a mutex ==== */

START_TEST(test_counter_basic)
{
	struct counter c;
	int ret;

	memset(&c, 0xab, sizeof(c));
	ret = counter_init(&c);
	ck_assert_msg(ret == 0, "counter_init returned %d (errno %s), expected 0", ret,
		      err_name(errno));
	ck_assert_msg(counter_get(&c) == 0, "a new counter reads %ld, expected 0", counter_get(&c));
	for (int i = 0; i < 1000; i++) {
		ret = counter_increment(&c);
		ck_assert_msg(ret == 0, "counter_increment returned %d (errno %s), expected 0", ret,
			      err_name(errno));
	}
	ck_assert_msg(counter_get(&c) == 1000, "after 1000 increments the counter reads %ld",
		      counter_get(&c));
	check_unlocked(&c.lock, "c->lock", "counter_increment() and counter_get()");
	ret = counter_destroy(&c);
	ck_assert_msg(ret == 0, "counter_destroy returned %d (errno %s), expected 0", ret,
		      err_name(errno));
}
END_TEST

START_TEST(test_counter_holds_lock)
{
	struct counter c;

	ck_assert_msg(counter_init(&c) == 0, "counter_init failed (errno %s)", err_name(errno));
	check_waits_for(&c.lock, "c->lock", "counter_increment()", call_increment, &c, 0, 0, 0);
	ck_assert_msg(c.value == 1, "one counter_increment made the count %ld", c.value);
	check_waits_for(&c.lock, "c->lock", "counter_get()", call_get, &c, 0, 0, 0);
	counter_destroy(&c);
}
END_TEST

START_TEST(test_counter_no_lost_updates)
{
	enum { THREADS = 8 };
	struct counter c;

	ck_assert_msg(counter_init(&c) == 0, "counter_init failed (errno %s)", err_name(errno));
	for (int round = 0; round < ROUNDS; round++) {
		long before = counter_get(&c);
		long made = stress_run(THREADS, op_increment, &c);
		long got = counter_get(&c) - before;

		ck_assert_msg(got == made,
			      "%d threads called counter_increment %ld times in all, but the count "
			      "grew by %ld: %ld updates lost. c->value++ is a read, an add and a "
			      "write; two threads that read the same old value both write back "
			      "value + 1. Hold c->lock around it",
			      THREADS, made, got, made - got);
	}
	counter_destroy(&c);
}
END_TEST

/* ==== Atomics: a counter that is one atomic ==== */

/*
 * An update slipped in between a read and a write, without luck. The
 * acounter sits alone on a page made read-only, so the first write to it
 * faults. The SIGSEGV handler then does what another thread could have done
 * at that very moment, adds BUMP to the count, makes the page writable and
 * returns, and the faulting instruction runs again. A real read-modify-write
 * (atomic_fetch_add, or a compare-and-swap loop) faults before it reads and
 * so sees the bump; an atomic_load followed by an atomic_store has already
 * read, and its store overwrites the bump.
 */
#define BUMP 1000

static struct {
	char *page;           /* the page the acounter lives on */
	size_t size;          /* the page size */
	atomic_int faults;    /* writes caught */
	struct sigaction old; /* the SIGSEGV action to restore */
} slip;

static void slip_fault(int sig, siginfo_t *si, void *ctx)
{
	char *addr = si->si_addr;

	(void)ctx;
	if (addr < slip.page || addr >= slip.page + slip.size) {
		signal(sig, SIG_DFL); /* a real crash: let it happen */
		return;
	}
	mprotect(slip.page, slip.size, PROT_READ | PROT_WRITE);
	*(volatile long *)(void *)slip.page += BUMP; /* "another thread" adds, right now */
	atomic_fetch_add(&slip.faults, 1);
}

/* Call acounter_add(a, 1) on a count of 100 with a bump slipped in; fail if it is lost. */
static void check_indivisible(void)
{
	struct sigaction sa = {.sa_sigaction = slip_fault, .sa_flags = SA_SIGINFO};
	struct acounter *a;
	long got, now;

	slip.size = (size_t)sysconf(_SC_PAGESIZE);
	slip.page =
	    mmap(NULL, slip.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(slip.page != MAP_FAILED, "mmap: %s", strerror(errno));
	a = (struct acounter *)(void *)slip.page;
	acounter_init(a, 100);
	ck_assert(sigaction(SIGSEGV, &sa, &slip.old) == 0);
	ck_assert(mprotect(slip.page, slip.size, PROT_READ) == 0);
	got = acounter_add(a, 1);
	mprotect(slip.page, slip.size, PROT_READ | PROT_WRITE);
	sigaction(SIGSEGV, &slip.old, NULL);
	now = acounter_get(a);
	ck_assert_msg(atomic_load(&slip.faults) == 1 || now != 100,
		      "acounter_add(1) on a count of 100 did not write the count (it reads %ld)",
		      now);
	ck_assert_msg(
	    now == 100 + BUMP + 1,
	    "another thread added %d while acounter_add(1) ran on a count of 100, between "
	    "its read and its write; the count ends at %ld, expected %d: that update was "
	    "lost. atomic_load then atomic_store is two steps; atomic_fetch_add is one",
	    BUMP, now, 100 + BUMP + 1);
	ck_assert_msg(got == 100 + BUMP,
		      "acounter_add returned %ld: expected %d, the count just before its own add "
		      "(what atomic_fetch_add returns), not a value read earlier",
		      got, 100 + BUMP);
	munmap(slip.page, slip.size);
}

START_TEST(test_acounter_basic)
{
	struct acounter a;
	long got;

	acounter_init(&a, 10);
	ck_assert_msg(acounter_get(&a) == 10, "acounter_init(10), then acounter_get gave %ld",
		      acounter_get(&a));
	got = acounter_add(&a, 5);
	ck_assert_msg(got == 10,
		      "acounter_add(5) on 10 returned %ld: expected 10, the count before the add "
		      "(what atomic_fetch_add returns)",
		      got);
	got = acounter_add(&a, -3);
	ck_assert_msg(got == 15, "acounter_add(-3) on 15 returned %ld, expected 15", got);
	ck_assert_msg(acounter_get(&a) == 12, "10 + 5 - 3 gave %ld", acounter_get(&a));
}
END_TEST

START_TEST(test_acounter_no_lost_updates)
{
	enum { THREADS = 8 };
	struct acounter a;

	/* Under ThreadSanitizer atomics run inside its runtime: no fault trick there. */
	if (!getenv("IPCLAB_SANITIZER"))
		check_indivisible();
	acounter_init(&a, 0);
	for (int round = 0; round < ROUNDS; round++) {
		long before = acounter_get(&a);
		long made = stress_run(THREADS, op_add, &a);
		long got = acounter_get(&a) - before;

		ck_assert_msg(got != 0, "%ld calls of acounter_add(1) left the count unchanged",
			      made);
		ck_assert_msg(got == made,
			      "%d threads called acounter_add(1) %ld times in all, but the count "
			      "grew by %ld: %ld updates lost. An atomic_load followed by an "
			      "atomic_store is two steps, and another thread can store in between: "
			      "use atomic_fetch_add, one indivisible read-modify-write",
			      THREADS, made, got, made - got);
	}
}
END_TEST

/* ==== Core: a bank ==== */

START_TEST(test_bank_transfer_basic)
{
	struct bank b;
	int ret;

	errno = 0;
	ret = bank_init(&b, 0, 10);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "bank_init with 0 accounts: expected -1 with EINVAL, got %d with %s", ret,
		      err_name(errno));
	errno = 0;
	ret = bank_init(&b, 2, -1);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "bank_init with initial -1: expected -1 with EINVAL, got %d with %s", ret,
		      err_name(errno));
	ret = bank_init(&b, 3, 100);
	ck_assert_msg(ret == 0, "bank_init(3 accounts, 100) returned %d (errno %s)", ret,
		      err_name(errno));
	ck_assert_msg(b.naccounts == 3 && b.balance[0] == 100 && b.balance[2] == 100,
		      "after bank_init(3, 100): naccounts %d, balances %ld %ld %ld", b.naccounts,
		      b.balance[0], b.balance[1], b.balance[2]);
	ret = bank_transfer(&b, 0, 2, 40);
	ck_assert_msg(ret == 0, "bank_transfer(0 -> 2, 40) returned %d (errno %s)", ret,
		      err_name(errno));
	ret = bank_transfer(&b, 2, 1, 140);
	ck_assert_msg(ret == 0, "bank_transfer(2 -> 1, 140), all of account 2, returned %d (%s)",
		      ret, err_name(errno));
	ck_assert_msg(b.balance[0] == 60 && b.balance[1] == 240 && b.balance[2] == 0,
		      "balances %ld %ld %ld, expected 60 240 0", b.balance[0], b.balance[1],
		      b.balance[2]);
	ck_assert_msg(bank_total(&b) == 300, "bank_total gave %ld, expected 300", bank_total(&b));
	check_unlocked(&b.lock, "b->lock", "bank_transfer() succeeded");
	ret = bank_destroy(&b);
	ck_assert_msg(ret == 0, "bank_destroy returned %d (errno %s)", ret, err_name(errno));
}
END_TEST

START_TEST(test_bank_transfer_errors)
{
	static const struct {
		int from, to;
		long amount;
	} bad[] = {{0, 3, 5}, {-1, 1, 5}, {0, 0, 5}, {0, 1, 0}, {0, 1, -5}};
	struct bank b;
	int ret;

	ck_assert_msg(bank_init(&b, 3, 100) == 0, "bank_init failed (%s)", err_name(errno));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ret = bank_transfer(&b, bad[i].from, bad[i].to, bad[i].amount);
		ck_assert_msg(ret == -1 && errno == EINVAL,
			      "bank_transfer(%d -> %d, %ld) on 3 accounts: expected -1 with "
			      "EINVAL, got %d with %s",
			      bad[i].from, bad[i].to, bad[i].amount, ret, err_name(errno));
	}
	errno = 0;
	ret = bank_transfer(&b, 1, 2, 101);
	ck_assert_msg(ret == -1 && errno == ERANGE,
		      "bank_transfer of 101 from an account holding 100: expected -1 with ERANGE, "
		      "got %d with %s",
		      ret, err_name(errno));
	ck_assert_msg(b.balance[0] == 100 && b.balance[1] == 100 && b.balance[2] == 100,
		      "failed transfers changed the balances to %ld %ld %ld: check before you "
		      "move anything",
		      b.balance[0], b.balance[1], b.balance[2]);
	/* The lock may have leaked: that is the next test's; do not wait on it here. */
}
END_TEST

START_TEST(test_bank_transfer_error_unlocks)
{
	struct bank b;
	int ret;

	ck_assert_msg(bank_init(&b, 3, 100) == 0, "bank_init failed (%s)", err_name(errno));
	ret = bank_transfer(&b, 0, 1, 10);
	ck_assert_msg(ret == 0, "bank_transfer(0 -> 1, 10) returned %d (%s)", ret, err_name(errno));
	check_unlocked(&b.lock, "b->lock", "a bank_transfer() that succeeded");
	errno = 0;
	ret = bank_transfer(&b, 0, 1, 1000);
	ck_assert_msg(ret == -1 && errno == ERANGE,
		      "bank_transfer of 1000 from an account holding 90: expected -1 with "
		      "ERANGE, got %d with %s",
		      ret, err_name(errno));
	check_unlocked(&b.lock, "b->lock", "a bank_transfer() that failed with ERANGE");
	ret = bank_transfer(&b, 0, 7, 10);
	check_unlocked(&b.lock, "b->lock", "a bank_transfer() that failed with EINVAL");
	ret = bank_transfer(&b, 2, 2, 10);
	check_unlocked(&b.lock, "b->lock", "a bank_transfer() from an account to itself");
	ret = bank_transfer(&b, 2, 0, 10);
	ck_assert_msg(ret == 0, "a transfer after the failed ones returned %d (%s)", ret,
		      err_name(errno));
	ck_assert_msg(bank_destroy(&b) == 0, "bank_destroy failed (%s)", err_name(errno));
}
END_TEST

/* What the threads of test_bank_concurrent share. */
static struct {
	struct bank *b;
	atomic_int stop;       /* the transfers are over: the reader stops */
	atomic_long bad_total; /* a total the reader saw that was not the constant one */
	atomic_int failures;   /* transfers that failed */
	long expected;         /* the constant total */
} bc;

/* Move a little money around and back, so that no transfer can ever fail. */
static void op_round_trip(void *obj, int k)
{
	unsigned *seed = (unsigned *)obj + k;
	int from, to;
	long amount;

	*seed = *seed * 1103515245u + 12345u;
	from = (int)(*seed >> 16) % bc.b->naccounts;
	to = (from + 1 + (int)(*seed >> 8) % (bc.b->naccounts - 1)) % bc.b->naccounts;
	amount = 1 + (long)(*seed % 5);
	if (bank_transfer(bc.b, from, to, amount) < 0 || bank_transfer(bc.b, to, from, amount) < 0)
		atomic_fetch_add(&bc.failures, 1);
}

static void *total_reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&bc.stop)) {
		long t = bank_total(bc.b);

		if (t != bc.expected)
			atomic_store(&bc.bad_total, t);
	}
	return NULL;
}

START_TEST(test_bank_concurrent)
{
	enum { ACCOUNTS = 5, INITIAL = 1000 };
	unsigned seeds[MAX_THREADS]; /* seeds[k]: thread k's random numbers */
	struct bank b;
	pthread_t reader;

	ck_assert_msg(bank_init(&b, ACCOUNTS, INITIAL) == 0, "bank_init failed (%s)",
		      err_name(errno));
	check_waits_for(&b.lock, "b->lock", "bank_transfer()", call_transfer, &b, 0, 1, 1);
	check_waits_for(&b.lock, "b->lock", "bank_total()", call_total, &b, 0, 0, 0);
	bank_transfer(&b, 1, 0, 1);
	bc.b = &b;
	bc.expected = ACCOUNTS * INITIAL;
	xpthread_create(&reader, total_reader, NULL);
	for (int k = 0; k < MAX_THREADS; k++)
		seeds[k] = 2654435761u * (unsigned)(k + 1) ^ suite_seed();
	for (int round = 0; round < ROUNDS; round++)
		stress_run(4, op_round_trip, seeds);
	atomic_store(&bc.stop, 1);
	xpthread_join(reader, NULL);
	ck_assert_msg(atomic_load(&bc.failures) == 0,
		      "%d transfers failed although every account always held enough",
		      atomic_load(&bc.failures));
	ck_assert_msg(atomic_load(&bc.bad_total) == 0,
		      "bank_total() read %ld while transfers ran, expected %ld always: read every "
		      "balance under one holding of b->lock, and move money under it too",
		      atomic_load(&bc.bad_total), bc.expected);
	ck_assert_msg(bank_total(&b) == bc.expected,
		      "after the transfers the bank holds %ld, expected %ld: some transfers were "
		      "half lost",
		      bank_total(&b), bc.expected);
	bank_destroy(&b);
}
END_TEST

/* ==== Scoped locking: bank_withdraw with WITH_LOCK ==== */

START_TEST(test_bank_withdraw_scoped)
{
	struct bank b;
	int ret;

	ck_assert_msg(bank_init(&b, 2, 100) == 0, "bank_init failed (%s)", err_name(errno));
	check_waits_for(&b.lock, "b->lock", "bank_withdraw()", call_withdraw, &b, 0, 30, 0);
	ck_assert_msg(b.balance[0] == 70, "bank_withdraw(0, 30) on 100 left %ld, expected 70",
		      b.balance[0]);
	check_unlocked(&b.lock, "b->lock", "a bank_withdraw() that succeeded");
	errno = 0;
	ret = bank_withdraw(&b, 0, 71);
	ck_assert_msg(ret == -1 && errno == ERANGE,
		      "bank_withdraw(0, 71) from an account holding 70: expected -1 with ERANGE, "
		      "got %d with %s",
		      ret, err_name(errno));
	ck_assert_msg(b.balance[0] == 70, "a failed bank_withdraw changed the balance to %ld",
		      b.balance[0]);
	check_unlocked(&b.lock, "b->lock",
		       "bank_withdraw() returned from inside its locked block (ERANGE): the "
		       "scoped lock must release on every way out of the block; give the guard "
		       "variable __attribute__((cleanup(...)))");
	errno = 0;
	ret = bank_withdraw(&b, 2, 1);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "bank_withdraw from account 2 of 2: expected -1 with EINVAL, got %d with %s",
		      ret, err_name(errno));
	errno = 0;
	ret = bank_withdraw(&b, 1, 0);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "bank_withdraw of 0: expected -1 with EINVAL, got %d with %s", ret,
		      err_name(errno));
	check_unlocked(&b.lock, "b->lock", "a bank_withdraw() that failed with EINVAL");
	ret = bank_withdraw(&b, 0, 70);
	ck_assert_msg(ret == 0 && b.balance[0] == 0,
		      "bank_withdraw of the whole balance returned %d, left %ld", ret,
		      b.balance[0]);
	check_unlocked(&b.lock, "b->lock", "a bank_withdraw() that succeeded");
	bank_destroy(&b);
}
END_TEST

/* ==== A critical section from many threads ==== */

/* What the critical sections of the run_critical tests record. */
static struct {
	atomic_int inside;      /* calls running right now */
	atomic_int overlaps;    /* calls that found another one running */
	atomic_int entered;     /* calls begun */
	atomic_int first_taken; /* the first call has been claimed */
	int wait_intruder;      /* the first call waits for another to come in */
	int wait_all;           /* each thread's first call waits for this many threads to exist */
	atomic_int all_seen;    /* that many threads existed at once */
	atomic_int gave_up;     /* a first call waited in vain for them */
	atomic_int bad_ctx;     /* calls that received another ctx than the caller's */
	void *ctx;              /* the ctx the caller passed */
	long plain;             /* a plain counter, safe only under the caller's lock */
	_Atomic pid_t tids[MAX_THREADS]; /* the distinct threads that made calls */
} cr;

/* During the first call of all: wait for another call to come in, which it must not. */
static void wait_intruder(void)
{
	uint64_t start = clock_now_ns();

	while (clock_now_ns() - start < (uint64_t)INTRUDER_MS * 1000000u &&
	       atomic_load(&cr.entered) < 2)
		clock_sleep_ms(1);
}

/*
 * During each thread's first call: wait until all the threads exist at once.
 * Threads run one after another never do: the first to wait in vain says so.
 */
static void wait_all_threads(void)
{
	uint64_t start = clock_now_ns();

	while (!atomic_load(&cr.all_seen) && !atomic_load(&cr.gave_up)) {
		if (proc_count_threads(0) >= cr.wait_all)
			atomic_store(&cr.all_seen, 1);
		else if (clock_now_ns() - start > (uint64_t)ALL_MS * 1000000u)
			atomic_store(&cr.gave_up, 1);
		else
			clock_sleep_ms(1);
	}
}

/*
 * Add tid to cr.tids unless it is there; returns 1 when it was new. Lock-free,
 * so that it holds without the caller's lock too.
 */
static int note_thread(pid_t tid)
{
	for (int i = 0; i < MAX_THREADS; i++) {
		pid_t none = 0;

		if (atomic_compare_exchange_strong(&cr.tids[i], &none, tid))
			return 1;
		if (none == tid)
			return 0;
	}
	return 0;
}

/* How many distinct threads made calls (MAX_THREADS: that many or more). */
static int threads_noted(void)
{
	int n = 0;

	while (n < MAX_THREADS && atomic_load(&cr.tids[n]) != 0)
		n++;
	return n;
}

static void critical_fn(void *ctx)
{
	long v;

	if (atomic_fetch_add(&cr.inside, 1) > 0)
		atomic_fetch_add(&cr.overlaps, 1);
	atomic_fetch_add(&cr.entered, 1);
	if (cr.wait_intruder && !atomic_exchange(&cr.first_taken, 1))
		wait_intruder();
	if (note_thread(gettid()) && cr.wait_all)
		wait_all_threads();
	if (ctx != cr.ctx)
		atomic_fetch_add(&cr.bad_ctx, 1);
	v = cr.plain; /* a read, a pause, a write: unprotected, updates get lost */
	for (volatile int spin = 0; spin < 200; spin++)
		;
	cr.plain = v + 1;
	atomic_fetch_sub(&cr.inside, 1);
}

START_TEST(test_run_critical_exclusive)
{
	enum { THREADS = 4, CALLS = 200 };
	int ret;

	cr.wait_intruder = 1;
	ret = run_critical(THREADS, CALLS, critical_fn, NULL);
	ck_assert_msg(ret == 0, "run_critical returned %d (errno %s), expected 0", ret,
		      err_name(errno));
	ck_assert_msg(atomic_load(&cr.overlaps) == 0,
		      "%d calls of fn began while another was still running: every call must be "
		      "made under ONE mutex that all the threads share. A mutex in each thread's "
		      "own argument (or a local one) protects nothing: each thread only ever "
		      "waits for itself",
		      atomic_load(&cr.overlaps));
	ck_assert_msg(cr.plain == THREADS * CALLS,
		      "fn updated a plain counter %d times, and it reads %ld: updates lost",
		      THREADS * CALLS, cr.plain);
}
END_TEST

START_TEST(test_run_critical_calls)
{
	enum { THREADS = 5, CALLS = 100 };
	static const struct {
		int nthreads;
		long calls;
		int null_fn;
	} bad[] = {{0, 10, 0}, {-2, 10, 0}, {2, -1, 0}, {2, 10, 1}};
	pid_t me = gettid();
	int ret, calls, threads;

	cr.wait_all = 1 + THREADS;
	cr.ctx = &cr;
	ret = run_critical(THREADS, CALLS, critical_fn, &cr);
	ck_assert_msg(ret == 0, "run_critical returned %d (errno %s), expected 0", ret,
		      err_name(errno));
	calls = atomic_load(&cr.entered);
	ck_assert_msg(calls == THREADS * CALLS, "fn was called %d times, expected %d x %d = %d",
		      calls, THREADS, CALLS, THREADS * CALLS);
	ck_assert_msg(atomic_load(&cr.bad_ctx) == 0,
		      "%d calls of fn received another ctx than the one given to run_critical",
		      atomic_load(&cr.bad_ctx));
	threads = threads_noted();
	for (int i = 0; i < threads; i++)
		ck_assert_msg(atomic_load(&cr.tids[i]) != me,
			      "fn ran in the calling thread: only the new threads call it");
	ck_assert_msg(threads == THREADS, "fn ran in %d distinct threads, expected %d", threads,
		      THREADS);
	ck_assert_msg(atomic_load(&cr.all_seen),
		      "the %d threads never existed all at once (a call waited %d ms for them): "
		      "create all of them before you join any, so that they run at once",
		      THREADS, ALL_MS);
	suite_check_leaks("run_critical()");
	ret = run_critical(3, 0, critical_fn, &cr);
	ck_assert_msg(ret == 0 && atomic_load(&cr.entered) == calls,
		      "run_critical with 0 calls: returned %d (errno %s), fn called %d times", ret,
		      err_name(errno), atomic_load(&cr.entered) - calls);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ret = run_critical(bad[i].nthreads, bad[i].calls,
				   bad[i].null_fn ? NULL : critical_fn, &cr);
		ck_assert_msg(
		    ret == -1 && errno == EINVAL,
		    "run_critical(nthreads %d, calls %ld, fn %s): expected -1 with EINVAL, "
		    "got %d with %s",
		    bad[i].nthreads, bad[i].calls, bad[i].null_fn ? "NULL" : "set", ret,
		    err_name(errno));
	}
	ck_assert_msg(atomic_load(&cr.entered) == calls,
		      "fn was called although the arguments were invalid: check them before "
		      "starting any thread");
}
END_TEST

void suite_define(void)
{
	/* Core: a counter behind a mutex */
	SUITE_TEST(test_counter_basic, 1,
		   "What does a new counter read, and is its mutex ready to use?\n"
		   "A mutex must be initialised before any lock: pthread_mutex_init(3p); pthread "
		   "calls return an error number and leave errno alone.\n"
		   "counter_init: pthread_mutex_init(&c->lock, NULL), value = 0; increment adds 1 "
		   "and get reads, both under the lock.");
	SUITE_TEST(
	    test_counter_holds_lock, 2,
	    "Which mutex do counter_increment() and counter_get() take?\n"
	    "A lock protects only the code that takes that same lock: pthread_mutex_lock(3p).\n"
	    "Lock c->lock itself (not a mutex of your own) around every read and every write of "
	    "c->value.");
	SUITE_TEST_EX(test_counter_no_lost_updates, 3, 8, 0,
		      "What can another thread do between your read of value and your write?\n"
		      "value++ is a read, an add and a write: two threads that read the same old "
		      "value both write value + 1: pthread_mutex_lock(3p).\n"
		      "pthread_mutex_lock(&c->lock); c->value++; pthread_mutex_unlock(&c->lock);");
	/* Atomics */
	SUITE_TEST(test_acounter_basic, 1,
		   "Which value does acounter_add() return: the one before the add or after?\n"
		   "A fetch-and-add returns the value it found, like a ticket: C11 7.17.7.5, "
		   "atomic_fetch_add.\n"
		   "return atomic_fetch_add(&a->value, delta); and acounter_get returns "
		   "atomic_load(&a->value).");
	SUITE_TEST_EX(test_acounter_no_lost_updates, 3, 8, 0,
		      "Is your add one step, or a read followed by a write?\n"
		      "atomic_load then atomic_store is two atomic steps, with room for another "
		      "thread in between; a read-modify-write is one: C11 7.17.7.5.\n"
		      "Replace load-then-store by return atomic_fetch_add(&a->value, delta);");
	/* Core: a bank */
	SUITE_TEST(test_bank_transfer_basic, 1,
		   "Do bank_init(), bank_transfer() and bank_total() do what races.h says?\n"
		   "bank_init checks its arguments (EINVAL), allocates naccounts balances and "
		   "inits the mutex: pthread_mutex_init(3p).\n"
		   "Fill balance[i] = initial for every account; a transfer takes amount from from "
		   "and adds it to to.");
	SUITE_TEST(test_bank_transfer_errors, 1,
		   "Which transfers must fail, and with which errno?\n"
		   "Check the arguments first (EINVAL), then the money under the lock (ERANGE); a "
		   "failed transfer moves nothing.\n"
		   "EINVAL for a bad account, from == to or amount <= 0; ERANGE when balance[from] "
		   "< amount.");
	SUITE_TEST(test_bank_transfer_error_unlocks, 3,
		   "After a failed transfer, is b->lock still held?\n"
		   "A return with the mutex locked makes the next caller wait forever: every "
		   "pthread_mutex_lock(3p) needs its unlock.\n"
		   "Send every error after the lock to one pthread_mutex_unlock with goto, then "
		   "set errno and return -1.");
	SUITE_TEST_EX(test_bank_concurrent, 2, 8, 0,
		      "Can another thread act between your check of the balance and the move?\n"
		      "Check, debit and credit must happen under one holding of the lock, or a "
		      "reader sees money in flight: pthread_mutex_lock(3p).\n"
		      "Hold b->lock from the balance check to after the credit; bank_total sums "
		      "every balance under it too.");
	/* Scoped locking */
	SUITE_TEST(
	    test_bank_withdraw_scoped, 3,
	    "Does the early return inside WITH_LOCK unlock the mutex?\n"
	    "A return from inside the for loop skips its step; GCC's cleanup attribute (Common "
	    "Variable Attributes) calls a function however the variable goes out of scope.\n"
	    "guard_acquire locks and returns m; guard_release unlocks only a non-NULL *guard, then "
	    "sets it NULL; the guard gets __attribute__((cleanup(guard_release))).");
	/* A critical section from many threads */
	SUITE_TEST(test_run_critical_exclusive, 3,
		   "How many mutexes are there, and do all the threads share one?\n"
		   "A mutex only makes threads wait for each other if they lock the same one: "
		   "pthread_mutex_lock(3p).\n"
		   "Put one mutex in the struct every thread points to, and lock it around each "
		   "call of fn(ctx).");
	SUITE_TEST(test_run_critical_calls, 2,
		   "Are there nthreads threads, each calling fn calls times, all alive at once?\n"
		   "Check the arguments before any work; create every thread before you join any: "
		   "pthread_create(3), pthread_join(3).\n"
		   "EINVAL first (nthreads < 1, calls < 0, !fn); then create all threads, then "
		   "join all, and destroy the mutex.");
}
