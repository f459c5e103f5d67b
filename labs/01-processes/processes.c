/*
 * Lab 01: processes. Your work goes here.
 *
 * Each function's contract is in processes.h: read it first. Start with
 * exit_code (no processes involved), then spawn, then run_all, which uses
 * spawn. Grade with `make grade LAB=01`, try by hand with `make run LAB=01`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "processes.h"

pid_t spawn(char *const argv[])
{
	/* TODO(01): refuse a NULL argv or a NULL argv[0] with errno = EINVAL and return -1. */
	/* TODO(01): call fork(). It returns twice: -1 (no child: return -1, errno is set),
	 * the child's pid in the parent (return it, and do not wait: that is the caller's job),
	 * and 0 in the child. */
	/* TODO(01): in the child, execvp(argv[0], argv). execvp searches PATH, so "sh" works as
	 * well as "/bin/sh". When it succeeds it never returns: the child is now that program. */
	/* TODO(01): execvp returned, so it failed. Say why on stderr if you like (strerror(errno)),
	 * then _exit(127). Not exit(): it would flush a copy of the parent's stdio buffers, and
	 * text the parent printed would come out twice. Never return: the child would go on
	 * running the caller's code as a second copy of it. */
	(void)argv;
	errno = ENOSYS;
	return -1;
}

int run_all(char **const cmds[], int n, int statuses[])
{
	/* TODO(01): n < 0 is EINVAL. malloc an array for the pids (n + 1 of them, so that n == 0
	 * works too); if malloc fails, return -1 (it has set errno to ENOMEM). */
	/* TODO(01): first loop: spawn every command and keep its pid at the same index. Do not
	 * wait inside this loop, or the commands would run one after another, not in parallel. */
	/* TODO(01): if a spawn fails, remember its errno and stop starting commands, but still
	 * go on to the second loop for those already started: a child never waited for stays a
	 * zombie. */
	/* TODO(01): second loop: waitpid(pids[i], &statuses[i], 0) for each command started.
	 * Waiting by pid keeps each status at its command's index whatever the order they end
	 * in, and never steals a child the caller started itself (wait() or waitpid(-1) would).
	 * Store the raw status: exit_code() decodes it later. Retry when errno is EINTR. */
	/* TODO(01): free the pids; return 0, or -1 with the errno you remembered. */
	(void)cmds;
	(void)n;
	(void)statuses;
	errno = ENOSYS;
	return -1;
}

int exit_code(int status)
{
	/* TODO(01): a wait status is not an exit code: it packs how the child ended. Ask with
	 * WIFEXITED(status) whether it exited; if so, return WEXITSTATUS(status). */
	/* TODO(01): WIFSIGNALED(status): the child was killed by a signal and has no exit code;
	 * the shell reports 128 + WTERMSIG(status) (137 for SIGKILL). */
	/* TODO(01): anything else (a stopped child): errno = EINVAL, return -1. */
	(void)status;
	errno = ENOSYS;
	return -1;
}
