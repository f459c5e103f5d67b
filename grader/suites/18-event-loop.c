/*
 * The hidden suite of lab 18: an event loop on epoll, and an echo server on
 * top of it that serves every client from one thread.
 *
 * The loop's tests run its scenarios in a child process of the test, so that
 * a loop that never returns is stopped at a deadline and reported with what
 * it was waiting for. The server's tests run the student's server in a
 * child process too (loop_create, echo_start, loop_run), and drive it from
 * the test with real TCP clients on 127.0.0.1 — 500 of them at once, through
 * one poll() loop of the test's own. What a wrong server gets wrong is made
 * to show deterministically, never by a stopwatch:
 *  - the test looks into the server's process through /proc: its threads,
 *    its descriptors, and what its epoll instance watches each socket for
 *    (/proc/PID/fdinfo of the epoll descriptor), matched to the test's
 *    clients through /proc/net/tcp;
 *  - a connection burst waits in the backlog before the loop starts, so
 *    that one edge-triggered wake-up stands for all of it;
 *  - a client that never reads fills the server's socket for sure (the
 *    test waits until the server watches it for EPOLLOUT);
 *  - where the server hangs, /proc/PID/syscall says in which call.
 * Every wait has a deadline, so that a hang is reported with its cause.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventloop.h"
#include "fault.h"
#include "suite.h"

#define CALL_MS   (2000 * slow) /* how long the server may take to do one thing */
#define MANY      500           /* clients connected at once */
#define BURST     200           /* connections waiting in the backlog */
#define SLOW_MAX  (32u << 20)   /* the most a client that never reads may push */
#define FLOOD_MAX (64u << 20)   /* what a server with a bounded buffer never reads */
#define NTIMERS   7             /* timers of the timers test */
#define FD_SCAN   2048          /* descriptors looked at: the sandbox's limit */

/* TCP states, as /proc/net/tcp writes them. */
enum { TCP_ANY = 0, TCP_LISTENING = 0x0A };

/* What the test and its child processes share: one anonymous shared page. */
struct shared {
	char note[600]; /* a child's verdict: empty when all went well */
	char hang[400]; /* what a child is waiting for, should it never return */
	/* The loop scenarios. */
	int calls[4];            /* callbacks called, for each of four watched descriptors */
	uint32_t revents[4];     /* the events of the last call */
	int wrong_args;          /* a callback got a loop, fd or ctx that was not its own */
	int order[NTIMERS + 4];  /* the timers, in the order they fired */
	int nfired;              /* how many fired */
	uint64_t due[NTIMERS];   /* each timer's deadline, ns */
	uint64_t fired[NTIMERS]; /* when it fired, ns */
	int watchdog;            /* the watchdog stopped the loop */
	int spins;               /* the 0 ms timer's rounds */
	/* The server child. */
	atomic_int ready;     /* echo_start() has returned */
	uint16_t port;        /* the port it bound (0: it failed) */
	int start_err;        /* errno when it failed */
	int run_ret, run_err; /* loop_run()'s result */
	int leaked;           /* descriptors left open after echo_stop() and loop_free() */
	char leaks[200];      /* which */
	int faults;           /* faults injected into the server's calls */
	char fault_text[256]; /* in words */
};

/* A client of the test's, with the bytes it sends and what came back. */
struct peer {
	int fd;       /* its socket, non-blocking */
	unsigned id;  /* whose pattern it sends */
	size_t total; /* bytes to send in all */
	size_t sent;  /* sent so far */
	size_t got;   /* echoed so far */
	long bad;     /* the offset of the first wrong byte of the echo, or -1 */
	int bad_got;  /* the byte that came there */
	int gone;     /* end of file or an error came before the whole echo */
	unsigned rng; /* for the sizes of its sends */
	int sfd;      /* the server's descriptor for this connection: -1 not known yet */
};

struct server {
	pid_t pid;     /* the server's process: 0 when none runs */
	uint16_t port; /* its port */
	int go;        /* a byte here lets its loop start */
	int stop;      /* closing this stops it */
};

static struct shared *sh;
static struct server srv;
static int slow = 1;  /* 4 under the sanitizer, which slows everything down */
static uint64_t seed; /* this run's seed, for the clients' bytes */

/* ==== Small helpers ==== */

static void kill_server(void)
{
	if (srv.pid > 0) {
		kill(srv.pid, SIGKILL);
		waitpid(srv.pid, NULL, 0);
		srv.pid = 0;
	}
}

/* Every test begins here. */
static void begin(void)
{
	static int once;

	slow = getenv("IPCLAB_SANITIZER") ? 4 : 1;
	seed = (uint64_t)suite_seed() << 40;
	if (!once) {
		once = 1;
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
		ck_assert_msg(sh != MAP_FAILED, "suite: mmap failed");
		atexit(kill_server); /* a failed test leaves no server behind */
	}
	memset(sh, 0, sizeof(*sh));
	memset(&srv, 0, sizeof(srv));
}

/* Sleep 1 ms at a time while cond holds, for at most ms. Returns whether cond stopped. */
#define WAIT_WHILE(cond, ms)                                                                       \
	({                                                                                         \
		uint64_t until_ = clock_now_ns() + (uint64_t)(ms)*1000000;                         \
		while ((cond) && clock_now_ns() < until_)                                          \
			usleep(1000);                                                              \
		!(cond);                                                                           \
	})

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Byte k of what client id sends: no two clients, and no two places, alike. */
static unsigned char pattern(unsigned id, size_t k)
{
	uint64_t x = mix(seed ^ ((uint64_t)id << 48) ^ (k >> 3));

	return (unsigned char)(x >> (8 * (k & 7)));
}

/* Bytes off to off + n of what client id sends, into buf. */
static void fill(unsigned id, size_t off, unsigned char *buf, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t word = (off + i) >> 3;
		uint64_t x = mix(seed ^ ((uint64_t)id << 48) ^ word);

		for (; i < n && (off + i) >> 3 == word; i++)
			buf[i] = (unsigned char)(x >> (8 * ((off + i) & 7)));
	}
}

static void set_nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		err_die("suite: fcntl:");
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

static uint16_t local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return 0;
	return ntohs(a.sin_port);
}

/* A client connected to 127.0.0.1:port, with a receive buffer of rcvbuf (0: the default). */
static int client(uint16_t port, int rcvbuf)
{
	struct sockaddr_in a = loopback(port);
	struct timeval tv = {CALL_MS / 1000, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0), saved;

	if (fd < 0)
		err_die("suite: socket:");
	/* Before connect(): the buffer's size decides the window the client offers. */
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* bounds connect() too */
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static void put(int fd, const void *buf, size_t n)
{
	if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
		err_die("suite: send:");
}

/* Make a pipe's read end readable: one byte into its write end. */
static void poke(int fd)
{
	if (write(fd, "x", 1) != 1)
		err_die("suite: write:");
}

/* Read up to n bytes into buf within ms. Returns how many came; *eof: the server closed. */
static size_t take(int fd, char *buf, size_t n, long ms, int *eof)
{
	uint64_t until = clock_now_ns() + (uint64_t)ms * 1000000;
	size_t got = 0;

	*eof = 0;
	while (got < n && clock_now_ns() < until) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t r;

		if (poll(&p, 1, 10) <= 0)
			continue;
		r = recv(fd, buf + got, n - got, MSG_DONTWAIT);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0) {
			*eof = 1;
			break;
		}
		got += (size_t)r;
	}
	return got;
}

/* ==== Looking into the server's process ==== */

/*
 * The inode of the TCP socket of this network namespace with local port
 * lport, remote port rport (0: any) and state st (TCP_ANY: any); its local
 * address goes in *addr (as /proc/net/tcp writes it). 0 when there is none.
 */
static unsigned long tcp_inode(uint16_t lport, uint16_t rport, int st, unsigned *addr)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[256];
	unsigned long found = 0;

	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned la, lp, ra, rp, state;
		unsigned long inode;

		if (sscanf(line, " %*d: %x:%x %x:%x %x %*x:%*x %*x:%*x %*x %*u %*d %lu", &la, &lp,
			   &ra, &rp, &state, &inode) != 6)
			continue;
		if (lp != lport || (rport && rp != rport) || (st && (int)state != st))
			continue;
		found = inode ? inode : found;
		if (addr)
			*addr = la;
	}
	if (f)
		fclose(f);
	return found;
}

