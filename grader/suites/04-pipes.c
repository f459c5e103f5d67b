/*
 * The hidden suite of lab 04: pipes, framed messages and end of file.
 *
 * Every test drives the student's functions through real pipes, with a real
 * process at the other end. The hard cases are made to happen for real: a
 * pipe shrunk to one page, a peer that moves 1 to 7 bytes at a time, a timer
 * whose signal handler was installed without SA_RESTART so that blocked
 * calls are interrupted, several writers sharing one pipe. Every call that a
 * wrong solution could block in runs on a helper thread with a deadline, so
 * that a hang is reported with its cause rather than as a timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pipes.h"
#include "fault.h"
#include "suite.h"

#define KIB        1024
#define MIB        (1024 * 1024)
#define SMALL_PIPE 4096        /* one page: the smallest capacity a pipe can have */
#define CALL_MS    2000        /* how long one call of the student's may take */
#define SCAN_FDS   1024        /* descriptors looked at when checking for leaks */
#define TRICKLE    20000       /* bytes the trickling writer sends */
#define FLOOD      (256 * KIB) /* bytes written through the slow reader */
#define WRITERS    4           /* writers sharing one pipe */
#define FRAMES     300         /* frames each of them sends */

/* What the test process and its children share: one anonymous shared page. */
struct shared {
	volatile int stray;          /* a forked copy came back out of the student's call */
	long got;                    /* bytes the reader child counted */
	long bad;                    /* first byte it found wrong, or -1 */
	int bad_value;               /* the byte it found there */
	pid_t producer;              /* the producer child of producer_consumer() */
	ino_t pipe_ino;              /* the inode of its pipe */
	int wfd_ok;                  /* produce() got the write end of a pipe */
	int read_end_in_child;       /* the child still held the read end */
	int child_fds;               /* descriptors open in the child, as /proc counts them */
	int parent_fds;              /* descriptors open in the test before the call */
	volatile int started;        /* the producer began */
	volatile int finished;       /* the producer returned */
	unsigned char fds[SCAN_FDS]; /* which descriptors were open before the call */
	char extra[512];             /* the child's descriptors beyond the write end */
};

static struct shared *sh;

/* ==== Data ==== */

/* Byte i of a stream that never repeats at short range, so misplaced bytes show. */
static unsigned char pattern_at(size_t i)
{
	return (unsigned char)(((uint32_t)i * 2654435761u) >> 24);
}

static unsigned char *pattern_new(size_t n, size_t from)
{
	unsigned char *buf = xmalloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		buf[i] = pattern_at(from + i);
	return buf;
}

/* The offset of the first byte of buf that is not the pattern, or -1. */
static long pattern_mismatch(const void *buf, size_t n, size_t from)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern_at(from + i))
			return (long)i;
	return -1;
}

/* err_name() does not know every errno this lab uses. */
static const char *ename(int e)
{
	return e == EPROTO ? "EPROTO" : err_name(e);
}

/* ==== Pipes and children ==== */

static struct shared *shared_page(void)
{
	if (!sh) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
		ck_assert_msg(sh != MAP_FAILED, "suite: mmap failed");
	}
	memset(sh, 0, sizeof(*sh));
	sh->bad = -1;
	return sh;
}

/* A pipe; a small one holds one page, so that every big write blocks. */
static void make_pipe(int fds[2], int small)
{
	xpipe(fds);
	if (small)
		(void)fcntl(fds[1], F_SETPIPE_SZ, SMALL_PIPE); /* best effort: 64 KiB works too */
}

/* Write one frame the way the lab defines it, without the student's code. */
static int put_frame(int fd, const void *buf, uint32_t len)
{
	if (io_writen(fd, &len, sizeof(len)) < 0 || io_writen(fd, buf, len) < 0)
		return -1;
	return 0;
}

static void put_str(int fd, const char *s)
{
	if (put_frame(fd, s, (uint32_t)strlen(s)) < 0)
		_exit(99);
}

/* Reap a child of the test; its status, or -1 if it did not end in time. */
static int reap(pid_t pid)
{
	int status;

	if (proc_wait_timeout(pid, &status, CALL_MS) < 0) {
		kill(pid, SIGKILL);
		proc_wait_timeout(pid, &status, -1);
		return -1;
	}
	return status;
}

/* Is pid running (neither gone nor a zombie)? */
static int is_running(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The descriptor of this process open for writing on the pipe ino, or -1. */
static int find_write_end(ino_t ino)
{
	struct stat st;

	for (int fd = 0; fd < SCAN_FDS; fd++)
		if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_ino == ino &&
		    (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY)
			return fd;
	return -1;
}

/* ==== Signals ==== */

static void on_tick(int sig)
{
	(void)sig; /* nothing to do: the signal's arrival is the point */
}

/* Raise SIGALRM every us microseconds; the handler has no SA_RESTART. */
static void ticker_start(long us)
{
	struct sigaction sa;
	struct itimerval it = {{0, us}, {0, us}};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked read() or write() fails with EINTR */
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void ticker_stop(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
}

/* ==== Calls with a deadline ==== */

struct call {
	void (*fn)(void *arg); /* what to run on the helper thread */
	void *arg;             /* its argument */
	pid_t test_pid;        /* the test process: any other pid is a forked copy */
};

static pthread_t worker; /* the helper thread of the last call_within() */

static void *call_thread(void *p)
{
	struct call *c = p;
	sigset_t alarm;

	/* This thread, not the waiting one, takes the timer's signals. */
	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &alarm, NULL);
	c->fn(c->arg);
	if (getpid() != c->test_pid) {
		if (sh)
			sh->stray = 1;
		_exit(0);
	}
	return NULL;
}

/* Run fn(arg) on a helper thread. 1 when it returned within ms, 0 if still running. */
static int call_within(void (*fn)(void *), void *arg, long ms)
{
	static struct call c; /* static: a hung thread may outlive this frame */
	sigset_t alarm, old;
	struct timespec until;
	pthread_t t;
	int r;

	c = (struct call){fn, arg, getpid()};
	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alarm, &old);
	xpthread_create(&t, call_thread, &c);
	worker = t;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	r = pthread_timedjoin_np(t, NULL, &until);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r == 0;
}

