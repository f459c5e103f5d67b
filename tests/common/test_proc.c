/*
 * Unit tests of proc.c. Every count is checked against real processes,
 * zombies, pipes and threads made for the purpose, and checked to move when
 * they come and go. Counts are taken relative to a baseline, since Check's
 * test process may hold descriptors of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"
#include "unit.h"

#define TEXT_MAX  128     /* room for a description or a status text */
#define NO_SUCH   INT_MAX /* a pid above any pid_max: no such process */
#define SETTLE_MS 2000    /* how long a thread or a child may take to end */
#define NTHREADS  3       /* threads started by the thread tests */
#define TICK_US   1000    /* the interrupting timer's period */

/* ==== Children ==== */

static void child_pause(void *arg)
{
	(void)arg;
	for (;;)
		pause();
}

static void child_return(void *arg)
{
	(void)arg;
}

static void child_exit(void *arg)
{
	_exit(*(int *)arg);
}

static void child_sleep_exit(void *arg)
{
	clock_sleep_ms(50);
	_exit(*(int *)arg);
}

/* Write our parent's pid to the pipe whose write end is *arg. */
static void child_report_parent(void *arg)
{
	pid_t ppid = getppid();

	if (write(*(int *)arg, &ppid, sizeof(ppid)) != sizeof(ppid))
		_exit(2);
}

/* Make a new process group, fork a grandchild into it, report the grandchild's pid, pause. */
static void child_group_leader(void *arg)
{
	int fd = *(int *)arg;
	pid_t g;

	setpgid(0, 0);
	g = fork();
	if (g == 0)
		child_pause(NULL);
	if (g < 0 || write(fd, &g, sizeof(g)) != sizeof(g))
		_exit(2);
	child_pause(NULL);
}

/* Fork two grandchildren, one paused and one ended (a zombie); report the paused one, pause. */
static void child_with_children(void *arg)
{
	int fd = *(int *)arg;
	pid_t paused = fork(), dead;
	siginfo_t si;

	if (paused == 0)
		child_pause(NULL);
	dead = fork();
	if (dead == 0)
		_exit(0);
	if (paused < 0 || dead < 0 || waitid(P_PID, dead, &si, WEXITED | WNOWAIT) < 0)
		_exit(2);
	if (write(fd, &paused, sizeof(paused)) != sizeof(paused))
		_exit(2);
	child_pause(NULL);
}

/* Start fn(arg) with proc_run, failing the test if it can't. */
static pid_t run(void (*fn)(void *), void *arg)
{
	pid_t pid = proc_run(fn, arg);

	ck_assert_msg(pid > 0, "proc_run failed: %s", err_name(errno));
	return pid;
}

/* Wait, without reaping, until child pid has ended: it is then a zombie. */
static void await_zombie(pid_t pid)
{
	siginfo_t si;

	while (waitid(P_PID, pid, &si, WEXITED | WNOWAIT) < 0)
		ck_assert_msg(errno == EINTR, "test: waitid failed");
}

static int reap_status(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		ck_assert_msg(errno == EINTR, "test: waitpid failed");
	return status;
}

static void read_exactly(int fd, void *buf, size_t n)
{
	ck_assert_msg(read(fd, buf, n) == (ssize_t)n, "test: a child did not report");
}

static void *thread_wait_for_eof(void *arg)
{
	char c;

	while (read(*(int *)arg, &c, 1) > 0)
		;
	return NULL;
}

/* Reap child pid, killing it first if it has not ended within ms. Its wait status, or -1. */
static int reap_within(pid_t pid, long ms)
{
	uint64_t end = unit_mono_ns() + ms * 1000000ull;
	int status;
	pid_t r;

	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && unit_mono_ns() < end)
		clock_sleep_ms(1);
	if (r == pid)
		return status;
	unit_kill_reap(pid);
	return -1;
}

/* Poll count(pid) until it is want or SETTLE_MS pass; returns the last count. */
static int settle(int (*count)(pid_t), pid_t pid, int want)
{
	uint64_t end = unit_mono_ns() + SETTLE_MS * 1000000ull;
	int n;

	while ((n = count(pid)) != want && unit_mono_ns() < end)
		clock_sleep_ms(1);
	return n;
}

