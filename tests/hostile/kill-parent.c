/*
 * Hostile submission for lab 01: exit_code() kills its parent, the test runner. Run only inside a PID namespace of the test's own.
 * Expect: test_exit_code_exited error|crash /without reporting|killed/ pidns
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

#include <signal.h>

int exit_code(int status)
{
	kill(getppid(), SIGKILL);
	return status;
}
