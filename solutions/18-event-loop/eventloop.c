/*
 * Lab 18, the reference: an event loop on epoll with a heap of timers, and
 * an echo server on top of it that serves every client from one thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "eventloop.h"

/* What the loop knows of a watched descriptor. */
struct watch {
	loop_fd_cb *cb; /* NULL: the descriptor is not watched */
	void *ctx;      /* the callback's argument */
};

/* A timer that has not fired yet. */
struct timer {
	uint64_t due;      /* its deadline, in ns of CLOCK_MONOTONIC */
	uint64_t seq;      /* the order it was added in: breaks ties between equal deadlines */
	loop_timer_cb *cb; /* what to call */
	void *ctx;         /* its argument */
};

struct loop {
	int epfd;            /* the epoll instance */
	struct watch *watch; /* watch[fd], for fd < nwatch */
	int nwatch;          /* the length of watch */
	struct timer *heap;  /* the timers, a binary min-heap on (due, seq) */
	size_t ntimers;      /* how many */
	size_t cap;          /* the room in heap */
	uint64_t seq;        /* the next timer's seq */
	int stopping;        /* loop_stop() was called in this round */
};

/* One client's connection. */
struct conn {
	struct echo_server *srv;  /* the server it belongs to */
	int fd;                   /* its socket */
	char *buf;                /* the echo not sent yet: buf[head..len) */
	size_t head, len, cap;    /* where it starts, ends, and the room in buf */
	int eof;                  /* the client has closed its side: read no more */
	uint32_t events;          /* what the loop watches fd for now */
	struct conn *prev, *next; /* every open connection, for echo_stop() */
};

struct echo_server {
	struct loop *loop;  /* the loop it runs on */
	int lfd;            /* the listening socket */
	struct conn *conns; /* the open connections */
};

/* ==== Time ==== */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ==== The timer heap ==== */

