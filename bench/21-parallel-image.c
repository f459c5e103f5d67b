/*
 * Benchmark of lab 21: the reference's 3x3 blur and Sobel filters on a
 * 2048 x 2048 picture drawn here, sequential against worker processes
 * (sharing their output through an anonymous shared mapping) and worker
 * threads, on 1, 2 and N workers (N: the cores online, at least 4). Then
 * the same drivers with a filter that does nothing: what starting the
 * workers, and for processes mapping and copying the output, costs alone.
 *
 * Every figure is a ratio measured in this one run; nothing here passes or
 * fails on speed. Exit status 0 unless a parallel version gave other bytes
 * than the sequential one, or a call failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "ipclab.h"

#define SIDE 2048 /* the picture is SIDE x SIDE */
#define RUNS 7    /* timed runs of each version: min and median */

enum driver { SEQUENTIAL, PROCESSES, THREADS };

static const char *driver_name[] = {"sequential", "processes", "threads"};

struct job {
	const struct image *in; /* the picture */
	struct image *out;      /* where the output goes */
	filter_fn *fn;          /* the filter */
	enum driver d;          /* how it runs */
	int workers;            /* processes or threads */
};

/* ==== The picture ==== */

/* A pseudo-random number from n (the same on every machine). */
static unsigned hash(unsigned n)
{
	n ^= n >> 16;
	n *= 0x45d9f3bu;
	n ^= n >> 16;
	return n;
}

/* A gradient with discs on it and a little noise: every pixel differs from its neighbours. */
static void draw(struct image *img)
{
	for (int r = 0; r < img->height; r++)
		for (int c = 0; c < img->width; c++) {
			int v = 20 + (r + c) * 180 / (img->width + img->height);
			int dx = c % 512 - 256, dy = r % 512 - 256;

			if (dx * dx + dy * dy < 160 * 160)
				v = 255 - v;
			v += (int)(hash((unsigned)(r * img->width + c)) % 16);
			img->pixels[(size_t)r * img->width + c] =
			    (unsigned char)(v > 255 ? 255 : v);
		}
}

/* ==== Timing ==== */

static void nothing(const struct image *in, struct image *out, int first, int count)
{
	(void)in;
	(void)out;
	(void)first;
	(void)count;
}

static void run_job(void *arg)
{
	struct job *j = arg;
	int r;

	if (j->d == SEQUENTIAL)
		r = filter_sequential(j->in, j->out, j->fn);
	else if (j->d == PROCESSES)
		r = filter_processes(j->in, j->out, j->fn, j->workers);
	else
		r = filter_threads(j->in, j->out, j->fn, j->workers);
	if (r < 0)
		err_die("filter_%s(%d workers):", driver_name[j->d], j->workers);
}

/* Time job; print a line of the table, with the speedup over base_ns (0: none). */
static uint64_t bench(struct job *j, const char *filter, uint64_t base_ns)
{
	struct measure_stats st;
	char workers[16] = "-";

	run_job(j); /* a run untimed first: page faults, caches, the CPU's clock */
	if (measure_repeat(run_job, j, RUNS, &st) < 0)
		err_die("measure_repeat:");
	if (j->d != SEQUENTIAL)
		snprintf(workers, sizeof(workers), "%d", j->workers);
	printf("%-7s %-10s %7s %9.2f %10.2f", filter, driver_name[j->d], workers, st.min_ns / 1e6,
	       st.median_ns / 1e6);
	if (base_ns)
		printf(" %8.2fx", (double)base_ns / (double)st.median_ns);
	printf("\n");
	return st.median_ns;
}

/* Fail (exit 1) if out differs from want: a broken reference is the one thing not to ignore. */
static void check_same(const struct image *out, const unsigned char *want, const struct job *j)
{
	if (memcmp(out->pixels, want, (size_t)SIDE * SIDE) != 0)
		err_die("filter_%s(%d workers) gave other bytes than the sequential filter",
			driver_name[j->d], j->workers);
}

/* Time one filter: sequential, then each driver on each worker count. */
static void bench_filter(const char *name, filter_fn *fn, const struct image *in, struct image *out,
			 const int *counts, int ncounts)
{
	unsigned char *want = xmalloc((size_t)SIDE * SIDE);
	struct job j = {in, out, fn, SEQUENTIAL, 1};
	uint64_t seq = bench(&j, name, 0);

	memcpy(want, out->pixels, (size_t)SIDE * SIDE);
	for (int d = PROCESSES; d <= THREADS; d++)
		for (int i = 0; i < ncounts; i++) {
			j.d = d;
			j.workers = counts[i];
			memset(out->pixels, 0, (size_t)SIDE * SIDE);
			bench(&j, name, seq);
			check_same(out, want, &j);
		}
	free(want);
}

int main(void)
{
	struct image in = {SIDE, SIDE, xmalloc((size_t)SIDE * SIDE)};
	struct image out = {SIDE, SIDE, xmalloc((size_t)SIDE * SIDE)};
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	int n = online < 4 ? 4 : online > 16 ? 16 : (int)online;
	int counts[] = {1, 2, n};
	struct stopwatch sw;

	stopwatch_start(&sw);
	draw(&in);
	printf("lab 21: 3x3 filters on a %d x %d picture, %ld cores online, %d runs each\n", SIDE,
	       SIDE, online, RUNS);
	printf("speedup = median time of the sequential filter / median time of the version\n\n");
	printf("%-7s %-10s %7s %9s %10s %9s\n", "filter", "version", "workers", "min ms",
	       "median ms", "speedup");
	bench_filter("blur", filter_blur, &in, &out, counts, 3);
	bench_filter("sobel", filter_sobel, &in, &out, counts, 3);

	/* The fixed costs: the same drivers with a filter that does no work. */
	printf("\n%-7s %-10s %7s %9s %10s\n", "filter", "version", "workers", "min ms",
	       "median ms");
	for (int d = PROCESSES; d <= THREADS; d++) {
		struct job j = {&in, &out, nothing, d, n};

		bench(&j, "nothing", 0);
	}
	printf("\n(the nothing lines are the price of starting %d workers: fork, mmap and the "
	       "copy back for processes, pthread_create for threads)\n",
	       n);
	printf("measured in %.1f s\n", stopwatch_ms(&sw) / 1000);
	free(in.pixels);
	free(out.pixels);
	return 0;
}
