/*
 * The hidden suite of lab 07: signals, sigaction and a graceful shutdown.
 *
 * The handler tests install the student's handlers in the test process (or
 * in a child, where a wrong handler could kill it) and read the actions back
 * with sigaction(sig, NULL, &now). The server tests run serve_until_signal()
 * in a child, "the server", behind a harness that records what it returned
 * and what it left behind (handlers, descriptors, children); the test talks
 * to it through a pipe for its input and a file for its output, and sends it
 * real signals. The server's line handler (on_line below) is the test's: it
 * answers "ping", forks children that wait on a gate the test holds, blocks
 * SIGCHLD while a group of them ends so that their signals coalesce into one,
 * and does heavy malloc and stdio work while a flood of signals comes in and
 * another thread holds the locks of stdout and stderr — a handler that calls
 * printf then blocks for good, and the test says where the server is stuck.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "signals.h"
#include "suite.h"

#define STOP_MS   1000 /* how long the server may take to stop once told to */
#define REPLY_MS  1500 /* how long a reply of the server may take */
#define SCAN_FDS  1024 /* descriptors looked at for leaks */
#define MAX_KIDS  32   /* children on_line may fork in one test */
#define GATES     2    /* gates the test holds: pipes children wait on */
#define BURST     12   /* children that end at once in the coalescing test */
#define WORK      150  /* lines of heavy work during the flood */
#define OUT_BYTES (1 << 20)

static const int handled[SIG_NHANDLED] = SIG_HANDLED_LIST;

/* What the test, its server and the server's children share: one anonymous shared page. */
struct shared {
	volatile int returned;   /* serve_until_signal() returned in the server */
	int ret;                 /* what it returned */
	int err;                 /* errno after it */
	char restore_msg[256];   /* how the actions after differ from those before, or "" */
	char fd_msg[256];        /* descriptors it left open, or "" */
	int children_left;       /* children of the server when it returned */
	int pidfile;             /* on_line found the pid file: 1 right, -1 wrong, 0 not looked */
	char pidfile_text[32];   /* what the pid file held */
	char lines[512];         /* every line on_line got, each followed by '|' */
	pid_t kids[MAX_KIDS];    /* the children on_line forked */
	int codes[MAX_KIDS];     /* the code each of them ends with */
	int groups[MAX_KIDS];    /* the gate each waits on */
	int nkids;               /* how many */
	volatile int stop_flood; /* the flooder stops when set */
	long signals_sent;       /* how many signals the flooder sent */
	/* The handler test, run in a child. */
	int install_r;   /* sig_install() returned */
	int install_err; /* its errno */
	int first;       /* sig_next() before any signal */
	int errno_after; /* errno after a SIGCHLD was handled, EDOM before */
	int got[3][8];   /* what sig_next() returned after each batch of raises */
	int ngot[3];     /* how many of each batch */
	int stage;       /* how far the child got */
	int restore_r;   /* sig_restore() returned */
};

/* The test's side of one server. */
struct server {
	pid_t pid;           /* the server process */
	int in;              /* the write end of its input, -1 once closed */
	int in_r;            /* the read end: the server's in_fd */
	int out_w;           /* the server's out_fd, a file */
	int out;             /* the same file, for the test to read */
	int gates[GATES][2]; /* children of group g wait for end of file on gates[g][0] */
	int status;          /* its wait status, once reaped */
	int reaped;          /* it has been reaped */
	pid_t flooder;       /* the process sending signals, or 0 */
	char dir[64];        /* a private temporary folder */
	char pid_path[96];   /* the pid file the server is given */
	char out_path[96];   /* the file its output goes to */
	char *text;          /* the output read so far */
};

static struct shared *sh;
static struct server *me; /* in the server process: its own description */
static pid_t test_pid;
static char cleanup_dir[64];

/* ==== Small helpers ==== */

static const char *ename(int e)
{
	return e == EPROTO ? "EPROTO" : err_name(e);
}

static const char *signame(int sig)
{
	static char buf[16];

	switch (sig) {
	case SIGTERM:
		return "SIGTERM";
	case SIGINT:
		return "SIGINT";
	case SIGCHLD:
		return "SIGCHLD";
	case SIGUSR1:
		return "SIGUSR1";
	case SIGKILL:
		return "SIGKILL";
	case SIGSEGV:
		return "SIGSEGV";
	case SIGABRT:
		return "SIGABRT";
	case 0:
		return "0";
	}
	snprintf(buf, sizeof(buf), "signal %d", sig);
	return buf;
}

static struct shared *shared_page(void)
{
	if (!sh) {
		sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
		ck_assert_msg(sh != MAP_FAILED, "suite: mmap failed");
	}
	memset(sh, 0, sizeof(*sh));
	test_pid = getpid();
	return sh;
}

static void set_default_actions(void)
{
	for (int i = 0; i < SIG_NHANDLED; i++)
		signal(handled[i], SIG_DFL); /* Check's own handlers would kill the whole test */
}

/* Describe how action b differs from action a, or return 0 when they are the same. */
static int action_differs(const struct sigaction *a, const struct sigaction *b, char *buf,
			  size_t size)
{
	if (a->sa_handler != b->sa_handler) {
		snprintf(buf, size, "its handler is %s, expected %s",
			 b->sa_handler == SIG_DFL   ? "SIG_DFL"
			 : b->sa_handler == SIG_IGN ? "SIG_IGN"
						    : "another function",
			 a->sa_handler == SIG_DFL   ? "SIG_DFL"
			 : a->sa_handler == SIG_IGN ? "SIG_IGN"
						    : "the function that was there before");
		return 1;
	}
	if (a->sa_flags != b->sa_flags) {
		snprintf(buf, size, "its sa_flags are 0x%x, expected 0x%x", (unsigned)b->sa_flags,
			 (unsigned)a->sa_flags);
		return 1;
	}
	for (int s = 1; s < 32; s++) {
		if (sigismember(&a->sa_mask, s) != sigismember(&b->sa_mask, s)) {
			snprintf(buf, size, "its sa_mask differs (signal %d)", s);
			return 1;
		}
	}
	return 0;
}

/* ==== Where a process is stuck ==== */

static const char *syscall_name(long nr)
{
	static const struct {
		long nr;
		const char *name;
	} names[] = {
	    {SYS_read, "read()"},
	    {SYS_write, "write()"},
	    {SYS_wait4, "waitpid()"},
	    {SYS_futex, "a lock (futex: stdio or malloc)"},
	    {SYS_ppoll, "ppoll()"},
	    {SYS_pselect6, "pselect()"},
	    {SYS_nanosleep, "a sleep"},
	    {SYS_clock_nanosleep, "a sleep"},
	    {SYS_rt_sigsuspend, "sigsuspend()"},
#ifdef SYS_poll
	    {SYS_poll, "poll()"},
	    {SYS_select, "select()"},
	    {SYS_pause, "pause()"},
#endif
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

/* The signals of this lab that thread pid has blocked: in a handler, its own signal is. */
static int blocked_handled(pid_t pid, char *buf, size_t size)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	size_t used = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %llx", &mask) == 1)
			break;
	fclose(f);
	buf[0] = '\0';
	for (int i = 0; i < SIG_NHANDLED; i++)
		if (mask & (1ull << (handled[i] - 1)))
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "/" : "",
						 signame(handled[i]));
	return used > 0;
}

