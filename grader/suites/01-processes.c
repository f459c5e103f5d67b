/*
 * The hidden tests of lab 01, processes: spawn, run_all and exit_code,
 * checked with real children running real commands (true, false, sh, sleep,
 * head), as the sandbox's PATH finds them.
 *
 * The parallel and ordering tests need commands that meet the test half-way.
 * Each such command reports "index pid" on a pipe when it starts, then waits
 * for one byte on a pipe of its own before it exits; run_all is called in a
 * helper process so that the test itself stays free to read the reports and
 * hand out the bytes (the "gate" below). A shell reaches those pipes through
 * /proc/self/fd/N, because dash only takes one-digit descriptor numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"
#include "processes.h"

/* A program that exists nowhere on PATH. */
#define MISSING "ipclab-no-such-command"

/* How many commands the gate runs. */
#define GATE_CMDS 4

/*
 * A copy of the test process that came back from the code under test (a
 * child that neither exec'd nor _exit'ed) stops here; the runner's teardown
 * then reports it as a stray instead of letting it run the rest of the test.
 */
#define RETURN_IF_STRAY(self)                                                                      \
	do {                                                                                       \
		if (getpid() != (self))                                                            \
			return;                                                                    \
	} while (0)

/* ==== Helpers ==== */

/* A wait status in words, for messages. */
static const char *how(int status, char *buf, size_t size)
{
	proc_status_text(status, buf, size);
	return buf;
}

static const char *errno_text(int r)
{
	return r < 0 ? err_name(errno) : "no error";
}

/* Wait up to ms for process pid to end (a zombie, or reaped already). Returns 1 if it did. */
static int wait_ended(pid_t pid, long ms)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)ms * 1000000u;

	for (;;) {
		char state = proc_state(pid, 0);

		if (state == 0 || state == 'Z' || state == 'X')
			return 1;
		if (clock_now_ns() >= deadline)
			return 0;
		clock_sleep_ms(2);
	}
}

static void exit_with(void *code)
{
	_exit((int)(intptr_t)code);
}

static void die_by(void *sig)
{
	signal((int)(intptr_t)sig, SIG_DFL);
	raise((int)(intptr_t)sig);
	_exit(99);
}

/* The wait status of a real child that ran fn(arg). */
static int status_of(void (*fn)(void *), intptr_t arg)
{
	int status;
	pid_t pid = proc_run(fn, (void *)arg);

	ck_assert_msg(pid > 0, "the test could not fork: %s", err_name(errno));
	xwaitpid(pid, &status, 0);
	return status;
}

/* Reap the child spawn() returned and return its wait status. */
static int reap(pid_t pid)
{
	int status = 0;
	pid_t r = waitpid(pid, &status, 0);

	ck_assert_msg(r == pid,
		      "waitpid(%d) on the pid spawn() returned failed with %s: return the pid "
		      "fork() gave the parent, and leave the waiting to the caller",
		      (int)pid, errno_text((int)r));
	return status;
}

/* ==== The gate: commands that start, report, and end when the test says ==== */

struct gate_result {
	int rc;                  /* what run_all returned */
	int err;                 /* errno after it */
	int statuses[GATE_CMDS]; /* what it stored */
};

struct gate {
	int ready[2];                /* each command writes "index pid\n" here as it starts */
	int go[GATE_CMDS][2];        /* one byte on go[i] lets command i end */
	int done[2];                 /* the helper sends its struct gate_result here */
	char script[GATE_CMDS][192]; /* command i: report, wait for the byte, exit 10 + i */
	char *argv[GATE_CMDS][4];    /* {"sh", "-c", script, NULL} */
	char **cmds[GATE_CMDS];      /* what run_all gets */
	pid_t helper;                /* the process calling run_all; 0 once reaped */
	pid_t pids[GATE_CMDS];       /* each command's pid, once it has reported */
	int started;                 /* how many commands have reported */
	int returned;                /* run_all returned (the helper wrote its result) */
	char buf[256];               /* reports read but not yet parsed */
	size_t len;                  /* bytes in buf */
};

