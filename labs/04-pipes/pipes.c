/*
 * Lab 04: pipes, framed messages and end of file. Your work goes here.
 *
 * Each function's contract is in pipes.h: read it first. Work top to bottom;
 * each part builds on the one before. Write the loops yourself: the point of
 * the lab is to learn them (do not call libipclab's io_readn/io_writen).
 * Grade with `make grade LAB=04`, try by hand with `make run LAB=04`.
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
	/* TODO(04): keep a count of the bytes written so far and loop while it is below n. */
	/* TODO(04): write() from buf + done, n - done bytes: a short write is normal on a pipe
	 * when a signal arrives mid-way; the next call carries on from there. */
	/* TODO(04): when write() fails with EINTR (a signal came before any byte went through),
	 * simply try again; any other error: return -1 and leave errno as write() set it. */
	(void)fd;
	(void)buf;
	(void)n;
	errno = ENOSYS;
	return -1;
}

ssize_t read_all(int fd, void *buf, size_t n)
{
	/* TODO(04): the same loop as write_all, with read(): a pipe hands over whatever is there
	 * at the moment, which may be much less than you asked for. Retry EINTR. */
	/* TODO(04): read() returning 0 means end of file (every write end is closed): stop and
	 * return what you have — it is the only case where you return fewer than n bytes. */
	(void)fd;
	(void)buf;
	(void)n;
	errno = ENOSYS;
	return -1;
}

/* ==== Framed messages ==== */

int send_msg(int fd, const void *buf, uint32_t len)
{
	/* TODO(04): a frame is the length (a uint32_t, 4 bytes, this machine's byte order) and then
	 * the len bytes. Send no NUL terminator: the length already says where the message ends. */
	/* TODO(04): when sizeof(len) + len <= PIPE_BUF, copy header and body into one local buffer
	 * and write it with a single write_all(): POSIX makes a write of at most PIPE_BUF bytes to
	 * a pipe atomic, so no other writer's frame can land between your header and your body. */
	/* TODO(04): a longer frame: write_all() the header, then write_all() the body. */
	(void)fd;
	(void)buf;
	(void)len;
	errno = ENOSYS;
	return -1;
}

int recv_msg(int fd, void *buf, size_t cap, size_t *len)
{
	/* TODO(04): read_all() the 4-byte header. 0 bytes: a clean end of file, return 0.
	 * 1 to 3 bytes: the writer died mid-frame; set errno = EPROTO and return -1. */
	/* TODO(04): a length above cap: set errno = EMSGSIZE and return -1 before reading the body,
	 * so that nothing is ever written past buf + cap. */
	/* TODO(04): read_all() the body; fewer bytes than the header promised is a torn frame
	 * (EPROTO), never a short success. Then store the length in *len and return 1 — an empty
	 * message is a message (return 1 with *len == 0), not end of file. */
	(void)fd;
	(void)buf;
	(void)cap;
	(void)len;
	errno = ENOSYS;
	return -1;
}

/* ==== Producer and consumer ==== */

int producer_consumer(producer_fn *produce, void *arg, char *out, size_t outcap, size_t *outlen)
{
	/* TODO(04): pipe(fds) then fork(); if fork() fails, close both ends before returning -1. */
	/* TODO(04): in the child: close the read end — a process that only writes has no business
	 * holding it — then _exit(produce(fds[1], arg)). Never return: the child would run the
	 * caller's code a second time. */
	/* TODO(04): in the parent: close the write end at once. The reader sees end of file only
	 * when EVERY write end is closed, its own copy included; forget it and recv_msg() waits
	 * forever after the child has gone. */
	/* TODO(04): loop recv_msg(fds[0], out + used, outcap - used, &len) while it returns 1,
	 * adding len to used; store used in *outlen. Read BEFORE waiting: a pipe holds only 64 KiB,
	 * so a child writing more blocks until someone reads, and a parent in waitpid() never will.
	 */
	/* TODO(04): close the read end, THEN waitpid() the child (retry on EINTR) — on the error
	 * path too: a child still writing gets EPIPE instead of blocking, and no zombie is left. */
	/* TODO(04): return -1 with recv_msg's errno if it failed; otherwise WEXITSTATUS(status), or
	 * 128 + WTERMSIG(status) when WIFSIGNALED(status). Save errno before close() and waitpid().
	 */
	(void)produce;
	(void)arg;
	(void)out;
	(void)outcap;
	(void)outlen;
	errno = ENOSYS;
	return -1;
}
