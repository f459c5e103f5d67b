/*
 * The hidden suite of lab 22: MPI on Open MPI.
 *
 * Every test runs the student's code as a real MPI job. The test starts
 * mpirun on this very binary; in each rank the runner's main, seeing
 * IPCLAB_MPI_MAIN in its environment, calls suite_mpi_main() instead of
 * running tests (grader/suite.h). So each file has two sides:
 *  - the MPI side, in the ranks: start the session, call the function
 *    under test with arguments the test chose, check what a rank can check
 *    alone, and write what it saw to a file of its own, one record a line,
 *    flushed at once, so that the records survive a rank that dies or
 *    hangs afterwards;
 *  - the test side: start mpirun, wait for it with a deadline, read every
 *    rank's records and mpirun's own output, and decide. A job still running
 *    at the deadline is a deadlock: mpirun is stopped, and the test names
 *    the ranks that entered the function and never came back.
 * Wrong messages are made to happen deterministically: a decoy message
 * with the same tag from another rank, or from the right rank with another
 * tag, or in MPI_COMM_WORLD, is made to wait at the receiver before the
 * real one is sent, so that a receive that does not name its source, its
 * tag or its communicator takes the decoy every time. A ring's token is made
 * larger than any eager limit, so that every rank sending first deadlocks
 * every time.
 *
 * Built without Open MPI (IPCLAB_NO_MPI), only the test side is compiled:
 * enough to list the tests, which the grader then reports as skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"

#define MAX_RANKS   4
#define DEADLINE_MS (10000 * slow) /* how long an MPI job may run before it counts as hung */
#define TEST_S      30             /* each test's own timeout, beyond any job's deadline */
#define BIG_TOKEN   65536          /* longs a ring token: 512 KiB, far past every eager limit */
#define SMALL_TOKEN 32             /* longs a ring token: 256 bytes, sent eagerly */

/* How the ping-pong job sets a trap. */
enum trap {
	TRAP_NONE,    /* no other message about */
	TRAP_SOURCE,  /* rank 2 sends ranks 0 and 1 a message with PINGPONG_TAG */
	TRAP_TAG,     /* ranks 0 and 1 send each other a message with another tag first */
	TRAP_WORLD,   /* the same, with PINGPONG_TAG but in MPI_COMM_WORLD */
	TRAP_BADECHO, /* rank 1 is the suite's: it spoils one echo, then cuts one short */
};

static int slow = 1; /* 3 under the sanitizer, which slows everything down */

#ifndef IPCLAB_NO_MPI
/* ==== The MPI side: what every rank runs under mpirun ==== */

#include <mpi.h>

#include "mpilab.h"

#define DECOY_TAG 99 /* a tag the ping-pong never uses */

static FILE *rec; /* this rank's records */

