/*
 * Error reporting for IPC Labs' programs: one way to say what went wrong,
 * naming the call and the errno, and exiting wrappers for demos and tests.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"

/* ==== Messages ==== */

static const struct {
	int num;
	const char *name;
} errno_names[] = {
#define E(x)                                                                                       \
	{                                                                                          \
		x, #x                                                                              \
	}
    E(EPERM),       E(ENOENT),       E(ESRCH),    E(EINTR),     E(EIO),       E(ENXIO),
    E(E2BIG),       E(ENOEXEC),      E(EBADF),    E(ECHILD),    E(EAGAIN),    E(ENOMEM),
    E(EACCES),      E(EFAULT),       E(EBUSY),    E(EEXIST),    E(ENODEV),    E(ENOTDIR),
    E(EISDIR),      E(EINVAL),       E(ENFILE),   E(EMFILE),    E(ENOTTY),    E(EFBIG),
    E(ENOSPC),      E(ESPIPE),       E(EROFS),    E(EMLINK),    E(EPIPE),     E(ERANGE),
    E(EDEADLK),     E(ENAMETOOLONG), E(ENOSYS),   E(ENOTEMPTY), E(ETIMEDOUT), E(ECONNREFUSED),
    E(ECONNRESET),  E(EADDRINUSE),   E(ENOTCONN), E(EMSGSIZE),  E(EOVERFLOW), E(ENOTSOCK),
    E(ECANCELED),   E(EOPNOTSUPP),   E(EPROTO),   E(EIDRM),     E(ENOMSG),    E(ESHUTDOWN),
/* On Linux EWOULDBLOCK is EAGAIN and ENOTSUP is EOPNOTSUPP: each number gets one name. */
#if EWOULDBLOCK != EAGAIN
    E(EWOULDBLOCK),
#endif
#if ENOTSUP != EOPNOTSUPP
    E(ENOTSUP),
#endif
#undef E
};

const char *err_name(int errnum)
{
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (errno_names[i].num == errnum)
			return errno_names[i].name;
	return "E?";
}

static void vwarn(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t len = strlen(fmt);

	fflush(stdout);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	if (len > 0 && fmt[len - 1] == ':')
		fprintf(stderr, " %s (%s)", strerror(saved), err_name(saved));
	fputc('\n', stderr);
	errno = saved;
}

void err_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void err_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(1);
}

/* ==== Exiting wrappers ==== */

pid_t xfork(void)
{
	pid_t pid = fork();

	if (pid < 0)
		err_die("fork:");
	return pid;
}

void xpipe(int fds[2])
{
	if (pipe(fds) < 0)
		err_die("pipe:");
}

void xclose(int fd)
{
	if (close(fd) < 0)
		err_die("close(%d):", fd);
}

void xdup2(int oldfd, int newfd)
{
	if (dup2(oldfd, newfd) < 0)
		err_die("dup2(%d, %d):", oldfd, newfd);
}

pid_t xwaitpid(pid_t pid, int *status, int options)
{
	pid_t r;

	do
		r = waitpid(pid, status, options);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		err_die("waitpid(%d):", (int)pid);
	return r;
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		err_die("malloc(%zu):", size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		err_die("calloc(%zu, %zu):", n, size);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		err_die("strdup:");
	return p;
}

void xpthread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int err = pthread_create(t, NULL, fn, arg);

	if (err) {
		errno = err;
		err_die("pthread_create:");
	}
}

void xpthread_join(pthread_t t, void **result)
{
	int err = pthread_join(t, result);

	if (err) {
		errno = err;
		err_die("pthread_join:");
	}
}
