/*
 * Lab 20, Amdahl: the reference solution. The formulas check their domain
 * and compute in double throughout (1.0 / n, never 1 / n). run_workload does
 * its serial units in the calling thread, then cuts the rest into slices
 * that differ by at most one unit and gives each slice a thread, all started
 * before any is joined. measure_speedup interleaves its runs and keeps
 * medians; estimate_serial_fraction takes the median of Karp–Flatt over n.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "amdahl.h"
#include "ipclab.h"

/* What one worker of run_workload does: units [begin, end) of *w. */
struct slice {
	const struct amdahl_work *w; /* the workload, shared and read-only */
	long begin;                  /* first unit of the slice */
	long end;                    /* one past its last unit */
	pthread_t tid;               /* the thread that runs it */
};

/* ==== The formulas ==== */

/* Set errno to EINVAL and return NAN: the formulas' one error. */
static double domain_error(void)
{
	errno = EINVAL;
	return NAN;
}

/* Whether p is a fraction: 0 <= p <= 1 (NAN compares false, so it is not). */
static int is_fraction(double p)
{
	return p >= 0.0 && p <= 1.0;
}

double amdahl_speedup(double p, int n)
{
	if (!is_fraction(p) || n < 1)
		return domain_error();
	return 1.0 / ((1.0 - p) + p / n);
}

double amdahl_limit(double p)
{
	if (!is_fraction(p))
		return domain_error();
	return p == 1.0 ? INFINITY : 1.0 / (1.0 - p);
}

double gustafson_speedup(double p, int n)
{
	if (!is_fraction(p) || n < 1)
		return domain_error();
	return (1.0 - p) + p * n;
}

double karp_flatt(double s, int n)
{
	if (!(s > 0.0) || isinf(s) || n < 2)
		return domain_error(); /* n = 1 would divide by 1 - 1/1 = 0 */
	return (1.0 / s - 1.0 / n) / (1.0 - 1.0 / n);
}

double speedup(uint64_t t1_ns, uint64_t tn_ns)
{
	if (t1_ns == 0 || tn_ns == 0)
		return domain_error();
	return (double)t1_ns / (double)tn_ns;
}

double efficiency(double s, int n)
{
	if (!(s > 0.0) || isinf(s) || n < 1)
		return domain_error();
	return s / n;
}

/* ==== The workload ==== */

