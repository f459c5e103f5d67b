/*
 * The hidden tests of lab 15, thread pool: workers, a work queue, futures,
 * map and map-reduce, shutdown.
 *
 * Nothing here measures time to judge speed. Whether tasks run side by
 * side is told by a rendezvous: tasks that wait for each other all finish
 * only if they all run at once. Whether a call blocks is told by /proc:
 * every call that may block runs in a probe thread, and the test waits
 * until the kernel shows that thread asleep (state S) before it acts, then
 * gives it a deadline to come back, so that a lost wake-up is reported as
 * one rather than as a timeout. Tasks finish out of order on purpose:
 * task i waits until task i + 1 has finished.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "suite.h"
#include "threadpool.h"

#define MAX_PROBES  4
#define PROBE_MS    3000 /* how long a call may take to block, or to return once it may */
#define MEET_MS     3000 /* how long a task waits for its partners before it gives up */
#define MAX_TIDS    64
#define CHAIN_PAUSE 20 /* ms a chained task waits after the next one finished */

/* ==== Threads, as /proc shows them ==== */

/* Under a sanitizer the process has threads of its own: thread counts mean nothing there. */
static int sanitized(void)
{
	return getenv("IPCLAB_SANITIZER") != NULL;
}

/* The ids of this process's threads, into tids (at most MAX_TIDS). Returns how many. */
static int list_tids(pid_t *tids)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	ck_assert_msg(d != NULL, "cannot open /proc/self/task");
	while ((e = readdir(d)) && n < MAX_TIDS)
		if (e->d_name[0] != '.')
			tids[n++] = atoi(e->d_name);
	closedir(d);
	return n;
}

/* Whether thread tid is asleep: state S twice, 5 ms apart. */
static int tid_asleep(pid_t tid)
{
	if (proc_state(0, tid) != 'S')
		return 0;
	clock_sleep_ms(5);
	return proc_state(0, tid) == 'S';
}

/*
 * How many threads this process has beyond base, once those that are
 * ending have gone: a thread that pthread_join has just reaped can linger
 * in /proc/self/task for a moment, so wait up to PROBE_MS for the count to
 * come down to base. 0 under a sanitizer, whose own threads come and go.
 */
static int threads_beyond(int base)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;
	int extra;

	if (sanitized())
		return 0;
	while ((extra = proc_count_threads(0) - base) > 0 && clock_now_ns() < deadline)
		clock_sleep_ms(2);
	return extra;
}

/* ==== Probes: one call in a thread of its own, watched from outside ==== */

struct probe {
	pthread_t thread;
	int (*call)(struct probe *p); /* the call under test */
	struct pool *pool;            /* its pool */
	struct future *future;        /* the future to get; what pool_submit returned */
	void *arg;                    /* what to submit */
	int cancel;                   /* pool_shutdown's cancel_pending */
	int nworkers;                 /* pool_create's argument */
	void *result;                 /* what future_get stored */
	_Atomic pid_t tid;            /* the probe thread, once it runs */
	atomic_int done;              /* the call returned */
	int ret;                      /* what it returned */
	int err;                      /* errno after it */
};

static void *probe_main(void *arg)
{
	struct probe *p = arg;

	atomic_store(&p->tid, gettid());
	p->ret = p->call(p);
	p->err = errno;
	atomic_store(&p->done, 1);
	return NULL;
}

/* Start a probe made of init: its call, and what the call needs. */
static void probe_start(struct probe *p, struct probe init)
{
	*p = init;
	p->result = (void *)0xbad; /* what future_get did not store */
	xpthread_create(&p->thread, probe_main, p);
}

/* Whether the probe is asleep inside its call. */
static int probe_asleep(struct probe *p)
{
	pid_t tid = atomic_load(&p->tid);

	return tid != 0 && !atomic_load(&p->done) && tid_asleep(tid) && !atomic_load(&p->done);
}

/*
 * Wait until each of the n probes has either returned or fallen asleep in
 * its call. Returns how many returned (0: all are blocked), or -1 when some
 * did neither within PROBE_MS: they spin.
 */
static int probes_settle(struct probe *p, int n)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;
	int settled = 0, returned = 0;

	while (settled < n && clock_now_ns() < deadline) {
		settled = returned = 0;
		for (int i = 0; i < n; i++) {
			if (atomic_load(&p[i].done))
				returned++, settled++;
			else if (probe_asleep(&p[i]))
				settled++;
		}
		if (settled < n)
			clock_sleep_ms(1);
	}
	return settled == n ? returned : -1;
}

/* Wait up to ms for the n probes to return; joins them if they all did. Returns how many hang. */
static int probes_finish(struct probe *p, int n, long ms)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)ms * 1000000u;
	int hung;

	do {
		hung = 0;
		for (int i = 0; i < n; i++)
			hung += !atomic_load(&p[i].done);
		if (hung > 0)
			clock_sleep_ms(1);
	} while (hung > 0 && clock_now_ns() < deadline);
	for (int i = 0; i < n && hung == 0; i++)
		xpthread_join(p[i].thread, NULL);
	return hung;
}

static int call_get(struct probe *p)
{
	return future_get(p->future, &p->result);
}

static int call_create(struct probe *p)
{
	p->pool = pool_create(p->nworkers);
	return p->pool ? 0 : -1;
}

static int call_shutdown(struct probe *p)
{
	return pool_shutdown(p->pool, p->cancel);
}

static void *value_task(void *arg);

static int call_submit(struct probe *p)
{
	p->future = pool_submit(p->pool, value_task, p->arg);
	return p->future ? 0 : -1;
}

/* ==== Tasks ==== */

/* What a task returns for value v: distinct, never NULL. */
static void *result_of(long v)
{
	return (void *)(intptr_t)(2 * v + 1);
}

/* A gate that gated tasks wait at until the test opens it. */
struct gate {
	atomic_int open;    /* 1: tasks may go on */
	atomic_int reached; /* how many tasks have come to the gate */
	atomic_int left;    /* how many have gone through it */
};

/* What a task is given: it counts its runs, waits at the gate if any, returns result_of(value). */
struct job {
	struct gate *gate; /* NULL: no waiting */
	long value;        /* the task returns result_of(value) */
	atomic_int runs;   /* how many times a task ran with this job */
};

