/*
 * Lab 09, the reference: a named shared memory object, a result array that
 * worker processes fill in, and files read and changed through mmap().
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm.h"

/* ==== A named shared memory object ==== */

void *shm_create(const char *name, size_t size)
{
	void *addr;
	int fd, saved;

	if (size == 0) {
		errno = EINVAL;
		return NULL;
	}
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		return NULL; /* EEXIST: not ours, so nothing to undo */
	if (ftruncate(fd, (off_t)size) < 0)
		goto fail;
	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		goto fail;
	close(fd); /* the mapping keeps the object alive */
	return addr;
fail:
	saved = errno;
	close(fd);
	shm_unlink(name); /* we created it: take it back */
	errno = saved;
	return NULL;
}

void *shm_attach(const char *name, size_t *size)
{
	struct stat st;
	void *addr = MAP_FAILED;
	int fd, saved;

	fd = shm_open(name, O_RDWR, 0);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0) {
		if (st.st_size > 0)
			addr = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				    fd, 0);
		else
			errno = EINVAL; /* an object nobody has sized yet */
	}
	saved = errno;
	close(fd);
	if (addr == MAP_FAILED) {
		errno = saved;
		return NULL;
	}
	*size = (size_t)st.st_size;
	return addr;
}

int shm_detach(void *addr, size_t size)
{
	return munmap(addr, size);
}

/* ==== A shared result array ==== */

/* In a worker: compute the items of slice w into the shared array. */
static void map_slice(map_fn *f, const double *in, double *results, size_t n, int w, int nworkers)
{
	size_t from = n * (size_t)w / (size_t)nworkers;
	size_t to = n * (size_t)(w + 1) / (size_t)nworkers;

	for (size_t i = from; i < to; i++)
		results[i] = f(in[i]);
}

/* Reap the workers in pids. Returns how many did not exit with status 0. */
static int reap_all(const pid_t *pids, int n)
{
	int failed = 0;

	for (int i = 0; i < n; i++) {
		int status = 0;
		pid_t r;

		while ((r = waitpid(pids[i], &status, 0)) < 0 && errno == EINTR)
			;
		if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	return failed;
}

int parallel_map(const char *name, map_fn *f, const double *in, double *out, size_t n, int nworkers)
{
	pid_t pids[MAP_MAX_WORKERS];
	size_t size = n * sizeof(double);
	int started = 0, err = 0;
	double *results;

	if (n == 0 || nworkers < 1 || nworkers > MAP_MAX_WORKERS) {
		errno = EINVAL;
		return -1;
	}
	results = shm_create(name, size);
	if (!results)
		return -1;
	for (; started < nworkers; started++) {
		pid_t pid = fork();

		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			map_slice(f, in, results, n, started, nworkers);
			_exit(0);
		}
		pids[started] = pid;
	}
	if (reap_all(pids, started) > 0 && !err)
		err = EIO;
	if (!err)
		memcpy(out, results, size);
	shm_detach(results, size);
	shm_unlink(name);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* ==== A mapped file ==== */

/*
 * Open path and map all of it: read-only, or shared and writable. Stores the
 * size in *size. Returns the mapping; NULL for an empty file (*size is then
 * 0, nothing is mapped); MAP_FAILED with errno set on error. The descriptor
 * is closed in every case.
 */
static void *map_file(const char *path, int writable, size_t *size)
{
	int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
	void *addr = MAP_FAILED;
	struct stat st;
	int fd, saved;

	fd = open(path, writable ? O_RDWR : O_RDONLY);
	if (fd < 0)
		return MAP_FAILED;
	if (fstat(fd, &st) == 0) {
		*size = (size_t)st.st_size;
		if (!S_ISREG(st.st_mode))
			errno = EINVAL;
		else if (st.st_size == 0)
			addr = NULL; /* mmap() of length 0 fails: there is nothing to map */
		else
			addr = mmap(NULL, *size, prot, writable ? MAP_SHARED : MAP_PRIVATE, fd, 0);
	}
	saved = errno;
	close(fd); /* the mapping stays valid without it */
	errno = saved;
	return addr;
}

int file_count(const char *path, struct file_counts *counts)
{
	const unsigned char *p;
	size_t size;
	int in_word = 0;

	p = map_file(path, 0, &size);
	if (p == MAP_FAILED)
		return -1;
	memset(counts, 0, sizeof(*counts));
	counts->bytes = size;
	for (size_t i = 0; i < size; i++) {
		int space = p[i] == ' ' || (p[i] >= '\t' && p[i] <= '\r');

		counts->lines += p[i] == '\n';
		counts->words += !space && !in_word; /* the first byte of a word */
		in_word = !space;
	}
	if (p)
		munmap((void *)p, size);
	return 0;
}

ssize_t file_upcase(const char *path)
{
	unsigned char *p;
	ssize_t changed = 0;
	size_t size;

	p = map_file(path, 1, &size);
	if (p == MAP_FAILED)
		return -1;
	for (size_t i = 0; i < size; i++) {
		if (p[i] >= 'a' && p[i] <= 'z') {
			p[i] -= 'a' - 'A'; /* a store into the page cache: the file itself */
			changed++;
		}
	}
	if (p)
		munmap(p, size);
	return changed;
}
