/*
 * Lab 20, Amdahl: what parallelism can buy, and how to measure it. First the
 * laws as formulas (Amdahl, Gustafson, Karp–Flatt); then a workload whose
 * serial fraction you choose, run by 1, 2, ... worker threads; then a
 * measurement of its speedup, and the serial fraction read back from it.
 *
 * This header is the contract. Do not edit it: the grader builds your
 * amdahl.c against its own copy.
 *
 * Notation: n workers; p the parallel fraction (the share of the one-worker
 * time that can be divided among workers); 1 - p the serial fraction;
 * T(n) the time on n workers; S(n) = T(1) / T(n) the speedup.
 *
 * The formulas return a double. On an invalid argument they return NAN and
 * set errno to EINVAL: test the result with isnan(), never with == -1.
 */
#ifndef AMDAHL_H
#define AMDAHL_H

#include <stdint.h>

#define AMDAHL_MAX_WORKERS 64 /* the most workers run_workload accepts */
#define AMDAHL_MAX_REPEATS 15 /* the most timed runs measure_speedup makes for one n */

/* ==== The formulas ==== */

/*
 * Amdahl's law: the speedup of a fixed task whose parallel fraction is p on
 * n workers, 1 / ((1 - p) + p / n). Needs 0 <= p <= 1 and n >= 1, else NAN
 * with errno EINVAL. amdahl_speedup(0.9, 4) is 40/13, about 3.08.
 */
double amdahl_speedup(double p, int n);

/*
 * The ceiling of Amdahl's law as n grows without bound: 1 / (1 - p). For
 * p == 1 (nothing serial) there is no ceiling: it returns INFINITY. Needs
 * 0 <= p <= 1, else NAN with errno EINVAL. amdahl_limit(0.9) is 10.
 */
double amdahl_limit(double p);

/*
 * Gustafson's law, the scaled speedup: the work grows with the workers, and
 * p is the parallel share of the time of the n-worker run. One worker would
 * need (1 - p) + p * n times as long. Needs 0 <= p <= 1 and n >= 1, else NAN
 * with errno EINVAL. gustafson_speedup(0.9, 16) is 14.5.
 */
double gustafson_speedup(double p, int n);

/*
 * The Karp–Flatt metric: the serial fraction e that explains a measured
 * speedup s on n workers, e = (1/s - 1/n) / (1 - 1/n). It is defined for
 * n >= 2 only (for n = 1 the denominator is 0) and s > 0 (finite); else NAN
 * with errno EINVAL. A speedup above n (superlinear) gives a negative e:
 * that is a result, not an error. karp_flatt(3.0, 4) is 1/9.
 */
double karp_flatt(double s, int n);

/*
 * The speedup T(1) / T(n) of a run that took tn_ns nanoseconds against one
 * that took t1_ns, as a double: speedup(10, 4) is 2.5. Both must be > 0,
 * else NAN with errno EINVAL.
 */
double speedup(uint64_t t1_ns, uint64_t tn_ns);

/*
 * The efficiency of a speedup s on n workers, s / n: 1 is perfect. Needs
 * s > 0 (finite) and n >= 1, else NAN with errno EINVAL.
 */
double efficiency(double s, int n);

/* ==== A workload with a serial fraction you choose ==== */

/* What one unit of work does (when struct amdahl_work's unit is NULL). */
enum amdahl_mode {
	AMDAHL_SLEEP, /* the unit waits unit_ns (nanosleep): it needs no core, like I/O */
	AMDAHL_SPIN,  /* the unit burns unit_ns of its thread's CPU time: it needs a core */
};

struct amdahl_work {
	double serial_fraction;              /* the share of the units that run serially, 0..1 */
	long units;                          /* how many units of work in all, >= 1 */
	enum amdahl_mode mode;               /* what a unit does when unit is NULL */
	long unit_ns;                        /* how long a unit lasts when unit is NULL, >= 0 */
	void (*unit)(void *ctx, long index); /* if not NULL, called for each unit instead */
	void *ctx;                           /* unit's first argument */
};

