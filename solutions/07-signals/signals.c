/*
 * Lab 07, the reference: one handler that only records, a self-pipe that
 * wakes the loop, and a server that does all the real work in its loop.
 *
 * The handler sets a flag for "which signal" and writes a byte for "wake
 * up". Either alone falls short: a byte per signal can be lost when the pipe
 * is full, and a flag alone cannot wake a loop blocked in poll() if the
 * signal came just before poll() was called. Together they never lose one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signals.h"

static const int handled[SIG_NHANDLED] = SIG_HANDLED_LIST;

static volatile sig_atomic_t pending[NSIG]; /* pending[sig]: sig came and was not taken yet */
static int wake[2] = {-1, -1};              /* the self-pipe: the handler writes, poll() waits */

/* ==== The handler and what it records ==== */

static void on_signal(int sig)
{
	int saved = errno; /* write() may change it under the interrupted code's feet */

	pending[sig] = 1;
	if (write(wake[1], "", 1) < 0) {
		/* EAGAIN: the pipe is full, so a wake-up is already waiting. */
	}
	errno = saved;
}

static void close_wake(void)
{
	for (int i = 0; i < 2; i++) {
		if (wake[i] >= 0)
			close(wake[i]);
		wake[i] = -1;
	}
}

int sig_install(struct sig_saved *saved)
{
	struct sigaction sa;
	int i, err;

	if (!saved) {
		errno = EINVAL;
		return -1;
	}
	if (pipe2(wake, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < SIG_NHANDLED; i++) {
		sigaddset(&sa.sa_mask, handled[i]); /* one handler run at a time */
		pending[handled[i]] = 0;
	}
	for (i = 0; i < SIG_NHANDLED; i++) {
		/* No SA_RESTART: a blocked call must return EINTR so the loop sees the signal. */
		sa.sa_flags = handled[i] == SIGCHLD ? SA_NOCLDSTOP : 0;
		if (sigaction(handled[i], &sa, &saved->old[i]) < 0)
			goto fail;
	}
	return 0;
fail:
	err = errno;
	while (i-- > 0)
		sigaction(handled[i], &saved->old[i], NULL);
	close_wake();
	errno = err;
	return -1;
}

int sig_next(void)
{
	char drain[64];

	/* Drain first, then read the flags: a signal in between leaves a flag and a byte. */
	while (wake[0] >= 0 && read(wake[0], drain, sizeof(drain)) > 0)
		;
	for (int i = 0; i < SIG_NHANDLED; i++) {
		if (pending[handled[i]]) {
			pending[handled[i]] = 0;
			return handled[i];
		}
	}
	return 0;
}

int sig_restore(const struct sig_saved *saved)
{
	int err = 0;

	for (int i = 0; i < SIG_NHANDLED; i++)
		if (sigaction(handled[i], &saved->old[i], NULL) < 0 && !err)
			err = errno;
	close_wake(); /* only now: until the handlers were gone, one could still write to it */
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ==== A server that stops gracefully ==== */

struct server {
	int in_fd, out_fd;              /* where lines come from, where replies go */
	const struct serve_config *cfg; /* the caller's pid file and line handler */
	char buf[SERVE_LINE_MAX];       /* input read but not yet handled */
	size_t used;                    /* bytes of buf in use */
	long lines;                     /* lines handled so far */
	int stop; /* -1 while serving; then the signal that stopped us, or 0 */
};

/* Format a line and write all of it to fd, retrying EINTR. Returns 0, or -1. */
static int say(int fd, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	size_t done = 0, n;
	ssize_t w;

	va_start(ap, fmt);
	n = (size_t)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= sizeof(line))
		n = sizeof(line) - 1; /* cut, never overrun */
	while (done < n) {
		w = write(fd, line + done, n - done);
		if (w < 0 && errno != EINTR)
			return -1;
		if (w > 0)
			done += (size_t)w;
	}
	return 0;
}

/* Reap children and report each: those already ended (WNOHANG), or all of them (0). */
static int reap(int out_fd, int options)
{
	int status, code;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, options);
		if (pid == 0)
			return 0; /* WNOHANG: the others are still running */
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return errno == ECHILD ? 0 : -1; /* ECHILD: no child left at all */
		code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
		if (say(out_fd, "child %d %d\n", (int)pid, code) < 0)
			return -1;
	}
}

