/*
 * Reports: views that write a finished (or growing) result model to a
 * stream. Each format is one function; none changes the model.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stdio.h>

#include "model.h"

enum report_format { FMT_TUI, FMT_TEXT, FMT_TAP, FMT_JSON, FMT_JUNIT, FMT_GRADESCOPE };

/* The format called name ("text", "json", ...), or -1. */
int report_format_from(const char *name);

/* Text: one lab's block (tests, messages, hints, output), for a person. */
void report_text_lab(FILE *f, const struct grade_result *g, int lab, int color);

/* Text: the header line of a run. */
void report_text_header(FILE *f, const struct grade_result *g, int color);

/* Text: the closing summary. */
void report_text_summary(FILE *f, const struct grade_result *g, int color);

/* The whole report in format fmt (not FMT_TUI). Returns 0, or -1 on a write error. */
int report_write(FILE *f, const struct grade_result *g, enum report_format fmt);

#endif
