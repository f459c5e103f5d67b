/*
 * The main program of every lab's test binary: the student's code, the
 * toolkit's header and the hidden suite are linked with this file.
 *
 *	test-binary --list        describe the tests (name, points, timeout, hint)
 *	test-binary --run NAME    run one test and report its result
 *	test-binary --all         run every test, for a person to read
 *
 * Records go to the descriptor named by IPCLAB_RESULT_FD (the grader's
 * private pipe), or to stdout, one a line, fields separated by tabs:
 *	test    name  points  timeout  hint
 *	result  name  status  message
 *	xray    name  text    (after a failed test's result, when there is one)
 * Nothing the student's code prints can forge a record: that code runs only
 * in Check's test child, which closes the result descriptor first. A test
 * passes only when its child got to the end of the test and through the
 * leak checks: a child that exits early, even with status 0, has not passed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"
#include "xray.h"

#define MAX_TESTS         64
#define MAX_FDS           1024
#define DIAGNOSIS_SECONDS 3 /* Check's timeout runs this much past the test's, for gdb */
#define MAX_DIAGNOSED     6 /* processes looked at when a test hangs */

struct test_def {
	const char *name; /* the test function's name */
	int points;       /* its weight in the lab's score */
	double timeout;   /* seconds before Check kills it */
	unsigned flags;   /* enum suite_flags */
	const char *hint; /* what to look at when it fails */
	TCase *tcase;     /* one Check test case a test, so that each can run alone */
};

/* Shared between the runner and the test child that Check forks. */
struct test_page {
	pid_t test_pid;             /* the test child; any other pid in teardown is a stray copy */
	int finished;               /* the body and the leak checks ran to the end */
	int stray;                  /* a copy of the test process came back from a fork */
	unsigned char fds[MAX_FDS]; /* descriptors open when the test began */
	char diagnosis[2048];       /* where each thread was blocked when the time ran out */
	struct xray_known known;    /* what those descriptors point at, left out of X-rays */
	char xray_hang[XRAY_SIZE];  /* the X-ray the runner took when the time ran out */
	char xray_fail[XRAY_SIZE];  /* the X-ray the test process took before failing */
};

static struct test_def tests[MAX_TESTS];
static int ntests;
static int result_fd = -1;
static struct test_page *page;
static const struct test_def *current;

/* The most processes of our uid seen at once while a test ran (fork bombs). */
static atomic_int peak_procs;
static atomic_int watching;

/* ==== Declaring tests ==== */

TCase *suite_add(const char *name, int points, double timeout, unsigned flags, const char *hint)
{
	struct test_def *t;

	if (ntests == MAX_TESTS)
		err_die("suite: more than %d tests", MAX_TESTS);
	t = &tests[ntests++];
	t->name = name;
	t->points = points;
	t->timeout = timeout > 0 ? timeout : SUITE_DEFAULT_TIMEOUT;
	t->flags = flags;
	t->hint = hint ? hint : "";
	t->tcase = tcase_create(name);
	tcase_set_timeout(t->tcase, t->timeout + DIAGNOSIS_SECONDS);
	return t->tcase;
}

/* ==== Leak checks, in the test child ==== */

static void snapshot_fds(unsigned char *open)
{
	for (int fd = 0; fd < MAX_FDS; fd++)
		open[fd] = fcntl(fd, F_GETFD) >= 0;
}

static void check_fds(const char *what)
{
	char msg[512], target[128];
	int len = 0, leaked = 0;

	for (int fd = 0; fd < MAX_FDS; fd++) {
		if (page->fds[fd] || fcntl(fd, F_GETFD) < 0)
			continue;
		if (++leaked > 3)
			continue;
		if (proc_describe_fd(0, fd, target, sizeof(target)) < 0)
			strcpy(target, "?");
		len += snprintf(msg + len, sizeof(msg) - (size_t)len, "%s%d (%s)",
				leaked > 1 ? ", " : "", fd, target);
	}
	if (leaked)
		suite_xray();
	ck_assert_msg(leaked == 0,
		      "%s left %d file descriptor%s open: %s%s. Close every descriptor you open "
		      "once you are done with it.",
		      what, leaked, leaked > 1 ? "s" : "", msg, leaked > 3 ? ", ..." : "");
}

