/*
 * Lab 08, the reference: a work queue on a POSIX message queue, with a
 * JoinableQueue's count of unfinished tasks in shared memory; producers and
 * consumers as processes, stopped by poison pills; System V's calls.
 *
 * The count is guarded by a process-shared mutex and condition variable in
 * an anonymous MAP_SHARED mapping: every process forked after wq_create
 * sees the same page, as Python's JoinableQueue shares a semaphore and a
 * condition. A task counts from just before it is sent — a consumer may
 * finish it before mq_send has even returned — and the count goes back down
 * if the send fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msgqueue.h"

/* The join count, in memory every process of the queue shares. */
struct wq_shared {
	pthread_mutex_t lock; /* guards unfinished */
	pthread_cond_t idle;  /* broadcast when unfinished drops to 0 */
	long unfinished;      /* tasks put and not yet marked done */
};

struct wq {
	mqd_t mq;                 /* the queue, open for reading and writing */
	long msgsize;             /* its largest task */
	char name[NAME_MAX + 2];  /* its name, for mq_unlink: '/' and up to NAME_MAX more */
	struct wq_shared *shared; /* the join count, MAP_SHARED */
};

/* ==== Part 1: a POSIX work queue ==== */

static struct wq_shared *shared_new(void)
{
	struct wq_shared *s =
	    mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;

	if (s == MAP_FAILED)
		return NULL;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&s->idle, &ca);
	pthread_condattr_destroy(&ca);
	s->unfinished = 0;
	return s;
}

struct wq *wq_create(const char *name, long maxmsg, long msgsize)
{
	struct mq_attr attr = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize};
	struct wq *q;
	int err;

	if (strlen(name) > NAME_MAX + 1) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
	if (q->mq == (mqd_t)-1)
		goto fail; /* EEXIST: not ours, so not ours to unlink either */
	strcpy(q->name, name);
	q->msgsize = msgsize;
	q->shared = shared_new();
	if (!q->shared)
		goto fail_unlink;
	return q;
fail_unlink:
	err = errno;
	mq_close(q->mq);
	mq_unlink(name);
	errno = err;
fail:
	free(q);
	return NULL;
}

/* The absolute CLOCK_REALTIME time ms milliseconds from now: what mq_timed* want. */
static struct timespec deadline_in(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += ms % 1000 * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Add delta to the unfinished count; wake the joiners when it drops to 0. */
static int count_tasks(struct wq *q, long delta)
{
	struct wq_shared *s = q->shared;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	if (s->unfinished + delta < 0) {
		r = -1; /* more task_done() than tasks */
	} else {
		s->unfinished += delta;
		if (s->unfinished == 0)
			pthread_cond_broadcast(&s->idle);
	}
	pthread_mutex_unlock(&s->lock);
	if (r < 0)
		errno = EINVAL;
	return r;
}

int wq_put(struct wq *q, const void *task, size_t len, unsigned prio, long timeout_ms)
{
	struct timespec until = deadline_in(timeout_ms > 0 ? timeout_ms : 0);
	int r, err;

	if (len > (size_t)q->msgsize) {
		errno = EMSGSIZE;
		return -1;
	}
	if (len > 0)
		count_tasks(q, +1); /* before the send: a consumer may be done with it at once */
	do
		r = timeout_ms < 0 ? mq_send(q->mq, task, len, prio)
				   : mq_timedsend(q->mq, task, len, prio, &until);
	while (r < 0 && errno == EINTR);
	if (r < 0 && len > 0) {
		err = errno;
		count_tasks(q, -1); /* it never went in */
		errno = err;
	}
	return r;
}

ssize_t wq_get(struct wq *q, void *buf, size_t cap, unsigned *prio, long timeout_ms)
{
	struct timespec until = deadline_in(timeout_ms > 0 ? timeout_ms : 0);
	ssize_t n;

	do
		n = timeout_ms < 0 ? mq_receive(q->mq, buf, cap, prio)
				   : mq_timedreceive(q->mq, buf, cap, prio, &until);
	while (n < 0 && errno == EINTR);
	return n;
}

int wq_task_done(struct wq *q)
{
	return count_tasks(q, -1);
}

int wq_join(struct wq *q)
{
	struct wq_shared *s = q->shared;
	int r = 0;

	pthread_mutex_lock(&s->lock);
	while (s->unfinished > 0 && r == 0)
		r = pthread_cond_wait(&s->idle, &s->lock);
	pthread_mutex_unlock(&s->lock);
	if (r != 0) {
		errno = r;
		return -1;
	}
	return 0;
}

int wq_close(struct wq *q)
{
	int r = mq_close(q->mq), err = errno;

	munmap(q->shared, sizeof(*q->shared));
	free(q);
	errno = err;
	return r;
}

int wq_destroy(struct wq *q)
{
	int r = mq_unlink(q->name), err = errno;

	if (wq_close(q) < 0 && r == 0)
		return -1;
	errno = err;
	return r;
}

/* ==== Part 2: producers and consumers ==== */

/* A consumer's life: tasks until a pill. Returns its exit status. */
static int consume_all(struct wq *q, const struct wq_plan *p)
{
	char *buf = malloc((size_t)p->msgsize);
	int failed = 0;
	unsigned prio;
	ssize_t n;

	if (!buf)
		return 1;
	while ((n = wq_get(q, buf, (size_t)p->msgsize, &prio, -1)) > 0) {
		failed |= p->consume(buf, (size_t)n, prio, p->arg) != 0;
		failed |= wq_task_done(q) < 0;
	}
	free(buf);
	return failed || n < 0; /* n == 0: the poison pill */
}

/* Wait for child pid; 1 when it did not exit with status 0. */
static int failed_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

/* Start child i of the plan: consumers first, then producers. Returns its pid, or -1. */
static pid_t start_child(struct wq *q, const struct wq_plan *p, int i)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (i < p->consumers)
		_exit(consume_all(q, p));
	_exit(p->produce(q, i - p->consumers, p->arg));
}

