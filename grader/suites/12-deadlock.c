/*
 * The hidden tests of lab 12, deadlock: dine_ordered(), dine_backoff() and
 * account_transfer().
 *
 * To see what the student's threads do with their locks, the suite stands
 * between them and the C library: it defines pthread_mutex_lock, _trylock,
 * _timedlock and _unlock itself, and each one makes the real call (found
 * with dlsym(RTLD_NEXT)) after noting, for the watched mutexes (the forks,
 * the accounts' locks), which thread holds which and which one each thread
 * is waiting for. Three things follow that a stopwatch cannot give:
 *  - a deadlock is recognised as a circle of waiters and named, fork by
 *    fork, instead of ending in a timeout;
 *  - a test can hold every thread at a meeting point right after it took
 *    its first lock, which turns "deadlocks once in a while" into
 *    "deadlocks every time" (the meeting ends as soon as every thread is
 *    either there or waiting for a lock held by one that is there);
 *  - each meal checks that the philosopher really holds both its forks, and
 *    the order and manner in which locks were taken is on record.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "suite.h"
#include "deadlock.h"

#define WATCH_MAX TABLE_MAX /* watched mutexes */
#define REC_MAX   128       /* threads that may use watched mutexes in one test */
#define MEET_MS   2000      /* the longest a thread waits at the meeting point */
#define STALL_MS  1500      /* no progress for this long: stuck */
#define CYCLE_MS  100       /* a circle of waiters that lasts this long is a deadlock */
#define RUN_MS    4000      /* the longest a dinner or a batch of transfers may take */
#define MSG_MAX   600       /* the longest failure message built here */

/* ==== Standing between the threads and the C library ==== */

typedef int (*lock_fn)(pthread_mutex_t *);
typedef int (*timedlock_fn)(pthread_mutex_t *, const struct timespec *);

static _Atomic(lock_fn) real_lock_p, real_trylock_p, real_unlock_p;
static _Atomic(timedlock_fn) real_timedlock_p;

/* The C library's own version of a function this file replaces. */
static void *real_symbol(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn)
		abort(); /* nothing sensible can run without it */
	return fn;
}

/* The real calls, looked up at first use. */
static int real_lock(pthread_mutex_t *m)
{
	lock_fn fn = atomic_load(&real_lock_p);

	if (!fn)
		atomic_store(&real_lock_p, fn = (lock_fn)real_symbol("pthread_mutex_lock"));
	return fn(m);
}

static int real_trylock(pthread_mutex_t *m)
{
	lock_fn fn = atomic_load(&real_trylock_p);

	if (!fn)
		atomic_store(&real_trylock_p, fn = (lock_fn)real_symbol("pthread_mutex_trylock"));
	return fn(m);
}

static int real_unlock(pthread_mutex_t *m)
{
	lock_fn fn = atomic_load(&real_unlock_p);

	if (!fn)
		atomic_store(&real_unlock_p, fn = (lock_fn)real_symbol("pthread_mutex_unlock"));
	return fn(m);
}

static int real_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
	timedlock_fn fn = atomic_load(&real_timedlock_p);

	if (!fn)
		atomic_store(&real_timedlock_p,
			     fn = (timedlock_fn)real_symbol("pthread_mutex_timedlock"));
	return fn(m, abstime);
}

/* One thread that used a watched mutex, as seen by the wrappers. */
struct rec {
	_Atomic pid_t tid;     /* the thread */
	atomic_int waiting;    /* watched index + 1 it is blocked on, or 0 */
	atomic_int held;       /* watched mutexes it holds now */
	atomic_int max_held;   /* the most it held at once */
	atomic_int took_any;   /* it has taken a watched mutex */
	atomic_int arrived;    /* it is, or was, at the meeting point */
	atomic_int hold_wait;  /* blocking locks it called while holding a watched mutex */
	atomic_int hw_held;    /* the first of those: a mutex it held ... */
	atomic_int hw_wanted;  /* ... and the one it then waited for */
	atomic_int inversions; /* mutexes of a lower rank locked while holding a higher one */
	atomic_int inv_held;   /* the first inversion: the higher one held ... */
	atomic_int inv_taken;  /* ... and the lower one taken */
	atomic_int busy;       /* trylocks that found the mutex taken */
	atomic_int try_held;   /* the last failed trylock made holding a watched mutex: that ... */
	atomic_int try_wanted; /* ... and the one tried, + 1 (0: none yet) */
};

enum watch_kind { WATCH_FORKS, WATCH_ACCOUNTS };

static struct {
	pthread_mutex_t *mutex[WATCH_MAX]; /* the watched mutexes */
	int rank[WATCH_MAX];               /* their lock order: fork number, account id */
	atomic_int count;                  /* how many are watched */
	enum watch_kind kind;              /* forks or accounts, for the messages */
	atomic_int holder[WATCH_MAX];      /* rec index + 1 holding each, or 0 */
	struct rec rec[REC_MAX];           /* the threads seen */
	atomic_int nrec;                   /* records in use */
	atomic_int run;                    /* bumped by watch_reset: older records are stale */
	atomic_int meet_open;              /* threads stop at their first lock */
	atomic_int meet_arrived;           /* how many are there */
	int meet_expected;                 /* how many should come */
	uint64_t meet_deadline_ns;         /* nobody waits there after this */
} lw;

static _Thread_local int my_rec; /* this thread's rec index + 1, 0 before its first use */
static _Thread_local int my_run; /* the lw.run that my_rec belongs to */

/* The watched index of m, or -1. */
static int watch_find(const pthread_mutex_t *m)
{
	int count = atomic_load(&lw.count);

	for (int w = 0; w < count; w++)
		if (lw.mutex[w] == m)
			return w;
	return -1;
}

/* This thread's record, made at its first use; -1 when there is no room left. */
static int rec_me(void)
{
	int run = atomic_load(&lw.run), r;

	if (my_rec != 0 && my_run == run)
		return my_rec - 1;
	r = atomic_fetch_add(&lw.nrec, 1);
	if (r >= REC_MAX)
		return -1;
	atomic_store(&lw.rec[r].tid, gettid());
	my_rec = r + 1;
	my_run = run;
	return r;
}

/* The watched mutex of highest rank that record r holds, or -1. */
static int highest_held(int r)
{
	int count = atomic_load(&lw.count), best = -1;

	for (int w = 0; w < count; w++)
		if (atomic_load(&lw.holder[w]) == r + 1 && (best < 0 || lw.rank[w] > lw.rank[best]))
			best = w;
	return best;
}