enum op { READ_ALL, WRITE_ALL, SEND_MSG, RECV_MSG };

/* One call of a byte or frame function, and what it returned. */
struct op_call {
	enum op op;  /* which function */
	int fd;      /* its descriptor */
	void *buf;   /* its buffer */
	size_t n;    /* bytes to move, or the buffer's capacity */
	ssize_t ret; /* what it returned */
	int err;     /* errno after it */
	size_t len;  /* recv_msg's *len */
};

static void op_run(void *p)
{
	struct op_call *c = p;

	errno = 0;
	if (c->op == READ_ALL)
		c->ret = read_all(c->fd, c->buf, c->n);
	else if (c->op == WRITE_ALL)
		c->ret = write_all(c->fd, c->buf, c->n);
	else if (c->op == SEND_MSG)
		c->ret = send_msg(c->fd, c->buf, (uint32_t)c->n);
	else
		c->ret = recv_msg(c->fd, c->buf, c->n, &c->len);
	c->err = errno;
}

/* Make call c within CALL_MS; if it hangs, fail saying what and why. */
static ssize_t op_within(struct op_call *c, const char *what, const char *why)
{
	if (!call_within(op_run, c, CALL_MS)) {
		suite_xray(); /* before anything stops: what each process holds now */
		ticker_stop();
		ck_abort_msg("%s had not returned after %d s: %s", what, CALL_MS / 1000, why);
	}
	errno = c->err;
	return c->ret;
}

static ssize_t call_read_all(int fd, void *buf, size_t n, const char *what)
{
	struct op_call c = {.op = READ_ALL, .fd = fd, .buf = buf, .n = n};

	return op_within(&c, what,
			 "when read() returns 0 the writer has closed its end (end of file): stop "
			 "looping and return the bytes read so far.");
}

static ssize_t call_write_all(int fd, const void *buf, size_t n, const char *what)
{
	struct op_call c = {.op = WRITE_ALL, .fd = fd, .buf = (void *)buf, .n = n};

	return op_within(&c, what, "does the loop stop once the count of bytes written reaches n?");
}

static int call_send(int fd, const void *buf, uint32_t len, const char *what)
{
	struct op_call c = {.op = SEND_MSG, .fd = fd, .buf = (void *)buf, .n = len};

	return (int)op_within(
	    &c, what, "it wrote more than the frame (4 + len bytes) and the pipe filled up.");
}

static int call_recv(int fd, void *buf, size_t cap, size_t *len, const char *what)
{
	struct op_call c = {.op = RECV_MSG, .fd = fd, .buf = buf, .n = cap};
	int r = (int)op_within(&c, what,
			       "read exactly 4 header bytes, then exactly the length they give — "
			       "and stop when read() returns 0 (end of file).");

	*len = c.len;
	return r;
}

/* ==== Peer processes ==== */

struct peer {
	int fds[2];  /* the pipe */
	size_t skip; /* bytes the reader discards before the pattern starts */
	long delay;  /* microseconds the peer sleeps before its first move */
};

/* Child: write TRICKLE pattern bytes, 1 to 7 at a time, pausing now and then. */
static void trickle_writer(void *arg)
{
	struct peer *p = arg;
	unsigned char *buf = pattern_new(TRICKLE, 0);
	size_t k;

	close(p->fds[0]);
	for (size_t i = 0, chunk = 0; i < TRICKLE; i += k, chunk++) {
		k = 1 + chunk % 7;
		if (k > TRICKLE - i)
			k = TRICKLE - i;
		if (io_writen(p->fds[1], buf + i, k) < 0)
			_exit(1);
		if (chunk % 16 == 0)
			usleep(100); /* let the reader find the pipe nearly empty */
	}
	_exit(0);
}

/* Child: read until end of file, 1 to 7 bytes at a time, checking the pattern. */
static void slow_reader(void *arg)
{
	struct peer *p = arg;
	unsigned char buf[8];
	size_t seen = 0;

	close(p->fds[1]);
	usleep((useconds_t)p->delay);
	for (unsigned calls = 0;; calls++) {
		ssize_t r = read(p->fds[0], buf, 1 + calls % 7);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++, seen++) {
			if (seen < p->skip)
				continue;
			if (sh->bad < 0 && buf[i] != pattern_at(seen - p->skip)) {
				sh->bad = (long)(seen - p->skip);
				sh->bad_value = buf[i];
			}
		}
	}
	sh->got = seen >= p->skip ? (long)(seen - p->skip) : 0;
	_exit(0);
}

/* Fill the pipe's write end until a non-blocking write would block. Returns the bytes. */
static size_t fill_pipe(int wfd)
{
	static const char zeros[SMALL_PIPE];
	size_t filled = 0;
	ssize_t w;
	int flags = fcntl(wfd, F_GETFL);

	fcntl(wfd, F_SETFL, flags | O_NONBLOCK);
	while ((w = write(wfd, zeros, sizeof(zeros))) > 0)
		filled += (size_t)w;
	while ((w = write(wfd, zeros, 1)) > 0)
		filled += (size_t)w;
	fcntl(wfd, F_SETFL, flags);
	return filled;
}

/* Wait for the slow reader and check it got n pattern bytes; what names the call. */
static void check_reader(pid_t pid, size_t n, const char *what)
{
	ck_assert_msg(reap(pid) == 0, "suite: the reader child failed");
	ck_assert_msg(sh->got == (long)n,
		      "after %s returned, the reader at the other end of the pipe counted %ld "
		      "bytes, expected %zu.",
		      what, sh->got, n);
	ck_assert_msg(sh->bad < 0,
		      "after %s, byte %ld arrived as 0x%02x, expected 0x%02x: after a short write, "
		      "carry on from buf + bytes already written, not from the start of buf.",
		      what, sh->bad, sh->bad_value, pattern_at((size_t)sh->bad));
}