/* Value number i of stream salt for this run: deterministic, different everywhere. */
static unsigned long long mix(unsigned seed, long salt, long i)
{
	unsigned long long z = ((unsigned long long)seed << 40) ^ ((unsigned long long)salt << 24) ^
			       (unsigned long long)i;

	z += 0x9e3779b97f4a7c15ull; /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Write one record and flush it: a rank may be killed right after. */
static void record(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(rec, fmt, ap);
	va_end(ap);
	fputc('\n', rec);
	fflush(rec);
}

/* The name of an error number, EBADMSG say. */
static const char *errname(int e)
{
	const char *name = strerrorname_np(e);

	return name ? name : "E?";
}

/* Record how a call of the student's ended: "return<n> rc errno". */
static void record_return(int n, int rc, int e)
{
	record("return%d %d %s", n, rc, rc < 0 ? errname(e) : "-");
}

/* Record whether buf holds want: "<key> same", or where it first differs. */
static void record_bytes(const char *key, const char *buf, const char *want, int len)
{
	for (int i = 0; i < len; i++)
		if (buf[i] != want[i]) {
			record("%s differs %d %d %d", key, i, (unsigned char)buf[i],
			       (unsigned char)want[i]);
			return;
		}
	record("%s same", key);
}

static void fill(char *buf, int len, unsigned seed, int salt)
{
	for (int i = 0; i < len; i++)
		buf[i] = (char)(mix(seed, salt, i) & 0xff);
}

/* The suite's rank 1 of TRAP_BADECHO: echo every round; round spoil loses a byte, or has one changed. */
static void bad_echo(const struct mpi_session *s, char *buf, int len, int rounds, int spoil,
		     int cut)
{
	for (int i = 0; i < rounds; i++) {
		MPI_Status st;
		int got;

		MPI_Recv(buf, len, MPI_BYTE, 0, PINGPONG_TAG, s->comm, &st);
		MPI_Get_count(&st, MPI_BYTE, &got);
		if (i == spoil && !cut && got > 0)
			buf[got / 2] ^= 0x5a;
		MPI_Send(buf, i == spoil && cut && got > 0 ? got - 1 : got, MPI_BYTE, 0,
			 PINGPONG_TAG, s->comm);
	}
}

/* Post the trap's decoys (into req) before the ping-pong; NULL requests when none. */
static void set_trap(const struct mpi_session *s, enum trap trap, const char *decoy, int len,
		     MPI_Request req[2])
{
	int other = 1 - s->rank;

	req[0] = req[1] = MPI_REQUEST_NULL;
	if (trap == TRAP_SOURCE) {
		if (s->rank == 2) {
			MPI_Isend(decoy, len, MPI_BYTE, 0, PINGPONG_TAG, s->comm, &req[0]);
			MPI_Isend(decoy, len, MPI_BYTE, 1, PINGPONG_TAG, s->comm, &req[1]);
		} else if (s->rank < 2) {
			/* The decoy waits here before anyone sends the real message. */
			MPI_Probe(2, PINGPONG_TAG, s->comm, MPI_STATUS_IGNORE);
		}
		MPI_Barrier(s->comm);
	} else if ((trap == TRAP_TAG || trap == TRAP_WORLD) && s->rank < 2) {
		/* Sent before the real message by the same rank: MPI keeps their order. */
		MPI_Isend(decoy, len, MPI_BYTE, other, trap == TRAP_TAG ? DECOY_TAG : PINGPONG_TAG,
			  trap == TRAP_TAG ? s->comm : MPI_COMM_WORLD, &req[0]);
	}
}

/* After the ping-pong: is the decoy still waiting here? Take it, and finish our sends. */
static void check_trap(const struct mpi_session *s, enum trap trap, char *scratch, int len,
		       MPI_Request req[2])
{
	int from = trap == TRAP_SOURCE ? 2 : 1 - s->rank, flag = 0;
	int tag = trap == TRAP_TAG ? DECOY_TAG : PINGPONG_TAG;
	MPI_Comm comm = trap == TRAP_WORLD ? MPI_COMM_WORLD : s->comm;

	if (trap != TRAP_NONE && trap != TRAP_BADECHO && s->rank < 2) {
		MPI_Iprobe(from, tag, comm, &flag, MPI_STATUS_IGNORE);
		record("decoy %s", flag ? "kept" : "taken");
		if (flag)
			MPI_Recv(scratch, len, MPI_BYTE, from, tag, comm, MPI_STATUS_IGNORE);
	}
	MPI_Waitall(2, req, MPI_STATUSES_IGNORE);
}

/*
 * Job "pingpong TRAP SEED LEN ROUNDS [LEN ROUNDS ...]": one call a pair.
 * Rank 0 sends a pattern; rank 1 starts with zeros and must end with the
 * pattern; rank 0's buf must not change.
 */
static void job_pingpong(const struct mpi_session *s, long *a, int na)
{
	enum trap trap = (enum trap)a[0];
	unsigned seed = (unsigned)a[1];

	for (int k = 2, n = 1; k + 1 < na; k += 2, n++) {
		int len = (int)a[k], rounds = (int)a[k + 1], room = len > 0 ? len : 1, rc, e;
		char *buf = xcalloc(1, (size_t)room), *want = xcalloc(1, (size_t)room);
		char *decoy = xcalloc(1, (size_t)room), key[16];
		double secs = -1;
		MPI_Request req[2];

		fill(want, len, seed, n);
		fill(decoy, len, seed, 100 + n);
		if (s->rank == 0)
			memcpy(buf, want, (size_t)(len > 0 ? len : 0));
		set_trap(s, trap, decoy, len, req);
		record("call%d", n);
		errno = 0;
		if (trap == TRAP_BADECHO && s->rank == 1) {
			bad_echo(s, buf, len, rounds, rounds / 2, n == 2);
			rc = 0;
		} else {
			rc = pingpong(s, buf, len, rounds, &secs);
		}
		e = errno;
		record_return(n, rc, e);
		record("seconds%d %.9f", n, secs);
		snprintf(key, sizeof(key), "buf%d", n);
		if (len > 0 && s->rank < 2 && trap != TRAP_BADECHO)
			record_bytes(key, buf, want, len);
		check_trap(s, trap, decoy, len, req);
		free(buf);
		free(want);
		free(decoy);
	}
}

/* Element i of rank r's vector in the ring job. */
static long ring_value(unsigned seed, int r, int i)
{
	return (long)(mix(seed, 1000 + r, i) % 2000001) - 1000000;
}

/* Job "ring COUNT SEED": every rank's sum must be the sum of every rank's vector. */
static void job_ring(const struct mpi_session *s, long *a, int na)
{
	int count = na > 0 ? (int)a[0] : 0, rc, e;
	unsigned seed = na > 1 ? (unsigned)a[1] : 1;
	long *mine = xcalloc((size_t)count + 1, sizeof(long));
	long *sum = xcalloc((size_t)count + 1, sizeof(long));

	for (int i = 0; i < count; i++) {
		mine[i] = ring_value(seed, s->rank, i);
		sum[i] = 0x5a5a5a5a; /* not zero: a sum never initialised shows */
	}
	record("call1");
	errno = 0;
	rc = ring_allreduce(s, mine, sum, count);
	e = errno;
	record_return(1, rc, e);
	for (int i = 0; i < count; i++) {
		long want = 0;

		for (int r = 0; r < s->size; r++)
			want += ring_value(seed, r, i);
		if (sum[i] != want) {
			record("sum differs %d %ld %ld", i, sum[i], want);
			break;
		}
		if (i == count - 1)
			record("sum same");
	}
	for (int i = 0; i < count; i++)
		if (mine[i] != ring_value(seed, s->rank, i)) {
			record("mine changed %d", i);
			break;
		}
	free(mine);
	free(sum);
}

#define UNTOUCHED 0x5a5a5a5a5a5a5a5all /* what *result holds before the call */

/* Job "scatter SEED N [N ...]": only rank 0 has data; only rank 0 gets the result. */
static void job_scatter(const struct mpi_session *s, long *a, int na)
{
	unsigned seed = (unsigned)a[0];

	for (int k = 1; k < na; k++) {
		int n = (int)a[k], *data = NULL, rc, e;
		long long result = (long long)UNTOUCHED, want = 0;

		if (s->rank == 0) {
			data = xcalloc((size_t)n + 1, sizeof(int));
			for (int i = 0; i < n; i++) {
				/* Up to 100000 in size: the square of an int overflows an int. */
				data[i] = (int)(mix(seed, 2000 + k, i) % 200001) - 100000;
				want += (long long)data[i] * data[i];
			}
		}
		record("call%d", k);
		errno = 0;
		rc = scatter_sum_squares(s, data, n, &result);
		e = errno;
		record_return(k, rc, e);
		if (s->rank == 0)
			record("result%d %lld %lld", k, result, want);
		else
			record("result%d %s %lld", k,
			       result == (long long)UNTOUCHED ? "untouched" : "written", result);
		free(data);
	}
}

/* Job "pi STEPS [STEPS ...]": every rank records what it got. */
static void job_pi(const struct mpi_session *s, long *a, int na)
{
	for (int k = 0; k < na; k++) {
		double pi = NAN;
		int rc, e;

		record("call%d", k + 1);
		errno = 0;
		rc = integrate_pi(s, a[k], &pi);
		e = errno;
		record_return(k + 1, rc, e);
		record("pi%d %.17g", k + 1, pi);
	}
}

/* Job "session": the communicator, as session_begin left it. */
static void job_session(const struct mpi_session *s)
{
	int cmp = -1;

	if (s->comm != MPI_COMM_NULL)
		MPI_Comm_compare(s->comm, MPI_COMM_WORLD, &cmp);
	record("compare %s", cmp == MPI_IDENT       ? "ident"
			     : cmp == MPI_CONGRUENT ? "congruent"
			     : cmp == MPI_SIMILAR   ? "similar"
			     : cmp == MPI_UNEQUAL   ? "unequal"
						    : "null");
}

/* End the session the student's way, and record how it ended. */
static void finish(struct mpi_session *s, const char *job)
{
	int rc, e, finalized = 0;

	errno = 0;
	rc = session_end(s);
	e = errno;
	MPI_Finalized(&finalized); /* allowed even after MPI_Finalize */
	record("end %d %s %d %d", rc, rc < 0 ? errname(e) : "-", s->comm == MPI_COMM_NULL,
	       finalized);
	/* Only the finalize test is about MPI_Finalize: the others must not fail for it. */
	if (!finalized && strcmp(job, "finalize") != 0)
		MPI_Finalize();
}

int suite_mpi_main(int argc, char **argv)
{
	const char *me = getenv("OMPI_COMM_WORLD_RANK");
	struct mpi_session s = {MPI_COMM_NULL, -1, -1};
	long a[16];
	int na = 0, rc, e;
	char path[PATH_MAX], job[32];

	if (argc < 3 || !me)
		return 2;
	snprintf(job, sizeof(job), "%s", argv[2]);
	for (int i = 3; i < argc && na < 16; i++)
		a[na++] = strtol(argv[i], NULL, 10);
	snprintf(path, sizeof(path), "%s/r%s", argv[1], me);
	rec = fopen(path, "w");
	if (!rec)
		return 2;
	errno = 0;
	rc = session_begin(&argc, &argv, &s);
	e = errno;
	record("begin %d %s %d %d %s", rc, rc < 0 ? errname(e) : "-", s.rank, s.size, me);
	if (rc < 0)
		return 1;
	if (strcmp(job, "session") == 0)
		job_session(&s);
	else if (strcmp(job, "pingpong") == 0)
		job_pingpong(&s, a, na);
	else if (strcmp(job, "ring") == 0)
		job_ring(&s, a, na);
	else if (strcmp(job, "scatter") == 0)
		job_scatter(&s, a, na);
	else if (strcmp(job, "pi") == 0)
		job_pi(&s, a, na);
	finish(&s, job);
	fclose(rec);
	return 0;
}
#endif /* IPCLAB_NO_MPI */

/* ==== The test side: run a job under mpirun, read what the ranks saw ==== */

struct job {
	int ranks;            /* how many ranks it had */
	const char *fn;       /* the student's function it is about, for messages */
	char dir[PATH_MAX];   /* its folder: the ranks' records, Open MPI's session files */
	int status;           /* mpirun's wait status, when it ended by itself */
	int hung;             /* it was still running at the deadline, and was stopped */
	int left;             /* processes of the job still running once mpirun had ended */
	char *rec[MAX_RANKS]; /* each rank's records ("" when it wrote none) */
	char *log;            /* mpirun's output: its error reports */
};

/* Read a whole file into a new string ("" when it cannot). */
static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text = fd >= 0 ? io_slurp(fd, 1 << 20, NULL) : NULL;

	if (fd >= 0)
		close(fd);
	return text ? text : xstrdup("");
}

