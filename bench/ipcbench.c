/*
 * ipcbench: every IPC mechanism the labs teach, measured side by side on the
 * machine at hand, in one run.
 *
 * For each mechanism and message size the parent forks a child that echoes
 * the messages it is asked to echo, then measures two things:
 *  - the round trip: one message there and one back, each timed on its own
 *    with the monotonic clock, summed up as min, median and 99th percentile;
 *  - the stream: messages one way as fast as the child takes them, with an
 *    echo only at the end (or every few messages, where the mechanism has no
 *    flow control of its own), counted in messages and megabytes a second.
 * Two reference rows give the machine's own limits: a cache line bounced
 * between two cores (the fastest two processes can answer each other) and
 * memcpy (the fastest bytes can move). Each mechanism is then shown as a
 * multiple of the first and a fraction of the second.
 *
 * Every measurement runs for a fixed time budget, so a slow mechanism is
 * timed fewer times instead of making the run longer. What the program
 * creates (FIFOs and their folder, message queues, shared mappings,
 * children) is removed on every way out, a watchdog included.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"

/* ==== Constants and types ==== */

#define BUDGET_S          0.3  /* seconds of timed work per measurement */
#define QUICK_BUDGET_S    0.02 /* the same with -q: a check that it runs, not a figure */
#define WATCHDOG_S        10   /* a measurement still running after this is stopped */
#define MIN_SIZE          8    /* a message holds at least its 8-byte tag */
#define MAX_SIZE          (1u << 20)
#define MAX_SIZES         8
#define MIN_TRIPS         10         /* round trips timed at least, whatever the budget */
#define MAX_SAMPLES       (1u << 22) /* and at most: 32 MiB of timings */
#define SLOTS             8          /* shared-memory rings: messages in flight one way */
#define SPIN_BEFORE_YIELD 1024       /* spins before giving the core away once */
#define SIGNAL_WINDOW     64         /* signals: an echo every so many, to bound the queue */
#define CHECK_EVERY       16         /* stream: read the clock every so many messages */
#define MEMCPY_RUNS       9          /* memcpy: timed batches, of which the median counts */

/* A message's first 8 bytes: whether the child must send it back. */
#define TAG_SINK 1
#define TAG_ECHO 2
/* eventfd adds up what is written: an echo request is a value no sum of sinks reaches. */
#define EFD_ECHO ((uint64_t)1 << 32)

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ volatile("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* One direction of a shared-memory channel: a ring of SLOTS slots follows it. */
struct ring {
	alignas(64) _Atomic uint64_t head; /* shm+spin: messages taken; only the reader moves it */
	alignas(64) _Atomic uint64_t tail; /* shm+spin: messages put; only the writer moves it */
	alignas(64) sem_t items;           /* shm+sem: messages waiting to be taken */
	sem_t spaces;                      /* shm+sem: free slots */
};

/*
 * A two-way channel between the parent (side 0) and the child (side 1).
 * Direction 0 goes down to the child, direction 1 up to the parent: a side
 * sends on the direction of its own number and receives on the other.
 * Each process has its own copy after fork.
 */
struct chan {
	size_t size;          /* bytes a message */
	const char *call;     /* the call a failed set-up was making, for the note */
	pid_t child;          /* the child's pid in the parent, 0 in the child */
	int in[2];            /* per side: the descriptor it reads, or -1 */
	int out[2];           /* per side: the descriptor it writes, or -1 */
	mqd_t mq[2];          /* mqueue: per direction, or -1 */
	size_t piece;         /* mqueue: the longest message the queue takes */
	unsigned char *spare; /* mqueue: room for a last piece shorter than that */
	unsigned char *shm;   /* shm: the two rings, one per direction */
	size_t ring_bytes;    /* shm: one ring with its slots */
	size_t slot_bytes;    /* shm: one slot, a whole number of cache lines */
	uint64_t count[2];    /* shm+sem: per direction, messages this process moved */
	sigset_t saved_mask;  /* signal: the mask to restore afterwards */
	pid_t peer;           /* signal: the process to signal */
	int cpu;              /* the CPU the child pins itself to, or -1: not pinned */
};

/* A mechanism: how to build, use and remove one channel of its kind. */
struct mech {
	const char *name; /* the row's label: one word */
	const char *what; /* how the channel is made, for -h */
	int small_only;   /* carries a number, not a payload: only the smallest size */
	int window;       /* stream: an echo every window messages (0: only at the end) */
	int pinned;       /* spins: each process pinned to a CPU of its own, if there are two */
	int (*setup)(struct chan *c);            /* before fork; -1 (c->call, errno): skip */
	int (*attach)(struct chan *c, int side); /* after fork, in each process; 0 or -1 */
	int (*send)(struct chan *c, int side, unsigned char *msg); /* c->size bytes; 0 or -1 */
	int (*recv)(struct chan *c, int side, unsigned char *msg); /* c->size bytes; 0 or -1 */
	void (*teardown)(struct chan *c); /* in the parent: child reaped, or set-up failed */
};

/* Round-trip times of one measurement, in nanoseconds. */
struct rtt {
	uint64_t min, median, p99; /* fastest, middle, the one 99% of trips beat */
	size_t n;                  /* round trips timed (0: not measured) */
};

enum state { MEASURED, SKIPPED, FAILED };

/* One row of a table. */
struct result {
	const char *name; /* the mechanism or the reference */
	enum state state; /* whether the figures below mean anything */
	char note[160];   /* why it was skipped or failed, or how it was carried */
	struct rtt rtt;   /* the round trips (rtt.n == 0: none) */
	double msgs_s;    /* the stream, messages a second (0: none) */
	size_t payload;   /* bytes a message carries (0: a number, not a payload) */
};

/* What a timed round trip or stream works on. */
struct trip {
	const struct mech *m; /* the mechanism */
	struct chan *c;       /* its channel, attached */
	unsigned char *msg;   /* a message of c->size bytes */
};

/* ==== State shared with the signal handler and the exit handler ==== */

static volatile sig_atomic_t child_pid; /* the running child, for the handler to kill; 0: none */
static volatile sig_atomic_t timed_out; /* the watchdog fired during this measurement */
static volatile sig_atomic_t quit_sig;  /* the user asked us to stop with this signal */
static pid_t main_pid;                  /* the exit handler does nothing in other processes */
static char fifo_dir[PATH_MAX];         /* the private folder of the FIFOs, or "" */
static char fifo_path[2][PATH_MAX];     /* the FIFOs, one per direction */

/*
 * Kill the running child so that whatever we block on returns (end of file,
 * EPIPE), note why, and fire again in a second in case the signal came just
 * before a blocking call. No stdio, no malloc: only async-signal-safe calls.
 */
static void on_signal(int sig)
{
	int saved = errno;

	if (child_pid > 0)
		kill(child_pid, SIGKILL);
	if (sig == SIGALRM)
		timed_out = 1;
	else
		quit_sig = sig;
	alarm(1);
	errno = saved;
}

/* Whether the measurement under way must stop. Can't fail. */
static int stopping(void)
{
	return timed_out || quit_sig;
}

/*
 * Catch the watchdog and the user's signals without SA_RESTART, so that a
 * blocked call returns EINTR, and ignore SIGPIPE, so that writing to a dead
 * child is an EPIPE error rather than our death. Dies on error.
 */
static void signals_install(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	int sigs[] = {SIGALRM, SIGINT, SIGTERM, SIGHUP};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			err_die("sigaction:");
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		err_die("signal SIGPIPE:");
}

/* The exit handler: kill and reap the child, remove the FIFOs and their folder. */
static void cleanup(void)
{
	pid_t pid = child_pid;

	if (getpid() != main_pid)
		return;
	if (pid > 0) {
		child_pid = 0;
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (fifo_dir[0]) {
		unlink(fifo_path[0]); /* already gone, as a rule: attach removes them */
		unlink(fifo_path[1]);
		if (rmdir(fifo_dir) < 0)
			err_warn("rmdir %s:", fifo_dir);
		fifo_dir[0] = '\0';
	}
}

/*
 * The first steps of every child: the default dispositions back (so that
 * Ctrl-C kills it), and death along with the parent, so that no child ever
 * outlives the program. Leaves with _exit(1) if the parent is already gone.
 */
static void child_start(void)
{
	int sigs[] = {SIGALRM, SIGINT, SIGTERM, SIGHUP, SIGPIPE};

	timed_out = quit_sig = 0; /* the parent's, copied by fork: not this process's */
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (signal(sigs[i], SIG_DFL) == SIG_ERR)
			_exit(1);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != main_pid)
		_exit(1);
}

/* Kill the child and reap it. Returns its wait status. Dies if waitpid fails. */
static int child_stop(pid_t pid)
{
	int status = 0;

	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		err_die("kill %d:", (int)pid);
	child_pid = 0; /* before the wait: the handler must never kill a reused pid */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			err_die("waitpid %d:", (int)pid);
	return status;
}

/* ==== Messages and spinning ==== */

/* Store tag in the message's first 8 bytes. Can't fail. */
static void msg_set_tag(unsigned char *msg, uint64_t tag)
{
	memcpy(msg, &tag, sizeof(tag));
}

/* The message's tag. Can't fail. */
static uint64_t msg_tag(const unsigned char *msg)
{
	uint64_t tag;

	memcpy(&tag, msg, sizeof(tag));
	return tag;
}

/*
 * Spin until *v reaches at least target, giving the core away now and then:
 * on a machine with fewer free cores than spinners, the other side may need
 * this very core to make progress. Returns 0, or -1 (EINTR) when stopping.
 */
static int spin_until(_Atomic uint64_t *v, uint64_t target)
{
	for (unsigned spins = 1; atomic_load_explicit(v, memory_order_acquire) < target; spins++) {
		if (spins % SPIN_BEFORE_YIELD) {
			cpu_relax();
			continue;
		}
		if (stopping()) {
			errno = EINTR;
			return -1;
		}
		sched_yield();
	}
	return 0;
}

/* Map bytes of memory that a child made by fork will share. NULL on error. */
static void *shared_map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ==== Descriptors: pipe, FIFO, Unix socket, TCP ==== */

/* Close every descriptor the channel still holds in this process. */
static void fd_teardown(struct chan *c)
{
	int fds[4] = {c->in[0], c->out[0], c->in[1], c->out[1]};

	for (int i = 0; i < 4; i++) {
		int seen = 0;

		for (int j = 0; j < i; j++)
			seen |= fds[j] == fds[i];
		if (fds[i] >= 0 && !seen && close(fds[i]) < 0)
			err_warn("close %d:", fds[i]);
	}
	c->in[0] = c->out[0] = c->in[1] = c->out[1] = -1;
}

/* In one process, close the other side's descriptors that this side does not use. */
static int fd_attach(struct chan *c, int side)
{
	int other = 1 - side;
	int fds[2] = {c->in[other], c->out[other]};

	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0 || fds[i] == c->in[side] || fds[i] == c->out[side])
			continue;
		if (i == 1 && fds[1] == fds[0])
			continue; /* a socket: one descriptor both ways, closed once */
		if (close(fds[i]) < 0)
			return -1;
	}
	c->in[other] = c->out[other] = -1;
	return 0;
}

