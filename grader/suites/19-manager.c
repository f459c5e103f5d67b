/*
 * The hidden suite of lab 19: a manager process.
 *
 * Every test runs the student's manager as a real process and talks to it
 * through real AF_UNIX sockets: with the student's own client functions, or
 * with raw frames written here without the student's code, so that a wrong
 * server and a wrong client are told apart. For the client side the test
 * also runs a manager of its own (the "fake" manager below), which logs the
 * exact bytes of every request and counts the requests of every connection:
 * that is how an ADD done as a get and a set, or children sharing one
 * connection, are seen for certain rather than by luck.
 *
 * Concurrency is made to happen, never timed: client processes wait for each
 * other before they start; a client holds half a request while another asks;
 * the manager is frozen (SIGSTOP) while a client leaves, so that its answer
 * meets a closed socket for sure. /proc/net/unix tells when the manager has
 * let go of a connection. Every test process is a child subreaper, so that
 * processes the manager leaves behind come back to it and are counted.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "fault.h"
#include "manager.h"
#include "suite.h"

#define SOCK       "mgr19.sock"  /* the student's manager */
#define FAKE       "fake19.sock" /* the test's own manager */
#define CALL_MS    2000          /* how long one request may take */
#define HOLD_MS    4000          /* how long the fake waits for every racer's first request */
#define CLIENTS    8             /* client processes in the concurrent tests */
#define ADDS       500           /* mgr_add() calls of each */
#define APPENDS    100           /* mgr_append() calls of each */
#define TICKETS    (CLIENTS * ADDS)
#define FAKE_CONNS 64  /* connections the fake manager serves */
#define LOG_MAX    64  /* requests the fake manager logs */
#define LOG_BYTES  128 /* bytes of each it keeps */
#define BIG_LIST   MGR_LIST_MAX

/* A request the fake manager logged. */
struct logged {
	int conn;                /* which connection, in order of arrival */
	size_t len;              /* the body's length */
	uint8_t body[LOG_BYTES]; /* its first bytes */
};

/* What the test process, its children and the fake manager share. */
struct shared {
	atomic_int ready;              /* client children connected and waiting */
	atomic_int child_err;          /* the first errno a client child met */
	atomic_int child_call;         /* in its call number... */
	atomic_int out_of_range;       /* mgr_add() results outside 1..TICKETS */
	atomic_uchar tickets[TICKETS]; /* how often each mgr_add() result came back */
	pid_t mpid;                    /* the manager an owner child started */
	int owner_err;                 /* errno of its manager_start() */
	int hold;               /* the fake holds the first increment of this many connections */
	int hold_timed_out;     /* ...and gave up waiting for them all */
	int nconns;             /* connections the fake accepted */
	int ops[FAKE_CONNS][8]; /* requests of each connection, by operation */
	int nlog;               /* requests logged */
	struct logged log[LOG_MAX]; /* the first LOG_MAX requests */
};

static struct shared *sh;

/* ==== Small helpers ==== */

static const char *ename(int e)
{
	return e == EPROTO ? "EPROTO" : e == ENOSPC ? "ENOSPC" : err_name(e);
}

/* What an errno from a client call says, for a failure message. */
static const char *explain(int e)
{
	switch (e) {
	case EAGAIN:
		return ": no answer came within 2 s (the test gives every connection a receive "
		       "timeout). Does the manager answer every request frame with one response "
		       "frame, and serve this client while others are connected?";
	case ENOSYS:
		return ": not implemented yet.";
	case ECONNRESET:
	case EPIPE:
		return ": the manager closed the connection instead of answering.";
	case EPROTO:
		return ": the response was not what the protocol in manager.h says.";
	default:
		return ".";
	}
}

static void begin(void)
{
	if (!sh) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
		ck_assert_msg(sh != MAP_FAILED, "suite: mmap failed");
	}
	memset(sh, 0, sizeof(*sh));
	/* Processes the manager leaves behind are re-parented to us, and counted. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

static void put64(uint8_t *p, int64_t v)
{
	uint64_t be = htobe64((uint64_t)v);

	memcpy(p, &be, 8);
}

static int64_t get64(const uint8_t *p)
{
	uint64_t be;

	memcpy(&be, p, 8);
	return (int64_t)be64toh(be);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static void set_timeouts(int fd, long ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The wait status in words, with what it means for a manager. */
static const char *death(int status)
{
	static char buf[400];
	char text[64];

	proc_status_text(status, text, sizeof(text));
	snprintf(buf, sizeof(buf), "your manager process %s%s", text,
		 WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE
		     ? ": it sent to a client that had gone. Send with MSG_NOSIGNAL, and on "
		       "EPIPE end that client's connection only."
		 : WIFSIGNALED(status) ? ": a crash. Look at what it does with that request."
				       : ": a manager ends only when it is stopped.");
	return buf;
}

/*
 * Fail if the manager pid has ended; when says what had just happened. After
 * a request lost its connection (err ECONNRESET or EPIPE) give it time to
 * die: its sockets close a moment before it can be reaped.
 */
static void check_alive_after(pid_t pid, int err, const char *when)
{
	int status;

	if (err == ECONNRESET || err == EPIPE) {
		if (proc_wait_timeout(pid, &status, CALL_MS) == 0)
			ck_abort_msg("%s, %s", when, death(status));
		return;
	}
	if (waitpid(pid, &status, WNOHANG) == pid)
		ck_abort_msg("%s, %s", when, death(status));
}

static void check_alive(pid_t pid, const char *when)
{
	check_alive_after(pid, 0, when);
}

/* ==== Raw frames: the protocol without the student's code ==== */

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