int wq_run(const struct wq_plan *p)
{
	int n = p->consumers + p->producers, started, failed = 0, err = 0;
	struct wq *q;
	pid_t *pids;

	if (p->consumers < 1 || p->producers < 0) {
		errno = EINVAL;
		return -1;
	}
	pids = malloc((size_t)n * sizeof(*pids));
	q = pids ? wq_create(p->name, p->maxmsg, p->msgsize) : NULL;
	if (!q) {
		free(pids);
		return -1;
	}
	for (started = 0; started < n; started++)
		if ((pids[started] = start_child(q, p, started)) < 0) {
			err = errno;
			break;
		}
	for (int i = p->consumers; i < started; i++)
		failed += failed_child(pids[i]); /* producers: then every task is in the queue */
	if (!err && wq_join(q) < 0)
		err = errno;
	for (int i = 0; i < started && i < p->consumers; i++)
		wq_put(q, "", 0, 0, -1); /* one pill per consumer, behind every task */
	for (int i = 0; i < started && i < p->consumers; i++)
		failed += failed_child(pids[i]);
	wq_destroy(q);
	free(pids);
	if (err) {
		errno = err;
		return -1;
	}
	return failed;
}

/* ==== Part 3: System V message queues ==== */

/* A System V message: the type, then the text. */
struct svq_msg {
	long mtype;              /* 1 or more */
	char mtext[SVQ_MSG_MAX]; /* the text; msgsnd/msgrcv sizes count only this */
};

int svq_create(void)
{
	return msgget(IPC_PRIVATE, IPC_CREAT | 0600);
}

int svq_send(int id, long type, const void *buf, size_t len)
{
	struct svq_msg m;
	int r;

	if (type < 1 || len > SVQ_MSG_MAX) {
		errno = EINVAL;
		return -1;
	}
	m.mtype = type;
	memcpy(m.mtext, buf, len);
	while ((r = msgsnd(id, &m, len, 0)) < 0 && errno == EINTR)
		;
	return r;
}

ssize_t svq_recv(int id, long type, void *buf, size_t cap, long *type_out, int wait)
{
	struct svq_msg m;
	ssize_t n;

	if (cap > SVQ_MSG_MAX)
		cap = SVQ_MSG_MAX;
	while ((n = msgrcv(id, &m, cap, type, wait ? 0 : IPC_NOWAIT)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -1;
	memcpy(buf, m.mtext, (size_t)n);
	if (type_out)
		*type_out = m.mtype;
	return n;
}

int svq_remove(int id)
{
	return msgctl(id, IPC_RMID, NULL);
}
