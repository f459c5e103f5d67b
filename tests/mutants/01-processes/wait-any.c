/*
 * Mutant of lab 01 (processes): run_all() reaps with waitpid(-1, ...) and matches the pid to its
 * command, and so also reaps (and drops) a child the caller had started itself.
 *
 * Caught by: test_run_all_leaves_other_children_alone
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "processes.h"

pid_t spawn(char *const argv[])
{
	pid_t pid;

	if (!argv || !argv[0]) {
		errno = EINVAL;
		return -1;
	}
	pid = fork();
	if (pid != 0)
		return pid; /* the parent: the child's pid, or -1 with fork's errno */
	execvp(argv[0], argv);
	/* Only reached when exec failed. stderr is unbuffered: this flushes nothing else. */
	dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int run_all(char **const cmds[], int n, int statuses[])
{
	pid_t *pids;
	int started, err = 0;

	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	pids = malloc(((size_t)n + 1) * sizeof(*pids));
	if (!pids)
		return -1;
	for (started = 0; started < n; started++) {
		pids[started] = spawn(cmds[started]);
		if (pids[started] < 0) {
			err = errno;
			break;
		}
	}
	/* Every child started is waited for, even after a failure: each one left is a zombie. */
	for (int k = 0; k < started; k++) {
		int status;
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0) {
			if (!err)
				err = errno;
			break;
		}
		for (int i = 0; i < started; i++)
			if (pids[i] == pid)
				statuses[i] = status;
	}
	free(pids);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	errno = EINVAL; /* stopped or continued: the child has not ended */
	return -1;
}
