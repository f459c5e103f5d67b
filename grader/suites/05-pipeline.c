/*
 * The hidden suite of lab 05: pipelines with pipe, fork, dup2 and exec.
 *
 * Every test runs real pipelines of real commands (cat, grep, wc, tr, sort,
 * head, yes, sh) and, where it can, runs the same line with /bin/sh -c and
 * wants the same bytes and the same status. run_pipeline() runs on a helper
 * thread of the test process, so that its stages are the test's children
 * and the runner's checks (zombies, descriptors) see them, and so that the
 * test keeps a deadline: when the call hangs, the test looks at every stage
 * through /proc — which pipe it reads, which it writes, who else holds an
 * end of them — and names the end that was left open and where.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pipeline.h"
#include "fault.h"
#include "suite.h"

#define CALL_MS   3000 /* how long one run_pipeline() may take */
#define GRACE_MS  300  /* how long a wrong early return gets to show itself */
#define MISSING   "ipclab-no-such-command"
#define OUT_CAP   65536 /* bytes of a pipeline's output kept for comparing */
#define MAX_PROCS 64    /* descendants looked at when diagnosing a hang */
#define MAX_SEEN  24    /* descriptors looked at in each of them */
#define MAX_PIDS  4096  /* processes scanned in /proc */
#define BIG_FILE  (1024 * 1024)

/* ==== The test's own state ==== */

/* Shared with every process the test forks: a copy that comes back says so here. */
struct shared {
	volatile int stray; /* a child returned out of run_pipeline() */
};

static struct shared *sh;
static pid_t bystander; /* the caller's own running child, in test_waits_every_stage */

/* ==== Data ==== */

static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_msg(fd >= 0, "suite: cannot create %s: %s", path, err_name(errno));
	ck_assert_msg(io_writen(fd, text, len) == (ssize_t)len, "suite: cannot write %s", path);
	close(fd);
}

/* A file of lines, some with an x, some with a q, none too regular: different every seed. */
static void make_words(const char *path, int lines)
{
	static const char *const syl[] = {"ka", "lo", "xe", "ri", "qu", "ton", "ba", "mix", "e"};
	size_t cap = (size_t)lines * 24, len = 0;
	char *text = xmalloc(cap);
	unsigned seed = suite_seed();

	for (int i = 0; i < lines; i++) {
		int nsyl = 1 + (int)(seed % 4);

		for (int s = 0; s < nsyl; s++) {
			seed = seed * 1103515245u + 12345u;
			len += (size_t)snprintf(text + len, cap - len, "%s", syl[(seed >> 16) % 9]);
		}
		text[len++] = i % 7 == 3 ? ' ' : '\n';
	}
	write_file(path, text, len);
	free(text);
}

/* Show output bytes in a message: newlines as \n, cut after 100 characters. */
static const char *show(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0;

	buf[o++] = '"';
	for (size_t i = 0; i < len && o + 8 < size; i++) {
		if (i == 100) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (s[i] == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = s[i] >= ' ' && s[i] < 127 ? s[i] : '?';
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* What run_pipeline() returned, for a message: "3", or "-1 (errno ENOSYS)". */
static const char *ret_text(int status, int err, char *buf, size_t size)
{
	if (status < 0)
		snprintf(buf, size, "-1 (errno %s)", err_name(err));
	else
		snprintf(buf, size, "%d", status);
	return buf;
}

/*
 * The pipeline as a person writes it: words joined by blanks, stages by " | ";
 * a word is put in single quotes when quoted is set or when it needs them.
 */
static const char *line_of(char **const cmds[], int n, int quoted, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && o < size; i++)
		for (int w = 0; cmds[i] && cmds[i][w] && o < size; w++)
			o += (size_t)snprintf(buf + o, size - o,
					      quoted || strpbrk(cmds[i][w], " $;>") ? "%s'%s'"
										    : "%s%s",
					      w ? " " : (i ? " | " : ""), cmds[i][w]);
	return buf;
}

/* ==== Processes as /proc shows them ==== */

struct fd_seen {
	int fd;             /* the descriptor's number */
	int mode;           /* O_RDONLY, O_WRONLY or O_RDWR */
	unsigned long pipe; /* the pipe's inode number, 0 if not a pipe */
};

struct proc_seen {
	pid_t pid;                    /* its pid */
	char state;                   /* 'R', 'S', 'Z'... */
	char name[96];                /* its command line, quoted for messages */
	int nfds;                     /* descriptors in fds */
	struct fd_seen fds[MAX_SEEN]; /* its descriptors, as far as /proc lets us see */
};

/* The test process (p[0]) and every process descending from it. */
struct snapshot {
	int n;                         /* processes in p */
	int stages;                    /* descendants running or waiting to be reaped */
	struct proc_seen p[MAX_PROCS]; /* p[0] is the test process */
};

static int read_stat(pid_t pid, pid_t *ppid, char *state)
{
	char path[64], buf[512], *paren;
	int parent = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	paren = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!paren || sscanf(paren + 1, " %c %d", state, &parent) != 2)
		return -1;
	*ppid = parent;
	return 0;
}

static void read_name(struct proc_seen *p, const char *self_cmd)
{
	char path[64], buf[200];
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	if (n > 0 && strcmp(buf, self_cmd) == 0) {
		snprintf(p->name, sizeof(p->name), "a child that did not exec (pid %d)",
			 (int)p->pid);
		return;
	}
	for (ssize_t i = 0; i + 1 < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	snprintf(p->name, sizeof(p->name), "`%.90s`", n > 0 ? buf : "?");
}

static int fd_mode(pid_t pid, int fd)
{
	char path[64], buf[256], *flags;
	ssize_t n;
	int f = open((snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd), path),
		     O_RDONLY | O_CLOEXEC);

	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	buf[n > 0 ? n : 0] = '\0';
	flags = strstr(buf, "flags:");
	return flags ? (int)(strtol(flags + 6, NULL, 8) & O_ACCMODE) : -1;
}

static void read_fds(struct proc_seen *p)
{
	char path[64], target[128];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)p->pid);
	d = opendir(path);
	if (!d)
		return; /* gone, or a child that did not exec: /proc keeps it private */
	while ((e = readdir(d)) && p->nfds < MAX_SEEN) {
		struct fd_seen *f = &p->fds[p->nfds];
		char link[320];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		f->fd = atoi(e->d_name);
		snprintf(link, sizeof(link), "%s/%s", path, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0 || (p->pid == getpid() && f->fd == dirfd(d)))
			continue;
		target[n] = '\0';
		f->pipe = 0;
		sscanf(target, "pipe:[%lu]", &f->pipe);
		f->mode = fd_mode(p->pid, f->fd);
		p->nfds++;
	}
	closedir(d);
}

