/*
 * Lab 14, atomics: your implementation of atomics.h.
 *
 * Three pieces, one lesson: when threads or processes share memory without
 * a lock, every access that another side may touch at the same time must be
 * atomic, and the memory order of each atomic says what else becomes
 * visible with it. acquire on taking, release on publishing.
 *  1. a spinlock: an atomic_bool, an exchange and a store;
 *  2. a lock-free ring for one producer and one consumer: two indices, each
 *     written by one side only, on cache lines of their own;
 *  3. the same ring with a mutex and two condition variables, process-shared.
 *
 * Read atomics.h for the exact contract, then follow the TODOs in order.
 * `make run LAB=14` runs the demo; `make grade LAB=14` grades this file.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"

#define SPINS 64 /* pauses before a waiter starts yielding the CPU */

/* ==== Waiting politely (done for you) ==== */

/* Tell the CPU this is a spin-wait loop (it saves power and a pipeline flush). */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ volatile("yield");
#endif
}

/*
 * One round of waiting: a pause for the first SPINS rounds, then a yield,
 * so that the thread we wait for can run even if it shares our core. Start
 * each wait with int rounds = 0 and call backoff(&rounds) once a round.
 */
static void backoff(int *rounds)
{
	if (*rounds < SPINS) {
		++*rounds;
		cpu_relax();
	} else {
		sched_yield();
	}
}

/*
 * TODO(14): return true when capacity is a power of two between 1 and
 * RING_MAX_CAPACITY. A power of two has exactly one bit set, so
 * capacity & (capacity - 1) is 0 (and capacity is not 0).
 */
static bool capacity_ok(size_t capacity)
{
	(void)capacity;
	return false;
}

/* ==== A spinlock ==== */

void spin_init(struct spinlock *s)
{
	/* TODO(14): atomic_init(&s->locked, false). */
	(void)s;
}

void spin_lock(struct spinlock *s)
{
	/*
	 * TODO(14): take the lock with ONE read-modify-write:
	 *
	 *	while (atomic_exchange_explicit(&s->locked, true, memory_order_acquire))
	 *		wait;
	 *
	 * The exchange returns the old value: false means it was free and is
	 * now yours. Not `if (!atomic_load(...)) atomic_store(..., true)`: two
	 * threads can both load false before either stores, and both go in.
	 *
	 * acquire: the reads and writes of your critical section cannot move
	 * before the moment you took the lock, and you see everything the last
	 * holder wrote before its release.
	 */

	/*
	 * TODO(14): "wait" is the second "test" of test-and-test-and-set:
	 * while (atomic_load_explicit(&s->locked, memory_order_relaxed))
	 * backoff(&rounds);. A load leaves the cache line shared by every
	 * waiter; an exchange in a tight loop would pull the line away from the
	 * holder each time, and slow down the one thread that can make progress.
	 */
	(void)s;
}

int spin_trylock(struct spinlock *s)
{
	/* TODO(14): one exchange, with acquire; if it returns true, errno = EBUSY and -1. */
	(void)s;
	errno = ENOSYS;
	return -1;
}

void spin_unlock(struct spinlock *s)
{
	/*
	 * TODO(14): atomic_store_explicit(&s->locked, false,
	 * memory_order_release). release: everything written in the critical
	 * section becomes visible before the lock looks free. With
	 * memory_order_relaxed the next holder may read stale data, and
	 * ThreadSanitizer will say so.
	 */
	(void)s;
}

/* ==== A lock-free single-producer single-consumer ring ==== */

/*
 * TODO(14): the layout is part of the lesson.
 *  - head and tail count items from 0 and never wrap by hand: item i lives
 *    in slots[i & mask]. Then tail - head is the count, even after size_t
 *    overflows, and a full ring (tail - head == capacity) is told apart
 *    from an empty one (head == tail) without wasting a slot.
 *  - head is written only by the consumer, tail only by the producer. Put
 *    each on a cache line of its own with alignas(CACHE_LINE), and start the
 *    slots on a new line too; mask, read by both and never written after
 *    ring_init, may share a line with neither index. Two indices on one
 *    64-byte line bounce between the two cores at every push and pop.
 *  - No pointer: the slots are a flexible array member at the end, found
 *    from the ring's own address in every process that maps it.
 */