/*
 * Check's runner handles SIGTERM by passing it on to the test's process group,
 * and our children would inherit that handler: give them the default action.
 */
static void default_sigterm(void)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
}

/* ==== proc_run ==== */

START_TEST(test_proc_run_runs_fn_in_child)
{
	int fds[2];
	pid_t reported = 0, pid;
	int status;

	ck_assert_int_eq(pipe(fds), 0);
	pid = run(child_report_parent, &fds[1]);
	read_exactly(fds[0], &reported, sizeof(reported));
	ck_assert_msg(reported == getpid(), "fn must run in a child of the caller");
	status = reap_status(pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "a child whose fn returns must leave with _exit(0) (wait status 0x%x)",
		      status);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_proc_run_fn_exit_status)
{
	int code = 7;
	int status = reap_status(run(child_exit, &code));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 7,
		      "fn's own _exit(7) must be the child's status (wait status 0x%x)", status);
}
END_TEST

START_TEST(test_proc_run_no_double_flush)
{
	int fds[2], saved;
	char out[64] = "";
	ssize_t n;

	ck_assert_int_eq(pipe(fds), 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fds[1], STDOUT_FILENO);
	printf("once"); /* still in stdout's buffer when the child is forked */
	reap_status(run(child_return, NULL));
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	ck_assert_msg(strcmp(out, "once") == 0,
		      "stdout got \"%s\": a child that flushes the parent's stdio buffer again "
		      "left with exit(), not _exit()",
		      out);
}
END_TEST

/* ==== proc_wait_timeout ==== */

START_TEST(test_proc_wait_timeout_reaps_ended_child)
{
	int code = 3, status = -1;
	pid_t pid = run(child_exit, &code);

	ck_assert_int_eq(proc_wait_timeout(pid, &status, 5000), 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3,
		      "proc_wait_timeout must store the wait status (0x%x)", status);
	ck_assert_msg(waitpid(pid, NULL, WNOHANG) < 0 && errno == ECHILD,
		      "after proc_wait_timeout returns 0 the child must be reaped");
}
END_TEST

START_TEST(test_proc_wait_timeout_forever)
{
	int code = 4, status = -1;
	pid_t pid = run(child_sleep_exit, &code);

	ck_assert_int_eq(proc_wait_timeout(pid, &status, -1), 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 4,
		      "a negative timeout waits until the end (wait status 0x%x)", status);
}
END_TEST

START_TEST(test_proc_wait_timeout_times_out)
{
	pid_t pid = run(child_pause, NULL);
	uint64_t start = unit_mono_ns(), took;
	int status = -1, r;

	errno = 0;
	r = proc_wait_timeout(pid, &status, 50);
	took = unit_mono_ns() - start;
	ck_assert_msg(r == -1 && errno == ETIMEDOUT,
		      "waiting 50 ms on a sleeping child must fail with ETIMEDOUT (got %d, %s)", r,
		      err_name(errno));
	ck_assert_msg(took >= 50000000u, "proc_wait_timeout gave up after %.1f ms of 50",
		      took / 1e6);
	ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0,
		      "after ETIMEDOUT the child must be left alone, running and unreaped");
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	ck_assert_int_eq(proc_wait_timeout(pid, &status, 5000), 0);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
		      "the child was not ended by our SIGTERM (wait status 0x%x): after ETIMEDOUT "
		      "proc_wait_timeout must leave it alone",
		      status);
}
END_TEST

START_TEST(test_proc_wait_timeout_zero)
{
	int code = 6, status = -1;
	pid_t running = run(child_pause, NULL), ended = run(child_exit, &code);

	errno = 0;
	ck_assert_int_eq(proc_wait_timeout(running, &status, 0), -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	await_zombie(ended);
	ck_assert_msg(proc_wait_timeout(ended, &status, 0) == 0,
		      "a timeout of 0 must still reap a child that has already ended");
	ck_assert_int_eq(WEXITSTATUS(status), 6);
	unit_kill_reap(running);
}
END_TEST

START_TEST(test_proc_wait_timeout_not_a_child)
{
	static const long timeouts[] = {0, 100, -1};

	for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++) {
		errno = 0;
		ck_assert_msg(proc_wait_timeout(getppid(), NULL, timeouts[i]) == -1 &&
				  errno == ECHILD,
			      "waiting (timeout %ld) for a process that is not our child must "
			      "fail with waitpid's ECHILD (errno %s)",
			      timeouts[i], err_name(errno));
	}
}
END_TEST