static void *job_task(void *arg)
{
	struct job *j = arg;

	atomic_fetch_add(&j->runs, 1);
	if (j->gate) {
		atomic_fetch_add(&j->gate->reached, 1);
		while (!atomic_load(&j->gate->open))
			clock_sleep_ms(1);
		atomic_fetch_add(&j->gate->left, 1);
	}
	return result_of(j->value);
}

/* A task whose argument is a number v: returns result_of(v). */
static void *value_task(void *arg)
{
	return result_of((long)(intptr_t)arg);
}

/* Wait up to PROBE_MS until n tasks have reached gate g. Returns 1 when they have. */
static int gate_wait(struct gate *g, int n)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;

	while (atomic_load(&g->reached) < n && clock_now_ns() < deadline)
		clock_sleep_ms(1);
	return atomic_load(&g->reached) >= n;
}

/*
 * A chain: link i waits until link i + 1 has finished (the last link goes
 * at once), then a little more, so that the tasks finish in reverse order:
 * n - 1 first, 0 last. Only when all n run at once can the chain finish;
 * a link that waited MEET_MS in vain gives up and says so.
 */
#define CHAIN_MAX 8
struct chain {
	int n;                          /* its length */
	atomic_int finished[CHAIN_MAX]; /* link i has finished */
	atomic_int gave_up;             /* 1 + the first link that waited in vain, or 0 */
};

struct link {
	struct chain *c; /* the chain */
	int i;           /* which link */
};

static void *link_task(void *arg)
{
	struct link *l = arg;
	struct chain *c = l->c;
	uint64_t deadline = clock_now_ns() + (uint64_t)MEET_MS * 1000000u;

	if (l->i + 1 < c->n) {
		/* Once one link gave up, the chain is broken: the others do not wait. */
		while (!atomic_load(&c->finished[l->i + 1]) && !atomic_load(&c->gave_up) &&
		       clock_now_ns() < deadline)
			clock_sleep_ms(1);
		if (!atomic_load(&c->finished[l->i + 1]) && !atomic_load(&c->gave_up)) {
			int none = 0;

			atomic_compare_exchange_strong(&c->gave_up, &none, l->i + 1);
		}
		clock_sleep_ms(CHAIN_PAUSE);
	}
	atomic_store(&c->finished[l->i], 1);
	return result_of(l->i);
}

static void chain_init(struct chain *c, struct link *links, void **args, int n)
{
	memset(c, 0, sizeof(*c));
	c->n = n;
	for (int i = 0; i < n; i++) {
		links[i] = (struct link){.c = c, .i = i};
		args[i] = &links[i];
	}
}

/* A rendezvous: every task arrives, then waits until all parties have arrived. */
struct meet {
	int parties;     /* how many must meet */
	atomic_int here; /* how many have arrived */
	atomic_int most; /* how many had arrived when one gave up; 0: nobody did */
};

/* Returns (void *)1 when everyone met, (void *)2 when it gave up after MEET_MS. */
static void *meet_task(void *arg)
{
	struct meet *m = arg;
	uint64_t deadline = clock_now_ns() + (uint64_t)MEET_MS * 1000000u;
	int here = atomic_fetch_add(&m->here, 1) + 1;

	/* Once one gave up, the meeting is off: the others do not wait. */
	while (here < m->parties && !atomic_load(&m->most) && clock_now_ns() < deadline) {
		clock_sleep_ms(1);
		here = atomic_load(&m->here);
	}
	if (here >= m->parties)
		return (void *)1;
	if (!atomic_load(&m->most))
		atomic_store(&m->most, here);
	return (void *)2;
}

/* ==== Helpers ==== */

static struct pool *make_pool(int n)
{
	struct pool *p;

	errno = 0;
	p = pool_create(n);
	ck_assert_msg(p != NULL, "pool_create(%d) returned NULL (errno %s), expected a pool", n,
		      err_name(errno));
	return p;
}

static struct future *submit(struct pool *p, pool_task *fn, void *arg)
{
	struct future *f;

	errno = 0;
	f = pool_submit(p, fn, arg);
	ck_assert_msg(f != NULL, "pool_submit returned NULL (errno %s), expected a future",
		      err_name(errno));
	return f;
}

/* future_get in a probe: fails unless it returns 0 with want within PROBE_MS. */
static void get_expect(struct future *f, void *want, const char *what)
{
	struct probe g;

	probe_start(&g, (struct probe){.call = call_get, .future = f});
	ck_assert_msg(probes_finish(&g, 1, PROBE_MS) == 0,
		      "future_get on %s did not return within %d ms: it waits although the task "
		      "has run — look at f->state before you wait",
		      what, PROBE_MS);
	ck_assert_msg(g.ret == 0 && g.result == want,
		      "future_get on %s returned %d (errno %s) with result %p, expected 0 with %p",
		      what, g.ret, err_name(g.err), g.result, want);
}

/* pool_shutdown in a probe: fails unless it returns 0 within PROBE_MS. */
static void shutdown_ok(struct pool *p, int cancel)
{
	struct probe s;

	probe_start(&s, (struct probe){.call = call_shutdown, .pool = p, .cancel = cancel});
	ck_assert_msg(probes_finish(&s, 1, PROBE_MS) == 0,
		      "pool_shutdown had not returned after %d ms although every task had "
		      "finished: are all the workers woken (broadcast), and do they leave once "
		      "the queue is empty and the pool is stopping?",
		      PROBE_MS);
	ck_assert_msg(s.ret == 0, "pool_shutdown returned %d (errno %s), expected 0", s.ret,
		      err_name(s.err));
}

/* ==== Core: submit, get, map, map-reduce ==== */

START_TEST(test_submit_get)
{
	struct pool *p = make_pool(2);
	struct future *f[10];
	void *r;

	for (long i = 0; i < 10; i++)
		f[i] = submit(p, value_task, (void *)(intptr_t)i);
	for (long i = 0; i < 10; i++)
		get_expect(f[i], result_of(i), "the future of a task submitted");
	r = NULL;
	ck_assert_msg(future_get(f[3], &r) == 0 && r == result_of(3),
		      "a second future_get on the same future returned %p, expected %p again", r,
		      result_of(3));
	ck_assert_msg(future_done(f[3]) == 1,
		      "future_done on a future whose task has run said 0, expected 1");
	errno = 0;
	ck_assert_msg(pool_submit(p, NULL, NULL) == NULL && errno == EINVAL,
		      "pool_submit(p, NULL, ...) should fail with EINVAL, got errno %s",
		      err_name(errno));
	shutdown_ok(p, 0);
	for (int i = 0; i < 10; i++)
		future_free(f[i]);
}
END_TEST