/* Write the whole message, whatever the short writes. */
static int fd_send(struct chan *c, int side, unsigned char *msg)
{
	return io_writen(c->out[side], msg, c->size) < 0 ? -1 : 0;
}

/* Read the whole message; EPIPE when the other side has gone. */
static int fd_recv(struct chan *c, int side, unsigned char *msg)
{
	ssize_t r = io_readn(c->in[side], msg, c->size);

	if (r >= 0 && (size_t)r < c->size)
		errno = EPIPE;
	return (size_t)r == c->size ? 0 : -1;
}

/* Two pipes, one each way. */
static int pipe_setup(struct chan *c)
{
	int down[2], up[2];

	c->call = "pipe";
	if (pipe(down) < 0)
		return -1;
	c->in[1] = down[0];
	c->out[0] = down[1];
	if (pipe(up) < 0)
		return -1;
	c->in[0] = up[0];
	c->out[1] = up[1];
	return 0;
}

/* Two FIFOs in the private folder; each process opens them by name after fork. */
static int fifo_setup(struct chan *c)
{
	c->call = "mkfifo";
	if (mkfifo(fifo_path[0], 0600) < 0)
		return -1;
	return mkfifo(fifo_path[1], 0600);
}

/* open(), again after a signal unless stopping. The descriptor, or -1. */
static int open_retry(const char *path, int flags)
{
	int fd;

	while ((fd = open(path, flags)) < 0)
		if (errno != EINTR || stopping())
			return -1;
	return fd;
}

/*
 * Open the FIFOs. Opening one end blocks until the other end is opened, so
 * both processes open the down FIFO first; then the parent, once both are
 * open everywhere, removes the names: the FIFOs live on while open.
 */
static int fifo_attach(struct chan *c, int side)
{
	if (side == 0) {
		if ((c->out[0] = open_retry(fifo_path[0], O_WRONLY)) < 0 ||
		    (c->in[0] = open_retry(fifo_path[1], O_RDONLY)) < 0)
			return -1;
		return unlink(fifo_path[0]) < 0 || unlink(fifo_path[1]) < 0 ? -1 : 0;
	}
	if ((c->in[1] = open_retry(fifo_path[0], O_RDONLY)) < 0 ||
	    (c->out[1] = open_retry(fifo_path[1], O_WRONLY)) < 0)
		return -1;
	return 0;
}

/* Close the FIFOs and remove their names if attach did not get that far. */
static void fifo_teardown(struct chan *c)
{
	fd_teardown(c);
	for (int d = 0; d < 2; d++)
		if (unlink(fifo_path[d]) < 0 && errno != ENOENT)
			err_warn("unlink %s:", fifo_path[d]);
}

