/*
 * The hidden suite of lab 14: atomics and memory order.
 *
 * A spinlock, a lock-free single-producer single-consumer ring and the same
 * ring with a mutex, driven by real threads and real processes. What a
 * wrong solution gets wrong is made to show deterministically where it can:
 *  - a spinlock that reads the lock word and then stores it in two steps is
 *    caught in between: the lock word sits alone on a read-only page, so the
 *    store faults, and the fault handler takes the lock as another thread
 *    could at that very moment; a real read-modify-write sees it taken;
 *  - a ring that holds a lock inside ring_try_push is caught holding it:
 *    the producer is stopped in the middle of its write to a slot (that
 *    slot's page is read-only, and the fault handler waits), and the
 *    consumer must meanwhile take every item pushed before;
 *  - head and tail sharing a cache line are found from the bytes each call
 *    writes: the test diffs the ring's memory around every push and pop;
 *  - a ring that keeps a pointer in shared memory is used through a second
 *    mapping of the same memory at another address.
 * Weak memory order (a tail published with memory_order_relaxed) seldom
 * shows on x86, whose stores are ordered anyway: the stress tests between
 * threads catch it in their second run, under ThreadSanitizer, which knows
 * the C11 model and reports the slot's write and read as a data race. For
 * that the test threads share nothing but the ring while they run: any
 * synchronisation of the suite's own between them would hide the race.
 * No test measures speed; every wait has a deadline and a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomics.h"
#include "suite.h"

#define CALL_MS   (2000 * slow) /* how long a call that should return may take */
#define STILL_MS  (200 * slow)  /* how long a call that must wait is watched not returning */
#define STUCK_MS  (3000 * slow) /* no progress for this long: a stress test is stuck */
#define FREEZE_MS (1500 * slow) /* how long the producer is held inside ring_try_push */
#define GUARD     256           /* bytes watched after a ring's end */
#define MARK      0xC0DE000000000000ull /* the top bits of the items the tests push */

/* ck_assert_msg without Check's mark point (a write to a pipe): for checks made in loops. */
#define EXPECT(expr, ...)                                                                          \
	do {                                                                                       \
		if (!(expr))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

static int slow = 1; /* 4 under the sanitizer, which slows everything down */

/* ==== Small helpers ==== */

static uint64_t ms_since(uint64_t start_ns)
{
	return (clock_now_ns() - start_ns) / 1000000u;
}

/* A busy-wait round for the suite's own loops: yield now and then. */
static void relax(unsigned *rounds)
{
	if (++*rounds % 16 == 0)
		sched_yield();
}

/* errno's name for a message, "none" when it is 0 (the call did not set it). */
static const char *ename(int e)
{
	return e ? err_name(e) : "none";
}

/* A wait status in words, for a message. */
static const char *status_text(int status)
{
	static char buf[96];

	proc_status_text(status, buf, sizeof(buf));
	return buf;
}

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t round_pages(size_t n)
{
	return (n + page_size() - 1) / page_size() * page_size();
}

/* ==== Ring memory: a mapping, the ring, and a guard after its end ==== */

struct region {
	unsigned char *mem; /* the mapping: the ring, then the guard */
	size_t size;        /* what ring_size() asked for */
	size_t len;         /* the mapping's length */
};

/* Map len bytes, zeroed; shared between processes when shared. */
static unsigned char *map_bytes(size_t len, bool shared)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);

	ck_assert_msg(p != MAP_FAILED, "suite: mmap of %zu bytes: %s", len, strerror(errno));
	return p;
}

/* Make a ring of capacity items in a new mapping, with a guard after it. */
static struct spsc_ring *new_ring(size_t capacity, struct region *rg, bool shared)
{
	struct spsc_ring *r;

	errno = 0;
	rg->size = ring_size(capacity);
	ck_assert_msg(rg->size > 0,
		      "ring_size(%zu) returned 0 (errno %s): expected its size in bytes", capacity,
		      ename(errno));
	ck_assert_msg(rg->size >= capacity * sizeof(uint64_t),
		      "ring_size(%zu) returned %zu: less than the %zu bytes of the slots alone",
		      capacity, rg->size, capacity * sizeof(uint64_t));
	rg->len = round_pages(rg->size + GUARD);
	rg->mem = map_bytes(rg->len, shared);
	memset(rg->mem + rg->size, 0xEE, rg->len - rg->size);
	errno = 0;
	r = ring_init(rg->mem, capacity);
	ck_assert_msg(r == (struct spsc_ring *)rg->mem,
		      "ring_init(mem, %zu) returned %p (errno %s): expected mem itself, %p",
		      capacity, (void *)r, ename(errno), (void *)rg->mem);
	return r;
}

/* Fail if the ring wrote anything after the ring_size() bytes it was given. */
static void check_guard(const struct region *rg, size_t capacity)
{
	for (size_t i = rg->size; i < rg->len; i++)
		EXPECT(rg->mem[i] == 0xEE,
		       "the ring of capacity %zu wrote at byte %zu, past the %zu bytes "
		       "ring_size(%zu) asked for: ring_size must count the header and every "
		       "slot (sizeof(struct spsc_ring) + capacity * sizeof(uint64_t))",
		       capacity, i, rg->size, capacity);
}

static void free_region(struct region *rg)
{
	munmap(rg->mem, rg->len);
}

/* Describe an item the tests pushed ("item #12"), or show it raw. */
static const char *item_text(uint64_t v)
{
	static char buf[2][64];
	static int k;

	k ^= 1;
	if ((v & 0xFFFF000000000000ull) == MARK)
		snprintf(buf[k], sizeof(buf[k]), "item #%llu", (unsigned long long)(v & ~MARK));
	else
		snprintf(buf[k], sizeof(buf[k]), "0x%llx (no item the test pushed)",
			 (unsigned long long)v);
	return buf[k];
}

/* Why item got was popped where want was due, in words. */
static const char *disorder_text(uint64_t want, uint64_t got, size_t capacity)
{
	static char buf[512];
	long long w = (long long)(want & ~MARK), g = (long long)(got & ~MARK);
	const char *why;

	if ((got & 0xFFFF000000000000ull) != MARK)
		why = "garbage: a slot that no push wrote";
	else if (g == w - (long long)capacity)
		why =
		    "the old content of the slot, one lap earlier: the consumer read the slot "
		    "before the producer's write reached it. Write the slot first, then store tail "
		    "with memory_order_release, and load tail with memory_order_acquire";
	else if (g < w)
		why = "an item already popped: popped twice, or an index moved wrongly";
	else
		why = "a later item: the ones in between were lost (overwritten, or skipped)";
	snprintf(buf, sizeof(buf), "expected %s, got %s: %s", item_text(want), item_text(got), why);
	return buf;
}

/* ==== Probes: one call in a thread of its own, watched from outside ==== */

struct probe {
	pthread_t thread;
	void (*call)(struct probe *p); /* the call under test */
	void *obj;                     /* what it works on */
	uint64_t item;                 /* its item in, or out */
	int ret;                       /* what it returned */
	atomic_int done;               /* the call returned */
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;

	p->call(p);
	atomic_store(&p->done, 1);
	return NULL;
}

static void probe_start(struct probe *p, void (*call)(struct probe *), void *obj, uint64_t item)
{
	*p = (struct probe){.call = call, .obj = obj, .item = item};
	xpthread_create(&p->thread, probe_main, p);
}

/* Wait up to ms for the probe's call to return. 1 when it did. */
static int probe_wait(struct probe *p, long ms)
{
	uint64_t start = clock_now_ns();

	while (!atomic_load(&p->done) && ms_since(start) < (uint64_t)ms)
		clock_sleep_ms(1);
	return atomic_load(&p->done);
}

/* ==== Core: the spinlock ==== */

/* Fail unless spin_init, spin_lock and spin_unlock move the lock word. */
static void check_lock_word(struct spinlock *s)
{
	memset(s, 0xff, sizeof(*s));
	spin_init(s);
	ck_assert_msg(!atomic_load(&s->locked),
		      "after spin_init the lock word s->locked is true: it must start false");
	spin_lock(s);
	ck_assert_msg(atomic_load(&s->locked),
		      "spin_lock returned, but s->locked is still false: taking the lock means "
		      "setting the lock word to true (atomic_exchange(&s->locked, true))");
	spin_unlock(s);
	ck_assert_msg(!atomic_load(&s->locked),
		      "spin_unlock left s->locked true: letting go means storing false");
}

