/*
 * Hostile submission for lab 01: replaces Check's assertion function and answers wrong.
 * Expect: test_exit_code_exited fail /./
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

/* If this replaced Check's own function, every failed assertion would pass. */
void _ck_assert_failed(const char *file, int line, const char *expr, const char *msg, ...)
{
	(void)file;
	(void)line;
	(void)expr;
	(void)msg;
}

int exit_code(int status)
{
	(void)status;
	return -7;
}
