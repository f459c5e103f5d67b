/*
 * The X-ray (see xray.h): a snapshot of a test's processes, read from /proc.
 *
 * Three steps, all on the stack: list the processes of our uid with their
 * parents; walk the tree down from the roots, reading each process's state,
 * threads and descriptors; then write the processes, every pipe's ends
 * matched across them, and the IPC objects. Nothing is allocated but the
 * directory streams that opendir() makes.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipclab.h"
#include "xray.h"

#define MAX_SCANNED   1024 /* processes of our uid looked at */
#define MAX_PROCS     12   /* processes shown */
#define MAX_DEPTH     6    /* levels of children shown */
#define MAX_FDS       96   /* descriptors looked at, over every process */
#define MAX_FDS_SHOWN 10   /* descriptors listed for one process */
#define MAX_THREADS   4    /* threads of a process described one by one */
#define MAX_LINES     40   /* lines of a snapshot */
#define WIDTH         76   /* columns a line may take */

/* A process of our uid and its parent, from the first look at /proc. */
struct pair {
	pid_t pid, ppid;
};

/* A process of the tree. */
struct proc {
	pid_t pid, ppid; /* the process and its parent */
	int depth;       /* 0 for a root, 1 for its children, ... */
	char state;      /* R, S, D, Z, T, ... as /proc/PID/stat says */
	int threads;     /* how many threads it runs */
	char comm[20];   /* its name: the program, or the name it gave itself */
};

/* A descriptor a process of the tree holds. */
struct fd_entry {
	int proc;               /* the holder, an index into the snapshot's processes */
	int fd;                 /* its number in the holder */
	int mode;               /* O_RDONLY, O_WRONLY or O_RDWR */
	unsigned long long ino; /* the pipe's or FIFO's inode; 0 for anything else */
	char what[64];          /* what it points at, as readlink says it */
};

struct snapshot {
	struct proc procs[MAX_PROCS]; /* the tree, depth first */
	int nprocs;                   /* processes in it */
	int more;                     /* processes of the tree left out */
	struct fd_entry fds[MAX_FDS]; /* the processes' descriptors, in order */
	int nfds;                     /* descriptors in it */
	const struct xray_known *known;
	char cwd[256]; /* the working folder, shown as "." in paths */
};

/* The text being written, with its budget of lines. */
struct out {
	char *buf;        /* where it goes */
	size_t size, len; /* room, and bytes used */
	int lines;        /* lines written */
};

/* ==== Reading /proc ==== */

/* Read the small file at path into buf, NUL-terminated. Returns its length, or -1. */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Read a process's (or a thread's) stat file at path into p. Returns 0, or -1. */
static int read_stat(const char *path, struct proc *p)
{
	char buf[1024], *lparen, *rparen;
	int ppid = 0;

	if (slurp(path, buf, sizeof(buf)) < 0)
		return -1;
	/* The name may hold spaces and parentheses: it ends at the last ')'. */
	lparen = strchr(buf, '(');
	rparen = strrchr(buf, ')');
	if (!lparen || !rparen || rparen < lparen)
		return -1;
	snprintf(p->comm, sizeof(p->comm), "%.*s", (int)(rparen - lparen - 1), lparen + 1);
	p->threads = 1;
	/* Fields 3 and 4, then 15 more to the thread count, field 20. */
	if (sscanf(rparen + 1,
		   " %c %d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %d",
		   &p->state, &ppid, &p->threads) < 2)
		return -1;
	p->ppid = ppid;
	return 0;
}

/* The kernel function a thread sleeps in ("pipe_read"), into buf; "" when unknown. */
static void read_wchan(pid_t pid, pid_t tid, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)pid, (int)tid);
	if (slurp(path, buf, size) < 0 || strcmp(buf, "0") == 0)
		buf[0] = '\0';
}

