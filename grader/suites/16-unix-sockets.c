/*
 * The hidden suite of lab 16: Unix domain sockets.
 *
 * Every test drives the student's functions through real AF_UNIX sockets,
 * with a real process or a real socket at the other end, written here
 * without the student's code. The hard cases are made to happen for real: a
 * peer that sends one byte at a time with pauses, two frames and a piece of
 * a third in one send(), send() and recv() calls of the student's made to
 * come back short or interrupted (the grader's fault injection), a small send
 * buffer drained a few bytes at a time while a timer interrupts the sender, a
 * client that goes away before its answer, a stale socket file, descriptors
 * crossing process boundaries.
 * Every call that a wrong solution could block in runs on a helper thread
 * (or in a child) with a deadline, so that a hang is reported with its cause
 * rather than as a timeout. Socket files live in the test's private working
 * directory; abstract names carry the test's pid.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "fault.h"
#include "suite.h"
#include "unixsock.h"

#define CALL_MS  2000         /* how long one call of the student's may take */
#define SCAN_FDS 1024         /* descriptors looked at when checking for leaks */
#define FLOOD    (256 * 1024) /* bytes of the frame sent through a slow reader */
#define BIG      100000       /* bytes of the large response */

/* What the test process and its children share: one anonymous shared page. */
struct shared {
	volatile int stray;          /* a forked copy came back out of the student's call */
	volatile int entered;        /* the patient handler has a request */
	volatile int release;        /* the test lets it answer */
	volatile int handler_pid;    /* the process the handler last ran in */
	long got;                    /* bytes the reader child counted */
	long bad;                    /* first byte it found wrong, or -1 */
	int bad_value;               /* the byte it found there */
	int ret;                     /* what a call in a child returned */
	int err;                     /* errno after it */
	ino_t parent_ino;            /* the inode of the parent's end of the socketpair */
	int holds_parent_end;        /* the server child still held the parent's end */
	int data_bytes;              /* ordinary bytes that came with a descriptor */
	int nfds;                    /* descriptors that arrived */
	int same_file;               /* the descriptor that arrived is the file sent */
	ino_t ino[2];                /* inodes of the files a child sent */
	char text[128];              /* what a child read through a descriptor */
	unsigned char fds[SCAN_FDS]; /* descriptors open before usock_spawn() */
};

static struct shared *sh;

/* ==== Data and small helpers ==== */

/* Byte i of a stream that never repeats at short range, so misplaced bytes show. */
static unsigned char pattern_at(size_t i)
{
	return (unsigned char)(((uint32_t)i * 2654435761u) >> 24);
}

static unsigned char *pattern_new(size_t n)
{
	unsigned char *buf = xmalloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		buf[i] = pattern_at(i);
	return buf;
}

static long pattern_mismatch(const void *buf, size_t n)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern_at(i))
			return (long)i;
	return -1;
}

/* err_name() does not know every errno this lab uses. */
static const char *ename(int e)
{
	return e == EPROTO ? "EPROTO" : err_name(e);
}

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

static void xsocketpair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		err_die("socketpair:");
}

/* Give up on a blocking recv() on fd after ms milliseconds (EAGAIN). */
static void recv_timeout(int fd, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Send all n bytes without ever raising SIGPIPE. 0, or -1. */
static int put_bytes(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Bytes sent on fd that the peer has not read yet (an AF_UNIX stream socket). */
static int unread(int fd)
{
	int n = 0;

	return ioctl(fd, SIOCOUTQ, &n) < 0 ? 0 : n;
}

/*
 * Send n bytes one at a time, each only once the peer has read the one
 * before: so every recv() of the peer returns exactly one byte, however
 * loaded the machine. A peer that stopped reading is given CALL_MS.
 */
static void dribble(int fd, const void *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put_bytes(fd, (const char *)buf + i, 1);
		for (int t = 0; t < CALL_MS * 5 && unread(fd) > 0; t++)
			usleep(200);
		usleep(200); /* a pause: the peer finds nothing and waits */
	}
}

/* Write a frame the way the lab defines it, without the student's code. */
static int put_frame(int fd, const void *buf, uint32_t len)
{
	uint32_t head = htonl(len);

	return put_bytes(fd, &head, 4) < 0 || put_bytes(fd, buf, len) < 0 ? -1 : 0;
}

/* Read a frame without the student's code: 1, 0 at end of file, -1 (EAGAIN: timeout). */
static int get_frame(int fd, void *buf, size_t cap, size_t *len)
{
	uint32_t head;
	ssize_t r = io_readn(fd, &head, 4);

	if (r <= 0)
		return (int)r;
	if (r < 4 || ntohl(head) > cap) {
		errno = EPROTO;
		return -1;
	}
	*len = ntohl(head);
	if (io_readn(fd, buf, *len) != (ssize_t)*len) {
		errno = EPROTO;
		return -1;
	}
	return 1;
}

/* Fill addr for name ('@': abstract, exact length). Returns the length. */
static socklen_t make_addr(const char *name, struct sockaddr_un *addr)
{
	size_t n = strlen(name);

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	memcpy(addr->sun_path, name, n);
	if (name[0] == '@') {
		addr->sun_path[0] = '\0';
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	}
	return (socklen_t)sizeof(*addr);
}

/* Connect to name without the student's code; the socket gives up reads after CALL_MS. */
static int raw_connect(const char *name)
{
	struct sockaddr_un addr;
	socklen_t alen = make_addr(name, &addr);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0), saved;

	if (fd < 0)
		err_die("socket:");
	if (connect(fd, (struct sockaddr *)&addr, alen) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	recv_timeout(fd, CALL_MS);
	return fd;
}

/* Listen on name without the student's code. */
static int raw_listen(const char *name)
{
	struct sockaddr_un addr;
	socklen_t alen = make_addr(name, &addr);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, alen) < 0 || listen(fd, 8) < 0)
		err_die("suite: listen on %s:", name);
	return fd;
}

