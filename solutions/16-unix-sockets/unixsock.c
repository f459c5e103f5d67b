/*
 * Lab 16, the reference: length-prefixed frames on AF_UNIX stream sockets, a
 * request/response server and its client, a server child on a socketpair,
 * and descriptors passed with SCM_RIGHTS.
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

/* Send all n bytes, looping over short sends and EINTR. 0, or -1. */
static int send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t w = send(fd, p + done, n - done, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

/* Receive exactly n bytes unless the peer closes first. The count, or -1. */
static ssize_t recv_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t done = 0;

	while (done < n) {
		ssize_t r = recv(fd, p + done, n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break; /* the peer closed its end */
		done += (size_t)r;
	}
	return (ssize_t)done;
}

int frame_send(int fd, const void *buf, uint32_t len)
{
	uint32_t head = htonl(len);

	if (send_all(fd, &head, sizeof(head)) < 0 || send_all(fd, buf, len) < 0)
		return -1;
	return 0;
}

int frame_recv(int fd, void *buf, size_t cap, size_t *len)
{
	uint32_t head;
	size_t n;
	ssize_t r;

	r = recv_all(fd, &head, sizeof(head));
	if (r <= 0)
		return (int)r; /* 0: closed between frames; -1: error */
	if ((size_t)r < sizeof(head))
		goto torn;
	n = ntohl(head);
	if (n > cap) {
		errno = EMSGSIZE;
		return -1;
	}
	r = recv_all(fd, buf, n);
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

/* ==== A server and its client ==== */

/* Fill addr for path ('@': abstract). Returns the address length, or -1. */
static int make_addr(const char *path, struct sockaddr_un *addr, socklen_t *alen)
{
	size_t n = strlen(path);

	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (n >= sizeof(addr->sun_path)) {
		errno = ENAMETOOLONG; /* never truncate: that would be another name */
		return -1;
	}
	memcpy(addr->sun_path, path, n);
	if (path[0] == '@') {
		addr->sun_path[0] = '\0'; /* abstract: the length says where it ends */
		*alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*alen = (socklen_t)sizeof(*addr);
	}
	return 0;
}

int usock_listen(const char *path)
{
	struct sockaddr_un addr;
	struct stat st;
	socklen_t alen;
	int fd, saved;

	if (make_addr(path, &addr, &alen) < 0)
		return -1;
	if (path[0] != '@' && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path); /* a stale socket from a server that did not clean up */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&addr, alen) < 0)
		goto fail;
	if (listen(fd, SOMAXCONN) < 0) {
		if (path[0] != '@')
			unlink(path);
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* Answer request frames on fd until the peer closes, breaks the protocol or is dropped. */
static void serve_conn(int fd, usock_handler *handle, void *arg, char *req, char *resp)
{
	size_t len;
	ssize_t n;

	while (frame_recv(fd, req, USOCK_MSG_MAX, &len) == 1) {
		n = handle(arg, req, len, resp, USOCK_MSG_MAX);
		if (n < 0 || n > USOCK_MSG_MAX || frame_send(fd, resp, (uint32_t)n) < 0)
			break;
	}
}

int usock_serve(int lfd, int nclients, usock_handler *handle, void *arg)
{
	char *req = malloc(USOCK_MSG_MAX), *resp = malloc(USOCK_MSG_MAX);
	int served = 0, cfd;

	if (!req || !resp)
		goto out;
	while (served < nclients) {
		cfd = accept(lfd, NULL, NULL);
		if (cfd < 0 && (errno == EINTR || errno == ECONNABORTED))
			continue;
		if (cfd < 0)
			break;
		serve_conn(cfd, handle, arg, req, resp);
		close(cfd); /* whatever went wrong, it went wrong for this client only */
		served++;
	}
out:
	free(req);
	free(resp);
	return served == nclients ? 0 : -1;
}

int usock_close(int lfd, const char *path)
{
	int r = 0, saved = 0;

	if (path[0] != '@' && unlink(path) < 0) {
		r = -1;
		saved = errno;
	}
	if (close(lfd) < 0 && r == 0) {
		r = -1;
		saved = errno;
	}
	errno = saved;
	return r;
}

int usock_connect(const char *path)
{
	struct sockaddr_un addr;
	socklen_t alen;
	int fd, saved;

	if (make_addr(path, &addr, &alen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, alen) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int usock_call(int fd, const void *req, uint32_t reqlen, void *resp, size_t cap, size_t *resplen)
{
	int r;

	if (frame_send(fd, req, reqlen) < 0)
		return -1;
	r = frame_recv(fd, resp, cap, resplen);
	if (r == 0)
		errno = ECONNRESET; /* closed without an answer */
	return r == 1 ? 0 : -1;
}

/* ==== A server process of your own: socketpair ==== */

int usock_spawn(usock_handler *handle, void *arg, pid_t *pid)
{
	int sv[2], saved;
	char *req, *resp;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	*pid = fork();
	if (*pid < 0) {
		saved = errno;
		close(sv[0]);
		close(sv[1]);
		errno = saved;
		return -1;
	}
	if (*pid == 0) {
		close(sv[0]); /* or the child never sees end of file */
		req = malloc(USOCK_MSG_MAX);
		resp = malloc(USOCK_MSG_MAX);
		if (!req || !resp)
			_exit(1);
		serve_conn(sv[1], handle, arg, req, resp);
		_exit(0);
	}
	close(sv[1]); /* the child's end is the child's */
	return sv[0];
}

int usock_finish(int fd, pid_t pid)
{
	int status;

	close(fd); /* end of file for the child: it stops serving and exits */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* ==== Passing descriptors: SCM_RIGHTS ==== */

/* A control buffer for one descriptor, aligned as a cmsghdr must be. */
union fd_control {
	char buf[CMSG_SPACE(sizeof(int))]; /* room for the header, one int and padding */
	struct cmsghdr align;              /* only for the alignment */
};

int send_fd(int sock, int fd)
{
	union fd_control ctl;
	char byte = 0;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cmsg;

	memset(&ctl, 0, sizeof(ctl));
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int recv_fd(int sock)
{
	union fd_control ctl;
	char byte;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *cmsg;
	int fds[sizeof(ctl.buf) / sizeof(int)], n = 0;

	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	while (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0)
		if (errno != EINTR)
			return -1;
	cmsg = CMSG_FIRSTHDR(&msg); /* NULL at end of stream, or for a byte alone */
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
		n = (int)((cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		memcpy(fds, CMSG_DATA(cmsg), (size_t)n * sizeof(int));
	}
	if (n == 1 && !(msg.msg_flags & MSG_CTRUNC))
		return fds[0];
	while (n > 0)
		close(fds[--n]); /* they arrived all the same: they are ours to close */
	errno = EPROTO;
	return -1;
}

ssize_t recv_file(int sock, void *buf, size_t cap)
{
	char *p = buf;
	size_t done = 0;
	ssize_t r = 0;
	int fd = recv_fd(sock), saved;

	if (fd < 0)
		return -1;
	while (done < cap) {
		r = read(fd, p + done, cap - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	saved = errno;
	close(fd); /* our own copy: nobody else will close it */
	errno = saved;
	return r < 0 ? -1 : (ssize_t)done;
}