START_TEST(test_map_in_order)
{
	enum { N = 4, BIG = 200 };
	struct chain c;
	struct link links[N];
	void *args[BIG], *results[BIG];
	struct pool *p = make_pool(N);
	int ret, gave_up;

	chain_init(&c, links, args, N);
	for (int i = 0; i < N; i++)
		results[i] = NULL;
	errno = 0;
	ret = pool_map(p, link_task, args, results, N);
	gave_up = atomic_load(&c.gave_up);
	ck_assert_msg(ret == 0, "pool_map of %d tasks returned %d (errno %s), expected 0", N, ret,
		      err_name(errno));
	ck_assert_msg(gave_up == 0,
		      "pool_map(%d tasks) on a pool of %d workers: task %d waited %d ms for task "
		      "%d, which had not finished: submit every task before you wait for any, "
		      "or they run one at a time",
		      N, N, gave_up - 1, MEET_MS, gave_up);
	for (int i = 0; i < N; i++) {
		char from[48] = "no task's result";

		for (int k = 0; k < N; k++)
			if (results[i] == result_of(k))
				snprintf(from, sizeof(from), "the result of task %d", k);
		ck_assert_msg(
		    results[i] == result_of(i),
		    "pool_map: results[%d] is %p (%s), expected %p. The tasks finished in "
		    "reverse order (task %d first): results[i] must be what fn(args[i]) "
		    "returned, in the order of args, not in the order tasks finish",
		    i, results[i], from, result_of(i), N - 1);
	}
	for (long i = 0; i < BIG; i++) {
		args[i] = (void *)(intptr_t)(i * 7);
		results[i] = NULL;
	}
	ret = pool_map(p, value_task, args, results, BIG);
	ck_assert_msg(ret == 0, "pool_map of %d tasks returned %d (errno %s)", BIG, ret,
		      err_name(errno));
	for (long i = 0; i < BIG; i++)
		ck_assert_msg(results[i] == result_of(i * 7),
			      "pool_map of %d tasks: results[%ld] is %p, expected %p", BIG, i,
			      results[i], result_of(i * 7));
	ck_assert_msg(pool_map(p, value_task, args, results, 0) == 0,
		      "pool_map of 0 tasks returned -1 (errno %s), expected 0: nothing to do",
		      err_name(errno));
	errno = 0;
	ck_assert_msg(pool_map(p, NULL, args, results, 1) == -1 && errno == EINVAL,
		      "pool_map with a NULL fn should fail with EINVAL, got errno %s",
		      err_name(errno));
	shutdown_ok(p, 0);
}
END_TEST

static void *square_task(void *arg)
{
	intptr_t v = (intptr_t)arg;

	return (void *)(v * v);
}

static void *add(void *acc, void *value)
{
	return (void *)((intptr_t)acc + (intptr_t)value);
}

/* Write value as the next decimal digit: not commutative, so the order shows. */
static void *append_digit(void *acc, void *value)
{
	return (void *)((intptr_t)acc * 10 + (intptr_t)value);
}

START_TEST(test_map_reduce)
{
	enum { N = 1000, CHAIN = 4 };
	static void *args[N];
	struct pool *p = make_pool(3), *p4;
	struct chain c;
	struct link links[CHAIN];
	void *out = NULL;
	int ret;

	for (long i = 0; i < N; i++)
		args[i] = (void *)(intptr_t)(i + 1);
	errno = 0;
	ret = pool_map_reduce(p, square_task, args, N, add, (void *)0, &out);
	ck_assert_msg(ret == 0, "pool_map_reduce returned %d (errno %s), expected 0", ret,
		      err_name(errno));
	ck_assert_msg((intptr_t)out == 333833500,
		      "pool_map_reduce: the sum of the squares of 1..1000 is 333833500, got %ld: "
		      "is every result combined exactly once, starting from init?",
		      (long)(intptr_t)out);
	out = NULL;
	ret = pool_map_reduce(p, square_task, args, 0, add, (void *)42, &out);
	ck_assert_msg(ret == 0 && (intptr_t)out == 42,
		      "pool_map_reduce of 0 values returned %d and stored %ld, expected 0 and "
		      "init (42)",
		      ret, (long)(intptr_t)out);
	errno = 0;
	ret = pool_map_reduce(p, square_task, args, 1, NULL, NULL, &out);
	ck_assert_msg(ret == -1 && errno == EINVAL,
		      "pool_map_reduce with a NULL combine should fail with EINVAL, got %d (%s)",
		      ret, err_name(errno));
	shutdown_ok(p, 0);

	/* The tasks finish in reverse order; the digits must come in the order of args. */
	p4 = make_pool(CHAIN);
	chain_init(&c, links, args, CHAIN);
	out = NULL;
	ret = pool_map_reduce(p4, link_task, args, CHAIN, append_digit, (void *)9, &out);
	ck_assert_msg(atomic_load(&c.gave_up) == 0,
		      "pool_map_reduce(%d tasks) on a pool of %d workers: task %d waited %d ms "
		      "for task %d, which had not finished: the map must submit every task "
		      "before it waits for any, or they run one at a time",
		      CHAIN, CHAIN, atomic_load(&c.gave_up) - 1, MEET_MS, atomic_load(&c.gave_up));
	ck_assert_msg(ret == 0 && (intptr_t)out == 91357,
		      "pool_map_reduce appending digits in the order of args (init 9, results "
		      "1 3 5 7) should give 91357, got %ld (returned %d): combine the results "
		      "in the order of args, not in the order the tasks finished",
		      (long)(intptr_t)out, ret);
	shutdown_ok(p4, 0);
}
END_TEST

/* ==== Stress: many submitters, thousands of tasks ==== */

/*
 * The queue is made to grow long and to be taken from and appended to at
 * the same time. The workers are held at gate A while the submitters queue
 * half of their tasks; then gate A opens, and the workers take the first
 * of those, which hold them again at gate B while the submitters queue a
 * quarter more behind a queue that workers have already taken from. Then
 * gate B opens, and the last quarter goes in while the workers empty the
 * queue.
 */
enum { S_SUBMITTERS = 4, S_TASKS = 1000, S_WORKERS = 4, STRESS_MS = 8000 };

