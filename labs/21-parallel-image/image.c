/*
 * Lab 21: parallel image processing. Your work goes here.
 *
 * Each function's contract is in image.h: read it first. A suggested order:
 * pgm_load and pgm_save; filter_blur and filter_sobel, checked through
 * filter_sequential; then filter_processes; then filter_threads, which is the
 * same loop with pthread_create instead of fork. Grade with
 * `make grade LAB=21`, try by hand with `make run LAB=21`.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image.h"

/* ==== PGM files ==== */

int pgm_load(const char *path, struct image *img)
{
	/* TODO(21): open() the file and read ALL of it into one malloc'd buffer (fstat() gives
	 * its size; read() may return less than asked, and EINTR means "call again"). Parsing
	 * bytes in memory is simpler than parsing a stream. Close the descriptor on every path. */
	/* TODO(21): the magic: the first two bytes are "P5" or "P2"; anything else is EINVAL. */
	/* TODO(21): write one helper that skips white space AND comments ('#' to the end of the
	 * line), then reads a decimal number that must end in white space, a '#' or the end of
	 * the data. Use it for the width, the height and the maxval; check their ranges
	 * (1..PGM_MAX_SIDE, and maxval 1..255) as you go, so a header of huge numbers can
	 * neither overflow nor make you allocate gigabytes. */
	/* TODO(21): after the maxval, skip exactly ONE white-space byte — not "all the white
	 * space": the first pixel may be 10 ('\n') or 32 (' '), and skipping it shifts the
	 * whole image by one pixel. */
	/* TODO(21): the raster: P5 is width * height bytes, P2 is width * height numbers (your
	 * helper again). Fewer than that is a truncated file: EINVAL, never zeros. Scale each
	 * sample v with (v * 255 + maxval / 2) / maxval; a sample above maxval is EINVAL. */
	/* TODO(21): only on success fill *img; on failure free what you allocated and leave *img
	 * alone. Save errno before close() and free() on an error path: they may change it. */
	(void)path;
	(void)img;
	errno = ENOSYS;
	return -1;
}

int pgm_save(const char *path, const struct image *img)
{
	/* TODO(21): EINVAL for an image with a side outside 1..PGM_MAX_SIDE or no pixels. */
	/* TODO(21): open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644); write the header
	 * "P5\n<width> <height>\n255\n" (snprintf it into a buffer), then the pixels. */
	/* TODO(21): a write() may write fewer bytes than asked or fail with EINTR: loop until
	 * all are written (lab 04's write_all). Close the file on every path. */
	(void)path;
	(void)img;
	errno = ENOSYS;
	return -1;
}

/* ==== The filters ==== */

void filter_blur(const struct image *in, struct image *out, int first, int count)
{
	/* TODO(21): a helper that returns in's pixel (r, c) with r clamped into 0..height-1 and
	 * c into 0..width-1 makes both filters short. Clamp to the image, not to the band. */
	/* TODO(21): for each row r in [first, first + count) and each column c: add the 9
	 * pixels around (r, c), plus 4 so that the division rounds, and store sum / 9 into
	 * out's pixel (r, c). Read only in: out's neighbouring rows belong to other workers,
	 * which may not have written them yet — or may have already. */
	(void)in;
	(void)out;
	(void)first;
	(void)count;
}

void filter_sobel(const struct image *in, struct image *out, int first, int count)
{
	/* TODO(21): as filter_blur, with gx and gy from image.h. Mind the signs: an edge from
	 * white to black gives a negative gx, so take abs() before adding, then cap at 255. */
	(void)in;
	(void)out;
	(void)first;
	(void)count;
}

/* ==== Running a filter over the whole image ==== */

int filter_sequential(const struct image *in, struct image *out, filter_fn *fn)
{
	/* TODO(21): check the arguments (EINVAL: see image.h; in and out must not share their
	 * pixels), then one call does the whole image: fn(in, out, 0, in->height). */
	(void)in;
	(void)out;
	(void)fn;
	errno = ENOSYS;
	return -1;
}

int filter_processes(const struct image *in, struct image *out, filter_fn *fn, int nworkers)
{
	/* TODO(21): check the arguments as filter_sequential does, and 1 <= nworkers <=
	 * FILTER_MAX_WORKERS; then k = the smaller of nworkers and in->height. */
	/* TODO(21): shared = mmap(NULL, width * height, PROT_READ | PROT_WRITE, MAP_SHARED |
	 * MAP_ANONYMOUS, -1, 0) BEFORE any fork(): a mapping made after fork() is not shared
	 * with children already started. Make a struct image that points at it. */
	/* TODO(21): fork k workers in one loop, keeping their pids, without waiting inside the
	 * loop (waiting there runs them one after another). Worker w filters rows
	 * [w * height / k, (w + 1) * height / k) — with integer division these bands cover
	 * every row exactly once, remainder included — with fn(in, &shared_image, first,
	 * count), then _exit(0). Pass in itself as the input: the child has it, unchanged. */
	/* TODO(21): if a fork() fails, stop forking, remember its errno, and still go on to
	 * reap the workers already started. */
	/* TODO(21): waitpid() every worker (retry EINTR); one that did not exit with status 0
	 * makes the call fail with EIO. Only when all succeeded, memcpy the shared output into
	 * out->pixels. Then munmap() the shared area, on every path. */
	(void)in;
	(void)out;
	(void)fn;
	(void)nworkers;
	errno = ENOSYS;
	return -1;
}

int filter_threads(const struct image *in, struct image *out, filter_fn *fn, int nworkers)
{
	/* TODO(21): the same checks and the same bands. Each thread needs its own argument
	 * (in, out, fn, first, count): an array of structs, one per thread, that lives until
	 * the thread is joined — never one struct reused by every iteration of the loop. */
	/* TODO(21): create every thread first, then join them all. If pthread_create() fails
	 * (it returns the error number, it does not set errno), stop creating, join the threads
	 * already started, and return -1 with errno set to that error number. */
	(void)in;
	(void)out;
	(void)fn;
	(void)nworkers;
	errno = ENOSYS;
	return -1;
}
