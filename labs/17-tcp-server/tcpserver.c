/*
 * Lab 17: a TCP server from scratch, and its client. Your work goes here.
 *
 * Each function's contract is in tcpserver.h: read it first. Work top to
 * bottom: tcp_listen, then tcp_serve (one connection at a time first, then a
 * thread for each, then the stop), then tcp_fetch and tcp_fetch_all. Write a
 * static send_all() helper first: lab 04's loop, with send(..., MSG_NOSIGNAL).
 * Grade with `make grade LAB=17`, try by hand with `make run LAB=17`.
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

/* ==== The listening socket ==== */

int tcp_listen(uint16_t port, uint16_t *bound)
{
	/* TODO(17): a struct sockaddr_in, zeroed: sin_family = AF_INET, sin_port = htons(port),
	 * sin_addr.s_addr = htonl(INADDR_LOOPBACK). Both numbers go in network byte order. */
	/* TODO(17): socket(AF_INET, SOCK_STREAM, 0), then setsockopt(SO_REUSEADDR, 1) BEFORE
	 * bind(): after a server stops, its connections linger 60 s in TIME_WAIT, and without
	 * the option a restarted server's bind() fails with EADDRINUSE all that time. */
	/* TODO(17): bind(), listen(fd, SOMAXCONN), then getsockname() to learn the port the
	 * kernel chose for port 0: *bound = ntohs(addr.sin_port). On an error, close the socket
	 * (keep errno) and return -1. */
	(void)port;
	(void)bound;
	errno = ENOSYS;
	return -1;
}

/* ==== The server ==== */

int tcp_serve(int lfd, int stopfd, tcp_handler *handle, void *arg)
{
	/* TODO(17): one connection, in a function of its own: recv() into a TCP_LINE_MAX buffer
	 * until a '\n' has come (the request may arrive in pieces), replace it by '\0', call
	 * handle(arg, line, reply, TCP_REPLY_MAX) with a malloc'd reply buffer, send the n bytes
	 * it returns (n >= 0), close the socket. End of file, an error or TCP_LINE_MAX bytes
	 * without '\n': close without calling the handler. */
	/* TODO(17): send with MSG_NOSIGNAL: a client that has gone makes send() fail with EPIPE
	 * (drop it) instead of raising SIGPIPE, which would kill the whole server. */
	/* TODO(17): the loop: poll() lfd and stopfd together (retry EINTR). stopfd readable (any
	 * revents): stop. lfd readable: accept() (retry EINTR and ECONNABORTED), then serve the
	 * connection on a new thread, and go straight back to poll(): a server that serves the
	 * connection itself before accepting the next serves one client at a time. */
	/* TODO(17): remember every thread (a linked list of connections); join those that have
	 * finished from time to time, so that a long-running server does not hoard them. */
	/* TODO(17): at the stop: close(lfd) first — the port is free from then on — then join
	 * every connection's thread, free what you allocated, and return 0. */
	(void)lfd;
	(void)stopfd;
	(void)handle;
	(void)arg;
	errno = ENOSYS;
	return -1;
}

/* ==== The client ==== */

int tcp_fetch(uint16_t port, const char *req, char *reply, size_t cap, size_t *len)
{
	/* TODO(17): EINVAL when req holds a '\n' or is longer than TCP_LINE_MAX - 1. */
	/* TODO(17): socket(), connect() to 127.0.0.1:port (as in tcp_listen, htons and htonl),
	 * then send req and its '\n' in full (send_all). */
	/* TODO(17): recv() into reply + used until recv() returns 0: the server's end of file is
	 * the end of the reply. One recv() is not enough: TCP hands over what has arrived. When
	 * used reaches cap, one more recv() of a single byte tells whether the reply is exactly
	 * cap bytes (it returns 0) or too long (EMSGSIZE). */
	/* TODO(17): close the socket on every path (save errno first), store *len, return 0. */
	(void)port;
	(void)req;
	(void)reply;
	(void)cap;
	(void)len;
	errno = ENOSYS;
	return -1;
}

int tcp_fetch_all(uint16_t port, struct tcp_request *r, int n)
{
	/* TODO(17): EINVAL when n < 0 or n > TCP_FETCH_MAX. */
	/* TODO(17): for each request, set r[i].err = 0 and r[i].len = 0, then pthread_create a
	 * thread that calls tcp_fetch() and stores errno in r[i].err on failure. Each thread
	 * needs the port and its own request: give each its own argument struct, in an array
	 * (never one variable reused by the loop). */
	/* TODO(17): only once ALL threads are started, join them all. Joining each right after
	 * creating it makes the requests one after another: no faster than a loop of
	 * tcp_fetch(). */
	/* TODO(17): return 0 if every r[i].err is 0; otherwise errno = the first one, -1. */
	(void)port;
	(void)r;
	(void)n;
	errno = ENOSYS;
	return -1;
}