/* One connected pair of Unix stream sockets, both ways on each. */
static int unix_setup(struct chan *c)
{
	int sv[2];

	c->call = "socketpair";
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	c->in[0] = c->out[0] = sv[0];
	c->in[1] = c->out[1] = sv[1];
	return 0;
}

/*
 * A TCP connection to ourselves on 127.0.0.1, on a port the kernel picks,
 * with Nagle's algorithm off so that a small message leaves at once.
 */
static int tcp_setup(struct chan *c)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int one = 1, lfd, r = -1, saved;

	c->call = "socket";
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	c->call = "connect to 127.0.0.1";
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 1) == 0 &&
	    getsockname(lfd, (struct sockaddr *)&a, &len) == 0 &&
	    (c->in[0] = c->out[0] = socket(AF_INET, SOCK_STREAM, 0)) >= 0 &&
	    connect(c->in[0], (struct sockaddr *)&a, len) == 0 &&
	    (c->in[1] = c->out[1] = accept(lfd, NULL, NULL)) >= 0 &&
	    setsockopt(c->in[0], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 &&
	    setsockopt(c->in[1], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
		r = 0;
	saved = errno;
	if (close(lfd) < 0)
		err_warn("close the listening socket:");
	errno = saved;
	return r;
}

/* ==== eventfd: a counter, not a queue ==== */

/* Two eventfds: down is written by the parent and read by the child, up the other way. */
static int efd_setup(struct chan *c)
{
	c->call = "eventfd";
	if ((c->out[0] = c->in[1] = eventfd(0, 0)) < 0)
		return -1;
	if ((c->out[1] = c->in[0] = eventfd(0, 0)) < 0)
		return -1;
	return 0;
}

/* Add 1 to the counter for a sink, EFD_ECHO for an echo request. */
static int efd_send(struct chan *c, int side, unsigned char *msg)
{
	uint64_t v = msg_tag(msg) == TAG_ECHO ? EFD_ECHO : 1;

	while (write(c->out[side], &v, sizeof(v)) != sizeof(v))
		if (errno != EINTR || stopping())
			return -1;
	return 0;
}

/*
 * Take the counter's whole value, which may add up several messages: a read
 * wakes once for any number of writes. An echo request shows as a value of
 * EFD_ECHO or more.
 */
static int efd_recv(struct chan *c, int side, unsigned char *msg)
{
	uint64_t v;

	while (read(c->in[side], &v, sizeof(v)) != sizeof(v))
		if (errno != EINTR || stopping())
			return -1;
	msg_set_tag(msg, v >= EFD_ECHO ? TAG_ECHO : TAG_SINK);
	return 0;
}

/* ==== POSIX message queues ==== */

/* A limit from /proc/sys/fs/mqueue (msg_max, msgsize_max), or fallback if unreadable. */
static long mq_limit(const char *name, long fallback)
{
	char path[64];
	long v = fallback;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/fs/mqueue/%s", name);
	f = fopen(path, "r");
	if (!f)
		return fallback;
	if (fscanf(f, "%ld", &v) != 1)
		v = fallback;
	fclose(f);
	return v;
}

/*
 * Two queues, one per direction, opened here so that the child inherits
 * them, and unlinked at once: a queue lives while open, and no name can be
 * left behind. A message longer than the kernel's limit for one queue
 * message (fs.mqueue.msgsize_max, 8 KiB by default) travels in pieces.
 */
static int mq_setup(struct chan *c)
{
	long maxmsg = mq_limit("msg_max", 10);
	struct mq_attr attr = {.mq_maxmsg = maxmsg < 10 ? maxmsg : 10};
	char name[64];

	c->piece = (size_t)mq_limit("msgsize_max", 8192);
	c->piece = c->size < c->piece ? c->size : c->piece;
	attr.mq_msgsize = (long)c->piece;
	c->call = "malloc";
	if (!(c->spare = malloc(c->piece)))
		return -1;
	c->call = "mq_open";
	for (int d = 0; d < 2; d++) {
		snprintf(name, sizeof(name), "/ipcbench.%d.%d", (int)getpid(), d);
		c->mq[d] = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
		if (c->mq[d] == (mqd_t)-1 || mq_unlink(name) < 0)
			return -1;
	}
	return 0;
}

/* Nothing to do: each process uses one end of each queue. */
static int mq_attach(struct chan *c, int side)
{
	(void)c;
	(void)side;
	return 0;
}

/* Send the message, in pieces of at most c->piece bytes. */
static int mq_send_msg(struct chan *c, int side, unsigned char *msg)
{
	for (size_t off = 0; off < c->size; off += c->piece) {
		size_t n = c->size - off < c->piece ? c->size - off : c->piece;

		while (mq_send(c->mq[side], (char *)msg + off, n, 0) < 0)
			if (errno != EINTR || stopping())
				return -1;
	}
	return 0;
}

/* Receive the message's pieces; a short last one lands in c->spare first. */
static int mq_recv_msg(struct chan *c, int side, unsigned char *msg)
{
	for (size_t off = 0; off < c->size; off += c->piece) {
		size_t n = c->size - off < c->piece ? c->size - off : c->piece;
		unsigned char *to = n == c->piece ? msg + off : c->spare;
		ssize_t r;

		while ((r = mq_receive(c->mq[1 - side], (char *)to, c->piece, NULL)) < 0)
			if (errno != EINTR || stopping())
				return -1;
		if ((size_t)r != n) {
			errno = EPROTO;
			return -1;
		}
		if (to == c->spare)
			memcpy(msg + off, c->spare, n);
	}
	return 0;
}

/* Close both queues. */
static void mq_teardown(struct chan *c)
{
	for (int d = 0; d < 2; d++)
		if (c->mq[d] != (mqd_t)-1 && mq_close(c->mq[d]) < 0)
			err_warn("mq_close:");
	free(c->spare);
}

/* ==== Shared memory: two rings, with semaphores or spinning ==== */

/* The ring of direction d. */
static struct ring *ring_of(struct chan *c, int d)
{
	return (struct ring *)(c->shm + (size_t)d * c->ring_bytes);
}

/* Slot i (counted from the start, wrapping) of direction d. */
static unsigned char *ring_slot(struct chan *c, int d, uint64_t i)
{
	return (unsigned char *)(ring_of(c, d) + 1) + (i % SLOTS) * c->slot_bytes;
}

/* Map the two rings: anonymous shared pages, so no name to remove afterwards. */
static int shm_map(struct chan *c)
{
	c->slot_bytes = (c->size + 63) / 64 * 64;
	c->ring_bytes = sizeof(struct ring) + SLOTS * c->slot_bytes;
	c->call = "mmap";
	c->shm = shared_map(2 * c->ring_bytes);
	return c->shm ? 0 : -1;
}

/* Unmap the rings. */
static void shm_teardown(struct chan *c)
{
	if (c->shm && munmap(c->shm, 2 * c->ring_bytes) < 0)
		err_warn("munmap:");
	c->shm = NULL;
}

/* Nothing to do: the mapping is shared from fork on. */
static int shm_attach(struct chan *c, int side)
{
	(void)c;
	(void)side;
	return 0;
}

/* The rings, each with a process-shared semaphore pair: items and spaces. */
static int shmsem_setup(struct chan *c)
{
	if (shm_map(c) < 0)
		return -1;
	c->call = "sem_init";
	for (int d = 0; d < 2; d++)
		if (sem_init(&ring_of(c, d)->items, 1, 0) < 0 ||
		    sem_init(&ring_of(c, d)->spaces, 1, SLOTS) < 0)
			return -1;
	return 0;
}

/* sem_wait(), again after a signal unless stopping. 0, or -1. */
static int sem_wait_retry(sem_t *sem)
{
	while (sem_wait(sem) < 0)
		if (errno != EINTR || stopping())
			return -1;
	return 0;
}

/* Wait for a free slot, copy the message in, post an item. */
static int shmsem_send(struct chan *c, int side, unsigned char *msg)
{
	struct ring *r = ring_of(c, side);

	if (sem_wait_retry(&r->spaces) < 0)
		return -1;
	memcpy(ring_slot(c, side, c->count[side]++), msg, c->size);
	return sem_post(&r->items);
}

/* Wait for an item, copy the message out, post a free slot. */
static int shmsem_recv(struct chan *c, int side, unsigned char *msg)
{
	struct ring *r = ring_of(c, 1 - side);

	if (sem_wait_retry(&r->items) < 0)
		return -1;
	memcpy(msg, ring_slot(c, 1 - side, c->count[1 - side]++), c->size);
	return sem_post(&r->spaces);
}

/* Destroy the semaphores and unmap the rings. */
static void shmsem_teardown(struct chan *c)
{
	if (c->shm)
		for (int d = 0; d < 2; d++) {
			sem_destroy(&ring_of(c, d)->items);
			sem_destroy(&ring_of(c, d)->spaces);
		}
	shm_teardown(c);
}

/* The rings alone: the indices are the only synchronisation. */
static int shmspin_setup(struct chan *c)
{
	return shm_map(c);
}

/* Spin until a slot is free, copy the message in, publish it by moving tail. */
static int shmspin_send(struct chan *c, int side, unsigned char *msg)
{
	struct ring *r = ring_of(c, side);
	uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (t >= SLOTS && spin_until(&r->head, t - SLOTS + 1) < 0)
		return -1;
	memcpy(ring_slot(c, side, t), msg, c->size);
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return 0;
}

/* Spin until a message is there, copy it out, free its slot by moving head. */
static int shmspin_recv(struct chan *c, int side, unsigned char *msg)
{
	struct ring *r = ring_of(c, 1 - side);
	uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (spin_until(&r->tail, h + 1) < 0)
		return -1;
	memcpy(msg, ring_slot(c, 1 - side, h), c->size);
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return 0;
}

/* ==== Signals: a realtime signal and its value ==== */

/* Block SIGRTMIN, here and so in the child, so that it waits in the queue for sigwaitinfo. */
static int sig_setup(struct chan *c)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	c->call = "sigprocmask";
	return sigprocmask(SIG_BLOCK, &set, &c->saved_mask);
}

