/*
 * Lab 19's demo: a manager process, and the two traps of shared state served
 * by one.
 *
 *	make run LAB=19
 *	make run LAB=19 ARGS='-p 8 -n 2000 -s /tmp/demo19.sock'
 *
 * -s PATH is the manager's socket (default demo19.sock in the current
 * directory), -p the number of client processes (default 8), -n how many
 * times each one adds one (default 500).
 *
 * First the lost update: every process adds one to a counter n times, by a
 * get and then a set, then by the manager's own ADD (mgr_race). Then the
 * copy: a list fetched from the manager, appended to, and the manager's list
 * unchanged; the processes appending by "fetch, append, set back", which
 * loses appends like get-and-set loses increments; and by APPEND.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"
#include "manager.h"

/* What a child of the list demonstrations does. */
struct appender {
	const char *path; /* the manager's socket */
	int rounds;       /* how many values each child appends */
	int set_back;     /* fetch the list, append to the copy, set it back; or APPEND */
	int id;           /* this child's number: its values are id * 100000 + round */
};

/* ==== The lost update ==== */

static void lost_update(const char *path, int nprocs, int times)
{
	int64_t expected = (int64_t)nprocs * times, got;

	printf("\n1. The lost update: %d processes each add one to \"hits\" %d times.\n", nprocs,
	       times);
	if (mgr_race(path, "hits", nprocs, times, MGR_RACE_GET_SET, &got) < 0)
		err_die("mgr_race:");
	printf("   mgr_get, then mgr_set: expected %lld, got %lld: %lld increments lost\n",
	       (long long)expected, (long long)got, (long long)(expected - got));
	if (mgr_race(path, "hits", nprocs, times, MGR_RACE_ADD, &got) < 0)
		err_die("mgr_race:");
	printf("   mgr_add (the manager adds): expected %lld, got %lld\n", (long long)expected,
	       (long long)got);
}

/* ==== The copy ==== */

/* One child: append rounds values to "log", by setting the whole list back or by APPEND. */
static void append_child(void *arg)
{
	struct appender *a = arg;
	int fd = mgr_connect(a->path);

	for (int i = 0; fd >= 0 && i < a->rounds; i++) {
		int64_t v = (int64_t)a->id * 100000 + i, *copy, *more;
		size_t n;

		if (!a->set_back) {
			if (mgr_append(fd, "log", v) < 0)
				_exit(1);
			continue;
		}
		/* Between our fetch and our set, other children set their own copies. */
		copy = mgr_list(fd, "log", &n);
		more = copy ? realloc(copy, (n + 1) * sizeof(*copy)) : NULL;
		if (!more)
			_exit(1);
		more[n] = v;
		if (mgr_setlist(fd, "log", more, n + 1) < 0)
			_exit(1);
		free(more);
	}
	_exit(fd >= 0 ? 0 : 1);
}

/* Empty "log", run nprocs appending children, and return the list's final length. */
static size_t append_race(const char *path, int fd, int nprocs, int rounds, int set_back)
{
	struct appender a = {path, rounds, set_back, 0};
	pid_t pids[MGR_RACE_MAX];
	int64_t *list;
	size_t n;

	if (mgr_setlist(fd, "log", NULL, 0) < 0)
		err_die("mgr_setlist:");
	for (int i = 0; i < nprocs; i++) {
		a.id = i; /* each child has its own copy of a, taken at fork */
		pids[i] = proc_run(append_child, &a);
		if (pids[i] < 0)
			err_die("fork:");
	}
	for (int i = 0; i < nprocs; i++)
		xwaitpid(pids[i], NULL, 0);
	list = mgr_list(fd, "log", &n);
	if (!list)
		err_die("mgr_list:");
	free(list);
	return n;
}

static void the_copy(const char *path, int nprocs, int times)
{
	int64_t start[] = {1, 2, 3}, *copy;
	int rounds = times / 5 > 0 ? times / 5 : 1, fd = mgr_connect(path);
	size_t n, n2;

	if (fd < 0)
		err_die("mgr_connect %s:", path);
	printf("\n2. The copy: the list \"log\" is [1, 2, 3].\n");
	if (mgr_setlist(fd, "log", start, 3) < 0 || !(copy = mgr_list(fd, "log", &n)))
		err_die("log:");
	copy[0] = 100; /* ours: the manager never hears of it */
	free(copy);
	if (!(copy = mgr_list(fd, "log", &n2)))
		err_die("mgr_list:");
	printf("   a client fetched it (%zu values), changed its copy: the manager's list still "
	       "starts with %lld\n",
	       n, (long long)copy[0]);
	free(copy);
	n = append_race(path, fd, nprocs, rounds, 1);
	printf("   %d processes append %d values each by fetch, append, set back: %zu of %d "
	       "kept\n",
	       nprocs, rounds, n, nprocs * rounds);
	n = append_race(path, fd, nprocs, rounds, 0);
	printf("   %d processes append %d values each with APPEND:           %zu of %d kept\n",
	       nprocs, rounds, n, nprocs * rounds);
	mgr_close(fd);
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-s PATH] [-p PROCESSES] [-n TIMES]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = "demo19.sock";
	int nprocs = 8, times = 500, opt, status;
	struct manager *m;

	while ((opt = getopt(argc, argv, "s:p:n:")) != -1) {
		if (opt == 's')
			path = optarg;
		else if (opt == 'p')
			nprocs = atoi(optarg);
		else if (opt == 'n')
			times = atoi(optarg);
		else
			usage(argv[0]);
	}
	if (nprocs < 1 || nprocs > MGR_RACE_MAX || times < 1 ||
	    (long)nprocs * (times / 5 > 0 ? times / 5 : 1) > MGR_LIST_MAX)
		err_die("-p must be 1 to %d, -n at least 1, and -p times -n/5 at most %d",
			MGR_RACE_MAX, MGR_LIST_MAX);
	m = manager_start(path);
	if (!m)
		err_die("manager_start %s:", path);
	printf("manager %d listening on %s\n", (int)m->pid, path);
	lost_update(path, nprocs, times);
	the_copy(path, nprocs, times);
	status = manager_stop(m);
	if (status < 0)
		err_die("manager_stop:");
	printf("\nmanager stopped, exit status %d; %s removed\n", status, path);
	return 0;
}
