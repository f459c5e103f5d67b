/*
 * The TUI: ipcgrade's face on a terminal (ncurses). A lab list, the tests of
 * the selected lab and a detail pane, filled in as each test finishes. The
 * engine grades on a thread of its own; this view never blocks on it.
 */
#ifndef TUI_H
#define TUI_H

#include "engine.h"
#include "model.h"
#include "progress.h"

/*
 * Grade g's labs with the options eo and show the results until the user
 * quits; with watch, labs are graded again when their files change (the w
 * key turns that on and off). Returns the exit status of the run (0 every
 * test passed, 1 some failed, 2 some lab could not be graded), or -1 with
 * nothing graded when the terminal cannot be used (the caller falls back to
 * text). The student's progress p is shown, kept up to date and saved as
 * labs finish. When the user quits while tests are running, it ends the process
 * at once with that status (_exit): the engine is still using g, and the
 * tests it runs die with the process (see sandbox.h).
 *
 * SIGINT, SIGTERM and SIGHUP restore the terminal, then end the process
 * with that signal; a crash restores the terminal before the core dump.
 */
int tui_run(const struct engine_opts *eo, struct grade_result *g, int watch, struct progress *p);

#endif
