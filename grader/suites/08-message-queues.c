/*
 * The hidden suite of lab 08: message queues, POSIX and System V.
 *
 * Every test works on real queues named after the test process's pid
 * ("/ipclab08-PID-tag"), so that two runs at once never meet; the sandbox
 * also gives each test its own IPC namespace. What the student's code is
 * checked against comes from the kernel itself: the queue's attributes read
 * back with mq_getattr, messages sent or taken with the raw mq_send and
 * mq_receive by another process, /dev/mqueue where it is mounted, and
 * /proc/sysvipc/msg. Calls that a wrong solution could block in run on a
 * helper thread or in a child process with a deadline, so that a hang is
 * reported with its cause. wq_run runs in a child, "the runner", leader of
 * its own process group: on a hang the test looks at who is still running
 * and what the queue holds, says why, and kills the group.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msgqueue.h"
#include "suite.h"

#define MQUEUE_MAGIC 0x19800202 /* statfs's f_type of an mqueue file system */
#define CALL_MS      2000       /* how long one call of the student's may take */
#define RUN_MS       4000       /* how long wq_run may take */
#define PRODUCERS    4          /* producers in the exactly-once run */
#define PER_PROD     100        /* tasks each of them puts */
#define TASK_MAX     64         /* msgsize of the run's queue */
#define TASK_MAGIC   0x7a5c     /* first bytes of every task the suite makes */
#define SV_PEERS     3          /* System V producers, and as many consumers */
#define SV_COUNT     200        /* messages each producer sends */
#define SV_SIZE      48         /* bytes of each */
#define MAX_NAMES    8          /* queue names one test uses */
#define MAX_IDS      8          /* System V queues one test creates */

/* A task of the runs: who made it, its number, and bytes that say both. */
struct task {
	unsigned short magic; /* TASK_MAGIC */
	unsigned char producer;
	unsigned char len; /* the task's whole length */
	int seq;           /* its number for its producer */
	unsigned char fill[TASK_MAX - 8];
};

/* What the test and its children share: one anonymous shared page. */
struct shared {
	/* One call made in a child. */
	long ret;        /* what it returned */
	int err;         /* errno after it */
	long elapsed_ms; /* how long it took */
	/* The join test. */
	volatile int done; /* tasks the consumer child has marked done */
	int consumer_err;  /* an error the consumer child met, or 0 */
	/* The runs of wq_run. */
	int counts[PRODUCERS][PER_PROD]; /* how often each task was handled */
	int bad;                         /* tasks that came out damaged */
	char bad_text[128];              /* the first of them, described */
	int pills_consumed;              /* empty tasks handed to consume() */
	int fail_seq;                    /* consume() fails for this task number, or -1 */
	int per_prod;                    /* tasks each producer puts in this run */
	int produce_delay_ms;            /* a producer waits this long before its first put */
	int consume_delay_ms;            /* consume() takes this long per task */
	int put_err;                     /* errno of a producer's failed wq_put, or 0 */
	pid_t producer_pid[PRODUCERS];   /* the producers, as they said */
	int producers_done;              /* producers that finished putting */
	volatile int run_returned;       /* wq_run returned in the runner */
	int run_ret;                     /* what it returned */
	int run_err;                     /* errno after it */
	int run_children;                /* children of the runner when it returned */
	/* System V. */
	int sv_got[SV_PEERS];     /* messages consumer c received */
	int sv_bad[SV_PEERS];     /* of them, wrong ones */
	char sv_bad_text[128];    /* the first wrong one, described */
	int sv_err[2 * SV_PEERS]; /* errno of a failed call, per child */
};

static struct shared *sh;
static pid_t test_pid;
static char names[MAX_NAMES][64]; /* queue names to unlink at the end */
static int ids[MAX_IDS];          /* System V queues to remove at the end */
static int nnames, nids;

/* ==== Small helpers ==== */

/* An errno's name for a message; "-" when there is none. */
static const char *ename(int e)
{
	return e ? err_name(e) : "-";
}

/* atexit: whatever happened, leave no queue of ours behind. */
static void cleanup_at_exit(void)
{
	if (getpid() != test_pid)
		return;
	for (int i = 0; i < nnames; i++)
		mq_unlink(names[i]);
	for (int i = 0; i < nids; i++)
		msgctl(ids[i], IPC_RMID, NULL);
}

static struct shared *shared_page(void)
{
	static int registered;

	if (!sh) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
		ck_assert_msg(sh != MAP_FAILED, "suite: mmap failed");
	}
	memset(sh, 0, sizeof(*sh));
	sh->fail_seq = -1;
	test_pid = getpid();
	if (!registered++)
		atexit(cleanup_at_exit);
	return sh;
}

/* A queue name of this test: "/ipclab08-PID-tag". */
static const char *qname(const char *tag)
{
	char *name = names[nnames < MAX_NAMES ? nnames++ : MAX_NAMES - 1];

	snprintf(name, sizeof(names[0]), "/ipclab08-%d-%s", (int)getpid(), tag);
	mq_unlink(name); /* a leftover of an earlier run with the same pid */
	return name;
}

static void track_id(int id)
{
	if (id >= 0 && nids < MAX_IDS)
		ids[nids++] = id;
}

/* Close the handle and remove the queue ourselves: the tests of removal are elsewhere. */
static void drop(struct wq *q, const char *name)
{
	wq_close(q);
	mq_unlink(name);
}

static long ms_since(uint64_t start)
{
	return (long)((clock_now_ns() - start) / 1000000u);
}

/* Byte i of task data, so that misplaced or cut bytes show. */
static unsigned char pattern_at(size_t i, int salt)
{
	return (unsigned char)(((uint32_t)(i + 1) * 2654435761u + (uint32_t)salt * 40503u) >> 24);
}

static void pattern_fill(void *buf, size_t n, int salt)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)buf)[i] = pattern_at(i, salt);
}

/* Why the queue name is still in use, or NULL when it is gone. */
static const char *mq_left(const char *name)
{
	struct mq_attr small = {.mq_maxmsg = 1, .mq_msgsize = 1};
	struct statfs fs;
	struct stat st;
	char path[128];
	mqd_t mq;

	snprintf(path, sizeof(path), "/dev/mqueue%s", name);
	if (statfs("/dev/mqueue", &fs) == 0 && fs.f_type == MQUEUE_MAGIC && stat(path, &st) == 0)
		return "is still listed in /dev/mqueue";
	mq = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &small);
	if (mq == (mqd_t)-1)
		return errno == EEXIST ? "still exists: mq_open(name, O_CREAT | O_EXCL) fails "
					 "with EEXIST"
				       : NULL;
	mq_close(mq);
	mq_unlink(name);
	return NULL;
}

/* ==== Calls with a deadline, on a helper thread ==== */

enum op_kind { PUT, GET, JOIN, SV_RECV };

/* One call of the student's, and what it gave. */
struct op {
	enum op_kind kind; /* which function */
	struct wq *q;      /* the queue (POSIX) */
	int id;            /* the queue (System V) */
	void *buf;         /* the task, or the buffer */
	size_t len;        /* the task's length, or the buffer's capacity */
	unsigned prio;     /* priority to put, or the one got */
	long timeout;      /* timeout_ms, or svq_recv's type */
	int wait;          /* svq_recv's wait */
	long type;         /* svq_recv's *type_out */
	ssize_t ret;       /* what it returned */
	int err;           /* errno after it */
	long ms;           /* how long it took */
	int done;          /* wq_join: tasks the consumer child had marked done when it returned */
};