/* ==== Core: whole reads and writes ==== */

START_TEST(test_read_all_short_reads)
{
	struct peer p = {0};
	unsigned char *buf = xmalloc(TRICKLE + 10000);
	ssize_t r;
	pid_t pid;
	long bad;

	shared_page();
	make_pipe(p.fds, 0);
	pid = proc_run(trickle_writer, &p);
	close(p.fds[1]);
	r = call_read_all(p.fds[0], buf, 15000, "read_all(fd, buf, 15000)");
	ck_assert_msg(
	    r == 15000,
	    "read_all(fd, buf, 15000) returned %zd (errno %s), expected 15000: the writer "
	    "sends a few bytes at a time and read() returns only what is in the pipe at "
	    "that moment; loop until you have all n bytes.",
	    r, r < 0 ? ename(errno) : "-");
	bad = pattern_mismatch(buf, 15000, 0);
	ck_assert_msg(
	    bad < 0,
	    "read_all() returned 15000 but byte %ld is 0x%02x, expected 0x%02x: after a "
	    "short read, read the rest into buf + bytes so far, not over the start of buf.",
	    bad, buf[bad < 0 ? 0 : bad], pattern_at((size_t)bad));
	r = call_read_all(p.fds[0], buf + 15000, 10000,
			  "read_all(fd, buf, 10000) with 5000 bytes left before end of file");
	ck_assert_msg(r == 5000 && pattern_mismatch(buf + 15000, 5000, 15000) < 0,
		      "read_all(fd, buf, 10000) with only 5000 bytes left before end of file "
		      "returned %zd (errno %s), expected those 5000 bytes: at end of file, return "
		      "what you have.",
		      r, r < 0 ? ename(errno) : "-");
	r = call_read_all(p.fds[0], buf, 10, "read_all(fd, buf, 10) at end of file");
	ck_assert_msg(r == 0, "read_all() at end of file returned %zd (errno %s), expected 0.", r,
		      r < 0 ? ename(errno) : "-");
	ck_assert_msg(reap(pid) == 0, "suite: the writer child failed");
	close(p.fds[0]);
	free(buf);
}
END_TEST

START_TEST(test_write_all_short_writes)
{
	struct peer p = {0};
	unsigned char *buf = pattern_new(FLOOD, 0);
	ssize_t w;
	pid_t pid;

	shared_page();
	signal(SIGPIPE, SIG_IGN);
	make_pipe(p.fds, 1);
	pid = proc_run(slow_reader, &p);
	close(p.fds[0]);
	ticker_start(1000);
	w = call_write_all(p.fds[1], buf, FLOOD, "write_all() of 256 KiB");
	ticker_stop();
	close(p.fds[1]);
	ck_assert_msg(w == FLOOD,
		      "write_all() of %d bytes into a one-page pipe returned %zd (errno %s): a "
		      "timer's signal interrupted write(), which then returned the bytes written "
		      "so far (or failed with EINTR when there were none). Loop until all n are "
		      "written, retrying EINTR.",
		      FLOOD, w, w < 0 ? ename(errno) : "-");
	check_reader(pid, FLOOD, "write_all()");
	free(buf);
}
END_TEST

/* The writer sleeps before each half, so read_all() is blocked when the timer fires. */
static void late_writer(void *arg)
{
	struct peer *p = arg;
	unsigned char *buf = pattern_new(128, 0);

	close(p->fds[0]);
	usleep(30000);
	if (io_writen(p->fds[1], buf, 64) < 0)
		_exit(1);
	usleep(20000);
	if (io_writen(p->fds[1], buf + 64, 64) < 0)
		_exit(1);
	_exit(0);
}

static void check_read_eintr(void)
{
	struct peer p = {0};
	unsigned char buf[128];
	ssize_t r;
	pid_t pid;

	make_pipe(p.fds, 0);
	pid = proc_run(late_writer, &p);
	close(p.fds[1]);
	ticker_start(2000);
	r = call_read_all(p.fds[0], buf, sizeof(buf), "read_all() under a 2 ms timer");
	ticker_stop();
	ck_assert_msg(r != -1 || errno != EINTR,
		      "read_all(fd, buf, 128) failed with EINTR: a signal handler installed "
		      "without SA_RESTART ran while read() waited, so read() failed with EINTR "
		      "before any byte arrived. That is not an error: call read() again.");
	ck_assert_msg(r == 128 && pattern_mismatch(buf, 128, 0) < 0,
		      "read_all(fd, buf, 128) returned %zd (errno %s), expected 128 bytes intact, "
		      "sent in two halves 20 ms apart: loop over short reads and EINTR.",
		      r, r < 0 ? ename(errno) : "-");
	ck_assert_msg(reap(pid) == 0, "suite: the writer child failed");
	close(p.fds[0]);
}

static void check_write_eintr(void)
{
	struct peer p = {.delay = 30000};
	unsigned char *buf = pattern_new(128, 0);
	ssize_t w;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	make_pipe(p.fds, 1);
	p.skip = fill_pipe(p.fds[1]);
	pid = proc_run(slow_reader, &p);
	close(p.fds[0]);
	ticker_start(2000);
	w = call_write_all(p.fds[1], buf, 128, "write_all() into a full pipe");
	ticker_stop();
	close(p.fds[1]);
	ck_assert_msg(w != -1 || errno != EINTR,
		      "write_all(fd, buf, 128) into a full pipe failed with EINTR: a signal "
		      "arrived while write() waited for room, so write() failed before writing "
		      "anything. That is not an error: call write() again.");
	ck_assert_msg(w == 128, "write_all(fd, buf, 128) returned %zd (errno %s), expected 128.", w,
		      w < 0 ? ename(errno) : "-");
	check_reader(pid, 128, "write_all()");
	free(buf);
}

START_TEST(test_io_eintr_retried)
{
	shared_page();
	check_read_eintr();
	check_write_eintr();
}
END_TEST

/* ==== Frames ==== */