/* Receive exactly n bytes within ms: n, fewer at end of stream, -1 (ETIMEDOUT...). */
static ssize_t get_bytes(int fd, void *buf, size_t n, long ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	uint64_t end = clock_now_ns() + (uint64_t)ms * 1000000;
	size_t done = 0;

	while (done < n) {
		int64_t left = (int64_t)(end - clock_now_ns()) / 1000000;
		ssize_t r;

		if (left < 0 || poll(&p, 1, (int)left) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = recv(fd, (char *)buf + done, n - done, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* A frame within ms: 1, 0 at end of stream, -1 (ETIMEDOUT, EPROTO: torn or too long). */
static int get_frame(int fd, uint8_t *buf, size_t cap, size_t *len, long ms)
{
	uint8_t head[4];
	ssize_t r = get_bytes(fd, head, 4, ms);

	if (r <= 0)
		return (int)r;
	*len = get32(head);
	if (r < 4 || *len > cap || get_bytes(fd, buf, *len, ms) != (ssize_t)*len) {
		if (errno != ETIMEDOUT)
			errno = EPROTO;
		return -1;
	}
	return 1;
}

/* Build a request frame in buf: header, op, name (namelen bytes), operand. Its length. */
static size_t build(uint8_t *buf, int op, const char *name, size_t namelen, const void *arg,
		    size_t alen)
{
	put32(buf, (uint32_t)(2 + namelen + alen));
	buf[4] = (uint8_t)op;
	buf[5] = (uint8_t)namelen;
	memcpy(buf + 6, name, namelen);
	if (alen)
		memcpy(buf + 6 + namelen, arg, alen);
	return 6 + namelen + alen;
}

static int raw_connect(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(addr.sun_path, path);
	if (fd < 0)
		err_die("suite: socket:");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int raw_listen(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(addr.sun_path, path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 64) < 0)
		err_die("suite: listen on %s:", path);
	return fd;
}

/*
 * One raw request and its response: returns the status byte (0 or an errno
 * value) with the payload in out and its length in *len; fails the test
 * with what when no answer comes.
 */
static int raw_call(int fd, int op, const char *name, const void *arg, size_t alen, uint8_t *out,
		    size_t cap, size_t *len, const char *what)
{
	static uint8_t req[MGR_MSG_MAX + 4], resp[MGR_MSG_MAX];
	size_t n = build(req, op, name, strlen(name), arg, alen), rlen = 0;
	int r;

	ck_assert_msg(put_bytes(fd, req, n) == 0,
		      "sending %s failed: %s: the manager closed "
		      "the connection.",
		      what, ename(errno));
	r = get_frame(fd, resp, sizeof(resp), &rlen, CALL_MS);
	ck_assert_msg(r == 1 && rlen >= 1, "%s: the manager %s.", what,
		      r == 0               ? "closed the connection instead of answering"
		      : r == 1             ? "answered with an empty frame: a response starts with "
					     "its status byte"
		      : errno == ETIMEDOUT ? "did not answer within 2 s"
					   : "sent a torn frame, or one longer than MGR_MSG_MAX");
	*len = rlen - 1;
	if (out)
		memcpy(out, resp + 1, rlen - 1 < cap ? rlen - 1 : cap);
	return resp[0];
}

/*
 * Send n bytes one at a time, each only once the peer has read the one
 * before: then every recv() of the peer returns exactly one byte.
 */
static void dribble(int fd, const void *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int unread = 1;

		put_bytes(fd, (const char *)buf + i, 1);
		for (int t = 0; t < CALL_MS * 5 && unread > 0; t++) {
			if (ioctl(fd, SIOCOUTQ, &unread) < 0)
				unread = 0;
			if (unread > 0)
				usleep(200);
		}
		usleep(200); /* a pause: the peer finds nothing and waits */
	}
}

/* How many sockets /proc/net/unix lists at path: the listener and every connection to it. */
static int sockets_at(const char *path)
{
	FILE *f = fopen("/proc/net/unix", "r");
	char line[512];
	size_t plen = strlen(path);
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\n");

		line[len] = '\0';
		if (len > plen && strcmp(line + len - plen, path) == 0 &&
		    (line[len - plen - 1] == ' ' || line[len - plen - 1] == '/'))
			n++;
	}
	fclose(f);
	return n;
}

/* Wait until the manager has let go of every connection but base - 1; fail if it died. */
static void wait_released(pid_t pid, int base, const char *client)
{
	for (int t = 0; t < CALL_MS / 5; t++) {
		check_alive(pid, client);
		if (sockets_at(SOCK) <= base)
			return;
		usleep(5000);
	}
	check_alive(pid, client);
	ck_abort_msg("%s; 2 s later your manager still held that connection: end of stream, a "
		     "torn frame or a failed send ends that client: close its socket (and end "
		     "its thread).",
		     client);
}

/* ==== The student's manager and client, with checks ==== */

static struct manager *start(const char *path)
{
	struct manager *m = manager_start(path);

	ck_assert_msg(m != NULL,
		      "manager_start(\"%s\") returned NULL (errno %s), expected a "
		      "running manager.",
		      path, ename(errno));
	ck_assert_msg(m->pid > 0 && kill(m->pid, 0) == 0,
		      "manager_start() returned a struct manager whose pid %d is not a running "
		      "process: store the manager's pid in m->pid.",
		      (int)m->pid);
	return m;
}

/* A connection of the student's client, which gives up waiting after CALL_MS. */
static int client(const char *path)
{
	int fd = mgr_connect(path);

	ck_assert_msg(fd >= 0, "mgr_connect(\"%s\") returned %d (errno %s)%s", path, fd,
		      ename(errno), fd < 0 ? explain(errno) : "");
	set_timeouts(fd, CALL_MS);
	return fd;
}

#define MUST(call, what)                                                                           \
	do {                                                                                       \
		int r_ = (call);                                                                   \
		ck_assert_msg(r_ == 0, "%s returned %d (errno %s)%s", what, r_, ename(errno),      \
			      explain(errno));                                                     \
	} while (0)

static int64_t must_get(int fd, const char *name)
{
	int64_t v = -1;
	char what[64];

	snprintf(what, sizeof(what), "mgr_get(fd, \"%s\")", name);
	MUST(mgr_get(fd, name, &v), what);
	return v;
}

/* manager_stop() on a helper thread, so that a hang is reported, not waited for. */
struct stop_call {
	struct manager *m; /* the manager to stop */
	int ret;           /* what manager_stop() returned */
	int err;           /* errno after it */
	pthread_t thread;  /* the thread calling it */
};

static void *stop_thread(void *p)
{
	struct stop_call *c = p;

	errno = 0;
	c->ret = manager_stop(c->m);
	c->err = errno;
	return NULL;
}

/* Wait ms more for the stop call c; 1 when it has returned (and was joined). */
static int stop_joined(struct stop_call *c, long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	return pthread_timedjoin_np(c->thread, NULL, &until) == 0;
}

static void stop_begin(struct stop_call *c, struct manager *m)
{
	c->m = m;
	xpthread_create(&c->thread, stop_thread, c);
}

/* Stop m; it must return at once with status 0, and leave no socket file. */
static void stop(struct manager *m)
{
	static struct stop_call c; /* static: a hung thread may outlive this frame */
	pid_t pid = m->pid;

	stop_begin(&c, m);
	if (!stop_joined(&c, CALL_MS)) {
		kill(pid, SIGKILL); /* unblock the waitpid() in manager_stop() */
		stop_joined(&c, CALL_MS);
		ck_abort_msg("manager_stop() had not returned after %d s: does the manager watch "
			     "its end of the stop channel (poll() it with the listening socket), "
			     "and end with _exit() without waiting for its clients?",
			     CALL_MS / 1000);
	}
	ck_assert_msg(c.ret == 0, "manager_stop() returned %d (errno %s), expected 0: %s", c.ret,
		      ename(c.err),
		      c.ret > 128 ? "the manager was killed by a signal before or at the stop."
		      : c.ret > 0 ? "the manager's exit status; a clean stop is _exit(0)."
				  : "it must reap the manager and return its exit status.");
}

/* ==== The test's own manager (the fake), for the client functions ==== */

/* One counter of the fake manager's namespace. */
struct fake_counter {
	char name[MGR_NAME_MAX + 1];
	int64_t value;
};

static struct fake_counter fake_ns[16] = {{"big", 0x1122334455667788}};

static int64_t *fake_counter(const char *name, int make)
{
	for (int i = 0; i < 16; i++) {
		if (strcmp(fake_ns[i].name, name) == 0)
			return &fake_ns[i].value;
		if (make && !fake_ns[i].name[0]) {
			strcpy(fake_ns[i].name, name);
			return &fake_ns[i].value;
		}
	}
	return NULL;
}

/* The fake's list answers: "fixed" [7, -1, 2^40], "empty" [], "liar" 5 promised, 2 sent. */
static size_t fake_getlist(const char *name, uint8_t *out)
{
	static const int64_t fixed[] = {7, -1, (int64_t)1 << 40};

	if (strcmp(name, "empty") == 0 || strcmp(name, "liar") == 0) {
		put32(out + 1, name[0] == 'l' ? 5 : 0);
		if (name[0] == 'l') {
			put64(out + 5, 1);
			put64(out + 13, 2);
		}
		return name[0] == 'l' ? 21 : 5;
	}
	put32(out + 1, 3);
	for (int i = 0; i < 3; i++)
		put64(out + 5 + 8 * i, fixed[i]);
	return 5 + 24;
}

/* The fake's answer to body b (len bytes) on connection conn; 0: hang up instead. */
static size_t fake_answer(int conn, const uint8_t *b, size_t len, uint8_t *out)
{
	char name[MGR_NAME_MAX + 1] = "";
	size_t n = len >= 2 ? b[1] : 0;
	int64_t *c;

	if (sh->nlog < LOG_MAX) {
		struct logged *l = &sh->log[sh->nlog++];

		l->conn = conn;
		l->len = len;
		memcpy(l->body, b, len < LOG_BYTES ? len : LOG_BYTES);
	}
	out[0] = EPROTO;
	if (n < 1 || n > MGR_NAME_MAX || len < 2 + n)
		return 1;
	memcpy(name, b + 2, n);
	sh->ops[conn][b[0] & 7]++;
	if (strcmp(name, "hangup") == 0)
		return 0;
	out[0] = strcmp(name, "missing") == 0 ? ENOENT : 0;
	if (out[0])
		return 1;
	switch (b[0]) {
	case MGR_GET:
	case MGR_ADD:
		if (!(c = fake_counter(name, 0))) {
			out[0] = ENOENT;
			return 1;
		}
		if (b[0] == MGR_ADD && len == 2 + n + 8)
			*c = (int64_t)((uint64_t)*c + (uint64_t)get64(b + 2 + n));
		put64(out + 1, *c);
		return 9;
	case MGR_SET:
		if ((c = fake_counter(name, 1)) && len == 2 + n + 8)
			*c = get64(b + 2 + n);
		return 1;
	case MGR_APPEND:
	case MGR_SETLIST:
		return 1;
	case MGR_GETLIST:
		return fake_getlist(name, out);
	}
	out[0] = EPROTO;
	return 1;
}

/* An increment of the race counter, which the fake may hold back. */
static int is_increment(const uint8_t *b, size_t len)
{
	return len >= 6 && (b[0] == MGR_GET || b[0] == MGR_ADD) && b[1] == 4 &&
	       memcmp(b + 2, "race", 4) == 0;
}

/* The fake's connections. */
struct fake_conn {
	int fd;          /* -1 once closed */
	int held;        /* its request is held back */
	int was_held;    /* it was held once: never again */
	size_t len;      /* the held request's length */
	uint8_t req[64]; /* the held request */
};

static void fake_reply(struct fake_conn *c, int i, const uint8_t *req, size_t len)
{
	static uint8_t out[64];
	size_t n = fake_answer(i, req, len, out);
	uint8_t head[4];

	put32(head, (uint32_t)n);
	if (n == 0 || put_bytes(c->fd, head, 4) < 0 || put_bytes(c->fd, out, n) < 0) {
		close(c->fd);
		c->fd = -1;
	}
}

/* Answer every held request: the rendezvous is over. */
static void fake_release(struct fake_conn *c, int n, int *pending)
{
	for (int i = 0; i < n; i++) {
		if (c[i].held) {
			c[i].held = 0;
			fake_reply(&c[i], i, c[i].req, c[i].len);
		}
	}
	*pending = 0;
	sh->hold = 0;
}

/* A request came on connection i: answer it, or hold it back for the rendezvous. */
static void fake_request(struct fake_conn *c, int i, int n, int *pending, uint64_t *since)
{
	static uint8_t req[MGR_MSG_MAX];
	size_t len;

	if (get_frame(c[i].fd, req, sizeof(req), &len, CALL_MS) != 1) {
		close(c[i].fd);
		c[i].fd = -1;
		return;
	}
	if (sh->hold && !c[i].was_held && is_increment(req, len) && len <= sizeof(c[i].req)) {
		c[i].held = c[i].was_held = 1;
		c[i].len = len;
		memcpy(c[i].req, req, len);
		if ((*pending)++ == 0)
			*since = clock_now_ns();
		if (*pending >= sh->hold)
			fake_release(c, n, pending);
		return;
	}
	fake_reply(&c[i], i, req, len);
}

/* The fake manager's process: poll every connection, answer each request in turn. */
static void fake_main(int lfd)
{
	static struct fake_conn c[FAKE_CONNS];
	struct pollfd p[1 + FAKE_CONNS];
	int n = 0, pending = 0;
	uint64_t since = 0;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		long left = pending ? HOLD_MS - (long)((clock_now_ns() - since) / 1000000) : -1;

		if (pending && left <= 0) {
			sh->hold_timed_out = 1; /* they never were all there at once */
			fake_release(c, n, &pending);
			left = -1;
		}
		p[0] = (struct pollfd){lfd, n < FAKE_CONNS ? POLLIN : 0, 0};
		for (int i = 0; i < n; i++)
			p[1 + i] = (struct pollfd){c[i].held ? -1 : c[i].fd, POLLIN, 0};
		if (poll(p, (nfds_t)(1 + n), (int)left) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			c[n] = (struct fake_conn){.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)};
			if (c[n].fd >= 0)
				sh->nconns = ++n;
		}
		for (int i = 0; i < n; i++)
			if (c[i].fd >= 0 && !c[i].held && p[1 + i].revents)
				fake_request(c, i, n, &pending, &since);
	}
}

