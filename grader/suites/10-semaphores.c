/*
 * The hidden suite of lab 10: semaphores shared between processes.
 *
 * The ring is driven by real producer and consumer processes. Where a wrong
 * solution hangs, the suite waits for a state it can see, not for a guess of
 * time: a call that must block is declared blocked once its thread or
 * process sleeps in the kernel (/proc's state 'S'), and only then does the
 * test make the move that must wake it. A hang is then explained from what
 * is left: the semaphores' values, whether the ring's memory is shared
 * (/proc/self/maps), who sleeps. A timer whose handler has no SA_RESTART
 * interrupts sem_wait(), and the named semaphore's file is looked for in
 * /dev/shm and in the workers' own memory maps.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "semaphores.h"
#include "suite.h"

#define CALL_MS   2000 /* how long a call that should return may take */
#define WAKE_MS   1000 /* how long a sleeper may take to wake once it can go on */
#define PRODUCERS 3    /* the stress test's producer processes */
#define CONSUMERS 3    /* and consumer processes */
#define ITEMS     3000 /* items each producer puts */
#define SEQ_ITEMS 2000 /* items through the ring from one process to another */

/* What the test process and its children share. */
struct shared {
	pid_t test_pid;                       /* the test process */
	volatile int stray;                   /* a child came back out of the student's call */
	volatile int calling[2];              /* child k is about to call ring_put/ring_get */
	volatile uint64_t got;                /* what a child's ring_get() returned */
	volatile int put_count[PRODUCERS];    /* items each producer has put */
	volatile int got_count[CONSUMERS];    /* items each consumer has taken */
	volatile int foreign;                 /* items that no producer sent */
	volatile uint64_t foreign_item;       /* the first of them */
	volatile int disorder;                /* a producer's items came out of order */
	volatile int bad_seq;                 /* the first item out of order: its sequence */
	volatile int bad_after;               /* and the one it came after */
	unsigned char seen[PRODUCERS][ITEMS]; /* times each item was taken */
	/* run_limited */
	volatile int ran[LIMITED_MAX_WORKERS]; /* times work(i) ran */
	volatile int in_parent;                /* work() ran in the test process */
	volatile int bad_arg;                  /* work() did not get the caller's arg */
	volatile int unnamed;                  /* a worker had no mapping of the semaphore */
	volatile int inside;                   /* workers inside work() now */
	volatile int max_inside;               /* most at once */
	volatile int release;                  /* the test lets the workers in work() go */
	char sem_path[128];                    /* /dev/shm/sem.NAME */
};

static struct shared *sh;
static int magic; /* the arg run_limited() must pass on: its address */

/* ==== Shared page, names, /proc ==== */

static struct shared *shared_page(void)
{
	if (!sh) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
		ck_assert_msg(sh != MAP_FAILED, "suite: mmap failed");
	}
	memset(sh, 0, sizeof(*sh));
	sh->test_pid = getpid();
	return sh;
}

/* A semaphore name of the test's own, "/ipclab10-PID-tag"; its file goes in sh->sem_path. */
static void sem_name(char *name, size_t size, const char *tag)
{
	snprintf(name, size, "/ipclab10-%d-%s", (int)getpid(), tag);
	snprintf(sh->sem_path, sizeof(sh->sem_path), "/dev/shm/sem.%s", name + 1);
}

/* The children of this process: how many, and how many of them sleep ('S'). */
static void children_states(int *count, int *asleep)
{
	char path[300];
	struct dirent *e;
	DIR *d = opendir("/proc");
	int pid, ppid;
	char state;

	*count = *asleep = 0;
	while (d && (e = readdir(d))) {
		char buf[512], *paren;
		FILE *f;

		if (sscanf(e->d_name, "%d", &pid) != 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (paren = strrchr(buf, ')')) &&
		    sscanf(paren + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid() &&
		    state != 'Z') {
			++*count;
			*asleep += state == 'S';
		}
		fclose(f);
	}
	if (d)
		closedir(d);
}

/*
 * How many mappings of named semaphores this process has: files of /dev/shm
 * called sem.*; with ino not 0, only those of that inode. (glibc maps a new
 * named semaphore under a temporary name, which the maps show as deleted.)
 */
static int maps_semaphores(ino_t ino)
{
	char line[512];
	unsigned long inode;
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "/dev/shm/sem."))
			continue;
		if (ino == 0 || (sscanf(line, "%*x-%*x %*s %*x %*x:%*x %lu", &inode) == 1 &&
				 inode == (unsigned long)ino))
			n++;
	}
	fclose(f);
	return n;
}

/*
 * The permissions of the mapping that holds addr, as /proc/self/maps shows
 * them ("rw-s": shared, "rw-p": private), into perms; 0 when no mapping
 * holds it.
 */
static int maps_perms(const void *addr, char perms[5])
{
	unsigned long from, to, a = (unsigned long)addr;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%lx-%lx %4s", &from, &to, perms) == 3 && a >= from && a < to;
	if (f)
		fclose(f);
	return found;
}

static int sem_value(sem_t *s)
{
	int v = -1;

	sem_getvalue(s, &v);
	return v;
}

/* ==== Calls with a deadline, on helper threads ==== */

struct call {
	void (*fn)(struct call *c); /* the operation */
	struct ring *r;             /* the ring */
	uint64_t item;              /* ring_put's item, or what ring_get() returned */
	const char *name;           /* run_limited: the semaphore's name */
	int nworkers, limit;        /* run_limited: its numbers */
	worker_fn *work;            /* run_limited: the work */
	long delay_ms;              /* sleep this long before the call */
	int takes_alarm;            /* this thread, alone, receives SIGALRM */
	int ret, err;               /* what the call returned, and errno */
	pid_t test_pid;             /* the test process */
	volatile pid_t tid;         /* the helper thread */
	volatile int calling;       /* the call has begun */
	pthread_t thread;
};

static void *call_main(void *p)
{
	struct call *c = p;
	sigset_t alarm;

	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	pthread_sigmask(c->takes_alarm ? SIG_UNBLOCK : SIG_BLOCK, &alarm, NULL);
	c->tid = (pid_t)syscall(SYS_gettid);
	if (c->delay_ms)
		clock_sleep_ms(c->delay_ms);
	c->calling = 1;
	errno = 0;
	c->fn(c);
	c->err = errno;
	if (getpid() != c->test_pid) {
		sh->stray = 1; /* a child of the student's came back out: stop it here */
		_exit(0);
	}
	return NULL;
}

