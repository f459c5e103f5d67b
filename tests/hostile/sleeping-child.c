/*
 * Hostile submission for lab 01: exit_code() leaves a child asleep for ever.
 * Expect: test_exit_code_exited fail /still running/
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "processes.h"

pid_t spawn(char *const argv[])
{
	(void)argv;
	errno = ENOSYS;
	return -1;
}

int run_all(char **const cmds[], int n, int statuses[])
{
	(void)cmds;
	(void)n;
	(void)statuses;
	errno = ENOSYS;
	return -1;
}

int exit_code(int status)
{
	if (fork() == 0) {
		sleep(100000);
		_exit(0);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