/* Each side signals the other: the child's pid in the parent, the parent's in the child. */
static int sig_attach(struct chan *c, int side)
{
	c->peer = side == 0 ? c->child : getppid();
	return 0;
}

/* Queue SIGRTMIN with the tag as its value; wait if the queue is full. */
static int sig_send(struct chan *c, int side, unsigned char *msg)
{
	union sigval v = {.sival_int = (int)msg_tag(msg)};

	(void)side;
	while (sigqueue(c->peer, SIGRTMIN, v) < 0) {
		if (errno != EAGAIN || stopping())
			return -1;
		sched_yield(); /* RLIMIT_SIGPENDING reached: let the receiver catch up */
	}
	return 0;
}

/* Take the next SIGRTMIN from the queue, its value as the tag. */
static int sig_recv(struct chan *c, int side, unsigned char *msg)
{
	siginfo_t si;
	sigset_t set;

	(void)c;
	(void)side;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	while (sigwaitinfo(&set, &si) < 0)
		if (errno != EINTR || stopping())
			return -1;
	msg_set_tag(msg, (uint64_t)si.si_value.sival_int);
	return 0;
}

/* Drop any SIGRTMIN still pending, then restore the signal mask. */
static void sig_teardown(struct chan *c)
{
	struct timespec zero = {0, 0};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	if (sigprocmask(SIG_SETMASK, &c->saved_mask, NULL) < 0)
		err_die("sigprocmask:");
}

/* ==== The mechanisms ==== */

static const struct mech mechs[] = {
    {"pipe", "two pipes, one each way", 0, 0, 0, pipe_setup, fd_attach, fd_send, fd_recv,
     fd_teardown},
    {"fifo", "two FIFOs (mkfifo) in a private folder, opened by name", 0, 0, 0, fifo_setup,
     fifo_attach, fd_send, fd_recv, fifo_teardown},
    {"mqueue", "two POSIX message queues", 0, 0, 0, mq_setup, mq_attach, mq_send_msg, mq_recv_msg,
     mq_teardown},
    {"shm+sem", "two shared rings, each with a process-shared semaphore pair", 0, 0, 0,
     shmsem_setup, shm_attach, shmsem_send, shmsem_recv, shmsem_teardown},
    {"shm+spin", "two shared rings with C11 atomic indices, spinning", 0, 0, 1, shmspin_setup,
     shm_attach, shmspin_send, shmspin_recv, shm_teardown},
    {"unix", "a Unix stream socket pair (socketpair)", 0, 0, 0, unix_setup, fd_attach, fd_send,
     fd_recv, fd_teardown},
    {"tcp", "a TCP connection on 127.0.0.1, TCP_NODELAY", 0, 0, 0, tcp_setup, fd_attach, fd_send,
     fd_recv, fd_teardown},
    {"eventfd", "two eventfd counters: a count, no payload", 1, 0, 0, efd_setup, fd_attach,
     efd_send, efd_recv, fd_teardown},
    {"signal", "SIGRTMIN with sigqueue and sigwaitinfo: an int, no payload", 1, SIGNAL_WINDOW, 0,
     sig_setup, sig_attach, sig_send, sig_recv, sig_teardown},
};

#define NMECHS (sizeof(mechs) / sizeof(mechs[0]))

/* ==== The child ==== */

/* The index of the n-th (from 0) CPU in set, or -1. */
static int nth_cpu(const cpu_set_t *set, int n)
{
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, set) && n-- == 0)
			return cpu;
	return -1;
}

/* Pin the calling process to one CPU. 0, or -1. */
static int pin_to(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one);
}

/*
 * Choose two CPUs for a pinned pair: store this process's set in *saved (for
 * pin_restore), pin this process to the first CPU and return the second, for
 * the child. Returns -1, pinning nothing, when only one CPU is usable.
 */