/* Make a pipe whose end `keep` (0 or 1) survives exec, so that a command inherits it. */
static void gate_pipe(int fds[2], int keep)
{
	ck_assert_msg(pipe2(fds, O_CLOEXEC) == 0, "the test could not make a pipe: %s",
		      err_name(errno));
	ck_assert(fcntl(fds[keep], F_SETFD, 0) == 0);
}

/* Build the pipes and commands, then start the helper, which calls run_all. */
static void gate_start(struct gate *g)
{
	memset(g, 0, sizeof(*g));
	gate_pipe(g->ready, 1);
	gate_pipe(g->done, 1);
	for (int i = 0; i < GATE_CMDS; i++) {
		gate_pipe(g->go[i], 0);
		snprintf(
		    g->script[i], sizeof(g->script[i]),
		    "echo %d $$ >/proc/self/fd/%d; head -c1 </proc/self/fd/%d >/dev/null; exit %d",
		    i, g->ready[1], g->go[i][0], 10 + i);
		g->argv[i][0] = "sh";
		g->argv[i][1] = "-c";
		g->argv[i][2] = g->script[i];
		g->cmds[i] = g->argv[i];
	}
	g->helper = xfork();
	if (g->helper == 0) {
		struct gate_result res = {0};
		pid_t self = getpid();

		res.rc = run_all(g->cmds, GATE_CMDS, res.statuses);
		res.err = errno;
		if (getpid() == self) /* not a stray copy coming back from run_all */
			io_writen(g->done[1], &res, sizeof(res));
		_exit(0);
	}
	close(g->done[1]);
}

/* Parse the complete "index pid" lines in g->buf. */
static void gate_parse(struct gate *g)
{
	char *nl;

	while ((nl = memchr(g->buf, '\n', g->len))) {
		int i, pid;

		*nl = '\0';
		if (sscanf(g->buf, "%d %d", &i, &pid) == 2 && i >= 0 && i < GATE_CMDS &&
		    !g->pids[i]) {
			g->pids[i] = pid;
			g->started++;
		}
		g->len -= (size_t)(nl + 1 - g->buf);
		memmove(g->buf, nl + 1, g->len);
	}
}

/*
 * Read reports until want commands have started, run_all has returned, or ms
 * have passed. Returns how many commands have started.
 */
static int gate_wait_started(struct gate *g, int want, long ms)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)ms * 1000000u;

	while (g->started < want && !g->returned) {
		struct pollfd p[2] = {{.fd = g->ready[0], .events = POLLIN},
				      {.fd = g->done[0], .events = POLLIN}};
		uint64_t now = clock_now_ns();
		ssize_t r;

		if (now >= deadline)
			break;
		if (poll(p, 2, (int)((deadline - now) / 1000000u) + 1) < 0)
			continue; /* EINTR */
		if (p[0].revents & POLLIN) {
			r = read(g->ready[0], g->buf + g->len, sizeof(g->buf) - 1 - g->len);
			if (r > 0)
				g->len += (size_t)r;
			gate_parse(g);
			if (g->len == sizeof(g->buf) - 1)
				g->len = 0; /* garbage: drop it */
		} else if (p[1].revents) {
			g->returned = 1;
		}
	}
	return g->started;
}

/* Let command i end. */
static void gate_release(struct gate *g, int i)
{
	ck_assert(write(g->go[i][1], "x", 1) == 1);
}

/* Wait up to ms for run_all's result. Returns 0 with *res filled, or -1. */
static int gate_finish(struct gate *g, struct gate_result *res, long ms)
{
	struct pollfd p = {.fd = g->done[0], .events = POLLIN};
	int status;

	if (poll(&p, 1, (int)ms) != 1 || io_readn(g->done[0], res, sizeof(*res)) != sizeof(*res))
		return -1;
	xwaitpid(g->helper, &status, 0);
	g->helper = 0;
	return 0;
}

/*
 * Stop the helper if it still runs, and close every pipe. Commands still
 * waiting for their byte then read end of file and end by themselves.
 */
static void gate_close(struct gate *g)
{
	if (g->helper > 0) {
		kill(g->helper, SIGKILL);
		xwaitpid(g->helper, NULL, 0);
		g->helper = 0;
	}
	close(g->ready[0]);
	close(g->ready[1]);
	close(g->done[0]);
	for (int i = 0; i < GATE_CMDS; i++) {
		close(g->go[i][0]);
		close(g->go[i][1]);
	}
}