/* Start the fake manager at FAKE; it holds the first increment of hold connections. */
static pid_t fake_start(int hold)
{
	int lfd = raw_listen(FAKE);
	pid_t pid;

	sh->hold = hold;
	pid = xfork();
	if (pid == 0)
		fake_main(lfd);
	close(lfd);
	return pid;
}

static void fake_stop(pid_t pid)
{
	kill(pid, SIGKILL); /* everything it counted is in the shared page already */
	xwaitpid(pid, NULL, 0);
	unlink(FAKE);
}

/* The number of requests of operation op that connection conn made. */
static int ops_of(int conn, int op)
{
	return sh->ops[conn][op];
}

/* ==== Core: the namespace, one process for every client ==== */

/* Child: set x to 7 through a connection of its own. */
static void setter_child(void *arg)
{
	int fd = mgr_connect(SOCK);

	(void)arg;
	_exit(fd >= 0 && mgr_set(fd, "x", 7) == 0 && mgr_close(fd) == 0 ? 0 : 1);
}

START_TEST(test_get_set_roundtrip)
{
	struct manager *m;
	struct stat st;
	int a, b, status;
	int64_t v = 0;

	begin();
	m = start(SOCK);
	ck_assert_msg(lstat(SOCK, &st) == 0 && S_ISSOCK(st.st_mode),
		      "manager_start() returned before the socket file %s existed: bind() and "
		      "listen() in the owner, before fork(), so that clients can connect as soon "
		      "as it returns.",
		      SOCK);
	a = client(SOCK);
	MUST(mgr_set(a, "x", 42), "mgr_set(fd, \"x\", 42)");
	v = must_get(a, "x");
	ck_assert_msg(v == 42, "mgr_set(\"x\", 42) then mgr_get(\"x\") gave %lld.", (long long)v);
	MUST(mgr_set(a, "big", INT64_MIN), "mgr_set(fd, \"big\", INT64_MIN)");
	v = must_get(a, "big");
	ck_assert_msg(v == INT64_MIN,
		      "mgr_set(\"big\", INT64_MIN) then mgr_get() gave %lld: the value travels as "
		      "8 bytes, big-endian (htobe64/be64toh), all 64 bits.",
		      (long long)v);
	b = client(SOCK);
	ck_assert_msg(mgr_get(b, "x", &v) == 0 || errno != ENOENT,
		      "client A set \"x\" to 42; client B, on a connection of its own, got "
		      "ENOENT: B's manager has never heard of \"x\". Every client must reach the "
		      "one namespace of the manager process: serve clients with threads (or "
		      "poll()), never with a process per client, which serves its own copy.");
	v = must_get(b, "x");
	ck_assert_msg(v == 42,
		      "client A set \"x\" to 42; client B, on a connection of its own, read %lld: "
		      "every client must see the one namespace of the manager process (no copy "
		      "per connection, no process per client).",
		      (long long)v);
	if (proc_wait_timeout(proc_run(setter_child, NULL), &status, CALL_MS) < 0)
		status = -1;
	ck_assert_msg(status == 0,
		      "a child process could not set \"x\" through its own "
		      "connection (it exited with %d).",
		      status);
	v = must_get(a, "x");
	ck_assert_msg(v == 7, "another process set \"x\" to 7; client A then read %lld.",
		      (long long)v);
	MUST(mgr_add(a, "x", 5, &v), "mgr_add(fd, \"x\", 5, &v)");
	ck_assert_msg(v == 12, "\"x\" was 7; mgr_add(\"x\", 5, &v) stored %lld, expected 12.",
		      (long long)v);
	MUST(mgr_add(b, "x", -2, NULL), "mgr_add(fd, \"x\", -2, NULL)");
	v = must_get(a, "x");
	ck_assert_msg(v == 10, "after mgr_add(\"x\", -2) \"x\" is %lld, expected 10.",
		      (long long)v);
	MUST(mgr_close(a), "mgr_close()");
	mgr_close(b);
	stop(m);
	ck_assert_msg(lstat(SOCK, &st) < 0, "manager_stop() left the socket file %s.", SOCK);
}
END_TEST

START_TEST(test_protocol_server)
{
	static uint8_t buf[3 * 64], arg[4 + 8 * (BIG_LIST + 1)], out[4 + 8 * BIG_LIST];
	struct manager *m;
	size_t n = 0, len;
	int fd, st, r;

	begin();
	m = start(SOCK);
	fd = raw_connect(SOCK);
	ck_assert_msg(fd >= 0, "connect() to the manager's socket failed (errno %s).",
		      ename(errno));
	/* Three requests in one send(): each must be answered, in order. */
	put64(arg, 255);
	n += build(buf + n, MGR_SET, "p", 1, arg, 8);
	put64(arg + 8, 1);
	n += build(buf + n, MGR_ADD, "p", 1, arg + 8, 8);
	n += build(buf + n, MGR_GETLIST, "nolist", 6, NULL, 0);
	put_bytes(fd, buf, n);
	for (int i = 0; i < 3; i++) {
		static const char *const what[] = {"SET p 255", "ADD p 1", "GETLIST nolist"};
		static const size_t want_len[] = {1, 9, 1};
		static const uint8_t want_st[] = {0, 0, ENOENT};

		r = get_frame(fd, out, sizeof(out), &len, CALL_MS);
		ck_assert_msg(
		    r == 1,
		    "three request frames came in one send(); the answer to the %s one "
		    "(%s) %s: read exactly 4 bytes, then exactly the length they give — the "
		    "bytes after belong to the next request.",
		    i == 0   ? "first"
		    : i == 1 ? "second"
			     : "third",
		    what[i], r == 0 ? "never came: the manager closed" : "never came");
		ck_assert_msg(len == want_len[i] && out[0] == want_st[i],
			      "three request frames came in one send(); the answer to %s was %zu "
			      "bytes with status %d, expected %zu bytes with status %d%s",
			      what[i], len, out[0], want_len[i], want_st[i],
			      out[0] == EPROTO
				  ? ": EPROTO, as if the manager had read past the end "
				    "of this frame into the next one."
				  : ".");
		if (i == 1)
			ck_assert_msg(
			    get64(out + 1) == 256,
			    "SET p 255 then ADD p 1 answered the 8 bytes %02x %02x .. %02x "
			    "%02x (%lld), expected 256, 00 .. 01 00: values travel "
			    "big-endian both ways (be64toh what comes, htobe64 what goes).",
			    out[1], out[2], out[7], out[8], (long long)get64(out + 1));
	}
	/* Requests it cannot parse: EPROTO, and the connection goes on. */
	st = raw_call(fd, 99, "p", NULL, 0, NULL, 0, &len, "an unknown operation (99)");
	ck_assert_msg(st == EPROTO,
		      "an unknown operation was answered with status %d, expected "
		      "EPROTO (%d).",
		      st, EPROTO);
	st = raw_call(fd, MGR_SET, "p", arg, 4, NULL, 0, &len, "SET with a 4-byte operand");
	ck_assert_msg(st == EPROTO,
		      "SET with a 4-byte operand (8 are due) was answered with "
		      "status %d, expected EPROTO.",
		      st);
	n = build(buf, MGR_GET, "", 0, NULL, 0);
	put_bytes(fd, buf, n);
	r = get_frame(fd, out, sizeof(out), &len, CALL_MS);
	ck_assert_msg(r == 1 && len == 1 && out[0] == EPROTO,
		      "a request with an empty name got %s, expected status EPROTO.",
		      r == 1 ? "another answer" : "no answer");
	/* A request that arrives one byte at a time. */
	n = build(buf, MGR_GET, "p", 1, NULL, 0);
	dribble(fd, buf, n);
	r = get_frame(fd, out, sizeof(out), &len, CALL_MS);
	ck_assert_msg(r == 1 && len == 9 && out[0] == 0 && get64(out + 1) == 256,
		      "GET p, sent one byte at a time (each once the manager had read the one "
		      "before), was not answered with 256: recv() returns what has arrived, which "
		      "may be one byte. Loop until the whole frame is in.");
	/* The longest list there is, both ways. */
	put32(arg, BIG_LIST);
	for (int i = 0; i < BIG_LIST; i++)
		put64(arg + 4 + 8 * i, (int64_t)i * 1000003 - 7);
	st = raw_call(fd, MGR_SETLIST, "big", arg, 4 + 8 * BIG_LIST, NULL, 0, &len,
		      "SETLIST of MGR_LIST_MAX values");
	ck_assert_msg(st == 0, "SETLIST of MGR_LIST_MAX values was answered with status %d.", st);
	st = raw_call(fd, MGR_GETLIST, "big", NULL, 0, out, sizeof(out), &len, "GETLIST big");
	ck_assert_msg(st == 0 && len == 4 + 8 * BIG_LIST && get32(out) == BIG_LIST &&
			  memcmp(out + 4, arg + 4, 8 * BIG_LIST) == 0,
		      "GETLIST of a list of %d values answered status %d with %zu bytes, expected "
		      "%d: the 4-byte count, then every value, big-endian.",
		      BIG_LIST, st, len, 4 + 8 * BIG_LIST);
	put32(arg, BIG_LIST + 1);
	st = raw_call(fd, MGR_SETLIST, "big", arg, 4 + 8 * (BIG_LIST + 1), NULL, 0, &len,
		      "SETLIST of MGR_LIST_MAX + 1 values");
	ck_assert_msg(st == EPROTO,
		      "SETLIST of MGR_LIST_MAX + 1 values was answered with status "
		      "%d, expected EPROTO.",
		      st);
	close(fd);
	stop(m);
}
END_TEST