static struct {
	struct pool *pool;
	struct gate a, b;                       /* hold the workers, twice */
	struct job held[S_WORKERS];             /* the tasks that wait at gate A */
	struct job jobs[S_SUBMITTERS][S_TASKS]; /* a job per task: counts its runs */
	atomic_int phase[2];                    /* submitters past their half, three quarters */
	atomic_int got;                         /* futures that future_get returned */
	atomic_int wrong;                       /* results that were not the task's */
	atomic_int refused;                     /* submits that failed */
	atomic_int done;                        /* submitters finished */
	atomic_int last_err;                    /* errno of a failed call */
} st;

/* Submit jobs[from..to) of one submitter into f[]. */
static void stress_submit(struct job *jobs, struct future **f, int from, int to)
{
	for (int i = from; i < to; i++) {
		f[i] = pool_submit(st.pool, job_task, &jobs[i]);
		if (!f[i]) {
			atomic_store(&st.last_err, errno);
			atomic_fetch_add(&st.refused, 1);
		}
	}
}

/* Wait until *counter reaches n, or deadline; 1 when it did. */
static int stress_wait(atomic_int *counter, int n, uint64_t deadline)
{
	while (atomic_load(counter) < n && clock_now_ns() < deadline)
		clock_sleep_ms(1);
	return atomic_load(counter) >= n;
}

static void *stress_submitter(void *arg)
{
	struct job *jobs = st.jobs[(intptr_t)arg];
	struct future **f = xcalloc(S_TASKS, sizeof(*f));
	uint64_t deadline = clock_now_ns() + (uint64_t)STRESS_MS * 1000000u;
	void *r;

	for (int i = 0; i < S_TASKS; i++) {
		jobs[i].value = (intptr_t)arg * S_TASKS + i;
		jobs[i].gate = i < S_TASKS / 2 ? &st.b : NULL;
	}
	stress_submit(jobs, f, 0, S_TASKS / 2);
	atomic_fetch_add(&st.phase[0], 1);
	stress_wait(&st.b.reached, S_WORKERS, deadline); /* workers took from the queue */
	stress_submit(jobs, f, S_TASKS / 2, S_TASKS * 3 / 4);
	atomic_fetch_add(&st.phase[1], 1);
	stress_submit(jobs, f, S_TASKS * 3 / 4, S_TASKS); /* while the queue drains */
	for (int i = 0; i < S_TASKS; i++) {
		if (!f[i])
			continue;
		r = NULL;
		if (future_get(f[i], &r) < 0 || r != result_of(jobs[i].value))
			atomic_fetch_add(&st.wrong, 1);
		atomic_fetch_add(&st.got, 1);
		future_free(f[i]);
	}
	free(f);
	atomic_fetch_add(&st.done, 1);
	return NULL;
}

/* How many jobs ran never (*lost) and more than once (*twice). */
static void stress_count(int *lost, int *twice)
{
	*lost = *twice = 0;
	for (int s = 0; s < S_SUBMITTERS; s++)
		for (int i = 0; i < S_TASKS; i++) {
			int runs = atomic_load(&st.jobs[s][i].runs);

			*lost += runs == 0;
			*twice += runs > 1;
		}
}

START_TEST(test_each_task_once)
{
	pthread_t sub[S_SUBMITTERS];
	struct future *held[S_WORKERS];
	uint64_t deadline = clock_now_ns() + (uint64_t)STRESS_MS * 1000000u;
	int lost, twice, total = S_SUBMITTERS * S_TASKS;

	st.pool = make_pool(S_WORKERS);
	for (int i = 0; i < S_WORKERS; i++) {
		st.held[i] = (struct job){.gate = &st.a, .value = -1 - i};
		held[i] = submit(st.pool, job_task, &st.held[i]);
	}
	ck_assert_msg(stress_wait(&st.a.reached, S_WORKERS, deadline),
		      "%d tasks on %d idle workers: only %d started", S_WORKERS, S_WORKERS,
		      atomic_load(&st.a.reached));
	for (intptr_t s = 0; s < S_SUBMITTERS; s++)
		xpthread_create(&sub[s], stress_submitter, (void *)s);
	ck_assert_msg(stress_wait(&st.phase[0], S_SUBMITTERS, deadline),
		      "%d threads calling pool_submit while every worker was busy: only %d got "
		      "through %d submits each",
		      S_SUBMITTERS, atomic_load(&st.phase[0]), S_TASKS / 2);
	atomic_store(&st.a.open, 1);
	ck_assert_msg(stress_wait(&st.b.reached, S_WORKERS, deadline),
		      "%d workers were set free with %d tasks queued, but only %d of them took "
		      "one: does every worker go back to the queue after a task?",
		      S_WORKERS, S_SUBMITTERS * S_TASKS / 2, atomic_load(&st.b.reached));
	stress_wait(&st.phase[1], S_SUBMITTERS, deadline);
	atomic_store(&st.b.open, 1);
	stress_wait(&st.done, S_SUBMITTERS, deadline);
	stress_count(&lost, &twice);
	ck_assert_msg(atomic_load(&st.done) == S_SUBMITTERS,
		      "%d threads submitted %d tasks each to a pool of %d: after %d s, %d of "
		      "the %d futures had not settled; %d tasks never ran and %d ran more than "
		      "once. A task was lost from the queue, or a worker never woke for it: "
		      "take tasks off the queue under p->lock, set tail to NULL only when the "
		      "queue becomes empty, and signal p->work at every submit",
		      S_SUBMITTERS, S_TASKS, S_WORKERS, STRESS_MS / 1000,
		      total - atomic_load(&st.got), total, lost, twice);
	for (int s = 0; s < S_SUBMITTERS; s++)
		xpthread_join(sub[s], NULL);
	ck_assert_msg(atomic_load(&st.refused) == 0, "pool_submit failed %d times (errno %s)",
		      atomic_load(&st.refused), err_name(atomic_load(&st.last_err)));
	ck_assert_msg(lost == 0 && twice == 0,
		      "of %d tasks, %d never ran and %d ran more than once: two workers took the "
		      "same task. Unlink the head of the queue while you hold p->lock",
		      total, lost, twice);
	ck_assert_msg(atomic_load(&st.wrong) == 0,
		      "%d of %d futures gave a result that was not their task's return value",
		      atomic_load(&st.wrong), total);
	for (int i = 0; i < S_WORKERS; i++) {
		get_expect(held[i], result_of(-1 - i), "a task that held a worker");
		future_free(held[i]);
	}
	shutdown_ok(st.pool, 0);
}
END_TEST