/* What the threads of test_spin_exclusion share. */
static struct {
	struct spinlock lock;
	atomic_int ready; /* threads at the start line */
	atomic_int go;    /* the start signal */
	long plain;       /* a plain counter, safe only under the lock */
	long rounds;      /* increments each thread makes */
} sx;

static void *spin_worker(void *arg)
{
	(void)arg;
	atomic_fetch_add(&sx.ready, 1);
	while (!atomic_load(&sx.go))
		sched_yield();
	for (long i = 0; i < sx.rounds; i++) {
		spin_lock(&sx.lock);
		long v = sx.plain; /* a read, a pause, a write: two threads inside lose one */
		for (volatile int k = 0; k < 10; k++)
			;
		sx.plain = v + 1;
		spin_unlock(&sx.lock);
	}
	return NULL;
}

START_TEST(test_spin_exclusion)
{
	enum { THREADS = 4, ROUNDS = 100000 };
	pthread_t t[THREADS];
	struct spinlock word;

	check_lock_word(&word);
	spin_init(&sx.lock);
	sx.rounds = ROUNDS;
	for (int i = 0; i < THREADS; i++)
		xpthread_create(&t[i], spin_worker, NULL);
	while (atomic_load(&sx.ready) < THREADS)
		sched_yield();
	atomic_store(&sx.go, 1);
	for (int i = 0; i < THREADS; i++)
		xpthread_join(t[i], NULL);
	ck_assert_msg(sx.plain == (long)THREADS * ROUNDS,
		      "%d threads each made %d increments of a plain counter under spin_lock, and "
		      "it reads %ld: %ld updates lost, so two threads were inside at once. Take "
		      "the lock with one atomic read-modify-write (atomic_exchange with "
		      "memory_order_acquire) and let go with a release store",
		      THREADS, ROUNDS, sx.plain, (long)THREADS * ROUNDS - sx.plain);
	ck_assert_msg(!atomic_load(&sx.lock.locked), "the lock is still taken after every thread "
						     "unlocked it");
}
END_TEST

static void call_spin_lock(struct probe *p)
{
	spin_lock(p->obj);
}

static void call_spin_trylock(struct probe *p)
{
	errno = 0;
	p->ret = spin_trylock(p->obj);
	p->item = (uint64_t)errno;
}

START_TEST(test_spin_waits)
{
	struct spinlock s;
	struct probe p;

	check_lock_word(&s);
	spin_lock(&s);
	probe_start(&p, call_spin_lock, &s, 0);
	ck_assert_msg(!probe_wait(&p, STILL_MS),
		      "spin_lock returned in another thread while the test held the lock: it must "
		      "wait until the lock is free (loop until the exchange returns false)");
	spin_unlock(&s);
	ck_assert_msg(probe_wait(&p, CALL_MS),
		      "spin_lock was still waiting %d ms after the test released the lock: the "
		      "waiting loop must read s->locked again each time round (an atomic load)",
		      CALL_MS);
	xpthread_join(p.thread, NULL);
	ck_assert_msg(atomic_load(&s.locked), "spin_lock returned but the lock word is false");
	spin_unlock(&s);
}
END_TEST

/*
 * A store slipped in between a read and a write of the lock word, without
 * luck: the spinlock sits alone on a read-only page, so the first write to
 * it faults. The handler then does what another thread could have done at
 * that moment, takes the lock, makes the page writable and returns, and the
 * faulting instruction runs again. An atomic exchange (or compare-and-swap)
 * faults before it reads, and so finds the lock taken; a load followed by a
 * store has already read false, and goes in.
 */
static struct {
	unsigned char *page;  /* the page the spinlock lives on */
	size_t size;          /* the page size */
	atomic_int faults;    /* writes caught */
	struct sigaction old; /* the SIGSEGV action to restore */
} slip;

static void slip_fault(int sig, siginfo_t *si, void *ctx)
{
	unsigned char *addr = si->si_addr;

	(void)ctx;
	if (addr < slip.page || addr >= slip.page + slip.size) {
		signal(sig, SIG_DFL); /* a real crash: let it happen */
		return;
	}
	mprotect(slip.page, slip.size, PROT_READ | PROT_WRITE);
	atomic_store(&((struct spinlock *)(void *)slip.page)->locked, true); /* "another thread" */
	atomic_fetch_add(&slip.faults, 1);
}

START_TEST(test_spin_one_step)
{
	struct sigaction sa = {.sa_sigaction = slip_fault, .sa_flags = SA_SIGINFO};
	struct spinlock *s, word;
	struct probe p;
	uint64_t start;

	check_lock_word(&word);
	if (getenv("IPCLAB_SANITIZER"))
		return; /* ThreadSanitizer runs atomics in its runtime: no fault trick there */
	slip.size = page_size();
	slip.page = map_bytes(slip.size, false);
	s = (struct spinlock *)(void *)slip.page;
	spin_init(s);
	ck_assert(sigaction(SIGSEGV, &sa, &slip.old) == 0);
	ck_assert(mprotect(slip.page, slip.size, PROT_READ) == 0);
	probe_start(&p, call_spin_lock, s, 0);
	start = clock_now_ns();
	while (!atomic_load(&slip.faults) && !atomic_load(&p.done) &&
	       ms_since(start) < (uint64_t)CALL_MS)
		clock_sleep_ms(1);
	ck_assert_msg(atomic_load(&slip.faults) == 1,
		      "spin_lock on a free lock did not write the lock word within %d ms", CALL_MS);
	ck_assert_msg(!probe_wait(&p, STILL_MS),
		      "spin_lock went in while another thread held the lock: it read s->locked "
		      "(false), another thread took the lock, and then spin_lock stored true over "
		      "it. Testing and setting in two steps lets two threads in at once: take the "
		      "lock with one atomic_exchange(&s->locked, true) (or a compare-and-swap), "
		      "which reads and writes in one indivisible step");
	atomic_store(&s->locked, false); /* "the other thread" lets go */
	ck_assert_msg(probe_wait(&p, CALL_MS),
		      "spin_lock never noticed that the lock became free again");
	xpthread_join(p.thread, NULL);
	sigaction(SIGSEGV, &slip.old, NULL);
	munmap(slip.page, slip.size);
}
END_TEST

START_TEST(test_spin_trylock)
{
	struct spinlock s;
	struct probe p;
	int ret;

	check_lock_word(&s);
	errno = 0;
	ret = spin_trylock(&s);
	ck_assert_msg(ret == 0, "spin_trylock on a free lock returned %d (errno %s), expected 0",
		      ret, ename(errno));
	ck_assert_msg(atomic_load(&s.locked),
		      "spin_trylock returned 0 but left the lock word false: it did not take it");
	errno = 0;
	ret = spin_trylock(&s);
	ck_assert_msg(ret == -1 && errno == EBUSY,
		      "spin_trylock on a lock already held returned %d (errno %s), expected -1 "
		      "with EBUSY",
		      ret, ename(errno));
	probe_start(&p, call_spin_trylock, &s, 0);
	ck_assert_msg(probe_wait(&p, CALL_MS),
		      "spin_trylock on a held lock did not return within %d ms: it must never "
		      "wait",
		      CALL_MS);
	xpthread_join(p.thread, NULL);
	ck_assert_msg(p.ret == -1 && p.item == EBUSY,
		      "spin_trylock from another thread on a held lock returned %d (errno %s), "
		      "expected -1 with EBUSY",
		      p.ret, ename((int)p.item));
	ck_assert_msg(atomic_load(&s.locked), "a failed spin_trylock released the lock");
	spin_unlock(&s);
	ret = spin_trylock(&s);
	ck_assert_msg(ret == 0, "spin_trylock after spin_unlock returned %d, expected 0", ret);
	spin_unlock(&s);
}
END_TEST

/* ==== Core: the ring's size, limits and wrap-around ==== */