/* List the processes of our uid with their parents into t. Returns how many. */
static int scan_processes(struct pair *t, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	struct stat st;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char path[64];
		struct proc p;

		if (e->d_name[0] < '1' || e->d_name[0] > '9' ||
		    fstatat(dirfd(d), e->d_name, &st, 0) < 0 || st.st_uid != getuid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", atoi(e->d_name));
		if (read_stat(path, &p) == 0)
			t[n++] = (struct pair){atoi(e->d_name), p.ppid};
	}
	closedir(d);
	return n;
}

/* True when the snapshot has pid already (roots may descend from one another). */
static int has_proc(const struct snapshot *s, pid_t pid)
{
	for (int i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return 1;
	return 0;
}

/* Read pid's state into the snapshot's next process. Returns 0, or -1 when it has ended. */
static int add_proc(struct snapshot *s, pid_t pid, int depth)
{
	struct proc *p = &s->procs[s->nprocs];
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_stat(path, p) < 0)
		return -1;
	p->pid = pid;
	p->depth = depth;
	s->nprocs++;
	return 0;
}

/*
 * Add pid and its descendants (from the scanned pairs) to the snapshot,
 * depth first. Those beyond MAX_PROCS or MAX_DEPTH are only counted.
 */
static void add_tree(struct snapshot *s, const struct pair *t, int n, pid_t pid, int depth)
{
	if (has_proc(s, pid))
		return;
	if (s->nprocs == MAX_PROCS || depth > MAX_DEPTH)
		s->more++;
	else if (add_proc(s, pid, depth) < 0)
		return; /* it ended meanwhile */
	/* The depth bound ends a cycle that pids reused while scanning could make. */
	for (int i = 0; i < n && depth < MAX_SCANNED; i++)
		if (t[i].ppid == pid && t[i].pid != pid)
			add_tree(s, t, n, t[i].pid, depth + 1);
}

/* ==== Descriptors ==== */

/* True when the object was open in the test process when the test began. */
static int is_known(const struct xray_known *k, const struct stat *st, int fd, int anon)
{
	for (int i = 0; k && i < k->n; i++)
		if (k->obj[i].dev == st->st_dev && k->obj[i].ino == st->st_ino &&
		    (!anon || k->obj[i].fd == fd))
			return 1;
	return 0;
}

/* The access mode of pid's descriptor fd, from the flags in /proc/PID/fdinfo/FD. */
static int fd_mode(pid_t pid, int fd)
{
	char path[64], buf[512], *flags;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	if (slurp(path, buf, sizeof(buf)) < 0 || !(flags = strstr(buf, "flags:")))
		return O_RDWR;
	return (int)(strtol(flags + 6, NULL, 8) & O_ACCMODE);
}

/* Record descriptor fd of the snapshot's process i, unless the test began with it. */
static void add_fd(struct snapshot *s, int i, int fd)
{
	struct fd_entry *f = &s->fds[s->nfds];
	pid_t pid = s->procs[i].pid;
	size_t cwd = strlen(s->cwd);
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	if (proc_describe_fd(pid, fd, f->what, sizeof(f->what)) < 0 || stat(path, &st) < 0 ||
	    is_known(s->known, &st, fd, strncmp(f->what, "anon_inode:", 11) == 0))
		return;
	f->proc = i;
	f->fd = fd;
	f->mode = fd_mode(pid, fd);
	f->ino = S_ISFIFO(st.st_mode) ? (unsigned long long)st.st_ino : 0;
	/* A path in the test's working folder is shown from it: "./fifo". */
	if (cwd > 1 && strncmp(f->what, s->cwd, cwd) == 0 && f->what[cwd] == '/') {
		memmove(f->what + 1, f->what + cwd, strlen(f->what + cwd) + 1);
		f->what[0] = '.';
	}
	s->nfds++;
}

