/*
 * Hostile submission for lab 01: an #include that reads a file outside the lab.
 * Expect: build /reaches outside/
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

static const char secret[] = {
#include "/etc/passwd"
};

int exit_code(int status)
{
	return status + (int)sizeof(secret);
}
