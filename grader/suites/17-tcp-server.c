/*
 * The hidden suite of lab 17: a TCP server and its client, on 127.0.0.1.
 *
 * Every test uses real TCP connections on the loopback interface, on ports
 * the kernel picks (port 0), so that tests never collide. The peer at the
 * other end is the test's own code. What a wrong solution gets wrong is made
 * to show deterministically, never by a stopwatch:
 *  - concurrency: the test's handler (or the test's server) holds every
 *    request until all of them have arrived, so that a server or a client
 *    that works one connection at a time is left waiting and reported;
 *  - partial reads: the peer sends the next piece only once /proc/net/tcp
 *    shows that the previous one was read;
 *  - SIGPIPE: a client half-closes, then resets its connection while the
 *    handler still holds its request, so that the server's send() meets a
 *    dead peer for sure;
 *  - SO_REUSEADDR: the old server's connection is in TIME_WAIT (checked)
 *    when the new one binds the same port.
 * Every call that a wrong solution could block in has a deadline, so that a
 * hang is reported with its cause rather than as a timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "suite.h"
#include "tcpserver.h"

#define CALL_MS (2000 * slow) /* how long one call of the student's may take */
#define HOLD_MS (1500 * slow) /* how long a held request waits for the others */
#define CLIENTS 20            /* connections held open at once against the server */
#define FETCHES 8             /* requests tcp_fetch_all() must have in flight at once */
#define BIG     100000        /* bytes of the large reply */

/* TCP states, as /proc/net/tcp writes them. */
enum { TCP_ANY = 0, TCP_TIME_WAIT = 0x06, TCP_CLOSE_WAIT = 0x08, TCP_LISTENING = 0x0A };

/* What the test and the server's threads or processes share: one anonymous shared page. */
struct shared {
	atomic_int arrived; /* held requests that reached the handler */
	atomic_int inside;  /* held requests in the handler right now */
	atomic_int most;    /* the most held requests seen in the handler at once */
	atomic_int give_up; /* the test has its verdict: held requests are answered at once */
	atomic_int entered; /* the "wait" request reached the handler */
	atomic_int release; /* the test lets it be answered */
};

static struct shared *sh;
static int slow = 1; /* 4 under the sanitizer, which slows everything down */

/* ==== Small helpers ==== */

static unsigned char pattern_at(size_t i)
{
	return (unsigned char)(((uint32_t)i * 2654435761u) >> 24);
}

/*
 * Every test begins here. The sandbox limits the address space to 1 GiB, and
 * glibc gives each new thread that calls malloc() an arena of its own, 64 MiB
 * reserved: past about 15 such threads, pthread_create() fails with EAGAIN.
 * Two arenas are plenty for a test, and leave room for every connection's
 * thread.
 */
static void begin(void)
{
	mallopt(M_ARENA_MAX, 2);
	slow = getenv("IPCLAB_SANITIZER") ? 4 : 1;
	if (!sh) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
		ck_assert_msg(sh != MAP_FAILED, "suite: mmap failed");
	}
	memset(sh, 0, sizeof(*sh));
}

static int fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Sleep 1 ms at a time while cond holds, for at most ms. Returns whether cond stopped. */
#define WAIT_WHILE(cond, ms)                                                                       \
	({                                                                                         \
		uint64_t until_ = clock_now_ns() + (uint64_t)(ms)*1000000;                         \
		while ((cond) && clock_now_ns() < until_)                                          \
			usleep(1000);                                                              \
		!(cond);                                                                           \
	})

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

static int put_str(int fd, const char *s)
{
	return put_bytes(fd, s, strlen(s));
}

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static uint16_t port_of(int fd, int peer)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&a, &len) < 0)
		return 0;
	return ntohs(a.sin_port);
}

/* A client connected to 127.0.0.1:port, giving up reads after CALL_MS; -1 if refused. */
static int client(uint16_t port)
{
	struct sockaddr_in a = loopback(port);
	struct timeval tv = {CALL_MS / 1000, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0), saved;

	if (fd < 0)
		err_die("socket:");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* A listening socket of the test's own, on a port the kernel picks. */
static int test_listen(uint16_t *port)
{
	struct sockaddr_in a = loopback(0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 64) < 0)
		err_die("suite: listen:");
	*port = port_of(fd, 0);
	return fd;
}

/* A reply read until end of file, a reset, or CALL_MS without a byte. */
struct reply {
	char buf[512]; /* what came (NUL-terminated, cut at 511 bytes) */
	size_t len;    /* how many bytes came */
	int end;       /* 0: end of file; else the errno that ended it (EAGAIN: timeout) */
};

static void read_reply(int fd, struct reply *r)
{
	char tmp[512];
	ssize_t got;

	r->len = 0;
	for (;;) {
		got = recv(fd, tmp, sizeof(tmp), 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (r->len < sizeof(r->buf) - 1)
			memcpy(r->buf + r->len, tmp,
			       (size_t)got < sizeof(r->buf) - 1 - r->len
				   ? (size_t)got
				   : sizeof(r->buf) - 1 - r->len);
		r->len += (size_t)got;
	}
	r->buf[r->len < sizeof(r->buf) ? r->len : sizeof(r->buf) - 1] = '\0';
	r->end = got == 0 ? 0 : errno;
}

/* ==== /proc/net/tcp ==== */

/*
 * How many TCP sockets of this network namespace have local port lport,
 * remote port rport (0: any) and state (TCP_ANY: any); the receive queue of
 * the last one found (bytes arrived, not read yet) goes in *rxq.
 */
static int tcp_count(uint16_t lport, uint16_t rport, int state, unsigned long *rxq)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[256];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned la, lp, ra, rp, st;
		unsigned long txq, rq;

		if (sscanf(line, " %*d: %x:%x %x:%x %x %lx:%lx", &la, &lp, &ra, &rp, &st, &txq,
			   &rq) != 7)
			continue;
		if (lp != lport || (rport && rp != rport) || (state && (int)st != state))
			continue;
		n++;
		if (rxq)
			*rxq = rq;
	}
	fclose(f);
	return n;
}

