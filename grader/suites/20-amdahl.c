/*
 * The hidden suite of lab 20, Amdahl: the formulas, the workload, the
 * measurement and the estimate of the serial fraction.
 *
 * The formulas are checked on inputs whose answers are known exactly, and a
 * wrong answer is matched against the classic mistakes (p and 1 - p swapped,
 * 1 / n in integers, Gustafson taken for Amdahl) to name the one made.
 *
 * The workload tests give run_workload a unit of their own, which records
 * which thread did each unit and in what order. "Ran in parallel" is checked
 * with a meeting point, never a stopwatch: each worker waits at its first
 * unit until all the workers have arrived, which workers run one after
 * another never do. The measurement tests use the same units, sleeping a
 * little, so that every time has a lower bound the test knows.
 *
 * No test asserts a speedup. The one test that measures for real gives
 * measure_speedup units that wait (so that the speedup is real beyond the
 * number of cores) on a schedule (so that a late wake-up is made up by the
 * next unit), and watches every run from inside. It knows what each run
 * should have cost, so it can tell a measurement the machine disturbed from
 * a clean one: a clean measurement must give the true serial fraction
 * within a tolerance; a disturbed one is taken again, and if the machine
 * disturbs them all, the estimate must agree with the units' own times.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "amdahl.h"
#include "fault.h"
#include "suite.h"

#define MAX_UNITS 1000 /* the largest workload a test runs */
#define MEET_MS   1500 /* how long a worker waits for the others at the meeting point */
#define HOLD_MS   150  /* how long a held unit waits for run_workload to return */
#define SLOW_MS   200  /* what the test adds to one run to make it an outlier */
#define UNIT_US   200  /* how long a unit of the measurement tests sleeps */
#define EXACT     1e-9 /* the tolerance on a formula's exact answer */
#define TOLERANCE 0.07 /* the tolerance on a measured serial fraction */
#define MEASURE_N 4    /* workers 1 .. MEASURE_N in the measured test */
#define REPEATS   3    /* the measured test's runs for each n */
#define RUNS_MAX  (MEASURE_N * REPEATS)
#define SLOTS     (MEASURE_N + 1) /* the threads of one run: the caller and the workers */
#define QUANTUM   2000000         /* ns: how long one unit of the measured test waits */
#define LATE_NS   1000000         /* a run longer than its units by more was disturbed */
#define ATTEMPTS  4               /* measurements the measured test may make of one fraction */

/* ==== A meeting point ==== */

struct meeting {
	atomic_int arrived;   /* threads checked in so far */
	int expected;         /* how many should come */
	uint64_t deadline_ns; /* clock_now_ns() after which nobody waits any longer */
};

static void meeting_open(struct meeting *m, int expected)
{
	atomic_store(&m->arrived, 0);
	m->expected = expected;
	m->deadline_ns = clock_now_ns() + (uint64_t)MEET_MS * 1000000u;
}

/* Check in, then wait until everyone has, or the deadline. 1: everyone came. */
static int meeting_attend(struct meeting *m)
{
	atomic_fetch_add(&m->arrived, 1);
	while (atomic_load(&m->arrived) < m->expected) {
		if (clock_now_ns() > m->deadline_ns)
			return 0;
		clock_sleep_ms(1);
	}
	return 1;
}

/* ==== The test's unit of work, and what it records ==== */

enum behaviour {
	RECORD, /* record, nothing more */
	MEET,   /* a worker's first parallel unit waits for all the workers */
	HOLD,   /* a parallel unit waits until run_workload has returned, or HOLD_MS */
	SLEEP,  /* sleep UNIT_US; the first unit of run number slow_run sleeps SLOW_MS more */
};

/* Static, not on a test's stack: a thread left running may still write here. */
static struct {
	long units;                                 /* indexes outside 0 .. units - 1 are bad */
	long serial;                                /* units 0 .. serial - 1 are the serial phase */
	enum behaviour behaviour;                   /* what test_unit does besides recording */
	pid_t caller;                               /* the test's own thread */
	atomic_long calls;                          /* calls of test_unit begun */
	atomic_long finished;                       /* calls of test_unit ended */
	atomic_long bad_index;                      /* the last bad index done, if any */
	atomic_int bad;                             /* a bad index was done */
	atomic_int count[MAX_UNITS];                /* count[i]: how many times unit i was done */
	_Atomic pid_t tid[MAX_UNITS];               /* tid[i]: the thread that did unit i */
	atomic_long order[MAX_UNITS];               /* order[i]: calls begun before unit i */
	_Atomic pid_t seen[AMDAHL_MAX_WORKERS + 1]; /* the workers seen so far */
	atomic_int met;                             /* workers that met all the others */
	struct meeting meet;                        /* where MEET's workers wait */
	atomic_int returned;                        /* the test saw run_workload return */
	atomic_long runs;                           /* SLEEP: runs begun (unit 0 calls) */
	long slow_run;                              /* SLEEP: the run to slow down, from 0 */
} rec;

static void rec_reset(long units, double serial_fraction, enum behaviour b)
{
	memset(&rec, 0, sizeof(rec));
	rec.units = units;
	rec.serial = llround(serial_fraction * (double)units);
	rec.behaviour = b;
	rec.caller = gettid();
	rec.slow_run = -1;
}

/* A workload of units done by test_unit. */
static struct amdahl_work work_of(long units, double serial_fraction);