START_TEST(test_ring_init)
{
	static const size_t bad[] = {
	    0, 3, 6, 12, 100, 1000, RING_MAX_CAPACITY + 1, RING_MAX_CAPACITY * 2, SIZE_MAX};
	static const size_t good[] = {1, 2, 1024};
	struct region rg;
	struct spsc_ring *r;
	uint64_t item;
	size_t n;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		errno = 0;
		n = ring_size(good[i]);
		ck_assert_msg(n >= good[i] * sizeof(uint64_t),
			      "ring_size(%zu) returned %zu (errno %s): expected at least the %zu "
			      "bytes of its slots, and the header",
			      good[i], n, ename(errno), good[i] * sizeof(uint64_t));
	}
	errno = 0;
	n = ring_size(RING_MAX_CAPACITY);
	ck_assert_msg(n > 0, "ring_size(RING_MAX_CAPACITY) returned 0 (errno %s)", ename(errno));
	r = new_ring(8, &rg, false);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		n = ring_size(bad[i]);
		ck_assert_msg(
		    n == 0 && errno == EINVAL,
		    "ring_size(%zu) returned %zu (errno %s): expected 0 with EINVAL, %zu "
		    "is not a power of two between 1 and RING_MAX_CAPACITY (i & (capacity "
		    "- 1) only works for a power of two)",
		    bad[i], n, ename(errno), bad[i]);
		errno = 0;
		ck_assert_msg(ring_init(rg.mem, bad[i]) == NULL && errno == EINVAL,
			      "ring_init(mem, %zu) did not fail with EINVAL (errno %s): the "
			      "capacity must be a power of two",
			      bad[i], ename(errno));
	}
	errno = 0;
	ck_assert_msg(ring_init(NULL, 8) == NULL && errno == EINVAL,
		      "ring_init(NULL, 8) did not return NULL with EINVAL (errno %s)",
		      ename(errno));
	errno = 0;
	ck_assert_msg(ring_init(rg.mem + 8, 8) == NULL && errno == EINVAL,
		      "ring_init on memory not aligned to CACHE_LINE (mem + 8) did not return "
		      "NULL with EINVAL (errno %s): check (uintptr_t)mem %% CACHE_LINE",
		      ename(errno));
	r = ring_init(rg.mem, 8);
	ck_assert_msg(r == (struct spsc_ring *)rg.mem, "ring_init(mem, 8) did not return mem");
	errno = 0;
	item = 7;
	ck_assert_msg(ring_try_pop(r, &item) == -1 && errno == EAGAIN && item == 7,
		      "ring_try_pop on a new ring did not say empty (-1 with EAGAIN, *item "
		      "untouched): got errno %s, *item %llu",
		      ename(errno), (unsigned long long)item);
	check_guard(&rg, 8);
	free_region(&rg);
}
END_TEST

/* Push item, which must fit; what names the moment for a message. */
static void push_ok(struct spsc_ring *r, uint64_t item, size_t held, size_t capacity)
{
	int ret;

	errno = 0;
	ret = ring_try_push(r, item);
	EXPECT(ret == 0,
	       "ring_try_push of %s into a ring of capacity %zu holding %zu items returned "
	       "%d (errno %s), expected 0%s",
	       item_text(item), capacity, held, ret, ename(errno),
	       held + 1 == capacity ? ": a ring of capacity N holds N items, not N - 1 "
				      "(with indices that only grow, full is tail - head "
				      "== capacity; no slot is wasted)"
				    : "");
}

/* Pop the item expected; held is what the ring holds before. */
static void pop_ok(struct spsc_ring *r, uint64_t want, size_t held, size_t capacity)
{
	uint64_t got = 0;
	int ret;

	errno = 0;
	ret = ring_try_pop(r, &got);
	EXPECT(ret == 0,
	       "ring_try_pop on a ring of capacity %zu holding %zu items returned %d "
	       "(errno %s), expected 0",
	       capacity, held, ret, ename(errno));
	EXPECT(got == want, "ring_try_pop on a ring of capacity %zu holding %zu items: %s",
	       capacity, held, disorder_text(want, got, capacity));
}

static void push_full(struct spsc_ring *r, uint64_t item, size_t capacity)
{
	int ret;

	errno = 0;
	ret = ring_try_push(r, item);
	EXPECT(ret == -1 && errno == EAGAIN,
	       "ring_try_push into a full ring (capacity %zu, %zu items in it) returned %d "
	       "(errno %s): expected -1 with EAGAIN. Accepting it overwrites the oldest "
	       "item, not yet read: full is tail - head == capacity",
	       capacity, capacity, ret, ename(errno));
}

static void pop_empty(struct spsc_ring *r, size_t capacity)
{
	uint64_t got = 12345;
	int ret;

	errno = 0;
	ret = ring_try_pop(r, &got);
	EXPECT(ret == -1 && errno == EAGAIN,
	       "ring_try_pop on an empty ring (capacity %zu) returned %d (errno %s, *item "
	       "%s): expected -1 with EAGAIN: empty is head == tail",
	       capacity, ret, ename(errno), item_text(got));
	EXPECT(got == 12345, "ring_try_pop on an empty ring wrote *item (%s)", item_text(got));
}

START_TEST(test_ring_full_empty)
{
	static const size_t caps[] = {8, 1, 2};
	uint64_t next = 0;

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		size_t cap = caps[c];
		struct region rg;
		struct spsc_ring *r = new_ring(cap, &rg, false);

		for (int lap = 0; lap < 3; lap++) {
			uint64_t first = next;

			pop_empty(r, cap);
			for (size_t k = 0; k < cap; k++)
				push_ok(r, MARK | next++, k, cap);
			push_full(r, MARK | 999999, cap);
			for (size_t k = 0; k < cap; k++)
				pop_ok(r, MARK | (first + k), cap - k, cap);
			pop_empty(r, cap);
		}
		check_guard(&rg, cap);
		free_region(&rg);
	}
}
END_TEST

START_TEST(test_ring_wraparound)
{
	static const size_t caps[] = {2, 4, 8, 64};
	unsigned seed = suite_seed();

	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		size_t cap = caps[c], held = 0;
		uint64_t pushed = 0, popped = 0;
		struct region rg;
		struct spsc_ring *r = new_ring(cap, &rg, false);

		/* Phases that lean to filling, then to draining: full and empty, many laps. */
		for (int step = 0; step < 20000; step++) {
			bool fill = (step / (int)(3 * cap + 1)) % 2 == 0;
			bool push = (unsigned)rand_r(&seed) % 100 < (fill ? 70u : 30u);

			if (push && held < cap) {
				push_ok(r, MARK | pushed++, held, cap);
				held++;
			} else if (push) {
				push_full(r, MARK | 999999, cap);
			} else if (held > 0) {
				pop_ok(r, MARK | popped++, held, cap);
				held--;
			} else {
				pop_empty(r, cap);
			}
		}
		ck_assert_msg(pushed / cap >= 50, "suite: only %llu laps",
			      (unsigned long long)(pushed / cap));
		check_guard(&rg, cap);
		free_region(&rg);
	}
}
END_TEST

/* ==== Layout: who writes which bytes ==== */

enum { W_PUSH = 1, W_POP = 2, W_SLOT = 4 };

/*
 * What the test learns of a ring's memory by diffing it around each call:
 * which bytes pushes write besides the item (the producer's bookkeeping),
 * which bytes pops write (the consumer's), and where each slot lies.
 */
struct layout {
	size_t size;         /* ring_size() */
	size_t capacity;     /* slots */
	unsigned char *who;  /* who[o]: W_* bits of the calls that wrote byte o */
	long *slot;          /* slot[i]: the offset of slot i, -1 until seen */
	unsigned char *snap; /* the memory before the call */
};

static void layout_open(struct layout *lay, size_t size, size_t capacity)
{
	lay->size = size;
	lay->capacity = capacity;
	lay->who = xcalloc(size, 1);
	lay->snap = xmalloc(size);
	lay->slot = xmalloc(capacity * sizeof(long));
	for (size_t i = 0; i < capacity; i++)
		lay->slot[i] = -1;
}

static void layout_close(struct layout *lay)
{
	free(lay->who);
	free(lay->snap);
	free(lay->slot);
}

/* Push item number n (which goes to slot n % capacity) and note what changed. */
static int layout_push(struct layout *lay, struct spsc_ring *r, const unsigned char *mem,
		       uint64_t n)
{
	uint64_t item = MARK | n;
	long at = -1;
	int ret;

	memcpy(lay->snap, mem, lay->size);
	ret = ring_try_push(r, item);
	for (size_t o = 0; ret == 0 && o + 8 <= lay->size && at < 0; o += 8)
		if (memcmp(mem + o, &item, 8) == 0 && memcmp(lay->snap + o, &item, 8) != 0)
			at = (long)o;
	if (ret == 0) {
		EXPECT(at >= 0, "ring_try_push returned 0, but the item is nowhere in the ring's "
				"memory: the slots must be inside the ring_size() bytes at mem");
		lay->slot[n % lay->capacity] = at;
		for (int k = 0; k < 8; k++)
			lay->who[at + k] |= W_SLOT;
	}
	for (size_t o = 0; o < lay->size; o++)
		if (mem[o] != lay->snap[o] && !(lay->who[o] & W_SLOT))
			lay->who[o] |= W_PUSH;
	return ret;
}