START_TEST(test_proc_wait_timeout_status_optional)
{
	int code = 0;

	ck_assert_int_eq(proc_wait_timeout(run(child_exit, &code), NULL, 5000), 0);
}
END_TEST

START_TEST(test_proc_wait_timeout_survives_signals)
{
	int code = 5, status = -1, r_forever, err, r_deadline, ticks;
	pid_t a = run(child_sleep_exit, &code), b;

	unit_ticks_start(TICK_US);
	r_forever = proc_wait_timeout(a, &status, -1);
	err = errno;
	b = proc_run(child_sleep_exit, &code);
	r_deadline = b > 0 ? proc_wait_timeout(b, NULL, 5000) : -1;
	ticks = unit_ticks_stop();
	ck_assert_msg(ticks > 0, "test: the timer never fired");
	ck_assert_msg(r_forever == 0 && WEXITSTATUS(status) == 5,
		      "a wait without timeout returned %d (%s) under signals: it must retry "
		      "after EINTR",
		      r_forever, err_name(err));
	ck_assert_msg(r_deadline == 0, "a wait with a deadline failed under signals");
}
END_TEST

/* ==== proc_reap ==== */

START_TEST(test_proc_reap_counts_ended_children)
{
	int code = 0;
	pid_t pids[3];

	for (int i = 0; i < 3; i++)
		pids[i] = run(child_exit, &code);
	for (int i = 0; i < 3; i++)
		await_zombie(pids[i]);
	ck_assert_int_eq(proc_reap(), 3);
	ck_assert_int_eq(proc_reap(), 0);
	ck_assert_msg(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD,
		      "proc_reap must reap every ended child");
}
END_TEST

START_TEST(test_proc_reap_leaves_running_children)
{
	int code = 0;
	pid_t running = run(child_pause, NULL), ended = run(child_exit, &code);

	await_zombie(ended);
	ck_assert_msg(proc_reap() == 1, "proc_reap must reap the ended child, and not wait for "
					"the running one");
	ck_assert_msg(waitpid(running, NULL, WNOHANG) == 0, "the running child must be left");
	unit_kill_reap(running);
	ck_assert_int_eq(proc_reap(), 0); /* no children at all */
}
END_TEST

/* ==== proc_kill_group ==== */

START_TEST(test_proc_kill_group_kills_whole_group)
{
	int fds[2], r, leader_status, grandchild_status;
	pid_t leader, grandchild;

	unit_become_subreaper(); /* the orphaned grandchild comes back to us to be reaped */
	ck_assert_int_eq(pipe(fds), 0);
	leader = run(child_group_leader, &fds[1]);
	setpgid(leader, leader); /* whichever of us runs first makes the group */
	read_exactly(fds[0], &grandchild, sizeof(grandchild));
	r = proc_kill_group(leader, SIGTERM);
	/* Check cleans up only its own group: reap this one before any assertion can fail. */
	leader_status = reap_within(leader, SETTLE_MS);
	grandchild_status = reap_within(grandchild, SETTLE_MS);
	close(fds[0]);
	close(fds[1]);
	ck_assert_msg(r == 0, "proc_kill_group failed: %s", err_name(errno));
	ck_assert_msg(leader_status != -1 && WIFSIGNALED(leader_status) &&
			  WTERMSIG(leader_status) == SIGTERM,
		      "the group's leader was not killed by SIGTERM (0x%x)", leader_status);
	ck_assert_msg(grandchild_status != -1 && WIFSIGNALED(grandchild_status) &&
			  WTERMSIG(grandchild_status) == SIGTERM,
		      "the grandchild in the group was not killed by SIGTERM (0x%x)",
		      grandchild_status);
	errno = 0;
	ck_assert_msg(proc_kill_group(leader, 0) == -1 && errno == ESRCH,
		      "an empty group must give ESRCH (errno %s)", err_name(errno));
}
END_TEST

