/*
 * The hidden tests of lab 02, threads: run_threads() and parallel_sum().
 *
 * Every test starts real threads. To see which thread did what, the thread
 * bodies given to run_threads record gettid(), the argument they received
 * and whether they met the other threads at a meeting point (every thread
 * waits there until all have arrived, or a deadline passes: threads run one
 * after another never all arrive). parallel_sum's threads are the student's
 * own, so the tests that watch them protect the array's pages: a SIGSEGV
 * handler notes which thread touches each slice first, and holds it at a
 * meeting point until the threads of all the slices are there.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "suite.h"
#include "threads.h"

#define MAX_THREADS  64
#define MEET_MS      1000           /* how long a thread waits for the others at a meeting point */
#define POISON       1000000000000L /* what lies just outside the arrays: reading it shows */
#define PAD          64             /* poisoned elements on either side of an array */
#define CREATE_STACK (64 << 20)     /* thread stack size while pthread_create is made to fail */

/* ==== A meeting point ==== */

struct meeting {
	atomic_int arrived;   /* threads checked in so far */
	int expected;         /* how many should come */
	uint64_t deadline_ns; /* clock_now_ns() after which nobody waits any longer */
};

static void meeting_open(struct meeting *m, int expected)
{
	atomic_store(&m->arrived, 0);
	m->expected = expected;
	m->deadline_ns = clock_now_ns() + (uint64_t)MEET_MS * 1000000u;
}

/*
 * Check in, then wait until all expected threads have, or the deadline has
 * passed. Returns 1 when everyone came in time, else 0. Async-signal-safe.
 */
static int meeting_attend(struct meeting *m)
{
	atomic_fetch_add(&m->arrived, 1);
	while (atomic_load(&m->arrived) < m->expected) {
		if (clock_now_ns() > m->deadline_ns)
			return 0;
		clock_sleep_ms(1);
	}
	return 1;
}

/* ==== Thread bodies for run_threads, and what they record ==== */

/* Static, not on a test's stack: an unjoined thread may still write here after the call. */
static struct {
	struct meeting meet;       /* where record_call waits for the others */
	atomic_int calls;          /* how many times a body was called */
	atomic_int finished;       /* how many bodies returned */
	int index[MAX_THREADS];    /* by call order: the index the thread received */
	void *ctx[MAX_THREADS];    /* by call order: the ctx the thread received */
	pid_t tid[MAX_THREADS];    /* by call order: the thread it ran in */
	int met[MAX_THREADS];      /* by call order: it met all the others */
	char answers[MAX_THREADS]; /* answer_index returns &answers[index] */
} rec;

/* Claim the next record slot, or -1 when there are more calls than slots. */
static int record_slot(void)
{
	int slot = atomic_fetch_add(&rec.calls, 1);

	return slot < MAX_THREADS ? slot : -1;
}

/* Meet the other threads first, and only then read the argument. */
static void *record_call(void *p)
{
	const struct thread_arg *arg = p;
	int slot = record_slot();
	int met = meeting_attend(&rec.meet);

	if (slot >= 0) {
		rec.index[slot] = arg ? arg->index : -1;
		rec.ctx[slot] = arg ? arg->ctx : NULL;
		rec.tid[slot] = gettid();
		rec.met[slot] = met;
	}
	atomic_fetch_add(&rec.finished, 1);
	return NULL;
}

/* Return a pointer that names the index received: &answers[index]. */
static void *answer_index(void *p)
{
	const struct thread_arg *arg = p;

	record_slot();
	if (!arg || arg->index < 0 || arg->index >= MAX_THREADS)
		return NULL;
	return &rec.answers[arg->index];
}

/* Work a while (the first threads called the longest), then say so. */
static void *slow_call(void *p)
{
	int slot = record_slot();

	(void)p;
	clock_sleep_ms(slot >= 0 && slot < 8 ? 30 * (8 - slot) : 30);
	atomic_fetch_add(&rec.finished, 1);
	return NULL;
}

/* Whether call slot ran in a thread that no earlier call ran in. */
static int first_in_thread(int slot)
{
	for (int i = 0; i < slot; i++)
		if (rec.tid[i] == rec.tid[slot])
			return 0;
	return 1;
}

