/*
 * Lab 17, the reference: a TCP server on 127.0.0.1 with a thread per
 * connection and a clean stop, and a client that fetches one reply or many
 * at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcpserver.h"

/* A connection in progress, and the thread that serves it. */
struct conn {
	int fd;              /* the client's socket */
	tcp_handler *handle; /* what answers the request */
	void *arg;           /* the handler's argument */
	pthread_t thread;    /* the thread serving it */
	atomic_int done;     /* set by that thread as its last act: join me */
	struct conn *next;   /* the next connection in progress */
};

/* ==== Whole sends ==== */

/* Send all n bytes; a peer that has gone gives EPIPE, never SIGPIPE. 0, or -1. */
static int send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t w = send(fd, p + done, n - done, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

/* 127.0.0.1 at port (host byte order). */
static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in addr;

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return addr;
}

/* ==== The listening socket ==== */

int tcp_listen(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in addr = loopback(port);
	socklen_t alen = sizeof(addr);
	int fd, one = 1, saved;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* Before bind(): the old server's connections in TIME_WAIT must not block us. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, SOMAXCONN) < 0 ||
	    getsockname(fd, (struct sockaddr *)&addr, &alen) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (bound)
		*bound = ntohs(addr.sin_port);
	return fd;
}

/* ==== The server ==== */

/* Receive up to the first '\n', which becomes a NUL. 0, or -1 (gone early, too long). */
static int recv_line(int fd, char *line)
{
	size_t used = 0;
	char *nl;

	while (used < TCP_LINE_MAX) {
		ssize_t r = recv(fd, line + used, TCP_LINE_MAX - used, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1; /* closed or reset before its '\n': no request */
		nl = memchr(line + used, '\n', (size_t)r);
		used += (size_t)r;
		if (nl) {
			*nl = '\0';
			return 0;
		}
	}
	return -1; /* no '\n' within TCP_LINE_MAX bytes */
}

/* A connection's thread: one request, one reply, close. */
static void *serve_conn(void *p)
{
	struct conn *c = p;
	char line[TCP_LINE_MAX], *reply = malloc(TCP_REPLY_MAX);
	ssize_t n;

	if (reply && recv_line(c->fd, line) == 0) {
		n = c->handle(c->arg, line, reply, TCP_REPLY_MAX);
		if (n > 0 && n <= TCP_REPLY_MAX)
			send_all(c->fd, reply,
				 (size_t)n); /* EPIPE: the client left, nothing to do */
	}
	free(reply);
	close(c->fd);
	atomic_store(&c->done, 1);
	return NULL;
}

/* Serve fd on a new thread, at the head of *list; on failure, drop the client. */
static void start_conn(struct conn **list, int fd, tcp_handler *handle, void *arg)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c) {
		c->fd = fd; /* all set before the thread starts: it reads them at once */
		c->handle = handle;
		c->arg = arg;
	}
	if (!c || pthread_create(&c->thread, NULL, serve_conn, c) != 0) {
		free(c);
		close(fd); /* nobody to serve it: the client sees the connection close */
		return;
	}
	c->next = *list;
	*list = c;
}

/* Join the connections' threads that have finished (all of them when all is set). */
static void reap_conns(struct conn **list, int all)
{
	struct conn **p = list, *c;

	while ((c = *p)) {
		if (!all && !atomic_load(&c->done)) {
			p = &c->next;
			continue;
		}
		pthread_join(c->thread, NULL);
		*p = c->next;
		free(c);
	}
}

int tcp_serve(int lfd, int stopfd, tcp_handler *handle, void *arg)
{
	struct pollfd pfd[2] = {{lfd, POLLIN, 0}, {stopfd, POLLIN, 0}};
	struct conn *conns = NULL;
	int r = 0, fd, saved;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -1;
			break;
		}
		if (pfd[1].revents)
			break; /* a byte, end of file or an error: stop */
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN))
			continue;
		if (fd < 0) {
			r = -1;
			break;
		}
		reap_conns(&conns, 0); /* a long-running server must not hoard finished threads */
		start_conn(&conns, fd, handle, arg);
	}
	saved = errno;
	close(lfd); /* the port is free from here on */
	reap_conns(&conns, 1);
	errno = saved;
	return r;
}

/* ==== The client ==== */

/* Receive until end of file into buf (cap bytes). The length, or -1 (EMSGSIZE: too long). */
static ssize_t recv_until_eof(int fd, char *buf, size_t cap)
{
	size_t used = 0;
	char extra;

	for (;;) {
		/* Once buf is full, one more byte tells "exactly cap" from "too long". */
		ssize_t r =
		    used < cap ? recv(fd, buf + used, cap - used, 0) : recv(fd, &extra, 1, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return (ssize_t)used;
		if (used == cap) {
			errno = EMSGSIZE;
			return -1;
		}
		used += (size_t)r;
	}
}

int tcp_fetch(uint16_t port, const char *req, char *reply, size_t cap, size_t *len)
{
	struct sockaddr_in addr = loopback(port);
	size_t n = strlen(req);
	char line[TCP_LINE_MAX];
	ssize_t got = -1;
	int fd, saved;

	if (n > TCP_LINE_MAX - 1 || memchr(req, '\n', n)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(line, req, n);
	line[n] = '\n'; /* one send for the whole line */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
	    send_all(fd, line, n + 1) == 0)
		got = recv_until_eof(fd, reply, cap);
	saved = errno;
	close(fd);
	errno = saved;
	if (got < 0)
		return -1;
	*len = (size_t)got;
	return 0;
}

/* One request of tcp_fetch_all(), for its thread. */
struct job {
	uint16_t port;         /* the server's port */
	struct tcp_request *r; /* the request, and where its outcome goes */
};

static void *fetch_job(void *p)
{
	struct job *j = p;
	struct tcp_request *r = j->r;

	if (tcp_fetch(j->port, r->req, r->reply, r->cap, &r->len) < 0)
		r->err = errno;
	return NULL;
}

int tcp_fetch_all(uint16_t port, struct tcp_request *r, int n)
{
	pthread_t threads[TCP_FETCH_MAX];
	struct job jobs[TCP_FETCH_MAX];
	int started[TCP_FETCH_MAX], i;

	if (n < 0 || n > TCP_FETCH_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		int e;

		r[i].len = 0;
		r[i].err = 0; /* before the thread starts: it may set it at once */
		jobs[i] = (struct job){port, &r[i]};
		e = pthread_create(&threads[i], NULL, fetch_job, &jobs[i]);
		started[i] = e == 0;
		if (e != 0)
			r[i].err = e;
	}
	for (i = 0; i < n; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	for (i = 0; i < n; i++) {
		if (r[i].err) {
			errno = r[i].err;
			return -1;
		}
	}
	return 0;
}