START_TEST(test_proc_kill_group_rejects_bad_pgid)
{
	/* kill() reads 0, 1 and negative numbers as our group, everyone, a single process. */
	static const pid_t bad[] = {0, 1, -1, -5};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(proc_kill_group(bad[i], 0) == -1 && errno == EINVAL,
			      "proc_kill_group(%d, ...) names no group: EINVAL expected (errno %s)",
			      (int)bad[i], err_name(errno));
	}
}
END_TEST

/* ==== proc_state ==== */

START_TEST(test_proc_state_follows_a_child)
{
	int code = 0;
	pid_t sleeper = run(child_pause, NULL), ended = run(child_exit, &code);
	char s = 0;

	ck_assert_int_eq(proc_state(0, 0), 'R'); /* the caller, reading /proc, runs */
	ck_assert_int_eq(proc_state(getpid(), gettid()), 'R');
	for (int i = 0; i < 200 && (s = proc_state(sleeper, 0)) != 'S'; i++)
		usleep(5000);
	ck_assert_msg(s == 'S', "a child in pause() is S; proc_state says '%c'", s ? s : '0');
	await_zombie(ended);
	ck_assert_int_eq(proc_state(ended, 0), 'Z');
	unit_kill_reap(sleeper);
	unit_kill_reap(ended);
	ck_assert_msg(proc_state(ended, 0) == 0, "a reaped child is gone: 0");
}
END_TEST

/* ==== proc_count_children, proc_count_zombies ==== */

START_TEST(test_proc_count_children_follows_fork_and_reap)
{
	int n0 = proc_count_children(0);
	pid_t pids[3];

	ck_assert_int_ge(n0, 0);
	for (int i = 0; i < 3; i++)
		pids[i] = run(child_pause, NULL);
	ck_assert_int_eq(proc_count_children(0), n0 + 3);
	ck_assert_int_eq(proc_count_children(getpid()), n0 + 3);
	unit_kill_reap(pids[0]);
	ck_assert_int_eq(proc_count_children(0), n0 + 2);
	unit_kill_reap(pids[1]);
	unit_kill_reap(pids[2]);
	ck_assert_int_eq(proc_count_children(0), n0);
}
END_TEST

START_TEST(test_proc_count_children_of_other_process)
{
	int fds[2], children, zombies;
	pid_t pid, paused;

	unit_become_subreaper(); /* the grandchildren come back to us to be reaped */
	ck_assert_int_eq(pipe(fds), 0);
	pid = run(child_with_children, &fds[1]);
	read_exactly(fds[0], &paused, sizeof(paused));
	children = proc_count_children(pid);
	zombies = proc_count_zombies(pid);
	unit_kill_reap(pid);
	unit_kill_reap(paused);
	unit_reap_all(); /* the zombie */
	close(fds[0]);
	close(fds[1]);
	ck_assert_msg(children == 2,
		      "the child has 2 children (one a zombie); proc_count_children says %d",
		      children);
	ck_assert_msg(zombies == 1, "the child has 1 zombie; proc_count_zombies says %d", zombies);
}
END_TEST

START_TEST(test_proc_count_zombies_follows_exit_and_reap)
{
	int code = 0, z0 = proc_count_zombies(0), c0 = proc_count_children(0);
	pid_t running = run(child_pause, NULL), a = run(child_exit, &code), b;

	b = run(child_exit, &code);
	await_zombie(a);
	await_zombie(b);
	ck_assert_msg(proc_count_zombies(0) == z0 + 2,
		      "2 children ended unreaped: zombies went from %d to %d", z0,
		      proc_count_zombies(0));
	ck_assert_int_eq(proc_count_children(0), c0 + 3); /* zombies are children too */
	reap_status(a);
	ck_assert_int_eq(proc_count_zombies(0), z0 + 1);
	reap_status(b);
	ck_assert_int_eq(proc_count_zombies(0), z0);
	unit_kill_reap(running);
	ck_assert_int_eq(proc_count_children(0), c0);
}
END_TEST

/* ==== proc_count_fds ==== */

