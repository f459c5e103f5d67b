/*
 * Lab 06, the reference: a sequence-number server and its client, talking
 * through FIFOs.
 *
 * The server reads requests from its well-known FIFO, which it holds open
 * for writing too so that read() never sees end of file between clients,
 * and answers each on the client's own FIFO. A client that went away costs
 * the server one failed open() or one EPIPE, never its life: SIGPIPE is
 * ignored. SIGTERM only sets a flag; the handler has no SA_RESTART, so the
 * blocked open() or read() returns EINTR and the loop ends cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fifos.h"

/* ==== Whole reads ==== */

/* Read n bytes unless end of file comes first, retrying EINTR. Returns the count or -1. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, (char *)buf + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* ==== The server ==== */

static volatile sig_atomic_t stopping; /* set by SIGTERM */

static void on_sigterm(int sig)
{
	(void)sig;
	stopping = 1;
}

/* Ignore SIGPIPE and catch SIGTERM (no SA_RESTART), saving the old actions. */
static void signals_install(struct sigaction old[2])
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old[0]);
	sa.sa_handler = on_sigterm;
	sa.sa_flags = 0; /* no SA_RESTART: a blocked call must fail with EINTR */
	sigaction(SIGTERM, &sa, &old[1]);
}

static void signals_restore(const struct sigaction old[2])
{
	sigaction(SIGPIPE, &old[0], NULL);
	sigaction(SIGTERM, &old[1], NULL);
}

/* Send seq to client pid's FIFO in dir. Returns 0, or -1 when it cannot be answered. */
static int answer(const char *dir, pid_t pid, int seq)
{
	struct seq_response resp = {seq};
	char path[SEQ_PATH_MAX];
	ssize_t w;
	int fd;

	seq_client_path(path, sizeof(path), dir, pid);
	fd = open(path, O_WRONLY); /* waits for the client to open it for reading */
	if (fd < 0)
		return -1; /* ENOENT: it never made its FIFO, or removed it */
	w = write(fd, &resp, sizeof(resp));
	close(fd);
	return w == (ssize_t)sizeof(resp) ? 0 : -1; /* EPIPE: it went away */
}

/* Serve requests from rfd until a stop request or SIGTERM. */
static void serve_loop(int rfd, const char *dir, int next)
{
	struct seq_request req;

	while (!stopping) {
		ssize_t r = read(rfd, &req, sizeof(req));

		if (r < 0 && errno == EINTR)
			continue; /* the loop condition looks at the flag */
		if (r != (ssize_t)sizeof(req) || req.len < 0)
			continue; /* cannot happen with atomic writes: skip it */
		if (answer(dir, req.pid, next) == 0)
			next += req.len;
		if (req.len == 0)
			return;
	}
}

int seq_serve(const char *dir, int first)
{
	char path[SEQ_PATH_MAX];
	struct sigaction old[2];
	int rfd = -1, wfd = -1, saved = 0;

	stopping = 0;
	signals_install(old);
	seq_server_path(path, sizeof(path), dir);
	if (mkfifo(path, 0600) < 0 && errno != EEXIST)
		goto fail;
	do /* blocks until the first client opens it, or SIGTERM */
		rfd = open(path, O_RDONLY);
	while (rfd < 0 && errno == EINTR && !stopping);
	if (rfd < 0 && !stopping)
		goto fail_unlink;
	if (rfd >= 0) {
		wfd = open(path, O_WRONLY); /* never used: keeps end of file away */
		if (wfd < 0)
			goto fail_unlink;
		serve_loop(rfd, dir, first);
		close(wfd);
		close(rfd);
	}
	unlink(path);
	signals_restore(old);
	return 0;
fail_unlink:
	saved = errno;
	if (rfd >= 0)
		close(rfd);
	unlink(path);
	errno = saved;
fail:
	saved = errno;
	signals_restore(old);
	errno = saved;
	return -1;
}

/* ==== The client ==== */

/* One exchange with the server in dir: send {getpid(), len}, store the answer. */
static int transact(const char *dir, int len, int *seq)
{
	struct seq_request req = {getpid(), len};
	struct seq_response resp;
	char me[SEQ_PATH_MAX], server[SEQ_PATH_MAX];
	int fd, saved;
	ssize_t r;

	seq_client_path(me, sizeof(me), dir, req.pid);
	seq_server_path(server, sizeof(server), dir);
	if (mkfifo(me, 0600) < 0)
		return -1;
	fd = open(server, O_WRONLY);
	if (fd < 0)
		goto fail;
	do
		r = write(fd, &req, sizeof(req)); /* one write: atomic */
	while (r < 0 && errno == EINTR);
	close(fd);
	if (r != (ssize_t)sizeof(req))
		goto fail;
	fd = open(me, O_RDONLY); /* after the request: the server opens it once it has read it */
	if (fd < 0)
		goto fail;
	r = read_full(fd, &resp, sizeof(resp));
	close(fd);
	if (r != (ssize_t)sizeof(resp)) {
		if (r >= 0)
			errno = EPROTO;
		goto fail;
	}
	unlink(me);
	*seq = resp.seq;
	return 0;
fail:
	saved = errno;
	unlink(me);
	errno = saved;
	return -1;
}

int seq_next(const char *dir, int len, int *first)
{
	if (len < 1) {
		errno = EINVAL;
		return -1;
	}
	return transact(dir, len, first);
}

int seq_stop(const char *dir, int *next)
{
	int seq;

	if (transact(dir, 0, &seq) < 0)
		return -1;
	if (next)
		*next = seq;
	return 0;
}