/* Pop and note what changed (writes to slots are left out). */
static int layout_pop(struct layout *lay, struct spsc_ring *r, const unsigned char *mem)
{
	uint64_t item;
	int ret;

	memcpy(lay->snap, mem, lay->size);
	ret = ring_try_pop(r, &item);
	for (size_t o = 0; o < lay->size; o++)
		if (mem[o] != lay->snap[o] && !(lay->who[o] & W_SLOT))
			lay->who[o] |= W_POP;
	return ret;
}

/*
 * Learn the layout with a few laps: fill until full, drain until empty,
 * then push and pop in turn, so that whatever each side writes (a cached
 * copy of the other's index too) is written at least once.
 */
static void layout_learn(struct layout *lay, struct spsc_ring *r, const unsigned char *mem)
{
	uint64_t n = 0;
	size_t k;

	for (int lap = 0; lap < 2; lap++) {
		for (k = 0; k <= lay->capacity && layout_push(lay, r, mem, n) == 0; k++)
			n++;
		EXPECT(k == lay->capacity,
		       "an empty ring of capacity %zu took %zu items before it said full, "
		       "expected %zu",
		       lay->capacity, k, lay->capacity);
		for (k = 0; k <= lay->capacity && layout_pop(lay, r, mem) == 0; k++)
			;
		EXPECT(k == lay->capacity,
		       "a full ring of capacity %zu gave %zu items before it said empty",
		       lay->capacity, k);
		for (k = 0; k < lay->capacity; k++) {
			EXPECT(layout_push(lay, r, mem, n++) == 0,
			       "ring_try_push into an empty ring failed (errno %s)", ename(errno));
			EXPECT(layout_pop(lay, r, mem) == 0,
			       "ring_try_pop of the item just pushed failed (errno %s)",
			       ename(errno));
		}
	}
}

/* The byte range [*from, *to] of cache line `line` (of the ring) that bits mark. */
static void line_bytes(const struct layout *lay, size_t line, int bits, size_t *from, size_t *to)
{
	*from = SIZE_MAX;
	*to = 0;
	for (size_t o = line * CACHE_LINE; o < (line + 1) * CACHE_LINE && o < lay->size; o++)
		if (lay->who[o] & bits) {
			if (*from == SIZE_MAX)
				*from = o;
			*to = o;
		}
}

START_TEST(test_ring_cache_lines)
{
	enum { CAP = 16 };
	struct region rg;
	struct layout lay;
	struct spsc_ring *r = new_ring(CAP, &rg, false);
	size_t lines, pushes = 0, pops = 0;

	layout_open(&lay, rg.size, CAP);
	layout_learn(&lay, r, rg.mem);
	lines = (rg.size + CACHE_LINE - 1) / CACHE_LINE;
	for (size_t o = 0; o < rg.size; o++) {
		pushes += (lay.who[o] & W_PUSH) != 0;
		pops += (lay.who[o] & W_POP) != 0;
	}
	ck_assert_msg(pushes > 0, "ring_try_push wrote no byte of the ring but the item: where "
				  "does it record the new tail?");
	ck_assert_msg(pops > 0, "ring_try_pop wrote no byte of the ring: where does it record "
				"the new head?");
	for (size_t line = 0; line < lines; line++) {
		size_t pf, pt, cf, ct, sf, st;

		line_bytes(&lay, line, W_PUSH, &pf, &pt);
		line_bytes(&lay, line, W_POP, &cf, &ct);
		line_bytes(&lay, line, W_SLOT, &sf, &st);
		ck_assert_msg(
		    pf == SIZE_MAX || cf == SIZE_MAX,
		    "pushes change bytes %zu-%zu and pops change bytes %zu-%zu of the "
		    "ring: the same %d-byte cache line (bytes %zu-%zu). Head and tail "
		    "(or a count both sides update) on one line make every push and every "
		    "pop take the line from the other core: false sharing. Give head and "
		    "tail a line each: alignas(CACHE_LINE) on both",
		    pf, pt, cf, ct, CACHE_LINE, line * CACHE_LINE, (line + 1) * CACHE_LINE - 1);
		ck_assert_msg(sf == SIZE_MAX || cf == SIZE_MAX,
			      "pops write bytes %zu-%zu of the ring, on the same cache line as the "
			      "slot at bytes %zu-%zu, which pushes write: the consumer's index and "
			      "the producer's items would fight over one line. Start the slots on "
			      "a line of their own (alignas(CACHE_LINE))",
			      cf, ct, sf, st);
	}
	check_guard(&rg, CAP);
	layout_close(&lay);
	free_region(&rg);
}
END_TEST

/* ==== Stress: two threads, every item once and in order ==== */

/*
 * The producer and the consumer share nothing but the ring while they run:
 * the suite's own counters between them are relaxed atomics, which
 * ThreadSanitizer does not count as synchronisation, so that a ring whose
 * memory order is too weak shows as a race on its slots.
 */
struct stress {
	struct spsc_ring *r;
	size_t capacity;
	uint64_t items;          /* how many the producer pushes */
	_Atomic uint64_t pushed; /* relaxed: how many it has pushed so far */
	atomic_int stop;         /* relaxed: the consumer gave up; the producer stops */
	int err;                 /* an errno other than EAGAIN from ring_try_push, or 0 */
	int stuck;               /* the producer found the ring full for STUCK_MS */
};

static void *stress_producer(void *arg)
{
	struct stress *s = arg;
	uint64_t last = clock_now_ns();
	unsigned rounds = 0;

	for (uint64_t i = 0; i < s->items;) {
		if (ring_try_push(s->r, MARK | i) == 0) {
			atomic_store_explicit(&s->pushed, ++i, memory_order_relaxed);
			if (i % 4096 == 0)
				last = clock_now_ns();
			continue;
		}
		if (errno != EAGAIN) {
			s->err = errno;
			break;
		}
		if (atomic_load_explicit(&s->stop, memory_order_relaxed))
			break;
		relax(&rounds);
		if (rounds % 1024 == 0 && ms_since(last) > (uint64_t)STUCK_MS) {
			s->stuck = 1;
			break;
		}
	}
	return NULL;
}

/* Pop s->items items in order in this thread; returns NULL, or what went wrong. */
static const char *stress_consume(struct stress *s)
{
	static char why[700];
	uint64_t last = clock_now_ns(), got;
	unsigned rounds = 0;

	for (uint64_t i = 0; i < s->items;) {
		if (ring_try_pop(s->r, &got) == 0) {
			if (got != (MARK | i)) {
				snprintf(why, sizeof(why), "item #%llu of %llu: %s",
					 (unsigned long long)i, (unsigned long long)s->items,
					 disorder_text(MARK | i, got, s->capacity));
				return why;
			}
			if (++i % 4096 == 0)
				last = clock_now_ns();
			continue;
		}
		if (errno != EAGAIN) {
			snprintf(why, sizeof(why),
				 "ring_try_pop failed with %s, expected only EAGAIN", ename(errno));
			return why;
		}
		relax(&rounds);
		if (rounds % 1024 == 0 && ms_since(last) > (uint64_t)STUCK_MS) {
			uint64_t pushed = atomic_load_explicit(&s->pushed, memory_order_relaxed);

			snprintf(
			    why, sizeof(why),
			    "the consumer waited %d ms for item #%llu; the producer had pushed "
			    "%llu: ring_try_pop says empty while the producer %s",
			    STUCK_MS, (unsigned long long)i, (unsigned long long)pushed,
			    pushed > i ? "has pushed more: the new tail never reached the "
					 "consumer (is it stored, and loaded, atomically?)"
				       : "finds the ring full: head, tail and full/empty disagree");
			return why;
		}
	}
	return NULL;
}

/* Run a producer thread and this thread as the consumer over a ring of capacity. */
static void stress_threads(size_t capacity, uint64_t items)
{
	struct stress s = {.capacity = capacity, .items = items};
	struct region rg;
	pthread_t producer;
	const char *why;
	uint64_t extra;

	s.r = new_ring(capacity, &rg, false);
	xpthread_create(&producer, stress_producer, &s);
	why = stress_consume(&s);
	atomic_store_explicit(&s.stop, 1, memory_order_relaxed);
	xpthread_join(producer, NULL);
	ck_assert_msg(!why,
		      "a producer thread pushed %llu items through a ring of capacity %zu: %s",
		      (unsigned long long)items, capacity, why);
	ck_assert_msg(s.err == 0, "ring_try_push failed with %s, expected only EAGAIN",
		      ename(s.err));
	ck_assert_msg(!s.stuck, "the producer found the ring full for %d ms", STUCK_MS);
	errno = 0;
	ck_assert_msg(ring_try_pop(s.r, &extra) == -1 && errno == EAGAIN,
		      "after all %llu items were popped, ring_try_pop gave one more (%s)",
		      (unsigned long long)items, item_text(extra));
	check_guard(&rg, capacity);
	free_region(&rg);
}

