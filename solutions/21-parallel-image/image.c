/*
 * Lab 21, the reference: PGM files, a blur and a Sobel filter, and the same
 * filter run over bands of rows by worker processes sharing their output
 * through an anonymous shared mapping, and by threads.
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

/* ==== Reading a PGM file ==== */

static int is_space(int ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

/* Skip white space and comments from p[*i]; *i ends at the next other byte or len. */
static void skip_space(const unsigned char *p, size_t len, size_t *i)
{
	while (*i < len) {
		if (p[*i] == '#') {
			while (*i < len && p[*i] != '\n' && p[*i] != '\r')
				(*i)++;
		} else if (is_space(p[*i])) {
			(*i)++;
		} else {
			return;
		}
	}
}

/*
 * Read the decimal number after the white space at p[*i], ending in white
 * space, a '#' or the end of the data, and no larger than max. Returns the
 * number, with *i just past its last digit, or -1 if there is none.
 */
static long next_number(const unsigned char *p, size_t len, size_t *i, long max)
{
	long v = 0;
	size_t start;

	skip_space(p, len, i);
	for (start = *i; *i < len && p[*i] >= '0' && p[*i] <= '9'; (*i)++) {
		v = v * 10 + (p[*i] - '0');
		if (v > max)
			return -1;
	}
	if (*i == start || (*i < len && !is_space(p[*i]) && p[*i] != '#'))
		return -1;
	return v;
}

/* Read all of the file fd, whose size fstat() tells, into a new buffer. NULL on error. */
static unsigned char *read_file(int fd, size_t *len)
{
	unsigned char *buf;
	struct stat st;
	size_t done = 0;

	if (fstat(fd, &st) < 0)
		return NULL;
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (!buf)
		return NULL;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				free(buf);
				return NULL;
			}
			break; /* the file shrank: parse what there is */
		}
		done += (size_t)n;
	}
	*len = done;
	return buf;
}

/* Decode the raster that starts at p[i] into pixels. Returns 0, or -1 (malformed). */
static int decode_raster(const unsigned char *p, size_t len, size_t i, int plain, long maxval,
			 unsigned char *pixels, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		long v;

		if (plain)
			v = next_number(p, len, &i, maxval);
		else
			v = i < len && p[i] <= maxval ? p[i++] : -1;
		if (v < 0)
			return -1; /* cut short, or a sample above maxval */
		pixels[k] = (unsigned char)((v * 255 + maxval / 2) / maxval);
	}
	return 0;
}

