/*
 * Lab 14, atomics: the reference implementation of atomics.h.
 *
 * A spinlock, a lock-free single-producer single-consumer ring, and the
 * same ring with a mutex and condition variables. The lock-free ring is two
 * indices that only grow, each written by one side only and each on a cache
 * line of its own; a release store publishes, an acquire load receives.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"

#define SPINS 64 /* pauses before a waiter starts yielding the CPU */

/* ==== Waiting politely ==== */

/* Tell the CPU this is a spin-wait loop (it saves power and a pipeline flush). */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ volatile("yield");
#endif
}

/* One round of waiting: a pause for the first SPINS rounds, then a yield. */
static void backoff(int *rounds)
{
	if (*rounds < SPINS) {
		++*rounds;
		cpu_relax();
	} else {
		sched_yield();
	}
}

/* A power of two between 1 and RING_MAX_CAPACITY. */
static bool capacity_ok(size_t capacity)
{
	return capacity >= 1 && capacity <= RING_MAX_CAPACITY && (capacity & (capacity - 1)) == 0;
}

/* ==== A spinlock ==== */

void spin_init(struct spinlock *s)
{
	atomic_init(&s->locked, false);
}

void spin_lock(struct spinlock *s)
{
	int rounds = 0;

	/* Test and set: one exchange. While it is held, test with loads only. */
	while (atomic_exchange_explicit(&s->locked, true, memory_order_acquire))
		while (atomic_load_explicit(&s->locked, memory_order_relaxed))
			backoff(&rounds);
}

int spin_trylock(struct spinlock *s)
{
	if (atomic_exchange_explicit(&s->locked, true, memory_order_acquire)) {
		errno = EBUSY;
		return -1;
	}
	return 0;
}

void spin_unlock(struct spinlock *s)
{
	atomic_store_explicit(&s->locked, false, memory_order_release);
}

/* ==== A lock-free single-producer single-consumer ring ==== */

struct spsc_ring {
	alignas(CACHE_LINE) size_t mask;         /* capacity - 1; read-only after ring_init */
	alignas(CACHE_LINE) _Atomic size_t head; /* items popped: written by the consumer only */
	alignas(CACHE_LINE) _Atomic size_t tail; /* items pushed: written by the producer only */
	alignas(CACHE_LINE) uint64_t slots[];    /* item i lives in slots[i & mask] */
};

size_t ring_size(size_t capacity)
{
	if (!capacity_ok(capacity)) {
		errno = EINVAL;
		return 0;
	}
	return sizeof(struct spsc_ring) + capacity * sizeof(uint64_t);
}

struct spsc_ring *ring_init(void *mem, size_t capacity)
{
	struct spsc_ring *r = mem;

	if (!mem || (uintptr_t)mem % CACHE_LINE != 0 || !capacity_ok(capacity)) {
		errno = EINVAL;
		return NULL;
	}
	r->mask = capacity - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return r;
}

int ring_try_push(struct spsc_ring *r, uint64_t item)
{
	/* Only this side writes tail: a relaxed load of it is enough. */
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	if (tail - head > r->mask) { /* tail - head == capacity: full */
		errno = EAGAIN;
		return -1;
	}
	r->slots[tail & r->mask] = item;
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release); /* publish the slot */
	return 0;
}

int ring_try_pop(struct spsc_ring *r, uint64_t *item)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (head == tail) {
		errno = EAGAIN;
		return -1;
	}
	*item = r->slots[head & r->mask];
	atomic_store_explicit(&r->head, head + 1, memory_order_release); /* free the slot */
	return 0;
}

void ring_push(struct spsc_ring *r, uint64_t item)
{
	int rounds = 0;

	while (ring_try_push(r, item) < 0)
		backoff(&rounds);
}

uint64_t ring_pop(struct spsc_ring *r)
{
	uint64_t item;
	int rounds = 0;

	while (ring_try_pop(r, &item) < 0)
		backoff(&rounds);
	return item;
}

/* ==== The same ring with a mutex and condition variables ==== */

struct mutex_ring {
	pthread_mutex_t lock;     /* guards everything below */
	pthread_cond_t not_empty; /* a consumer sleeps here while head == tail */
	pthread_cond_t not_full;  /* a producer sleeps here while the ring is full */
	size_t mask;              /* capacity - 1 */
	size_t head;              /* items popped */
	size_t tail;              /* items pushed */
	uint64_t slots[];         /* item i lives in slots[i & mask] */
};

size_t mring_size(size_t capacity)
{
	if (!capacity_ok(capacity)) {
		errno = EINVAL;
		return 0;
	}
	return sizeof(struct mutex_ring) + capacity * sizeof(uint64_t);
}

/* Make r's mutex and condition variables, all process-shared. Returns 0 or an error number. */
static int mring_make_sync(struct mutex_ring *r)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	int err;

	if ((err = pthread_mutexattr_init(&ma)) != 0)
		return err;
	if ((err = pthread_condattr_init(&ca)) != 0)
		goto out_ma;
	if ((err = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED)) != 0 ||
	    (err = pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED)) != 0)
		goto out_ca;
	if ((err = pthread_mutex_init(&r->lock, &ma)) != 0)
		goto out_ca;
	if ((err = pthread_cond_init(&r->not_empty, &ca)) != 0)
		goto out_lock;
	if ((err = pthread_cond_init(&r->not_full, &ca)) != 0)
		goto out_not_empty;
	goto out_ca; /* made: only the attribute objects go */
out_not_empty:
	pthread_cond_destroy(&r->not_empty);
out_lock:
	pthread_mutex_destroy(&r->lock);
out_ca:
	pthread_condattr_destroy(&ca);
out_ma:
	pthread_mutexattr_destroy(&ma);
	return err;
}

struct mutex_ring *mring_init(void *mem, size_t capacity)
{
	struct mutex_ring *r = mem;
	int err;

	if (!mem || (uintptr_t)mem % CACHE_LINE != 0 || !capacity_ok(capacity)) {
		errno = EINVAL;
		return NULL;
	}
	if ((err = mring_make_sync(r)) != 0) {
		errno = err;
		return NULL;
	}
	r->mask = capacity - 1;
	r->head = r->tail = 0;
	return r;
}

int mring_push(struct mutex_ring *r, uint64_t item)
{
	int err = pthread_mutex_lock(&r->lock);

	if (err != 0)
		goto fail;
	while (err == 0 && r->tail - r->head > r->mask)
		err = pthread_cond_wait(&r->not_full, &r->lock);
	if (err == 0) {
		r->slots[r->tail++ & r->mask] = item;
		err = pthread_cond_signal(&r->not_empty);
	}
	pthread_mutex_unlock(&r->lock);
	if (err == 0)
		return 0;
fail:
	errno = err;
	return -1;
}

int mring_pop(struct mutex_ring *r, uint64_t *item)
{
	int err = pthread_mutex_lock(&r->lock);

	if (err != 0)
		goto fail;
	while (err == 0 && r->head == r->tail)
		err = pthread_cond_wait(&r->not_empty, &r->lock);
	if (err == 0) {
		*item = r->slots[r->head++ & r->mask];
		err = pthread_cond_signal(&r->not_full);
	}
	pthread_mutex_unlock(&r->lock);
	if (err == 0)
		return 0;
fail:
	errno = err;
	return -1;
}

int mring_destroy(struct mutex_ring *r)
{
	int e1 = pthread_cond_destroy(&r->not_full);
	int e2 = pthread_cond_destroy(&r->not_empty);
	int e3 = pthread_mutex_destroy(&r->lock);
	int err = e1 ? e1 : e2 ? e2 : e3;

	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
