/*
 * Hostile submission for lab 01: exit_code() allocates and touches 64 GiB.
 * Expect: test_exit_code_exited crash /SIGSEGV|signal 11|SIGKILL/
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
	size_t size = (size_t)64 << 30;
	volatile char *p = malloc(size);

	/* Under the sandbox's memory limit malloc fails and p is NULL. */
	for (size_t i = 0; i < size; i += 4096)
		p[i] = 1;
	return status;
}