START_TEST(test_proc_count_fds_follows_pipe_dup_close)
{
	int n0 = proc_count_fds(0), fds[2], copy;

	ck_assert_int_gt(n0, 0);
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(proc_count_fds(0), n0 + 2);
	copy = dup(fds[0]);
	ck_assert_int_eq(proc_count_fds(0), n0 + 3);
	close(fds[0]);
	close(fds[1]);
	ck_assert_int_eq(proc_count_fds(0), n0 + 1);
	close(copy);
	ck_assert_int_eq(proc_count_fds(0), n0);
}
END_TEST

START_TEST(test_proc_count_fds_own_pid_same_as_zero)
{
	ck_assert_msg(proc_count_fds(getpid()) == proc_count_fds(0),
		      "proc_count_fds(getpid()) is %d but proc_count_fds(0) is %d: both count "
		      "this process",
		      proc_count_fds(getpid()), proc_count_fds(0));
}
END_TEST

START_TEST(test_proc_count_fds_of_child)
{
	int fds[2], mine;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = run(child_pause, NULL); /* it inherits every descriptor we have */
	mine = proc_count_fds(0);
	ck_assert_msg(proc_count_fds(pid) == mine,
		      "the child has our %d descriptors; proc_count_fds(child) says %d", mine,
		      proc_count_fds(pid));
	close(fds[0]);
	ck_assert_int_eq(proc_count_fds(pid), mine); /* our close is not the child's */
	unit_kill_reap(pid);
	ck_assert_int_eq(proc_count_fds(pid), -1);
	ck_assert_int_eq(proc_count_fds(NO_SUCH), -1);
	close(fds[1]);
}
END_TEST

/* ==== proc_count_threads ==== */

START_TEST(test_proc_count_threads_follows_create_and_join)
{
	int n0 = proc_count_threads(0), fds[2];
	pthread_t t[NTHREADS];

	ck_assert_int_ge(n0, 1);
	ck_assert_int_eq(pipe(fds), 0);
	for (int i = 0; i < NTHREADS; i++) {
		xpthread_create(&t[i], thread_wait_for_eof, &fds[0]);
		ck_assert_int_eq(proc_count_threads(0), n0 + i + 1);
	}
	ck_assert_int_eq(proc_count_threads(getpid()), n0 + NTHREADS);
	close(fds[1]); /* every thread sees end of file and returns */
	for (int i = 0; i < NTHREADS; i++)
		xpthread_join(t[i], NULL);
	/* A joined thread may linger in /proc for a moment after it ran its last line. */
	ck_assert_int_eq(settle(proc_count_threads, 0, n0), n0);
	close(fds[0]);
}
END_TEST

START_TEST(test_proc_count_threads_of_child)
{
	int fds[2];
	pthread_t t;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	xpthread_create(&t, thread_wait_for_eof, &fds[0]);
	pid = run(child_pause, NULL);
	ck_assert_msg(proc_count_threads(pid) == 1,
		      "a forked child has one thread, whatever its parent has; counted %d",
		      proc_count_threads(pid));
	unit_kill_reap(pid);
	close(fds[1]);
	xpthread_join(t, NULL);
	close(fds[0]);
	ck_assert_int_eq(proc_count_threads(NO_SUCH), -1);
}
END_TEST

/* ==== proc_describe_fd ==== */