static void check_children(const char *what)
{
	int zombies = proc_count_zombies(0);
	int running = proc_count_children(0) - zombies;

	if (zombies || running)
		suite_xray();
	ck_assert_msg(zombies == 0,
		      "%s left %d zombie process%s: a child ended but nobody called waitpid() "
		      "for it.",
		      what, zombies, zombies > 1 ? "es" : "");
	ck_assert_msg(running == 0,
		      "%s returned while %d child process%s still running: wait for every child "
		      "you start.",
		      what, running, running > 1 ? "es were" : " was");
}

static void check_threads(const char *what)
{
	if (getenv("IPCLAB_SANITIZER"))
		return; /* the sanitizer runs threads of its own; the plain run checks this */
	int extra = proc_count_threads(0) - 1;

	if (extra > 0)
		suite_xray();
	ck_assert_msg(extra <= 0,
		      "%s returned while %d other thread%s still running: join every thread you "
		      "create.",
		      what, extra, extra > 1 ? "s were" : " was");
}

/* ==== IPC objects ==== */

#define IPC_LIST_SIZE 8192

/* Our uid's IPC objects, one "kind name" a line: what a test may leave behind. */
/* What ipc_list_folder lists of a folder: */
enum listing {
	LIST_IPC,     /* /dev/shm and /dev/mqueue: every entry is an IPC object */
	LIST_SPECIAL, /* the working folder: FIFOs and sockets only */
	LIST_TEMP,    /* /tmp: FIFOs, sockets, and files and folders left behind */
};

static void ipc_list_folder(char *buf, size_t size, const char *dir, enum listing what)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	size_t len = strlen(buf);

	if (!d)
		return;
	while ((e = readdir(d)) && len < size - 300) {
		const char *kind = NULL;

		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_uid != getuid())
			continue;
		if (S_ISFIFO(st.st_mode))
			kind = "FIFO";
		else if (S_ISSOCK(st.st_mode))
			kind = "socket file";
		else if (what == LIST_SPECIAL)
			continue;
		else if (what == LIST_TEMP)
			kind =
			    S_ISDIR(st.st_mode) ? "temporary folder /tmp/" : "temporary file /tmp/";
		else if (strcmp(dir, "/dev/mqueue") == 0)
			kind = "message queue /";
		else if (strncmp(e->d_name, "sem.", 4) == 0)
			kind = "named semaphore /dev/shm/";
		else
			kind = "shared memory object /dev/shm/";
		len += (size_t)snprintf(buf + len, size - len, "%s%s%s\n", kind,
					kind[strlen(kind) - 1] == '/' ? "" : " ", e->d_name);
	}
	closedir(d);
}

static void ipc_list_sysv(char *buf, size_t size, const char *kind, const char *what)
{
	char path[64], line[512];
	size_t len = strlen(buf);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sysvipc/%s", kind);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && len < size - 100) {
		long key, id;

		/* The header line does not parse; the owner is checked through the id. */
		if (sscanf(line, "%ld %ld", &key, &id) == 2)
			len +=
			    (size_t)snprintf(buf + len, size - len, "System V %s %ld\n", what, id);
	}
	fclose(f);
}

static void ipc_list(char *buf, size_t size)
{
	buf[0] = '\0';
	ipc_list_folder(buf, size, "/dev/shm", LIST_IPC);
	ipc_list_folder(buf, size, "/dev/mqueue", LIST_IPC);
	ipc_list_folder(buf, size, ".", LIST_SPECIAL);
	ipc_list_folder(buf, size, "/tmp", LIST_TEMP);
	ipc_list_sysv(buf, size, "shm", "shared memory segment");
	ipc_list_sysv(buf, size, "msg", "message queue");
	ipc_list_sysv(buf, size, "sem", "semaphore set");
}

static char ipc_before[IPC_LIST_SIZE];

