/*
 * Grading a class: every sub-folder of a folder is one student's
 * submission. Out come a CSV gradebook, each student's reports, and a
 * summary of what the class did not understand. Students are graded side
 * by side, each in sandboxes of its own; a run that is interrupted resumes
 * where it stopped.
 */
#ifndef CLASS_H
#define CLASS_H

#include "build.h"
#include "model.h"

struct class_opts {
	const char *dir;         /* the class folder: one sub-folder a student */
	const char *book;        /* the gradebook CSV; reports/ and the summaries go beside it */
	int jobs;                /* students graded at once */
	const char *only_test;   /* run only this test (NULL: all) */
	const struct lab **labs; /* the labs to grade */
	int nlabs;
};

/*
 * Grade every student of o->dir and write the gradebook, the reports and
 * the summary. Returns the exit status: 0 every student passed everything,
 * 1 some test failed, 2 the grader could not run (a bad folder, a broken
 * toolkit); never stops at one student's failure.
 */
int class_grade(const struct toolkit *tk, const struct class_opts *o);

#endif