static int pin_pair(cpu_set_t *saved)
{
	if (sched_getaffinity(0, sizeof(*saved), saved) < 0)
		err_die("sched_getaffinity:");
	if (CPU_COUNT(saved) < 2)
		return -1;
	if (pin_to(nth_cpu(saved, 0)) < 0)
		err_die("sched_setaffinity:");
	return nth_cpu(saved, 1);
}

/* Give this process back the CPUs of saved. Dies on error. */
static void pin_restore(const cpu_set_t *saved)
{
	if (sched_setaffinity(0, sizeof(*saved), saved) < 0)
		err_die("sched_setaffinity:");
}

/* Attach, then receive forever, sending back what is marked TAG_ECHO. Never returns. */
static void child_serve(const struct mech *m, struct chan *c)
{
	unsigned char *msg;

	child_start();
	msg = malloc(c->size);
	if (!msg || (c->cpu >= 0 && pin_to(c->cpu) < 0) || m->attach(c, 1) < 0)
		_exit(1);
	for (;;) {
		if (m->recv(c, 1, msg) < 0)
			_exit(1);
		if (msg_tag(msg) == TAG_ECHO && m->send(c, 1, msg) < 0)
			_exit(1);
	}
}

/* ==== Measuring ==== */

/* Seconds to nanoseconds. */
static uint64_t ns_of(double s)
{
	return (uint64_t)(s * 1e9);
}

/* qsort's order of two uint64_t. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Sort the n timings in v and store min, median and 99th percentile in *out. */
static void rtt_summarise(uint64_t *v, size_t n, struct rtt *out)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	out->min = v[0];
	out->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	out->p99 = v[(99 * n + 99) / 100 - 1]; /* nearest rank: ceil(0.99 n) */
	out->n = n;
}

/*
 * Time trip(arg) one call at a time: a warm-up of a fifth of budget seconds,
 * not kept, then budget seconds kept (at least MIN_TRIPS calls, at most
 * MAX_SAMPLES). One clock reading ends a trip and starts the next. Stores
 * the summary in *out. Returns 0, or -1 with errno from trip.
 */
static int time_trips(int (*trip)(void *), void *arg, double budget, struct rtt *out)
{
	uint64_t t0 = clock_now_ns(), warm = t0 + ns_of(budget / 5), end = warm + ns_of(budget);
	size_t n = 0, cap = 1024;
	uint64_t *v = xmalloc(cap * sizeof(*v));

	for (;;) {
		if (trip(arg) < 0) {
			free(v);
			return -1;
		}
		uint64_t t1 = clock_now_ns();
		if (t0 >= warm) {
			if (n == cap && !(v = realloc(v, (cap *= 2) * sizeof(*v))))
				err_die("realloc:");
			v[n++] = t1 - t0;
		}
		if ((t1 >= end && n >= MIN_TRIPS) || n == MAX_SAMPLES)
			break;
		t0 = t1;
	}
	rtt_summarise(v, n, out);
	free(v);
	return 0;
}

/* One round trip over a mechanism: a message marked for echo, there and back. */
static int mech_trip(void *arg)
{
	struct trip *t = arg;

	msg_set_tag(t->msg, TAG_ECHO);
	if (t->m->send(t->c, 0, t->msg) < 0)
		return -1;
	return t->m->recv(t->c, 0, t->msg);
}

/*
 * Stream for ns nanoseconds: messages back to back, each marked as a sink
 * except one in every window (if the mechanism has one) and the last, whose
 * echo is awaited. Stores how many were sent in *count and the time taken
 * in *took. Returns 0, or -1 with errno.
 */
static int stream_for(struct trip *t, uint64_t ns, uint64_t *count, uint64_t *took)
{
	uint64_t start = clock_now_ns(), n = 0;
	int window = t->m->window, last;

	do {
		last = n % CHECK_EVERY == CHECK_EVERY - 1 && clock_now_ns() - start >= ns;
		int echo = last || (window && n % window == (uint64_t)window - 1);
		msg_set_tag(t->msg, echo ? TAG_ECHO : TAG_SINK);
		if (t->m->send(t->c, 0, t->msg) < 0 || (echo && t->m->recv(t->c, 0, t->msg) < 0))
			return -1;
		n++;
	} while (!last);
	*count = n;
	*took = clock_now_ns() - start;
	return 0;
}

/* Write a note into r, printf-style. */
static void note(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->note, sizeof(r->note), fmt, ap);
	va_end(ap);
}

/*
 * In the parent, the child started: attach, time the round trips, then the
 * stream, each after its warm-up, under the watchdog. Fills r's figures.
 * Returns 0, or -1 with errno and r->note naming the step that failed.
 */
static int measure_chan(const struct mech *m, struct chan *c, double budget, struct result *r)
{
	struct trip t = {m, c, xcalloc(1, c->size)};
	uint64_t count, took;
	int ok = -1, err;

	timed_out = 0;
	alarm(WATCHDOG_S);
	if (m->attach(c, 0) < 0)
		note(r, "the parent's set-up");
	else if (time_trips(mech_trip, &t, budget, &r->rtt) < 0)
		note(r, "the round trips");
	else if (stream_for(&t, ns_of(budget / 5), &count, &took) < 0 ||
		 stream_for(&t, ns_of(budget), &count, &took) < 0)
		note(r, "the stream");
	else
		ok = 0;
	err = errno;
	alarm(0);
	free(t.msg);
	r->msgs_s = ok == 0 ? (double)count / ((double)took / 1e9) : 0;
	errno = err;
	return ok;
}

/*
 * After measuring m, say in r->note how it failed (r->note names the step,
 * err the errno, status the child's wait status) or how it went.
 */
static void explain(struct result *r, const struct mech *m, const struct chan *c, int err,
		    int status)
{
	char step[sizeof(r->note)], child[64] = "was still running";

	snprintf(step, sizeof(step), "%s", r->note);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		proc_status_text(status, child, sizeof(child)); /* it died before we killed it */
	if (r->state == FAILED && timed_out)
		note(r, "failed: %s: no answer within %d s", step, WATCHDOG_S);
	else if (r->state == FAILED)
		note(r, "failed: %s: %s (%s); the child %s", step, strerror(err), err_name(err),
		     child);
	else if (c->piece && c->piece < c->size)
		note(r, "%s: %zu-byte messages went as %zu pieces (fs.mqueue.msgsize_max %zu)",
		     m->name, c->size, (c->size + c->piece - 1) / c->piece, c->piece);
	else if (m->pinned && c->cpu >= 0)
		note(r, "%s: the two processes pinned to a CPU each, as spinning needs", m->name);
	else if (m->pinned)
		note(r, "%s: one CPU only, so a spinner waits for the other's time slice", m->name);
}

/*
 * Measure mechanism m at one size into r: set up, fork the echoing child,
 * measure, then kill and reap the child and tear down. Never fails: a
 * set-up that fails is a skip, a measurement that fails a failure, both
 * explained in r->note.
 */
