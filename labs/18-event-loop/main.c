/*
 * Lab 18's demo: one thread serves hundreds of clients.
 *
 *	make run LAB=18                  500 clients at once against the echo server
 *	make run LAB=18 ARGS='-n 1000'   1000 clients (each takes a descriptor on both sides)
 *	make run LAB=18 ARGS='-s 30'     serve 30 s: try it with nc 127.0.0.1 PORT
 *
 * The server (loop_create, echo_start, loop_run) runs in a child process,
 * with a timer that reports every half second how many connections it holds.
 * The parent opens N connections, all at the same time, sends on every one
 * and checks every echo through one poll() loop, then counts the server's
 * threads: one.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventloop.h"
#include "ipclab.h"

#define MSG_LEN 2000 /* bytes each client sends */

struct demo {
	struct loop *loop; /* the server's loop */
	int base_fds;      /* the server's descriptors before any client */
	int ticks_left;    /* timer rounds before the server stops (-1: never) */
};

/* A timer's callback that adds the next timer: every 500 ms, say how many connections. */
static void tick(struct loop *loop, void *ctx)
{
	struct demo *d = ctx;

	printf("  [server] %d connections open\n", proc_count_fds(0) - d->base_fds);
	fflush(stdout);
	if (d->ticks_left > 0 && --d->ticks_left == 0)
		loop_stop(loop);
	else if (loop_add_timer(loop, 500, tick, d) < 0)
		err_die("loop_add_timer:");
}

static void on_stop(struct loop *loop, int fd, uint32_t events, void *ctx)
{
	(void)fd;
	(void)events;
	(void)ctx;
	loop_stop(loop);
}

/*
 * Serve until stopfd becomes readable, or after ticks rounds of the timer;
 * report the port on portfd (or print it, when portfd is -1).
 */
static void serve(int stopfd, int portfd, int ticks)
{
	struct demo d = {.ticks_left = ticks};
	struct echo_server *srv;
	uint16_t port;

	d.loop = loop_create();
	if (!d.loop)
		err_die("loop_create:");
	srv = echo_start(d.loop, 0, &port);
	if (!srv)
		err_die("echo_start:");
	d.base_fds = proc_count_fds(0);
	if (portfd < 0)
		printf("the server listens on 127.0.0.1:%u; try: nc 127.0.0.1 %u\n", port, port);
	else if (write(portfd, &port, sizeof(port)) != sizeof(port))
		err_die("write:");
	if ((stopfd >= 0 && loop_add_fd(d.loop, stopfd, EPOLLIN, on_stop, NULL) < 0) ||
	    loop_add_timer(d.loop, 500, tick, &d) < 0)
		err_die("loop_add:");
	if (loop_run(d.loop) < 0)
		err_die("loop_run:");
	echo_stop(srv);
	loop_free(d.loop);
}

/* Connect n clients at once, send MSG_LEN bytes on each, read every echo back and check it. */
static int clients(uint16_t port, int n, pid_t server)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct pollfd *p = xcalloc((size_t)n, sizeof(*p));
	size_t *got = xcalloc((size_t)n, sizeof(*got));
	char *wrong = xcalloc((size_t)n, 1);
	char msg[MSG_LEN], buf[MSG_LEN];
	int left = n, good = 0;
	struct stopwatch sw;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i++) {
		p[i] = (struct pollfd){socket(AF_INET, SOCK_STREAM, 0), POLLIN, 0};
		if (p[i].fd < 0 || connect(p[i].fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			err_die("client %d: connect:", i);
	}
	printf("%d clients connected at once; the server has %d thread(s)\n", n,
	       proc_count_threads(server));
	stopwatch_start(&sw);
	for (int i = 0; i < n; i++) {
		memset(msg, 'a' + i % 26, sizeof(msg));
		if (io_writen(p[i].fd, msg, sizeof(msg)) < 0)
			err_die("client %d: write:", i);
	}
	while (left > 0 && poll(p, (nfds_t)n, 5000) > 0) {
		for (int i = 0; i < n; i++) {
			ssize_t r;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(p[i].fd, buf, sizeof(buf) - got[i]);
			for (ssize_t k = 0; k < r; k++)
				wrong[i] |= buf[k] != 'a' + i % 26;
			got[i] += r > 0 ? (size_t)r : 0;
			if (r <= 0 || got[i] == sizeof(buf)) {
				good += got[i] == sizeof(buf) && !wrong[i];
				p[i].fd = -p[i].fd - 1; /* done: poll() skips it */
				left--;
			}
		}
	}
	printf("%d of %d clients got their %d bytes back in %.1f ms\n", good, n, MSG_LEN,
	       stopwatch_ms(&sw));
	for (int i = 0; i < n; i++)
		close(p[i].fd < 0 ? -p[i].fd - 1 : p[i].fd);
	free(p);
	free(got);
	free(wrong);
	return good == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	int n = 500, seconds = 0, c, stop[2], ports[2], status, bad;
	uint16_t port;
	pid_t pid;

	while ((c = getopt(argc, argv, "n:s:")) != -1) {
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 's')
			seconds = atoi(optarg);
		else
			err_die("usage: demo [-n CLIENTS] [-s SECONDS]");
	}
	if (n < 1 || n > 1000)
		err_die("-n: from 1 to 1000 clients");
	if (seconds > 0) { /* serve in this process, for 2 * seconds ticks of 500 ms */
		serve(-1, -1, 2 * seconds);
		return 0;
	}
	xpipe(ports);
	xpipe(stop);
	pid = xfork();
	if (pid == 0) {
		close(stop[1]);
		serve(stop[0], ports[1], -1);
		_exit(0);
	}
	close(stop[0]);
	close(ports[1]); /* the child's only: a server that failed to start gives end of file */
	if (read(ports[0], &port, sizeof(port)) != sizeof(port))
		err_die("the server did not start");
	printf("echo server on 127.0.0.1:%u\n", port);
	bad = clients(port, n, pid);
	close(stop[1]); /* end of file on the stop pipe: the server's loop stops */
	xwaitpid(pid, &status, 0);
	return bad || status != 0;
}
