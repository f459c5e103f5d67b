/*
 * Lab 19, the reference: a manager process that owns a namespace of
 * counters and lists and serves it over a Unix socket, one thread per
 * client under one mutex; the client's requests; and the lost-update
 * experiment.
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

/* One name of the namespace: a counter or a list. */
struct entry {
	char name[MGR_NAME_MAX + 1]; /* "" for a free slot */
	int is_list;                 /* a list, or else a counter */
	int64_t value;               /* a counter's value */
	size_t len;                  /* a list's length */
	int64_t items[MGR_LIST_MAX]; /* a list's values */
};

/* The namespace. Only the manager process uses it, its threads under the lock. */
static struct entry table[MGR_NAMES_MAX];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

/* ==== Whole sends and receives, frames ==== */

/* Send all n bytes; a peer that has gone gives EPIPE, never SIGPIPE. 0, or -1. */
static int send_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Receive exactly n bytes. n, fewer at end of stream, or -1. */
static ssize_t recv_all(int fd, void *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t r = recv(fd, (char *)buf + done, n - done, 0);

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

/* One frame into buf (cap bytes): 1, 0 at a clean end of stream, or -1 (EPROTO, EMSGSIZE). */
static int frame_recv(int fd, void *buf, size_t cap, size_t *len)
{
	uint32_t head;
	ssize_t r = recv_all(fd, &head, 4);

	if (r <= 0)
		return (int)r;
	if (r < 4)
		goto torn;
	*len = ntohl(head);
	if (*len > cap) {
		errno = EMSGSIZE; /* the rest of the stream is out of step: stop reading it */
		return -1;
	}
	r = recv_all(fd, buf, *len);
	if (r < 0)
		return -1;
	if ((size_t)r < *len)
		goto torn;
	return 1;
torn:
	errno = EPROTO;
	return -1;
}

/* Send the body of n bytes as one frame. 0, or -1. */
static int frame_send(int fd, const void *body, size_t n)
{
	uint32_t head = htonl((uint32_t)n);

	return send_all(fd, &head, 4) < 0 ? -1 : send_all(fd, body, n);
}

static void put64(uint8_t *p, int64_t v)
{
	uint64_t be = htobe64((uint64_t)v);

	memcpy(p, &be, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static int64_t get64(const uint8_t *p)
{
	uint64_t be;

	memcpy(&be, p, 8);
	return (int64_t)be64toh(be);
}

/* ==== The namespace, in the manager ==== */

/* The entry called name, or NULL. Called with the lock held. */
static struct entry *find(const char *name)
{
	for (int i = 0; i < MGR_NAMES_MAX; i++)
		if (strcmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

/* The entry called name, made in a free slot if need be; NULL when full. */
static struct entry *find_or_make(const char *name)
{
	struct entry *e = find(name);

	if (!e && (e = find("")))
		strcpy(e->name, name);
	return e;
}

/* The entry name of the kind wanted, or NULL with the status in *st. */
static struct entry *find_kind(const char *name, int is_list, int *st)
{
	struct entry *e = find(name);

	*st = !e ? ENOENT : e->is_list != is_list ? EINVAL : 0;
	return *st ? NULL : e;
}

/*
 * The operations on counters, and on lists: op on name with its operand arg
 * (n bytes); the answer's payload goes to out, its length to *outlen.
 * Return the status. Called with the lock held: each request is done whole.
 */
static int apply_counter(int op, const char *name, const uint8_t *arg, size_t n, uint8_t *out,
			 size_t *outlen)
{
	struct entry *e;
	int st;

	if (n != (op == MGR_GET ? 0u : 8u))
		return EPROTO;
	if (op == MGR_SET) {
		if (!(e = find_or_make(name)))
			return ENOSPC;
		e->is_list = 0;
		e->value = get64(arg);
		return 0;
	}
	if (!(e = find_kind(name, 0, &st)))
		return st;
	if (op == MGR_ADD) /* unsigned: wraps around instead of overflowing */
		e->value = (int64_t)((uint64_t)e->value + (uint64_t)get64(arg));
	put64(out, e->value);
	*outlen = 8;
	return 0;
}

static int apply_list(int op, const char *name, const uint8_t *arg, size_t n, uint8_t *out,
		      size_t *outlen)
{
	struct entry *e;
	uint32_t count;
	int st;

	if (op == MGR_SETLIST) {
		if (n < 4 || (count = get32(arg)) > MGR_LIST_MAX || n != 4 + 8 * (size_t)count)
			return EPROTO;
		if (!(e = find_or_make(name)))
			return ENOSPC;
		e->is_list = 1;
		e->len = count;
		for (size_t i = 0; i < count; i++)
			e->items[i] = get64(arg + 4 + 8 * i);
		return 0;
	}
	if (n != (op == MGR_APPEND ? 8u : 0u))
		return EPROTO;
	if (!(e = find_kind(name, 1, &st)))
		return st;
	if (op == MGR_APPEND) {
		if (e->len == MGR_LIST_MAX)
			return ENOSPC;
		e->items[e->len++] = get64(arg);
		return 0;
	}
	put32(out, (uint32_t)e->len);
	for (size_t i = 0; i < e->len; i++)
		put64(out + 4 + 8 * i, e->items[i]);
	*outlen = 4 + 8 * e->len;
	return 0;
}

/* Answer the request req (len bytes) into resp; returns the response's length. */
static size_t handle(const uint8_t *req, size_t len, uint8_t *resp)
{
	char name[MGR_NAME_MAX + 1];
	size_t n = len >= 2 ? req[1] : 0, outlen = 0;
	int st = EPROTO; /* an unknown operation */

	if (n < 1 || n > MGR_NAME_MAX || len < 2 + n || memchr(req + 2, '\0', n)) {
		resp[0] = EPROTO;
		return 1;
	}
	memcpy(name, req + 2, n);
	name[n] = '\0';
	pthread_mutex_lock(&table_lock);
	if (req[0] == MGR_GET || req[0] == MGR_SET || req[0] == MGR_ADD)
		st = apply_counter(req[0], name, req + 2 + n, len - 2 - n, resp + 1, &outlen);
	else if (req[0] == MGR_APPEND || req[0] == MGR_SETLIST || req[0] == MGR_GETLIST)
		st = apply_list(req[0], name, req + 2 + n, len - 2 - n, resp + 1, &outlen);
	pthread_mutex_unlock(&table_lock);
	resp[0] = (uint8_t)st;
	return 1 + outlen;
}

/* ==== The manager process ==== */

/* A client's thread: answer its frames until it leaves or breaks the protocol. */
static void *serve_client(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t *req = malloc(MGR_MSG_MAX), *resp = malloc(MGR_MSG_MAX);
	size_t len;

	while (req && resp && frame_recv(fd, req, MGR_MSG_MAX, &len) == 1)
		if (frame_send(fd, resp, handle(req, len, resp)) < 0)
			break; /* EPIPE: the client has gone; only its connection ends */
	free(req);
	free(resp);
	close(fd);
	return NULL;
}

/* Accept one client and give it a thread of its own; a client we cannot serve is closed. */
static void accept_client(int lfd)
{
	pthread_attr_t attr;
	pthread_t t;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return; /* EAGAIN (it left already), EINTR, EMFILE...: carry on */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, serve_client, (void *)(intptr_t)fd) != 0)
		close(fd);
	pthread_attr_destroy(&attr);
}

/* The manager: accept clients until its end of the stop channel is readable, then leave. */
static void manager_main(int lfd, int stop)
{
	struct pollfd pfd[2] = {{lfd, POLLIN, 0}, {stop, POLLIN, 0}};

	for (;;) {
		int r = poll(pfd, 2, -1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || pfd[1].revents)
			break; /* end of file: the owner stopped us, or died */
		if (pfd[0].revents)
			accept_client(lfd);
	}
	_exit(0); /* the client threads end with the process */
}

/* Fill addr for path. 0, or -1 with ENAMETOOLONG (a shortened path is another path). */
static int make_addr(const char *path, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr->sun_path, path);
	return 0;
}

/* Make way at addr: 0 when free (a stale socket removed); -1, EADDRINUSE when taken. */
static int clear_stale(const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, r, saved;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EADDRINUSE; /* not ours to remove */
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	r = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
	saved = errno;
	close(fd);
	if (r == 0 || saved != ECONNREFUSED) {
		errno = r == 0 ? EADDRINUSE : saved; /* r == 0: a live manager answered */
		return -1;
	}
	return unlink(addr->sun_path); /* nobody listens: a stale file */
}

/* A non-blocking socket listening at path; -1 with nothing left behind on error. */
static int listen_at(const char *path)
{
	struct sockaddr_un addr;
	int fd, saved, bound = 0;

	if (make_addr(path, &addr) < 0 || clear_stale(&addr) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if ((bound = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) &&
	    listen(fd, SOMAXCONN) == 0)
		return fd;
	saved = errno;
	close(fd);
	if (bound)
		unlink(path);
	errno = saved;
	return -1;
}

struct manager *manager_start(const char *path)
{
	struct manager *m = calloc(1, sizeof(*m));
	int lfd = -1, sv[2] = {-1, -1}, saved;

	if (!m || (lfd = listen_at(path)) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || (m->pid = fork()) < 0)
		goto fail;
	if (m->pid == 0) {
		close(sv[0]); /* or the owner's death would never look like end of file */
		manager_main(lfd, sv[1]);
	}
	close(lfd); /* the manager owns it now */
	close(sv[1]);
	m->stopfd = sv[0];
	strcpy(m->path, path);
	return m;
fail:
	saved = errno;
	if (lfd >= 0) {
		close(lfd);
		unlink(path);
	}
	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
	free(m);
	errno = saved;
	return NULL;
}

int manager_stop(struct manager *m)
{
	int status, r, saved;

	shutdown(m->stopfd, SHUT_WR); /* end of file for the manager, whoever holds copies */
	while ((r = waitpid(m->pid, &status, 0)) < 0 && errno == EINTR)
		;
	saved = errno;
	close(m->stopfd);
	unlink(m->path); /* after the wait: nobody can accept there any more */
	free(m);
	if (r < 0) {
		errno = saved;
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ==== The client ==== */

int mgr_connect(const char *path)
{
	struct sockaddr_un addr;
	int fd, saved;

	if (make_addr(path, &addr) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/*
 * One request and its response: op on name, with the operand arg (n bytes),
 * sent as one frame. The response's body goes to resp, which holds cap
 * bytes: its status, then the payload. Returns the payload's length, or -1
 * with errno (the manager's status, or what went wrong on the way).
 */
static ssize_t call(int fd, int op, const char *name, const void *arg, size_t n, uint8_t *resp,
		    size_t cap)
{
	uint8_t head[4 + 2 + MGR_NAME_MAX];
	size_t namelen = strlen(name), len;
	int r;

	if (namelen < 1 || namelen > MGR_NAME_MAX) {
		errno = EINVAL;
		return -1;
	}
	put32(head, (uint32_t)(2 + namelen + n));
	head[4] = (uint8_t)op;
	head[5] = (uint8_t)namelen;
	memcpy(head + 6, name, namelen);
	if (send_all(fd, head, 6 + namelen) < 0 || send_all(fd, arg, n) < 0)
		return -1;
	r = frame_recv(fd, resp, cap, &len);
	if (r == 0 || (r < 0 && errno == EMSGSIZE) || (r == 1 && len < 1)) {
		errno = r == 0 ? ECONNRESET : EPROTO; /* closed instead of answering; or garbage */
		return -1;
	}
	if (r < 0)
		return -1;
	if (resp[0] != 0) {
		errno = resp[0]; /* the manager's status: ENOENT, EINVAL... */
		return -1;
	}
	return (ssize_t)(len - 1);
}

/* A request whose answer is 8 bytes (GET, ADD: value not NULL) or nothing (SET, APPEND). */
static int call64(int fd, int op, const char *name, const uint8_t *arg, int64_t *value)
{
	uint8_t resp[1 + 8];
	ssize_t len = call(fd, op, name, arg, arg ? 8 : 0, resp, sizeof(resp));

	if (len < 0)
		return -1;
	if (len != (value ? 8 : 0)) {
		errno = EPROTO;
		return -1;
	}
	if (value)
		*value = get64(resp + 1);
	return 0;
}

int mgr_get(int fd, const char *name, int64_t *value)
{
	return call64(fd, MGR_GET, name, NULL, value);
}

int mgr_set(int fd, const char *name, int64_t value)
{
	uint8_t arg[8];

	put64(arg, value);
	return call64(fd, MGR_SET, name, arg, NULL);
}

int mgr_add(int fd, const char *name, int64_t delta, int64_t *value)
{
	uint8_t arg[8];
	int64_t now;

	put64(arg, delta); /* the manager adds: no window between a get and a set */
	if (call64(fd, MGR_ADD, name, arg, &now) < 0)
		return -1;
	if (value)
		*value = now;
	return 0;
}

int mgr_append(int fd, const char *name, int64_t value)
{
	uint8_t arg[8];

	put64(arg, value);
	return call64(fd, MGR_APPEND, name, arg, NULL);
}

int mgr_setlist(int fd, const char *name, const int64_t *values, size_t n)
{
	uint8_t *arg, resp[1];
	ssize_t len;

	if (n > MGR_LIST_MAX) {
		errno = EINVAL;
		return -1;
	}
	arg = malloc(4 + 8 * n);
	if (!arg)
		return -1;
	put32(arg, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		put64(arg + 4 + 8 * i, values[i]);
	len = call(fd, MGR_SETLIST, name, arg, 4 + 8 * n, resp, sizeof(resp));
	free(arg);
	if (len > 0)
		errno = EPROTO;
	return len == 0 ? 0 : -1;
}

int64_t *mgr_list(int fd, const char *name, size_t *n)
{
	uint8_t *resp = malloc(1 + 4 + 8 * MGR_LIST_MAX);
	int64_t *values = NULL;
	ssize_t len = -1;
	uint32_t count = 0;

	if (resp)
		len = call(fd, MGR_GETLIST, name, NULL, 0, resp, 1 + 4 + 8 * MGR_LIST_MAX);
	if (len >= 4)
		count = get32(resp + 1);
	if (len >= 0 && (len < 4 || (size_t)len != 4 + 8 * (size_t)count))
		errno = EPROTO;
	else if (len >= 0)
		values = malloc(count ? 8 * count : 1); /* the caller's own copy, even when empty */
	for (size_t i = 0; values && i < count; i++)
		values[i] = get64(resp + 1 + 4 + 8 * i);
	if (values)
		*n = count;
	free(resp);
	return values;
}

int mgr_close(int fd)
{
	return close(fd);
}

/* ==== The lost update, measured ==== */

/* A child of mgr_race(): times increments on a connection of its own. Its exit status. */
static int bump(const char *path, const char *name, int times, enum mgr_race_way way)
{
	int fd = mgr_connect(path), ok = fd >= 0;
	int64_t v;

	for (int i = 0; ok && i < times; i++) {
		if (way == MGR_RACE_ADD)
			ok = mgr_add(fd, name, 1, NULL) == 0;
		else /* another client may set the counter between our get and our set */
			ok = mgr_get(fd, name, &v) == 0 && mgr_set(fd, name, v + 1) == 0;
	}
	if (fd >= 0)
		close(fd);
	return ok ? 0 : 1;
}

int mgr_race(const char *path, const char *name, int nprocs, int times, enum mgr_race_way way,
	     int64_t *total)
{
	pid_t pids[MGR_RACE_MAX];
	int fd, started = 0, err = 0, status;

	if (nprocs < 1 || nprocs > MGR_RACE_MAX || times < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = mgr_connect(path)) < 0)
		return -1;
	if (mgr_set(fd, name, 0) < 0)
		err = errno;
	for (; !err && started < nprocs; started++) { /* all of them first, then the waits */
		if ((pids[started] = fork()) < 0) {
			err = errno;
			break;
		}
		if (pids[started] == 0) {
			close(fd); /* the parent's connection is the parent's */
			_exit(bump(path, name, times, way));
		}
	}
	for (int i = 0; i < started; i++) {
		pid_t r;

		while ((r = waitpid(pids[i], &status, 0)) < 0 && errno == EINTR)
			;
		if (!err && (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0))
			err = r < 0 ? errno : EIO;
	}
	if (!err && mgr_get(fd, name, total) < 0)
		err = errno;
	close(fd);
	errno = err;
	return err ? -1 : 0;
}
