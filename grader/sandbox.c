/*
 * The sandbox (see sandbox.h). The child side runs between fork and exec
 * in a grader that has several threads, so it calls nothing but system
 * calls: everything it needs is prepared in a struct plan before the fork.
 *
 * Namespace mode, three processes:
 *	outer	our child: its own process group; unshares the namespaces
 *	init	pid 1 of the new PID namespace: mounts, brings lo up, starts
 *		the target, reaps everything, reports the target's status
 *		through a pipe, then exits, and the kernel kills what is left
 *	target	the program, with limits, as an unprivileged user
 * Plain mode: our child is the target, in a process group of its own.
 *
 * In both modes the grader is a child subreaper: whatever escapes the
 * process group is reparented to us and swept when the run ends.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"
#include "sandbox.h"

#define UID_BASE    61000 /* as root, slot n runs as uid and gid UID_BASE + n */
#define INNER_UID   1000  /* as a user, the target's uid inside its user namespace */
#define RESULTS_CAP (1u << 20)
#define GRACE_MS    200 /* how long pipes may stay open after the program ended */
#define MAX_ACTIVE  256
#define SLOTS       256 /* uids UID_BASE .. UID_BASE + SLOTS - 1 */
#define SLOT_DIR    "/run/lock/ipclab"

/* Where the child side finds its descriptors. */
enum { FD_OUT = 10, FD_RES, FD_STATUS, FD_ERR, FD_FIRST_FREE };

struct plan {
	const struct sandbox_opts *o;
	int ns;           /* namespace mode */
	int userns;       /* also a user namespace (not root) */
	int drop;         /* switch to uid/gid before exec */
	uid_t uid;        /* the target's uid (as seen where it runs) */
	gid_t gid;        /* the target's gid */
	char uid_map[64]; /* for the user namespace */
	char gid_map[64];
	const char *cwd; /* the working folder */
	int slot_lock;   /* held while the uid is ours (-1: none) */
	int fd[4];       /* write ends: output, results (or -1), status, exec error */
};

static enum sandbox_mode mode = SANDBOX_NAMESPACES;
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int forced_plain;

/* Our children that are sandboxes at work; any other child is a stray to sweep. */
static pthread_mutex_t active_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t active[MAX_ACTIVE];
static char active_dirs[MAX_ACTIVE][PATH_MAX]; /* their private working folders */

/* ==== The child side: system calls only ==== */

/* Report errno and what failed through the exec-error pipe, then leave. */
static void child_fail(const char *what)
{
	int e = errno;

	if (write(FD_ERR, &e, sizeof(e)) == sizeof(e))
		(void)!write(FD_ERR, what, strlen(what));
	_exit(127);
}

/* Move the plan's descriptors to FD_OUT.. and close every other one. */
static void place_fds(struct plan *p)
{
	int tmp[4];

	for (int i = 0; i < 4; i++)
		tmp[i] = p->fd[i] < 0 ? -1 : fcntl(p->fd[i], F_DUPFD, 1000 + i);
	for (int i = 0; i < 4; i++)
		if (tmp[i] >= 0 && dup2(tmp[i], FD_OUT + i) < 0)
			_exit(126);
	syscall(SYS_close_range, 3, FD_OUT - 1, 0);
	syscall(SYS_close_range, FD_FIRST_FREE, ~0U, 0);
	fcntl(FD_ERR, F_SETFD, FD_CLOEXEC);
}

static void set_limit(int resource, rlim_t value)
{
	struct rlimit rl = {value, value};

	setrlimit(resource, &rl);
}

static void set_limits(const struct plan *p)
{
	const struct sandbox_opts *o = p->o;
	rlim_t cpu = (rlim_t)o->timeout_s + 2;

	set_limit(RLIMIT_CPU, cpu);
	set_limit(RLIMIT_CORE, 0);
	set_limit(RLIMIT_FSIZE, 64u << 20);
	if (!o->isolate)
		return;
	set_limit(RLIMIT_NOFILE, 2048);
	if (o->mem_mb >= 0)
		set_limit(RLIMIT_AS, (rlim_t)(o->mem_mb ? o->mem_mb : 1024) << 20);
	if (p->drop || p->userns)
		set_limit(RLIMIT_NPROC, (rlim_t)(o->nproc ? o->nproc : 256));
}