/* How many threads not at the meeting are blocked on a mutex held by one that is. */
static int meet_blocked(void)
{
	int nrec = atomic_load(&lw.nrec), blocked = 0;

	for (int r = 0; r < nrec && r < REC_MAX; r++) {
		int w = atomic_load(&lw.rec[r].waiting), h;

		if (w == 0 || atomic_load(&lw.rec[r].arrived))
			continue;
		h = atomic_load(&lw.holder[w - 1]);
		if (h > 0 && atomic_load(&lw.rec[h - 1].arrived))
			blocked++;
	}
	return blocked;
}

/*
 * Wait at the meeting point until every expected thread is there or blocked
 * by one that is there, or the deadline passes; then the meeting is over.
 */
static void meet_attend(int r)
{
	atomic_store(&lw.rec[r].arrived, 1);
	atomic_fetch_add(&lw.meet_arrived, 1);
	while (atomic_load(&lw.meet_open)) {
		if (atomic_load(&lw.meet_arrived) + meet_blocked() >= lw.meet_expected ||
		    clock_now_ns() > lw.meet_deadline_ns)
			atomic_store(&lw.meet_open, 0);
		else
			clock_sleep_ms(1);
	}
}

/* Record r now holds watched mutex w. */
static void took(int r, int w)
{
	struct rec *me = &lw.rec[r];
	int high = highest_held(r), held;

	if (high >= 0 && lw.rank[high] > lw.rank[w] && atomic_fetch_add(&me->inversions, 1) == 0) {
		atomic_store(&me->inv_held, high);
		atomic_store(&me->inv_taken, w);
	}
	atomic_store(&lw.holder[w], r + 1);
	held = atomic_fetch_add(&me->held, 1) + 1;
	if (held > atomic_load(&me->max_held))
		atomic_store(&me->max_held, held);
	if (!atomic_exchange(&me->took_any, 1) && atomic_load(&lw.meet_open))
		meet_attend(r);
}

/* Record r is about to wait for w: note it when r already holds another mutex. */
static void before_wait(int r, int w)
{
	struct rec *me = &lw.rec[r];
	int high = highest_held(r);

	if (high >= 0 && high != w && atomic_fetch_add(&me->hold_wait, 1) == 0) {
		atomic_store(&me->hw_held, high);
		atomic_store(&me->hw_wanted, w);
	}
	atomic_store(&me->waiting, w + 1);
}

/* Record r's trylock of w found it taken: note what r held meanwhile. */
static void busy_try(int r, int w)
{
	struct rec *me = &lw.rec[r];
	int high = highest_held(r);

	atomic_fetch_add(&me->busy, 1);
	if (high >= 0) {
		atomic_store(&me->try_held, high);
		atomic_store(&me->try_wanted, w + 1);
	}
}

/*
 * The replacements. Each one does the real call and returns what it
 * returned; around it, for a watched mutex, it notes the wait and the
 * holder in the record.
 */
int pthread_mutex_lock(pthread_mutex_t *m)
{
	int w = watch_find(m), r, err;

	if (w < 0 || (r = rec_me()) < 0)
		return real_lock(m);
	before_wait(r, w);
	err = real_lock(m);
	atomic_store(&lw.rec[r].waiting, 0);
	if (err == 0)
		took(r, w);
	return err;
}

int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
	int w = watch_find(m), r, err;

	if (w < 0 || (r = rec_me()) < 0)
		return real_timedlock(m, abstime);
	atomic_store(&lw.rec[r].waiting, w + 1);
	err = real_timedlock(m, abstime);
	atomic_store(&lw.rec[r].waiting, 0);
	if (err == 0)
		took(r, w);
	return err;
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
	int w = watch_find(m), r, err;

	if (w < 0 || (r = rec_me()) < 0)
		return real_trylock(m);
	err = real_trylock(m);
	if (err == 0)
		took(r, w);
	else if (err == EBUSY)
		busy_try(r, w);
	return err;
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
	int w = watch_find(m), r, err, mine;

	if (w < 0 || (r = rec_me()) < 0)
		return real_unlock(m);
	/* Forget the holder before the real unlock: the next one may take it at once. */
	mine = atomic_load(&lw.holder[w]) == r + 1;
	if (mine) {
		atomic_store(&lw.holder[w], 0);
		atomic_fetch_sub(&lw.rec[r].held, 1);
	}
	err = real_unlock(m);
	if (err != 0 && mine) {
		atomic_store(&lw.holder[w], r + 1);
		atomic_fetch_add(&lw.rec[r].held, 1);
	}
	return err;
}

/* Forget every record and stop watching: the start of a new run. */
static void watch_reset(void)
{
	atomic_store(&lw.count, 0);
	atomic_store(&lw.meet_open, 0);
	atomic_store(&lw.meet_arrived, 0);
	for (int w = 0; w < WATCH_MAX; w++)
		atomic_store(&lw.holder[w], 0);
	for (int r = 0; r < REC_MAX; r++) {
		struct rec *x = &lw.rec[r];

		atomic_store(&x->tid, 0);
		atomic_store(&x->waiting, 0);
		atomic_store(&x->held, 0);
		atomic_store(&x->max_held, 0);
		atomic_store(&x->took_any, 0);
		atomic_store(&x->arrived, 0);
		atomic_store(&x->hold_wait, 0);
		atomic_store(&x->inversions, 0);
		atomic_store(&x->busy, 0);
		atomic_store(&x->try_wanted, 0);
	}
	atomic_store(&lw.nrec, 0);
	atomic_fetch_add(&lw.run, 1);
}

/* Watch count mutexes of one kind; rank[i] is mutex i's place in the lock order. */
static void watch_set(enum watch_kind kind, pthread_mutex_t *m[], const int rank[], int count)
{
	watch_reset();
	lw.kind = kind;
	for (int w = 0; w < count; w++) {
		lw.mutex[w] = m[w];
		lw.rank[w] = rank[w];
	}
	atomic_store(&lw.count, count);
}

/* Make the next expected threads stop at their first lock (see meet_attend). */
static void meet_open(int expected)
{
	lw.meet_expected = expected;
	lw.meet_deadline_ns = clock_now_ns() + (uint64_t)MEET_MS * 1000000u;
	atomic_store(&lw.meet_arrived, 0);
	atomic_store(&lw.meet_open, 1);
}

/* ==== Reading the record: names, circles, stalls ==== */

/* "fork 3" or "account id 7": watched mutex w, in words. */
static const char *watch_name(int w, char *buf, size_t size)
{
	if (lw.kind == WATCH_FORKS)
		snprintf(buf, size, "fork %d", lw.rank[w]);
	else
		snprintf(buf, size, "account id %d", lw.rank[w]);
	return buf;
}

