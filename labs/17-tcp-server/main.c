/*
 * Lab 17's demo: concurrent web requests, against a server of our own.
 *
 *	make run LAB=17                      10 requests, each taking the server 100 ms
 *	make run LAB=17 ARGS='-n 40 -d 50'   40 requests of 50 ms
 *	make run LAB=17 ARGS='-s 30'         serve for 30 s: try it with nc or telnet
 *
 * The server (tcp_serve, on a thread of this process) answers every request
 * line after a delay, the way a slow web server would. The client fetches N
 * pages one after another with tcp_fetch, then all N at once with
 * tcp_fetch_all, and prints both times: waiting on the network is where
 * concurrency pays, even on one core.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipclab.h"
#include "tcpserver.h"

struct demo_server {
	int lfd;          /* the listening socket */
	uint16_t port;    /* its port, chosen by the kernel */
	int stop[2];      /* a byte on stop[1] stops tcp_serve */
	long delay_ms;    /* how long each request takes */
	pthread_t thread; /* the thread running tcp_serve */
};

/* A slow page: wait, then answer with the request's name. */
static ssize_t slow_page(void *arg, const char *req, char *reply, size_t cap)
{
	const struct demo_server *s = arg;

	clock_sleep_ms(s->delay_ms);
	return snprintf(reply, cap, "the page \"%s\", after %ld ms\n", req, s->delay_ms);
}

static void *serve(void *arg)
{
	struct demo_server *s = arg;

	if (tcp_serve(s->lfd, s->stop[0], slow_page, s) < 0)
		err_warn("tcp_serve:");
	return NULL;
}

static void server_start(struct demo_server *s)
{
	s->lfd = tcp_listen(0, &s->port);
	if (s->lfd < 0)
		err_die("tcp_listen:");
	xpipe(s->stop);
	xpthread_create(&s->thread, serve, s);
}

static void server_stop(struct demo_server *s)
{
	if (write(s->stop[1], "x", 1) != 1)
		err_die("write:");
	xpthread_join(s->thread, NULL);
	xclose(s->stop[0]);
	xclose(s->stop[1]);
}

/* N requests, one after another, then all at once; print both times. */
static void compare(uint16_t port, int n)
{
	struct tcp_request *r = xcalloc((size_t)n, sizeof(*r));
	char(*names)[32] = xcalloc((size_t)n, sizeof(*names));
	char(*pages)[128] = xcalloc((size_t)n, sizeof(*pages));
	struct stopwatch sw;
	double one_by_one, at_once;
	size_t len;

	for (int i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "/page/%d", i);
		r[i] = (struct tcp_request){names[i], pages[i], sizeof(pages[i]), 0, 0};
	}
	stopwatch_start(&sw);
	for (int i = 0; i < n; i++)
		if (tcp_fetch(port, names[i], pages[i], sizeof(pages[i]), &len) < 0)
			err_die("tcp_fetch %s:", names[i]);
	one_by_one = stopwatch_ms(&sw);
	printf("a reply: %.*s", (int)len, pages[n - 1]);
	stopwatch_start(&sw);
	if (tcp_fetch_all(port, r, n) < 0)
		err_die("tcp_fetch_all:");
	at_once = stopwatch_ms(&sw);
	printf("%d requests one after another: %8.1f ms\n", n, one_by_one);
	printf("%d requests at the same time:  %8.1f ms (%.1f times faster)\n", n, at_once,
	       one_by_one / at_once);
	free(r);
	free(names);
	free(pages);
}

int main(int argc, char **argv)
{
	struct demo_server s = {.delay_ms = 100};
	int n = 10, seconds = 0, c;

	while ((c = getopt(argc, argv, "n:d:s:")) != -1) {
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'd')
			s.delay_ms = atol(optarg);
		else if (c == 's')
			seconds = atoi(optarg);
		else
			err_die("usage: demo [-n REQUESTS] [-d DELAY_MS] [-s SECONDS]");
	}
	if (n < 1 || n > TCP_FETCH_MAX)
		err_die("-n: from 1 to %d requests", TCP_FETCH_MAX);
	server_start(&s);
	printf("server on 127.0.0.1:%u, %ld ms a request\n", s.port, s.delay_ms);
	if (seconds > 0) {
		printf("try: printf 'hello\\n' | nc 127.0.0.1 %u   (for %d s)\n", s.port, seconds);
		fflush(stdout);
		clock_sleep_ms(seconds * 1000L);
	} else {
		compare(s.port, n);
	}
	server_stop(&s);
	return 0;
}