/* Wait until the peer of fd has read everything sent to it (at most CALL_MS). */
static void wait_peer_read(int fd)
{
	uint16_t me = port_of(fd, 0), peer = port_of(fd, 1);

	unsigned long rxq = 0;

	/* /proc/net/tcp, not the peer's descriptor: that one belongs to the student's threads. */
	WAIT_WHILE(tcp_count(peer, me, TCP_ANY, &rxq) > 0 && rxq > 0, CALL_MS);
	usleep(500); /* a pause: the peer finds nothing and waits */
}

/* ==== The test's handler ==== */

/* A held request: wait until CLIENTS of them are in the handler, or HOLD_MS. */
static ssize_t hold(char *reply, size_t cap)
{
	int now = atomic_fetch_add(&sh->inside, 1) + 1, most = atomic_load(&sh->most);
	int together;

	while (now > most && !atomic_compare_exchange_weak(&sh->most, &most, now))
		;
	atomic_fetch_add(&sh->arrived, 1);
	WAIT_WHILE(atomic_load(&sh->arrived) < CLIENTS && !atomic_load(&sh->give_up), HOLD_MS);
	together = atomic_load(&sh->arrived) >= CLIENTS;
	atomic_fetch_sub(&sh->inside, 1);
	return snprintf(reply, cap, together ? "together\n" : "alone\n");
}

/* The test's handler: "hold", "wait", or anything else, answered in upper case. */
static ssize_t handler(void *arg, const char *req, char *reply, size_t cap)
{
	size_t n = strlen(req);

	(void)arg;
	if (strcmp(req, "hold") == 0)
		return hold(reply, cap);
	if (strcmp(req, "wait") == 0) {
		atomic_store(&sh->entered, 1);
		WAIT_WHILE(!atomic_load(&sh->release), CALL_MS);
	}
	if (n + 1 > cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		reply[i] = (char)(req[i] >= 'a' && req[i] <= 'z' ? req[i] - 32 : req[i]);
	reply[n] = '\n';
	return (ssize_t)n + 1;
}

/* ==== The student's server, on a thread of the test ==== */

struct server {
	int lfd;          /* the listening socket: tcp_serve() owns it */
	uint16_t port;    /* its port */
	int stop[2];      /* a byte written to stop[1] stops the server */
	pthread_t thread; /* the thread running tcp_serve() */
	atomic_int done;  /* tcp_serve() has returned */
	int ret;          /* what it returned */
	int err;          /* errno after it */
};

static struct server srv; /* static: a hung server thread may outlive the test's frames */

static void *serve_thread(void *p)
{
	struct server *s = p;

	errno = 0;
	s->ret = tcp_serve(s->lfd, s->stop[0], handler, NULL);
	s->err = errno;
	atomic_store(&s->done, 1);
	return NULL;
}

/* Run tcp_serve() on lfd (listening on port) on a thread of the test. */
static void server_run(struct server *s, int lfd, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	s->lfd = lfd;
	s->port = port;
	xpipe(s->stop);
	xpthread_create(&s->thread, serve_thread, s);
}

/* tcp_listen(0) must work; then run tcp_serve() on it. */
static void server_start(struct server *s)
{
	uint16_t port = 0;
	int lfd = tcp_listen(0, &port);

	ck_assert_msg(lfd >= 0 && port != 0,
		      "tcp_listen(0, &port) returned %d (errno %s) with port %u, expected a "
		      "listening socket and the port the kernel chose.",
		      lfd, err_name(errno), port);
	server_run(s, lfd, port);
}

/* Wait up to ms for tcp_serve() to return; 1 when it did (then it is joined). */
static int server_wait(struct server *s, long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	return pthread_timedjoin_np(s->thread, NULL, &until) == 0;
}

/* Make stopfd readable; tcp_serve() must return 0 within CALL_MS. */
static void server_stop(struct server *s)
{
	int listening;

	if (write(s->stop[1], "x", 1) != 1)
		err_die("suite: write:");
	if (!server_wait(s, CALL_MS)) {
		listening = tcp_count(s->port, 0, TCP_LISTENING, NULL) > 0;
		ck_abort_msg("tcp_serve() had not returned %d s after stopfd became readable: %s",
			     CALL_MS / 1000,
			     listening
				 ? "the port still listens, so it never saw the stop. Wait for "
				   "lfd and stopfd together with poll(), never in a blocking "
				   "accept() alone."
				 : "it closed lfd but is still waiting for a connection that does "
				   "not end. Does every connection's thread close its socket and "
				   "return?");
	}
	close(s->stop[0]);
	close(s->stop[1]);
	ck_assert_msg(s->ret == 0, "tcp_serve() returned %d (errno %s) after a stop, expected 0.",
		      s->ret, err_name(s->err));
}

/* Send req on a new connection; the reply must be expect, then end of file. */
static void expect_reply(uint16_t port, const char *req, const char *expect)
{
	struct reply r;
	int fd = client(port);

	ck_assert_msg(fd >= 0, "connect() to the server's port %u failed (errno %s).", port,
		      err_name(errno));
	put_str(fd, req);
	read_reply(fd, &r);
	close(fd);
	ck_assert_msg(r.len > 0 || r.end != EAGAIN,
		      "no reply to \"%.*s\" within %d s: read the request up to its '\\n', call "
		      "the handler, send what it wrote.",
		      (int)strcspn(req, "\n"), req, CALL_MS / 1000);
	ck_assert_msg(strcmp(r.buf, expect) == 0,
		      "the reply to \"%.*s\" was \"%s\" (%zu bytes), expected \"%.*s\": send the "
		      "handler's whole reply.",
		      (int)strcspn(req, "\n"), req, r.buf, r.len, (int)strcspn(expect, "\n"),
		      expect);
	ck_assert_msg(r.end == 0,
		      "the reply to \"%.*s\" came, but the connection was not closed after it "
		      "(%s): the client reads until end of file, so close the connection once the "
		      "reply is sent.",
		      (int)strcspn(req, "\n"), req,
		      r.end == EAGAIN ? "no end of file within 2 s" : err_name(r.end));
}

/* ==== The listening socket ==== */

START_TEST(test_listen_port0)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	uint16_t port = 0, other = 0, again = 0;
	int lfd, lfd2, fd, nfds;

	begin();
	lfd = tcp_listen(0, &port);
	ck_assert_msg(lfd >= 0, "tcp_listen(0, &port) returned %d (errno %s).", lfd,
		      err_name(errno));
	getsockname(lfd, (struct sockaddr *)&a, &len);
	ck_assert_msg(a.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
		      "the socket is bound to %s, expected 127.0.0.1: INADDR_ANY would let the "
		      "whole network reach the server. Bind htonl(INADDR_LOOPBACK).",
		      inet_ntoa(a.sin_addr));
	ck_assert_msg(port != 0 && port == ntohs(a.sin_port),
		      "tcp_listen(0, &port) stored %u, but the socket is bound to port %u: after "
		      "bind(), getsockname() tells the port the kernel chose; store "
		      "ntohs(sin_port)%s.",
		      port, ntohs(a.sin_port),
		      port == a.sin_port ? " (you stored it in network byte order)" : "");
	fd = client(port);
	ck_assert_msg(fd >= 0,
		      "connect() to 127.0.0.1:%u failed (errno %s): listen() after bind().", port,
		      err_name(errno));
	close(fd);
	lfd2 = tcp_listen(0, &other);
	ck_assert_msg(lfd2 >= 0 && other != port,
		      "a second tcp_listen(0) returned %d with port %u (the first got %u), "
		      "expected another free port.",
		      lfd2, other, port);
	close(lfd2);
	nfds = proc_count_fds(0);
	lfd2 = tcp_listen(port, &again);
	ck_assert_msg(lfd2 == -1 && errno == EADDRINUSE,
		      "tcp_listen(%u) while another socket listens on that port returned %d (errno "
		      "%s), expected -1 with EADDRINUSE.",
		      port, lfd2, lfd2 < 0 ? err_name(errno) : "-");
	ck_assert_msg(
	    proc_count_fds(0) == nfds,
	    "tcp_listen() failed but left its socket open: close it before returning -1.");
	close(lfd);
}
END_TEST