static void call_start(struct call *c)
{
	sigset_t alarm, old;

	c->test_pid = getpid();
	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alarm, &old); /* the new thread starts with it blocked */
	xpthread_create(&c->thread, call_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Wait up to ms for the call to return. 1 when it did (the thread is joined). */
static int call_join(struct call *c, long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	return pthread_timedjoin_np(c->thread, NULL, &until) == 0;
}

/*
 * Wait until the call has either returned (1) or is asleep in the kernel (0),
 * up to CALL_MS; -1 if it is neither by then (it spins).
 */
static int call_settle(struct call *c)
{
	uint64_t until = clock_now_ns() + CALL_MS * 1000000ull;

	while (clock_now_ns() < until) {
		if (c->calling && c->tid) {
			char s = proc_state(0, c->tid);

			if (s == 0 || s == 'Z' || s == 'X')
				return call_join(c, CALL_MS);
			if (s == 'S')
				return 0;
		}
		usleep(1000);
	}
	return -1;
}

static void do_put(struct call *c)
{
	c->ret = ring_put(c->r, c->item);
}

static void do_get(struct call *c)
{
	c->ret = ring_get(c->r, &c->item);
}

static void do_limited(struct call *c)
{
	c->ret = run_limited(c->name, c->nworkers, c->limit, c->work, &magic);
}

/* The ring's state in words, for a message. */
static const char *ring_state(struct ring *r)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "mutex %d, empty %d, full %d, head %u, tail %u",
		 sem_value(&r->mutex), sem_value(&r->empty), sem_value(&r->full), r->head, r->tail);
	return buf;
}

/*
 * Why a call that should have returned is still asleep, from the ring's
 * state. waits_on is the semaphore the sleeper waits on (NULL when it is not
 * known), poster the call that should have posted it.
 */
static const char *why_stuck(struct ring *r, sem_t *waits_on, const char *poster)
{
	static char buf[400];
	const char *sem = waits_on == &r->empty ? "empty" : "full";
	char perms[5] = "";

	if (maps_perms(r, perms) && perms[3] != 's')
		snprintf(buf, sizeof(buf),
			 "the ring is in private memory (%s in /proc/self/maps), so each process "
			 "works on its own copy: map it with MAP_SHARED | MAP_ANONYMOUS.",
			 perms);
	else if (sem_value(&r->mutex) == 0)
		snprintf(
		    buf, sizeof(buf),
		    "the mutex is held (%s) while everybody sleeps: someone waits for a slot or "
		    "an item while holding it, or a sem_post(&r->mutex) is missing.",
		    ring_state(r));
	else if (sem_value(&r->mutex) > 1)
		snprintf(buf, sizeof(buf),
			 "the mutex has value %d: it must start at 1 and be posted once per wait.",
			 sem_value(&r->mutex));
	else if (waits_on && sem_value(waits_on) == 0)
		snprintf(buf, sizeof(buf),
			 "it waits on %s, which is 0 (%s): %s must sem_post(&r->%s) once for every "
			 "item it handles, and %s starts at %s.",
			 sem, ring_state(r), poster, sem, sem,
			 waits_on == &r->empty ? "slots" : "0");
	else
		snprintf(buf, sizeof(buf),
			 "%s. A process sleeps in sem_wait() on a semaphore that another process "
			 "posted: a sem_post() in one process wakes a sleeper in another only if "
			 "the semaphore was made with sem_init(sem, 1, value) — pshared = 1.",
			 ring_state(r));
	return buf;
}

/* ring_put(r, item) in this process, within CALL_MS. */
static void put_within(struct ring *r, uint64_t item, const char *what)
{
	struct call c = {.fn = do_put, .r = r, .item = item};

	call_start(&c);
	if (!call_join(&c, CALL_MS))
		ck_abort_msg("%s: ring_put() had not returned after %d s: %s", what, CALL_MS / 1000,
			     why_stuck(r, &r->empty, "ring_get()"));
	ck_assert_msg(c.ret == 0, "%s: ring_put() returned %d (errno %s).", what, c.ret,
		      err_name(c.err));
}

/* ring_get(r) in this process, within CALL_MS. */
static uint64_t get_within(struct ring *r, const char *what)
{
	struct call c = {.fn = do_get, .r = r};

	call_start(&c);
	if (!call_join(&c, CALL_MS))
		ck_abort_msg("%s: ring_get() had not returned after %d s: %s", what, CALL_MS / 1000,
			     why_stuck(r, &r->full, "ring_put()"));
	ck_assert_msg(c.ret == 0, "%s: ring_get() returned %d (errno %s).", what, c.ret,
		      err_name(c.err));
	return c.item;
}

/* ==== Child processes ==== */

struct op {
	struct ring *r; /* the ring */
	uint64_t item;  /* what to put */
	int k;          /* which sh->calling flag to raise */
};

static void child_put(void *arg)
{
	struct op *o = arg;

	sh->calling[o->k] = 1;
	_exit(ring_put(o->r, o->item) == 0 ? 0 : 1);
}

static void child_get(void *arg)
{
	struct op *o = arg;
	uint64_t item;

	sh->calling[o->k] = 1;
	if (ring_get(o->r, &item) < 0)
		_exit(1);
	sh->got = item;
	_exit(0);
}

/* Wait until child pid (flag k) sleeps in its call: 'S', or 'Z' if it returned, or 0. */
static char child_settle(pid_t pid, int k)
{
	uint64_t until = clock_now_ns() + CALL_MS * 1000000ull;
	char s = 0;

	while (clock_now_ns() < until) {
		s = proc_state(pid, 0);
		if (s == 'Z' || s == 0 || (sh->calling[k] && s == 'S'))
			return s;
		usleep(1000);
	}
	return s;
}

/* Reap pid within ms; its status, or -1 if it was still running (it is killed). */
static int reap_within(pid_t pid, long ms)
{
	int status;

	if (proc_wait_timeout(pid, &status, ms) < 0) {
		kill(pid, SIGKILL);
		proc_wait_timeout(pid, &status, -1);
		return -1;
	}
	return status;
}