/* The IPC objects made since the test began, one a line, into buf. Returns how many. */
static int ipc_new(char *buf, size_t size)
{
	char now[IPC_LIST_SIZE], *save = NULL;
	size_t len = 0;
	int n = 0;

	buf[0] = '\0';
	ipc_list(now, sizeof(now));
	for (char *line = strtok_r(now, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[300];

		snprintf(key, sizeof(key), "%s\n", line);
		if (strstr(ipc_before, key))
			continue;
		n++;
		if (len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s", key);
	}
	return n;
}

void suite_xray(void)
{
	char fresh[IPC_LIST_SIZE];
	pid_t self = getpid();

	if (self != page->test_pid)
		return; /* a copy of the test process that the student forked */
	ipc_new(fresh, sizeof(fresh));
	xray_take(page->xray_fail, sizeof(page->xray_fail), &self, 1, &page->known, fresh);
}

static void check_ipc(const char *what)
{
	char fresh[IPC_LIST_SIZE], msg[600] = "", *save = NULL;
	int leaked = ipc_new(fresh, sizeof(fresh)), shown = 0;
	size_t len = 0;

	for (char *line = strtok_r(fresh, "\n", &save); line && shown < 3 && len < sizeof(msg);
	     line = strtok_r(NULL, "\n", &save))
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s", shown++ ? ", " : "",
					line);
	if (leaked)
		suite_xray();
	ck_assert_msg(leaked == 0,
		      "%s left %d IPC object%s or temporary file%s behind: %s%s. Remove what you "
		      "create: shm_unlink, mq_unlink, sem_unlink, unlink for FIFOs, sockets and "
		      "files, IPC_RMID for System V.",
		      what, leaked, leaked > 1 ? "s" : "", leaked > 1 ? "s" : "", msg,
		      leaked > 3 ? ", ..." : "");
}

unsigned suite_seed(void)
{
	const char *env = getenv("IPCLAB_SEED");
	unsigned long seed = env ? strtoul(env, NULL, 10) : 1;

	return seed ? (unsigned)seed : 1;
}

void suite_check_leaks(const char *what)
{
	unsigned flags = current ? current->flags : 0;

	if (!(flags & SUITE_NO_CHILD_CHECK))
		check_children(what);
	if (!(flags & SUITE_NO_FD_CHECK))
		check_fds(what);
	if (!(flags & SUITE_NO_THREAD_CHECK))
		check_threads(what);
	if (!(flags & SUITE_NO_IPC_CHECK))
		check_ipc(what);
}

static void fixture_setup(void)
{
	if (result_fd > 2)
		close(result_fd); /* the student's code must never reach the grader's channel */
	/* Let the runner's gdb look at a test that hangs. */
	prctl(PR_SET_DUMPABLE, 1);
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY);
	page->test_pid = getpid();
	snapshot_fds(page->fds);
	for (int fd = 0; fd < MAX_FDS; fd++)
		if (page->fds[fd])
			xray_remember(&page->known, fd);
	ipc_list(ipc_before, sizeof(ipc_before));
}

static void fixture_teardown(void)
{
	if (getpid() != page->test_pid) {
		/* A child the student forked returned into the test: stop it here. */
		page->stray = 1;
		_exit(0);
	}
	suite_check_leaks("your code");
	page->finished = 1;
}

/* ==== Watching for fork bombs ==== */

static int count_own_processes(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	struct stat st;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' &&
		    fstatat(dirfd(d), e->d_name, &st, 0) == 0 && st.st_uid == getuid())
			n++;
	closedir(d);
	return n;
}

/* ==== Diagnosing a hang ==== */

/* True when pid descends from ancestor, following parent pids through /proc. */
static int descends_from(pid_t pid, pid_t ancestor)
{
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		char path[64], buf[512], *p;
		FILE *f;
		int ppid = 0;

		if (pid == ancestor)
			return 1;
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "r");
		if (!f)
			return 0;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
			return 0;
		pid = ppid;
	}
	return 0;
}