static void run_mech(const struct mech *m, size_t size, double budget, struct result *r)
{
	struct chan c = {.size = size, .in = {-1, -1}, .out = {-1, -1}, .mq = {-1, -1}, .cpu = -1};
	cpu_set_t saved;
	int status, err;

	r->name = m->name;
	r->payload = m->small_only ? 0 : size;
	if (m->setup(&c) < 0) {
		r->state = SKIPPED;
		note(r, "skipped: %s: %s (%s)", c.call, strerror(errno), err_name(errno));
		m->teardown(&c);
		return;
	}
	if (m->pinned)
		c.cpu = pin_pair(&saved);
	fflush(stdout);
	if ((c.child = fork()) < 0)
		err_die("fork:");
	if (c.child == 0)
		child_serve(m, &c);
	child_pid = c.child;
	r->state = measure_chan(m, &c, budget, r) == 0 ? MEASURED : FAILED;
	err = errno;
	status = child_stop(c.child);
	m->teardown(&c);
	if (c.cpu >= 0)
		pin_restore(&saved);
	explain(r, m, &c, err, status);
}

/* ==== The machine's limits ==== */

/* The ball of the cache-line ping-pong, and the next value the parent throws. */
struct pingpong {
	_Atomic uint64_t *ball; /* one cache line, shared */
	uint64_t next;          /* odd: the parent's throws; the child answers next + 1 */
};

/* One round trip of the ball: throw, then spin until it comes back. */
static int pingpong_trip(void *arg)
{
	struct pingpong *p = arg;

	atomic_store_explicit(p->ball, p->next, memory_order_release);
	if (spin_until(p->ball, p->next + 1) < 0)
		return -1;
	p->next += 2;
	return 0;
}

/* The child's half: pinned to cpu, answer every throw until killed. Never returns. */
static void pingpong_child(_Atomic uint64_t *ball, int cpu)
{
	child_start();
	if (pin_to(cpu) < 0)
		_exit(1);
	for (uint64_t v = 1;; v += 2) {
		spin_until(ball, v);
		atomic_store_explicit(ball, v + 1, memory_order_release);
	}
}

/*
 * The latency limit: one cache line bounced between this process and a
 * child, each pinned to a core of its own for the while. Skipped, with a
 * note, when this process may run on one core only.
 */
static void measure_cacheline(double budget, struct result *r)
{
	struct pingpong p = {NULL, 1};
	cpu_set_t saved;
	int cpu;
	pid_t pid;

	r->name = "cacheline";
	if ((cpu = pin_pair(&saved)) < 0) {
		r->state = SKIPPED;
		note(r, "skipped: one core only, and the ping-pong needs two: no ratios to it");
		return;
	}
	if (!(p.ball = shared_map(64)))
		err_die("mmap:");
	fflush(stdout);
	if ((pid = xfork()) == 0)
		pingpong_child(p.ball, cpu);
	child_pid = pid;
	timed_out = 0;
	alarm(WATCHDOG_S);
	r->state = time_trips(pingpong_trip, &p, budget, &r->rtt) < 0 ? FAILED : MEASURED;
	alarm(0);
	if (r->state == FAILED)
		note(r, "failed: the other core never answered within %d s", WATCHDOG_S);
	child_stop(pid);
	pin_restore(&saved);
	if (munmap((void *)p.ball, 64) < 0)
		err_die("munmap:");
}

/* What a batch of memcpy works on. */
struct copy_job {
	unsigned char *src, *dst; /* two buffers of size bytes */
	size_t size;              /* bytes a copy */
	long copies;              /* copies a batch */
};

/* A batch of copies; the empty asm keeps the compiler from dropping any. */
static void copy_batch(void *arg)
{
	struct copy_job *j = arg;

	for (long i = 0; i < j->copies; i++) {
		memcpy(j->dst, j->src, j->size);
		__asm__ volatile("" : : "r"(j->dst) : "memory");
	}
}

/*
 * The throughput limit at one size: memcpy of size bytes, over and over.
 * The batch grows until it takes a part of the budget; then the median of
 * MEMCPY_RUNS batches, timed with measure_repeat, counts.
 */
static void measure_memcpy(size_t size, double budget, struct result *r)
{
	struct copy_job j = {xmalloc(size), xmalloc(size), size, 16};
	struct measure_stats st;
	struct stopwatch sw;

	memset(j.src, 'x', size);
	memset(j.dst, 'y', size);
	for (;; j.copies *= 2) {
		stopwatch_start(&sw);
		copy_batch(&j);
		if (stopwatch_ns(&sw) >= ns_of(budget / MEMCPY_RUNS / 2))
			break;
	}
	if (measure_repeat(copy_batch, &j, MEMCPY_RUNS, &st) < 0)
		err_die("measure_repeat:");
	r->name = "memcpy";
	r->state = MEASURED;
	r->payload = size;
	r->msgs_s = (double)j.copies / ((double)st.median_ns / 1e9);
	free(j.src);
	free(j.dst);
}

/* ==== Output ==== */

/* A size in words: "64 B", "4 KiB", "1 MiB". */
static const char *size_text(size_t size, char *buf, size_t len)
{
	if (size >= (1u << 20) && size % (1u << 20) == 0)
		snprintf(buf, len, "%zu MiB", size >> 20);
	else if (size >= 1024 && size % 1024 == 0)
		snprintf(buf, len, "%zu KiB", size >> 10);
	else
		snprintf(buf, len, "%zu B", size);
	return buf;
}