static void sleep_us(long us)
{
	struct timespec left = {.tv_sec = us / 1000000, .tv_nsec = us % 1000000 * 1000};

	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

/* Add tid to rec.seen; 1 when it was not there yet. */
static int new_worker(pid_t tid)
{
	for (int i = 0; i <= AMDAHL_MAX_WORKERS; i++) {
		pid_t none = 0;

		if (atomic_compare_exchange_strong(&rec.seen[i], &none, tid))
			return 1;
		if (none == tid)
			return 0;
	}
	return 0;
}

/* What a unit does besides recording itself. */
static void behave(long index)
{
	uint64_t until;

	switch (rec.behaviour) {
	case RECORD:
		break;
	case MEET:
		if (index >= rec.serial && new_worker(gettid()) && meeting_attend(&rec.meet))
			atomic_fetch_add(&rec.met, 1);
		break;
	case HOLD:
		until = clock_now_ns() + (uint64_t)HOLD_MS * 1000000u;
		while (index >= rec.serial && !atomic_load(&rec.returned) && clock_now_ns() < until)
			clock_sleep_ms(1);
		break;
	case SLEEP:
		if (index == 0 && atomic_fetch_add(&rec.runs, 1) == rec.slow_run)
			clock_sleep_ms(SLOW_MS);
		sleep_us(UNIT_US);
		break;
	}
}

/* The unit every workload test gives run_workload. */
static void test_unit(void *ctx, long index)
{
	long seq = atomic_fetch_add(&rec.calls, 1);

	(void)ctx;
	if (index < 0 || index >= rec.units) {
		atomic_store(&rec.bad_index, index);
		atomic_store(&rec.bad, 1);
	} else {
		atomic_fetch_add(&rec.count[index], 1);
		atomic_store(&rec.tid[index], gettid());
		atomic_store(&rec.order[index], seq);
		behave(index);
	}
	atomic_fetch_add(&rec.finished, 1);
}

static struct amdahl_work work_of(long units, double serial_fraction)
{
	return (struct amdahl_work){.serial_fraction = serial_fraction,
				    .units = units,
				    .mode = AMDAHL_SLEEP,
				    .unit = test_unit,
				    .ctx = &rec};
}

/* How many units the calling thread did. */
static long caller_units(void)
{
	long n = 0;

	for (long i = 0; i < rec.units; i++)
		n += atomic_load(&rec.tid[i]) == rec.caller;
	return n;
}

/* ==== Arithmetic the tests trust ==== */

static int close_to(double got, double want, double tol)
{
	return fabs(got - want) <= tol;
}

/* " (errno ENOSYS)" when got is NAN, else "": errno means nothing after a success. */
static const char *errno_text(double got, int e)
{
	static char buf[48];

	if (!isnan(got))
		return "";
	snprintf(buf, sizeof(buf), " (errno %s)", e ? err_name(e) : "not set");
	return buf;
}

static double kf(double s, int n)
{
	return (1.0 / s - 1.0 / n) / (1.0 - 1.0 / n);
}

static uint64_t median_of(const uint64_t *v, int n)
{
	uint64_t s[AMDAHL_MAX_REPEATS];

	memcpy(s, v, (size_t)n * sizeof(*v));
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
			uint64_t t = s[j];

			s[j] = s[j - 1];
			s[j - 1] = t;
		}
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static uint64_t mean_of(const uint64_t *v, int n)
{
	uint64_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += v[i];
	return sum / (uint64_t)n;
}

/* ==== Core: the formulas ==== */

/* Name the mistake that turns amdahl_speedup(p, n) into got. */
static const char *amdahl_mistake(double p, int n, double got)
{
	if (close_to(got, 1.0 / (p + (1.0 - p) / n), EXACT))
		return "p and 1 - p are swapped: p is the PARALLEL fraction, the part divided by n";
	if (p < 1.0 && close_to(got, 1.0 / (1.0 - p), EXACT))
		return "that is the ceiling 1 / (1 - p): p / n came out 0. Is it 1 / n in "
		       "integers (0 for every n > 1)? Write p / n with p a double";
	if (close_to(got, (1.0 - p) + p / n, EXACT))
		return "that is T(n) / T(1), the share of the time left; the speedup is its "
		       "inverse";
	if (close_to(got, (1.0 - p) + p * n, EXACT) && n > 1)
		return "that is Gustafson's scaled speedup (1 - p) + p * n, not Amdahl's";
	return "compute 1 / ((1 - p) + p / n) in double";
}

START_TEST(test_amdahl_exact)
{
	static const struct {
		double p;
		int n;
		double want;
	} cases[] = {{0.9, 4, 40.0 / 13}, {0.9, 1, 1.0}, {0.9, 16, 6.4}, {0.5, 2, 4.0 / 3},
		     {0.75, 3, 2.0},      {0.0, 8, 1.0}, {1.0, 8, 8.0}};
	static const struct {
		double p, want;
	} limits[] = {{0.9, 10.0}, {0.4, 5.0 / 3}, {0.75, 4.0}, {0.0, 1.0}};
	double got;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double got;

		errno = 0;
		got = amdahl_speedup(cases[i].p, cases[i].n);
		ck_assert_msg(close_to(got, cases[i].want, EXACT),
			      "amdahl_speedup(%g, %d): expected %.6f, got %.6f%s: %s", cases[i].p,
			      cases[i].n, cases[i].want, got, errno_text(got, errno),
			      amdahl_mistake(cases[i].p, cases[i].n, got));
	}
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		double p = limits[i].p, got;

		errno = 0;
		got = amdahl_limit(p);
		ck_assert_msg(close_to(got, limits[i].want, EXACT),
			      "amdahl_limit(%g): expected 1 / (1 - p) = %.6f, got %.6f%s%s", p,
			      limits[i].want, got, errno_text(got, errno),
			      p > 0 && close_to(got, 1.0 / p, EXACT)
				  ? ": that is 1 / p, p and 1 - p swapped"
				  : "");
	}
	errno = 0;
	got = amdahl_limit(1.0);
	ck_assert_msg(isinf(got) && got > 0,
		      "amdahl_limit(1): expected INFINITY (nothing serial, no ceiling), got %g%s",
		      got, errno_text(got, errno));
}
END_TEST

START_TEST(test_gustafson_exact)
{
	static const struct {
		double p;
		int n;
		double want;
	} cases[] = {{0.9, 16, 14.5}, {0.5, 4, 2.5}, {0.0, 7, 1.0}, {1.0, 7, 7.0}, {0.25, 1, 1.0}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double p = cases[i].p, got;
		int n = cases[i].n, e;
		const char *why = "compute (1 - p) + p * n";

		errno = 0;
		got = gustafson_speedup(p, n);
		e = errno;

		if (close_to(got, 1.0 / ((1.0 - p) + p / n), EXACT))
			why =
			    "that is Amdahl's law, a fixed task; Gustafson's scales the task with "
			    "n: (1 - p) + p * n, with no ceiling";
		else if (close_to(got, p + (1.0 - p) * n, EXACT))
			why =
			    "p and 1 - p are swapped: p is the parallel share, the part that grows "
			    "with n";
		ck_assert_msg(close_to(got, cases[i].want, EXACT),
			      "gustafson_speedup(%g, %d): expected %.6f, got %.6f%s: %s", p, n,
			      cases[i].want, got, errno_text(got, e), why);
	}
}
END_TEST

