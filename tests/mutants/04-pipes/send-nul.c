/*
 * Mutant of lab 04, a complete replacement for pipes.c.
 *
 * Mistake: send_msg() sends the message with a NUL
 * terminator, one byte more than the frame should hold.
 *
 * Caught by: test_msg_roundtrip
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pipes.h"

/* ==== Whole reads and writes ==== */

ssize_t write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);

		if (w < 0 && errno == EINTR)
			continue; /* interrupted before writing anything: try again */
		if (w < 0)
			return -1;
		done += (size_t)w; /* a short write: carry on from there */
	}
	return (ssize_t)done;
}

ssize_t read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, p + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break; /* end of file: every write end is closed */
		done += (size_t)r;
	}
	return (ssize_t)done;
}

/* ==== Framed messages ==== */

int send_msg(int fd, const void *buf, uint32_t len)
{
	char frame[PIPE_BUF + 1];

	if (len <= sizeof(frame) - sizeof(len)) {
		/* Small enough to be atomic: header and body in one write(). */
		memcpy(frame, &len, sizeof(len));
		memcpy(frame + sizeof(len), buf, len);
		frame[sizeof(len) + len] = '\0'; /* the mistake: a NUL the frame does not count */
		return write_all(fd, frame, sizeof(len) + len + 1) < 0 ? -1 : 0;
	}
	if (write_all(fd, &len, sizeof(len)) < 0 || write_all(fd, buf, len) < 0)
		return -1;
	return 0;
}

int recv_msg(int fd, void *buf, size_t cap, size_t *len)
{
	uint32_t n;
	ssize_t r;

	r = read_all(fd, &n, sizeof(n));
	if (r <= 0)
		return (int)r; /* 0: end of file between frames; -1: error */
	if ((size_t)r < sizeof(n))
		goto torn;
	if (n > cap) {
		errno = EMSGSIZE;
		return -1;
	}
	r = read_all(fd, buf, n);
	if (r < 0)
		return -1;
	if ((size_t)r < n)
		goto torn;
	*len = n;
	return 1;
torn:
	errno = EPROTO;
	return -1;
}

/* ==== Producer and consumer ==== */

/* Receive every frame from rfd into out until end of file. Returns 0 or -1. */
static int consume(int rfd, char *out, size_t outcap, size_t *outlen)
{
	size_t used = 0, len;
	int r;

	while ((r = recv_msg(rfd, out + used, outcap - used, &len)) > 0)
		used += len;
	*outlen = used;
	return r;
}

/* Reap child pid. Returns its exit status, 128 + signal if killed, or -1. */
static int reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int producer_consumer(producer_fn *produce, void *arg, char *out, size_t outcap, size_t *outlen)
{
	int fds[2], r, status, saved;
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		saved = errno;
		close(fds[0]);
		close(fds[1]);
		errno = saved;
		return -1;
	}
	if (pid == 0) {
		close(fds[0]); /* the child only writes */
		_exit(produce(fds[1], arg));
	}
	close(fds[1]); /* or the parent itself keeps end of file from ever coming */
	r = consume(fds[0], out, outcap, outlen);
	saved = errno;
	close(fds[0]); /* before waiting: a child still writing now gets EPIPE */
	status = reap(pid);
	if (r < 0) {
		errno = saved;
		return -1;
	}
	return status;
}