/* ==== The server ==== */

START_TEST(test_serve_one)
{
	begin();
	server_start(&srv);
	expect_reply(srv.port, "hello\n", "HELLO\n");
	expect_reply(srv.port, "bytes after\nthe newline are not the request", "BYTES AFTER\n");
	server_stop(&srv);
	ck_assert_msg(!fd_is_open(srv.lfd),
		      "tcp_serve() returned but the listening socket (fd %d) is still open: it "
		      "owns lfd and closes it when it stops, which frees the port.",
		      srv.lfd);
	suite_check_leaks("tcp_serve()");
}
END_TEST

/*
 * The grader makes the server's own recv() and send() calls come back short
 * or fail with EINTR, as a loaded machine may: the request must still be read
 * to its newline and the reply sent whole.
 */
START_TEST(test_serve_survives_injected_faults)
{
	begin();
	server_start(&srv);
	fault_inject(FAULT_SHORT_IO | FAULT_EINTR, 1);
	expect_reply(srv.port, "a request long enough to come in pieces\n",
		     "A REQUEST LONG ENOUGH TO COME IN PIECES\n");
	fault_stop();
	server_stop(&srv);
	suite_check_leaks("tcp_serve()");
}
END_TEST

START_TEST(test_serve_dribbled_request)
{
	static const char *const piece[] = {"hel", "lo, wor", "ld", "\n"};
	struct reply r;
	int fd;

	begin();
	server_start(&srv);
	fd = client(srv.port);
	for (int i = 0; i < 4; i++) {
		put_str(fd, piece[i]);
		wait_peer_read(fd); /* the server has read this piece before the next is sent */
	}
	read_reply(fd, &r);
	close(fd);
	server_stop(&srv);
	ck_assert_msg(strcmp(r.buf, "HELLO, WORLD\n") == 0,
		      "the request \"hello, world\\n\" came in four pieces, each sent once the "
		      "server had read the one before; the reply was \"%s\", expected "
		      "\"HELLO, WORLD\\n\": recv() returns what has arrived. Keep receiving until "
		      "the '\\n'.",
		      r.buf);
}
END_TEST

/* CLIENTS connections, each with a held request; 1 if all were answered "together". */
static int hold_clients(uint16_t port, int *answered, struct reply *bad)
{
	int fds[CLIENTS], ok = 1;

	for (int i = 0; i < CLIENTS; i++) {
		fds[i] = client(port);
		ck_assert_msg(fds[i] >= 0, "connection %d of %d was refused (errno %s).", i + 1,
			      CLIENTS, err_name(errno));
		put_str(fds[i], "hold\n");
	}
	*answered = 0;
	for (int i = 0; i < CLIENTS && ok; i++) {
		read_reply(fds[i], bad);
		ok = strcmp(bad->buf, "together\n") == 0 && bad->end == 0;
		*answered += ok;
	}
	atomic_store(&sh->give_up, 1); /* the verdict is in: let held requests go */
	for (int i = 0; i < CLIENTS; i++)
		close(fds[i]);
	return ok;
}

START_TEST(test_serve_concurrent)
{
	struct reply r;
	int answered, ok;

	begin();
	server_start(&srv);
	ok = hold_clients(srv.port, &answered, &r);
	server_stop(&srv);
	ck_assert_msg(ok || strcmp(r.buf, "together\n") != 0,
		      "the reply came, but the connection was not closed after it: the client "
		      "reads until end of file, so close the connection once the reply is sent.");
	ck_assert_msg(ok,
		      "%d clients connected at once, each request held by the handler until all "
		      "%d had reached it; at most %d were in the handler at the same time, and a "
		      "reply was \"%s\"%s. The server serves one connection at a time: accept the "
		      "next connection while others are being served — a thread (or a child "
		      "process) for each.",
		      CLIENTS, CLIENTS, atomic_load(&sh->most),
		      r.len ? strtok(r.buf, "\n") : "(none)", r.len ? "" : " within 2 s");
	suite_check_leaks("tcp_serve()");
}
END_TEST