/* Say in words what process pid is doing: "blocked in read()", "inside a handler of ...". */
static const char *stuck_where(pid_t pid, char *buf, size_t size)
{
	char path[64], line[128], sigs[64];
	const char *name = NULL;
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	f = fopen(path, "r");
	if (f) {
		if (fgets(line, sizeof(line), f) && strncmp(line, "running", 7) != 0)
			nr = strtol(line, NULL, 10);
		fclose(f);
	}
	name = nr >= 0 ? syscall_name(nr) : NULL;
	if (blocked_handled(pid, sigs, sizeof(sigs)))
		snprintf(buf, size, "waiting in %s with %s blocked — that is, inside a handler",
			 name ? name : "a system call", sigs);
	else if (name)
		snprintf(buf, size, "waiting in %s", name);
	else if (nr < 0)
		snprintf(buf, size, "running (busy, not waiting)");
	else
		snprintf(buf, size, "waiting in system call %ld", nr);
	return buf;
}

/* ==== Temporary files ==== */

static void remove_dir(const char *dir)
{
	char path[128];
	const char *names[] = {"serve.pid", "serve.out"};

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* atexit: a failed assertion ends the test with exit(); leave no folder behind. */
static void cleanup_at_exit(void)
{
	if (getpid() == test_pid && cleanup_dir[0])
		remove_dir(cleanup_dir);
}

static void make_dir(struct server *s)
{
	static int registered;
	const char *tmp = getenv("TMPDIR");

	snprintf(s->dir, sizeof(s->dir), "%s/ipclab07-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir))
		ck_abort_msg("suite: mkdtemp %s: %s", s->dir, strerror(errno));
	snprintf(s->pid_path, sizeof(s->pid_path), "%s/serve.pid", s->dir);
	snprintf(s->out_path, sizeof(s->out_path), "%s/serve.out", s->dir);
	snprintf(cleanup_dir, sizeof(cleanup_dir), "%s", s->dir);
	if (!registered++)
		atexit(cleanup_at_exit);
}

/* ==== The server's line handler (runs in the server process) ==== */

static void record_line(const char *line)
{
	size_t used = strlen(sh->lines);

	snprintf(sh->lines + used, sizeof(sh->lines) - used, "%s|", line);
}

static void check_pid_file(void)
{
	char want[32];
	int fd = open(me->pid_path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, sh->pidfile_text, sizeof(sh->pidfile_text) - 1) : -1;

	if (fd >= 0)
		close(fd);
	sh->pidfile_text[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	sh->pidfile = fd >= 0 && strcmp(sh->pidfile_text, want) == 0 ? 1 : -1;
	if (fd < 0)
		snprintf(sh->pidfile_text, sizeof(sh->pidfile_text), "(no file)");
}

/* A child of the server: wait for end of file on gate g, then end with code. */
static void kid_main(int g, int code)
{
	char c;

	for (int i = 0; i < SIG_NHANDLED; i++)
		signal(handled[i], SIG_DFL);
	while (read(me->gates[g][0], &c, 1) < 0 && errno == EINTR)
		;
	if (code == 137)
		raise(SIGKILL);
	_exit(code);
}

/* "fork G N": N children on gate G; child i ends with 10 G + i + 1, child 5 by SIGKILL. */
static int cmd_fork(int g, int n, int out_fd)
{
	for (int i = 0; i < n && sh->nkids < MAX_KIDS; i++) {
		int code = i == 5 ? 137 : 10 * g + i + 1;
		pid_t pid = fork();

		if (pid < 0)
			return -1;
		if (pid == 0)
			kid_main(g, code);
		sh->kids[sh->nkids] = pid;
		sh->codes[sh->nkids] = code;
		sh->groups[sh->nkids++] = g;
	}
	dprintf(out_fd, "forked %d\n", g);
	return 0;
}

static int is_zombie(pid_t pid)
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
	return p && p[1] == ' ' && p[2] == 'Z';
}

/*
 * "burst G": block SIGCHLD, say so, wait until every child of group G has
 * ended (the test opens the gate), then unblock: the kernel keeps one pending
 * SIGCHLD for them all, so the server gets one signal for many children.
 */
static int cmd_burst(int g, int out_fd)
{
	sigset_t chld, old;
	uint64_t until = clock_now_ns() + 3000000000ull;
	int left;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	dprintf(out_fd, "blocked\n");
	do {
		left = 0;
		for (int i = 0; i < sh->nkids; i++)
			left += sh->groups[i] == g && !is_zombie(sh->kids[i]);
		if (left)
			usleep(1000);
	} while (left && clock_now_ns() < until);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}

static pthread_t holder;
static int held[2] = {-1, -1};    /* the holder says "I hold the locks" */
static int release[2] = {-1, -1}; /* and waits to be told to let go */

/* A thread that holds the locks of stdout and stderr until told to let go. */
static void *hold_stdio(void *arg)
{
	sigset_t all;
	char c;

	(void)arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL); /* every signal goes to the server's thread */
	flockfile(stdout);
	flockfile(stderr);
	if (write(held[1], "h", 1) < 0)
		_exit(99);
	while (read(release[0], &c, 1) < 0 && errno == EINTR)
		;
	funlockfile(stderr);
	funlockfile(stdout);
	return NULL;
}

static int cmd_hold(int out_fd)
{
	char c;

	if (pipe(held) < 0 || pipe(release) < 0 ||
	    pthread_create(&holder, NULL, hold_stdio, NULL) != 0)
		_exit(98);
	while (read(held[0], &c, 1) < 0 && errno == EINTR)
		;
	dprintf(out_fd, "held\n");
	return 0;
}

static void release_stdio(void)
{
	if (release[1] < 0)
		return;
	if (write(release[1], "r", 1) < 0)
		_exit(97);
	pthread_join(holder, NULL);
	close(held[0]);
	close(held[1]);
	close(release[0]);
	close(release[1]);
}

/* "work I": what a busy server does: many mallocs of many sizes, formatted output. */
static int cmd_work(int i, int out_fd)
{
	void *blocks[16];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -1;
	for (int k = 0; k < 16; k++) {
		blocks[k] = malloc(1100 + (size_t)((i * 7919 + k * 104729) % 60000));
		if (blocks[k])
			memset(blocks[k], k, 256);
	}
	for (int k = 0; k < 100; k++)
		fprintf(f, "%d:%d %s %f\n", i, k, "formatting takes the stream's lock", k * 0.5);
	fclose(f);
	free(text);
	for (int k = 15; k >= 0; k--)
		free(blocks[k]);
	dprintf(out_fd, "done %d\n", i);
	return 0;
}

static int on_line(const char *line, int out_fd, void *arg)
{
	int a = 0, b = 0;

	(void)arg;
	record_line(line);
	if (sh->pidfile == 0)
		check_pid_file();
	if (strcmp(line, "ping") == 0)
		return dprintf(out_fd, "pong\n") < 0 ? -1 : 0;
	if (sscanf(line, "fork %d %d", &a, &b) == 2)
		return cmd_fork(a, b, out_fd);
	if (sscanf(line, "burst %d", &a) == 1)
		return cmd_burst(a, out_fd);
	if (strcmp(line, "hold") == 0)
		return cmd_hold(out_fd);
	if (sscanf(line, "work %d", &a) == 1)
		return cmd_work(a, out_fd);
	if (strcmp(line, "fail") == 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* ==== The server process ==== */

static void snapshot(unsigned char *open_fds, struct sigaction *act)
{
	for (int fd = 0; fd < SCAN_FDS; fd++)
		open_fds[fd] = fcntl(fd, F_GETFD) >= 0;
	for (int i = 0; i < SIG_NHANDLED; i++)
		sigaction(handled[i], NULL, &act[i]);
}

/* After serve_until_signal returned: compare with the snapshot taken before. */
static void check_after(const unsigned char *open_fds, const struct sigaction *act)
{
	struct sigaction now;
	char why[160], what[128];
	size_t used = 0;

	for (int i = 0; i < SIG_NHANDLED && !sh->restore_msg[0]; i++) {
		sigaction(handled[i], NULL, &now);
		if (action_differs(&act[i], &now, why, sizeof(why)))
			snprintf(sh->restore_msg, sizeof(sh->restore_msg), "%s: %s",
				 signame(handled[i]), why);
	}
	for (int fd = 0; fd < SCAN_FDS && used < sizeof(sh->fd_msg) - 64; fd++) {
		if (open_fds[fd] || fcntl(fd, F_GETFD) < 0)
			continue;
		if (proc_describe_fd(0, fd, what, sizeof(what)) < 0)
			strcpy(what, "?");
		used += (size_t)snprintf(sh->fd_msg + used, sizeof(sh->fd_msg) - used,
					 "%sfd %d (%s)", used ? ", " : "", fd, what);
	}
}

static void server_main(void *arg)
{
	struct server *s = me = arg;
	struct serve_config cfg = {s->pid_path, on_line, NULL};
	unsigned char open_fds[SCAN_FDS];
	struct sigaction act[SIG_NHANDLED];
	sigset_t every;
	int r;

	sigfillset(&every);
	prctl(PR_SET_DUMPABLE, 1); /* so that the test may look at /proc/PID/syscall */
	set_default_actions();
	close(s->in);
	close(s->out);
	for (int g = 0; g < GATES; g++)
		close(s->gates[g][1]); /* the test holds the only write end of each gate */
	snapshot(open_fds, act);
	errno = 0;
	r = serve_until_signal(s->in_r, s->out_w, &cfg);
	sh->err = errno;
	sh->ret = r;
	sigprocmask(SIG_BLOCK, &every,
		    NULL); /* the test's later signals must not kill the report */
	release_stdio();
	check_after(open_fds, act);
	sh->children_left = proc_count_children(0);
	sh->returned = 1;
	for (int i = 0; i < sh->nkids; i++)
		kill(sh->kids[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	_exit(0);
}

/* ==== The test's side ==== */

/* Start a server; when pid_text is not NULL, a pid file holding it is there first. */
static void server_start(struct server *s, const char *pid_text)
{
	int fds[2], fd;

	memset(s, 0, sizeof(*s));
	signal(SIGPIPE, SIG_IGN); /* a server that died must not take the test with it */
	make_dir(s);
	if (pid_text) {
		fd = open(s->pid_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || io_writen(fd, pid_text, strlen(pid_text)) < 0)
			ck_abort_msg("suite: cannot write %s", s->pid_path);
		close(fd);
	}
	s->out_w = open(s->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	s->out = open(s->out_path, O_RDONLY);
	if (s->out_w < 0 || s->out < 0)
		ck_abort_msg("suite: cannot create %s", s->out_path);
	xpipe(fds);
	s->in_r = fds[0];
	s->in = fds[1];
	for (int g = 0; g < GATES; g++)
		xpipe(s->gates[g]);
	s->text = xcalloc(1, OUT_BYTES + 1);
	s->pid = proc_run(server_main, s);
	close(s->in_r);
	close(s->out_w);
	for (int g = 0; g < GATES; g++)
		close(s->gates[g][0]);
}

/* Read the server's output so far into s->text. */
static const char *output(struct server *s)
{
	ssize_t n = pread(s->out, s->text, OUT_BYTES, 0);

	s->text[n > 0 ? n : 0] = '\0';
	return s->text;
}

static int count_lines(struct server *s, const char *prefix)
{
	size_t len = strlen(prefix);
	const char *p = output(s);
	int n = 0;

	while (*p) {
		n += strncmp(p, prefix, len) == 0;
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return n;
}

/* Has the server ended? Reaps it if so. */
static int server_ended(struct server *s)
{
	if (!s->reaped && waitpid(s->pid, &s->status, WNOHANG) == s->pid)
		s->reaped = 1;
	return s->reaped;
}

/* Wait until at least n lines of the output start with prefix. 1 when they did, in time. */
static int await_lines(struct server *s, const char *prefix, int n, long ms)
{
	uint64_t until = clock_now_ns() + (uint64_t)ms * 1000000u;

	while (count_lines(s, prefix) < n) {
		if (clock_now_ns() > until || server_ended(s))
			return count_lines(s, prefix) >= n;
		usleep(2000);
	}
	return 1;
}

/* Wait up to ms for the server to end. 1 when it did. */
static int await_end(struct server *s, long ms)
{
	uint64_t until = clock_now_ns() + (uint64_t)ms * 1000000u;

	while (!server_ended(s) && clock_now_ns() < until)
		usleep(2000);
	return s->reaped;
}

static void send_line(struct server *s, const char *line)
{
	if (io_writen(s->in, line, strlen(line)) < 0 || io_writen(s->in, "\n", 1) < 0) {
		/* The server is gone; the checks that follow say so. */
	}
}

static void close_input(struct server *s)
{
	if (s->in >= 0)
		close(s->in);
	s->in = -1;
}

static void stop_flooder(struct server *s)
{
	if (s->flooder > 0) {
		sh->stop_flood = 1;
		if (proc_wait_timeout(s->flooder, NULL, 2000) < 0) {
			kill(s->flooder, SIGKILL);
			proc_wait_timeout(s->flooder, NULL, -1);
		}
	}
	s->flooder = 0;
}

/* Stop everything the test started and remove the files. */
static void server_finish(struct server *s)
{
	stop_flooder(s);
	close_input(s);
	if (!await_end(s, 300)) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &s->status, 0);
		s->reaped = 1;
	}
	for (int g = 0; g < GATES; g++)
		if (s->gates[g][1] >= 0)
			close(s->gates[g][1]);
	close(s->out);
	free(s->text);
	remove_dir(s->dir);
	cleanup_dir[0] = '\0';
}

static void open_gate(struct server *s, int g)
{
	close(s->gates[g][1]);
	s->gates[g][1] = -1;
}

/* Kill the server, clean up, and fail with the message. */
static void fail_now(struct server *s, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	stop_flooder(s);
	if (!server_ended(s)) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &s->status, 0);
		s->reaped = 1;
	}
	server_finish(s);
	ck_abort_msg("%s", msg);
}

/* Why the server is not where it should be: gone, and how; or where it is stuck. */
static const char *server_state(struct server *s, char *buf, size_t size)
{
	char how[64], where[160];

	if (sh->returned) {
		snprintf(buf, size, "serve_until_signal() returned %d (errno %s)", sh->ret,
			 sh->ret < 0 ? ename(sh->err) : "-");
	} else if (server_ended(s)) {
		proc_status_text(s->status, how, sizeof(how));
		if (WIFSIGNALED(s->status) && WTERMSIG(s->status) == SIGUSR1)
			snprintf(
			    buf, size,
			    "the server was killed by SIGUSR1: its handler was not installed, or "
			    "was reset after one delivery (SA_RESETHAND, what System V's signal() "
			    "does)");
		else if (WIFSIGNALED(s->status))
			snprintf(buf, size,
				 "the server process was %s: was that signal's handler installed?",
				 how);
		else
			snprintf(
			    buf, size,
			    "the server process %s without serve_until_signal() returning: a "
			    "handler must not exit (or clean up) itself; it sets a flag, and the "
			    "loop returns",
			    how);
	} else {
		snprintf(buf, size, "the server is still running, %s",
			 stuck_where(s->pid, where, sizeof(where)));
	}
	return buf;
}

/* Start a server and make sure its loop runs: "ping" must bring "pong". */
static void server_ready(struct server *s)
{
	char state[320];

	server_start(s, NULL);
	send_line(s, "ping");
	if (!await_lines(s, "pong", 1, REPLY_MS) && sh->returned)
		fail_now(s, "the server stopped before it answered its first line, \"ping\": %s.",
			 server_state(s, state, sizeof(state)));
	if (!await_lines(s, "pong", 1, 0))
		fail_now(
		    s,
		    "the server did not answer the line \"ping\" within %d ms (on_line answers "
		    "it with \"pong\"): %s.",
		    REPLY_MS, server_state(s, state, sizeof(state)));
	usleep(20000); /* let it go back to waiting for input */
}

/* After the server has ended: it returned want, and cleaned up on the way. */
static void check_clean_end(struct server *s, int want, const char *what)
{
	char state[320];

	if (!sh->returned)
		fail_now(s, "%s: %s.", what, server_state(s, state, sizeof(state)));
	if (sh->ret != want)
		fail_now(s, "%s: serve_until_signal() returned %d (errno %s), expected %d.", what,
			 sh->ret, sh->ret < 0 ? ename(sh->err) : "-", want);
	if (sh->restore_msg[0])
		fail_now(
		    s,
		    "%s: the signal actions were not put back as they were before the call (%s): "
		    "sig_restore() must restore exactly what sig_install() saved.",
		    what, sh->restore_msg);
	if (sh->fd_msg[0])
		fail_now(
		    s,
		    "%s: serve_until_signal() returned with %s still open: close the self-pipe "
		    "in sig_restore(), and every descriptor you open.",
		    what, sh->fd_msg);
	if (access(s->pid_path, F_OK) == 0)
		fail_now(s, "%s: the pid file %s is still there: remove it before returning.", what,
			 s->pid_path);
}

/* The last line of the output. */
static const char *last_line(struct server *s, char *buf, size_t size)
{
	const char *text = output(s);
	size_t n = strlen(text);
	const char *p;

	if (n && text[n - 1] == '\n')
		n--;
	for (p = text + n; p > text && p[-1] != '\n'; p--)
		;
	snprintf(buf, size, "%.*s", (int)(text + n - p), p);
	return buf;
}

/* ==== Core: the handler and its installation ==== */

START_TEST(test_install_flags)
{
	struct sig_saved saved;
	struct sigaction now;
	int r;

	set_default_actions();
	r = sig_install(&saved);
	ck_assert_msg(r == 0, "sig_install() returned %d (errno %s), expected 0.", r,
		      r < 0 ? ename(errno) : "-");
	for (int i = 0; i < SIG_NHANDLED; i++) {
		int sig = handled[i];

		sigaction(sig, NULL, &now);
		ck_assert_msg(now.sa_handler != SIG_DFL && now.sa_handler != SIG_IGN,
			      "after sig_install(), %s still has %s: install the handler for "
			      "SIGTERM, SIGINT, SIGCHLD and SIGUSR1.",
			      signame(sig), now.sa_handler == SIG_DFL ? "SIG_DFL" : "SIG_IGN");
		ck_assert_msg(!(now.sa_flags & SA_RESTART),
			      "%s's handler has SA_RESTART, which is what glibc's signal() sets: "
			      "after the handler, the kernel resumes a blocked read() instead of "
			      "failing it with EINTR, and the loop never gets to see the signal. "
			      "Install with sigaction() and sa_flags = 0.",
			      signame(sig));
		ck_assert_msg(!(now.sa_flags & SA_RESETHAND),
			      "%s's handler has SA_RESETHAND (what System V's signal() sets): it "
			      "is removed after one delivery, and the second signal gets the "
			      "default action. Install with sigaction() and without that flag.",
			      signame(sig));
	}
	r = sig_restore(&saved);
	ck_assert_msg(r == 0, "sig_restore() returned %d (errno %s), expected 0.", r,
		      r < 0 ? ename(errno) : "-");
	suite_check_leaks("sig_install() then sig_restore()");
}
END_TEST

/* Take every recorded signal into batch b of the shared page. */
static void take_batch(int b)
{
	int sig;

	while (sh->ngot[b] < 8 && (sig = sig_next()) != 0)
		sh->got[b][sh->ngot[b]++] = sig;
}

/* The child of test_install_records_signals: install, raise, take. */
static void records_child(void *arg)
{
	struct sig_saved saved;

	(void)arg;
	set_default_actions();
	sh->install_r = sig_install(&saved);
	sh->install_err = errno;
	if (sh->install_r < 0)
		_exit(0);
	sh->first = sig_next();
	sh->stage = 1;
	errno = EDOM;
	raise(SIGCHLD);
	sh->errno_after = errno;
	raise(SIGUSR1);
	raise(SIGUSR1);
	take_batch(0);
	sh->stage = 2;
	raise(SIGTERM);
	raise(SIGINT);
	take_batch(1);
	sh->stage = 3;
	raise(SIGUSR1); /* a second delivery: the handler must still be there */
	take_batch(2);
	sh->stage = 4;
	sh->restore_r = sig_restore(&saved);
	_exit(0);
}

/* Check batch b holds exactly the signals a and c (c 0: only a), each once. */
static void check_batch(int b, int a, int c, const char *after)
{
	char got[96];
	size_t used = 0;
	int ok = sh->ngot[b] == (c ? 2 : 1);

	got[0] = '\0';
	for (int i = 0; i < sh->ngot[b]; i++) {
		used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s", i ? ", " : "",
					 signame(sh->got[b][i]));
		if (sh->got[b][i] != a && sh->got[b][i] != c)
			ok = 0;
	}
	if (ok && c && sh->got[b][0] == sh->got[b][1])
		ok = 0;
	ck_assert_msg(ok,
		      "after %s, sig_next() returned [%s] before 0, expected %s%s%s once%s: the "
		      "handler sets a flag for its signal, and sig_next() returns each flag that "
		      "is set, once, clearing it.",
		      after, got, signame(a), c ? " and " : "", c ? signame(c) : "",
		      c ? " each, in any order" : "");
}

START_TEST(test_install_records_signals)
{
	char how[64];
	int status;
	pid_t pid;

	shared_page();
	pid = proc_run(records_child, NULL);
	ck_assert_msg(proc_wait_timeout(pid, &status, 2000) == 0,
		      "sig_install(), raise() and sig_next() had not finished after 2 s in a child "
		      "process (does sig_next() block? it must return 0 when nothing is waiting).");
	ck_assert_msg(sh->install_r == 0, "sig_install() returned %d (errno %s), expected 0.",
		      sh->install_r, ename(sh->install_err));
	proc_status_text(status, how, sizeof(how));
	ck_assert_msg(!WIFSIGNALED(status),
		      "the child process ended (%s) at step %d (1: raising SIGCHLD and SIGUSR1, 2: "
		      "SIGTERM and "
		      "SIGINT, 3: SIGUSR1 a second time): %s",
		      how, sh->stage,
		      sh->stage == 3 ? "the handler was gone after its first delivery "
				       "(SA_RESETHAND, what System V's signal() sets)."
				     : "the handler for that signal was not installed.");
	ck_assert_msg(sh->stage == 4,
		      "the child process ended (%s) at step %d (1: raising SIGCHLD and SIGUSR1, 2: "
		      "SIGTERM and "
		      "SIGINT, 3: SIGUSR1 a second time), inside raise(): a handler must only "
		      "record its signal, never exit; the code that took the signal decides.",
		      how, sh->stage);
	ck_assert_msg(sh->first == 0,
		      "sig_next() returned %d before any signal had arrived, expected 0 (nothing "
		      "waiting; sig_install forgets what came before).",
		      sh->first);
	ck_assert_msg(sh->errno_after == EDOM,
		      "errno was EDOM when SIGCHLD arrived and %s after its handler ran: the "
		      "handler changed errno behind the back of the code it interrupted. Save "
		      "errno on entry to the handler and put it back before returning.",
		      ename(sh->errno_after));
	check_batch(0, SIGCHLD, SIGUSR1, "raise(SIGCHLD), raise(SIGUSR1), raise(SIGUSR1)");
	check_batch(1, SIGTERM, SIGINT, "raise(SIGTERM), raise(SIGINT)");
	check_batch(2, SIGUSR1, 0, "a second raise(SIGUSR1)");
	ck_assert_msg(sh->restore_r == 0, "sig_restore() returned %d, expected 0.", sh->restore_r);
}
END_TEST

static void test_handler_a(int sig, siginfo_t *info, void *ctx)
{
	(void)sig;
	(void)info;
	(void)ctx;
}

static void test_handler_b(int sig)
{
	(void)sig;
}

/* Give the four signals actions of the test's own, all different. */
static void set_test_actions(struct sigaction *before)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = test_handler_a;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = test_handler_b;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < SIG_NHANDLED; i++)
		sigaction(handled[i], NULL, &before[i]);
}