struct spsc_ring {
	size_t mask;         /* capacity - 1; read-only after ring_init */
	_Atomic size_t head; /* items popped: written by the consumer only */
	_Atomic size_t tail; /* items pushed: written by the producer only */
	uint64_t slots[];    /* item i lives in slots[i & mask] */
};

size_t ring_size(size_t capacity)
{
	if (!capacity_ok(capacity)) {
		errno = EINVAL;
		return 0;
	}
	/* TODO(14): the header and the slots: sizeof(struct spsc_ring) + capacity * 8. */
	errno = ENOSYS;
	return 0;
}

struct spsc_ring *ring_init(void *mem, size_t capacity)
{
	/*
	 * TODO(14): EINVAL for a NULL mem, a mem not aligned to CACHE_LINE
	 * ((uintptr_t)mem % CACHE_LINE), or a bad capacity. Then set mask and
	 * atomic_init both indices to 0, and return mem. Allocate nothing: the
	 * ring is the caller's memory, maybe shared with another process.
	 */
	(void)mem;
	(void)capacity;
	errno = ENOSYS;
	return NULL;
}

int ring_try_push(struct spsc_ring *r, uint64_t item)
{
	/*
	 * TODO(14): tail = a relaxed load of r->tail (only you write it);
	 * head = an ACQUIRE load of r->head: the consumer released head only
	 * after it had read the slot, and you are about to overwrite it. If
	 * tail - head == capacity: EAGAIN, -1, nothing written.
	 */

	/*
	 * TODO(14): store the item in r->slots[tail & r->mask] (a plain store
	 * is right: no one reads this slot until you publish it), THEN publish
	 * with atomic_store_explicit(&r->tail, tail + 1, memory_order_release).
	 * The release makes the slot's write visible before the new tail. With
	 * relaxed, or in the other order, the consumer can see tail move and
	 * read the slot's old content.
	 */
	(void)r;
	(void)item;
	errno = ENOSYS;
	return -1;
}

int ring_try_pop(struct spsc_ring *r, uint64_t *item)
{
	/*
	 * TODO(14): the mirror image. head = relaxed load (yours); tail =
	 * ACQUIRE load (it pairs with the producer's release, so the slot's
	 * item is visible); if head == tail: EAGAIN, -1, *item untouched. Copy
	 * the slot to *item, THEN atomic_store_explicit(&r->head, head + 1,
	 * memory_order_release), which hands the slot back to the producer.
	 */
	(void)r;
	(void)item;
	errno = ENOSYS;
	return -1;
}

/* Done for you: a waiting loop around the call that never waits. spin_lock's is yours. */
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

/* TODO(14): one mutex and two condition variables guard plain indices here. */
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
	/* TODO(14): as ring_size, for struct mutex_ring. */
	if (!capacity_ok(capacity)) {
		errno = EINVAL;
		return 0;
	}
	errno = ENOSYS;
	return 0;
}

struct mutex_ring *mring_init(void *mem, size_t capacity)
{
	/*
	 * TODO(14): EINVAL checks as in ring_init. Then a pthread_mutexattr_t
	 * and a pthread_condattr_t, each set to PTHREAD_PROCESS_SHARED
	 * (pthread_mutexattr_setpshared, pthread_condattr_setpshared): glibc
	 * wakes a private one's sleepers only in its own process, so a consumer
	 * in a child would sleep for ever. Init the mutex and both condition
	 * variables with them, destroying what you made if a later init fails
	 * (goto), and destroy the attribute objects in every case. pthread
	 * calls return an error number: store it in errno and return NULL.
	 */
	(void)mem;
	(void)capacity;
	errno = ENOSYS;
	return NULL;
}

int mring_push(struct mutex_ring *r, uint64_t item)
{
	/*
	 * TODO(14): lock; while (full) pthread_cond_wait(&r->not_full,
	 * &r->lock); store at tail & mask, tail++; signal not_empty; unlock.
	 * A while, not an if: a wake-up is a hint, the state is the truth.
	 */
	(void)r;
	(void)item;
	errno = ENOSYS;
	return -1;
}

int mring_pop(struct mutex_ring *r, uint64_t *item)
{
	/* TODO(14): the mirror image: wait on not_empty, take at head, signal not_full. */
	(void)r;
	(void)item;
	errno = ENOSYS;
	return -1;
}

int mring_destroy(struct mutex_ring *r)
{
	/* TODO(14): destroy both condition variables and the mutex; report the first error. */
	(void)r;
	errno = ENOSYS;
	return -1;
}