/* Parse the PGM image in p[0..len) into *img. Returns 0, or -1 with errno set. */
static int pgm_parse(const unsigned char *p, size_t len, struct image *img)
{
	long width, height, maxval;
	unsigned char *pixels;
	size_t i = 2;

	if (len < 3 || p[0] != 'P' || (p[1] != '5' && p[1] != '2'))
		goto bad;
	width = next_number(p, len, &i, PGM_MAX_SIDE);
	height = width > 0 ? next_number(p, len, &i, PGM_MAX_SIDE) : -1;
	maxval = height > 0 ? next_number(p, len, &i, 255) : -1;
	if (maxval < 1 || i >= len || !is_space(p[i]))
		goto bad;
	i++; /* exactly one white-space byte: the raster's first pixel may look like one */
	pixels = malloc((size_t)width * (size_t)height);
	if (!pixels)
		return -1;
	if (decode_raster(p, len, i, p[1] == '2', maxval, pixels, (size_t)width * height) < 0) {
		free(pixels);
		goto bad;
	}
	img->width = (int)width;
	img->height = (int)height;
	img->pixels = pixels;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int pgm_load(const char *path, struct image *img)
{
	unsigned char *data;
	size_t len = 0;
	int fd, r = -1, saved;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	data = read_file(fd, &len);
	if (data)
		r = pgm_parse(data, len, img);
	saved = errno;
	free(data);
	close(fd);
	errno = saved;
	return r;
}

/* ==== Writing a PGM file ==== */

/* Write all n bytes of buf to fd, over short writes and EINTR. Returns 0, or -1. */
static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int image_valid(const struct image *img)
{
	return img->pixels && img->width >= 1 && img->width <= PGM_MAX_SIDE && img->height >= 1 &&
	       img->height <= PGM_MAX_SIDE;
}

int pgm_save(const char *path, const struct image *img)
{
	char header[64];
	int fd, len, saved, r;

	if (!image_valid(img)) {
		errno = EINVAL;
		return -1;
	}
	len = snprintf(header, sizeof(header), "P5\n%d %d\n255\n", img->width, img->height);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	r = write_all(fd, header, (size_t)len);
	if (r == 0)
		r = write_all(fd, img->pixels, (size_t)img->width * img->height);
	saved = errno;
	if (close(fd) < 0 && r == 0)
		return -1; /* a delayed write error shows up here */
	errno = saved;
	return r;
}

/* ==== The filters ==== */

/* The pixel at (r, c), with r and c clamped into the image: the border rule. */
static int at(const struct image *img, int r, int c)
{
	r = r < 0 ? 0 : r >= img->height ? img->height - 1 : r;
	c = c < 0 ? 0 : c >= img->width ? img->width - 1 : c;
	return img->pixels[(size_t)r * img->width + c];
}

void filter_blur(const struct image *in, struct image *out, int first, int count)
{
	for (int r = first; r < first + count; r++) {
		for (int c = 0; c < in->width; c++) {
			int sum = 4; /* rounds the division to the nearest */

			for (int dr = -1; dr <= 1; dr++)
				for (int dc = -1; dc <= 1; dc++)
					sum += at(in, r + dr, c + dc);
			out->pixels[(size_t)r * out->width + c] = (unsigned char)(sum / 9);
		}
	}
}

void filter_sobel(const struct image *in, struct image *out, int first, int count)
{
	for (int r = first; r < first + count; r++) {
		for (int c = 0; c < in->width; c++) {
			int gx = at(in, r - 1, c + 1) + 2 * at(in, r, c + 1) +
				 at(in, r + 1, c + 1) - at(in, r - 1, c - 1) -
				 2 * at(in, r, c - 1) - at(in, r + 1, c - 1);
			int gy = at(in, r + 1, c - 1) + 2 * at(in, r + 1, c) +
				 at(in, r + 1, c + 1) - at(in, r - 1, c - 1) -
				 2 * at(in, r - 1, c) - at(in, r - 1, c + 1);
			int g = abs(gx) + abs(gy);

			out->pixels[(size_t)r * out->width + c] =
			    (unsigned char)(g > 255 ? 255 : g);
		}
	}
}

/* ==== Running a filter over the whole image ==== */

/* Whether fn may run from in into out; EINVAL if not. */
static int filter_args_ok(const struct image *in, const struct image *out, filter_fn *fn)
{
	if (fn && in->pixels && out->pixels && in->pixels != out->pixels && in->width >= 1 &&
	    in->height >= 1 && in->width == out->width && in->height == out->height)
		return 1;
	errno = EINVAL;
	return 0;
}

/* The workers to use, min(nworkers, height), or -1 with errno EINVAL. */
static int worker_count(const struct image *in, const struct image *out, filter_fn *fn,
			int nworkers)
{
	if (!filter_args_ok(in, out, fn))
		return -1;
	if (nworkers < 1 || nworkers > FILTER_MAX_WORKERS) {
		errno = EINVAL;
		return -1;
	}
	return nworkers < in->height ? nworkers : in->height;
}

/* The first row of band w of k, in an image of height rows; band w ends where w + 1 begins. */
static int band_start(int height, int w, int k)
{
	return (int)((long)w * height / k);
}

int filter_sequential(const struct image *in, struct image *out, filter_fn *fn)
{
	if (!filter_args_ok(in, out, fn))
		return -1;
	fn(in, out, 0, in->height);
	return 0;
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

int filter_processes(const struct image *in, struct image *out, filter_fn *fn, int nworkers)
{
	pid_t pids[FILTER_MAX_WORKERS];
	int k = worker_count(in, out, fn, nworkers), started, err = 0;
	struct image shared;
	size_t size;

	if (k < 0)
		return -1;
	size = (size_t)in->width * in->height;
	shared = *out;
	shared.pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared.pixels == MAP_FAILED)
		return -1;
	for (started = 0; started < k; started++) {
		int first = band_start(in->height, started, k);
		pid_t pid = fork();

		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			fn(in, &shared, first, band_start(in->height, started + 1, k) - first);
			_exit(0);
		}
		pids[started] = pid;
	}
	if (reap_all(pids, started) > 0 && !err)
		err = EIO;
	if (!err)
		memcpy(out->pixels, shared.pixels, size); /* every worker is done: safe to read */
	munmap(shared.pixels, size);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/* What one thread filters. */
struct band {
	const struct image *in; /* the input, shared by every thread */
	struct image *out;      /* the output, shared too: each writes only its rows */
	filter_fn *fn;          /* the filter */
	int first, count;       /* the rows of this band */
};

static void *band_thread(void *arg)
{
	struct band *b = arg;

	b->fn(b->in, b->out, b->first, b->count);
	return NULL;
}

int filter_threads(const struct image *in, struct image *out, filter_fn *fn, int nworkers)
{
	pthread_t threads[FILTER_MAX_WORKERS];
	struct band bands[FILTER_MAX_WORKERS]; /* one each: a thread reads its own until it ends */
	int k = worker_count(in, out, fn, nworkers), started, err = 0;

	if (k < 0)
		return -1;
	for (started = 0; started < k; started++) {
		int first = band_start(in->height, started, k);

		bands[started] = (struct band){in, out, fn, first,
					       band_start(in->height, started + 1, k) - first};
		err = pthread_create(&threads[started], NULL, band_thread, &bands[started]);
		if (err)
			break;
	}
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}