static void drop_privileges(const struct plan *p)
{
	if (!p->drop)
		return;
	if (setgroups(0, NULL) < 0 && !p->userns)
		child_fail("setgroups");
	if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0)
		child_fail("setresgid");
	if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
		child_fail("setresuid");
}

static void exec_target(struct plan *p)
{
	int devnull = open("/dev/null", O_RDONLY);

	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(FD_OUT, 1) < 0 || dup2(FD_OUT, 2) < 0)
		child_fail("set up stdin and stdout");
	if (devnull > 2)
		close(devnull);
	if (p->fd[1] >= 0 && dup2(FD_RES, 3) < 0)
		child_fail("set up the results pipe");
	close(FD_OUT);
	close(FD_RES);
	close(FD_STATUS);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (chdir(p->cwd) < 0)
		child_fail("chdir to the working folder");
	set_limits(p);
	drop_privileges(p);
	execve(p->o->argv[0], p->o->argv, p->o->envp);
	child_fail(p->o->argv[0]);
}

static void bring_loopback_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

/* Is path inside the folder dir (or dir itself)? */
static int is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/*
 * Remount the mount at path with flags, keeping the flags the kernel locks
 * in a user namespace (nosuid, nodev, noexec and the atime ones).
 */
static int remount(const char *path, unsigned long flags)
{
	static const struct {
		unsigned long st, ms;
	} kept[] = {{ST_NOSUID, MS_NOSUID},         {ST_NODEV, MS_NODEV},
		    {ST_NOEXEC, MS_NOEXEC},         {ST_NOATIME, MS_NOATIME},
		    {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME}};
	struct statvfs vfs;

	if (statvfs(path, &vfs) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (vfs.f_flag & kept[i].st)
			flags |= kept[i].ms;
	return mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | flags, NULL);
}