/* What descriptor fd of process pid is ("socket:[123]"), into buf; -1 if not open. */
static int fd_link(pid_t pid, int fd, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, buf, size - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The descriptor of process pid whose link reads want; -1 if none. */
static int fd_named(pid_t pid, const char *want)
{
	char path[64], link[128];
	struct dirent *e;
	DIR *d;
	int fd = -1;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	while (d && fd < 0 && (e = readdir(d)))
		if (e->d_name[0] != '.' && fd_link(pid, atoi(e->d_name), link, sizeof(link)) == 0 &&
		    strcmp(link, want) == 0)
			fd = atoi(e->d_name);
	if (d)
		closedir(d);
	return fd;
}

static int fd_of_socket(pid_t pid, unsigned long inode)
{
	char want[64];

	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	return inode ? fd_named(pid, want) : -1;
}

/*
 * What process pid's epoll instance watches fd for (its event mask, from
 * /proc/PID/fdinfo), -1 when fd is not watched, -2 when pid has no epoll
 * descriptor. With fd -1: how many descriptors it watches.
 */
static long watch_mask(pid_t pid, int fd)
{
	char path[64], line[256];
	int epfd = fd_named(pid, "anon_inode:[eventpoll]"), tfd, n = 0;
	unsigned events;
	long mask = -1;
	FILE *f;

	if (epfd < 0)
		return -2;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, epfd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "tfd: %d events: %x", &tfd, &events) != 2)
			continue;
		n++;
		if (tfd == fd)
			mask = events;
	}
	if (f)
		fclose(f);
	return fd == -1 ? n : mask;
}

/* What the server watches its side of the test's client cfd for: as watch_mask, -3 unaccepted. */
static long conn_mask(int cfd)
{
	int fd = fd_of_socket(srv.pid, tcp_inode(srv.port, local_port(cfd), TCP_ANY, NULL));

	return fd < 0 ? -3 : watch_mask(srv.pid, fd);
}

/* What process pid is doing, in words, from /proc/PID/syscall. */
static const char *doing(pid_t pid)
{
	static char text[160];
	char path[64], line[256] = "";
	long nr = -2;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f) && strncmp(line, "running", 7) != 0)
		nr = atol(line);
	if (f)
		fclose(f);
	if (strncmp(line, "running", 7) == 0)
		return "is running, not waiting in epoll_wait(): a loop that never ends, or a "
		       "busy loop retrying a call that says EAGAIN?";
	if (nr == SYS_accept4 || nr == SYS_accept)
		return "is blocked in accept(): with a blocking listening socket, the accept loop "
		       "waits there once the backlog is empty (create it with SOCK_NONBLOCK)";
	if (nr == SYS_read || nr == SYS_recvfrom || nr == SYS_recvmsg)
		return "is blocked in read()/recv() on a client that has nothing more to say: "
		       "accepted sockets must be non-blocking (accept4 with SOCK_NONBLOCK), and "
		       "read once a wake-up";
	if (nr == SYS_write || nr == SYS_sendto || nr == SYS_sendmsg)
		return "is blocked in write()/send() to a client that does not read: sockets must "
		       "be non-blocking, and what send() does not take waits in the buffer for "
		       "EPOLLOUT";
#ifdef SYS_epoll_wait
	if (nr == SYS_epoll_wait)
		return "waits in epoll_wait()";
#endif
	if (nr == SYS_epoll_pwait)
		return "waits in epoll_wait()";
	if (nr >= 0)
		snprintf(text, sizeof(text), "is in system call %ld", nr);
	else
		snprintf(text, sizeof(text), "could not be looked at");
	return text;
}

/* ==== Processes with a deadline ==== */

/* Called in a child: record the verdict and leave. */
static void child_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void child_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->note, sizeof(sh->note), fmt, ap);
	va_end(ap);
	_exit(1);
}

#define CHILD_CHECK(cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond))                                                                       \
			child_fail(__VA_ARGS__);                                                   \
	} while (0)

/* Say what the child waits for, in case it never comes. */
static void hang_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void hang_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->hang, sizeof(sh->hang), fmt, ap);
	va_end(ap);
}

/* Fail unless status is a clean exit; why, when not NULL, says what a crash usually means. */
static void check_status(int status, const char *who, const char *why)
{
	char text[96];

	proc_status_text(status, text, sizeof(text));
	ck_assert_msg(!WIFSIGNALED(status) || WTERMSIG(status) != SIGPIPE,
		      "%s was killed by SIGPIPE: it sent to a client that had gone. Send with "
		      "MSG_NOSIGNAL, and take EPIPE as the end of that connection only.",
		      who);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: %s%s%s%s", who, text,
		      !WIFSIGNALED(status) ? ""
		      : why                ? why
					   : " (a crash in your code?)",
		      sh->note[0] ? ": " : "", sh->note);
}

/* Run scenario in a child process; it must finish within ms, and well. */
static void run_scenario(void (*scenario)(void), long ms, const char *crash)
{
	int status;
	pid_t pid = xfork();

	if (pid == 0) {
		scenario();
		_exit(0);
	}
	if (proc_wait_timeout(pid, &status, ms) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ck_abort_msg("%s", sh->hang[0] ? sh->hang : "the loop never returned");
	}
	ck_assert_msg(sh->note[0] == '\0', "%s", sh->note);
	check_status(status, "the loop's process", crash);
}

/* ==== The loop ==== */

/* The ctx each watched descriptor is given: its number in sh->calls, and itself. */
struct tag {
	int id;            /* index in sh->calls */
	int fd;            /* the descriptor */
	struct loop *loop; /* the loop */
	int then;          /* what the callback does: enum below */
};

enum { STOP, DRAIN_STOP, MOD_STOP, DEL_OTHER };

static struct tag tags[4];

static void on_fd(struct loop *loop, int fd, uint32_t events, void *ctx)
{
	struct tag *t = ctx;
	char c;

	if (t < tags || t >= tags + 4 || t->fd != fd || t->loop != loop) {
		sh->wrong_args = 1;
		loop_stop(loop);
		return;
	}
	sh->calls[t->id]++;
	sh->revents[t->id] = events;
	if (t->then == DRAIN_STOP && read(fd, &c, 1) != 1)
		sh->wrong_args = 2;
	if (t->then == MOD_STOP && loop_mod_fd(loop, fd, EPOLLIN) < 0)
		child_fail("loop_mod_fd(loop, fd, EPOLLIN) on a watched descriptor returned -1 "
			   "(errno %s), expected 0.",
			   err_name(errno));
	if (t->then == DEL_OTHER) {
		struct tag *other = &tags[t->id ^ 1];

		if (loop_del_fd(loop, other->fd) < 0)
			child_fail("loop_del_fd() from a callback, of another watched descriptor, "
				   "returned -1 (errno %s), expected 0.",
				   err_name(errno));
		close(other->fd); /* as a server closes a connection it drops */
		other->fd = -1;
	}
	loop_stop(loop);
}

static struct tag *watch(struct loop *loop, int id, int fd, uint32_t events, int then)
{
	tags[id] = (struct tag){id, fd, loop, then};
	CHILD_CHECK(loop_add_fd(loop, fd, events, on_fd, &tags[id]) == 0,
		    "loop_add_fd(loop, %d, %s, cb, ctx) returned -1 (errno %s), expected 0.", fd,
		    events == EPOLLIN ? "EPOLLIN" : "EPOLLOUT", err_name(errno));
	return &tags[id];
}

static void run(struct loop *loop)
{
	int r = loop_run(loop);

	CHILD_CHECK(r == 0, "loop_run() returned %d (errno %s) after loop_stop(), expected 0.", r,
		    err_name(errno));
	CHILD_CHECK(!sh->wrong_args,
		    "a callback was called with a descriptor, loop or ctx that was not the one "
		    "given to loop_add_fd(): call watch[fd].cb(loop, fd, events, watch[fd].ctx).");
}

