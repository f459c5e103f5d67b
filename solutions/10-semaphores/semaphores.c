/*
 * Lab 10, the reference: a bounded buffer across processes with three
 * process-shared semaphores, and a limit on concurrent workers with a named
 * semaphore.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "semaphores.h"

/* sem_wait(), again after every interruption by a signal. Returns 0 or -1. */
static int wait_retry(sem_t *sem)
{
	while (sem_wait(sem) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* ==== A bounded buffer across processes ==== */

static size_t ring_bytes(unsigned slots)
{
	return sizeof(struct ring) + (size_t)slots * sizeof(uint64_t);
}

struct ring *ring_create(unsigned slots)
{
	struct ring *r;
	int saved;

	if (slots == 0 || slots > RING_MAX_SLOTS) {
		errno = EINVAL;
		return NULL;
	}
	r = mmap(NULL, ring_bytes(slots), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		 0);
	if (r == MAP_FAILED)
		return NULL;
	/* pshared = 1: the semaphores are used by every process that shares the page. */
	if (sem_init(&r->mutex, 1, 1) < 0 || sem_init(&r->empty, 1, slots) < 0 ||
	    sem_init(&r->full, 1, 0) < 0) {
		saved = errno;
		munmap(r, ring_bytes(slots));
		errno = saved;
		return NULL;
	}
	r->slots = slots;
	r->head = r->tail = 0;
	return r;
}

int ring_put(struct ring *r, uint64_t item)
{
	if (wait_retry(&r->empty) < 0) /* a free slot first, without holding the mutex */
		return -1;
	if (wait_retry(&r->mutex) < 0)
		return -1;
	r->items[r->tail] = item;
	r->tail = (r->tail + 1) % r->slots;
	if (sem_post(&r->mutex) < 0)
		return -1;
	return sem_post(&r->full);
}

int ring_get(struct ring *r, uint64_t *item)
{
	if (wait_retry(&r->full) < 0) /* an item first, without holding the mutex */
		return -1;
	if (wait_retry(&r->mutex) < 0)
		return -1;
	*item = r->items[r->head];
	r->head = (r->head + 1) % r->slots;
	if (sem_post(&r->mutex) < 0)
		return -1;
	return sem_post(&r->empty);
}

int ring_free(struct ring *r)
{
	sem_destroy(&r->mutex);
	sem_destroy(&r->empty);
	sem_destroy(&r->full);
	return munmap(r, ring_bytes(r->slots));
}

/* ==== A limit across processes: a named semaphore ==== */

/* In a worker: wait for a turn, work, give the turn back. Returns the exit status. */
static int limited_worker(sem_t *sem, int i, worker_fn *work, void *arg)
{
	int status;

	if (wait_retry(sem) < 0)
		return 1;
	status = work(i, arg);
	sem_post(sem);
	return status;
}

/* Reap the workers in pids. Returns how many did not exit with status 0. */
static int reap_all(const pid_t *pids, int n)
{
	int failed = 0;

	for (int i = 0; i < n; i++) {
		int status = 0;
		pid_t r;

		while ((r = waitpid(pids[i], &status, 0)) < 0 && errno == EINTR)
			;
		if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed;
}

int run_limited(const char *name, int nworkers, int limit, worker_fn *work, void *arg)
{
	pid_t pids[LIMITED_MAX_WORKERS];
	int started = 0, err = 0;
	sem_t *sem;

	if (nworkers < 1 || nworkers > LIMITED_MAX_WORKERS || limit < 1) {
		errno = EINVAL;
		return -1;
	}
	sem = sem_open(name, O_CREAT | O_EXCL, 0600, (unsigned)limit);
	if (sem == SEM_FAILED)
		return -1; /* EEXIST: somebody else's semaphore, leave it be */
	for (; started < nworkers; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0)
			_exit(limited_worker(sem, started, work, arg));
		pids[started] = pid;
	}
	if (reap_all(pids, started) > 0 && !err)
		err = EIO;
	sem_close(sem);   /* unmaps /dev/shm/sem.NAME from this process */
	sem_unlink(name); /* and removes the name */
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