/* Run gdb on pid and return its backtraces of every thread (free it), or NULL. */
static char *backtraces(pid_t pid)
{
	char pidstr[16];
	int fds[2];
	pid_t gdb;
	char *text;

	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	if (pipe(fds) < 0)
		return NULL;
	gdb = fork();
	if (gdb == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execlp("timeout", "timeout", "-s", "KILL", "3", "gdb", "-nx", "-batch", "-p",
		       pidstr, "-ex", "thread apply all bt 16", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	text = gdb > 0 ? io_slurp(fds[0], 65536, NULL) : NULL;
	close(fds[0]);
	if (gdb > 0)
		waitpid(gdb, NULL, 0);
	return text;
}

/* The function name of a gdb frame line ("#2 0x... in NAME (...) at ..."), into name. */
static int frame_function(const char *line, char *name, size_t size)
{
	const char *p = strstr(line, " in ");

	p = p ? p + 4 : line + strspn(line, "#0123456789 ");
	size_t n = strcspn(p, " (@");

	snprintf(name, size, "%.*s", (int)(n < size ? n : size - 1), p);
	return name[0] != '\0';
}

/* A library function's public name: "___pthread_mutex_lock" is pthread_mutex_lock. */
static void public_name(char *name)
{
	char *p = name + strspn(name, "_");

	if (strncmp(p, "GI_", 3) == 0)
		p += 3 + strspn(p + 3, "_");
	memmove(name, p, strlen(p) + 1);
}

/*
 * Summarise one thread's frames: the library call it waits in (the frame
 * just inside the student's code) and the student's line that made it.
 */
static void summarise_thread(char *frames, pid_t pid, int thread, char *out, size_t size)
{
	char waiting[64] = "", last[64] = "", where[128] = "";

	for (char *line = strtok(frames, "\n"); line && !where[0]; line = strtok(NULL, "\n")) {
		char name[64];
		const char *at = strstr(line, " at ");

		if (line[0] != '#' || !frame_function(line, name, sizeof(name)))
			continue;
		/* The student's files were compiled by bare name: no '/' in the path. */
		if (at && !strchr(at + 4, '/')) {
			snprintf(where, sizeof(where), "%s (in %s)", at + 4, name);
			snprintf(waiting, sizeof(waiting), "%s", last);
		}
		snprintf(last, sizeof(last), "%s", name);
		public_name(last);
	}
	if (!where[0])
		return; /* a thread of the test itself, not of the student's code */
	size_t len = strlen(out);
	snprintf(out + len, size - len, "  process %d, thread %d: %s%s, called from %s\n", (int)pid,
		 thread, waiting[0] ? "waiting in " : "running", waiting, where);
}

/* Append where each thread of pid is, from gdb's backtraces, to out. */
static void diagnose_process(pid_t pid, char *out, size_t size)
{
	char *text = backtraces(pid), *thread;
	int n = 0;

	if (!text)
		return;
	/* gdb prints "Thread N (...):" then that thread's frames, for every thread. */
	for (thread = strstr(text, "\nThread "); thread && n < 8; n++) {
		char *next = strstr(thread + 1, "\nThread ");
		int number = atoi(thread + 8);

		if (next)
			*next = '\0';
		summarise_thread(thread, pid, number, out, size);
		thread = next;
		if (thread)
			*thread = '\n';
	}
	free(text);
}

/* Record where every thread of the test's processes is blocked. */
static void diagnose_hang(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!d)
		return;
	while ((e = readdir(d)) && n < MAX_DIAGNOSED) {
		pid_t pid = atoi(e->d_name);

		if (pid > 0 && page->test_pid > 0 && descends_from(pid, page->test_pid)) {
			diagnose_process(pid, page->diagnosis, sizeof(page->diagnosis));
			n++;
		}
	}
	closedir(d);
}

/* The X-ray of the test's processes as its time runs out, before anything is killed. */
static void xray_at_timeout(void)
{
	char fresh[IPC_LIST_SIZE];
	pid_t root = page->test_pid;

	if (root <= 0)
		return; /* the test process has not started */
	ipc_new(fresh, sizeof(fresh));
	xray_take(page->xray_hang, sizeof(page->xray_hang), &root, 1, &page->known, fresh);
}

struct watch_args {
	long limit;  /* the process limit to watch for a fork bomb (0: none) */
	double hang; /* seconds after which the test counts as hung */
};

/* The watcher: counts our processes (fork bombs) and diagnoses a hang once. */
static void *watch_processes(void *arg)
{
	const struct watch_args *w = arg;
	uint64_t start = clock_now_ns();
	int diagnosed = 0;

	while (watching) {
		if (w->limit) {
			int n = count_own_processes();

			if (n > peak_procs)
				peak_procs = n;
		}
		if (!diagnosed && (double)(clock_now_ns() - start) / 1e9 >= w->hang) {
			diagnosed = 1;
			xray_at_timeout(); /* first: gdb stops every process it looks at */
			diagnose_hang();
		}
		clock_sleep_ms(25);
	}
	return NULL;
}

/* The process limit, or 0 when there is none worth watching. */
static long process_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NPROC, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 4096)
		return 0;
	return (long)rl.rlim_cur;
}

/* ==== Comparing text: a unified diff for the message ==== */

#define DIFF_LINES   400 /* lines compared at most (after the common head and tail) */
#define DIFF_CONTEXT 2   /* unchanged lines shown around a change */
#define DIFF_SHOWN   24  /* diff lines shown at most */