/* ==== Core: spawn ==== */

START_TEST(test_spawn_returns_child_pid)
{
	char *argv[] = {"/bin/sh", "-c", "exit 7", NULL};
	char buf[64];
	pid_t self = getpid(), pid;
	int status;

	pid = spawn(argv);
	RETURN_IF_STRAY(self);
	ck_assert_msg(pid > 0, "spawn() returned %d (%s), expected the new child's pid", (int)pid,
		      errno_text(pid));
	status = reap(pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 7,
		      "spawn({\"/bin/sh\", \"-c\", \"exit 7\", NULL}): the child %s, expected "
		      "\"exited with status 7\"",
		      how(status, buf, sizeof(buf)));
}
END_TEST

START_TEST(test_spawn_searches_path)
{
	/* Exits 99 if "two words" was split, else with the number of arguments (3). */
	static char script[] = "[ \"$2\" = 'two words' ] || exit 99; exit $#";
	char *argv[] = {"sh", "-c", script, "sh", "one", "two words", "three", NULL};
	char buf[64];
	pid_t self = getpid(), pid;
	int status = 0;

	pid = spawn(argv);
	RETURN_IF_STRAY(self);
	ck_assert_msg(pid > 0, "spawn() returned %d (%s), expected the new child's pid", (int)pid,
		      errno_text(pid));
	status = reap(pid);
	ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 127),
		      "spawn({\"sh\", ...}): the child exited with 127, so \"sh\" was not found: "
		      "use execvp(), which searches PATH, not execv()");
	ck_assert_msg(!(WIFEXITED(status) && WEXITSTATUS(status) == 99),
		      "the command did not receive the argument \"two words\" intact: pass argv "
		      "itself to execvp()");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3,
		      "the command got the wrong arguments: it %s, expected \"exited with status "
		      "3\" (3 arguments after the script)",
		      how(status, buf, sizeof(buf)));
}
END_TEST

START_TEST(test_spawn_missing_command_exits_127)
{
	char *argv[] = {MISSING, "arg", NULL};
	char buf[64];
	pid_t self = getpid(), pid;
	int status = 0;

	pid = spawn(argv);
	RETURN_IF_STRAY(self);
	ck_assert_msg(pid > 0,
		      "spawn() of a program that does not exist returned %d (%s): the parent "
		      "cannot know yet that exec will fail, so it still returns the child's pid",
		      (int)pid, errno_text(pid));
	status = reap(pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 127,
		      "the child of spawn({\"%s\", ...}) %s, expected \"exited with status 127\": "
		      "when execvp() fails, the child must _exit(127)",
		      MISSING, how(status, buf, sizeof(buf)));
}
END_TEST

