/*
 * Lab 05: pipelines. Your work goes here.
 *
 * The contract of run_pipeline() is in pipeline.h: read it first, every
 * sentence is tested. Draw the descriptors before you write code: n
 * processes, n - 1 pipes, and for each pipe a write end that exactly one
 * stage may hold and a read end that exactly one stage may hold. Split the
 * work into small static functions of your own (one that runs in the child,
 * one that reaps) as you go.
 * Grade with `make grade LAB=05`, try by hand with `make run LAB=05`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipeline.h"

int run_pipeline(char **const cmds[], int n, int in_fd, int out_fd)
{
	/* TODO(05): check the arguments first: n >= 1 and every cmds[i] and cmds[i][0] not NULL,
	 * or set errno = EINVAL and return -1 before anything is started. */
	/* TODO(05): keep the pids of the stages in an array (malloc n of them): you wait for each
	 * one by its pid at the end. Keep in a variable the descriptor the next stage reads from:
	 * in_fd at first, then the read end of the pipe the previous stage writes to. */
	/* TODO(05): for stage i, unless it is the last, pipe(p): the stage writes to p[1], the next
	 * one reads p[0]. The last stage writes to out_fd instead. Then fork(). */
	/* TODO(05): in the child: dup2() its input onto 0 and its output onto 1 (skip a copy when
	 * the descriptor already is 0 or 1), then close EVERY other end it holds: the descriptors
	 * it just copied, the read end p[0] meant for the next stage, and the caller's in_fd and
	 * out_fd when they are above 2. A child that keeps a write end of its own input pipe never
	 * sees end of file; one that keeps the read end of its output pipe never gets SIGPIPE. */
	/* TODO(05): still in the child: execvp(argv[0], argv). It returns only on failure: write
	 * a message to stderr (dprintf(STDERR_FILENO, ...)), then _exit(127) — never return, never
	 * exit(). */
	/* TODO(05): in the parent, right after fork(): close the read end the new stage took over
	 * (unless it is in_fd, which belongs to the caller) and the write end p[1]. Only the stages
	 * may hold pipe ends: a write end left open in the parent keeps the next stage waiting for
	 * end of file for ever. Keep p[0] for the next stage. */
	/* TODO(05): only after the loop has started ALL the stages, waitpid() each pid (retry on
	 * EINTR). Never wait() or waitpid(-1): the caller's other children are not yours. */
	/* TODO(05): return the last stage's status: WEXITSTATUS(status), or 128 + WTERMSIG(status)
	 * when WIFSIGNALED(status). On a pipe() or fork() failure: close the ends you hold, wait
	 * for the stages already started, then return -1 with the errno you saved. */
	(void)cmds;
	(void)n;
	(void)in_fd;
	(void)out_fd;
	errno = ENOSYS;
	return -1;
}
