/*
 * Lab 07's demo: a tiny server you stop with a signal.
 *
 *	make run LAB=07
 *
 * Type lines: each comes back in capitals. "job N" starts a child that
 * sleeps N seconds; when it ends, the server says so (SIGCHLD). From
 * another terminal, `kill -USR1 PID` asks how many lines were served, and
 * `kill PID` (SIGTERM) or Ctrl-C (SIGINT) stops the server gracefully: it
 * waits for the jobs still running, removes its pid file and says bye.
 * Ctrl-D (end of input) stops it too.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipclab.h"
#include "signals.h"

/* "job N": start `sleep N` in a child, without waiting for it. */
static int start_job(const char *seconds, int out_fd)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("sleep", "sleep", seconds, (char *)NULL);
		_exit(127);
	}
	dprintf(out_fd, "job %d started: sleep %s\n", (int)pid, seconds);
	return 0;
}

/* The server's work: "job N" starts a job; any other line comes back in capitals. */
static int on_line(const char *line, int out_fd, void *arg)
{
	char reply[SERVE_LINE_MAX + 1];
	size_t n = strlen(line);

	(void)arg;
	if (strncmp(line, "job ", 4) == 0)
		return start_job(line + 4, out_fd);
	for (size_t i = 0; i < n; i++)
		reply[i] = (char)toupper((unsigned char)line[i]);
	reply[n] = '\n';
	return io_writen(out_fd, reply, n + 1) < 0 ? -1 : 0;
}

int main(void)
{
	char pid_path[64];
	struct serve_config cfg = {pid_path, on_line, NULL};
	int r;

	snprintf(pid_path, sizeof(pid_path), "/tmp/ipclab07-demo-%d.pid", (int)getpid());
	printf("server pid %d, pid file %s\n", (int)getpid(), pid_path);
	printf("type lines; 'job 3' starts a 3-second job; Ctrl-D, Ctrl-C or kill %d stops me;\n",
	       (int)getpid());
	printf("kill -USR1 %d asks for the count of lines served.\n", (int)getpid());
	fflush(stdout); /* the server writes with write(): empty stdio's buffer first */
	r = serve_until_signal(STDIN_FILENO, STDOUT_FILENO, &cfg);
	if (r < 0)
		err_die("serve_until_signal:");
	printf("serve_until_signal returned %d (%s)\n", r, r ? strsignal(r) : "end of input");
	printf("pid file still there? %s\n", access(pid_path, F_OK) == 0 ? "yes (wrong!)" : "no");
	return 0;
}