static void *op_thread(void *arg)
{
	struct op *o = arg;
	uint64_t start = clock_now_ns();

	errno = 0;
	if (o->kind == PUT)
		o->ret = wq_put(o->q, o->buf, o->len, o->prio, o->timeout);
	else if (o->kind == GET)
		o->ret = wq_get(o->q, o->buf, o->len, &o->prio, o->timeout);
	else if (o->kind == JOIN)
		o->ret = wq_join(o->q), o->done = sh->done;
	else
		o->ret = svq_recv(o->id, o->timeout, o->buf, o->len, &o->type, o->wait);
	o->err = errno;
	o->ms = ms_since(start);
	if (getpid() != test_pid)
		_exit(0); /* a child came back out of the student's call */
	return NULL;
}

/* Make call o on a helper thread. 1 when it returned within ms (o is then filled in), else 0. */
static int op_try(struct op *o, long ms)
{
	static struct op hung; /* a thread that hangs keeps using its op: give it one that lives */
	struct timespec until;
	pthread_t t;

	hung = *o;
	xpthread_create(&t, op_thread, &hung);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += ms % 1000 * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	if (pthread_timedjoin_np(t, NULL, &until) != 0)
		return 0;
	*o = hung;
	errno = o->err;
	return 1;
}

/* Make call o within ms; if it hangs, fail saying what and why. Returns o->ret, errno set. */
static ssize_t op_within(struct op *o, long ms, const char *what, const char *why)
{
	if (!op_try(o, ms))
		ck_abort_msg("%s had not returned after %ld ms: %s", what, ms, why);
	return o->ret;
}

static int call_put(struct wq *q, const void *task, size_t len, unsigned prio, long timeout,
		    long *ms, const char *what)
{
	struct op o = {
	    .kind = PUT, .q = q, .buf = (void *)task, .len = len, .prio = prio, .timeout = timeout};
	int r =
	    (int)op_within(&o, CALL_MS, what,
			   timeout < 0 ? "the queue had room: is the task sent to the right "
					 "queue, with the right length?"
				       : "with a timeout, wq_put() must give up with ETIMEDOUT.");

	if (ms)
		*ms = o.ms;
	return r;
}

static ssize_t call_get(struct wq *q, void *buf, size_t cap, unsigned *prio, long timeout, long *ms,
			const char *what)
{
	struct op o = {.kind = GET, .q = q, .buf = buf, .len = cap, .timeout = timeout};
	ssize_t r =
	    op_within(&o, CALL_MS, what,
		      timeout < 0 ? "the queue held a task: does wq_get() read the queue "
				    "wq_create() made?"
				  : "with a timeout, wq_get() must give up with ETIMEDOUT "
				    "(timeout 0: at once). mq_timedreceive() takes an absolute "
				    "deadline on CLOCK_REALTIME.");

	if (prio)
		*prio = o.prio;
	if (ms)
		*ms = o.ms;
	return r;
}

/* ==== Children ==== */

/* Run fn(arg) in a child that leads its own process group, so that a hang can be killed whole. */
static pid_t start_group(void (*fn)(void *), void *arg)
{
	pid_t pid = proc_run(fn, arg);

	if (pid > 0)
		setpgid(pid, pid); /* the child does the same: whichever runs first */
	return pid;
}

/* Kill a child's whole group and reap the child. Keeps errno, which the caller may report. */
static void kill_group(pid_t pid)
{
	int err = errno;

	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	proc_wait_timeout(pid, NULL, -1);
	errno = err;
}

/* Wait up to ms for child pid. 1 when it ended (reaped), 0 when it is still running. */
static int await_child(pid_t pid, long ms, int *status)
{
	return proc_wait_timeout(pid, status, ms) == 0;
}

/* Processes whose parent is pid and that still run (not zombies). */
static int running_children(pid_t pid)
{
	return proc_count_children(pid) - proc_count_zombies(pid);
}

static int is_running(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The system call process pid waits in, in words; "" when unknown. */
static const char *waiting_in(pid_t pid)
{
	char path[64], line[64];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(line, sizeof(line), f) && strncmp(line, "running", 7) != 0)
			nr = strtol(line, NULL, 10);
		fclose(f);
	}
	if (nr == SYS_wait4)
		return "waitpid()";
	if (nr == SYS_futex)
		return "a lock or condition variable (wq_join?)";
	if (nr == SYS_mq_timedsend)
		return "mq_send()";
	if (nr == SYS_mq_timedreceive)
		return "mq_receive()";
	return nr < 0 ? "no system call (running)" : "another system call";
}

/* ==== Part 1: create, put, get ==== */

START_TEST(test_create_attrs)
{
	const char *name;
	struct mq_attr attr;
	struct wq *q, *q2;
	const char *left;
	mqd_t mq;
	int r;

	shared_page();
	name = qname("attrs");
	q = wq_create(name, 5, 100);
	ck_assert_msg(q != NULL, "wq_create(\"%s\", 5, 100) returned NULL (errno %s).", name,
		      ename(errno));
	mq = mq_open(name, O_RDONLY);
	ck_assert_msg(mq != (mqd_t)-1,
		      "after wq_create(\"%s\", ...), mq_open of that name fails (%s): create the "
		      "queue under the name you were given.",
		      name, ename(errno));
	mq_getattr(mq, &attr);
	mq_close(mq);
	ck_assert_msg(
	    attr.mq_maxmsg == 5 && attr.mq_msgsize == 100,
	    "the queue holds %ld messages of %ld bytes, expected 5 of 100: give mq_open() "
	    "a struct mq_attr with mq_maxmsg and mq_msgsize, or you get the defaults.",
	    (long)attr.mq_maxmsg, (long)attr.mq_msgsize);
	errno = 0;
	q2 = wq_create(name, 5, 100);
	if (q2)
		wq_close(q2);
	ck_assert_msg(
	    !q2 && errno == EEXIST,
	    "a second wq_create() of the same name %s (errno %s), expected NULL with "
	    "EEXIST: open with O_CREAT | O_EXCL, never reuse a queue that already exists.",
	    q2 ? "succeeded" : "failed", ename(errno));
	mq = mq_open(name, O_RDONLY);
	ck_assert_msg(mq != (mqd_t)-1,
		      "the second wq_create() failed as it should, but the first queue is gone: "
		      "a failing wq_create() must not mq_unlink a queue it did not create.");
	mq_close(mq);
	r = wq_destroy(q);
	ck_assert_msg(r == 0, "wq_destroy() returned %d (errno %s), expected 0.", r, ename(errno));
	left = mq_left(name);
	ck_assert_msg(!left, "after wq_destroy(), the queue %s %s: call mq_unlink(name).", name,
		      left);
	errno = 0;
	q = wq_create("ipclab08-no-slash", 5, 100);
	if (q)
		wq_destroy(q);
	ck_assert_msg(!q && errno == EINVAL,
		      "wq_create(\"ipclab08-no-slash\", ...) %s (errno %s), expected NULL with "
		      "EINVAL: a POSIX queue's name starts with '/' (mq_open says so itself).",
		      q ? "succeeded" : "failed", ename(errno));
	suite_check_leaks("wq_create() and wq_destroy()");
}
END_TEST