struct text_lines {
	const char *at[DIFF_LINES + 1]; /* where each line starts */
	int len[DIFF_LINES + 1];        /* its length, without the newline */
	int n;
};

/* Cut text into at most DIFF_LINES lines, from line skip on. */
static void split_lines(const char *text, size_t size, int skip, struct text_lines *L)
{
	const char *p = text, *end = text + size;

	L->n = 0;
	for (int line = 0; p < end && L->n < DIFF_LINES; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;

		if (line >= skip) {
			L->at[L->n] = p;
			L->len[L->n++] = (int)(stop - p);
		}
		p = nl ? nl + 1 : end;
	}
}

static int same_line(const struct text_lines *a, int i, const struct text_lines *b, int j)
{
	return a->len[i] == b->len[j] && memcmp(a->at[i], b->at[j], (size_t)a->len[i]) == 0;
}

/* Append one diff line (mark, then the line cut to 100 bytes) to out. */
static void diff_line(char *out, size_t size, char mark, const char *s, int len)
{
	size_t o = strlen(out);

	if (mark == '@') /* a gap between two changes */
		snprintf(out + o, size - o, "\n@@");
	else
		snprintf(out + o, size - o, "\n%c %.*s%s", mark, len > 100 ? 100 : len, s,
			 len > 100 ? "..." : "");
}

/*
 * A unified diff of a and b (whose first skip lines are equal) into out:
 * longest common subsequence by dynamic programming, then a walk that prints
 * changes with DIFF_CONTEXT lines around them, DIFF_SHOWN lines at most.
 */
static void unified_diff(const struct text_lines *a, const struct text_lines *b, int skip,
			 char *out, size_t size)
{
	static unsigned short lcs[DIFF_LINES + 1][DIFF_LINES + 1];
	int i = 0, j = 0, shown = 0, last = -100;

	for (int x = a->n; x >= 0; x--)
		for (int y = b->n; y >= 0; y--)
			lcs[x][y] =
			    x == a->n || y == b->n ? 0
			    : same_line(a, x, b, y)
				? lcs[x + 1][y + 1] + 1
				: (lcs[x + 1][y] > lcs[x][y + 1] ? lcs[x + 1][y] : lcs[x][y + 1]);
	snprintf(out, size, "--- expected\n+++ got");
	while ((i < a->n || j < b->n) && shown < DIFF_SHOWN) {
		int change = !(i < a->n && j < b->n && same_line(a, i, b, j));
		int near = 0;

		for (int k = 1; !change && k <= DIFF_CONTEXT && !near; k++)
			near = i + k <= a->n && j + k <= b->n &&
			       (i + k == a->n || j + k == b->n || !same_line(a, i + k, b, j + k));
		if (!change && (near || i - last <= DIFF_CONTEXT)) {
			if (i - last > DIFF_CONTEXT + 1 && last >= -1)
				diff_line(out, size, '@', "", 0);
			diff_line(out, size, ' ', a->at[i], a->len[i]);
			i++, j++, shown++;
			continue;
		}
		if (!change) {
			i++, j++;
			continue;
		}
		if (j < b->n && (i == a->n || lcs[i][j + 1] >= lcs[i + 1][j]))
			diff_line(out, size, '+', b->at[j], b->len[j]), j++;
		else
			diff_line(out, size, '-', a->at[i], a->len[i]), i++;
		last = i;
		shown++;
	}
	if (i < a->n || j < b->n)
		snprintf(out + strlen(out), size - strlen(out), "\n  (more differences follow)");
	if (skip)
		snprintf(out + strlen(out), size - strlen(out),
			 "\n  (the first %d lines are the same)", skip);
}

void suite_same_text(const char *what, const char *expected, size_t elen, const char *got,
		     size_t glen)
{
	static struct text_lines a, b;
	static char diff[4096];
	int skip = 0;
	const char *p = expected, *q = got;

	if (elen == glen && memcmp(expected, got, elen) == 0)
		return;
	/* Skip the lines both start with, so that the diff begins near the first change. */
	while (p < expected + elen && q < got + glen) {
		const char *nl = memchr(p, '\n', (size_t)(expected + elen - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : 0;

		if (!nl || q + n > got + glen || memcmp(p, q, n) != 0)
			break;
		p += n, q += n, skip++;
	}
	skip = skip > DIFF_CONTEXT ? skip - DIFF_CONTEXT : 0;
	split_lines(expected, elen, skip, &a);
	split_lines(got, glen, skip, &b);
	unified_diff(&a, &b, skip, diff, sizeof(diff));
	ck_abort_msg("%s. Expected %zu bytes, got %zu:\n%s", what, elen, glen, diff);
}

/* ==== Records ==== */

/* Write s with tabs, newlines and backslashes escaped, so a record stays one line. */
static void put_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\t')
			fputs("\\t", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, out);
	}
}