/* Hand the first len bytes of the buffer to on_line as a line, then drop them and the '\n'. */
static int handle_line(struct server *s, size_t len)
{
	size_t eaten = len < s->used ? len + 1 : len;

	s->buf[len] = '\0';
	if (s->cfg->on_line(s->buf, s->out_fd, s->cfg->arg) < 0)
		return -1;
	s->lines++;
	s->used -= eaten;
	memmove(s->buf, s->buf + eaten, s->used);
	return 0;
}

/* Read what in_fd has and handle every complete line. Returns 0, or -1. */
static int read_input(struct server *s)
{
	ssize_t n = read(s->in_fd, s->buf + s->used, sizeof(s->buf) - s->used);
	char *nl;

	if (n < 0)
		return errno == EINTR ? 0 : -1; /* a signal: the loop will look at it */
	if (n == 0) {
		s->stop = 0; /* end of input; a last line without '\n' is a line all the same */
		return s->used > 0 ? handle_line(s, s->used) : 0;
	}
	s->used += (size_t)n;
	while ((nl = memchr(s->buf, '\n', s->used)) != NULL)
		if (handle_line(s, (size_t)(nl - s->buf)) < 0)
			return -1;
	if (s->used == sizeof(s->buf)) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Act on every signal recorded since the last look. Returns 0, or -1. */
static int handle_signals(struct server *s)
{
	int sig;

	while ((sig = sig_next()) != 0) {
		if (sig == SIGCHLD && reap(s->out_fd, WNOHANG) < 0)
			return -1;
		if (sig == SIGUSR1 && say(s->out_fd, "lines %ld\n", s->lines) < 0)
			return -1;
		if (sig == SIGTERM || sig == SIGINT)
			s->stop = sig;
	}
	return 0;
}

/* Wait for input or a signal and handle what came, until told to stop. Returns 0, or -1. */
static int serve(struct server *s)
{
	while (s->stop < 0) {
		struct pollfd p[2] = {{.fd = s->in_fd, .events = POLLIN},
				      {.fd = wake[0], .events = POLLIN}};

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -1;
		if (handle_signals(s) < 0)
			return -1;
		if (s->stop < 0 && p[0].revents && read_input(s) < 0)
			return -1;
	}
	return 0;
}

static int write_pid_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int r, err;

	if (fd < 0)
		return -1;
	r = say(fd, "%d\n", (int)getpid());
	err = errno;
	close(fd);
	if (r < 0) {
		unlink(path);
		errno = err;
	}
	return r;
}

int serve_until_signal(int in_fd, int out_fd, const struct serve_config *cfg)
{
	struct server s = {.in_fd = in_fd, .out_fd = out_fd, .cfg = cfg, .stop = -1};
	struct sig_saved saved;
	int r, err;

	if (sig_install(&saved) < 0)
		return -1;
	if (cfg->pid_path && write_pid_file(cfg->pid_path) < 0) {
		err = errno;
		sig_restore(&saved);
		errno = err;
		return -1;
	}
	r = serve(&s);
	/* The shutdown, on the error path too: children, pid file, last line, handlers. */
	err = errno;
	if (reap(out_fd, 0) < 0 && r == 0) {
		r = -1;
		err = errno;
	}
	if (cfg->pid_path)
		unlink(cfg->pid_path);
	if (r == 0 && say(out_fd, "bye %d\n", s.stop) < 0) {
		r = -1;
		err = errno;
	}
	sig_restore(&saved);
	errno = err;
	return r < 0 ? -1 : s.stop;
}