START_TEST(test_client_wire_format)
{
	static const uint8_t set_x[] = {MGR_SET, 1, 'x', 1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t setlist[] = {MGR_SETLIST, 3,    'l',  'o',  'g',  0,    0,   0, 2,
					  0,           0,    0,    0,    0,    0,    0,   1, 0xff,
					  0xff,        0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
	static const int64_t two[] = {1, -2};
	char long_name[MGR_NAME_MAX + 2];
	struct logged *l;
	int64_t v = 0, *list;
	size_t n = 0;
	int fd, logged, hang, r;
	pid_t fake;

	begin();
	fake = fake_start(0);
	fd = client(FAKE);
	MUST(mgr_set(fd, "x", 0x0102030405060708), "mgr_set(fd, \"x\", 0x0102030405060708)");
	l = &sh->log[0];
	ck_assert_msg(sh->nlog == 1 && l->len == sizeof(set_x) &&
			  memcmp(l->body, set_x, sizeof(set_x)) == 0,
		      "mgr_set(\"x\", 0x0102030405060708) sent a body of %zu bytes beginning %02x "
		      "%02x %02x %02x, expected the 11 bytes 02 01 78 01 02 .. 08: the operation, "
		      "the name's length, the name without NUL, the value big-endian.",
		      l->len, l->body[0], l->body[1], l->body[2], l->body[3]);
	v = must_get(fd, "big");
	ck_assert_msg(v == 0x1122334455667788,
		      "the manager answered GET big with 11 22 33 .. 88; mgr_get() read %llx: "
		      "be64toh() the 8 bytes after the status.",
		      (unsigned long long)v);
	logged = sh->nlog;
	MUST(mgr_add(fd, "x", -3, &v), "mgr_add(fd, \"x\", -3, &v)");
	ck_assert_msg(ops_of(0, MGR_GET) == 1 && ops_of(0, MGR_SET) == 1,
		      "mgr_add() sent a GET and a SET: the addition happened in your process, "
		      "between two requests, and another client's update made in between is "
		      "lost. Send one MGR_ADD request: the manager adds, under its lock.");
	l = &sh->log[logged];
	ck_assert_msg(sh->nlog == logged + 1 && l->body[0] == MGR_ADD && l->len == 11 &&
			  get64(l->body + 3) == -3,
		      "mgr_add(\"x\", -3) sent %d requests, the first of operation %d and %zu "
		      "bytes, expected one MGR_ADD of 11 bytes with the delta -3 big-endian.",
		      sh->nlog - logged, l->body[0], l->len);
	ck_assert_msg(
	    v == 0x0102030405060705,
	    "the manager answered the ADD with 0x0102030405060705; mgr_add() stored %llx.",
	    (unsigned long long)v);
	logged = sh->nlog;
	MUST(mgr_append(fd, "log", 9), "mgr_append(fd, \"log\", 9)");
	l = &sh->log[logged];
	ck_assert_msg(sh->nlog == logged + 1 && l->body[0] == MGR_APPEND && l->len == 13 &&
			  get64(l->body + 5) == 9,
		      "mgr_append(\"log\", 9) sent %d requests, the first of operation %d: append "
		      "with one MGR_APPEND request. Fetching the list, appending to the copy and "
		      "setting it back loses what other clients append in between.",
		      sh->nlog - logged, l->body[0]);
	logged = sh->nlog;
	MUST(mgr_setlist(fd, "log", two, 2), "mgr_setlist(fd, \"log\", {1, -2}, 2)");
	l = &sh->log[logged];
	ck_assert_msg(l->len == sizeof(setlist) && memcmp(l->body, setlist, sizeof(setlist)) == 0,
		      "mgr_setlist(\"log\", {1, -2}, 2) sent %zu bytes, expected %zu: 05 03 l o g, "
		      "the count 00 00 00 02 (htonl), then each value in 8 bytes big-endian.",
		      l->len, sizeof(setlist));
	list = mgr_list(fd, "fixed", &n);
	ck_assert_msg(list && n == 3 && list[0] == 7 && list[1] == -1 &&
			  list[2] == (int64_t)1 << 40,
		      "the manager answered GETLIST with the count 3 and 7, -1, 2^40; mgr_list() "
		      "returned %s with %zu values (errno %s).",
		      list ? "an array" : "NULL", n, list ? "-" : ename(errno));
	free(list);
	list = mgr_list(fd, "empty", &n);
	ck_assert_msg(list && n == 0,
		      "mgr_list() of an empty list returned %s, n %zu (errno %s): "
		      "an empty list is a success, and the array is never NULL then.",
		      list ? "an array" : "NULL", n, ename(errno));
	free(list);
	list = mgr_list(fd, "liar", &n);
	r = errno;
	free(list);
	ck_assert_msg(!list && r == EPROTO,
		      "the manager answered GETLIST with a count of 5 and 2 values; mgr_list() "
		      "returned %s (errno %s), expected NULL with EPROTO: check the length "
		      "against the count.",
		      list ? "an array" : "NULL", ename(r));
	r = mgr_get(fd, "missing", &v);
	ck_assert_msg(r == -1 && errno == ENOENT,
		      "the manager answered status ENOENT; "
		      "mgr_get() returned %d (errno %s), expected -1 "
		      "with ENOENT: the status byte becomes errno.",
		      r, ename(errno));
	/* Names: 1 to MGR_NAME_MAX bytes, checked before anything is sent. */
	memset(long_name, 'n', sizeof(long_name));
	long_name[MGR_NAME_MAX + 1] = '\0';
	logged = sh->nlog;
	r = mgr_set(fd, long_name, 1);
	ck_assert_msg(r == -1 && errno == EINVAL && sh->nlog == logged,
		      "mgr_set() with a name of %d bytes returned %d (errno %s) and sent %d "
		      "requests, expected -1 with EINVAL and nothing sent.",
		      MGR_NAME_MAX + 1, r, ename(errno), sh->nlog - logged);
	r = mgr_get(fd, "", &v);
	ck_assert_msg(r == -1 && errno == EINVAL && sh->nlog == logged,
		      "mgr_get() with an empty name returned %d (errno %s), expected -1 with "
		      "EINVAL and nothing sent.",
		      r, ename(errno));
	long_name[MGR_NAME_MAX] = '\0';
	MUST(mgr_set(fd, long_name, 1), "mgr_set() with a name of MGR_NAME_MAX bytes");
	mgr_close(fd);
	hang = client(FAKE);
	r = mgr_get(hang, "hangup", &v);
	ck_assert_msg(r == -1 && errno == ECONNRESET,
		      "the manager closed the connection instead of answering; mgr_get() "
		      "returned %d (errno %s), expected -1 with ECONNRESET.",
		      r, ename(errno));
	mgr_close(hang);
	fake_stop(fake);
}
END_TEST

START_TEST(test_unknown_name)
{
	struct manager *m;
	int fd, r;
	int64_t v, *list;
	size_t n;
	char name[16];

	begin();
	m = start(SOCK);
	fd = client(SOCK);
	MUST(mgr_set(fd, "c", 1), "mgr_set(fd, \"c\", 1)");
	MUST(mgr_setlist(fd, "l", NULL, 0), "mgr_setlist(fd, \"l\", NULL, 0)");
	r = mgr_get(fd, "nobody", &v);
	check_alive_after(m->pid, r < 0 ? errno : 0,
			  "after mgr_get() of a name the manager does not have");
	ck_assert_msg(r == -1 && errno == ENOENT,
		      "mgr_get(\"nobody\") of a name never set returned %d (errno %s), expected "
		      "-1 with ENOENT%s",
		      r, ename(errno), explain(errno));
	r = mgr_add(fd, "nobody", 1, NULL);
	check_alive_after(m->pid, r < 0 ? errno : 0,
			  "after mgr_add() of a name the manager does not have");
	ck_assert_msg(r == -1 && errno == ENOENT,
		      "mgr_add(\"nobody\") returned %d (errno %s), expected -1 with ENOENT: an ADD "
		      "does not create its counter.",
		      r, ename(errno));
	r = mgr_append(fd, "nolist", 1);
	check_alive_after(m->pid, r < 0 ? errno : 0,
			  "after mgr_append() to a list the manager does not have");
	ck_assert_msg(r == -1 && errno == ENOENT,
		      "mgr_append(\"nolist\") returned %d (errno %s), expected -1 with ENOENT.", r,
		      ename(errno));
	list = mgr_list(fd, "nolist", &n);
	r = errno;
	check_alive_after(m->pid, list ? 0 : r,
			  "after mgr_list() of a list the manager does not have");
	free(list);
	ck_assert_msg(!list && r == ENOENT,
		      "mgr_list(\"nolist\") returned %s (errno %s), expected NULL with ENOENT.",
		      list ? "an array" : "NULL", ename(r));
	/* The wrong kind: EINVAL. */
	r = mgr_append(fd, "c", 2);
	check_alive_after(m->pid, r < 0 ? errno : 0, "after mgr_append() to a counter");
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "mgr_append() to the counter \"c\" returned %d (errno %s), expected -1 "
		      "with EINVAL.",
		      r, ename(errno));
	r = mgr_get(fd, "l", &v);
	check_alive_after(m->pid, r < 0 ? errno : 0, "after mgr_get() of a list");
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "mgr_get() of the list \"l\" returned %d (errno %s), expected -1 with "
		      "EINVAL.",
		      r, ename(errno));
	v = must_get(fd, "c");
	ck_assert_msg(v == 1,
		      "after the failed requests, \"c\" read %lld on the same "
		      "connection, expected 1.",
		      (long long)v);
	/* Room for MGR_NAMES_MAX names. */
	for (int i = 2; i < MGR_NAMES_MAX; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		MUST(mgr_set(fd, name, i), "mgr_set() of the MGR_NAMES_MAX names");
	}
	v = must_get(fd, "n63");
	ck_assert_msg(v == 63, "the 64th name read %lld, expected 63.", (long long)v);
	mgr_close(fd);
	stop(m);
}
END_TEST

