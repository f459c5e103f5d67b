/*
 * Hostile submission for lab 01: exit_code() forks without end.
 * Expect: test_exit_code_exited timeout|crash|error /fork bomb/
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
	for (;;)
		fork();
	return status;
}
