/*
 * Whole reads and writes. A pipe or a socket may move fewer bytes than asked,
 * and a signal may interrupt a call before it moves any: these loops finish
 * the job. They are the readn/writen of every serious C program.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipclab.h"

ssize_t io_readn(int fd, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = read(fd, (char *)buf + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break; /* end of file */
		done += (size_t)r;
	}
	return (ssize_t)done;
}

ssize_t io_writen(int fd, const void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(fd, (const char *)buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		done += (size_t)w;
	}
	return (ssize_t)done;
}

char *io_slurp(int fd, size_t cap, size_t *len)
{
	char *buf;
	size_t kept = 0;
	char sink[4096];

	if (cap == SIZE_MAX) { /* cap + 1 would wrap to a 0-byte buffer */
		errno = ENOMEM;
		return NULL;
	}
	buf = malloc(cap + 1);
	if (!buf)
		return NULL;
	for (;;) {
		char *dst = kept < cap ? buf + kept : sink;
		size_t room = kept < cap ? cap - kept : sizeof(sink);
		ssize_t r = read(fd, dst, room);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		if (dst == buf + kept)
			kept += (size_t)r;
	}
	buf[kept] = '\0';
	if (len)
		*len = kept;
	return buf;
}