/* Every process below the test process, found by their parents in /proc. */
static void snapshot_take(struct snapshot *s)
{
	static pid_t pids[MAX_PIDS], ppids[MAX_PIDS];
	static char states[MAX_PIDS];
	char self_cmd[200] = "";
	struct dirent *e;
	int np = 0, fd;
	DIR *d;

	memset(s, 0, sizeof(*s));
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, self_cmd, sizeof(self_cmd) - 1);

		self_cmd[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	d = opendir("/proc");
	while (d && (e = readdir(d)) && np < MAX_PIDS) {
		pid_t pid = atoi(e->d_name);

		if (pid > 0 && read_stat(pid, &ppids[np], &states[np]) == 0)
			pids[np++] = pid;
	}
	if (d)
		closedir(d);
	s->p[s->n++] = (struct proc_seen){.pid = getpid(), .state = 'R', .name = "your process"};
	read_fds(&s->p[0]);
	/* Breadth first: each process found adds its children to the list. */
	for (int k = 0; k < s->n; k++) {
		for (int i = 0; i < np && s->n < MAX_PROCS; i++) {
			struct proc_seen *c;

			if (ppids[i] != s->p[k].pid)
				continue;
			c = &s->p[s->n++];
			c->pid = pids[i];
			c->state = states[i];
			read_name(c, self_cmd);
			read_fds(c);
			s->stages += c->pid != bystander;
		}
	}
}

static const struct fd_seen *fd_of(const struct proc_seen *p, int fd)
{
	for (int i = 0; i < p->nfds; i++)
		if (p->fds[i].fd == fd)
			return &p->fds[i];
	return NULL;
}

static int is_live(const struct proc_seen *p)
{
	return p->state != 'Z' && p->state != 'X';
}

/* A live process other than the test whose descriptor fd is the pipe, or NULL. */
static const struct proc_seen *end_user(const struct snapshot *s, unsigned long pipe, int fd)
{
	for (int k = 1; k < s->n; k++) {
		const struct fd_seen *f = fd_of(&s->p[k], fd);

		if (is_live(&s->p[k]) && f && f->pipe == pipe)
			return &s->p[k];
	}
	return NULL;
}

/* Who holds an end of pipe (writing: its write end), the test first. Sets *fd. */
static const struct proc_seen *end_holder(const struct snapshot *s, unsigned long pipe, int writing,
					  int *fd)
{
	for (int k = 0; k < s->n; k++) {
		for (int i = 0; i < s->p[k].nfds; i++) {
			const struct fd_seen *f = &s->p[k].fds[i];
			int writes = f->mode == O_WRONLY || f->mode == O_RDWR;

			if (f->pipe == pipe && (writing ? writes : !writes || f->mode == O_RDWR)) {
				*fd = f->fd;
				return &s->p[k];
			}
		}
	}
	return NULL;
}

/* ==== Why a pipeline hangs ==== */

/* A stage waits for end of file that never comes: who holds the write end? */
static int blame_write_end(const struct snapshot *s, char *why, size_t size)
{
	for (int k = 1; k < s->n; k++) {
		const struct proc_seen *st = &s->p[k], *who;
		const struct fd_seen *in = fd_of(st, 0);
		int fd;

		if (!is_live(st) || !in || !in->pipe || end_user(s, in->pipe, 1))
			continue; /* not reading a pipe, or its writer still runs */
		who = end_holder(s, in->pipe, 1, &fd);
		if (!who)
			continue;
		if (who == &s->p[0])
			snprintf(
			    why, size,
			    "%s waits for end of file on its standard input, but the write end "
			    "of that pipe is still open in your own process (fd %d): the parent "
			    "must close each write end once the stage that writes into it has "
			    "been started.",
			    st->name, fd);
		else if (who == st)
			snprintf(why, size,
				 "%s holds the write end of its own input pipe (fd %d), so it can "
				 "never see end of file: in each child, close every pipe end after "
				 "dup2() has copied it, before exec.",
				 st->name, fd);
		else
			snprintf(
			    why, size,
			    "%s waits for end of file on its standard input, but %s still holds "
			    "the write end of that pipe (fd %d), inherited: in each child, close "
			    "every pipe end that is not its own.",
			    st->name, who->name, fd);
		return 1;
	}
	return 0;
}

