/*
 * Hostile submission for lab 01: exit_code() prints a passing report and exits with status 0.
 * Expect: test_exit_code_exited error /before the test finished/
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

#include <stdio.h>

int exit_code(int status)
{
	(void)status;
	printf("result\ttest_exit_code_exited\tpass\tPassed\n");
	printf("100%%: Checks: 12, Failures: 0, Errors: 0\n");
	exit(0);
}