/* ==== Concurrency: ADD and APPEND from many processes at once ==== */

/* What a client child does. */
struct hammer {
	int go[2];  /* the start line: end of file on go[0] means go */
	int append; /* APPEND to "log"; or else ADD to "hits" */
	int id;     /* which child */
};

static void child_failed(int call)
{
	int none = 0;

	if (atomic_compare_exchange_strong(&sh->child_err, &none, errno ? errno : EIO))
		atomic_store(&sh->child_call, call);
	_exit(1);
}

static void hammer_child(void *arg)
{
	struct hammer *h = arg;
	int fd, n = h->append ? APPENDS : ADDS;
	int64_t v;
	char c;

	close(h->go[1]); /* or end of file never comes */
	fd = mgr_connect(SOCK);
	if (fd < 0)
		child_failed(0);
	set_timeouts(fd, CALL_MS);
	atomic_fetch_add(&sh->ready, 1);
	while (read(h->go[0], &c, 1) < 0 && errno == EINTR)
		;
	for (int i = 0; i < n; i++) {
		if (h->append) {
			if (mgr_append(fd, "log", (int64_t)h->id * 1000 + i) < 0)
				child_failed(i + 1);
			continue;
		}
		if (mgr_add(fd, "hits", 1, &v) < 0)
			child_failed(i + 1);
		if (v >= 1 && v <= TICKETS)
			atomic_fetch_add(&sh->tickets[v - 1], 1);
		else
			atomic_fetch_add(&sh->out_of_range, 1);
	}
	mgr_close(fd);
	_exit(0);
}

/* Run CLIENTS hammer children, all connected before any starts; fail on any error. */
static void hammer(int append)
{
	struct hammer h = {.append = append};
	pid_t pids[CLIENTS];
	int status;

	xpipe(h.go);
	for (int i = 0; i < CLIENTS; i++) {
		h.id = i;
		pids[i] = proc_run(hammer_child, &h);
		ck_assert_msg(pids[i] > 0, "suite: fork failed");
	}
	close(h.go[0]);
	for (int t = 0; t < CALL_MS / 5 && atomic_load(&sh->ready) < CLIENTS; t++)
		usleep(5000);
	close(h.go[1]); /* every child is connected: go */
	for (int i = 0; i < CLIENTS; i++) {
		if (proc_wait_timeout(pids[i], &status, 4 * CALL_MS) < 0) {
			for (int j = i; j < CLIENTS; j++)
				kill(pids[j], SIGKILL);
			for (int j = i; j < CLIENTS; j++)
				xwaitpid(pids[j], NULL, 0);
			ck_abort_msg("a client process had not finished its %d requests after %d "
				     "s: the manager stopped answering it.",
				     append ? APPENDS : ADDS, 4 * CALL_MS / 1000);
		}
	}
	ck_assert_msg(
	    atomic_load(&sh->child_err) == 0, "in a client process, %s %d failed with errno %s%s",
	    atomic_load(&sh->child_call) ? (append ? "mgr_append() call" : "mgr_add() call")
					 : "mgr_connect(), call",
	    atomic_load(&sh->child_call), ename(atomic_load(&sh->child_err)),
	    explain(atomic_load(&sh->child_err)));
}

START_TEST(test_add_concurrent)
{
	struct manager *m;
	int fd, missing = 0, twice = 0, first = 0;
	int64_t total;

	begin();
	m = start(SOCK);
	fd = client(SOCK);
	MUST(mgr_set(fd, "hits", 0), "mgr_set(fd, \"hits\", 0)");
	hammer(0);
	total = must_get(fd, "hits");
	for (int i = TICKETS - 1; i >= 0; i--) {
		int k = atomic_load(&sh->tickets[i]);

		missing += k == 0;
		twice += k > 1;
		if (k > 1)
			first = i + 1;
	}
	ck_assert_msg(total == TICKETS && twice == 0 && atomic_load(&sh->out_of_range) == 0,
		      "%d processes each called mgr_add(\"hits\", 1) %d times: the total is %lld, "
		      "expected %d, and %d values were returned by more than one call (the "
		      "smallest: %d): two "
		      "clients read the same value and both wrote it plus one — a lost update. "
		      "The addition must happen in the manager, in one request done whole under "
		      "its lock.",
		      CLIENTS, ADDS, (long long)total, TICKETS, twice, first);
	ck_assert_msg(missing == 0,
		      "mgr_add() never returned %d of the values 1..%d: each ADD "
		      "returns the counter's value just after it.",
		      missing, TICKETS);
	mgr_close(fd);
	stop(m);
}
END_TEST

START_TEST(test_append_concurrent)
{
	static unsigned char seen[CLIENTS][APPENDS];
	struct manager *m;
	int fd, bad = 0, lost = 0, twice = 0, order = 0, last[CLIENTS];
	int64_t *list;
	size_t n = 0;

	begin();
	m = start(SOCK);
	fd = client(SOCK);
	MUST(mgr_setlist(fd, "log", NULL, 0), "mgr_setlist(fd, \"log\", NULL, 0)");
	hammer(1);
	list = mgr_list(fd, "log", &n);
	ck_assert_msg(list != NULL, "mgr_list(\"log\") returned NULL (errno %s)%s", ename(errno),
		      explain(errno));
	memset(seen, 0, sizeof(seen));
	for (int p = 0; p < CLIENTS; p++)
		last[p] = -1;
	for (size_t i = 0; i < n; i++) {
		int p = (int)(list[i] / 1000), k = (int)(list[i] % 1000);

		if (list[i] < 0 || p >= CLIENTS || k >= APPENDS) {
			bad++;
			continue;
		}
		twice += seen[p][k]++ > 0;
		order += k < last[p];
		last[p] = k;
	}
	free(list);
	for (int p = 0; p < CLIENTS; p++)
		for (int k = 0; k < APPENDS; k++)
			lost += !seen[p][k];
	ck_assert_msg(lost == 0 && twice == 0 && bad == 0,
		      "%d processes each appended %d values to \"log\": the list holds %zu, %d "
		      "appends lost, %d twice, %d never sent. Each append must be one APPEND "
		      "request, done by the manager under its lock; fetching, appending to the "
		      "copy and setting it back loses other clients' appends.",
		      CLIENTS, APPENDS, n, lost, twice, bad);
	ck_assert_msg(order == 0,
		      "the values one process appended came out of order %d times: "
		      "APPEND adds at the end.",
		      order);
	mgr_close(fd);
	stop(m);
}
END_TEST

