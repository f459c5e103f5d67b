/*
 * The hidden suite of lab 09: shared memory, named objects and mapped files.
 *
 * Every test maps real memory: POSIX shared memory objects in /dev/shm (the
 * sandbox gives each test a private one), real worker processes, real files
 * in a private temporary folder. What a wrong solution does to memory is
 * made visible: a store past an object's end raises SIGBUS, which the suite
 * catches and explains; whether a mapping is shared shows in what another
 * process, or the file itself, sees; what is still mapped shows in
 * /proc/self/maps, and what is still named shows in /dev/shm.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shm.h"
#include "suite.h"

#define PAGE        4096
#define CALL_MS     2000 /* how long a child of the test may take */
#define MEET_MS     1500 /* how long a worker waits for the others to start */
#define PAR_WORKERS 4    /* workers in the rendezvous test */
#define PAR_N       8    /* items in the rendezvous test: two a worker */

/* What the test process and the workers share: one anonymous shared page. */
struct shared {
	pid_t test_pid;           /* the test process */
	volatile int stray;       /* a worker came back out of parallel_map() */
	volatile int calls;       /* calls of the test's f, in every process */
	volatile int in_parent;   /* f ran in the test process itself */
	volatile int nprocs;      /* distinct processes that called f */
	volatile int gave_up;     /* a worker stopped waiting for the others */
	volatile int seen_at_end; /* how many had started when it gave up */
	volatile int unmapped;    /* a worker did not have the object mapped */
	volatile int bus;         /* a worker was killed by SIGBUS */
	char path[128];           /* /dev/shm/NAME of the current test */
};

static struct shared *sh;

/* ==== Names, files and /proc ==== */

static char tmpdir[256];

/* Remove the folder dir and the files in it. */
static void dir_remove_path(const char *dir)
{
	char path[600];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

/*
 * A test that fails ends at once, before its own cleanup. What it left (the
 * objects of its names, its folder) is removed by the next test process:
 * everything named after a process that no longer exists. In the grader's
 * sandbox all is private and removed anyway; outside it (make suite), this
 * keeps /dev/shm and /tmp from filling up.
 */
static void sweep_stale(const char *dir, int shm)
{
	char path[300];
	struct dirent *e;
	DIR *d = opendir(dir);
	int pid;

	while (d && (e = readdir(d))) {
		if (sscanf(e->d_name, "ipclab09-%d", &pid) != 1 || pid == getpid() ||
		    kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", shm ? "" : dir, e->d_name);
		if (shm)
			shm_unlink(path);
		else
			dir_remove_path(path);
	}
	if (d)
		closedir(d);
}

static struct shared *shared_page(void)
{
	if (!sh) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
		ck_assert_msg(sh != MAP_FAILED, "suite: mmap failed");
		sweep_stale("/dev/shm", 1);
		sweep_stale("/tmp", 0);
	}
	memset(sh, 0, sizeof(*sh));
	sh->test_pid = getpid();
	return sh;
}

/* A name of the test's own ("/ipclab09-PID-tag"), and its path in /dev/shm. */
static void obj_name(char *name, size_t size, const char *tag)
{
	snprintf(name, size, "/ipclab09-%d-%s", (int)getpid(), tag);
	if (sh)
		snprintf(sh->path, sizeof(sh->path), "/dev/shm%s", name);
}

static int obj_stat(const char *name, struct stat *st)
{
	char path[128];

	snprintf(path, sizeof(path), "/dev/shm%s", name);
	return stat(path, st);
}

static int obj_exists(const char *name)
{
	struct stat st;

	return obj_stat(name, &st) == 0;
}

/* Make the object name of size bytes holding text (which may be NULL). */
static void obj_make(const char *name, size_t size, const char *text)
{
	int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);

	ck_assert_msg(fd >= 0, "suite: shm_open(%s) failed: %s", name, strerror(errno));
	ck_assert_msg(ftruncate(fd, (off_t)size) == 0, "suite: ftruncate failed");
	if (text)
		ck_assert_msg(pwrite(fd, text, strlen(text), 0) == (ssize_t)strlen(text),
			      "suite: pwrite failed");
	close(fd);
}

/* Read n bytes of the object name from its start, through a descriptor. */
static ssize_t obj_read(const char *name, void *buf, size_t n)
{
	int fd = shm_open(name, O_RDONLY, 0);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = pread(fd, buf, n, 0);
	close(fd);
	return r;
}

/* How many lines of /proc/self/maps name the file path (deleted or not). */
static int maps_count(const char *path)
{
	char line[512];
	size_t len = strlen(path);
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *at = strstr(line, path);

		if (at && (at[len] == '\n' || at[len] == ' ' || at[len] == '\0'))
			n++;
	}
	fclose(f);
	return n;
}