START_TEST(test_ring_threads)
{
	stress_threads(1024, 1000000);
	stress_threads(2, 200000);
}
END_TEST

/* ==== Between processes ==== */

/* The producer child: push items through r, then _exit (3: stuck, 2: error). */
static void child_produce(struct spsc_ring *r, uint64_t items)
{
	uint64_t last = clock_now_ns();
	unsigned rounds = 0;

	for (uint64_t i = 0; i < items;) {
		if (ring_try_push(r, MARK | i) == 0) {
			if (++i % 4096 == 0)
				last = clock_now_ns();
			continue;
		}
		if (errno != EAGAIN)
			_exit(2);
		relax(&rounds);
		if (rounds % 1024 == 0 && ms_since(last) > (uint64_t)STUCK_MS)
			_exit(3);
	}
	_exit(0);
}

/* Why the producer child is gone while the parent waits for item i, in words. */
static const char *child_gone_text(int status, uint64_t i, uint64_t items)
{
	static char buf[600];

	if (WIFSIGNALED(status))
		snprintf(buf, sizeof(buf),
			 "the producer child was %s after the parent had received %llu items: "
			 "it crashed inside ring_try_push",
			 status_text(status), (unsigned long long)i);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		snprintf(buf, sizeof(buf),
			 "the producer child pushed all %llu items and exited, but the parent "
			 "sees the ring empty after %llu: the child's writes never reached the "
			 "parent's memory. Everything of the ring (indices and slots) must be "
			 "inside the shared memory at mem; nothing malloc'd, nothing static",
			 (unsigned long long)items, (unsigned long long)i);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 3)
		snprintf(buf, sizeof(buf),
			 "the producer child found the ring full for %d ms while the parent, "
			 "which had received %llu items, found it empty: the parent's pops do "
			 "not reach the child (or its pushes the parent)",
			 STUCK_MS, (unsigned long long)i);
	else
		snprintf(buf, sizeof(buf),
			 "the producer child %s (2: ring_try_push failed with another errno "
			 "than EAGAIN) after the parent had received %llu items",
			 status_text(status), (unsigned long long)i);
	return buf;
}

/*
 * Pop items in order from r, pushed by child pid, and reap it. Returns NULL,
 * or what went wrong (the child is then killed and reaped).
 */
static const char *consume_from_child(struct spsc_ring *r, size_t capacity, uint64_t items,
				      pid_t pid)
{
	static char why[700];
	uint64_t last = clock_now_ns(), got, sum = 0, want_sum = 0;
	unsigned rounds = 0;
	int status = 0;
	bool reaped = false;

	for (uint64_t i = 0; i < items;) {
		if (ring_try_pop(r, &got) == 0) {
			if (got != (MARK | i)) {
				snprintf(why, sizeof(why), "item #%llu: %s", (unsigned long long)i,
					 disorder_text(MARK | i, got, capacity));
				goto fail;
			}
			sum += got;
			want_sum += MARK | i;
			if (++i % 4096 == 0)
				last = clock_now_ns();
			continue;
		}
		if (reaped) { /* the ring is empty, and its producer is gone */
			snprintf(why, sizeof(why), "%s", child_gone_text(status, i, items));
			return why;
		}
		relax(&rounds);
		if (rounds % 256 != 0)
			continue;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true; /* one more look: an item may have come just before */
			continue;
		}
		if (ms_since(last) > (uint64_t)STUCK_MS) {
			snprintf(why, sizeof(why),
				 "the parent waited %d ms for item #%llu of %llu while the child "
				 "still ran: the child's pushes do not reach the parent",
				 STUCK_MS, (unsigned long long)i, (unsigned long long)items);
			goto fail;
		}
	}
	if (!reaped && proc_wait_timeout(pid, &status, CALL_MS) < 0) {
		snprintf(why, sizeof(why), "the producer child did not exit after its last push");
		goto fail;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof(why), "the producer child %s after pushing every item",
			 status_text(status));
		return why;
	}
	if (sum != want_sum) {
		snprintf(why, sizeof(why), "the checksum differs");
		return why;
	}
	return NULL;
fail:
	if (!reaped) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return why;
}

START_TEST(test_ring_processes)
{
	enum { CAP = 512, ITEMS = 300000 };
	struct region rg;
	struct spsc_ring *r = new_ring(CAP, &rg, true);
	const char *why;
	uint64_t extra;
	pid_t pid;

	pid = xfork();
	if (pid == 0)
		child_produce(r, ITEMS);
	why = consume_from_child(r, CAP, ITEMS, pid);
	ck_assert_msg(!why,
		      "a producer child pushed %d items through a ring of capacity %d in a "
		      "MAP_SHARED mapping, the parent popped them: %s",
		      ITEMS, CAP, why);
	errno = 0;
	ck_assert_msg(ring_try_pop(r, &extra) == -1 && errno == EAGAIN,
		      "after all %d items, ring_try_pop gave one more (%s)", ITEMS,
		      item_text(extra));
	check_guard(&rg, CAP);
	free_region(&rg);
}
END_TEST

START_TEST(test_ring_two_mappings)
{
	enum { CAP = 256, ITEMS = 50000 };
	size_t size, len;
	unsigned char *a, *b;
	struct spsc_ring *r;
	const char *why;
	int fd;
	pid_t pid;

	errno = 0;
	size = ring_size(CAP);
	ck_assert_msg(size > 0, "ring_size(%d) returned 0 (errno %s)", CAP, ename(errno));
	len = round_pages(size);
	fd = memfd_create("ring", MFD_CLOEXEC);
	ck_assert_msg(fd >= 0 && ftruncate(fd, (off_t)len) == 0, "suite: memfd: %s",
		      strerror(errno));
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ck_assert_msg(a != MAP_FAILED && b != MAP_FAILED && a != b, "suite: mmap: %s",
		      strerror(errno));
	r = ring_init(a, CAP);
	ck_assert_msg(r == (struct spsc_ring *)a,
		      "ring_init(mem, %d) did not return mem (errno %s)", CAP, ename(errno));
	pid = xfork();
	if (pid == 0) {
		/* The child sees the memory only at b, as an unrelated process would. */
		munmap(a, len);
		child_produce((struct spsc_ring *)(void *)b, ITEMS);
	}
	why = consume_from_child(r, CAP, ITEMS, pid);
	ck_assert_msg(
	    !why,
	    "the ring was made at one address; a producer child used the same memory mapped at "
	    "another address (as (struct spsc_ring *)its address), the parent popped at the "
	    "first: %s. If it crashed: the ring must hold no pointer, since a pointer to the "
	    "slots stored by ring_init points into the first mapping; reach the slots from the "
	    "ring's own address (a flexible array member, r->slots[i & mask])",
	    why);
	munmap(a, len);
	munmap(b, len);
}
END_TEST

/* ==== Lock-free: the consumer goes on while the producer is stopped ==== */

/*
 * The producer is stopped in the middle of ring_try_push, at its write to
 * the slot: the slot's page is read-only, so the write faults, and the
 * fault handler (which runs in the producer's thread, inside the call)
 * waits until the consumer has taken every item pushed before, or gives up
 * after FREEZE_MS. A ring without a lock lets the consumer go on; a ring
 * whose push holds a lock there keeps it waiting (or failing with EAGAIN).
 */
static struct {
	unsigned char *page;      /* the read-only page: the slot of the item being pushed */
	size_t size;              /* the page size */
	uint64_t first, count;    /* the items already in the ring: first .. first + count - 1 */
	atomic_int faults;        /* writes to the page caught */
	atomic_int frozen;        /* the producer is held in the handler */
	atomic_int thawed;        /* the handler has let it go */
	atomic_int consumer_done; /* the consumer took all it could */
	_Atomic uint64_t taken;   /* items the consumer took while the producer was held */
	atomic_int has_extra;     /* an item was taken beyond them while held: */
	_Atomic uint64_t extra;   /* that item */
	_Atomic uint64_t wrong;   /* an item out of order, or 0 */
	struct sigaction old;     /* the SIGSEGV action to restore */
} lf;