/* ==== Core: the ring in one process ==== */

START_TEST(test_ring_create_free)
{
	struct ring *r;
	char perms[5] = "";

	shared_page();
	r = ring_create(8);
	ck_assert_msg(r != NULL, "ring_create(8) returned NULL (errno %s).", err_name(errno));
	ck_assert_msg(maps_perms(r, perms) && perms[3] == 's',
		      "the ring is in private memory (%s in /proc/self/maps): after fork() each "
		      "process would work on its own copy, semaphores included. Allocate it with "
		      "mmap(MAP_SHARED | MAP_ANONYMOUS), not malloc().",
		      perms);
	ck_assert_msg(sem_value(&r->mutex) == 1 && sem_value(&r->empty) == 8 &&
			  sem_value(&r->full) == 0,
		      "a new ring of 8 slots has semaphores mutex %d, empty %d, full %d; expected "
		      "1, 8 and 0: the mutex is free, every slot is empty, no item is there.",
		      sem_value(&r->mutex), sem_value(&r->empty), sem_value(&r->full));
	ck_assert_msg(r->slots == 8 && r->head == 0 && r->tail == 0,
		      "a new ring of 8 slots has slots %u, head %u, tail %u; expected 8, 0, 0.",
		      r->slots, r->head, r->tail);
	ck_assert_msg(ring_free(r) == 0, "ring_free() returned -1 (errno %s).", err_name(errno));
	ck_assert_msg(!maps_perms(r, perms),
		      "after ring_free(), the ring's memory is still mapped (%s): munmap() it, "
		      "with the size you mapped.",
		      perms);
	errno = 0;
	r = ring_create(0);
	ck_assert_msg(!r && errno == EINVAL,
		      "ring_create(0) returned %p (errno %s), expected NULL with EINVAL.",
		      (void *)r, err_name(errno));
	r = ring_create(RING_MAX_SLOTS + 1);
	ck_assert_msg(!r && errno == EINVAL,
		      "ring_create(RING_MAX_SLOTS + 1) returned %p (errno %s), expected NULL with "
		      "EINVAL.",
		      (void *)r, err_name(errno));
}
END_TEST

START_TEST(test_ring_fifo)
{
	struct ring *r;
	uint64_t got, next_in = 0, next_out = 0;

	shared_page();
	r = ring_create(4);
	ck_assert_msg(r != NULL, "ring_create(4) returned NULL (errno %s).", err_name(errno));
	/* Fill it, drain it, then go round it several times, 3 items at a time. */
	for (int round = 0; round < 12; round++) {
		int n = round == 0 ? 4 : 3;

		for (int i = 0; i < n; i++)
			put_within(r, 0xfedc000000000000ull | next_in++,
				   "an item into a ring with room");
		for (int i = 0; i < n; i++, next_out++) {
			got = get_within(r, "an item out of a ring that holds some");
			ck_assert_msg(
			    got == (0xfedc000000000000ull | next_out),
			    "ring_get() number %llu returned 0x%llx, expected 0x%llx: items "
			    "come out in the order they went in; head and tail each move on "
			    "by one, modulo slots.",
			    (unsigned long long)next_out + 1, (unsigned long long)got,
			    (unsigned long long)(0xfedc000000000000ull | next_out));
		}
	}
	ck_assert_msg(sem_value(&r->mutex) == 1 && sem_value(&r->empty) == 4 &&
			  sem_value(&r->full) == 0,
		      "after as many gets as puts the ring has %s; expected mutex 1, empty 4, full "
		      "0: every wait is matched by one post.",
		      ring_state(r));
	ring_free(r);
}
END_TEST

START_TEST(test_ring_blocks)
{
	struct call put = {.fn = do_put, .item = 99}, get = {.fn = do_get};
	struct ring *r;
	uint64_t got;

	shared_page();
	r = ring_create(4);
	ck_assert_msg(r != NULL, "ring_create(4) returned NULL (errno %s).", err_name(errno));
	for (uint64_t i = 0; i < 4; i++)
		put_within(r, i, "filling a ring of 4");
	put.r = r;
	call_start(&put);
	ck_assert_msg(
	    call_settle(&put) != 1,
	    "ring_put() into a full ring (4 items in 4 slots) returned %d at once instead "
	    "of waiting for a free slot: wait on empty first; it starts at slots and only "
	    "ring_get() posts it.",
	    put.ret);
	got = get_within(r, "ring_get() while a ring_put() waits");
	ck_assert_msg(got == 0, "ring_get() on a full ring returned %llu, expected 0 (the oldest).",
		      (unsigned long long)got);
	ck_assert_msg(call_join(&put, WAKE_MS),
		      "ring_put() still waits after ring_get() freed a slot (%s): ring_get() must "
		      "sem_post(&r->empty).",
		      ring_state(r));
	for (int i = 0; i < 4; i++) {
		static const uint64_t want[] = {1, 2, 3, 99};

		got = get_within(r, "draining the ring");
		ck_assert_msg(got == want[i], "ring_get() returned %llu, expected %llu.",
			      (unsigned long long)got, (unsigned long long)want[i]);
	}
	get.r = r;
	call_start(&get);
	ck_assert_msg(call_settle(&get) != 1,
		      "ring_get() on an empty ring returned %d at once instead of waiting for an "
		      "item: wait on full first; it starts at 0 and only ring_put() posts it.",
		      get.ret);
	put_within(r, 7, "ring_put() while a ring_get() waits");
	ck_assert_msg(
	    call_join(&get, WAKE_MS),
	    "ring_get() still waits after ring_put() stored an item (%s): ring_put() must "
	    "sem_post(&r->full).",
	    ring_state(r));
	ck_assert_msg(get.ret == 0 && get.item == 7,
		      "ring_get() returned %d with item %llu, "
		      "expected 0 with item 7.",
		      get.ret, (unsigned long long)get.item);
	ring_free(r);
}
END_TEST

/* ==== Across processes ==== */

static void seq_producer(void *arg)
{
	struct ring *r = arg;

	for (int i = 0; i < SEQ_ITEMS; i++) {
		if (ring_put(r, (uint64_t)i) < 0)
			_exit(1);
		sh->put_count[0]++;
	}
	_exit(0);
}