/* The bytes waiting in the pipe behind rfd. */
static int pending(int rfd)
{
	int n = -1;

	ioctl(rfd, FIONREAD, &n);
	return n;
}

/* send_msg(buf, len) must put exactly the frame in the pipe. */
static void check_frame_sent(int fds[2], const char *buf, uint32_t len)
{
	char got[64];
	uint32_t head = 0;
	int r, n;

	r = call_send(fds[1], buf, len, "send_msg()");
	ck_assert_msg(r == 0, "send_msg(fd, \"%s\", %u) returned %d (errno %s), expected 0.", buf,
		      len, r, r < 0 ? ename(errno) : "-");
	n = pending(fds[0]);
	ck_assert_msg(n == (int)(4 + len),
		      "send_msg(fd, \"%s\", %u) put %d bytes in the pipe, expected %u: a 4-byte "
		      "uint32_t length, then the message's bytes, without a NUL.",
		      buf, len, n, 4 + len);
	io_readn(fds[0], &head, 4);
	io_readn(fds[0], got, len);
	ck_assert_msg(head == len,
		      "the frame of \"%s\" began with length %u, expected %u (a uint32_t in this "
		      "machine's byte order).",
		      buf, head, len);
	ck_assert_msg(memcmp(got, buf, len) == 0, "the frame of \"%s\" carried other bytes.", buf);
}

/* recv_msg() must return 1 with the message s. */
static void check_frame_received(int rfd, const char *s)
{
	char buf[64];
	size_t len = 999;
	int r = call_recv(rfd, buf, sizeof(buf), &len, "recv_msg()");

	ck_assert_msg(r == 1 && len == strlen(s) && memcmp(buf, s, len) == 0,
		      "recv_msg() returned %d (errno %s) with *len %zu, expected 1 with the "
		      "%zu-byte message \"%s\"%s",
		      r, r < 0 ? ename(errno) : "-", len, strlen(s), s,
		      *s ? "."
			 : ": an empty message is a message; only end of file before a "
			   "header returns 0.");
}

START_TEST(test_msg_roundtrip)
{
	int fds[2], r;
	size_t len;

	make_pipe(fds, 0);
	check_frame_sent(fds, "hello", 5);
	check_frame_sent(fds, "", 0);
	put_frame(fds[1], "abc", 3);
	put_frame(fds[1], "", 0);
	put_frame(fds[1], "xyz", 3);
	close(fds[1]);
	check_frame_received(fds[0], "abc");
	check_frame_received(fds[0], "");
	check_frame_received(fds[0], "xyz");
	r = call_recv(fds[0], &len, sizeof(len), &len, "recv_msg() at end of file");
	ck_assert_msg(r == 0,
		      "recv_msg() at a clean end of file (between frames) returned %d (errno %s), "
		      "expected 0.",
		      r, r < 0 ? ename(errno) : "-");
	close(fds[0]);
}
END_TEST

static const size_t big_sizes[] = {64 * KIB, 4, 3000, MIB, 0};

/* Child: the big frames with send_msg, one by hand with its header in two pieces. */
static void big_sender(void *arg)
{
	struct peer *p = arg;
	int fd = p->fds[1];

	close(p->fds[0]);
	for (int i = 0; i < 5; i++) {
		unsigned char *buf = pattern_new(big_sizes[i], (size_t)i);
		uint32_t len = (uint32_t)big_sizes[i];

		if (i == 2) {
			/* The header arrives in two pieces: recv_msg must wait for the rest. */
			if (io_writen(fd, &len, 2) < 0)
				_exit(10 + i);
			usleep(20000);
			if (io_writen(fd, (char *)&len + 2, 2) < 0 || io_writen(fd, buf, len) < 0)
				_exit(10 + i);
		} else if (send_msg(fd, buf, len) < 0) {
			_exit(10 + i);
		}
		free(buf);
	}
	_exit(0);
}

START_TEST(test_msg_large)
{
	struct peer p = {0};
	unsigned char *buf = xmalloc(MIB + 64);
	size_t len;
	pid_t pid;
	int r, status;

	shared_page();
	make_pipe(p.fds, 1);
	pid = proc_run(big_sender, &p);
	close(p.fds[1]);
	for (int i = 0; i < 5; i++) {
		size_t n = big_sizes[i];
		long bad;

		r = call_recv(p.fds[0], buf, MIB + 64, &len, "recv_msg() of a large message");
		ck_assert_msg(
		    r == 1 && len == n,
		    "message %d of %zu bytes: recv_msg() returned %d (errno %s) with *len "
		    "%zu. A frame larger than PIPE_BUF (4096) goes through the pipe in "
		    "pieces: write_all() and read_all() on both sides, never one write() "
		    "or read().",
		    i + 1, n, r, r < 0 ? ename(errno) : "-", len);
		bad = pattern_mismatch(buf, n, (size_t)i);
		ck_assert_msg(
		    bad < 0,
		    "message %d of %zu bytes arrived with byte %ld wrong (0x%02x, expected "
		    "0x%02x): continue each read or write where the last one stopped.",
		    i + 1, n, bad, buf[bad < 0 ? 0 : bad], pattern_at((size_t)(bad + i)));
	}
	r = call_recv(p.fds[0], buf, MIB, &len, "recv_msg() at end of file");
	ck_assert_msg(r == 0, "recv_msg() after the last frame returned %d (errno %s), expected 0.",
		      r, r < 0 ? ename(errno) : "-");
	status = reap(pid);
	ck_assert_msg(status == 0,
		      "send_msg() failed in the writer child on message %d (the child exited with "
		      "status %d).",
		      WEXITSTATUS(status) - 10 + 1, WEXITSTATUS(status));
	close(p.fds[0]);
	free(buf);
}
END_TEST

/* The size of frame s of writer w: from 8 bytes up to PIPE_BUF with its header. */
static uint32_t frame_size(int w, uint32_t s)
{
	return 8 + (s * 193 + (uint32_t)w * 71) % (PIPE_BUF - 4 - 8 + 1);
}

