/*
 * Lab 19: a manager process. Your work goes here.
 *
 * Each function's contract is in manager.h: read it first, the protocol
 * above all. Work top to bottom: the frame helpers (lab 16's, with static
 * in front), the namespace, the manager process, then the client, then
 * mgr_race(). Grade with `make grade LAB=19`, try by hand with
 * `make run LAB=19`.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "manager.h"

/*
 * TODO(19): write the static helpers you need first:
 *  - send_all() and recv_all(): loop over short counts, retry EINTR, send with
 *    MSG_NOSIGNAL (a client that has gone gives EPIPE instead of a SIGPIPE that
 *    kills the whole manager);
 *  - frame_send() and frame_recv(): a 4-byte htonl() length, then exactly that
 *    many bytes — never recv() "as much as fits": the bytes after the frame
 *    belong to the next request;
 *  - put64()/get64() with htobe64()/be64toh(), put32()/get32() with htonl()/ntohl().
 */

/*
 * TODO(19): the namespace lives in the manager process only: a table of
 * MGR_NAMES_MAX entries, each a name and either a counter (an int64_t) or a
 * list (a length and MGR_LIST_MAX values), and ONE pthread_mutex_t that every
 * request holds from the moment it looks a name up until it has written its
 * answer: that is what makes an ADD atomic.
 */

/* ==== The manager ==== */

/*
 * TODO(19): a static function that answers one request body into a response
 * body: check the name's length (1..MGR_NAME_MAX, no NUL) and the operand's
 * length for the operation (else status EPROTO), lock, look the name up,
 * apply the operation, unlock. Status ENOENT for an unknown name, EINVAL for a
 * list where a counter is wanted (or the reverse), ENOSPC when full.
 */

/*
 * TODO(19): a static thread function that serves one client: frame_recv() a
 * request, answer it, frame_send() the response, until frame_recv() returns
 * anything but 1 (the client left, tore a frame, sent a frame too long) or a
 * send fails (EPIPE: it left). Then close its socket. One client's trouble
 * never ends the manager.
 */

struct manager *manager_start(const char *path)
{
	/* TODO(19): path must fit in sun_path with its NUL: else ENAMETOOLONG. */
	/* TODO(19): something at path? lstat(). Not a socket: EADDRINUSE, leave it alone. A
	 * socket: connect() to it. Connected: a live manager is there, EADDRINUSE. ECONNREFUSED:
	 * a stale file from a manager that died: unlink() it. */
	/* TODO(19): socket(), bind(), listen() HERE, in the owner, before fork(): a client may
	 * connect as soon as manager_start() returns. */
	/* TODO(19): socketpair() for the stop channel, then fork(). The child closes the owner's
	 * end (or the owner's death never looks like end of file), then loops: poll() the
	 * listening socket and its end of the stop channel; stop readable: _exit(0); listening
	 * socket readable: accept() and start a thread for the client (pthread_detach it). Never
	 * serve a client in this loop, and never fork per client: one namespace, one process. */
	/* TODO(19): the owner closes the listening socket and the manager's end, and fills in a
	 * malloc'd struct manager. On any error undo what was done (close, unlink what bind
	 * created) and keep errno. */
	(void)path;
	errno = ENOSYS;
	return NULL;
}

int manager_stop(struct manager *m)
{
	/* TODO(19): shutdown(m->stopfd, SHUT_WR): the manager sees end of file even if children
	 * you forked hold copies of stopfd (close() would only drop yours). */
	/* TODO(19): waitpid() the manager (retry EINTR), close stopfd, unlink m->path, free m.
	 * Return the exit status, or 128 + the signal that killed it. */
	(void)m;
	errno = ENOSYS;
	return -1;
}

/* ==== The client ==== */

int mgr_connect(const char *path)
{
	/* TODO(19): the same address as manager_start() (share a static helper), socket(),
	 * connect(). On failure close the socket, keep connect()'s errno, return -1. */
	(void)path;
	errno = ENOSYS;
	return -1;
}

/*
 * TODO(19): one static helper that every call below uses: check the name
 * (EINVAL), send the request frame (4-byte length, op, name length, name,
 * operand), receive the response frame; end of stream instead of an answer is
 * ECONNRESET; a nonzero status byte becomes errno.
 */

int mgr_get(int fd, const char *name, int64_t *value)
{
	/* TODO(19): MGR_GET, no operand; the answer is 8 bytes, big-endian. */
	(void)fd;
	(void)name;
	(void)value;
	errno = ENOSYS;
	return -1;
}

int mgr_set(int fd, const char *name, int64_t value)
{
	/* TODO(19): MGR_SET with the value, 8 bytes big-endian (htobe64). */
	(void)fd;
	(void)name;
	(void)value;
	errno = ENOSYS;
	return -1;
}

int mgr_add(int fd, const char *name, int64_t delta, int64_t *value)
{
	/* TODO(19): ONE MGR_ADD request. Not mgr_get() then mgr_set(): another client can set
	 * the counter between the two, and its increment is lost. */
	(void)fd;
	(void)name;
	(void)delta;
	(void)value;
	errno = ENOSYS;
	return -1;
}

int mgr_setlist(int fd, const char *name, const int64_t *values, size_t n)
{
	/* TODO(19): n > MGR_LIST_MAX: EINVAL. MGR_SETLIST with a 4-byte count, then the values. */
	(void)fd;
	(void)name;
	(void)values;
	(void)n;
	errno = ENOSYS;
	return -1;
}

int mgr_append(int fd, const char *name, int64_t value)
{
	/* TODO(19): ONE MGR_APPEND request. Fetching the list, appending to your copy and setting
	 * it back loses the appends other clients make in between. */
	(void)fd;
	(void)name;
	(void)value;
	errno = ENOSYS;
	return -1;
}

int64_t *mgr_list(int fd, const char *name, size_t *n)
{
	/* TODO(19): MGR_GETLIST; check that the answer's length is 4 + 8 * count (else EPROTO);
	 * malloc a new array for the caller (at least 1 byte: never NULL on success), never a
	 * static buffer or one kept in your code: the copy is the caller's. */
	(void)fd;
	(void)name;
	(void)n;
	errno = ENOSYS;
	return NULL;
}

int mgr_close(int fd)
{
	/* TODO(19): close the connection. */
	(void)fd;
	errno = ENOSYS;
	return -1;
}

/* ==== The lost update, measured ==== */

int mgr_race(const char *path, const char *name, int nprocs, int times, enum mgr_race_way way,
	     int64_t *total)
{
	/* TODO(19): check the arguments (EINVAL). Connect, mgr_set(name, 0). */
	/* TODO(19): fork() nprocs children, ALL of them before any waitpid(). Each child closes
	 * the parent's connection, opens its own, adds one times times (mgr_add, or mgr_get then
	 * mgr_set), closes it and leaves with _exit(0), or _exit(1) on an error. */
	/* TODO(19): reap every child (EIO if one did not exit with 0), then mgr_get() the total
	 * and close the connection. */
	(void)path;
	(void)name;
	(void)nprocs;
	(void)times;
	(void)way;
	(void)total;
	errno = ENOSYS;
	return -1;
}
