/*
 * Process helpers: run a function in a child, wait with a deadline, and look
 * at a process through /proc (its children, zombies, descriptors, threads).
 * The suites use them to check what a student's code leaves behind.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"

/* ==== Running and waiting ==== */

pid_t proc_run(void (*fn)(void *arg), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		fn(arg);
		_exit(0); /* never exit(): that would flush the parent's stdio a second time */
	}
	return pid;
}

/* A pidfd becomes readable when its process ends; -1 when the kernel has none. */
static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* One waitpid, retried on EINTR: 1 when pid was reaped, 0 when it still runs, or -1. */
static int wait_once(pid_t pid, int *status, int options)
{
	pid_t r;

	do
		r = waitpid(pid, status, options);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : r == pid;
}

int proc_wait_timeout(pid_t pid, int *status, long timeout_ms)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
	int pidfd = timeout_ms < 0 ? -1 : pidfd_open_(pid);
	int st = 0, r;

	for (;;) {
		r = wait_once(pid, &st, timeout_ms < 0 ? 0 : WNOHANG);
		if (r != 0)
			break;
		uint64_t now = clock_now_ns();
		if (now >= deadline) {
			errno = ETIMEDOUT;
			r = -1;
			break;
		}
		long left = (long)((deadline - now) / 1000000u) + 1;
		if (pidfd >= 0) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			poll(&p, 1, (int)left);
		} else {
			clock_sleep_ms(left < 5 ? left : 5);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (r > 0 && status)
		*status = st;
	return r > 0 ? 0 : -1;
}

int proc_reap(void)
{
	int n = 0;

	while (waitpid(-1, NULL, WNOHANG) > 0)
		n++;
	return n;
}

int proc_kill_group(pid_t pgid, int sig)
{
	if (pgid <= 1) { /* kill() reads these as our own group, every process, or one process */
		errno = EINVAL;
		return -1;
	}
	return kill(-pgid, sig);
}

/* ==== Looking through /proc ==== */

/* Read the state letter and parent pid of process pid. Returns 0, or -1. */
static int read_stat(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], buf[512];
	FILE *f;
	char *close_paren;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	/* The command name may hold spaces and parentheses: parse after the last ')'. */
	close_paren = ok ? strrchr(buf, ')') : NULL;
	if (!close_paren)
		return -1;
	int p;
	if (sscanf(close_paren + 1, " %c %d", state, &p) != 2)
		return -1;
	*ppid = p;
	return 0;
}

/* Count the processes whose parent is pid, only zombies when zombies_only. */
static int count_children(pid_t pid, int zombies_only)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	if (pid == 0)
		pid = getpid();
	while ((e = readdir(d))) {
		char state;
		pid_t ppid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (read_stat(atoi(e->d_name), &state, &ppid) < 0 || ppid != pid)
			continue;
		if (!zombies_only || state == 'Z')
			n++;
	}
	closedir(d);
	return n;
}

int proc_count_children(pid_t pid)
{
	return count_children(pid, 0);
}

int proc_count_zombies(pid_t pid)
{
	return count_children(pid, 1);
}

/* Count the entries of /proc/<pid>/<sub>, or /proc/self/<sub> for pid 0. */
static int count_entries(pid_t pid, const char *sub)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/%s", sub);
	else
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, sub);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int proc_count_fds(pid_t pid)
{
	int n = count_entries(pid, "fd");

	/* Reading our own fd directory opens one descriptor for the directory itself. */
	return (pid == 0 || pid == getpid()) && n > 0 ? n - 1 : n;
}

int proc_count_threads(pid_t pid)
{
	return count_entries(pid, "task");
}

char proc_state(pid_t pid, pid_t tid)
{
	char path[80], buf[512], *paren;
	ssize_t n;
	int fd;

	if (pid == 0)
		pid = getpid();
	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	paren = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	return paren && paren[1] == ' ' ? paren[2] : 0;
}

int proc_describe_fd(pid_t pid, int fd, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	if (size == 0) {
		errno = EINVAL;
		return -1;
	}
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	else
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, buf, size - 1);
	if (n < 0) {
		if (errno == ENOENT)
			errno = EBADF;
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* A signal's abbreviation ("SEGV"), or "?" for one without (real-time signals). */
static const char *sig_abbrev(int sig)
{
	const char *abbrev = sigabbrev_np(sig);

	return abbrev ? abbrev : "?";
}

void proc_status_text(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by SIG%s%s", sig_abbrev(WTERMSIG(status)),
			 WCOREDUMP(status) ? " (core dumped)" : "");
	else if (WIFSTOPPED(status))
		snprintf(buf, size, "stopped by SIG%s", sig_abbrev(WSTOPSIG(status)));
	else
		snprintf(buf, size, "wait status 0x%x", status);
}