/* Take one task and check it is want, n bytes long. */
static void expect_task(struct wq *q, const void *want, size_t n, const char *which)
{
	unsigned char buf[TASK_MAX];
	unsigned prio;
	ssize_t r;

	memset(buf, 0xee, sizeof(buf));
	r = call_get(q, buf, sizeof(buf), &prio, -1, NULL, "wq_get() of a queue holding tasks");
	ck_assert_msg(
	    r == (ssize_t)n,
	    "wq_get() of %s returned %zd (errno %s), expected its length %zu: return what "
	    "mq_receive() returned; a task may hold NUL bytes, so never use strlen().",
	    which, r, r < 0 ? ename(errno) : "-", n);
	ck_assert_msg(memcmp(buf, want, n) == 0,
		      "wq_get() of %s returned the right length but other bytes: tasks must come "
		      "out as they went in, oldest first.",
		      which);
}

START_TEST(test_put_get_roundtrip)
{
	unsigned char full[TASK_MAX], buf[TASK_MAX];
	const char nul[] = "hello\0world";
	const char *name;
	struct wq *q;
	ssize_t r;

	shared_page();
	name = qname("roundtrip");
	q = wq_create(name, 4, TASK_MAX);
	ck_assert_msg(q != NULL, "wq_create() returned NULL (errno %s).", ename(errno));
	pattern_fill(full, sizeof(full), 1);
	full[10] = full[20] = 0;
	ck_assert_msg(call_put(q, "a", 1, 0, -1, NULL, "wq_put()") == 0 &&
			  call_put(q, full, TASK_MAX, 0, -1, NULL, "wq_put()") == 0 &&
			  call_put(q, nul, sizeof(nul) - 1, 0, -1, NULL, "wq_put()") == 0,
		      "wq_put() of a task of 1, 64 (= msgsize) or 11 bytes failed (errno %s).",
		      ename(errno));
	expect_task(q, "a", 1, "a 1-byte task");
	expect_task(q, full, TASK_MAX, "a task of exactly msgsize bytes, NULs inside");
	expect_task(q, nul, sizeof(nul) - 1, "\"hello\\0world\" (11 bytes)");
	r = call_put(q, full, TASK_MAX + 1, 0, -1, NULL, "wq_put() of a task too big");
	ck_assert_msg(r == -1 && errno == EMSGSIZE,
		      "wq_put() of 65 bytes into a queue of 64-byte messages returned %zd (errno "
		      "%s), expected -1 with EMSGSIZE.",
		      r, r < 0 ? ename(errno) : "-");
	call_put(q, "b", 1, 0, -1, NULL, "wq_put()");
	r = call_get(q, buf, TASK_MAX - 1, NULL, -1, NULL, "wq_get() with a buffer too small");
	ck_assert_msg(r == -1 && errno == EMSGSIZE,
		      "wq_get() with cap 63 from a queue of 64-byte messages returned %zd (errno "
		      "%s), expected -1 with EMSGSIZE (cap must be at least msgsize).",
		      r, r < 0 ? ename(errno) : "-");
	expect_task(q, "b", 1, "a task left in the queue by a wq_get() that failed");
	ck_assert_msg(call_put(q, "", 0, 0, -1, NULL, "wq_put() of a poison pill") == 0,
		      "wq_put() of a poison pill (len 0) failed (errno %s).", ename(errno));
	r = call_get(q, buf, TASK_MAX, NULL, -1, NULL, "wq_get() of a poison pill");
	ck_assert_msg(r == 0, "wq_get() of a poison pill returned %zd (errno %s), expected 0.", r,
		      r < 0 ? ename(errno) : "-");
	drop(q, name);
}
END_TEST

START_TEST(test_priorities)
{
	static const struct {
		const char *text;
		unsigned prio;
	} in[] = {{"low", 1}, {"high-1", 5}, {"mid", 3}, {"high-2", 5}, {"zero", 0}},
	  out[] = {{"high-1", 5}, {"high-2", 5}, {"mid", 3}, {"low", 1}, {"zero", 0}};
	char buf[TASK_MAX];
	const char *name;
	unsigned prio;
	struct wq *q;
	ssize_t r;

	shared_page();
	name = qname("prio");
	q = wq_create(name, 8, TASK_MAX);
	ck_assert_msg(q != NULL, "wq_create() returned NULL (errno %s).", ename(errno));
	for (int i = 0; i < 5; i++)
		ck_assert_msg(call_put(q, in[i].text, strlen(in[i].text), in[i].prio, -1, NULL,
				       "wq_put()") == 0,
			      "wq_put() failed (errno %s).", ename(errno));
	for (int i = 0; i < 5; i++) {
		prio = 99;
		r = call_get(q, buf, sizeof(buf), &prio, -1, NULL, "wq_get()");
		ck_assert_msg(
		    r == (ssize_t)strlen(out[i].text) && memcmp(buf, out[i].text, r) == 0 &&
			prio == out[i].prio,
		    "tasks put with priorities low 1, high-1 5, mid 3, high-2 5, zero 0: "
		    "take number %d was \"%.*s\" with priority %u, expected \"%s\" with %u. "
		    "The highest priority comes first, the oldest first among equals: pass "
		    "prio to mq_send and store what mq_receive gives in *prio.",
		    i + 1, r > 0 ? (int)r : 0, buf, prio, out[i].text, out[i].prio);
	}
	drop(q, name);
}
END_TEST

/* ==== Part 1: timeouts ==== */

/* Child: twice, 100 ms apart, send one task to the queue with the raw mq_send. */
static void send_later(void *arg)
{
	const char *name = arg;
	mqd_t mq = mq_open(name, O_WRONLY);

	for (int i = 0; i < 2; i++) {
		usleep(100000);
		if (mq == (mqd_t)-1 || mq_send(mq, "late", 4, 0) < 0)
			_exit(1);
	}
	_exit(0);
}

/* Child: twice, 100 ms apart, take one task from the queue with the raw mq_receive. */
static void receive_later(void *arg)
{
	const char *name = arg;
	mqd_t mq = mq_open(name, O_RDONLY);
	char buf[TASK_MAX];

	for (int i = 0; i < 2; i++) {
		usleep(100000);
		if (mq == (mqd_t)-1 || mq_receive(mq, buf, sizeof(buf), NULL) < 0)
			_exit(1);
	}
	_exit(0);
}

static void on_tick(int sig)
{
	(void)sig; /* the signal's arrival is the point */
}

/* Child: wq_get(timeout 300) on an empty queue while SIGALRM interrupts it every 10 ms. */
static void get_under_signals(void *arg)
{
	struct itimerval it = {{0, 10000}, {0, 10000}};
	struct sigaction sa;
	char buf[TASK_MAX];
	uint64_t start;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: mq_timedreceive fails with EINTR */
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	start = clock_now_ns();
	errno = 0;
	sh->ret = wq_get(arg, buf, sizeof(buf), NULL, 300);
	sh->err = errno;
	sh->elapsed_ms = ms_since(start);
	_exit(0);
}

/* What a wrong timeout looks like, from what wq_get or wq_put gave. */
static const char *timeout_advice(ssize_t r, int err, long ms)
{
	if (r < 0 && err == EINVAL)
		return "EINVAL from mq_timed*(): is tv_nsec of the deadline below 1000000000? "
		       "Carry "
		       "the overflow into tv_sec.";
	if (r < 0 && err == ETIMEDOUT && ms < 50)
		return "it gave up at once: the deadline is in the past. mq_timed*() want an "
		       "ABSOLUTE time on CLOCK_REALTIME — clock_gettime(CLOCK_REALTIME) plus the "
		       "timeout — not a relative time, not CLOCK_MONOTONIC.";
	if (r < 0 && err == EINTR)
		return "EINTR is not the end: call again, with the same deadline.";
	return "wait until the deadline, then fail with ETIMEDOUT.";
}

