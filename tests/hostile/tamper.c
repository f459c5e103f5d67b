/*
 * Hostile submission for lab 01: exit_code() tries to change files outside its own folder — the hidden suite, the pristine skeleton, the grader's build folder with other submissions in it — and aborts if any change went through; refused, it answers right, and the test passes.
 * Expect: test_exit_code_exited pass /^/
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Try to append to (or create) data/rel; abort when it works. */
static void tamper(const char *data, const char *rel, int create)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", data, rel);
	fd = open(path, O_WRONLY | O_APPEND | (create ? O_CREAT : 0), 0666);
	if (fd < 0) {
		printf("tamper %s: %s\n", rel, strerror(errno));
		return;
	}
	printf("tamper %s: CHANGED\n", rel);
	fflush(stdout);
	abort();
}

int exit_code(int status)
{
	const char *data = getenv("IPCLAB_DATA");

	if (data) {
		tamper(data, "../../grader/suites/01-processes.c", 0);
		tamper(data, "processes.c", 0);
		tamper(data, "../../build/grade/tampered", 1);
		tamper(data, "../../grader/catalogue", 0);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	errno = EINVAL;
	return -1;
}