/* The first "model name" of /proc/cpuinfo into buf, or "unknown CPU". */
static void cpu_model(char *buf, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(buf, len, "unknown CPU");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			snprintf(buf, len, "%s", colon + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
}

/* The machine, the load and the method, above the tables. */
static void print_header(double budget)
{
	char model[128];
	double load[3] = {0, 0, 0};
	struct utsname u;
	cpu_set_t mine;

	cpu_model(model, sizeof(model));
	if (uname(&u) < 0)
		err_die("uname:");
	if (sched_getaffinity(0, sizeof(mine), &mine) < 0)
		err_die("sched_getaffinity:");
	if (getloadavg(load, 3) < 0)
		err_warn("getloadavg: no load average");
	printf("ipcbench: IPC between two processes, measured on this machine\n");
	printf("machine: %s, %ld CPUs online, %d usable; %s %s; load average %.2f %.2f %.2f\n",
	       model, sysconf(_SC_NPROCESSORS_ONLN), CPU_COUNT(&mine), u.sysname, u.release,
	       load[0], load[1], load[2]);
	printf("each figure: %.0f ms of work after a %.0f ms warm-up\n\n", budget * 1e3,
	       budget * 1e3 / 5);
	printf("round trip  a message there and back, each timed: min, median, 99th percentile\n");
	printf("stream      messages one way, as fast as they are taken (MB = 10^6 bytes)\n");
	printf("x line      median round trip over the cache line's: the latency limit\n");
	printf("of memcpy   stream messages/s over memcpy copies/s: the throughput limit\n");
}

/* A figure in a column of width w, or "-" when absent (v <= 0). */
static void print_num(double v, int w, int prec)
{
	if (v <= 0)
		printf(" %*s", w, "-");
	else
		printf(" %*.*f", w, prec, v);
}

/* One row: the figures, or the note of a row that was not measured. */
static void print_row(const struct result *r, const struct result *line, const struct result *copy)
{
	const struct rtt *t = &r->rtt;
	int ratios = line->state == MEASURED && r->state == MEASURED;

	printf("%-10s", r->name);
	if (r->state != MEASURED) {
		printf(" %s\n", r->note);
		return;
	}
	print_num(t->n ? t->min / 1e3 : 0, 8, 2);
	print_num(t->n ? t->median / 1e3 : 0, 9, 2);
	print_num(t->n ? t->p99 / 1e3 : 0, 9, 2);
	print_num(ratios && t->n ? (double)t->median / line->rtt.median : 0, 7, 1);
	print_num(r->msgs_s, 12, 0);
	print_num(r->payload ? r->msgs_s * r->payload / 1e6 : 0, 9, 1);
	if (r->msgs_s > 0 && copy->state == MEASURED)
		printf(" %8.2f%%", 100 * r->msgs_s / copy->msgs_s);
	else
		printf(" %9s", "-");
	printf("\n");
}

/* Measured rows first, fastest median round trip first. */
static int cmp_rows(const void *a, const void *b)
{
	const struct result *x = a, *y = b;

	if (x->state != y->state)
		return (int)x->state - (int)y->state;
	return (x->rtt.median > y->rtt.median) - (x->rtt.median < y->rtt.median);
}

/* Most messages a second first. */
static int cmp_streams(const void *a, const void *b)
{
	const struct result *x = *(struct result *const *)a, *y = *(struct result *const *)b;

	return (y->msgs_s > x->msgs_s) - (y->msgs_s < x->msgs_s);
}

/* The ranking of the streams, then the notes of the measured rows. */
static void print_ranking(const struct result *rows, int n)
{
	const struct result *by[NMECHS];
	int k = 0;

	for (int i = 0; i < n; i++)
		if (rows[i].state == MEASURED)
			by[k++] = &rows[i];
	qsort(by, (size_t)k, sizeof(by[0]), cmp_streams);
	printf("stream ranking:");
	for (int i = 0; i < k; i++)
		printf("%s %s", i ? "," : "", by[i]->name);
	printf("\n");
	for (int i = 0; i < n; i++)
		if (rows[i].state == MEASURED && rows[i].note[0])
			printf("note: %s\n", rows[i].note);
}

/*
 * The table of one size: the two limits, then the mechanisms in order of
 * round trip (sorted in a copy: the chart needs the rows in their order).
 */
static void print_table(size_t size, const struct result *line, const struct result *copy,
			const struct result *mech_rows)
{
	struct result rows[NMECHS];
	int n = (int)NMECHS;
	char sz[32];

	printf("\n== %s messages (rows from the fastest round trip to the slowest)\n",
	       size_text(size, sz, sizeof(sz)));
	printf("           round trip (µs)                        stream\n");
	printf("mechanism       min    median       p99  x line      msg/s      MB/s  of memcpy\n");
	print_row(line, line, copy);
	print_row(copy, line, copy);
	memcpy(rows, mech_rows, sizeof(rows));
	qsort(rows, (size_t)n, sizeof(rows[0]), cmp_rows);
	for (int i = 0; i < n; i++)
		print_row(&rows[i], line, copy);
	print_ranking(rows, n);
}

/* ==== The chart ==== */

/* Whether prog is an executable file in a folder of $PATH. */
static int on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char file[PATH_MAX];

	while (path && *path) {
		size_t len = strcspn(path, ":");

		snprintf(file, sizeof(file), "%.*s/%s", (int)len, len ? path : ".", prog);
		if (access(file, X_OK) == 0)
			return 1;
		path += len + (path[len] == ':');
	}
	return 0;
}

/* A bar chart of median round trips and stream rates, both on log scales. */
static const char *const gnuplot_script[] = {
    "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {",
    "  set terminal pngcairo size 1400,560 noenhanced font ',10'",
    "} else {",
    "  set terminal png size 1400,560 noenhanced",
    "}",
    "set output outfile",
    "set datafile missing '-'",
    "set style data histograms",
    "set style histogram clustered gap 1",
    "set style fill solid 0.85 border -1",
    "set logscale y",
    "set grid ytics",
    "set xtics rotate by 30 right nomirror",
    "set key top left",
    "set multiplot layout 1,2 title 'ipcbench: IPC between two processes on this machine'",
    "set title 'median round trip, µs (log scale; lower is better)'",
    "plot for [i=2:1+nsizes] datafile using i:xtic(1) title columnheader(i)",
    "set title 'stream, messages per second (log scale; higher is better)'",
    "plot for [i=2+nsizes:1+2*nsizes] datafile using i:xtic(1) title columnheader(i)",
    "unset multiplot",
};

/* A figure for the data file, or "-" when absent. */
static void put_figure(FILE *f, double v)
{
	if (v > 0)
		fprintf(f, " %.6g", v);
	else
		fprintf(f, " -");
}

/* Write the chart's data: one line a row, median round trips then stream rates by size. */
static int write_data(const char *path, const size_t *sizes, int nsizes,
		      struct result (*res)[NMECHS + 2])
{
	FILE *f = fopen(path, "w");
	char sz[32];

	if (!f)
		return -1;
	fprintf(f, "row");
	for (int k = 0; k < 2 * nsizes; k++)
		fprintf(f, " \"%s\"", size_text(sizes[k % nsizes], sz, sizeof(sz)));
	fprintf(f, "\n");
	for (size_t m = 0; m < NMECHS + 2; m++) {
		fprintf(f, "%s", res[0][m].name);
		for (int k = 0; k < 2 * nsizes; k++) {
			const struct result *r = &res[k % nsizes][m];
			int ok = r->state == MEASURED;

			put_figure(f, !ok ? 0 : k < nsizes ? r->rtt.median / 1e3 : r->msgs_s);
		}
		fprintf(f, "\n");
	}
	return fclose(f);
}

/* Write the gnuplot script that draws data into png. 0, or -1. */
static int write_script(const char *path, const char *data, const char *png, int nsizes)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "datafile = '%s'\noutfile = '%s'\nnsizes = %d\n", data, png, nsizes);
	for (size_t i = 0; i < sizeof(gnuplot_script) / sizeof(gnuplot_script[0]); i++)
		fprintf(f, "%s\n", gnuplot_script[i]);
	return fclose(f);
}

/* Run gnuplot on script. Returns its wait status, or -1. */
static int run_gnuplot(const char *script)
{
	int status;
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		child_start();
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	child_pid = pid;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	child_pid = 0;
	return status;
}

/*
 * With gnuplot on PATH, draw the bar chart into png (its data and script
 * beside it, as .dat and .gp); without, say so in one line.
 */