/* Count the copies of needle in the file open as fd. */
static int count_in_file(int fd, const char *needle)
{
	char text[4096];
	ssize_t len = pread(fd, text, sizeof(text) - 1, 0);
	int n = 0;

	ck_assert_msg(len >= 0, "the test could not read its file: %s", err_name(errno));
	text[len] = '\0';
	for (char *p = text; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

START_TEST(test_spawn_failure_flushes_nothing)
{
	char *argv[] = {MISSING, NULL};
	char marker[64];
	pid_t self = getpid(), pid;
	int saved, fd, copies;

	/* Point stdout at a file, fully buffered, and leave a line in its buffer. */
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = memfd_create("stdout", MFD_CLOEXEC);
	ck_assert_msg(saved >= 0 && fd >= 0, "the test could not make a file: %s", err_name(errno));
	xdup2(fd, STDOUT_FILENO);
	setvbuf(stdout, NULL, _IOFBF, BUFSIZ);
	snprintf(marker, sizeof(marker), "printed once by pid %d\n", (int)self);
	fputs(marker, stdout);

	pid = spawn(argv);
	RETURN_IF_STRAY(self);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	fflush(stdout);
	xdup2(saved, STDOUT_FILENO);
	xclose(saved);

	ck_assert_msg(pid > 0, "spawn() returned %d (%s), expected the new child's pid", (int)pid,
		      errno_text(pid));
	copies = count_in_file(fd, marker);
	xclose(fd);
	ck_assert_msg(
	    copies == 1,
	    "a line the caller printed before spawn() (still in stdout's buffer) came out "
	    "%d times, expected once: after a failed exec the child flushed its copy of "
	    "the parent's stdio buffers. End the child with _exit(127), never exit() or "
	    "fflush()",
	    copies);
}
END_TEST

/* ==== Core: exit_code ==== */

START_TEST(test_exit_code_exited)
{
	static const int codes[] = {3, 0, 1, 42, 255};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		int status = status_of(exit_with, codes[i]);
		int got = exit_code(status);

		ck_assert_msg(got == codes[i],
			      "exit_code(0x%x), the status of a child that called _exit(%d), "
			      "returned %d: %s",
			      status, codes[i], got,
			      got == status && status != 0
				  ? "that is the raw wait status; decode it with WIFEXITED() "
				    "and WEXITSTATUS()"
				  : "expected WEXITSTATUS(status)");
	}
}
END_TEST

START_TEST(test_exit_code_signaled)
{
	static const int sigs[] = {SIGTERM, SIGKILL, SIGINT, SIGUSR1};

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		int status = status_of(die_by, sigs[i]);
		int got = exit_code(status);

		ck_assert_msg(got == 128 + sigs[i],
			      "exit_code(0x%x), the status of a child killed by SIG%s, returned "
			      "%d, expected %d: when WIFSIGNALED(status) the child has no exit "
			      "status; return 128 + WTERMSIG(status)",
			      status, sigabbrev_np(sigs[i]), got, 128 + sigs[i]);
	}
}
END_TEST

/* ==== Core: run_all ==== */

/* The exit status of this run's command: 2 to 255, from the seed (so every run tries another). */
static int seeded_status(void)
{
	return 2 + (int)(suite_seed() % 254);
}

START_TEST(test_run_all_collects_statuses)
{
	char exit_n[32], exited_n[32];
	char *c0[] = {"true", NULL};
	char *c1[] = {"sh", "-c", exit_n, NULL};
	char *c2[] = {"sh", "-c", "kill -TERM $$", NULL};
	char *c3[] = {MISSING, NULL};
	char *c4[] = {"false", NULL};
	char **cmds[] = {c0, c1, c2, c3, c4};
	const char *expect[] = {"exited with status 0", exited_n, "killed by SIGTERM",
				"exited with status 127", "exited with status 1"};
	int statuses[5] = {0};
	char got[64];
	pid_t self = getpid();
	int rc;

	snprintf(exit_n, sizeof(exit_n), "exit %d", seeded_status());
	snprintf(exited_n, sizeof(exited_n), "exited with status %d", seeded_status());
	rc = run_all(cmds, 5, statuses);
	RETURN_IF_STRAY(self);
	ck_assert_msg(rc == 0,
		      "run_all() returned %d (%s), expected 0: a command that fails is not an "
		      "error of run_all; its status says so",
		      rc, errno_text(rc));
	for (int i = 0; i < 5; i++) {
		how(statuses[i], got, sizeof(got));
		ck_assert_msg(strcmp(got, expect[i]) == 0,
			      "statuses[%d] should be the raw wait status of a command that %s; "
			      "got 0x%x, which reads \"%s\". Store what waitpid() gives, unchanged",
			      i, expect[i], statuses[i], got);
	}
}
END_TEST

START_TEST(test_run_all_runs_in_parallel)
{
	struct gate g;
	struct gate_result res;
	int started, finished;

	gate_start(&g);
	started = gate_wait_started(&g, GATE_CMDS, 2000);
	for (int i = 0; i < GATE_CMDS; i++)
		gate_release(&g, i);
	finished = gate_finish(&g, &res, 3000) == 0;
	gate_close(&g);

	ck_assert_msg(started == GATE_CMDS || !g.returned || !finished,
		      "run_all() returned %d (%s) when only %d of the %d commands had started",
		      res.rc, res.rc < 0 ? err_name(res.err) : "no error", started, GATE_CMDS);
	ck_assert_msg(started == GATE_CMDS,
		      "after 2 s only %d of %d commands had started, while run_all() waited for "
		      "the first to end: it waits for each command before starting the next, so "
		      "they run one after another. Start them all, then wait for them all",
		      started, GATE_CMDS);
	ck_assert_msg(finished, "run_all() did not return within 3 s of every command ending");
	ck_assert_msg(res.rc == 0, "run_all() returned %d (%s), expected 0", res.rc,
		      res.rc < 0 ? err_name(res.err) : "no error");
}
END_TEST