/* Say what a wrong results[i] holds instead of what thread i returned. */
static const char *answer_text(const void *got, int i)
{
	static char buf[320];
	const char *a = got;

	if (a >= rec.answers && a < rec.answers + MAX_THREADS)
		snprintf(buf, sizeof(buf),
			 "holds what the thread given index %d returned, expected thread %d's: "
			 "store each return value in the slot of its own thread, and give thread "
			 "%d index %d (see the test of own indexes)",
			 (int)(a - rec.answers), i, i, i);
	else
		snprintf(buf, sizeof(buf),
			 "expected what thread %d returned (%p), got %p: store pthread_join's "
			 "ret in results[%d]",
			 i, (const void *)&rec.answers[i], got, i);
	return buf;
}

/* Write the first few recorded indexes into buf, in call order. */
static const char *indexes_text(char *buf, size_t size, int count)
{
	int len = 0;

	buf[0] = '\0';
	for (int i = 0; i < count && i < MAX_THREADS && (size_t)len < size; i++)
		len += snprintf(buf + len, size - (size_t)len, "%s%d", i ? " " : "", rec.index[i]);
	return buf;
}

/* ==== Arrays for parallel_sum ==== */

/* A heap array of n longs, data[i] = value(i), with POISON on either side. */
static long *array_new(size_t n, long (*value)(size_t i))
{
	long *buf = xmalloc((n + 2 * PAD) * sizeof(*buf));

	for (size_t i = 0; i < n + 2 * PAD; i++)
		buf[i] = POISON;
	for (size_t i = 0; i < n; i++)
		buf[PAD + i] = value(i);
	return buf + PAD;
}

static void array_free(long *data)
{
	free(data - PAD);
}

static long sum_of(const long *data, size_t from, size_t to)
{
	long sum = 0;

	for (size_t i = from; i < to; i++)
		sum += data[i];
	return sum;
}

static long value_mixed(size_t i)
{
	return (long)(i * 37 % 101) - 50;
}

static long value_rank(size_t i)
{
	return (long)i + 1;
}

static long value_one(size_t i)
{
	(void)i;
	return 1;
}

/* Say what a wrong sum suggests: a dropped remainder, a read past the end. */
static const char *sum_diagnosis(const long *data, size_t n, int nthreads, long got)
{
	long expected = sum_of(data, 0, n);
	size_t rest = n % (size_t)nthreads;

	if (got - expected >= POISON / 2 || expected - got >= POISON / 2)
		return "a thread read outside the array: check the ends of the last slices";
	if (rest > 0 && got == expected - sum_of(data, n - rest, n))
		return "exactly the last n % nthreads elements are missing: slices of n / nthreads "
		       "drop the remainder";
	if (got == 0)
		return "no partial sum reached the total: each thread's sum must be added up "
		       "after it is joined";
	return "some elements were summed twice or not at all: check each slice's bounds";
}

/* Sum data with parallel_sum and fail with a diagnosis unless the result is right. */
static void check_sum(const long *data, size_t n, int nthreads)
{
	long expected = sum_of(data, 0, n), got = -12345;
	int ret = parallel_sum(data, n, nthreads, &got);

	ck_assert_msg(ret == 0,
		      "parallel_sum(n=%zu, nthreads=%d) returned %d (errno %s), expected 0", n,
		      nthreads, ret, err_name(errno));
	ck_assert_msg(got == expected,
		      "parallel_sum(n=%zu, nthreads=%d): expected %ld, got %ld: %s", n, nthreads,
		      expected, got, sum_diagnosis(data, n, nthreads, got));
}

/* ==== Watching which thread reads which slice ==== */

/*
 * An array cut into slices of whole pages, protected so that the first touch
 * of a protected page faults. The SIGSEGV handler notes which thread touched
 * each slice, holds every new reader at a meeting point until all the
 * slices' threads are reading at once, then opens the page.
 */
