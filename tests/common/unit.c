/*
 * Helpers shared by the unit suites: a timer whose signal interrupts system
 * calls, a child whose output is captured, and process bookkeeping. They use
 * plain system calls, not libipclab, so that a bug in the library under test
 * cannot hide behind a helper that shares it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#define MEMORY_MARGIN (16L << 20) /* room left for printing an error once memory is capped */

static volatile sig_atomic_t ticks; /* SIGALRMs caught since unit_ticks_start() */

/* ==== Interrupting timer ==== */

static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

void unit_ticks_start(long usec)
{
	struct sigaction sa = {.sa_handler = on_tick}; /* no SA_RESTART: calls fail with EINTR */
	struct itimerval it = {.it_interval = {0, usec}, .it_value = {0, usec}};

	sigemptyset(&sa.sa_mask);
	ticks = 0;
	ck_assert_msg(sigaction(SIGALRM, &sa, NULL) == 0, "unit: sigaction failed");
	ck_assert_msg(setitimer(ITIMER_REAL, &it, NULL) == 0, "unit: setitimer failed");
}

int unit_ticks_stop(void)
{
	struct itimerval off = {{0, 0}, {0, 0}};

	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_DFL);
	return ticks;
}

/* ==== Captured children ==== */

/* Read until end of file into out, keeping at most size - 1 bytes. */
static void read_all(int fd, char *out, size_t size)
{
	size_t kept = 0;
	char sink[256];
	ssize_t r;

	for (;;) {
		char *dst = kept < size - 1 ? out + kept : sink;
		size_t room = kept < size - 1 ? size - 1 - kept : sizeof(sink);

		r = read(fd, dst, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (dst != sink)
			kept += (size_t)r;
	}
	out[kept] = '\0';
}

int unit_capture(void (*fn)(void *arg), void *arg, char *out, size_t size)
{
	int fds[2], status;
	pid_t pid;

	fflush(stdout); /* or the child would print our buffered output a second time */
	fflush(stderr);
	ck_assert_msg(pipe(fds) == 0, "unit: pipe failed");
	pid = fork();
	ck_assert_msg(pid >= 0, "unit: fork failed");
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0 || dup2(fds[1], STDERR_FILENO) < 0)
			_exit(127);
		close(fds[1]);
		fn(arg);
		fflush(stdout);
		_exit(0);
	}
	close(fds[1]);
	read_all(fds[0], out, size);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_msg(errno == EINTR, "unit: waitpid failed");
	return status;
}

/* ==== Processes and resources ==== */

uint64_t unit_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void unit_become_subreaper(void)
{
	ck_assert_msg(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "unit: PR_SET_CHILD_SUBREAPER failed");
}

int unit_reap_all(void)
{
	int n = 0;

	for (;;) {
		pid_t r = waitpid(-1, NULL, 0);

		if (r > 0)
			n++;
		else if (errno != EINTR)
			return n;
	}
}

void unit_kill_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void unit_cap_memory(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;
	struct rlimit rl;

	ck_assert_msg(f != NULL, "unit: cannot open /proc/self/statm");
	ck_assert_msg(fscanf(f, "%lu", &pages) == 1, "unit: cannot read /proc/self/statm");
	fclose(f);
	rl.rlim_cur = rl.rlim_max = pages * (unsigned long)sysconf(_SC_PAGESIZE) + MEMORY_MARGIN;
	ck_assert_msg(setrlimit(RLIMIT_AS, &rl) == 0, "unit: setrlimit(RLIMIT_AS) failed");
}
