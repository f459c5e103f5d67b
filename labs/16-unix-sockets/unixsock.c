/*
 * Lab 16: Unix domain sockets. Your work goes here.
 *
 * Each function's contract is in unixsock.h: read it first. Work top to
 * bottom; each part builds on the one before. Write two small static helpers
 * of your own first, send_all() and recv_all(): the loops of lab 04, with
 * send() and recv() in place of write() and read().
 * Grade with `make grade LAB=16`, try by hand with `make run LAB=16`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unixsock.h"

/* ==== Frames ==== */

int frame_send(int fd, const void *buf, uint32_t len)
{
	/* TODO(16): the header is htonl(len): 4 bytes in network byte order, big-endian, so
	 * that a peer on any machine reads the same number. No NUL after the body. */
	/* TODO(16): send the header, then the body, each with a loop: send() may send fewer bytes
	 * than asked, or fail with EINTR; carry on from buf + done until all are sent. */
	/* TODO(16): pass MSG_NOSIGNAL as send()'s flags: a peer that has gone away then gives
	 * EPIPE, instead of a SIGPIPE that kills your whole process (a server, say). */
	(void)fd;
	(void)buf;
	(void)len;
	errno = ENOSYS;
	return -1;
}

int frame_recv(int fd, void *buf, size_t cap, size_t *len)
{
	/* TODO(16): receive exactly 4 header bytes with a loop: recv() hands over what has
	 * arrived, which may be one byte. 0 bytes then end of stream: return 0 (clean close).
	 * 1 to 3 bytes then end of stream: errno = EPROTO, return -1. */
	/* TODO(16): ntohl() the header; above cap: errno = EMSGSIZE, return -1 before reading
	 * anything into buf. */
	/* TODO(16): receive exactly that many bytes into buf — never ask recv() for more: the
	 * bytes after this frame belong to the next one. Short: EPROTO. Then *len, return 1. */
	(void)fd;
	(void)buf;
	(void)cap;
	(void)len;
	errno = ENOSYS;
	return -1;
}

/* ==== A server and its client ==== */

int usock_listen(const char *path)
{
	/* TODO(16): a struct sockaddr_un, zeroed, sun_family = AF_UNIX. If strlen(path) does not
	 * fit in sun_path with its NUL, fail with ENAMETOOLONG: a truncated name is another
	 * name. */
	/* TODO(16): '@' first: the abstract namespace. sun_path[0] = '\0', the name's bytes
	 * after it, and the address length is offsetof(struct sockaddr_un, sun_path) + strlen
	 * (path): exactly the name, or trailing zeros become part of it. */
	/* TODO(16): a file-system name: if lstat() says path is a socket (S_ISSOCK), it is stale,
	 * left by a server that did not clean up: unlink() it. Anything else stays, and bind()
	 * then fails with EADDRINUSE. */
	/* TODO(16): socket(AF_UNIX, SOCK_STREAM, 0), bind(), listen(fd, SOMAXCONN). On an error,
	 * close the socket (and unlink the file if bind() had made it), keep errno, return -1. */
	(void)path;
	errno = ENOSYS;
	return -1;
}

int usock_serve(int lfd, int nclients, usock_handler *handle, void *arg)
{
	/* TODO(16): malloc a request and a response buffer of USOCK_MSG_MAX bytes each. */
	/* TODO(16): nclients times: accept() (retry on EINTR and ECONNABORTED); then, on that
	 * connection, loop: frame_recv() a request; 1 → n = handle(arg, req, len, resp,
	 * USOCK_MSG_MAX); n < 0 or frame_send() failing ends this client; anything but 1 from
	 * frame_recv() (end of stream, torn frame, too big) ends it too. close() it, go on. */
	/* TODO(16): one client's trouble is that client's only: never return -1 for it. */
	(void)lfd;
	(void)nclients;
	(void)handle;
	(void)arg;
	errno = ENOSYS;
	return -1;
}

int usock_close(int lfd, const char *path)
{
	/* TODO(16): unlink(path) (not for an '@' name: nothing in the file system), then
	 * close(lfd). Without the unlink, the next server to start meets a stale file. */
	(void)lfd;
	(void)path;
	errno = ENOSYS;
	return -1;
}