START_TEST(test_proc_describe_fd_pipe)
{
	char r[TEXT_MAX], w[TEXT_MAX];
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(proc_describe_fd(0, fds[0], r, sizeof(r)), 0);
	ck_assert_int_eq(proc_describe_fd(0, fds[1], w, sizeof(w)), 0);
	ck_assert_msg(strncmp(r, "pipe:[", 6) == 0 && r[strlen(r) - 1] == ']',
		      "a pipe must read \"pipe:[inode]\", not \"%s\"", r);
	ck_assert_msg(strcmp(r, w) == 0, "both ends of one pipe name one inode: %s and %s", r, w);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_proc_describe_fd_file_and_socket)
{
	char path[] = "/tmp/ipclab-unit-XXXXXX", real[PATH_MAX], got[PATH_MAX + 16];
	int fd = mkstemp(path), sv[2], r;
	char *known;

	ck_assert_int_ge(fd, 0);
	known = realpath(path, real); /* the name /proc shows, should /tmp be a link */
	r = proc_describe_fd(0, fd, got, sizeof(got));
	unlink(path);
	close(fd);
	ck_assert_ptr_nonnull(known);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(got, real);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(proc_describe_fd(getpid(), sv[0], got, sizeof(got)), 0);
	ck_assert_msg(strncmp(got, "socket:[", 8) == 0,
		      "a socket must read \"socket:[inode]\", "
		      "not \"%s\"",
		      got);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_proc_describe_fd_of_child)
{
	char mine[TEXT_MAX], theirs[TEXT_MAX];
	int fds[2], later[2];
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = run(child_pause, NULL);
	ck_assert_int_eq(pipe(later), 0); /* opened after the fork: not the child's */
	ck_assert_int_eq(proc_describe_fd(0, fds[1], mine, sizeof(mine)), 0);
	ck_assert_int_eq(proc_describe_fd(pid, fds[1], theirs, sizeof(theirs)), 0);
	ck_assert_msg(strcmp(mine, theirs) == 0, "the child inherited our pipe: %s, not %s", mine,
		      theirs);
	errno = 0;
	ck_assert_int_eq(proc_describe_fd(pid, later[1], theirs, sizeof(theirs)), -1);
	ck_assert_int_eq(errno, EBADF);
	unit_kill_reap(pid);
	close(fds[0]);
	close(fds[1]);
	close(later[0]);
	close(later[1]);
}
END_TEST