static void fd_events_scenario(void)
{
	struct loop *loop = loop_create();
	int a[2], b[2];

	CHILD_CHECK(loop, "loop_create() returned NULL (errno %s).", err_name(errno));
	xpipe(a);
	xpipe(b);
	poke(a[1]);
	watch(loop, 0, a[0], EPOLLIN, DRAIN_STOP);
	hang_note("a pipe with a byte to read was watched for EPOLLIN, and its callback calls "
		  "loop_stop(); loop_run() had not returned %d s later. Wait in epoll_wait(), then "
		  "call the callback of every descriptor it returns.",
		  CALL_MS / 1000);
	run(loop);
	CHILD_CHECK(sh->calls[0] == 1 && (sh->revents[0] & EPOLLIN),
		    "a readable pipe's callback was called %d times with events 0x%x, expected "
		    "once with EPOLLIN (0x%x), and loop_stop() ends the round.",
		    sh->calls[0], sh->revents[0], EPOLLIN);
	watch(loop, 1, a[1], EPOLLOUT, MOD_STOP); /* a pipe's write end is writable */
	hang_note("a pipe's write end (always writable) was watched for EPOLLOUT; loop_run() had "
		  "not returned %d s later.",
		  CALL_MS / 1000);
	run(loop);
	CHILD_CHECK(sh->calls[1] == 1 && (sh->revents[1] & EPOLLOUT),
		    "a writable pipe's callback was called %d times with events 0x%x, expected "
		    "once with EPOLLOUT (0x%x).",
		    sh->calls[1], sh->revents[1], EPOLLOUT);
	poke(b[1]);
	poke(a[1]);
	CHILD_CHECK(loop_del_fd(loop, a[0]) == 0,
		    "loop_del_fd() of a watched descriptor returned "
		    "-1 (errno %s), expected 0.",
		    err_name(errno));
	CHILD_CHECK(fcntl(a[0], F_GETFD) >= 0,
		    "loop_del_fd() closed the descriptor: it only stops watching it; the "
		    "descriptor belongs to the caller.");
	watch(loop, 2, b[0], EPOLLIN, STOP);
	hang_note("a readable pipe was watched, and its callback calls loop_stop(); loop_run() had "
		  "not returned %d s later.",
		  CALL_MS / 1000);
	run(loop);
	CHILD_CHECK(sh->calls[2] == 1,
		    "a readable pipe's callback was called %d times, expected 1.", sh->calls[2]);
	CHILD_CHECK(sh->calls[1] == 1,
		    "a pipe's write end was moved from EPOLLOUT to EPOLLIN with loop_mod_fd(), but "
		    "its callback was called again for EPOLLOUT: loop_mod_fd() must change what "
		    "epoll watches (epoll_ctl with EPOLL_CTL_MOD).");
	CHILD_CHECK(sh->calls[0] == 1,
		    "the callback of a descriptor removed with loop_del_fd() was called again when "
		    "it became readable: loop_del_fd() must stop watching it (EPOLL_CTL_DEL).");
	loop_free(loop);
}

/* The calls that fail, without running the loop. */
static void check_fd_errors(struct loop *loop)
{
	int p[2], f, r, n;

	xpipe(p);
	r = loop_add_fd(loop, p[0], EPOLLIN, NULL, NULL);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "loop_add_fd() with a NULL callback returned %d (errno %s), expected -1 with "
		      "EINVAL.",
		      r, r < 0 ? err_name(errno) : "-");
	ck_assert_msg(loop_add_fd(loop, p[0], EPOLLIN, on_fd, NULL) == 0,
		      "loop_add_fd() of a pipe returned -1 (errno %s).", err_name(errno));
	r = loop_add_fd(loop, p[0], EPOLLIN, on_fd, NULL);
	ck_assert_msg(r == -1 && errno == EEXIST,
		      "loop_add_fd() of a descriptor already watched returned %d (errno %s), "
		      "expected -1 with EEXIST.",
		      r, r < 0 ? err_name(errno) : "-");
	r = loop_mod_fd(loop, p[1], EPOLLOUT);
	ck_assert_msg(r == -1 && errno == ENOENT,
		      "loop_mod_fd() of a descriptor not watched returned %d (errno %s), expected "
		      "-1 with ENOENT.",
		      r, r < 0 ? err_name(errno) : "-");
	r = loop_del_fd(loop, p[1]);
	ck_assert_msg(r == -1 && errno == ENOENT,
		      "loop_del_fd() of a descriptor not watched returned %d (errno %s), expected "
		      "-1 with ENOENT.",
		      r, r < 0 ? err_name(errno) : "-");
	f = open("plain-file", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	unlink("plain-file");
	n = (int)watch_mask(getpid(), -1);
	r = loop_add_fd(loop, f, EPOLLIN, on_fd, NULL);
	ck_assert_msg(r == -1 && errno == EPERM,
		      "loop_add_fd() of a regular file returned %d (errno %s), expected -1 with "
		      "EPERM, as epoll_ctl() sets it: a file is always ready, epoll refuses it.",
		      r, r < 0 ? err_name(errno) : "-");
	ck_assert_msg(watch_mask(getpid(), -1) == n &&
			  loop_add_fd(loop, f, EPOLLIN, on_fd, NULL) < 0 && errno == EPERM,
		      "after loop_add_fd() of a regular file failed, something stayed registered: "
		      "on error, nothing is registered.");
	close(f);
	ck_assert_msg(loop_del_fd(loop, p[0]) == 0,
		      "loop_del_fd() of a watched pipe returned -1 (errno %s).", err_name(errno));
	close(p[0]);
	close(p[1]);
}

START_TEST(test_loop_fd_events)
{
	int before, after;
	struct loop *loop;
	char what[64] = "";

	begin();
	before = proc_count_fds(0);
	loop = loop_create();
	ck_assert_msg(loop != NULL, "loop_create() returned NULL (errno %s).", err_name(errno));
	after = proc_count_fds(0);
	ck_assert_msg(after == before + 1 && fd_named(getpid(), "anon_inode:[eventpoll]") >= 0,
		      "loop_create() opened %d descriptors (%s), expected one: an epoll instance "
		      "(epoll_create1).",
		      after - before,
		      proc_describe_fd(0, after - 1, what, sizeof(what)) == 0 ? what : "-");
	check_fd_errors(loop);
	loop_free(loop);
	run_scenario(fd_events_scenario, 2 * CALL_MS, NULL);
}
END_TEST

static void del_in_callback_scenario(void)
{
	struct loop *loop = loop_create();
	int a[2], b[2];

	CHILD_CHECK(loop, "loop_create() returned NULL (errno %s).", err_name(errno));
	xpipe(a);
	xpipe(b);
	poke(a[1]);
	poke(b[1]);
	/* Both readable before the loop runs: one epoll_wait() returns both. */
	watch(loop, 0, a[0], EPOLLIN, DEL_OTHER);
	watch(loop, 1, b[0], EPOLLIN, DEL_OTHER);
	hang_note("two readable pipes were watched; the first callback removes the other "
		  "descriptor and calls loop_stop(); loop_run() had not returned %d s later.",
		  CALL_MS / 1000);
	run(loop);
	CHILD_CHECK(sh->calls[0] + sh->calls[1] == 1,
		    "two pipes were ready in the same round; the first callback called removed the "
		    "other one with loop_del_fd() and closed it, yet its callback was called too "
		    "(%d and %d calls): an event that epoll_wait() returned before loop_del_fd() "
		    "must be skipped. Look the callback up again for each event, and find none.",
		    sh->calls[0], sh->calls[1]);
	loop_free(loop);
	close(a[1]);
	close(b[1]);
	close(tags[0].fd >= 0 ? tags[0].fd : tags[1].fd);
}

START_TEST(test_loop_del_in_callback)
{
	begin();
	run_scenario(del_in_callback_scenario, 2 * CALL_MS,
		     ", while two pipes were ready in the same round and the first callback had "
		     "removed the other pipe with loop_del_fd(): did loop_run() call the callback "
		     "of a descriptor that is no longer watched? Look each event's descriptor up "
		     "again just before its call, and skip it when it is gone.");
}
END_TEST

/* ==== Timers ==== */

static const long timer_ms[NTIMERS] = {45, 10, 25, 0, 15, 5, 0}; /* A..G; F and G come later */
static uint64_t timer_added[NTIMERS];

static void add_timer(struct loop *loop, int id);

static void on_timer(struct loop *loop, void *ctx)
{
	int id = (int)(intptr_t)ctx;

	if (sh->nfired < NTIMERS + 4)
		sh->order[sh->nfired++] = id;
	if (id < 0 || id >= NTIMERS) {
		sh->wrong_args = 1;
		loop_stop(loop);
		return;
	}
	sh->fired[id] = clock_now_ns();
	if (id == 2)
		add_timer(loop, 5); /* C adds F: a timer from a timer's callback */
	if (id == 0)
		add_timer(loop, 6); /* A, the last of the first five, adds G */
	if (sh->nfired == NTIMERS)
		loop_stop(loop); /* F or G, whichever comes last */
}

static void add_timer(struct loop *loop, int id)
{
	timer_added[id] = clock_now_ns();
	sh->due[id] = timer_added[id] + (uint64_t)timer_ms[id] * 1000000;
	CHILD_CHECK(loop_add_timer(loop, timer_ms[id], on_timer, (void *)(intptr_t)id) == 0,
		    "loop_add_timer(loop, %ld, cb, ctx) returned -1 (errno %s), expected 0.",
		    timer_ms[id], err_name(errno));
}