static void check_restored(const struct sigaction *before, int round)
{
	struct sigaction now;
	char why[160];

	for (int i = 0; i < SIG_NHANDLED; i++) {
		sigaction(handled[i], NULL, &now);
		ck_assert_msg(
		    !action_differs(&before[i], &now, why, sizeof(why)),
		    "after sig_install() then sig_restore() (round %d), %s is not what it "
		    "was: %s. Keep each old action from sigaction(sig, &sa, &saved->old[i]) "
		    "and put back exactly that one.",
		    round, signame(handled[i]), why);
	}
}

START_TEST(test_restore_actions)
{
	struct sigaction before[SIG_NHANDLED];
	struct sig_saved saved;
	int r, sig;

	set_test_actions(before);
	r = sig_install(&saved);
	ck_assert_msg(r == 0, "sig_install() returned %d (errno %s), expected 0.", r,
		      r < 0 ? ename(errno) : "-");
	r = sig_restore(&saved);
	ck_assert_msg(r == 0, "sig_restore() returned %d (errno %s), expected 0.", r,
		      r < 0 ? ename(errno) : "-");
	check_restored(before, 1);
	suite_check_leaks("sig_install() then sig_restore()");
	/* A second round: the state left by the first must not get in the way. */
	r = sig_install(&saved);
	ck_assert_msg(r == 0, "a second sig_install() after sig_restore() returned %d (errno %s).",
		      r, r < 0 ? ename(errno) : "-");
	raise(SIGUSR1);
	sig = sig_next();
	ck_assert_msg(sig == SIGUSR1,
		      "in a second round of sig_install(), raise(SIGUSR1), sig_next() returned %d, "
		      "expected %d: does sig_restore() leave stale state (a closed pipe still in "
		      "use)? Set the pipe's descriptors back to -1 when you close them.",
		      sig, SIGUSR1);
	sig_restore(&saved);
	check_restored(before, 2);
	suite_check_leaks("a second sig_install() then sig_restore()");
}
END_TEST