static void lf_fault(int sig, siginfo_t *si, void *ctx)
{
	unsigned char *addr = si->si_addr;
	uint64_t start = clock_now_ns();

	(void)ctx;
	if (addr < lf.page || addr >= lf.page + lf.size) {
		signal(sig, SIG_DFL); /* a real crash: let it happen */
		return;
	}
	if (atomic_fetch_add(&lf.faults, 1) == 0) {
		atomic_store(&lf.frozen, 1);
		while (!atomic_load(&lf.consumer_done) && ms_since(start) < (uint64_t)FREEZE_MS) {
			struct timespec ms = {0, 1000000};

			nanosleep(&ms, NULL);
		}
	}
	atomic_store(&lf.thawed, 1);
	mprotect(lf.page, lf.size, PROT_READ | PROT_WRITE);
}

struct lf_args {
	struct spsc_ring *r;
	uint64_t item; /* the producer's item */
	int ret;       /* what its ring_try_push returned */
};

static void *lf_producer(void *arg)
{
	struct lf_args *a = arg;

	a->ret = ring_try_push(a->r, a->item);
	return NULL;
}

/* Take the items already in the ring while the producer is held; then one more look. */
static void *lf_consumer(void *arg)
{
	struct lf_args *a = arg;
	uint64_t got, n = 0, start = clock_now_ns();
	unsigned rounds = 0;

	while (!atomic_load(&lf.frozen) && !atomic_load(&lf.thawed) &&
	       ms_since(start) < (uint64_t)CALL_MS)
		sched_yield();
	while (n < lf.count && !atomic_load(&lf.thawed)) {
		if (ring_try_pop(a->r, &got) != 0) {
			relax(&rounds);
			continue;
		}
		if (atomic_load(&lf.thawed))
			break; /* this pop finished only once the producer went on */
		if (got != (MARK | (lf.first + n)) && !atomic_load(&lf.wrong))
			atomic_store(&lf.wrong, got);
		atomic_store(&lf.taken, ++n);
	}
	/* The item being written must not be visible yet: look for 20 ms. */
	start = clock_now_ns();
	while (n == lf.count && !atomic_load(&lf.thawed) && ms_since(start) < 20) {
		if (ring_try_pop(a->r, &got) == 0) {
			atomic_store(&lf.extra, got);
			atomic_store(&lf.has_extra, 1);
			break;
		}
		sched_yield();
	}
	atomic_store(&lf.consumer_done, 1);
	return NULL;
}

/* The first item index k >= 1 whose slot's page holds no bookkeeping byte; 0 if none. */
static size_t lf_pick(const struct layout *lay)
{
	size_t ps = page_size();

	for (size_t k = 1; k < lay->capacity; k++) {
		size_t page = (size_t)lay->slot[k] / ps;
		bool clean = lay->slot[k] >= 0;

		for (size_t o = page * ps; clean && o < (page + 1) * ps && o < lay->size; o++)
			clean = !(lay->who[o] & (W_PUSH | W_POP));
		if (clean && (size_t)lay->slot[k] + 8 <= (page + 1) * ps)
			return k;
	}
	return 0;
}

/* Push items first .. first + count - 1, which must all fit. */
static void push_range(struct spsc_ring *r, uint64_t first, uint64_t count, size_t cap)
{
	for (uint64_t i = 0; i < count; i++)
		push_ok(r, MARK | (first + i), (size_t)i, cap);
}

/* Under ThreadSanitizer (no fault trick there): the same calls, one after another. */
static void lock_free_plain(struct spsc_ring *r)
{
	push_range(r, 0, 100, 1024);
	for (uint64_t i = 0; i < 100; i++)
		pop_ok(r, MARK | i, (size_t)(100 - i), 1024);
}

START_TEST(test_ring_lock_free)
{
	enum { CAP = 1024 };
	struct sigaction sa = {.sa_sigaction = lf_fault, .sa_flags = SA_SIGINFO};
	struct region rg;
	struct layout lay;
	struct spsc_ring *r = new_ring(CAP, &rg, false);
	struct lf_args pa, ca;
	pthread_t producer, consumer;
	uint64_t got;
	size_t k;

	if (getenv("IPCLAB_SANITIZER")) {
		lock_free_plain(r);
		free_region(&rg);
		return;
	}
	layout_open(&lay, rg.size, CAP);
	layout_learn(&lay, r, rg.mem); /* 4 laps: the ring is empty, the next item goes to slot 0 */
	k = lf_pick(&lay);
	ck_assert_msg(k > 0, "suite: no slot of a ring of %d lies on a page of its own", CAP);
	lf.first = 4 * CAP;
	lf.count = k;
	push_range(r, lf.first, k, CAP);
	pa = (struct lf_args){.r = r, .item = MARK | (lf.first + k)};
	ca = pa;
	lf.size = page_size();
	lf.page = rg.mem + (size_t)lay.slot[k] / lf.size * lf.size;
	ck_assert(sigaction(SIGSEGV, &sa, &lf.old) == 0);
	ck_assert(mprotect(lf.page, lf.size, PROT_READ) == 0);
	xpthread_create(&consumer, lf_consumer, &ca);
	xpthread_create(&producer, lf_producer, &pa);
	xpthread_join(producer, NULL);
	xpthread_join(consumer, NULL);
	sigaction(SIGSEGV, &lf.old, NULL);
	ck_assert_msg(atomic_load(&lf.faults) >= 1,
		      "ring_try_push of the item for slot %zu never wrote that slot (found at byte "
		      "%ld on an earlier lap)",
		      k, lay.slot[k]);
	ck_assert_msg(pa.ret == 0, "ring_try_push into a ring holding %zu of %d items failed", k,
		      CAP);
	ck_assert_msg(!atomic_load(&lf.has_extra),
		      "while ring_try_push was still writing %s into its slot, ring_try_pop "
		      "already returned that slot (it read %s): the producer published the new "
		      "tail before it wrote the slot. Write the slot first, then store tail "
		      "(memory_order_release)",
		      item_text(pa.item), item_text(atomic_load(&lf.extra)));
	ck_assert_msg(!atomic_load(&lf.wrong), "the consumer took %s, out of order",
		      item_text(atomic_load(&lf.wrong)));
	ck_assert_msg(atomic_load(&lf.taken) == k,
		      "while the producer was stopped inside ring_try_push (in its write to the "
		      "slot, for %d ms), the consumer could take only %llu of the %zu items "
		      "already in the ring: ring_try_pop waited for, or gave up on, something the "
		      "producer held: a lock. A lock-free ring holds none: each side writes only "
		      "its own index, and the other reads it with an atomic load",
		      FREEZE_MS, (unsigned long long)atomic_load(&lf.taken), k);
	got = 0;
	ck_assert_msg(ring_try_pop(r, &got) == 0 && got == pa.item,
		      "after the producer went on, ring_try_pop did not return its item "
		      "(got %s)",
		      item_text(got));
	layout_close(&lay);
	free_region(&rg);
}
END_TEST

/* ==== The waiting push and pop ==== */

static void call_ring_pop(struct probe *p)
{
	p->item = ring_pop(p->obj);
}

static void call_ring_push(struct probe *p)
{
	ring_push(p->obj, p->item);
}

START_TEST(test_ring_blocking)
{
	enum { CAP = 4 };
	struct region rg;
	struct spsc_ring *r = new_ring(CAP, &rg, false);
	struct probe p;

	probe_start(&p, call_ring_pop, r, 0);
	ck_assert_msg(!probe_wait(&p, STILL_MS),
		      "ring_pop returned %s at once from an empty ring: it must wait (try, back "
		      "off, try again) until an item comes",
		      item_text(p.item));
	push_ok(r, MARK | 1, 0, CAP);
	ck_assert_msg(probe_wait(&p, CALL_MS),
		      "ring_pop kept waiting for %d ms after an item was pushed", CALL_MS);
	xpthread_join(p.thread, NULL);
	ck_assert_msg(p.item == (MARK | 1), "ring_pop returned %s, expected item #1",
		      item_text(p.item));
	push_range(r, 2, CAP, CAP);
	probe_start(&p, call_ring_push, r, MARK | 99);
	ck_assert_msg(!probe_wait(&p, STILL_MS),
		      "ring_push returned at once into a full ring: it must wait until there is "
		      "room (and never overwrite an item not yet read)");
	pop_ok(r, MARK | 2, CAP, CAP);
	ck_assert_msg(probe_wait(&p, CALL_MS),
		      "ring_push kept waiting for %d ms after an item was popped", CALL_MS);
	xpthread_join(p.thread, NULL);
	for (uint64_t i = 3; i < 2 + CAP; i++)
		ck_assert_msg(ring_pop(r) == (MARK | i), "ring_pop did not return item #%llu",
			      (unsigned long long)i);
	ck_assert_msg(ring_pop(r) == (MARK | 99), "ring_pop did not return the item ring_push "
						  "waited to push");
	free_region(&rg);
}
END_TEST

