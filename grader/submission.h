/*
 * A submission: the folder of a student's labs, and what grading one needs
 * from it. Shared by the one-submission path (main.c) and --class (class.c).
 */
#ifndef SUBMISSION_H
#define SUBMISSION_H

#include <stdio.h>

#include "build.h"
#include "catalogue.h"
#include "model.h"
#include "report.h"

/* True when path is a folder. */
int is_dir(const char *path);

/* The labs folder of a submission (to free): DIR/labs when DIR is a checkout, else DIR; NULL if none. */
char *labs_folder(const char *dir);

/* A build-folder name for a submission (to free): its base name and a hash of its path. */
char *submission_tag(const char *path);

/* Fill g with labs[0..n) of the submission at labs_dir, none graded yet. Can't fail. */
void submission_init(struct grade_result *g, const struct lab *const *labs, int n,
		     const char *labs_dir);

/*
 * The folders a test may not change (in namespace mode): the toolkit, the
 * submission or the class, and, for an ordinary user, the home folder.
 * The array is static: one grader grades one thing.
 */
const char *const *protected_folders(const struct toolkit *tk, const char *submissions);

/* Write the report to path through a temporary file, so it is never half-written. Returns 0, or -1. */
int write_report_file(const char *path, const struct grade_result *g, enum report_format fmt);

/*
 * Put the pristine skeleton of lab back in the submission at labs_dir, each
 * file the student changed first saved beside it as NAME.c.backup-DATE
 * (which the build ignores). The pristine copy is the one `make` kept in
 * build/pristine/, else the toolkit's last commit. Says what it did on out.
 * Returns 0, or -1 after saying why on stderr.
 */
int submission_reset(const struct toolkit *tk, const struct lab *lab, const char *labs_dir,
		     FILE *out);

#endif