static void on_watchdog(struct loop *loop, int fd, uint32_t events, void *ctx)
{
	(void)fd;
	(void)events;
	(void)ctx;
	sh->watchdog = 1;
	loop_stop(loop);
}

/* A timerfd that becomes readable after ms, watched by the loop: it stops a loop whose timers fail. */
static int watchdog(struct loop *loop, long ms)
{
	struct itimerspec its = {.it_value = {ms / 1000, (ms % 1000) * 1000000}};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL) < 0)
		err_die("suite: timerfd:");
	CHILD_CHECK(loop_add_fd(loop, fd, EPOLLIN, on_watchdog, NULL) == 0,
		    "loop_add_fd() of a timerfd returned -1 (errno %s).", err_name(errno));
	return fd;
}

static const char *timer_names = "ABCDEFG";

static void check_timer_order(void)
{
	char got[NTIMERS + 5] = "";
	int n = sh->nfired < NTIMERS ? sh->nfired : NTIMERS, first = sh->order[0];

	for (int i = 0; i < sh->nfired && i < NTIMERS + 4; i++)
		got[i] = timer_names[sh->order[i]];
	CHILD_CHECK(n > 0 && (!sh->watchdog ||
			      sh->fired[first] - sh->due[first] < (uint64_t)CALL_MS * 500000),
		    "five timers due after 0 to 45 ms were added, and a timerfd that becomes "
		    "readable after %d s was watched: no timer fired before the timerfd woke the "
		    "loop (those that fired then: \"%s\"). epoll_wait()'s timeout must be the "
		    "time left until the earliest timer; -1 only when there is no timer.",
		    CALL_MS / 1000, got);
	for (int i = 1; i < n; i++)
		CHILD_CHECK(sh->due[sh->order[i - 1]] <= sh->due[sh->order[i]],
			    "the timers fired in the order \"%s\", but %c was due %.1f ms before "
			    "%c: timers fire in the order of their deadlines (a min-heap on the "
			    "deadline), not in the order they were added.",
			    got, got[i],
			    (double)(sh->due[sh->order[i - 1]] - sh->due[sh->order[i]]) / 1e6,
			    got[i - 1]);
	CHILD_CHECK(sh->nfired == NTIMERS,
		    "the timers fired in the order \"%s\" within %d s; expected all seven, "
		    "\"DBECFAG\": the five added before loop_run(), F added by C's callback, G by "
		    "A's.",
		    got, CALL_MS / 1000);
	for (int id = 0; id < NTIMERS; id++) {
		CHILD_CHECK(sh->fired[id] >= sh->due[id],
			    "timer %c of %ld ms fired %.1f ms after it was added: too early. A "
			    "timer fires once its deadline (the time it was added plus ms) has "
			    "passed; round epoll_wait()'s timeout up, not down.",
			    timer_names[id], timer_ms[id],
			    (double)(sh->fired[id] - timer_added[id]) / 1e6);
		CHILD_CHECK(sh->fired[id] - sh->due[id] < (uint64_t)CALL_MS * 1000000,
			    "timer %c of %ld ms fired %.0f ms late.", timer_names[id], timer_ms[id],
			    (double)(sh->fired[id] - sh->due[id]) / 1e6);
	}
}

static void timers_scenario(void)
{
	struct loop *loop = loop_create();
	int dog;

	CHILD_CHECK(loop, "loop_create() returned NULL (errno %s).", err_name(errno));
	dog = watchdog(loop, CALL_MS);
	for (int id = 0; id < 5; id++)
		add_timer(loop, id); /* A 45, B 10, C 25, D 0, E 15 ms */
	hang_note("five timers (0 to 45 ms) were added, the seventh to fire stops the loop, and a "
		  "timerfd due after %d s was watched; loop_run() had not returned %d s later.",
		  CALL_MS / 1000, 2 * CALL_MS / 1000);
	run(loop);
	CHILD_CHECK(!sh->wrong_args, "a timer's callback was called with a ctx that was not its "
				     "own.");
	check_timer_order();
	loop_del_fd(loop, dog);
	close(dog);
	loop_free(loop);
}

static void on_spin(struct loop *loop, void *ctx)
{
	sh->spins++;
	if (loop_add_timer(loop, 0, on_spin, ctx) < 0)
		child_fail("loop_add_timer(loop, 0, ...) from a timer's callback returned -1 "
			   "(errno %s).",
			   err_name(errno));
}

static void spin_scenario(void)
{
	struct loop *loop = loop_create();
	int p[2];

	CHILD_CHECK(loop, "loop_create() returned NULL (errno %s).", err_name(errno));
	xpipe(p);
	poke(p[1]);
	watch(loop, 0, p[0], EPOLLIN, DRAIN_STOP);
	CHILD_CHECK(loop_add_timer(loop, 0, on_spin, NULL) == 0,
		    "loop_add_timer(loop, 0, ...) returned -1 (errno %s).", err_name(errno));
	hang_note("a timer's callback adds a new 0 ms timer each time it runs, and a readable "
		  "pipe's callback calls loop_stop(); loop_run() had not returned %d s later: it "
		  "ran timers for ever. Take the time once a round, and leave the timers added "
		  "during the round for the next one.",
		  CALL_MS / 1000);
	run(loop);
	CHILD_CHECK(sh->calls[0] == 1 && sh->spins >= 1,
		    "the pipe's callback ran %d times and the 0 ms timer %d times, expected 1 and "
		    "at least 1.",
		    sh->calls[0], sh->spins);
	loop_free(loop);
	close(p[0]);
	close(p[1]);
}

START_TEST(test_loop_timers)
{
	begin();
	run_scenario(timers_scenario, 3 * CALL_MS, NULL);
	memset(sh, 0, sizeof(*sh));
	run_scenario(spin_scenario, CALL_MS, NULL);
}
END_TEST

/* ==== Stop and free ==== */

static int stop_at;

static void on_count(struct loop *loop, int fd, uint32_t events, void *ctx)
{
	(void)fd;
	(void)events;
	(void)ctx;
	if (++sh->calls[0] == stop_at)
		loop_stop(loop);
	if (sh->calls[0] > 1000) /* loop_stop() has no effect: go on, the deadline reports it */
		usleep(1000);
}

static void stop_scenario(void)
{
	struct loop *loop = loop_create();
	int p[2], r;

	CHILD_CHECK(loop, "loop_create() returned NULL (errno %s).", err_name(errno));
	xpipe(p);
	poke(p[1]); /* never read: level-triggered, the pipe is ready every round */
	CHILD_CHECK(loop_add_fd(loop, p[0], EPOLLIN, on_count, NULL) == 0,
		    "loop_add_fd() returned -1 (errno %s).", err_name(errno));
	stop_at = 3;
	hang_note("a descriptor's callback called loop_stop() in the third round, but loop_run() "
		  "had not returned %d s later: loop_run() must check after each round whether "
		  "loop_stop() was called.",
		  CALL_MS / 1000);
	r = loop_run(loop);
	CHILD_CHECK(r == 0 && sh->calls[0] == 3,
		    "loop_stop() was called from the third callback; loop_run() returned %d after "
		    "%d callbacks, expected 0 after 3: it returns at the end of that round.",
		    r, sh->calls[0]);
	stop_at = 6;
	r = loop_run(loop);
	CHILD_CHECK(r == 0 && sh->calls[0] == 6,
		    "a stopped loop was run again, and stopped again in its third round; "
		    "loop_run() returned %d after %d callbacks in all, expected 0 after 6: "
		    "loop_run() starts by forgetting the earlier loop_stop().",
		    r, sh->calls[0]);
	loop_free(loop);
	close(p[0]);
	close(p[1]);
}

static void on_nothing(struct loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
}

START_TEST(test_loop_stop_and_free)
{
	struct loop *loop;
	int before, p[2];

	begin();
	run_scenario(stop_scenario, CALL_MS, NULL);
	before = proc_count_fds(0);
	xpipe(p);
	loop = loop_create();
	ck_assert_msg(loop != NULL, "loop_create() returned NULL (errno %s).", err_name(errno));
	ck_assert_msg(loop_add_fd(loop, p[0], EPOLLIN, on_fd, NULL) == 0 &&
			  loop_add_fd(loop, p[1], EPOLLOUT, on_fd, NULL) == 0 &&
			  loop_add_timer(loop, 100000, on_nothing, NULL) == 0,
		      "loop_add_fd() or loop_add_timer() failed (errno %s).", err_name(errno));
	loop_free(loop); /* with two descriptors watched and a timer pending */
	ck_assert_msg(fcntl(p[0], F_GETFD) >= 0 && fcntl(p[1], F_GETFD) >= 0,
		      "loop_free() closed a descriptor the loop watched: those belong to the "
		      "caller; loop_free() closes only the epoll descriptor.");
	ck_assert_msg(fd_named(getpid(), "anon_inode:[eventpoll]") < 0,
		      "loop_free() left the epoll descriptor open: close it.");
	close(p[0]);
	close(p[1]);
	ck_assert_msg(proc_count_fds(0) == before,
		      "after loop_create() and loop_free(), %d descriptors more are open.",
		      proc_count_fds(0) - before);
	loop_free(NULL);
}
END_TEST