/* Record the descriptors of the snapshot's process i, in their numbers' order. */
static void read_fds(struct snapshot *s, int i)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int numbers[MAX_FDS], n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)s->procs[i].pid);
	d = opendir(path);
	if (!d)
		return;
	/* Reading our own descriptors, the listing's own is not one of them. */
	while ((e = readdir(d)) && n < MAX_FDS)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' &&
		    (s->procs[i].pid != getpid() || atoi(e->d_name) != dirfd(d)))
			numbers[n++] = atoi(e->d_name);
	closedir(d);
	/* /proc lists them in order already; a few fds need no faster sort. */
	for (int a = 1; a < n; a++)
		for (int b = a; b > 0 && numbers[b - 1] > numbers[b]; b--) {
			int x = numbers[b];

			numbers[b] = numbers[b - 1];
			numbers[b - 1] = x;
		}
	for (int k = 0; k < n && s->nfds < MAX_FDS; k++)
		add_fd(s, i, numbers[k]);
}

/* ==== Writing ==== */

/* Write one line of n bytes of text at indent, within the budget of lines. */
static void put(struct out *o, int indent, const char *text, size_t n)
{
	int w;

	if (o->lines >= MAX_LINES || o->len >= o->size)
		return;
	if (++o->lines == MAX_LINES) {
		text = "[... cut: too much to show]";
		n = strlen(text);
	}
	w = snprintf(o->buf + o->len, o->size - o->len, "%*s%.*s\n", indent, "", (int)n, text);
	o->len += w > 0 ? (size_t)w : 0;
	if (o->len >= o->size)
		o->len = o->size - 1; /* cut short; snprintf has ended it with a NUL */
}

/* Where to cut text to fit room columns: after a comma, else at a space, else anywhere. */
static size_t wrap_at(const char *text, size_t room)
{
	size_t cut = room;

	while (cut > room / 3 && !(text[cut] == ' ' && text[cut - 1] == ','))
		cut--;
	if (cut > room / 3)
		return cut;
	for (cut = room; cut > room / 2 && text[cut] != ' ';)
		cut--;
	return text[cut] == ' ' ? cut : room;
}

/* Write text at indent, wrapped at spaces to WIDTH; continued lines go 4 further in. */
static void put_line(struct out *o, int indent, const char *text)
{
	int more = 0;

	do {
		size_t room = (size_t)(WIDTH - indent - more), n = strlen(text);

		if (n > room)
			n = wrap_at(text, room);
		put(o, indent + more, text, n);
		text += n;
		text += *text == ' ';
		more = 4;
	} while (*text);
}

/* Like snprintf, appending to buf (of size) at *len; never past the end. */
static void append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	*len += w > 0 ? (size_t)w : 0;
}

/* What a single-threaded process is doing, in words: its state and where it sleeps. */
static void describe_state(pid_t pid, char state, char *buf, size_t size)
{
	char wchan[64];

	read_wchan(pid, pid, wchan, sizeof(wchan));
	switch (state) {
	case 'Z':
		snprintf(buf, size, "Z zombie: it has ended, and nobody has waited for it");
		break;
	case 'R':
		snprintf(buf, size, "R running");
		break;
	case 'T':
	case 't':
		snprintf(buf, size, "%c stopped", state);
		break;
	default:
		snprintf(buf, size, "%c %s%s%s", state, state == 'D' ? "blocked" : "sleeping",
			 wchan[0] ? " in " : "", wchan);
	}
}

/* Each thread's state and where it sleeps ("S in futex_wait_queue, R"), into buf. */
static void describe_threads(const struct proc *p, char *buf, size_t size)
{
	char path[64];
	struct dirent *e;
	size_t len = 0;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	append(buf, size, &len, "%d threads:", p->threads);
	d = opendir(path);
	while (d && (e = readdir(d)) && n < MAX_THREADS) {
		pid_t tid = atoi(e->d_name);
		char tpath[96], wchan[64];
		struct proc t;

		snprintf(tpath, sizeof(tpath), "%s/%d/stat", path, (int)tid);
		if (tid <= 0 || read_stat(tpath, &t) < 0)
			continue;
		read_wchan(p->pid, tid, wchan, sizeof(wchan));
		append(buf, size, &len, "%s %c%s%s", n++ ? "," : "", t.state,
		       wchan[0] ? " in " : "", wchan);
	}
	if (d)
		closedir(d);
	if (p->threads > n)
		append(buf, size, &len, ", ...");
}