static int timer_before(const struct timer *a, const struct timer *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void timer_swap(struct timer *a, struct timer *b)
{
	struct timer t = *a;

	*a = *b;
	*b = t;
}

/* Put the timer at the end of the heap where it belongs: move it up past later ones. */
static void heap_up(struct timer *h, size_t i)
{
	while (i > 0 && timer_before(&h[i], &h[(i - 1) / 2])) {
		timer_swap(&h[i], &h[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

/* Put the timer at the root where it belongs: move it down past earlier ones. */
static void heap_down(struct timer *h, size_t n)
{
	size_t i = 0, first;

	for (;;) {
		first = i;
		if (2 * i + 1 < n && timer_before(&h[2 * i + 1], &h[first]))
			first = 2 * i + 1;
		if (2 * i + 2 < n && timer_before(&h[2 * i + 2], &h[first]))
			first = 2 * i + 2;
		if (first == i)
			return;
		timer_swap(&h[i], &h[first]);
		i = first;
	}
}

/* Take the earliest timer out of the heap (which must not be empty). */
static struct timer heap_pop(struct loop *loop)
{
	struct timer t = loop->heap[0];

	loop->heap[0] = loop->heap[--loop->ntimers];
	heap_down(loop->heap, loop->ntimers);
	return t;
}

/* ==== The event loop ==== */

struct loop *loop_create(void)
{
	struct loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	return loop;
}

/* Make room in watch[] for fd. 0, or -1 (ENOMEM). */
static int watch_grow(struct loop *loop, int fd)
{
	int n = loop->nwatch ? loop->nwatch : 64;
	struct watch *w;

	if (fd < loop->nwatch)
		return 0;
	while (n <= fd)
		n *= 2;
	w = realloc(loop->watch, (size_t)n * sizeof(*w));
	if (!w)
		return -1;
	memset(w + loop->nwatch, 0, (size_t)(n - loop->nwatch) * sizeof(*w));
	loop->watch = w;
	loop->nwatch = n;
	return 0;
}

static int watched(const struct loop *loop, int fd)
{
	return fd >= 0 && fd < loop->nwatch && loop->watch[fd].cb;
}

int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_cb *cb, void *ctx)
{
	/* data.fd, not a pointer: an event for a descriptor deleted meanwhile finds no callback. */
	struct epoll_event ev = {.events = events, .data.fd = fd};

	if (fd < 0 || !cb) {
		errno = EINVAL;
		return -1;
	}
	if (watched(loop, fd)) {
		errno = EEXIST;
		return -1;
	}
	if (watch_grow(loop, fd) < 0 || epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	loop->watch[fd] = (struct watch){cb, ctx};
	return 0;
}

int loop_mod_fd(struct loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	if (!watched(loop, fd)) {
		errno = ENOENT;
		return -1;
	}
	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
}

int loop_del_fd(struct loop *loop, int fd)
{
	if (!watched(loop, fd)) {
		errno = ENOENT;
		return -1;
	}
	loop->watch[fd].cb = NULL; /* the rest of this round's events for fd are skipped */
	return epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int loop_add_timer(struct loop *loop, long ms, loop_timer_cb *cb, void *ctx)
{
	struct timer *h;

	if (ms < 0 || !cb) {
		errno = EINVAL;
		return -1;
	}
	if (loop->ntimers == loop->cap) {
		size_t cap = loop->cap ? 2 * loop->cap : 16;

		h = realloc(loop->heap, cap * sizeof(*h));
		if (!h)
			return -1;
		loop->heap = h;
		loop->cap = cap;
	}
	loop->heap[loop->ntimers] =
	    (struct timer){now_ns() + (uint64_t)ms * 1000000u, loop->seq++, cb, ctx};
	heap_up(loop->heap, loop->ntimers++);
	return 0;
}

/* How long epoll_wait() may wait: until the earliest timer (rounded up), or for ever. */
static int wait_ms(const struct loop *loop)
{
	uint64_t now = now_ns(), left;

	if (loop->ntimers == 0)
		return -1;
	if (loop->heap[0].due <= now)
		return 0;
	left = (loop->heap[0].due - now + 999999) / 1000000; /* never wake up early, then spin */
	return left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * Call every timer due now. Those that these callbacks add (seq from
 * first_new on) wait for the next round: a callback that adds a 0 ms timer
 * again and again must not keep the loop here for ever.
 */
static void run_timers(struct loop *loop)
{
	uint64_t now = now_ns(), first_new = loop->seq;

	while (loop->ntimers > 0 && loop->heap[0].due <= now && loop->heap[0].seq < first_new) {
		struct timer t = heap_pop(loop); /* out of the heap first: cb may add timers */

		t.cb(loop, t.ctx);
	}
}

int loop_run(struct loop *loop)
{
	struct epoll_event ev[LOOP_MAX_EVENTS];

	loop->stopping = 0;
	while (!loop->stopping) {
		int n = epoll_wait(loop->epfd, ev, LOOP_MAX_EVENTS, wait_ms(loop));

		if (n < 0 && errno != EINTR)
			return -1;
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			/* An earlier callback of this round may have deleted fd: look again. */
			if (watched(loop, fd))
				loop->watch[fd].cb(loop, fd, ev[i].events, loop->watch[fd].ctx);
		}
		run_timers(loop);
	}
	return 0;
}

void loop_stop(struct loop *loop)
{
	loop->stopping = 1;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	close(loop->epfd);
	free(loop->watch);
	free(loop->heap);
	free(loop);
}

/* ==== A connection ==== */

static void conn_close(struct conn *c)
{
	loop_del_fd(c->srv->loop, c->fd);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->buf);
	free(c);
}

/* Make room for ECHO_CHUNK more bytes at the end of the buffer. 0, or -1 (ENOMEM). */
static int conn_reserve(struct conn *c)
{
	size_t cap = c->cap ? c->cap : ECHO_CHUNK;
	char *b;

	if (c->head > 0) { /* what was sent makes room at the front */
		memmove(c->buf, c->buf + c->head, c->len - c->head);
		c->len -= c->head;
		c->head = 0;
	}
	while (cap - c->len < ECHO_CHUNK)
		cap *= 2;
	if (cap == c->cap)
		return 0;
	b = realloc(c->buf, cap);
	if (!b)
		return -1;
	c->buf = b;
	c->cap = cap;
	return 0;
}

/* Read once into the buffer. 0 (data, end of file or nothing yet), or -1 (drop). */
static int conn_read(struct conn *c)
{
	ssize_t n;

	if (conn_reserve(c) < 0)
		return -1;
	n = recv(c->fd, c->buf + c->len, ECHO_CHUNK, 0);
	if (n > 0)
		c->len += (size_t)n;
	else if (n == 0)
		c->eof = 1;
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return -1; /* ECONNRESET and friends */
	return 0;
}

/* Send as much of the buffer as the socket takes. 0, or -1 (drop). */
static int conn_flush(struct conn *c)
{
	while (c->head < c->len) {
		ssize_t n = send(c->fd, c->buf + c->head, c->len - c->head, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0; /* the socket is full: the rest waits for EPOLLOUT */
		if (n < 0)
			return -1;
		c->head += (size_t)n;
	}
	free(c->buf); /* all sent: an idle connection holds no buffer */
	c->buf = NULL;
	c->head = c->len = c->cap = 0;
	return 0;
}

/* Watch what the connection needs now. 0, or -1 when it is finished or loop_mod_fd fails. */
static int conn_update(struct conn *c)
{
	size_t queued = c->len - c->head;
	uint32_t want =
	    (queued > 0 ? EPOLLOUT : 0) | (!c->eof && queued < ECHO_HIGH_WATER ? EPOLLIN : 0);

	if (want == 0)
		return -1; /* end of file and everything sent: done */
	if (want != c->events && loop_mod_fd(c->srv->loop, c->fd, want) < 0)
		return -1;
	c->events = want;
	return 0;
}

static void conn_event(struct loop *loop, int fd, uint32_t events, void *ctx)
{
	struct conn *c = ctx;

	(void)loop;
	(void)fd;
	if ((c->events & EPOLLIN) && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && conn_read(c) < 0)
		goto drop;
	if (conn_flush(c) < 0 || conn_update(c) < 0)
		goto drop;
	return;
drop:
	conn_close(c);
}

/* Serve the new socket fd. 0, or -1 (fd is left to the caller). */
static int conn_open(struct echo_server *srv, int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -1;
	c->srv = srv;
	c->fd = fd;
	c->events = EPOLLIN;
	if (loop_add_fd(srv->loop, fd, EPOLLIN, conn_event, c) < 0) {
		free(c);
		return -1;
	}
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	return 0;
}

/* ==== The echo server ==== */

/* Edge-triggered: this wake-up may stand for many connections, so take them all. */
static void on_accept(struct loop *loop, int lfd, uint32_t events, void *ctx)
{
	(void)loop;
	(void)events;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (fd < 0)
			return; /* EAGAIN: the backlog is empty (or EMFILE: try again later) */
		if (conn_open(ctx, fd) < 0)
			close(fd);
	}
}

/* A non-blocking socket listening on 127.0.0.1 at port; the port bound in *bound. */
static int listen_loopback(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in addr = {.sin_family = AF_INET};
	socklen_t alen = sizeof(addr);
	int fd, one = 1, saved;

	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
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

struct echo_server *echo_start(struct loop *loop, uint16_t port, uint16_t *bound)
{
	struct echo_server *srv = calloc(1, sizeof(*srv));
	int saved;

	if (!srv)
		return NULL;
	srv->loop = loop;
	srv->lfd = listen_loopback(port, bound);
	if (srv->lfd < 0)
		goto fail;
	if (loop_add_fd(loop, srv->lfd, EPOLLIN | EPOLLET, on_accept, srv) < 0)
		goto fail;
	return srv;
fail:
	saved = errno;
	if (srv->lfd >= 0)
		close(srv->lfd);
	free(srv);
	errno = saved;
	return NULL;
}

void echo_stop(struct echo_server *srv)
{
	if (!srv)
		return;
	while (srv->conns)
		conn_close(srv->conns);
	loop_del_fd(srv->loop, srv->lfd);
	close(srv->lfd);
	free(srv);
}