START_TEST(test_concurrent_clients)
{
	static const uint8_t half[] = {0, 0};
	uint8_t req[64], out[16], arg[8];
	struct manager *m;
	size_t n, len;
	int a, b, st, r;

	begin();
	m = start(SOCK);
	a = raw_connect(SOCK);
	b = raw_connect(SOCK);
	ck_assert_msg(a >= 0 && b >= 0, "connect() to the manager failed (errno %s).",
		      ename(errno));
	put64(arg, 1);
	st = raw_call(a, MGR_SET, "a", arg, 8, NULL, 0, &len, "client A's SET a 1");
	ck_assert_msg(st == 0, "client A's SET a 1 was answered with status %d.", st);
	put_bytes(a, half, sizeof(half)); /* A is in the middle of its next frame, and waits */
	n = build(req, MGR_GET, "a", 1, NULL, 0);
	put_bytes(b, req, n);
	r = get_frame(b, out, sizeof(out), &len, CALL_MS);
	check_alive(m->pid, "while client A held half a request");
	ck_assert_msg(r == 1,
		      "client A was connected and had sent half of its second request; client B "
		      "connected and sent a GET, and got %s: the manager serves one client at a "
		      "time, waiting for A. Serve each client in a thread of its own (or poll() "
		      "them all), never in the accept loop.",
		      r == 0 ? "its connection closed" : "no answer in 2 s");
	ck_assert_msg(len == 9 && out[0] == 0 && get64(out + 1) == 1,
		      "client B's GET a was answered with %zu bytes, status %d, expected 1.", len,
		      out[0]);
	put_bytes(a, req + 2, n - 2); /* the rest of A's frame, a GET a */
	r = get_frame(a, out, sizeof(out), &len, CALL_MS);
	ck_assert_msg(r == 1 && len == 9 && get64(out + 1) == 1,
		      "client A finished its half-sent GET a after B was served, and got no "
		      "answer (or a wrong one): the bytes a client has sent belong to that "
		      "client's frame.");
	close(a);
	close(b);
	stop(m);
}
END_TEST

/* ==== The copy: a list fetched from the manager is the client's ==== */

START_TEST(test_list_is_copy)
{
	static const int64_t start123[] = {1, 2, 3};
	int64_t vals[3] = {1, 2, 3}, *a, *b, *c, *grown;
	size_t na = 0, nb = 0, nc = 0;
	struct manager *m;
	int fd;

	begin();
	m = start(SOCK);
	fd = client(SOCK);
	MUST(mgr_setlist(fd, "log", vals, 3), "mgr_setlist(fd, \"log\", {1, 2, 3}, 3)");
	vals[0] = 50; /* the caller's array: the manager holds its own copy */
	a = mgr_list(fd, "log", &na);
	ck_assert_msg(
	    a && na == 3 && memcmp(a, start123, sizeof(start123)) == 0,
	    "mgr_list(\"log\") after mgr_setlist(\"log\", {1, 2, 3}) returned %s with %zu "
	    "values (errno %s).",
	    a ? "an array" : "NULL", na, a ? "-" : ename(errno));
	/* The trap: change the copy and expect the manager's list to follow. */
	a[0] = 99;
	b = mgr_list(fd, "log", &nb);
	ck_assert_msg(b != a, "two calls of mgr_list() returned the same array: each call "
			      "returns a new copy, the caller's own, from malloc() (a static "
			      "buffer is rewritten by the next call, and free() crashes on it).");
	ck_assert_msg(a[0] == 99,
		      "a second mgr_list() changed the array the first one had "
		      "returned: the copy must be the caller's, never a buffer your code "
		      "reuses.");
	grown = realloc(a, 4 * sizeof(*a));
	ck_assert_msg(grown != NULL,
		      "realloc() of the array mgr_list() returned failed: it must come from "
		      "malloc().");
	a = grown;
	a[3] = 4;
	ck_assert_msg(b && nb == 3 && memcmp(b, start123, sizeof(start123)) == 0,
		      "a client changed its copy of \"log\" (a[0] = 99, one value appended to "
		      "it); fetching the list again gave %zu values beginning %lld, expected the "
		      "manager's [1, 2, 3], untouched.",
		      nb, b ? (long long)b[0] : -1LL);
	MUST(mgr_append(fd, "log", 4), "mgr_append(fd, \"log\", 4)");
	c = mgr_list(fd, "log", &nc);
	ck_assert_msg(c && nc == 4 && c[3] == 4 && c[0] == 1,
		      "after mgr_append(\"log\", 4) the list read %zu values, expected [1, 2, 3, "
		      "4].",
		      nc);
	ck_assert_msg(b[0] == 1 && b[2] == 3 && nb == 3 && a[0] == 99 && a[3] == 4,
		      "a later mgr_list() changed an array an earlier call had returned "
		      "(now %lld, %lld, %lld): the copy must be the caller's, never a buffer "
		      "your code reuses.",
		      (long long)b[0], (long long)b[1], (long long)b[2]);
	free(a);
	free(b);
	free(c);
	mgr_close(fd);
	stop(m);
}
END_TEST

/* ==== Robustness: short counts, EINTR, clients that vanish ==== */

START_TEST(test_framing_faults)
{
	static int64_t vals[BIG_LIST];
	struct manager *m;
	int64_t v = 0, *list;
	size_t n = 0;
	int fd, ok;

	begin();
	for (int i = 0; i < BIG_LIST; i++)
		vals[i] = (int64_t)i * 7919 - 100000;
	/* Before the start: the manager process inherits the faults too. */
	fault_inject(FAULT_SHORT_IO | FAULT_EINTR, 1);
	m = start(SOCK);
	fd = client(SOCK);
	ok = mgr_set(fd, "x", -5) == 0 && mgr_add(fd, "x", 8, &v) == 0 && v == 3 &&
	     mgr_get(fd, "x", &v) == 0 && v == 3;
	ck_assert_msg(ok,
		      "with every send() and recv() made to move fewer bytes than asked or to fail "
		      "with EINTR, mgr_set, mgr_add and mgr_get of \"x\" failed or read %lld "
		      "(errno %s), expected 3. Loop until every byte of a frame is sent and "
		      "received, and retry EINTR. %s",
		      (long long)v, ename(errno), fault_report());
	ok = mgr_setlist(fd, "big", vals, BIG_LIST) == 0 && mgr_append(fd, "big2", 1) < 0 &&
	     errno == ENOENT;
	ck_assert_msg(ok,
		      "with short counts and EINTR, mgr_setlist() of %d values, then "
		      "mgr_append() of a missing list, did not give 0 then ENOENT (errno %s). "
		      "%s",
		      BIG_LIST, ename(errno), fault_report());
	list = mgr_list(fd, "big", &n);
	ok = list && n == BIG_LIST && memcmp(list, vals, sizeof(vals)) == 0;
	free(list);
	ck_assert_msg(ok,
		      "with short counts and EINTR, mgr_list() of %d values returned %zu of them "
		      "(errno %s), or wrong ones. %s",
		      BIG_LIST, n, ename(errno), fault_report());
	fault_stop();
	ck_assert_msg(fault_count() > 0, "suite: no fault was injected");
	mgr_close(fd);
	stop(m);
}
END_TEST