static void frame_fill(unsigned char *buf, int w, uint32_t s)
{
	uint32_t n = frame_size(w, s);

	buf[0] = (unsigned char)w;
	memcpy(buf + 1, &s, 4);
	for (uint32_t j = 5; j < n; j++)
		buf[j] = pattern_at(j + (size_t)w * 7919 + (size_t)s * 104729);
}

/* Child: writer number p->skip sends FRAMES frames with send_msg. */
static void frame_writer(void *arg)
{
	struct peer *p = arg;
	unsigned char buf[PIPE_BUF];
	int w = (int)p->skip;

	close(p->fds[0]);
	for (uint32_t s = 0; s < FRAMES; s++) {
		frame_fill(buf, w, s);
		if (send_msg(p->fds[1], buf, frame_size(w, s)) < 0)
			_exit(1);
	}
	_exit(0);
}

/* Read every frame; NULL if all were whole, or what went wrong. */
static const char *read_frames(int rfd, int *count)
{
	static char why[256];
	unsigned char buf[PIPE_BUF], want[PIPE_BUF];
	uint32_t next[WRITERS] = {0}, len, s;
	ssize_t r;

	for (*count = 0; (r = io_readn(rfd, &len, 4)) == 4; ++*count) {
		if (len < 8 || len > PIPE_BUF - 4) {
			snprintf(why, sizeof(why), "a header says %u bytes, a size no writer sends",
				 len);
			return why;
		}
		if (io_readn(rfd, buf, len) != (ssize_t)len)
			return "the stream ended inside a frame";
		memcpy(&s, buf + 1, 4);
		if (buf[0] >= WRITERS || s != next[buf[0]] || len != frame_size(buf[0], s))
			return "a frame's first bytes do not belong to any frame sent";
		frame_fill(want, buf[0], s);
		if (memcmp(buf, want, len) != 0)
			return "a frame carries bytes of another";
		next[buf[0]]++;
	}
	return r == 0 ? NULL : "the stream ended inside a header";
}

START_TEST(test_msg_atomic_frames)
{
	struct peer p[WRITERS];
	pid_t pids[WRITERS];
	const char *why;
	int fds[2], count, failed = 0;

	shared_page();
	make_pipe(fds, 1);
	for (int w = 0; w < WRITERS; w++) {
		p[w] = (struct peer){{fds[0], fds[1]}, (size_t)w, 0};
		pids[w] = proc_run(frame_writer, &p[w]);
	}
	close(fds[1]);
	why = read_frames(fds[0], &count);
	for (int w = 0; w < WRITERS; w++) {
		if (why)
			kill(pids[w], SIGKILL);
		failed |= reap(pids[w]) != 0;
	}
	close(fds[0]);
	ck_assert_msg(!why,
		      "%d writers shared one pipe, each sending frames of at most PIPE_BUF bytes "
		      "with send_msg(); after %d whole frames, %s. Another writer's bytes came "
		      "between a header and its body: send a frame of at most PIPE_BUF bytes with "
		      "ONE write(), which POSIX makes atomic.",
		      WRITERS, count, why);
	ck_assert_msg(!failed, "send_msg() failed in a writer child (it exited with status 1).");
	ck_assert_msg(count == WRITERS * FRAMES, "the reader got %d frames, expected %d.", count,
		      WRITERS * FRAMES);
}
END_TEST

/* A pipe holding raw bytes and then end of file: what a dead writer leaves. */
static void make_stream(int fds[2], uint32_t head, size_t head_bytes, size_t body_bytes)
{
	unsigned char *body = pattern_new(body_bytes, 0);

	make_pipe(fds, 0);
	io_writen(fds[1], &head, head_bytes);
	io_writen(fds[1], body, body_bytes);
	close(fds[1]);
	free(body);
}

START_TEST(test_recv_msg_errors)
{
	unsigned char buf[50 + 64];
	size_t len = 0;
	int fds[2], r;

	make_stream(fds, 100, 2, 0);
	r = call_recv(fds[0], buf, 50, &len, "recv_msg() on a torn header");
	ck_assert_msg(r == -1 && errno == EPROTO,
		      "the pipe ended 2 bytes into a 4-byte header; recv_msg() returned %d (errno "
		      "%s), expected -1 with EPROTO: only end of file before a header is clean.",
		      r, r < 0 ? ename(errno) : "-");
	close(fds[0]);

	make_stream(fds, 100, 4, 10);
	r = call_recv(fds[0], buf, sizeof(buf), &len, "recv_msg() on a torn body");
	ck_assert_msg(r == -1 && errno == EPROTO,
		      "the header promised 100 bytes and the writer died after 10; recv_msg() "
		      "returned %d (errno %s, *len %zu), expected -1 with EPROTO: a torn frame is "
		      "an error, never a short message.",
		      r, r < 0 ? ename(errno) : "-", len);
	close(fds[0]);

	make_stream(fds, 50, 4, 50);
	r = call_recv(fds[0], buf, 50, &len, "recv_msg() of a message that just fits");
	ck_assert_msg(r == 1 && len == 50,
		      "a 50-byte message into a 50-byte buffer: recv_msg() returned %d (errno %s), "
		      "expected 1 with *len 50: a message of exactly cap bytes fits.",
		      r, r < 0 ? ename(errno) : "-");
	close(fds[0]);

	memset(buf, 0x5a, sizeof(buf));
	make_stream(fds, 100, 4, 100);
	r = call_recv(fds[0], buf, 50, &len, "recv_msg() of a message too big");
	close(fds[0]);
	for (size_t i = 50; i < sizeof(buf); i++)
		ck_assert_msg(buf[i] == 0x5a,
			      "recv_msg() wrote past buf + cap (a 100-byte message, cap 50): check "
			      "the length against cap before you read the body.");
	ck_assert_msg(r == -1 && errno == EMSGSIZE,
		      "a 100-byte message, cap 50: recv_msg() returned %d (errno %s), expected -1 "
		      "with EMSGSIZE.",
		      r, r < 0 ? ename(errno) : "-");
}
END_TEST

/* ==== Producer and consumer ==== */