static void chart(const char *png, const size_t *sizes, int nsizes,
		  struct result (*res)[NMECHS + 2])
{
	size_t stem = strlen(png);
	char data[PATH_MAX], script[PATH_MAX];
	int status;

	if (!on_path("gnuplot")) {
		printf("\nchart: none without gnuplot on PATH (apt-get install gnuplot-nox)\n");
		return;
	}
	if (stem > 4 && strcmp(png + stem - 4, ".png") == 0)
		stem -= 4; /* ipcbench.png: ipcbench.dat and ipcbench.gp */
	snprintf(data, sizeof(data), "%.*s.dat", (int)stem, png);
	snprintf(script, sizeof(script), "%.*s.gp", (int)stem, png);
	if (write_data(data, sizes, nsizes, res) < 0 ||
	    write_script(script, data, png, nsizes) < 0) {
		err_warn("no chart: writing %s:", data);
		return;
	}
	status = run_gnuplot(script);
	if (status == 0)
		printf("\nchart: %s (data %s, script %s)\n", png, data, script);
	else
		printf("\nchart: gnuplot failed on %s, so no chart\n", script);
}

/* ==== Options and main ==== */

/* How to call the program, to out. */
static void usage(FILE *out)
{
	fprintf(out,
		"usage: ipcbench [-q] [-s SIZE,...] [-o FILE.png]\n"
		"  -q          quick: a few seconds, rough figures (a check that it runs)\n"
		"  -s SIZES    message sizes, comma-separated, from %d B to 1M, with K or M\n"
		"              for KiB and MiB (default 64,4K,64K)\n"
		"  -o FILE     the chart, drawn when gnuplot is on PATH (default: ipcbench.png\n"
		"              beside the program)\n"
		"  -h          this help\n"
		"mechanisms, between a parent and a child made by fork:\n",
		MIN_SIZE);
	for (size_t i = 0; i < NMECHS; i++)
		fprintf(out, "  %-9s %s\n", mechs[i].name, mechs[i].what);
}

/* qsort's order of two size_t. */
static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* Parse "64,4K,64K" into sizes, smallest first. Returns how many, or -1. */
static int parse_sizes(const char *arg, size_t *sizes)
{
	int n = 0;

	for (const char *p = arg; *p; p += *p == ',') {
		char *end;
		unsigned long long v = strtoull(p, &end, 10);

		if (end == p || n == MAX_SIZES)
			return -1;
		if (*end == 'K' || *end == 'k')
			v <<= 10, end++;
		else if (*end == 'M' || *end == 'm')
			v <<= 20, end++;
		if ((*end && *end != ',') || (*end == ',' && !end[1]) || v < MIN_SIZE ||
		    v > MAX_SIZE)
			return -1;
		sizes[n++] = (size_t)v;
		p = end;
	}
	qsort(sizes, (size_t)n, sizeof(sizes[0]), cmp_size);
	return n;
}

/* The chart's default place: ipcbench.png beside the program, or in the current folder. */
static void default_png(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n < 0 || !(slash = memrchr(exe, '/', (size_t)n))) {
		snprintf(buf, len, "ipcbench.png");
		return;
	}
	*slash = '\0';
	if (snprintf(buf, len, "%s/ipcbench.png", exe) >= (int)len)
		snprintf(buf, len, "ipcbench.png");
}

/* The private folder of the FIFOs, removed at exit. Dies on error. */
static void fifo_folder(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(fifo_dir, sizeof(fifo_dir), "%s/ipcbench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fifo_dir)) {
		fifo_dir[0] = '\0';
		err_die("mkdtemp:");
	}
	if (snprintf(fifo_path[0], sizeof(fifo_path[0]), "%s/down", fifo_dir) >= PATH_MAX ||
	    snprintf(fifo_path[1], sizeof(fifo_path[1]), "%s/up", fifo_dir) >= PATH_MAX)
		err_die("%s: the folder's name is too long", fifo_dir);
}

/* Measure one size: memcpy, then every mechanism that carries it. Returns the failures. */
static int measure_size(size_t size, int smallest, double budget, struct result *row)
{
	int failed = 0;

	measure_memcpy(size, budget, &row[NMECHS + 1]);
	for (size_t i = 0; i < NMECHS && !quit_sig; i++) {
		if (mechs[i].small_only && !smallest) {
			row[i] = (struct result){.name = mechs[i].name, .state = SKIPPED};
			note(&row[i], "only at the smallest size: it carries no payload");
			continue;
		}
		run_mech(&mechs[i], size, budget, &row[i]);
		failed += row[i].state == FAILED;
	}
	return failed;
}

/* The command line, once parsed. */
struct options {
	double budget;           /* seconds of timed work per measurement */
	size_t sizes[MAX_SIZES]; /* message sizes, smallest first */
	int nsizes;              /* how many */
	char png[PATH_MAX];      /* where the chart goes */
};

/*
 * Parse the command line into *o. Returns -1 to go on, or the exit status
 * to leave with at once: 0 after -h, 2 after a usage error (explained).
 */
static int parse_options(int argc, char **argv, struct options *o)
{
	int opt;

	default_png(o->png, sizeof(o->png));
	while ((opt = getopt(argc, argv, "qs:o:h")) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		if (opt == 'q')
			o->budget = QUICK_BUDGET_S;
		else if (opt == 's')
			o->nsizes = parse_sizes(optarg, o->sizes);
		else if (opt == 'o')
			snprintf(o->png, sizeof(o->png), "%s", optarg);
		if (opt == '?' || o->nsizes < 1)
			break;
	}
	if (opt != -1 || optind < argc) {
		if (o->nsizes < 1)
			fprintf(stderr, "ipcbench: bad sizes '%s'\n", optarg);
		usage(stderr);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct result res[MAX_SIZES][NMECHS + 2]; /* per size: mechanisms, line, memcpy */
	struct options o = {BUDGET_S, {64, 4096, 65536}, 3, ""};
	int failed = 0, st;
	struct stopwatch sw;

	if ((st = parse_options(argc, argv, &o)) >= 0)
		return st;
	stopwatch_start(&sw);
	main_pid = getpid();
	if (atexit(cleanup) != 0)
		err_die("atexit: can't register the clean-up");
	signals_install();
	fifo_folder();
	print_header(o.budget);
	measure_cacheline(o.budget, &res[0][NMECHS]);
	for (int k = 0; k < o.nsizes && !quit_sig; k++) {
		res[k][NMECHS] = res[0][NMECHS];
		failed += measure_size(o.sizes[k], k == 0, o.budget, res[k]);
		if (!quit_sig)
			print_table(o.sizes[k], &res[k][NMECHS], &res[k][NMECHS + 1], res[k]);
	}
	if (quit_sig) {
		cleanup();
		signal(quit_sig, SIG_DFL);
		raise(quit_sig);
	}
	chart(o.png, o.sizes, o.nsizes, res);
	printf("ipcbench: done in %.1f s%s\n", stopwatch_ms(&sw) / 1e3,
	       failed ? "; some measurements failed (see their notes)" : "");
	return failed ? 1 : 0;
}