START_TEST(test_karp_flatt_exact)
{
	static const struct {
		double s;
		int n;
		double want;
		const char *what;
	} cases[] = {
	    {20.0 / 11, 2, 0.1, "T(1) = 12 s, T(2) = 6.6 s"},
	    {3.0, 4, 1.0 / 9, "T(1) = 12 s, T(4) = 4 s"},
	    {1.0 / 0.3875, 8, 0.3, "Amdahl's S(8) for p = 0.7"},
	    {4.0, 4, 0.0, "a perfect speedup"},
	    {1.0, 8, 1.0, "no speedup at all"},
	    {5.0, 4, -1.0 / 15, "a superlinear speedup: e < 0 is a result, not an error"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double s = cases[i].s, got;
		const char *why = "compute (1/s - 1/n) / (1 - 1/n) in double";
		int e;

		errno = 0;
		got = karp_flatt(s, cases[i].n);
		e = errno;

		if (close_to(got, 1.0 / s, EXACT))
			why = "1 / n came out 0: with an int n, 1 / n divides in integers; write "
			      "1.0 / n";
		else if (close_to(got, 1.0 - cases[i].want, EXACT))
			why =
			    "that is 1 - e, the parallel fraction; Karp-Flatt gives the serial one";
		ck_assert_msg(close_to(got, cases[i].want, EXACT),
			      "karp_flatt(%.6f, %d) (%s): expected %.6f, got %.6f%s: %s", s,
			      cases[i].n, cases[i].what, cases[i].want, got, errno_text(got, e),
			      why);
	}
}
END_TEST

START_TEST(test_speedup_efficiency)
{
	static const struct {
		uint64_t t1, tn;
		double want;
	} cases[] = {{10, 4, 2.5}, {4, 10, 0.4}, {3000000000u, 1500000000u, 2.0}, {1, 3, 1.0 / 3}};
	static const struct {
		double s;
		int n;
		double want;
	} effs[] = {{2.5, 4, 0.625}, {3.0, 3, 1.0}, {1.5, 2, 0.75}, {0.5, 1, 0.5}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = "T(1) / T(n), divided as doubles";
		double got;
		int e;

		errno = 0;
		got = speedup(cases[i].t1, cases[i].tn);
		e = errno;

		if (close_to(got, (double)(cases[i].t1 / cases[i].tn), EXACT))
			why = "the quotient was rounded down: two uint64_t divide as integers; "
			      "convert to double before dividing";
		else if (close_to(got, (double)cases[i].tn / (double)cases[i].t1, EXACT))
			why = "upside down: the speedup is T(1) / T(n), old time over new";
		ck_assert_msg(close_to(got, cases[i].want, EXACT),
			      "speedup(%llu, %llu): expected %.6f, got %.6f%s: %s",
			      (unsigned long long)cases[i].t1, (unsigned long long)cases[i].tn,
			      cases[i].want, got, errno_text(got, e), why);
	}
	for (size_t i = 0; i < sizeof(effs) / sizeof(effs[0]); i++) {
		double got;

		errno = 0;
		got = efficiency(effs[i].s, effs[i].n);
		ck_assert_msg(close_to(got, effs[i].want, EXACT),
			      "efficiency(%g, %d): expected s / n = %.6f, got %.6f%s", effs[i].s,
			      effs[i].n, effs[i].want, got, errno_text(got, errno));
	}
}
END_TEST

/* Fail unless got is NAN with errno EINVAL; call is the call in words. */
static void expect_einval(double got, const char *call, const char *why)
{
	int e = errno;

	ck_assert_msg(isnan(got) && e == EINVAL,
		      "%s: expected NAN with errno EINVAL, got %g with errno %s%s%s", call, got,
		      e ? err_name(e) : "not set", why ? ": " : "", why ? why : "");
}

START_TEST(test_formulas_invalid)
{
	static const double bad_p[] = {-0.1, 1.5, NAN};

	for (size_t i = 0; i < sizeof(bad_p) / sizeof(bad_p[0]); i++) {
		char call[64];

		snprintf(call, sizeof(call), "amdahl_speedup(%g, 2)", bad_p[i]);
		errno = 0;
		expect_einval(amdahl_speedup(bad_p[i], 2), call, "p is a fraction, 0 <= p <= 1");
		snprintf(call, sizeof(call), "amdahl_limit(%g)", bad_p[i]);
		errno = 0;
		expect_einval(amdahl_limit(bad_p[i]), call, "p is a fraction, 0 <= p <= 1");
		snprintf(call, sizeof(call), "gustafson_speedup(%g, 2)", bad_p[i]);
		errno = 0;
		expect_einval(gustafson_speedup(bad_p[i], 2), call, "p is a fraction");
	}
	errno = 0;
	expect_einval(amdahl_speedup(0.5, 0), "amdahl_speedup(0.5, 0)", "n >= 1");
	errno = 0;
	expect_einval(gustafson_speedup(0.5, -3), "gustafson_speedup(0.5, -3)", "n >= 1");
	errno = 0;
	expect_einval(karp_flatt(1.5, 1), "karp_flatt(1.5, 1)",
		      "with one worker, 1 - 1/n is 0: check n >= 2 before dividing");
	errno = 0;
	expect_einval(karp_flatt(2.0, 0), "karp_flatt(2, 0)", "n >= 2");
	errno = 0;
	expect_einval(karp_flatt(0.0, 4), "karp_flatt(0, 4)", "a speedup is > 0");
	errno = 0;
	expect_einval(karp_flatt(-2.0, 4), "karp_flatt(-2, 4)", "a speedup is > 0");
	errno = 0;
	expect_einval(karp_flatt(NAN, 4), "karp_flatt(NAN, 4)", "NAN is not > 0");
	errno = 0;
	expect_einval(speedup(0, 5), "speedup(0, 5)", "a time is > 0");
	errno = 0;
	expect_einval(speedup(5, 0), "speedup(5, 0)", "a time of 0 would divide by zero");
	errno = 0;
	expect_einval(efficiency(2.0, 0), "efficiency(2, 0)", "n >= 1");
	errno = 0;
	expect_einval(efficiency(-1.0, 4), "efficiency(-1, 4)", "a speedup is > 0");
}
END_TEST

/* ==== Core: the workload ==== */

/* Run w on workers threads with test_unit recording; fail unless it returned 0. */
static void run_recorded(long units, double serial_fraction, int workers, enum behaviour b)
{
	struct amdahl_work w = work_of(units, serial_fraction);
	int ret;

	rec_reset(units, serial_fraction, b);
	if (b == MEET)
		meeting_open(&rec.meet, workers);
	ret = run_workload(&w, workers);
	ck_assert_msg(ret == 0,
		      "run_workload(units=%ld, serial_fraction=%g, workers=%d) returned %d "
		      "(errno %s), expected 0",
		      units, serial_fraction, workers, ret, err_name(errno));
}

/* Whether the units not done are exactly the last `rest` ones. */
static int dropped_last(long rest)
{
	for (long i = 0; i < rec.units; i++)
		if ((atomic_load(&rec.count[i]) == 0) != (i >= rec.units - rest))
			return 0;
	return rest > 0;
}

/* Fail unless every unit was done exactly once, naming the mistake. */
static void check_each_once(int workers)
{
	long parallel = rec.units - rec.serial, rest = parallel % workers;
	long missing = 0, twice = 0, first_missing = -1, first_twice = 0;

	ck_assert_msg(!atomic_load(&rec.bad),
		      "run_workload(units=%ld, workers=%d) did unit %ld, which does not exist: "
		      "the last slice must end at units, whatever the rounding",
		      rec.units, workers, atomic_load(&rec.bad_index));
	for (long i = 0; i < rec.units; i++) {
		int c = atomic_load(&rec.count[i]);

		if (c == 0 && missing++ == 0)
			first_missing = i;
		if (c > 1 && twice++ == 0)
			first_twice = i;
	}
	ck_assert_msg(
	    missing == 0 || !dropped_last(rest),
	    "units=%ld with %ld serial, workers=%d: the last %ld units were never done. "
	    "%ld parallel units in slices of %ld / %d = %ld drop the remainder %ld %% %d; "
	    "give the first `remainder` slices one unit more",
	    rec.units, rec.serial, workers, rest, parallel, parallel, workers, parallel / workers,
	    parallel, workers);
	ck_assert_msg(missing == 0,
		      "units=%ld, workers=%d: %ld units were never done, the first is unit %ld: "
		      "the slices must cover k .. units - 1 with no gap",
		      rec.units, workers, missing, first_missing);
	ck_assert_msg(twice == 0,
		      "units=%ld, workers=%d: %ld units were done more than once, the first is "
		      "unit %ld (%d times): slices must not overlap, and the serial units are not "
		      "in any slice",
		      rec.units, workers, twice, first_twice, atomic_load(&rec.count[first_twice]));
}

START_TEST(test_workload_each_unit_once)
{
	static const struct {
		long units;
		double serial;
		int workers;
	} cases[] = {{100, 0.2, 3}, {7, 0.0, 4}, {1000, 0.1, 7},
		     {10, 0.5, 8},  {5, 1.0, 3}, {1, 0.0, 1}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_recorded(cases[i].units, cases[i].serial, cases[i].workers, RECORD);
		check_each_once(cases[i].workers);
	}
}
END_TEST

START_TEST(test_workload_parallel)
{
	enum { UNITS = 40, WORKERS = 4 };
	pid_t workers[WORKERS + 1] = {0};
	int distinct = 0, met;

	run_recorded(UNITS, 0.25, WORKERS, MEET);
	for (long i = rec.serial; i < UNITS; i++) {
		pid_t t = atomic_load(&rec.tid[i]);
		int known = 0;

		ck_assert_msg(t != rec.caller,
			      "parallel unit %ld ran in the calling thread: every slice runs in a "
			      "worker thread of its own",
			      i);
		for (int k = 0; k < distinct; k++)
			known |= workers[k] == t;
		if (!known && distinct <= WORKERS)
			workers[distinct++] = t;
	}
	ck_assert_msg(distinct == WORKERS,
		      "the %d parallel units ran in %d distinct thread%s, expected %d: one thread "
		      "a slice",
		      UNITS - (int)rec.serial, distinct, distinct == 1 ? "" : "s", WORKERS);
	met = atomic_load(&rec.met);
	ck_assert_msg(met == WORKERS,
		      "the %d workers did not run at the same time: %d of them met all the others "
		      "within %d ms. Each waited at its first unit for the others; workers run one "
		      "after another never all arrive. Create every thread before you join any",
		      WORKERS, met, MEET_MS);
}
END_TEST

START_TEST(test_workload_serial_phase)
{
	static const struct {
		long units;
		double serial;
		int workers;
	} cases[] = {{100, 0.3, 4}, {40, 0.5, 2}, {100, 0.29, 3}};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		long units = cases[c].units, done;
		double f = cases[c].serial;

		run_recorded(units, f, cases[c].workers, RECORD);
		check_each_once(cases[c].workers);
		done = caller_units();
		ck_assert_msg(
		    done != 0,
		    "serial_fraction=%g of %ld units: the calling thread did no unit. The "
		    "serial phase, units 0 .. %ld, is the caller's own, before the workers "
		    "start; splitting it among them measures another program",
		    f, units, rec.serial - 1);
		ck_assert_msg(done != units - rec.serial || done == rec.serial,
			      "serial_fraction=%g of %ld units: the calling thread did %ld units, "
			      "expected %ld: 1 - serial_fraction is the parallel share, not the "
			      "serial one",
			      f, units, done, rec.serial);
		ck_assert_msg(done != (long)(f * (double)units) || done == rec.serial,
			      "serial_fraction=%g of %ld units: the calling thread did %ld units, "
			      "expected llround(%g * %ld) = %ld: a cast truncates %.15g",
			      f, units, done, f, units, rec.serial, f * (double)units);
		for (long i = 0; i < rec.serial; i++) {
			ck_assert_msg(
			    atomic_load(&rec.tid[i]) == rec.caller,
			    "serial_fraction=%g of %ld units: serial unit %ld ran in "
			    "another thread; the calling thread does units 0 .. %ld itself",
			    f, units, i, rec.serial - 1);
			ck_assert_msg(atomic_load(&rec.order[i]) == i,
				      "serial_fraction=%g: serial unit %ld was the %ld-th unit to "
				      "start, expected the %ld-th: the serial units come first, in "
				      "order, before any worker starts",
				      f, i, atomic_load(&rec.order[i]) + 1, i + 1);
		}
		ck_assert_msg(done == rec.serial,
			      "serial_fraction=%g of %ld units: the calling thread did %ld units, "
			      "expected the %ld serial ones and nothing more",
			      f, units, done, rec.serial);
	}
}
END_TEST