START_TEST(test_get_timeout)
{
	char buf[TASK_MAX];
	const char *name;
	struct wq *q;
	ssize_t r;
	long ms;
	int status;
	pid_t pid;

	shared_page();
	name = qname("get-timeout");
	q = wq_create(name, 4, TASK_MAX);
	ck_assert_msg(q != NULL, "wq_create() returned NULL (errno %s).", ename(errno));
	r = call_get(q, buf, sizeof(buf), NULL, 0, &ms, "wq_get(timeout 0) on an empty queue");
	ck_assert_msg(r == -1 && errno == ETIMEDOUT && ms < 500,
		      "wq_get(timeout 0) on an empty queue returned %zd (errno %s) after %ld ms, "
		      "expected -1 with ETIMEDOUT at once: %s",
		      r, r < 0 ? ename(errno) : "-", ms, timeout_advice(r, errno, 100));
	r = call_get(q, buf, sizeof(buf), NULL, 250, &ms, "wq_get(timeout 250) on an empty queue");
	ck_assert_msg(r == -1 && errno == ETIMEDOUT && ms >= 200 && ms < 1500,
		      "wq_get(timeout 250) on an empty queue returned %zd (errno %s) after %ld ms, "
		      "expected -1 with ETIMEDOUT after about 250 ms: %s",
		      r, r < 0 ? ename(errno) : "-", ms, timeout_advice(r, errno, ms));
	/* 1999 ms: tv_nsec overflows unless it is carried into tv_sec. */
	pid = proc_run(send_later, (void *)name);
	for (int i = 0; i < 2; i++) {
		r = call_get(
		    q, buf, sizeof(buf), NULL, 1999, &ms,
		    "wq_get(timeout 1999) while another process sends a task after 100 ms");
		if (r != 4)
			kill_group(pid);
		ck_assert_msg(
		    r == 4 && memcmp(buf, "late", 4) == 0,
		    "wq_get(timeout 1999) on a queue that gets a task after 100 ms returned "
		    "%zd (errno %s) after %ld ms, expected the 4-byte task: %s",
		    r, r < 0 ? ename(errno) : "-", ms, timeout_advice(r, errno, ms));
	}
	ck_assert_msg(await_child(pid, CALL_MS, &status) && status == 0,
		      "suite: the sending child failed");
	pid = proc_run(get_under_signals, q);
	if (!await_child(pid, CALL_MS, NULL)) {
		kill_group(pid);
		ck_abort_msg("wq_get(timeout 300), interrupted every 10 ms by a signal, had not "
			     "returned after %d ms: after EINTR, call again with the SAME deadline "
			     "(computed once, before the loop), or the wait starts over each time.",
			     CALL_MS);
	}
	ck_assert_msg(
	    sh->ret == -1 && sh->err == ETIMEDOUT && sh->elapsed_ms >= 250,
	    "wq_get(timeout 300), interrupted every 10 ms by a signal (no SA_RESTART), "
	    "returned %ld (errno %s) after %ld ms, expected -1 with ETIMEDOUT after about "
	    "300 ms: %s",
	    sh->ret, sh->ret < 0 ? ename(sh->err) : "-", sh->elapsed_ms,
	    timeout_advice(sh->ret, sh->err, sh->elapsed_ms));
	drop(q, name);
}
END_TEST

START_TEST(test_put_full_timeout)
{
	char buf[TASK_MAX];
	const char *name;
	struct wq *q;
	long ms;
	int r, status;
	pid_t pid;

	shared_page();
	name = qname("put-timeout");
	q = wq_create(name, 2, TASK_MAX);
	ck_assert_msg(q != NULL, "wq_create() returned NULL (errno %s).", ename(errno));
	ck_assert_msg(call_put(q, "A", 1, 0, -1, NULL, "wq_put()") == 0 &&
			  call_put(q, "B", 1, 0, -1, NULL, "wq_put()") == 0,
		      "wq_put() into a queue with room failed (errno %s).", ename(errno));
	r = call_put(q, "C", 1, 0, 0, &ms, "wq_put(timeout 0) into a full queue");
	ck_assert_msg(r == -1 && errno == ETIMEDOUT && ms < 500,
		      "wq_put(timeout 0) into a full queue returned %d (errno %s) after %ld ms, "
		      "expected -1 with ETIMEDOUT at once: %s",
		      r, r < 0 ? ename(errno) : "-", ms, timeout_advice(r, errno, 100));
	r = call_put(q, "C", 1, 0, 250, &ms, "wq_put(timeout 250) into a full queue");
	ck_assert_msg(r == -1 && errno == ETIMEDOUT && ms >= 200 && ms < 1500,
		      "wq_put(timeout 250) into a full queue returned %d (errno %s) after %ld ms, "
		      "expected -1 with ETIMEDOUT after about 250 ms: %s",
		      r, r < 0 ? ename(errno) : "-", ms, timeout_advice(r, errno, ms));
	pid = proc_run(receive_later, (void *)name);
	for (int i = 0; i < 2; i++) {
		r = call_put(
		    q, i ? "D" : "C", 1, 0, 1999, &ms,
		    "wq_put(timeout 1999) while another process takes a task after 100 ms");
		if (r != 0)
			kill_group(pid);
		ck_assert_msg(
		    r == 0,
		    "wq_put(timeout 1999) into a full queue that another process makes "
		    "room in after 100 ms returned %d (errno %s) after %ld ms, expected 0: %s",
		    r, r < 0 ? ename(errno) : "-", ms, timeout_advice(r, errno, ms));
	}
	ck_assert_msg(await_child(pid, CALL_MS, &status) && status == 0,
		      "suite: the receiving child failed");
	/* Four tasks went in (A to D), two puts failed: four task_done, and join is free. */
	for (int i = 0; i < 2; i++)
		call_get(q, buf, sizeof(buf), NULL, -1, NULL, "wq_get()");
	for (int i = 0; i < 4; i++)
		ck_assert_msg(wq_task_done(q) == 0,
			      "wq_task_done() number %d of 4, for 4 tasks put, failed (errno %s).",
			      i + 1, ename(errno));
	struct op join = {.kind = JOIN, .q = q};
	op_within(&join, 1000, "wq_join() after every task put was done",
		  "4 tasks went in and 4 were marked done; the 2 puts that failed with ETIMEDOUT "
		  "must not count: take a failed task back off the count.");
	drop(q, name);
}
END_TEST

/* ==== Part 1: task_done and join ==== */

/* Child: take the 3 tasks with the raw mq_receive; each is done 40 ms later. */
static void slow_consumer(void *arg)
{
	struct wq *q = arg;
	const char *name = names[nnames - 1];
	mqd_t mq = mq_open(name, O_RDONLY);
	char buf[TASK_MAX];

	for (int i = 0; i < 3; i++) {
		if (mq == (mqd_t)-1 || mq_receive(mq, buf, sizeof(buf), NULL) < 0) {
			sh->consumer_err = errno;
			_exit(1);
		}
		usleep(40000);
		sh->done++;
		if (wq_task_done(q) < 0) {
			sh->consumer_err = errno;
			_exit(1);
		}
	}
	_exit(0);
}