/* In the producer child: note who we are and which descriptors we hold. */
static void producer_begin(int wfd)
{
	struct stat st;
	char what[128];
	size_t used = 0;

	sh->producer = getpid();
	sh->wfd_ok = fstat(wfd, &st) == 0 && S_ISFIFO(st.st_mode) &&
		     (fcntl(wfd, F_GETFL) & O_ACCMODE) == O_WRONLY;
	sh->pipe_ino = sh->wfd_ok ? st.st_ino : 0;
	for (int fd = 0; fd < SCAN_FDS; fd++) {
		if (fd == wfd || sh->fds[fd] || fcntl(fd, F_GETFD) < 0)
			continue;
		if (fstat(fd, &st) == 0 && sh->wfd_ok && st.st_ino == sh->pipe_ino) {
			sh->read_end_in_child = 1;
			snprintf(what, sizeof(what), "the read end of the pipe");
		} else if (proc_describe_fd(0, fd, what, sizeof(what)) < 0) {
			snprintf(what, sizeof(what), "?");
		}
		used += (size_t)snprintf(sh->extra + used, sizeof(sh->extra) - used, "%sfd %d (%s)",
					 used ? ", " : "", fd, what);
		if (used >= sizeof(sh->extra))
			break;
	}
	sh->child_fds = proc_count_fds(0);
	sh->started = 1;
}