START_TEST(test_workload_joined)
{
	enum { UNITS = 8, WORKERS = 4 };
	long finished;

	run_recorded(UNITS, 0.25, WORKERS, HOLD);
	finished = atomic_load(&rec.finished);
	atomic_store(&rec.returned, 1);
	ck_assert_msg(finished == UNITS,
		      "run_workload returned while %ld of its %d units were still running: "
		      "pthread_join every worker before returning",
		      UNITS - finished, UNITS);
	suite_check_leaks("run_workload()");
}
END_TEST

START_TEST(test_workload_create_fails)
{
	enum { UNITS = 8, WORKERS = 4 };
	struct amdahl_work w = work_of(UNITS, 0.0);
	long begun, finished;
	int ret, saved;

	rec_reset(UNITS, 0.0, HOLD);
	fault_inject(FAULT_THREAD, 2);
	errno = 0;
	ret = run_workload(&w, WORKERS);
	saved = errno;
	fault_stop();
	begun = atomic_load(&rec.calls);
	finished = atomic_load(&rec.finished);
	atomic_store(&rec.returned, 1);
	ck_assert_msg(fault_count() > 0,
		      "run_workload(workers=%d) never called pthread_create a second time: start "
		      "a thread per worker",
		      WORKERS);
	ck_assert_msg(ret == -1,
		      "the second pthread_create failed, yet run_workload returned %d: it "
		      "returns an error number (never -1); test it against 0 %s",
		      ret, fault_report());
	ck_assert_msg(saved == EAGAIN,
		      "run_workload returned -1 with errno %s; expected EAGAIN, the number the "
		      "failed pthread_create returned (it leaves errno alone: set it yourself) %s",
		      saved ? err_name(saved) : "not set", fault_report());
	ck_assert_msg(finished == begun,
		      "run_workload returned while %ld unit%s of the workers already started %s "
		      "still running: after a failed pthread_create, join those started",
		      begun - finished, begun - finished == 1 ? "" : "s",
		      begun - finished == 1 ? "was" : "were");
	suite_check_leaks("run_workload() after a failed pthread_create");
}
END_TEST

START_TEST(test_workload_invalid)
{
	struct amdahl_work good = work_of(10, 0.5), w;
	static const struct {
		long units;
		double serial;
		int workers;
		const char *what;
	} cases[] = {
	    {0, 0.5, 2, "units = 0"},
	    {-5, 0.5, 2, "units = -5"},
	    {10, -0.1, 2, "serial_fraction = -0.1"},
	    {10, 1.5, 2, "serial_fraction = 1.5"},
	    {10, NAN, 2, "serial_fraction = NAN"},
	    {10, 0.5, 0, "workers = 0"},
	    {10, 0.5, -1, "workers = -1"},
	    {10, 0.5, AMDAHL_MAX_WORKERS + 1, "workers > AMDAHL_MAX_WORKERS"},
	};
	int ret;

	rec_reset(10, 0.5, RECORD);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		w = good;
		w.units = cases[i].units;
		w.serial_fraction = cases[i].serial;
		errno = 0;
		ret = run_workload(&w, cases[i].workers);
		ck_assert_msg(ret == -1 && errno == EINVAL,
			      "run_workload with %s: expected -1 with errno EINVAL, got %d with %s",
			      cases[i].what, ret, err_name(errno));
	}
	w = good;
	w.unit = NULL;
	w.unit_ns = 1000;
	w.mode = (enum amdahl_mode)7;
	errno = 0;
	ret = run_workload(&w, 2);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "run_workload with mode = 7 (and no unit function): expected -1 with "
		      "errno EINVAL, got %d with %s",
		      ret, err_name(errno));
	w = good;
	w.unit = NULL;
	w.unit_ns = -1;
	errno = 0;
	ret = run_workload(&w, 2);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "run_workload with unit_ns = -1 (and no unit function): expected -1 with "
		      "errno EINVAL, got %d with %s",
		      ret, err_name(errno));
	errno = 0;
	ret = run_workload(NULL, 2);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "run_workload(NULL, 2): expected -1 with errno EINVAL, got %d with %s", ret,
		      err_name(errno));
	ck_assert_msg(atomic_load(&rec.calls) == 0,
		      "%ld units were done although the arguments were invalid: check them all "
		      "before the serial phase",
		      atomic_load(&rec.calls));
}
END_TEST

