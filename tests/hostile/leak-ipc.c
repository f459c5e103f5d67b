/*
 * Hostile submission for lab 01: exit_code() leaves POSIX shm, a message queue, a named semaphore, System V objects, a FIFO and a file in /tmp behind.
 * Expect: test_exit_code_exited any /^/
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

#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/stat.h>

int exit_code(int status)
{
	int fd = shm_open("/ipclab-hostile-shm", O_CREAT | O_RDWR, 0600);

	if (fd >= 0)
		close(fd);
	mqd_t q = mq_open("/ipclab-hostile-mq", O_CREAT | O_RDWR, 0600, NULL);
	if (q != (mqd_t)-1)
		mq_close(q);
	sem_t *s = sem_open("/ipclab-hostile-sem", O_CREAT, 0600, 1);
	if (s != SEM_FAILED)
		sem_close(s);
	shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	mkfifo("ipclab-hostile-fifo", 0600);
	close(open("/tmp/ipclab-hostile-tmpfile", O_CREAT | O_WRONLY, 0600));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