/* A private folder for the test's files: in the sandbox's own, or in /tmp. */
static const char *test_dir(void)
{
	char cwd[200];

	if (!getcwd(cwd, sizeof(cwd)) || strncmp(cwd, "/tmp/", 5) != 0)
		strcpy(cwd, "/tmp");
	snprintf(tmpdir, sizeof(tmpdir), "%s/ipclab09-%d", cwd, (int)getpid());
	ck_assert_msg(mkdir(tmpdir, 0700) == 0, "suite: mkdir %s failed: %s", tmpdir,
		      strerror(errno));
	return tmpdir;
}

/* Write len bytes of data to the file tag in the test's folder; its path goes in path. */
static void file_make(char *path, size_t size, const char *tag, const void *data, size_t len)
{
	int fd;

	snprintf(path, size, "%s/%s", tmpdir, tag);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_msg(fd >= 0, "suite: cannot create %s", path);
	ck_assert_msg(io_writen(fd, data, len) == (ssize_t)len, "suite: write failed");
	close(fd);
}

/* Remove the test's folder and the files in it. */
static void dir_remove(void)
{
	dir_remove_path(tmpdir);
	tmpdir[0] = '\0';
}

/* ==== Faults ==== */

static sigjmp_buf fault_env;
static volatile sig_atomic_t fault_sig;

static void on_fault(int sig)
{
	fault_sig = sig;
	siglongjmp(fault_env, 1);
}

/* Run fn(arg); return 0, or the signal (SIGBUS, SIGSEGV) a bad memory access raised. */
static int guarded(void (*fn)(void *), void *arg)
{
	struct sigaction sa, old_bus, old_segv;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fault;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	fault_sig = 0;
	if (sigsetjmp(fault_env, 1) == 0)
		fn(arg);
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return fault_sig;
}

static const char *fault_name(int sig)
{
	return sig == SIGBUS ? "SIGBUS" : sig == SIGSEGV ? "SIGSEGV" : "a signal";
}

/* Byte i of a pattern that does not repeat at short range. */
static unsigned char pattern_at(size_t i)
{
	return (unsigned char)(((uint32_t)i * 2654435761u) >> 24);
}

struct touch {
	unsigned char *p;     /* the mapping */
	size_t n;             /* bytes to write */
	volatile size_t done; /* bytes written before a fault */
};

static void touch_all(void *arg)
{
	struct touch *t = arg;

	for (t->done = 0; t->done < t->n; t->done++)
		t->p[t->done] = pattern_at(t->done);
}

/* Reap a child of the test; its status, or -1 if it did not end in time (it is killed). */
static int reap(pid_t pid)
{
	int status;

	if (proc_wait_timeout(pid, &status, CALL_MS) < 0) {
		kill(pid, SIGKILL);
		proc_wait_timeout(pid, &status, -1);
		return -1;
	}
	return status;
}

/* ==== Core: a named shared memory object ==== */

START_TEST(test_create_sized)
{
	char name[64];
	struct touch t = {0};
	struct stat st;
	int sig;

	shared_page();
	obj_name(name, sizeof(name), "sized");
	t.p = shm_create(name, 10000);
	t.n = 10000;
	ck_assert_msg(t.p != NULL,
		      "shm_create(\"%s\", 10000) returned NULL (errno %s), expected the address of "
		      "a new mapping.",
		      name, err_name(errno));
	ck_assert_msg(
	    obj_stat(name, &st) == 0,
	    "shm_create(\"%s\", 10000) returned a mapping, but /dev/shm%s does not exist: "
	    "create the object with shm_open(), and leave its name for the caller to "
	    "unlink.",
	    name, name);
	sig = guarded(touch_all, &t);
	ck_assert_msg(sig != SIGBUS,
		      "SIGBUS: the object has size %lld, call ftruncate before touching the "
		      "mapping (the store at byte %zu of 10000 fell past the object's end).",
		      (long long)st.st_size, t.done);
	ck_assert_msg(sig == 0, "writing the 10000 bytes of the mapping raised %s.",
		      fault_name(sig));
	ck_assert_msg(st.st_size == 10000,
		      "/dev/shm%s has size %lld, expected 10000: ftruncate(fd, size) with the size "
		      "asked for.",
		      name, (long long)st.st_size);
	ck_assert_msg((st.st_mode & 077) == 0,
		      "/dev/shm%s has mode %03o: other users may open it and read or change your "
		      "data. Create it with mode 0600.",
		      name, (unsigned)(st.st_mode & 0777));
	munmap(t.p, t.n);
	shm_unlink(name);
	suite_check_leaks("shm_create()");
}
END_TEST

/* Child: write the pattern over the whole mapping it inherited. */
static void child_writes(void *arg)
{
	struct touch *t = arg;

	touch_all(t);
	_exit(0);
}

