/*
 * Unit tests of timing.c. The machine is shared and noisy, so no test asserts
 * how fast anything is: only what must hold however busy it is, such as
 * "sleeping 20 ms takes at least 20 ms" and "min <= median <= max".
 */
#include <errno.h>
#include <limits.h>
#include <time.h>

#include "ipclab.h"
#include "unit.h"

#define MS       1000000ull /* nanoseconds in a millisecond */
#define TICK_US  1000       /* the interrupting timer's period */
#define MAX_RUNS 8          /* durations a scripted function can play */

/* A function for measure_repeat that sleeps a scripted time on each call. */
struct script {
	long ms[MAX_RUNS]; /* how long call i sleeps */
	int calls;         /* how many calls so far */
};

/* ==== Helpers ==== */

static void play(void *arg)
{
	struct script *s = arg;

	clock_sleep_ms(s->ms[s->calls++ % MAX_RUNS]);
}

static void count_call(void *arg)
{
	(*(int *)arg)++;
}

/* ==== clock_now_ns ==== */

START_TEST(test_clock_now_ns_monotonic)
{
	uint64_t prev = clock_now_ns();

	ck_assert_msg(prev > 0, "clock_now_ns returned 0");
	for (int i = 0; i < 100000; i++) {
		uint64_t now = clock_now_ns();

		ck_assert_msg(now >= prev, "clock_now_ns went back from %llu to %llu",
			      (unsigned long long)prev, (unsigned long long)now);
		prev = now;
	}
}
END_TEST

START_TEST(test_clock_now_ns_is_monotonic_clock_in_ns)
{
	uint64_t before = clock_now_ns();
	uint64_t mono = unit_mono_ns();
	uint64_t after = clock_now_ns();

	ck_assert_msg(before <= mono && mono <= after,
		      "clock_now_ns must count nanoseconds of CLOCK_MONOTONIC: %llu <= %llu <= "
		      "%llu does not hold",
		      (unsigned long long)before, (unsigned long long)mono,
		      (unsigned long long)after);
}
END_TEST

/* ==== clock_sleep_ms ==== */

START_TEST(test_clock_sleep_ms_sleeps_at_least)
{
	static const long ms[] = {1, 20, 1100}; /* the last one crosses a whole second */

	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		uint64_t start = unit_mono_ns(), took;

		clock_sleep_ms(ms[i]);
		took = unit_mono_ns() - start;
		ck_assert_msg(took >= (uint64_t)ms[i] * MS, "clock_sleep_ms(%ld) took %.3f ms",
			      ms[i], took / 1e6);
	}
}
END_TEST

START_TEST(test_clock_sleep_ms_resumes_after_signals)
{
	uint64_t start, took;
	int ticks;

	unit_ticks_start(TICK_US);
	start = unit_mono_ns();
	clock_sleep_ms(50);
	took = unit_mono_ns() - start;
	ticks = unit_ticks_stop();
	ck_assert_msg(ticks > 0, "test: the timer never fired");
	ck_assert_msg(took >= 50 * MS,
		      "clock_sleep_ms(50) took %.3f ms with %d signals: it must sleep the rest "
		      "after each interruption",
		      took / 1e6, ticks);
}
END_TEST

START_TEST(test_clock_sleep_ms_zero_and_negative_return)
{
	uint64_t start = unit_mono_ns();

	clock_sleep_ms(0);
	clock_sleep_ms(-1);
	clock_sleep_ms(LONG_MIN);
	/* A loose bound: these must return at once, not sleep for a garbled duration. */
	ck_assert_msg(unit_mono_ns() - start < 1000 * MS,
		      "clock_sleep_ms of 0 or a negative time must not sleep");
}
END_TEST

/* ==== stopwatch ==== */

START_TEST(test_stopwatch_measures_sleep)
{
	struct stopwatch sw;
	uint64_t ns;
	double ms;

	stopwatch_start(&sw);
	clock_sleep_ms(20);
	ns = stopwatch_ns(&sw);
	ms = stopwatch_ms(&sw);
	ck_assert_msg(ns >= 20 * MS, "a 20 ms sleep measured %llu ns", (unsigned long long)ns);
	ck_assert_msg(ms >= 20.0, "a 20 ms sleep measured %.3f ms", ms);
}
END_TEST

START_TEST(test_stopwatch_ms_matches_ns)
{
	struct stopwatch sw;

	stopwatch_start(&sw);
	clock_sleep_ms(2);
	for (int i = 0; i < 1000; i++) {
		uint64_t a = stopwatch_ns(&sw);
		double ms = stopwatch_ms(&sw);
		uint64_t b = stopwatch_ns(&sw);

		ck_assert_msg(a / 1e6 <= ms && ms <= b / 1e6,
			      "stopwatch_ms (%.6f) must be stopwatch_ns / 1e6 (between %.6f and "
			      "%.6f)",
			      ms, a / 1e6, b / 1e6);
		ck_assert_msg(a <= b, "stopwatch_ns went back");
	}
}
END_TEST

START_TEST(test_stopwatch_restart)
{
	struct stopwatch sw;
	uint64_t first;

	stopwatch_start(&sw);
	first = sw.start_ns;
	clock_sleep_ms(30);
	stopwatch_start(&sw);
	ck_assert_msg(sw.start_ns >= first + 30 * MS,
		      "starting the stopwatch again must restart it from now");
	ck_assert_msg(stopwatch_ns(&sw) < clock_now_ns() - first,
		      "a restarted stopwatch must not count the time before the restart");
}
END_TEST

/* ==== measure_repeat ==== */