static void emit(FILE *out, const char *kind, const struct test_def *t, const char *status,
		 const char *msg)
{
	fprintf(out, "%s\t%s\t", kind, t->name);
	if (status) {
		fprintf(out, "%s\t", status);
		put_escaped(out, msg);
	} else {
		fprintf(out, "%d\t%g\t%d\t", t->points, t->timeout,
			t->flags & SUITE_SEEDED ? 3 : 1);
		put_escaped(out, t->hint);
	}
	fputc('\n', out);
	fflush(out);
}

/*
 * After a failed test's result, the X-ray of its processes when it failed:
 * the runner's at a timeout, else the test process's own (a leak check,
 * or a suite's deadline). Nothing when there is none.
 */
static void emit_xray(FILE *out, const struct test_def *t, const char *status)
{
	const char *text = strcmp(status, "timeout") == 0 ? page->xray_hang : page->xray_fail;

	if (strcmp(status, "pass") == 0 || !text[0])
		return;
	fprintf(out, "xray\t%s\t", t->name);
	put_escaped(out, text);
	fputc('\n', out);
	fflush(out);
}

/* ==== Running ==== */

/* What a crash's signal usually means, for the message. */
static const char *signal_advice(const char *m)
{
	if (strstr(m, "signal 11"))
		return "a bad pointer: NULL, freed, or past the end of an array?";
	if (strstr(m, "signal 6"))
		return "abort(): a failed assert(), or memory corrupted before free()?";
	if (strstr(m, "signal 13"))
		return "SIGPIPE: a write to a pipe or socket nobody reads any more?";
	if (strstr(m, "signal 7"))
		return "SIGBUS: a mapping beyond the end of its file or object?";
	if (strstr(m, "signal 9"))
		return "killed: memory or CPU limit reached?";
	return "see the output below.";
}

/* Turn Check's verdict and our page into a status and a message (in buf when composed). */
static const char *classify(const struct test_def *t, TestResult *tr, const char **msg, char *buf,
			    size_t size)
{
	const char *m = tr_msg(tr) ? tr_msg(tr) : "";

	*msg = m;
	if (page->stray) {
		*msg = "A child process returned from your function and ran the rest of the test: "
		       "end every child with _exit() (or exec) so that it never returns to the "
		       "caller.";
		return "fail";
	}
	switch (tr_rtype(tr)) {
	case CK_PASS:
		if (page->finished)
			return "pass";
		*msg =
		    "The test process ended before the test finished (exit() called with status 0 "
		    "inside the code under test?).";
		return "error";
	case CK_FAILURE:
		return "fail";
	default:
		break;
	}
	if (strstr(m, "timeout")) {
		snprintf(
		    buf, size,
		    "The test did not finish within %g seconds: an endless loop, a deadlock, or a "
		    "read that never sees end of file?%s%s",
		    t->timeout,
		    page->diagnosis[0] ? "\nWhere each thread was at that moment:\n" : "",
		    page->diagnosis);
		*msg = buf;
		return "timeout";
	}
	if (strncmp(m, "Received signal", 15) == 0) {
		snprintf(buf, size, "Your code crashed. %s: %s", m, signal_advice(m));
		*msg = buf;
		return "crash";
	}
	return "error";
}

/* ==== A private working folder ==== */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int folder_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	if (d)
		closedir(d);
	return d && empty;
}

/*
 * Every test runs in an empty folder of its own. The sandbox gives it one;
 * run by hand (make suite) the folder is the toolkit's, so the runner makes
 * a temporary one, and removes it after the test. Returns a descriptor of
 * the folder to come back to, or -1 when nothing was changed.
 */
static int enter_private_folder(char *dir, size_t size)
{
	int back;

	dir[0] = '\0';
	if (folder_is_empty("."))
		return -1;
	back = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(dir, size, "/tmp/ipclab-suite-XXXXXX");
	if (back < 0 || !mkdtemp(dir) || chdir(dir) < 0)
		err_die("suite: cannot make a working folder %s:", dir);
	return back;
}