START_TEST(test_join_waits)
{
	struct op join = {.kind = JOIN};
	int done_at_join, r, status;
	const char *name;
	struct wq *q;
	pid_t pid;

	shared_page();
	name = qname("join");
	q = wq_create(name, 10, TASK_MAX);
	ck_assert_msg(q != NULL, "wq_create() returned NULL (errno %s).", ename(errno));
	join.q = q;
	r = (int)op_within(&join, 1000, "wq_join() with no task put",
			   "nothing is unfinished, so it must return at once.");
	ck_assert_msg(r == 0, "wq_join() with no task put returned %d (errno %s), expected 0.", r,
		      ename(errno));
	for (int i = 0; i < 3; i++)
		ck_assert_msg(call_put(q, "task", 4, 0, -1, NULL, "wq_put()") == 0,
			      "wq_put() failed (errno %s).", ename(errno));
	pid = proc_run(slow_consumer, q);
	if (!op_try(&join, CALL_MS)) {
		int finished = await_child(pid, 0, &status);

		if (!finished)
			kill_group(pid);
		ck_assert_msg(
		    sh->consumer_err == 0 || sh->done > 0,
		    "the consumer process could not take a task with mq_receive(buf of %d "
		    "bytes): %s. Was the queue made with the msgsize asked for?",
		    TASK_MAX, ename(sh->consumer_err));
		ck_abort_msg(
		    "wq_join() had not returned %d ms after a consumer process began "
		    "taking the 3 tasks; it had marked %d of them done%s. The count must live "
		    "in memory the processes share (mmap MAP_SHARED | MAP_ANONYMOUS in "
		    "wq_create, before any fork): a count in malloc'd memory changes only in "
		    "the process that calls wq_task_done. And wake the waiters when it drops "
		    "to 0 (pthread_cond_broadcast on a PTHREAD_PROCESS_SHARED condition).",
		    CALL_MS, sh->done, finished ? " and exited" : "");
	}
	done_at_join = join.done;
	ck_assert_msg(join.ret == 0, "wq_join() returned %zd (errno %s), expected 0.", join.ret,
		      ename(join.err));
	ck_assert_msg(done_at_join == 3,
		      "wq_join() returned when %d of the 3 tasks were done (the consumer process "
		      "takes each, works 40 ms, then calls wq_task_done): an empty queue is not "
		      "the end, tasks in hand are unfinished too. Count the unfinished tasks "
		      "(wq_put adds one, wq_task_done takes one away) and wait until it is 0.",
		      done_at_join);
	ck_assert_msg(await_child(pid, CALL_MS, &status) && status == 0,
		      "the consumer child failed: wq_task_done() gave %s.",
		      ename(sh->consumer_err));
	errno = 0;
	r = wq_task_done(q);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "a 4th wq_task_done() after 3 tasks returned %d (errno %s), expected -1 with "
		      "EINVAL: more task_done() than tasks is an error.",
		      r, ename(errno));
	drop(q, name);
}
END_TEST

/* ==== Part 2: producers and consumers ==== */

/* The producers of the runs: sh->per_prod tasks each, of several lengths and priorities. */
static int produce_tasks(struct wq *q, int id, void *arg)
{
	struct task t;

	(void)arg;
	sh->producer_pid[id] = getpid();
	usleep((useconds_t)sh->produce_delay_ms * 1000);
	for (int seq = 0; seq < sh->per_prod; seq++) {
		memset(&t, 0, sizeof(t));
		t.magic = TASK_MAGIC;
		t.producer = (unsigned char)id;
		t.seq = seq;
		t.len = (unsigned char)(8 + (seq * 7 + id * 13) % (TASK_MAX - 8 + 1));
		pattern_fill(t.fill, t.len - 8u, id * 1000 + seq);
		if (wq_put(q, &t, t.len, (unsigned)(seq % 4), -1) < 0) {
			sh->put_err = errno;
			return 1;
		}
	}
	__atomic_add_fetch(&sh->producers_done, 1, __ATOMIC_SEQ_CST);
	return 0;
}

/* Describe the first damaged task. */
static void bad_task(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_add_fetch(&sh->bad, 1, __ATOMIC_SEQ_CST) > 1)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->bad_text, sizeof(sh->bad_text), fmt, ap);
	va_end(ap);
}

/* The consumers' work: check the task, count it. */
static int consume_task(const void *task, size_t len, unsigned prio, void *arg)
{
	struct task t;

	(void)arg;
	if (len == 0) {
		__atomic_add_fetch(&sh->pills_consumed, 1, __ATOMIC_SEQ_CST);
		return 0;
	}
	memset(&t, 0, sizeof(t));
	memcpy(&t, task, len < sizeof(t) ? len : sizeof(t));
	if (len < 8 || t.magic != TASK_MAGIC || t.producer >= PRODUCERS || t.seq < 0 ||
	    t.seq >= sh->per_prod || t.len != len) {
		bad_task("a task of %zu bytes that no producer sent", len);
		return 0;
	}
	for (size_t i = 0; i < len - 8u; i++)
		if (t.fill[i] != pattern_at(i, t.producer * 1000 + t.seq)) {
			bad_task("task %d of producer %d, byte %zu wrong", t.seq, t.producer,
				 i + 8);
			return 0;
		}
	if (prio != (unsigned)(t.seq % 4))
		bad_task("task %d of producer %d with priority %u, put with %d", t.seq, t.producer,
			 prio, t.seq % 4);
	__atomic_add_fetch(&sh->counts[t.producer][t.seq], 1, __ATOMIC_SEQ_CST);
	usleep((useconds_t)sh->consume_delay_ms * 1000);
	return t.seq == sh->fail_seq ? 1 : 0;
}

/* The runner: wq_run in a child that leads its own process group. */
static void runner_main(void *arg)
{
	const struct wq_plan *plan = arg;
	int r;

	setpgid(0, 0);
	prctl(PR_SET_DUMPABLE, 1); /* so that the test may read /proc/PID/syscall */
	errno = 0;
	r = wq_run(plan);
	sh->run_err = errno;
	sh->run_ret = r;
	sh->run_children = proc_count_children(0);
	sh->run_returned = 1;
	_exit(0);
}

static int handled_total(int producers)
{
	int n = 0;

	for (int p = 0; p < producers; p++)
		for (int s = 0; s < sh->per_prod; s++)
			n += sh->counts[p][s] > 0;
	return n;
}

/* Why wq_run has not returned, from who still runs and what the queue holds. */
static void diagnose_run(pid_t runner, const struct wq_plan *plan, char *buf, size_t size)
{
	int all = plan->producers * sh->per_prod, handled = handled_total(plan->producers);
	int alive = running_children(runner), producers = 0;
	struct mq_attr attr = {0};
	long queued = -1;
	mqd_t mq = mq_open(plan->name, O_RDONLY);

	if (mq != (mqd_t)-1 && mq_getattr(mq, &attr) == 0)
		queued = attr.mq_curmsgs;
	if (mq != (mqd_t)-1)
		mq_close(mq);
	for (int p = 0; p < plan->producers; p++)
		producers += sh->producer_pid[p] > 0 && is_running(sh->producer_pid[p]);
	if (handled == all && alive == 0)
		snprintf(buf, size,
			 "every task was handled and every child has ended, but wq_run is still "
			 "waiting in %s: wait for your children by pid, once each.",
			 waiting_in(runner));
	else if (handled == all && alive > 0)
		snprintf(buf, size,
			 "every task was handled, yet %d consumer%s still running (wq_run waits "
			 "in %s) with %ld message%s in the queue: each consumer stops on ONE "
			 "poison pill, so put one pill per consumer, after wq_join().",
			 alive, alive == 1 ? " is" : "s are", waiting_in(runner), queued,
			 queued == 1 ? "" : "s");
	else if (producers > 0 && alive == producers)
		snprintf(buf, size,
			 "%d of %d tasks handled, every consumer has ended, and %d producer%s "
			 "blocked on a full queue (%ld messages in it): the consumers stopped "
			 "early. Put the pills only after the producers have ended and wq_join() "
			 "has returned; do not stop a consumer on an error it could retry.",
			 handled, all, producers, producers == 1 ? " is" : "s are", queued);
	else if (strstr(waiting_in(runner), "lock"))
		snprintf(
		    buf, size,
		    "%d of %d tasks handled, and wq_run waits in wq_join(): does each "
		    "consumer call wq_task_done() after each task (in the consumer process, so "
		    "the count must be in shared memory)?",
		    handled, all);
	else
		snprintf(buf, size,
			 "%d of %d tasks handled; %d children still running (%d producers); %ld "
			 "messages in the queue; wq_run waits in %s.",
			 handled, all, alive, producers, queued, waiting_in(runner));
}

