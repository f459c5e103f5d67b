/*
 * Benchmark of lab 20: the reference workload, CPU-bound, serial fraction
 * 0.1 (p = 0.9), timed on 1 .. nproc workers with the lab's own
 * measure_speedup (medians of 5 interleaved runs each), against Amdahl's
 * prediction. Then the same workload with units that wait instead of
 * compute, on up to twice as many workers as cores: waits overlap past the
 * cores, computations do not.
 *
 * Every figure is a ratio measured in this one run; nothing here passes or
 * fails. Exit status 0 unless a measurement could not be made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "amdahl.h"
#include "ipclab.h"

#define SERIAL   0.1     /* the workload's serial fraction */
#define UNITS    100     /* units of work in all */
#define SPIN_NS  3000000 /* CPU time of one computing unit: T(1) is about 0.3 s */
#define SLEEP_NS 1000000 /* one waiting unit */
#define REPEATS  5       /* timed runs for each n, computing */

/* Print the table of one measurement against Amdahl; returns the last point. */
static const struct amdahl_point *report(const struct amdahl_point *pts, int count)
{
	printf("%3s %10s %9s %9s %8s %7s\n", "n", "T(n) ms", "measured", "Amdahl", "ratio", "e(n)");
	for (int k = 0; k < count; k++) {
		double predicted = amdahl_speedup(1.0 - SERIAL, k + 1);

		printf("%3d %10.1f %9.2f %9.2f %8.2f", k + 1, (double)pts[k].median_ns / 1e6,
		       pts[k].speedup, predicted, pts[k].speedup / predicted);
		if (k > 0)
			printf(" %7.3f", pts[k].serial_estimate);
		printf("\n");
	}
	printf("estimated serial fraction (median of e(n)): %.3f, true %.3f\n",
	       estimate_serial_fraction(pts, count), SERIAL);
	return &pts[count - 1];
}

/* Measure the workload in mode on 1 .. max_workers workers and report it. */
static const struct amdahl_point *bench(enum amdahl_mode mode, long unit_ns, int max_workers,
					int repeats, struct amdahl_point *pts)
{
	struct amdahl_work w = {
	    .serial_fraction = SERIAL, .units = UNITS, .mode = mode, .unit_ns = unit_ns};
	struct stopwatch sw;

	stopwatch_start(&sw);
	if (measure_speedup(&w, max_workers, repeats, pts) < 0)
		err_die("measure_speedup:");
	printf("(measured in %.1f s)\n", stopwatch_ms(&sw) / 1000);
	return report(pts, max_workers);
}

int main(void)
{
	static struct amdahl_point pts[AMDAHL_MAX_WORKERS];
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	int cores = online < 1 ? 1 : online > AMDAHL_MAX_WORKERS ? AMDAHL_MAX_WORKERS : (int)online;
	int waiters = 2 * cores > AMDAHL_MAX_WORKERS ? AMDAHL_MAX_WORKERS : 2 * cores;
	const struct amdahl_point *last;
	double predicted, load;

	if (getloadavg(&load, 1) < 1)
		load = -1;
	printf(
	    "lab 20: %d units, serial fraction %.2f, %d cores online, load average %.1f\n"
	    "(computing units share the cores with that load; waiting units hardly notice it)\n\n",
	    UNITS, SERIAL, cores, load);
	printf("== units that compute (%d ms of CPU each), 1 .. %d workers\n", SPIN_NS / 1000000,
	       cores);
	last = bench(AMDAHL_SPIN, SPIN_NS, cores, REPEATS, pts);
	predicted = amdahl_speedup(1.0 - SERIAL, last->workers);
	printf("on %d workers: measured speedup %.2f, Amdahl predicts %.2f: ratio %.2f\n\n",
	       last->workers, last->speedup, predicted, last->speedup / predicted);

	printf("== units that wait (%d ms each), 1 .. %d workers\n", SLEEP_NS / 1000000, waiters);
	last = bench(AMDAHL_SLEEP, SLEEP_NS, waiters, 3, pts);
	predicted = amdahl_speedup(1.0 - SERIAL, last->workers);
	printf("on %d workers (%d cores): measured speedup %.2f, Amdahl predicts %.2f: ratio "
	       "%.2f\n",
	       last->workers, cores, last->speedup, predicted, last->speedup / predicted);
	return 0;
}