/* The rec index + 1 holding the mutex that record r waits for, or 0. */
static int next_in_chain(int r)
{
	int w = atomic_load(&lw.rec[r].waiting);

	return w == 0 ? 0 : atomic_load(&lw.holder[w - 1]);
}

/* Describe the circle that record start is part of into msg. */
static void describe_cycle(int start, char *msg, size_t size)
{
	char a[32], b[32];
	int len = 0, links = 0, r = start;

	do {
		int wanted = atomic_load(&lw.rec[r].waiting) - 1;
		int held = highest_held(r);

		if (wanted < 0)
			break; /* it moved on while we looked */
		if (held < 0)
			held = wanted;
		len += snprintf(msg + len, size - (size_t)len,
				"%sthe thread holding %s waits for %s", links++ ? ", " : "",
				watch_name(held, a, sizeof(a)), watch_name(wanted, b, sizeof(b)));
		r = next_in_chain(r) - 1;
	} while (r >= 0 && r != start && links < REC_MAX && (size_t)len < size);
}

/*
 * Look for a circle of threads each blocked on a mutex the next one holds.
 * Returns its length (1: a thread waits for itself) with a record on it in
 * *start, or 0.
 */
static int find_cycle(int *start)
{
	int nrec = atomic_load(&lw.nrec);

	if (nrec > REC_MAX)
		nrec = REC_MAX;
	for (int r = 0; r < nrec; r++) {
		int cur = r, steps = 0;

		while (steps <= nrec) {
			int next = next_in_chain(cur) - 1;

			if (next < 0)
				break;
			steps++;
			if (next == r) {
				*start = r;
				return steps;
			}
			cur = next;
		}
	}
	return 0;
}

/* Whether thread tid still runs in this process. */
static int thread_alive(pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)tid);
	return access(path, F_OK) == 0;
}

/* A watched mutex held by a thread that has ended, or -1. */
static int held_by_the_dead(void)
{
	for (int w = 0; w < atomic_load(&lw.count); w++) {
		int h = atomic_load(&lw.holder[w]);

		if (h > 0 && !thread_alive(atomic_load(&lw.rec[h - 1].tid)))
			return w;
	}
	return -1;
}

/* Failed trylocks by all threads so far. */
static long busy_total(void)
{
	long busy = 0;

	for (int r = 0; r < atomic_load(&lw.nrec) && r < REC_MAX; r++)
		busy += atomic_load(&lw.rec[r].busy);
	return busy;
}

/* The watched mutexes held now, as "fork 0, fork 2", into buf. */
static const char *held_list(char *buf, size_t size)
{
	char name[32];
	int len = 0, any = 0;

	buf[0] = '\0';
	for (int w = 0; w < atomic_load(&lw.count) && (size_t)len < size; w++)
		if (atomic_load(&lw.holder[w]) > 0)
			len += snprintf(buf + len, size - (size_t)len, "%s%s", any++ ? ", " : "",
					watch_name(w, name, sizeof(name)));
	return any ? buf : "none";
}

/* ==== Watching a run until it ends, sticks or breaks a rule ==== */

/* The message for a circle of len waiters through record at. */
static const char *cycle_message(int at, int len, char *msg, size_t size)
{
	char circle[MSG_MAX - 100];

	describe_cycle(at, circle, sizeof(circle));
	if (len == 1)
		snprintf(msg, size, "a thread waits for a lock it already holds (%s)", circle);
	else if (lw.kind == WATCH_FORKS && len == atomic_load(&lw.count))
		snprintf(msg, size,
			 "deadlock: every philosopher holds one fork and waits for the next (%s)",
			 circle);
	else if (lw.kind == WATCH_FORKS)
		snprintf(msg, size,
			 "deadlock: %d philosophers wait for each other in a circle (%s)", len,
			 circle);
	else
		snprintf(msg, size, "deadlock: %s", circle);
	return msg;
}

/* What a run reports to run_watch. */
struct progress {
	atomic_int *done;          /* set once the run is over */
	atomic_int *count;         /* moves on while it makes progress: meals, transfers */
	const char *(*rule)(void); /* a message when a rule was broken (may be NULL) */
	const char *what;          /* "no meal", "no transfer": for the stall message */
};

/* What a stalled run with no circle of waiters shows. */
static const char *stall_message(const struct progress *p, char *msg, size_t size)
{
	char name[32], held[256];
	int w = held_by_the_dead();
	long busy = busy_total();

	if (w >= 0) {
		snprintf(msg, size,
			 "a thread ended while still holding %s, so nobody can ever take it again: "
			 "%s",
			 watch_name(w, name, sizeof(name)),
			 lw.kind == WATCH_FORKS
			     ? "put both forks down after every meal, the last one too"
			     : "unlock both accounts before returning");
		return msg;
	}
	held_list(held, sizeof(held));
	clock_sleep_ms(50);
	if (busy_total() > busy)
		snprintf(msg, size,
			 "%s for %d ms, yet nobody is blocked: threads hold %s and keep retrying "
			 "the other lock with trylock without putting theirs down (a livelock): "
			 "after a failed trylock, unlock the first fork, back off, start again",
			 p->what, STALL_MS, held);
	else
		snprintf(
		    msg, size,
		    "%s for %d ms (locks held: %s): an endless loop or a wait that never ends?",
		    p->what, STALL_MS, held);
	return msg;
}

/*
 * Poll a run until it is done. Returns NULL when it ended, or a message: a
 * broken rule, a circle of waiters that lasted CYCLE_MS (a deadlock), no
 * progress for STALL_MS, or still running after RUN_MS.
 */
static const char *run_watch(const struct progress *p)
{
	static char msg[MSG_MAX];
	uint64_t start = clock_now_ns(), moved = start, circled = 0;
	int last = atomic_load(p->count), at, len;
	const char *broken;

	while (!atomic_load(p->done)) {
		uint64_t now = clock_now_ns();
		int count = atomic_load(p->count);

		if (p->rule && (broken = p->rule()))
			return broken;
		if (count != last || atomic_load(&lw.meet_open)) {
			last = count;
			moved = now;
			circled = 0;
		} else if ((len = find_cycle(&at)) > 0) {
			if (!circled)
				circled = now;
			else if (now - circled > (uint64_t)CYCLE_MS * 1000000u)
				return cycle_message(at, len, msg, sizeof(msg));
		} else {
			circled = 0;
		}
		if (now - moved > (uint64_t)STALL_MS * 1000000u)
			return stall_message(p, msg, sizeof(msg));
		if (now - start > (uint64_t)RUN_MS * 1000000u) {
			snprintf(msg, sizeof(msg), "still running after %d ms: far too slow",
				 RUN_MS);
			return msg;
		}
		clock_sleep_ms(5);
	}
	return p->rule ? p->rule() : NULL;
}