START_TEST(test_run_all_keeps_command_order)
{
	struct gate g;
	struct gate_result res;
	char buf[64];
	int finished;

	gate_start(&g);
	if (gate_wait_started(&g, GATE_CMDS, 2000) == GATE_CMDS) {
		/* Let them end last to first, each one only once the one before has ended. */
		for (int i = GATE_CMDS - 1; i >= 0; i--) {
			gate_release(&g, i);
			wait_ended(g.pids[i], 2000);
		}
	} else {
		/* Not in parallel (test_run_all_runs_in_parallel says so): end them in order. */
		for (int i = 0; i < GATE_CMDS; i++)
			gate_release(&g, i);
	}
	finished = gate_finish(&g, &res, 3000) == 0;
	gate_close(&g);

	ck_assert_msg(finished, "run_all() did not return within 3 s of every command ending");
	ck_assert_msg(res.rc == 0, "run_all() returned %d (%s), expected 0", res.rc,
		      res.rc < 0 ? err_name(res.err) : "no error");
	for (int i = 0; i < GATE_CMDS; i++)
		ck_assert_msg(WIFEXITED(res.statuses[i]) && WEXITSTATUS(res.statuses[i]) == 10 + i,
			      "statuses[%d] should be the status of command %d (exited with "
			      "status %d), got \"%s\". The commands ended last to first: keep each "
			      "status at its command's index, not in the order they end",
			      i, i, 10 + i, how(res.statuses[i], buf, sizeof(buf)));
}
END_TEST

/* ==== Cleanup ==== */

START_TEST(test_run_all_reaps_every_child)
{
	char *c_true[] = {"true", NULL};
	char *c_sh[] = {"sh", "-c", "exit 5", NULL};
	char *c_sleep[] = {"sleep", "0.05", NULL};
	char **cmds[] = {c_sleep, c_true, c_sh, c_sleep, c_true, c_sh};
	int statuses[6];
	pid_t self = getpid();
	int rc;

	rc = run_all(cmds, 6, statuses);
	RETURN_IF_STRAY(self);
	ck_assert_msg(rc == 0, "run_all() returned %d (%s), expected 0", rc, errno_text(rc));
	suite_check_leaks("run_all()");
}
END_TEST

START_TEST(test_run_all_leaves_other_children_alone)
{
	char *c_true[] = {"true", NULL};
	char **cmds[] = {c_true, c_true, c_true};
	int statuses[3], status = 0;
	pid_t self = getpid(), other, r;
	int rc;

	/* A child of the caller's own, already ended: a zombie waiting for the caller. */
	other = proc_run(exit_with, (void *)42);
	ck_assert_msg(other > 0 && wait_ended(other, 2000), "the test could not start its child");

	rc = run_all(cmds, 3, statuses);
	RETURN_IF_STRAY(self);
	r = waitpid(other, &status, WNOHANG);
	ck_assert_msg(rc == 0, "run_all() returned %d (%s), expected 0", rc, errno_text(rc));
	ck_assert_msg(r == other && WIFEXITED(status) && WEXITSTATUS(status) == 42,
		      "run_all() reaped pid %d, a child the caller had started before calling it "
		      "(waitpid(%d) now fails with %s): wait for your own children by their pids, "
		      "never with wait() or waitpid(-1, ...)",
		      (int)other, (int)other, errno_text(r));
	for (int i = 0; i < 3; i++)
		ck_assert_msg(WIFEXITED(statuses[i]) && WEXITSTATUS(statuses[i]) == 0,
			      "statuses[%d] is 0x%x, expected the status of `true` (0)", i,
			      statuses[i]);
	suite_check_leaks("run_all()");
}
END_TEST