static void seq_consumer(void *arg)
{
	struct ring *r = arg;
	uint64_t item;

	for (int i = 0; i < SEQ_ITEMS; i++) {
		if (ring_get(r, &item) < 0)
			_exit(1);
		sh->got_count[0]++;
		if (item != (uint64_t)i) {
			sh->got = item;
			sh->bad_seq = i;
			_exit(2);
		}
	}
	_exit(0);
}

START_TEST(test_ring_across_processes)
{
	struct ring *r;
	pid_t prod, cons;
	int ps, cs;

	shared_page();
	r = ring_create(4);
	ck_assert_msg(r != NULL, "ring_create(4) returned NULL (errno %s).", err_name(errno));
	cons = proc_run(seq_consumer, r);
	prod = proc_run(seq_producer, r);
	cs = reap_within(cons, CALL_MS + 1000);
	ps = reap_within(prod, cs == 0 ? CALL_MS : 0);
	ck_assert_msg(cs >= 0 && (cs != 0 || ps >= 0),
		      "one producer process put %d items and one consumer process took %d of %d "
		      "through a ring of 4, then nothing moved for %d s: %s",
		      sh->put_count[0], sh->got_count[0], SEQ_ITEMS, (CALL_MS + 1000) / 1000,
		      why_stuck(r, NULL, NULL));
	ck_assert_msg(cs != 2 << 8,
		      "the consumer process's ring_get() number %d returned %llu, expected %d: "
		      "items come out in the order they went in.",
		      sh->bad_seq + 1, (unsigned long long)sh->got, sh->bad_seq);
	ck_assert_msg(cs == 0, "ring_get() failed in the consumer process.");
	ck_assert_msg(ps == 0, "ring_put() failed in the producer process.");
	ring_free(r);
}
END_TEST

/* Let a child sleep in its call, then wake it from this process; it must return. */
START_TEST(test_ring_pshared)
{
	struct op op = {0};
	struct ring *r;
	uint64_t got;
	pid_t pid;
	char s;

	shared_page();
	r = ring_create(1);
	ck_assert_msg(r != NULL, "ring_create(1) returned NULL (errno %s).", err_name(errno));
	op.r = r;
	pid = proc_run(child_get, &op);
	s = child_settle(pid, 0);
	ck_assert_msg(s != 'Z' && s != 0,
		      "ring_get() on an empty ring returned at once in a child process instead of "
		      "waiting for an item.");
	put_within(r, 42, "ring_put() while another process waits in ring_get()");
	ck_assert_msg(reap_within(pid, WAKE_MS) >= 0,
		      "a consumer process asleep in ring_get() was not woken by ring_put() in "
		      "another process: %s",
		      why_stuck(r, &r->full, "ring_put()"));
	ck_assert_msg(sh->got == 42, "the waiting consumer got %llu, expected 42.",
		      (unsigned long long)sh->got);

	op.item = 43;
	sh->calling[0] = 0;
	put_within(r, 41, "filling a ring of 1");
	pid = proc_run(child_put, &op);
	s = child_settle(pid, 0);
	ck_assert_msg(s != 'Z' && s != 0,
		      "ring_put() into a full ring returned at once in a child process instead of "
		      "waiting for a free slot.");
	got = get_within(r, "ring_get() while another process waits in ring_put()");
	ck_assert_msg(reap_within(pid, WAKE_MS) >= 0,
		      "a producer process asleep in ring_put() was not woken by ring_get() in "
		      "another process: %s",
		      why_stuck(r, &r->empty, "ring_get()"));
	ck_assert_msg(got == 41 && get_within(r, "draining") == 43,
		      "the items came out in the wrong order.");
	ring_free(r);
}
END_TEST

/* Producer p of the stress test: ITEMS items tagged (p + 1) << 32 | sequence. */
static void stress_producer(void *arg)
{
	struct op *o = arg;

	for (int s = 0; s < ITEMS; s++) {
		if (ring_put(o->r, (uint64_t)(o->k + 1) << 32 | (uint64_t)s) < 0)
			_exit(1);
		sh->put_count[o->k]++;
	}
	_exit(0);
}

/* Consumer c: takes its share, counts each item, checks each producer's order. */
static void stress_consumer(void *arg)
{
	struct op *o = arg;
	int last[PRODUCERS] = {-1, -1, -1};
	uint64_t item;

	for (int k = 0; k < PRODUCERS * ITEMS / CONSUMERS; k++) {
		uint64_t p, s;

		if (ring_get(o->r, &item) < 0)
			_exit(1);
		sh->got_count[o->k]++;
		p = (item >> 32) - 1;
		s = item & 0xffffffffu;
		if (p >= PRODUCERS || s >= ITEMS) {
			if (__atomic_fetch_add(&sh->foreign, 1, __ATOMIC_SEQ_CST) == 0)
				sh->foreign_item = item;
			continue;
		}
		__atomic_add_fetch(&sh->seen[p][s], 1, __ATOMIC_SEQ_CST);
		if ((int)s <= last[p] && !sh->disorder) {
			sh->disorder = 1;
			sh->bad_seq = (int)s;
			sh->bad_after = last[p];
		}
		last[p] = (int)s;
	}
	_exit(0);
}

/* Reap the stress test's children; 0 when one of them was still running after the deadline. */
static int stress_reap(pid_t *pids, int n, int *failed)
{
	uint64_t until = clock_now_ns() + 2ull * CALL_MS * 1000000;
	int all = 1;

	for (int i = 0; i < n; i++) {
		long left = (long)((until - clock_now_ns()) / 1000000);
		int status = reap_within(pids[i], left > 0 && all ? left : 0);

		all &= status >= 0;
		*failed += status > 0;
	}
	return all;
}

