/*
 * Lab 20, Amdahl: your implementation of amdahl.h.
 *
 * Three parts, in this order. The formulas: Amdahl, its ceiling, Gustafson,
 * Karp–Flatt, speedup and efficiency, each a line or two once its domain is
 * checked. The workload: a serial phase in the calling thread, then the
 * rest cut into slices, one thread a slice. The measurement: time the
 * workload on 1 .. N workers, several times each, keep the medians, and
 * read the serial fraction back with Karp–Flatt.
 *
 * Read amdahl.h for the exact contract, then follow the TODOs in order.
 * `make run LAB=20` runs the demo; `make grade LAB=20` grades this file.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amdahl.h"
#include "ipclab.h"

/*
 * A suggestion for run_workload: what one worker thread is given. Change it
 * as you like.
 */
struct slice {
	const struct amdahl_work *w; /* the workload, shared and read-only */
	long begin;                  /* first unit of the slice */
	long end;                    /* one past its last unit */
	pthread_t tid;               /* the thread that runs it */
};

/* ==== The formulas ==== */

/*
 * TODO(20): every formula first checks its domain: a fraction must satisfy
 * 0 <= p <= 1 (write it so that NAN fails the test: !(p >= 0.0 && p <= 1.0)),
 * n must be >= 1 (>= 2 for Karp–Flatt). Out of the domain: errno = EINVAL,
 * return NAN. Compute in double: with an int n, 1 / n is 0 for every n > 1.
 */

double amdahl_speedup(double p, int n)
{
	/*
	 * TODO(20): 1 / ((1 - p) + p / n). p is the PARALLEL fraction: the
	 * part divided by n. Swapping p and 1 - p gives the speedup of the
	 * other program.
	 */
	(void)p;
	(void)n;
	errno = ENOSYS;
	return NAN;
}

double amdahl_limit(double p)
{
	/* TODO(20): 1 / (1 - p); for p == 1, return INFINITY (<math.h>). */
	(void)p;
	errno = ENOSYS;
	return NAN;
}

double gustafson_speedup(double p, int n)
{
	/*
	 * TODO(20): (1 - p) + p * n. Not Amdahl's law: here the work grows
	 * with n, so there is no ceiling.
	 */
	(void)p;
	(void)n;
	errno = ENOSYS;
	return NAN;
}

double karp_flatt(double s, int n)
{
	/*
	 * TODO(20): (1/s - 1/n) / (1 - 1/n), with 1.0 / n. For n == 1 the
	 * denominator is 0: that is EINVAL, not a division. s must be > 0 and
	 * finite (isinf()). A negative result is allowed.
	 */
	(void)s;
	(void)n;
	errno = ENOSYS;
	return NAN;
}

double speedup(uint64_t t1_ns, uint64_t tn_ns)
{
	/*
	 * TODO(20): T(1) / T(n), old over new, divided as doubles: two
	 * uint64_t divide as integers, and 10 / 4 is 2. A time of 0 is EINVAL.
	 */
	(void)t1_ns;
	(void)tn_ns;
	errno = ENOSYS;
	return NAN;
}

double efficiency(double s, int n)
{
	/* TODO(20): s / n; s > 0 and finite, n >= 1. */
	(void)s;
	(void)n;
	errno = ENOSYS;
	return NAN;
}

/* ==== The workload ==== */

/*
 * TODO(20): above run_workload, write the helpers it needs, each short:
 *  - do_unit(w, i): w->unit(w->ctx, i) when w->unit is set; else sleep
 *    w->unit_ns (nanosleep(&left, &left) in a loop while it fails with
 *    EINTR) or spin: compute (a few thousand xorshift steps on a volatile
 *    variable) until clock_gettime(CLOCK_THREAD_CPUTIME_ID) has advanced by
 *    w->unit_ns. CPU time, not the wall clock: a thread that waits for a
 *    core must not count the wait as work done;
 *  - the thread body: do the units of its slice, begin .. end - 1, in order.
 */

int run_workload(const struct amdahl_work *w, int workers)
{
	/*
	 * TODO(20): check the arguments (the list is in amdahl.h) before doing
	 * anything: EINVAL, no unit run, no thread started.
	 */

	/*
	 * TODO(20): the serial phase. k = llround(w->serial_fraction * w->units)
	 * units: (long) would truncate 0.29 * 100 = 28.999999999999996 to 28.
	 * The calling thread does units 0 .. k - 1, in order, before any worker
	 * starts. Those units are the serial fraction: giving them to the
	 * workers too is measuring another program.
	 */

	/*
	 * TODO(20): cut units k .. units - 1 into `workers` slices that differ
	 * by at most one: with count = units - k, base = count / workers and
	 * extra = count % workers, slice i begins at k + i * base + min(i, extra)
	 * and holds base + (i < extra) units. Slices of base alone drop the last
	 * count % workers units.
	 */

	/*
	 * TODO(20): start every worker (pthread_create, one struct slice each),
	 * then join them all in a second loop: a join inside the create loop
	 * runs them one after another. pthread_create returns an error number;
	 * if one fails, join those already started, free, set errno to the
	 * number and return -1.
	 */
	(void)w;
	(void)workers;
	errno = ENOSYS;
	return -1;
}

/* ==== Measuring ==== */

int measure_speedup(const struct amdahl_work *w, int max_workers, int repeats,
		    struct amdahl_point out[])
{
	/* TODO(20): check the arguments: EINVAL before any run. */

	/*
	 * TODO(20): for r in 0 .. repeats - 1, for n in 1 .. max_workers: time
	 * run_workload(w, n) with clock_now_ns() (the monotonic clock: never
	 * clock(), which counts CPU time, and a sleeping worker uses none) and
	 * store it in out[n - 1].run_ns[r]. Stop at the first run that fails.
	 */

	/*
	 * TODO(20): then for every n: median_ns = the median of run_ns (sort a
	 * copy; for an even count, (a + b) / 2 of the two middle ones), never
	 * the mean, which one slow run drags up; speedup from out[0].median_ns
	 * and out[n - 1].median_ns; serial_estimate = karp_flatt(speedup, n),
	 * NAN for n = 1.
	 */
	(void)w;
	(void)max_workers;
	(void)repeats;
	(void)out;
	errno = ENOSYS;
	return -1;
}

double estimate_serial_fraction(const struct amdahl_point *pts, int count)
{
	/*
	 * TODO(20): find T(1), the median_ns of the point whose workers is 1.
	 * It is not necessarily pts[0]: the points come in any order.
	 */

	/*
	 * TODO(20): collect e(n) = karp_flatt(T(1) / T(n), n) for every point
	 * with n >= 2 (n = 1 would divide by zero), into an array you malloc.
	 * Return their median: a mean is moved as far as one disturbed point
	 * likes. Free the array.
	 */
	(void)pts;
	(void)count;
	errno = ENOSYS;
	return NAN;
}