START_TEST(test_serve_restart)
{
	uint16_t port, again = 0;
	int lfd, waiting;

	begin();
	server_start(&srv);
	port = srv.port;
	expect_reply(port, "first\n", "FIRST\n"); /* the server closes first: its side waits */
	server_stop(&srv);
	waiting = tcp_count(port, 0, TCP_TIME_WAIT, NULL);
	lfd = tcp_listen(port, &again);
	ck_assert_msg(lfd >= 0,
		      "tcp_listen(%u) right after the old server on port %u stopped returned %d "
		      "(errno %s), while %d of its connections are in TIME_WAIT (they stay there "
		      "for 60 s): set SO_REUSEADDR on the socket before bind().",
		      port, port, lfd, err_name(errno), waiting);
	ck_assert_msg(again == port, "tcp_listen(%u) stored the port %u.", port, again);
	server_run(&srv, lfd, port);
	expect_reply(port, "second\n", "SECOND\n");
	server_stop(&srv);
}
END_TEST

/* A request in progress at the stop ("wait" is held): the stop must let it finish. */
static void stop_during_request(struct reply *r)
{
	int fd = client(srv.port);

	put_str(fd, "wait\n");
	ck_assert_msg(WAIT_WHILE(!atomic_load(&sh->entered), CALL_MS),
		      "the request \"wait\" never reached the handler.");
	if (write(srv.stop[1], "x", 1) != 1)
		err_die("suite: write:");
	ck_assert_msg(WAIT_WHILE(tcp_count(srv.port, 0, TCP_LISTENING, NULL) > 0, CALL_MS),
		      "%d s after stopfd became readable, port %u still listens: once stopfd is "
		      "readable, stop accepting and close lfd (poll() both).",
		      CALL_MS / 1000, srv.port);
	ck_assert_msg(!WAIT_WHILE(!atomic_load(&srv.done), 300),
		      "tcp_serve() returned while a connection was still being served (its "
		      "handler had not answered yet): wait for every connection to finish — join "
		      "each thread (reap each child) — before returning.");
	ck_assert_msg(client(srv.port) < 0 && errno == ECONNREFUSED,
		      "after the stop, a new client could still connect to port %u.", srv.port);
	atomic_store(&sh->release, 1);
	read_reply(fd, r);
	close(fd);
}

START_TEST(test_serve_stop)
{
	struct sockaddr_in a;
	struct reply r;
	uint16_t port;
	int fd, one = 1;

	begin();
	server_start(&srv);
	server_stop(&srv); /* no client at all: poll() sees the stop */
	server_start(&srv);
	port = srv.port;
	stop_during_request(&r);
	ck_assert_msg(server_wait(&srv, CALL_MS),
		      "tcp_serve() had not returned %d s after its last connection ended.",
		      CALL_MS / 1000);
	ck_assert_msg(strcmp(r.buf, "WAIT\n") == 0 && r.end == 0,
		      "a request in progress when the server stopped got the reply \"%s\" (%s), "
		      "expected \"WAIT\\n\" then end of file: the stop closes lfd, but lets the "
		      "connections in progress finish.",
		      r.buf, r.end ? err_name(r.end) : "end of file");
	close(srv.stop[0]);
	close(srv.stop[1]);
	ck_assert_msg(srv.ret == 0, "tcp_serve() returned %d (errno %s), expected 0.", srv.ret,
		      err_name(srv.err));
	suite_check_leaks("tcp_serve()");
	a = loopback(port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ck_assert_msg(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0,
		      "after tcp_serve() returned, port %u could not be bound again (errno %s).",
		      port, err_name(errno));
	close(fd);
}
END_TEST

/* The server in a child process of its own, so that a SIGPIPE shows as its death. */
static pid_t server_child(struct server *s)
{
	pid_t pid;

	memset(s, 0, sizeof(*s));
	s->lfd = tcp_listen(0, &s->port);
	ck_assert_msg(s->lfd >= 0, "tcp_listen(0) returned %d (errno %s).", s->lfd,
		      err_name(errno));
	xpipe(s->stop);
	pid = xfork();
	if (pid == 0) {
		close(s->stop[1]);
		signal(SIGPIPE, SIG_DFL); /* the default, which kills: as in a real server */
		_exit(tcp_serve(s->lfd, s->stop[0], handler, NULL) == 0 ? 0 : 1);
	}
	close(s->lfd);
	close(s->stop[0]);
	return pid;
}

static const char *death(int status)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE)
		return "the server was killed by SIGPIPE: it sent a reply to a client that had "
		       "reset its connection. Send with MSG_NOSIGNAL (or ignore SIGPIPE), and take "
		       "EPIPE as the end of that client only.";
	if (WIFSIGNALED(status))
		return "the server was killed by a signal (a crash?).";
	return "the server's process exited: tcp_serve() returned -1, or your code called "
	       "exit(). A client's trouble must end only its own connection.";
}

/* Fail if the server child has died; what names the moment. */
static void check_alive(pid_t pid, const char *what)
{
	int status;

	if (waitpid(pid, &status, WNOHANG) == pid)
		ck_abort_msg("%s, %s", what, death(status));
}

