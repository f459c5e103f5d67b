/*
 * Lab 05, the reference: a pipeline of n commands joined by n - 1 pipes.
 *
 * One loop starts the stages from left to right. Before stage i is forked
 * the parent holds at most three ends: the read end of the pipe from stage
 * i - 1 (the new stage's input) and both ends of a new pipe to stage i + 1.
 * The child copies its two onto 0 and 1 and closes everything else; the
 * parent closes the two it handed over and keeps only the read end for the
 * next stage. The stages are waited for once they all run, each by its pid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline.h"

/* The descriptors the parent holds while it starts one stage. */
struct plumbing {
	int in_fd;   /* the caller's: the first stage's standard input */
	int out_fd;  /* the caller's: the last stage's standard output */
	int prev;    /* read end of the pipe from the stage before, or -1 */
	int next[2]; /* the pipe to the stage after, or -1 and -1 */
};

/* Close *fd unless it is -1 or a standard descriptor (0, 1, 2), then forget it. */
static void close_end(int *fd)
{
	if (*fd > STDERR_FILENO)
		close(*fd);
	*fd = -1;
}

/* In the child: plug the stage's ends into 0 and 1, close the rest, run argv. */
static void exec_stage(char *const argv[], struct plumbing *pl)
{
	int in = pl->prev >= 0 ? pl->prev : pl->in_fd;
	int out = pl->next[1] >= 0 ? pl->next[1] : pl->out_fd;

	/* dup2(fd, fd) does nothing, so 0 and 1 passed through stay as they are. */
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
		_exit(127);
	/* Every end is now either copied onto 0 or 1, or not this stage's business. */
	close_end(&pl->prev);
	close_end(&pl->next[0]);
	close_end(&pl->next[1]);
	close_end(&pl->in_fd);
	close_end(&pl->out_fd);
	execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Wait for the first n pids; returns the last one's status as $? shows it, or -1. */
static int reap_stages(const pid_t pids[], int n)
{
	int status = 0, failed = 0;

	for (int i = 0; i < n; i++) {
		while (waitpid(pids[i], &status, 0) < 0) {
			if (errno != EINTR) {
				failed = 1;
				break;
			}
		}
	}
	if (failed)
		return -1;
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

static int valid(char **const cmds[], int n)
{
	if (n < 1 || !cmds)
		return 0;
	for (int i = 0; i < n; i++)
		if (!cmds[i] || !cmds[i][0])
			return 0;
	return 1;
}

int run_pipeline(char **const cmds[], int n, int in_fd, int out_fd)
{
	struct plumbing pl = {in_fd, out_fd, -1, {-1, -1}};
	int started, status, err = 0;
	pid_t *pids;

	if (!valid(cmds, n)) {
		errno = EINVAL;
		return -1;
	}
	pids = malloc((size_t)n * sizeof(*pids));
	if (!pids)
		return -1;
	for (started = 0; started < n; started++) {
		if (started < n - 1 && pipe(pl.next) < 0) {
			err = errno;
			break;
		}
		pids[started] = fork();
		if (pids[started] == 0)
			exec_stage(cmds[started], &pl);
		if (pids[started] < 0)
			err = errno;
		/* The stage has its ends now (or never will): the parent lets go of them. */
		close_end(&pl.prev);
		close_end(&pl.next[1]);
		pl.prev = pl.next[0];
		pl.next[0] = -1;
		if (err)
			break;
	}
	close_end(&pl.prev); /* left over only when the loop broke off */
	status = reap_stages(pids, started);
	free(pids);
	if (err) {
		errno = err;
		return -1;
	}
	return status;
}