/* A stage writes into a pipe that nobody reads: who holds the read end? */
static int blame_read_end(const struct snapshot *s, int n, char *why, size_t size)
{
	for (int k = 1; k < s->n; k++) {
		const struct proc_seen *st = &s->p[k], *who;
		const struct fd_seen *out = fd_of(st, 1);
		int fd;

		if (!is_live(st) || !out || !out->pipe || end_user(s, out->pipe, 0))
			continue;
		who = end_holder(s, out->pipe, 0, &fd);
		if (!who)
			continue;
		if (who == &s->p[0] && s->stages < n)
			snprintf(
			    why, size,
			    "%s is blocked writing into the pipe to the next stage, which is "
			    "not running (%d of the %d stages are running or waiting to be "
			    "reaped), and your process holds its read end (fd %d). Either "
			    "run_pipeline() waits for each stage before starting the next — a "
			    "pipe holds 64 KiB, so a stage that writes more blocks for ever: "
			    "start every stage first, then wait — or the next stage has exited "
			    "and your process kept the read end, which keeps SIGPIPE away.",
			    st->name, s->stages, n, fd);
		else if (who == &s->p[0])
			snprintf(why, size,
				 "%s keeps writing into a pipe whose reader has exited, but your "
				 "process still holds the read end (fd %d), so the writer never "
				 "gets SIGPIPE: the parent must close each read end once the stage "
				 "that reads it has been started.",
				 st->name, fd);
		else
			snprintf(why, size,
				 "%s keeps writing into a pipe whose reader has exited, but %s "
				 "still holds the read end (fd %d), so the writer never gets "
				 "SIGPIPE: in each child, close every pipe end that is not its own "
				 "(above all the read end of its own output pipe).",
				 st->name, who == st ? "it" : who->name, fd);
		return 1;
	}
	return 0;
}

/* Nothing left to blame on a pipe: say what is still there. */
static void blame_rest(const struct snapshot *s, char *why, size_t size)
{
	size_t o;
	int live = 0;

	for (int k = 1; k < s->n; k++)
		live += is_live(&s->p[k]);
	if (bystander > 0 && live == 1) {
		snprintf(why, size,
			 "every stage has ended, but run_pipeline() is still waiting, and the "
			 "only child left is the caller's own, which is not a stage: wait for "
			 "each stage by its pid, never with wait() or waitpid(-1).");
		return;
	}
	if (live == 0) {
		snprintf(why, size,
			 "every stage has ended (%d not yet reaped), but run_pipeline() did not "
			 "return: is it waiting for a pid that is not a stage's, or reading from "
			 "a pipe?",
			 s->stages);
		return;
	}
	o = (size_t)snprintf(why, size, "the processes still running:");
	for (int k = 1; k < s->n && o < size; k++)
		if (is_live(&s->p[k]))
			o += (size_t)snprintf(why + o, size - o, " %s", s->p[k].name);
	if (o < size)
		snprintf(why + o, size - o,
			 ". Does each of them have the input and output it should, and is each "
			 "pipe end closed everywhere but in its own stage?");
}

/* Milliseconds of CPU the helper thread used: a call that spins uses all it gets. */
static long worker_cpu_ms(pthread_t t)
{
	struct timespec ts;
	clockid_t cid;

	if (pthread_getcpuclockid(t, &cid) != 0 || clock_gettime(cid, &ts) < 0)
		return 0;
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Kill every process below the test (a hung pipeline), a few times over. */
static void kill_descendants(void)
{
	static struct snapshot s;

	for (int round = 0; round < 3; round++) {
		snapshot_take(&s);
		for (int k = 1; k < s.n; k++)
			kill(s.p[k].pid, SIGKILL);
		clock_sleep_ms(20);
	}
}

/* ==== Calling run_pipeline() on a helper thread ==== */

struct pl_call {
	char **const *cmds; /* the pipeline */
	int n;              /* its stages */
	int in_fd;          /* the first stage's input */
	int out_fd;         /* the last stage's output */
	int ret;            /* what run_pipeline() returned */
	int err;            /* errno after it */
	pid_t test_pid;     /* the test process: any other pid is a stray copy */
};

static struct pl_call call; /* static: a hung thread may outlive any frame */
static pthread_t worker;
static int joined; /* the helper thread has been joined */

static void *call_thread(void *arg)
{
	(void)arg;
	errno = 0;
	call.ret = run_pipeline(call.cmds, call.n, call.in_fd, call.out_fd);
	call.err = errno;
	if (getpid() != call.test_pid) {
		sh->stray = 1;
		_exit(0);
	}
	return NULL;
}

/* Start run_pipeline() on the helper thread and return at once. */
static void pl_start(char **const cmds[], int n, int in_fd, int out_fd)
{
	if (!sh) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
		ck_assert_msg(sh != MAP_FAILED, "suite: mmap failed");
	}
	sh->stray = 0;
	call = (struct pl_call){cmds, n, in_fd, out_fd, 0, 0, getpid()};
	joined = 0;
	xpthread_create(&worker, call_thread, NULL);
}

/* 1 when run_pipeline() has returned within ms (and the thread is joined), 0 if not. */
static int pl_join(long ms)
{
	struct timespec until;

	if (joined)
		return 1;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	joined = pthread_timedjoin_np(worker, NULL, &until) == 0;
	return joined;
}

/* Wait for the call to return; if it hangs, fail naming why. Returns its result. */
static int pl_finish(char **const cmds[], int n)
{
	static struct snapshot s;
	char why[700], line[300];

	if (!pl_join(CALL_MS)) {
		suite_xray(); /* before the stages are killed: who holds which end */
		line_of(cmds, n, 0, line, sizeof(line));
		if (worker_cpu_ms(worker) > CALL_MS / 4) {
			snprintf(why, sizeof(why),
				 "it is spinning, not waiting: a loop that never "
				 "ends.");
		} else {
			snapshot_take(&s);
			if (!blame_write_end(&s, why, sizeof(why)) &&
			    !blame_read_end(&s, n, why, sizeof(why)))
				blame_rest(&s, why, sizeof(why));
		}
		kill_descendants();
		ck_abort_msg("run_pipeline() of `%s` had not returned after %d s: %s", line,
			     CALL_MS / 1000, why);
	}
	ck_assert_msg(!sh->stray, "a child came back out of run_pipeline() and ran the caller's "
				  "code: after a failed exec, end the child with _exit(127), never "
				  "return.");
	errno = call.err;
	return call.ret;
}