/* Wait until the server closes fd (end of file or a reset), watching it live. */
static int closed_by_server(int fd, pid_t pid)
{
	struct pollfd p = {fd, POLLIN, 0};
	char buf[4096];
	ssize_t r;

	for (int t = 0; t < CALL_MS / 10; t++) {
		check_alive(pid, "while a bad client waited");
		if (poll(&p, 1, 10) <= 0)
			continue;
		r = recv(fd, buf, sizeof(buf), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return 1;
	}
	return 0;
}

/* The client that leaves while its request is held: FIN, then RST. */
static void reset_during_reply(uint16_t port, pid_t pid)
{
	struct linger abort_close = {1, 0};
	int fd = client(port);
	uint16_t me = port_of(fd, 0);

	put_str(fd, "wait\n");
	WAIT_WHILE((check_alive(pid, "before the reset client's request was handled"),
		    !atomic_load(&sh->entered)),
		   CALL_MS);
	ck_assert_msg(atomic_load(&sh->entered), "the request \"wait\" never reached the handler.");
	shutdown(fd, SHUT_WR);
	WAIT_WHILE(tcp_count(port, me, TCP_CLOSE_WAIT, NULL) < 1, CALL_MS);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
	close(fd); /* a reset: the server's socket is dead before its reply goes out */
	WAIT_WHILE(tcp_count(port, me, TCP_ANY, NULL) > 0, CALL_MS);
	atomic_store(&sh->release, 1);
}

START_TEST(test_serve_bad_clients)
{
	struct linger abort_close = {1, 0};
	struct reply r = {.buf = ""};
	struct server s;
	char junk[2000];
	pid_t pid;
	int fd, status;

	begin();
	pid = server_child(&s);
	fd = client(s.port);
	put_str(fd, "GET /half");
	shutdown(fd, SHUT_WR);
	ck_assert_msg(closed_by_server(fd, pid),
		      "a client sent half a request and closed its side; %d s later the server "
		      "still held the connection: recv() returning 0 before the '\\n' means no "
		      "request will come. Close it.",
		      CALL_MS / 1000);
	close(fd);
	fd = client(s.port);
	put_str(fd, "GET /reset");
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
	close(fd);
	fd = client(s.port);
	memset(junk, 'x', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	put_str(fd, junk);
	ck_assert_msg(closed_by_server(fd, pid),
		      "a client sent %zu bytes without a '\\n'; the server neither replied nor "
		      "closed: a line longer than TCP_LINE_MAX is no request. Close it (and never "
		      "read past your buffer).",
		      sizeof(junk) - 1);
	close(fd);
	reset_during_reply(s.port, pid);
	fd = client(s.port);
	if (fd >= 0) {
		put_str(fd, "still alive\n");
		read_reply(fd, &r);
		close(fd);
	}
	if (fd < 0 || strcmp(r.buf, "STILL ALIVE\n") != 0) {
		if (proc_wait_timeout(pid, &status, CALL_MS) == 0)
			ck_abort_msg("after a client reset its connection while its request was "
				     "being handled, %s",
				     death(status));
		ck_abort_msg("after the bad clients, a good client got %s \"%s\", expected "
			     "\"STILL ALIVE\\n\": a client's trouble ends its own connection only.",
			     fd < 0 ? "its connection refused and" : "the reply", r.buf);
	}
	if (write(s.stop[1], "x", 1) != 1)
		err_die("suite: write:");
	close(s.stop[1]);
	ck_assert_msg(proc_wait_timeout(pid, &status, CALL_MS) == 0,
		      "the server had not returned %d s after the stop.", CALL_MS / 1000);
	ck_assert_msg(status == 0, "%s", death(status));
}
END_TEST

/* ==== The test's servers, for the client ==== */

static atomic_int fetch_returned; /* the client call under test has returned */

/* How the test's server answers. */
enum gather_mode {
	GATHER,      /* wait until every request has arrived, then answer them all */
	HOLD_OTHERS, /* the same, but answer "long" first and the others 500 ms later */
	DRIBBLE,     /* one connection at a time, the reply in pieces */
};

struct gather {
	int lfd;                       /* the test's listening socket */
	int expect;                    /* requests to gather before any reply */
	enum gather_mode mode;         /* how to answer */
	int arrived;                   /* requests that had arrived when replies went out */
	int early;                     /* HOLD_OTHERS: the client returned in those 500 ms */
	char lines[TCP_FETCH_MAX][64]; /* the requests as they came, '\n' included */
	pthread_t thread;              /* the thread serving */
};

/* What the test's server answers to req. */
static void answer(int fd, const char *req, int dribble)
{
	static unsigned char big[BIG];
	char buf[96];

	if (strcmp(req, "big\n") == 0) {
		for (size_t i = 0; i < BIG; i++)
			big[i] = pattern_at(i);
		put_bytes(fd, big, BIG);
		return;
	}
	if (strcmp(req, "long\n") == 0) {
		memset(buf, 'y', 90);
		buf[90] = '\0';
	} else {
		snprintf(buf, sizeof(buf), "done %.*s\n", (int)strcspn(req, "\n"), req);
	}
	if (!dribble || strcmp(req, "long\n") == 0) {
		put_str(fd, buf);
		return;
	}
	for (size_t i = 0, n = strlen(buf); i < n; i += 2) { /* two bytes at a time */
		char two[3] = {buf[i], i + 1 < n ? buf[i + 1] : '\0', '\0'};

		put_str(fd, two);
		wait_peer_read(fd);
	}
}

/* Read a line from fd into line (64 bytes); 1 once its '\n' is in, 0 not yet, -1 gone. */
static int take_line(int fd, char *line)
{
	size_t used = strlen(line);
	ssize_t r = recv(fd, line + used, 63 - used, MSG_DONTWAIT);

	if (r <= 0)
		return r < 0 && errno == EAGAIN ? 0 : -1;
	line[used + (size_t)r] = '\0';
	return strchr(line, '\n') != NULL || used + (size_t)r == 63;
}

/* Accept and read requests until g->expect have arrived or HOLD_MS passed. */
static int gather_requests(struct gather *g, int *fds, int *got)
{
	struct pollfd p[1 + TCP_FETCH_MAX];
	uint64_t until = clock_now_ns() + HOLD_MS * 1000000ull;
	int n = 0, complete = 0;

	while (complete < g->expect && clock_now_ns() < until) {
		p[0] = (struct pollfd){g->lfd, n < g->expect ? POLLIN : 0, 0};
		for (int i = 0; i < n; i++)
			p[1 + i] = (struct pollfd){fds[i], got[i] ? 0 : POLLIN, 0};
		if (poll(p, (nfds_t)(1 + n), 10) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			fds[n] = accept(g->lfd, NULL, NULL);
			got[n] = 0;
			g->lines[n][0] = '\0';
			n += fds[n] >= 0;
		}
		for (int i = 0; i < n; i++) {
			if (!got[i] && (p[1 + i].revents & (POLLIN | POLLHUP))) {
				got[i] = take_line(fds[i], g->lines[i]);
				complete += got[i] == 1;
			}
		}
	}
	g->arrived = complete;
	return n;
}

/* Serve connection i alone: its request, then the reply in pieces. 0 if none came. */
static int dribble_one(struct gather *g, int i)
{
	struct pollfd p = {g->lfd, POLLIN, 0};
	int fd, r = 0;

	if (poll(&p, 1, CALL_MS) <= 0)
		return 0;
	fd = accept(g->lfd, NULL, NULL);
	for (int t = 0; fd >= 0 && t < CALL_MS && (r = take_line(fd, g->lines[i])) == 0; t++)
		usleep(1000);
	if (r == 1)
		answer(fd, g->lines[i], 1);
	close(fd);
	return 1;
}

/* The thread of the test's server: gather, then answer every request. */
static void *gather_thread(void *p)
{
	struct gather *g = p;
	int fds[TCP_FETCH_MAX], got[TCP_FETCH_MAX], n;

	if (g->mode == DRIBBLE) {
		for (int i = 0; i < g->expect && dribble_one(g, i); i++)
			;
		return NULL;
	}
	n = gather_requests(g, fds, got);
	close(g->lfd); /* clients not yet accepted are refused from now on */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < n; i++) {
			if (g->mode == HOLD_OTHERS && (strcmp(g->lines[i], "long\n") == 0) == pass)
				continue; /* first "long" alone, then the others */
			if (got[i] == 1)
				answer(fds[i], g->lines[i], 0);
			close(fds[i]);
		}
		if (g->mode != HOLD_OTHERS)
			break;
		/* A client that returns now, with requests unanswered, did not join them all. */
		if (pass == 0)
			g->early = WAIT_WHILE(!atomic_load(&fetch_returned), 500);
	}
	return NULL;
}

