/*
 * The unit tests of libipclab: one Check suite per module of common/, and the
 * few helpers that more than one suite needs. main.c runs every suite.
 */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ==== The suites ==== */

Suite *err_suite(void);
Suite *io_suite(void);
Suite *proc_suite(void);
Suite *timing_suite(void);

/* ==== Shared helpers (unit.c) ==== */

/*
 * Deliver SIGALRM every usec microseconds (less than a second) to a handler
 * installed without SA_RESTART, so that a blocked read, write, wait or sleep
 * fails with EINTR or returns short, as it does in a real program.
 */
void unit_ticks_start(long usec);

/* Stop the ticks and restore SIGALRM's default. Returns how many arrived. */
int unit_ticks_stop(void);

/*
 * Run fn(arg) in a child whose stdout and stderr both go into one pipe, and
 * keep what it printed in out (NUL-terminated, cut to size). The child leaves
 * with _exit(0) if fn returns. Returns the child's wait status.
 */
int unit_capture(void (*fn)(void *arg), void *arg, char *out, size_t size);

/* Nanoseconds on CLOCK_MONOTONIC, read without the library under test. */
uint64_t unit_mono_ns(void);

/* Make this process the reaper of its orphaned descendants, so that none is left behind. */
void unit_become_subreaper(void);

/* Reap every child, waiting for those still running. Returns how many. */
int unit_reap_all(void);

/* Kill a child and reap it. */
void unit_kill_reap(pid_t pid);

/* Cap this process's address space a few MiB above what it uses now. */
void unit_cap_memory(void);

#endif