/* ==== The server: lines, signals, shutdown ==== */

START_TEST(test_serve_lines_eof)
{
	struct server s;
	char state[320], last[64];

	shared_page();
	server_start(&s, NULL);
	if (io_writen(s.in, "alpha\nbeta\n\nping\nlast", 21) < 0)
		fail_now(&s, "suite: cannot write to the server");
	close_input(&s);
	if (!await_end(&s, STOP_MS + REPLY_MS))
		fail_now(&s,
			 "the server got 5 lines and then end of input, and had not returned %d ms "
			 "later: %s. At end of input (read() returns 0), shut down and return 0.",
			 STOP_MS + REPLY_MS, server_state(&s, state, sizeof(state)));
	if (!sh->returned || sh->ret != 0)
		fail_now(&s,
			 "the server got 5 lines and then end of input, expected it to return 0: "
			 "%s.",
			 server_state(&s, state, sizeof(state)));
	if (strcmp(sh->lines, "alpha|beta||ping|last|") != 0)
		fail_now(&s,
			 "the input \"alpha\\nbeta\\n\\nping\\nlast\" reached on_line as \"%s\" "
			 "(lines separated by |), expected \"alpha|beta||ping|last|\": one call a "
			 "line, without its '\\n'; an empty line is a line; a last line without "
			 "'\\n' at end of input is one too.",
			 sh->lines);
	check_clean_end(&s, 0, "after end of input");
	if (sh->pidfile != 1)
		fail_now(
		    &s,
		    "while the server ran, the pid file held \"%s\", expected the server's pid "
		    "and a newline: create it after sig_install(), before the loop.",
		    sh->pidfile_text);
	output(&s);
	if (!strstr(s.text, "pong\n") || strcmp(last_line(&s, last, sizeof(last)), "bye 0") != 0)
		fail_now(
		    &s,
		    "the server's output ends with \"%s\", expected \"pong\" (on_line's reply) "
		    "and then \"bye 0\" as the last line: 0 is what stopped it, end of input.",
		    last);
	server_finish(&s);
}
END_TEST