/* Milliseconds of CPU time the helper thread has used: a hung call that spins uses them all. */
static long worker_cpu_ms(void)
{
	struct timespec ts;
	clockid_t cid;

	if (pthread_getcpuclockid(worker, &cid) != 0 || clock_gettime(cid, &ts) < 0)
		return 0;
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Why producer_consumer() has not returned: its state, as the shared page and /proc show. */
static const char *diagnose_hang(char *why, size_t size)
{
	int fd = sh->wfd_ok ? find_write_end(sh->pipe_ino) : -1;

	if (worker_cpu_ms() > CALL_MS / 4)
		return "it is spinning, not waiting: a loop that never ends. Does read_all() stop "
		       "when read() returns 0 (end of file)?";
	if (!sh->started)
		return "the producer never started: fork() a child and call produce(fds[1], arg) "
		       "in it.";
	if (!sh->finished && sh->read_end_in_child)
		return "the producer child is still blocked writing, and it holds the read end "
		       "itself, so closing yours does not give it EPIPE: close the read end in "
		       "the child.";
	if (!sh->finished)
		return "the producer child is still blocked writing into the pipe: nobody reads "
		       "it. Read every frame until end of file BEFORE waitpid(); when you stop "
		       "early, close the read end before waitpid() so that the child's write "
		       "fails with EPIPE.";
	if (fd >= 0) {
		snprintf(why, size,
			 "the producer has finished, but the write end of the pipe is still open "
			 "in your own process (fd %d), so the reader never sees end of file: close "
			 "the write end in the parent right after fork().",
			 fd);
		return why;
	}
	if (is_running(sh->producer))
		return "produce() returned, but the child did not exit: end it with "
		       "_exit(status).";
	return "the producer finished and exited, but the write end is still open somewhere, "
	       "so the reader never sees end of file: every copy of the write end must be "
	       "closed.";
}

struct pc_call {
	producer_fn *produce; /* the test's producer */
	void *arg;            /* its argument */
	char *out;            /* where the messages go */
	size_t cap;           /* out's size */
	size_t len;           /* *outlen */
	int ret;              /* what producer_consumer() returned */
	int err;              /* errno after it */
};

static void pc_run(void *p)
{
	struct pc_call *c = p;

	errno = 0;
	c->ret = producer_consumer(c->produce, c->arg, c->out, c->cap, &c->len);
	c->err = errno;
}

/* Call producer_consumer() with a deadline; fail with the cause if it hangs. */
static int run_pc(producer_fn *produce, void *arg, char *out, size_t cap, size_t *len)
{
	struct pc_call c = {produce, arg, out, cap, 0, 0, 0};
	char why[320];

	shared_page();
	for (int fd = 0; fd < SCAN_FDS; fd++) {
		sh->fds[fd] = fcntl(fd, F_GETFD) >= 0;
		sh->parent_fds += sh->fds[fd];
	}
	if (!call_within(pc_run, &c, CALL_MS)) {
		const char *cause = diagnose_hang(why, sizeof(why));

		suite_xray(); /* before the producer is killed: who holds which end */
		if (sh->producer > 0)
			kill(sh->producer, SIGKILL);
		ck_abort_msg("producer_consumer() had not returned after %d s: %s", CALL_MS / 1000,
			     cause);
	}
	ck_assert_msg(!sh->stray, "the child came back out of producer_consumer() and ran the "
				  "caller's code: end the child with _exit(), never return.");
	ck_assert_msg(
	    !sh->started || sh->wfd_ok,
	    "produce() was not given the write end of a pipe: call produce(fds[1], arg).");
	*len = c.len;
	errno = c.err;
	return c.ret;
}

static int produce_hello(int wfd, void *arg)
{
	(void)arg;
	producer_begin(wfd);
	put_str(wfd, "hello, ");
	put_str(wfd, "pipe");
	put_str(wfd, "");
	put_str(wfd, "!");
	sh->finished = 1;
	return 0;
}

START_TEST(test_pc_eof)
{
	char out[64];
	size_t len = 0;
	int r;

	r = run_pc(produce_hello, NULL, out, sizeof(out), &len);
	ck_assert_msg(r == 0, "producer_consumer() returned %d (errno %s), expected 0.", r,
		      r < 0 ? ename(errno) : "-");
	ck_assert_msg(len == 12 && memcmp(out, "hello, pipe!", 12) == 0,
		      "producer_consumer() gave %zu bytes \"%.*s\", expected the four messages "
		      "one after the other: 12 bytes \"hello, pipe!\".",
		      len, (int)(len < 40 ? len : 40), out);
	suite_check_leaks("producer_consumer()");
}
END_TEST

static int produce_big(int wfd, void *arg)
{
	unsigned char *a = pattern_new(64 * KIB, 0), *b = pattern_new(MIB, 3);

	int failed;

	(void)arg;
	producer_begin(wfd);
	failed = put_frame(wfd, a, 64 * KIB) < 0 || put_frame(wfd, b, MIB) < 0 ||
		 put_frame(wfd, "end", 3) < 0;
	sh->finished = 1;
	free(a);
	free(b);
	return failed;
}

START_TEST(test_pc_large)
{
	size_t cap = MIB + 128 * KIB, len = 0;
	char *out = xmalloc(cap);
	long bad;
	int r;

	r = run_pc(produce_big, NULL, out, cap, &len);
	ck_assert_msg(r == 0, "producer_consumer() returned %d (errno %s), expected 0.", r,
		      r < 0 ? ename(errno) : "-");
	ck_assert_msg(len == 64 * KIB + MIB + 3,
		      "the producer sent 64 KiB, 1 MiB and 3 bytes; producer_consumer() gave %zu "
		      "bytes, expected %d.",
		      len, 64 * KIB + MIB + 3);
	bad = pattern_mismatch(out, 64 * KIB, 0);
	if (bad < 0)
		bad = pattern_mismatch(out + 64 * KIB, MIB, 3);
	ck_assert_msg(bad < 0 && memcmp(out + 64 * KIB + MIB, "end", 3) == 0,
		      "the messages arrived damaged (byte %ld of the 1 MiB one is wrong, or the "
		      "last is not \"end\"): store each one at out + bytes received so far.",
		      bad);
	suite_check_leaks("producer_consumer()");
	free(out);
}
END_TEST

/* Send one message, then exit with *arg, or be killed by signal -*arg. */
static int produce_status(int wfd, void *arg)
{
	int code = *(int *)arg;

	producer_begin(wfd);
	put_str(wfd, "x");
	sh->finished = 1;
	if (code < 0) {
		signal(-code, SIG_DFL); /* Check's handler would pass it on to the whole test */
		raise(-code);
	}
	return code;
}

START_TEST(test_pc_exit_status)
{
	int code = 7, r;
	char out[16];
	size_t len;

	r = run_pc(produce_status, &code, out, sizeof(out), &len);
	ck_assert_msg(
	    r == 7, "the child exited with status 7, producer_consumer() returned %d (errno %s)%s",
	    r, r < 0 ? ename(errno) : "-",
	    r == 7 << 8 ? ": that is the raw wait status; use WEXITSTATUS(status)."
			: ", expected 7.");
	code = -SIGTERM;
	r = run_pc(produce_status, &code, out, sizeof(out), &len);
	ck_assert_msg(
	    r == 128 + SIGTERM,
	    "the child was killed by SIGTERM, producer_consumer() returned %d (errno %s), "
	    "expected %d: when WIFSIGNALED(status), return 128 + WTERMSIG(status).",
	    r, r < 0 ? ename(errno) : "-", 128 + SIGTERM);
	suite_check_leaks("producer_consumer()");
}
END_TEST

START_TEST(test_pc_child_fds)
{
	char out[64];
	size_t len;
	int r;

	r = run_pc(produce_hello, NULL, out, sizeof(out), &len);
	ck_assert_msg(r == 0, "producer_consumer() returned %d (errno %s), expected 0.", r,
		      r < 0 ? ename(errno) : "-");
	ck_assert_msg(sh->extra[0] == '\0',
		      "the producer child held %s besides the write end of the pipe (%d "
		      "descriptors open, expected %d): close in the child every descriptor it "
		      "does not use — above all the read end, or the child never gets EPIPE when "
		      "the reader goes away.",
		      sh->extra, sh->child_fds, sh->parent_fds + 1);
	suite_check_leaks("producer_consumer()");
}
END_TEST

/* A producer that dies in the middle of a frame: 10 bytes of a promised 100. */
static int produce_torn(int wfd, void *arg)
{
	uint32_t len = 100;

	(void)arg;
	producer_begin(wfd);
	if (io_writen(wfd, &len, 4) < 0 || io_writen(wfd, "0123456789", 10) < 0)
		return 1;
	sh->finished = 1;
	return 0;
}

/* A producer whose one message is far bigger than the consumer's buffer. */
static int produce_too_much(int wfd, void *arg)
{
	unsigned char *buf = pattern_new(MIB, 0);

	(void)arg;
	producer_begin(wfd);
	put_frame(wfd, buf, MIB); /* fails (or SIGPIPE kills us) once the reader gives up */
	sh->finished = 1;
	free(buf);
	return 0;
}

START_TEST(test_pc_error_cleanup)
{
	char out[4096];
	size_t len;
	int r;

	r = run_pc(produce_torn, NULL, out, sizeof(out), &len);
	ck_assert_msg(r == -1 && errno == EPROTO,
		      "the producer died in the middle of a frame; producer_consumer() returned %d "
		      "(errno %s), expected -1 with EPROTO from recv_msg().",
		      r, r < 0 ? ename(errno) : "-");
	suite_check_leaks("producer_consumer() failing on a torn frame");
	r = run_pc(produce_too_much, NULL, out, sizeof(out), &len);
	ck_assert_msg(r == -1 && errno == EMSGSIZE,
		      "the producer sent 1 MiB into a 4096-byte buffer; producer_consumer() "
		      "returned %d (errno %s), expected -1 with EMSGSIZE from recv_msg().",
		      r, r < 0 ? ename(errno) : "-");
	suite_check_leaks("producer_consumer() failing on a message too big");
}
END_TEST

/* ==== Robustness: faults injected into the student's own calls ==== */

/*
 * Every read() and write() that write_all() and read_all() make is cut short
 * or interrupted by the grader's fault injector, deterministically: a loop
 * that trusts one call, or gives up on EINTR, fails here every time.
 */
START_TEST(test_io_survives_injected_faults)
{
	enum { N = 8192 };
	unsigned char *out = pattern_new(N, 7), *in = xcalloc(N, 1);
	int fds[2];
	ssize_t w, r;

	make_pipe(fds, 0);
	fault_inject(FAULT_SHORT_IO | FAULT_EINTR, 1);
	w = write_all(fds[1], out, N);
	fault_stop();
	ck_assert_msg(w == N,
		      "write_all() of %d bytes returned %zd (errno %s) when its write() calls came "
		      "back short or interrupted: loop until all n bytes are written, retrying "
		      "EINTR. %s",
		      N, w, w < 0 ? ename(errno) : "-", fault_report());
	fault_inject(FAULT_SHORT_IO | FAULT_EINTR, 1);
	r = read_all(fds[0], in, N);
	fault_stop();
	ck_assert_msg(
	    r == N,
	    "read_all() of %d bytes returned %zd (errno %s) when its read() calls came "
	    "back short or interrupted: loop until n bytes or end of file, retrying EINTR. "
	    "%s",
	    N, r, r < 0 ? ename(errno) : "-", fault_report());
	ck_assert_msg(memcmp(in, out, N) == 0,
		      "The %d bytes that came through the pipe differ from those written: after a "
		      "short read() or write(), carry on from buf + done, not from buf. %s",
		      N, fault_report());
	close(fds[0]);
	close(fds[1]);
	free(out);
	free(in);
}
END_TEST

void suite_define(void)
{
	/* Core: whole reads and writes. */
	SUITE_TEST(
	    test_read_all_short_reads, 2,
	    "Does one read() give you all n bytes?\n"
	    "read(2) returns what the pipe holds right now, maybe less than asked; it returns 0 "
	    "only at end of file.\n"
	    "Loop read(fd, buf + done, n - done) until done == n or it returns 0; return done.");
	SUITE_TEST(test_io_survives_injected_faults, 2,
		   "What if every read() and write() moves only part of what you asked, or fails "
		   "with EINTR?\n"
		   "Short counts and EINTR are normal results of read(2) and write(2), not errors: "
		   "signal(7).\n"
		   "In both loops: on -1 with errno == EINTR try again; otherwise add what moved "
		   "and carry on from buf + done.");
	SUITE_TEST(
	    test_write_all_short_writes, 2,
	    "Does one write() take all n bytes?\n"
	    "A signal can stop a write(2) after some bytes went through: it then returns fewer "
	    "than asked.\n"
	    "Loop write(fd, buf + done, n - done), adding what each call wrote, until done == n.");
	SUITE_TEST(
	    test_io_eintr_retried, 2,
	    "What does read() return when a signal arrives while it waits?\n"
	    "A handler installed without SA_RESTART makes a blocked read(2) or write(2) fail with "
	    "EINTR: signal(7).\n"
	    "if (r < 0 && errno == EINTR) continue; only other errors end the loop with -1.");

	/* Frames. */
	SUITE_TEST(test_msg_roundtrip, 2,
		   "What exactly goes down the pipe for one message, and what comes back for an "
		   "empty one?\n"
		   "A frame is a 4-byte uint32_t length, then the bytes, no NUL; only end of file "
		   "before a header means 0.\n"
		   "send: the header then the len bytes; recv: read_all 4 bytes (0 means end of "
		   "file), then the body; an empty message returns 1.");
	SUITE_TEST(test_msg_large, 2,
		   "Does a 1 MiB message fit in the pipe in one go?\n"
		   "A pipe holds 64 KiB and moves a large write in pieces; even the 4-byte header "
		   "may arrive in two: pipe(7).\n"
		   "Send and receive the header and the body with write_all() and read_all(), "
		   "never a bare read() or write().");
	SUITE_TEST(test_msg_atomic_frames, 1,
		   "When four writers share one pipe, can two frames interleave?\n"
		   "A write(2) of at most PIPE_BUF bytes to a pipe is atomic; two writes are not: "
		   "pipe(7).\n"
		   "For 4 + len <= PIPE_BUF, copy header and body into one buffer and send it with "
		   "a single write_all().");
	SUITE_TEST(test_recv_msg_errors, 2,
		   "What does recv_msg() return when the stream ends half-way through a frame, or "
		   "the message is too big?\n"
		   "End of file after some bytes of a frame is a torn frame, not a short success; "
		   "check the length before reading the body.\n"
		   "A short header or body read gives errno = EPROTO; len > cap gives errno = "
		   "EMSGSIZE before reading any of the body.");

	/* Producer and consumer. */
	SUITE_TEST(test_pc_eof, 2,
		   "Who else still holds the write end of the pipe?\n"
		   "A reader sees end of file only once every write end is closed: pipe(7).\n"
		   "close(fd[1]) in the parent right after fork().");
	SUITE_TEST(
	    test_pc_large, 2,
	    "What does the child do when the pipe is full and nobody reads it?\n"
	    "A pipe holds only 64 KiB; a writer blocks until the reader makes room: pipe(7).\n"
	    "Read every frame until end of file first, and only then call waitpid().");
	SUITE_TEST(test_pc_exit_status, 1,
		   "Do you return the raw wait status, or what the shell would show in $?\n"
		   "The macros of waitpid(2) decode a wait status: WIFEXITED/WEXITSTATUS, "
		   "WIFSIGNALED/WTERMSIG.\n"
		   "Return WEXITSTATUS(status), or 128 + WTERMSIG(status) for a child killed by a "
		   "signal.");
	SUITE_TEST(test_pc_child_fds, 1,
		   "Which descriptors does the child still hold when it produces?\n"
		   "After fork(2) the child has copies of every descriptor; each process closes "
		   "the end of the pipe it does not use.\n"
		   "In the child, close(fd[0]) before calling produce(fd[1], arg).");
	SUITE_TEST(test_pc_error_cleanup, 2,
		   "When recv_msg() fails, what becomes of the read end and of the child?\n"
		   "A child writing to a pipe with no reader gets EPIPE and ends; one whose reader "
		   "is still open blocks: pipe(7), waitpid(2).\n"
		   "On an error: save errno, close the read end, then waitpid() the child, restore "
		   "errno and return -1.");
}
