/*
 * Lab 06's demo: the sequence-number server and its clients, as separate
 * programs or all at once.
 *
 *	make run LAB=06                        a server and 3 clients, in a temporary folder
 *	make run LAB=06 ARGS='server /tmp/q'   a server in /tmp/q, until Ctrl-C or a stop
 *	make run LAB=06 ARGS='next /tmp/q 5'   from another terminal: ask for 5 numbers
 *	make run LAB=06 ARGS='stop /tmp/q'     ask the server to stop
 *
 * With no arguments the demo forks a server, then runs three clients as new
 * programs (this one, exec'd again with "next"): unrelated processes that
 * find the server only through the name of its FIFO.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fifos.h"
#include "ipclab.h"

static void usage(void)
{
	fprintf(stderr, "usage: demo [server DIR [FIRST] | next DIR [LEN] | stop DIR]\n");
	exit(2);
}

static int cmd_server(const char *dir, int first)
{
	printf("server %d: serving from %s/" SEQ_SERVER_FIFO ", first number %d\n", (int)getpid(),
	       dir, first);
	fflush(stdout);
	if (seq_serve(dir, first) < 0)
		err_die("seq_serve:");
	printf("server %d: stopped, FIFO removed\n", (int)getpid());
	return 0;
}

static int cmd_next(const char *dir, int len)
{
	int first;

	if (seq_next(dir, len, &first) < 0)
		err_die("seq_next:");
	printf("client %d: got %d..%d\n", (int)getpid(), first, first + len - 1);
	return 0;
}

static int cmd_stop(const char *dir)
{
	int next;

	if (seq_stop(dir, &next) < 0)
		err_die("seq_stop:");
	printf("client %d: the server stopped; it would have given %d next\n", (int)getpid(), next);
	return 0;
}

/* Wait up to 2 s until the server's FIFO exists. Returns 0, or -1 if the server ended first. */
static int wait_for_server(const char *dir, pid_t server)
{
	char path[SEQ_PATH_MAX];
	struct stat st;

	seq_server_path(path, sizeof(path), dir);
	for (int i = 0; i < 200; i++) {
		if (stat(path, &st) == 0)
			return 0;
		if (waitpid(server, NULL, WNOHANG) == server)
			return -1;
		clock_sleep_ms(10);
	}
	return -1;
}

/* The whole story in one command: a server, three client programs, a stop. */
static int cmd_all(const char *self)
{
	char dir[] = "/tmp/ipclab-fifos-XXXXXX";
	pid_t server;
	int status;

	if (!mkdtemp(dir))
		err_die("mkdtemp:");
	server = xfork();
	if (server == 0)
		_exit(cmd_server(dir, 1));
	if (wait_for_server(dir, server) < 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		rmdir(dir);
		err_die("the server did not start");
	}
	for (int i = 1; i <= 3; i++) {
		char len[16];
		pid_t pid = xfork();

		snprintf(len, sizeof(len), "%d", i * 2);
		if (pid == 0) {
			execl(self, self, "next", dir, len, (char *)NULL);
			err_warn("exec %s:", self);
			_exit(127);
		}
		xwaitpid(pid, &status, 0);
	}
	cmd_stop(dir);
	xwaitpid(server, &status, 0);
	if (rmdir(dir) < 0)
		err_warn("rmdir %s (something was left in it):", dir);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 1)
		return cmd_all("/proc/self/exe");
	if (argc < 3)
		usage();
	if (strcmp(argv[1], "server") == 0)
		return cmd_server(argv[2], argc > 3 ? atoi(argv[3]) : 1);
	if (strcmp(argv[1], "next") == 0)
		return cmd_next(argv[2], argc > 3 ? atoi(argv[3]) : 1);
	if (strcmp(argv[1], "stop") == 0)
		return cmd_stop(argv[2]);
	usage();
}
