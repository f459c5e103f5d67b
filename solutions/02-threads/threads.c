/*
 * Lab 02, threads: the reference solution. run_threads starts every thread
 * before it joins any, gives each thread a struct of its own, and joins all
 * it started whatever happens; parallel_sum cuts the array into slices and
 * lets each thread write its partial sum into a slot of its own, so that no
 * two threads ever write the same memory.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "threads.h"

/* What the threads of parallel_sum share; only partial[k] is written, by thread k. */
struct sum_job {
	const long *data; /* the whole array */
	size_t n;         /* its length */
	int nslices;      /* how many slices it is cut into: one a thread */
	long *partial;    /* partial[k]: the sum of slice k */
};

/* ==== Running threads ==== */

/*
 * Join the first count threads of tids, storing their return values in
 * results when it is not NULL. Returns 0, or the first error number
 * pthread_join returned (it only fails on a bad handle).
 */
static int join_all(pthread_t *tids, int count, void *results[])
{
	int err = 0;

	for (int i = 0; i < count; i++) {
		void *ret;
		int e = pthread_join(tids[i], &ret);

		if (e != 0 && err == 0)
			err = e;
		else if (e == 0 && results)
			results[i] = ret;
	}
	return err;
}

int run_threads(int n, void *(*fn)(void *arg), void *ctx, void *results[])
{
	pthread_t *tids = NULL;
	struct thread_arg *args = NULL;
	int started = 0, err = 0, join_err;

	if (n < 1 || !fn) {
		errno = EINVAL;
		return -1;
	}
	tids = calloc((size_t)n, sizeof(*tids));
	args = calloc((size_t)n, sizeof(*args));
	if (!tids || !args) {
		err = ENOMEM;
		goto out;
	}
	/* Start them all first: a join in this loop would run them one after another. */
	for (; started < n; started++) {
		args[started] = (struct thread_arg){.index = started, .ctx = ctx};
		err = pthread_create(&tids[started], NULL, fn, &args[started]);
		if (err != 0)
			break; /* pthread functions return the error; errno is untouched */
	}
	join_err = join_all(tids, started, results);
	if (err == 0)
		err = join_err;
out:
	free(tids);
	free(args);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ==== Summing in parallel ==== */

/*
 * Where slice k of n items cut into nslices begins (slice nslices "begins"
 * at n). The first n % nslices slices hold one item more than the others.
 */
static size_t slice_begin(size_t n, int nslices, int k)
{
	size_t base = n / (size_t)nslices, extra = n % (size_t)nslices;
	size_t kk = (size_t)k;

	return kk * base + (kk < extra ? kk : extra);
}

/* The body of thread k: sum slice k in a local, then write it once to partial[k]. */
static void *sum_slice(void *p)
{
	const struct thread_arg *arg = p;
	struct sum_job *job = arg->ctx;
	size_t end = slice_begin(job->n, job->nslices, arg->index + 1);
	long sum = 0;

	for (size_t i = slice_begin(job->n, job->nslices, arg->index); i < end; i++)
		sum += job->data[i];
	job->partial[arg->index] = sum;
	return NULL;
}

int parallel_sum(const long *data, size_t n, int nthreads, long *result)
{
	struct sum_job job = {.data = data, .n = n, .nslices = nthreads};
	long total = 0;
	int saved;

	if (nthreads < 1) {
		errno = EINVAL;
		return -1;
	}
	job.partial = calloc((size_t)nthreads, sizeof(*job.partial));
	if (!job.partial)
		return -1;
	if (run_threads(nthreads, sum_slice, &job, NULL) < 0) {
		saved = errno;
		free(job.partial);
		errno = saved;
		return -1;
	}
	/* Every thread has been joined: their writes are all visible here. */
	for (int k = 0; k < nthreads; k++)
		total += job.partial[k];
	free(job.partial);
	*result = total;
	return 0;
}