static struct {
	char *base;                        /* the array, page-aligned */
	size_t bytes;                      /* its size */
	size_t page;                       /* the page size */
	size_t slice_bytes;                /* the size of a slice, whole pages */
	int nslices;                       /* how many slices */
	int every_page;                    /* every page protected, else each slice's first */
	_Atomic pid_t reader[MAX_THREADS]; /* the thread that first touched slice k */
	_Atomic pid_t seen[MAX_THREADS];   /* every thread that touched a protected page */
	atomic_int shared;                 /* one slice was touched by two threads */
	atomic_int late;                   /* some thread never met the others */
	struct meeting meet;               /* where each new reader waits for the others */
	struct sigaction old;              /* the SIGSEGV action to restore */
} watch;

/* Add tid to watch.seen; returns 1 when it was not there yet. Async-signal-safe. */
static int watch_new_thread(pid_t tid)
{
	for (int i = 0; i < MAX_THREADS; i++) {
		pid_t none = 0;

		if (atomic_compare_exchange_strong(&watch.seen[i], &none, tid))
			return 1;
		if (none == tid)
			return 0;
	}
	return 0;
}

/*
 * A thread touched a protected page: note who, let a new reader meet the
 * others, and open the page. A fault elsewhere is a real crash: restore the
 * default action and let the access fault again.
 */
static void watch_fault(int sig, siginfo_t *si, void *ctx)
{
	char *addr = si->si_addr;
	size_t off = (size_t)(addr - watch.base);
	pid_t tid = gettid(), first = 0;
	int k = (int)(off / watch.slice_bytes);

	(void)ctx;
	if (addr < watch.base || off >= watch.bytes ||
	    (!watch.every_page && off % watch.slice_bytes >= watch.page)) {
		signal(sig, SIG_DFL);
		return;
	}
	if (!atomic_compare_exchange_strong(&watch.reader[k], &first, tid) && first != tid)
		atomic_store(&watch.shared, 1);
	if (watch_new_thread(tid) && !meeting_attend(&watch.meet))
		atomic_store(&watch.late, 1);
	mprotect(watch.base + off - off % watch.page, watch.page, PROT_READ);
}