/* ==== The mutex ring ==== */

static struct mutex_ring *new_mring(size_t capacity, struct region *rg, bool shared)
{
	struct mutex_ring *r;

	errno = 0;
	rg->size = mring_size(capacity);
	ck_assert_msg(rg->size >= capacity * sizeof(uint64_t),
		      "mring_size(%zu) returned %zu (errno %s): expected at least the slots' %zu "
		      "bytes and the header",
		      capacity, rg->size, ename(errno), capacity * sizeof(uint64_t));
	rg->len = round_pages(rg->size + GUARD);
	rg->mem = map_bytes(rg->len, shared);
	memset(rg->mem + rg->size, 0xEE, rg->len - rg->size);
	errno = 0;
	r = mring_init(rg->mem, capacity);
	ck_assert_msg(r == (struct mutex_ring *)rg->mem,
		      "mring_init(mem, %zu) returned %p (errno %s): expected mem itself", capacity,
		      (void *)r, ename(errno));
	return r;
}

/* Wait until child pid sleeps ('S') or has ended, up to CALL_MS. Returns 1 if it ended. */
static int child_settles(pid_t pid, int *status)
{
	uint64_t start = clock_now_ns();

	while (ms_since(start) < (uint64_t)CALL_MS) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 1;
		if (proc_state(pid, 0) == 'S') {
			clock_sleep_ms(20); /* and still asleep a moment later */
			if (proc_state(pid, 0) == 'S')
				return 0;
		}
		clock_sleep_ms(2);
	}
	return 0;
}

/* Reap child pid within CALL_MS, or kill it and fail with why. */
static void child_must_end(pid_t pid, const char *why)
{
	int status;

	if (proc_wait_timeout(pid, &status, CALL_MS) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ck_abort_msg("%s", why);
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the child's mring call went wrong: it %s (1: a wrong item, 2: the call "
		      "failed)",
		      status_text(status));
}

static void call_mring_pop(struct probe *p)
{
	p->ret = mring_pop(p->obj, &p->item);
}

static void call_mring_push(struct probe *p)
{
	p->ret = mring_push(p->obj, p->item);
}

/*
 * Within one process first: a thread asleep in mring_pop on an empty ring
 * must wake when the test pushes, and one asleep in mring_push on a full
 * ring when the test pops. The ring is left empty.
 */
static void check_wakes_threads(struct mutex_ring *r, size_t capacity)
{
	struct probe p;
	uint64_t item;

	probe_start(&p, call_mring_pop, r, 0);
	ck_assert_msg(!probe_wait(&p, STILL_MS),
		      "mring_pop on an empty ring returned at once (%d): it must sleep on \"not "
		      "empty\" while head == tail",
		      p.ret);
	ck_assert_msg(mring_push(r, MARK | 7) == 0, "mring_push failed (errno %s)", ename(errno));
	ck_assert_msg(probe_wait(&p, CALL_MS),
		      "a thread asleep in mring_pop was not woken by mring_push in the same "
		      "process within %d ms: mring_push must pthread_cond_signal the condition "
		      "the consumer sleeps on (\"not empty\")",
		      CALL_MS);
	xpthread_join(p.thread, NULL);
	ck_assert_msg(p.ret == 0 && p.item == (MARK | 7), "mring_pop returned %d with %s", p.ret,
		      item_text(p.item));
	for (uint64_t i = 0; i < capacity; i++)
		ck_assert_msg(mring_push(r, MARK | i) == 0, "mring_push failed (errno %s)",
			      ename(errno));
	probe_start(&p, call_mring_push, r, MARK | 8);
	ck_assert_msg(!probe_wait(&p, STILL_MS),
		      "mring_push into a full ring returned at once (%d): it must sleep on \"not "
		      "full\" while the ring holds capacity items",
		      p.ret);
	ck_assert_msg(mring_pop(r, &item) == 0, "mring_pop failed (errno %s)", ename(errno));
	ck_assert_msg(probe_wait(&p, CALL_MS),
		      "a thread asleep in mring_push on a full ring was not woken by mring_pop in "
		      "the same process within %d ms: mring_pop must pthread_cond_signal \"not "
		      "full\"",
		      CALL_MS);
	xpthread_join(p.thread, NULL);
	for (uint64_t i = 1; i <= capacity; i++)
		ck_assert_msg(mring_pop(r, &item) == 0 &&
				  item == (i < capacity ? MARK | i : MARK | 8),
			      "mring_pop: %s",
			      disorder_text(i < capacity ? MARK | i : MARK | 8, item, capacity));
}

static const char *const not_shared =
    "the child sleeping in %s was not woken by %s in its parent within %d ms. A mutex or "
    "condition variable made without the PTHREAD_PROCESS_SHARED attribute wakes only "
    "threads of its own process: the wake-up of another process is lost. Use "
    "pthread_mutexattr_setpshared and pthread_condattr_setpshared in mring_init";

START_TEST(test_mring_processes)
{
	enum { CAP = 4, ITEMS = 20000 };
	struct region rg;
	struct mutex_ring *r = new_mring(CAP, &rg, true);
	char why[600];
	uint64_t item;
	int status;
	pid_t pid;

	check_wakes_threads(r, CAP);

	/* A consumer child sleeps on an empty ring; the parent's push must wake it. */
	pid = xfork();
	if (pid == 0)
		_exit(mring_pop(r, &item) < 0 ? 2 : item == (MARK | 42) ? 0 : 1);
	ck_assert_msg(!child_settles(pid, &status),
		      "mring_pop on an empty ring returned at once in a child (it %s): it must "
		      "sleep on \"not empty\" while head == tail",
		      status_text(status));
	ck_assert_msg(mring_push(r, MARK | 42) == 0, "mring_push failed (errno %s)", ename(errno));
	snprintf(why, sizeof(why), not_shared, "mring_pop", "mring_push", CALL_MS);
	child_must_end(pid, why);
	/* A producer child sleeps on a full ring; the parent's pop must wake it. */
	for (uint64_t i = 0; i < CAP; i++)
		ck_assert_msg(mring_push(r, MARK | i) == 0, "mring_push failed (errno %s)",
			      ename(errno));
	pid = xfork();
	if (pid == 0)
		_exit(mring_push(r, MARK | 99) < 0 ? 2 : 0);
	ck_assert_msg(!child_settles(pid, &status),
		      "mring_push into a full ring returned at once in a child (it %s): it must "
		      "sleep on \"not full\" while the ring holds capacity items",
		      status_text(status));
	ck_assert_msg(mring_pop(r, &item) == 0 && item == MARK,
		      "mring_pop on a full ring did not return the oldest item (got %s)",
		      item_text(item));
	snprintf(why, sizeof(why), not_shared, "mring_push", "mring_pop", CALL_MS);
	child_must_end(pid, why);
	for (uint64_t i = 1; i <= CAP; i++) {
		uint64_t want = i < CAP ? MARK | i : MARK | 99;

		ck_assert_msg(mring_pop(r, &item) == 0 && item == want, "mring_pop: %s",
			      disorder_text(want, item, CAP));
	}
	/* Many items, one process to another. */
	pid = xfork();
	if (pid == 0) {
		for (uint64_t i = 0; i < ITEMS; i++)
			if (mring_push(r, MARK | i) < 0)
				_exit(2);
		_exit(0);
	}
	for (uint64_t i = 0; i < ITEMS; i++) {
		ck_assert_msg(mring_pop(r, &item) == 0, "mring_pop failed (errno %s)",
			      ename(errno));
		ck_assert_msg(item == (MARK | i), "item #%llu from a producer child: %s",
			      (unsigned long long)i, disorder_text(MARK | i, item, CAP));
	}
	child_must_end(pid, "the producer child did not exit after its last push");
	ck_assert_msg(mring_destroy(r) == 0, "mring_destroy failed (errno %s)", ename(errno));
	check_guard(&rg, CAP);
	free_region(&rg);
}
END_TEST

struct mstress {
	struct mutex_ring *r;
	uint64_t items;
	int err;           /* errno of a failed call, or 0 */
	uint64_t bad_at;   /* the consumer: the first item out of order, by number */
	uint64_t bad_item; /* and what came instead; both 0 when none */
};

static void *mring_producer(void *arg)
{
	struct mstress *m = arg;

	for (uint64_t i = 0; i < m->items; i++)
		if (mring_push(m->r, MARK | i) < 0) {
			m->err = errno;
			break;
		}
	return NULL;
}