/* Tell a running server to stop with sig; check it returns sig, cleaned up, in time. */
static void stop_with(int sig)
{
	struct server s;
	char state[320], last[64], what[64];

	shared_page();
	server_ready(&s);
	kill(s.pid, sig);
	snprintf(what, sizeof(what), "after %s", signame(sig));
	if (!await_end(&s, STOP_MS))
		fail_now(
		    &s,
		    "the server, idle and waiting for input, got %s and had not returned %d ms "
		    "later: %s. The handler only sets a flag: the loop must wake up (EINTR from "
		    "a call interrupted without SA_RESTART, or a byte on a self-pipe), see the "
		    "flag and return.",
		    signame(sig), STOP_MS, server_state(&s, state, sizeof(state)));
	check_clean_end(&s, sig, what);
	if (strcmp(last_line(&s, last, sizeof(last)), sig == SIGTERM ? "bye 15" : "bye 2") != 0)
		fail_now(&s,
			 "after %s, the last line of the output is \"%s\", expected \"bye %d\".",
			 signame(sig), last, sig);
	server_finish(&s);
}

START_TEST(test_serve_sigterm_shutdown)
{
	stop_with(SIGTERM);
	stop_with(SIGINT);
}
END_TEST

START_TEST(test_serve_eintr_continues)
{
	struct server s;
	char state[320], last[64];

	shared_page();
	server_ready(&s);
	for (int i = 1; i <= 2; i++) {
		kill(s.pid, SIGUSR1);
		if (!await_lines(&s, "lines 1", i, REPLY_MS))
			fail_now(
			    &s,
			    "the server, waiting for input, got SIGUSR1 (number %d) and had not "
			    "written \"lines 1\" %d ms later: %s. A signal makes a blocked read() "
			    "or poll() fail with EINTR: look at the flags, act on them, and carry "
			    "on — unless SA_RESTART (what signal() sets) resumed the call, and "
			    "then nothing happens until the next line.",
			    i, REPLY_MS, server_state(&s, state, sizeof(state)));
		usleep(20000);
	}
	send_line(&s, "ping");
	if (!await_lines(&s, "pong", 2, REPLY_MS))
		fail_now(&s, "after two SIGUSR1, the server no longer answers \"ping\": %s.",
			 server_state(&s, state, sizeof(state)));
	close_input(&s);
	if (!await_end(&s, STOP_MS))
		fail_now(&s, "at end of input the server did not return: %s.",
			 server_state(&s, state, sizeof(state)));
	check_clean_end(&s, 0, "at end of input, after two SIGUSR1");
	if (strcmp(last_line(&s, last, sizeof(last)), "bye 0") != 0)
		fail_now(&s, "the last line of the output is \"%s\", expected \"bye 0\".", last);
	server_finish(&s);
}
END_TEST