/* Wait until every thread of pid is stopped (SIGSTOP). */
static int all_stopped(pid_t pid)
{
	char path[320], line[512], *p;
	struct dirent *e;
	int n = 0, stopped = 1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return 0;
	while ((e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		fclose(f);
		n++;
		if (!p || (p[2] != 'T' && p[2] != 't'))
			stopped = 0;
	}
	closedir(d);
	return n > 0 && stopped;
}

START_TEST(test_client_vanishes)
{
	static int64_t vals[BIG_LIST];
	uint8_t req[64];
	struct manager *m;
	int fd, c, base, ok = 0;
	size_t n;

	begin();
	m = start(SOCK);
	fd = client(SOCK);
	MUST(mgr_set(fd, "x", 1), "mgr_set(fd, \"x\", 1)");
	MUST(mgr_setlist(fd, "big", vals, BIG_LIST), "mgr_setlist() of MGR_LIST_MAX values");
	base = sockets_at(SOCK);
	/* Half a frame, then gone. */
	c = raw_connect(SOCK);
	n = build(req, MGR_GET, "x", 1, NULL, 0);
	put_bytes(c, req, n - 2);
	close(c);
	wait_released(m->pid, base, "a client sent half a request and closed its connection");
	/* A frame longer than any request. */
	c = raw_connect(SOCK);
	put32(req, MGR_MSG_MAX + 1);
	put_bytes(c, req, 4);
	wait_released(m->pid, base, "a client sent a frame header of MGR_MSG_MAX + 1 bytes");
	close(c);
	/* Gone before its answer: the manager is frozen while the client asks and leaves. */
	kill(m->pid, SIGSTOP);
	for (int t = 0; t < CALL_MS / 5 && !(ok = all_stopped(m->pid)); t++)
		usleep(5000);
	c = raw_connect(SOCK);
	n = build(req, MGR_GETLIST, "big", 3, NULL, 0);
	put_bytes(c, req, n);
	close(c);
	kill(m->pid, SIGCONT);
	ck_assert_msg(ok, "suite: the manager did not stop on SIGSTOP");
	wait_released(m->pid, base,
		      "a client asked for a long list and closed its connection before the "
		      "answer");
	ck_assert_msg(must_get(fd, "x") == 1, "after the clients that vanished, \"x\" read "
					      "wrong.");
	mgr_close(fd);
	stop(m);
}
END_TEST

/* ==== The manager's life: stop, second manager, stale socket ==== */

/* Child: hold copies of every descriptor of the test until released (or 3 deadlines). */
static void holder_child(void *arg)
{
	int *release = arg;
	struct pollfd p = {release[0], POLLIN, 0};

	close(release[1]);
	poll(&p, 1, 3 * CALL_MS);
	_exit(0);
}

START_TEST(test_stop_cleans_up)
{
	static struct stop_call c;
	uint8_t out[16], arg[8];
	struct manager *m;
	struct stat st;
	int idle, release[2], got, left, status;
	size_t len;
	pid_t pid, holder;

	begin();
	m = start(SOCK);
	pid = m->pid;
	idle = raw_connect(SOCK);
	put64(arg, 3);
	ck_assert_msg(raw_call(idle, MGR_SET, "x", arg, 8, NULL, 0, &len, "SET x 3") == 0,
		      "SET x 3 failed.");
	/* A child forked after the start holds copies of every descriptor, stopfd too. */
	xpipe(release);
	holder = proc_run(holder_child, release);
	close(release[0]);
	stop_begin(&c, m);
	if (!stop_joined(&c, CALL_MS)) {
		close(release[1]); /* the holder leaves: its copies close */
		proc_wait_timeout(holder, NULL, CALL_MS);
		if (stop_joined(&c, CALL_MS))
			ck_abort_msg("manager_stop() hung until a child process, forked after "
				     "manager_start(), exited: that child held a copy of stopfd, "
				     "and close() only drops yours. shutdown(stopfd, SHUT_WR) ends "
				     "the stream for every copy.");
		close(idle);
		got = stop_joined(&c, CALL_MS);
		if (!got) {
			kill(pid, SIGKILL);
			stop_joined(&c, CALL_MS);
		}
		ck_abort_msg("manager_stop() had not returned after %d s%s", 3 * CALL_MS / 1000,
			     got ? ", until the connected client left: the manager waited for "
				   "its clients. It must end at the stop without waiting for "
				   "them (_exit() ends every thread)."
				 : ": does the manager poll() its end of the stop channel and "
				   "_exit() at end of file?");
	}
	close(release[1]);
	proc_wait_timeout(holder, NULL, CALL_MS);
	ck_assert_msg(c.ret == 0,
		      "manager_stop() returned %d (errno %s), expected 0, the "
		      "manager's exit status after a clean stop.",
		      c.ret, ename(c.err));
	ck_assert_msg(waitpid(pid, &status, WNOHANG) < 0 && errno == ECHILD,
		      "after manager_stop() the manager process %d was not reaped: waitpid() it.",
		      (int)pid);
	left = proc_count_children(0);
	ck_assert_msg(left == 0,
		      "manager_stop() returned while %d process%s that the manager started %s "
		      "still running: a manager must not fork per client (each would serve its "
		      "own copy of the namespace), and nothing of it may outlive the stop.",
		      left, left > 1 ? "es" : "", left > 1 ? "were" : "was");
	ck_assert_msg(lstat(SOCK, &st) < 0 && errno == ENOENT,
		      "manager_stop() left the socket file %s: unlink() it, or the next manager "
		      "meets a stale file.",
		      SOCK);
	got = get_frame(idle, out, sizeof(out), &len, CALL_MS);
	ck_assert_msg(got == 0 || (got < 0 && errno == ECONNRESET),
		      "a client connected during the stop still had an open connection after "
		      "manager_stop() returned: the manager's threads must end with it.");
	close(idle);
	ck_assert_msg(mgr_connect(SOCK) < 0, "a client could still connect after the stop.");
}
END_TEST

START_TEST(test_second_manager)
{
	char longpath[MGR_PATH_MAX + 8], text[16] = "";
	struct manager *m, *m2;
	struct stat st;
	int fd, fds, kids, file;
	int64_t v;

	begin();
	m = start(SOCK);
	fd = client(SOCK);
	MUST(mgr_set(fd, "who", 1), "mgr_set(fd, \"who\", 1)");
	fds = proc_count_fds(0);
	kids = proc_count_children(0);
	m2 = manager_start(SOCK);
	if (m2) {
		manager_stop(m2);
		ck_abort_msg("a second manager_start(\"%s\") succeeded while a manager was "
			     "running there: it removed a live manager's socket file. Before you "
			     "unlink a socket, connect() to it: if that succeeds, the path is in "
			     "use (EADDRINUSE).",
			     SOCK);
	}
	ck_assert_msg(errno == EADDRINUSE,
		      "a second manager_start() on a path in use failed "
		      "with errno %s, expected EADDRINUSE.",
		      ename(errno));
	ck_assert_msg(proc_count_fds(0) == fds && proc_count_children(0) == kids,
		      "the failed manager_start() left %d descriptors and %d processes behind: "
		      "check the path before fork(), and close what you opened.",
		      proc_count_fds(0) - fds, proc_count_children(0) - kids);
	ck_assert_msg(lstat(SOCK, &st) == 0 && S_ISSOCK(st.st_mode),
		      "the failed manager_start() removed the running manager's socket file.");
	mgr_close(fd);
	fd = client(SOCK);
	v = must_get(fd, "who");
	ck_assert_msg(v == 1, "the first manager no longer answers as before (\"who\" read %lld).",
		      (long long)v);
	mgr_close(fd);
	stop(m);
	/* A file that is not a socket is never removed. */
	file = open("plain.sock", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	io_writen(file, "keep me", 7);
	close(file);
	m2 = manager_start("plain.sock");
	if (m2)
		manager_stop(m2);
	file = open("plain.sock", O_RDONLY);
	if (file >= 0) {
		io_readn(file, text, 7);
		close(file);
	}
	unlink("plain.sock");
	ck_assert_msg(!m2 && errno == EADDRINUSE && strcmp(text, "keep me") == 0,
		      "manager_start() on a path that names a regular file %s (errno %s); "
		      "expected NULL with EADDRINUSE, and the file left as it was (it read "
		      "\"%s\"): remove only a socket file.",
		      m2 ? "succeeded" : "failed", m2 ? "-" : ename(errno), text);
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	m2 = manager_start(longpath);
	ck_assert_msg(!m2 && errno == ENAMETOOLONG,
		      "manager_start() of a path of %zu bytes returned %s (errno %s), expected "
		      "NULL with ENAMETOOLONG: never cut a path short.",
		      strlen(longpath), m2 ? "a manager" : "NULL", ename(errno));
}
END_TEST

/* Child: start a manager and die without stopping it. */
static void owner_child(void *arg)
{
	struct manager *m = manager_start(SOCK);

	(void)arg;
	sh->owner_err = errno;
	sh->mpid = m ? m->pid : 0;
	_exit(0);
}

START_TEST(test_owner_dies)
{
	struct manager *m;
	struct stat st;
	int status, fd;
	pid_t owner, mpid;

	begin();
	owner = proc_run(owner_child, NULL);
	ck_assert_msg(proc_wait_timeout(owner, NULL, CALL_MS) == 0,
		      "manager_start() in a child process had not returned after %d s.",
		      CALL_MS / 1000);
	mpid = sh->mpid;
	ck_assert_msg(mpid > 0, "manager_start() in a child process failed (errno %s).",
		      ename(sh->owner_err));
	/* The owner is gone; its manager, re-parented to us, must end by itself. */
	if (proc_wait_timeout(mpid, &status, CALL_MS) < 0) {
		kill(mpid, SIGKILL);
		xwaitpid(mpid, NULL, 0);
		unlink(SOCK);
		ck_abort_msg("the process that started a manager died without manager_stop(); "
			     "%d s later its manager still ran. The owner's death must close the "
			     "stop channel: the manager must close the owner's end right after "
			     "fork() (or its own copy keeps the channel open), and stop at end of "
			     "file.",
			     CALL_MS / 1000);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "after its owner died, %s (expected _exit(0) at end of file).",
		      death(status));
	/* What it leaves, a socket file nobody listens on, must not stop the next manager. */
	if (lstat(SOCK, &st) < 0)
		close(raw_listen(SOCK)); /* bound, closed, never unlinked: stale */
	m = manager_start(SOCK);
	ck_assert_msg(m != NULL,
		      "manager_start() on a stale socket file (left by a manager whose owner "
		      "died: nobody listens on it) returned NULL (errno %s): connect() to it "
		      "fails with ECONNREFUSED, then unlink() it and bind.",
		      ename(errno));
	fd = client(SOCK);
	MUST(mgr_set(fd, "x", 2), "mgr_set() on the manager started over a stale file");
	mgr_close(fd);
	stop(m);
}
END_TEST

/* ==== The lost-update experiment: mgr_race() ==== */

/* Check the fake's record of mgr_race(nprocs, times, way). */
static void check_race_record(int nprocs, int times, enum mgr_race_way way)
{
	int racers = 0, parent = 0, bad = -1;
	const char *how = way == MGR_RACE_ADD ? "MGR_RACE_ADD" : "MGR_RACE_GET_SET";

	for (int i = 0; i < sh->nconns; i++) {
		int get = ops_of(i, MGR_GET), set = ops_of(i, MGR_SET), add = ops_of(i, MGR_ADD);

		if (get == 1 && set == 1 && add == 0 && !parent)
			parent = 1;
		else if (way == MGR_RACE_ADD ? add == times && get == 0 && set == 0
					     : get == times && set == times && add == 0)
			racers++;
		else if (bad < 0)
			bad = i;
	}
	ck_assert_msg(racers == nprocs && parent && bad < 0,
		      "mgr_race(%d processes, %d times, %s) made %d connections: %d with the "
		      "expected %d %s, %s the parent's SET and GET. Expected one connection for "
		      "the parent (SET to 0, then GET) and one of its own for each child; a "
		      "connection shared by processes mixes their answers.",
		      nprocs, times, how, sh->nconns, racers, times,
		      way == MGR_RACE_ADD ? "ADDs" : "GET and SET pairs",
		      parent ? "with" : "without");
	ck_assert_msg(!sh->hold_timed_out,
		      "mgr_race() with %d processes: the test's manager held every child's first "
		      "request until all %d were waiting, and 4 s later they were not: the "
		      "children ran one after another. fork() them all first, then waitpid() "
		      "them all.",
		      nprocs, nprocs);
}

START_TEST(test_race_experiment)
{
	struct manager *m;
	int64_t total = -1;
	int r;
	pid_t fake;

	begin();
	fake = fake_start(4);
	r = mgr_race(FAKE, "race", 4, 50, MGR_RACE_ADD, &total);
	if (sh->nconns > 0)
		check_race_record(4, 50, MGR_RACE_ADD);
	ck_assert_msg(r == 0 && total == 200,
		      "mgr_race(4 processes, 50 times, MGR_RACE_ADD) returned %d (errno %s) with "
		      "the total %lld, expected 0 and 200.",
		      r, ename(errno), (long long)total);
	fake_stop(fake);
	memset(sh, 0, sizeof(*sh));
	fake = fake_start(4);
	r = mgr_race(FAKE, "race", 4, 50, MGR_RACE_GET_SET, &total);
	check_race_record(4, 50, MGR_RACE_GET_SET);
	ck_assert_msg(r == 0, "mgr_race(4, 50, MGR_RACE_GET_SET) returned %d (errno %s).", r,
		      ename(errno));
	fake_stop(fake);
	/* On the real manager, ADD loses nothing. */
	m = start(SOCK);
	r = mgr_race(SOCK, "hits", 4, 200, MGR_RACE_ADD, &total);
	ck_assert_msg(r == 0 && total == 800,
		      "on your manager, mgr_race(4 processes, 200 times, MGR_RACE_ADD) returned %d "
		      "(errno %s) with the total %lld, expected 800.",
		      r, ename(errno), (long long)total);
	r = mgr_race(SOCK, "hits", 0, 1, MGR_RACE_ADD, &total);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "mgr_race() with 0 processes returned %d (errno %s), expected -1 with "
		      "EINVAL.",
		      r, ename(errno));
	r = mgr_race(SOCK, "hits", MGR_RACE_MAX + 1, 1, MGR_RACE_ADD, &total);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "mgr_race() with MGR_RACE_MAX + 1 processes returned %d (errno %s), expected "
		      "-1 with EINVAL.",
		      r, ename(errno));
	stop(m);
}
END_TEST