/* ==== The server, in a child process ==== */

static void on_stop(struct loop *loop, int fd, uint32_t events, void *ctx)
{
	(void)fd;
	(void)events;
	(void)ctx;
	loop_stop(loop);
}

/* Record the descriptors open now and not in before[]. */
static void note_leaks(const unsigned char *before)
{
	char what[64];
	size_t len = 0;

	for (int fd = 0; fd < FD_SCAN; fd++) {
		if (before[fd] || fcntl(fd, F_GETFD) < 0)
			continue;
		if (++sh->leaked <= 3 && proc_describe_fd(0, fd, what, sizeof(what)) == 0)
			len += (size_t)snprintf(sh->leaks + len, sizeof(sh->leaks) - len,
						"%s%d (%s)", len ? ", " : "", fd, what);
	}
}

/* The server's process: set up, wait for the go, serve until stop becomes readable, clean up. */
static void server_main(int go, int stop, int faults)
{
	static unsigned char before[FD_SCAN];
	struct echo_server *es = NULL;
	struct loop *loop;
	uint16_t port = 0;
	char c;

	signal(SIGPIPE, SIG_DFL); /* the default, which kills: as in a real server */
	for (int fd = 0; fd < FD_SCAN; fd++)
		before[fd] = fcntl(fd, F_GETFD) >= 0;
	loop = loop_create();
	if (loop)
		es = echo_start(loop, 0, &port);
	sh->start_err = errno;
	sh->port = es ? port : 0;
	atomic_store(&sh->ready, 1);
	if (!es)
		child_fail("echo_start(loop, 0, &port) returned NULL (errno %s)%s.",
			   err_name(sh->start_err), loop ? "" : "; loop_create() had failed");
	while (read(go, &c, 1) < 0 && errno == EINTR)
		;
	CHILD_CHECK(loop_add_fd(loop, stop, EPOLLIN, on_stop, NULL) == 0,
		    "loop_add_fd() returned -1 (errno %s).", err_name(errno));
	if (faults)
		fault_inject(FAULT_SHORT_IO | FAULT_EINTR, 1);
	sh->run_ret = loop_run(loop);
	sh->run_err = errno;
	fault_stop();
	sh->faults = fault_count();
	snprintf(sh->fault_text, sizeof(sh->fault_text), "%s", fault_report());
	loop_del_fd(loop, stop);
	echo_stop(es);
	loop_free(loop);
	close(go);
	close(stop);
	note_leaks(before);
	_exit(0);
}

/* Let the server's loop start. */
static void server_go(void)
{
	if (write(srv.go, "g", 1) != 1)
		err_die("suite: write:");
}

/* Start the student's server in a child; with go, let its loop run at once. */
static void server_start(int go, int faults)
{
	int gop[2], stopp[2];

	memset(sh, 0, sizeof(*sh));
	xpipe(gop);
	xpipe(stopp);
	srv.pid = xfork();
	if (srv.pid == 0) {
		close(gop[1]);
		close(stopp[1]);
		server_main(gop[0], stopp[0], faults);
	}
	close(gop[0]);
	close(stopp[0]);
	srv.go = gop[1];
	srv.stop = stopp[1];
	ck_assert_msg(WAIT_WHILE(!atomic_load(&sh->ready), CALL_MS),
		      "echo_start() had not returned after %d s.", CALL_MS / 1000);
	ck_assert_msg(sh->port != 0, "%s",
		      sh->note[0] ? sh->note : "echo_start() stored port 0: store the port bound.");
	srv.port = sh->port;
	if (go)
		server_go();
}

/* Stop the server: its loop must return, and echo_stop() and loop_free() close everything. */
static void server_stop(void)
{
	int status;

	close(srv.stop);
	close(srv.go);
	if (proc_wait_timeout(srv.pid, &status, CALL_MS) < 0) {
		const char *what = doing(srv.pid);

		kill_server();
		ck_abort_msg(
		    "the server did not stop: its stop descriptor's callback called "
		    "loop_stop(), but loop_run() had not returned %d s later. The server %s.",
		    CALL_MS / 1000, what);
	}
	srv.pid = 0;
	check_status(status, "the server's process", NULL);
	ck_assert_msg(sh->run_ret == 0, "loop_run() returned %d (errno %s) after loop_stop().",
		      sh->run_ret, err_name(sh->run_err));
	ck_assert_msg(
	    sh->leaked == 0,
	    "after echo_stop() and loop_free(), the server's process still had %d "
	    "descriptor%s open that it did not have before loop_create(): %s. echo_stop() "
	    "closes the listening socket and every connection; loop_free() closes the "
	    "epoll descriptor.",
	    sh->leaked, sh->leaked > 1 ? "s" : "", sh->leaks);
}

/* Fail if the server's process has ended. */
static void check_server_alive(const char *when)
{
	char who[128];
	int status;

	if (waitpid(srv.pid, &status, WNOHANG) == srv.pid) {
		srv.pid = 0;
		snprintf(who, sizeof(who), "the server's process, %s,", when);
		check_status(status, who, NULL);
		ck_abort_msg("the server's process exited (status 0) %s.", when);
	}
}

/* A new client of the server; the test fails if it cannot connect. */
static int must_connect(int rcvbuf)
{
	int fd = client(srv.port, rcvbuf);

	ck_assert_msg(fd >= 0,
		      "connect() to the server's port %u failed (errno %s); the server %s.",
		      srv.port, err_name(errno), doing(srv.pid));
	return fd;
}

/* ==== The test's clients ==== */

static void peer_init(struct peer *p, int fd, unsigned id, size_t total)
{
	set_nonblock(fd);
	*p = (struct peer){
	    .fd = fd, .id = id, .total = total, .bad = -1, .rng = suite_seed() + id, .sfd = -1};
}

/* Send what the socket takes of p's next piece. */
static void peer_send(struct peer *p)
{
	unsigned char buf[65536];
	size_t n = 1 + (size_t)rand_r(&p->rng) % (p->total > 100000 ? sizeof(buf) : 1500);
	ssize_t w;

	if (n > p->total - p->sent)
		n = p->total - p->sent;
	fill(p->id, p->sent, buf, n);
	w = send(p->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w > 0)
		p->sent += (size_t)w;
	else if (w < 0 && errno != EAGAIN && errno != EINTR)
		p->gone = 1;
}

/* Read what has come of p's echo, and check it. */
static void peer_recv(struct peer *p)
{
	unsigned char buf[65536], want[65536];
	ssize_t r = recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		p->gone = 1;
		return;
	}
	fill(p->id, p->got, want, (size_t)r);
	for (ssize_t i = 0; p->bad < 0 && memcmp(buf, want, (size_t)r) != 0 && i < r; i++)
		if (buf[i] != want[i]) {
			p->bad = (long)(p->got + (size_t)i);
			p->bad_got = buf[i];
		}
	p->got += (size_t)r;
}

/* Send as much as the socket takes now. */
static void peer_push(struct peer *p)
{
	size_t before;

	do {
		before = p->sent;
		peer_send(p);
	} while (p->sent > before && p->sent < p->total);
}

/* What the server watches its side of p's connection for: as conn_mask. */
static long peer_mask(struct peer *p)
{
	if (p->sfd < 0) /* found once: /proc/net/tcp may be long */
		p->sfd =
		    fd_of_socket(srv.pid, tcp_inode(srv.port, local_port(p->fd), TCP_ANY, NULL));
	return p->sfd < 0 ? -3 : watch_mask(srv.pid, p->sfd);
}

static int peer_done(const struct peer *p)
{
	return p->got >= p->total || p->gone || p->bad >= 0;
}

/*
 * Drive n peers at once through one poll() loop: each sends its bytes and
 * reads its echo, until every one has it all (or went wrong) or ms have
 * passed. Returns how many have their whole echo, right.
 */