/* Does the command line of process pid mention marker (its arguments joined by spaces)? */
static int cmdline_has(const char *pid, const char *marker)
{
	char path[300], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n; i++)
		buf[i] = buf[i] ? buf[i] : ' ';
	buf[n] = '\0';
	return strstr(buf, marker) != NULL;
}

/* Kill every process whose command line names the job's folder. Returns how many. */
static int kill_leftovers(const struct job *j)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char marker[PATH_MAX + 2];
	int n = 0;

	snprintf(marker, sizeof(marker), "%s ", j->dir); /* job1 is not job12 */
	while (d && (e = readdir(d)))
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && atoi(e->d_name) != getpid() &&
		    cmdline_has(e->d_name, marker)) {
			kill(atoi(e->d_name), SIGKILL);
			n++;
		}
	if (d)
		closedir(d);
	return n;
}

/* The environment of mpirun: ours, minus the grader's channel, plus Open MPI's settings. */
static char **job_environment(const struct job *j)
{
	extern char **environ;
	static char tmp[PATH_MAX + 40], shm[PATH_MAX + 48];
	char **env;
	int n = 0, k = 0;

	while (environ[n])
		n++;
	env = xcalloc((size_t)n + 8, sizeof(char *));
	for (int i = 0; i < n; i++)
		if (strncmp(environ[i], "IPCLAB_RESULT_FD=", 17) != 0)
			env[k++] = environ[i];
	env[k++] = "IPCLAB_MPI_MAIN=1"; /* the ranks run suite_mpi_main() */
	/*
	 * What makes Open MPI 4.1 work in the grader's sandbox (no network but
	 * loopback, a private /tmp, an unprivileged uid), and leave nothing
	 * behind: its session folder and its shared-memory files go in the job's
	 * own folder; ranks talk through shared memory only (btl self,vader, set
	 * on the command line), and its runtime through loopback; an
	 * oversubscribed rank yields the processor while it waits instead of
	 * spinning, since there may be more ranks than cores.
	 */
	snprintf(tmp, sizeof(tmp), "OMPI_MCA_orte_tmpdir_base=%s", j->dir);
	snprintf(shm, sizeof(shm), "OMPI_MCA_btl_vader_backing_directory=%s", j->dir);
	env[k++] = tmp;
	env[k++] = shm;
	env[k++] = "OMPI_MCA_oob_tcp_if_include=lo";
	env[k++] = "OMPI_MCA_mpi_yield_when_idle=1";
	env[k] = NULL;
	return env;
}