/* Whether watched mutex w is unlocked now (tried for real, then released). */
static int watch_free(int w)
{
	if (real_trylock(lw.mutex[w]) != 0)
		return 0;
	real_unlock(lw.mutex[w]);
	return 1;
}

/* ==== A dinner ==== */

/* Everything one dinner shares; static, since stuck threads may outlive a failed test. */
static struct {
	struct table t;                                /* what dine_* receives */
	pthread_mutex_t forks[TABLE_MAX];              /* the forks, error-checking mutexes */
	int (*dine)(const struct table *t, int meals); /* the function under test */
	int meals;                                     /* meals each */
	pthread_t thread;                              /* the thread that calls dine */
	_Atomic pid_t caller;                          /* its tid */
	atomic_int done;                               /* dine returned */
	int ret, err;                   /* what it returned, and errno; read once done */
	atomic_int eaten[TABLE_MAX];    /* meals eaten by each philosopher */
	_Atomic pid_t eater[TABLE_MAX]; /* the thread each philosopher ate in */
	atomic_int total;               /* meals so far: the progress counter */
	atomic_int wrong;               /* a meal broke a rule ... */
	atomic_int wrong_ready;         /* ... and why says which */
	char why[MSG_MAX];
	int rules; /* enum rules, checked while it runs */
} din;

enum rules {
	RULE_ORDER = 1 << 0,        /* the lower-numbered fork first */
	RULE_NO_HOLD_WAIT = 1 << 1, /* never block on a fork while holding one */
};

