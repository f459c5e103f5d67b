/*
 * Watch mode and re-grading. A watch follows the submission's lab folders
 * with inotify and says which lab changed once its files have been quiet
 * for a moment (editors save in several steps). Re-grading resets a lab's
 * results and runs the engine on it again. The TUI uses both (its w, r and
 * a keys); in text mode, watch_text prints a fresh block for each change.
 */
#ifndef WATCH_H
#define WATCH_H

#include <stdio.h>

#include "engine.h"
#include "model.h"

/* How long a lab's files must be quiet before it is re-graded. */
#define WATCH_SETTLE_MS 150

struct watch;

/*
 * Watch the source folders of g's labs for changes to .c and .h files.
 * Returns the watch, or NULL with errno set when inotify cannot be used.
 * A lab whose folder does not exist is not watched.
 */
struct watch *watch_open(const struct grade_result *g);

/* Stop watching and free w (NULL is fine). */
void watch_close(struct watch *w);

/* The descriptor to poll for input: readable when a change is waiting. Can't fail. */
int watch_fd(const struct watch *w);

/* Take in the changes waiting on the descriptor. Returns how many lab files changed, or -1. */
int watch_read(struct watch *w);

/* Milliseconds until a noted change has settled: -1 when none is pending, 0 when one is due. */
int watch_timeout(const struct watch *w);

/* The index of a lab whose change has settled, which is then forgotten; -1 when none. */
int watch_next(struct watch *w);

/*
 * Reset the results of lab (every lab when lab < 0) and grade it again,
 * telling v about each change with lab indexes of the whole of g and the
 * model locked, as engine_grade does. Returns what engine_grade returns.
 */
int watch_regrade(const struct engine_opts *eo, struct grade_result *g, int lab,
		  const struct engine_view *v);

/*
 * Text mode's watch loop: wait for changes and, for each, grade the lab
 * again and print its block and the total to f. Runs until a signal ends
 * the process (Ctrl-C). Returns -1 with a message on stderr when inotify
 * cannot be used.
 */
int watch_text(const struct engine_opts *eo, struct grade_result *g, FILE *f, int color);

#endif