START_TEST(test_proc_describe_fd_errors)
{
	char buf[TEXT_MAX];
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	close(fds[1]);
	errno = 0;
	ck_assert_int_eq(proc_describe_fd(0, fds[1], buf, sizeof(buf)), -1);
	ck_assert_msg(errno == EBADF, "a closed descriptor must give EBADF, not %s",
		      err_name(errno));
	errno = 0;
	ck_assert_int_eq(proc_describe_fd(0, -1, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_int_eq(proc_describe_fd(0, fds[0], buf, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(fds[0]);
}
END_TEST

START_TEST(test_proc_describe_fd_truncates)
{
	char buf[8];
	int fds[2];

	memset(buf, 'X', sizeof(buf));
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(proc_describe_fd(0, fds[0], buf, 5), 0);
	ck_assert_msg(strcmp(buf, "pipe") == 0,
		      "cut to 5 bytes, \"pipe:[...]\" is \"pipe\", not "
		      "\"%.8s\"",
		      buf);
	ck_assert_msg(buf[5] == 'X', "proc_describe_fd wrote past size");
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* ==== proc_status_text ==== */

/* The text of status, for comparing in one line. */
static const char *text(int status)
{
	static char buf[TEXT_MAX];

	proc_status_text(status, buf, sizeof(buf));
	return buf;
}

START_TEST(test_proc_status_text_exit)
{
	int code = 3;

	ck_assert_str_eq(text(reap_status(run(child_exit, &code))), "exited with status 3");
	code = 0;
	ck_assert_str_eq(text(reap_status(run(child_exit, &code))), "exited with status 0");
	code = 255;
	ck_assert_str_eq(text(reap_status(run(child_exit, &code))), "exited with status 255");
}
END_TEST

START_TEST(test_proc_status_text_signal)
{
	pid_t pid = run(child_pause, NULL);

	kill(pid, SIGKILL);
	ck_assert_str_eq(text(reap_status(pid)), "killed by SIGKILL");
	pid = run(child_pause, NULL);
	kill(pid, SIGTERM);
	ck_assert_str_eq(text(reap_status(pid)), "killed by SIGTERM");
	/* Made by hand rather than by crashing a child, to leave no core file behind. */
	ck_assert_str_eq(text(W_EXITCODE(0, SIGSEGV) | WCOREFLAG),
			 "killed by SIGSEGV (core dumped)");
}
END_TEST

START_TEST(test_proc_status_text_stopped)
{
	pid_t pid = run(child_pause, NULL);
	int status;

	kill(pid, SIGSTOP);
	while (waitpid(pid, &status, WUNTRACED) < 0)
		ck_assert_int_eq(errno, EINTR);
	ck_assert_str_eq(text(status), "stopped by SIGSTOP");
	unit_kill_reap(pid);
}
END_TEST

START_TEST(test_proc_status_text_unnamed_signal)
{
	/* Real-time signals have no abbreviation: the text says "SIG?" for both kinds. */
	ck_assert_str_eq(text(W_EXITCODE(0, SIGRTMIN + 1)), "killed by SIG?");
	ck_assert_str_eq(text(W_STOPCODE(SIGRTMIN + 1)), "stopped by SIG?");
}
END_TEST

START_TEST(test_proc_status_text_truncates)
{
	char buf[12];

	memset(buf, 'X', sizeof(buf));
	proc_status_text(W_EXITCODE(3, 0), buf, 8);
	ck_assert_str_eq(buf, "exited ");
	ck_assert_msg(buf[8] == 'X', "proc_status_text wrote past size");
}
END_TEST

/* ==== The suite ==== */

Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *run_wait = tcase_create("run and wait");
	TCase *counts = tcase_create("counts");
	TCase *describe = tcase_create("describe");

	tcase_add_test(run_wait, test_proc_run_runs_fn_in_child);
	tcase_add_test(run_wait, test_proc_run_fn_exit_status);
	tcase_add_test(run_wait, test_proc_run_no_double_flush);
	tcase_add_test(run_wait, test_proc_wait_timeout_reaps_ended_child);
	tcase_add_test(run_wait, test_proc_wait_timeout_forever);
	tcase_add_test(run_wait, test_proc_wait_timeout_times_out);
	tcase_add_test(run_wait, test_proc_wait_timeout_zero);
	tcase_add_test(run_wait, test_proc_wait_timeout_not_a_child);
	tcase_add_test(run_wait, test_proc_wait_timeout_status_optional);
	tcase_add_test(run_wait, test_proc_wait_timeout_survives_signals);
	tcase_add_test(run_wait, test_proc_reap_counts_ended_children);
	tcase_add_test(run_wait, test_proc_reap_leaves_running_children);
	tcase_add_test(run_wait, test_proc_kill_group_kills_whole_group);
	tcase_add_test(run_wait, test_proc_kill_group_rejects_bad_pgid);
	tcase_add_test(counts, test_proc_count_children_follows_fork_and_reap);
	tcase_add_test(counts, test_proc_count_children_of_other_process);
	tcase_add_test(counts, test_proc_count_zombies_follows_exit_and_reap);
	tcase_add_test(counts, test_proc_count_fds_follows_pipe_dup_close);
	tcase_add_test(counts, test_proc_count_fds_own_pid_same_as_zero);
	tcase_add_test(counts, test_proc_count_fds_of_child);
	tcase_add_test(counts, test_proc_count_threads_follows_create_and_join);
	tcase_add_test(counts, test_proc_count_threads_of_child);
	tcase_add_test(describe, test_proc_describe_fd_pipe);
	tcase_add_test(describe, test_proc_describe_fd_file_and_socket);
	tcase_add_test(describe, test_proc_describe_fd_of_child);
	tcase_add_test(describe, test_proc_describe_fd_errors);
	tcase_add_test(describe, test_proc_describe_fd_truncates);
	tcase_add_test(counts, test_proc_state_follows_a_child);
	tcase_add_test(describe, test_proc_status_text_exit);
	tcase_add_test(describe, test_proc_status_text_signal);
	tcase_add_test(describe, test_proc_status_text_stopped);
	tcase_add_test(describe, test_proc_status_text_unnamed_signal);
	tcase_add_test(describe, test_proc_status_text_truncates);
	tcase_add_checked_fixture(run_wait, default_sigterm, NULL);
	tcase_add_checked_fixture(counts, default_sigterm, NULL);
	tcase_add_checked_fixture(describe, default_sigterm, NULL);
	tcase_set_timeout(run_wait, 10);
	tcase_set_timeout(counts, 10);
	suite_add_tcase(s, run_wait);
	suite_add_tcase(s, counts);
	suite_add_tcase(s, describe);
	return s;
}
