/*
 * Lab 10: semaphores shared between processes. Your work goes here.
 *
 * Each function's contract is in semaphores.h: read it first. Start with
 * ring_create() and ring_free(), then ring_put() and ring_get(), then
 * run_limited(). Grade with `make grade LAB=10`, try by hand with
 * `make run LAB=10`.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "semaphores.h"

/* ==== A bounded buffer across processes ==== */

struct ring *ring_create(unsigned slots)
{
	/* TODO(10): slots must be between 1 and RING_MAX_SLOTS, or EINVAL. */
	/* TODO(10): mmap(NULL, sizeof(struct ring) + slots * sizeof(uint64_t), PROT_READ |
	 * PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0). Not malloc(): after fork() each process
	 * would have its own copy of the ring, semaphores included, and nothing would pass. */
	/* TODO(10): sem_init(&r->mutex, 1, 1), sem_init(&r->empty, 1, slots) and
	 * sem_init(&r->full, 1, 0). The 1 in the middle is pshared: with 0 the semaphore works
	 * between threads only, and a process asleep in sem_wait() is never woken by a
	 * sem_post() from another process. */
	/* TODO(10): set slots, head = tail = 0, and return the ring. */
	(void)slots;
	errno = ENOSYS;
	return NULL;
}

int ring_put(struct ring *r, uint64_t item)
{
	/* TODO(10): write yourself a small static helper that calls sem_wait() again while it
	 * fails with EINTR: a signal handler without SA_RESTART interrupts a sleeping sem_wait(). */
	/* TODO(10): wait on empty FIRST (a free slot), THEN on mutex. The other order deadlocks on
	 * a full ring: you would sleep holding the mutex, and the consumer that would free a slot
	 * sleeps waiting for it. */
	/* TODO(10): r->items[r->tail] = item; r->tail = (r->tail + 1) % r->slots; then sem_post()
	 * the mutex, and sem_post() full: one more item for a consumer. */
	(void)r;
	(void)item;
	errno = ENOSYS;
	return -1;
}

int ring_get(struct ring *r, uint64_t *item)
{
	/* TODO(10): the mirror of ring_put(): wait on full first, then on mutex (retrying EINTR);
	 * take r->items[r->head], move head on modulo slots; post mutex, then post empty. */
	(void)r;
	(void)item;
	errno = ENOSYS;
	return -1;
}

int ring_free(struct ring *r)
{
	/* TODO(10): sem_destroy() the three semaphores, then munmap() the whole ring (the same
	 * size you mapped). */
	(void)r;
	errno = ENOSYS;
	return -1;
}

/* ==== A limit across processes: a named semaphore ==== */

int run_limited(const char *name, int nworkers, int limit, worker_fn *work, void *arg)
{
	/* TODO(10): check nworkers and limit (EINVAL). */
	/* TODO(10): sem = sem_open(name, O_CREAT | O_EXCL, 0600, limit); SEM_FAILED is the error
	 * value (not NULL). EEXIST: the name is taken, return -1 and touch nothing. The initial
	 * value IS the limit: limit workers get through sem_wait() before the next one sleeps. */
	/* TODO(10): fork the nworkers workers, keeping their pids, without waiting in the loop. In
	 * child i: sem_wait(sem) (retry EINTR), status = work(i, arg), sem_post(sem),
	 * _exit(status). */
	/* TODO(10): waitpid() every worker; one that did not exit with status 0 means EIO. */
	/* TODO(10): sem_close(sem) — the semaphore is a small file of /dev/shm mapped into your
	 * process — and sem_unlink(name), or /dev/shm/sem.NAME outlives your program. On every
	 * path, after a failed fork() too. */
	(void)name;
	(void)nworkers;
	(void)limit;
	(void)work;
	(void)arg;
	errno = ENOSYS;
	return -1;
}