static int pl_run(char **const cmds[], int n, int in_fd, int out_fd)
{
	pl_start(cmds, n, in_fd, out_fd);
	return pl_finish(cmds, n);
}

/* ==== Running a pipeline two ways ==== */

struct result {
	int status;        /* the pipeline's status, as $? */
	int err;           /* errno when status is -1 */
	size_t len;        /* bytes of output kept */
	char out[OUT_CAP]; /* the output */
};

static void slurp(const char *path, struct result *r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	ck_assert_msg(fd >= 0, "suite: cannot read %s", path);
	n = io_readn(fd, r->out, sizeof(r->out));
	close(fd);
	r->len = n > 0 ? (size_t)n : 0;
}

/* The student's run: stdin from in_path (NULL: /dev/null), stdout into a file. */
static void run_student(char **const cmds[], int n, const char *in_path, struct result *r)
{
	int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
	int out = open("pipeline.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_msg(in > 2 && out > 2, "suite: cannot open the test's files");
	r->status = pl_run(cmds, n, in, out);
	r->err = errno;
	close(in);
	close(out);
	slurp("pipeline.out", r);
}

/* The same line run by /bin/sh -c, with the same input. */
static void run_sh(char **const cmds[], int n, const char *in_path, struct result *r)
{
	char line[1024];
	int status;
	pid_t pid;

	line_of(cmds, n, 1, line, sizeof(line));
	pid = xfork();
	if (pid == 0) {
		int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
		int out = open("sh.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
			_exit(99);
		close(in);
		close(out);
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		_exit(99);
	}
	ck_assert_msg(proc_wait_timeout(pid, &status, CALL_MS) == 0, "suite: /bin/sh hung");
	r->status = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	slurp("sh.out", r);
}

/* Run cmds both ways and fail unless output and status are the same. */
static void same_as_sh(char **const cmds[], int n, const char *in_path)
{
	static struct result mine, ref;
	char line[300], what[400];

	run_sh(cmds, n, in_path, &ref);
	run_student(cmds, n, in_path, &mine);
	line_of(cmds, n, 0, line, sizeof(line));
	ck_assert_msg(mine.status >= 0, "run_pipeline() of `%s` returned -1 (errno %s).", line,
		      err_name(mine.err));
	snprintf(what, sizeof(what), "`%s`%s: the output differs from /bin/sh's", line,
		 in_path ? " with stdin from a file" : "");
	suite_same_text(what, ref.out, ref.len, mine.out, mine.len);
	ck_assert_msg(mine.status == ref.status,
		      "`%s`: run_pipeline() returned %d, /bin/sh's status is %d.", line,
		      mine.status, ref.status);
}

/*
 * Every test starts here (in an empty folder of its own, which the runner
 * gives it): every descriptor the test process holds is marked close-on-exec,
 * so that a stage inherits none of them and any it holds beyond 0, 1 and 2
 * is the pipeline's.
 */
static void test_begin(void)
{
	for (int fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
}

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define NCMDS(c)  ((int)(sizeof(c) / sizeof((c)[0])))

/* ==== Core: the same output as /bin/sh ==== */

START_TEST(test_one_stage)
{
	char **cmds1[] = {ARGV("tr", "a-z", "A-Z")};
	char **cmds2[] = {ARGV("sh", "-c", "echo to out_fd; exit 7")};
	static struct result r;
	char got[200], ret[40];

	test_begin();
	write_file("in.txt", "hello, pipeline\n", 16);
	run_student(cmds1, 1, "in.txt", &r);
	ck_assert_msg(r.status == 0 && r.len == 16 && memcmp(r.out, "HELLO, PIPELINE\n", 16) == 0,
		      "a pipeline of one stage, `tr a-z A-Z` reading in_fd and writing out_fd: "
		      "returned %d (errno %s) with output %s, expected 0 with \"HELLO, "
		      "PIPELINE\\n\". With one stage there is no pipe at all: its input is in_fd "
		      "and its output out_fd.",
		      r.status, r.status < 0 ? err_name(r.err) : "-", show(r.out, r.len, got, 200));
	run_student(cmds2, 1, NULL, &r);
	ck_assert_msg(r.status == 7 && r.len == 10,
		      "`sh -c 'echo to out_fd; exit 7'` alone: returned %s with output %s, "
		      "expected 7 with \"to out_fd\\n\".",
		      ret_text(r.status, r.err, ret, sizeof(ret)), show(r.out, r.len, got, 200));
}
END_TEST

START_TEST(test_cat_grep_wc)
{
	char **cmds[] = {ARGV("cat", "words.txt"), ARGV("grep", "x"), ARGV("wc", "-l")};

	test_begin();
	make_words("words.txt", 500);
	same_as_sh(cmds, NCMDS(cmds), NULL);
}
END_TEST

START_TEST(test_five_stages)
{
	char **cmds[] = {ARGV("cat"), ARGV("grep", "-v", "qu"), ARGV("tr", "a-z", "A-Z"),
			 ARGV("sort", "-r"), ARGV("head", "-n", "25")};

	test_begin();
	make_words("words.txt", 3000);
	same_as_sh(cmds, NCMDS(cmds), "words.txt");
}
END_TEST

START_TEST(test_large_stream)
{
	char **cmds[] = {ARGV("cat"), ARGV("tr", "a-y", "b-z"), ARGV("cat"), ARGV("wc", "-c")};
	char *big = xmalloc(BIG_FILE);

	test_begin();
	for (int i = 0; i < BIG_FILE; i++)
		big[i] = i % 61 == 60 ? '\n' : (char)('a' + i % 26);
	write_file("big.txt", big, BIG_FILE);
	free(big);
	same_as_sh(cmds, NCMDS(cmds), "big.txt");
}
END_TEST

/* ==== Ends: every unused end closed, or the pipeline hangs ==== */

START_TEST(test_write_ends_closed)
{
	char **cmds[] = {ARGV("cat", "words.txt"), ARGV("cat"), ARGV("wc", "-l")};

	test_begin();
	make_words("words.txt", 200);
	same_as_sh(cmds, NCMDS(cmds), NULL);
}
END_TEST

START_TEST(test_read_ends_closed)
{
	char **cmds1[] = {ARGV("yes"), ARGV("head", "-n", "1")};
	char **cmds2[] = {ARGV("yes"), ARGV("tr", "y", "n"), ARGV("head", "-n", "2")};
	static struct result r;
	char got[200], ret[40];

	test_begin();
	run_student(cmds1, NCMDS(cmds1), NULL, &r);
	ck_assert_msg(r.status == 0 && r.len == 2 && memcmp(r.out, "y\n", 2) == 0,
		      "`yes | head -n 1` returned %s with output %s, expected 0 with \"y\\n\".",
		      ret_text(r.status, r.err, ret, sizeof(ret)),
		      show(r.out, r.len, got, sizeof(got)));
	run_student(cmds2, NCMDS(cmds2), NULL, &r);
	ck_assert_msg(r.status == 0 && r.len == 4 && memcmp(r.out, "n\nn\n", 4) == 0,
		      "`yes | tr y n | head -n 2` returned %s with output %s, expected 0 with "
		      "\"n\\nn\\n\".",
		      ret_text(r.status, r.err, ret, sizeof(ret)),
		      show(r.out, r.len, got, sizeof(got)));
}
END_TEST

/* What one stage of test_no_fds_leaked listed: its descriptors above 2. */
struct listing {
	int found;         /* its "== k" line was seen */
	char extra[3][12]; /* up to 3 extra descriptor numbers */
	char what[3][96];  /* what each one is */
	int nextra;        /* how many extra descriptors it had */
	char in[64];       /* what its fd 0 was */
	char out[64];      /* what its fd 1 was */
};

/* Parse `ls -l /proc/PID/fd` sections "== k" out of the output into l[0..n-1]. */
static void parse_listings(char *text, struct listing l[], int n)
{
	struct listing *cur = NULL;
	char *save, *ln, *arrow, *num;
	int k;

	for (ln = strtok_r(text, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		if (sscanf(ln, "== %d", &k) == 1 && k >= 1 && k <= n) {
			cur = &l[k - 1];
			cur->found = 1;
			continue;
		}
		arrow = strstr(ln, " -> ");
		if (!cur || !arrow)
			continue;
		*arrow = '\0';
		num = strrchr(ln, ' ');
		k = num ? atoi(num + 1) : -1;
		if (k == 0 || k == 1) {
			snprintf(k ? cur->out : cur->in, sizeof(cur->in), "%s", arrow + 4);
		} else if (k > 2 && cur->nextra++ < 3) {
			snprintf(cur->extra[cur->nextra - 1], 12, "%d", k);
			snprintf(cur->what[cur->nextra - 1], 96, "%s %s",
				 ln[1] == 'r' ? (ln[2] == 'w' ? "read-write" : "read") : "write",
				 arrow + 4);
		}
	}
}

/* Name an extra descriptor of a stage: which pipe or file it is. */
static const char *name_extra(const struct listing l[], int n, const char *what, char *buf,
			      size_t size)
{
	const char *target = strchr(what, ' ') + 1;

	for (int k = 0; k + 1 < n; k++)
		if (strcmp(target, l[k].out) == 0) {
			snprintf(buf, size, "the %s end of the pipe from stage %d to stage %d",
				 strncmp(what, "write", 5) == 0 ? "write" : "read", k + 1, k + 2);
			return buf;
		}
	if (strstr(target, "pipeline.out"))
		return "out_fd, the caller's output file";
	if (strstr(target, "/dev/null"))
		return "in_fd, the caller's input";
	snprintf(buf, size, "%s", target);
	return buf;
}

START_TEST(test_no_fds_leaked)
{
	char **cmds[] = {ARGV("sh", "-c", "echo == 1; ls -l /proc/$$/fd; exit 0"),
			 ARGV("sh", "-c", "cat; echo == 2; ls -l /proc/$$/fd; exit 0"),
			 ARGV("sh", "-c", "cat; echo == 3; ls -l /proc/$$/fd; exit 0")};
	static struct result r;
	struct listing l[3];
	char name[128];

	test_begin();
	memset(l, 0, sizeof(l));
	run_student(cmds, NCMDS(cmds), NULL, &r);
	ck_assert_msg(r.status == 0, "run_pipeline() returned %d (errno %s), expected 0.", r.status,
		      r.status < 0 ? err_name(r.err) : "-");
	r.out[r.len < OUT_CAP ? r.len : OUT_CAP - 1] = '\0';
	parse_listings(r.out, l, 3);
	for (int k = 0; k < 3; k++) {
		ck_assert_msg(l[k].found,
			      "stage %d of 3 (each stage passes its input on, then lists its own "
			      "descriptors) is missing from the output: is each stage's output "
			      "the next one's input, and the last one's out_fd?",
			      k + 1);
		ck_assert_msg(l[k].nextra == 0,
			      "stage %d of 3 started its program holding %d descriptor%s besides "
			      "0, 1 and 2 — fd %s: %s%s. In each child, after dup2(), close every "
			      "pipe end and the caller's in_fd and out_fd: only 0, 1 and 2 may "
			      "reach exec.",
			      k + 1, l[k].nextra, l[k].nextra > 1 ? "s" : "", l[k].extra[0],
			      name_extra(l, 3, l[k].what[0], name, sizeof(name)),
			      l[k].nextra > 1 ? ", and more" : "");
	}
}
END_TEST

/* ==== Statuses ==== */

struct status_case {
	char **cmds[2];     /* a two-stage pipeline */
	int want;           /* its status, as sh gives it */
	const char *advice; /* what a wrong answer usually means */
};

START_TEST(test_last_status)
{
	const struct status_case cases[] = {
	    {{ARGV("true"), ARGV("false")}, 1, "return the status of the LAST stage"},
	    {{ARGV("false"), ARGV("true")}, 0, "the first stage's status is thrown away"},
	    {{ARGV("sh", "-c", "exit 3"), ARGV("sh", "-c", "exit 5")},
	     5,
	     "WEXITSTATUS(status) of the last stage"},
	    {{ARGV("true"), ARGV("sh", "-c", "kill -TERM $$")},
	     128 + SIGTERM,
	     "a stage killed by a signal gives 128 + WTERMSIG(status)"},
	};
	static struct result r;
	char line[200];

	test_begin();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct status_case *c = &cases[i];

		run_student(c->cmds, 2, NULL, &r);
		line_of(c->cmds, 2, 0, line, sizeof(line));
		ck_assert_msg(r.status == c->want,
			      "`%s`: run_pipeline() returned %d (errno %s), expected %d: %s%s.",
			      line, r.status, r.status < 0 ? err_name(r.err) : "-", c->want,
			      c->advice,
			      r.status > 255 ? " (you returned the raw wait status)" : "");
	}
}
END_TEST

START_TEST(test_command_not_found)
{
	char **cmds1[] = {ARGV(MISSING, "x"), ARGV("wc", "-l")};
	char **cmds2[] = {ARGV("echo", "hi"), ARGV(MISSING)};
	static struct result r;
	char got[200], ret[40];

	test_begin();
	run_student(cmds1, 2, NULL, &r);
	ck_assert_msg(r.status == 0 && r.len == 2 && memcmp(r.out, "0\n", 2) == 0,
		      "`" MISSING " x | wc -l`: returned %s with output %s, expected 0 with "
		      "\"0\\n\", as sh gives: the stage that cannot run ends with _exit(127), "
		      "closing its ends, and the rest of the pipeline carries on.",
		      ret_text(r.status, r.err, ret, sizeof(ret)),
		      show(r.out, r.len, got, sizeof(got)));
	run_student(cmds2, 2, NULL, &r);
	ck_assert_msg(r.status == 127,
		      "`echo hi | " MISSING "`: returned %s, expected 127: when execvp() "
		      "returns, the child must _exit(127), the shell's \"command not found\".",
		      ret_text(r.status, r.err, ret, sizeof(ret)));
}
END_TEST

/* ==== Cleanup: every stage waited for, the caller's descriptors untouched ==== */

/* A child of the caller's own: it ends when its pipe's write end is closed. */
static void bystander_fn(void *arg)
{
	int *gate = arg;
	char c;

	close(gate[1]);
	while (read(gate[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

static void exit_now(void *arg)
{
	(void)arg;
	_exit(3);
}

/* 1 when path holds a pid, written whole, whose process has ended. */
static int ended_pid_in(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[32], state;
	ssize_t n;
	pid_t pid, ppid;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[n - 1] != '\n')
		return 0;
	buf[n] = '\0';
	pid = atoi(buf);
	return pid > 0 && (read_stat(pid, &ppid, &state) < 0 || state == 'Z');
}

START_TEST(test_waits_every_stage)
{
	char **cmds[] = {ARGV("cat"), ARGV("sh", "-c", "echo $$ > last.pid")};
	int gate[2], feed[2], out, r, status;
	pid_t zombie, ppid;
	uint64_t until;
	char state;

	test_begin();
	/* The caller's own children: one ended (a zombie it will reap), one still running. */
	zombie = proc_run(exit_now, NULL);
	while (read_stat(zombie, &ppid, &state) == 0 && state != 'Z')
		clock_sleep_ms(2);
	ck_assert(pipe2(gate, O_CLOEXEC) == 0);
	bystander = proc_run(bystander_fn, gate);
	close(gate[0]);
	/* The test holds feed[1] (no stage inherits it): `cat` cannot end before it is closed. */
	ck_assert(pipe2(feed, O_CLOEXEC) == 0 && fcntl(feed[0], F_SETFD, 0) == 0);
	out = open("pipeline.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pl_start(cmds, 2, feed[0], out);
	until = clock_now_ns() + CALL_MS * 1000000ull;
	while (!pl_join(5) && !ended_pid_in("last.pid") && clock_now_ns() < until)
		;
	if (pl_join(GRACE_MS)) {
		close(feed[1]);
		ck_assert_msg(call.ret >= 0, "run_pipeline() returned -1 (errno %s), expected 0.",
			      err_name(call.err));
		ck_abort_msg(
		    "run_pipeline() returned while the first stage, `cat`, was still "
		    "running (only the last stage had ended): wait for EVERY stage, by its "
		    "pid.");
	}
	close(feed[1]); /* now `cat` sees end of file and ends */
	r = pl_finish(cmds, 2);
	ck_assert_msg(r == 0, "run_pipeline() returned %d (errno %s), expected 0.", r,
		      r < 0 ? err_name(errno) : "-");
	ck_assert_msg(waitpid(zombie, &status, WNOHANG) == zombie,
		      "run_pipeline() reaped a child of the caller's that was not one of its "
		      "stages: wait for each stage by its pid, never with wait() or "
		      "waitpid(-1).");
	close(gate[1]);
	ck_assert_msg(proc_wait_timeout(bystander, &status, CALL_MS) == 0 && WIFEXITED(status) &&
			  WEXITSTATUS(status) == 0,
		      "suite: the test's own child did not end as it should");
	bystander = 0;
	close(feed[0]);
	close(out);
	suite_check_leaks("run_pipeline()");
}
END_TEST

/* The identity of descriptor fd, to see that it is still open on the same thing. */
static int fd_id(int fd, struct stat *st)
{
	return fstat(fd, st) == 0 ? 0 : -1;
}

static void same_fd(int fd, const struct stat *before, const char *name)
{
	struct stat now;

	ck_assert_msg(fd_id(fd, &now) == 0,
		      "after run_pipeline(), %s (fd %d) is closed in your process: it belongs "
		      "to the caller; close only the pipe ends you made.",
		      name, fd);
	ck_assert_msg(now.st_dev == before->st_dev && now.st_ino == before->st_ino,
		      "after run_pipeline(), %s (fd %d) no longer refers to what it did: dup2() "
		      "belongs in the child, after fork(), never in the parent.",
		      name, fd);
}

START_TEST(test_caller_fds_untouched)
{
	char **cmds[] = {ARGV("cat"), ARGV("tr", "a-z", "A-Z")};
	struct stat st0, st1, st_in, st_out;
	int in, out, save0, save1, r;
	static struct result res;
	char got[200];

	test_begin();
	write_file("in.txt", "abc\n", 4);
	/* First in_fd and out_fd above 2: the parent must leave them open and as they were. */
	in = open("in.txt", O_RDONLY);
	out = open("pipeline.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert(fd_id(0, &st0) == 0 && fd_id(1, &st1) == 0 && fd_id(in, &st_in) == 0 &&
		  fd_id(out, &st_out) == 0);
	r = pl_run(cmds, 2, in, out);
	ck_assert_msg(r == 0, "run_pipeline() returned %d (errno %s), expected 0.", r,
		      r < 0 ? err_name(errno) : "-");
	same_fd(0, &st0, "standard input");
	same_fd(1, &st1, "standard output");
	same_fd(in, &st_in, "in_fd");
	same_fd(out, &st_out, "out_fd");
	/* Then in_fd 0 and out_fd 1, the test's own, pointing at the files for a while. */
	save0 = dup(0);
	save1 = dup(1);
	ck_assert(save0 > 2 && save1 > 2 && dup2(in, 0) == 0 && dup2(out, 1) == 1);
	ck_assert(lseek(0, 0, SEEK_SET) == 0 && lseek(1, 0, SEEK_SET) == 0 && ftruncate(1, 0) == 0);
	ck_assert(fd_id(0, &st_in) == 0 && fd_id(1, &st_out) == 0);
	close(in);
	close(out);
	r = pl_run(cmds, 2, 0, 1);
	in = fcntl(0, F_GETFD) >= 0;
	out = fcntl(1, F_GETFD) >= 0;
	dup2(save0, 0);
	dup2(save1, 1);
	close(save0);
	close(save1);
	slurp("pipeline.out", &res);
	ck_assert_msg(in && out,
		      "run_pipeline(cmds, 2, 0, 1) closed the caller's standard %s: when in_fd is "
		      "0 or out_fd is 1, there is nothing to copy and nothing to close.",
		      in ? "output" : "input");
	ck_assert_msg(r == 0 && res.len == 4 && memcmp(res.out, "ABC\n", 4) == 0,
		      "`cat | tr a-z A-Z` with in_fd 0 and out_fd 1 returned %d with output %s, "
		      "expected 0 with \"ABC\\n\": when in_fd is already 0, do not close it in the "
		      "child after dup2(0, 0) — that closes the stage's standard input (the same "
		      "for out_fd 1).",
		      r, show(res.out, res.len, got, sizeof(got)));
	suite_check_leaks("run_pipeline()");
}
END_TEST

/* ==== Errors ==== */

START_TEST(test_invalid_args)
{
	char **good[] = {ARGV("echo", "hi"), ARGV("cat")};
	char **holed[] = {ARGV("echo", "hi"), NULL};
	char *empty[] = {NULL};
	char **blank[] = {ARGV("echo", "hi"), empty};
	int r;

	test_begin();
	r = pl_run(good, 0, 0, 1);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "run_pipeline() with n == 0 returned %d (errno %s), expected -1 with "
		      "EINVAL.",
		      r, err_name(errno));
	r = pl_run(holed, 2, 0, 1);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "run_pipeline() with cmds[1] == NULL returned %d (errno %s), expected -1 "
		      "with EINVAL.",
		      r, err_name(errno));
	ck_assert_msg(proc_count_children(0) == 0,
		      "run_pipeline() returned EINVAL but had started stages: check every "
		      "command before forking anything.");
	r = pl_run(blank, 2, 0, 1);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "run_pipeline() with cmds[1][0] == NULL (an empty command) returned %d "
		      "(errno %s), expected -1 with EINVAL.",
		      r, err_name(errno));
	suite_check_leaks("run_pipeline()");
}
END_TEST

/* ==== Robustness: a fork that fails half-way ==== */

/*
 * The grader makes the third fork() of run_pipeline() fail with EAGAIN, as
 * a full process table would: the stages already started must be reaped and
 * every pipe closed before -1 comes back.
 */
START_TEST(test_fork_failure_cleans_up)
{
	char **cmds[] = {ARGV("cat"), ARGV("cat"), ARGV("cat"), ARGV("cat")};
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC), r, e;

	ck_assert_int_ge(devnull, 3);
	test_begin();
	fault_inject(FAULT_FORK, 3);
	r = pl_run(cmds, 4, devnull, devnull);
	e = errno;
	fault_stop();
	ck_assert_msg(r == -1 && e == EAGAIN,
		      "run_pipeline() of 4 stages returned %d (errno %s) when its third fork() "
		      "failed: return -1 with fork's errno (EAGAIN). %s",
		      r, err_name(e), fault_report());
	close(devnull);
	suite_check_leaks("run_pipeline() after a failed fork()");
}
END_TEST

void suite_define(void)
{
	/* Core: the same bytes and status as /bin/sh -c. */
	SUITE_TEST(test_one_stage, 1,
		   "With one command, where do its input and output come from?\n"
		   "A single stage needs no pipe: dup2(2) copies in_fd onto 0 and out_fd onto 1 in "
		   "the child before exec.\n"
		   "In the child: if (in_fd != 0) dup2(in_fd, 0); if (out_fd != 1) dup2(out_fd, "
		   "1); then execvp().");
	SUITE_TEST_EX(test_cat_grep_wc, 2, 0, SUITE_SEEDED,
		      "Which pipe does stage i write into, and which does stage i + 1 read?\n"
		      "Between two neighbours there is one pipe(2); dup2(2) makes its ends the "
		      "stages' standard output and input.\n"
		      "Stage i writes into pipe i and stage i + 1 reads it: dup2(p[i][1], 1) in "
		      "one, dup2(p[i][0], 0) in the other.");
	SUITE_TEST_EX(test_five_stages, 2, 0, SUITE_SEEDED,
		      "What do the first, a middle and the last stage each read and write?\n"
		      "The first stage reads in_fd, the last writes out_fd, and each middle stage "
		      "reads one pipe and writes the next: dup2(2).\n"
		      "In stage i: stdin is i == 0 ? in_fd : p[i - 1][0]; stdout is i == n - 1 ? "
		      "out_fd : p[i][1].");
	SUITE_TEST(
	    test_large_stream, 2,
	    "What does the first stage do when the pipe is full and the next stage is not running "
	    "yet?\n"
	    "A pipe holds only 64 KiB; a writer blocks until its reader makes room: pipe(7).\n"
	    "Start every stage in one loop, and waitpid() them only afterwards, in a second loop.");

	/* Ends: an end left open hangs the pipeline. */
	SUITE_TEST(test_write_ends_closed, 2,
		   "Who else still holds a write end of the pipe the last stage reads?\n"
		   "A reader sees end of file only once every write end is closed, in every "
		   "process: pipe(7).\n"
		   "Close each write end in the parent right after forking the stages that use it, "
		   "and in every child that does not write it.");
	SUITE_TEST(
	    test_read_ends_closed, 2,
	    "Why does yes never stop after head has quit?\n"
	    "A writer gets SIGPIPE only when every read end of the pipe is closed: pipe(7).\n"
	    "Close each read end in the parent after its reader starts, and in every child but the "
	    "one reading it.");
	SUITE_TEST(test_no_fds_leaked, 2,
		   "Which descriptors does a stage hold when it calls exec?\n"
		   "After dup2(2) the pipe ends are copies on 0 and 1; the originals stay open "
		   "until closed, and exec keeps them.\n"
		   "In the child, after the dup2() calls, close every pipe end (and in_fd, out_fd "
		   "when above 2): exec with only 0, 1 and 2.");

	/* Statuses. */
	SUITE_TEST(
	    test_last_status, 2,
	    "Which stage's status does the shell show for a pipeline?\n"
	    "Without pipefail, $? is the last stage's status; the macros of waitpid(2) decode it.\n"
	    "Keep the last stage's wait status and return WEXITSTATUS(status), or 128 + "
	    "WTERMSIG(status).");
	SUITE_TEST(test_command_not_found, 1,
		   "What does a stage do when its program cannot be run?\n"
		   "execvp(3) returns only on failure; the child must then end, with the shell's "
		   "code 127, never return into run_pipeline().\n"
		   "After execvp(), write a message to stderr and _exit(127) in the child.");

	/* Cleanup and errors. */
	SUITE_TEST_EX(test_waits_every_stage, 2, 8, 0,
		      "Do you return when the last stage ends, while the first may still run?\n"
		      "Every stage needs its own waitpid(2); wait() and waitpid(-1) may reap the "
		      "caller's other children.\n"
		      "After starting them all, waitpid() every stage by its pid; never wait() or "
		      "waitpid(-1).");
	SUITE_TEST(test_caller_fds_untouched, 2,
		   "What happens to in_fd, out_fd, 0 and 1 in the parent?\n"
		   "The caller's descriptors are not yours to close; dup2(2) onto 0 or 1 belongs "
		   "in the child only.\n"
		   "Never close or dup2() over the caller's descriptors in the parent; in the "
		   "child, dup2() and close in_fd only when in_fd != 0 (out_fd the same with 1).");
	SUITE_TEST(test_invalid_args, 1,
		   "What should run_pipeline() do with n == 0 or a NULL command?\n"
		   "Check every argument before any pipe(2) or fork(2): a failure must leave "
		   "nothing started.\n"
		   "Check n >= 1 and every cmds[i] and cmds[i][0] first; otherwise errno = EINVAL "
		   "and return -1.");
	/* Robustness: faults injected into the student's own calls. */
	SUITE_TEST(
	    test_fork_failure_cleans_up, 2,
	    "When the third fork() fails, what becomes of the stages and pipes already made?\n"
	    "fork(2) fails with EAGAIN; the stages already started still need their waitpid(2), "
	    "and every pipe end its close(2).\n"
	    "On failure, save errno, close every pipe end still open, waitpid() the stages "
	    "started, restore errno and return -1.");
}