/* Run the plan through wq_run in a runner; fail with a diagnosis when it hangs. */
static void run_plan(const struct wq_plan *plan)
{
	char why[512];
	pid_t runner = start_group(runner_main, (void *)plan);

	if (await_child(runner, RUN_MS, NULL))
		return;
	diagnose_run(runner, plan, why, sizeof(why));
	kill_group(runner);
	ck_abort_msg("wq_run() (%d producers, %d consumers, a queue of %ld tasks) had not "
		     "returned after %d ms: %s",
		     plan->producers, plan->consumers, plan->maxmsg, RUN_MS, why);
}

/* After a run: every task of every producer handled exactly once, nothing damaged. */
static void check_exactly_once(const struct wq_plan *plan)
{
	ck_assert_msg(sh->run_returned, "the runner process ended inside wq_run(): a child "
					"returned from wq_run or called exit()?");
	ck_assert_msg(sh->run_ret >= 0, "wq_run() returned %d (errno %s).", sh->run_ret,
		      ename(sh->run_err));
	ck_assert_msg(sh->put_err == 0, "a producer's wq_put() failed with %s.",
		      ename(sh->put_err));
	ck_assert_msg(sh->bad == 0, "%d task%s came out damaged: %s.", sh->bad,
		      sh->bad == 1 ? "" : "s", sh->bad_text);
	ck_assert_msg(sh->pills_consumed == 0,
		      "consume() was called %d time%s with an empty task: a poison pill (length "
		      "0) stops the consumer; it is not a task to handle.",
		      sh->pills_consumed, sh->pills_consumed == 1 ? "" : "s");
	for (int p = 0; p < plan->producers; p++)
		for (int s = 0; s < sh->per_prod; s++)
			ck_assert_msg(sh->counts[p][s] == 1,
				      "task %d of producer %d was handled %d times, expected once "
				      "(%d of %d tasks handled in all).",
				      s, p, sh->counts[p][s], handled_total(plan->producers),
				      plan->producers * sh->per_prod);
	ck_assert_msg(sh->run_children == 0,
		      "wq_run() returned while %d of its children were not yet reaped: wait for "
		      "every producer and every consumer.",
		      sh->run_children);
}

START_TEST(test_run_exactly_once)
{
	struct wq_plan plan = {NULL, 4, TASK_MAX, PRODUCERS, produce_tasks, 3, consume_task, NULL};

	shared_page();
	plan.name = qname("run");
	sh->per_prod = PER_PROD;
	run_plan(&plan);
	check_exactly_once(&plan);
	ck_assert_msg(sh->run_ret == 0,
		      "wq_run() returned %d, expected 0: every child exited with status 0.",
		      sh->run_ret);
}
END_TEST

START_TEST(test_run_poison_pills)
{
	struct wq_plan plan = {NULL, 10, TASK_MAX, 1, produce_tasks, 6, consume_task, NULL};

	shared_page();
	plan.name = qname("pills");
	sh->per_prod = 5;
	sh->fail_seq = 3;          /* consume() fails for this task: its consumer exits with 1 */
	sh->produce_delay_ms = 50; /* every consumer is waiting before the first task comes */
	sh->consume_delay_ms = 20; /* so the tasks spread over several consumers */
	run_plan(&plan);
	check_exactly_once(&plan);
	ck_assert_msg(sh->run_ret == 1,
		      "one consumer's consume() failed for one task, so that consumer exits with "
		      "1 and the others with 0; wq_run() returned %d (errno %s), expected 1: count "
		      "the children that did not exit with status 0.",
		      sh->run_ret, sh->run_ret < 0 ? ename(sh->run_err) : "-");
}
END_TEST

START_TEST(test_run_unlinks)
{
	struct wq_plan plan = {NULL, 4, TASK_MAX, 1, produce_tasks, 2, consume_task, NULL};
	struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 16};
	const char *left;
	mqd_t mine;

	shared_page();
	plan.name = qname("unlink");
	sh->per_prod = 3;
	run_plan(&plan);
	ck_assert_msg(sh->run_returned && sh->run_ret == 0,
		      "wq_run() returned %d (errno %s), expected 0.", sh->run_ret,
		      ename(sh->run_err));
	left = mq_left(plan.name);
	ck_assert_msg(!left,
		      "after wq_run() returned, its queue %s %s: remove it with mq_unlink "
		      "(wq_destroy) before returning, or it stays until the machine reboots.",
		      plan.name, left);
	/* A queue that exists already is not wq_run's: EEXIST, and it stays as it was. */
	shared_page();
	plan.name = qname("not-yours");
	mine = mq_open(plan.name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	ck_assert_msg(mine != (mqd_t)-1 && mq_send(mine, "mine", 4, 0) == 0,
		      "suite: cannot make the test's own queue (%s)", ename(errno));
	run_plan(&plan);
	ck_assert_msg(sh->run_returned && sh->run_ret == -1 && sh->run_err == EEXIST,
		      "wq_run() on a name whose queue already exists returned %d (errno %s), "
		      "expected -1 with EEXIST.",
		      sh->run_ret, ename(sh->run_err));
	ck_assert_msg(mq_getattr(mine, &attr) == 0 && attr.mq_curmsgs == 1 && mq_left(plan.name),
		      "wq_run() failed on a queue that was not its own and then %s it: when "
		      "wq_create() fails, there is nothing of yours to remove.",
		      mq_left(plan.name) ? "emptied" : "removed");
	mq_close(mine);
	mq_unlink(plan.name);
}
END_TEST

/* ==== Part 3: System V ==== */

/* Receive with svq_recv within a deadline; fails the test if it hangs. */
static ssize_t call_recv(int id, long type, void *buf, size_t cap, long *type_out, int wait,
			 const char *what)
{
	struct op o = {
	    .kind = SV_RECV, .id = id, .buf = buf, .len = cap, .timeout = type, .wait = wait};
	ssize_t r = op_within(&o, CALL_MS, what,
			      wait ? "a message of that type was in the queue."
				   : "with wait 0, svq_recv() must not wait: IPC_NOWAIT.");

	*type_out = o.type;
	return r;
}

/* Receive one message and check its type, length and bytes. */
static void expect_msg(int id, long type, long want_type, const void *want, size_t n,
		       const char *which)
{
	unsigned char buf[512];
	long got = 0;
	ssize_t r = call_recv(id, type, buf, sizeof(buf), &got, 0, "svq_recv()");

	ck_assert_msg(r == (ssize_t)n && got == want_type,
		      "svq_recv(type %ld) returned %zd (errno %s) with type %ld, expected %s: %zu "
		      "bytes of type %ld. Type 0 takes the first message, a type > 0 the first of "
		      "that type, a type < 0 the first of the lowest type up to -type; the length "
		      "is msgrcv's, which counts the text only (never the long).",
		      type, r, r < 0 ? ename(errno) : "-", got, which, n, want_type);
	ck_assert_msg(memcmp(buf, want, n) == 0,
		      "svq_recv(type %ld) gave the right type and length but other bytes (%s).",
		      type, which);
}

