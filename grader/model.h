/*
 * The grader's result model: what a grading run found, lab by lab and test
 * by test. The engine fills it in; every view (text, JSON, the TUI, TAP,
 * JUnit, Gradescope) only reads it. Nothing here knows how it is shown.
 */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>

enum test_status {
	TEST_PENDING, /* not run yet */
	TEST_RUNNING, /* running now */
	TEST_PASS,    /* reported passing, with nothing left behind */
	TEST_FAIL,    /* an assertion or a leak check failed */
	TEST_ERROR,   /* the test could not complete (early exit, sandbox trouble) */
	TEST_TIMEOUT, /* it ran past its time and was killed */
	TEST_CRASH,   /* a signal ended it (segfault, abort, out of memory) */
	TEST_SKIPPED, /* not run: the lab did not build, or a dependency is missing */
};

enum lab_state {
	LAB_PENDING,     /* not started */
	LAB_BUILDING,    /* compiling */
	LAB_RUNNING,     /* tests running */
	LAB_DONE,        /* every test has a result */
	LAB_BUILD_ERROR, /* the student's code did not compile or link */
	LAB_ERROR,       /* the lab could not be graded at all (missing folder, broken suite) */
};

/* A lab of the catalogue. */
struct lab {
	char *id;      /* "04-pipes" */
	int number;    /* 4 */
	char *title;   /* "Pipes: framed messages and EOF" */
	char *options; /* catalogue options, comma-separated ("threads") */
};

struct test_result {
	char *name; /* the test function's name */
	enum test_status status;
	int points;          /* points earned */
	int max_points;      /* points it is worth */
	double timeout_s;    /* its time limit */
	char *message;       /* why it failed ("" when it passed) */
	char *hint;          /* what to look at */
	char *output;        /* what it printed (capped) */
	size_t output_total; /* bytes it printed in all (more than kept: cut) */
	char *xray;          /* its processes when it failed (timeout, leak), or NULL */
	long duration_ms;
	int runs;      /* how many times it runs, each with its own seed (SUITE_SEEDED: 3) */
	unsigned seed; /* the seed of its last run: the failing one, when it failed */
};

struct lab_result {
	const struct lab *lab;
	enum lab_state state;
	int build_ok;     /* the student's code compiled and linked */
	char *build_log;  /* the compiler's messages */
	char *error;      /* why the lab could not be graded (LAB_ERROR) */
	char *source_dir; /* the submission folder the lab was read from */
	struct test_result *tests;
	int ntests;
	int score, max_score;
};

struct grade_result {
	char *submission; /* the submission folder */
	char *sandbox;    /* how tests were isolated */
	unsigned seed;    /* the run's seed (tests' seeds are seed, seed + 1, ...) */
	struct lab_result *labs;
	int nlabs;
	int score, max_score;
};

const char *test_status_name(enum test_status s);
const char *lab_state_name(enum lab_state s);

/* True when the test is finished and did not pass. */
int test_failed(const struct test_result *t);

/* Recompute the lab's and the run's scores from the test results. */
void grade_result_tally(struct grade_result *g);

/* Free everything the result owns (not the catalogue's labs). */
void grade_result_free(struct grade_result *g);

#endif