/* ==== Errors ==== */

/*
 * RLIMIT_NPROC does not bind the real root: become nobody when we are root.
 * Inside a user namespace nobody may not exist; then we stay as we are, and
 * limit_processes finds out whether the limit holds for us.
 */
static void drop_root(void)
{
	if (geteuid() != 0)
		return;
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		ck_abort_msg("setgroups: %s", err_name(errno));
	if (setgid(65534) == 0 && setuid(65534) < 0)
		ck_abort_msg("setuid: %s", err_name(errno));
}

/*
 * Let this user start only `more` processes beyond those it runs now. The
 * count is found by trying: the lowest limit under which a fork succeeds is
 * one above the processes (and threads) the user already has. Returns 1, or
 * 0 when the limit does not bind this process (a fork succeeds even under a
 * limit of 1, though the runner and the test already are two processes).
 */
static int limit_processes(int more)
{
	struct rlimit old, lim;

	ck_assert(getrlimit(RLIMIT_NPROC, &old) == 0);
	lim = old;
	for (rlim_t n = 1; n < 100000 && n <= lim.rlim_max; n++) {
		pid_t pid;

		lim.rlim_cur = n;
		ck_assert_msg(setrlimit(RLIMIT_NPROC, &lim) == 0, "setrlimit: %s", err_name(errno));
		pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid > 0) {
			xwaitpid(pid, NULL, 0);
			lim.rlim_cur = n - 1 + (rlim_t)more;
			if (n == 1 || lim.rlim_cur > lim.rlim_max)
				lim = old;
			ck_assert(setrlimit(RLIMIT_NPROC, &lim) == 0);
			return n > 1;
		}
		ck_assert_msg(errno == EAGAIN, "fork: %s", err_name(errno));
	}
	ck_abort_msg("the test could not find how many processes this user runs");
	return 0;
}

START_TEST(test_run_all_waits_after_fork_failure)
{
	char *c_true[] = {"true", NULL};
	char **cmds[] = {c_true, c_true, c_true, c_true, c_true, c_true, c_true, c_true};
	int statuses[8];
	pid_t self = getpid();
	int rc, err, left;

	/* -1 reads "stopped": no status waitpid() gives for a child that ended. */
	for (int i = 0; i < 8; i++)
		statuses[i] = -1;
	drop_root();
	/* Two more processes at a time: the third fork fails with EAGAIN. Where the limit does
	 * not bind (privileged), run_all simply succeeds and the test checks that it did. */
	limit_processes(2);
	rc = run_all(cmds, 8, statuses);
	err = errno;
	RETURN_IF_STRAY(self);
	left = proc_count_children(0);
	ck_assert_msg(left == 0,
		      "run_all() returned %d when fork() failed (EAGAIN), but left %d of the "
		      "commands it had started unwaited for: wait for those already started before "
		      "returning the error",
		      rc, left);
	if (rc == 0) {
		/* Legal only if every command really ran: at most two at a time, then. */
		for (int i = 0; i < 8; i++)
			ck_assert_msg(
			    WIFEXITED(statuses[i]) && WEXITSTATUS(statuses[i]) == 0,
			    "run_all() returned 0 although fork() failed and command %d "
			    "never ran (statuses[%d] = 0x%x): return -1 with fork's errno",
			    i, i, statuses[i]);
		return;
	}
	ck_assert_msg(rc == -1, "run_all() returned %d when fork() failed, expected -1", rc);
	ck_assert_msg(err == EAGAIN, "run_all() failed with errno %s, expected EAGAIN from fork()",
		      err_name(err));
}
END_TEST

