/*
 * The hidden suite of lab 06: a sequence-number server and its client over
 * FIFOs, between processes that share nothing but a folder.
 *
 * The server and the client are tested apart, each against the suite's own
 * careful version of the other side, so that a message can say which side
 * is wrong: the student's seq_serve() runs in a forked process and meets
 * the suite's clients, which speak the protocol byte by byte with
 * non-blocking opens and deadlines; the student's seq_next() runs on a
 * helper thread of the test and meets a reference server forked by the
 * suite, which writes down what it received. One test then runs both of the
 * student's sides together, with several client processes at once.
 *
 * Every process the suite forks dies with the test (PR_SET_PDEATHSIG), and
 * the suite's own children are made dumpable so that the test may look at
 * them through /proc: which system call a server is blocked in, how much
 * CPU it uses. Every path is relative to the test's private working folder.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fifos.h"
#include "fault.h"
#include "suite.h"

#define WAIT_MS  2000   /* how long any one step may take */
#define IDLE_MS  400    /* how long a server is watched while no client talks */
#define SAMPLES  20     /* looks at an idle server's state, over IDLE_MS */
#define CLIENTS  6      /* client processes in test_many_clients */
#define ROUNDS   20     /* requests each of them makes */
#define FAKE_PID 424200 /* pids the suite's clients claim, to name their FIFOs */

enum ask_result { ASK_OK, ASK_NO_SERVER, ASK_NO_ANSWER, ASK_HANGUP, ASK_SHORT };

/* What the test and the processes it forks share: one anonymous shared page. */
struct shared {
	/* The student's server, in its process. */
	int serve_returned; /* seq_serve() returned */
	int serve_ret;      /* what it returned */
	int serve_err;      /* errno after it */
	int fds_left;       /* descriptors it left open */
	/* The suite's reference server, for the client tests. */
	int ref_mute;   /* answer the next request by closing the FIFO unwritten */
	int nreq;       /* requests it read */
	pid_t last_pid; /* the pid of the last one */
	int last_len;   /* its len */
	int last_bytes; /* what read() returned for it */
	int reply_err;  /* errno of the last reply FIFO that could not be opened */
	int replied;    /* responses written */
	/* The client processes of test_many_clients. */
	int got[CLIENTS][ROUNDS];   /* the first number each request got */
	int asked[CLIENTS][ROUNDS]; /* how many it asked for */
	int rounds[CLIENTS];        /* requests answered */
	int err[CLIENTS];           /* errno of a failed seq_next(), 0 if none */
};

static struct shared *sh;
static pid_t watched; /* the server being tested: no use waiting once it has ended */

/* ==== Setting up ==== */

/*
 * Every test starts here, in an empty folder of its own (the runner gives
 * it one): the shared page cleared and SIGPIPE ignored.
 */
static void test_begin(void)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(sh != MAP_FAILED, "suite: mmap failed");
	memset(sh, 0, sizeof(*sh));
	signal(SIGPIPE, SIG_IGN); /* a server that died must not take the test with it */
}

static int is_fifo(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* The name of a client FIFO left in the folder, or NULL. */
static const char *client_fifo_left(void)
{
	static char name[300];
	DIR *d = opendir(".");
	struct dirent *e;
	const char *found = NULL;

	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, "seqnum_cl.", 10) == 0 && !found) {
			snprintf(name, sizeof(name), "%s", e->d_name);
			found = name;
		}
	if (d)
		closedir(d);
	return found;
}

/* ==== Processes ==== */

/*
 * In a child the suite forks: die with the test, let the test read our
 * /proc, and start from the default action for every signal, as a new
 * program would (the test ignores SIGPIPE; Check has handlers of its own).
 */
static void child_setup(pid_t test)
{
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != test)
		_exit(99);
	prctl(PR_SET_DUMPABLE, 1);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static pid_t fork_child(void)
{
	pid_t test = getpid(), pid = xfork();

	if (pid == 0)
		child_setup(test);
	return pid;
}

/* The system call pid is blocked in (SYS_read...), -2 when it runs, -1 if unknown. */
static long blocked_in(pid_t pid, pid_t tid)
{
	char path[64], buf[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)(tid ? tid : pid));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strncmp(buf, "running", 7) == 0 ? -2 : strtol(buf, NULL, 10);
}

/*
 * Look at pid's state n times, every ms: how many times was it running (or
 * ready to run) rather than asleep? An idle server waiting in read() never
 * runs; one that spins always does, however loaded the machine.
 */
static int running_samples(pid_t pid, int n, long ms)
{
	int running = 0;

	for (int i = 0; i < n; i++) {
		char path[64], buf[512], *p;
		FILE *f;

		clock_sleep_ms(ms);
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "r");
		if (!f)
			break;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		running += p && p[2] == 'R';
	}
	return running;
}

/* CPU time pid has used, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long utime = 0, stime = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (p)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
		       &stime);
	return (long)(utime + stime);
}

/* Wait up to ms for child pid; its wait status, or -1 (then it is killed and reaped). */
static int end_child(pid_t pid, long ms)
{
	int status;

	if (proc_wait_timeout(pid, &status, ms) == 0)
		return status;
	kill(pid, SIGKILL);
	proc_wait_timeout(pid, &status, -1);
	return -1;
}

/* Kill a server (the student's or the suite's) and remove the FIFO it leaves. */
static void server_kill(pid_t pid)
{
	end_child(pid, 0);
	unlink(SEQ_SERVER_FIFO);
}