/* Note the first meal that broke a rule. */
static void meal_wrong(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void meal_wrong(const char *fmt, ...)
{
	va_list ap;

	if (atomic_exchange(&din.wrong, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(din.why, sizeof(din.why), fmt, ap);
	va_end(ap);
	atomic_store(&din.wrong_ready, 1);
}

/* A little work while eating, so that neighbours really do wait for each other. */
static void chew(void)
{
	uint64_t until = clock_now_ns() + 5000;

	while (clock_now_ns() < until)
		;
}

/* The eat callback: check the philosopher, its thread and its forks; count the meal. */
static void eat_meal(void *ctx, int i)
{
	pid_t me = gettid(), first = 0;
	int n = din.t.n, r = my_rec != 0 && my_run == atomic_load(&lw.run) ? my_rec : 0;

	(void)ctx;
	if (i < 0 || i >= n) {
		meal_wrong("eat was called for philosopher %d; they are numbered 0 to %d", i,
			   n - 1);
		return;
	}
	if (me == atomic_load(&din.caller))
		meal_wrong("philosopher %d ate in the thread that called the function: each "
			   "philosopher is a thread of its own (pthread_create)",
			   i);
	if (!atomic_compare_exchange_strong(&din.eater[i], &first, me) && first != me)
		meal_wrong("philosopher %d ate in two different threads: one thread per "
			   "philosopher, eating all of its meals",
			   i);
	if (r == 0 || atomic_load(&lw.holder[i]) != r)
		meal_wrong("philosopher %d ate without holding its left fork, fork %d: lock "
			   "forks[i] and forks[(i + 1) %% n] before calling eat",
			   i, i);
	else if (atomic_load(&lw.holder[(i + 1) % n]) != r)
		meal_wrong("philosopher %d ate without holding its right fork, fork %d: lock "
			   "forks[i] and forks[(i + 1) %% n] before calling eat",
			   i, (i + 1) % n);
	chew();
	atomic_fetch_add(&din.eaten[i], 1);
	atomic_fetch_add(&din.total, 1);
}

/* The dinner's own thread: call the function under test and note what it returned. */
static void *dinner_main(void *arg)
{
	(void)arg;
	atomic_store(&din.caller, gettid());
	din.ret = din.dine(&din.t, din.meals);
	din.err = errno;
	atomic_store(&din.done, 1);
	return NULL;
}

/* The rule the dinner broke so far, in words, or NULL. */
static const char *dinner_rule(void)
{
	static char msg[MSG_MAX];
	char a[32], b[32];

	if (atomic_load(&din.wrong_ready))
		return din.why;
	for (int r = 0; r < atomic_load(&lw.nrec) && r < REC_MAX; r++) {
		struct rec *x = &lw.rec[r];

		if ((din.rules & RULE_ORDER) && atomic_load(&x->inversions)) {
			snprintf(
			    msg, sizeof(msg),
			    "a philosopher holding %s then locked %s: dine_ordered must take the "
			    "lower-numbered of its two forks first (philosopher %d's right fork "
			    "is fork 0, which comes first)",
			    watch_name(atomic_load(&x->inv_held), a, sizeof(a)),
			    watch_name(atomic_load(&x->inv_taken), b, sizeof(b)), din.t.n - 1);
			return msg;
		}
		if ((din.rules & RULE_NO_HOLD_WAIT) && atomic_load(&x->hold_wait)) {
			snprintf(
			    msg, sizeof(msg),
			    "a philosopher holding %s called pthread_mutex_lock on %s: that is "
			    "hold-and-wait, the deadlock's own ingredient. dine_backoff only "
			    "tries the second fork (pthread_mutex_trylock) and puts the first "
			    "one down when it is busy",
			    watch_name(atomic_load(&x->hw_held), a, sizeof(a)),
			    watch_name(atomic_load(&x->hw_wanted), b, sizeof(b)));
			return msg;
		}
	}
	return NULL;
}

/* Lay a table of n error-checking forks and start dine(table, meals) in a thread. */
static void dinner_start(int (*dine)(const struct table *, int), int n, int meals, int rules)
{
	pthread_mutex_t *m[TABLE_MAX];
	int rank[TABLE_MAX];
	pthread_mutexattr_t attr;

	memset(&din, 0, sizeof(din));
	ck_assert(pthread_mutexattr_init(&attr) == 0);
	ck_assert(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK) == 0);
	for (int i = 0; i < n; i++) {
		ck_assert(pthread_mutex_init(&din.forks[i], &attr) == 0);
		m[i] = &din.forks[i];
		rank[i] = i;
	}
	pthread_mutexattr_destroy(&attr);
	din.t = (struct table){.n = n, .forks = din.forks, .eat = eat_meal, .ctx = &din};
	din.dine = dine;
	din.meals = meals;
	din.rules = rules;
	watch_set(WATCH_FORKS, m, rank, n);
}

/* Start the thread that calls dine_*. */
static void dinner_go(void)
{
	xpthread_create(&din.thread, dinner_main, NULL);
}

/* Watch the dinner to its end; fail with what went wrong. */
static void dinner_finish(const char *fname)
{
	struct progress p = {&din.done, &din.total, dinner_rule, "no philosopher ate"};
	const char *msg = run_watch(&p), *cure = "";

	if (msg && strncmp(msg, "deadlock", 8) == 0)
		cure = din.dine == dine_ordered
			   ? ". Take the lower-numbered fork first: philosopher n - 1 then reaches "
			     "for fork 0 before fork n - 1, and the circle cannot close"
			   : ". Only try the second fork (pthread_mutex_trylock) and put the first "
			     "one down when it is busy";
	ck_assert_msg(!msg, "%s(n=%d, meals=%d): %s%s", fname, din.t.n, din.meals, msg, cure);
	xpthread_join(din.thread, NULL);
	ck_assert_msg(din.ret == 0, "%s(n=%d, meals=%d) returned %d (errno %s), expected 0", fname,
		      din.t.n, din.meals, din.ret, err_name(din.err));
}

/* Every philosopher ate exactly meals times, each in a thread of its own; every fork is free. */
static void dinner_check(const char *fname)
{
	for (int i = 0; i < din.t.n; i++) {
		int eaten = atomic_load(&din.eaten[i]);

		ck_assert_msg(eaten == din.meals,
			      "%s(n=%d, meals=%d): philosopher %d ate %d times, expected %d%s",
			      fname, din.t.n, din.meals, i, eaten, din.meals,
			      eaten < din.meals ? " (a philosopher left hungry: starvation)" : "");
		for (int j = 0; j < i; j++)
			ck_assert_msg(din.eater[i] != din.eater[j],
				      "%s: philosophers %d and %d ate in the same thread: one "
				      "thread per philosopher",
				      fname, j, i);
	}
	for (int w = 0; w < din.t.n; w++)
		ck_assert_msg(watch_free(w),
			      "%s(n=%d, meals=%d) returned with fork %d still locked: put both "
			      "forks down after every meal, the last one too",
			      fname, din.t.n, din.meals, w);
}

/* A whole dinner: start, watch, check. */
static void dinner(int (*dine)(const struct table *, int), const char *fname, int n, int meals,
		   int rules)
{
	dinner_start(dine, n, meals, rules);
	dinner_go();
	dinner_finish(fname);
	dinner_check(fname);
}

/*
 * A dinner whose philosophers all stop right after their first fork until
 * every one of them holds one (or is blocked by one that does): the moment
 * left-then-right deadlocks.
 */
static void dinner_in_step(int (*dine)(const struct table *, int), const char *fname)
{
	dinner_start(dine, 5, 3, 0);
	meet_open(5);
	dinner_go();
	dinner_finish(fname);
	dinner_check(fname);
}

/* ==== Core: dine_ordered ==== */

START_TEST(test_ordered_everyone_eats)
{
	dinner(dine_ordered, "dine_ordered", 5, 40, RULE_ORDER);
	dinner(dine_ordered, "dine_ordered", 2, 40, RULE_ORDER);
	dinner(dine_ordered, "dine_ordered", 7, 20, RULE_ORDER);
}
END_TEST

START_TEST(test_ordered_no_deadlock)
{
	dinner_in_step(dine_ordered, "dine_ordered");
}
END_TEST

/* ==== Core: dine_backoff ==== */

START_TEST(test_backoff_everyone_eats)
{
	dinner(dine_backoff, "dine_backoff", 5, 40, RULE_NO_HOLD_WAIT);
	dinner(dine_backoff, "dine_backoff", 2, 40, RULE_NO_HOLD_WAIT);
	dinner(dine_backoff, "dine_backoff", 7, 20, RULE_NO_HOLD_WAIT);
}
END_TEST

START_TEST(test_backoff_no_deadlock)
{
	dinner_in_step(dine_backoff, "dine_backoff");
}
END_TEST

/* Whether philosophers 3, 4 and 0 have all eaten meals times. */
static int far_side_fed(int meals)
{
	return atomic_load(&din.eaten[3]) >= meals && atomic_load(&din.eaten[4]) >= meals &&
	       atomic_load(&din.eaten[0]) >= meals;
}

/*
 * Wait until a philosopher found fork 2 busy while holding fork 1 or fork 3,
 * its other fork; fail on a broken rule or after 2 s. Returns that fork.
 */
static int neighbour_tried_fork2(void)
{
	uint64_t deadline = clock_now_ns() + 2000000000u;
	const char *broken;

	for (;;) {
		ck_assert_msg(!(broken = dinner_rule()), "dine_backoff, while fork 2 was taken: %s",
			      broken);
		for (int r = 0; r < atomic_load(&lw.nrec) && r < REC_MAX; r++) {
			int held = atomic_load(&lw.rec[r].try_held);

			if (atomic_load(&lw.rec[r].try_wanted) == 3 && (held == 1 || held == 3))
				return held;
		}
		ck_assert_msg(!atomic_load(&din.done),
			      "dine_backoff(n=5, meals=10) returned %d (errno %s) while fork 2 was "
			      "taken, before philosophers 1 and 2 could eat",
			      din.ret, err_name(din.err));
		ck_assert_msg(clock_now_ns() < deadline,
			      "while fork 2 was taken, no philosopher holding fork 1 or fork 3 "
			      "tried fork 2 with pthread_mutex_trylock within 2 s: lock one fork, "
			      "then trylock the other");
		clock_sleep_ms(1);
	}
}

/* Try for up to a second to take fork w away from the philosophers; 1 when it worked. */
static int snatch_fork(int w)
{
	uint64_t deadline = clock_now_ns() + 1000000000u;

	while (clock_now_ns() < deadline) {
		if (real_trylock(&din.forks[w]) == 0) {
			real_unlock(&din.forks[w]);
			return 1;
		}
		ck_assert_msg(!dinner_rule(), "dine_backoff, while fork 2 was taken: %s",
			      dinner_rule());
		nanosleep(&(struct timespec){.tv_nsec = 100000}, NULL);
	}
	return 0;
}

/*
 * The test holds fork 2, which philosophers 1 and 2 need. Once one of them
 * has found it busy while holding its other fork, that other fork must come
 * free again soon: a philosopher that keeps it while it retries starves its
 * neighbour, who blocks the next. Philosophers 3, 4 and 0, who do not need
 * fork 2, must meanwhile be able to finish.
 */
START_TEST(test_backoff_puts_fork_down)
{
	enum { MEALS = 10 };
	uint64_t deadline;
	char held[256];
	int y;

	dinner_start(dine_backoff, 5, MEALS, RULE_NO_HOLD_WAIT);
	ck_assert(pthread_mutex_lock(&din.forks[2]) == 0);
	dinner_go();
	y = neighbour_tried_fork2();
	ck_assert_msg(
	    snatch_fork(y),
	    "dine_backoff: the philosopher holding fork %d found fork 2 busy, and fork %d "
	    "was still not free a second later (%d failed trylocks meanwhile): after a "
	    "failed trylock, unlock the fork you hold, back off, then start again",
	    y, y, (int)busy_total());
	deadline = clock_now_ns() + 3000000000u;
	while (!far_side_fed(MEALS) && clock_now_ns() < deadline)
		clock_sleep_ms(5);
	ck_assert_msg(far_side_fed(MEALS),
		      "while fork 2 was taken, philosophers 3, 4 and 0 (who do not need it) ate "
		      "only %d, %d and %d of their %d meals in 3 s (locks held: %s): a philosopher "
		      "that cannot have its second fork must put the first one down, or its "
		      "neighbours starve behind it",
		      atomic_load(&din.eaten[3]), atomic_load(&din.eaten[4]),
		      atomic_load(&din.eaten[0]), MEALS, held_list(held, sizeof(held)));
	ck_assert(pthread_mutex_unlock(&din.forks[2]) == 0);
	dinner_finish("dine_backoff");
	dinner_check("dine_backoff");
}
END_TEST

/* ==== Cleanup: forks ==== */

START_TEST(test_forks_released)
{
	dinner(dine_ordered, "dine_ordered", 3, 1, 0);
	dinner(dine_ordered, "dine_ordered", 4, 2, 0);
	dinner(dine_backoff, "dine_backoff", 3, 1, 0);
	dinner(dine_backoff, "dine_backoff", 4, 2, 0);
}
END_TEST

/* ==== Errors: the dinners ==== */

static void check_dine_invalid(int (*dine)(const struct table *, int), const char *fname)
{
	pthread_mutex_t forks[TABLE_MAX + 1];
	struct table good = {.n = 3, .forks = forks, .eat = eat_meal, .ctx = &din};
	struct {
		struct table t;
		int meals;
		const char *what;
	} bad[] = {
	    {{.n = 1, .forks = forks, .eat = eat_meal}, 1, "n = 1"},
	    {{.n = 0, .forks = forks, .eat = eat_meal}, 1, "n = 0"},
	    {{.n = TABLE_MAX + 1, .forks = forks, .eat = eat_meal}, 1, "n = TABLE_MAX + 1"},
	    {{.n = 3, .forks = NULL, .eat = eat_meal}, 1, "forks == NULL"},
	    {{.n = 3, .forks = forks, .eat = NULL}, 1, "eat == NULL"},
	    {good, -1, "meals = -1"},
	};
	int ret;

	for (int i = 0; i < TABLE_MAX + 1; i++)
		pthread_mutex_init(&forks[i], NULL);
	errno = 0;
	ret = dine(NULL, 1);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "%s(NULL, 1): expected -1 with errno EINVAL, got %d with %s", fname, ret,
		      err_name(errno));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ret = dine(&bad[i].t, bad[i].meals);
		ck_assert_msg(ret == -1 && errno == EINVAL,
			      "%s with %s: expected -1 with errno EINVAL, got %d with %s", fname,
			      bad[i].what, ret, err_name(errno));
	}
	ck_assert_msg(atomic_load(&din.total) == 0,
		      "%s: eat was called although the arguments were invalid: check them "
		      "before seating anyone",
		      fname);
	ret = dine(&good, 0);
	ck_assert_msg(ret == 0, "%s(n=3, meals=0): expected 0 (nobody eats), got %d with %s", fname,
		      ret, err_name(errno));
	ck_assert_msg(atomic_load(&din.total) == 0, "%s(n=3, meals=0): eat was called %d times",
		      fname, atomic_load(&din.total));
}