/* ==== Futures: waiting for a result ==== */

START_TEST(test_get_blocks)
{
	enum { GETTERS = 3 };
	struct gate g = {0};
	struct job j = {.gate = &g, .value = 7};
	struct probe get[GETTERS];
	struct pool *p = make_pool(1);
	struct future *f = submit(p, job_task, &j);
	int returned, hung;

	ck_assert_msg(gate_wait(&g, 1),
		      "the task submitted to an idle pool had not started "
		      "after %d ms: is a worker woken to take it?",
		      PROBE_MS);
	for (int i = 0; i < GETTERS; i++)
		probe_start(&get[i], (struct probe){.call = call_get, .future = f});
	returned = probes_settle(get, GETTERS);
	ck_assert_msg(returned != -1,
		      "future_get on a running task neither returned nor went to sleep within "
		      "%d ms: it spins, reading the state again and again. Sleep on f->settled "
		      "with pthread_cond_wait",
		      PROBE_MS);
	ck_assert_msg(returned == 0,
		      "future_get returned %d (errno %s, result %p) while its task was still "
		      "running: it must wait until the worker has stored the result",
		      get[0].ret, err_name(get[0].err), get[0].result);
	ck_assert_msg(future_done(f) == 0,
		      "future_done said 1 while the task was still running, expected 0");
	atomic_store(&g.open, 1);
	hung = probes_finish(get, GETTERS, PROBE_MS);
	ck_assert_msg(hung < GETTERS,
		      "the task finished, but the %d threads waiting in future_get were still "
		      "asleep %d ms later: after storing the result, the worker must wake them "
		      "(pthread_cond_broadcast on f->settled, with f->lock held)",
		      GETTERS, PROBE_MS);
	ck_assert_msg(hung == 0,
		      "the task finished, but only %d of the %d threads waiting in future_get "
		      "woke up: several threads may wait for one future — broadcast "
		      "f->settled, do not signal it",
		      GETTERS - hung, GETTERS);
	for (int i = 0; i < GETTERS; i++)
		ck_assert_msg(get[i].ret == 0 && get[i].result == result_of(7),
			      "future_get returned %d with %p, expected 0 with %p", get[i].ret,
			      get[i].result, result_of(7));
	ck_assert_msg(future_done(f) == 1, "future_done said 0 after the task had run");
	shutdown_ok(p, 0);
	future_free(f);
}
END_TEST

START_TEST(test_get_finished)
{
	struct job j = {.value = 11};
	struct pool *p = make_pool(2);
	struct future *f = submit(p, job_task, &j);
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;

	while (!future_done(f) && clock_now_ns() < deadline)
		clock_sleep_ms(1);
	ck_assert_msg(future_done(f) == 1,
		      "the task ran %d time(s), but future_done still said 0 %d ms later: does "
		      "the worker set f->state to FUTURE_DONE (under f->lock) when the task "
		      "returns?",
		      atomic_load(&j.runs), PROBE_MS);
	/* The task is over: its broadcast is long gone. future_get must not wait for another. */
	get_expect(f, result_of(11), "a future whose task had already finished");
	get_expect(f, result_of(11), "the same future a second time");
	shutdown_ok(p, 0);
	future_free(f);
}
END_TEST

START_TEST(test_get_spurious)
{
	enum { GETTERS = 2 };
	struct gate g = {0};
	struct job j = {.gate = &g, .value = 5};
	struct probe get[GETTERS];
	struct pool *p = make_pool(1);
	struct future *f = submit(p, job_task, &j);
	int returned;

	ck_assert_msg(gate_wait(&g, 1), "the task did not start within %d ms", PROBE_MS);
	for (int i = 0; i < GETTERS; i++)
		probe_start(&get[i], (struct probe){.call = call_get, .future = f});
	ck_assert_msg(probes_settle(get, GETTERS) == 0,
		      "future_get on a running task did not go to sleep within %d ms: it returned "
		      "early or it spins; wait on f->settled",
		      PROBE_MS);
	for (int i = 0; i < 5; i++) { /* wake-ups with nothing changed, as POSIX allows */
		pthread_cond_broadcast(&f->settled);
		clock_sleep_ms(10);
	}
	returned = probes_settle(get, GETTERS);
	for (int i = 0; i < GETTERS && returned != 0; i++)
		ck_assert_msg(!atomic_load(&get[i].done),
			      "future_get returned %d (result %p) after a spurious wake-up, with "
			      "its task still running (the test broadcast f->settled with nothing "
			      "changed, as POSIX allows to happen): wait in a while loop on "
			      "f->state == FUTURE_PENDING, not an if",
			      get[i].ret, get[i].result);
	atomic_store(&g.open, 1);
	ck_assert_msg(probes_finish(get, GETTERS, PROBE_MS) == 0,
		      "future_get did not return after the task finished");
	for (int i = 0; i < GETTERS; i++)
		ck_assert_msg(get[i].ret == 0 && get[i].result == result_of(5),
			      "future_get returned %d with %p, expected 0 with %p", get[i].ret,
			      get[i].result, result_of(5));
	shutdown_ok(p, 0);
	future_free(f);
}
END_TEST

/* ==== Parallelism: a rendezvous, no stopwatch ==== */

/* Run n tasks that wait for each other on a pool of n workers; fail unless all meet. */
static void expect_meeting(int n)
{
	struct meet m = {.parties = n};
	struct future *f[MAX_PROBES];
	struct pool *p = make_pool(n);
	int met = 0;

	for (int i = 0; i < n; i++)
		f[i] = submit(p, meet_task, &m);
	for (int i = 0; i < n; i++) {
		void *r = NULL;

		ck_assert_msg(future_get(f[i], &r) == 0, "future_get failed (%s)", err_name(errno));
		met += r == (void *)1;
	}
	ck_assert_msg(met == n,
		      "with %d workers, %d tasks that wait for each other never all met: after "
		      "%d ms one had seen only %d of them started. Your pool runs fewer tasks at "
		      "a time than it has workers — one at a time? A worker must not hold "
		      "p->lock while its task runs, and pool_create must start every worker",
		      n, n, MEET_MS, atomic_load(&m.most));
	shutdown_ok(p, 0);
	for (int i = 0; i < n; i++)
		future_free(f[i]);
}

