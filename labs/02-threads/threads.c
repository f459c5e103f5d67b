/*
 * Lab 02, threads: your implementation of threads.h.
 *
 * Two functions. run_threads is the pthread_create / pthread_join pattern
 * done right once: n threads, an argument of its own for each, every return
 * value collected, every thread joined. parallel_sum is its first use: cut
 * an array into slices and let each thread sum one.
 *
 * Read threads.h for the exact contract, then follow the TODOs in order.
 * `make run LAB=02` runs the demo; `make grade LAB=02` grades this file.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "threads.h"

/*
 * A suggestion for parallel_sum: what its threads share, passed as ctx to
 * run_threads. Change it as you like.
 */
struct sum_job {
	const long *data; /* the whole array */
	size_t n;         /* its length */
	int nslices;      /* how many slices it is cut into: one a thread */
	long *partial;    /* partial[k]: the sum of slice k, written by thread k only */
};

int run_threads(int n, void *(*fn)(void *arg), void *ctx, void *results[])
{
	/* TODO(02): n < 1 or a NULL fn is an error: set errno to EINVAL and return -1. */

	/*
	 * TODO(02): allocate n pthread_t and n struct thread_arg (calloc), one
	 * argument for each thread. Do not pass &i, nor one struct that the loop
	 * fills again for the next thread: a thread reads its argument when it
	 * runs, and by then the loop has moved on.
	 */

	/*
	 * TODO(02): create all n threads with pthread_create(&tids[i], NULL, fn,
	 * &args[i]) before you join any: a join inside this loop would wait for
	 * each thread before starting the next, one after another.
	 * pthread_create returns an error number (0 on success); it does not set
	 * errno and never returns -1.
	 */

	/*
	 * TODO(02): join every thread you started, pthread_join(tids[i], &ret),
	 * and store ret in results[i] when results is not NULL. If a
	 * pthread_create failed, still join the threads already running, then
	 * return -1 with errno set to the number pthread_create returned.
	 */

	/* TODO(02): free what you allocated, on every path. */
	(void)n;
	(void)fn;
	(void)ctx;
	(void)results;
	errno = ENOSYS;
	return -1;
}

int parallel_sum(const long *data, size_t n, int nthreads, long *result)
{
	/* TODO(02): nthreads < 1 is EINVAL; leave *result alone then. */

	/*
	 * TODO(02): above this function, write the thread body, static void
	 * *sum_slice(void *arg): it finds its slice from its index, sums it into
	 * a local variable, then writes that once to its own slot,
	 * partial[index]. Threads that add straight into one shared total lose
	 * updates.
	 */

	/*
	 * TODO(02): cut n into nthreads slices whose lengths differ by at most
	 * one: with base = n / nthreads and extra = n % nthreads, slice k begins
	 * at k * base + min(k, extra). Slicing by n / nthreads alone drops the
	 * last n % nthreads elements.
	 */

	/*
	 * TODO(02): allocate partial[], call run_threads(nthreads, sum_slice,
	 * &job, NULL), then add the partial sums once it has joined them all.
	 * The calling thread never reads data itself.
	 */
	(void)data;
	(void)n;
	(void)nthreads;
	(void)result;
	errno = ENOSYS;
	return -1;
}