START_TEST(test_measure_repeat_calls_fn_runs_times)
{
	struct measure_stats st = {0};
	int calls = 0;

	ck_assert_int_eq(measure_repeat(count_call, &calls, 7, &st), 0);
	ck_assert_msg(calls == 7, "fn was called %d times for 7 runs", calls);
	ck_assert_int_eq(st.runs, 7);
	ck_assert_msg(st.min_ns <= st.median_ns && st.median_ns <= st.max_ns,
		      "min <= median <= max must hold: %llu, %llu, %llu",
		      (unsigned long long)st.min_ns, (unsigned long long)st.median_ns,
		      (unsigned long long)st.max_ns);
}
END_TEST

START_TEST(test_measure_repeat_odd_runs)
{
	/* Out of order on purpose: the stats must come from the sorted times. */
	struct script sc = {.ms = {30, 1, 10}};
	struct measure_stats st;

	ck_assert_int_eq(measure_repeat(play, &sc, 3, &st), 0);
	ck_assert_int_eq(sc.calls, 3);
	ck_assert_msg(st.min_ns <= st.median_ns && st.median_ns <= st.max_ns,
		      "min <= median <= max must hold");
	ck_assert_msg(st.min_ns >= 1 * MS, "the fastest run slept 1 ms; min is %.3f ms",
		      st.min_ns / 1e6);
	ck_assert_msg(st.median_ns >= 10 * MS,
		      "runs of 30, 1 and 10 ms: the median is the 10 "
		      "ms run, not %.3f ms",
		      st.median_ns / 1e6);
	ck_assert_msg(st.max_ns >= 30 * MS,
		      "runs of 30, 1 and 10 ms: the max is at least 30 "
		      "ms, not %.3f ms",
		      st.max_ns / 1e6);
}
END_TEST

START_TEST(test_measure_repeat_even_runs)
{
	struct script sc = {.ms = {40, 2, 40, 2}};
	struct measure_stats st;

	ck_assert_int_eq(measure_repeat(play, &sc, 4, &st), 0);
	ck_assert_int_eq(st.runs, 4);
	ck_assert_msg(st.min_ns <= st.median_ns && st.median_ns <= st.max_ns,
		      "min <= median <= max must hold");
	ck_assert_msg(st.median_ns >= 21 * MS,
		      "with an even count the median is the mean of the two middle runs "
		      "(at least (2 + 40) / 2 ms), not %.3f ms",
		      st.median_ns / 1e6);
}
END_TEST

START_TEST(test_measure_repeat_single_run)
{
	struct script sc = {.ms = {5}};
	struct measure_stats st;

	ck_assert_int_eq(measure_repeat(play, &sc, 1, &st), 0);
	ck_assert_int_eq(st.runs, 1);
	ck_assert_msg(st.min_ns == st.median_ns && st.median_ns == st.max_ns,
		      "with one run, min, median and max are that run");
	ck_assert_uint_ge(st.min_ns, 5 * MS);
}
END_TEST

START_TEST(test_measure_repeat_rejects_runs_below_1)
{
	static const int bad[] = {0, -1, INT_MIN};
	struct measure_stats st;
	int calls = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(
		    measure_repeat(count_call, &calls, bad[i], &st) == -1 && errno == EINVAL,
		    "runs = %d must fail with EINVAL (errno %s)", bad[i], err_name(errno));
	}
	ck_assert_msg(calls == 0, "fn must not be called when runs is invalid");
}
END_TEST

START_TEST(test_measure_repeat_enomem)
{
	struct measure_stats st;
	int calls = 0;

	unit_cap_memory(); /* INT_MAX timings need 16 GiB */
	errno = 0;
	ck_assert_msg(measure_repeat(count_call, &calls, INT_MAX, &st) == -1 && errno == ENOMEM,
		      "without memory for the timings measure_repeat must fail with ENOMEM "
		      "(errno %s)",
		      err_name(errno));
	ck_assert_int_eq(calls, 0);
}
END_TEST

/* ==== The suite ==== */

Suite *timing_suite(void)
{
	Suite *s = suite_create("timing");
	TCase *clock = tcase_create("clock");
	TCase *stopwatch = tcase_create("stopwatch");
	TCase *measure = tcase_create("measure");

	tcase_add_test(clock, test_clock_now_ns_monotonic);
	tcase_add_test(clock, test_clock_now_ns_is_monotonic_clock_in_ns);
	tcase_add_test(clock, test_clock_sleep_ms_sleeps_at_least);
	tcase_add_test(clock, test_clock_sleep_ms_resumes_after_signals);
	tcase_add_test(clock, test_clock_sleep_ms_zero_and_negative_return);
	tcase_add_test(stopwatch, test_stopwatch_measures_sleep);
	tcase_add_test(stopwatch, test_stopwatch_ms_matches_ns);
	tcase_add_test(stopwatch, test_stopwatch_restart);
	tcase_add_test(measure, test_measure_repeat_calls_fn_runs_times);
	tcase_add_test(measure, test_measure_repeat_odd_runs);
	tcase_add_test(measure, test_measure_repeat_even_runs);
	tcase_add_test(measure, test_measure_repeat_single_run);
	tcase_add_test(measure, test_measure_repeat_rejects_runs_below_1);
	tcase_add_test(measure, test_measure_repeat_enomem);
	tcase_set_timeout(clock, 10);
	tcase_set_timeout(measure, 10);
	suite_add_tcase(s, clock);
	suite_add_tcase(s, stopwatch);
	suite_add_tcase(s, measure);
	return s;
}
