/*
 * Lab 18: an event loop on epoll, and an echo server on top of it that serves
 * every client from one thread. Your work goes here.
 *
 * Each function's contract is in eventloop.h: read it first. Work top to
 * bottom: loop_create and loop_free; loop_add_fd, loop_mod_fd, loop_del_fd
 * and loop_run with descriptors only, and loop_stop; then the timers; then
 * echo_start (the listening socket and its accept loop), the connections,
 * and echo_stop. The structs below are a suggestion: change them as you
 * like, they are yours. Grade with `make grade LAB=18`, try by hand with
 * `make run LAB=18`.
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
	uint64_t seq;      /* the order it was added in */
	loop_timer_cb *cb; /* what to call */
	void *ctx;         /* its argument */
};

struct loop {
	int epfd;            /* the epoll instance */
	struct watch *watch; /* watch[fd], for fd < nwatch: grow it with realloc */
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

/* ==== The event loop ==== */

struct loop *loop_create(void)
{
	/* TODO(18): calloc the loop, then epoll_create1(EPOLL_CLOEXEC); if that fails, free the
	 * loop and return NULL (errno is epoll_create1's). */
	errno = ENOSYS;
	return NULL;
}

int loop_add_fd(struct loop *loop, int fd, uint32_t events, loop_fd_cb *cb, void *ctx)
{
	/* TODO(18): EINVAL for fd < 0 or a NULL cb; EEXIST when watch[fd].cb is already set. */
	/* TODO(18): grow the table so that watch[fd] exists (realloc, zero the new entries). */
	/* TODO(18): epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) with ev.events = events and
	 * ev.data.fd = fd — the descriptor, not a pointer: loop_run() looks the callback up in
	 * the table at the last moment, and finds none for a descriptor deleted meanwhile. Only
	 * once epoll_ctl has succeeded, store cb and ctx in watch[fd]. */
	(void)loop;
	(void)fd;
	(void)events;
	(void)cb;
	(void)ctx;
	errno = ENOSYS;
	return -1;
}

int loop_mod_fd(struct loop *loop, int fd, uint32_t events)
{
	/* TODO(18): ENOENT unless fd is watched; then epoll_ctl(EPOLL_CTL_MOD). */
	(void)loop;
	(void)fd;
	(void)events;
	errno = ENOSYS;
	return -1;
}

int loop_del_fd(struct loop *loop, int fd)
{
	/* TODO(18): ENOENT unless fd is watched. Clear watch[fd].cb FIRST: epoll_wait() may
	 * already have returned an event for fd in this round, and loop_run() must skip it. Then
	 * epoll_ctl(EPOLL_CTL_DEL). Never close fd: it is the caller's. */
	(void)loop;
	(void)fd;
	errno = ENOSYS;
	return -1;
}

int loop_add_timer(struct loop *loop, long ms, loop_timer_cb *cb, void *ctx)
{
	/* TODO(18): EINVAL for ms < 0 or a NULL cb. The deadline is now + ms, in nanoseconds of
	 * clock_gettime(CLOCK_MONOTONIC): never the wall clock, which can jump. */
	/* TODO(18): append {due, seq++, cb, ctx} to the heap (realloc when full), then move it up
	 * while it comes before its parent (i - 1) / 2: "before" is an earlier due, or the same
	 * due and a smaller seq. The earliest timer is then always heap[0]. */
	(void)loop;
	(void)ms;
	(void)cb;
	(void)ctx;
	errno = ENOSYS;
	return -1;
}

int loop_run(struct loop *loop)
{
	/* TODO(18): clear loop->stopping, then round after round until it is set: */
	/* TODO(18): the timeout: -1 (for ever) with no timer; else the ms left until heap[0]'s
	 * deadline, ROUNDED UP (rounded down, the loop wakes up a little early, finds nothing
	 * due, and spins); 0 if it is already due. */
	/* TODO(18): n = epoll_wait(epfd, events, LOOP_MAX_EVENTS, timeout); EINTR is no error
	 * (n = 0), any other error returns -1. For each event, fd = ev.data.fd: if watch[fd].cb
	 * is still set, call it with (loop, fd, ev.events, watch[fd].ctx). */
	/* TODO(18): then the timers: take the time once; while heap[0] is due and was added
	 * before this round began (seq), pop it — the last timer moves to the root and down past
	 * its earlier children — and only then call it: its callback may add timers. */
	(void)loop;
	errno = ENOSYS;
	return -1;
}

void loop_stop(struct loop *loop)
{
	/* TODO(18): set loop->stopping; loop_run() looks at it at the end of each round. */
	(void)loop;
}

void loop_free(struct loop *loop)
{
	/* TODO(18): NULL: nothing to do. Close epfd; free the table, the heap and the loop. The
	 * descriptors that were watched stay open: they are not the loop's. */
	(void)loop;
}

/* ==== The echo server ==== */

struct echo_server *echo_start(struct loop *loop, uint16_t port, uint16_t *bound)
{
	/* TODO(18): socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0). Non-blocking:
	 * the accept loop below must end with EAGAIN, not wait in accept() — the whole server
	 * would wait with it. Then SO_REUSEADDR, bind() 127.0.0.1 (htonl(INADDR_LOOPBACK)) at
	 * htons(port), listen(fd, SOMAXCONN), getsockname() and *bound = ntohs(sin_port). */
	/* TODO(18): loop_add_fd(loop, lfd, EPOLLIN | EPOLLET, on_accept, srv). Edge-triggered: a
	 * burst of 200 connections may be ONE wake-up. So on_accept loops: accept4(lfd, NULL,
	 * NULL, SOCK_NONBLOCK | SOCK_CLOEXEC) until it fails with EAGAIN (retry EINTR and
	 * ECONNABORTED); each new socket gets a struct conn, watched for EPOLLIN
	 * (level-triggered), with the conn as ctx. */
	/* TODO(18): a connection's callback, level-triggered, never blocking:
	 *  1. if watching EPOLLIN and the events say EPOLLIN, EPOLLHUP or EPOLLERR: recv() once, at
	 *     most ECHO_CHUNK bytes, at the end of the buffer (make room: move the unsent bytes to
	 *     the front, or realloc). > 0: append; 0: end of file, set eof; -1 with EAGAIN or
	 *     EINTR: nothing now; another error: close the connection;
	 *  2. send(fd, buf + head, len - head, MSG_NOSIGNAL) while anything is left: advance head
	 *     by what it took; EINTR: again; EAGAIN: stop, the rest waits; another error: close;
	 *  3. the events it needs now: EPOLLOUT if anything is left to send (never otherwise: an
	 *     idle socket is always writable, and the loop would spin), EPOLLIN if not eof and
	 *     fewer than ECHO_HIGH_WATER bytes wait. Neither: eof and all sent — close. Changed:
	 *     loop_mod_fd(). */
	/* TODO(18): closing a connection: loop_del_fd(), close(), unlink it from the list, free
	 * its buffer and itself. On any error in echo_start, undo everything (keep errno) and
	 * return NULL. */
	(void)loop;
	(void)port;
	(void)bound;
	errno = ENOSYS;
	return NULL;
}

void echo_stop(struct echo_server *srv)
{
	/* TODO(18): NULL: nothing to do. Close every connection still in the list (as above),
	 * then loop_del_fd() and close() the listening socket, and free srv. */
	(void)srv;
}
