/*
 * Hostile submission for lab 01: exit_code() writes through a null pointer.
 * Expect: test_exit_code_exited crash /SIGSEGV|signal 11/
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
	*(volatile int *)NULL = status;
	return status;
}