int usock_connect(const char *path)
{
	/* TODO(16): the same address as usock_listen() (share a static helper), socket(), then
	 * connect(). On failure close the socket before returning -1, keeping connect()'s errno
	 * (ENOENT: no such file; ECONNREFUSED: nobody listening). */
	(void)path;
	errno = ENOSYS;
	return -1;
}

int usock_call(int fd, const void *req, uint32_t reqlen, void *resp, size_t cap, size_t *resplen)
{
	/* TODO(16): frame_send() the request, frame_recv() the answer. frame_recv() returning 0
	 * means the server closed without answering: errno = ECONNRESET, return -1. */
	(void)fd;
	(void)req;
	(void)reqlen;
	(void)resp;
	(void)cap;
	(void)resplen;
	errno = ENOSYS;
	return -1;
}

/* ==== A server process of your own: socketpair ==== */

int usock_spawn(usock_handler *handle, void *arg, pid_t *pid)
{
	/* TODO(16): socketpair(AF_UNIX, SOCK_STREAM, 0, sv): two connected sockets, no name. */
	/* TODO(16): fork(). In the child: close(sv[0]) FIRST — a child that keeps the parent's
	 * end never sees end of file when the parent closes its copy — then serve requests on
	 * sv[1] as usock_serve() does for one connection (share a static helper), _exit(0). */
	/* TODO(16): in the parent: close(sv[1]), store the pid, return sv[0]. If fork() fails,
	 * close both ends. */
	(void)handle;
	(void)arg;
	(void)pid;
	errno = ENOSYS;
	return -1;
}

int usock_finish(int fd, pid_t pid)
{
	/* TODO(16): close(fd) first — that is the child's end of file — then waitpid(pid)
	 * (retry EINTR) and decode: WEXITSTATUS, or 128 + WTERMSIG for a killed child. */
	(void)fd;
	(void)pid;
	errno = ENOSYS;
	return -1;
}

/* ==== Passing descriptors: SCM_RIGHTS ==== */

int send_fd(int sock, int fd)
{
	/* TODO(16): one byte of data in an iovec: on a stream socket, control data rides on
	 * ordinary data, and with none it is never sent. */
	/* TODO(16): a control buffer of CMSG_SPACE(sizeof(int)) bytes, aligned for a cmsghdr (a
	 * union with a struct cmsghdr does it) and zeroed; msg_control and msg_controllen point
	 * at it. cmsg = CMSG_FIRSTHDR(&msg): level SOL_SOCKET, type SCM_RIGHTS, cmsg_len =
	 * CMSG_LEN(sizeof(int)); memcpy the fd into CMSG_DATA(cmsg). */
	/* TODO(16): sendmsg(sock, &msg, MSG_NOSIGNAL), retry EINTR. Do not close fd: the caller
	 * owns it; the receiver gets a copy of its own. */
	(void)sock;
	(void)fd;
	errno = ENOSYS;
	return -1;
}

int recv_fd(int sock)
{
	/* TODO(16): recvmsg() one byte with a control buffer like send_fd()'s (retry EINTR). 0:
	 * the peer closed: EPROTO. */
	/* TODO(16): cmsg = CMSG_FIRSTHDR(&msg) may be NULL (a byte came without a descriptor):
	 * check it, then its level (SOL_SOCKET) and type (SCM_RIGHTS). It carries n =
	 * (cmsg_len - CMSG_LEN(0)) / sizeof(int) descriptors: memcpy them out of
	 * CMSG_DATA(cmsg). */
	/* TODO(16): n == 1 and no MSG_CTRUNC in msg.msg_flags: return that descriptor.
	 * Otherwise every descriptor that arrived is already open in your process (a peer can
	 * send more than you asked for): close each one, then errno = EPROTO, return -1. */
	(void)sock;
	errno = ENOSYS;
	return -1;
}

ssize_t recv_file(int sock, void *buf, size_t cap)
{
	/* TODO(16): fd = recv_fd(sock); read() from it until it returns 0 or buf is full. */
	/* TODO(16): close(fd) on every path: it is a new entry in this process's table, and
	 * nobody else will ever close it. */
	(void)sock;
	(void)buf;
	(void)cap;
	errno = ENOSYS;
	return -1;
}
