/*
 * Time for measurements: a monotonic nanosecond clock, a stopwatch, and
 * repeated runs summarised as min, median and max. On a shared machine one
 * timing is noise; the median of several is a measurement.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "ipclab.h"

uint64_t clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void clock_sleep_ms(long ms)
{
	struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}

void stopwatch_start(struct stopwatch *sw)
{
	sw->start_ns = clock_now_ns();
}

uint64_t stopwatch_ns(const struct stopwatch *sw)
{
	return clock_now_ns() - sw->start_ns;
}

double stopwatch_ms(const struct stopwatch *sw)
{
	return (double)stopwatch_ns(sw) / 1e6;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

int measure_repeat(void (*fn)(void *arg), void *arg, int runs, struct measure_stats *out)
{
	uint64_t *t;

	if (runs < 1) {
		errno = EINVAL;
		return -1;
	}
	t = malloc((size_t)runs * sizeof(*t));
	if (!t)
		return -1;
	for (int i = 0; i < runs; i++) {
		struct stopwatch sw;

		stopwatch_start(&sw);
		fn(arg);
		t[i] = stopwatch_ns(&sw);
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp_u64);
	out->min_ns = t[0];
	out->median_ns = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
	out->max_ns = t[runs - 1];
	out->runs = runs;
	free(t);
	return 0;
}