/* Leave a stale socket file at path: bound, then closed without unlink. */
static void make_stale(const char *path)
{
	close(raw_listen(path));
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void fds_snapshot(unsigned char *open)
{
	for (int fd = 0; fd < SCAN_FDS; fd++)
		open[fd] = fd_is_open(fd);
}

/* Descriptors open now that were not in the snapshot, but keep; described in buf. */
static int fds_new(const unsigned char *before, int keep, char *buf, size_t size)
{
	char what[128];
	size_t used = 0;
	int n = 0;

	buf[0] = '\0';
	for (int fd = 0; fd < SCAN_FDS; fd++) {
		if (before[fd] || fd == keep || !fd_is_open(fd))
			continue;
		n++;
		if (proc_describe_fd(0, fd, what, sizeof(what)) < 0)
			snprintf(what, sizeof(what), "?");
		if (used < size)
			used += (size_t)snprintf(buf + used, size - used, "%sfd %d (%s)",
						 used ? ", " : "", fd, what);
	}
	return n;
}

/* How many entries the current directory holds (dot files aside). */
static int dir_entries(void)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static char scratch[PATH_MAX]; /* the folder this test works in, when it made one */

/*
 * Every test begins here. In the grader's sandbox the working directory is a
 * private empty folder, and the socket files go there. Run by hand (make
 * suite) it is the toolkit's own folder: then work in a scratch folder under
 * build/ (or /tmp), so that a failed test leaves nothing among the sources.
 */
static void begin(void)
{
	char templ[64] = "/tmp/ipclab16-XXXXXX";

	shared_page();
	if (dir_entries() == 0)
		return;
	if (mkdir("build/scratch", 0700) == 0 || errno == EEXIST)
		strcpy(templ, "build/scratch/16-XXXXXX");
	if (!mkdtemp(templ) || chdir(templ) < 0 || !getcwd(scratch, sizeof(scratch)))
		err_die("suite: scratch folder %s:", templ);
}

/* A test that passed leaves its scratch folder empty: remove it. */
static void end(void)
{
	if (scratch[0])
		rmdir(scratch);
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
	sa.sa_flags = 0; /* no SA_RESTART: a blocked send() fails with EINTR or comes back short */
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

enum op { FRAME_SEND, FRAME_RECV, CALL, SPAWN, FINISH, SEND_FD, RECV_FD, RECV_FILE };

/* One call of the student's, and what it returned. */
struct op_call {
	enum op op;       /* which function */
	int fd;           /* its socket */
	const void *in;   /* the message or request */
	size_t inlen;     /* its length */
	void *out;        /* where a message goes */
	size_t cap;       /* out's size */
	size_t len;       /* the length received */
	int arg;          /* the descriptor to send */
	pid_t pid;        /* usock_spawn's child, usock_finish's argument */
	usock_handler *h; /* usock_spawn's handler */
	ssize_t ret;      /* what it returned */
	int err;          /* errno after it */
	pid_t test_pid;   /* the test process: any other pid is a forked copy */
};

static void *op_thread(void *p)
{
	struct op_call *c = p;
	sigset_t alarm;

	/* This thread, not the waiting one, takes the timer's signals. */
	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &alarm, NULL);
	errno = 0;
	switch (c->op) {
	case FRAME_SEND:
		c->ret = frame_send(c->fd, c->in, (uint32_t)c->inlen);
		break;
	case FRAME_RECV:
		c->ret = frame_recv(c->fd, c->out, c->cap, &c->len);
		break;
	case CALL:
		c->ret = usock_call(c->fd, c->in, (uint32_t)c->inlen, c->out, c->cap, &c->len);
		break;
	case SPAWN:
		c->ret = usock_spawn(c->h, NULL, &c->pid);
		break;
	case FINISH:
		c->ret = usock_finish(c->fd, c->pid);
		break;
	case SEND_FD:
		c->ret = send_fd(c->fd, c->arg);
		break;
	case RECV_FD:
		c->ret = recv_fd(c->fd);
		break;
	case RECV_FILE:
		c->ret = recv_file(c->fd, c->out, c->cap);
		break;
	}
	c->err = errno;
	if (getpid() != c->test_pid) {
		if (sh)
			sh->stray = 1;
		_exit(0); /* a child came back out of the student's function */
	}
	return NULL;
}

/* Run call c on a helper thread; 1 when it returned within CALL_MS, 0 if it hangs. */
static int op_within(struct op_call *c)
{
	static struct op_call copy; /* static: a hung thread may outlive this frame */
	sigset_t alarm, old;
	struct timespec until;
	pthread_t t;
	int r;

	copy = *c;
	copy.test_pid = getpid();
	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alarm, &old);
	xpthread_create(&t, op_thread, &copy);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CALL_MS / 1000;
	r = pthread_timedjoin_np(t, NULL, &until);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == 0)
		*c = copy;
	errno = copy.err;
	return r == 0;
}

/* Make call c; if it hangs, fail saying what and why. Returns what it returned. */
static ssize_t op_must(struct op_call *c, const char *what, const char *why)
{
	if (!op_within(c)) {
		ticker_stop();
		ck_abort_msg("%s had not returned after %d s: %s", what, CALL_MS / 1000, why);
	}
	ck_assert_msg(!sh || !sh->stray,
		      "a child process came back out of %s and ran the test's code: end every "
		      "child with _exit(), never return.",
		      what);
	errno = c->err;
	return c->ret;
}

/* frame_recv() with a deadline; why says what a hang there means (NULL: the usual). */
static int call_recv_why(int fd, void *buf, size_t cap, size_t *len, const char *what,
			 const char *why)
{
	struct op_call c = {.op = FRAME_RECV, .fd = fd, .out = buf, .cap = cap};
	int r = (int)op_must(&c, what,
			     why ? why
				 : "read exactly the 4 header bytes, then exactly the length they "
				   "give, and stop when recv() returns 0.");

	*len = c.len;
	return r;
}

static int call_recv(int fd, void *buf, size_t cap, size_t *len, const char *what)
{
	return call_recv_why(fd, buf, cap, len, what, NULL);
}

static int call_send(int fd, const void *buf, size_t len, const char *what)
{
	struct op_call c = {.op = FRAME_SEND, .fd = fd, .in = buf, .inlen = len};

	return (int)op_must(&c, what, "does the loop stop once the whole frame is sent?");
}

/* ==== Server children ==== */

/* The test's handler: the request in upper case. "wait" first waits for the test. */
static ssize_t upper(void *arg, const char *req, size_t len, char *resp, size_t cap)
{
	(void)arg;
	sh->handler_pid = getpid();
	if (len == 4 && memcmp(req, "wait", 4) == 0) {
		sh->entered = 1;
		for (int i = 0; i < CALL_MS / 5 && !sh->release; i++)
			usleep(5000);
	}
	if (len > cap)
		return -1;
	for (size_t i = 0; i < len; i++)
		resp[i] = (char)toupper((unsigned char)req[i]);
	return (ssize_t)len;
}

struct server {
	int lfd;      /* the listening socket */
	int nclients; /* how many clients to serve */
};

/* Child: serve, then report usock_serve()'s result as the exit status (errno in sh). */
static void server_child(void *arg)
{
	struct server *s = arg;
	int r;

	signal(SIGPIPE, SIG_DFL); /* the default: a SIGPIPE kills, as it would a real server */
	r = usock_serve(s->lfd, s->nclients, upper, NULL);
	sh->ret = r;
	sh->err = errno;
	_exit(r == 0 ? 0 : 1);
}

static pid_t server_start(int lfd, int nclients)
{
	static struct server s;

	s = (struct server){lfd, nclients};
	return proc_run(server_child, &s);
}

/* Describe how the server child ended, for a message. */
static const char *server_death(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE)
		return "the server process was killed by SIGPIPE: it sent to a client that had "
		       "gone. Send with MSG_NOSIGNAL and treat EPIPE as the end of that client "
		       "only.";
	if (WIFSIGNALED(status)) {
		snprintf(buf, size, "the server process was killed by signal %d.",
			 WTERMSIG(status));
		return buf;
	}
	if (sh->ret != -1) {
		snprintf(buf, size,
			 "the server process exited with status %d inside usock_serve(): never "
			 "call exit() for one client's trouble, end that client's connection.",
			 WEXITSTATUS(status));
		return buf;
	}
	snprintf(buf, size,
		 "usock_serve() returned -1 (errno %s) before serving all its clients: a "
		 "client's mistake must end that client's connection, not the server.",
		 ename(sh->err));
	return buf;
}

/* Wait until fd is readable, watching the server child. 1, 0 on timeout, -1 if it died. */
static int wait_reply(int fd, pid_t server, int *status)
{
	struct pollfd p = {fd, POLLIN, 0};

	for (int waited = 0; waited < CALL_MS; waited += 20) {
		if (poll(&p, 1, 20) > 0)
			return 1;
		if (waitpid(server, status, WNOHANG) == server)
			return -1;
	}
	return 0;
}

/* Reap the server child: its status, or -1 if it would not end (then it is killed). */
static int server_reap(pid_t pid)
{
	int status;

	if (proc_wait_timeout(pid, &status, CALL_MS) < 0) {
		kill(pid, SIGKILL);
		proc_wait_timeout(pid, &status, -1);
		return -1;
	}
	return status;
}

/* Close a server's socket and remove its file, whatever the student's code did. */
static void server_close(int lfd, const char *path)
{
	usock_close(lfd, path);
	if (fd_is_open(lfd))
		close(lfd);
	unlink(path);
}