/* What a process of the tree is to the student, after its name: the roots are the test. */
static const char *role(const struct proc *p)
{
	if (p->depth > 0)
		return "";
	return p->pid == getpid() ? ", the test itself (taking this X-ray)" : ", the test itself";
}

/* One line for the snapshot's process i. */
static void put_process(struct out *o, const struct snapshot *s, int i)
{
	const struct proc *p = &s->procs[i];
	char line[320], doing[200];

	if (p->threads > 1 && p->state != 'Z')
		describe_threads(p, doing, sizeof(doing));
	else
		describe_state(p->pid, p->state, doing, sizeof(doing));
	snprintf(line, sizeof(line), "pid %d (%s)%s: %s", (int)p->pid, p->comm, role(p), doing);
	put_line(o, 2 * p->depth, line);
}

/* The end of a pipe or FIFO that a descriptor with this access mode holds. */
static const char *end_name(int mode)
{
	return mode == O_RDONLY ? "read end" : mode == O_WRONLY ? "write end" : "both ends";
}

/* The access a descriptor of a file has, in words. */
static const char *mode_name(int mode)
{
	return mode == O_RDONLY ? "read" : mode == O_WRONLY ? "write" : "read-write";
}

/* A descriptor in words ("4 pipe 5123 read end"), appended to buf at *len. */
static void describe_fd(const struct fd_entry *f, char *buf, size_t size, size_t *len)
{
	const char *what = f->what;

	append(buf, size, len, "%s%d ", *len ? ", " : "fds ", f->fd);
	if (strncmp(what, "pipe:[", 6) == 0)
		append(buf, size, len, "pipe %llu %s", f->ino, end_name(f->mode));
	else if (f->ino)
		append(buf, size, len, "FIFO %s %s", what, end_name(f->mode));
	else if (strncmp(what, "socket:[", 8) == 0)
		append(buf, size, len, "socket %.*s", (int)strcspn(what + 8, "]"), what + 8);
	else if (strncmp(what, "anon_inode:", 11) == 0)
		append(buf, size, len, "%s", what + 11); /* "[eventfd]", "[eventpoll]", ... */
	else
		append(buf, size, len, "%s (%s)", what, mode_name(f->mode));
}

/* The line of descriptors of the snapshot's process i, if it holds any of its own. */
static void put_fds(struct out *o, const struct snapshot *s, int i)
{
	char line[1024];
	size_t len = 0;
	int n = 0;

	line[0] = '\0';
	for (int k = 0; k < s->nfds; k++)
		if (s->fds[k].proc == i && n++ < MAX_FDS_SHOWN)
			describe_fd(&s->fds[k], line, sizeof(line), &len);
	if (n > MAX_FDS_SHOWN)
		append(line, sizeof(line), &len, ", and %d more", n - MAX_FDS_SHOWN);
	if (len)
		put_line(o, 2 * s->procs[i].depth + 2, line);
}

/* True when descriptor f holds pipe ino's end for mode (O_RDONLY or O_WRONLY). */
static int holds(const struct fd_entry *f, unsigned long long ino, int mode)
{
	return f->ino == ino && (f->mode == mode || f->mode == O_RDWR);
}

/*
 * Append who holds pipe ino's end for mode to buf: " in pid 3 (fd 5) and
 * pid 4 (fds 1, 6)". Returns how many processes do.
 */
static int holders(const struct snapshot *s, unsigned long long ino, int mode, char *buf,
		   size_t size, size_t *len)
{
	int procs[MAX_PROCS], nprocs = 0;

	for (int k = 0; k < s->nfds; k++)
		if (holds(&s->fds[k], ino, mode) &&
		    (nprocs == 0 || procs[nprocs - 1] != s->fds[k].proc))
			procs[nprocs++] = s->fds[k].proc;
	for (int i = 0; i < nprocs; i++) {
		int n = 0, count = 0;

		for (int k = 0; k < s->nfds; k++)
			count += holds(&s->fds[k], ino, mode) && s->fds[k].proc == procs[i];
		append(buf, size, len, "%s pid %d (fd%s",
		       i == 0            ? " in"
		       : i == nprocs - 1 ? " and"
					 : ",",
		       (int)s->procs[procs[i]].pid, count > 1 ? "s" : "");
		for (int k = 0; k < s->nfds; k++)
			if (holds(&s->fds[k], ino, mode) && s->fds[k].proc == procs[i])
				append(buf, size, len, "%s %d", n++ ? "," : "", s->fds[k].fd);
		append(buf, size, len, ")");
	}
	return nprocs;
}

