/*
 * The grading engine: build each lab, ask its toolkit binary for the tests,
 * run every test in the sandbox and fill in the result model, telling a
 * view about each change as it happens. It knows nothing of how results are
 * shown: text, JSON and the TUI are views on the model.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include "build.h"
#include "model.h"

enum engine_event {
	EV_LAB_STATE, /* a lab changed state (building, running, done, ...) */
	EV_TEST_DONE, /* a test has its result */
	EV_TEST_START /* a test started */
};

/*
 * What the engine calls on each change, with the model locked so that the
 * view reads it whole. It runs on a worker thread: a view that does slow
 * work (drawing) should copy what it needs, or wake its own thread.
 */
struct engine_view {
	void (*changed)(void *ctx, const struct grade_result *g, enum engine_event ev, int lab,
			int test);
	void *ctx;
};

struct engine_opts {
	const struct toolkit *tk;
	const char *tag;             /* names the submission's build folder under build/grade/ */
	int jobs;                    /* labs graded at once */
	int first_slot;              /* sandbox slots (uids) first_slot .. first_slot + jobs - 1 */
	const char *only_test;       /* run only this test (NULL: all) */
	unsigned seed;               /* the run's seed (0: the result's, else a new one) */
	const char *const *readonly; /* folders the tests may not change (NULL-ended) */
};

/*
 * Grade every lab of g (its labs[] hold the lab and source_dir), filling in
 * the results. Returns 0, or -1 when the toolkit could not build the tests
 * of some lab (its error says why); never exits.
 */
int engine_grade(const struct engine_opts *o, struct grade_result *g, const struct engine_view *v);

/* Lock and unlock the model, for a view that reads it from another thread. */
void engine_lock(void);
void engine_unlock(void);

#endif