START_TEST(test_runs_in_parallel)
{
	expect_meeting(2);
	expect_meeting(4);
}
END_TEST

/* ==== Shutdown ==== */

START_TEST(test_shutdown_runs_queued)
{
	enum { RUNNING = 2, QUEUED = 20 };
	struct gate g = {0};
	struct job run[RUNNING], queued[QUEUED];
	struct future *fr[RUNNING], *fq[QUEUED];
	struct probe s;
	int base = proc_count_threads(0), ran = 0, extra;
	struct pool *p = make_pool(RUNNING);

	ck_assert_msg(sanitized() || proc_count_threads(0) == base + RUNNING,
		      "pool_create(%d) started %d threads, expected %d workers", RUNNING,
		      proc_count_threads(0) - base, RUNNING);
	for (int i = 0; i < RUNNING; i++) {
		run[i] = (struct job){.gate = &g, .value = i};
		fr[i] = submit(p, job_task, &run[i]);
	}
	ck_assert_msg(gate_wait(&g, RUNNING), "%d tasks on %d idle workers: only %d started",
		      RUNNING, RUNNING, atomic_load(&g.reached));
	for (int i = 0; i < QUEUED; i++) {
		queued[i] = (struct job){.value = 100 + i};
		fq[i] = submit(p, job_task, &queued[i]);
	}
	probe_start(&s, (struct probe){.call = call_shutdown, .pool = p});
	ck_assert_msg(probes_settle(&s, 1) == 0,
		      "pool_shutdown(p, 0) returned %d while %d tasks were running and %d "
		      "queued: it must wait for them all, by joining the workers",
		      s.ret, RUNNING, QUEUED);
	atomic_store(&g.open, 1);
	ck_assert_msg(probes_finish(&s, 1, PROBE_MS) == 0,
		      "pool_shutdown(p, 0) had not returned %d ms after the running tasks could "
		      "finish: do the workers leave once the queue is empty and the pool is "
		      "stopping, and are they all woken?",
		      PROBE_MS);
	ck_assert_msg(s.ret == 0, "pool_shutdown returned %d (%s)", s.ret, err_name(s.err));
	for (int i = 0; i < QUEUED; i++)
		ran += atomic_load(&queued[i].runs) > 0;
	ck_assert_msg(ran == QUEUED,
		      "only %d of the %d tasks still queued at pool_shutdown(p, 0) ran: the "
		      "workers must drain the queue before they leave — leave when the queue is "
		      "empty AND the pool is stopping, not as soon as it is stopping",
		      ran, QUEUED);
	extra = threads_beyond(base);
	ck_assert_msg(extra == 0,
		      "%d threads of the pool were still running after pool_shutdown returned: "
		      "pthread_join every worker before you free the pool",
		      extra);
	for (int i = 0; i < QUEUED; i++) {
		ck_assert_msg(future_done(fq[i]), "task %d ran but its future is not settled", i);
		get_expect(fq[i], result_of(100 + i), "the future of a task run at the shutdown");
		future_free(fq[i]);
	}
	for (int i = 0; i < RUNNING; i++) {
		get_expect(fr[i], result_of(i), "the future of a task running at the shutdown");
		future_free(fr[i]);
	}
}
END_TEST

/* Wait until every thread in tids is asleep; returns how many were. */
static int wait_asleep(const pid_t *tids, int n)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)PROBE_MS * 1000000u;
	int asleep = 0;

	while (asleep < n && clock_now_ns() < deadline) {
		asleep = 0;
		for (int i = 0; i < n; i++)
			asleep += tid_asleep(tids[i]);
		if (asleep < n)
			clock_sleep_ms(2);
	}
	return asleep;
}

/* Make a pool of n, run tasks tasks on it, let every worker fall asleep, shut it down. */
static void idle_shutdown(int n, int tasks)
{
	pid_t before[MAX_TIDS], after[MAX_TIDS], workers[MAX_TIDS];
	int nbefore = list_tids(before), nafter, nworkers = 0, asleep, extra;
	void *args[16], *results[16];
	struct pool *p = make_pool(n);
	struct probe s;

	for (int i = 0; i < tasks; i++)
		args[i] = (void *)(intptr_t)i;
	ck_assert_msg(pool_map(p, value_task, args, results, (size_t)tasks) == 0,
		      "pool_map failed (%s)", err_name(errno));
	nafter = list_tids(after);
	for (int i = 0; i < nafter; i++) {
		int old = 0;

		for (int k = 0; k < nbefore; k++)
			old |= after[i] == before[k];
		if (!old)
			workers[nworkers++] = after[i];
	}
	asleep = wait_asleep(workers, nworkers);
	ck_assert_msg(asleep == nworkers,
		      "with nothing to do, only %d of the pool's %d threads went to sleep within "
		      "%d ms: an idle worker must wait on p->work, not spin on the empty queue",
		      asleep, nworkers, PROBE_MS);
	probe_start(&s, (struct probe){.call = call_shutdown, .pool = p});
	ck_assert_msg(probes_finish(&s, 1, PROBE_MS) == 0,
		      "pool_shutdown with an empty queue and %d idle workers asleep on p->work "
		      "had not returned after %d ms: not every worker was woken. "
		      "pthread_cond_signal wakes one sleeping worker and the others sleep for "
		      "ever; set stopping under p->lock, then pthread_cond_broadcast",
		      n, PROBE_MS);
	ck_assert_msg(s.ret == 0, "pool_shutdown returned %d (%s)", s.ret, err_name(s.err));
	extra = threads_beyond(nbefore);
	ck_assert_msg(extra == 0,
		      "%d threads of the pool were still running after pool_shutdown returned: "
		      "pthread_join every worker",
		      extra);
}

START_TEST(test_shutdown_idle_workers)
{
	idle_shutdown(4, 0);
	idle_shutdown(3, 12);
}
END_TEST