static int drive(struct peer *p, int n, long ms)
{
	struct pollfd *pf = xcalloc((size_t)n, sizeof(*pf));
	uint64_t until = clock_now_ns() + (uint64_t)ms * 1000000;
	int busy = n, good = 0;

	while (busy > 0 && clock_now_ns() < until) {
		for (int i = 0; i < n; i++) {
			pf[i].fd = peer_done(&p[i]) ? -1 : p[i].fd;
			pf[i].events = POLLIN | (p[i].sent < p[i].total ? POLLOUT : 0);
		}
		if (poll(pf, (nfds_t)n, 10) <= 0)
			continue;
		for (int i = 0; i < n; i++) {
			if (pf[i].revents & POLLOUT)
				peer_send(&p[i]);
			if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
				peer_recv(&p[i]);
		}
		busy = 0;
		for (int i = 0; i < n; i++)
			busy += !peer_done(&p[i]);
	}
	free(pf);
	for (int i = 0; i < n; i++)
		good += p[i].got == p[i].total && p[i].bad < 0;
	return good;
}

/* Fail with what went wrong for the first peer that has not its whole echo. */
static void check_peers(const struct peer *p, int n, const char *what)
{
	int good = 0, first = -1;

	for (int i = 0; i < n; i++) {
		if (p[i].got == p[i].total && p[i].bad < 0)
			good++;
		else if (first < 0)
			first = i;
	}
	if (first < 0)
		return;
	p += first;
	ck_assert_msg(
	    p->bad < 0,
	    "%s: %d of %d clients got their exact echo. Client %d's echo had 0x%02x at "
	    "byte %ld, expected 0x%02x: bytes of another client, or its own out of order? "
	    "Each connection has its own buffer, and sends from where the last send() "
	    "stopped.",
	    what, good, n, first, p->bad_got, p->bad, pattern(p->id, (size_t)p->bad));
	ck_assert_msg(0,
		      "%s: %d of %d clients got their exact echo within the time. Client %d sent "
		      "%zu of its %zu bytes and got %zu back%s. The server %s.",
		      what, good, n, first, p->sent, p->total, p->got,
		      p->gone ? ", then the connection ended" : "", doing(srv.pid));
}

/* Connect n clients to the server, all open at once. */
static void connect_all(struct peer *p, int n, size_t base, size_t spread)
{
	unsigned rng = suite_seed();

	for (int i = 0; i < n; i++) {
		int fd = client(srv.port, 0);

		ck_assert_msg(fd >= 0,
			      "client %d of %d could not connect (errno %s); the server %s.", i + 1,
			      n, err_name(errno), doing(srv.pid));
		peer_init(&p[i], fd, (unsigned)i, base + (size_t)rand_r(&rng) % spread);
	}
}

static void close_all(struct peer *p, int n)
{
	for (int i = 0; i < n; i++)
		close(p[i].fd);
}

/* Send msg on fd; its exact echo must come back within CALL_MS. */
static void expect_echo(int fd, const char *msg, const char *who)
{
	char buf[256];
	size_t n = strlen(msg), got;
	int eof;

	put(fd, msg, n);
	got = take(fd, buf, n, CALL_MS, &eof);
	ck_assert_msg(
	    got == n && memcmp(buf, msg, n) == 0,
	    "%s sent \"%s\" (%zu bytes) and got %zu bytes back within %d s%s%s%.*s%s. The "
	    "server %s.",
	    who, msg, n, got, CALL_MS / 1000, eof ? ", then end of file" : "", got ? ": \"" : "",
	    (int)got, buf, got ? "\"" : "", doing(srv.pid));
}

/* ==== The listening socket ==== */

START_TEST(test_echo_listen)
{
	struct echo_server *es, *es2;
	struct loop *loop;
	uint16_t port = 0, port2 = 0;
	unsigned addr = 0;
	int before, after, lfd, fd;
	long mask;

	begin();
	before = proc_count_fds(0);
	loop = loop_create();
	ck_assert_msg(loop != NULL, "loop_create() returned NULL (errno %s).", err_name(errno));
	after = proc_count_fds(0);
	es = echo_start(loop, 0, &port);
	ck_assert_msg(es != NULL && port != 0,
		      "echo_start(loop, 0, &port) returned %p (errno %s) with port %u, expected a "
		      "server and the port the kernel chose.",
		      (void *)es, err_name(errno), port);
	lfd = fd_of_socket(getpid(), tcp_inode(port, 0, TCP_LISTENING, &addr));
	ck_assert_msg(lfd >= 0,
		      "nothing listens on port %u, the port echo_start() stored%s: listen() after "
		      "bind(), and store ntohs() of what getsockname() gives.",
		      port,
		      tcp_inode(htons(port), 0, TCP_LISTENING, NULL) ? " (it listens on the "
								       "port in network byte order)"
								     : "");
	ck_assert_msg(addr == htonl(INADDR_LOOPBACK),
		      "the listening socket is bound to address %08x (as /proc/net/tcp writes it), "
		      "expected 127.0.0.1: INADDR_ANY lets the whole network in. Bind "
		      "htonl(INADDR_LOOPBACK).",
		      addr);
	ck_assert_msg(fcntl(lfd, F_GETFL) & O_NONBLOCK,
		      "the listening socket is blocking: the accept loop would wait in accept() "
		      "once the backlog is empty, and the whole server with it. Create it with "
		      "SOCK_NONBLOCK.");
	mask = watch_mask(getpid(), lfd);
	ck_assert_msg(mask >= 0, "echo_start() did not register the listening socket with the loop "
				 "(loop_add_fd).");
	ck_assert_msg(
	    (mask & EPOLLIN) && (mask & EPOLLET),
	    "the listening socket is watched for events 0x%lx, expected EPOLLIN | EPOLLET "
	    "(0x%x): edge-triggered, as the header asks.",
	    mask, EPOLLIN | EPOLLET);
	fd = client(port, 0);
	ck_assert_msg(fd >= 0, "connect() to 127.0.0.1:%u failed (errno %s).", port,
		      err_name(errno));
	close(fd);
	es2 = echo_start(loop, port, &port2);
	ck_assert_msg(es2 == NULL && errno == EADDRINUSE,
		      "echo_start() on port %u, where the first server listens, returned %p (errno "
		      "%s), expected NULL with EADDRINUSE.",
		      port, (void *)es2, es2 ? "-" : err_name(errno));
	ck_assert_msg(proc_count_fds(0) == after + 1 && watch_mask(getpid(), -1) == 1,
		      "echo_start() failed but left its socket open or registered: undo what was "
		      "done before returning NULL.");
	echo_stop(es);
	ck_assert_msg(proc_count_fds(0) == after && watch_mask(getpid(), -1) == 0,
		      "after echo_stop(), %d descriptors more are open and %ld still watched: "
		      "loop_del_fd() and close() the listening socket.",
		      proc_count_fds(0) - after, watch_mask(getpid(), -1));
	ck_assert_msg(client(port, 0) < 0 && errno == ECONNREFUSED,
		      "after echo_stop(), port %u still accepts connections.", port);
	loop_free(loop);
	ck_assert_msg(proc_count_fds(0) == before, "loop_free() left a descriptor open.");
}
END_TEST

/* ==== The echo ==== */

START_TEST(test_echo_one_client)
{
	struct peer p;
	char buf[16];
	int fd, eof;

	begin();
	server_start(1, 0);
	fd = must_connect(0);
	expect_echo(fd, "hello, loop", "a client");
	peer_init(&p, fd, 1, 300000);
	drive(&p, 1, 2 * CALL_MS);
	check_peers(&p, 1, "a client sent 300 KB in pieces of 1 byte to 64 KB, reading as it went");
	expect_echo(fd, "bye", "then it");
	shutdown(fd, SHUT_WR);
	ck_assert_msg(take(fd, buf, sizeof(buf), CALL_MS, &eof) == 0 && eof,
		      "the client closed its side (shutdown): the server must see end of file "
		      "(read() returns 0), send what is left, and close the connection; the client "
		      "saw no end of file within %d s. The server %s.",
		      CALL_MS / 1000, doing(srv.pid));
	close(fd);
	server_stop();
}
END_TEST

START_TEST(test_echo_500_clients)
{
	static struct peer p[MANY];

	begin();
	server_start(1, 0);
	connect_all(p, MANY, 1000, 4000);
	drive(p, MANY, 3 * CALL_MS);
	check_peers(p, MANY, "500 clients connected at once, each sent 1 to 5 KB");
	close_all(p, MANY);
	server_stop();
}
END_TEST

