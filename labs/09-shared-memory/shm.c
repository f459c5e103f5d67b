/*
 * Lab 09: shared memory, named objects and mapped files. Your work goes here.
 *
 * Each function's contract is in shm.h: read it first. Work top to bottom;
 * parallel_map() uses shm_create() and shm_detach(), and file_upcase() is
 * file_count() with a writable, shared mapping. Grade with
 * `make grade LAB=09`, try by hand with `make run LAB=09`.
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
	/* TODO(09): size 0 is EINVAL: there would be nothing to map. */
	/* TODO(09): fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600). O_EXCL makes the call
	 * fail with EEXIST when the name is taken, instead of quietly opening someone else's
	 * object; in that case return NULL and touch nothing. */
	/* TODO(09): ftruncate(fd, size). A new object has size 0, and mmap() does not check: the
	 * first store into a page past the object's end raises SIGBUS. */
	/* TODO(09): mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0). MAP_SHARED, not
	 * MAP_PRIVATE: with MAP_PRIVATE each process writes into its own copy. */
	/* TODO(09): close(fd) — the mapping keeps the object alive — and return the address. If
	 * ftruncate() or mmap() failed: save errno, close(fd), shm_unlink(name) (you created it),
	 * restore errno, return NULL. One `goto fail` label does it for both. */
	(void)name;
	(void)size;
	errno = ENOSYS;
	return NULL;
}

void *shm_attach(const char *name, size_t *size)
{
	/* TODO(09): shm_open(name, O_RDWR, 0) opens an existing object (ENOENT if there is none).
	 */
	/* TODO(09): fstat(fd, &st): st.st_size is the object's size. Size 0 is EINVAL. */
	/* TODO(09): mmap all st.st_size bytes, readable, writable, MAP_SHARED; close(fd) whether or
	 * not it worked; store the size in *size and return the address. */
	(void)name;
	(void)size;
	errno = ENOSYS;
	return NULL;
}

int shm_detach(void *addr, size_t size)
{
	/* TODO(09): munmap() the mapping. The name stays in /dev/shm until someone unlinks it. */
	(void)addr;
	(void)size;
	errno = ENOSYS;
	return -1;
}

/* ==== A shared result array ==== */

int parallel_map(const char *name, map_fn *f, const double *in, double *out, size_t n, int nworkers)
{
	/* TODO(09): check n and nworkers (EINVAL), then results = shm_create(name, n doubles). */
	/* TODO(09): fork nworkers workers in a loop, keeping their pids, WITHOUT waiting inside the
	 * loop: a worker waited for at once runs alone, and the workers run one after another. */
	/* TODO(09): in worker w: for i in [w * n / nworkers, (w + 1) * n / nworkers),
	 * results[i] = f(in[i]); then _exit(0). Write into results, the shared array — out in a
	 * child is the child's own copy, and the parent never sees what is written there. */
	/* TODO(09): in the parent, after the loop: waitpid() every worker started (retry EINTR); a
	 * worker that did not exit with status 0 makes the call fail with EIO. If fork() failed,
	 * reap the workers already started and fail with fork's errno. */
	/* TODO(09): on success, copy results into out (memcpy, n doubles). Then, on every path:
	 * shm_detach() the array and shm_unlink(name), or the object stays in /dev/shm until the
	 * machine reboots. */
	(void)name;
	(void)f;
	(void)in;
	(void)out;
	(void)n;
	(void)nworkers;
	errno = ENOSYS;
	return -1;
}

/* ==== A mapped file ==== */

int file_count(const char *path, struct file_counts *counts)
{
	/* TODO(09): open(path, O_RDONLY) and fstat() it. Not a regular file (S_ISREG): EINVAL. */
	/* TODO(09): an empty file: counts all 0, close the descriptor, return 0. Do not call mmap()
	 * with length 0: it fails with EINVAL. */
	/* TODO(09): p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0), then close(fd): the
	 * mapping stays valid without the descriptor. */
	/* TODO(09): walk the st.st_size bytes of p: count '\n' for lines; a word starts at a byte
	 * that is not white space (' ', '\t' to '\r') and follows white space or the start. Use
	 * the size, never a NUL: a file may hold NUL bytes, and none follows its last byte. */
	/* TODO(09): munmap(p, st.st_size) — on an error path too, with the descriptor closed. */
	(void)path;
	(void)counts;
	errno = ENOSYS;
	return -1;
}

ssize_t file_upcase(const char *path)
{
	/* TODO(09): as in file_count, but open with O_RDWR and map with PROT_READ | PROT_WRITE and
	 * MAP_SHARED: a write through a MAP_PRIVATE mapping changes a private copy, never the
	 * file, and PROT_WRITE with MAP_SHARED needs a descriptor open for writing (EACCES). */
	/* TODO(09): turn each byte from 'a' to 'z' into its uppercase letter, counting them; then
	 * munmap() and return the count. The bytes reach the file through the page cache, which
	 * every process that maps or reads the file shares. */
	(void)path;
	errno = ENOSYS;
	return -1;
}
