/*
 * A student's progress, kept in the working copy beside the labs
 * (labs/.ipclab-progress), so that it survives the grader and stays with
 * the student's files: each lab's best and last score and when it last
 * ran, and how many levels of each test's hint the student has opened.
 * A small text file, rewritten whole through a temporary name.
 */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdio.h>
#include <time.h>

#include "catalogue.h"
#include "model.h"

#define PROGRESS_FILE ".ipclab-progress"

struct progress_lab {
	char *id;
	int best, max;   /* the best score so far, out of max (max 0: never graded) */
	int last;        /* the last score */
	time_t last_run; /* when it was last graded (0: never) */
};

struct progress_hint {
	char *lab, *test;
	int level; /* hint levels opened: 0 none, 1, 2, 3 */
};

struct progress {
	char *path; /* the state file */
	struct progress_lab *labs;
	int nlabs;
	struct progress_hint *hints;
	int nhints;
};

/* Read the progress of the submission at labs_dir (none yet is not an error). Can't fail. */
void progress_load(struct progress *p, const char *labs_dir);

/* Write it back. Returns 0, or -1 with errno set (a read-only folder: progress is not kept). */
int progress_save(const struct progress *p);

void progress_free(struct progress *p);

/* The lab's entry, or NULL when it was never graded. */
const struct progress_lab *progress_lab(const struct progress *p, const char *id);

/* Take in the scores of every lab of g that was graded whole (every test run). Can't fail. */
void progress_update(struct progress *p, const struct grade_result *g);

/* True when the lab was passed: its best score is full marks. */
int progress_passed(const struct progress *p, const char *id);

/* Hint levels opened for a test (0: none), and setting them. */
int progress_hint_level(const struct progress *p, const char *lab, const char *test);
void progress_set_hint_level(struct progress *p, const char *lab, const char *test, int level);

/* The first lab of the catalogue not passed yet, or NULL when all are. */
const struct lab *progress_next(const struct progress *p, const struct catalogue *c);

/* Print a table of the catalogue's labs with their scores and the next step. */
void progress_print(const struct progress *p, const struct catalogue *c, FILE *f);

#endif
