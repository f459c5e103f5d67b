/*
 * Lab 08: message queues — a POSIX work queue with task_done and join,
 * producers and consumers stopped by poison pills, and System V's message
 * queues. Your work goes here.
 *
 * Each function's contract is in msgqueue.h: read it first. Work top to
 * bottom; wq_run uses everything in part 1. Grade with `make grade LAB=08`,
 * try by hand with `make run LAB=08`.
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

/* TODO(08): the count of unfinished tasks must be seen by every process of the queue, so it
 * lives in a mapping all of them share: mmap(NULL, size, PROT_READ | PROT_WRITE,
 * MAP_SHARED | MAP_ANONYMOUS, -1, 0) before any fork. Guard it with a pthread mutex and a
 * condition variable whose attributes say PTHREAD_PROCESS_SHARED
 * (pthread_mutexattr_setpshared, pthread_condattr_setpshared), e.g.
 *	struct wq_shared { pthread_mutex_t lock; pthread_cond_t idle; long unfinished; };
 * A long in plain malloc'd memory would NOT do: after fork, each process counts on its own copy.
 */

/* TODO(08): define the queue's handle. Suggested fields:
 *	mqd_t mq;                  the descriptor mq_open returned
 *	long msgsize;              the largest task, for the consumers' buffers
 *	char name[NAME_MAX + 2];   the name, for mq_unlink
 *	struct wq_shared *shared;  the join count
 */
struct wq {
	int unused; /* TODO(08): replace with your fields */
};

/* ==== Part 1: a POSIX work queue ==== */

struct wq *wq_create(const char *name, long maxmsg, long msgsize)
{
	/* TODO(08): struct mq_attr attr = {.mq_maxmsg = maxmsg, .mq_msgsize = msgsize}; then
	 * mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr). Without &attr you get
	 * the defaults (10 messages of 8192 bytes), whatever was asked. */
	/* TODO(08): map and initialise the shared count (see above). */
	/* TODO(08): on failure undo what you did, in reverse order; mq_unlink only a queue YOU
	 * created: when mq_open fails with EEXIST, the queue of that name belongs to someone else. */
	(void)name;
	(void)maxmsg;
	(void)msgsize;
	errno = ENOSYS;
	return NULL;
}

int wq_put(struct wq *q, const void *task, size_t len, unsigned prio, long timeout_ms)
{
	/* TODO(08): len above msgsize: EMSGSIZE. len > 0: add one to the unfinished count BEFORE
	 * sending — a consumer may take the task and call wq_task_done() before mq_send returns. */
	/* TODO(08): timeout_ms < 0: mq_send(). Otherwise mq_timedsend() with an ABSOLUTE deadline
	 * on CLOCK_REALTIME: clock_gettime(CLOCK_REALTIME, &t), add the milliseconds, and carry
	 * tv_nsec over into tv_sec when it reaches 1000000000 (or the call fails with EINVAL).
	 * Compute it once, before the loop: on EINTR, try again with the same deadline. */
	/* TODO(08): if the send failed, take the task back off the count (saving errno). */
	(void)q;
	(void)task;
	(void)len;
	(void)prio;
	(void)timeout_ms;
	errno = ENOSYS;
	return -1;
}

ssize_t wq_get(struct wq *q, void *buf, size_t cap, unsigned *prio, long timeout_ms)
{
	/* TODO(08): mq_receive(), or mq_timedreceive() with a deadline made as in wq_put; retry
	 * EINTR. Pass cap straight through: mq_receive insists that it be at least mq_msgsize. */
	(void)q;
	(void)buf;
	(void)cap;
	(void)prio;
	(void)timeout_ms;
	errno = ENOSYS;
	return -1;
}

int wq_task_done(struct wq *q)
{
	/* TODO(08): under the lock: if the count is already 0, EINVAL; else subtract one, and when
	 * it reaches 0, pthread_cond_broadcast() so that every process in wq_join() wakes up. */
	(void)q;
	errno = ENOSYS;
	return -1;
}

int wq_join(struct wq *q)
{
	/* TODO(08): under the lock: while the count is above 0, pthread_cond_wait(). An empty queue
	 * (mq_getattr's mq_curmsgs == 0) is NOT the same: the last tasks may still be in hand. */
	(void)q;
	errno = ENOSYS;
	return -1;
}

int wq_close(struct wq *q)
{
	/* TODO(08): mq_close, munmap the shared count, free the handle. */
	(void)q;
	errno = ENOSYS;
	return -1;
}

int wq_destroy(struct wq *q)
{
	/* TODO(08): mq_unlink(name) — the name goes now, the queue once the last process has
	 * closed it — then wq_close(). Forget mq_unlink and the queue outlives your program: look
	 * in /dev/mqueue (mount -t mqueue none /dev/mqueue if it is not there). */
	(void)q;
	errno = ENOSYS;
	return -1;
}

/* ==== Part 2: producers and consumers ==== */

/* TODO(08): helpers, each a few lines:
 *   a consumer's loop: malloc a buffer of msgsize bytes; while wq_get(..., -1) returns a
 *     task (> 0): consume it, then wq_task_done(); stop on 0 (the pill); return the status;
 *   reaping one child by pid, telling whether it exited with status 0;
 *   starting child i: fork; the child _exit()s with the consumer loop's status, or with what
 *     produce(q, id, arg) returned. It must never return into wq_run. */

int wq_run(const struct wq_plan *plan)
{
	/* TODO(08): check the plan (EINVAL), wq_create(), then fork every consumer and every
	 * producer. If a fork fails, remember errno and go on to the cleanup with those started. */
	/* TODO(08): wait for the producers: then every task is in the queue. wq_join(): every task
	 * is done. Then put one poison pill (len 0, priority 0, so it queues behind any task) PER
	 * CONSUMER started — each consumer eats exactly one — then wait for the consumers. */
	/* TODO(08): wq_destroy(), and return how many children did not exit with status 0. */
	(void)plan;
	errno = ENOSYS;
	return -1;
}

/* ==== Part 3: System V message queues ==== */

/* TODO(08): msgsnd and msgrcv take a pointer to a struct whose first member is the long type:
 *	struct svq_msg { long mtype; char mtext[SVQ_MSG_MAX]; };
 * and their size argument is the size of mtext's content only — not sizeof(struct svq_msg). */

int svq_create(void)
{
	/* TODO(08): msgget(IPC_PRIVATE, IPC_CREAT | 0600). */
	errno = ENOSYS;
	return -1;
}

int svq_send(int id, long type, const void *buf, size_t len)
{
	/* TODO(08): EINVAL for type < 1 or len > SVQ_MSG_MAX. Fill a struct svq_msg, then
	 * msgsnd(id, &m, len, 0) — flags 0: wait while the queue is full — retrying EINTR. */
	(void)id;
	(void)type;
	(void)buf;
	(void)len;
	errno = ENOSYS;
	return -1;
}

ssize_t svq_recv(int id, long type, void *buf, size_t cap, long *type_out, int wait)
{
	/* TODO(08): msgrcv(id, &m, cap, type, wait ? 0 : IPC_NOWAIT), retrying EINTR; no
	 * MSG_NOERROR, so that a message longer than cap fails with E2BIG and stays queued. Copy
	 * the text to buf, the type to *type_out, return the length msgrcv returned. */
	(void)id;
	(void)type;
	(void)buf;
	(void)cap;
	(void)type_out;
	(void)wait;
	errno = ENOSYS;
	return -1;
}

int svq_remove(int id)
{
	/* TODO(08): msgctl(id, IPC_RMID, NULL). */
	(void)id;
	errno = ENOSYS;
	return -1;
}