/* One line a pipe or FIFO: which processes hold its write end and its read end. */
static void put_pipes(struct out *o, const struct snapshot *s)
{
	int header = 0;

	for (int k = 0; k < s->nfds; k++) {
		const struct fd_entry *f = &s->fds[k];
		char line[512];
		size_t len = 0;
		int first = 1;

		for (int j = 0; j < k && first; j++)
			first = s->fds[j].ino != f->ino;
		if (!f->ino || !first)
			continue;
		if (!header++)
			put_line(o, 0, "Pipes:");
		if (strncmp(f->what, "pipe:[", 6) == 0)
			append(line, sizeof(line), &len, "pipe %llu: write end", f->ino);
		else
			append(line, sizeof(line), &len, "FIFO %s: write end", f->what);
		if (!holders(s, f->ino, O_WRONLY, line, sizeof(line), &len))
			append(line, sizeof(line), &len, " closed everywhere");
		append(line, sizeof(line), &len, ", read end");
		if (!holders(s, f->ino, O_RDONLY, line, sizeof(line), &len))
			append(line, sizeof(line), &len, " closed everywhere");
		put_line(o, 2, line);
	}
}

/* The IPC objects alive, one a line. */
static void put_ipc(struct out *o, const char *ipc)
{
	if (!ipc || !ipc[0])
		return;
	put_line(o, 0, "IPC objects alive:");
	while (*ipc) {
		size_t n = strcspn(ipc, "\n");
		char line[300];

		snprintf(line, sizeof(line), "%.*s", (int)n, ipc);
		if (n)
			put_line(o, 2, line);
		ipc += n + (ipc[n] == '\n');
	}
}

/* ==== The snapshot ==== */

void xray_remember(struct xray_known *k, int fd)
{
	char what[64];
	struct stat st;

	if (k->n == XRAY_KNOWN || fstat(fd, &st) < 0)
		return;
	k->obj[k->n].dev = st.st_dev;
	k->obj[k->n].ino = st.st_ino;
	k->obj[k->n].fd = fd;
	k->obj[k->n].anon = proc_describe_fd(0, fd, what, sizeof(what)) == 0 &&
			    strncmp(what, "anon_inode:", 11) == 0;
	k->n++;
}

size_t xray_take(char *buf, size_t size, const pid_t *roots, int nroots,
		 const struct xray_known *known, const char *ipc)
{
	struct pair scanned[MAX_SCANNED];
	struct snapshot s = {.known = known};
	struct out o = {.buf = buf, .size = size};
	int n;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	n = scan_processes(scanned, MAX_SCANNED);
	if (!getcwd(s.cwd, sizeof(s.cwd)))
		s.cwd[0] = '\0';
	for (int i = 0; i < nroots; i++)
		add_tree(&s, scanned, n, roots[i], 0);
	for (int i = 0; i < s.nprocs; i++)
		read_fds(&s, i);
	put_line(&o, 0, "Processes (and the descriptors each opened since the test began):");
	for (int i = 0; i < s.nprocs; i++) {
		put_process(&o, &s, i);
		put_fds(&o, &s, i);
	}
	if (s.more) {
		char line[64];

		snprintf(line, sizeof(line), "[... and %d more processes]", s.more);
		put_line(&o, 0, line);
	}
	put_pipes(&o, &s);
	put_ipc(&o, ipc);
	if (o.len > 0 && buf[o.len - 1] == '\n')
		buf[--o.len] = '\0'; /* lines are separated, not ended */
	return o.len;
}