/* Has every child of group g been reported with its pid and code? Sets *count. */
static int reported(struct server *s, int g, int *count, char *missing, size_t size)
{
	char want[64];
	int all = 1;

	*count = 0;
	missing[0] = '\0';
	output(s);
	for (int i = 0; i < sh->nkids; i++) {
		if (sh->groups[i] != g)
			continue;
		snprintf(want, sizeof(want), "child %d %d\n", (int)sh->kids[i], sh->codes[i]);
		if (strstr(s->text, want)) {
			(*count)++;
		} else if (all) {
			snprintf(missing, size, "%.*s", (int)strlen(want) - 1, want);
			all = 0;
		}
	}
	return all;
}

START_TEST(test_serve_reaps_coalesced)
{
	struct server s;
	char state[320], missing[64], cmd[32];
	int count, zombies;
	uint64_t until;

	shared_page();
	server_ready(&s);
	snprintf(cmd, sizeof(cmd), "fork 0 %d", BURST);
	send_line(&s, cmd);
	send_line(&s, "burst 0");
	if (!await_lines(&s, "blocked", 1, REPLY_MS))
		fail_now(&s, "the server did not get through on_line's \"fork\" and \"burst\": %s.",
			 server_state(&s, state, sizeof(state)));
	open_gate(&s, 0);
	until = clock_now_ns() + REPLY_MS * 1000000ull;
	while (!reported(&s, 0, &count, missing, sizeof(missing)) && clock_now_ns() < until &&
	       !server_ended(&s))
		usleep(2000);
	zombies = server_ended(&s) ? 0 : proc_count_zombies(s.pid);
	if (count < BURST)
		fail_now(
		    &s,
		    "%d children of the server ended while SIGCHLD was blocked, so one single "
		    "SIGCHLD stood for all of them; the server reported %d of them (\"%s\" is "
		    "missing) and %d %s left as zombies (%s). Signals of one kind do not queue: "
		    "on SIGCHLD, call waitpid(-1, &status, WNOHANG) in a loop until it returns "
		    "0 or fails with ECHILD, and report each child with its exit code (128 + "
		    "the signal for a killed one).",
		    BURST, count, missing, zombies, zombies == 1 ? "was" : "were",
		    server_state(&s, state, sizeof(state)));
	if (zombies > 0)
		fail_now(&s, "every child was reported, yet the server still has %d zombies.",
			 zombies);
	close_input(&s);
	if (!await_end(&s, STOP_MS))
		fail_now(&s, "at end of input the server did not return: %s.",
			 server_state(&s, state, sizeof(state)));
	check_clean_end(&s, 0, "at end of input");
	server_finish(&s);
}
END_TEST