/* ==== The student's server, in a process of its own ==== */

static void run_serve(const char *dir, int first)
{
	int before = proc_count_fds(0), r;

	errno = 0;
	r = seq_serve(dir, first);
	sh->serve_err = errno;
	sh->serve_ret = r;
	sh->serve_returned = 1;
	sh->fds_left = proc_count_fds(0) - before;
	_exit(r == 0 ? 0 : 1);
}

/* "returned -1 (errno ENOSYS)", or how the server process ended otherwise. */
static const char *server_end_text(int status, char *buf, size_t size)
{
	char how[64];

	if (sh->serve_returned)
		snprintf(buf, size, "seq_serve() returned %d (errno %s)", sh->serve_ret,
			 sh->serve_ret < 0 ? err_name(sh->serve_err) : "-");
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE)
		snprintf(buf, size,
			 "the server process was killed by SIGPIPE (a client went away before "
			 "reading its answer: ignore SIGPIPE, and treat EPIPE as \"skip this "
			 "client\")");
	else
		snprintf(buf, size, "the server process was %s",
			 (proc_status_text(status, how, sizeof(how)), how));
	return buf;
}

/* Fork the server and wait until its FIFO exists. Fails the test if it never does. */
static pid_t server_start(int first)
{
	uint64_t until = clock_now_ns() + WAIT_MS * 1000000ull;
	char text[160];
	pid_t pid = fork_child();
	int status;

	if (pid == 0)
		run_serve(".", first);
	watched = pid;
	while (!is_fifo(SEQ_SERVER_FIFO)) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			ck_abort_msg("%s before creating its FIFO " SEQ_SERVER_FIFO ".",
				     server_end_text(status, text, sizeof(text)));
		if (clock_now_ns() > until) {
			end_child(pid, 0);
			ck_abort_msg(
			    "after %d s, seq_serve() had not created its FIFO " SEQ_SERVER_FIFO
			    ": mkfifo() it first.",
			    WAIT_MS / 1000);
		}
		clock_sleep_ms(2);
	}
	return pid;
}

