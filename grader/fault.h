/*
 * Fault injection for the hidden suites: make the student's own calls to
 * read, write, send, recv, fork, pthread_create and malloc misbehave the way
 * a real system sometimes does — short counts, EINTR, EAGAIN, ENOMEM — on
 * purpose, deterministically, and only inside the student's code.
 *
 * How: when the grader builds a submission, objcopy renames the student's
 * references to those functions (grader/fault.syms), so that they call the
 * wrappers in fault.c; the suite's and the runner's calls are untouched.
 * Off by default: a test switches it on around the call it checks.
 *
 *	fault_inject(FAULT_SHORT_IO | FAULT_EINTR, 1);   every call
 *	ck_assert_msg(write_all(fd, buf, n) == n, "... %s", fault_report());
 *	fault_stop();
 */
#ifndef FAULT_H
#define FAULT_H

enum fault_kind {
	FAULT_SHORT_IO = 1 << 0, /* read/write/send/recv move fewer bytes than asked */
	FAULT_EINTR = 1 << 1,    /* read/write/send/recv fail with EINTR before moving any */
	FAULT_FORK = 1 << 2,     /* fork fails with EAGAIN */
	FAULT_THREAD = 1 << 3,   /* pthread_create fails with EAGAIN */
	FAULT_MALLOC = 1 << 4,   /* malloc fails with ENOMEM */
};

/*
 * Start injecting the faults in kinds into one call in every: the every-th,
 * the 2 every-th, ... (1: every call that can take one). Which calls and how short comes from a fixed seed,
 * so a failure repeats exactly. Can't fail.
 */
void fault_inject(unsigned kinds, int every);

/* Stop injecting; what was injected stays in the report. */
void fault_stop(void);

/* How many faults were injected since fault_inject. */
int fault_count(void);

/*
 * A sentence on what was injected, for a failure message ("write() returned
 * 3 of 4096 bytes, and 11 more faults: short counts and EINTR"), or "" when
 * nothing was. The string stays valid until the next call.
 */
const char *fault_report(void);

#endif
