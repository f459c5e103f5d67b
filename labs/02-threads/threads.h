/*
 * Lab 02, threads: start threads with pthread_create, give each one an
 * argument of its own, take back what each one returns with pthread_join,
 * and use both to sum an array with several threads at once.
 *
 * This header is the contract. Do not edit it: the grader builds your
 * threads.c against its own copy.
 */
#ifndef THREADS_H
#define THREADS_H

#include <stddef.h>

/* What run_threads hands each thread: fn's argument points to one of these. */
struct thread_arg {
	int index; /* which thread this is: 0 for the first, n - 1 for the last */
	void *ctx; /* the ctx given to run_threads, the same for every thread */
};

/*
 * Run fn in n threads at once and wait until every one has finished.
 *
 * Thread i (0 <= i < n) calls fn(arg), where arg points to a struct
 * thread_arg holding index i and ctx. That struct belongs to thread i alone
 * and stays unchanged until run_threads returns: never one variable that the
 * loop overwrites for the next thread. fn always runs in a new thread, never
 * in the caller's; all n threads are created before any is joined, so that
 * they run at the same time. When results is not NULL, results[i] receives
 * the value that thread i's fn returned (what pthread_join hands back).
 *
 * Returns 0 once all n threads have been joined. Errors: -1 with errno
 * EINVAL when n < 1 or fn is NULL (no thread started); ENOMEM; and when
 * pthread_create fails, -1 with errno set to the error number it returned
 * (EAGAIN when the system is out of threads or memory). On failure the
 * contents of results are unspecified.
 *
 * Cleanup: every thread started is joined before run_threads returns,
 * on failure too; all memory it allocated is freed.
 */
int run_threads(int n, void *(*fn)(void *arg), void *ctx, void *results[]);

/*
 * Store the sum of data[0] .. data[n - 1] in *result, computed by nthreads
 * threads at once.
 *
 * The array is cut into nthreads contiguous slices whose lengths differ by
 * at most one, so every element (the n % nthreads left over too) is in
 * exactly one slice; thread k sums slice k, and only thread k writes its
 * partial sum. When nthreads > n some slices are empty. The calling thread
 * does not read data: it starts the threads, joins them and adds up their
 * partial sums. It may use run_threads. The caller keeps the total within
 * the range of a long.
 *
 * Returns 0. When n is 0, *result is 0 (data may then be NULL). Errors: -1
 * with errno EINVAL when nthreads < 1 (no thread started, *result left
 * alone); ENOMEM; and the errors of run_threads.
 *
 * Cleanup: as run_threads: every thread joined, all memory freed.
 */
int parallel_sum(const long *data, size_t n, int nthreads, long *result);

#endif