START_TEST(test_create_map_shared)
{
	char name[64], status_text[64];
	unsigned char got[PAGE];
	struct touch t = {0};
	struct stat st;
	int status;
	long bad = -1;

	shared_page();
	obj_name(name, sizeof(name), "shared");
	t.n = 3 * PAGE;
	t.p = shm_create(name, t.n);
	ck_assert_msg(t.p != NULL, "shm_create(\"%s\", %zu) returned NULL (errno %s).", name, t.n,
		      err_name(errno));
	status = reap(proc_run(child_writes, &t));
	obj_stat(name, &st);
	ck_assert_msg(!(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS),
		      "SIGBUS: the object has size %lld, call ftruncate before touching the "
		      "mapping (a child writing through it was killed).",
		      (long long)st.st_size);
	proc_status_text(status, status_text, sizeof(status_text));
	ck_assert_msg(status == 0, "suite: the child writing through the mapping %s", status_text);
	for (size_t i = 0; i < t.n && bad < 0; i++)
		if (t.p[i] != pattern_at(i))
			bad = (long)i;
	ck_assert_msg(bad < 0,
		      "a child wrote through the mapping it inherited, and the parent does not see "
		      "it (byte %ld is 0x%02x, expected 0x%02x): map with MAP_SHARED. With "
		      "MAP_PRIVATE every process writes into its own copy of the page.",
		      bad, t.p[bad < 0 ? 0 : bad], pattern_at((size_t)bad));
	memset(t.p, 'z', PAGE);
	ck_assert_msg(obj_read(name, got, PAGE) == PAGE && got[0] == 'z' && got[PAGE - 1] == 'z',
		      "bytes written through the mapping are not in the object itself (read back "
		      "with pread() from /dev/shm%s): map it with MAP_SHARED.",
		      name);
	munmap(t.p, t.n);
	shm_unlink(name);
}
END_TEST

START_TEST(test_create_errors)
{
	char name[64], got[8] = {0};
	struct stat st;
	void *p;

	shared_page();
	obj_name(name, sizeof(name), "taken");
	obj_make(name, 100, "keep me");
	p = shm_create(name, 5000);
	if (p)
		munmap(p, 5000);
	ck_assert_msg(!p,
		      "shm_create() of a name that already exists returned a mapping: open with "
		      "O_CREAT | O_EXCL, so that the call fails with EEXIST instead of taking over "
		      "(and resizing) another program's object.");
	ck_assert_msg(errno == EEXIST,
		      "shm_create() of a name that already exists failed with %s, expected EEXIST.",
		      err_name(errno));
	ck_assert_msg(obj_stat(name, &st) == 0,
		      "shm_create() failing with EEXIST removed the existing object %s: it is not "
		      "yours. Unlink only an object your own call created.",
		      name);
	ck_assert_msg(st.st_size == 100 && obj_read(name, got, 7) == 7 && !strcmp(got, "keep me"),
		      "shm_create() failing with EEXIST changed the existing object (its size is "
		      "%lld, expected 100): it is not yours; leave it alone.",
		      (long long)st.st_size);
	shm_unlink(name);

	obj_name(name, sizeof(name), "zero");
	errno = 0;
	p = shm_create(name, 0);
	ck_assert_msg(!p && errno == EINVAL,
		      "shm_create(name, 0) returned %p (errno %s), expected NULL with EINVAL: an "
		      "object of size 0 has nothing to map.",
		      p, err_name(errno));
	ck_assert_msg(!obj_exists(name),
		      "shm_create(name, 0) failed but left /dev/shm%s behind: when a step after "
		      "shm_open() fails, unlink the object your call created.",
		      name);
	suite_check_leaks("shm_create() failing");
}
END_TEST