/* Make the folder path and its parents (mkdir -p), with nothing but system calls. */
static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, path, n + 1);
	for (char *q = buf + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*q = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/*
 * A /tmp of the namespace's own, so that two submissions graded at once
 * never meet in it. What must stay visible and lives in /tmp — the working
 * folder, the toolkit, the class — is mounted back at its own path, parents
 * first. Skipped when the program itself would be hidden.
 */
static void private_tmp(const struct plan *p)
{
	const char *keep[8];
	int fd[8], n = 0, covered = !is_under(p->o->argv[0], "/tmp");
	char fdpath[32];

	if (is_under(p->cwd, "/tmp"))
		keep[n++] = p->cwd;
	for (const char *const *dir = p->o->readonly; dir && *dir && n < 8; dir++)
		if (is_under(*dir, "/tmp") && access(*dir, F_OK) == 0) {
			keep[n++] = *dir;
			covered |= is_under(p->o->argv[0], *dir);
		}
	if (!covered)
		return;
	/* Parents before children, so that a folder inside another is not hidden again. */
	for (int a = 1; a < n; a++)
		for (int b = a; b > 0 && strlen(keep[b]) < strlen(keep[b - 1]); b--) {
			const char *t = keep[b];

			keep[b] = keep[b - 1];
			keep[b - 1] = t;
		}
	for (int i = 0; i < n; i++)
		if ((fd[i] = open(keep[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
			child_fail("open a folder to keep in the private /tmp");
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m") < 0)
		child_fail("mount /tmp");
	for (int i = 0; i < n; i++) {
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd[i]);
		if (mkdir_parents(keep[i]) < 0 ||
		    mount(fdpath, keep[i], NULL, MS_BIND | MS_REC, NULL) < 0)
			child_fail("mount a folder back in the private /tmp");
		close(fd[i]);
	}
}

/*
 * Make the folders o->readonly names read-only in this namespace (the
 * toolkit, the class, the user's home), then the working folder writable
 * again if it lies in one of them: a submission can change nothing but its
 * own working folder.
 */
static void protect_folders(const struct plan *p)
{
	int inside = 0;

	for (const char *const *dir = p->o->readonly; dir && *dir; dir++) {
		if (access(*dir, F_OK) < 0)
			continue; /* hidden by the private /tmp, or gone: nothing to protect */
		if (mount(*dir, *dir, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    remount(*dir, MS_RDONLY) < 0)
			child_fail("make the toolkit's and the submissions' folders read-only");
		inside |= is_under(p->cwd, *dir);
	}
	if (inside && (mount(p->cwd, p->cwd, NULL, MS_BIND, NULL) < 0 || remount(p->cwd, 0) < 0))
		child_fail("make the working folder writable");
}

/* Give the namespace its own /proc, /dev/shm, /dev/mqueue and /tmp; protect the rest. */
static void mount_private(const struct plan *p)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		child_fail("make mounts private");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		child_fail("mount /proc");
	if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=256m") < 0)
		child_fail("mount /dev/shm");
	/* Not every system has /dev/mqueue; mq_open works without it. */
	mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	private_tmp(p);
	protect_folders(p);
}

/* Pid 1 of the namespace: start the target, reap all, report its status. */
static void run_init(struct plan *p)
{
	pid_t target, pid;
	int status = 0, st;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	mount_private(p);
	bring_loopback_up();
	target = fork();
	if (target < 0)
		child_fail("fork the target");
	if (target == 0)
		exec_target(p);
	close(FD_OUT);
	close(FD_RES);
	while ((pid = wait(&st)) != target)
		if (pid < 0 && errno != EINTR)
			_exit(126);
	status = st;
	(void)!write(FD_STATUS, &status, sizeof(status));
	_exit(0); /* the kernel now kills every process left in the namespace */
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		child_fail(path);
	close(fd);
}

static void run_outer(struct plan *p)
{
	sigset_t none;

	/* The grader may block signals for its own handling: the tests start with none blocked. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int flags = CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS | CLONE_NEWNET;
	pid_t init;
	int st;

	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	place_fds(p);
	if (!p->ns)
		exec_target(p);
	if (p->userns) {
		if (unshare(CLONE_NEWUSER) < 0)
			child_fail("unshare a user namespace");
		write_file("/proc/self/setgroups", "deny");
		write_file("/proc/self/uid_map", p->uid_map);
		write_file("/proc/self/gid_map", p->gid_map);
	}
	if (unshare(flags) < 0)
		child_fail("unshare namespaces");
	init = fork();
	if (init < 0)
		child_fail("fork the namespace's init");
	if (init == 0)
		run_init(p);
	close(FD_OUT);
	close(FD_RES);
	close(FD_STATUS);
	while (waitpid(init, &st, 0) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* ==== Our side ==== */

static int track(pid_t pid, pid_t replace)
{
	int ok = 0;

	for (int i = 0; i < MAX_ACTIVE && !ok; i++)
		if (active[i] == replace) {
			active[i] = pid;
			ok = 1;
		}
	return ok;
}

/* Remember (dir set) or forget (dir NULL) the working folder of a run. */
static void track_dir(const char *dir, const char *forget)
{
	pthread_mutex_lock(&active_lock);
	for (int i = 0; i < MAX_ACTIVE; i++) {
		if (dir && !active_dirs[i][0]) {
			snprintf(active_dirs[i], sizeof(active_dirs[i]), "%s", dir);
			break;
		}
		if (forget && strcmp(active_dirs[i], forget) == 0) {
			active_dirs[i][0] = '\0';
			break;
		}
	}
	pthread_mutex_unlock(&active_lock);
}

static int is_active(pid_t pid)
{
	for (int i = 0; i < MAX_ACTIVE; i++)
		if (active[i] == pid)
			return 1;
	return 0;
}

/* Kill and reap our children that no sandbox owns: what escaped a process group. */
static void sweep_strays(void)
{
	for (int round = 0; round < 50; round++) {
		DIR *tasks = opendir("/proc/self/task");
		struct dirent *e;
		int found = 0;

		if (!tasks)
			return;
		pthread_mutex_lock(&active_lock);
		/* Every thread's children count: each thread may have forked. */
		while ((e = readdir(tasks))) {
			char path[300], buf[4096];
			FILE *f;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
			f = fopen(path, "r");
			if (!f)
				continue;
			while (fscanf(f, "%4095s", buf) == 1) {
				pid_t pid = atoi(buf);

				if (pid > 0 && !is_active(pid)) {
					kill(pid, SIGKILL);
					waitpid(pid, NULL, 0);
					found = 1;
				}
			}
			fclose(f);
		}
		pthread_mutex_unlock(&active_lock);
		closedir(tasks);
		if (!found)
			break;
	}
}

/* Remove what a plain-mode run as uid left in a shared IPC folder. */
static void sweep_ipc_folder(const char *dir, uid_t uid)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (st.st_uid == uid)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* The column of /proc/sysvipc/<kind> called name, from its header line; -1 if none. */
static int column_of(char *header, const char *name)
{
	int col = 0;

	for (char *w = strtok(header, " \t\n"); w; w = strtok(NULL, " \t\n"), col++)
		if (strcmp(w, name) == 0)
			return col;
	return -1;
}

/* Remove the System V objects (kind: "shm", "msg" or "sem") that uid owns. */
static void sweep_sysv(const char *kind, uid_t uid)
{
	char path[64], line[512];
	FILE *f;
	int uid_col;

	snprintf(path, sizeof(path), "/proc/sysvipc/%s", kind);
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f) || (uid_col = column_of(line, "uid")) < 0) {
		if (f)
			fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		long v[32];
		int n = 0;

		for (char *w = strtok(line, " \t\n"); w && n < 32; w = strtok(NULL, " \t\n"))
			v[n++] = strtol(w, NULL, 10);
		if (n <= uid_col || (uid_t)v[uid_col] != uid)
			continue;
		if (kind[1] == 'h')
			shmctl((int)v[1], IPC_RMID, NULL);
		else if (kind[0] == 'm')
			msgctl((int)v[1], IPC_RMID, NULL);
		else
			semctl((int)v[1], 0, IPC_RMID);
	}
	fclose(f);
}

static void remove_tree(const char *dir);

/* Remove what the sandbox's uid left in /tmp: files, FIFOs, sockets and folders. */
static void sweep_tmp(uid_t uid)
{
	DIR *d = opendir("/tmp");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;
		char path[PATH_MAX];

		if (e->d_name[0] == '.' &&
		    (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_uid != uid)
			continue;
		snprintf(path, sizeof(path), "/tmp/%s", e->d_name);
		if (S_ISDIR(st.st_mode))
			remove_tree(path);
		else
			unlink(path);
	}
	closedir(d);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int run(const struct sandbox_opts *o, struct sandbox_outcome *out);

static void probe(void)
{
	static char *const argv[] = {"/bin/true", NULL};
	static char *const envp[] = {NULL};
	struct sandbox_opts o = {.argv = argv, .envp = envp, .timeout_s = 10, .isolate = 1};
	struct sandbox_outcome out;
	const char *env = getenv("IPCLAB_SANDBOX");

	/* Orphans of a sandbox come to us, to be swept, rather than to init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (forced_plain || (env && strcmp(env, "plain") == 0)) {
		mode = SANDBOX_PLAIN;
		return;
	}
	mode = SANDBOX_NAMESPACES;
	if (run(&o, &out) < 0 || !out.exited || out.status != 0)
		mode = SANDBOX_PLAIN;
	sandbox_outcome_free(&out);
}

enum sandbox_mode sandbox_mode(void)
{
	pthread_once(&probe_once, probe);
	return mode;
}

void sandbox_force_plain(void)
{
	forced_plain = 1;
}

const char *sandbox_describe(void)
{
	int root = geteuid() == 0;

	if (sandbox_mode() == SANDBOX_NAMESPACES)
		return root ? "namespaces (pid, ipc, mount, net) and one uid per job"
			    : "namespaces (user, pid, ipc, mount, net)";
	return root ? "process groups, limits and one uid per job (no namespaces here)"
		    : "process groups and limits (no namespaces here)";
}

/*
 * Take a uid slot that no other sandbox on this machine holds, starting at
 * hint: a lock file a slot, held (flock) for the run. Every grader running at
 * once, in this process or another, so gets a uid of its own, and the
 * process limit of one never counts another's processes. Returns the slot
 * and its lock's descriptor in *fd, or -1 when all are taken.
 */
static int take_slot(int hint, int *fd)
{
	/* /run/lock is the place for lock files; a system without it gets /tmp. */
	const char *dir =
	    mkdir(SLOT_DIR, 0700) == 0 || errno == EEXIST ? SLOT_DIR : "/tmp/.ipclab-slots";

	mkdir(dir, 0700);
	for (int k = 0; k < SLOTS; k++) {
		char path[64];
		int n = (hint + k) % SLOTS;

		snprintf(path, sizeof(path), "%s/%d", dir, n);
		*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (*fd < 0)
			return -1;
		if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
			return n;
		close(*fd);
	}
	*fd = -1;
	return -1;
}

/* Fill in the plan: mode, identities, working folder. Returns 0, or -1. */
static int prepare(struct plan *p, const struct sandbox_opts *o, char *tmpdir, size_t size)
{
	int root = geteuid() == 0;

	memset(p, 0, sizeof(*p));
	p->o = o;
	p->ns = o->isolate && mode == SANDBOX_NAMESPACES;
	p->userns = p->ns && !root;
	p->drop = o->isolate && root;
	p->slot_lock = -1;
	p->uid = p->gid = INNER_UID;
	if (p->drop) {
		int slot = take_slot(o->slot, &p->slot_lock);

		if (slot < 0)
			return -1;
		p->uid = UID_BASE + (uid_t)slot;
		p->gid = UID_BASE + (gid_t)slot;
	}
	p->drop |= p->userns;
	snprintf(p->uid_map, sizeof(p->uid_map), "%d %d 1", INNER_UID, (int)getuid());
	snprintf(p->gid_map, sizeof(p->gid_map), "%d %d 1", INNER_UID, (int)getgid());
	p->cwd = o->cwd;
	tmpdir[0] = '\0';
	if (!p->cwd) {
		const char *base = getenv("TMPDIR");

		if (!base || base[0] != '/' || strlen(base) > size - 20)
			base = "/tmp";
		snprintf(tmpdir, size, "%s/ipclab-XXXXXX", base);
		if (!mkdtemp(tmpdir))
			return -1;
		if (p->drop && root && chown(tmpdir, p->uid, p->gid) < 0)
			return -1;
		p->cwd = tmpdir;
	}
	return 0;
}

static int start(struct plan *p, pid_t *pid)
{
	int r = 0;

	pthread_mutex_lock(&active_lock);
	*pid = fork();
	if (*pid == 0)
		run_outer(p);
	if (*pid < 0 || !track(*pid, 0)) {
		r = -1;
		if (*pid > 0) {
			kill(*pid, SIGKILL);
			waitpid(*pid, NULL, 0);
		}
	}
	pthread_mutex_unlock(&active_lock);
	if (*pid > 0)
		setpgid(*pid, *pid); /* also done by the child: whoever runs first wins */
	return r;
}

/* Append what is readable on fd to buf (up to cap; the rest is counted, not kept). */
static int drain(int fd, char **buf, size_t *len, size_t cap, size_t *total)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0)
		return 0;
	if (total)
		*total += (size_t)n;
	if (*len < cap) {
		size_t keep = (size_t)n < cap - *len ? (size_t)n : cap - *len;
		char *grown = realloc(*buf, *len + keep + 1);

		if (!grown)
			return 1;
		*buf = grown;
		memcpy(*buf + *len, chunk, keep);
		*len += keep;
		(*buf)[*len] = '\0';
	}
	return 1;
}

struct watch {
	int out, res, status, err, pidfd; /* read ends (-1 when closed) and the child's pidfd */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Read everything the run sends until it ends, or the deadline passes. */
static void collect(struct watch *w, pid_t pid, const struct plan *p, struct sandbox_outcome *out)
{
	uint64_t start_ns = clock_now_ns();
	uint64_t deadline = start_ns + (uint64_t)(p->o->timeout_s * 1e9);
	size_t cap = p->o->output_cap ? p->o->output_cap : 65536, errlen = 0, stlen = 0;
	char *errbuf = NULL, *stbuf = NULL;
	int outer_done = 0, st = 0;

	while (!outer_done || w->out >= 0 || w->res >= 0 || w->status >= 0 || w->err >= 0) {
		struct pollfd fds[5] = {{w->out, POLLIN, 0},
					{w->res, POLLIN, 0},
					{w->status, POLLIN, 0},
					{w->err, POLLIN, 0},
					{outer_done ? -1 : w->pidfd, POLLIN, 0}};
		uint64_t now = clock_now_ns();
		int wait_ms = now >= deadline ? 0 : (int)((deadline - now) / 1000000u) + 1;
		int ready;

		if (w->pidfd < 0 && wait_ms > 20)
			wait_ms = 20; /* no pidfd on this kernel: look for the child's end often */
		ready = poll(fds, 5, wait_ms);
		if (ready == 0 && clock_now_ns() >= deadline) {
			if (!outer_done) {
				out->timed_out = 1;
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				deadline = clock_now_ns() + GRACE_MS * 1000000u;
				continue;
			}
			break; /* the pipes outlived the program: a stray holds them */
		}
		if (fds[0].revents &&
		    !drain(w->out, &out->output, &out->output_len, cap, &out->output_total))
			close_fd(&w->out);
		if (fds[1].revents &&
		    !drain(w->res, &out->results, &out->results_len, RESULTS_CAP, NULL))
			close_fd(&w->res);
		if (fds[2].revents && !drain(w->status, &stbuf, &stlen, 64, NULL))
			close_fd(&w->status);
		if (fds[3].revents && !drain(w->err, &errbuf, &errlen, 200, NULL))
			close_fd(&w->err);
		if ((fds[4].revents || (w->pidfd < 0 && !outer_done)) &&
		    waitpid(pid, &st, WNOHANG) == pid) {
			outer_done = 1;
			kill(-pid, SIGKILL); /* what is left of the group goes with it */
			deadline = clock_now_ns() + GRACE_MS * 1000000u;
		}
	}
	if (!outer_done) {
		kill(-pid, SIGKILL);
		waitpid(pid, &st, 0);
	}
	out->duration_ms = (long)((clock_now_ns() - start_ns) / 1000000u);
	if (errlen >= sizeof(int)) {
		int e;

		memcpy(&e, errbuf, sizeof(e));
		snprintf(out->error, sizeof(out->error),
			 "the sandbox could not start the program: %s: %s", errbuf + sizeof(int),
			 strerror(e));
	} else if (p->ns && stlen >= sizeof(int)) {
		memcpy(&out->status, stbuf, sizeof(int));
		out->exited = !out->timed_out;
	} else if (!p->ns) {
		out->status = st;
		out->exited = !out->timed_out;
	}
	free(errbuf);
	free(stbuf);
}

static void open_pipes(int ends[4][2], int results)
{
	for (int i = 0; i < 4; i++) {
		ends[i][0] = ends[i][1] = -1;
		if (i == 1 && !results)
			continue;
		if (pipe2(ends[i], O_CLOEXEC) < 0)
			ends[i][0] = ends[i][1] = -1;
	}
}

static int run(const struct sandbox_opts *o, struct sandbox_outcome *out)
{
	char tmpdir[PATH_MAX];
	int ends[4][2];
	struct plan p;
	struct watch w;
	pid_t pid = -1;

	memset(out, 0, sizeof(*out));
	if (prepare(&p, o, tmpdir, sizeof(tmpdir)) < 0) {
		snprintf(out->error, sizeof(out->error),
			 "could not prepare the sandbox (a uid slot and a working folder): %s",
			 strerror(errno));
		return -1;
	}
	if (tmpdir[0])
		track_dir(tmpdir, NULL);
	open_pipes(ends, o->results);
	for (int i = 0; i < 4; i++)
		p.fd[i] = ends[i][1];
	if (ends[0][0] < 0 || ends[2][0] < 0 || ends[3][0] < 0 || start(&p, &pid) < 0)
		snprintf(out->error, sizeof(out->error), "could not start the sandbox: %s",
			 strerror(errno));
	for (int i = 0; i < 4; i++)
		if (ends[i][1] >= 0)
			close(ends[i][1]);
	w = (struct watch){ends[0][0], ends[1][0], ends[2][0], ends[3][0], -1};
	if (!out->error[0]) {
		w.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		collect(&w, pid, &p, out);
		pthread_mutex_lock(&active_lock);
		track(0, pid);
		pthread_mutex_unlock(&active_lock);
	}
	close_fd(&w.out);
	close_fd(&w.res);
	close_fd(&w.status);
	close_fd(&w.err);
	close_fd(&w.pidfd);
	sweep_strays();
	if (p.drop && geteuid() == 0)
		sweep_tmp(p.uid); /* /tmp is the machine's in both modes */
	if (p.drop && !p.ns && geteuid() == 0) {
		sweep_ipc_folder("/dev/shm", p.uid);
		sweep_ipc_folder("/dev/mqueue", p.uid);
		sweep_sysv("shm", p.uid);
		sweep_sysv("msg", p.uid);
		sweep_sysv("sem", p.uid);
	}
	if (tmpdir[0]) {
		remove_tree(tmpdir);
		track_dir(NULL, tmpdir);
	}
	if (p.slot_lock >= 0)
		close(p.slot_lock); /* the uid is free for the next run */
	if (!out->output)
		out->output = calloc(1, 1);
	return out->error[0] ? -1 : 0;
}

int sandbox_run(const struct sandbox_opts *o, struct sandbox_outcome *out)
{
	if (o->isolate)
		sandbox_mode(); /* probe before the first isolated run */
	return run(o, out);
}

void sandbox_abandon(void)
{
	pthread_mutex_lock(&active_lock);
	for (int i = 0; i < MAX_ACTIVE; i++) {
		if (active[i] > 0) {
			kill(-active[i], SIGKILL);
			kill(active[i], SIGKILL);
		}
		if (active_dirs[i][0])
			remove_tree(active_dirs[i]);
	}
	pthread_mutex_unlock(&active_lock);
}

static void *guard(void *arg)
{
	sigset_t *set = arg;
	int sig = 0;

	sigwait(set, &sig);
	sandbox_abandon();
	signal(sig, SIG_DFL);
	pthread_sigmask(SIG_UNBLOCK, set, NULL);
	raise(sig); /* the grader ends as the signal says, with nothing left behind */
	return NULL;
}

int sandbox_guard_signals(void)
{
	static sigset_t set;
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 ||
	    pthread_create(&t, NULL, guard, &set) != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

void sandbox_outcome_free(struct sandbox_outcome *out)
{
	free(out->output);
	free(out->results);
	out->output = out->results = NULL;
}