static void leave_private_folder(int back, const char *dir)
{
	if (back < 0)
		return;
	if (fchdir(back) < 0)
		err_die("suite: cannot go back to the working folder:");
	close(back);
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Add the fork-bomb diagnosis to a failure's message when the process limit was reached. */
static const char *explain_limit(const char *msg, long limit, char *buf, size_t size)
{
	if (!limit || peak_procs < limit * 9 / 10)
		return msg;
	snprintf(buf, size,
		 "%s\nYour code reached the limit of %ld processes: a fork bomb (fork() in a loop "
		 "that never ends, or children that fork again). The sandbox contained it.",
		 msg, limit);
	return buf;
}

static int run_test(const struct test_def *t, Suite *s, FILE *out)
{
	SRunner *sr = srunner_create(s);
	TestResult **results;
	const char *status, *msg;
	long limit = process_limit();
	struct watch_args wa = {limit, t->timeout};
	pthread_t watcher;
	char buf[3072], why[2600], folder[64];
	int passed;

	int back = enter_private_folder(folder, sizeof(folder));

	memset(page, 0, sizeof(*page));
	current = t;
	peak_procs = 0;
	ipc_list(ipc_before, sizeof(ipc_before)); /* for the X-ray at a timeout */
	/* Under a sanitizer, a thread alive across Check's fork would be reported as leaked. */
	watching = !getenv("IPCLAB_SANITIZER"); /* set before the thread reads it */
	if (watching && pthread_create(&watcher, NULL, watch_processes, &wa) != 0)
		watching = 0;
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run(sr, NULL, t->name, CK_SILENT);
	if (watching) {
		watching = 0;
		pthread_join(watcher, NULL);
	}
	if (srunner_ntests_run(sr) != 1) {
		status = "error";
		msg = "the test did not run";
	} else {
		results = srunner_results(sr);
		status = classify(t, results[0], &msg, why, sizeof(why));
		if (strcmp(status, "pass") != 0)
			msg = explain_limit(msg, limit, buf, sizeof(buf));
	}
	emit(out, "result", t, status, msg);
	emit_xray(out, t, status);
	leave_private_folder(back, folder);
	passed = strcmp(status, "pass") == 0;
	/* No srunner_free: it would free the suite, which the next test needs. */
	return passed;
}

static const struct test_def *find_test(const char *name)
{
	for (int i = 0; i < ntests; i++)
		if (strcmp(tests[i].name, name) == 0)
			return &tests[i];
	return NULL;
}

static FILE *open_results(void)
{
	const char *env = getenv("IPCLAB_RESULT_FD");
	FILE *out;

	if (!env)
		return stdout;
	result_fd = atoi(env);
	out = fdopen(result_fd, "w");
	if (!out)
		err_die("IPCLAB_RESULT_FD=%s:", env);
	return out;
}

static Suite *build_suite(void)
{
	Suite *s = suite_create("lab");

	suite_define();
	for (int i = 0; i < ntests; i++) {
		tcase_add_checked_fixture(tests[i].tcase, fixture_setup, fixture_teardown);
		suite_add_tcase(s, tests[i].tcase);
	}
	return s;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s --list | --run TEST | --all\n", program_invocation_short_name);
	exit(2);
}

int main(int argc, char **argv)
{
	FILE *out;
	Suite *s;
	int failed = 0;

	/* A rank of an MPI lab's test, started by mpirun (see suite_mpi_main in suite.h). */
	if (getenv("IPCLAB_MPI_MAIN") && suite_mpi_main)
		return suite_mpi_main(argc, argv);
	if (argc < 2)
		usage();
	/* Other processes of the same user may not open our descriptors through /proc. */
	prctl(PR_SET_DUMPABLE, 0);
	out = open_results();
	page = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		err_die("mmap:");
	s = build_suite();
	if (strcmp(argv[1], "--list") == 0) {
		for (int i = 0; i < ntests; i++)
			emit(out, "test", &tests[i], NULL, NULL);
	} else if (strcmp(argv[1], "--run") == 0 && argc == 3) {
		const struct test_def *t = find_test(argv[2]);

		if (!t)
			err_die("no test called %s", argv[2]);
		failed = !run_test(t, s, out);
	} else if (strcmp(argv[1], "--all") == 0) {
		for (int i = 0; i < ntests; i++)
			failed += !run_test(&tests[i], s, out);
	} else {
		usage();
	}
	return failed ? 1 : 0;
}