START_TEST(test_serve_reap_nonblocking)
{
	struct server s;
	char state[320], missing[64];
	int count;

	shared_page();
	server_ready(&s);
	send_line(&s, "fork 0 1"); /* lives on until the end of the test */
	send_line(&s, "fork 1 1");
	if (!await_lines(&s, "forked 1", 1, REPLY_MS))
		fail_now(&s, "the server did not get through on_line's \"fork\": %s.",
			 server_state(&s, state, sizeof(state)));
	open_gate(&s, 1);
	if (!await_lines(&s, "child ", 1, REPLY_MS))
		fail_now(&s,
			 "a child of the server ended, and it was not reported within %d ms: %s. "
			 "On SIGCHLD, reap with waitpid(-1, &status, WNOHANG) in a loop and write "
			 "\"child PID CODE\" for each.",
			 REPLY_MS, server_state(&s, state, sizeof(state)));
	send_line(&s, "ping");
	if (!await_lines(&s, "pong", 2, REPLY_MS))
		fail_now(
		    &s,
		    "after reaping the child that ended, the server no longer answers \"ping\": "
		    "%s. Another child is still running: waitpid() without WNOHANG waits for "
		    "it, and the server stops serving. Use WNOHANG and stop the loop when "
		    "waitpid() returns 0.",
		    server_state(&s, state, sizeof(state)));
	open_gate(&s, 0);
	if (!await_lines(&s, "child ", 2, REPLY_MS) || !reported(&s, 1, &count, missing, 64) ||
	    !reported(&s, 0, &count, missing, 64))
		fail_now(&s,
			 "the 2 children were not both reported as \"child PID CODE\" (\"%s\" is "
			 "missing; CODE is the exit status, 128 + the signal for a killed child).",
			 missing);
	close_input(&s);
	if (!await_end(&s, STOP_MS))
		fail_now(&s, "at end of input the server did not return: %s.",
			 server_state(&s, state, sizeof(state)));
	check_clean_end(&s, 0, "at end of input");
	server_finish(&s);
}
END_TEST

START_TEST(test_serve_shutdown_waits_children)
{
	struct server s;
	char state[320], missing[64], last[64];
	int count;

	shared_page();
	server_ready(&s);
	send_line(&s, "fork 0 2");
	if (!await_lines(&s, "forked 0", 1, REPLY_MS))
		fail_now(&s, "the server did not get through on_line's \"fork\": %s.",
			 server_state(&s, state, sizeof(state)));
	kill(s.pid, SIGTERM);
	usleep(150000);
	if (server_ended(&s) && sh->returned && sh->children_left > 0)
		fail_now(&s,
			 "on SIGTERM, serve_until_signal() returned while %d of its children were "
			 "still running: a graceful shutdown waits for them (waitpid(-1, &status, "
			 "0) until ECHILD) and reports each before \"bye\".",
			 sh->children_left);
	open_gate(&s, 0);
	if (!await_end(&s, STOP_MS))
		fail_now(&s,
			 "its last 2 children ended, yet the server had not returned %d ms "
			 "after SIGTERM: %s.",
			 STOP_MS, server_state(&s, state, sizeof(state)));
	check_clean_end(&s, SIGTERM, "after SIGTERM with 2 children running");
	if (!reported(&s, 0, &count, missing, sizeof(missing)) || sh->children_left > 0)
		fail_now(
		    &s,
		    "on SIGTERM with 2 children running, the server reported %d of them before "
		    "returning (\"%s\" is missing) and left %d: wait for every child before "
		    "returning.",
		    count, missing, sh->children_left);
	if (strcmp(last_line(&s, last, sizeof(last)), "bye 15") != 0)
		fail_now(&s,
			 "the last line of the output is \"%s\", expected \"bye 15\", after the "
			 "children's lines.",
			 last);
	server_finish(&s);
}
END_TEST

/* The flooder: SIGUSR1 and SIGCHLD to the server, as fast as it can, for at most 3 s. */
static void flood_main(void *arg)
{
	pid_t pid = *(pid_t *)arg;
	uint64_t until = clock_now_ns() + 3000000000ull;

	while (!sh->stop_flood && clock_now_ns() < until) {
		if (kill(pid, SIGUSR1) < 0 || kill(pid, SIGCHLD) < 0)
			break;
		sh->signals_sent += 2;
		usleep(50);
	}
	_exit(0);
}

START_TEST(test_serve_flood_async_safe)
{
	struct server s;
	char state[320], last[64], line[32];
	int done;

	shared_page();
	server_ready(&s);
	send_line(&s, "hold");
	if (!await_lines(&s, "held", 1, REPLY_MS))
		fail_now(&s, "the server did not get through on_line's \"hold\": %s.",
			 server_state(&s, state, sizeof(state)));
	s.flooder = proc_run(flood_main, &s.pid);
	for (int i = 0; i < WORK; i++) {
		snprintf(line, sizeof(line), "work %d", i);
		send_line(&s, line);
	}
	snprintf(line, sizeof(line), "done %d", WORK - 1);
	if (!await_lines(&s, line, 1, 4000)) {
		done = count_lines(&s, "done ");
		server_state(&s, state, sizeof(state));
		fail_now(
		    &s,
		    "signals came in by the thousand (SIGUSR1 and SIGCHLD) while on_line did "
		    "malloc and stdio work and another thread held the locks of stdout and "
		    "stderr; the server finished %d of its %d lines, then made no progress for "
		    "4 s: %s. A handler that calls printf, fprintf, perror or malloc waits for "
		    "a lock that someone else (or the very code it interrupted) holds. In a "
		    "handler, only set a volatile sig_atomic_t flag and write() a byte.",
		    done, WORK, state);
	}
	stop_flooder(&s);
	if (server_ended(&s) || sh->returned)
		fail_now(&s, "the server stopped during a flood of SIGUSR1 and SIGCHLD: %s.",
			 server_state(&s, state, sizeof(state)));
	kill(s.pid, SIGTERM);
	if (!await_end(&s, STOP_MS))
		fail_now(&s,
			 "after the flood, the server had not returned %d ms after SIGTERM: %s.",
			 STOP_MS, server_state(&s, state, sizeof(state)));
	check_clean_end(&s, SIGTERM, "after a flood of signals, then SIGTERM");
	if (strcmp(last_line(&s, last, sizeof(last)), "bye 15") != 0)
		fail_now(&s, "the last line of the output is \"%s\", expected \"bye 15\".", last);
	server_finish(&s);
}
END_TEST

/* ==== Errors: clean up what you made, and only that ==== */