START_TEST(test_sv_roundtrip_types)
{
	unsigned char big[300], buf[512];
	long type;
	ssize_t r;
	int id;

	shared_page();
	id = svq_create();
	track_id(id);
	ck_assert_msg(id >= 0, "svq_create() returned %d (errno %s).", id, ename(errno));
	pattern_fill(big, sizeof(big), 7);
	big[0] = big[100] = 0;
	ck_assert_msg(svq_send(id, 3, "three", 5) == 0 && svq_send(id, 1, "", 0) == 0 &&
			  svq_send(id, 2, big, sizeof(big)) == 0 && svq_send(id, 1, "one", 3) == 0,
		      "svq_send() failed (errno %s).", ename(errno));
	expect_msg(id, 0, 3, "three", 5, "the first message sent, \"three\"");
	expect_msg(id, 2, 2, big, sizeof(big), "the 300-byte message of type 2");
	expect_msg(id, -2, 1, "", 0, "the empty message of type 1");
	expect_msg(id, -5, 1, "one", 3, "\"one\", of type 1");
	r = call_recv(id, 0, buf, sizeof(buf), &type, 0, "svq_recv(wait 0) on an empty queue");
	ck_assert_msg(
	    r == -1 && errno == ENOMSG,
	    "svq_recv(wait 0) on an empty queue returned %zd (errno %s), expected -1 with "
	    "ENOMSG.",
	    r, r < 0 ? ename(errno) : "-");
	svq_send(id, 4, big, 100);
	r = call_recv(id, 4, buf, 50, &type, 0, "svq_recv() with a buffer too small");
	ck_assert_msg(r == -1 && errno == E2BIG,
		      "svq_recv() of a 100-byte message with cap 50 returned %zd (errno %s), "
		      "expected -1 with E2BIG: no MSG_NOERROR, a message is never cut.",
		      r, r < 0 ? ename(errno) : "-");
	expect_msg(id, 4, 4, big, 100, "the 100-byte message, still queued after E2BIG");
	errno = 0;
	ck_assert_msg(svq_send(id, 0, "x", 1) == -1 && errno == EINVAL,
		      "svq_send() of type 0 returned 0 or errno %s, expected -1 with EINVAL: a "
		      "type is 1 or more.",
		      ename(errno));
	msgctl(id, IPC_RMID, NULL); /* the removal has a test of its own */
}
END_TEST

/* Child: producer p sends SV_COUNT messages of type p + 1 to the queue. */
static void sv_producer(void *arg)
{
	int id = (int)(long)arg >> 4, p = (int)(long)arg & 15;
	unsigned char m[SV_SIZE];

	usleep(30000); /* the consumers are waiting before the first message comes */
	for (int seq = 0; seq < SV_COUNT; seq++) {
		pattern_fill(m, sizeof(m), p * 1000 + seq);
		memcpy(m, &seq, sizeof(seq));
		if (svq_send(id, p + 1, m, sizeof(m)) < 0) {
			sh->sv_err[p] = errno;
			_exit(1);
		}
	}
	_exit(0);
}

/* Child: consumer c takes SV_COUNT messages of type c + 1, in order. */
static void sv_consumer(void *arg)
{
	int id = (int)(long)arg >> 4, c = (int)(long)arg & 15;
	unsigned char m[SV_SIZE + 16], want[SV_SIZE];
	long type;

	for (int seq = 0; seq < SV_COUNT; seq++) {
		ssize_t r = svq_recv(id, c + 1, m, sizeof(m), &type, 1);

		if (r < 0) {
			sh->sv_err[SV_PEERS + c] = errno;
			_exit(1);
		}
		pattern_fill(want, sizeof(want), c * 1000 + seq);
		memcpy(want, &seq, sizeof(seq));
		if (r != SV_SIZE || type != c + 1 || memcmp(m, want, SV_SIZE) != 0) {
			if (sh->sv_bad[c]++ == 0)
				snprintf(sh->sv_bad_text, sizeof(sh->sv_bad_text),
					 "consumer of type %d got message %d as %zd bytes of type "
					 "%ld, expected %d bytes of type %d, number %d",
					 c + 1, seq, r, type, SV_SIZE, c + 1, seq);
		}
		sh->sv_got[c]++;
	}
	_exit(0);
}

START_TEST(test_sv_processes)
{
	pid_t pids[2 * SV_PEERS];
	int id, hung = 0;

	shared_page();
	id = svq_create();
	track_id(id);
	ck_assert_msg(id >= 0, "svq_create() returned %d (errno %s).", id, ename(errno));
	for (int i = 0; i < SV_PEERS; i++) {
		pids[SV_PEERS + i] = proc_run(sv_consumer, (void *)(long)(id << 4 | i));
		pids[i] = proc_run(sv_producer, (void *)(long)(id << 4 | i));
	}
	for (int i = 0; i < 2 * SV_PEERS; i++)
		if (!await_child(pids[i], hung ? 0 : RUN_MS, NULL)) {
			hung = 1;
			kill_group(pids[i]);
		}
	msgctl(id, IPC_RMID, NULL); /* the removal has a test of its own */
	for (int i = 0; i < 2 * SV_PEERS; i++)
		ck_assert_msg(
		    sh->sv_err[i] == 0, "%s %d's %s failed with %s: %s",
		    i < SV_PEERS ? "producer" : "consumer", i % SV_PEERS,
		    i < SV_PEERS ? "svq_send()" : "svq_recv(wait 1)", ename(sh->sv_err[i]),
		    i < SV_PEERS ? "a full queue is no error: without IPC_NOWAIT, msgsnd "
				   "waits for room."
				 : "with wait, msgrcv must wait for a message (no IPC_NOWAIT), "
				   "and try again after EINTR.");
	ck_assert_msg(!hung,
		      "%d producers sending %d messages each (the queue holds about 16 KiB) and %d "
		      "consumers each taking its own type had not finished after %d ms: consumers "
		      "got %d, %d and %d messages. Does svq_recv() pass the type to msgrcv?",
		      SV_PEERS, SV_COUNT, SV_PEERS, RUN_MS, sh->sv_got[0], sh->sv_got[1],
		      sh->sv_got[2]);
	for (int c = 0; c < SV_PEERS; c++)
		ck_assert_msg(sh->sv_bad[c] == 0, "%d wrong messages: %s.", sh->sv_bad[c],
			      sh->sv_bad_text);
}
END_TEST

/* Is the System V queue id listed in /proc/sysvipc/msg? */
static int listed(int id)
{
	FILE *f = fopen("/proc/sysvipc/msg", "r");
	char line[256];
	int key, msqid, found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %d", &key, &msqid) == 2 && msqid == id)
			found = 1;
	fclose(f);
	return found;
}

/* Child: wait for a message on a queue that the test then removes. */
static void sv_waiter(void *arg)
{
	char buf[64];
	long type;

	errno = 0;
	sh->ret = svq_recv((int)(long)arg, 0, buf, sizeof(buf), &type, 1);
	sh->err = errno;
	_exit(0);
}