START_TEST(test_echo_single_thread)
{
	static struct peer p[MANY];
	int threads, children;

	begin();
	server_start(1, 0);
	connect_all(p, MANY, 10, 100);
	drive(p, MANY, 3 * CALL_MS);
	threads = proc_count_threads(srv.pid); /* while all 500 are connected */
	children = proc_count_children(srv.pid);
	ck_assert_msg(threads == 1 || getenv("IPCLAB_SANITIZER"),
		      "while 500 clients were connected, the server's process had %d threads: the "
		      "event loop serves them all from one thread. No thread per client (that was "
		      "lab 17), no thread to accept: the loop does it all.",
		      threads);
	ck_assert_msg(children == 0,
		      "while 500 clients were connected, the server's process had %d child "
		      "processes: the event loop serves them all from one process, one thread.",
		      children);
	check_peers(p, MANY, "500 clients connected at once");
	close_all(p, MANY);
	server_stop();
}
END_TEST

START_TEST(test_echo_accept_drains)
{
	static struct peer p[BURST];
	struct sockaddr_in a;
	int connected = 0;

	begin();
	server_start(0, 0); /* listening, but its loop waits for the go */
	a = loopback(srv.port);
	for (int i = 0; i < BURST; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

		if (fd < 0)
			err_die("suite: socket:");
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS)
			err_die("suite: connect:");
		peer_init(&p[i], fd, (unsigned)i, 16);
	}
	for (int i = 0; i < BURST; i++) {
		struct pollfd pf = {p[i].fd, POLLOUT, 0};
		int err = -1;
		socklen_t len = sizeof(err);

		if (poll(&pf, 1, connected == i ? CALL_MS : 0) == 1)
			getsockopt(p[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
		connected += err == 0;
	}
	ck_assert_msg(connected == BURST,
		      "only %d of %d connections were completed by the kernel before the server's "
		      "loop ran: listen() with a backlog of SOMAXCONN.",
		      connected, BURST);
	server_go();
	drive(p, BURST, 2 * CALL_MS);
	for (int i = 0, good = 0; i < BURST; i++) {
		good += p[i].got == p[i].total && p[i].bad < 0;
		ck_assert_msg(i < BURST - 1 || good == BURST,
			      "%d connections were waiting in the backlog when the loop started; "
			      "%d of them were served. The listening socket is edge-triggered: one "
			      "wake-up stands for the whole burst, and no other comes. Call "
			      "accept4() in a loop until it fails with EAGAIN.",
			      BURST, good);
	}
	check_peers(p, BURST, "200 connections waiting in the backlog");
	close_all(p, BURST);
	server_stop();
}
END_TEST

START_TEST(test_echo_silent_client)
{
	char c;
	int quiet, once, other, eof;

	begin();
	server_start(1, 0);
	quiet = must_connect(0); /* connects, says nothing */
	once = must_connect(0);  /* says one thing, then nothing */
	expect_echo(once, "x", "a client connected after a silent one");
	other = must_connect(0);
	expect_echo(other, "anyone there?",
		    "while one client stayed silent and another had sent one byte and gone quiet, "
		    "a third client");
	server_stop(); /* with the three connections open: echo_stop() closes them */
	ck_assert_msg(take(quiet, &c, 1, CALL_MS, &eof) == 0 && eof,
		      "after echo_stop(), a silent client's connection was still open: echo_stop() "
		      "closes every connection.");
	close(quiet);
	close(once);
	close(other);
}
END_TEST

/* ==== Slow clients ==== */

/*
 * Push s's bytes without reading any echo, until the server has unsent echo
 * for it and watches its socket for EPOLLOUT. Fails if that never happens.
 */
static void push_until_backed_up(struct peer *s)
{
	uint64_t until = clock_now_ns() + (uint64_t)CALL_MS * 1000000;
	long mask = -3;

	while (clock_now_ns() < until) {
		struct pollfd pf = {s->fd, POLLOUT, 0};

		if (s->sent < s->total && poll(&pf, 1, 10) == 1)
			peer_push(s);
		else
			usleep(1000);
		mask = peer_mask(s);
		if (mask >= 0 && (mask & EPOLLOUT))
			return;
		check_server_alive("while a client sent without reading");
		ck_assert_msg(!s->gone, "the server closed the connection of a client that sent "
					"without reading.");
	}
	ck_assert_msg(0,
		      "a client sent %.1f MB and read none of its echo, so the server's socket for "
		      "it filled up; %d s later the server still did not watch it for EPOLLOUT "
		      "(%s). When send() takes less than asked, or fails with EAGAIN, keep the "
		      "rest in the connection's buffer and watch EPOLLOUT. The server %s.",
		      (double)s->sent / (1 << 20), CALL_MS / 1000,
		      mask >= 0 ? "it watched it for EPOLLIN only" : "it did not watch it at all",
		      doing(srv.pid));
}

START_TEST(test_echo_slow_reader)
{
	struct peer s;
	int fd, other;

	begin();
	server_start(1, 0);
	fd = must_connect(4096); /* a small window: the server's sends soon meet EAGAIN */
	peer_init(&s, fd, 7, SLOW_MAX);
	push_until_backed_up(&s);
	other = must_connect(0);
	expect_echo(other, "are you there?",
		    "while a slow client read nothing and the server held its unsent echo, another "
		    "client");
	close(other);
	s.total = s.sent + 1000; /* now it reads everything, then sends a little more */
	drive(&s, 1, 4 * CALL_MS);
	ck_assert_msg(s.bad < 0,
		      "the slow client's echo had 0x%02x at byte %ld of %zu, expected 0x%02x: the "
		      "echo that send() did not take must go out later in order, from where the "
		      "last send() stopped.",
		      s.bad_got, s.bad, s.total, pattern(s.id, (size_t)s.bad));
	ck_assert_msg(s.got == s.total,
		      "the slow client sent %zu bytes and, once it read, got %zu back%s: the echo "
		      "that send() did not take was lost, or never sent once the socket had room "
		      "(EPOLLOUT); or the client was never read again after its buffer emptied "
		      "(EPOLLIN). The server %s.",
		      s.sent, s.got, s.gone ? ", then end of file" : "", doing(srv.pid));
	close(fd);
	server_stop();
}
END_TEST

START_TEST(test_echo_idle_interest)
{
	long mask = -3;
	int fd;

	begin();
	server_start(1, 0);
	fd = must_connect(0);
	expect_echo(fd, "ping", "a client");
	WAIT_WHILE((mask = conn_mask(fd)) < 0 || (mask & EPOLLOUT), CALL_MS);
	ck_assert_msg(mask >= 0, "the server does not watch the connection of an idle client%s.",
		      mask == -3 ? " (it has no descriptor for it)" : "");
	ck_assert_msg(
	    !(mask & EPOLLOUT),
	    "a client got its whole echo and went quiet, but %d s later the server still "
	    "watched its socket for EPOLLOUT (events 0x%lx): a socket with room is always "
	    "writable, so epoll_wait() returns at once, again and again — a busy loop "
	    "that burns a core. Watch EPOLLOUT only while echo waits to be sent.",
	    CALL_MS / 1000, mask);
	ck_assert_msg(mask & EPOLLIN,
		      "an idle client's socket is watched for events 0x%lx, without EPOLLIN: what "
		      "it sends next would never be read.",
		      mask);
	expect_echo(fd, "pong", "the same client, later,");
	close(fd);
	server_stop();
}
END_TEST

START_TEST(test_echo_backpressure)
{
	uint64_t stalled = 0;
	long mask = -3;
	struct peer b;
	int fd, small = 65536;

	begin();
	server_start(1, 0);
	fd = must_connect(4096);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	peer_init(&b, fd, 9, FLOOD_MAX);
	for (;;) {
		struct pollfd pf = {fd, POLLOUT, 0};
		size_t before = b.sent;

		if (poll(&pf, 1, 10) == 1)
			peer_push(&b);
		mask = peer_mask(&b);
		if (mask == -1 || (mask >= 0 && !(mask & EPOLLIN)))
			break; /* the server stopped reading this client */
		check_server_alive("while a client sent and never read");
		ck_assert_msg(b.sent < FLOOD_MAX && !b.gone,
			      "a client sent %u MB and read none of its echo, and the server read "
			      "it all: its buffer grows without end, a client at a time, until "
			      "memory runs out. Stop watching EPOLLIN while ECHO_HIGH_WATER bytes "
			      "or more wait to be sent (loop_mod_fd), and watch it again once the "
			      "buffer has drained below.",
			      FLOOD_MAX >> 20);
		stalled = b.sent > before ? 0 : stalled ? stalled : clock_now_ns();
		if (stalled && clock_now_ns() - stalled > (uint64_t)CALL_MS * 1000000)
			ck_abort_msg(
			    "a client sent %.1f MB and read none of its echo; for %d s the "
			    "server has read no more of it, yet %s. The server %s.",
			    (double)b.sent / (1 << 20), CALL_MS / 1000,
			    mask < 0 ? "it does not watch the connection at all"
				     : "it still watches it for EPOLLIN: a readable socket "
				       "left unread wakes a level-triggered loop at once, for "
				       "ever. Drop EPOLLIN with loop_mod_fd() while the "
				       "buffer is full",
			    doing(srv.pid));
	}
	close(fd);
	expect_echo((fd = must_connect(0)), "still there?",
		    "after a flood from a client that never read, another client");
	close(fd);
	server_stop();
}
END_TEST

/* ==== Closing and faults ==== */

START_TEST(test_echo_eof_frees)
{
	static struct peer p[100];
	struct linger reset = {1, 0};
	int base, now = 0, fd;

	begin();
	server_start(1, 0);
	expect_echo((fd = must_connect(0)), "warm-up", "a first client");
	close(fd);
	WAIT_WHILE(watch_mask(srv.pid, -1) > 2, CALL_MS); /* the listener and the stop pipe */
	base = proc_count_fds(srv.pid);
	connect_all(p, 100, 100, 100);
	drive(p, 100, 2 * CALL_MS);
	check_peers(p, 100, "100 clients connected at once");
	for (int i = 0; i < 100; i++) {
		if (i % 2) /* half of them reset their connection: ECONNRESET at the server */
			setsockopt(p[i].fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		close(p[i].fd);
	}
	WAIT_WHILE((now = proc_count_fds(srv.pid)) > base, CALL_MS);
	check_server_alive("after 100 clients closed");
	ck_assert_msg(now <= base,
		      "100 clients connected, got their echo and closed (half of them with a "
		      "reset); %d s later the server still had %d descriptors more than before "
		      "they came. On end of file (read() returns 0) and on an error such as "
		      "ECONNRESET: loop_del_fd(), close() and free the connection.",
		      CALL_MS / 1000, now - base);
	expect_echo((fd = must_connect(0)), "and now?", "after 100 clients left, a new client");
	close(fd);
	server_stop();
}
END_TEST

START_TEST(test_echo_short_io)
{
	struct peer p;
	int fd;

	begin();
	server_start(1, 1); /* every read, recv, write and send of the server misbehaves */
	fd = must_connect(0);
	peer_init(&p, fd, 3, 200000);
	drive(&p, 1, 3 * CALL_MS);
	close(fd);
	server_stop();
	ck_assert_msg(
	    p.got == p.total && p.bad < 0,
	    "the grader made the server's own read()/recv() and write()/send() return "
	    "fewer bytes than asked, or fail with EINTR; a client that sent %zu bytes got "
	    "%zu back%s%s. A short send() leaves the rest in the buffer; EINTR is no "
	    "error: try again (or wait for the next wake-up). %s",
	    p.total, p.got, p.bad >= 0 ? ", some of them wrong" : "",
	    p.gone ? ", then the connection ended" : "", sh->fault_text);
}
END_TEST

void suite_define(void)
{
	/* The loop. */
	SUITE_TEST(test_loop_fd_events, 2,
		   "Does each ready descriptor get its own callback, with its own ctx?\n"
		   "epoll_ctl(2) ADD, MOD and DEL change what epoll_wait(2) reports; keep a "
		   "callback and ctx per descriptor, and fail with EEXIST, ENOENT, EINVAL as the "
		   "header says.\n"
		   "Keep a table indexed by fd; put the fd in epoll_event.data.fd; in loop_run "
		   "call table[fd].cb(loop, fd, ev.events, table[fd].ctx).");
	SUITE_TEST(test_loop_del_in_callback, 2,
		   "What if an earlier callback of the same round removed this descriptor?\n"
		   "epoll_wait(2) returns a batch of events; any callback may loop_del_fd() "
		   "another descriptor of the batch, and close it.\n"
		   "In loop_run, look each event's fd up in the table again just before the call, "
		   "and skip it when it is no longer watched.");
	SUITE_TEST_EX(
	    test_loop_timers, 2, 10, 0,
	    "How long may epoll_wait() wait when a timer is pending?\n"
	    "A min-heap on the deadline gives the earliest timer; epoll_wait(2)'s timeout "
	    "is the milliseconds left until it, rounded up.\n"
	    "Pop a timer before calling it (the callback may add timers), and run only the "
	    "timers due when the round began.");
	SUITE_TEST(test_loop_stop_and_free, 1,
		   "When does loop_run() look at the stop flag, and who clears it?\n"
		   "loop_stop() sets a flag that loop_run() tests after each round; loop_free() "
		   "owns only the epoll descriptor (close(2)), not the descriptors watched.\n"
		   "Clear the flag at the start of loop_run(); loop_free() closes epfd and frees "
		   "the table and the heap.");

	/* The server. */
	SUITE_TEST(test_echo_listen, 1,
		   "Which address, which flags, which events for the listening socket?\n"
		   "Bind INADDR_LOOPBACK, port 0, then getsockname(2); SOCK_NONBLOCK; watch it "
		   "with EPOLLIN | EPOLLET (epoll(7)).\n"
		   "socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); on any error "
		   "close it and return NULL.");
	SUITE_TEST_EX(test_echo_one_client, 2, 12, 0,
		      "Read what is there, queue it, send what the socket takes.\n"
		      "recv(2) returns what has arrived; send(2) may take less; read() == 0 is the "
		      "client's end of file.\n"
		      "At end of file, stop reading, send what is queued, then loop_del_fd() and "
		      "close().");
	SUITE_TEST_EX(test_echo_500_clients, 3, 15, 0,
		      "Are 500 connections open at once served at once?\n"
		      "One epoll instance watches every connection; each has its own buffer of "
		      "unsent echo (epoll(7)).\n"
		      "One struct per connection, given as ctx to loop_add_fd(); never a static "
		      "buffer shared by all.");
	SUITE_TEST_EX(test_echo_single_thread, 1, 15, 0,
		      "How many threads does an event loop need?\n"
		      "One thread waits in epoll_wait(2) for every socket at once: no thread or "
		      "process per client, no thread to accept.\n"
		      "Accept in the listening socket's callback, inside loop_run().");
	SUITE_TEST_EX(
	    test_echo_accept_drains, 2, 10, 0,
	    "One edge-triggered wake-up, how many connections?\n"
	    "With EPOLLET, epoll(7) reports a change, not a state: a burst of connections "
	    "is one event.\n"
	    "for (;;) { fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); if "
	    "(fd < 0) break on EAGAIN; ... }");
	SUITE_TEST_EX(
	    test_echo_silent_client, 2, 10, 0,
	    "What does read() do on a socket with nothing to read?\n"
	    "A blocking read(2) waits, and the whole loop with it; a non-blocking one fails "
	    "with EAGAIN (socket(7), O_NONBLOCK).\n"
	    "accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), and one read() per "
	    "wake-up.");
	SUITE_TEST_EX(test_echo_slow_reader, 3, 15, 0,
		      "What happens to the echo a full socket does not take?\n"
		      "A non-blocking send(2) takes what fits and fails with EAGAIN when nothing "
		      "does; EPOLLOUT says when there is room again.\n"
		      "Keep buf[head..len); send from head; on EAGAIN watch EPOLLIN | EPOLLOUT; "
		      "when EPOLLOUT comes, send again.");
	SUITE_TEST_EX(
	    test_echo_idle_interest, 1, 10, 0,
	    "Is an idle connection still watched for EPOLLOUT?\n"
	    "A socket with room is always writable: watched for EPOLLOUT, level-triggered, "
	    "it wakes epoll_wait(2) every time.\n"
	    "After each send, loop_mod_fd(loop, fd, EPOLLIN | (queued ? EPOLLOUT : 0)).");
	SUITE_TEST_EX(test_echo_backpressure, 1, 15, 0,
		      "What if a client sends and never reads?\n"
		      "Its echo piles up in the server; asyncio pauses reading above a high-water "
		      "mark.\n"
		      "Watch EPOLLIN only while fewer than ECHO_HIGH_WATER bytes are queued.");
	SUITE_TEST_EX(test_echo_eof_frees, 2, 15, 0,
		      "What becomes of a connection whose client has gone?\n"
		      "read(2) returns 0 at end of file and -1 with ECONNRESET after a reset: both "
		      "end the connection.\n"
		      "loop_del_fd(loop, fd); close(fd); free the buffer and the connection.");
	SUITE_TEST_EX(
	    test_echo_short_io, 1, 10, 0,
	    "Is EINTR an error, and is a short send() the whole echo?\n"
	    "read(2) and send(2) may move fewer bytes than asked, or fail with EINTR: "
	    "neither ends the connection.\n"
	    "On EINTR, try again (or return and wait for the next wake-up); after a short "
	    "send, keep the rest queued.");
}
