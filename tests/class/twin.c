/*
 * A lab 01 submission that two students hand in at once (tests/grading.py,
 * section class): on its first call, exit_code() takes the same fixed names
 * everywhere IPC has a namespace — POSIX shared memory, a message queue, a
 * named semaphore, a System V key, a TCP port on loopback, a FIFO and a file
 * in /tmp — holds them for a while, says when, and gives them back. Graded
 * side by side, each copy must find every name free: if one is taken, it
 * prints what collided and aborts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "processes.h"

#define NAME "/ipclab-twin"
#define KEY  0x1c1ab
#define PORT 47123
#define FIFO "/tmp/ipclab-twin.fifo"
#define FILE "/tmp/ipclab-twin.file"

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

static void collided(const char *what)
{
	printf("twin: %s is taken: %s\n", what, strerror(errno));
	fflush(stdout);
	abort();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Take every name, hold them for a second and a half, give them back. */
static void hold_names(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
	int shm, sock, file, shmid;
	mqd_t mq;
	sem_t *sem;
	double from;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((shm = shm_open(NAME, O_CREAT | O_EXCL | O_RDWR, 0600)) < 0)
		collided("shared memory " NAME);
	if ((mq = mq_open(NAME, O_CREAT | O_EXCL | O_RDWR, 0600, NULL)) == (mqd_t)-1)
		collided("message queue " NAME);
	if ((sem = sem_open(NAME, O_CREAT | O_EXCL, 0600, 1)) == SEM_FAILED)
		collided("semaphore " NAME);
	if ((shmid = shmget(KEY, 4096, IPC_CREAT | IPC_EXCL | 0600)) < 0)
		collided("System V key");
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0 || bind(sock, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(sock, 1) < 0)
		collided("port 47123 on 127.0.0.1");
	if (mkfifo(FIFO, 0600) < 0)
		collided("FIFO " FIFO);
	if ((file = open(FILE, O_CREAT | O_EXCL | O_WRONLY, 0600)) < 0)
		collided("file " FILE);
	from = now();
	usleep(1500 * 1000);
	printf("twin: held every name from %.3f to %.3f\n", from, now());
	close(file);
	unlink(FILE);
	unlink(FIFO);
	close(sock);
	shmctl(shmid, IPC_RMID, NULL);
	sem_close(sem);
	sem_unlink(NAME);
	mq_close(mq);
	mq_unlink(NAME);
	close(shm);
	shm_unlink(NAME);
}

int exit_code(int status)
{
	static int held;

	if (!held++)
		hold_names();
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	errno = EINVAL;
	return -1;
}