/* While this test holds the ring's mutex, the call c must wait for it. */
static void check_takes_mutex(struct ring *r, struct call *c, const char *what)
{
	struct timespec until;
	int settled;

	/* With a deadline: a ring whose mutex was left taken must not hang the test. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAKE_MS / 1000;
	ck_assert_msg(sem_timedwait(&r->mutex, &until) == 0,
		      "the test could not take the ring's mutex within %d s though nobody uses the "
		      "ring (%s).",
		      WAKE_MS / 1000, ring_state(r));
	call_start(c);
	settled = call_settle(c);
	sem_post(&r->mutex);
	ck_assert_msg(settled != 1,
		      "%s returned while this test held the ring's mutex: take the mutex "
		      "(sem_wait(&r->mutex)) around every use of head, tail and the slots, or two "
		      "producers (or two consumers) move them at the same time, and items are lost "
		      "or taken twice.",
		      what);
	ck_assert_msg(call_join(c, WAKE_MS), "%s still waits after the mutex was given back (%s).",
		      what, ring_state(r));
}

/* The stress test's processes stopped moving: say how far they got, and why. */
static void stress_stuck(struct ring *r)
{
	int put = 0, got = 0;

	for (int i = 0; i < PRODUCERS; i++)
		put += sh->put_count[i];
	for (int i = 0; i < CONSUMERS; i++)
		got += sh->got_count[i];
	ck_abort_msg("%d producer and %d consumer processes: %d items put and %d taken of %d, "
		     "then nothing moved for %d s: %s",
		     PRODUCERS, CONSUMERS, put, got, PRODUCERS * ITEMS, 2 * CALL_MS / 1000,
		     got > put ? "more items were taken than put. Does ring_get() post empty (a "
				 "free slot), not full?"
			       : why_stuck(r, NULL, NULL));
}

/* Every item the producers sent was taken exactly once, each producer's in order. */
static void check_every_item_once(void)
{
	int lost = 0, twice = 0, ex_p = 0, ex_s = 0;

	ck_assert_msg(!sh->foreign,
		      "the consumers took %d item(s) that no producer sent (the first: 0x%llx): a "
		      "slot was read before anything was stored in it, or after it was "
		      "overwritten.",
		      sh->foreign, (unsigned long long)sh->foreign_item);
	for (int p = 0; p < PRODUCERS; p++)
		for (int s = 0; s < ITEMS; s++)
			if ((sh->seen[p][s] == 0 && !lost++) || (sh->seen[p][s] > 1 && !twice++)) {
				ex_p = p;
				ex_s = s;
			}
	ck_assert_msg(!lost && !twice,
		      "of %d items, %d were lost and %d taken more than once (e.g. producer %d's "
		      "item %d arrived %d times): two processes moved head or tail at the same "
		      "time. Take the mutex around every use of head, tail and the slot.",
		      PRODUCERS * ITEMS, lost, twice, ex_p, ex_s, sh->seen[ex_p][ex_s]);
	ck_assert_msg(!sh->disorder,
		      "a consumer got a producer's item %d after its item %d: each producer's "
		      "items must come out in the order they went in.",
		      sh->bad_seq, sh->bad_after);
}

START_TEST(test_ring_stress)
{
	struct call one_put = {.fn = do_put, .item = 5}, one_get = {.fn = do_get};
	struct op ops[PRODUCERS + CONSUMERS];
	pid_t pids[PRODUCERS + CONSUMERS];
	struct ring *r;
	int failed = 0;

	shared_page();
	r = ring_create(8);
	ck_assert_msg(r != NULL, "ring_create(8) returned NULL (errno %s).", err_name(errno));
	one_put.r = one_get.r = r;
	check_takes_mutex(r, &one_put, "ring_put()");
	check_takes_mutex(r, &one_get, "ring_get()");
	ck_assert_msg(one_get.item == 5, "ring_get() returned %llu, expected 5.",
		      (unsigned long long)one_get.item);
	for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
		ops[i] = (struct op){r, 0, i < PRODUCERS ? i : i - PRODUCERS};
		pids[i] = proc_run(i < PRODUCERS ? stress_producer : stress_consumer, &ops[i]);
	}
	if (!stress_reap(pids, PRODUCERS + CONSUMERS, &failed))
		stress_stuck(r);
	ck_assert_msg(!failed, "ring_put() or ring_get() failed in %d child process(es).", failed);
	check_every_item_once();
	ring_free(r);
}
END_TEST

/*
 * One side sleeps in its call with the ring full (or empty); then the other
 * side comes, which must let both finish. first sleeps, second comes.
 */
static void check_order(struct ring *r, void (*first)(void *), void (*second)(void *),
			const char *deadlock)
{
	struct op a = {r, 3, 0}, b = {r, 3, 1};
	pid_t pa, pb;
	int sa, sb;
	char s;

	sh->calling[0] = sh->calling[1] = 0;
	pa = proc_run(first, &a);
	s = child_settle(pa, 0);
	ck_assert_msg(s != 'Z' && s != 0, "%s returned at once instead of waiting.",
		      first == child_put ? "ring_put() into a full ring"
					 : "ring_get() from an empty ring");
	pb = proc_run(second, &b);
	sb = reap_within(pb, CALL_MS);
	sa = reap_within(pa, sb < 0 ? 0 : WAKE_MS);
	if (sa < 0 || sb < 0) {
		ck_assert_msg(sem_value(&r->mutex) != 0, "deadlock: %s (%s)", deadlock,
			      ring_state(r));
		ck_abort_msg("the two processes did not finish: %s",
			     first == child_put ? why_stuck(r, &r->empty, "ring_get()")
						: why_stuck(r, &r->full, "ring_put()"));
	}
	ck_assert_msg(sa == 0 && sb == 0, "ring_put() or ring_get() failed in a child process.");
}

START_TEST(test_ring_lock_order)
{
	struct ring *r;

	shared_page();
	r = ring_create(2);
	ck_assert_msg(r != NULL, "ring_create(2) returned NULL (errno %s).", err_name(errno));
	put_within(r, 1, "filling a ring of 2");
	put_within(r, 2, "filling a ring of 2");
	check_order(r, child_put, child_get,
		    "ring_put() sleeps holding the mutex while it waits for a free slot, and "
		    "ring_get(), which would free one, waits for the mutex. Wait on empty first, "
		    "then take the mutex");
	ck_assert_msg(sh->got == 1, "ring_get() returned %llu, expected 1.",
		      (unsigned long long)sh->got);
	ring_free(r);

	r = ring_create(2);
	ck_assert_msg(r != NULL, "ring_create(2) returned NULL (errno %s).", err_name(errno));
	check_order(r, child_get, child_put,
		    "ring_get() sleeps holding the mutex while it waits for an item, and "
		    "ring_put(), which would bring one, waits for the mutex. Wait on full first, "
		    "then take the mutex");
	ck_assert_msg(sh->got == 3, "ring_get() returned %llu, expected 3.",
		      (unsigned long long)sh->got);
	ring_free(r);
}
END_TEST