static uint16_t gather_start(struct gather *g, int expect, enum gather_mode mode)
{
	uint16_t port;

	memset(g, 0, sizeof(*g));
	g->lfd = test_listen(&port);
	g->expect = expect;
	g->mode = mode;
	xpthread_create(&g->thread, gather_thread, g);
	return port;
}

/* ==== Client calls with a deadline ==== */

struct fetch_call {
	int all;               /* 1: tcp_fetch_all, 0: tcp_fetch */
	uint16_t port;         /* the server's port */
	const char *req;       /* tcp_fetch's request */
	char *reply;           /* its buffer */
	size_t cap;            /* its room */
	size_t len;            /* the length it stored */
	struct tcp_request *r; /* tcp_fetch_all's requests */
	int n;                 /* how many */
	int ret;               /* what it returned */
	int err;               /* errno after it */
};

static void *fetch_thread(void *p)
{
	struct fetch_call *c = p;

	errno = 0;
	if (c->all)
		c->ret = tcp_fetch_all(c->port, c->r, c->n);
	else
		c->ret = tcp_fetch(c->port, c->req, c->reply, c->cap, &c->len);
	c->err = errno;
	atomic_store(&fetch_returned, 1);
	return NULL;
}

/* Make the call c on a helper thread; fail if it has not returned within 2 * CALL_MS. */
static int fetch_within(struct fetch_call *c, const char *what)
{
	static struct fetch_call copy; /* static: a hung thread may outlive this frame */
	struct timespec until;
	pthread_t t;

	copy = *c;
	atomic_store(&fetch_returned, 0);
	xpthread_create(&t, fetch_thread, &copy);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2 * CALL_MS / 1000;
	ck_assert_msg(pthread_timedjoin_np(t, NULL, &until) == 0,
		      "%s had not returned after %d s: read the reply until recv() returns 0, "
		      "the server's end of file.",
		      what, 2 * CALL_MS / 1000);
	*c = copy;
	errno = c->err;
	return c->ret;
}

static int fetch(uint16_t port, const char *req, char *reply, size_t cap, size_t *len)
{
	struct fetch_call c = {.port = port, .req = req, .reply = reply, .cap = cap};
	int r = fetch_within(&c, "tcp_fetch()");

	*len = c.len;
	return r;
}

static void gather_join(struct gather *g)
{
	pthread_join(g->thread, NULL);
	if (g->mode == DRIBBLE)
		close(g->lfd);
}

/* ==== The client ==== */

/* A port where nothing listens: bound by a socket that does not listen, kept by *holder. */
static uint16_t dead_port(int *holder)
{
	struct sockaddr_in a = loopback(0);

	*holder = socket(AF_INET, SOCK_STREAM, 0);
	if (*holder < 0 || bind(*holder, (struct sockaddr *)&a, sizeof(a)) < 0)
		err_die("suite: bind:");
	return port_of(*holder, 0);
}

static void check_fetch_errors(void)
{
	char buf[64];
	size_t len;
	int holder, r, nfds = proc_count_fds(0);

	r = fetch(dead_port(&holder), "anyone?", buf, sizeof(buf), &len);
	ck_assert_msg(r == -1 && errno == ECONNREFUSED,
		      "tcp_fetch() to a port where nothing listens returned %d (errno %s), "
		      "expected -1 with ECONNREFUSED.",
		      r, r < 0 ? err_name(errno) : "-");
	close(holder);
	r = fetch(1, "two\nlines", buf, sizeof(buf), &len);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "tcp_fetch() of a request holding a '\\n' returned %d (errno %s), expected "
		      "-1 with EINVAL: the server would see two requests.",
		      r, r < 0 ? err_name(errno) : "-");
	ck_assert_msg(proc_count_fds(0) == nfds,
		      "tcp_fetch() failed and left a socket open: close it on every path.");
}

