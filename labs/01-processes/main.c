/*
 * Lab 01 demo: run shell commands in parallel and report how each one ended.
 *
 *	demo ['command' ...]
 *
 * Each argument is one command for /bin/sh -c. Without arguments the demo
 * runs four of its own: three that sleep one second and end in different
 * ways, and one that does not exist. If run_all starts them in parallel, the
 * whole run takes about one second, not three. Exits 0 when every command
 * exited 0, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ipclab.h"
#include "processes.h"

static char *default_cmds[] = {
    "sleep 1; echo 'hello from a child'",
    "sleep 1; exit 3",
    "sleep 1; kill -TERM $$",
    "exec ipclab-no-such-command",
};

/* Build one argv for each shell command: {"sh", "-c", command, NULL}. */
static char ***make_argvs(char **commands, int n)
{
	char ***cmds = xcalloc((size_t)n, sizeof(*cmds));

	for (int i = 0; i < n; i++) {
		cmds[i] = xcalloc(4, sizeof(**cmds));
		cmds[i][0] = "sh";
		cmds[i][1] = "-c";
		cmds[i][2] = commands[i];
	}
	return cmds;
}

static int report(char **commands, const int *statuses, int n)
{
	char how[64];
	int failed = 0;

	for (int i = 0; i < n; i++) {
		int code = exit_code(statuses[i]);

		proc_status_text(statuses[i], how, sizeof(how));
		printf("[%d] %-40s $? = %-4d (%s)\n", i, commands[i], code, how);
		failed |= code != 0;
	}
	return failed;
}

int main(int argc, char **argv)
{
	char **commands = argc > 1 ? argv + 1 : default_cmds;
	int n = argc > 1 ? argc - 1 : (int)(sizeof(default_cmds) / sizeof(default_cmds[0]));
	char ***cmds = make_argvs(commands, n);
	int *statuses = xcalloc((size_t)n, sizeof(*statuses));
	struct stopwatch sw;
	int failed;

	printf("running %d command%s at once...\n", n, n == 1 ? "" : "s");
	fflush(stdout); /* before any fork: a child must not inherit unwritten output */
	stopwatch_start(&sw);
	if (run_all(cmds, n, statuses) < 0)
		err_die("run_all:");
	printf("all done in %.2f s\n", stopwatch_ms(&sw) / 1000);
	failed = report(commands, statuses, n);
	for (int i = 0; i < n; i++)
		free(cmds[i]);
	free(cmds);
	free(statuses);
	return failed ? 1 : 0;
}