START_TEST(test_dine_invalid)
{
	memset(&din, 0, sizeof(din));
	din.t.n = 3;
	check_dine_invalid(dine_ordered, "dine_ordered");
	check_dine_invalid(dine_backoff, "dine_backoff");
}
END_TEST

/* ==== Transfers ==== */

#define BANK_MAX 4

/* One thread's transfers. */
struct job {
	struct account *from, *to; /* a fixed pair; from == NULL: random pairs of the bank */
	long amount;               /* each transfer's amount (random ones: 1 to 9) */
	int repeat;                /* how many transfers */
	unsigned seed;             /* for random pairs */
	long delta[BANK_MAX];      /* random pairs: what each account should have gained */
	int ret, err;              /* the last transfer's result and errno */
	int rec;                   /* the thread's record index + 1 (0: it locked nothing) */
	pthread_t thread;          /* to join it */
};

static struct {
	struct account acc[BANK_MAX]; /* the accounts */
	int count;                    /* in use */
	struct job job[8];            /* the threads running transfers */
	int jobs;                     /* in use */
	atomic_int done;              /* every job finished */
	atomic_int finished;          /* jobs finished */
	atomic_int transfers;         /* transfers completed: the progress counter */
} bank;

/* Open count accounts with these ids and balances, and watch their locks. */
static void bank_open(int count, const int ids[], const long balances[])
{
	pthread_mutex_t *m[BANK_MAX];
	int rank[BANK_MAX];

	memset(&bank, 0, sizeof(bank));
	bank.count = count;
	for (int i = 0; i < count; i++) {
		ck_assert(pthread_mutex_init(&bank.acc[i].lock, NULL) == 0);
		bank.acc[i].id = ids[i];
		bank.acc[i].balance = balances[i];
		m[i] = &bank.acc[i].lock;
		rank[i] = ids[i];
	}
	watch_set(WATCH_ACCOUNTS, m, rank, count);
}

/* A transfer thread: its transfers, then its record for the test to read. */
static void *job_main(void *arg)
{
	struct job *j = arg;

	for (int k = 0; k < j->repeat; k++) {
		struct account *from = j->from, *to = j->to;
		long amount = j->amount;

		if (!from) {
			int a = rand_r(&j->seed) % bank.count;
			int b = (a + 1 + rand_r(&j->seed) % (bank.count - 1)) % bank.count;

			from = &bank.acc[a];
			to = &bank.acc[b];
			amount = 1 + rand_r(&j->seed) % 9;
			j->delta[a] -= amount;
			j->delta[b] += amount;
		}
		j->ret = account_transfer(from, to, amount);
		j->err = errno;
		atomic_fetch_add(&bank.transfers, 1);
	}
	j->rec = my_rec != 0 && my_run == atomic_load(&lw.run) ? my_rec : 0;
	if (atomic_fetch_add(&bank.finished, 1) + 1 == bank.jobs)
		atomic_store(&bank.done, 1);
	return NULL;
}

/* Add a thread that transfers amount from a to b, repeat times (a == NULL: at random). */
static struct job *job_add(struct account *a, struct account *b, long amount, int repeat)
{
	struct job *j = &bank.job[bank.jobs++];