START_TEST(test_workload_sleep_mode)
{
	enum { UNIT_MS = 5 };
	struct amdahl_work w = {.serial_fraction = 0.5,
				.units = 8,
				.mode = AMDAHL_SLEEP,
				.unit_ns = UNIT_MS * 1000000L};
	uint64_t start = clock_now_ns(), took;
	int ret = run_workload(&w, 2);

	took = clock_now_ns() - start;
	ck_assert_msg(ret == 0, "run_workload in AMDAHL_SLEEP mode returned %d (errno %s)", ret,
		      err_name(errno));
	/* Four serial units, then two on each worker: six waits one after another. */
	ck_assert_msg(
	    took >= 6 * UNIT_MS * 1000000ull,
	    "8 units of AMDAHL_SLEEP, unit_ns = %d ms, half of them serial, on 2 workers: "
	    "at least 6 waits come one after another, so at least %d ms, but it took "
	    "%.3f ms. Does a unit sleep unit_ns nanoseconds (tv_sec = ns / 1000000000, "
	    "tv_nsec = ns %% 1000000000)? Are the serial units done first, by the calling "
	    "thread alone?",
	    UNIT_MS, 6 * UNIT_MS, (double)took / 1e6);
}
END_TEST

/* ==== Core: measuring ==== */

/* Describe the runs of one point: "1.2 ms, 0.9 ms, 201.3 ms". */
static const char *runs_text(const struct amdahl_point *pt, int runs)
{
	static char buf[512];
	int len = 0;

	buf[0] = '\0';
	for (int r = 0; r < runs && r < AMDAHL_MAX_REPEATS && len < (int)sizeof(buf); r++)
		len += snprintf(buf + len, sizeof(buf) - (size_t)len, "%s%.3f ms", r ? ", " : "",
				(double)pt->run_ns[r] / 1e6);
	return buf;
}

/* Fail unless pt's median_ns is the median of its runs. */
static void check_median(const struct amdahl_point *pt, int repeats)
{
	uint64_t want = median_of(pt->run_ns, repeats);

	ck_assert_msg(
	    pt->median_ns == want,
	    "n=%d: the runs took %s; their median is %.3f ms, median_ns says %.3f ms%s",
	    pt->workers, runs_text(pt, repeats), (double)want / 1e6, (double)pt->median_ns / 1e6,
	    pt->median_ns == mean_of(pt->run_ns, repeats)
		? ": that is their mean, which one slow run drags up; sort a copy and take "
		  "the middle"
	    : pt->median_ns == pt->run_ns[repeats / 2]
		? ": that is the middle of the runs as they came; sort a copy first"
		: (repeats % 2 == 0 ? ": for an even count, (a + b) / 2 of the two middle "
				      "ones"
				    : ""));
}

START_TEST(test_measure_points)
{
	enum { UNITS = 6, N = 3, R = 3 };
	struct amdahl_work w = work_of(UNITS, 0.5);
	struct amdahl_point out[N];
	/* The serial half, then at least one parallel unit, each sleeping UNIT_US. */
	uint64_t floor_ns = (UNITS / 2 + 1) * (uint64_t)UNIT_US * 1000u;
	long calls;
	int ret;

	rec_reset(UNITS, 0.5, SLEEP);
	memset(out, 0, sizeof(out));
	ret = measure_speedup(&w, N, R, out);
	ck_assert_msg(ret == 0,
		      "measure_speedup(max_workers=%d, repeats=%d) returned %d (errno %s)", N, R,
		      ret, err_name(errno));
	calls = atomic_load(&rec.calls);
	ck_assert_msg(calls == (long)N * R * UNITS,
		      "measure_speedup(max_workers=%d, repeats=%d) did %ld units: that is %.2f "
		      "runs of the workload, expected max_workers * repeats = %d",
		      N, R, calls, (double)calls / UNITS, N * R);
	for (int k = 0; k < N; k++) {
		const struct amdahl_point *pt = &out[k];
		double want_s;

		ck_assert_msg(pt->workers == k + 1 && pt->runs == R,
			      "out[%d] says workers=%d, runs=%d; expected workers=%d, runs=%d", k,
			      pt->workers, pt->runs, k + 1, R);
		for (int r = 0; r < R; r++)
			ck_assert_msg(
			    pt->run_ns[r] >= floor_ns,
			    "n=%d: a run took %llu ns by your clock, but its 3 serial "
			    "units and at least one parallel unit sleep %llu ns one after "
			    "another. Time with the monotonic clock, in nanoseconds "
			    "(clock() counts CPU time, which a sleep does not use); and do "
			    "the serial units first, in the calling thread",
			    k + 1, (unsigned long long)pt->run_ns[r], (unsigned long long)floor_ns);
		check_median(pt, R);
		want_s = (double)out[0].median_ns / (double)pt->median_ns;
		ck_assert_msg(close_to(pt->speedup, want_s, 1e-9 * want_s),
			      "n=%d: speedup %.6f, expected T(1) / T(n) = %.6f from the medians%s",
			      k + 1, pt->speedup, want_s,
			      close_to(pt->speedup, 1.0 / want_s, 1e-9) ? " (yours is upside down)"
									: "");
		if (k == 0)
			ck_assert_msg(isnan(pt->serial_estimate),
				      "n=1: serial_estimate is %g, expected NAN: Karp-Flatt is not "
				      "defined for one worker",
				      pt->serial_estimate);
		else
			ck_assert_msg(close_to(pt->serial_estimate, kf(want_s, k + 1), 1e-9),
				      "n=%d: serial_estimate %.6f, expected karp_flatt(%.6f, %d) = "
				      "%.6f",
				      k + 1, pt->serial_estimate, want_s, k + 1, kf(want_s, k + 1));
	}
}
END_TEST

START_TEST(test_measure_median)
{
	struct amdahl_work w = work_of(4, 0.25);
	struct amdahl_point out[1];
	int ret;

	/* Three runs, the middle one 200 ms slow; then four, the second slow. */
	for (int repeats = 3; repeats <= 4; repeats++) {
		rec_reset(4, 0.25, SLEEP);
		rec.slow_run = 1;
		ret = measure_speedup(&w, 1, repeats, out);
		ck_assert_msg(ret == 0,
			      "measure_speedup(max_workers=1, repeats=%d) returned %d "
			      "(errno %s)",
			      repeats, ret, err_name(errno));
		ck_assert_msg(
		    out[0].run_ns[1] >= (uint64_t)SLOW_MS * 1000000u,
		    "the test made the second run %d ms slow, but run_ns[1] is %.3f ms (the "
		    "runs: %s): store run r in run_ns[r]",
		    SLOW_MS, (double)out[0].run_ns[1] / 1e6, runs_text(&out[0], repeats));
		check_median(&out[0], repeats);
	}
}
END_TEST