/* Is nr a system call in which a server waits for a client? */
static int is_waiting_call(long nr)
{
	static const long calls[] = {
	    SYS_read, SYS_openat, SYS_ppoll,      SYS_pselect6, SYS_epoll_pwait,
#ifdef SYS_open
	    SYS_open,
#endif
#ifdef SYS_poll
	    SYS_poll, SYS_select, SYS_epoll_wait,
#endif
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (nr == calls[i])
			return 1;
	return 0;
}

/* Wait until the server sleeps in a system call the suite may interrupt (open or read). */
static void server_idle(pid_t pid)
{
	uint64_t until = clock_now_ns() + WAIT_MS * 1000000ull;

	while (clock_now_ns() < until) {
		long nr = blocked_in(pid, 0);

		if (nr == -1) { /* /proc does not say: give it time instead */
			clock_sleep_ms(200);
			return;
		}
		if (is_waiting_call(nr))
			return;
		clock_sleep_ms(2);
	}
}

/* ==== The suite's client: the protocol by hand, with deadlines ==== */

/* Has process pid ended (a zombie, or gone)? */
static int has_ended(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return !p || p[2] == 'Z' || p[2] == 'X';
}

/* Open the server's FIFO for writing once a reader has it open. Returns the fd or -1. */
static int open_server(void)
{
	uint64_t until = clock_now_ns() + WAIT_MS * 1000000ull;
	int fd;

	while ((fd = open(SEQ_SERVER_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 &&
	       (errno == ENXIO || errno == ENOENT || errno == EINTR) && clock_now_ns() < until &&
	       !(watched > 0 && has_ended(watched)))
		clock_sleep_ms(2);
	if (fd >= 0)
		fcntl(fd, F_SETFL, O_WRONLY);
	return fd;
}

/*
 * One exchange as client `as`: make its FIFO, send {as, len} on sfd (or on
 * a fresh descriptor when sfd < 0, closed right after), wait for the answer.
 */
static enum ask_result ask(pid_t as, int len, int sfd, int *seq)
{
	struct seq_request req = {as, len};
	struct seq_response resp = {0};
	struct pollfd p = {.events = POLLIN};
	char path[SEQ_PATH_MAX];
	enum ask_result res = ASK_OK;
	int fd = sfd;
	ssize_t r;

	seq_client_path(path, sizeof(path), ".", as);
	ck_assert_msg(mkfifo(path, 0600) == 0 || errno == EEXIST, "suite: mkfifo failed");
	if (fd < 0 && (fd = open_server()) < 0) {
		unlink(path);
		return ASK_NO_SERVER;
	}
	r = write(fd, &req, sizeof(req));
	if (sfd < 0)
		close(fd);
	if (r != (ssize_t)sizeof(req)) {
		unlink(path);
		return ASK_NO_SERVER;
	}
	p.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert_msg(p.fd >= 0, "suite: cannot open %s", path);
	if (poll(&p, 1, WAIT_MS) <= 0)
		res = ASK_NO_ANSWER;
	else if ((r = read(p.fd, &resp, sizeof(resp))) == 0)
		res = ASK_HANGUP;
	else if (r != (ssize_t)sizeof(resp))
		res = ASK_SHORT;
	close(p.fd);
	unlink(path);
	*seq = resp.seq;
	return res;
}

/* Ask and fail the test, explaining, unless the answer came and is want. */
static void ask_expect(pid_t server, pid_t as, int len, int sfd, int want, const char *what)
{
	static const char *const why[] = {
	    "", "nobody has the server's FIFO open for reading", "no answer came within 2 s",
	    "the server opened the client's FIFO and closed it without writing",
	    "the answer was not one whole struct seq_response"};
	char text[160];
	int seq = 0, status;
	enum ask_result r = ask(as, len, sfd, &seq);

	if (r != ASK_OK && waitpid(server, &status, WNOHANG) == server)
		ck_abort_msg("%s: %s — %s.", what, why[r],
			     server_end_text(status, text, sizeof(text)));
	ck_assert_msg(r == ASK_OK, "%s: %s.", what, why[r]);
	ck_assert_msg(seq == want,
		      "%s: the server answered %d, expected %d: answer with the next number, then "
		      "add len to it.",
		      what, seq, want);
}

/* ==== The server ==== */

START_TEST(test_server_sequence)
{
	pid_t server;
	int sfd;

	test_begin();
	server = server_start(100);
	sfd = open_server();
	ck_assert_msg(sfd >= 0, "seq_serve() created " SEQ_SERVER_FIFO " but never opened it for "
				"reading: a client's open() for writing finds no reader.");
	ask_expect(server, getpid(), 1, sfd, 100, "a first request for 1 number");
	ask_expect(server, FAKE_PID + 1, 5, sfd, 101, "then a request for 5 numbers");
	ask_expect(server, FAKE_PID + 2, 1, sfd, 106, "then a request for 1");
	close(sfd);
	server_kill(server);
}
END_TEST

START_TEST(test_server_no_eof_between_clients)
{
	char text[160];
	pid_t server;
	long ticks;
	int status, running;

	test_begin();
	server = server_start(1);
	ask_expect(server, getpid(), 1, -1, 1, "a first client");
	/* No client has the FIFO open now. */
	ticks = cpu_ticks(server);
	running = running_samples(server, SAMPLES, IDLE_MS / SAMPLES);
	ticks = cpu_ticks(server) - ticks;
	if (waitpid(server, &status, WNOHANG) == server)
		ck_abort_msg(
		    "once its first client had closed the FIFO, %s: with no writer left, "
		    "read() returns 0 (end of file). Open the server's FIFO for writing "
		    "too, and keep that descriptor: then read() waits for the next client.",
		    server_end_text(status, text, sizeof(text)));
	if (running > SAMPLES / 2) {
		server_kill(server);
		ck_abort_msg(
		    "with no client connected, the server was running, not waiting, %d "
		    "times out of %d (%ld ms of CPU in %d ms): it spins on read() returning "
		    "0 (end of file). Keep a write end of its own FIFO open, and read() "
		    "blocks until the next request.",
		    running, SAMPLES, ticks * 10, IDLE_MS);
	}
	ask_expect(server, FAKE_PID + 3, 1, -1, 2, "a second client, after a quiet moment");
	server_kill(server);
}
END_TEST

/* Make a client FIFO whose pipe is full, held open only by the returned read end. */
static int full_client_fifo(const char *path)
{
	static const char junk[4096];
	int r, w;

	ck_assert(mkfifo(path, 0600) == 0);
	r = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	ck_assert(r >= 0 && w >= 0);
	fcntl(w, F_SETPIPE_SZ, (int)sysconf(_SC_PAGESIZE));
	while (write(w, junk, sizeof(junk)) > 0)
		;
	while (write(w, junk, 1) > 0)
		;
	close(w);
	return r;
}

/* Wait until the server has read everything sent on sfd and has moved on from it. */
static void wait_consumed(pid_t server, int sfd)
{
	uint64_t until = clock_now_ns() + WAIT_MS * 1000000ull;
	int queued = 1;

	while (clock_now_ns() < until) {
		long nr = blocked_in(server, 0);

		if (queued)
			ioctl(sfd, FIONREAD, &queued);
		if (!queued && (nr == SYS_write || nr == SYS_read || nr == -1))
			break;
		clock_sleep_ms(2);
	}
	if (blocked_in(server, 0) == -1)
		clock_sleep_ms(200); /* /proc does not say: give it time */
}

START_TEST(test_server_survives_bad_clients)
{
	struct seq_request gone = {FAKE_PID + 10, 3}, bad = {FAKE_PID + 11, -5};
	struct seq_request vanishing = {FAKE_PID + 12, 4};
	char path[SEQ_PATH_MAX], text[160];
	pid_t server;
	int sfd, rfd, status;

	test_begin();
	server = server_start(10);
	sfd = open_server();
	ck_assert_msg(sfd >= 0, "the server never opened " SEQ_SERVER_FIFO " for reading.");
	/* A client whose FIFO does not exist, then a request for -5 numbers. */
	ck_assert(write(sfd, &gone, sizeof(gone)) == sizeof(gone));
	ck_assert(write(sfd, &bad, sizeof(bad)) == sizeof(bad));
	/* A client that goes away while the server writes to it: EPIPE, or SIGPIPE. */
	seq_client_path(path, sizeof(path), ".", vanishing.pid);
	rfd = full_client_fifo(path);
	ck_assert(write(sfd, &vanishing, sizeof(vanishing)) == sizeof(vanishing));
	wait_consumed(server, sfd);
	close(rfd);
	unlink(path);
	clock_sleep_ms(20);
	if (waitpid(server, &status, WNOHANG) == server) {
		ck_assert_msg(!WIFSIGNALED(status) || WTERMSIG(status) != SIGPIPE,
			      "the server was killed by SIGPIPE when a client went away before "
			      "reading its answer: ignore SIGPIPE (sigaction with SIG_IGN), and "
			      "treat write() failing with EPIPE as \"skip this client\".");
		ck_abort_msg("after clients that could not be answered (no FIFO, len < 0, gone "
			     "before reading), %s: skip such a client, never stop serving.",
			     server_end_text(status, text, sizeof(text)));
	}
	ask_expect(server, getpid(), 1, sfd, 10,
		   "after three clients that could not be answered, a good one");
	close(sfd);
	server_kill(server);
}
END_TEST

START_TEST(test_server_stop_request)
{
	char text[160];
	pid_t server;
	int status;

	test_begin();
	server = server_start(7);
	ask_expect(server, getpid(), 2, -1, 7, "a request for 2 numbers");
	ask_expect(server, getpid(), 0, -1, 9,
		   "a stop request (len 0), answered with the next number");
	status = end_child(server, WAIT_MS);
	ck_assert_msg(status != -1,
		      "the server did not return within %d s of a stop request "
		      "(len == 0): answer it, then leave the loop and clean up.",
		      WAIT_MS / 1000);
	ck_assert_msg(sh->serve_returned && sh->serve_ret == 0,
		      "after a stop request, %s, expected 0.",
		      server_end_text(status, text, sizeof(text)));
	ck_assert_msg(!is_fifo(SEQ_SERVER_FIFO),
		      "seq_serve() returned but left its FIFO " SEQ_SERVER_FIFO
		      " behind: unlink() it.");
	ck_assert_msg(sh->fds_left == 0,
		      "seq_serve() returned with %d more descriptor%s open than before: close "
		      "both ends of its FIFO.",
		      sh->fds_left, sh->fds_left > 1 ? "s" : "");
}
END_TEST

/* SIGTERM the idle server; fail unless it returned 0 soon after, FIFO removed. */
static void sigterm_and_check(pid_t server, const char *when)
{
	char text[160];
	int status;

	server_idle(server);
	kill(server, SIGTERM);
	status = end_child(server, WAIT_MS);
	ck_assert_msg(status != -1,
		      "the server did not stop within %d s of SIGTERM %s: the blocked call was "
		      "restarted. Install the handler with sigaction() and sa_flags = 0 (no "
		      "SA_RESTART: signal() sets it), and check the flag when open() or read() "
		      "fails with EINTR.",
		      WAIT_MS / 1000, when);
	ck_assert_msg(
	    !WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM,
	    "SIGTERM %s killed the server%s: install a handler that sets a flag, and "
	    "clean up before returning.",
	    when, is_fifo(SEQ_SERVER_FIFO) ? " and left its FIFO " SEQ_SERVER_FIFO " behind" : "");
	ck_assert_msg(sh->serve_returned && sh->serve_ret == 0, "after SIGTERM %s, %s, expected 0.",
		      when, server_end_text(status, text, sizeof(text)));
	ck_assert_msg(!is_fifo(SEQ_SERVER_FIFO),
		      "after SIGTERM %s, seq_serve() returned but left its FIFO " SEQ_SERVER_FIFO
		      " behind: unlink() it.",
		      when);
}

START_TEST(test_server_sigterm)
{
	pid_t server;

	test_begin();
	server = server_start(1);
	sigterm_and_check(server, "before any client came");
	memset(sh, 0, sizeof(*sh));
	server = server_start(1);
	ask_expect(server, getpid(), 3, -1, 1, "a request for 3 numbers");
	sigterm_and_check(server, "between two clients");
}
END_TEST

START_TEST(test_server_setup)
{
	char text[160];
	pid_t server;
	int status;

	test_begin();
	/* A FIFO left by a server that crashed: reuse it. */
	ck_assert(mkfifo(SEQ_SERVER_FIFO, 0600) == 0);
	server = server_start(5);
	ask_expect(server, getpid(), 1, -1, 5,
		   "with a FIFO " SEQ_SERVER_FIFO " already there, left by an earlier server "
		   "(mkfifo() fails with EEXIST: that is not an error)");
	server_kill(server);
	/* A folder that does not exist: fail at once. */
	memset(sh, 0, sizeof(*sh));
	server = fork_child();
	if (server == 0)
		run_serve("no-such-folder", 1);
	status = end_child(server, WAIT_MS);
	ck_assert_msg(status != -1 && sh->serve_returned && sh->serve_ret == -1 &&
			  sh->serve_err == ENOENT,
		      "seq_serve(\"no-such-folder\", 1): %s, expected -1 with errno ENOENT from "
		      "mkfifo().",
		      status == -1 ? "it had not returned after 2 s"
				   : server_end_text(status, text, sizeof(text)));
}
END_TEST

/* ==== The suite's reference server, for the client tests ==== */

/*
 * Open client pid's reply FIFO for writing as soon as the client has it open
 * for reading, within WAIT_MS. Stores the errno of the last failed try in
 * *err (when err is not NULL). Returns the descriptor, or -1.
 */
static int open_reply(pid_t pid, int *err)
{
	uint64_t until = clock_now_ns() + WAIT_MS * 1000000ull;
	char path[SEQ_PATH_MAX];
	int fd;

	seq_client_path(path, sizeof(path), ".", pid);
	while ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0 && clock_now_ns() < until) {
		if (err)
			*err = errno;
		clock_sleep_ms(2);
	}
	return fd;
}

/* Answer client pid with seq (or hang up without a word, when told to). */
static void ref_answer(pid_t pid, int seq)
{
	struct seq_response resp = {seq};
	int fd = open_reply(pid, &sh->reply_err);

	if (fd < 0)
		return;
	sh->reply_err = 0;
	if (sh->ref_mute)
		sh->ref_mute = 0; /* hang up without a word, this once */
	else if (write(fd, &resp, sizeof(resp)) == sizeof(resp))
		sh->replied++;
	close(fd);
}

static void ref_serve(int next)
{
	struct seq_request req;
	int fd = open(SEQ_SERVER_FIFO, O_RDWR); /* Linux: a reader that is its own writer */

	for (;;) {
		ssize_t r = read(fd, &req, sizeof(req));

		if (r <= 0)
			_exit(1);
		sh->last_bytes = (int)r;
		sh->last_pid = req.pid;
		sh->last_len = req.len;
		sh->nreq++;
		if (r != sizeof(req) || req.len < 0)
			continue;
		ref_answer(req.pid, next);
		if (req.len == 0) {
			unlink(SEQ_SERVER_FIFO);
			_exit(0);
		}
		next += req.len;
	}
}

static pid_t ref_server_start(int first)
{
	pid_t pid;

	ck_assert(mkfifo(SEQ_SERVER_FIFO, 0600) == 0);
	pid = fork_child();
	if (pid == 0)
		ref_serve(first);
	return pid;
}

/* ==== Calling the student's client on a helper thread ==== */

struct cl_call {
	int stop;           /* seq_stop() rather than seq_next() */
	int len;            /* seq_next()'s len */
	int ret;            /* what it returned */
	int err;            /* errno after it */
	int seq;            /* the number it stored */
	volatile pid_t tid; /* the helper thread, for /proc */
	volatile int done;  /* the call has returned */
};

static struct cl_call call; /* static: a hung thread may outlive any frame */
static pthread_t worker;

static void *client_thread(void *arg)
{
	(void)arg;
	call.tid = (pid_t)syscall(SYS_gettid);
	errno = 0;
	call.ret = call.stop ? seq_stop(".", &call.seq) : seq_next(".", call.len, &call.seq);
	call.err = errno;
	call.done = 1;
	return NULL;
}

static void client_start(int stop, int len)
{
	call = (struct cl_call){stop, len, 0, 0, -12345, 0, 0};
	xpthread_create(&worker, client_thread, NULL);
}

static int client_join(long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	return pthread_timedjoin_np(worker, NULL, &until) == 0;
}

/* Why the client has not returned, from what the reference server saw. */
static const char *client_hang_cause(int nreq_before, char *buf, size_t size)
{
	if (sh->nreq == nreq_before)
		return "the server never got its request. Is the client blocked opening its reply "
		       "FIFO for reading before sending? Opening a FIFO for reading waits for a "
		       "writer, and the server opens it only once it has read the request: send "
		       "the request first, then open the reply FIFO.";
	if (sh->last_pid != getpid()) {
		snprintf(buf, size,
			 "its request named pid %d, not the client's (%d): the server answered "
			 "(or looked for) the FIFO of the wrong client.",
			 (int)sh->last_pid, (int)getpid());
		return buf;
	}
	if (sh->reply_err == ENOENT)
		return "the server found no reply FIFO named after the client's pid "
		       "(seq_client_path(dir, getpid())): create it with mkfifo() before sending "
		       "the request.";
	if (sh->reply_err == ENXIO)
		return "the request arrived, but the client never opened its reply FIFO for "
		       "reading.";
	return "the server answered, but the client did not return: read one struct "
	       "seq_response from the reply FIFO, close it and return.";
}

/* Run seq_next(".", len) or seq_stop() with a deadline; fail explaining a hang. */
static int client_call(int stop, int len, int *seq)
{
	int nreq = sh->nreq;
	char why[400];

	client_start(stop, len);
	if (!client_join(WAIT_MS + 500))
		ck_abort_msg("%s had not returned after %d s: %s",
			     stop ? "seq_stop()" : "seq_next()", WAIT_MS / 1000,
			     client_hang_cause(nreq, why, sizeof(why)));
	*seq = call.seq;
	errno = call.err;
	return call.ret;
}

/* ==== The client ==== */

START_TEST(test_client_gets_numbers)
{
	pid_t server;
	int r, seq;

	test_begin();
	server = ref_server_start(500);
	r = client_call(0, 3, &seq);
	ck_assert_msg(r == 0, "seq_next(\".\", 3) returned %d (errno %s), expected 0.", r,
		      err_name(errno));
	ck_assert_msg(sh->nreq == 1 && sh->last_len == 3 &&
			  sh->last_bytes == sizeof(struct seq_request),
		      "the server read %d bytes asking for len %d, expected one struct "
		      "seq_request with len 3.",
		      sh->last_bytes, sh->last_len);
	ck_assert_msg(seq == 500, "seq_next() stored %d, expected 500, the server's answer.", seq);
	r = client_call(0, 1, &seq);
	ck_assert_msg(
	    r == 0 && seq == 503,
	    "a second seq_next(\".\", 1) returned %d (errno %s) and stored %d, expected 0 "
	    "and 503.",
	    r, err_name(errno), seq);
	r = client_call(1, 0, &seq);
	ck_assert_msg(r == 0 && seq == 504 && sh->last_len == 0,
		      "seq_stop() returned %d (errno %s), sent len %d and stored %d, expected 0, "
		      "len 0 and 504.",
		      r, err_name(errno), sh->last_len, seq);
	ck_assert_msg(end_child(server, WAIT_MS) == 0, "the reference server did not stop.");
	suite_check_leaks("seq_next()");
}
END_TEST

START_TEST(test_client_cleanup)
{
	const char *left;
	pid_t server;
	int r, seq;

	test_begin();
	server = ref_server_start(1);
	r = client_call(0, 2, &seq);
	ck_assert_msg(r == 0 && seq == 1, "seq_next(\".\", 2) returned %d (errno %s), expected 0.",
		      r, err_name(errno));
	left = client_fifo_left();
	ck_assert_msg(!left,
		      "after seq_next() returned, its reply FIFO %s was still there: "
		      "unlink() it once the answer is read.",
		      left);
	/* The server closes the next reply FIFO without writing: EPROTO. */
	sh->ref_mute = 1;
	r = client_call(0, 1, &seq);
	left = client_fifo_left();
	ck_assert_msg(r == -1 && errno == EPROTO,
		      "the server closed the reply FIFO without answering; seq_next() returned "
		      "%d (errno %s), expected -1 with EPROTO: end of file before a whole struct "
		      "seq_response is an error.",
		      r, err_name(errno));
	ck_assert_msg(!left,
		      "seq_next() failed but left its reply FIFO %s behind: unlink it on "
		      "every path.",
		      left);
	server_kill(server);
	/* No server at all. */
	r = client_call(0, 1, &seq);
	left = client_fifo_left();
	ck_assert_msg(r == -1 && errno == ENOENT,
		      "with no server FIFO, seq_next() returned %d (errno %s), expected -1 with "
		      "ENOENT from open().",
		      r, err_name(errno));
	ck_assert_msg(!left,
		      "seq_next() failed (no server) but left its reply FIFO %s behind: "
		      "unlink it on the error path too.",
		      left);
	r = client_call(0, 0, &seq);
	ck_assert_msg(r == -1 && errno == EINVAL && !client_fifo_left(),
		      "seq_next(\".\", 0) returned %d (errno %s), expected -1 with EINVAL, "
		      "before creating anything.",
		      r, err_name(errno));
	suite_check_leaks("seq_next()");
}
END_TEST

/* Wait until the client's thread sleeps in write(). Returns SYS_write, or -1 if /proc cannot say. */
static long client_reaches_write(void)
{
	uint64_t until = clock_now_ns() + WAIT_MS * 1000000ull;
	long nr = 0;

	while (clock_now_ns() < until && call.tid == 0)
		clock_sleep_ms(1);
	while (clock_now_ns() < until && !call.done &&
	       (nr = blocked_in(getpid(), call.tid)) != SYS_write && nr != -1)
		clock_sleep_ms(2);
	if (nr == -1 && !call.done)
		clock_sleep_ms(300); /* /proc does not say: give it time instead */
	ck_assert_msg(!call.done,
		      "seq_next(\".\", 1) returned %d (errno %s) before the server had even read "
		      "its request.",
		      call.ret, err_name(call.err));
	ck_assert_msg(nr == SYS_write || nr == -1,
		      "seq_next() never wrote its request to the server's FIFO within %d s: is it "
		      "blocked opening its reply FIFO for reading first? The server opens it only "
		      "after reading the request: send first, then open.",
		      WAIT_MS / 1000);
	return nr;
}

/* Be the server for one request waiting in rfd behind skip bytes: answer seq. */
static void answer_by_hand(int rfd, size_t skip, int seq)
{
	struct seq_response resp = {seq};
	struct seq_request req;
	char *junk = xmalloc(skip);
	int fd;

	ck_assert(read(rfd, junk, skip) == (ssize_t)skip);
	free(junk);
	ck_assert_msg(poll(&(struct pollfd){.fd = rfd, .events = POLLIN}, 1, WAIT_MS) == 1 &&
			  read(rfd, &req, sizeof(req)) == sizeof(req),
		      "once there was room in the server's FIFO, no whole request arrived.");
	ck_assert_msg(req.pid == getpid() && req.len == 1,
		      "the request held pid %d and len %d, expected the client's pid %d and 1.",
		      (int)req.pid, req.len, (int)getpid());
	fd = open_reply(req.pid, NULL);
	ck_assert_msg(fd >= 0, "after sending its request, the client never opened its reply FIFO "
			       "for reading.");
	ck_assert(write(fd, &resp, sizeof(resp)) == sizeof(resp));
	close(fd);
}

START_TEST(test_client_atomic_request)
{
	long page = sysconf(_SC_PAGESIZE);
	char *filler = xcalloc(1, (size_t)page);
	int rfd, wfd, queued = 0;

	test_begin();
	/* The suite is the server; its FIFO has room for 4 bytes only. */
	ck_assert(mkfifo(SEQ_SERVER_FIFO, 0600) == 0);
	rfd = open(SEQ_SERVER_FIFO, O_RDONLY | O_NONBLOCK);
	wfd = open(SEQ_SERVER_FIFO, O_WRONLY);
	ck_assert(rfd >= 0 && wfd >= 0 && fcntl(wfd, F_SETPIPE_SZ, (int)page) == page);
	ck_assert(write(wfd, filler, (size_t)page - 4) == page - 4);
	free(filler);
	/* A request written in one write() cannot fit and waits whole; a split one leaks in. */
	client_start(0, 1);
	client_reaches_write();
	ioctl(rfd, FIONREAD, &queued);
	ck_assert_msg(queued == page - 4,
		      "seq_next() wrote its request in pieces: %d bytes of it went into the FIFO "
		      "before the rest could. Write the whole struct seq_request with ONE write(): "
		      "at most PIPE_BUF bytes are atomic, so no other client's bytes can come in "
		      "between.",
		      queued - (int)(page - 4));
	answer_by_hand(rfd, (size_t)page - 4, 77);
	ck_assert_msg(client_join(WAIT_MS), "seq_next() did not return once answered.");
	ck_assert_msg(call.ret == 0 && call.seq == 77,
		      "seq_next() returned %d and stored %d, expected 0 and 77.", call.ret,
		      call.seq);
	close(rfd);
	close(wfd);
	unlink(SEQ_SERVER_FIFO);
	suite_check_leaks("seq_next()");
}
END_TEST

/* ==== Both sides together ==== */

/* A client process: wait for the gate to open, then make ROUNDS requests. */
static void many_client(int k, int gate)
{
	char c;

	while (read(gate, &c, 1) < 0 && errno == EINTR)
		;
	for (int j = 0; j < ROUNDS; j++) {
		int len = 1 + (k + j) % 3, seq;

		if (seq_next(".", len, &seq) < 0) {
			sh->err[k] = errno ? errno : EIO;
			_exit(1);
		}
		sh->got[k][j] = seq;
		sh->asked[k][j] = len;
		sh->rounds[k]++;
	}
	_exit(0);
}

/* The numbers handed out must tile [first, first + total): no overlap, no gap. Returns total. */
static int check_tiling(int first)
{
	static char owner[CLIENTS * ROUNDS * 3];
	int total = 0;

	memset(owner, 0, sizeof(owner));
	for (int k = 0; k < CLIENTS; k++)
		for (int j = 0; j < ROUNDS; j++) {
			int at = sh->got[k][j] - first;

			total += sh->asked[k][j];
			for (int i = 0; i < sh->asked[k][j]; i++) {
				ck_assert_msg(
				    at + i >= 0 && at + i < (int)sizeof(owner) && !owner[at + i],
				    "number %d was handed out twice (or is out of range): "
				    "each answer must be the next number, and the next one "
				    "then moves on by len.",
				    first + at + i);
				owner[at + i] = 1;
			}
		}
	for (int i = 0; i < total; i++)
		ck_assert_msg(owner[i],
			      "number %d was never handed out, though %d numbers were "
			      "asked for in all: the sequence has a gap.",
			      first + i, total);
	return total;
}

/* Start the client processes, which all begin at once when the gate opens. */
static void many_start(pid_t clients[CLIENTS])
{
	int gate[2];

	ck_assert(pipe2(gate, O_CLOEXEC) == 0);
	for (int k = 0; k < CLIENTS; k++) {
		clients[k] = fork_child();
		if (clients[k] == 0) {
			close(gate[1]);
			many_client(k, gate[0]);
		}
	}
	close(gate[0]);
	close(gate[1]); /* the gate opens: end of file for every client */
}

/* Reap the clients; fail, naming the first client that failed or hung, if any did. */
static void many_reap(const pid_t clients[CLIENTS], pid_t server)
{
	char text[160];
	int k, status = 0;

	for (k = 0; k < CLIENTS; k++) {
		status = end_child(clients[k], 3 * WAIT_MS);
		if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			break;
	}
	if (k == CLIENTS)
		return;
	for (int i = k + 1; i < CLIENTS; i++)
		end_child(clients[i], 0);
	if (has_ended(server) && waitpid(server, &status, 0) == server)
		ck_abort_msg("with %d clients at once, %s.", CLIENTS,
			     server_end_text(status, text, sizeof(text)));
	server_kill(server);
	ck_abort_msg("client process %d of %d %s after %d of its %d requests%s%s.", k + 1, CLIENTS,
		     status == -1 ? "was still waiting" : "failed", sh->rounds[k], ROUNDS,
		     sh->err[k] ? ": seq_next() failed with " : "",
		     sh->err[k] ? err_name(sh->err[k]) : "");
}

START_TEST(test_many_clients)
{
	pid_t server, clients[CLIENTS];
	const char *left;
	char text[160];
	int status, next;

	test_begin();
	server = server_start(1000);
	many_start(clients);
	many_reap(clients, server);
	next = 1000 + check_tiling(1000);
	client_start(1, 0);
	ck_assert_msg(client_join(WAIT_MS), "seq_stop() had not returned after %d s.",
		      WAIT_MS / 1000);
	status = end_child(server, WAIT_MS);
	ck_assert_msg(call.ret == 0 && call.seq == next && status == 0,
		      "seq_stop() returned %d (errno %s) and stored %d, expected 0 and %d; the "
		      "server %s.",
		      call.ret, err_name(call.err), call.seq, next,
		      status == -1 ? "had not stopped after 2 s"
				   : server_end_text(status, text, sizeof(text)));
	left = client_fifo_left();
	ck_assert_msg(!left && !is_fifo(SEQ_SERVER_FIFO),
		      "after every client and the server had finished, %s was left behind.",
		      left ? left : SEQ_SERVER_FIFO);
}
END_TEST

/* ==== Robustness: faults injected into the student's own calls ==== */

/*
 * The grader makes the client's write() and read() calls fail with EINTR
 * first, as a signal arriving at the wrong moment would: the client must
 * retry them, not give up.
 */
START_TEST(test_client_retries_eintr)
{
	pid_t server;
	int r, seq, e;

	test_begin();
	server = ref_server_start(70);
	fault_inject(FAULT_EINTR, 1);
	r = client_call(0, 2, &seq);
	e = errno;
	fault_stop();
	ck_assert_msg(r == 0 && seq == 70,
		      "seq_next(\".\", 2) returned %d (errno %s) and stored %d, expected 0 and 70, "
		      "when its write() and read() were interrupted by a signal: retry a call that "
		      "fails with EINTR. %s",
		      r, err_name(e), seq, fault_report());
	r = client_call(1, 0, &seq);
	ck_assert_msg(r == 0 && end_child(server, WAIT_MS) == 0,
		      "the reference server did not stop.");
	suite_check_leaks("seq_next()");
}
END_TEST

void suite_define(void)
{
	/* The server, against the suite's clients. */
	SUITE_TEST(test_server_sequence, 2,
		   "Which number does the second client get after the first asked for 1?\n"
		   "Each answer holds the first of the len numbers granted; the counter then moves "
		   "on by len.\n"
		   "Answer each request with the next number, then add its len to it.");
	SUITE_TEST(
	    test_server_no_eof_between_clients, 2,
	    "What does read() on your FIFO return when the first client has gone and no other is "
	    "there yet?\n"
	    "A FIFO reader sees end of file once no process holds a write end: fifo(7), pipe(7).\n"
	    "After opening your FIFO for reading, open it for writing too and keep that "
	    "descriptor, never writing to it.");
	SUITE_TEST(test_server_survives_bad_clients, 2,
		   "What happens to your server when a client's FIFO is missing, or the client "
		   "leaves before the answer?\n"
		   "Writing to a FIFO no one reads raises SIGPIPE, which kills the process unless "
		   "ignored; write(2) then fails with EPIPE.\n"
		   "signal(SIGPIPE, SIG_IGN) at set-up; on ENOENT or EPIPE skip that client and "
		   "grant it nothing; ignore len < 0.");
	SUITE_TEST(test_server_stop_request, 2,
		   "What must be done before seq_serve() returns after a stop request?\n"
		   "A stop request is answered like any other; a FIFO is a file that stays until "
		   "unlink(2).\n"
		   "len == 0: answer with the next number, then close both ends, unlink the FIFO, "
		   "restore the handlers and return 0.");
	SUITE_TEST_EX(
	    test_server_sigterm, 2, 8, 0,
	    "Does your server ever look at its flag while it waits in open() or read()?\n"
	    "A handler installed without SA_RESTART makes a blocked open(2) or read(2) fail with "
	    "EINTR: sigaction(2), signal(7).\n"
	    "sigaction(SIGTERM) with sa_flags = 0 and a handler that only sets a volatile "
	    "sig_atomic_t flag; on EINTR with the flag set, clean up and return 0.");
	SUITE_TEST(test_server_setup, 1,
		   "What if the FIFO is already there, left by a server that crashed, or the "
		   "folder does not exist?\n"
		   "mkfifo(3) fails with EEXIST when the name exists, and ENOENT when the folder "
		   "does not.\n"
		   "Treat EEXIST from mkfifo() as success; on any other error undo the set-up and "
		   "return -1 with that errno.");

	/* The client, against the suite's server. */
	SUITE_TEST(test_client_gets_numbers, 2,
		   "Where does open() of your reply FIFO wait, and for whom?\n"
		   "Opening a FIFO for reading blocks until a writer opens it, and the server "
		   "opens yours only after reading the request: fifo(7).\n"
		   "mkfifo() yours, send the request and close the server's FIFO, THEN open yours "
		   "for reading.");
	SUITE_TEST_EX(test_client_cleanup, 2, 8, 0,
		      "Is your reply FIFO still in the folder after an error?\n"
		      "A FIFO stays in the file system until unlink(2); save errno before cleaning "
		      "up, since close and unlink may change it.\n"
		      "On every path after mkfifo(), errors included: close what you opened and "
		      "unlink the reply FIFO; len < 1 is EINVAL before mkfifo().");
	SUITE_TEST(test_client_atomic_request, 1,
		   "How many write() calls carry one request?\n"
		   "A write(2) of at most PIPE_BUF bytes to a FIFO goes in whole or not at all; "
		   "two writes may be split by another client's: pipe(7).\n"
		   "Send the whole struct seq_request with one write(fd, &req, sizeof(req)).");

	/* Both together. */
	SUITE_TEST_EX(test_many_clients, 3, 10, 0,
		      "With six clients at once, can two get the same numbers or an answer meant "
		      "for another?\n"
		      "Requests arrive one struct at a time in one FIFO; each answer goes to the "
		      "FIFO named after the client's pid: fifo(7).\n"
		      "Serve one request at a time; each client uses its own FIFO, "
		      "seq_client_path(dir, getpid()).");
	/* Robustness: faults injected into the student's own calls. */
	SUITE_TEST(
	    test_client_retries_eintr, 1,
	    "What does your client do when write() or read() fails with EINTR?\n"
	    "A signal that interrupts a blocked call makes it fail with EINTR; that is not an "
	    "error: signal(7).\n"
	    "Wrap the client's write() and read() in do ... while (r < 0 && errno == EINTR).");
}