START_TEST(test_fetch_one)
{
	static char big[BIG];
	char hello[64], small[64];
	struct gather g;
	uint16_t port;
	size_t len = 0, len2 = 0, len3 = 0;
	long bad = -1;
	int r, r2, r3, e, e2, e3;

	begin();
	port = gather_start(&g, 3, DRIBBLE);
	r = fetch(port, "hello", hello, sizeof(hello), &len);
	e = errno;
	r2 = fetch(port, "big", big, BIG, &len2);
	e2 = errno;
	memset(small, 0x5a, sizeof(small));
	r3 = fetch(port, "long", small, 50, &len3);
	e3 = errno;
	gather_join(&g);
	ck_assert_msg(g.lines[0][0] != '\0',
		      "the server received no request: tcp_fetch(port, \"hello\", ...) returned %d "
		      "(errno %s). Connect to 127.0.0.1:port and send \"hello\\n\".",
		      r, r < 0 ? err_name(e) : "-");
	ck_assert_msg(strcmp(g.lines[0], "hello\n") == 0,
		      "tcp_fetch(port, \"hello\", ...) sent \"%s\", expected \"hello\\n\": the "
		      "request line and its '\\n', nothing more.",
		      g.lines[0]);
	ck_assert_msg(r == 0 && len == 11 && memcmp(hello, "done hello\n", 11) == 0,
		      "the server sent \"done hello\\n\" two bytes at a time, each pair once the "
		      "one before was read; tcp_fetch() returned %d (errno %s) with %zu bytes "
		      "\"%.*s\": receive until recv() returns 0, not once.",
		      r, r < 0 ? err_name(e) : "-", len, (int)(len < 40 ? len : 40), hello);
	for (size_t i = 0; r2 == 0 && i < len2 && bad < 0; i++)
		bad = big[i] != (char)pattern_at(i) ? (long)i : -1;
	r = r2;
	len = len2;
	errno = e2;
	ck_assert_msg(r == 0 && len == BIG && bad < 0,
		      "a %d-byte reply into a %d-byte buffer: tcp_fetch() returned %d (errno %s) "
		      "with %zu bytes (first wrong byte %ld), expected all of them: a reply of "
		      "exactly cap bytes fits.",
		      BIG, BIG, r, r < 0 ? err_name(errno) : "-", len, bad);
	for (size_t i = 50; i < sizeof(small); i++)
		ck_assert_msg(small[i] == 0x5a, "tcp_fetch() wrote past reply + cap (a 90-byte "
						"reply, cap 50).");
	ck_assert_msg(r3 == -1 && e3 == EMSGSIZE,
		      "a 90-byte reply, cap 50: tcp_fetch() returned %d (errno %s, %zu bytes), "
		      "expected -1 with EMSGSIZE.",
		      r3, r3 < 0 ? err_name(e3) : "-", len3);
	check_fetch_errors();
}
END_TEST

/* n requests "job 0".. with replies of cap bytes; r[i] and its buffer bufs[i]. */
static void make_jobs(struct tcp_request *r, char (*bufs)[64], char (*reqs)[16], int n)
{
	for (int i = 0; i < n; i++) {
		snprintf(reqs[i], sizeof(reqs[i]), "job %d", i);
		r[i] = (struct tcp_request){reqs[i], bufs[i], 64, 999, -1};
	}
}

START_TEST(test_fetch_all_concurrent)
{
	struct tcp_request r[FETCHES];
	char bufs[FETCHES][64], reqs[FETCHES][16], want[64];
	struct fetch_call c = {.all = 1, .r = r, .n = FETCHES};
	struct gather g;
	int ret;

	begin();
	make_jobs(r, bufs, reqs, FETCHES);
	c.port = gather_start(&g, FETCHES, GATHER);
	ret = fetch_within(&c, "tcp_fetch_all()");
	gather_join(&g);
	ck_assert_msg(g.arrived > 0,
		      "no request reached the server: tcp_fetch_all() returned %d (errno %s).", ret,
		      ret < 0 ? err_name(errno) : "-");
	ck_assert_msg(g.arrived == FETCHES,
		      "the server waited for all %d requests before answering any; only %d had "
		      "arrived after %d ms: tcp_fetch_all() made them one after another. Start a "
		      "thread for every request first, then join them all.",
		      FETCHES, g.arrived, HOLD_MS);
	ck_assert_msg(ret == 0, "tcp_fetch_all() returned %d (errno %s), expected 0.", ret,
		      err_name(errno));
	for (int i = 0; i < FETCHES; i++) {
		snprintf(want, sizeof(want), "done job %d\n", i);
		ck_assert_msg(
		    r[i].err == 0 && r[i].len == strlen(want) &&
			memcmp(bufs[i], want, r[i].len) == 0,
		    "request %d (\"%s\") got err %d and %zu bytes \"%.*s\", expected \"%s\" "
		    "in its own buffer.",
		    i, reqs[i], r[i].err, r[i].len, (int)(r[i].len < 40 ? r[i].len : 40), bufs[i],
		    want);
	}
	suite_check_leaks("tcp_fetch_all()");
}
END_TEST