START_TEST(test_submit_after_shutdown)
{
	struct gate g = {0};
	struct job j = {.gate = &g, .value = 3};
	struct probe s, sub;
	struct pool *p = make_pool(1);
	struct future *f = submit(p, job_task, &j);

	ck_assert_msg(gate_wait(&g, 1), "the task did not start within %d ms", PROBE_MS);
	probe_start(&s, (struct probe){.call = call_shutdown, .pool = p});
	ck_assert_msg(probes_settle(&s, 1) == 0,
		      "pool_shutdown returned %d while a task was still running: it must wait "
		      "for it (join the workers)",
		      s.ret);
	/* pool_shutdown is under way: p is still there, and must refuse work. */
	probe_start(&sub, (struct probe){.call = call_submit, .pool = p, .arg = (void *)1});
	ck_assert_msg(probes_finish(&sub, 1, PROBE_MS) == 0,
		      "pool_submit, called while pool_shutdown waited for a running task, had "
		      "not returned after %d ms",
		      PROBE_MS);
	ck_assert_msg(sub.future == NULL,
		      "pool_submit during pool_shutdown accepted a task: once pool_shutdown is "
		      "called, pool_submit must return NULL with errno ESHUTDOWN — the workers "
		      "may be gone, and the task would never run");
	ck_assert_msg(sub.err == ESHUTDOWN,
		      "pool_submit during pool_shutdown failed with errno %s, expected ESHUTDOWN",
		      err_name(sub.err));
	atomic_store(&g.open, 1);
	ck_assert_msg(probes_finish(&s, 1, PROBE_MS) == 0,
		      "pool_shutdown did not return after the last task finished");
	ck_assert_msg(s.ret == 0, "pool_shutdown returned %d (%s)", s.ret, err_name(s.err));
	get_expect(f, result_of(3), "the future of the task that ran during the shutdown");
	future_free(f);
}
END_TEST

START_TEST(test_shutdown_cancel)
{
	enum { QUEUED = 5 };
	struct gate g = {0};
	struct job first = {.gate = &g, .value = 1}, queued[QUEUED];
	struct future *f0, *fq[QUEUED];
	struct probe s, get;
	struct pool *p = make_pool(1);
	int ran = 0;

	f0 = submit(p, job_task, &first);
	ck_assert_msg(gate_wait(&g, 1), "the task did not start within %d ms", PROBE_MS);
	for (int i = 0; i < QUEUED; i++) {
		queued[i] = (struct job){.value = 10 + i};
		fq[i] = submit(p, job_task, &queued[i]);
	}
	probe_start(&s, (struct probe){.call = call_shutdown, .pool = p, .cancel = 1});
	ck_assert_msg(probes_settle(&s, 1) == 0,
		      "pool_shutdown(p, 1) returned %d while a task was still running: tasks "
		      "already running finish, and the workers are joined",
		      s.ret);
	atomic_store(&g.open, 1);
	ck_assert_msg(probes_finish(&s, 1, PROBE_MS) == 0,
		      "pool_shutdown(p, 1) had not returned %d ms after the running task could "
		      "finish",
		      PROBE_MS);
	ck_assert_msg(s.ret == 0, "pool_shutdown returned %d (%s)", s.ret, err_name(s.err));
	get_expect(f0, result_of(1), "the future of the task running at pool_shutdown(p, 1)");
	for (int i = 0; i < QUEUED; i++)
		ran += atomic_load(&queued[i].runs) > 0;
	ck_assert_msg(ran == 0,
		      "%d of the %d tasks still queued at pool_shutdown(p, 1) ran: with "
		      "cancel_pending, take them off the queue (under p->lock) before waking the "
		      "workers",
		      ran, QUEUED);
	for (int i = 0; i < QUEUED; i++) {
		ck_assert_msg(future_done(fq[i]) == 1,
			      "the future of a task cancelled by pool_shutdown(p, 1) is still "
			      "pending: settle it as FUTURE_CANCELLED and broadcast f->settled, or "
			      "whoever calls future_get on it waits for ever");
		probe_start(&get, (struct probe){.call = call_get, .future = fq[i]});
		ck_assert_msg(probes_finish(&get, 1, PROBE_MS) == 0,
			      "future_get on a cancelled future did not return");
		ck_assert_msg(get.ret == -1 && get.err == ECANCELED,
			      "future_get on a cancelled task returned %d (errno %s), expected -1 "
			      "with ECANCELED",
			      get.ret, err_name(get.err));
		future_free(fq[i]);
	}
	future_free(f0);
}
END_TEST

/* ==== Errors: a pool that cannot be made leaves nothing behind ==== */

START_TEST(test_create_zero)
{
	int base = proc_count_threads(0);
	int bad[] = {0, -3};

	for (int i = 0; i < 2; i++) {
		struct pool *p;

		errno = 0;
		p = pool_create(bad[i]);
		ck_assert_msg(
		    p == NULL && errno == EINVAL,
		    "pool_create(%d) returned %p with errno %s, expected NULL with EINVAL", bad[i],
		    (void *)p, errno ? err_name(errno) : "0 (not set)");
	}
	ck_assert_msg(threads_beyond(base) == 0,
		      "a pool_create that failed left %d threads running", threads_beyond(base));
}
END_TEST

/* pool_create(n) with its every-th pthread_create failing: NULL, EAGAIN, no thread left. */
static void create_fails(int n, int every)
{
	int base = proc_count_threads(0), err, faults, hung, extra;
	struct probe c;
	struct pool *p;

	fault_inject(FAULT_THREAD, every);
	probe_start(&c, (struct probe){.call = call_create, .nworkers = n});
	hung = probes_finish(&c, 1, PROBE_MS);
	fault_stop();
	ck_assert_msg(!hung,
		      "pool_create(%d) had not returned %d ms after pthread_create failed for "
		      "worker %d: the workers it had started still sleep on p->work, and "
		      "pthread_cond_destroy waits for its waiters (or a join waits for a worker "
		      "nobody woke). Set stopping, broadcast p->work and join them first. %s",
		      n, PROBE_MS, every, fault_report());
	p = c.pool;
	err = c.err;
	faults = fault_count();
	ck_assert_msg(faults > 0,
		      "pool_create(%d) called pthread_create fewer than %d times: it must start "
		      "every worker before it returns",
		      n, every);
	ck_assert_msg(p == NULL,
		      "pool_create(%d) returned a pool although pthread_create failed for worker "
		      "%d: return NULL. %s",
		      n, every, fault_report());
	ck_assert_msg(err == EAGAIN,
		      "pool_create(%d) failed with errno %s, expected EAGAIN: pthread_create "
		      "returns its error number and leaves errno alone — set errno yourself. %s",
		      n, err ? err_name(err) : "0 (not set)", fault_report());
	extra = threads_beyond(base);
	ck_assert_msg(extra == 0,
		      "pool_create(%d) returned NULL after pthread_create failed for worker %d, "
		      "but left %d threads running: the workers already started sleep on "
		      "p->work for ever. Set stopping, broadcast p->work and join them before "
		      "you free the pool. %s",
		      n, every, extra, fault_report());
}