/* Make the object name of 5000 pattern bytes and map it ourselves. */
static unsigned char *own_object(const char *name)
{
	unsigned char *own;
	int fd;

	obj_make(name, 5000, NULL);
	fd = shm_open(name, O_RDWR, 0);
	own = mmap(NULL, 5000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ck_assert_msg(own != MAP_FAILED, "suite: mmap failed");
	for (size_t i = 0; i < 5000; i++)
		own[i] = pattern_at(i);
	return own;
}

/* shm_attach() of a missing object, then of one of size 0. */
static void check_attach_errors(void)
{
	char name[64];
	size_t size;
	void *p;

	obj_name(name, sizeof(name), "missing");
	errno = 0;
	p = shm_attach(name, &size);
	ck_assert_msg(!p && errno == ENOENT,
		      "shm_attach() of a name that does not exist returned %p (errno %s), expected "
		      "NULL with ENOENT.",
		      p, err_name(errno));
	obj_name(name, sizeof(name), "unsized");
	obj_make(name, 0, NULL);
	errno = 0;
	p = shm_attach(name, &size);
	shm_unlink(name);
	ck_assert_msg(!p && errno == EINVAL,
		      "shm_attach() of an object of size 0 returned %p (errno %s), expected NULL "
		      "with EINVAL.",
		      p, err_name(errno));
	suite_check_leaks("shm_attach() failing");
}

START_TEST(test_attach_detach)
{
	char name[64], path[128];
	unsigned char *own, *p;
	size_t size = 0;
	int before;

	shared_page();
	obj_name(name, sizeof(name), "attach");
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	own = own_object(name);
	before = maps_count(path);
	p = shm_attach(name, &size);
	ck_assert_msg(p != NULL,
		      "shm_attach(\"%s\") of an object of 5000 bytes returned NULL (errno %s).",
		      name, err_name(errno));
	ck_assert_msg(size == 5000,
		      "shm_attach() stored size %zu, expected 5000: take the object's size from "
		      "fstat() (st_size).",
		      size);
	ck_assert_msg(memcmp(p, own, 5000) == 0,
		      "the mapping shm_attach() returned does not hold the object's bytes.");
	p[10] = 0xab;
	ck_assert_msg(own[10] == 0xab,
		      "a write through shm_attach()'s mapping did not reach the object (another "
		      "mapping of it does not see it): map with MAP_SHARED.");
	ck_assert_msg(shm_detach(p, size) == 0, "shm_detach() returned -1 (errno %s).",
		      err_name(errno));
	ck_assert_msg(maps_count(path) == before,
		      "after shm_detach(), /proc/self/maps still lists %s %d time(s) more than "
		      "before shm_attach(): munmap() the mapping.",
		      path, maps_count(path) - before);
	munmap(own, 5000);
	shm_unlink(name);
	suite_check_leaks("shm_attach()");
	check_attach_errors();
}
END_TEST

/* ==== A shared result array ==== */

/* In a worker killed by SIGBUS: note it, then die of it all the same. */
static void on_worker_bus(int sig)
{
	sh->bus = 1;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Call parallel_map(); a worker that returns out of it stops here. */
static int call_map(const char *name, map_fn *f, const double *in, double *out, size_t n,
		    int nworkers)
{
	struct sigaction sa, old;
	int r, saved;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_worker_bus; /* the workers inherit it */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	r = parallel_map(name, f, in, out, n, nworkers);
	saved = errno;
	if (getpid() != sh->test_pid) {
		sh->stray = 1;
		_exit(0);
	}
	sigaction(SIGBUS, &old, NULL);
	ck_assert_msg(!sh->stray,
		      "a worker came back out of parallel_map() and ran the caller's code: end "
		      "every worker with _exit(0) once its slice is done.");
	ck_assert_msg(!sh->bus,
		      "SIGBUS in a worker: the object is smaller than n doubles, call ftruncate "
		      "before touching the mapping (a worker storing its results past the "
		      "object's end was killed).");
	errno = saved;
	return r;
}

static double square_plus(double x)
{
	__atomic_add_fetch(&sh->calls, 1, __ATOMIC_SEQ_CST);
	return x * x + 0.5;
}

/* out must equal want; what names the call. Explains the usual ways it does not. */
static void check_out(const char *what, const double *out, const double *want, size_t n)
{
	size_t nan = 0, zero = 0, first = n;

	for (size_t i = 0; i < n; i++) {
		nan += isnan(out[i]) != 0;
		zero += out[i] == 0 && want[i] != 0;
		if (first == n && out[i] != want[i])
			first = i;
	}
	if (first == n)
		return;
	ck_assert_msg(nan < n,
		      "%s returned 0, but none of the results reached out (it still holds what "
		      "the caller put there): after fork() a worker's out is its own copy. "
		      "Workers write into the shared array; the parent copies it into out after "
		      "the last waitpid().",
		      what);
	ck_assert_msg(zero < n,
		      "%s gave 0 for every result: the parent's view of the shared array never "
		      "changed. Map it with MAP_SHARED, so that the workers' stores reach the "
		      "parent.",
		      what);
	ck_assert_msg(out[first] != 0 && !isnan(out[first]),
		      "%s: out[%zu] = %g, and %zu results in all were never computed. Worker w "
		      "takes [w * n / nworkers, (w + 1) * n / nworkers), so that the slices cover "
		      "every item: n / nworkers items each drops the remainder.",
		      what, first, out[first], zero + nan);
	ck_abort_msg("%s: out[%zu] = %g, expected %g.", what, first, out[first], want[first]);
}

/* parallel_map() of square_plus over n items with w workers must give exact results. */
static void check_results(size_t n, int w)
{
	double *in = xcalloc(n, sizeof(double)), *out = xcalloc(n, sizeof(double));
	double *want = xcalloc(n, sizeof(double));
	char name[64], tag[32], what[64];
	int r;

	snprintf(tag, sizeof(tag), "results-%zu-%d", n, w);
	snprintf(what, sizeof(what), "parallel_map(n = %zu, nworkers = %d)", n, w);
	obj_name(name, sizeof(name), tag);
	for (size_t i = 0; i < n; i++) {
		in[i] = (double)i - (double)n / 3;
		want[i] = in[i] * in[i] + 0.5;
		out[i] = NAN;
	}
	r = call_map(name, square_plus, in, out, n, w);
	ck_assert_msg(r == 0, "%s returned %d (errno %s).", what, r, err_name(errno));
	check_out(what, out, want, n);
	free(in);
	free(out);
	free(want);
}

START_TEST(test_map_results)
{
	shared_page();
	check_results(1000, 3);
	check_results(7, 3);
	check_results(5, 5);
	check_results(1, 1);
	check_results(3, 8);
}
END_TEST

/* Has this process /dev/shm/NAME mapped? */
static int worker_maps_object(void)
{
	return maps_count(sh->path) > 0;
}

/* f for the rendezvous: the first call in each process waits until every worker has begun. */
static double meet(double x)
{
	static pid_t me;
	pid_t pid = getpid();

	if (pid == sh->test_pid)
		sh->in_parent = 1;
	if (me != pid) {
		uint64_t until = clock_now_ns() + MEET_MS * 1000000ull;

		me = pid;
		if (!worker_maps_object())
			sh->unmapped = 1;
		__atomic_add_fetch(&sh->nprocs, 1, __ATOMIC_SEQ_CST);
		while (sh->nprocs < PAR_WORKERS && !sh->gave_up) {
			if (clock_now_ns() > until) {
				sh->seen_at_end = sh->nprocs;
				sh->gave_up = 1;
			}
			usleep(500);
		}
	}
	return x + 1;
}

START_TEST(test_map_in_parallel)
{
	double in[PAR_N], out[PAR_N], want[PAR_N];
	char name[64];
	int r;

	shared_page();
	obj_name(name, sizeof(name), "parallel");
	for (int i = 0; i < PAR_N; i++) {
		in[i] = i;
		want[i] = i + 1;
		out[i] = NAN;
	}
	r = call_map(name, meet, in, out, PAR_N, PAR_WORKERS);
	ck_assert_msg(r == 0, "parallel_map(n = %d, nworkers = %d) returned %d (errno %s).", PAR_N,
		      PAR_WORKERS, r, err_name(errno));
	ck_assert_msg(!sh->in_parent,
		      "f was called in the parent process: every item is computed by a worker, a "
		      "child process, never by the caller.");
	ck_assert_msg(!sh->gave_up,
		      "the workers did not run at the same time: each waited %d ms for the "
		      "others, and only %d of %d had started. Fork every worker first, then "
		      "wait for them: a waitpid() inside the fork loop runs them one after "
		      "another.",
		      MEET_MS, sh->seen_at_end, PAR_WORKERS);
	ck_assert_msg(sh->nprocs == PAR_WORKERS,
		      "f was called by %d different processes, expected %d workers.", sh->nprocs,
		      PAR_WORKERS);
	ck_assert_msg(!sh->unmapped,
		      "a worker did not have %s mapped: the results must go through the shared "
		      "memory object named by the caller (shm_create(name, ...)).",
		      sh->path);
	check_out("parallel_map(n = 8, nworkers = 4)", out, want, PAR_N);
}
END_TEST

START_TEST(test_map_cleanup)
{
	double in[100], out[100];
	char name[64];
	int r;

	shared_page();
	obj_name(name, sizeof(name), "cleanup");
	for (int i = 0; i < 100; i++)
		in[i] = i;
	r = call_map(name, square_plus, in, out, 100, 4);
	ck_assert_msg(r == 0, "parallel_map(n = 100, nworkers = 4) returned %d (errno %s).", r,
		      err_name(errno));
	ck_assert_msg(!obj_exists(name),
		      "after parallel_map() returned, %s still exists: shm_unlink(name) once the "
		      "results are copied out, or the object outlives your program in /dev/shm.",
		      sh->path);
	ck_assert_msg(maps_count(sh->path) == 0,
		      "after parallel_map() returned, /proc/self/maps still maps %s: unmap the "
		      "shared array (shm_detach) once the results are copied out.",
		      sh->path);
	suite_check_leaks("parallel_map()");
}
END_TEST

/* f that makes the worker holding item 13 exit with status 3. */
static double fail_at_13(double x)
{
	__atomic_add_fetch(&sh->calls, 1, __ATOMIC_SEQ_CST);
	if (x == 13)
		_exit(3);
	return x;
}

START_TEST(test_map_errors)
{
	double in[40], out[40];
	char name[64], got[8] = {0};
	int r;

	shared_page();
	obj_name(name, sizeof(name), "failing");
	for (int i = 0; i < 40; i++) {
		in[i] = i;
		out[i] = -1;
	}
	r = call_map(name, fail_at_13, in, out, 40, 4);
	ck_assert_msg(r == -1 && errno == EIO,
		      "a worker exited with status 3; parallel_map() returned %d (errno %s), "
		      "expected -1 with EIO: check every worker's wait status.",
		      r, r < 0 ? err_name(errno) : "-");
	ck_assert_msg(out[0] == -1 && out[39] == -1,
		      "parallel_map() failed with EIO but changed out: copy the results only when "
		      "every worker succeeded.");
	ck_assert_msg(!obj_exists(name) && maps_count(sh->path) == 0,
		      "parallel_map() failed with EIO and left %s %s: unmap and unlink on the "
		      "error path too.",
		      sh->path, obj_exists(name) ? "in /dev/shm" : "mapped");
	suite_check_leaks("parallel_map() with a failing worker");

	obj_name(name, sizeof(name), "taken");
	obj_make(name, 64, "mine");
	sh->calls = 0;
	r = call_map(name, square_plus, in, out, 40, 4);
	ck_assert_msg(r == -1 && errno == EEXIST,
		      "parallel_map() on a name that already exists returned %d (errno %s), "
		      "expected -1 with EEXIST (from shm_create).",
		      r, r < 0 ? err_name(errno) : "-");
	ck_assert_msg(obj_read(name, got, 4) == 4 && !strcmp(got, "mine"),
		      "parallel_map() failing with EEXIST removed or changed %s: it belongs to "
		      "someone else; unlink only what you created.",
		      sh->path);
	ck_assert_msg(sh->calls == 0, "parallel_map() failed with EEXIST but still ran workers.");
	shm_unlink(name);

	errno = 0;
	r = call_map(name, square_plus, in, out, 40, 0);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "parallel_map() with 0 workers returned %d (errno %s), expected -1 with "
		      "EINVAL.",
		      r, err_name(errno));
	ck_assert_msg(!obj_exists(name), "parallel_map() with 0 workers left %s behind.", sh->path);
	suite_check_leaks("parallel_map() failing");
}
END_TEST

/* ==== A mapped file ==== */

/* What file_count() must find, counted here byte by byte. */
static struct file_counts ref_count(const unsigned char *p, size_t n)
{
	struct file_counts c = {0, 0, n};
	int in_word = 0;

	for (size_t i = 0; i < n; i++) {
		int space = strchr(" \t\n\v\f\r", p[i]) != NULL && p[i] != '\0';

		c.lines += p[i] == '\n';
		c.words += !space && !in_word;
		in_word = !space;
	}
	return c;
}

struct count_call {
	const char *path;         /* the file */
	struct file_counts found; /* what file_count() stored */
	int ret;                  /* what it returned */
	int err;                  /* errno after it */
};

static void count_run(void *arg)
{
	struct count_call *c = arg;

	errno = 0;
	c->ret = file_count(c->path, &c->found);
	c->err = errno;
}

/* file_count() of a file holding data must give the reference counts; why explains a miss. */
static void check_count(const char *tag, const void *data, size_t len, const char *why)
{
	struct count_call c = {0};
	struct file_counts want = ref_count(data, len);
	char path[300];
	int sig;

	file_make(path, sizeof(path), tag, data, len);
	c.path = path;
	sig = guarded(count_run, &c);
	ck_assert_msg(
	    sig == 0,
	    "file_count() of the %zu-byte file %s crashed with %s: it read outside the "
	    "mapping. Stop at the file's size; do not look for a NUL after the last byte.",
	    len, tag, fault_name(sig));
	ck_assert_msg(c.ret == 0, "file_count() of the %zu-byte file %s returned %d (errno %s).",
		      len, tag, c.ret, err_name(c.err));
	ck_assert_msg(c.found.lines == want.lines && c.found.words == want.words &&
			  c.found.bytes == want.bytes,
		      "file_count() of %s (%zu bytes) gave %zu lines, %zu words, %zu bytes; "
		      "expected %zu, %zu, %zu%s",
		      tag, len, c.found.lines, c.found.words, c.found.bytes, want.lines, want.words,
		      want.bytes, why);
}

/* Text of n bytes: words of 1 to 13 letters between runs of 1 to 3 white-space bytes. */
static unsigned char *text_new(size_t n)
{
	static const char spaces[] = " \n\t  \n\r\f\v";
	unsigned char *t = xmalloc(n);
	size_t i = 0, k = 0;

	while (i < n) {
		for (size_t w = 1 + k * 7 % 13; w > 0 && i < n; w--, i++)
			t[i] = (unsigned char)('a' + (i + k) % 26);
		for (size_t s = 1 + k % 3; s > 0 && i < n; s--, i++)
			t[i] = (unsigned char)spaces[(i + k) % (sizeof(spaces) - 1)];
		k++;
	}
	return t;
}

START_TEST(test_count_reference)
{
	static const char nul_text[] = "before\0after and\0 more\n\0";
	size_t big = 3 * PAGE + 1000;
	unsigned char *t;

	shared_page();
	test_dir();
	check_count("hello", "hello world\n", 12, ".");
	check_count("spaces", "  leading and trailing  \n\n", 26,
		    ": a word begins at a byte that is not white space and follows white space "
		    "or the start of the file.");
	check_count("all-spaces", "tabs\tand\vvertical\fform\rfeeds\n x", 31,
		    ": white space is ' ', '\\t', '\\n', '\\v', '\\f' and '\\r'.");
	check_count("no-newline", "no final newline", 16,
		    ": the last word counts even with no white space after it.");
	check_count("high-bytes", "caf\xc3\xa9 na\xefve \x80\xff bytes\n", 21,
		    ": bytes from 0x80 up are not white space (compare as unsigned char).");
	check_count("nul-bytes", nul_text, sizeof(nul_text) - 1,
		    ": the file holds NUL bytes, which belong to words. A mapping is not a C "
		    "string: walk st_size bytes, not up to the first NUL.");

	/* Words that straddle the page boundaries at 4096, 8192 and 12288. */
	t = text_new(big);
	memcpy(t + PAGE - 5, "straddling", 10);
	memcpy(t + 2 * PAGE - 1, " x", 2);
	memcpy(t + 3 * PAGE - 3, "abc\n", 4);
	check_count("pages", t, big,
		    ": words cross page boundaries (bytes 4091-4100 are one word). Map the whole "
		    "file at once, or carry the in-a-word state from one piece to the next.");
	/* A file of exactly two pages whose last byte is a letter. */
	memset(t, 'w', 2 * PAGE);
	memcpy(t + 100, " \n ", 3);
	check_count("two-pages", t, 2 * PAGE, ".");
	free(t);
	dir_remove();
}
END_TEST

START_TEST(test_count_empty_file)
{
	struct file_counts c = {77, 77, 77};
	char path[300];
	int r;

	shared_page();
	test_dir();
	file_make(path, sizeof(path), "empty", "", 0);
	errno = 0;
	r = file_count(path, &c);
	ck_assert_msg(r == 0,
		      "file_count() of an empty file returned %d (errno %s), expected 0: an empty "
		      "file is not an error. Do not map it — mmap() of length 0 fails with EINVAL "
		      "— and return all counts 0.",
		      r, err_name(errno));
	ck_assert_msg(c.lines == 0 && c.words == 0 && c.bytes == 0,
		      "file_count() of an empty file gave %zu lines, %zu words, %zu bytes; "
		      "expected 0, 0, 0.",
		      c.lines, c.words, c.bytes);
	suite_check_leaks("file_count() of an empty file");
	dir_remove();
}
END_TEST

START_TEST(test_count_cleanup)
{
	struct file_counts c;
	char path[300];
	unsigned char *t = text_new(2 * PAGE + 10);
	int r;

	shared_page();
	test_dir();
	file_make(path, sizeof(path), "mapped", t, 2 * PAGE + 10);
	free(t);
	r = file_count(path, &c);
	ck_assert_msg(r == 0, "file_count() returned %d (errno %s).", r, err_name(errno));
	ck_assert_msg(maps_count(path) == 0,
		      "after file_count() returned, /proc/self/maps still maps %s: munmap() the "
		      "file once it is counted.",
		      path);
	suite_check_leaks("file_count()");

	snprintf(path, sizeof(path), "%s/no-such-file", tmpdir);
	errno = 0;
	r = file_count(path, &c);
	ck_assert_msg(r == -1 && errno == ENOENT,
		      "file_count() of a file that does not exist returned %d (errno %s), "
		      "expected -1 with ENOENT.",
		      r, err_name(errno));
	errno = 0;
	r = file_count(tmpdir, &c);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "file_count() of a directory returned %d (errno %s), expected -1 with "
		      "EINVAL: check S_ISREG(st.st_mode) after fstat().",
		      r, err_name(errno));
	suite_check_leaks("file_count() failing (a directory: the descriptor must be closed "
			  "on the error path too)");
	dir_remove();
}
END_TEST