START_TEST(test_fetch_all_errors)
{
	struct tcp_request r[4];
	char bufs[4][64], reqs[4][16];
	struct fetch_call c = {.all = 1, .r = r, .n = 4};
	struct gather g;
	int ret, holder;

	begin();
	make_jobs(r, bufs, reqs, 4);
	r[0].req = "long"; /* a 90-byte reply into 64 bytes, answered before the others */
	c.port = gather_start(&g, 4, HOLD_OTHERS);
	ret = fetch_within(&c, "tcp_fetch_all()");
	gather_join(&g);
	ck_assert_msg(ret == -1 && errno == EMSGSIZE && r[0].err == EMSGSIZE,
		      "request 0's reply does not fit its buffer: tcp_fetch_all() returned %d "
		      "(errno %s) with r[0].err %d, expected -1, errno EMSGSIZE and r[0].err "
		      "EMSGSIZE (%d).",
		      ret, ret < 0 ? err_name(errno) : "-", r[0].err, EMSGSIZE);
	ck_assert_msg(!g.early || g.arrived < 4,
		      "tcp_fetch_all() returned as soon as request 0 failed, while requests 1, 2 "
		      "and 3 were still waiting for their replies: join every thread before "
		      "returning, whatever became of the others.");
	for (int i = 1; i < 4; i++)
		ck_assert_msg(r[i].err == 0 && r[i].len == 11,
			      "request %d failed (err %d, %zu bytes) because request 0 did: each "
			      "request has its own outcome.",
			      i, r[i].err, r[i].len);
	c = (struct fetch_call){.all = 1, .port = dead_port(&holder), .r = r, .n = 4};
	ret = fetch_within(&c, "tcp_fetch_all() to a dead port");
	close(holder);
	ck_assert_msg(ret == -1 && errno == ECONNREFUSED && r[3].err == ECONNREFUSED,
		      "every request refused: tcp_fetch_all() returned %d (errno %s), r[3].err "
		      "%d, expected -1 with ECONNREFUSED, and every request made.",
		      ret, ret < 0 ? err_name(errno) : "-", r[3].err);
	c = (struct fetch_call){.all = 1, .port = 1, .r = r, .n = TCP_FETCH_MAX + 1};
	ret = fetch_within(&c, "tcp_fetch_all() of too many");
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "tcp_fetch_all() of TCP_FETCH_MAX + 1 requests returned %d (errno %s), "
		      "expected -1 with EINVAL.",
		      ret, ret < 0 ? err_name(errno) : "-");
	suite_check_leaks("tcp_fetch_all()");
}
END_TEST

void suite_define(void)
{
	/* The listening socket. */
	SUITE_TEST(test_listen_port0, 2,
		   "Which address do you bind, and which port did port 0 give you?\n"
		   "Port 0 lets the kernel pick a free port; getsockname(2) tells which, in "
		   "network byte order: ip(7), byteorder(3).\n"
		   "Bind htonl(INADDR_LOOPBACK) and htons(port), listen(fd, SOMAXCONN), then "
		   "getsockname() and *bound = ntohs(addr.sin_port).");

	/* The server. */
	SUITE_TEST(test_serve_one, 2,
		   "What does your server read, what does it send, and what then?\n"
		   "The request is one line ending in '\\n'; the reply ends when the server closes "
		   "the connection: close(2) is its end of file.\n"
		   "Read the line to its '\\n', NUL-terminate it in its place, send the handler's "
		   "reply whole, close the connection.");
	SUITE_TEST(test_serve_dribbled_request, 1,
		   "Does one recv() bring the whole request line?\n"
		   "TCP is a byte stream: recv(2) returns what has arrived so far, maybe part of a "
		   "line: tcp(7).\n"
		   "Keep calling recv(fd, buf + got, room, 0) until a '\\n' is in buf, end of "
		   "file, or TCP_LINE_MAX bytes.");
	SUITE_TEST(
	    test_serve_survives_injected_faults, 1,
	    "What if recv() or send() moves only part of what you asked, or fails with EINTR?\n"
	    "Short counts and EINTR are normal results of recv(2) and send(2), not errors: "
	    "signal(7).\n"
	    "Loop both: on EINTR call again; after a short send, carry on from buf + done until "
	    "the whole reply is sent.");
	SUITE_TEST(test_serve_concurrent, 3,
		   "Can your server accept a client while it is still serving another?\n"
		   "A server that reads one client to its end serves one at a time; a thread per "
		   "connection lets accept(2) go on: pthread_create(3).\n"
		   "After accept(), start a thread for the connection (its own malloc'd argument) "
		   "and go back to poll() at once.");
	SUITE_TEST(test_serve_restart, 2,
		   "Why does bind() fail right after the old server has gone?\n"
		   "Connections of the old server linger in TIME_WAIT and hold the port unless "
		   "SO_REUSEADDR is set before bind(2): socket(7), tcp(7).\n"
		   "setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) between socket() "
		   "and bind().");
	SUITE_TEST(test_serve_stop, 2,
		   "While waiting in accept(), how does your server notice the stop?\n"
		   "poll(2) waits on several descriptors at once; accept(2) alone waits only for a "
		   "client.\n"
		   "poll() lfd and stopfd; when stopfd is readable, close lfd at once, then join "
		   "every connection's thread and return 0.");
	SUITE_TEST(test_serve_bad_clients, 2,
		   "What happens to your server when a client resets while you send its reply?\n"
		   "Sending to a vanished peer raises SIGPIPE, which kills the process unless "
		   "MSG_NOSIGNAL: send(2); recv(2) may fail with ECONNRESET.\n"
		   "send(..., MSG_NOSIGNAL); on EPIPE, ECONNRESET, end of file before '\\n' or a "
		   "line too long, close that connection only.");

	/* The client. */
	SUITE_TEST(
	    test_fetch_one, 2,
	    "What do you send, when is the reply over, and is your socket closed on every path?\n"
	    "The server closes after its reply: recv(2) returning 0 is the end; a reply longer "
	    "than cap must not overflow.\n"
	    "Send the line and its '\\n', then recv() until 0; more than cap is EMSGSIZE; close "
	    "the socket on every path.");
	SUITE_TEST(test_fetch_all_concurrent, 3,
		   "Is the second request sent before the first reply has come?\n"
		   "pthread_join(3) waits for the thread to end: creating and joining in one loop "
		   "makes the requests one after another.\n"
		   "Start every thread first, each calling tcp_fetch() for r[i], then join them "
		   "all in a second loop.");
	SUITE_TEST(test_fetch_all_errors, 1,
		   "When one request fails, are the others still made and every thread joined?\n"
		   "Each request keeps its own outcome; a failure is reported after everything is "
		   "joined, not by stopping early.\n"
		   "Store each errno in r[i].err; make and join all; return -1 with errno = the "
		   "first failed r[i].err; n > TCP_FETCH_MAX is EINVAL first.");
}