/* A page-aligned array of nslices slices of pages pages each, data[i] = value(i). */
static long *watch_array(int nslices, size_t pages, long (*value)(size_t i), size_t *n)
{
	long *data;

	memset(&watch, 0, sizeof(watch));
	watch.page = (size_t)sysconf(_SC_PAGESIZE);
	watch.slice_bytes = pages * watch.page;
	watch.nslices = nslices;
	watch.bytes = (size_t)nslices * watch.slice_bytes;
	watch.base =
	    mmap(NULL, watch.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(watch.base != MAP_FAILED, "mmap: %s", strerror(errno));
	data = (long *)watch.base;
	*n = watch.bytes / sizeof(long);
	for (size_t i = 0; i < *n; i++)
		data[i] = value(i);
	return data;
}

/* Protect the array (every page, or each slice's first) and start watching. */
static void watch_arm(int every_page)
{
	struct sigaction sa = {.sa_sigaction = watch_fault, .sa_flags = SA_SIGINFO};

	memset(watch.reader, 0, sizeof(watch.reader));
	memset(watch.seen, 0, sizeof(watch.seen));
	atomic_store(&watch.shared, 0);
	atomic_store(&watch.late, 0);
	watch.every_page = every_page;
	meeting_open(&watch.meet, watch.nslices);
	ck_assert(sigaction(SIGSEGV, &sa, &watch.old) == 0);
	for (int k = 0; k < watch.nslices; k++)
		ck_assert(mprotect(watch.base + (size_t)k * watch.slice_bytes,
				   every_page ? watch.slice_bytes : watch.page, PROT_NONE) == 0);
}

/* Stop watching. The array stays readable: a thread left running may still read it. */
static void watch_disarm(void)
{
	mprotect(watch.base, watch.bytes, PROT_READ);
	sigaction(SIGSEGV, &watch.old, NULL);
}

/* How many distinct threads touched the array. */
static int watch_readers(void)
{
	int count = 0;

	while (count < MAX_THREADS && atomic_load(&watch.seen[count]) != 0)
		count++;
	return count;
}

/* ==== Making pthread_create fail ==== */

/* This process's address space in bytes (VmSize), or 0 if unknown. */
static size_t vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t kb = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/*
 * Give new threads big stacks and cap the address space so that only about
 * two more fit: the third pthread_create fails with EAGAIN. Saves the old
 * limit in *old.
 */
static void starve_threads(struct rlimit *old)
{
	struct rlimit lim;
	pthread_attr_t attr;
	size_t vm = vm_size();

	ck_assert_msg(vm > 0, "cannot read VmSize from /proc/self/status");
	ck_assert(pthread_attr_init(&attr) == 0);
	ck_assert(pthread_attr_setstacksize(&attr, CREATE_STACK) == 0);
	ck_assert(pthread_setattr_default_np(&attr) == 0);
	pthread_attr_destroy(&attr);
	ck_assert(getrlimit(RLIMIT_AS, old) == 0);
	lim = *old;
	lim.rlim_cur = vm + 2 * (size_t)CREATE_STACK + CREATE_STACK / 2;
	if (old->rlim_max != RLIM_INFINITY && old->rlim_max < lim.rlim_cur)
		lim.rlim_cur = old->rlim_max; /* even less room: the failure only comes sooner */
	ck_assert(setrlimit(RLIMIT_AS, &lim) == 0);
}

/* ==== Core: run_threads ==== */

START_TEST(test_run_threads_results)
{
	enum { N = 6 };
	void *results[N];
	int ret;

	for (int i = 0; i < N; i++)
		results[i] = &rec;
	ret = run_threads(N, answer_index, NULL, results);
	ck_assert_msg(ret == 0, "run_threads(%d, ...) returned %d (errno %s), expected 0", N, ret,
		      err_name(errno));
	for (int i = 0; i < N; i++) {
		ck_assert_msg(results[i] != &rec,
			      "results[%d] was never written: pass &ret to pthread_join and store "
			      "ret in results[%d]",
			      i, i);
		ck_assert_msg(results[i] == &rec.answers[i], "results[%d]: %s", i,
			      answer_text(results[i], i));
	}
	ret = run_threads(3, answer_index, NULL, NULL);
	ck_assert_msg(ret == 0,
		      "run_threads with results == NULL returned %d (errno %s): results "
		      "may be NULL, the return values are then dropped",
		      ret, err_name(errno));
}
END_TEST

START_TEST(test_run_threads_own_index)
{
	enum { N = 8 };
	int marker, count[N] = {0}, calls;
	char seen[256];

	meeting_open(&rec.meet, N);
	ck_assert_msg(run_threads(N, record_call, &marker, NULL) == 0,
		      "run_threads returned -1 (errno %s)", err_name(errno));
	calls = atomic_load(&rec.calls);
	ck_assert_msg(calls == N, "fn was called %d times for n = %d: start exactly n threads",
		      calls, N);
	for (int i = 0; i < N; i++) {
		ck_assert_msg(rec.ctx[i] == &marker,
			      "a thread received ctx %p instead of the caller's %p: set every "
			      "struct thread_arg's ctx",
			      rec.ctx[i], (void *)&marker);
		if (rec.index[i] >= 0 && rec.index[i] < N)
			count[rec.index[i]]++;
	}
	for (int i = 0; i < N; i++)
		ck_assert_msg(count[i] == 1,
			      "the threads received the indexes %s; expected 0 to %d, each once. A "
			      "thread reads its argument when it runs, after the create loop moved "
			      "on: give each thread a struct of its own, never &i or one struct "
			      "refilled for every thread",
			      indexes_text(seen, sizeof(seen), N), N - 1);
}
END_TEST

START_TEST(test_run_threads_parallel)
{
	enum { N = 4 };
	pid_t me = gettid();
	int met = 0, distinct = 0;

	meeting_open(&rec.meet, N);
	ck_assert_msg(run_threads(N, record_call, NULL, NULL) == 0,
		      "run_threads returned -1 (errno %s)", err_name(errno));
	ck_assert_msg(atomic_load(&rec.calls) == N, "fn was called %d times for n = %d",
		      atomic_load(&rec.calls), N);
	for (int i = 0; i < N; i++) {
		ck_assert_msg(rec.tid[i] != me,
			      "fn ran in the calling thread: start every call with pthread_create");
		met += rec.met[i];
		distinct += first_in_thread(i);
	}
	ck_assert_msg(distinct == N, "the %d calls of fn ran in %d distinct threads, expected %d",
		      N, distinct, N);
	ck_assert_msg(met == N,
		      "the threads did not all run at the same time (%d of %d met the others "
		      "within %d ms): create every thread before you join any; a join inside "
		      "the create loop runs them one after another",
		      met, N, MEET_MS);
}
END_TEST

START_TEST(test_run_threads_joined)
{
	enum { N = 5 };
	int ret = run_threads(N, slow_call, NULL, NULL);
	int done = atomic_load(&rec.finished);

	ck_assert_msg(ret == 0, "run_threads returned %d (errno %s), expected 0", ret,
		      err_name(errno));
	ck_assert_msg(done <= N, "fn was called %d times for n = %d: start exactly n threads", done,
		      N);
	ck_assert_msg(done == N,
		      "run_threads returned while %d of its %d threads were still working: "
		      "pthread_join every thread before returning",
		      N - done, N);
	suite_check_leaks("run_threads()");
}
END_TEST

/* ==== Errors: run_threads ==== */

START_TEST(test_run_threads_invalid)
{
	static const int bad_n[] = {0, -1, -100};

	for (size_t i = 0; i < sizeof(bad_n) / sizeof(bad_n[0]); i++) {
		int ret;

		errno = 0;
		ret = run_threads(bad_n[i], record_call, NULL, NULL);
		ck_assert_msg(ret == -1 && errno == EINVAL,
			      "run_threads(n=%d): expected -1 with errno EINVAL, got %d with %s",
			      bad_n[i], ret, err_name(errno));
	}
	errno = 0;
	ck_assert_msg(run_threads(2, NULL, NULL, NULL) == -1 && errno == EINVAL,
		      "run_threads with fn == NULL: expected -1 with errno EINVAL, got errno %s",
		      err_name(errno));
	ck_assert_msg(atomic_load(&rec.calls) == 0,
		      "fn was called %d times although the arguments were invalid: check them "
		      "before starting any thread",
		      atomic_load(&rec.calls));
}
END_TEST

START_TEST(test_run_threads_create_fails)
{
	enum { N = 8 };
	struct rlimit old;
	int ret, saved;

	starve_threads(&old);
	errno = 0;
	ret = run_threads(N, slow_call, NULL, NULL);
	saved = errno;
	setrlimit(RLIMIT_AS, &old);
	ck_assert_msg(ret != 0 || atomic_load(&rec.calls) < N,
		      "all %d threads ran although only two thread stacks fit in memory during "
		      "this test: were they run one after another (a join inside the create "
		      "loop), or given a stack size of your own (pass NULL attributes)?",
		      N);
	ck_assert_msg(ret == -1,
		      "pthread_create was made to fail, yet run_threads returned %d: test the "
		      "number it returns against 0 (it is an error number, never -1)",
		      ret);
	ck_assert_msg(saved == EAGAIN,
		      "run_threads returned -1 with errno %s; expected EAGAIN, the error number "
		      "the failed pthread_create returned (it returns the number, never -1, and "
		      "leaves errno alone: put it there yourself)",
		      err_name(saved));
	/* The threads that did start sleep a while: one not joined is still running. */
	suite_check_leaks("run_threads() after a failed pthread_create");
}
END_TEST

/* ==== Core: parallel_sum ==== */

START_TEST(test_parallel_sum_basic)
{
	long *data = array_new(1000, value_mixed);

	check_sum(data, 1000, 1);
	check_sum(data, 1000, 2);
	check_sum(data, 1000, 4);
	check_sum(data, 1000, 10);
	array_free(data);
}
END_TEST

START_TEST(test_parallel_sum_remainder)
{
	static const struct {
		size_t n;
		int nthreads;
	} cases[] = {{1003, 4}, {10, 3}, {7, 6}, {100, 7}, {999, 8}};
	long *data = array_new(1003, value_rank);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_sum(data, cases[i].n, cases[i].nthreads);
	array_free(data);
}
END_TEST

START_TEST(test_parallel_sum_small)
{
	long *data = array_new(3, value_rank);
	long got = 999;
	int ret;

	check_sum(data, 3, 8);
	check_sum(data, 1, 2);
	check_sum(data, 3, 3);
	ret = parallel_sum(NULL, 0, 4, &got);
	ck_assert_msg(ret == 0 && got == 0,
		      "parallel_sum(NULL, 0, 4): expected 0 with a sum of 0, got %d with %ld "
		      "(errno %s): an empty array sums to 0",
		      ret, got, err_name(errno));
	array_free(data);
}
END_TEST

START_TEST(test_parallel_sum_one_thread_per_slice)
{
	enum { THREADS = 4 };
	size_t n;
	long *data = watch_array(THREADS, 2, value_mixed, &n);
	long expected = sum_of(data, 0, n), got = 0;
	pid_t me = gettid();
	int ret, readers;

	watch_arm(1);
	ret = parallel_sum(data, n, THREADS, &got);
	watch_disarm();
	ck_assert_msg(ret == 0, "parallel_sum returned %d (errno %s), expected 0", ret,
		      err_name(errno));
	ck_assert_msg(got == expected,
		      "parallel_sum(n=%zu, nthreads=%d): expected %ld, got %ld: %s", n, THREADS,
		      expected, got, sum_diagnosis(data, n, THREADS, got));
	for (int i = 0; i < MAX_THREADS; i++)
		ck_assert_msg(watch.seen[i] != me,
			      "the calling thread read the array itself: leave all the summing "
			      "to the threads");
	readers = watch_readers();
	ck_assert_msg(readers == THREADS,
		      "the array was read by %d different thread%s; expected %d, one per slice",
		      readers, readers == 1 ? "" : "s", THREADS);
	ck_assert_msg(!atomic_load(&watch.shared),
		      "a slice was read by more than one thread: thread k sums slice k alone, "
		      "one contiguous run of about n / nthreads elements");
	ck_assert_msg(!atomic_load(&watch.late),
		      "the %d threads did not read the array at the same time: create every "
		      "thread before you join any",
		      THREADS);
}
END_TEST

/*
 * Each run lines the threads up at the start of their slices, so that they
 * sum at the same time: threads adding into one shared total then collide.
 * Threads that never all arrive (run one after another) are not lined up
 * again: that mistake is another test's, and each run would wait in vain.
 */
START_TEST(test_parallel_sum_no_lost_updates)
{
	enum { THREADS = 4, RUNS = 20 };
	size_t n;
	long *data = watch_array(THREADS, (1 << 23) / (size_t)sysconf(_SC_PAGESIZE), value_one, &n);
	int line_up = 1;

	for (int run = 0; run < RUNS; run++) {
		long got = 0;
		int ret;

		if (line_up)
			watch_arm(0);
		ret = parallel_sum(data, n, THREADS, &got);
		if (line_up) {
			watch_disarm();
			line_up = !atomic_load(&watch.late);
		}
		ck_assert_msg(ret == 0, "parallel_sum returned %d (errno %s), expected 0", ret,
			      err_name(errno));
		ck_assert_msg(
		    got == (long)n,
		    "run %d of parallel_sum(n=%zu of ones, nthreads=%d): expected %zu, got "
		    "%ld (%ld lost): threads that add into one shared total overwrite "
		    "each other; give each thread a slot of its own",
		    run + 1, n, THREADS, n, got, (long)n - got);
	}
}
END_TEST

/* ==== Errors: parallel_sum ==== */

START_TEST(test_parallel_sum_invalid)
{
	static const int bad[] = {0, -1, -8};
	long data[4] = {1, 2, 3, 4};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long got = 777;
		int ret;

		errno = 0;
		ret = parallel_sum(data, 4, bad[i], &got);
		ck_assert_msg(ret == -1 && errno == EINVAL,
			      "parallel_sum(nthreads=%d): expected -1 with errno EINVAL, got %d "
			      "with %s",
			      bad[i], ret, err_name(errno));
		ck_assert_msg(got == 777,
			      "parallel_sum(nthreads=%d) failed but changed *result to %ld: leave "
			      "it alone on error",
			      bad[i], got);
	}
}
END_TEST