START_TEST(test_upcase_map_shared)
{
	static const char text[] = "Hello, World! abc xyz {}`@[ \xe9t\xe9 0123\n";
	static const char want[] = "HELLO, WORLD! ABC XYZ {}`@[ \xe9T\xe9 0123\n";
	size_t len = sizeof(text) - 1;
	char path[300], got[64] = {0};
	ssize_t r, changes = 0;
	char *own;
	int fd;

	for (size_t i = 0; i < len; i++)
		changes += text[i] != want[i];

	shared_page();
	test_dir();
	file_make(path, sizeof(path), "letters", text, len);
	fd = open(path, O_RDONLY);
	own = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ck_assert_msg(own != MAP_FAILED, "suite: mmap failed");
	errno = 0;
	r = file_upcase(path);
	ck_assert_msg(
	    r != -1 || errno != EACCES,
	    "file_upcase() failed with EACCES: a shared writable mapping (PROT_WRITE with "
	    "MAP_SHARED) needs a descriptor opened with O_RDWR.");
	ck_assert_msg(r == changes,
		      "file_upcase() of \"%.27s...\" returned %zd (errno %s), expected %zd letters "
		      "changed.",
		      text, r, r < 0 ? err_name(errno) : "-", changes);
	ck_assert_msg(pread(fd, got, len, 0) == (ssize_t)len && memcmp(got, want, len) == 0,
		      "after file_upcase() returned %zd, the file holds \"%.27s...\", expected "
		      "\"%.27s...\": the letters were changed in a private copy. Map the file "
		      "with MAP_SHARED, so that stores reach the file.",
		      r, got, want);
	ck_assert_msg(memcmp(own, want, len) == 0,
		      "another mapping of the file does not see what file_upcase() changed.");
	ck_assert_msg(maps_count(path) == 1,
		      "after file_upcase() returned, /proc/self/maps still maps %s: munmap() it.",
		      path);
	munmap(own, len);
	close(fd);
	suite_check_leaks("file_upcase()");

	file_make(path, sizeof(path), "nothing", "", 0);
	errno = 0;
	r = file_upcase(path);
	ck_assert_msg(r == 0,
		      "file_upcase() of an empty file returned %zd (errno %s), expected 0 (do not "
		      "map it: mmap() of length 0 fails with EINVAL).",
		      r, err_name(errno));
	suite_check_leaks("file_upcase() of an empty file");
	dir_remove();
}
END_TEST

