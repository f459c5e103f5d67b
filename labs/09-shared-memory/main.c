/*
 * Lab 09's demo: worker processes fill a shared array, and files are read
 * and changed through mmap().
 *
 *	make run LAB=09                                   # map with 4 workers, then wc of shm.h
 *	make run LAB=09 ARGS='map 20 3'                   # 20 square roots, 3 workers
 *	make run LAB=09 ARGS='wc labs/09-shared-memory/README.md'
 *	make run LAB=09 ARGS='upcase /tmp/some-file'     # changes the file in place!
 *
 * map N W computes the square roots of 0 .. N-1 with W worker processes
 * through the shared memory object /ipclab-demo-PID, and prints which
 * process computed each; wc FILE... prints lines, words and bytes as wc does;
 * upcase FILE turns the file's lowercase letters into capitals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipclab.h"
#include "shm.h"

/* The function the workers apply: a square root, and who computed it. */
static double root_and_pid(double x)
{
	/* Pack the pid in the fraction's place: the demo wants to show who did what. */
	return floor(sqrt(x) * 1000) + (double)getpid() / 1e7;
}

static void demo_map(size_t n, int workers)
{
	char name[64], path[80];
	double *in = xcalloc(n, sizeof(double)), *out = xcalloc(n, sizeof(double));

	snprintf(name, sizeof(name), "/ipclab-demo-%d", (int)getpid());
	for (size_t i = 0; i < n; i++)
		in[i] = (double)i;
	if (parallel_map(name, root_and_pid, in, out, n, workers) < 0)
		err_die("parallel_map(%s, n=%zu, workers=%d):", name, n, workers);
	printf("parent %d: %zu square roots from %d workers, through %s\n", (int)getpid(), n,
	       workers, name);
	for (size_t i = 0; i < n; i++) {
		double whole = floor(out[i]);

		printf("  sqrt(%3zu) = %6.3f   computed by process %.0f\n", i, whole / 1000,
		       (out[i] - whole) * 1e7);
	}
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	printf("%s after the call: %s\n", path,
	       access(path, F_OK) == 0 ? "still there (not unlinked!)" : "gone, as it should be");
	free(in);
	free(out);
}

static void demo_wc(const char *path)
{
	struct file_counts c;

	if (file_count(path, &c) < 0)
		err_die("file_count(%s):", path);
	printf("%7zu %7zu %7zu %s\n", c.lines, c.words, c.bytes, path);
}

static void demo_upcase(const char *path)
{
	ssize_t n = file_upcase(path);

	if (n < 0)
		err_die("file_upcase(%s):", path);
	printf("%s: %zd letters changed\n", path, n);
}

static void usage(void)
{
	fprintf(stderr, "usage: demo [map [N [WORKERS]] | wc FILE... | upcase FILE...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		demo_map(12, 4);
		demo_wc("labs/09-shared-memory/shm.h");
		return 0;
	}
	if (strcmp(argv[1], "map") == 0 && argc <= 4) {
		size_t n = argc > 2 ? strtoul(argv[2], NULL, 10) : 12;
		int workers = argc > 3 ? atoi(argv[3]) : 4;

		demo_map(n, workers);
	} else if (strcmp(argv[1], "wc") == 0 && argc > 2) {
		for (int i = 2; i < argc; i++)
			demo_wc(argv[i]);
	} else if (strcmp(argv[1], "upcase") == 0 && argc > 2) {
		for (int i = 2; i < argc; i++)
			demo_upcase(argv[i]);
	} else {
		usage();
	}
	return 0;
}