/* One request by a raw client: send it, expect its upper-case answer. */
static void expect_answer(int fd, pid_t server, const char *req, int n, const char *why_missing)
{
	char buf[256], want[256], dead[160];
	size_t len = 0;
	int status, r, i;

	ck_assert_msg(put_frame(fd, req, (uint32_t)strlen(req)) == 0,
		      "request %d (\"%s\") could not be sent: the server closed the connection "
		      "(errno %s). Keep answering requests on a connection until the client "
		      "closes it.",
		      n, req, ename(errno));
	r = wait_reply(fd, server, &status);
	ck_assert_msg(r >= 0, "no answer to request %d (\"%s\"): %s", n, req,
		      server_death(status, dead, sizeof(dead)));
	ck_assert_msg(r > 0, "no answer to request %d (\"%s\") within %d s: %s", n, req,
		      CALL_MS / 1000, why_missing);
	r = get_frame(fd, buf, sizeof(buf) - 1, &len);
	ck_assert_msg(r != 0,
		      "the server closed the connection instead of answering request %d (\"%s\"): "
		      "answer every request frame until the client closes, then close.",
		      n, req);
	ck_assert_msg(
	    r == 1,
	    "the answer to request %d (\"%s\") is not a frame (errno %s): a 4-byte length "
	    "in network byte order (htonl), then the bytes.",
	    n, req, ename(errno));
	for (i = 0; req[i]; i++)
		want[i] = (char)toupper((unsigned char)req[i]);
	buf[len] = '\0';
	ck_assert_msg(len == (size_t)i && memcmp(buf, want, len) == 0,
		      "request %d \"%s\" got the answer \"%s\" (%zu bytes), expected \"%.*s\".", n,
		      req, buf, len, i, want);
}

/* ==== Frames ==== */

/* The bytes waiting on fd, read without blocking: at most cap. */
static ssize_t drain(int fd, unsigned char *buf, size_t cap)
{
	ssize_t r = recv(fd, buf, cap, MSG_DONTWAIT);

	return r < 0 ? 0 : r;
}

static void check_frame_sent(int sv[2], const char *msg)
{
	unsigned char got[64];
	uint32_t len = (uint32_t)strlen(msg), head;
	ssize_t n;
	int r;

	r = call_send(sv[0], msg, len, "frame_send()");
	ck_assert_msg(r == 0, "frame_send(fd, \"%s\", %u) returned %d (errno %s), expected 0.", msg,
		      len, r, ename(errno));
	n = drain(sv[1], got, sizeof(got));
	ck_assert_msg(n == (ssize_t)(4 + len),
		      "frame_send(fd, \"%s\", %u) sent %zd bytes, expected %u: a 4-byte length, "
		      "then the message's bytes, without a NUL.",
		      msg, len, n, 4 + len);
	memcpy(&head, got, 4);
	ck_assert_msg(head != len || len == 0,
		      "frame_send(fd, \"%s\", %u) sent the length in this machine's byte order "
		      "(%02x %02x %02x %02x): convert it with htonl() to network byte order, "
		      "big-endian.",
		      msg, len, got[0], got[1], got[2], got[3]);
	ck_assert_msg(ntohl(head) == len,
		      "frame_send(fd, \"%s\", %u) began with the bytes %02x %02x %02x %02x, "
		      "expected the length %u in network byte order.",
		      msg, len, got[0], got[1], got[2], got[3], len);
	ck_assert_msg(memcmp(got + 4, msg, len) == 0, "the frame of \"%s\" carried other bytes.",
		      msg);
}

static void check_frame_received(int fd, const char *msg)
{
	char buf[1024];
	size_t len = 999;
	int r = call_recv(fd, buf, sizeof(buf), &len, "frame_recv()");

	ck_assert_msg(r != -1 || errno != EMSGSIZE,
		      "frame_recv() of a %zu-byte message failed with EMSGSIZE: the length comes "
		      "in network byte order, convert it with ntohl().",
		      strlen(msg));
	ck_assert_msg(r == 1 && len == strlen(msg) && memcmp(buf, msg, len) == 0,
		      "frame_recv() returned %d (errno %s) with *len %zu, expected 1 with the "
		      "%zu-byte message \"%.20s\"%s",
		      r, r < 0 ? ename(errno) : "-", len, strlen(msg), msg,
		      *msg ? "." : ": an empty message is a message, not the end of the stream.");
}

