/*
 * The hidden suites' side of IPC Labs: how a suite declares its tests, their
 * points and hints. A suite is a Check suite built by one function,
 * suite_define(), which the runner (runner.c) calls:
 *
 *	START_TEST(test_pipe_eof) { ... ck_assert_msg(...); } END_TEST
 *
 *	void suite_define(void)
 *	{
 *		SUITE_TEST(test_pipe_eof, 2, "Close the write end you do not use.");
 *	}
 *
 * Every test runs in its own process (Check's fork mode) inside the grader's
 * sandbox. Around every test the runner checks what a careless solution
 * leaves behind: zombie or running children, descriptors left open, threads
 * still running, IPC objects left, a child that returned into the test
 * instead of _exit-ing.
 */
#ifndef SUITE_H
#define SUITE_H

#include <check.h>

#include "ipclab.h"

/* Seconds a test may run before it counts as hung, unless it says otherwise. */
#define SUITE_DEFAULT_TIMEOUT 5

/* Flags for SUITE_TEST_EX. */
enum suite_flags {
	SUITE_NO_FD_CHECK = 1 << 0,     /* the test keeps descriptors open on purpose */
	SUITE_NO_CHILD_CHECK = 1 << 1,  /* the test leaves children on purpose */
	SUITE_NO_THREAD_CHECK = 1 << 2, /* the test leaves threads on purpose */
	SUITE_NO_IPC_CHECK = 1 << 3,    /* the test leaves IPC objects on purpose */
	SUITE_SEEDED = 1 << 4,          /* draws from suite_seed(): run three times, three seeds */
};

/* Each suite file defines this: it declares the tests with SUITE_TEST. */
void suite_define(void);

/*
 * Register a test called name worth points, with a timeout in seconds
 * (0: the default), flags from enum suite_flags and a hint shown when it
 * fails. Returns the Check test case to add the test function to.
 *
 * A hint comes in up to three levels, one a line, revealed one at a time:
 * a nudge, then the concept and the manual page to read, then the exact
 * call to fix:
 *
 *	"Who else holds the write end?\n"
 *	"A reader sees EOF only when every write end is closed: pipe(7).\n"
 *	"Call close(fd[1]) in the parent right after fork()."
 */
TCase *suite_add(const char *name, int points, double timeout, unsigned flags, const char *hint);

#define SUITE_TEST(fn, points, hint) tcase_add_test(suite_add(#fn, points, 0, 0, hint), fn)
#define SUITE_TEST_EX(fn, points, timeout, flags, hint)                                            \
	tcase_add_test(suite_add(#fn, points, timeout, flags, hint), fn)

/*
 * Fail the current test if this process has zombie or running children,
 * descriptors opened since the test began, other threads, or IPC objects
 * made since the test began (POSIX shm, queues and named semaphores, System
 * V objects, FIFOs and sockets in the working folder); what names the call
 * under test ("run_all()"). The runner does this after every test anyway; a test
 * calls it itself to check at a precise moment.
 */
void suite_check_leaks(const char *what);

/*
 * Take the X-ray of the test's processes now (see xray.h): each one's state,
 * the descriptors it opened, who holds each end of each pipe, the IPC
 * objects alive. A test calls it when the code under test has hung past a
 * deadline of the test's own, just before it fails and before it kills
 * anything; the student then sees the X-ray under the failure. A failed
 * leak check and the runner's timeout take one by themselves. Can't fail.
 */
void suite_xray(void);

/*
 * The seed of this run, for tests that use randomness (erand48, rand_r):
 * the grader picks one per run and prints it with a failure, and
 * `ipcgrade LAB --test NAME --seed N` runs the test again with the same
 * one. Never 0; 1 when the test runs outside the grader. A test that
 * depends on it says so with SUITE_SEEDED: the grader then runs it with
 * three seeds, so that a pass by luck is caught.
 */
unsigned suite_seed(void);

/*
 * Fail the current test unless got (glen bytes) is expected (elen bytes),
 * with a message that starts with what ("`cat f | wc -l`: the output
 * differs from /bin/sh's") and shows a unified diff of the two, line by
 * line, trimmed to the first differences. The grader colours it.
 */
void suite_same_text(const char *what, const char *expected, size_t elen, const char *got,
		     size_t glen);

/*
 * MPI labs (catalogue option mpi) only. A test of such a lab runs the
 * student's code as an MPI job: it starts mpirun on this same test binary
 * with IPCLAB_MPI_MAIN=1 in the environment, and the runner's main then
 * calls suite_mpi_main(argc, argv) in every rank instead of running tests,
 * and exits with what it returns. The suite defines it: it starts MPI, calls
 * the student's functions and leaves what it saw where the test reads it.
 * Weak, so that other suites need not define it.
 */
int suite_mpi_main(int argc, char **argv) __attribute__((weak));

#endif
