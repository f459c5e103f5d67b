/*
 * Fault injection (see fault.h): the wrappers that the student's calls are
 * renamed to. Each asks whether this call takes a fault, decided by a
 * counter and a fixed seed, so that a run repeats exactly; otherwise it
 * calls the real function.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault.h"

#define SEED 0x1b873593u

static atomic_uint kinds_on;   /* enum fault_kind bits switched on */
static atomic_int every_n = 1; /* one call in every_n takes a fault */
static atomic_uint calls;      /* calls seen since fault_inject */
static atomic_int injected;    /* faults injected since fault_inject */
static char first[160];        /* the first fault, in words */

void fault_inject(unsigned kinds, int every)
{
	atomic_store(&calls, 0);
	atomic_store(&injected, 0);
	first[0] = '\0';
	atomic_store(&every_n, every > 0 ? every : 1);
	atomic_store(&kinds_on, kinds);
}

void fault_stop(void)
{
	atomic_store(&kinds_on, 0);
}

int fault_count(void)
{
	return atomic_load(&injected);
}

const char *fault_report(void)
{
	static char text[256];
	int n = atomic_load(&injected);

	if (n == 0)
		return "";
	snprintf(text, sizeof(text),
		 "(The grader made your calls misbehave on purpose, as a busy "
		 "system may: %s%s%d fault%s in all.)",
		 first, first[0] ? "; " : "", n, n > 1 ? "s" : "");
	return text;
}

/* A well-mixed number from the call counter and the seed (splitmix64). */
static uint64_t mix(uint64_t x)
{
	x += SEED + 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Whether this call of kind takes a fault; *r gets a random number for it. */
static int take(unsigned kind, uint64_t *r)
{
	unsigned n;

	if (!(atomic_load(&kinds_on) & kind))
		return 0;
	n = atomic_fetch_add(&calls, 1);
	*r = mix(n);
	return (n + 1) % (unsigned)atomic_load(&every_n) == 0; /* the Nth, 2Nth, ... call */
}

/* Count a fault; the first one is kept, in words, for the report. */
static void note(const char *what)
{
	if (atomic_fetch_add(&injected, 1) == 0)
		snprintf(first, sizeof(first), "%s", what);
}

/*
 * Decide the fault for an I/O call of n bytes: 0 none, -1 EINTR, or a
 * shorter count. Never two EINTRs in a row, so that a correct loop always
 * gets on.
 */
static ssize_t io_fault(const char *call, size_t n)
{
	static atomic_int last_eintr;
	unsigned on = atomic_load(&kinds_on);
	char what[96];
	uint64_t r;

	if (!take(FAULT_SHORT_IO | FAULT_EINTR, &r))
		return 0;
	int eintr = (on & FAULT_EINTR) && !atomic_load(&last_eintr) &&
		    (r % 3 == 0 || !(on & FAULT_SHORT_IO) || n < 2);
	atomic_store(&last_eintr, eintr);
	if (eintr) {
		snprintf(what, sizeof(what), "%s() failed with EINTR", call);
		note(what);
		return -1;
	}
	if (!(on & FAULT_SHORT_IO) || n < 2)
		return 0;
	size_t shorter = 1 + (size_t)(r >> 8) % (n - 1);
	snprintf(what, sizeof(what), "%s() returned %zu of %zu bytes", call, shorter, n);
	note(what);
	return (ssize_t)shorter;
}

ssize_t __ipc_fault_read(int fd, void *buf, size_t n)
{
	ssize_t f = io_fault("read", n);

	if (f < 0) {
		errno = EINTR;
		return -1;
	}
	return read(fd, buf, f ? (size_t)f : n);
}

ssize_t __ipc_fault_write(int fd, const void *buf, size_t n)
{
	ssize_t f = io_fault("write", n);

	if (f < 0) {
		errno = EINTR;
		return -1;
	}
	return write(fd, buf, f ? (size_t)f : n);
}

ssize_t __ipc_fault_send(int fd, const void *buf, size_t n, int flags)
{
	ssize_t f = io_fault("send", n);

	if (f < 0) {
		errno = EINTR;
		return -1;
	}
	return send(fd, buf, f ? (size_t)f : n, flags);
}

ssize_t __ipc_fault_recv(int fd, void *buf, size_t n, int flags)
{
	ssize_t f = io_fault("recv", n);

	if (f < 0) {
		errno = EINTR;
		return -1;
	}
	return recv(fd, buf, f ? (size_t)f : n, flags);
}

pid_t __ipc_fault_fork(void)
{
	uint64_t r;

	if (take(FAULT_FORK, &r)) {
		note("fork() failed with EAGAIN");
		errno = EAGAIN;
		return -1;
	}
	return fork();
}

int __ipc_fault_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
			       void *arg)
{
	uint64_t r;

	if (take(FAULT_THREAD, &r)) {
		note("pthread_create() failed with EAGAIN");
		return EAGAIN;
	}
	return pthread_create(t, attr, fn, arg);
}

void *__ipc_fault_malloc(size_t n)
{
	uint64_t r;

	if (take(FAULT_MALLOC, &r)) {
		note("malloc() failed with ENOMEM");
		errno = ENOMEM;
		return NULL;
	}
	return malloc(n);
}
