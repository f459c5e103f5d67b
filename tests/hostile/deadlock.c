/*
 * Hostile submission for lab 01: exit_code() deadlocks two threads that take two locks in opposite orders.
 * Expect: test_exit_code_exited timeout /waiting in pthread_mutex_lock, called from processes.c/
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

#include <pthread.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;

static void *other(void *arg)
{
	pthread_mutex_lock(&b);
	usleep(50000);
	pthread_mutex_lock(&a);
	return arg;
}

int exit_code(int status)
{
	pthread_t t;

	pthread_create(&t, NULL, other, NULL);
	pthread_mutex_lock(&a);
	usleep(50000);
	pthread_mutex_lock(&b);
	pthread_join(t, NULL);
	return status;
}