void suite_define(void)
{
	/* Core: spawn */
	SUITE_TEST(test_spawn_returns_child_pid, 1,
		   "What does fork() return in the parent, and does spawn() wait for anything?\n"
		   "fork(2) returns the child's pid in the parent and 0 in the child; the child "
		   "then becomes the command with execvp(3).\n"
		   "pid = fork(); in the child execvp(argv[0], argv), then _exit(127); in the "
		   "parent return pid at once, without waitpid().");
	SUITE_TEST(test_spawn_searches_path, 1,
		   "Is \"sh\", with no '/', found, and does \"two words\" arrive as one argument?\n"
		   "The exec functions with a p search PATH; those with a v pass the argument "
		   "array as is: exec(3).\n"
		   "Call execvp(argv[0], argv): not execv(), and no command line built for sh.");
	SUITE_TEST(test_spawn_missing_command_exits_127, 2,
		   "What does your child do when exec comes back?\n"
		   "execvp(3) returns only when it fails, and the child then goes on with the "
		   "parent's code; 127 is the shell's code for \"command not found\".\n"
		   "Right after execvp(argv[0], argv) in the child, call _exit(127); the parent "
		   "still returns the pid.");
	SUITE_TEST(test_spawn_failure_flushes_nothing, 2,
		   "Why would a line printed before spawn() come out twice?\n"
		   "The child holds a copy of the parent's stdio buffers: exit(3) flushes them, "
		   "_exit(2) ends the process and nothing else.\n"
		   "End the child whose exec failed with _exit(127), never exit() or fflush().");
	/* Core: exit_code */
	SUITE_TEST(test_exit_code_exited, 1,
		   "Is the number waitpid() stores the exit code itself?\n"
		   "A wait status packs how the child ended; the macros of waitpid(2) decode it.\n"
		   "if (WIFEXITED(status)) return WEXITSTATUS(status);");
	SUITE_TEST(test_exit_code_signaled, 2,
		   "What does the shell show in $? for a command killed by SIGTERM?\n"
		   "A child killed by a signal has no exit status: WIFSIGNALED() and WTERMSIG() "
		   "say which signal, waitpid(2); the shell adds 128.\n"
		   "if (WIFSIGNALED(status)) return 128 + WTERMSIG(status); for anything else, "
		   "errno = EINVAL and return -1.");
	/* Core: run_all */
	SUITE_TEST_EX(
	    test_run_all_collects_statuses, 2, 0, SUITE_SEEDED,
	    "Is a command that exits 42, or could not be run, an error of run_all()?\n"
	    "run_all() keeps the raw wait status and exit_code() decodes it later: waitpid(2).\n"
	    "Store each status exactly as waitpid(pids[i], &statuses[i], 0) gives it, and return 0 "
	    "even when commands fail.");
	SUITE_TEST(test_run_all_runs_in_parallel, 3,
		   "Is the second command started before the first one has ended?\n"
		   "waitpid(2) blocks until that child ends: starting and waiting in one loop runs "
		   "the commands one after another.\n"
		   "Two loops: the first calls spawn() for every command and keeps the pids, the "
		   "second waits for them all.");
	SUITE_TEST(test_run_all_keeps_command_order, 2,
		   "Which command does the first child to end belong to?\n"
		   "wait(2) returns whichever child ends first; waitpid(2) given a pid waits for "
		   "that child only.\n"
		   "In the second loop call waitpid(pids[i], &statuses[i], 0).");
	/* Cleanup */
	SUITE_TEST(test_run_all_reaps_every_child, 2,
		   "Is any of your children a zombie, or still running, when run_all() returns?\n"
		   "A child that has ended stays a zombie until its parent waits for it; with "
		   "WNOHANG, waitpid(2) returns at once if it still runs.\n"
		   "Call waitpid(pids[i], &statuses[i], 0), blocking (no WNOHANG), for every child "
		   "you started, before returning.");
	SUITE_TEST(test_run_all_leaves_other_children_alone, 2,
		   "Could run_all() reap a child the caller started before calling it?\n"
		   "wait() and waitpid(-1, ...) reap any child of the process, not only the ones "
		   "you started: waitpid(2).\n"
		   "Never call wait() or waitpid(-1, ...): wait for each child by the pid spawn() "
		   "returned.");
	/* Errors */
	SUITE_TEST(test_run_all_waits_after_fork_failure, 2,
		   "When a fork() fails half-way, what becomes of the commands already started?\n"
		   "fork(2) fails with EAGAIN at the process limit; the children already started "
		   "still need their waitpid(2).\n"
		   "On a spawn() failure, save errno and stop starting; waitpid() the ones "
		   "started, then restore errno and return -1.");
}