START_TEST(test_frame_format)
{
	char body[300];
	int sv[2], r;
	size_t len;

	begin();
	xsocketpair(sv);
	check_frame_sent(sv, "hello");
	check_frame_sent(sv, "");
	memset(body, 'z', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	put_frame(sv[1], "abc", 3);
	put_frame(sv[1], "", 0);
	put_frame(sv[1], body, (uint32_t)strlen(body));
	shutdown(sv[1], SHUT_WR);
	check_frame_received(sv[0], "abc");
	check_frame_received(sv[0], "");
	check_frame_received(sv[0], body);
	r = call_recv(sv[0], body, sizeof(body), &len, "frame_recv() at end of stream");
	ck_assert_msg(r == 0,
		      "frame_recv() after the peer closed (between frames) returned %d (errno %s), "
		      "expected 0.",
		      r, r < 0 ? ename(errno) : "-");
	close(sv[0]);
	close(sv[1]);
	end();
}
END_TEST

static const char *const dribbled[] = {"one byte at a time, with pauses", "and another"};

/* Child: send two frames one byte at a time, each once the one before was read. */
static void dribbler(void *arg)
{
	int *sv = arg, fd = sv[1];

	close(sv[0]);
	for (int f = 0; f < 2; f++) {
		uint32_t head = htonl((uint32_t)strlen(dribbled[f]));
		unsigned char frame[64];
		size_t n = 4 + strlen(dribbled[f]);

		memcpy(frame, &head, 4);
		memcpy(frame + 4, dribbled[f], n - 4);
		dribble(fd, frame, n);
	}
	_exit(0);
}

/* Two whole frames and half a header in one send(), then the rest. */
static void check_two_in_one(int sv[2])
{
	static const char *const msg[] = {"first", "second!", "third"};
	unsigned char wire[64];
	size_t at = 0, len;
	char buf[64];
	int r;

	for (int i = 0; i < 3; i++) {
		uint32_t head = htonl((uint32_t)strlen(msg[i]));

		memcpy(wire + at, &head, 4);
		memcpy(wire + at + 4, msg[i], strlen(msg[i]));
		at += 4 + strlen(msg[i]);
	}
	put_bytes(sv[1], wire, 4 + 5 + 4 + 7 + 2); /* frames 1 and 2, half of 3's header */
	for (int i = 0; i < 2; i++) {
		r = call_recv_why(sv[0], buf, sizeof(buf), &len,
				  "frame_recv() of two frames sent at once",
				  "it waits for bytes that already came: the first call took the "
				  "second frame's bytes too. Ask recv() for the bytes left in the "
				  "frame (len - done), never for the room left in buf.");
		ck_assert_msg(
		    r == 1 && len == strlen(msg[i]) && memcmp(buf, msg[i], len) == 0,
		    "two frames and half a header came in one send(); frame_recv() number "
		    "%d returned %d (errno %s) with %zu bytes \"%.*s\", expected \"%s\": "
		    "read exactly the length the header gives. The bytes after it belong "
		    "to the next frame: never read them into this one, never throw them "
		    "away.",
		    i + 1, r, r < 0 ? ename(errno) : "-", len, (int)(len < 40 ? len : 40), buf,
		    msg[i]);
	}
	put_bytes(sv[1], wire + 22, at - 22);
	r = call_recv(sv[0], buf, sizeof(buf), &len, "frame_recv() of a header sent in two halves");
	ck_assert_msg(r == 1 && len == 5 && memcmp(buf, "third", 5) == 0,
		      "a header split across two sends: frame_recv() returned %d (errno %s) with "
		      "%zu bytes, expected \"third\": loop until all 4 header bytes are in.",
		      r, r < 0 ? ename(errno) : "-", len);
}

START_TEST(test_frame_recv_pieces)
{
	char buf[64];
	size_t len = 0;
	pid_t pid;
	int sv[2], r;

	begin();
	xsocketpair(sv);
	pid = proc_run(dribbler, sv);
	for (int i = 0; i < 2; i++) {
		r = call_recv(sv[0], buf, sizeof(buf), &len, "frame_recv() of a dribbled frame");
		ck_assert_msg(r == 1 && len == strlen(dribbled[i]) &&
				  memcmp(buf, dribbled[i], len) == 0,
			      "the peer sent frame %d one byte at a time; frame_recv() returned %d "
			      "(errno %s) with %zu bytes, expected 1 with \"%s\": recv() returns "
			      "what has arrived, maybe 1 byte. Loop until the 4 header bytes, then "
			      "the whole body, are in.",
			      i + 1, r, r < 0 ? ename(errno) : "-", len, dribbled[i]);
	}
	ck_assert_msg(server_reap(pid) == 0, "suite: the dribbling child failed");
	check_two_in_one(sv);
	close(sv[0]);
	close(sv[1]);
	end();
}
END_TEST

/* Child: read the stream 1 to 7 bytes at a time; check a header and FLOOD pattern bytes. */
static void slow_reader(void *arg)
{
	int *sv = arg, fd = sv[1];
	unsigned char buf[8], head[4];
	uint32_t want = htonl(FLOOD);
	size_t seen = 0;

	close(sv[0]); /* or end of file never comes */
	memcpy(head, &want, 4);
	for (unsigned calls = 0;; calls++) {
		ssize_t r = recv(fd, buf, 1 + calls % 7, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++, seen++) {
			unsigned char expect = seen < 4 ? head[seen] : pattern_at(seen - 4);

			if (sh->bad < 0 && buf[i] != expect) {
				sh->bad = (long)seen;
				sh->bad_value = buf[i];
			}
		}
	}
	sh->got = (long)seen;
	_exit(0);
}

/* A frame both ways while every send() and recv() of the student's comes back short or cut. */
static void check_injected_faults(void)
{
	enum { N = 8192 };
	unsigned char *msg = pattern_new(N), *in = xcalloc(N, 1);
	size_t len = 0;
	int sv[2], r, queued = 0;

	xsocketpair(sv);
	fault_inject(FAULT_SHORT_IO | FAULT_EINTR, 1);
	r = call_send(sv[0], msg, N, "frame_send() with injected faults");
	fault_stop();
	ck_assert_msg(r == 0,
		      "frame_send() of %d bytes returned %d (errno %s) when its send() calls came "
		      "back short or interrupted: loop until the whole frame is sent, retrying "
		      "EINTR. %s",
		      N, r, ename(errno), fault_report());
	ioctl(sv[1], SIOCINQ, &queued);
	ck_assert_msg(queued == N + 4,
		      "frame_send() of %d bytes returned 0, but %d bytes of the %d of the frame "
		      "were sent: send() took fewer bytes than asked, and the rest was never "
		      "sent. Loop from buf + bytes sent until all are. %s",
		      N, queued, N + 4, fault_report());
	fault_inject(FAULT_SHORT_IO | FAULT_EINTR, 1);
	r = call_recv(sv[1], in, N, &len, "frame_recv() with injected faults");
	fault_stop();
	ck_assert_msg(
	    r == 1 && len == N && memcmp(in, msg, N) == 0,
	    "an %d-byte frame, every send() and recv() short or interrupted: frame_recv() "
	    "returned %d (errno %s) with %zu bytes%s. Loop over short counts and EINTR "
	    "on both sides, from buf + bytes done. %s",
	    N, r, r < 0 ? ename(errno) : "-", len, r == 1 && len == N ? ", not the bytes sent" : "",
	    fault_report());
	close(sv[0]);
	close(sv[1]);
	free(msg);
	free(in);
}

START_TEST(test_frame_send_partial)
{
	unsigned char *msg = pattern_new(FLOOD);
	int sv[2], small = 4096, r;
	pid_t pid;

	begin();
	check_injected_faults();
	xsocketpair(sv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	pid = proc_run(slow_reader, sv);
	close(sv[1]);
	ticker_start(1000);
	r = call_send(sv[0], msg, FLOOD, "frame_send() of 256 KiB");
	ticker_stop();
	close(sv[0]);
	ck_assert_msg(
	    r == 0,
	    "frame_send() of %d bytes through a small send buffer returned %d (errno %s): "
	    "a timer's signal interrupted send(), which then returned the bytes sent so "
	    "far (or failed with EINTR when there were none). Loop until the whole frame "
	    "is sent, retrying EINTR.",
	    FLOOD, r, ename(errno));
	ck_assert_msg(server_reap(pid) == 0, "suite: the reader child failed");
	ck_assert_msg(sh->got == FLOOD + 4,
		      "the reader at the other end received %ld bytes, expected %d (the header "
		      "and the body): a short send() must be followed by another for the rest.",
		      sh->got, FLOOD + 4);
	ck_assert_msg(
	    sh->bad < 0,
	    "byte %ld of the frame arrived as 0x%02x: after a short send(), carry on from "
	    "buf + bytes already sent, not from the start of buf.",
	    sh->bad, sh->bad_value);
	free(msg);
	end();
}
END_TEST

/* A socket whose peer sent raw bytes and closed: what a dying writer leaves. */
static int make_stream(uint32_t head, size_t head_bytes, size_t body_bytes)
{
	unsigned char *body = pattern_new(body_bytes);
	int sv[2];

	head = htonl(head);
	xsocketpair(sv);
	put_bytes(sv[1], &head, head_bytes);
	put_bytes(sv[1], body, body_bytes);
	close(sv[1]);
	free(body);
	return sv[0];
}

/* Child: frame_send() to a peer that has closed; report what it returned. */
static void send_to_closed(void *arg)
{
	int sv[2], r;

	(void)arg;
	signal(SIGPIPE, SIG_DFL);
	xsocketpair(sv);
	close(sv[1]);
	r = frame_send(sv[0], "hello?", 6);
	sh->ret = r;
	sh->err = errno;
	_exit(0);
}

START_TEST(test_frame_errors)
{
	unsigned char buf[50 + 64];
	size_t len = 0;
	int fd, r, status;

	begin();
	fd = make_stream(100, 2, 0);
	r = call_recv(fd, buf, 50, &len, "frame_recv() on a torn header");
	close(fd);
	ck_assert_msg(r == -1 && errno == EPROTO,
		      "the peer closed 2 bytes into a 4-byte header; frame_recv() returned %d "
		      "(errno %s), expected -1 with EPROTO.",
		      r, r < 0 ? ename(errno) : "-");
	fd = make_stream(100, 4, 10);
	r = call_recv(fd, buf, sizeof(buf), &len, "frame_recv() on a torn body");
	close(fd);
	ck_assert_msg(r == -1 && errno == EPROTO,
		      "the header promised 100 bytes and the peer closed after 10; frame_recv() "
		      "returned %d (errno %s), expected -1 with EPROTO: never a short message.",
		      r, r < 0 ? ename(errno) : "-");
	fd = make_stream(50, 4, 50);
	r = call_recv(fd, buf, 50, &len, "frame_recv() of a message that just fits");
	close(fd);
	ck_assert_msg(r == 1 && len == 50,
		      "a 50-byte message, cap 50: frame_recv() returned %d (errno %s), expected 1.",
		      r, r < 0 ? ename(errno) : "-");
	memset(buf, 0x5a, sizeof(buf));
	fd = make_stream(100, 4, 100);
	r = call_recv(fd, buf, 50, &len, "frame_recv() of a message too big");
	close(fd);
	for (size_t i = 50; i < sizeof(buf); i++)
		ck_assert_msg(buf[i] == 0x5a, "frame_recv() wrote past buf + cap (a 100-byte "
					      "message, cap 50): check the length first.");
	ck_assert_msg(r == -1 && errno == EMSGSIZE,
		      "a 100-byte message, cap 50: frame_recv() returned %d (errno %s), expected "
		      "-1 with EMSGSIZE.",
		      r, r < 0 ? ename(errno) : "-");
	status = server_reap(proc_run(send_to_closed, NULL));
	ck_assert_msg(
	    !(WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE),
	    "frame_send() to a peer that had closed killed the process with SIGPIPE: "
	    "send() with the flag MSG_NOSIGNAL, and EPIPE comes back as an error instead.");
	ck_assert_msg(status == 0 && sh->ret == -1 && sh->err == EPIPE,
		      "frame_send() to a peer that had closed returned %d (errno %s), expected -1 "
		      "with EPIPE.",
		      sh->ret, ename(sh->err));
	end();
}
END_TEST

/* ==== A server and its client ==== */

/* usock_listen(path) must succeed; fail the test otherwise. */
static int must_listen(const char *path)
{
	int lfd = usock_listen(path);
	struct stat st;

	ck_assert_msg(lfd >= 0, "usock_listen(\"%s\") returned %d (errno %s), expected a socket.",
		      path, lfd, ename(errno));
	ck_assert_msg(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode),
		      "usock_listen(\"%s\") returned %d but no socket file %s exists: bind() the "
		      "socket to that path.",
		      path, lfd, path);
	return lfd;
}

START_TEST(test_server_requests)
{
	const char *why = "answer every request of a connection, until the client closes it.";
	char dead[160];
	int lfd, fd, status;
	pid_t pid;

	begin();
	lfd = must_listen("srv.sock");
	pid = server_start(lfd, 2);
	fd = raw_connect("srv.sock");
	ck_assert_msg(fd >= 0, "connect() to srv.sock failed (errno %s): is lfd listening?",
		      ename(errno));
	expect_answer(fd, pid, "hello", 1, "is usock_serve() accepting connections?");
	expect_answer(fd, pid, "", 2, why);
	expect_answer(fd, pid, "unix sockets", 3, why);
	close(fd);
	fd = raw_connect("srv.sock");
	expect_answer(fd, pid, "again", 1,
		      "the second client was never served: after one client closes, accept the "
		      "next, until nclients have been served.");
	close(fd);
	status = server_reap(pid);
	ck_assert_msg(status != -1,
		      "usock_serve(lfd, 2, ...) had not returned %d s after its second client "
		      "closed: count the clients served and stop at nclients.",
		      CALL_MS / 1000);
	ck_assert_msg(status == 0, "%s", server_death(status, dead, sizeof(dead)));
	ck_assert_msg(sh->handler_pid == pid, "suite: the handler ran in another process");
	server_close(lfd, "srv.sock");
	end();
}
END_TEST

/* The bad clients: a torn frame, an oversized one, one that leaves before its answer. */
static void bad_clients(pid_t pid)
{
	uint32_t head = htonl(100), huge = htonl(USOCK_MSG_MAX + 1);
	char byte, dead[160];
	int fd, r, status;

	fd = raw_connect("bad.sock");
	put_bytes(fd, &head, 4);
	put_bytes(fd, "0123456789", 10);
	close(fd);
	fd = raw_connect("bad.sock");
	put_bytes(fd, &huge, 4);
	r = wait_reply(fd, pid, &status);
	ck_assert_msg(r >= 0, "after a client sent a torn frame: %s",
		      server_death(status, dead, sizeof(dead)));
	ck_assert_msg(r > 0 && recv(fd, &byte, 1, 0) == 0,
		      "a client announced a request of USOCK_MSG_MAX + 1 bytes and the server did "
		      "not close its connection within %d s: frame_recv() fails with EMSGSIZE "
		      "there, and the server must drop that client.",
		      CALL_MS / 1000);
	close(fd);
	fd = raw_connect("bad.sock");
	put_frame(fd, "wait", 4);
	for (int i = 0; i < CALL_MS / 5 && !sh->entered; i++)
		if (waitpid(pid, &status, WNOHANG) == pid)
			ck_abort_msg("after a client announced a frame too big: %s",
				     server_death(status, dead, sizeof(dead)));
		else
			usleep(5000);
	ck_assert_msg(sh->entered,
		      "the server never handled the third client's request: after a client with a "
		      "torn frame and one with a frame too big, it must go on with the next.");
	close(fd); /* gone before the answer: the server's send() meets a closed peer */
	sh->release = 1;
}

START_TEST(test_server_bad_client)
{
	char dead[160];
	int lfd, fd, status;
	pid_t pid;

	begin();
	lfd = must_listen("bad.sock");
	pid = server_start(lfd, 4);
	bad_clients(pid);
	fd = raw_connect("bad.sock");
	expect_answer(fd, pid, "still there?", 1,
		      "after three bad clients the server no longer answers: a client's mistake "
		      "ends its own connection only.");
	close(fd);
	status = server_reap(pid);
	ck_assert_msg(status == 0, "%s",
		      status == -1 ? "usock_serve() had not returned after its 4 clients."
				   : server_death(status, dead, sizeof(dead)));
	server_close(lfd, "bad.sock");
	end();
}
END_TEST

/* The test's server for usock_call(): checks the request, answers in odd ways. */
static void call_server(void *arg)
{
	int lfd = *(int *)arg, fd;
	unsigned char req[16], *big = pattern_new(BIG);
	uint32_t head = htonl(5);
	size_t len;

	fd = accept(lfd, NULL, NULL);
	recv_timeout(fd, CALL_MS);
	/* 1: the raw bytes of the request, then an answer dribbled a byte at a time. */
	sh->got = io_readn(fd, req, 8);
	memcpy(sh->text, req, 8);
	dribble(fd, &head, 4);
	dribble(fd, "pong!", 5);
	/* 2: a large answer. 3: no answer at all. */
	if (get_frame(fd, req, sizeof(req), &len) == 1)
		put_frame(fd, big, BIG);
	get_frame(fd, req, sizeof(req), &len);
	_exit(0);
}

START_TEST(test_client_call)
{
	unsigned char *buf = xmalloc(BIG + 16);
	size_t len = 0;
	int lfd, fd, r;
	pid_t pid;

	begin();
	lfd = raw_listen("cli.sock");
	pid = proc_run(call_server, &lfd);
	close(lfd);
	fd = usock_connect("cli.sock");
	ck_assert_msg(fd >= 0,
		      "usock_connect(\"cli.sock\") returned %d (errno %s), a server "
		      "listens there.",
		      fd, ename(errno));
	struct op_call c = {.op = CALL, .fd = fd, .in = "ping", .inlen = 4, .out = buf, .cap = 64};
	r = (int)op_must(&c, "usock_call()", "read the whole answer frame, then return.");
	ck_assert_msg(sh->got == 8 && memcmp(sh->text, "\0\0\0\4ping", 8) == 0,
		      "usock_call(fd, \"ping\", 4, ...) sent other bytes than a frame (00 00 00 04 "
		      "then \"ping\"): the length in network byte order, then the request.");
	ck_assert_msg(r == 0 && c.len == 5 && memcmp(buf, "pong!", 5) == 0,
		      "the server answered \"pong!\" a byte at a time; usock_call() returned %d "
		      "(errno %s) with %zu bytes, expected 0 and \"pong!\": loop over short reads.",
		      r, ename(errno), c.len);
	c = (struct op_call){.op = CALL, .fd = fd, .in = "big", .inlen = 3, .out = buf, .cap = BIG};
	r = (int)op_must(&c, "usock_call() with a large answer", "read exactly the frame.");
	len = c.len;
	ck_assert_msg(r == 0 && len == BIG && pattern_mismatch(buf, BIG) < 0,
		      "a %d-byte answer: usock_call() returned %d (errno %s) with %zu bytes, "
		      "expected all %d intact.",
		      BIG, r, ename(errno), len, BIG);
	c = (struct op_call){.op = CALL, .fd = fd, .in = "bye", .inlen = 3, .out = buf, .cap = 64};
	r = (int)op_must(&c, "usock_call() to a server that closes", "return at end of file.");
	ck_assert_msg(r == -1 && errno == ECONNRESET,
		      "the server closed without answering; usock_call() returned %d (errno %s), "
		      "expected -1 with ECONNRESET.",
		      r, ename(errno));
	close(fd);
	server_reap(pid);
	unlink("cli.sock");
	free(buf);
	end();
}
END_TEST

START_TEST(test_server_shutdown)
{
	struct stat st;
	int lfd, fd, r, status;
	pid_t pid;

	begin();
	lfd = must_listen("down.sock");
	pid = server_start(lfd, 1);
	fd = raw_connect("down.sock");
	expect_answer(fd, pid, "last one", 1, "is usock_serve() accepting?");
	close(fd);
	status = server_reap(pid);
	ck_assert_msg(status == 0, "usock_serve(lfd, 1, ...) did not end with its one client.");
	r = usock_close(lfd, "down.sock");
	ck_assert_msg(r == 0, "usock_close(lfd, \"down.sock\") returned %d (errno %s), expected 0.",
		      r, ename(errno));
	r = lstat("down.sock", &st);
	unlink("down.sock");
	ck_assert_msg(r < 0,
		      "after usock_close() the socket file down.sock is still there: the next "
		      "server to start finds it and bind() fails with EADDRINUSE. unlink(path) "
		      "when the server shuts down.");
	ck_assert_msg(!fd_is_open(lfd),
		      "usock_close() left the listening socket (fd %d) open: close() it.", lfd);
	end();
}
END_TEST

/* A name of n characters, a socket file name longer than sun_path holds. */
static void long_name(char *buf, size_t n)
{
	memset(buf, 'x', n);
	memcpy(buf + n - 5, ".sock", 6);
}

static void check_not_a_socket(void)
{
	char text[16] = "";
	int lfd, fd, r;

	fd = open("notes.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	io_writen(fd, "keep me", 7);
	close(fd);
	lfd = usock_listen("notes.txt");
	r = errno;
	fd = open("notes.txt", O_RDONLY);
	if (fd >= 0) {
		io_readn(fd, text, 7);
		close(fd);
	}
	if (lfd >= 0)
		close(lfd);
	unlink("notes.txt");
	ck_assert_msg(lfd < 0 && strcmp(text, "keep me") == 0,
		      "usock_listen(\"notes.txt\"), where notes.txt is a regular file, removed it "
		      "to bind its socket there: unlink only what lstat() says is a socket "
		      "(S_ISSOCK). A typo in a path must not delete a user's file.");
	ck_assert_msg(r == EADDRINUSE,
		      "usock_listen() on a regular file failed with %s, expected EADDRINUSE (what "
		      "bind() says).",
		      ename(r));
}

static void check_too_long(void)
{
	char name[160];
	int before = dir_entries(), lfd, fd;

	long_name(name, 150);
	lfd = usock_listen(name);
	ck_assert_msg(lfd < 0 && errno == ENAMETOOLONG,
		      "usock_listen() of a 150-byte name returned %d (errno %s), expected -1 with "
		      "ENAMETOOLONG: sun_path holds %zu bytes with the NUL.",
		      lfd, lfd < 0 ? ename(errno) : "-",
		      sizeof(((struct sockaddr_un *)0)->sun_path));
	ck_assert_msg(dir_entries() == before,
		      "usock_listen() of a name too long created a file "
		      "(with the name cut short?): check the length first.");
	fd = usock_connect(name);
	ck_assert_msg(fd < 0 && errno == ENAMETOOLONG,
		      "usock_connect() of a 150-byte name returned %d (errno %s), expected -1 with "
		      "ENAMETOOLONG.",
		      fd, fd < 0 ? ename(errno) : "-");
}

START_TEST(test_listen_names)
{
	int lfd, fd, nfds;

	begin();
	make_stale("stale.sock");
	lfd = usock_listen("stale.sock");
	ck_assert_msg(lfd >= 0,
		      "usock_listen(\"stale.sock\") returned %d (errno %s), where a previous run "
		      "left a stale socket file: bind() fails with EADDRINUSE on any existing "
		      "file. If path is a socket, unlink() it before bind().",
		      lfd, ename(errno));
	fd = raw_connect("stale.sock");
	ck_assert_msg(fd >= 0, "connect() to stale.sock failed (errno %s) after usock_listen().",
		      ename(errno));
	close(fd);
	server_close(lfd, "stale.sock");
	check_not_a_socket();
	check_too_long();
	nfds = proc_count_fds(0);
	fd = usock_connect("nobody.sock");
	ck_assert_msg(fd == -1 && errno == ENOENT,
		      "usock_connect() to a file that does not exist returned %d (errno %s), "
		      "expected -1 with ENOENT.",
		      fd, fd < 0 ? ename(errno) : "-");
	make_stale("stale.sock");
	fd = usock_connect("stale.sock");
	unlink("stale.sock");
	ck_assert_msg(fd == -1 && errno == ECONNREFUSED,
		      "usock_connect() to a stale socket file returned %d (errno %s), expected -1 "
		      "with ECONNREFUSED.",
		      fd, fd < 0 ? ename(errno) : "-");
	ck_assert_msg(proc_count_fds(0) == nfds,
		      "usock_connect() left a socket open when connect() failed: close it before "
		      "returning -1.");
	end();
}
END_TEST

/* ==== A server process of your own: socketpair ==== */

/* The server child's handler: on the first request, note the descriptors it holds. */
static ssize_t child_upper(void *arg, const char *req, size_t len, char *resp, size_t cap)
{
	struct stat st;

	if (!sh->handler_pid) {
		for (int fd = 0; fd < SCAN_FDS; fd++) {
			if (sh->fds[fd] || fstat(fd, &st) < 0)
				continue;
			if (st.st_ino == sh->parent_ino)
				sh->holds_parent_end = 1;
		}
	}
	return upper(arg, req, len, resp, cap);
}

static void spawn_requests(int fd)
{
	static const char *const req[] = {"abc", "socketpair"}, *const want[] = {"ABC",
										 "SOCKETPAIR"};
	char buf[64];

	for (int i = 0; i < 2; i++) {
		struct op_call c = {.op = CALL,
				    .fd = fd,
				    .in = req[i],
				    .inlen = strlen(req[i]),
				    .out = buf,
				    .cap = sizeof(buf)};
		int r = (int)op_must(&c, "usock_call() to the spawned child",
				     "does the child serve requests on its end of the socketpair?");

		ck_assert_msg(r == 0 && c.len == strlen(want[i]) &&
				  memcmp(buf, want[i], c.len) == 0,
			      "request \"%s\" to the child of usock_spawn(): usock_call() returned "
			      "%d (errno %s) with %zu bytes, expected \"%s\".",
			      req[i], r, ename(errno), c.len, want[i]);
	}
	ck_assert_msg(sh->handler_pid != getpid(),
		      "the handler ran in the test's own process: usock_spawn() must fork() a "
		      "child that serves.");
}

START_TEST(test_socketpair_child)
{
	struct op_call c = {.op = SPAWN, .h = child_upper};
	struct stat st;
	char extra[256];
	int fd, r;
	pid_t pid;

	begin();
	fds_snapshot(sh->fds);
	fd = (int)op_must(&c, "usock_spawn()", "it must return in the parent at once.");
	ck_assert_msg(fd >= 0 && c.pid > 0,
		      "usock_spawn() returned %d (errno %s) and pid %d, expected a socket and the "
		      "child's pid.",
		      fd, ename(errno), (int)c.pid);
	r = fds_new(sh->fds, fd, extra, sizeof(extra));
	ck_assert_msg(r == 0,
		      "after usock_spawn() the parent holds %s besides the end it returned: close "
		      "the child's end in the parent.",
		      extra);
	pid = c.pid;
	fstat(fd, &st);
	sh->parent_ino = st.st_ino;
	spawn_requests(fd);
	c = (struct op_call){.op = FINISH, .fd = fd, .pid = pid};
	if (!op_within(&c)) {
		kill(pid, SIGKILL);
		ck_abort_msg(
		    "usock_finish() had not returned after %d s: %s", CALL_MS / 1000,
		    sh->holds_parent_end
			? "the child still holds a copy of the parent's end of the "
			  "socketpair, so closing the parent's does not give it end of "
			  "file: close it in the child right after fork()."
			: "the child never saw end of file. Close fd first, then waitpid().");
	}
	ck_assert_msg(c.ret == 0,
		      "usock_finish() returned %zd (errno %s), expected the child's "
		      "exit status, 0.",
		      c.ret, ename(c.err));
	ck_assert_msg(!fd_is_open(fd), "usock_finish() did not close fd %d.", fd);
	ck_assert_msg(!sh->holds_parent_end,
		      "the child held a copy of the parent's end of the socketpair: close it in "
		      "the child, or it never sees end of file while it lives.");
	suite_check_leaks("usock_spawn() and usock_finish()");
	end();
}
END_TEST

/* ==== Passing descriptors ==== */

/* Child: receive with a roomy control buffer; report what came and what it reads. */
static void fd_receiver(void *arg)
{
	int *sv = arg, sock = sv[1];
	union {
		char buf[256];
		struct cmsghdr align;
	} ctl;
	char data[16];
	struct iovec iov = {data, sizeof(data)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;
	struct stat st;

	close(sv[0]); /* or end of file never comes */
	recv_timeout(sock, CALL_MS);
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	sh->data_bytes = (int)recvmsg(sock, &msg, 0);
	for (cm = CMSG_FIRSTHDR(&msg); sh->data_bytes >= 0 && cm; cm = CMSG_NXTHDR(&msg, cm)) {
		int n = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int)), fds[8];

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || n > 8)
			continue;
		memcpy(fds, CMSG_DATA(cm), (size_t)n * sizeof(int));
		for (int i = 0; i < n; i++, sh->nfds++) {
			if (sh->nfds == 0 && fstat(fds[i], &st) == 0 && st.st_ino == sh->ino[0]) {
				sh->same_file = 1;
				pread(fds[i], sh->text, sizeof(sh->text) - 1, 0);
			}
			close(fds[i]);
		}
	}
	_exit(0);
}