/* The child: become mpirun, running this binary as the ranks. Never returns. */
static void exec_mpirun(const struct job *j, char **args, int nargs)
{
	char np[16], exe[PATH_MAX], log[PATH_MAX + 16], *argv[40];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int k = 0, fd;

	snprintf(log, sizeof(log), "%s/mpirun.log", j->dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (n < 0 || fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	exe[n] = '\0';
	snprintf(np, sizeof(np), "%d", j->ranks);
	argv[k++] = "mpirun";
	argv[k++] = "-n";
	argv[k++] = np;
	argv[k++] = "--oversubscribe"; /* four ranks on two cores is fine for a test */
	if (geteuid() == 0)
		argv[k++] = "--allow-run-as-root"; /* make suite as root; the grader drops root */
	argv[k++] = "--mca";
	argv[k++] = "btl";
	argv[k++] = "self,vader";
	argv[k++] = exe;
	argv[k++] = (char *)j->dir;
	for (int i = 0; i < nargs && k < 38; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	setpgid(0, 0);
	execvpe("mpirun", argv, job_environment(j));
	dprintf(2, "cannot run mpirun: %s\n", strerror(errno));
	_exit(127);
}

/* Stop a hung job: mpirun ends its ranks on SIGTERM; SIGKILL what is left after 3 s. */
static void stop_job(struct job *j, pid_t pid)
{
	kill(pid, SIGTERM);
	if (proc_wait_timeout(pid, NULL, 3000) < 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	for (int i = 0; i < 100 && kill_leftovers(j) > 0; i++)
		clock_sleep_ms(20);
}

/*
 * Run job words (space-separated: the job's name and its numbers) on ranks
 * ranks under mpirun, about the student's function fn, and read what came
 * of it into *j.
 */
static void run_job(struct job *j, int ranks, const char *fn, const char *words)
{
	static int serial;
	char cwd[PATH_MAX - 32], line[256], *args[24], path[PATH_MAX + 16];
	int nargs = 0;
	pid_t pid;

	memset(j, 0, sizeof(*j));
	j->ranks = ranks;
	j->fn = fn;
	ck_assert_msg(getcwd(cwd, sizeof(cwd)) != NULL, "suite: getcwd failed");
	snprintf(j->dir, sizeof(j->dir), "%s/job%d", cwd, ++serial);
	ck_assert_msg(mkdir(j->dir, 0700) == 0, "suite: cannot make %s: %s", j->dir,
		      strerror(errno));
	snprintf(line, sizeof(line), "%s", words);
	for (char *w = strtok(line, " "); w && nargs < 23; w = strtok(NULL, " "))
		args[nargs++] = w;
	pid = fork();
	ck_assert_msg(pid >= 0, "suite: fork failed: %s", strerror(errno));
	if (pid == 0)
		exec_mpirun(j, args, nargs);
	if (proc_wait_timeout(pid, &j->status, DEADLINE_MS) < 0) {
		j->hung = 1;
		stop_job(j, pid);
	} else {
		j->left = kill_leftovers(j); /* none, unless a process outlived mpirun */
		for (int i = 0; i < 100 && kill_leftovers(j) > 0; i++)
			clock_sleep_ms(20);
	}
	for (int r = 0; r < MAX_RANKS; r++) {
		snprintf(path, sizeof(path), "%s/r%d", j->dir, r);
		j->rec[r] = slurp(path);
	}
	snprintf(path, sizeof(path), "%s/mpirun.log", j->dir);
	j->log = slurp(path);
	/* Into the test's output: the grader shows it, and finds a sanitizer's report there. */
	fputs(j->log, stderr);
}

static void job_free(struct job *j)
{
	for (int r = 0; r < MAX_RANKS; r++)
		free(j->rec[r]);
	free(j->log);
}

/*
 * The rest of the line after "key " in rank r's records, or NULL when there
 * is none. The answer stays valid for the next seven calls.
 */
static const char *rec_get(const struct job *j, int r, const char *key)
{
	static char lines[8][256];
	static int next;
	size_t n = strlen(key);

	for (const char *p = j->rec[r]; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, n) == 0 && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0')) {
			char *line = lines[next++ % 8];

			p += n + (p[n] == ' ');
			snprintf(line, sizeof(lines[0]), "%.*s", (int)strcspn(p, "\n"), p);
			return line;
		}
	return NULL;
}

/* How many records of rank r begin with prefix. */
static int rec_count(const struct job *j, int r, const char *prefix)
{
	int n = 0;

	for (const char *p = j->rec[r]; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		n += strncmp(p, prefix, strlen(prefix)) == 0;
	return n;
}

/*
 * What mpirun said, to quote: its verdict on the rank that failed first
 * ("mpirun noticed that process rank 1 ... exited on signal 11"), then its
 * first lines, the box lines of dashes left out.
 */
static const char *log_excerpt(const struct job *j)
{
	static char out[900];
	const char *noticed = strstr(j->log, "noticed that process rank");
	size_t len = 0;
	int lines = 0;
	char *copy = xstrdup(j->log);

	out[0] = '\0';
	if (noticed)
		len += (size_t)snprintf(out, sizeof(out), "\n  | mpirun %.*s",
					(int)strcspn(noticed, "\n"), noticed);
	for (char *l = strtok(copy, "\n"); l && lines < 6; l = strtok(NULL, "\n")) {
		if (strspn(l, "- ") == strlen(l))
			continue;
		len += (size_t)snprintf(out + len, sizeof(out) - len, "\n  | %.150s", l);
		lines++;
		if (len >= sizeof(out) - 1)
			break;
	}
	free(copy);
	return out[0] ? out : "\n  | (nothing)";
}

/* The ranks that entered a call of fn and never came back, as "0, 2", into buf. */
static int stuck_ranks(const struct job *j, char *buf, size_t size)
{
	size_t len = 0;
	int n = 0;

	buf[0] = '\0';
	for (int r = 0; r < j->ranks; r++)
		if (rec_count(j, r, "call") > rec_count(j, r, "return")) {
			len += (size_t)snprintf(buf + len, size - len, "%s%d", n ? ", " : "", r);
			n++;
		}
	return n;
}

/* The ranks that did not come back from all the calls of the job, as "0, 2", into buf. */
static int lost_ranks(const struct job *j, int calls, char *buf, size_t size)
{
	size_t len = 0;
	int n = 0;

	buf[0] = '\0';
	for (int r = 0; r < j->ranks; r++)
		if (rec_count(j, r, "return") < calls) {
			len += (size_t)snprintf(buf + len, size - len, "%s%d", n ? ", " : "", r);
			n++;
		}
	return n;
}

/*
 * Fail unless every rank started its session and came back from every call
 * of the job: otherwise say who did not and why, as far as can be told.
 * advice is said of a hang (what usually deadlocks here).
 */
static void expect_ran(const struct job *j, const char *advice)
{
	char who[64];
	int calls = rec_count(j, 0, "call");

	if (j->hung && stuck_ranks(j, who, sizeof(who)) > 0)
		ck_abort_msg("The MPI job of %d rank%s had not finished after %d s: rank%s %s "
			     "entered %s() and never returned — a deadlock. %s",
			     j->ranks, j->ranks > 1 ? "s" : "", DEADLINE_MS / 1000,
			     strchr(who, ',') ? "s" : "", who, j->fn, advice);
	ck_assert_msg(!j->hung,
		      "The MPI job of %d rank%s had not finished after %d s, outside %s(): in "
		      "session_begin() or session_end()? mpirun said:%s",
		      j->ranks, j->ranks > 1 ? "s" : "", DEADLINE_MS / 1000, j->fn, log_excerpt(j));
	for (int r = 0; r < j->ranks; r++) {
		const char *b = rec_get(j, r, "begin");
		char rc[8] = "", err[32] = "", lost[64];
		int nlost;

		ck_assert_msg(b != NULL,
			      "Rank %d of %d never got to start its session. mpirun said:%s", r,
			      j->ranks, log_excerpt(j));
		sscanf(b, "%7s %31s", rc, err);
		ck_assert_msg(strcmp(rc, "0") == 0,
			      "session_begin() returned %s (%s) on rank %d: every test starts with "
			      "it, implement it first.",
			      rc, err, r);
		if (rec_count(j, r, "return") >= rec_count(j, r, "call") &&
		    rec_count(j, r, "call") == calls)
			continue;
		nlost = lost_ranks(j, calls, lost, sizeof(lost));
		ck_abort_msg(
		    "Rank%s %s of %d never came back from %s(): one crashed, or MPI aborted "
		    "the job, and mpirun stopped the others. mpirun said:%s",
		    nlost > 1 ? "s" : "", lost, j->ranks, j->fn, log_excerpt(j));
	}
	ck_assert_msg(j->left == 0,
		      "%d process%s of the MPI job still ran after mpirun had ended: every rank "
		      "must return from main after session_end().",
		      j->left, j->left > 1 ? "es" : "");
}

/* Fail unless call n of fn returned rc on rank r, and errno err when rc is -1. */
static void expect_return(const struct job *j, int r, int n, int rc, const char *err,
			  const char *what)
{
	char key[24], got_err[32] = "";
	const char *v;
	int got = -2;

	snprintf(key, sizeof(key), "return%d", n);
	v = rec_get(j, r, key);
	ck_assert_msg(v && sscanf(v, "%d %31s", &got, got_err) == 2,
		      "suite: rank %d recorded no return of call %d", r, n);
	if (rc == 0)
		ck_assert_msg(got == 0, "%s() returned %d (%s) on rank %d %s: expected 0.", j->fn,
			      got, got_err, r, what);
	else
		ck_assert_msg(got == -1 && strcmp(got_err, err) == 0,
			      "%s() on rank %d %s returned %d (%s): expected -1 with errno %s.",
			      j->fn, r, what, got, got < 0 ? got_err : "no error", err);
}

static void begin(void)
{
	slow = getenv("IPCLAB_SANITIZER") ? 3 : 1;
}

/* ==== The session ==== */

START_TEST(test_session_communicator)
{
	struct job j;

	begin();
	run_job(&j, 3, "session_begin", "session");
	expect_ran(&j, "");
	for (int r = 0; r < 3; r++) {
		int rc, rank, size, world;
		char err[32];
		const char *cmp = rec_get(&j, r, "compare"), *end = rec_get(&j, r, "end");
		int endrc = -2, null = 0, fin = 0;

		sscanf(rec_get(&j, r, "begin"), "%d %31s %d %d %d", &rc, err, &rank, &size, &world);
		ck_assert_msg(
		    rank == world && size == 3,
		    "On the process that MPI_COMM_WORLD numbers %d of 3, session_begin() "
		    "gave rank %d of %d: ask s->comm with MPI_Comm_rank and MPI_Comm_size.",
		    world, rank, size);
		ck_assert_msg(
		    cmp && strcmp(cmp, "congruent") == 0,
		    "On rank %d, MPI_Comm_compare(s->comm, MPI_COMM_WORLD) says %s: "
		    "expected congruent — the same ranks, but a communicator of its own. %s",
		    r, cmp ? cmp : "?",
		    cmp && strcmp(cmp, "ident") == 0
			? "s->comm is MPI_COMM_WORLD itself: duplicate it with "
			  "MPI_Comm_dup(MPI_COMM_WORLD, &s->comm)."
			: "");
		ck_assert_msg(end && sscanf(end, "%d %31s %d %d", &endrc, err, &null, &fin) == 4,
			      "suite: rank %d recorded no end", r);
		ck_assert_msg(endrc == 0, "session_end() returned %d (%s) on rank %d: expected 0.",
			      endrc, err, r);
		ck_assert_msg(null,
			      "After session_end() on rank %d, s->comm is not MPI_COMM_NULL: "
			      "free the duplicate with MPI_Comm_free(&s->comm).",
			      r);
	}
	job_free(&j);
}
END_TEST

START_TEST(test_session_finalize)
{
	struct job j;

	begin();
	run_job(&j, 3, "session_end", "finalize");
	expect_ran(&j, "");
	/* A rank that did not finalize first: its leaving makes mpirun kill the others. */
	for (int r = 0; r < 3; r++) {
		const char *end = rec_get(&j, r, "end");
		int endrc = -2, null = 0, fin = -1;
		char err[32] = "";

		if (!end || sscanf(end, "%d %31s %d %d", &endrc, err, &null, &fin) != 4)
			continue;
		ck_assert_msg(endrc == 0, "session_end() returned %d (%s) on rank %d: expected 0.",
			      endrc, err, r);
		ck_assert_msg(
		    fin == 1,
		    "After session_end() on rank %d, MPI_Finalized() says MPI is still "
		    "running: call MPI_Finalize() on every rank, not only on rank 0. mpirun "
		    "ends the whole job when a rank leaves without it:%s",
		    r, log_excerpt(&j));
	}
	for (int r = 0; r < 3; r++)
		ck_assert_msg(rec_get(&j, r, "end") != NULL,
			      "Rank %d never came back from session_end(). mpirun said:%s", r,
			      log_excerpt(&j));
	ck_assert_msg(WIFEXITED(j.status) && WEXITSTATUS(j.status) == 0,
		      "mpirun ended with status %d instead of 0, although every rank finalized. "
		      "It said:%s",
		      WIFEXITED(j.status) ? WEXITSTATUS(j.status) : -1, log_excerpt(&j));
	job_free(&j);
}
END_TEST

/* ==== Point to point ==== */

/* The failure message when a trap's decoy was taken on rank r. */
static void expect_decoy_kept(const struct job *j, int r, const char *taken_because)
{
	const char *d = rec_get(j, r, "decoy");

	ck_assert_msg(d && strcmp(d, "kept") == 0, "On rank %d, pingpong() received the decoy: %s",
		      r, taken_because);
}

/* Rank 1 received rank 0's payload, and rank 0's buf is unchanged, in call n. */
static void expect_payload(const struct job *j, int n, int len)
{
	char key[24];
	const char *b1, *b0;
	int at = 0, got = 0, want = 0;

	snprintf(key, sizeof(key), "buf%d", n);
	b1 = rec_get(j, 1, key);
	b0 = rec_get(j, 0, key);
	ck_assert_msg(b1 && b0, "suite: no payload record for call %d", n);
	if (strcmp(b1, "same") != 0)
		sscanf(b1, "differs %d %d %d", &at, &got, &want);
	ck_assert_msg(strcmp(b1, "same") == 0,
		      "Rank 1's buf did not receive the %d bytes rank 0 sent: byte %d is %d, "
		      "expected %d. Send len bytes as MPI_BYTE from buf (not sizeof(buf)), receive "
		      "them into buf.",
		      len, at, got, want);
	ck_assert_msg(strcmp(b0, "same") == 0,
		      "Rank 0's buf changed during pingpong() of %d bytes: receive the echo into "
		      "a buffer of its own.",
		      len);
}

START_TEST(test_pingpong_payload)
{
	struct job j;
	char words[128];
	double secs = -1;

	begin();
	snprintf(words, sizeof(words), "pingpong %d %u 100 10 300000 3", TRAP_NONE, suite_seed());
	run_job(&j, 2, "pingpong", words);
	expect_ran(&j,
		   "Is one rank waiting for a message the other never sends? Rank 0 sends, then "
		   "receives; rank 1 receives, then sends.");
	expect_return(&j, 0, 1, 0, NULL, "(100 bytes, 10 rounds)");
	expect_return(&j, 1, 1, 0, NULL, "(100 bytes, 10 rounds)");
	expect_payload(&j, 1, 100);
	expect_return(&j, 0, 2, 0, NULL, "(300000 bytes, 3 rounds)");
	expect_return(&j, 1, 2, 0, NULL, "(300000 bytes, 3 rounds)");
	expect_payload(&j, 2, 300000);
	sscanf(rec_get(&j, 0, "seconds1"), "%lf", &secs);
	ck_assert_msg(secs > 0 && secs < 5,
		      "On rank 0, *seconds is %g after 10 round trips of 100 bytes: expected the "
		      "mean round trip, MPI_Wtime() after the loop minus before, over rounds.",
		      secs);
	job_free(&j);
}
END_TEST

START_TEST(test_pingpong_checks_echo)
{
	struct job j;
	char words[128];

	begin();
	snprintf(words, sizeof(words), "pingpong %d %u 200 3 200 2", TRAP_BADECHO, suite_seed());
	run_job(&j, 2, "pingpong", words);
	expect_ran(&j, "Here rank 1 is the suite's: it echoes every round. Does rank 0 stop "
		       "sending after a bad echo, or wait for more echoes than rounds?");
	expect_return(&j, 0, 1, -1, "EBADMSG",
		      "when the echo of round 2 of 3 came back with one byte changed");
	expect_return(&j, 0, 2, -1, "EBADMSG",
		      "when the echo of round 2 of 2 came back one byte short (MPI_Get_count "
		      "tells how many bytes arrived)");
	job_free(&j);
}
END_TEST

START_TEST(test_pingpong_source)
{
	struct job j;
	char words[128];

	begin();
	snprintf(words, sizeof(words), "pingpong %d %u 64 1", TRAP_SOURCE, suite_seed());
	run_job(&j, 3, "pingpong", words);
	expect_ran(&j, "With three ranks, rank 2 has no part in the ping-pong: does it wait for a "
		       "message as if it were rank 1? Only rank 1 answers rank 0.");
	expect_return(&j, 2, 1, 0, NULL, "(a rank with no part)");
	expect_decoy_kept(&j, 1,
			  "rank 2 had sent it a message with PINGPONG_TAG, and it was waiting "
			  "when the ping came. Receive from source 0, never MPI_ANY_SOURCE.");
	expect_decoy_kept(&j, 0,
			  "rank 2 had sent it a message with PINGPONG_TAG, and it was waiting "
			  "when the echo came. Receive the echo from source 1, never "
			  "MPI_ANY_SOURCE.");
	expect_return(&j, 0, 1, 0, NULL, "(3 ranks)");
	expect_payload(&j, 1, 64);
	job_free(&j);
}
END_TEST

START_TEST(test_pingpong_tag)
{
	struct job j;
	char words[128];

	begin();
	snprintf(words, sizeof(words), "pingpong %d %u 64 1", TRAP_TAG, suite_seed());
	run_job(&j, 2, "pingpong", words);
	expect_ran(&j, "");
	expect_decoy_kept(&j, 1,
			  "rank 0 had sent it a message with another tag just before the ping. "
			  "Receive with PINGPONG_TAG, never MPI_ANY_TAG.");
	expect_decoy_kept(&j, 0,
			  "rank 1 had sent it a message with another tag just before the echo. "
			  "Receive with PINGPONG_TAG, never MPI_ANY_TAG.");
	expect_return(&j, 0, 1, 0, NULL, "(2 ranks)");
	expect_payload(&j, 1, 64);
	job_free(&j);
}
END_TEST

START_TEST(test_pingpong_communicator)
{
	struct job j;
	char words[128];

	begin();
	snprintf(words, sizeof(words), "pingpong %d %u 64 1", TRAP_WORLD, suite_seed());
	run_job(&j, 2, "pingpong", words);
	expect_ran(&j, "");
	expect_decoy_kept(&j, 1,
			  "rank 0 had sent it a message with PINGPONG_TAG in MPI_COMM_WORLD, the "
			  "program's communicator, just before the ping. Send and receive in "
			  "s->comm, the lab's own.");
	expect_decoy_kept(&j, 0,
			  "rank 1 had sent it a message with PINGPONG_TAG in MPI_COMM_WORLD just "
			  "before the echo. Send and receive in s->comm, the lab's own.");
	expect_return(&j, 0, 1, 0, NULL, "(2 ranks)");
	expect_payload(&j, 1, 64);
	job_free(&j);
}
END_TEST

START_TEST(test_pingpong_invalid)
{
	struct job j;
	char words[128];

	begin();
	snprintf(words, sizeof(words), "pingpong %d %u 8 1", TRAP_NONE, suite_seed());
	run_job(&j, 1, "pingpong", words);
	expect_ran(&j, "With one rank there is nobody to answer: check s->size < 2 first.");
	expect_return(&j, 0, 1, -1, "EINVAL", "alone in the job (size 1)");
	job_free(&j);
	snprintf(words, sizeof(words), "pingpong %d %u -1 1 8 0 0 2", TRAP_NONE, suite_seed());
	run_job(&j, 2, "pingpong", words);
	expect_ran(&j, "Check the arguments on every rank, before any message: rank 1 must not "
		       "wait for a ping that rank 0 refused to send.");
	for (int r = 0; r < 2; r++) {
		expect_return(&j, r, 1, -1, "EINVAL", "with len -1");
		expect_return(&j, r, 2, -1, "EINVAL", "with rounds 0");
		expect_return(&j, r, 3, 0, NULL,
			      "with len 0, 2 rounds (an empty message is valid)");
	}
	job_free(&j);
}
END_TEST

/* ==== A ring ==== */

#define RING_DEADLOCK                                                                              \
	"Does every rank MPI_Send first, then MPI_Recv? A token past the eager limit goes by "     \
	"rendezvous: MPI_Send waits until the receiver posts its receive, and every rank is "      \
	"sending. Use MPI_Sendrecv (or MPI_Irecv before the send)."

/* Run the ring on ranks ranks with tokens of count longs; every rank must have the sum. */
static void check_ring(int ranks, int count, const char *advice)
{
	struct job j;
	char words[64];

	snprintf(words, sizeof(words), "ring %d %u", count, suite_seed());
	run_job(&j, ranks, "ring_allreduce", words);
	expect_ran(&j, advice);
	for (int r = 0; r < ranks; r++) {
		const char *sum = rec_get(&j, r, "sum");
		long got = 0, want = 0;
		int at = 0;

		expect_return(&j, r, 1, 0, NULL, "");
		ck_assert_msg(rec_get(&j, r, "mine") == NULL,
			      "ring_allreduce() changed mine on rank %d: send a copy, the token.",
			      r);
		if (sum && strcmp(sum, "same") != 0)
			sscanf(sum, "differs %d %ld %ld", &at, &got, &want);
		ck_assert_msg(sum && strcmp(sum, "same") == 0,
			      "With %d rank%s and tokens of %d longs, sum[%d] on rank %d is %ld, "
			      "expected %ld, the sum of every rank's mine[%d]. %s",
			      ranks, ranks > 1 ? "s" : "", count, at, r, got, want, at,
			      ranks == 1 ? "Alone, sum is a copy of mine: no step at all."
			      : ranks == 2
				  ? "Does sum start as a copy of mine, and take size - 1 steps?"
				  : "At each step, pass on the token you just received, not mine: "
				    "after size - 1 steps each rank has seen every vector once.");
	}
	job_free(&j);
}

START_TEST(test_ring_one_rank)
{
	begin();
	check_ring(1, SMALL_TOKEN, "");
}
END_TEST

START_TEST(test_ring_two_ranks)
{
	begin();
	check_ring(2, SMALL_TOKEN, "");
}
END_TEST

START_TEST(test_ring_four_ranks)
{
	begin();
	check_ring(4, SMALL_TOKEN, "");
}
END_TEST

START_TEST(test_ring_large_token)
{
	begin();
	check_ring(3, BIG_TOKEN, RING_DEADLOCK);
}
END_TEST

/* ==== Collectives ==== */

/* Run the sum of squares on ranks ranks for each n of ns; rank 0 has it, nobody else. */
static void check_scatter(int ranks, const int *ns, int count)
{
	struct job j;
	char words[128];
	int len = snprintf(words, sizeof(words), "scatter %u", suite_seed());

	for (int k = 0; k < count; k++)
		len += snprintf(words + len, sizeof(words) - (size_t)len, " %d", ns[k]);
	run_job(&j, ranks, "scatter_sum_squares", words);
	expect_ran(&j, "Do all ranks call MPI_Scatterv and MPI_Reduce? A collective waits for "
		       "every rank of the communicator.");
	for (int k = 1; k <= count; k++) {
		char key[24], what[64], state[16] = "";
		long long got = 0, want = 0;

		snprintf(key, sizeof(key), "result%d", k);
		snprintf(what, sizeof(what), "(n = %d on %d rank%s)", ns[k - 1], ranks,
			 ranks > 1 ? "s" : "");
		for (int r = 0; r < ranks; r++)
			expect_return(&j, r, k, 0, NULL, what);
		sscanf(rec_get(&j, 0, key), "%lld %lld", &got, &want);
		ck_assert_msg(
		    got == want,
		    "The sum of the squares of %d values on %d rank%s is %lld on rank 0, "
		    "expected %lld (%s). %s",
		    ns[k - 1], ranks, ranks > 1 ? "s" : "", got, want,
		    got < want ? "too small" : "too large",
		    ns[k - 1] % ranks
			? "Here size does not divide n: are the n % size values left over "
			  "given to the first ranks, one each? And is each square computed as "
			  "long long, (long long)x * x?"
			: "Is each square computed as long long, (long long)x * x, before "
			  "an int overflows? Are counts and displs right?");
		for (int r = 1; r < ranks; r++) {
			sscanf(rec_get(&j, r, key), "%15s %lld", state, &got);
			ck_assert_msg(
			    strcmp(state, "untouched") == 0,
			    "On rank %d, scatter_sum_squares() wrote %lld into *result: the "
			    "result exists on rank 0 only (MPI_Reduce to root 0, not "
			    "MPI_Allreduce), and other ranks leave *result alone.",
			    r, got);
		}
	}
	job_free(&j);
}

START_TEST(test_scatter_one_rank)
{
	static const int ns[] = {10, 0};

	begin();
	check_scatter(1, ns, 2);
}
END_TEST

START_TEST(test_scatter_two_ranks)
{
	static const int ns[] = {1000};

	begin();
	check_scatter(2, ns, 1);
}
END_TEST

START_TEST(test_scatter_uneven)
{
	static const int ns[] = {1003, 3};

	begin();
	check_scatter(4, ns, 2);
}
END_TEST

/* The midpoint rule for pi over steps strips, computed here, alone. */
static double pi_alone(long steps)
{
	double h = 1.0 / (double)steps, sum = 0;

	for (long i = 0; i < steps; i++) {
		double x = ((double)i + 0.5) * h;

		sum += 4.0 / (1.0 + x * x);
	}
	return sum * h;
}

START_TEST(test_integrate_pi_every_rank)
{
	static const long steps[] = {1000001, 2};
	struct job j;

	begin();
	run_job(&j, 3, "integrate_pi", "pi 1000001 2");
	expect_ran(&j, "Do all ranks call MPI_Allreduce? A collective waits for every rank.");
	for (int k = 1; k <= 2; k++) {
		double want = pi_alone(steps[k - 1]);

		for (int r = 0; r < 3; r++) {
			char key[24], what[64];
			double got = NAN;

			snprintf(key, sizeof(key), "pi%d", k);
			snprintf(what, sizeof(what), "(steps %ld on 3 ranks)", steps[k - 1]);
			expect_return(&j, r, k, 0, NULL, what);
			sscanf(rec_get(&j, r, key), "%lf", &got);
			ck_assert_msg(
			    !isnan(got),
			    "On rank %d, *pi was not written: every rank must get the "
			    "result — MPI_Allreduce, not MPI_Reduce, which leaves it on the "
			    "root alone.",
			    r);
			ck_assert_msg(
			    fabs(got - want) < 1e-9,
			    "On rank %d, integrate_pi() over %ld strips on 3 ranks gave "
			    "%.12f, expected %.12f. %s",
			    r, steps[k - 1], got, want,
			    fabs(got / want - 3) < 1e-3
				? "Three times too much: each rank must sum only its "
				  "share of the strips."
				: "Is every strip counted once, the steps % size left over "
				  "too? Is h = 1.0 / steps, in floating point?");
		}
	}
	job_free(&j);
}
END_TEST

void suite_define(void)
{
	/* The session */
	SUITE_TEST_EX(
	    test_session_communicator, 1, TEST_S, 0,
	    "Is s->comm a duplicate of MPI_COMM_WORLD, freed at the end?\n"
	    "A library works in a communicator of its own: same ranks, separate "
	    "messages; MPI_Comm_dup(3), MPI_Comm_free(3).\n"
	    "MPI_Comm_dup(MPI_COMM_WORLD, &s->comm) after MPI_Init; MPI_Comm_free(&s->comm) "
	    "before MPI_Finalize.");
	SUITE_TEST_EX(test_session_finalize, 2, TEST_S, 0,
		      "Does every rank call MPI_Finalize?\n"
		      "Every process that called MPI_Init must call MPI_Finalize before it exits, "
		      "or mpirun ends the job as failed: MPI_Finalize(3).\n"
		      "Call MPI_Finalize() in session_end() on every rank, not inside an "
		      "if (rank == 0).");
	/* Point to point */
	SUITE_TEST_EX(test_pingpong_payload, 2, TEST_S, 0,
		      "Do the len bytes of buf get to rank 1, and back?\n"
		      "MPI_Send and MPI_Recv take a count of elements of a datatype; for bytes, "
		      "MPI_BYTE: MPI_Send(3), MPI_Recv(3).\n"
		      "Rank 0: MPI_Send(buf, len, MPI_BYTE, 1, PINGPONG_TAG, s->comm) then "
		      "MPI_Recv(echo, len, MPI_BYTE, 1, ...); rank 1 the other way round.");
	SUITE_TEST_EX(test_pingpong_checks_echo, 1, TEST_S, 0,
		      "Does rank 0 compare every echo with what it sent?\n"
		      "A receive may get fewer bytes than asked: MPI_Get_count(3) says how many.\n"
		      "After each MPI_Recv: MPI_Get_count(&st, MPI_BYTE, &got); bad if got != len "
		      "or memcmp(echo, buf, len) != 0; EBADMSG after the last round.");
	SUITE_TEST_EX(test_pingpong_source, 2, TEST_S, 0,
		      "Whose message does each receive take?\n"
		      "A receive matches on source, tag and communicator; MPI_ANY_SOURCE takes "
		      "anybody's: MPI_Recv(3). Ranks other than 0 and 1 have no part.\n"
		      "Rank 1: MPI_Recv(buf, len, MPI_BYTE, 0, PINGPONG_TAG, ...); rank 0 receives "
		      "from 1; other ranks return 0.");
	SUITE_TEST_EX(test_pingpong_tag, 1, TEST_S, 0,
		      "Which tag does your receive ask for?\n"
		      "Messages from one source arrive in order, and MPI_ANY_TAG takes the first, "
		      "whatever it was for: MPI_Recv(3).\n"
		      "Receive with PINGPONG_TAG, never MPI_ANY_TAG.");
	SUITE_TEST_EX(test_pingpong_communicator, 1, TEST_S, 0,
		      "Which communicator do your messages travel in?\n"
		      "A communicator is a separate world of messages: MPI_COMM_WORLD's never "
		      "match s->comm's. MPI_Comm_dup(3).\n"
		      "Pass s->comm, not MPI_COMM_WORLD, to every MPI_Send and MPI_Recv.");
	SUITE_TEST_EX(test_pingpong_invalid, 1, TEST_S, 0,
		      "What if there is no rank 1, or len is -1?\n"
		      "Every rank sees the same arguments: all must refuse them before any "
		      "message, or one waits forever for the others.\n"
		      "if (s->size < 2 || len < 0 || rounds < 1) { errno = EINVAL; return -1; } "
		      "first thing, on every rank; len 0 is fine.");
	/* A ring */
	SUITE_TEST_EX(test_ring_one_rank, 1, TEST_S, 0,
		      "Alone in the ring, what is the sum?\n"
		      "size - 1 steps: with one rank, none; sum is a copy of mine.\n"
		      "memcpy(sum, mine, count * sizeof(long)) before the loop "
		      "for (step = 1; step < size; step++).");
	SUITE_TEST_EX(test_ring_two_ranks, 2, TEST_S, 0,
		      "Does sum start as mine, and add what comes in?\n"
		      "Each step: send the token right, receive the left one, add it: "
		      "MPI_Sendrecv(3).\n"
		      "left = (rank - 1 + size) % size, never negative; sum starts as a copy of "
		      "mine.");
	SUITE_TEST_EX(test_ring_four_ranks, 2, TEST_S, 0,
		      "Which token do you pass on at step 2?\n"
		      "In a ring allreduce each token travels all the way round: what you pass on "
		      "is what you just received.\n"
		      "After each MPI_Sendrecv, swap the token and the incoming buffers; never "
		      "send mine again.");
	SUITE_TEST_EX(
	    test_ring_large_token, 3, TEST_S, 0,
	    "Small tokens work and large ones hang: why?\n"
	    "Past the eager limit, MPI_Send waits for the matching receive (rendezvous); "
	    "if every rank sends first, nobody receives: MPI_Send(3), MPI_Sendrecv(3).\n"
	    "MPI_Sendrecv(token, count, MPI_LONG, right, RING_TAG, next, count, MPI_LONG, "
	    "left, RING_TAG, s->comm, MPI_STATUS_IGNORE).");
	/* Collectives */
	SUITE_TEST_EX(
	    test_scatter_one_rank, 1, TEST_S, 0,
	    "Alone, rank 0 scatters to itself: does that work?\n"
	    "MPI_Scatterv with one rank sends rank 0 all n values; n may be 0: "
	    "MPI_Scatterv(3).\n"
	    "counts[0] = n, displs[0] = 0; a buffer of at least one element when n is 0.");
	SUITE_TEST_EX(
	    test_scatter_two_ranks, 2, TEST_S, 0,
	    "Who has the data, and who gets the result?\n"
	    "Only the root has data and only the root gets the reduction: "
	    "MPI_Scatterv(3), MPI_Reduce(3).\n"
	    "Read data on rank 0 only (it is NULL elsewhere); MPI_Reduce(&part, result, 1, "
	    "MPI_LONG_LONG, MPI_SUM, 0, s->comm); sum (long long)x * x.");
	SUITE_TEST_EX(test_scatter_uneven, 3, TEST_S, 0,
		      "What happens to the n % size values left over?\n"
		      "MPI_Scatterv takes a count and a displacement per rank, so shares may "
		      "differ: MPI_Scatterv(3).\n"
		      "counts[r] = n / size + (r < n % size); displs[r] = displs[r-1] + "
		      "counts[r-1].");
	SUITE_TEST_EX(test_integrate_pi_every_rank, 2, TEST_S, 0,
		      "Does every rank get pi, and is every strip counted once?\n"
		      "MPI_Allreduce leaves the result on every rank, MPI_Reduce on the root "
		      "only: MPI_Allreduce(3).\n"
		      "Share the strips as in scatter_sum_squares, h = 1.0 / steps, then "
		      "MPI_Allreduce(&part, pi, 1, MPI_DOUBLE, MPI_SUM, s->comm).");
}
