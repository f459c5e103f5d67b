/*
 * Lab 07: signals — sigaction, SIGCHLD and a graceful shutdown. Your work
 * goes here.
 *
 * Each function's contract is in signals.h: read it first. Work top to
 * bottom: the handler and its installation, then sig_next, then the server
 * loop, which uses both. Grade with `make grade LAB=07`, try by hand with
 * `make run LAB=07`.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signals.h"

/* ==== The handler and what it records ==== */

/* TODO(07): the state the handler and the loop share, file-private (static):
 *   static volatile sig_atomic_t pending[NSIG];   one flag a signal number;
 *   static int wake[2] = {-1, -1};                 the self-pipe.
 * volatile: the compiler must re-read a flag every time, since a handler may change it between
 * two reads; sig_atomic_t: a type the CPU reads and writes in one go, never half-written. */

/* TODO(07): the handler, `static void on_signal(int sig)`. Three lines and nothing else:
 *   save errno; set pending[sig] = 1; write one byte to wake[1]; restore errno.
 * No printf, no malloc, no exit: the signal may have interrupted the very printf or malloc you
 * would call, which then deadlocks on its own lock or corrupts its own data. write() is on the
 * async-signal-safe list (signal-safety(7)); so is waitpid(), but leave the reaping to the
 * loop. If the pipe is full, write() fails with EAGAIN: fine, a wake-up is already waiting. */

int sig_install(struct sig_saved *saved)
{
	/* TODO(07): create the self-pipe with pipe2(wake, O_NONBLOCK | O_CLOEXEC): non-blocking so
	 * that a full pipe never blocks the handler, close-on-exec so that programs your children
	 * exec do not inherit it. Clear every pending flag. */
	/* TODO(07): fill a struct sigaction: sa_handler = on_signal; sa_mask with the four signals
	 * (sigemptyset, then sigaddset each), so that one run of the handler is never interrupted
	 * by another; sa_flags = 0 — NOT SA_RESTART, or a blocked read() resumes after the handler
	 * and your loop never sees the flag — plus SA_NOCLDSTOP for SIGCHLD. */
	/* TODO(07): sigaction(sig, &sa, &saved->old[i]) for each signal of SIG_HANDLED_LIST. If one
	 * fails, put back the ones already installed and close the pipe before returning -1. */
	(void)saved;
	errno = ENOSYS;
	return -1;
}

int sig_next(void)
{
	/* TODO(07): drain the self-pipe: read() from wake[0] until it fails with EAGAIN (it is
	 * non-blocking). The bytes say only "wake up"; the flags say which signal came. */
	/* TODO(07): find a signal whose flag is set, clear the flag and return its number; return
	 * 0 when no flag is set. Drain first, then look at the flags: a signal arriving in between
	 * leaves both a flag and a byte, so it is seen now or on the next wake-up, never lost. */
	errno = ENOSYS;
	return -1;
}

int sig_restore(const struct sig_saved *saved)
{
	/* TODO(07): sigaction(sig, &saved->old[i], NULL) for all four, keeping the first error
	 * but trying every one. Restore the handlers BEFORE closing the pipe: a signal arriving
	 * after the close would have the handler write to a closed (or reused!) descriptor. */
	/* TODO(07): close both ends of the self-pipe and set them back to -1. */
	(void)saved;
	errno = ENOSYS;
	return -1;
}

/* ==== A server that stops gracefully ==== */

/* TODO(07): helpers keep serve_until_signal short. Suggested, each a few lines:
 *   say(fd, fmt, ...)      vsnprintf into a local buffer, then write() it all, retrying EINTR;
 *   reap(out_fd, options)  loop waitpid(-1, &status, options): a pid > 0 is reported as
 *                          "child PID CODE"; 0 means the others still run (WNOHANG); -1 with
 *                          ECHILD means none is left (done, not an error); EINTR: again;
 *   read_input(...)        one read() into a line buffer, then on_line() for each '\n' found;
 *   handle_signals(...)    while ((sig = sig_next()) != 0): SIGCHLD → reap(WNOHANG),
 *                          SIGUSR1 → "lines N", SIGTERM/SIGINT → remember it and stop. */

int serve_until_signal(int in_fd, int out_fd, const struct serve_config *cfg)
{
	/* TODO(07): sig_install(), then the pid file: open(path, O_WRONLY | O_CREAT | O_EXCL |
	 * O_CLOEXEC, 0644), write "PID\n", close. O_EXCL: a file already there belongs to
	 * someone else — fail with EEXIST and never remove it. */
	/* TODO(07): the loop: poll() on in_fd and on wake[0]. poll() fails with EINTR when a
	 * signal arrives, whatever the flags: not an error. Then handle the signals first, then,
	 * unless stopping, read the input. One single SIGCHLD may stand for several children
	 * (signals of one kind do not queue): reap in a loop until waitpid() says nothing more. */
	/* TODO(07): the shutdown, on the error path too: wait for every child left (waitpid(-1,
	 * &status, 0) until ECHILD, reporting each), unlink the pid file if you created it, write
	 * "bye SIG" (not on error), sig_restore(). Save errno across the cleanup on the error path.
	 */
	(void)in_fd;
	(void)out_fd;
	(void)cfg;
	errno = ENOSYS;
	return -1;
}
