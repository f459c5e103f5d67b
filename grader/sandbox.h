/*
 * The sandbox: run one program the grader does not trust, with a deadline,
 * resource limits and its output captured, and leave the machine as it was.
 *
 * Where the kernel allows, the program runs in new PID, IPC, mount and
 * network namespaces (loopback up, a private /dev/shm, /tmp and /proc, the
 * folders it must not change mounted read-only): when the
 * namespace's first process ends, the kernel kills every process left in
 * it, whatever it did (setsid, double fork). As root, the program also runs
 * as an unprivileged uid of its own, one per job slot, so that the process
 * limit holds; as an ordinary user, a user namespace gives the same.
 * Where namespaces are not available, the program runs in a process group
 * of its own, killed whole, and the uid is swept with kill(-1) as that uid.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

enum sandbox_mode {
	SANDBOX_NAMESPACES, /* PID, IPC, mount, network (and user, when not root) namespaces */
	SANDBOX_PLAIN,      /* a process group, limits and, as root, a uid of its own */
};

struct sandbox_opts {
	char *const *argv; /* the program (an absolute path) and its arguments */
	char *const *envp; /* its whole environment */
	const char *cwd;   /* working folder; NULL: a private temporary one, removed after */
	double timeout_s;  /* wall-clock seconds before the whole tree is killed */
	int isolate;       /* 0: a trusted tool (the compiler): group, deadline and limits only */
	int results;       /* give the program a private results pipe as descriptor 3 */
	size_t output_cap; /* bytes of stdout+stderr kept; more is read and thrown away */
	int slot;          /* the job slot (0..): chooses the uid when running as root */
	long nproc;        /* RLIMIT_NPROC when isolated (0: a default) */
	long mem_mb;       /* RLIMIT_AS in MiB when isolated (0: a default; -1: no limit) */
	const char *const
	    *readonly; /* folders the program may not change (NULL-ended; namespaces only) */
};

struct sandbox_outcome {
	int status;          /* the program's wait status, as if it were our child */
	int exited;          /* status is meaningful: the program ended by itself */
	int timed_out;       /* the deadline passed and the tree was killed */
	char *output;        /* stdout and stderr, interleaved, NUL-terminated (free it) */
	size_t output_len;   /* bytes kept in output */
	size_t output_total; /* bytes the program wrote in all */
	char *results;       /* what came through the results pipe (free it) */
	size_t results_len;  /* its length */
	long duration_ms;    /* wall-clock time */
	char error[256];     /* the sandbox itself failed: why (empty otherwise) */
};

/* Which mode isolated runs use on this machine (probed once). Can't fail. */
enum sandbox_mode sandbox_mode(void);

/* A sentence saying how programs are isolated here, for reports and --version. */
const char *sandbox_describe(void);

/* Force plain mode (IPCLAB_SANDBOX=plain does the same): for tests of the fallback. */
void sandbox_force_plain(void);

/*
 * Run o->argv as o says and fill *out. Returns 0 when the program ran (whatever
 * it did), or -1 with out->error set when the sandbox could not start it.
 * Free out with sandbox_outcome_free.
 */
int sandbox_run(const struct sandbox_opts *o, struct sandbox_outcome *out);

void sandbox_outcome_free(struct sandbox_outcome *out);

/*
 * For a grader that quits in the middle of a run: kill every sandbox still
 * running and remove their working folders. Can't fail.
 */
void sandbox_abandon(void);

/*
 * For a grader without an event loop of its own (text, JSON, --class): on
 * SIGINT, SIGTERM or SIGHUP, abandon the running sandboxes, then end as the
 * signal says. Call it before any thread starts. Returns 0, or -1.
 */
int sandbox_guard_signals(void);

#endif