/* ==== Signals ==== */

static void on_tick(int sig)
{
	(void)sig; /* nothing to do: the signal's arrival is the point */
}

/* Raise SIGALRM every us microseconds; the handler has no SA_RESTART. */
static void ticker_start(long us)
{
	struct sigaction sa;
	struct itimerval it = {{0, us}, {0, us}};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a sleeping sem_wait() fails with EINTR */
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void ticker_stop(void)
{
	struct itimerval it;

	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
}

/* The waiter sleeps with a timer firing every 2 ms; 60 ms later the other side frees it. */
static void check_eintr(struct call *waiter, struct call *freer, const char *what)
{
	sigset_t alarm, old;
	int waited, freed;

	sigemptyset(&alarm);
	sigaddset(&alarm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alarm, &old); /* only the waiter's thread takes SIGALRM */
	waiter->takes_alarm = 1;
	freer->delay_ms = 60;
	ticker_start(2000);
	call_start(waiter);
	call_start(freer);
	freed = call_join(freer, CALL_MS);
	waited = call_join(waiter, CALL_MS);
	ticker_stop();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ck_assert_msg(freed && waited,
		      "%s under a timer: the calls had not returned after %d s: %s", what,
		      CALL_MS / 1000, why_stuck(waiter->r, NULL, NULL));
	ck_assert_msg(
	    waiter->ret == 0 || waiter->err != EINTR,
	    "%s failed with EINTR: a signal handler installed without SA_RESTART ran "
	    "while sem_wait() slept, so sem_wait() returned -1 with EINTR. That is not an "
	    "error: call sem_wait() again.",
	    what);
	ck_assert_msg(waiter->ret == 0, "%s returned %d (errno %s), expected 0.", what, waiter->ret,
		      err_name(waiter->err));
	ck_assert_msg(freer->ret == 0, "the other side's call returned %d (errno %s).", freer->ret,
		      err_name(freer->err));
}

START_TEST(test_ring_eintr)
{
	struct call get = {.fn = do_get}, put = {.fn = do_put, .item = 77};
	struct call put2 = {.fn = do_put, .item = 88}, get2 = {.fn = do_get};
	struct ring *r;

	shared_page();
	r = ring_create(2);
	ck_assert_msg(r != NULL, "ring_create(2) returned NULL (errno %s).", err_name(errno));
	get.r = put.r = put2.r = get2.r = r;
	check_eintr(&get, &put, "ring_get() waiting on an empty ring");
	ck_assert_msg(get.item == 77, "ring_get() returned item %llu, expected 77.",
		      (unsigned long long)get.item);
	put_within(r, 1, "filling a ring of 2");
	put_within(r, 2, "filling a ring of 2");
	check_eintr(&put2, &get2, "ring_put() waiting on a full ring");
	ck_assert_msg(get2.item == 1 && get_within(r, "draining") == 2 &&
			  get_within(r, "draining") == 88,
		      "after ring_put() waited under a timer, the items came out wrong.");
	ring_free(r);
}
END_TEST

/* ==== A limit across processes: a named semaphore ==== */

/* In a worker: note the call; its own maps must hold the named semaphore. */
static void worker_note(int i, void *arg)
{
	struct stat st;

	if (getpid() == sh->test_pid)
		sh->in_parent = 1;
	if (arg != &magic)
		sh->bad_arg = 1;
	if (i >= 0 && i < LIMITED_MAX_WORKERS)
		__atomic_add_fetch(&sh->ran[i], 1, __ATOMIC_SEQ_CST);
	/* The semaphore of that name, or any named one if it was unlinked already. */
	if (maps_semaphores(stat(sh->sem_path, &st) == 0 ? st.st_ino : 0) <= 0)
		sh->unnamed = 1;
}

static int work_plain(int i, void *arg)
{
	worker_note(i, arg);
	return 0;
}

/* Worker i == 2 fails. */
static int work_fail_2(int i, void *arg)
{
	worker_note(i, arg);
	return i == 2 ? 3 : 0;
}

/* Inside until the test says go (or 3 s have passed), counting who is inside. */
static int work_gate(int i, void *arg)
{
	uint64_t until = clock_now_ns() + 3000 * 1000000ull;
	int now;

	now = __atomic_add_fetch(&sh->inside, 1, __ATOMIC_SEQ_CST); /* first: we are in */
	for (int max = sh->max_inside; now > max; max = sh->max_inside)
		__atomic_compare_exchange_n(&sh->max_inside, &max, now, 0, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST);
	worker_note(i, arg);
	while (!sh->release && clock_now_ns() < until)
		usleep(5000); /* asleep nearly all the time: the test waits for that */
	__atomic_sub_fetch(&sh->inside, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* Start run_limited() on a helper thread. */
static void limited_start(struct call *c, const char *name, int nworkers, int limit,
			  worker_fn *work)
{
	*c = (struct call){
	    .fn = do_limited, .name = name, .nworkers = nworkers, .limit = limit, .work = work};
	call_start(c);
}

/* Wait for run_limited() to return; fail with the cause when it hangs. */
static int limited_join(struct call *c)
{
	sem_t *s;
	int v = -1;

	if (!call_join(c, CALL_MS)) {
		sh->release = 1;
		s = sem_open(c->name, 0);
		if (s != SEM_FAILED) {
			sem_getvalue(s, &v);
			sem_close(s);
		}
		ck_abort_msg(
		    "run_limited(%d workers, limit %d) had not returned after %d s%s", c->nworkers,
		    c->limit, CALL_MS / 1000,
		    v == 0 && sh->inside == 0
			? ": the workers sleep in sem_wait() on a semaphore of value 0 with "
			  "nobody inside. Create it with the value limit, and sem_post() "
			  "after work()."
			: ". Fork every worker, then waitpid() each of them.");
	}
	ck_assert_msg(!sh->stray,
		      "a worker came back out of run_limited() and ran the caller's code: end "
		      "every worker with _exit(status).");
	errno = c->err;
	return c->ret;
}

START_TEST(test_limited_runs_all)
{
	struct call c;
	char name[64];
	int r;

	shared_page();
	sem_name(name, sizeof(name), "all");
	limited_start(&c, name, 6, 2, work_plain);
	r = limited_join(&c);
	ck_assert_msg(r == 0, "run_limited(6 workers, limit 2) returned %d (errno %s).", r,
		      err_name(errno));
	ck_assert_msg(!sh->in_parent, "work() ran in the parent process: every call of work() runs "
				      "in a child of its own.");
	for (int i = 0; i < 6; i++)
		ck_assert_msg(sh->ran[i] == 1, "work(%d, arg) ran %d times, expected once.", i,
			      sh->ran[i]);
	ck_assert_msg(!sh->bad_arg, "work() did not receive the arg given to run_limited().");
}
END_TEST

/* With nworkers gated in work(), once all sleep: exactly limit inside, the semaphore at 0. */
static void check_bound(int nworkers, int limit)
{
	uint64_t until = clock_now_ns() + CALL_MS * 1000000ull;
	int count = 0, asleep = 0, settled = 0, inside, value = -1, r;
	struct call c;
	char name[64], tag[32];
	sem_t *s;

	snprintf(tag, sizeof(tag), "bound-%d-%d", nworkers, limit);
	sem_name(name, sizeof(name), tag);
	sh->release = sh->inside = sh->max_inside = 0;
	limited_start(&c, name, nworkers, limit, work_gate);
	/* Settled: every worker forked and asleep, in work() or in sem_wait(), twice running. */
	while (clock_now_ns() < until && settled < 2) {
		usleep(2000);
		children_states(&count, &asleep);
		settled = count == nworkers && asleep == count ? settled + 1 : 0;
	}
	inside = sh->inside;
	s = sem_open(name, 0);
	if (s != SEM_FAILED) {
		sem_getvalue(s, &value);
		sem_close(s);
	}
	sh->release = 1;
	r = limited_join(&c);
	ck_assert_msg(r == 0, "run_limited(%d workers, limit %d) returned %d (errno %s).", nworkers,
		      limit, r, err_name(errno));
	ck_assert_msg(sh->max_inside <= limit,
		      "run_limited(%d workers, limit %d): %d workers were inside work() at once. "
		      "Each worker must sem_wait() before work() and sem_post() after, on a "
		      "semaphore created with the value limit.",
		      nworkers, limit, sh->max_inside);
	ck_assert_msg(inside == limit,
		      "run_limited(%d workers, limit %d): while the others slept, only %d worker%s "
		      "inside work(): the limit lets %d in at once. The semaphore's initial value "
		      "is the limit%s.",
		      nworkers, limit, inside, inside == 1 ? " was" : "s were", limit,
		      count < nworkers ? ", and every worker is forked before any is waited for"
				       : "");
	ck_assert_msg(value <= 0,
		      "run_limited(%d workers, limit %d): with %d workers inside work(), the "
		      "semaphore still had the value %d, expected 0.",
		      nworkers, limit, inside, value);
}

START_TEST(test_limited_bound)
{
	shared_page();
	check_bound(6, 2);
	check_bound(3, 1);
}
END_TEST

START_TEST(test_limited_cleanup)
{
	struct call c;
	char name[64];
	int r;

	shared_page();
	sem_name(name, sizeof(name), "cleanup");
	limited_start(&c, name, 4, 2, work_plain);
	r = limited_join(&c);
	ck_assert_msg(r == 0, "run_limited(4 workers, limit 2) returned %d (errno %s).", r,
		      err_name(errno));
	ck_assert_msg(!sh->unnamed,
		      "a worker did not have %s mapped: the limit must be the named semaphore "
		      "sem_open(name, O_CREAT | O_EXCL, 0600, limit), which the workers inherit.",
		      sh->sem_path);
	ck_assert_msg(access(sh->sem_path, F_OK) != 0,
		      "after run_limited() returned, %s still exists: sem_unlink(name) once the "
		      "workers are done, or the semaphore outlives your program.",
		      sh->sem_path);
	ck_assert_msg(maps_semaphores(0) == 0,
		      "after run_limited() returned, /proc/self/maps still maps the semaphore (a "
		      "file /dev/shm/sem.*): sem_close() it in the parent.");
	suite_check_leaks("run_limited()");
}
END_TEST

/* run_limited() on a name that exists must fail with EEXIST and leave that semaphore be. */
static void check_name_taken(void)
{
	struct call c;
	char name[64];
	sem_t *s;
	int r, v = -1;

	sem_name(name, sizeof(name), "taken");
	s = sem_open(name, O_CREAT | O_EXCL, 0600, 5);
	ck_assert_msg(s != SEM_FAILED, "suite: sem_open failed: %s", strerror(errno));
	sem_close(s);
	limited_start(&c, name, 3, 1, work_plain);
	r = limited_join(&c);
	s = sem_open(name, 0);
	if (s != SEM_FAILED) {
		sem_getvalue(s, &v);
		sem_close(s);
		sem_unlink(name);
	}
	ck_assert_msg(r == -1 && errno == EEXIST,
		      "run_limited() with a semaphore name that exists already returned %d (errno "
		      "%s), expected -1 with EEXIST: sem_open(name, O_CREAT | O_EXCL, ...).",
		      r, r < 0 ? err_name(errno) : "-");
	ck_assert_msg(v == 5,
		      "run_limited() failing with EEXIST %s the existing semaphore: it is not "
		      "yours; leave it alone.",
		      v < 0 ? "removed" : "changed");
	ck_assert_msg(sh->ran[0] + sh->ran[1] + sh->ran[2] == 0,
		      "run_limited() failed with EEXIST but ran workers.");
}

START_TEST(test_limited_errors)
{
	struct call c;
	char name[64];
	int r;

	shared_page();
	check_name_taken();
	sem_name(name, sizeof(name), "failing");
	limited_start(&c, name, 4, 2, work_fail_2);
	r = limited_join(&c);
	ck_assert_msg(r == -1 && errno == EIO,
		      "worker 2 exited with status 3; run_limited() returned %d (errno %s), "
		      "expected -1 with EIO: check every worker's wait status.",
		      r, r < 0 ? err_name(errno) : "-");
	ck_assert_msg(access(sh->sem_path, F_OK) != 0 && maps_semaphores(0) == 0,
		      "run_limited() failed with EIO and left %s %s: sem_close() and sem_unlink() "
		      "on the error path too.",
		      sh->sem_path, access(sh->sem_path, F_OK) == 0 ? "in /dev/shm" : "mapped");
	suite_check_leaks("run_limited() with a failing worker");
	errno = 0;
	r = run_limited(name, 0, 1, work_plain, &magic);
	ck_assert_msg(
	    r == -1 && errno == EINVAL,
	    "run_limited() with 0 workers returned %d (errno %s), expected -1 with EINVAL.", r,
	    err_name(errno));
	errno = 0;
	r = run_limited(name, 2, 0, work_plain, &magic);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "run_limited() with limit 0 returned %d (errno %s), expected -1 with EINVAL.",
		      r, err_name(errno));
	suite_check_leaks("run_limited() failing");
}
END_TEST

void suite_define(void)
{
	/* Core: the ring in one process. */
	SUITE_TEST(
	    test_ring_create_free, 2,
	    "Where does the ring live, and what do its three semaphores start at?\n"
	    "Memory from malloc() is copied by fork(); a MAP_SHARED | MAP_ANONYMOUS mapping is "
	    "shared: mmap(2), sem_init(3).\n"
	    "mmap(MAP_SHARED | MAP_ANONYMOUS); sem_init(&r->mutex, 1, 1), sem_init(&r->empty, 1, "
	    "slots), sem_init(&r->full, 1, 0); 0 or too many slots is EINVAL.");
	SUITE_TEST(
	    test_ring_fifo, 2,
	    "Where does ring_put() store, where does ring_get() take, and where do they go next?\n"
	    "A ring buffer stores at tail and takes at head, each moving on by one and wrapping "
	    "round at slots.\n"
	    "r->items[r->tail] = item; r->tail = (r->tail + 1) % r->slots; and the same with head "
	    "in ring_get().");
	SUITE_TEST(test_ring_blocks, 2,
		   "What makes ring_put() sleep on a full ring, and who wakes it?\n"
		   "sem_wait(3) sleeps while the count is 0; sem_post(3) adds one and wakes a "
		   "sleeper: sem_overview(7).\n"
		   "ring_put: sem_wait(&r->empty) before storing, sem_post(&r->full) after; "
		   "ring_get the other way round.");

	/* Across processes. */
	SUITE_TEST(test_ring_across_processes, 2,
		   "After fork(), do the children see the parent's ring, or a copy of it?\n"
		   "A child gets a private copy of the parent's memory, except mappings made with "
		   "MAP_SHARED: fork(2), mmap(2).\n"
		   "Put the whole ring, header and items, in one mmap(MAP_SHARED | MAP_ANONYMOUS) "
		   "of sizeof(struct ring) + slots * sizeof(uint64_t).");
	SUITE_TEST(test_ring_pshared, 2,
		   "Does a post in one process wake a sleeper in another?\n"
		   "An unnamed semaphore works between processes only if initialised with pshared "
		   "non-zero, in shared memory: sem_init(3).\n"
		   "sem_init(sem, 1, value): pshared = 1, for all three semaphores.");
	SUITE_TEST_EX(test_ring_stress, 3, 8, 0,
		      "What can two producers do to tail when both store at once?\n"
		      "head, tail and the slot are shared by every process; the mutex semaphore "
		      "lets one move them at a time: sem_overview(7).\n"
		      "Take r->mutex around the store and the move of tail (of head in ring_get): "
		      "every item exactly once.");
	SUITE_TEST(test_ring_lock_order, 2,
		   "A producer holds the mutex and sleeps on a full ring: can the consumer ever "
		   "free a slot?\n"
		   "Sleeping on a semaphore while holding the mutex blocks the one process that "
		   "could wake you: a deadlock.\n"
		   "Wait on empty (full in ring_get) FIRST, then take the mutex; post the other "
		   "semaphore after giving the mutex back.");

	/* Signals. */
	SUITE_TEST(test_ring_eintr, 2,
		   "What does sem_wait() return when a signal arrives while it sleeps?\n"
		   "A handler installed without SA_RESTART makes sem_wait(3) fail with EINTR; the "
		   "semaphore was not taken: signal(7).\n"
		   "while (sem_wait(s) < 0) if (errno != EINTR) return -1; -- one helper, used for "
		   "every wait.");

	/* A limit across processes: a named semaphore. */
	SUITE_TEST(test_limited_runs_all, 2,
		   "Does every work(i, arg) run once, in its own child?\n"
		   "fork(2) makes one child per worker; a child that returns from run_limited runs "
		   "the caller's code twice.\n"
		   "Fork every worker; each runs work(i, arg) once and _exit()s with its status.");
	SUITE_TEST(test_limited_bound, 2,
		   "What stops more than limit workers from being inside work() at once?\n"
		   "A semaphore starting at limit lets limit processes through and makes the rest "
		   "sleep: sem_open(3), sem_overview(7).\n"
		   "sem_open(name, O_CREAT | O_EXCL, 0600, limit); in each child sem_wait() (retry "
		   "EINTR) before work(), sem_post() after it.");
	SUITE_TEST(
	    test_limited_cleanup, 2,
	    "Is /dev/shm/sem.NAME still there after run_limited() returns?\n"
	    "A named semaphore lives until sem_unlink(3), and each process maps it until "
	    "sem_close(3).\n"
	    "In the parent, once every worker is reaped: sem_close(sem) and sem_unlink(name).");
	SUITE_TEST(test_limited_errors, 2,
		   "What if the name already exists, or a worker exits with 3?\n"
		   "O_EXCL makes sem_open(3) fail with EEXIST, and that semaphore is someone "
		   "else's; sem_open returns SEM_FAILED, not NULL.\n"
		   "EEXIST: start nothing and leave that semaphore alone; a worker not exiting 0: "
		   "reap all, clean up, errno = EIO.");
}