/*
 * Do the work described by *w once: a serial phase, then a parallel phase
 * on `workers` threads.
 *
 * The units are numbered 0 .. units - 1. The first k = llround(serial_fraction
 * * units) of them are the serial phase: the calling thread does units 0 ..
 * k - 1 itself, in order, before any worker starts. The other units, k ..
 * units - 1, are the parallel phase: they are cut into `workers` contiguous
 * slices whose lengths differ by at most one, so that every unit is in
 * exactly one slice (the remainder too); worker i does slice i, in order,
 * in a thread of its own. All the workers are started before any is joined,
 * so that they run at the same time. With fewer parallel units than
 * workers, some slices are empty. Every unit is done exactly once.
 *
 * To do unit i: when w->unit is not NULL, call w->unit(w->ctx, i); else, in
 * AMDAHL_SLEEP mode, sleep w->unit_ns nanoseconds (resuming after EINTR),
 * and in AMDAHL_SPIN mode compute until the thread has used w->unit_ns
 * nanoseconds of CPU time (clock_gettime(CLOCK_THREAD_CPUTIME_ID)).
 *
 * Returns 0 once every worker has been joined. Errors: -1 with errno EINVAL
 * (no unit done, no thread started) when w is NULL, units < 1,
 * serial_fraction is not within [0, 1] (NAN is not), workers < 1 or
 * workers > AMDAHL_MAX_WORKERS, or, when unit is NULL, unit_ns < 0 or mode
 * is not one of the two; ENOMEM; when pthread_create fails, -1 with errno
 * set to the number it returned (EAGAIN), after joining the workers already
 * started (some units are then not done).
 *
 * Cleanup: every thread started is joined before run_workload returns, on
 * failure too; all memory it allocated is freed.
 */
int run_workload(const struct amdahl_work *w, int workers);

/* ==== Measuring ==== */

/* What measure_speedup found for one number of workers. */
struct amdahl_point {
	int workers;                         /* n */
	int runs;                            /* how many runs were timed: the repeats */
	uint64_t run_ns[AMDAHL_MAX_REPEATS]; /* run_ns[r]: the time of run r of this n */
	uint64_t median_ns;                  /* the median of run_ns: T(n) */
	double speedup;                      /* S(n) = T(1) / T(n), from the medians */
	double serial_estimate;              /* karp_flatt(S(n), n); NAN for n = 1 */
};

/*
 * Measure the speedup of workload *w on 1 .. max_workers workers, in this
 * one run of the program, and fill out[0 .. max_workers - 1]: out[n - 1]
 * is for n workers.
 *
 * Each run is one call run_workload(w, n), timed from just before the call
 * to just after it on the monotonic clock (CLOCK_MONOTONIC, or the toolkit's
 * clock_now_ns()). For every n there are exactly `repeats` runs, and no
 * other call of run_workload: max_workers * repeats runs in all. Interleave
 * them (all the n of one round, then the next round) rather than doing all
 * the runs of one n together: a burst of load then lands on every n alike.
 *
 * out[n - 1] gets workers = n, runs = repeats, the time of its r-th run in
 * run_ns[r] (r from 0 to repeats - 1), median_ns = their median (for an
 * even count, the integer mean (a + b) / 2 of the two middle ones),
 * speedup = out[0].median_ns / out[n - 1].median_ns as a double, and
 * serial_estimate = karp_flatt(speedup, n), or NAN for n = 1. The median, not
 * the mean: one run slowed down by the machine must not move T(n).
 *
 * Returns 0. Errors: -1 with errno EINVAL when max_workers < 1 or
 * > AMDAHL_MAX_WORKERS, repeats < 1 or > AMDAHL_MAX_REPEATS, or *w is
 * invalid as for run_workload (nothing run); the errors of run_workload,
 * at the first run that fails (out is then unspecified).
 *
 * Cleanup: as run_workload: no thread left running.
 */
int measure_speedup(const struct amdahl_work *w, int max_workers, int repeats,
		    struct amdahl_point out[]);

/*
 * Estimate the serial fraction of the program measured in pts[0 .. count - 1]
 * by the Karp–Flatt metric. Only each point's workers and median_ns are
 * read, and the points may come in any order.
 *
 * T(1) is the median_ns of the point with workers == 1 (the first, if
 * several). For every point with workers n >= 2, e(n) =
 * karp_flatt(T(1) / T(n), n); the estimate is the median of those e(n) (for
 * an even count, the mean of the two middle ones). The median, because one
 * disturbed point (a burst of load during the T(3) runs) moves a mean, or a
 * least-squares fit, as far as it likes, and the median hardly at all.
 *
 * Returns the estimate (it may be negative, for a superlinear speedup).
 * Errors: NAN with errno EINVAL when pts is NULL, count < 1, no point has
 * workers == 1, none has workers >= 2, or a median_ns is 0; NAN with errno
 * ENOMEM.
 */
double estimate_serial_fraction(const struct amdahl_point *pts, int count);

#endif