START_TEST(test_sv_remove)
{
	struct msqid_ds ds;
	int id1, id2, r;
	pid_t pid;

	shared_page();
	id1 = svq_create();
	track_id(id1);
	id2 = svq_create();
	track_id(id2);
	ck_assert_msg(id1 >= 0 && id2 >= 0, "svq_create() returned %d (errno %s).",
		      id1 < 0 ? id1 : id2, ename(errno));
	ck_assert_msg(
	    id1 != id2,
	    "two calls of svq_create() returned the same queue %d: use IPC_PRIVATE, which "
	    "makes a new queue each time, not a fixed key.",
	    id1);
	ck_assert_msg(listed(id1) || access("/proc/sysvipc/msg", R_OK) < 0,
		      "suite: queue %d is not in /proc/sysvipc/msg", id1);
	pid = proc_run(sv_waiter, (void *)(long)id1);
	usleep(100000);
	r = svq_remove(id1);
	ck_assert_msg(r == 0, "svq_remove() returned %d (errno %s), expected 0.", r, ename(errno));
	if (!await_child(pid, CALL_MS, NULL)) {
		kill_group(pid);
		ck_abort_msg(
		    "a process waiting in svq_recv() on a queue that svq_remove() removed "
		    "had not returned after %d ms: msgrcv fails with EIDRM then; only EINTR "
		    "is worth trying again (or was the queue not removed at all?).",
		    CALL_MS);
	}
	ck_assert_msg(sh->ret == -1 && sh->err == EIDRM,
		      "svq_recv() waiting on a queue that was removed returned %ld (errno %s), "
		      "expected -1 with EIDRM.",
		      sh->ret, ename(sh->err));
	errno = 0;
	ck_assert_msg(msgctl(id1, IPC_STAT, &ds) < 0 && !listed(id1),
		      "after svq_remove(), msgctl(IPC_STAT) and /proc/sysvipc/msg still find queue "
		      "%d: call msgctl(id, IPC_RMID, NULL).",
		      id1);
	ck_assert_msg(svq_remove(id2) == 0 && msgctl(id2, IPC_STAT, &ds) < 0 && !listed(id2),
		      "after svq_remove() of the second queue %d, it is still there.", id2);
}
END_TEST

void suite_define(void)
{
	/* Part 1: a POSIX work queue. */
	SUITE_TEST(test_create_attrs, 2,
		   "Does your queue get the sizes asked for, and what if the name is taken?\n"
		   "Without a struct mq_attr, mq_open(3) uses the system's defaults; O_EXCL makes "
		   "it fail with EEXIST on a queue that exists: mq_overview(7).\n"
		   "mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr) with attr.mq_maxmsg and "
		   "attr.mq_msgsize set; mq_unlink(name) in wq_destroy.");
	SUITE_TEST(test_put_get_roundtrip, 2,
		   "Does a task with NUL bytes inside come back whole, and how big must the "
		   "receive buffer be?\n"
		   "A message is len bytes, not a string; mq_receive(3) fails with EMSGSIZE when "
		   "the buffer is smaller than the queue's msgsize.\n"
		   "Pass len to mq_send and return mq_receive's count, never strlen(); check cap "
		   ">= msgsize first (EMSGSIZE).");
	SUITE_TEST(test_priorities, 2,
		   "Where does the priority of a task go, and where does it come back?\n"
		   "A POSIX queue hands out the highest priority first, oldest first among equals: "
		   "mq_send(3), mq_receive(3).\n"
		   "Give prio to mq_send(), and pass prio to mq_receive() so it stores the task's "
		   "priority there.");
	SUITE_TEST(test_get_timeout, 2,
		   "What kind of time does mq_timedreceive() want: a duration or a moment?\n"
		   "It takes an absolute deadline on CLOCK_REALTIME; tv_nsec must stay below 10^9: "
		   "mq_receive(3), clock_gettime(2).\n"
		   "Compute the deadline once, before the loop: clock_gettime(CLOCK_REALTIME), add "
		   "the ms, carry nanoseconds over; retry EINTR with the same deadline.");
	SUITE_TEST(test_put_full_timeout, 2,
		   "What does wq_put() do on a full queue, and does a failed put count as a task?\n"
		   "mq_timedsend(3) waits until the absolute deadline, then fails with ETIMEDOUT; "
		   "a task that never went in will never be done.\n"
		   "Count the task before mq_timedsend and take it back off the count if the send "
		   "fails (ETIMEDOUT or other).");
	SUITE_TEST(
	    test_join_waits, 3,
	    "When the queue is empty, are all tasks done?\n"
	    "Tasks taken but still handled are unfinished; the count must live in memory every "
	    "process shares: mmap(2) MAP_SHARED, pthread_cond_wait(3p).\n"
	    "Keep the count, a mutex and a condition in a MAP_SHARED mapping, both "
	    "PTHREAD_PROCESS_SHARED; wq_join waits while count > 0, wq_task_done broadcasts at 0.");

	/* Part 2: producers and consumers. */
	SUITE_TEST_EX(test_run_exactly_once, 3, 10, 0,
		      "When may the pills go in, and who waits for whom?\n"
		      "A pill sent before every task is done can stop a consumer too early; "
		      "wq_join() returns once every task is handled.\n"
		      "Start everyone; waitpid() the producers; wq_join(); then one pill per "
		      "consumer; waitpid() the consumers; wq_destroy().");
	SUITE_TEST_EX(
	    test_run_poison_pills, 2, 10, 0,
	    "How many pills stop all the consumers, and is a pill given to consume()?\n"
	    "Each consumer swallows one pill and stops; fewer pills leave some waiting forever.\n"
	    "Put one pill (len 0) per consumer; a consumer that gets 0 from wq_get stops without "
	    "calling consume(); count the children that did not exit 0.");
	SUITE_TEST_EX(
	    test_run_unlinks, 2, 10, 0,
	    "Is the queue still there after wq_run(), and whose queue do you remove on an error?\n"
	    "A POSIX queue stays in the system until mq_unlink(3); one that existed before your "
	    "wq_create is not yours: mq_overview(7).\n"
	    "Call wq_destroy() at the end; when wq_create fails with EEXIST, return -1 and remove "
	    "nothing.");

	/* Part 3: System V. */
	SUITE_TEST(test_sv_roundtrip_types, 2,
		   "What does the size given to msgsnd() and msgrcv() count?\n"
		   "The size counts the text only, not the long mtype; msgrcv's type 0, > 0 and < "
		   "0 choose differently: msgsnd(2).\n"
		   "Use struct { long mtype; char mtext[SVQ_MSG_MAX]; } and pass len; IPC_NOWAIT "
		   "only when not waiting; type < 1 to svq_send is EINVAL.");
	SUITE_TEST_EX(
	    test_sv_processes, 2, 10, 0,
	    "Does a consumer wait for its own type of message, and a producer for room?\n"
	    "Without IPC_NOWAIT, msgsnd(2) waits while the queue is full and msgrcv waits for a "
	    "message of the type asked for.\n"
	    "No IPC_NOWAIT when wait is set; pass type straight to msgrcv(); retry on EINTR.");
	SUITE_TEST(test_sv_remove, 2,
		   "Do two calls of svq_create() give two queues, and is the queue gone after "
		   "svq_remove()?\n"
		   "IPC_PRIVATE makes a new queue every time; a System V queue lives until "
		   "removed: msgget(2), msgctl(2).\n"
		   "msgget(IPC_PRIVATE, IPC_CREAT | 0600) to create; msgctl(id, IPC_RMID, NULL) to "
		   "remove.");
}