START_TEST(test_fd_send)
{
	struct op_call c = {.op = SEND_FD};
	struct stat st;
	int sv[2], file, r;
	pid_t pid;

	begin();
	file = open("data.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
	io_writen(file, "passed by descriptor", 20);
	fstat(file, &st);
	sh->ino[0] = st.st_ino;
	xsocketpair(sv);
	pid = proc_run(fd_receiver, sv);
	close(sv[1]);
	c.fd = sv[0];
	c.arg = file;
	r = (int)op_must(&c, "send_fd()", "sendmsg() on a socketpair does not block.");
	close(sv[0]); /* the receiver sees end of file if nothing was sent */
	server_reap(pid);
	ck_assert_msg(r == 0, "send_fd(sock, fd) returned %d (errno %s), expected 0%s", r,
		      ename(errno),
		      errno == EINVAL ? ": msg_controllen is the size of a buffer of "
					"CMSG_SPACE(sizeof(int)) bytes, cmsg_len is "
					"CMSG_LEN(sizeof(int))."
				      : ".");
	ck_assert_msg(fd_is_open(file), "send_fd() closed the descriptor it sent: the caller "
					"still owns it and closes it when done.");
	close(file);
	unlink("data.txt");
	ck_assert_msg(sh->data_bytes > 0,
		      "the receiver got %d bytes of data and %d descriptors: on a stream socket a "
		      "control message travels with ordinary data, at least one byte of it (an "
		      "iovec of length 1), or it is not sent at all.",
		      sh->data_bytes, sh->nfds);
	ck_assert_msg(sh->nfds == 1,
		      "the receiver got %d descriptors in the control message, expected exactly 1: "
		      "cmsg_len is CMSG_LEN(sizeof(int)) (CMSG_SPACE would add padding, read as a "
		      "second descriptor), level SOL_SOCKET, type SCM_RIGHTS.",
		      sh->nfds);
	ck_assert_msg(sh->same_file && strcmp(sh->text, "passed by descriptor") == 0,
		      "the descriptor that arrived is not the file sent (it read \"%s\"): copy the "
		      "descriptor itself into CMSG_DATA(cmsg).",
		      sh->text);
	end();
}
END_TEST

/* Send fd over sock with one data byte, without the student's code. */
static int raw_send_fds(int sock, const int *fds, int n)
{
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {"x", 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cm;

	memset(&ctl, 0, sizeof(ctl));
	if (n > 0) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE((size_t)n * sizeof(int));
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN((size_t)n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, (size_t)n * sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* Child: open two files, remove their names, and send their descriptors. */
static void fd_sender(void *arg)
{
	static const char *const text[] = {"the first file", "the second file, read whole"};
	int *sv = arg, sock = sv[1];
	struct stat st;

	close(sv[0]);
	for (int i = 0; i < 2; i++) {
		int fd = open(i ? "two.txt" : "one.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || io_writen(fd, text[i], strlen(text[i])) < 0)
			_exit(1);
		lseek(fd, 0, SEEK_SET);
		unlink(i ? "two.txt" : "one.txt"); /* only the descriptor reaches it now */
		fstat(fd, &st);
		sh->ino[i] = st.st_ino;
		if (raw_send_fds(sock, &fd, 1) < 0)
			_exit(1);
		close(fd);
	}
	_exit(0);
}

START_TEST(test_fd_recv)
{
	struct op_call c = {.op = RECV_FD};
	struct stat st;
	char buf[64] = "";
	int sv[2], fd, nfds;
	ssize_t n;
	pid_t pid;

	begin();
	xsocketpair(sv);
	pid = proc_run(fd_sender, sv);
	close(sv[1]);
	c.fd = sv[0];
	fd = (int)op_must(&c, "recv_fd()", "a descriptor was sent: recvmsg() one byte.");
	ck_assert_msg(fd >= 0, "recv_fd() returned %d (errno %s), expected a descriptor.", fd,
		      ename(errno));
	ck_assert_msg(server_reap(pid) == 0, "suite: the sending child failed");
	ck_assert_msg(fstat(fd, &st) == 0 && st.st_ino == sh->ino[0],
		      "recv_fd() returned %d, which is not the file sent: return the int found in "
		      "CMSG_DATA(cmsg), not the data byte.",
		      fd);
	pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	ck_assert_msg(strcmp(buf, "the first file") == 0,
		      "through the descriptor recv_fd() "
		      "returned, the file read \"%s\".",
		      buf);
	memset(buf, 0, sizeof(buf));
	nfds = proc_count_fds(0);
	c = (struct op_call){.op = RECV_FILE, .fd = sv[0], .out = buf, .cap = sizeof(buf) - 1};
	n = op_must(&c, "recv_file()", "read until read() returns 0.");
	ck_assert_msg(n == 27 && strcmp(buf, "the second file, read whole") == 0,
		      "recv_file() returned %zd (errno %s) with \"%s\", expected 27 bytes: \"the "
		      "second file, read whole\".",
		      n, ename(errno), buf);
	ck_assert_msg(proc_count_fds(0) == nfds,
		      "recv_file() left the descriptor it received open: it is a new entry in "
		      "this process's table, and nobody else will close it.");
	close(sv[0]);
	end();
}
END_TEST

START_TEST(test_fd_recv_errors)
{
	struct op_call c = {.op = RECV_FD};
	int sv[2], three[3], fd, nfds;

	begin();
	xsocketpair(sv);
	for (int i = 0; i < 3; i++)
		three[i] = open("/dev/null", O_RDONLY);
	raw_send_fds(sv[1], three, 3);
	for (int i = 0; i < 3; i++)
		close(three[i]);
	raw_send_fds(sv[1], NULL, 0);
	shutdown(sv[1], SHUT_WR);
	nfds = proc_count_fds(0);
	c.fd = sv[0];
	fd = (int)op_must(&c, "recv_fd() of three descriptors", "one byte was sent.");
	if (fd >= 0)
		close(fd);
	ck_assert_msg(fd == -1 && errno == EPROTO,
		      "three descriptors came in one message; recv_fd() returned %d (errno %s), "
		      "expected -1 with EPROTO: check that cmsg_len is CMSG_LEN(sizeof(int)) and "
		      "that msg_flags has no MSG_CTRUNC (the control data was cut short).",
		      fd, fd < 0 ? ename(errno) : "-");
	ck_assert_msg(proc_count_fds(0) == nfds,
		      "recv_fd() rejected a message of three descriptors but left %d of those that "
		      "did arrive open: each is a new entry in your table. Close every one, "
		      "(cmsg_len - CMSG_LEN(0)) / sizeof(int) of them.",
		      proc_count_fds(0) - nfds);
	c = (struct op_call){.op = RECV_FD, .fd = sv[0]};
	fd = (int)op_must(&c, "recv_fd() of a byte without a descriptor", "one byte was sent.");
	ck_assert_msg(fd == -1 && errno == EPROTO,
		      "a byte came without a descriptor; recv_fd() returned %d (errno %s), "
		      "expected -1 with EPROTO: CMSG_FIRSTHDR() is NULL then.",
		      fd, fd < 0 ? ename(errno) : "-");
	c = (struct op_call){.op = RECV_FD, .fd = sv[0]};
	fd = (int)op_must(&c, "recv_fd() at end of stream", "recvmsg() returns 0 there.");
	ck_assert_msg(fd == -1 && errno == EPROTO,
		      "the peer had closed; recv_fd() returned %d (errno %s), expected -1 with "
		      "EPROTO.",
		      fd, fd < 0 ? ename(errno) : "-");
	close(sv[0]);
	close(sv[1]);
	end();
}
END_TEST

/* ==== The abstract namespace ==== */

START_TEST(test_abstract_name)
{
	char name[64];
	int before, lfd, fd, afd, r;

	begin();
	before = dir_entries();
	snprintf(name, sizeof(name), "@ipclab16-%d", (int)getpid());
	lfd = usock_listen(name);
	ck_assert_msg(lfd >= 0, "usock_listen(\"%s\") returned %d (errno %s).", name, lfd,
		      ename(errno));
	ck_assert_msg(dir_entries() == before,
		      "usock_listen(\"%s\") created a file: an abstract name starts with a NUL "
		      "byte in sun_path and lives outside the file system.",
		      name);
	fd = raw_connect(name);
	ck_assert_msg(fd >= 0,
		      "connecting to the abstract name \"%s\" failed (errno %s): the address "
		      "length must count exactly the name, offsetof(struct sockaddr_un, sun_path) "
		      "+ 1 + its length, not sizeof(struct sockaddr_un), or the name includes "
		      "trailing NULs.",
		      name, ename(errno));
	afd = accept(lfd, NULL, NULL);
	close(afd);
	close(fd);
	r = usock_close(lfd, name);
	ck_assert_msg(r == 0,
		      "usock_close(lfd, \"%s\") returned %d (errno %s): an abstract name "
		      "has no file to unlink.",
		      name, r, ename(errno));
	snprintf(name, sizeof(name), "@ipclab16-client-%d", (int)getpid());
	lfd = raw_listen(name);
	fd = usock_connect(name);
	ck_assert_msg(fd >= 0,
		      "usock_connect(\"%s\") returned %d (errno %s), a server listens on that "
		      "abstract name (bound with its exact length).",
		      name, fd, ename(errno));
	close(fd);
	close(lfd);
	end();
}
END_TEST

void suite_define(void)
{
	/* Frames on a stream. */
	SUITE_TEST(test_frame_format, 2,
		   "What exactly goes on the wire for one message, byte by byte?\n"
		   "Numbers sent between machines go in network byte order, big-endian, whatever "
		   "the host's: byteorder(3).\n"
		   "Send htonl(len) as 4 bytes, then the len bytes, no NUL; on receipt ntohl() the "
		   "header.");
	SUITE_TEST(test_frame_recv_pieces, 2,
		   "Does one recv() give you one frame, no more and no less?\n"
		   "A stream keeps no message boundaries: recv(2) returns whatever has arrived, "
		   "one byte or several frames.\n"
		   "Read exactly 4 bytes, then exactly len bytes, asking each time for the bytes "
		   "left in the frame, never the room in the buffer.");
	SUITE_TEST(test_frame_send_partial, 2,
		   "What if send() takes only part of the frame, or fails with EINTR?\n"
		   "send(2) and recv(2) may move fewer bytes than asked, or fail with EINTR when a "
		   "signal arrives: signal(7).\n"
		   "Loop send(fd, buf + done, n - done, MSG_NOSIGNAL) until done == n, retrying "
		   "EINTR; recv the same way.");
	SUITE_TEST(test_frame_errors, 2,
		   "What happens when the peer closes half-way through a frame, or you send to a "
		   "peer that has gone?\n"
		   "recv(2) returning 0 inside a frame is a torn frame; sending to a closed peer "
		   "raises SIGPIPE unless MSG_NOSIGNAL: send(2).\n"
		   "End of stream inside a frame: EPROTO; len > cap: EMSGSIZE before reading the "
		   "body; send with MSG_NOSIGNAL to get EPIPE.");

	/* A server and its client. */
	SUITE_TEST(test_server_requests, 2,
		   "How many requests does one client send, and when is it done?\n"
		   "A connection carries frames until the client closes it; accept(2) gives the "
		   "next connection on the listening socket.\n"
		   "Loop nclients times: accept; while frame_recv() returns 1, handle and "
		   "frame_send the answer; close the connection.");
	SUITE_TEST(test_server_bad_client, 2,
		   "When one client breaks the protocol or vanishes, does your server stop?\n"
		   "An error on one connection concerns only that connection; MSG_NOSIGNAL keeps a "
		   "vanished client from killing the server: send(2).\n"
		   "On a torn or oversized frame, EPIPE or the handler's -1: close that connection "
		   "and go on to accept the next client.");
	SUITE_TEST(test_client_call, 2,
		   "What does usock_call() report when the server closes without answering?\n"
		   "A clean end of stream where an answer was due is a reset connection for the "
		   "client: recv(2) returns 0.\n"
		   "frame_send the request, frame_recv the answer; if frame_recv returns 0, errno "
		   "= ECONNRESET and return -1.");
	SUITE_TEST(test_server_shutdown, 2,
		   "What is left in the folder after the server shuts down?\n"
		   "A socket file stays in the file system after close(2), like any file, until "
		   "unlink(2): unix(7).\n"
		   "usock_close: unlink(path) unless it starts with '@', then close(lfd).");
	SUITE_TEST(test_listen_names, 2,
		   "What if a stale socket file is at the path, or a regular file, or the name is "
		   "too long?\n"
		   "bind(2) fails with EADDRINUSE on an existing file; sun_path holds 108 bytes "
		   "with the NUL: unix(7).\n"
		   "lstat() the path and unlink it only if S_ISSOCK; refuse strlen(path) >= "
		   "sizeof(sun_path) with ENAMETOOLONG before socket().");

	/* socketpair. */
	SUITE_TEST(test_socketpair_child, 2,
		   "After fork(), who holds each end of the socketpair?\n"
		   "Each process has a copy of both ends; end of file comes only when every copy "
		   "of the other end is closed: socketpair(2).\n"
		   "After fork, the child closes the parent's end and the parent the child's; "
		   "usock_finish closes fd, then waitpid().");

	/* Passing descriptors. */
	SUITE_TEST(test_fd_send, 2,
		   "How does a descriptor travel, and what carries it?\n"
		   "A descriptor travels as an SCM_RIGHTS control message, which a stream socket "
		   "sends only with at least one byte of data: unix(7), cmsg(3).\n"
		   "sendmsg one data byte with a control buffer of CMSG_SPACE(sizeof(int)); "
		   "SOL_SOCKET, SCM_RIGHTS, cmsg_len = CMSG_LEN(sizeof(int)).");
	SUITE_TEST(test_fd_recv, 2,
		   "Where is the received descriptor, and who closes it?\n"
		   "recvmsg(2) puts the new descriptor in the control message's data; it is this "
		   "process's own copy: cmsg(3).\n"
		   "Return the int in CMSG_DATA(CMSG_FIRSTHDR(&msg)); recv_file reads until end of "
		   "file or cap, then closes it.");
	SUITE_TEST(test_fd_recv_errors, 1,
		   "What if three descriptors arrive, or a byte without one, or end of stream?\n"
		   "Every descriptor that arrives is open in your process, wanted or not; "
		   "MSG_CTRUNC says some did not fit: unix(7), cmsg(3).\n"
		   "Unless exactly one (cmsg_len == CMSG_LEN(sizeof(int)), no MSG_CTRUNC): close "
		   "each that arrived, errno = EPROTO, return -1.");

	/* The abstract namespace. */
	SUITE_TEST(test_abstract_name, 1,
		   "How long is the address of an abstract name?\n"
		   "An abstract name starts with a NUL in sun_path, creates no file, and its "
		   "length counts exactly the name's bytes: unix(7).\n"
		   "'@name': sun_path[0] = 0, name copied after it, length = offsetof(struct "
		   "sockaddr_un, sun_path) + 1 + strlen(name).");
}