void suite_define(void)
{
	/* Core: a named shared memory object. */
	SUITE_TEST(test_create_sized, 2,
		   "How big is a shared memory object just after shm_open() made it?\n"
		   "A new object has size 0, and touching a mapped page past its end raises "
		   "SIGBUS: shm_overview(7), ftruncate(2).\n"
		   "shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600), then ftruncate(fd, size) "
		   "BEFORE the mapping is used; close(fd) after mmap().");
	SUITE_TEST(test_create_map_shared, 2,
		   "Does the parent see what a forked child writes into the mapping?\n"
		   "With MAP_PRIVATE each process writes its own copy of the pages; only "
		   "MAP_SHARED writes reach the object: mmap(2).\n"
		   "mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0).");
	SUITE_TEST(test_create_errors, 2,
		   "When shm_create() fails, what do you remove, and is that object yours?\n"
		   "O_EXCL makes shm_open(3) fail with EEXIST on a name that exists, which belongs "
		   "to someone else; size 0 is EINVAL before anything.\n"
		   "When shm_open fails, return NULL and touch nothing; after it succeeded, on "
		   "failure close fd, shm_unlink(name) and restore errno.");
	SUITE_TEST(test_attach_detach, 2,
		   "Where does shm_attach() learn the size, and what does shm_detach() remove?\n"
		   "fstat(2) gives an object's size in st_size; munmap(2) removes the mapping, not "
		   "the object.\n"
		   "shm_attach: shm_open(name, O_RDWR, 0), fstat() for the size (0 is EINVAL), "
		   "mmap MAP_SHARED, close; shm_detach: munmap(addr, size).");

	/* A shared result array. */
	SUITE_TEST(test_map_results, 3,
		   "Where do a worker's results go, and which items are its own?\n"
		   "After fork(2) out is a private copy in each worker; only the shared object is "
		   "the same memory for all: shm_overview(7).\n"
		   "Worker w writes f(in[i]) into the shared array for i in [w * n / k, (w + 1) * "
		   "n / k); the parent copies it into out after reaping.");
	SUITE_TEST(test_map_in_parallel, 2,
		   "Are all the workers running at the same time, and who calls f?\n"
		   "waitpid(2) blocks until that child ends: forking and waiting in one loop runs "
		   "the workers one after another.\n"
		   "Fork every worker in one loop, wait for them in a second; f runs only in the "
		   "workers, which end with _exit(0).");
	SUITE_TEST(
	    test_map_cleanup, 2,
	    "What is left in /dev/shm and in /proc/self/maps after parallel_map()?\n"
	    "An object lives until its name is unlinked and its last mapping is gone: "
	    "shm_unlink(3), munmap(2).\n"
	    "Reap every worker, then shm_detach() and shm_unlink(name): nothing left in /dev/shm.");
	SUITE_TEST(test_map_errors, 2,
		   "What if a worker exits with status 3, or the name already exists?\n"
		   "A worker's wait status says whether it did its slice: waitpid(2); the object "
		   "of a name that exists is not yours to remove.\n"
		   "A worker not exiting 0 gives EIO with out untouched; clean up on every error "
		   "path; EEXIST from shm_create touches nothing.");

	/* A mapped file. */
	SUITE_TEST(test_count_reference, 3,
		   "Where does your loop stop: at the end of the file, or at a NUL byte?\n"
		   "A mapping is not a C string: it ends where the file ends, and NUL is a word "
		   "byte; white space is what isspace(3) says.\n"
		   "Walk exactly st_size bytes; count a word at each non-space byte that follows a "
		   "space or the start, carrying the flag across pages.");
	SUITE_TEST(
	    test_count_empty_file, 1,
	    "What does mmap() do with length 0?\n"
	    "mmap(2) fails with EINVAL for a length of 0; an empty file is not an error.\n"
	    "if (st.st_size == 0) { counts all 0; close(fd); return 0; } before any mmap().");
	SUITE_TEST(test_count_cleanup, 2,
		   "Is the file still open or mapped after file_count() returns, and what if path "
		   "is a folder?\n"
		   "The descriptor and the mapping outlive the call unless closed: close(2), "
		   "munmap(2); fstat(2)'s st_mode says what the path is.\n"
		   "munmap() and close() on every path; if !S_ISREG(st.st_mode), close and fail "
		   "with EINVAL.");
	SUITE_TEST(test_upcase_map_shared, 2,
		   "Do your changes reach the file itself?\n"
		   "Only a MAP_SHARED mapping writes through to the file, and a writable shared "
		   "mapping needs a descriptor open for writing: mmap(2).\n"
		   "open(path, O_RDWR), mmap(..., PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), "
		   "change the bytes in place, munmap.");
}