void suite_define(void)
{
	/* Core: one namespace, one process, the protocol. */
	SUITE_TEST(test_get_set_roundtrip, 2,
		   "Can a second client, or another process, see what the first one set?\n"
		   "One manager process owns the namespace; every connection reaches that one "
		   "copy: unix(7), fork(2).\n"
		   "bind() and listen() before fork(); serve with threads sharing the table, "
		   "never a process per client.");
	SUITE_TEST(test_protocol_server, 2,
		   "What does your manager do with two frames that arrive in one recv()?\n"
		   "A stream keeps no boundaries: read exactly 4 bytes, then exactly the length: "
		   "recv(2), unix(7).\n"
		   "Loop recv(fd, buf + done, n - done, 0) until n; answer a bad request with "
		   "status EPROTO.");
	SUITE_TEST(test_client_wire_format, 2,
		   "Count the requests mgr_add() and mgr_append() send.\n"
		   "One operation is one request, laid out as manager.h says, values big-endian: "
		   "endian(3).\n"
		   "Build op, name length, name, htobe64(value); mgr_add sends MGR_ADD, never GET "
		   "then SET.");
	SUITE_TEST(test_unknown_name, 2,
		   "What does your manager do when a name is not in its table?\n"
		   "A failed lookup is an answer (status ENOENT or EINVAL), not a crash: the "
		   "connection goes on.\n"
		   "If find(name) returns NULL, answer ENOENT; the wrong kind, EINVAL.");

	/* Concurrency: the lost update, the lost append, many clients at once. */
	SUITE_TEST_EX(
	    test_add_concurrent, 3, 15, 0,
	    "Where does the addition happen: in the client or in the manager?\n"
	    "A get then a set from two clients loses updates; one request done under the "
	    "manager's lock does not: pthread_mutex_lock(3).\n"
	    "mgr_add sends one MGR_ADD; the manager locks, adds, reads the value, unlocks, "
	    "answers.");
	SUITE_TEST_EX(test_append_concurrent, 2, 10, 0,
		      "Does mgr_append() fetch the list and set it back?\n"
		      "The list a client fetches is a copy; setting it back overwrites what others "
		      "appended meanwhile.\n"
		      "Send one MGR_APPEND; the manager appends under its lock.");
	SUITE_TEST(test_concurrent_clients, 2,
		   "Can your manager answer client B while client A is connected but silent?\n"
		   "A server that reads one client until it leaves serves one at a time: "
		   "pthread_create(3) or poll(2).\n"
		   "In the accept loop, start a thread per client (detached) and go back to "
		   "poll()/accept().");

	/* The copy. */
	SUITE_TEST(test_list_is_copy, 2,
		   "Does mgr_list() hand out the same buffer every time?\n"
		   "What a client fetches is a copy it owns: changing it changes nothing in the "
		   "manager, and no later call may change it.\n"
		   "malloc() a new array for every call (at least 1 byte) and let the caller "
		   "free() it.");

	/* Robustness. */
	SUITE_TEST(test_framing_faults, 2,
		   "What if send() or recv() moves only part of a frame, or fails with EINTR?\n"
		   "Short counts and EINTR are normal results, on both sides: send(2), recv(2), "
		   "signal(7).\n"
		   "Loop from buf + done until n bytes are through; on EINTR call again.");
	SUITE_TEST(test_client_vanishes, 2,
		   "What happens to your manager when it answers a client that has gone?\n"
		   "Sending to a closed socket raises SIGPIPE, which kills the process: send(2) "
		   "MSG_NOSIGNAL, recv(2) returning 0.\n"
		   "send(fd, buf, n, MSG_NOSIGNAL); on EPIPE, a torn frame or end of stream, "
		   "close that client only.");

	/* The manager's life. */
	SUITE_TEST_EX(test_stop_cleans_up, 2, 15, 0,
		      "Does manager_stop() return while a client is connected and a child holds "
		      "copies of your descriptors?\n"
		      "close() drops one copy; shutdown() ends the stream for all; _exit() ends "
		      "every thread: shutdown(2), _exit(2).\n"
		      "shutdown(stopfd, SHUT_WR), waitpid(), close(stopfd), unlink(path); the "
		      "manager _exit(0)s at end of file.");
	SUITE_TEST(test_second_manager, 2,
		   "What does manager_start() do when the path is taken?\n"
		   "A socket file may belong to a live manager: ask it (connect) before you remove "
		   "anything: unix(7), lstat(2).\n"
		   "lstat: not a socket → EADDRINUSE; connect() succeeds → EADDRINUSE; "
		   "ECONNREFUSED → unlink and bind.");
	SUITE_TEST_EX(
	    test_owner_dies, 2, 10, 0,
	    "Who still holds the owner's end of the stop channel after fork()?\n"
	    "End of file comes only when every copy of the other end is closed, the "
	    "manager's own copy too: socketpair(2).\n"
	    "In the child: close(sv[0]) first; stop when poll() says sv[1] is readable. At "
	    "the start, replace a stale socket.");

	/* The experiment. */
	SUITE_TEST_EX(test_race_experiment, 2, 15, 0,
		      "Do your children run at the same time, each on its own connection?\n"
		      "A connection carries one conversation; children started and waited for one "
		      "by one never race: fork(2).\n"
		      "Fork all nprocs children, each calling mgr_connect() itself, then waitpid() "
		      "them all.");
}