START_TEST(test_create_thread_fails)
{
	struct future *f;
	struct pool *p;

	create_fails(4, 3);
	create_fails(2, 1);
	p = make_pool(2); /* and the next pool works */
	f = submit(p, value_task, (void *)8);
	get_expect(f, result_of(8), "a task on a new pool");
	shutdown_ok(p, 0);
	future_free(f);
}
END_TEST

void suite_define(void)
{
	/* Core: submit, get, map, map-reduce. */
	SUITE_TEST(test_submit_get, 1,
		   "What does a worker do with what fn(arg) returns?\n"
		   "A future is a one-slot monitor: the worker stores the result and the state "
		   "under f->lock, future_get reads them under it: pthread_mutex_lock(3p).\n"
		   "In the worker: future_settle(f, FUTURE_DONE, f->fn(f->arg)); in future_get, "
		   "*result = f->result once f->state is FUTURE_DONE.");
	SUITE_TEST(test_map_in_order, 2,
		   "Tasks finish in any order; does results[i] still come from args[i]?\n"
		   "Executor.map returns results in the order of its inputs: keep one future per "
		   "input, submit them all, then wait for each in turn: pthread_cond_wait(3p).\n"
		   "for (i = 0; i < n; i++) fs[i] = pool_submit(...); then for (i = 0; i < n; "
		   "i++) future_get(fs[i], &results[i]);");
	SUITE_TEST(test_map_reduce, 2,
		   "Where does the fold start, and in which order does it take the results?\n"
		   "A reduction folds left to right from an initial value, like Python's "
		   "functools.reduce(f, results, init).\n"
		   "pool_map into a results array, then acc = init; for (i = 0; i < n; i++) acc = "
		   "combine(acc, results[i]); *out = acc;");
	SUITE_TEST_EX(test_each_task_once, 3, 12, 0,
		      "Can two workers take the same task, or can a submit go unnoticed?\n"
		      "Every read and write of head and tail must happen under p->lock, and "
		      "every submit must wake a worker: pthread_cond_signal(3p).\n"
		      "In take_task: f = p->head; p->head = f->next; if (!p->head) p->tail = "
		      "NULL; all before pthread_mutex_unlock(&p->lock).");

	/* Futures: waiting for a result. */
	SUITE_TEST(test_get_blocks, 2,
		   "Does future_get sleep until the result is there, and who wakes it?\n"
		   "Waiting is pthread_cond_wait on f->settled; every thread waiting for the "
		   "future must wake: pthread_cond_broadcast(3p).\n"
		   "In future_settle: lock, f->state = FUTURE_DONE, "
		   "pthread_cond_broadcast(&f->settled), unlock.");
	SUITE_TEST(test_get_finished, 1,
		   "What if the task finished before future_get was called?\n"
		   "A condition variable does not remember a broadcast made before you waited: "
		   "check the state first, pthread_cond_wait(3p).\n"
		   "while (f->state == FUTURE_PENDING) pthread_cond_wait(&f->settled, &f->lock); "
		   "— never a bare pthread_cond_wait.");
	SUITE_TEST(test_get_spurious, 2,
		   "What does future_get do when it wakes and the task is still running?\n"
		   "POSIX allows spurious wake-ups: a wake-up is a hint, check the state again: "
		   "pthread_cond_wait(3p).\n"
		   "Wait in while (f->state == FUTURE_PENDING), not in an if.");

	/* Parallelism. */
	SUITE_TEST_EX(test_runs_in_parallel, 2, 10, 0,
		      "Do all the workers run tasks at the same time?\n"
		      "A worker holds p->lock only to take a task; the task runs with no lock "
		      "held, or the others wait for it: pthread_mutex_unlock(3p).\n"
		      "In the worker: f = take_task(p) (which unlocks), then f->fn(f->arg); "
		      "start all nworkers threads in pool_create.");

	/* Shutdown. */
	SUITE_TEST(test_shutdown_runs_queued, 2,
		   "When may a worker leave, and who waits for it?\n"
		   "pool_shutdown(p, 0) lets the queue drain, then joins every worker: "
		   "pthread_join(3p).\n"
		   "In take_task: while (!p->head && !p->stopping) wait; return NULL only when "
		   "p->head is NULL; then pthread_join each worker.");
	SUITE_TEST(test_shutdown_idle_workers, 2,
		   "How many workers sleep on p->work when pool_shutdown comes?\n"
		   "A signal wakes one waiter, a broadcast wakes them all: "
		   "pthread_cond_broadcast(3p).\n"
		   "pthread_mutex_lock(&p->lock); p->stopping = 1; "
		   "pthread_cond_broadcast(&p->work); pthread_mutex_unlock(&p->lock);");
	SUITE_TEST(test_submit_after_shutdown, 1,
		   "What should pool_submit do once pool_shutdown has begun?\n"
		   "Like Python's executor after shutdown(), a stopping pool refuses work: "
		   "check p->stopping under p->lock, errno(3).\n"
		   "if (p->stopping) { unlock; future_free(f); errno = ESHUTDOWN; return NULL; }");
	SUITE_TEST(
	    test_shutdown_cancel, 2,
	    "What happens to a future whose task will never run?\n"
	    "Every future must settle one way or the other, or its getter waits for ever "
	    "(Python's cancel_futures=True).\n"
	    "Under p->lock take the queue (head = tail = NULL); after the unlock, settle each "
	    "as FUTURE_CANCELLED and broadcast; future_get then fails with ECANCELED.");

	/* Errors. */
	SUITE_TEST(test_create_zero, 1,
		   "How many workers is a pool of 0?\n"
		   "Library functions reject bad arguments with -1 or NULL and errno: errno(3).\n"
		   "if (nworkers < 1) { errno = EINVAL; return NULL; }");
	SUITE_TEST(test_create_thread_fails, 2,
		   "When the third pthread_create fails, where are the first two workers?\n"
		   "pthread_create returns an error number and leaves errno alone; the threads "
		   "already started must be stopped and joined: pthread_create(3).\n"
		   "On err = pthread_create(...) != 0: stop_workers(p) (stopping = 1, broadcast, "
		   "join), free, errno = err; return NULL.");
}
