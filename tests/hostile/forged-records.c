/*
 * Hostile submission for lab 01: exit_code() writes passing records to every descriptor, then answers wrong.
 * Expect: test_exit_code_exited fail|error /./
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
#include <string.h>

int exit_code(int status)
{
	const char *rec = "result\ttest_exit_code_exited\tpass\tPassed\n";

	(void)status;
	for (int fd = 0; fd < 64; fd++)
		(void)!write(fd, rec, strlen(rec));
	return -7;
}