	*j = (struct job){.from = a, .to = b, .amount = amount, .repeat = repeat};
	j->seed = 12345u * (unsigned)bank.jobs ^ suite_seed();
	return j;
}

/* Start every job, watch them to the end and join them; fail with what went wrong. */
static void jobs_run(const char *what)
{
	struct progress p = {&bank.done, &bank.transfers, NULL, "no transfer finished"};
	const char *msg;

	for (int i = 0; i < bank.jobs; i++)
		xpthread_create(&bank.job[i].thread, job_main, &bank.job[i]);
	msg = run_watch(&p);
	if (msg && strncmp(msg, "deadlock", 8) == 0)
		ck_assert_msg(0,
			      "%s: lock-order inversion, %s. Two transfers that lock from, then "
			      "to, each hold one account and wait for the other: take the lower "
			      "id first, whichever way the money goes",
			      what, msg + 10);
	if (msg && strncmp(msg, "a thread waits", 14) == 0)
		ck_assert_msg(0,
			      "%s locked the same mutex twice and now waits for itself, forever: "
			      "check from == to first and return EINVAL (%s",
			      what, strchr(msg, '(') + 1);
	ck_assert_msg(!msg, "%s: %s", what, msg);
	for (int i = 0; i < bank.jobs; i++)
		xpthread_join(bank.job[i].thread, NULL);
}

/* Every account's lock is free again. */
static void bank_check_unlocked(const char *what)
{
	for (int i = 0; i < bank.count; i++)
		ck_assert_msg(watch_free(i),
			      "%s returned with account id %d still locked: unlock both accounts "
			      "before returning",
			      what, bank.acc[i].id);
}

/* ==== Core: account_transfer ==== */

/* Run one transfer in a thread of its own; check it returned 0 and what it locked. */
static void transfer_once(struct account *from, struct account *to, long amount)
{
	char what[96], a[32], b[32];
	struct job *j;
	struct rec *x;

	snprintf(what, sizeof(what), "account_transfer(from id %d, to id %d, %ld)", from->id,
		 to->id, amount);
	bank.jobs = 0;
	atomic_store(&bank.done, 0);
	atomic_store(&bank.finished, 0);
	j = job_add(from, to, amount, 1);
	jobs_run(what);
	ck_assert_msg(j->ret == 0, "%s returned %d (errno %s), expected 0", what, j->ret,
		      err_name(j->err));
	ck_assert_msg(j->rec > 0,
		      "%s locked neither account: hold both accounts' locks while you change "
		      "the two balances",
		      what);
	x = &lw.rec[j->rec - 1];
	ck_assert_msg(atomic_load(&x->max_held) >= 2,
		      "%s held only one lock at a time: hold BOTH accounts' locks while you "
		      "change the two balances, or another transfer sees the money in neither",
		      what);
	ck_assert_msg(!atomic_load(&x->inversions),
		      "%s locked %s, then %s: take the lower id first, whichever way the money "
		      "goes",
		      what, watch_name(atomic_load(&x->inv_held), a, sizeof(a)),
		      watch_name(atomic_load(&x->inv_taken), b, sizeof(b)));
	bank_check_unlocked(what);
}

START_TEST(test_transfer_moves_money)
{
	/* Ids against the accounts' order in memory: the order is by id, not address. */
	static const int ids[] = {2, 1};
	static const long balances[] = {100, 50};
	struct account *a2 = &bank.acc[0], *a1 = &bank.acc[1];

	bank_open(2, ids, balances);
	transfer_once(a2, a1, 30);
	ck_assert_msg(a2->balance == 70 && a1->balance == 80,
		      "after moving 30 from id 2 (100) to id 1 (50): expected 70 and 80, got "
		      "%ld and %ld",
		      a2->balance, a1->balance);
	transfer_once(a1, a2, 80);
	ck_assert_msg(a2->balance == 150 && a1->balance == 0,
		      "after moving 80 from id 1 (80) to id 2 (70): expected 0 and 150, got %ld "
		      "and %ld",
		      a1->balance, a2->balance);
	transfer_once(a1, a2, 0);
	ck_assert_msg(a2->balance == 150 && a1->balance == 0,
		      "moving 0 changed the balances to %ld and %ld", a1->balance, a2->balance);
}
END_TEST

/*
 * Two opposite transfers, each held at the meeting point right after its
 * first lock until the other has its first lock too (or is blocked by it):
 * with from-then-to locking they then hold one account each, every time.
 */
START_TEST(test_transfer_lock_order)
{
	static const int ids[] = {1, 2};
	static const long balances[] = {500, 500};

	bank_open(2, ids, balances);
	job_add(&bank.acc[0], &bank.acc[1], 10, 1);
	job_add(&bank.acc[1], &bank.acc[0], 20, 1);
	meet_open(2);
	jobs_run("account_transfer(id 1 -> id 2) and account_transfer(id 2 -> id 1) at once");
	for (int i = 0; i < 2; i++)
		ck_assert_msg(bank.job[i].ret == 0, "account_transfer returned %d (errno %s)",
			      bank.job[i].ret, err_name(bank.job[i].err));
	ck_assert_msg(bank.acc[0].balance == 510 && bank.acc[1].balance == 490,
		      "after 10 from id 1 to id 2 and 20 back (both 500 before): expected 510 and "
		      "490, got %ld and %ld",
		      bank.acc[0].balance, bank.acc[1].balance);
	bank_check_unlocked("account_transfer");
}
END_TEST

START_TEST(test_transfer_stress)
{
	enum { THREADS = 4, EACH = 3000 };
	static const int ids[] = {3, 1, 4, 2};
	static const long balances[] = {1000, 1000, 1000, 1000};
	long total = 0;

	bank_open(4, ids, balances);
	for (int i = 0; i < THREADS; i++)
		job_add(NULL, NULL, 0, EACH);
	jobs_run("4 threads each making 3000 random transfers between 4 accounts");
	for (int a = 0; a < 4; a++)
		total += bank.acc[a].balance;
	for (int a = 0; a < 4; a++) {
		long expected = balances[a];

		for (int i = 0; i < THREADS; i++) {
			expected += bank.job[i].delta[a];
			ck_assert_msg(bank.job[i].ret == 0,
				      "account_transfer returned %d (errno %s)", bank.job[i].ret,
				      err_name(bank.job[i].err));
		}
		ck_assert_msg(bank.acc[a].balance == expected,
			      "after 12000 random transfers, account id %d holds %ld, expected %ld "
			      "(all accounts together: %ld, expected 4000): updates were lost; "
			      "hold both locks during the whole change",
			      ids[a], bank.acc[a].balance, expected, total);
	}
	bank_check_unlocked("account_transfer");
}
END_TEST