static void *mring_consumer(void *arg)
{
	struct mstress *m = arg;
	uint64_t item;

	for (uint64_t i = 0; i < m->items; i++) {
		if (mring_pop(m->r, &item) < 0) {
			m->err = errno;
			break;
		}
		if (item != (MARK | i)) {
			m->bad_at = i;
			m->bad_item = item;
			break;
		}
	}
	return NULL;
}

START_TEST(test_mring_threads)
{
	enum { CAP = 4, ITEMS = 100000 };
	struct region rg;
	struct mutex_ring *r;
	struct mstress prod = {.items = ITEMS}, cons = {.items = ITEMS};
	pthread_t tp, tc;
	struct timespec until;
	int joined;

	errno = 0;
	ck_assert_msg(mring_size(6) == 0 && errno == EINVAL,
		      "mring_size(6) did not return 0 with EINVAL (errno %s)", ename(errno));
	r = new_mring(CAP, &rg, false);
	errno = 0;
	ck_assert_msg(mring_init(rg.mem, 3) == NULL && errno == EINVAL,
		      "mring_init(mem, 3) did not fail with EINVAL (errno %s)", ename(errno));
	errno = 0;
	ck_assert_msg(mring_init(rg.mem + 8, CAP) == NULL && errno == EINVAL,
		      "mring_init on misaligned memory did not fail with EINVAL (errno %s)",
		      ename(errno));
	prod.r = cons.r = r;
	xpthread_create(&tp, mring_producer, &prod);
	xpthread_create(&tc, mring_consumer, &cons);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 4 * slow;
	joined = pthread_timedjoin_np(tc, NULL, &until) == 0;
	ck_assert_msg(joined,
		      "%d items through a mutex ring of %d between two threads: the consumer was "
		      "still waiting after %d s: a sleeper was never woken. mring_push must "
		      "signal \"not empty\" and mring_pop \"not full\", each under the mutex",
		      ITEMS, CAP, 4 * slow);
	ck_assert_msg(cons.bad_item == 0, "item #%llu of mring_pop: %s",
		      (unsigned long long)cons.bad_at,
		      disorder_text(MARK | cons.bad_at, cons.bad_item, CAP));
	ck_assert_msg(cons.err == 0, "mring_pop failed (errno %s)", ename(cons.err));
	xpthread_join(tp, NULL);
	ck_assert_msg(prod.err == 0, "mring_push failed (errno %s)", ename(prod.err));
	ck_assert_msg(mring_destroy(r) == 0, "mring_destroy failed (errno %s)", ename(errno));
	check_guard(&rg, CAP);
	free_region(&rg);
}
END_TEST

void suite_define(void)
{
	slow = getenv("IPCLAB_SANITIZER") ? 4 : 1;

	/* Core: the spinlock */
	SUITE_TEST_EX(
	    test_spin_exclusion, 3, 10, 0,
	    "Can two threads be inside at once, or see stale data after entering?\n"
	    "Acquire on taking, release on letting go (C11 7.17.3, memory_order); the "
	    "test's second run is under ThreadSanitizer.\n"
	    "Take with atomic_exchange_explicit(&s->locked, true, memory_order_acquire); "
	    "let go with atomic_store_explicit(&s->locked, false, memory_order_release).");
	SUITE_TEST(test_spin_waits, 1,
		   "Does spin_lock return while someone else holds the lock?\n"
		   "Test-and-test-and-set: loop on the exchange, and while it says taken, "
		   "re-read the lock with atomic_load.\n"
		   "while (atomic_exchange(&s->locked, true)) while (atomic_load(&s->locked)) "
		   "back off;");
	SUITE_TEST(test_spin_one_step, 2,
		   "What if another thread takes the lock between your read and your write?\n"
		   "A read then a write is two steps; only a read-modify-write is indivisible "
		   "(C11 7.17.7: atomic_exchange, atomic_compare_exchange_strong).\n"
		   "Replace load-then-store by atomic_exchange_explicit(&s->locked, true, "
		   "memory_order_acquire) and test what it returns.");
	SUITE_TEST(
	    test_spin_trylock, 1,
	    "What does spin_trylock return when the lock is already taken?\n"
	    "One exchange, no loop: its result says whether you got the lock.\n"
	    "if (atomic_exchange(&s->locked, true)) { errno = EBUSY; return -1; } return 0;");
	/* Core: the ring, one thread */
	SUITE_TEST(test_ring_init, 1,
		   "Which capacities and which memory does ring_init accept?\n"
		   "i & (capacity - 1) equals i % capacity only for a power of two; mem must be "
		   "aligned to CACHE_LINE.\n"
		   "Return 0/NULL with EINVAL unless capacity && !(capacity & (capacity - 1)) && "
		   "capacity <= RING_MAX_CAPACITY and (uintptr_t)mem % CACHE_LINE == 0.");
	SUITE_TEST(test_ring_full_empty, 2,
		   "How many items fit in a ring of capacity 8, and what happens to the 9th?\n"
		   "With indices that only grow, tail - head is the count: 0 is empty, capacity "
		   "is full, no slot wasted.\n"
		   "In try_push: if (tail - head == capacity) { errno = EAGAIN; return -1; }; in "
		   "try_pop: if (head == tail) the same.");
	SUITE_TEST(test_ring_wraparound, 2,
		   "Does slot i & mask still hold the right item after many laps?\n"
		   "Let head and tail grow without bound and mask only to index the slots; "
		   "unsigned subtraction stays right when they wrap.\n"
		   "Use r->slots[tail & (capacity - 1)], and keep head and tail unmasked.");
	SUITE_TEST(test_ring_cache_lines, 2,
		   "Which bytes does a push write, and which does a pop write?\n"
		   "Cores pass whole 64-byte lines: head and tail on one line bounce between "
		   "them (false sharing).\n"
		   "Declare alignas(CACHE_LINE) _Atomic size_t head; and alignas(CACHE_LINE) "
		   "_Atomic size_t tail; and start the slots on their own line.");
	SUITE_TEST_EX(test_ring_threads, 3, 10, 0,
		      "Could the consumer see the new tail before the item in the slot?\n"
		      "A release store publishes everything written before it to an acquire load "
		      "that reads it (C11 7.17.3); the second run is under ThreadSanitizer.\n"
		      "Write the slot, then atomic_store_explicit(&r->tail, tail + 1, "
		      "memory_order_release); load tail with memory_order_acquire (and head the "
		      "same way round).");
	/* Between processes */
	SUITE_TEST_EX(test_ring_processes, 3, 10, 0,
		      "Is every part of the ring inside the memory the caller gave you?\n"
		      "Only the MAP_SHARED mapping is shared after fork(2); malloc'd or static "
		      "memory is copied: mmap(2).\n"
		      "Put the indices and the slots in struct spsc_ring at mem; allocate "
		      "nothing.");
	SUITE_TEST(test_ring_two_mappings, 2,
		   "What does a pointer stored in shared memory point to in another process?\n"
		   "The same memory can be mapped at different addresses: store indices, never "
		   "pointers, in it.\n"
		   "Make the slots a flexible array member (uint64_t slots[]) and index "
		   "r->slots[i & mask].");
	/* Lock-free */
	SUITE_TEST_EX(test_ring_lock_free, 2, 8, 0,
		      "What does the consumer wait for while the producer is inside try_push?\n"
		      "Lock-free: a thread stopped anywhere never stops the other; each side "
		      "writes only its own index.\n"
		      "Remove any lock from ring_try_push and ring_try_pop; write the slot before "
		      "publishing tail.");
	SUITE_TEST(test_ring_blocking, 1,
		   "What do ring_pop and ring_push do when they cannot go on?\n"
		   "They loop on the try_ call, pausing, then sched_yield(2) between tries.\n"
		   "while (ring_try_pop(r, &item) < 0) backoff(&rounds);");
	/* The mutex ring */
	SUITE_TEST_EX(test_mring_processes, 2, 8, 0,
		      "Does a sleeper in one process wake when another process signals?\n"
		      "A private mutex or condition variable only wakes its own process: "
		      "pthread_condattr_setpshared(3p).\n"
		      "pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) and "
		      "pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED) before the "
		      "init calls.");
	SUITE_TEST_EX(test_mring_threads, 1, 8, 0,
		      "Who wakes the consumer, and who wakes the producer?\n"
		      "Wait in a while loop under the mutex; signal the other side's condition "
		      "after each change: pthread_cond_wait(3p).\n"
		      "mring_push signals not_empty, mring_pop signals not_full, both before "
		      "unlocking.");
}