void suite_define(void)
{
	/* Core: run_threads */
	SUITE_TEST(test_run_threads_results, 2,
		   "Where does the value a thread's function returns go?\n"
		   "pthread_join(3) hands back, through its second argument, the value the "
		   "thread's function returned.\n"
		   "pthread_join(tids[i], &ret); if (results) results[i] = ret;");
	SUITE_TEST(test_run_threads_own_index, 3,
		   "When thread 3 finally reads its argument, does it still say 3?\n"
		   "A thread may start running after the loop has moved on: pthread_create(3) "
		   "passes a pointer, and what it points to must stay put.\n"
		   "Allocate an array of n struct thread_arg, fill args[i] with i and ctx, and "
		   "pass &args[i]; never &i.");
	SUITE_TEST_EX(test_run_threads_parallel, 2, 3, 0,
		      "Are all n threads alive at the same time?\n"
		      "pthread_join(3) waits for the thread to end: joining inside the creating "
		      "loop runs the threads one after another.\n"
		      "Create all the threads first, then join them all in a second loop; never "
		      "call fn yourself.");
	SUITE_TEST(
	    test_run_threads_joined, 2,
	    "Is any thread still running when run_threads() returns?\n"
	    "A thread runs on until it is joined or ends by itself; pthread_join(3) waits for it.\n"
	    "Join every thread you created before run_threads returns, on every path.");
	/* Errors: run_threads */
	SUITE_TEST(test_run_threads_invalid, 1,
		   "What should run_threads(0, ...) or a NULL fn do?\n"
		   "Check the arguments before any work, as threads.h says: a call that fails with "
		   "EINVAL starts no thread.\n"
		   "if (n < 1 || !fn) { errno = EINVAL; return -1; } before any malloc or "
		   "pthread_create.");
	SUITE_TEST(test_run_threads_create_fails, 2,
		   "What does pthread_create() return when it fails, and who joins the threads "
		   "already started?\n"
		   "It returns an error number (EAGAIN) and leaves errno alone; the threads "
		   "already running still need pthread_join: pthread_create(3).\n"
		   "if ((err = pthread_create(...)) != 0) break; join the threads started, free, "
		   "errno = err; return -1.");
	/* Core: parallel_sum */
	SUITE_TEST(test_parallel_sum_basic, 2,
		   "Does each thread sum only its own slice, and who adds the slices up?\n"
		   "Each thread writes its partial sum where only it writes; the caller reads them "
		   "after pthread_join(3).\n"
		   "Each thread sums its slice into partial[k]; after joining, the caller adds "
		   "partial[0 .. nthreads - 1].");
	SUITE_TEST(test_parallel_sum_remainder, 2,
		   "Where do the last n % nthreads elements go?\n"
		   "Cut n into nthreads slices whose lengths differ by at most one, so the "
		   "remainder is shared out.\n"
		   "Slice k begins at k * (n / nthreads) + min(k, n % nthreads) and holds n / "
		   "nthreads + (k < n % nthreads) elements.");
	SUITE_TEST(
	    test_parallel_sum_small, 1,
	    "What are the slices when there are more threads than elements, or none at all?\n"
	    "With nthreads > n the first n slices hold one element and the rest are empty; an "
	    "empty slice sums to 0.\n"
	    "Let a slice of length 0 sum to 0 without touching data; n == 0 gives *result = 0 and "
	    "may have data == NULL.");
	SUITE_TEST_EX(test_parallel_sum_one_thread_per_slice, 3, 3, 0,
		      "Which thread reads each slice, and does the caller read any of the array?\n"
		      "One thread per slice, all running at once; the caller only starts, joins "
		      "and adds: pthread_create(3).\n"
		      "Start nthreads threads (run_threads will do), each reading only slice k; "
		      "the caller reads partial[], never data.");
	SUITE_TEST(
	    test_parallel_sum_no_lost_updates, 2,
	    "Do two threads ever write the same variable?\n"
	    "total += x is a read, an add and a write: two threads doing it at once can lose one "
	    "update.\n"
	    "Sum into a local, then write it once to partial[k]; never += into a shared total.");
	/* Errors: parallel_sum */
	SUITE_TEST(test_parallel_sum_invalid, 1,
		   "What should parallel_sum() do with nthreads = 0?\n"
		   "Check the arguments before any work, as threads.h says: EINVAL, no thread "
		   "started, *result untouched.\n"
		   "if (nthreads < 1) { errno = EINVAL; return -1; } before writing *result.");
}
