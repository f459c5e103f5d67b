/* The grader's result model (see model.h): names, scores and freeing. */
#include <stdlib.h>

#include "model.h"

const char *test_status_name(enum test_status s)
{
	static const char *const names[] = {"pending", "running", "pass",  "fail",
					    "error",   "timeout", "crash", "skipped"};

	return s <= TEST_SKIPPED ? names[s] : "?";
}

const char *lab_state_name(enum lab_state s)
{
	static const char *const names[] = {"pending", "building",    "running",
					    "done",    "build error", "error"};

	return s <= LAB_ERROR ? names[s] : "?";
}

int test_failed(const struct test_result *t)
{
	return t->status > TEST_PASS;
}

void grade_result_tally(struct grade_result *g)
{
	g->score = g->max_score = 0;
	for (int i = 0; i < g->nlabs; i++) {
		struct lab_result *l = &g->labs[i];

		l->score = l->max_score = 0;
		for (int j = 0; j < l->ntests; j++) {
			l->score += l->tests[j].points;
			l->max_score += l->tests[j].max_points;
		}
		g->score += l->score;
		g->max_score += l->max_score;
	}
}

static void test_free(struct test_result *t)
{
	free(t->name);
	free(t->message);
	free(t->hint);
	free(t->output);
	free(t->xray);
}

void grade_result_free(struct grade_result *g)
{
	for (int i = 0; i < g->nlabs; i++) {
		struct lab_result *l = &g->labs[i];

		for (int j = 0; j < l->ntests; j++)
			test_free(&l->tests[j]);
		free(l->tests);
		free(l->build_log);
		free(l->error);
		free(l->source_dir);
	}
	free(g->labs);
	free(g->submission);
	free(g->sandbox);
}