START_TEST(test_serve_cleanup_on_error)
{
	struct server s;
	char state[320], text[32] = "";
	int fd;
	ssize_t n;

	/* A pid file already there belongs to someone else: EEXIST, and it stays as it was. */
	shared_page();
	server_start(&s, "4242\n");
	if (!await_end(&s, STOP_MS))
		fail_now(&s,
			 "the pid file already existed, and the server had not given up %d ms "
			 "later: %s. Create the pid file with O_EXCL and return -1 when it fails "
			 "(EEXIST: another server runs).",
			 STOP_MS, server_state(&s, state, sizeof(state)));
	fd = open(s.pid_path, O_RDONLY);
	n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	if (fd >= 0)
		close(fd);
	text[n > 0 ? n : 0] = '\0';
	if (!sh->returned || sh->ret != -1 || sh->err != EEXIST)
		fail_now(&s,
			 "the pid file already existed; expected serve_until_signal() to return -1 "
			 "with EEXIST, got: %s.",
			 server_state(&s, state, sizeof(state)));
	if (strcmp(text, "4242\n") != 0)
		fail_now(&s,
			 "the pid file of another server was %s: a file you did not create is not "
			 "yours to change or remove.",
			 n < 0 ? "removed" : "overwritten");
	unlink(s.pid_path);
	if (sh->restore_msg[0] || sh->fd_msg[0])
		fail_now(&s,
			 "on the EEXIST error path, %s%s%s: undo sig_install() before returning.",
			 sh->restore_msg, sh->restore_msg[0] && sh->fd_msg[0] ? "; " : "",
			 sh->fd_msg[0] ? "descriptors left open" : "");
	server_finish(&s);

	/* on_line fails: -1 with its errno, after the whole cleanup, children included. */
	shared_page();
	server_ready(&s);
	send_line(&s, "fork 0 1");
	send_line(&s, "fail");
	if (!await_lines(&s, "forked 0", 1, REPLY_MS))
		fail_now(&s, "the server did not get through on_line's \"fork\": %s.",
			 server_state(&s, state, sizeof(state)));
	usleep(50000);
	open_gate(&s, 0);
	if (!await_end(&s, STOP_MS))
		fail_now(&s,
			 "on_line failed (-1, EPROTO), and the server had not returned %d ms "
			 "later: %s.",
			 STOP_MS, server_state(&s, state, sizeof(state)));
	check_clean_end(&s, -1, "when on_line fails");
	if (sh->err != EPROTO)
		fail_now(&s,
			 "when on_line fails with EPROTO, serve_until_signal() must return -1 with "
			 "errno EPROTO; errno was %s: save errno before the cleanup calls.",
			 ename(sh->err));
	if (sh->children_left > 0)
		fail_now(&s,
			 "when on_line failed, serve_until_signal() returned with %d child still "
			 "running or a zombie: wait for the children on the error path too.",
			 sh->children_left);
	server_finish(&s);
}
END_TEST

void suite_define(void)
{
	/* Core: the handler and its installation. */
	SUITE_TEST(test_install_flags, 2,
		   "Which flags does your handler get installed with?\n"
		   "signal() is glibc's SA_RESTART or System V's SA_RESETHAND, depending on the "
		   "library; sigaction(2) lets you choose the flags.\n"
		   "sigaction(sig, &sa, &saved->old[i]) with sa.sa_flags = 0 (SA_NOCLDSTOP for "
		   "SIGCHLD is fine), never SA_RESTART or SA_RESETHAND.");
	SUITE_TEST(test_install_records_signals, 2,
		   "What does your handler change besides its flag?\n"
		   "A handler runs between any two instructions; the write() it calls may change "
		   "errno under the interrupted code: signal-safety(7).\n"
		   "Handler: int e = errno; pending[sig] = 1; write one byte to the self-pipe; "
		   "errno = e. sig_next() takes one flag and clears it.");
	SUITE_TEST(test_restore_actions, 2,
		   "Is what sig_restore() puts back exactly what was there before, mask and flags "
		   "included?\n"
		   "sigaction(2) hands back the previous action in its third argument, whole: "
		   "handler, flags and mask.\n"
		   "Keep each old struct sigaction from sig_install and pass exactly it back; then "
		   "close the self-pipe and set its ends to -1.");

	/* The server. */
	SUITE_TEST(test_serve_lines_eof, 2,
		   "Does every line, the empty one and a last one without '\\n', reach on_line(), "
		   "and what happens at end of input?\n"
		   "read(2) returns any number of bytes, part of a line or several; 0 means end of "
		   "input.\n"
		   "Buffer the input and call on_line() once per line; at end of input, handle a "
		   "last partial line, clean up, write \"bye 0\" and return 0.");
	SUITE_TEST(test_serve_sigterm_shutdown, 3,
		   "Does your loop wake up when SIGTERM comes while it waits for input?\n"
		   "A handler cannot do the shutdown itself; the self-pipe trick makes poll(2) "
		   "wake up: write a byte in the handler, poll its read end.\n"
		   "poll() on in_fd and the self-pipe; on SIGTERM or SIGINT wait for children, "
		   "remove the pid file, write \"bye SIG\", restore and return the signal.");
	SUITE_TEST(
	    test_serve_eintr_continues, 2,
	    "What does your loop do when read() or poll() fails with EINTR?\n"
	    "Without SA_RESTART a signal makes a blocked call fail with EINTR; that only means a "
	    "signal came: signal(7).\n"
	    "if (errno == EINTR) { handle what sig_next() returns; continue; } -- not an error.");
	SUITE_TEST(
	    test_serve_reaps_coalesced, 3,
	    "Twelve children ended, one SIGCHLD came: how many do you reap?\n"
	    "Standard signals do not queue: one pending SIGCHLD may stand for many children: "
	    "signal(7), waitpid(2).\n"
	    "while ((pid = waitpid(-1, &status, WNOHANG)) > 0) report it; stop on 0 or ECHILD.");
	SUITE_TEST(
	    test_serve_reap_nonblocking, 2,
	    "Does your reaping wait for a child that is still running?\n"
	    "waitpid(2) blocks until a child ends unless given WNOHANG, which returns 0 when none "
	    "has ended yet.\n"
	    "Reap with waitpid(-1, &status, WNOHANG) and go back to serving when it returns 0.");
	SUITE_TEST(test_serve_shutdown_waits_children, 2,
		   "When you say bye, are your children still running?\n"
		   "A graceful shutdown waits for every child and reports each: waitpid(2) without "
		   "WNOHANG blocks until one ends.\n"
		   "On SIGTERM, loop waitpid(-1, &status, 0) (retrying EINTR) until ECHILD, "
		   "reporting each, then write \"bye 15\".");
	SUITE_TEST_EX(
	    test_serve_flood_async_safe, 3, 10, 0,
	    "What if a signal arrives while the main code is inside malloc() or printf()?\n"
	    "A handler may call only async-signal-safe functions; printf, malloc and exit take "
	    "locks the interrupted code may hold: signal-safety(7).\n"
	    "In the handler, only set a volatile sig_atomic_t flag and write() one byte to a "
	    "non-blocking self-pipe; do the rest in the loop.");

	/* Errors. */
	SUITE_TEST(test_serve_cleanup_on_error, 2,
		   "When something fails, is everything undone, and only what you made?\n"
		   "open(2) with O_CREAT | O_EXCL fails with EEXIST on an existing file, which is "
		   "not yours to remove; save errno before cleaning up.\n"
		   "On an error: save errno, wait for the children, unlink the pid file only if "
		   "you created it, sig_restore(), restore errno, return -1.");
}
