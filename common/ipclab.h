/*
 * libipclab: the helpers that IPC Labs' demos, solutions, hidden suites and
 * grader share. One header so that a lab includes one line.
 *
 * Conventions used throughout:
 *  - functions that can fail return -1 and set errno, unless their comment
 *    says otherwise;
 *  - functions whose name starts with x (xfork, xpipe, ...) never fail: on
 *    error they print a message naming the call and exit(1). They are for
 *    demos and tests, never for a library a student writes;
 *  - a message format that ends in ':' gets ": <strerror> (<ENAME>)" appended.
 */
#ifndef IPCLAB_H
#define IPCLAB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <pthread.h>

/* ==== Errors (err.c) ==== */

/* Print "prog: message" to stderr; see the ':' convention above. Can't fail. */
void err_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Like err_warn, then exit(1). */
void err_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The symbolic name of an errno value ("ENOENT"), or "E?" if unknown. */
const char *err_name(int errnum);

/* Exiting wrappers: each calls the system function and dies naming it on error. */
pid_t xfork(void);
void xpipe(int fds[2]);
void xclose(int fd);
void xdup2(int oldfd, int newfd);
pid_t xwaitpid(pid_t pid, int *status, int options);
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);
void xpthread_create(pthread_t *t, void *(*fn)(void *), void *arg);
void xpthread_join(pthread_t t, void **result);

/* ==== Whole reads and writes (io.c) ==== */

/*
 * Read exactly n bytes unless end of file comes first, retrying short reads
 * and EINTR. Returns the bytes read (less than n only at end of file), or -1.
 */
ssize_t io_readn(int fd, void *buf, size_t n);

/* Write all n bytes, retrying short writes and EINTR. Returns n, or -1. */
ssize_t io_writen(int fd, const void *buf, size_t n);

/*
 * Read until end of file into a new NUL-terminated buffer of at most cap
 * bytes (more is read and discarded). Stores the length kept in *len when
 * len is not NULL. Returns the buffer (free it), or NULL with errno set
 * (ENOMEM, also for a cap too large to allocate).
 */
char *io_slurp(int fd, size_t cap, size_t *len);

/* ==== Processes (proc.c) ==== */

/*
 * Run fn(arg) in a new child process, which then leaves with _exit(0) (or the
 * status fn passes to _exit itself). Returns the child's pid, or -1.
 */
pid_t proc_run(void (*fn)(void *arg), void *arg);

/*
 * Wait up to timeout_ms (negative: forever) for child pid to end, storing its
 * wait status in *status when status is not NULL. Returns 0 when it was
 * reaped, -1 with errno ETIMEDOUT if it is still running (it is left alone),
 * or -1 with another errno from waitpid.
 */
int proc_wait_timeout(pid_t pid, int *status, long timeout_ms);

/* Reap every child that has already ended, without blocking. Returns how many. */
int proc_reap(void);

/*
 * Send sig to every process of group pgid. Returns 0, or -1 (ESRCH when the
 * group is already empty; EINVAL for a pgid below 2, which would signal our
 * own group or every process).
 */
int proc_kill_group(pid_t pgid, int sig);

/* How many processes have pid as parent (pid 0: this process). -1 on error. */
int proc_count_children(pid_t pid);

/* How many children of pid (0: this process) are zombies, ended but not reaped. */
int proc_count_zombies(pid_t pid);

/* How many descriptors process pid (0: this process) has open. -1 on error. */
int proc_count_fds(pid_t pid);

/* How many threads process pid (0: this process) has. -1 on error. */
int proc_count_threads(pid_t pid);

/*
 * The scheduling state letter ('R', 'S', 'D', 'Z', 'T', ...) of process pid
 * (0: this process) or, when tid is not 0, of its thread tid; 0 when it is
 * gone. Suites use it to tell a call that sleeps from one that spins.
 */
char proc_state(pid_t pid, pid_t tid);

/*
 * Describe an open descriptor of process pid (0: this one) into buf: what it
 * points at, as /proc shows it ("pipe:[1234]", "/tmp/x", "socket:[99]").
 * Returns 0, or -1 (EBADF when it is not open).
 */
int proc_describe_fd(pid_t pid, int fd, char *buf, size_t size);

/* Write a wait status in words ("exited with status 3", "killed by SIGSEGV"). */
void proc_status_text(int status, char *buf, size_t size);

/* ==== Time (timing.c) ==== */

/* Nanoseconds on the monotonic clock: for intervals, not dates. Can't fail. */
uint64_t clock_now_ns(void);

/* Sleep ms milliseconds, resuming after signal interruptions. */
void clock_sleep_ms(long ms);

struct stopwatch {
	uint64_t start_ns; /* clock_now_ns() at the start */
};

/* Start (or restart) the stopwatch. */
void stopwatch_start(struct stopwatch *sw);

/* Nanoseconds since the stopwatch was started. */
uint64_t stopwatch_ns(const struct stopwatch *sw);

/* Milliseconds since the stopwatch was started. */
double stopwatch_ms(const struct stopwatch *sw);

struct measure_stats {
	uint64_t min_ns;    /* fastest run */
	uint64_t median_ns; /* middle run: the figure to report on a noisy machine */
	uint64_t max_ns;    /* slowest run */
	int runs;           /* how many runs were timed */
};

/*
 * Time runs calls of fn(arg) and store min, median and max in *out.
 * Returns 0, or -1 (EINVAL when runs < 1, ENOMEM).
 */
int measure_repeat(void (*fn)(void *arg), void *arg, int runs, struct measure_stats *out);

#endif