/* Sleep ns nanoseconds, carrying on with what is left after a signal. */
static void sleep_ns(long ns)
{
	struct timespec left = {.tv_sec = ns / 1000000000L, .tv_nsec = ns % 1000000000L};

	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

/* This thread's CPU time in nanoseconds. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Compute until this thread has used ns nanoseconds of CPU time. */
static void spin_ns(long ns)
{
	uint64_t end = thread_cpu_ns() + (uint64_t)ns;
	volatile uint64_t x = 88172645463325252ull; /* volatile: the work is not optimised away */

	while (thread_cpu_ns() < end)
		for (int i = 0; i < 1000; i++)
			x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
}

/* Do unit i of *w. */
static void do_unit(const struct amdahl_work *w, long i)
{
	if (w->unit)
		w->unit(w->ctx, i);
	else if (w->mode == AMDAHL_SLEEP)
		sleep_ns(w->unit_ns);
	else
		spin_ns(w->unit_ns);
}

/* A worker's body: its slice, in order. */
static void *run_slice(void *arg)
{
	const struct slice *s = arg;

	for (long i = s->begin; i < s->end; i++)
		do_unit(s->w, i);
	return NULL;
}

/* Whether *w describes a workload run_workload can run. */
static int work_is_valid(const struct amdahl_work *w)
{
	if (!w || w->units < 1 || !is_fraction(w->serial_fraction))
		return 0;
	if (w->unit)
		return 1;
	return w->unit_ns >= 0 && (w->mode == AMDAHL_SLEEP || w->mode == AMDAHL_SPIN);
}

/*
 * Cut units [first, units) into nslices slices that differ by at most one:
 * the first (count % nslices) slices get one unit more.
 */
static void cut_slices(struct slice *s, int nslices, const struct amdahl_work *w, long first)
{
	long count = w->units - first, base = count / nslices, extra = count % nslices;

	for (int k = 0; k < nslices; k++) {
		s[k].w = w;
		s[k].begin = first + k * base + (k < extra ? k : extra);
		s[k].end = s[k].begin + base + (k < extra);
	}
}

int run_workload(const struct amdahl_work *w, int workers)
{
	struct slice *slices;
	long serial;
	int started = 0, err = 0;

	if (!work_is_valid(w) || workers < 1 || workers > AMDAHL_MAX_WORKERS) {
		errno = EINVAL;
		return -1;
	}
	slices = calloc((size_t)workers, sizeof(*slices));
	if (!slices)
		return -1;
	/* The serial phase: this thread alone, before any worker exists. */
	serial = llround(w->serial_fraction * (double)w->units);
	for (long i = 0; i < serial; i++)
		do_unit(w, i);
	/* The parallel phase: start every worker, then join them all. */
	cut_slices(slices, workers, w, serial);
	for (; started < workers; started++) {
		err = pthread_create(&slices[started].tid, NULL, run_slice, &slices[started]);
		if (err != 0)
			break; /* an error number, not -1; errno is untouched */
	}
	for (int k = 0; k < started; k++)
		pthread_join(slices[k].tid, NULL);
	free(slices);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ==== Measuring ==== */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0 .. n - 1], 1 <= n <= AMDAHL_MAX_REPEATS; v is left as it was. */
static uint64_t median_u64(const uint64_t *v, int n)
{
	uint64_t sorted[AMDAHL_MAX_REPEATS];

	memcpy(sorted, v, (size_t)n * sizeof(*v));
	qsort(sorted, (size_t)n, sizeof(*sorted), cmp_u64);
	return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/* The median of v[0 .. n - 1], n >= 1; sorts v. */
static double median_double(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Fill in the medians, speedups and Karp–Flatt estimates of out[0 .. count - 1]. */
static void summarise(struct amdahl_point *out, int count)
{
	for (int k = 0; k < count; k++)
		out[k].median_ns = median_u64(out[k].run_ns, out[k].runs);
	for (int k = 0; k < count; k++) {
		out[k].speedup = speedup(out[0].median_ns, out[k].median_ns);
		out[k].serial_estimate = k == 0 ? NAN : karp_flatt(out[k].speedup, k + 1);
	}
}

int measure_speedup(const struct amdahl_work *w, int max_workers, int repeats,
		    struct amdahl_point out[])
{
	if (!work_is_valid(w) || max_workers < 1 || max_workers > AMDAHL_MAX_WORKERS ||
	    repeats < 1 || repeats > AMDAHL_MAX_REPEATS || !out) {
		errno = EINVAL;
		return -1;
	}
	for (int n = 1; n <= max_workers; n++)
		out[n - 1] = (struct amdahl_point){.workers = n, .runs = repeats};
	/* Round r runs every n once: a burst of load hits all of them alike. */
	for (int r = 0; r < repeats; r++) {
		for (int n = 1; n <= max_workers; n++) {
			uint64_t start = clock_now_ns();

			if (run_workload(w, n) < 0)
				return -1;
			out[n - 1].run_ns[r] = clock_now_ns() - start;
		}
	}
	summarise(out, max_workers);
	return 0;
}

/* The median_ns of the first point with workers == 1, or 0 if there is none. */
static uint64_t one_worker_time(const struct amdahl_point *pts, int count)
{
	for (int k = 0; k < count; k++)
		if (pts[k].workers == 1)
			return pts[k].median_ns;
	return 0;
}

double estimate_serial_fraction(const struct amdahl_point *pts, int count)
{
	uint64_t t1;
	double *e, estimate;
	int m = 0;

	if (!pts || count < 1 || (t1 = one_worker_time(pts, count)) == 0)
		return domain_error();
	e = malloc((size_t)count * sizeof(*e));
	if (!e)
		return NAN;
	for (int k = 0; k < count; k++) {
		if (pts[k].workers < 2)
			continue; /* Karp–Flatt says nothing about one worker */
		if (pts[k].median_ns == 0) {
			m = 0; /* a time of 0 makes no speedup: reject the set */
			break;
		}
		e[m++] = karp_flatt(speedup(t1, pts[k].median_ns), pts[k].workers);
	}
	if (m == 0) {
		free(e);
		return domain_error();
	}
	estimate = median_double(e, m);
	free(e);
	return estimate;
}