/* ==== Core: the estimate ==== */

/* A point for n workers taking t_ns, with the fields estimate must not read poisoned. */
static struct amdahl_point point(int n, double t_ns)
{
	return (struct amdahl_point){.workers = n,
				     .runs = 1,
				     .median_ns = (uint64_t)llround(t_ns),
				     .speedup = -1.0,
				     .serial_estimate = NAN};
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * What a student's estimate would be with T(1) taken as t1_ns, and the mean
 * of e(n) instead of the median when mean is set.
 */
static double estimate_with(const struct amdahl_point *pts, int count, double t1_ns, int mean)
{
	double e[16], sum = 0;
	int m = 0;

	for (int k = 0; k < count && m < 16; k++)
		if (pts[k].workers >= 2)
			sum += e[m++] = kf(t1_ns / (double)pts[k].median_ns, pts[k].workers);
	if (m == 0)
		return NAN;
	if (mean)
		return sum / m;
	qsort(e, (size_t)m, sizeof(*e), cmp_double);
	return m % 2 ? e[m / 2] : (e[m / 2 - 1] + e[m / 2]) / 2;
}

/* Name the mistake behind a wrong estimate from pts. */
static const char *estimate_mistake(const struct amdahl_point *pts, int count, double got, int e)
{
	double t1 = 0;

	if (isnan(got) && e == ENOSYS)
		return "not implemented yet";

	for (int k = count - 1; k >= 0; k--)
		if (pts[k].workers == 1)
			t1 = (double)pts[k].median_ns;
	if (isnan(got))
		return "NAN: was n = 1 given to Karp-Flatt (it divides by zero), or the points' "
		       "serial_estimate read? Use only workers and median_ns, and skip n = 1";
	if (close_to(got, estimate_with(pts, count, t1, 1), 1e-6))
		return "that is the mean of e(n), which the one disturbed point drags away; take "
		       "their median";
	if (pts[0].workers != 1 &&
	    close_to(got, estimate_with(pts, count, (double)pts[0].median_ns, 0), 1e-6))
		return "T(1) was taken from pts[0]: find the point whose workers is 1";
	return "e(n) = karp_flatt(T(1) / T(n), n) for every n >= 2, then their median";
}

START_TEST(test_estimate_outlier)
{
	/* Amdahl's law exactly for e = 0.25 and T(1) = 1 s, but T(3) was hit by load. */
	struct amdahl_point pts[5] = {
	    point(3, 8 * 1e9 * (0.25 + 0.75 / 3)), point(5, 1e9 * (0.25 + 0.75 / 5)), point(1, 1e9),
	    point(4, 1e9 * (0.25 + 0.75 / 4)),     point(2, 1e9 * (0.25 + 0.75 / 2)),
	};
	/* The course's example: T(1) = 12 s, T(2) = 6.6 s, T(4) = 4 s. */
	struct amdahl_point course[3] = {point(4, 4e9), point(1, 12e9), point(2, 6.6e9)};
	double got, want;
	int e;

	errno = 0;
	got = estimate_serial_fraction(pts, 5);
	e = errno;
	ck_assert_msg(close_to(got, 0.25, 1e-6),
		      "five points following Amdahl's law for e = 0.25, except T(3), 8 times too "
		      "slow: expected 0.25, got %.6f%s: %s",
		      got, errno_text(got, e), estimate_mistake(pts, 5, got, e));
	want = (0.1 + 1.0 / 9) / 2;
	errno = 0;
	got = estimate_serial_fraction(course, 3);
	e = errno;
	ck_assert_msg(close_to(got, want, 1e-6),
		      "T(1) = 12 s, T(2) = 6.6 s, T(4) = 4 s: e(2) = 0.1, e(4) = 1/9, expected "
		      "their median %.6f (the mean of the two middle ones of an even count), got "
		      "%.6f%s: %s",
		      want, got, errno_text(got, e), estimate_mistake(course, 3, got, e));
	errno = 0;
	expect_einval(estimate_serial_fraction(pts + 2, 1), "estimate_serial_fraction(T(1) alone)",
		      "no point with n >= 2: nothing to estimate from");
	errno = 0;
	expect_einval(estimate_serial_fraction(pts + 3, 2),
		      "estimate_serial_fraction(no point with workers == 1)", "T(1) is needed");
	errno = 0;
	expect_einval(estimate_serial_fraction(pts, 0), "estimate_serial_fraction(count = 0)",
		      NULL);
}
END_TEST

/* ==== Core: the estimate, measured for real ==== */

/*
 * The measured test's unit waits QUANTUM on a schedule of its thread's own:
 * a thread's k-th unit of a run is due k quanta after its first one began,
 * so that one late wake-up does not push back the units after it. The units
 * also watch each run from inside: when it began and ended, and how many
 * units each thread did. From that the test knows what every run should
 * have cost, and can tell a measurement the machine disturbed (a run that
 * took noticeably longer than its units) from one it did not.
 */
static struct {
	long serial;           /* units 0 .. serial - 1 are the serial phase */
	pid_t caller;          /* the thread that calls measure_speedup */
	atomic_long misplaced; /* a serial unit done by another thread, plus one */
	atomic_int runs;       /* runs begun: calls of unit 0 */
	_Atomic uint64_t serial_end_ns[RUNS_MAX]; /* when run r's serial phase was due to end */
	_Atomic uint64_t start_ns[RUNS_MAX];      /* when run r's unit 0 began */
	_Atomic uint64_t end_ns[RUNS_MAX];        /* when its last unit ended */
	_Atomic pid_t thread[RUNS_MAX][SLOTS];    /* the threads that did its units */
	atomic_int units[RUNS_MAX][SLOTS];        /* how many units each of them did */
} watch;

static _Thread_local int due_run = -1; /* the run this thread's schedule belongs to */
static _Thread_local uint64_t due_ns;  /* when its current unit is due to end */

static void sleep_until(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
			      .tv_nsec = (long)(ns % 1000000000u)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Count a unit of run r for thread tid. */
static void watch_count(int r, pid_t tid)
{
	for (int i = 0; i < SLOTS; i++) {
		pid_t none = 0;

		if (atomic_compare_exchange_strong(&watch.thread[r][i], &none, tid) ||
		    none == tid) {
			atomic_fetch_add(&watch.units[r][i], 1);
			return;
		}
	}
}

static void watched_unit(void *ctx, long index)
{
	uint64_t now = clock_now_ns(), end;
	int r = index == 0 ? atomic_fetch_add(&watch.runs, 1) : atomic_load(&watch.runs) - 1;

	(void)ctx;
	if (index < watch.serial && gettid() != watch.caller)
		atomic_store(&watch.misplaced, index + 1);
	if (r < 0 || r >= RUNS_MAX) {
		sleep_until(now + QUANTUM); /* a run too many: test_measure_points says so */
		return;
	}
	if (index == 0)
		atomic_store(&watch.start_ns[r], now);
	if (index == 0 || due_run != r) {
		uint64_t serial_end = atomic_load(&watch.serial_end_ns[r]);

		/* A worker's schedule starts when the serial phase was due to end: its start-up is made up. */
		due_run = r;
		due_ns = serial_end && serial_end < now ? serial_end : now;
	}
	due_ns += QUANTUM;
	sleep_until(due_ns);
	watch_count(r, gettid());
	end = clock_now_ns();
	if (index == watch.serial - 1)
		atomic_store(&watch.serial_end_ns[r],
			     due_ns); /* when it was due: lateness made up */
	for (uint64_t seen = atomic_load(&watch.end_ns[r]);
	     seen < end && !atomic_compare_exchange_weak(&watch.end_ns[r], &seen, end);)
		;
}

/* What the units saw of one measurement, set against the student's numbers. */
struct inside {
	int clean;       /* no median was taken from a run the machine slowed down */
	double estimate; /* Karp-Flatt from the run times the units saw */
	double worst_ms; /* the most a run took beyond its units, by the student's clock */
};

/* Run r's worker threads (the caller excluded), and its least possible time. */
static int run_shape(int r, pid_t caller, uint64_t *ideal_ns)
{
	int workers = 0, most = 0, serial = 0;

	for (int i = 0; i < SLOTS && atomic_load(&watch.thread[r][i]); i++) {
		int units = atomic_load(&watch.units[r][i]);

		if (atomic_load(&watch.thread[r][i]) == caller) {
			serial = units;
		} else {
			workers++;
			most = units > most ? units : most;
		}
	}
	*ideal_ns = (uint64_t)(serial + most) * QUANTUM;
	return workers;
}

static double median_double(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Match every run the units saw with the student's run_ns (the k-th run on
 * n workers is out[n - 1].run_ns[k]) and fill *in. Fails the test when the
 * student's clock says a run was shorter than its units.
 */
static void inspect(const struct amdahl_point *out, pid_t caller, struct inside *in)
{
	double seen[MEASURE_N][REPEATS], t[MEASURE_N], e[MEASURE_N - 1];
	int count[MEASURE_N] = {0}, slow[MEASURE_N] = {0};

	ck_assert_msg(atomic_load(&watch.runs) == RUNS_MAX,
		      "measure_speedup(max_workers=%d, repeats=%d) ran the workload %d times, "
		      "expected %d",
		      MEASURE_N, REPEATS, atomic_load(&watch.runs), RUNS_MAX);
	in->worst_ms = 0;
	for (int r = 0; r < RUNS_MAX; r++) {
		uint64_t ideal,
		    inner = atomic_load(&watch.end_ns[r]) - atomic_load(&watch.start_ns[r]);
		int n = run_shape(r, caller, &ideal), k;
		uint64_t got;

		ck_assert_msg(n >= 1 && n <= MEASURE_N && count[n - 1] < REPEATS,
			      "run %d of the workload used %d worker threads; expected each n from "
			      "1 to %d in %d runs",
			      r + 1, n, MEASURE_N, REPEATS);
		k = count[n - 1]++;
		got = out[n - 1].run_ns[k];
		ck_assert_msg(
		    got >= inner,
		    "your clock says run %d on %d workers took %.3f ms, but its units alone "
		    "ran for %.3f ms: time the whole run_workload() call on the monotonic "
		    "clock, and store the k-th run of n workers in run_ns[k]",
		    k + 1, n, (double)got / 1e6, (double)inner / 1e6);
		seen[n - 1][k] = (double)inner;
		in->worst_ms = fmax(in->worst_ms, (double)(got - ideal) / 1e6);
		slow[n - 1] += got > ideal + LATE_NS;
	}
	in->clean = 1;
	for (int n = 1; n <= MEASURE_N; n++) {
		in->clean &= slow[n - 1] <= (REPEATS - 1) / 2;
		t[n - 1] = median_double(seen[n - 1], REPEATS);
	}
	for (int n = 2; n <= MEASURE_N; n++)
		e[n - 2] = kf(t[0] / t[n - 1], n);
	in->estimate = median_double(e, MEASURE_N - 1);
}

/* Describe a measurement: "n=1 60.3 ms S=1.00; n=2 36.2 ms S=1.67; ...". */
static void measurement_text(const struct amdahl_point *out, char *buf, size_t size)
{
	int len = 0;

	buf[0] = '\0';
	for (int k = 0; k < MEASURE_N && (size_t)len < size; k++)
		len +=
		    snprintf(buf + len, size - (size_t)len, "%sn=%d %.1f ms S=%.2f", k ? "; " : "",
			     out[k].workers, (double)out[k].median_ns / 1e6, out[k].speedup);
}

/*
 * Measure a workload of the given serial fraction on 1 .. MEASURE_N workers
 * with the student's measure_speedup, and return the student's estimate.
 * The parallel units are 24, a multiple of 1 .. 4: every worker gets as
 * many.
 */
static double measured_estimate(double fraction, struct inside *in, char *table, size_t size)
{
	long serial = llround(24 * fraction / (1 - fraction)), units = serial + 24;
	struct amdahl_work w = {.serial_fraction = (double)serial / (double)units,
				.units = units,
				.unit = watched_unit};
	struct amdahl_point out[MEASURE_N];
	int ret;

	memset(&watch, 0, sizeof(watch));
	watch.serial = serial;
	watch.caller = gettid();
	memset(out, 0, sizeof(out));
	ret = measure_speedup(&w, MEASURE_N, REPEATS, out);
	ck_assert_msg(ret == 0,
		      "measure_speedup(max_workers=%d, repeats=%d) returned %d (errno %s)",
		      MEASURE_N, REPEATS, ret, err_name(errno));
	ck_assert_msg(atomic_load(&watch.misplaced) == 0,
		      "serial unit %ld ran in a worker thread: the serial phase is the calling "
		      "thread's alone, or the serial fraction measured is not the one asked for",
		      atomic_load(&watch.misplaced) - 1);
	inspect(out, gettid(), in);
	measurement_text(out, table, size);
	return estimate_serial_fraction(out, MEASURE_N);
}

/*
 * A measurement is judged against the true fraction when it is clean: no
 * median came from a run that took more than LATE_NS beyond its units. A
 * disturbed one is measured again. When the machine disturbs every attempt,
 * the estimate must at least agree with the run times the units saw.
 */
START_TEST(test_estimate_measured)
{
	static const double fractions[] = {0.2, 0.5};

	for (size_t f = 0; f < sizeof(fractions) / sizeof(fractions[0]); f++) {
		double truth = fractions[f], est = NAN;
		struct inside in = {0};
		char table[400];
		int tries;

		for (tries = 0; tries < ATTEMPTS; tries++) {
			est = measured_estimate(truth, &in, table, sizeof(table));
			if (close_to(est, truth, TOLERANCE))
				break;
			ck_assert_msg(
			    !in.clean,
			    "serial fraction %.2f, units waiting 2 ms, 1 .. %d workers: "
			    "your estimate is %.3f, expected %.2f +- %.2f. The machine was "
			    "quiet: every median you took came from a run within %d ms of "
			    "what its units cost. Your measurement: %s; Amdahl predicts "
			    "S(n) = 1.00, %.2f, %.2f, %.2f",
			    truth, MEASURE_N, est, truth, TOLERANCE, LATE_NS / 1000000, table,
			    1 / (truth + (1 - truth) / 2), 1 / (truth + (1 - truth) / 3),
			    1 / (truth + (1 - truth) / 4));
		}
		ck_assert_msg(tries < ATTEMPTS || close_to(est, in.estimate, TOLERANCE),
			      "serial fraction %.2f: the machine was busy in all %d measurements "
			      "(runs up to %.1f ms longer than their units), so your estimate %.3f "
			      "was set against the one the units' own times give, %.3f: they "
			      "should agree within %.2f. Your last measurement: %s",
			      truth, ATTEMPTS, in.worst_ms, est, in.estimate, TOLERANCE, table);
	}
}
END_TEST

void suite_define(void)
{
	/* Core: the formulas, on inputs with exact answers. */
	SUITE_TEST(test_amdahl_exact, 2,
		   "Which fraction does n divide: the serial one or the parallel one?\n"
		   "Amdahl: S(n) = 1 / ((1 - p) + p / n), with p the parallel fraction; the "
		   "ceiling is 1 / (1 - p), and INFINITY for p = 1.\n"
		   "return 1.0 / ((1.0 - p) + p / n); and in amdahl_limit: p == 1.0 ? INFINITY : "
		   "1.0 / (1.0 - p).");
	SUITE_TEST(test_gustafson_exact, 1,
		   "Does the work stay fixed in Gustafson's law?\n"
		   "Gustafson scales the work with n: the speedup is (1 - p) + p * n, with no "
		   "ceiling (course.md, Amdahl's law).\n"
		   "return (1.0 - p) + p * n;");
	SUITE_TEST(test_karp_flatt_exact, 2,
		   "What is 1 / n when n is an int?\n"
		   "Karp-Flatt solves 1/S = e + (1 - e)/n for e: e = (1/S - 1/n) / (1 - 1/n), "
		   "computed in double.\n"
		   "return (1.0 / s - 1.0 / n) / (1.0 - 1.0 / n);");
	SUITE_TEST(test_speedup_efficiency, 1,
		   "What type does uint64_t / uint64_t give?\n"
		   "S = T(1) / T(n), old time over new; E = S / n. Integer operands divide as "
		   "integers.\n"
		   "return (double)t1_ns / (double)tn_ns;");
	SUITE_TEST(test_formulas_invalid, 1,
		   "What happens to Karp-Flatt with one worker?\n"
		   "For n = 1 its denominator 1 - 1/n is 0; a fraction outside [0, 1] or NAN "
		   "makes no sense either: report EINVAL, don't divide.\n"
		   "if (!(s > 0.0) || isinf(s) || n < 2) { errno = EINVAL; return NAN; } -- and "
		   "!(p >= 0.0 && p <= 1.0) for a fraction, which NAN fails.");

	/* Core: the workload. */
	SUITE_TEST(test_workload_each_unit_once, 3,
		   "Where do the last count % workers units go?\n"
		   "Cut count = units - k parallel units into slices whose lengths differ by at "
		   "most one, so the remainder is shared out (as in lab 02).\n"
		   "Slice i begins at k + i * (count / workers) + min(i, count % workers) and "
		   "holds count / workers + (i < count % workers) units.");
	SUITE_TEST_EX(test_workload_parallel, 3, 4, 0,
		      "Does a worker start before the previous one is joined?\n"
		      "Workers run at the same time only if every pthread_create comes before "
		      "the first pthread_join: pthread_create(3), pthread_join(3).\n"
		      "Two loops: for (i...) pthread_create(&s[i].tid, NULL, run_slice, &s[i]); "
		      "then for (i...) pthread_join(s[i].tid, NULL);");
	SUITE_TEST(test_workload_serial_phase, 2,
		   "Who does units 0 .. k - 1, and when?\n"
		   "The serial fraction is the part no worker can share: the calling thread "
		   "does it alone, first; k = llround(serial_fraction * units), since a cast "
		   "truncates.\n"
		   "long k = llround(w->serial_fraction * w->units); for (long i = 0; i < k; "
		   "i++) do_unit(w, i); -- then start the workers on k .. units - 1.");
	SUITE_TEST(test_workload_joined, 2,
		   "Is every worker finished when run_workload returns?\n"
		   "A thread runs on until it is joined or ends by itself; pthread_join(3) waits "
		   "for it. Never detach a worker whose work the caller needs.\n"
		   "for (int i = 0; i < started; i++) pthread_join(s[i].tid, NULL); before "
		   "return.");
	SUITE_TEST(test_workload_create_fails, 1,
		   "What does pthread_create return when it fails?\n"
		   "It returns an error number (EAGAIN), never -1, and leaves errno alone; the "
		   "threads already started still need joining: pthread_create(3).\n"
		   "if ((err = pthread_create(...)) != 0) break; join the `started` threads, "
		   "free, errno = err; return -1;");
	SUITE_TEST(test_workload_sleep_mode, 1,
		   "How long does your AMDAHL_SLEEP unit really wait?\n"
		   "A unit sleeps unit_ns nanoseconds: a struct timespec holds whole seconds in "
		   "tv_sec and the rest, below 10^9, in tv_nsec: nanosleep(2).\n"
		   "struct timespec t = {ns / 1000000000, ns % 1000000000}; while (nanosleep(&t, "
		   "&t) < 0 && errno == EINTR);");
	SUITE_TEST(test_workload_invalid, 1,
		   "What if units is 0, or serial_fraction is NAN?\n"
		   "Check every argument before any work: the list is in amdahl.h. NAN fails "
		   "every comparison, so test !(f >= 0.0 && f <= 1.0).\n"
		   "if (!w || w->units < 1 || !(f >= 0 && f <= 1) || workers < 1 || workers > "
		   "AMDAHL_MAX_WORKERS ...) { errno = EINVAL; return -1; }");

	/* Core: measuring. */
	SUITE_TEST(test_measure_points, 2,
		   "Which clock, which unit, and which T(1)?\n"
		   "Wall time on the monotonic clock, in ns (clock_gettime(2), CLOCK_MONOTONIC; "
		   "clock() counts CPU time); S(n) = median T(1) / median T(n).\n"
		   "uint64_t t0 = clock_now_ns(); run_workload(w, n); out[n - 1].run_ns[r] = "
		   "clock_now_ns() - t0;");
	SUITE_TEST(test_measure_median, 2,
		   "What does one slow run do to a mean?\n"
		   "The median of the repeats ignores a run slowed by the machine; a mean does "
		   "not. Sort a copy, take the middle (two middles: (a + b) / 2).\n"
		   "memcpy(s, pt->run_ns, ...); qsort(s, runs, sizeof(*s), cmp); median = runs % "
		   "2 ? s[runs / 2] : (s[runs / 2 - 1] + s[runs / 2]) / 2;");

	/* Core: the estimate. */
	SUITE_TEST(test_estimate_outlier, 2,
		   "What does one disturbed T(n) do to a mean of e(n)?\n"
		   "Karp-Flatt gives e(n) for each n >= 2 (none for n = 1); their median "
		   "survives one bad point. T(1) is the point whose workers is 1, wherever it "
		   "is.\n"
		   "For each point with workers >= 2: e[m++] = karp_flatt(speedup(t1, "
		   "pts[k].median_ns), pts[k].workers); then return the median of e[0 .. m - "
		   "1].");
	SUITE_TEST_EX(test_estimate_measured, 3, 30, 0,
		      "Does your whole chain find a serial fraction the test knows?\n"
		      "Units that wait make the speedup real even past the cores; timed on the "
		      "monotonic clock, with medians, Karp-Flatt recovers the fraction within "
		      "0.07.\n"
		      "Compare your curve with Amdahl's in `make run LAB=20`; check run_ns[k] "
		      "holds the k-th run of n workers, and that e(n) skips n = 1.");
}