/* ==== Errors: account_transfer ==== */

START_TEST(test_transfer_same_account)
{
	static const int ids[] = {1};
	static const long balances[] = {100};
	struct job *j;

	bank_open(1, ids, balances);
	j = job_add(&bank.acc[0], &bank.acc[0], 10, 1);
	jobs_run("account_transfer(a, a, 10)");
	ck_assert_msg(j->ret == -1 && j->err == EINVAL,
		      "account_transfer(a, a, 10): expected -1 with errno EINVAL, got %d with %s",
		      j->ret, err_name(j->err));
	ck_assert_msg(bank.acc[0].balance == 100,
		      "account_transfer(a, a, 10) failed but changed the balance to %ld",
		      bank.acc[0].balance);
	bank_check_unlocked("account_transfer(a, a, 10)");
}
END_TEST

START_TEST(test_transfer_invalid)
{
	static const int ids[] = {1, 2};
	static const long balances[] = {100, 100};
	struct account *a = &bank.acc[0], *b = &bank.acc[1];
	struct {
		struct account *from, *to;
		long amount;
		const char *what;
	} cases[] = {
	    {NULL, b, 5, "from == NULL"},
	    {a, NULL, 5, "to == NULL"},
	    {a, b, -5, "amount = -5"},
	};

	bank_open(2, ids, balances);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret;

		errno = 0;
		ret = account_transfer(cases[i].from, cases[i].to, cases[i].amount);
		ck_assert_msg(ret == -1 && errno == EINVAL,
			      "account_transfer with %s: expected -1 with errno EINVAL, got %d "
			      "with %s",
			      cases[i].what, ret, err_name(errno));
	}
	ck_assert_msg(a->balance == 100 && b->balance == 100,
		      "failed transfers changed the balances to %ld and %ld", a->balance,
		      b->balance);
	bank_check_unlocked("a failed account_transfer");
}
END_TEST

void suite_define(void)
{
	/* Core: dine_ordered */
	SUITE_TEST(test_ordered_everyone_eats, 3,
		   "Which of its two forks does each philosopher lock first?\n"
		   "A deadlock needs a circle of threads each waiting for the next; locking in one "
		   "global order leaves no circle: pthread_mutex_lock(3p).\n"
		   "Lock the lower-numbered of forks[i] and forks[(i + 1) % n] first, then the "
		   "other, eat, unlock both; meals times.");
	SUITE_TEST(test_ordered_no_deadlock, 3,
		   "What happens when every philosopher holds its left fork at the same moment?\n"
		   "Left-then-right makes a circle of waits; with the lower fork first, "
		   "philosopher n - 1 takes fork 0 and the circle breaks.\n"
		   "first = left < right ? left : right; second = the other: philosopher n - 1 "
		   "must take fork 0 first.");
	/* Core: dine_backoff */
	SUITE_TEST(test_backoff_everyone_eats, 2,
		   "Does a philosopher ever wait for its second fork while holding the first?\n"
		   "pthread_mutex_trylock(3p) fails at once with EBUSY instead of waiting: holding "
		   "one lock while waiting for another is what deadlocks.\n"
		   "Lock the left fork, trylock the right; eat only when you hold both.");
	SUITE_TEST(test_backoff_no_deadlock, 2,
		   "When the second fork is busy, does your philosopher wait, or retry while still "
		   "holding the first?\n"
		   "Waiting while holding is half of a deadlock; retrying trylock forever while "
		   "holding is a livelock: pthread_mutex_trylock(3p).\n"
		   "Never pthread_mutex_lock the second fork: trylock it, and on EBUSY unlock the "
		   "first before trying again.");
	SUITE_TEST(test_backoff_puts_fork_down, 3,
		   "After a failed trylock, which fork does your philosopher still hold, and for "
		   "how long?\n"
		   "Backing off means putting the held fork down and waiting a random while, so "
		   "neighbours do not stay in step: rand_r(3), nanosleep(2).\n"
		   "After EBUSY, unlock the fork you hold, sleep a random while (a seed per "
		   "philosopher), then retry from the start.");
	/* Cleanup */
	SUITE_TEST(
	    test_forks_released, 2,
	    "When a philosopher's thread ends, is it still holding a fork?\n"
	    "A mutex held by a thread that ended stays locked for ever: pthread_mutex_unlock(3p).\n"
	    "Unlock both forks after every meal, the last one too, before the thread ends.");
	/* Errors: the dinners */
	SUITE_TEST(test_dine_invalid, 1,
		   "What should a dinner with one philosopher, or a NULL eat, do?\n"
		   "Check every argument before starting any thread, as the header says: EINVAL "
		   "with nobody seated.\n"
		   "Check t, n (2 .. TABLE_MAX), forks, eat and meals >= 0 first: errno = EINVAL, "
		   "return -1; meals == 0 returns 0.");
	/* Core: account_transfer */
	SUITE_TEST(
	    test_transfer_moves_money, 2,
	    "Which account do you lock first, and are both locked while the balances change?\n"
	    "Locks taken in one global order, here the account id, cannot form a circle; the "
	    "change needs both held at once.\n"
	    "Lock both accounts, lower id first (not lower address), change both balances, unlock "
	    "both.");
	SUITE_TEST(test_transfer_lock_order, 3,
		   "transfer(a, b) and transfer(b, a) at the same time: who waits for whom?\n"
		   "From-then-to makes the two transfers take the locks in opposite orders: a "
		   "circle of two, a deadlock.\n"
		   "Lock by id: first = from->id < to->id ? from : to; second = the other; in both "
		   "calls alike.");
	SUITE_TEST(
	    test_transfer_stress, 2,
	    "Under load, is any balance changed without both locks held, or a lock left taken?\n"
	    "Both locks must be held for the whole change, taken in the same order every time: "
	    "pthread_mutex_lock(3p).\n"
	    "Take both locks in id order, change both balances, then unlock both, on every path.");
	/* Errors: account_transfer */
	SUITE_TEST(test_transfer_same_account, 2,
		   "What happens when one thread locks the same mutex twice?\n"
		   "A default mutex locked twice by its owner waits for itself for ever: "
		   "pthread_mutex_lock(3p).\n"
		   "if (from == to) { errno = EINVAL; return -1; } before locking anything.");
	SUITE_TEST(test_transfer_invalid, 1,
		   "What should a transfer with a NULL account or a negative amount do?\n"
		   "Check the arguments before taking any lock: nothing locked, nothing changed.\n"
		   "if (!from || !to || amount < 0) { errno = EINVAL; return -1; } first.");
}
