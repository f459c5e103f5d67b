/*
 * The hidden suite of lab 21: parallel image processing with processes and
 * shared memory, and with threads.
 *
 * Every image is checked against the suite's own filters, written here
 * again from the contract, never against the student's sequential version:
 * a wrong blur cannot hide behind an equally wrong reference. A failure
 * names the first pixel that differs (row, column, expected, got) and, for
 * a parallel run, where that row lies among the bands: a mistake at a seam
 * between two workers shows as a row at the edge of a band.
 *
 * How the work was split is checked with the suite's own filter (a probe):
 * in each worker it records the process and thread, the band and what the
 * input looked like, in a page of memory shared with the test, and it can
 * hold every worker until all of them have started (so that workers run one
 * after another are caught without a stopwatch), or make one worker fail.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "image.h"
#include "suite.h"

#define SAMPLE_W  256
#define SAMPLE_H  192
#define FILLER    0xa5 /* what out holds before a call: a row still all FILLER was never written */
#define MEET_MS   3000 /* how long a probe worker waits for the others to start */
#define MAX_CALLS 128  /* calls of the probe one test records */
#define HOLD_MS   800  /* how long the probe keeps a thread busy in test_threads_create_fails */

/* ==== The suite's own filters ==== */

enum kind { BLUR, SOBEL };

static const char *kind_name[] = {"filter_blur", "filter_sobel"};
static filter_fn *kind_fn[] = {filter_blur, filter_sobel};

/* Pixel (r, c) of a w x h image, with r and c clamped into it. */
static int px(const unsigned char *p, int w, int h, int r, int c)
{
	r = r < 0 ? 0 : r >= h ? h - 1 : r;
	c = c < 0 ? 0 : c >= w ? w - 1 : c;
	return p[(size_t)r * w + c];
}

/* Output pixel (r, c) of the filter kind, reading rows lo..hi only (clamped into them). */
static int ref_pixel(enum kind kind, const unsigned char *p, int w, int lo, int hi, int r, int c)
{
	int a[3][3], gx, gy;

	for (int dr = -1; dr <= 1; dr++) {
		int rr = r + dr < lo ? lo : r + dr > hi ? hi : r + dr;

		for (int dc = -1; dc <= 1; dc++)
			a[dr + 1][dc + 1] = px(p, w, hi + 1, rr, c + dc);
	}
	if (kind == BLUR) {
		int sum = 4;

		for (int i = 0; i < 9; i++)
			sum += a[i / 3][i % 3];
		return sum / 9;
	}
	gx = a[0][2] + 2 * a[1][2] + a[2][2] - a[0][0] - 2 * a[1][0] - a[2][0];
	gy = a[2][0] + 2 * a[2][1] + a[2][2] - a[0][0] - 2 * a[0][1] - a[0][2];
	gx = abs(gx) + abs(gy);
	return gx > 255 ? 255 : gx;
}

/* The whole w x h image filtered by kind, clamped to the image: what every version must give. */
static unsigned char *ref_filter(enum kind kind, const unsigned char *in, int w, int h)
{
	unsigned char *out = xmalloc((size_t)w * h);

	for (int r = 0; r < h; r++)
		for (int c = 0; c < w; c++)
			out[(size_t)r * w + c] =
			    (unsigned char)ref_pixel(kind, in, w, 0, h - 1, r, c);
	return out;
}

/* ==== Images ==== */

/* A new w x h image, every pixel FILLER. */
static struct image img_new(int w, int h)
{
	struct image img = {w, h, xmalloc((size_t)w * h)};

	memset(img.pixels, FILLER, (size_t)w * h);
	return img;
}

/* A w x h image of random pixels, drawn from the run's seed. */
static struct image img_random(int w, int h, unsigned salt)
{
	struct image img = img_new(w, h);
	unsigned seed = suite_seed() * 2654435761u + salt;

	for (size_t i = 0; i < (size_t)w * h; i++)
		img.pixels[i] = (unsigned char)(rand_r(&seed) >> 7);
	return img;
}

static void img_fill(struct image *img)
{
	memset(img->pixels, FILLER, (size_t)img->width * img->height);
}

/* The path of a file the lab ships: in IPCLAB_DATA, or in the toolkit this binary was built in. */
static const char *data_file(const char *name)
{
	static char path[PATH_MAX + 64];
	char exe[PATH_MAX], up[PATH_MAX];
	const char *dir = getenv("IPCLAB_DATA");
	ssize_t n;

	if (dir) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		return path;
	}
	/* make suite: build/suite/21-parallel-image/solution-tests, four levels below. */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	for (int i = 0; i < 4; i++) {
		snprintf(up, sizeof(up), "%s", dirname(exe));
		memcpy(exe, up, sizeof(exe));
	}
	snprintf(path, sizeof(path), "%s/labs/21-parallel-image/%s", exe, name);
	return path;
}

/* The whole of file path, into a new buffer; its length in *len. */
static unsigned char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	unsigned char *p;

	ck_assert_msg(fd >= 0, "suite: cannot open %s: %s", path, strerror(errno));
	p = (unsigned char *)io_slurp(fd, 64 << 20, len);
	close(fd);
	ck_assert_msg(p != NULL, "suite: cannot read %s", path);
	return p;
}

/* sample.pgm, read by the suite itself: its raster is the last 256 x 192 bytes of the file. */
static struct image sample(void)
{
	struct image img = img_new(SAMPLE_W, SAMPLE_H);
	size_t len, n = (size_t)SAMPLE_W * SAMPLE_H;
	unsigned char *p = slurp(data_file("sample.pgm"), &len);

	ck_assert_msg(len > n && p[0] == 'P' && p[1] == '5', "suite: sample.pgm is not a P5 image");
	memcpy(img.pixels, p + len - n, n);
	free(p);
	return img;
}

/* ==== Comparing, and saying where ==== */

/* The first row of band b of k bands over h rows, as image.h defines the split. */
static int band_start(int h, int b, int k)
{
	return (int)((long)b * h / k);
}

/* Say what is special about row of got, split into k bands (k <= 1: none), into buf. */
static void row_note(char *buf, size_t size, const struct image *got, int row, int k)
{
	int len = 0, filler = 1, h = got->height;

	for (int c = 0; c < got->width; c++)
		filler &= got->pixels[(size_t)row * got->width + c] == FILLER;
	buf[0] = '\0';
	if (filler)
		len = snprintf(buf, size,
			       " Row %d still holds the filler (%d) the test put in out: no worker "
			       "wrote it.",
			       row, FILLER);
	for (int b = 0; k > 1 && b < k; b++) {
		int first = band_start(h, b, k), last = band_start(h, b + 1, k) - 1;

		if (row == first && b > 0)
			snprintf(
			    buf + len, size - (size_t)len,
			    " Row %d is the FIRST row of band %d (rows %d..%d) of %d: at a seam. "
			    "Its upper neighbour, row %d, belongs to band %d: read it from the "
			    "input, as it was before any filtering.",
			    row, b, first, last, k, row - 1, b - 1);
		else if (row == last && b < k - 1)
			snprintf(
			    buf + len, size - (size_t)len,
			    " Row %d is the LAST row of band %d (rows %d..%d) of %d: at a seam. "
			    "Its lower neighbour, row %d, belongs to band %d: read it from the "
			    "input, as it was before any filtering.",
			    row, b, first, last, k, row + 1, b + 1);
	}
}

/* Find the first pixel where got differs from want: 1 and its row and column, or 0. */
static int first_diff(const unsigned char *want, const struct image *got, int rows_from,
		      int rows_to, int *row, int *col)
{
	for (int r = rows_from; r < rows_to; r++)
		for (int c = 0; c < got->width; c++)
			if (got->pixels[(size_t)r * got->width + c] !=
			    want[(size_t)r * got->width + c]) {
				*row = r;
				*col = c;
				return 1;
			}
	return 0;
}

/* Fail unless got holds want; what names the call, k its bands (0: not parallel). */
static void check_same(const char *what, const unsigned char *want, const struct image *got, int k,
		       const char *why)
{
	char note[512];
	int r, c;

	if (!first_diff(want, got, 0, got->height, &r, &c))
		return;
	row_note(note, sizeof(note), got, r, k);
	ck_assert_msg(0, "%s: pixel (row %d, col %d) is %d, expected %d.%s%s", what, r, c,
		      got->pixels[(size_t)r * got->width + c], want[(size_t)r * got->width + c],
		      note, why);
}

/* ==== Calling the student's drivers ==== */

enum driver { SEQUENTIAL, PROCESSES, THREADS };

static const char *driver_name[] = {"filter_sequential", "filter_processes", "filter_threads"};

static int run_driver(enum driver d, const struct image *in, struct image *out, filter_fn *fn,
		      int workers)
{
	if (d == SEQUENTIAL)
		return filter_sequential(in, out, fn);
	if (d == PROCESSES)
		return filter_processes(in, out, fn, workers);
	return filter_threads(in, out, fn, workers);
}

/*
 * Filter in with kind through driver d and n workers, and compare with the
 * suite's reference; tag names the image in a failure message.
 */
static void check_driver(enum driver d, const struct image *in, enum kind kind, int n,
			 const char *tag)
{
	unsigned char *want = ref_filter(kind, in->pixels, in->width, in->height);
	struct image out = img_new(in->width, in->height);
	int k = n < in->height ? n : in->height, r;
	char what[200];

	snprintf(what, sizeof(what), "%s(%s, %d worker%s) of the %d x %d %s image", driver_name[d],
		 kind_name[kind], n, n > 1 ? "s" : "", in->width, in->height, tag);
	errno = 0;
	r = run_driver(d, in, &out, kind_fn[kind], n);
	ck_assert_msg(r == 0, "%s returned %d (errno %s), expected 0.", what, r, err_name(errno));
	check_same(what, want, &out, d == SEQUENTIAL ? 0 : k, "");
	free(want);
	free(out.pixels);
}

/* The sample and odd sizes through driver d with the worker counts of the lab's README. */
static void check_sample_counts(enum driver d)
{
	static const int counts[] = {1, 2, 3, 4, 7};
	struct image in = sample();

	for (int kind = BLUR; kind <= SOBEL; kind++)
		for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
			check_driver(d, &in, kind, counts[i], "sample.pgm");
	free(in.pixels);
}

/* Odd sizes: heights no worker count divides, fewer rows than workers, one row, one column. */
static void check_odd_sizes(enum driver d)
{
	static const int sizes[][3] = {{13, 11, 4}, {31, 10, 3}, {5, 3, 7},   {1, 1, 4},
				       {300, 1, 3}, {1, 50, 7},  {17, 64, 16}};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct image in = img_random(sizes[i][0], sizes[i][1], (unsigned)i);

		check_driver(d, &in, BLUR, sizes[i][2], "random");
		check_driver(d, &in, SOBEL, sizes[i][2], "random");
		free(in.pixels);
	}
}

/* ==== The probe: the suite's own filter, run by the student's workers ==== */

struct call {
	int pid, tid;     /* the process and thread that ran it */
	int first, count; /* the band it was given */
	int in_same;      /* in->pixels == out->pixels: the input is the output */
	int in_changed;   /* in's pixels were not the caller's image */
	int bad_size;     /* in or out had another width or height */
	atomic_int done;  /* the call has returned */
};

struct probe {
	atomic_int ncalls;            /* calls so far, in every worker */
	struct call calls[MAX_CALLS]; /* what each call saw */
	atomic_int started;           /* workers that reached the rendezvous */
	int expect;                   /* workers to wait for (0: no rendezvous) */
	atomic_int gave_up;           /* a worker stopped waiting for the others */
	atomic_int seen_at_end;       /* how many had started when it gave up */
	int fail_first;               /* the worker whose band starts here exits 3 (-1: none) */
	int hold_ms;                  /* how long each call waits before it returns */
	atomic_int abandoned;         /* the test has ended: touch no image any more */
	struct image orig;            /* the caller's input, to compare in with */
};

static struct probe *pr;

static void probe_wait_all(void)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)MEET_MS * 1000000u;

	atomic_fetch_add(&pr->started, 1);
	while (atomic_load(&pr->started) < pr->expect && !atomic_load(&pr->gave_up)) {
		if (clock_now_ns() > deadline) {
			atomic_store(&pr->seen_at_end, atomic_load(&pr->started));
			atomic_store(&pr->gave_up, 1);
			break;
		}
		clock_sleep_ms(1);
	}
}

/* The probe filter: record the call, meet the others, then out = in XOR 0x5a on the band. */
static void probe_fn(const struct image *in, struct image *out, int first, int count)
{
	int i = atomic_fetch_add(&pr->ncalls, 1);
	const struct image *o = &pr->orig;
	struct call *c = &pr->calls[i < MAX_CALLS ? i : MAX_CALLS - 1];

	c->pid = getpid();
	c->tid = gettid();
	c->first = first;
	c->count = count;
	c->bad_size = in->width != o->width || in->height != o->height || out->width != o->width ||
		      out->height != o->height;
	c->in_same = in->pixels == out->pixels;
	c->in_changed =
	    !c->bad_size && memcmp(in->pixels, o->pixels, (size_t)o->width * o->height) != 0;
	if (first == pr->fail_first)
		_exit(3);
	if (pr->expect > 0)
		probe_wait_all();
	if (pr->hold_ms > 0)
		clock_sleep_ms(pr->hold_ms);
	if (atomic_load(&pr->abandoned))
		return; /* in and out were the test's, which has given up on this call */
	if (!c->bad_size && first >= 0 && count >= 0 && first + count <= o->height)
		for (size_t p = (size_t)first * o->width; p < (size_t)(first + count) * o->width;
		     p++)
			out->pixels[p] = in->pixels[p] ^ 0x5a;
	atomic_store(&c->done, 1);
}

/* A fresh probe for the image in: shared with every process the test starts. */
static void probe_reset(const struct image *in, int expect, int fail_first)
{
	if (!pr) {
		pr = mmap(NULL, sizeof(*pr), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
			  0);
		ck_assert_msg(pr != MAP_FAILED, "suite: mmap failed");
	}
	memset(pr, 0, sizeof(*pr));
	pr->expect = expect;
	pr->fail_first = fail_first;
	pr->orig = *in;
}

static int by_first(const void *a, const void *b)
{
	return ((const struct call *)a)->first - ((const struct call *)b)->first;
}

/* Check that the probe's calls are the k bands of the contract, in distinct workers. */
static void check_bands(const char *what, int h, int k, int threads)
{
	int n = atomic_load(&pr->ncalls), cover[256] = {0}, lo = h, hi = 0;
	char bands[600] = "";
	size_t len = 0;

	ck_assert_msg(h <= 256 && k <= MAX_CALLS, "suite: image too tall for check_bands");
	ck_assert_msg(n == k,
		      "%s called the filter %d times, expected %d: one call a worker, k = the "
		      "smaller of nworkers and height (no worker for an empty band).",
		      what, n, k);
	qsort(pr->calls, (size_t)n, sizeof(pr->calls[0]), by_first);
	for (int i = 0; i < n; i++) {
		struct call *c = &pr->calls[i];

		len += (size_t)snprintf(bands + len, sizeof(bands) - len, " [%d, %d)", c->first,
					c->first + c->count);
		for (int r = c->first; r >= 0 && r < c->first + c->count && r < h; r++)
			cover[r]++;
		lo = c->count < lo ? c->count : lo;
		hi = c->count > hi ? c->count : hi;
		for (int j = 0; j < i; j++)
			ck_assert_msg(
			    threads ? c->tid != pr->calls[j].tid : c->pid != pr->calls[j].pid,
			    "%s ran two bands in the same %s (%d): each worker filters one "
			    "band.",
			    what, threads ? "thread" : "process", threads ? c->tid : c->pid);
		if (threads)
			ck_assert_msg(c->pid == getpid() && c->tid != gettid(),
				      "%s ran a band %s: each band runs in a thread of its own, "
				      "and the calling thread only waits.",
				      what,
				      c->pid != getpid() ? "in another process"
							 : "in the "
							   "calling thread");
		else
			ck_assert_msg(c->pid != getpid(),
				      "%s ran a band in the calling process itself (pid %d): every "
				      "band is filtered by a child process.",
				      what, c->pid);
	}
	for (int r = 0; r < h; r++)
		ck_assert_msg(
		    cover[r] == 1,
		    "%s: row %d was filtered by %d workers, expected exactly 1. The bands "
		    "given to the filter were%s; worker w of k gets rows [w * h / k, "
		    "(w + 1) * h / k).",
		    what, r, cover[r], bands);
	ck_assert_msg(hi - lo <= 1,
		      "%s: the bands were%s: from %d to %d rows. Bands may differ by one row at "
		      "most, or the longest makes everyone wait: use [w * h / k, (w + 1) * h / k).",
		      what, bands, lo, hi);
}

/* Check that no probe call saw its output as its input, or a changed input. */
static void check_inputs(const char *what)
{
	for (int i = 0; i < atomic_load(&pr->ncalls) && i < MAX_CALLS; i++) {
		struct call *c = &pr->calls[i];

		ck_assert_msg(
		    !c->bad_size,
		    "%s gave the filter (band [%d, %d)) an in or out of another size than "
		    "the image: pass in itself, and an out of the same width and height.",
		    what, c->first, c->first + c->count);
		ck_assert_msg(
		    !c->in_same,
		    "%s gave the filter (band [%d, %d)) the SAME memory as in and out: it "
		    "reads its neighbours from the buffer being written, where other rows "
		    "are already filtered (or not yet). Keep the input apart: pass in "
		    "itself, and the shared area as out.",
		    what, c->first, c->first + c->count);
		ck_assert_msg(
		    !c->in_changed,
		    "%s gave the filter (band [%d, %d)) an input that is not the caller's "
		    "image: some rows of it were already written. The seams need the "
		    "ORIGINAL rows next to a band: read them from in, never from the "
		    "output.",
		    what, c->first, c->first + c->count);
	}
}

/* Run the probe through driver d over an h-row image with n workers, all meeting. */
static void check_split(enum driver d, int w, int h, int n)
{
	struct image in = img_random(w, h, 77), out = img_new(w, h);
	int k = n < h ? n : h, r;
	unsigned char *want = xmalloc((size_t)w * h);
	char what[120];

	snprintf(what, sizeof(what), "%s(%d workers) on an image of %d rows", driver_name[d], n, h);
	for (size_t i = 0; i < (size_t)w * h; i++)
		want[i] = in.pixels[i] ^ 0x5a;
	probe_reset(&in, k, -1);
	r = run_driver(d, &in, &out, probe_fn, n);
	ck_assert_msg(r == 0, "%s returned %d (errno %s), expected 0.", what, r, err_name(errno));
	ck_assert_msg(!atomic_load(&pr->gave_up),
		      "%s: the workers did not run at the same time. Each waited for all %d to "
		      "start; one gave up after %d ms with only %d started. Start every worker "
		      "before waiting for any: a %s() inside the loop that starts them makes them "
		      "run one after another.",
		      what, k, MEET_MS, atomic_load(&pr->seen_at_end),
		      d == PROCESSES ? "waitpid" : "pthread_join");
	check_bands(what, h, k, d == THREADS);
	check_inputs(what);
	check_same(what, want, &out, k, " (The test's filter writes in XOR 0x5a on its band.)");
	free(want);
	free(in.pixels);
	free(out.pixels);
}

/* How many shared mappings (the 's' of "rw-s") /proc/self/maps lists. */
static int shared_mappings(void)
{
	char line[512], perms[8];
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0;

	ck_assert_msg(f != NULL, "suite: cannot open /proc/self/maps");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %7s", perms) == 1 && perms[3] == 's')
			n++;
	fclose(f);
	return n;
}

/* ==== PGM files ==== */

/* Write len bytes to the file name in the test's folder. */
static void put_file(const char *name, const void *data, size_t len)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_msg(fd >= 0, "suite: cannot create %s: %s", name, strerror(errno));
	ck_assert_msg(io_writen(fd, data, len) == (ssize_t)len, "suite: write failed");
	close(fd);
}

/* Write header then n raster bytes to name. */
static void put_pgm(const char *name, const char *header, const unsigned char *raster, size_t n)
{
	size_t hl = strlen(header);
	unsigned char *buf = xmalloc(hl + n + 1);

	memcpy(buf, header, hl);
	if (n)
		memcpy(buf + hl, raster, n);
	put_file(name, buf, hl + n);
	free(buf);
}

/* Show the bytes of a header with its control characters escaped, into buf. */
static const char *shown(const char *s, char *buf, size_t size)
{
	size_t len = 0;

	for (; *s && len + 5 < size; s++) {
		static const char esc[] = "\t\\t\n\\n\r\\r\v\\v\f\\f";
		const char *e = strchr(esc, *s);

		if (e && (e - esc) % 3 == 0)
			len += (size_t)snprintf(buf + len, size - len, "%.2s", e + 1);
		else
			buf[len++] = *s;
	}
	buf[len] = '\0';
	return buf;
}

/* pgm_load() of header + raster must give the w x h image want; why explains a miss. */
static void load_ok(const char *header, const unsigned char *raster, size_t n, int w, int h,
		    const unsigned char *want, const char *why)
{
	struct image got = {0, 0, NULL};
	char show[200];
	int r;

	put_pgm("case.pgm", header, raster, n);
	shown(header, show, sizeof(show));
	errno = 0;
	r = pgm_load("case.pgm", &got);
	ck_assert_msg(r == 0,
		      "pgm_load() of a file with the header \"%s\" returned %d (errno %s), "
		      "expected 0%s",
		      show, r, err_name(errno), why);
	ck_assert_msg(
	    got.width == w && got.height == h,
	    "pgm_load() of a file with the header \"%s\" gave %d x %d, expected %d x %d%s", show,
	    got.width, got.height, w, h, why);
	for (int i = 0; i < w * h; i++)
		ck_assert_msg(got.pixels[i] == want[i],
			      "pgm_load() of a file with the header \"%s\": pixel (row %d, col %d) "
			      "is %d, expected %d%s",
			      show, i / w, i % w, got.pixels[i], want[i], why);
	free(got.pixels);
}

/* pgm_load() of header + raster must fail with want_errno and leave *img alone. */
static void load_fails(const char *header, const unsigned char *raster, size_t n, int want_errno,
		       const char *why)
{
	struct image img = {-7, -7, (unsigned char *)"untouched"};
	char show[200];
	int r;

	put_pgm("bad.pgm", header, raster, n);
	shown(header, show, sizeof(show));
	errno = 0;
	r = pgm_load("bad.pgm", &img);
	if (r == 0 && img.pixels && img.width != -7)
		free(img.pixels);
	ck_assert_msg(r == -1 && errno == want_errno,
		      "pgm_load() of a file with the header \"%s\" and %zu raster bytes returned "
		      "%d (errno %s), expected -1 with %s: %s",
		      show, n, r, r < 0 ? err_name(errno) : "-", err_name(want_errno), why);
	ck_assert_msg(img.width == -7 && img.height == -7 &&
			  strcmp((char *)img.pixels, "untouched") == 0,
		      "pgm_load() failed (header \"%s\") but changed *img: leave it as it was "
		      "on failure.",
		      show);
}

/* ==== Tests: PGM files ==== */

START_TEST(test_pgm_load_sample)
{
	struct image want = sample(), got = {0, 0, NULL};
	const char *path = data_file("sample.pgm");
	int r;

	errno = 0;
	r = pgm_load(path, &got);
	ck_assert_msg(r == 0,
		      "pgm_load(\"%s\") returned %d (errno %s), expected 0. Its header is "
		      "\"P5\\n# IPC Labs, lab 21: ...\\n256 192\\n255\\n\": a comment line comes "
		      "after the magic.",
		      path, r, err_name(errno));
	ck_assert_msg(got.width == SAMPLE_W && got.height == SAMPLE_H,
		      "pgm_load() of sample.pgm gave %d x %d, expected %d x %d (its header has a "
		      "comment line after the magic: skip it).",
		      got.width, got.height, SAMPLE_W, SAMPLE_H);
	check_same("pgm_load() of sample.pgm", want.pixels, &got, 0, "");
	free(got.pixels);
	free(want.pixels);
	suite_check_leaks("pgm_load()");
}
END_TEST

START_TEST(test_pgm_header_parsing)
{
	static const unsigned char r1[] = {0, 17, 34, 51, 68, 85, 102, 255};
	static const unsigned char tricky[] = {10, 32, 35, 9, 13, 0, 255, 128};
	static const unsigned char r1_tail[] = {0, 17, 34, 51, 68, 85, 102, 255, '\n', '9', '\n'};

	load_ok("P5\n4 2\n255\n", r1, 8, 4, 2, r1, ".");
	load_ok("P5 4 2 255\n", r1, 8, 4, 2, r1, ": the header may be one line of spaces.");
	load_ok("P5\n# made by hand\n4 2\n255\n", r1, 8, 4, 2, r1,
		": a comment runs from '#' to the end of its line; skip it as white space.");
	load_ok("P5\n# 7 7 255\n4 # the width\n# the height:\n2\n#12 34\n255\n", r1, 8, 4, 2, r1,
		": comments may hold digits, follow a number on its line, and come between any "
		"two items. Skip them wherever white space may be.");
	load_ok("P5\t4\r\n\n  2 \v\f255\n", r1, 8, 4, 2, r1,
		": white space is any run of ' ', '\\t', '\\n', '\\v', '\\f' and '\\r'.");
	load_ok("P5\r\n# made on DOS\r\n4 2\r\n255\n", r1, 8, 4, 2, r1,
		": lines may end in \\r\\n; a comment ends at the \\r or the \\n.");
	load_ok("P5\n4 2\n255\n", tricky, 8, 4, 2, tricky,
		": after the maxval comes exactly ONE white-space byte, then the raster. Here "
		"the first pixels are 10 ('\\n'), 32 (' '), 35 ('#'), 9 and 13: they are pixels, "
		"not white space or a comment. Skipping more than one byte shifts the image.");
	load_ok("P5\n4 2\n255\n", r1_tail, sizeof(r1_tail), 4, 2, r1,
		": the bytes after the raster are ignored.");
	load_ok("P2\n# plain\n4 2\n255\n0 17 34\n51\t68  85\n# a comment\n102 255\n", NULL, 0, 4, 2,
		r1,
		": a P2 raster is decimal numbers separated by white space (and comments), "
		"read with the same helper as the header's.");
	suite_check_leaks("pgm_load()");
}
END_TEST

START_TEST(test_pgm_maxval)
{
	static const unsigned char r15[] = {0, 15, 7, 1}, w15[] = {0, 255, 119, 17};
	static const unsigned char w1[] = {0, 255}, w100[] = {0, 128, 255};
	static const unsigned char r16[] = {0, 16, 7, 1};
	unsigned char wide[8] = {0, 1, 2, 3, 4, 5, 6, 7};

	load_ok("P5 4 1 15\n", r15, 4, 4, 1, w15,
		": maxval 15 is white. Scale every sample v to (v * 255 + maxval / 2) / maxval: "
		"0, 15, 7, 1 become 0, 255, 119, 17.");
	load_ok("P2 2 1 1\n0 1\n", NULL, 0, 2, 1, w1,
		": with maxval 1, 1 is white: it becomes 255.");
	load_ok("P2 3 1 100\n0 50 100\n", NULL, 0, 3, 1, w100,
		": (50 * 255 + 50) / 100 is 128: add maxval / 2 before dividing, to round.");
	load_fails("P5 4 1 0\n", r15, 4, EINVAL, "maxval 0 is not a PGM (and would divide by 0).");
	load_fails("P5 4 1 256\n", wide, 8, EINVAL,
		   "a maxval above 255 means two bytes a sample (16-bit PGM): not supported.");
	load_fails("P5 4 1 65535\n", wide, 8, EINVAL,
		   "a maxval above 255 means two bytes a sample (16-bit PGM): not supported.");
	load_fails("P5 4 1 15\n", r16, 4, EINVAL, "the sample 16 is above maxval 15.");
	load_fails("P2 3 1 100\n0 101 100\n", NULL, 0, EINVAL,
		   "the sample 101 is above maxval 100.");
	suite_check_leaks("pgm_load()");
}
END_TEST

START_TEST(test_pgm_errors)
{
	static const unsigned char r[32] = {1, 2, 3};
	struct image img = {-7, -7, (unsigned char *)"untouched"};
	int rc;

	errno = 0;
	rc = pgm_load("no-such-file.pgm", &img);
	ck_assert_msg(
	    rc == -1 && errno == ENOENT,
	    "pgm_load() of a file that does not exist returned %d (errno %s), expected -1 "
	    "with ENOENT.",
	    rc, rc < 0 ? err_name(errno) : "-");
	load_fails("", NULL, 0, EINVAL, "an empty file is no image.");
	load_fails("P6\n4 2\n255\n", r, 24, EINVAL, "P6 is a colour PPM, not a PGM.");
	load_fails("P5", NULL, 0, EINVAL, "the header stops after the magic.");
	load_fails("P5\n4", NULL, 0, EINVAL, "the header stops after the width.");
	load_fails("P5\n4 2\n255", NULL, 0, EINVAL,
		   "the file ends right after the maxval: no white space, no raster.");
	load_fails("P5\n4 2\n255\n", r, 7, EINVAL,
		   "the raster is cut short (7 of 8 bytes): a truncated file is an error, not an "
		   "image padded with zeros. Check how many bytes there are.");
	load_fails("P5\n4x 2\n255\n", r, 8, EINVAL,
		   "\"4x\" is not a width: a number ends in white "
		   "space or '#'.");
	load_fails("P5\n0 2\n255\n", r, 8, EINVAL, "a width of 0: sides run from 1.");
	load_fails("P5\n-4 2\n255\n", r, 8, EINVAL, "a negative width: no signs in a PGM header.");
	load_fails("P5\n4 16385\n255\n", r, 8, EINVAL,
		   "a height above PGM_MAX_SIDE (16384): refuse it before allocating anything.");
	load_fails("P5\n99999999999999999999 1\n255\n", r, 8, EINVAL,
		   "a width of 20 digits: check the range as you read the digits, or the number "
		   "overflows.");
	load_fails("P2\n3 1\n255\n1 2\n", NULL, 0, EINVAL, "the P2 raster has 2 of 3 numbers.");
	load_fails("P2\n3 1\n255\n1 x 2\n", NULL, 0, EINVAL, "\"x\" is not a sample.");
	suite_check_leaks("pgm_load() failing (the file must be closed on every error path)");
}
END_TEST

START_TEST(test_pgm_save_roundtrip)
{
	static const char header[] = "P5\n5 3\n255\n";
	struct image img = img_random(5, 3, 5), big = img_random(300, 200, 6), back = {0};
	unsigned char junk[1000], *file;
	size_t len;
	int r, e;

	memset(junk, 'j', sizeof(junk));
	put_file("out.pgm", junk, sizeof(junk));
	r = pgm_save("out.pgm", &img);
	ck_assert_msg(r == 0, "pgm_save() of a 5 x 3 image returned %d (errno %s), expected 0.", r,
		      err_name(errno));
	file = slurp("out.pgm", &len);
	ck_assert_msg(len == sizeof(header) - 1 + 15,
		      "pgm_save() of a 5 x 3 image over a file of 1000 bytes left %zu bytes, "
		      "expected %zu: the header \"P5\\n5 3\\n255\\n\" and 15 pixels%s.",
		      len, sizeof(header) - 1 + 15, len == 1000 ? " (open with O_TRUNC)" : "");
	ck_assert_msg(
	    memcmp(file, header, sizeof(header) - 1) == 0,
	    "pgm_save() wrote the header \"%.*s\", expected exactly \"P5\\n5 3\\n255\\n\".",
	    (int)(sizeof(header) - 1), file);
	ck_assert_msg(memcmp(file + sizeof(header) - 1, img.pixels, 15) == 0,
		      "pgm_save(): the 15 bytes after the header are not the image's pixels, row "
		      "after row.");
	free(file);

	fault_inject(FAULT_SHORT_IO | FAULT_EINTR, 1);
	r = pgm_save("big.pgm", &big);
	e = errno;
	fault_stop();
	ck_assert_msg(r == 0, "pgm_save() of a 300 x 200 image returned %d (errno %s). %s", r,
		      err_name(e), fault_report());
	fault_inject(FAULT_SHORT_IO | FAULT_EINTR, 1);
	r = pgm_load("big.pgm", &back);
	e = errno;
	fault_stop();
	ck_assert_msg(r == 0 && back.width == 300 && back.height == 200,
		      "pgm_load() of what pgm_save() wrote (300 x 200) returned %d (errno %s), "
		      "%d x %d: a read() may return fewer bytes than asked, or fail with EINTR; "
		      "loop. %s",
		      r, err_name(e), back.width, back.height, fault_report());
	check_same("pgm_save() then pgm_load() of a 300 x 200 image (every read() and write() cut "
		   "short or interrupted)",
		   big.pixels, &back, 0, " Loop over short writes and reads, and retry EINTR.");
	free(back.pixels);

	errno = 0;
	r = pgm_save("no-such-folder/x.pgm", &img);
	ck_assert_msg(r == -1 && errno == ENOENT,
		      "pgm_save() into a folder that does not exist returned %d (errno %s), "
		      "expected -1 with ENOENT from open().",
		      r, r < 0 ? err_name(errno) : "-");
	img.width = 0;
	errno = 0;
	r = pgm_save("zero.pgm", &img);
	ck_assert_msg(r == -1 && errno == EINVAL && access("zero.pgm", F_OK) < 0,
		      "pgm_save() of an image 0 pixels wide returned %d (errno %s)%s, expected -1 "
		      "with EINVAL and no file: check the image before open().",
		      r, r < 0 ? err_name(errno) : "-",
		      access("zero.pgm", F_OK) == 0 ? " and created the file" : "");
	suite_check_leaks("pgm_save() (the file must be closed on every path)");
	free(img.pixels);
	free(big.pixels);
}
END_TEST

/* ==== Tests: the filters ==== */

/* Filter the w x h image in with kind over all rows; compare with the hand-made want. */
static void by_hand(enum kind kind, const unsigned char *in, int w, int h,
		    const unsigned char *want, const char *why)
{
	struct image src = {w, h, (unsigned char *)in}, out = img_new(w, h);
	char what[120];

	snprintf(what, sizeof(what), "%s(in, out, 0, %d) of a %d x %d image", kind_name[kind], h, w,
		 h);
	kind_fn[kind](&src, &out, 0, h);
	check_same(what, want, &out, 0, why);
	free(out.pixels);
}

START_TEST(test_blur_by_hand)
{
	static const unsigned char corner[] = {90, 0, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char corner_want[] = {40, 20, 0, 20, 10, 0, 0, 0, 0};
	static const unsigned char ramp[] = {10, 20, 30, 40, 50, 60, 70, 80};
	static const unsigned char ramp_want[] = {27, 33, 43, 50, 40, 47, 57, 63};
	static const unsigned char line[] = {0, 0, 100, 0, 0}, line_want[] = {0, 33, 33, 33, 0};
	static const unsigned char one[] = {123};

	by_hand(BLUR, corner, 3, 3, corner_want,
		" The border rule is clamp: around (0, 0) the 3x3 window reads row 0 twice and "
		"column 0 twice, so the 90 counts 4 times: (4 * 90 + 4) / 9 = 40. Zero padding "
		"would give 10; wrapping around would put the 90 in the far corner too.");
	by_hand(BLUR, ramp, 4, 2, ramp_want,
		" Round to the nearest: (sum + 4) / 9. (0, 0) sums to 240, and 244 / 9 = 27; "
		"240 / 9 alone gives 26.");
	by_hand(BLUR, line, 5, 1, line_want, " An image of one row: rows -1 and 1 are both row 0.");
	by_hand(BLUR, one, 1, 1, one, " A 1 x 1 image: all nine neighbours are the pixel itself.");
}
END_TEST

START_TEST(test_sobel_by_hand)
{
	static const unsigned char sq[] = {0, 0, 0, 0, 0, 10, 20, 0, 0, 30, 40, 0, 0, 0, 0, 0};
	static const unsigned char sq_want[] = {20, 60,  60,  40,  80, 180, 160, 120,
						80, 140, 120, 120, 60, 140, 140, 80};
	static const unsigned char fall[] = {40, 20, 0, 40, 20, 0, 0, 0, 0};
	static const unsigned char fall_want[] = {80, 160, 80, 200, 200, 80, 160, 120, 40};
	static const unsigned char big[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 80, 80, 0, 0, 80, 80};
	static const unsigned char big_want[] = {0, 0,   0,   0,   0, 160, 255, 255,
						 0, 255, 255, 255, 0, 255, 255, 0};
	static const unsigned char line[] = {0, 0, 100, 0, 0}, line_want[] = {0, 255, 0, 255, 0};
	static const unsigned char one[] = {123}, zero[] = {0};

	by_hand(SOBEL, sq, 4, 4, sq_want,
		" gx and gy as image.h gives them, with the clamp border rule: at (0, 0), gx = "
		"10 and gy = 10.");
	by_hand(SOBEL, fall, 3, 3, fall_want,
		" Here the image darkens to the right: gx is negative (-80 at (0, 0)). Take "
		"abs(gx) + abs(gy), in int, before storing.");
	by_hand(SOBEL, big, 4, 4, big_want,
		" |gx| + |gy| reaches 320 here: store 255, not 320 cut to a byte (64).");
	by_hand(SOBEL, line, 5, 1, line_want,
		" One row: gy is 0, and gx = 4 * (right - left): 400 and -400 both give 255.");
	by_hand(SOBEL, one, 1, 1, zero, " A flat image has no edge: 0 everywhere.");
}
END_TEST

/* filter kind of band [first, first + count) of in into a filled out: the band only, right. */
static void check_band(enum kind kind, const struct image *in, int first, int count)
{
	struct image out = img_new(in->width, in->height);
	unsigned char *want = ref_filter(kind, in->pixels, in->width, in->height);
	char what[120];
	int r, c, w = in->width;

	snprintf(what, sizeof(what), "%s(in, out, %d, %d) of a %d x %d image", kind_name[kind],
		 first, count, w, in->height);
	kind_fn[kind](in, &out, first, count);
	for (size_t i = 0; i < (size_t)w * in->height; i++) {
		r = (int)(i / (size_t)w);
		ck_assert_msg(out.pixels[i] == FILLER || (r >= first && r < first + count),
			      "%s wrote row %d, outside its band [%d, %d): write only the band's "
			      "rows — the others belong to other workers.",
			      what, r, first, first + count);
	}
	if (first_diff(want, &out, first, first + count, &r, &c)) {
		int got = out.pixels[(size_t)r * w + c];
		int banded = ref_pixel(kind, in->pixels, w, first, first + count - 1, r, c);

		ck_assert_msg(
		    0,
		    "%s: pixel (row %d, col %d) is %d, expected %d.%s The rows around "
		    "the band are real rows of in: read every neighbour from in, "
		    "clamped to the image only — never from out, which holds the "
		    "filler %d here.",
		    what, r, c, got, want[(size_t)r * w + c],
		    got == banded && got != want[(size_t)r * w + c]
			? " That is the value of a filter that clamps to the BAND, as if it "
			  "were the whole image."
			: "",
		    FILLER);
	}
	free(want);
	free(out.pixels);
}

START_TEST(test_filter_band_only)
{
	struct image in = img_random(9, 11, 3);

	for (int kind = BLUR; kind <= SOBEL; kind++) {
		check_band(kind, &in, 4, 3);
		check_band(kind, &in, 0, 1);
		check_band(kind, &in, 10, 1);
		check_band(kind, &in, 1, 9);
		check_band(kind, &in, 5, 0);
	}
	free(in.pixels);
}
END_TEST

START_TEST(test_sequential_reference)
{
	struct image in = sample(), out = img_new(SAMPLE_W, SAMPLE_H), small = img_new(4, 4);
	int r;

	check_driver(SEQUENTIAL, &in, BLUR, 1, "sample.pgm");
	check_driver(SEQUENTIAL, &in, SOBEL, 1, "sample.pgm");
	errno = 0;
	r = filter_sequential(&in, &out, NULL);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "filter_sequential() with fn NULL returned %d (errno %s), expected -1 with "
		      "EINVAL.",
		      r, err_name(errno));
	errno = 0;
	r = filter_sequential(&in, &small, filter_blur);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "filter_sequential() from a 256 x 192 image into a 4 x 4 one returned %d "
		      "(errno %s), expected -1 with EINVAL.",
		      r, err_name(errno));
	errno = 0;
	r = filter_sequential(&in, &in, filter_blur);
	ck_assert_msg(r == -1 && errno == EINVAL,
		      "filter_sequential(in, in, ...) returned %d (errno %s), expected -1 with "
		      "EINVAL: a filter cannot work in place, it would read pixels it has already "
		      "changed.",
		      r, err_name(errno));
	free(in.pixels);
	free(out.pixels);
	free(small.pixels);
}
END_TEST

/* ==== Tests: processes ==== */

START_TEST(test_processes_identical)
{
	check_sample_counts(PROCESSES);
	suite_check_leaks("filter_processes()");
}
END_TEST

START_TEST(test_processes_odd_sizes)
{
	check_odd_sizes(PROCESSES);
	suite_check_leaks("filter_processes()");
}
END_TEST

/* Filter in through driver d with n workers; check the seam rows first, then the rest. */
static void check_seams(enum driver d, const struct image *in, enum kind kind, int n)
{
	unsigned char *want = ref_filter(kind, in->pixels, in->width, in->height);
	struct image out = img_new(in->width, in->height);
	int k = n < in->height ? n : in->height, row, col;
	char what[160], note[512];

	snprintf(what, sizeof(what), "%s(%s, %d workers) of a %d x %d image", driver_name[d],
		 kind_name[kind], n, in->width, in->height);
	ck_assert_msg(run_driver(d, in, &out, kind_fn[kind], n) == 0,
		      "%s returned -1 (errno %s), expected 0.", what, err_name(errno));
	for (int b = 1; b < k; b++) {
		int seam = band_start(in->height, b, k);

		if (first_diff(want, &out, seam - 1, seam + 1, &row, &col)) {
			row_note(note, sizeof(note), &out, row, k);
			ck_assert_msg(0,
				      "%s: a seam between bands. Pixel (row %d, col %d) is %d, "
				      "expected %d.%s",
				      what, row, col, out.pixels[(size_t)row * out.width + col],
				      want[(size_t)row * out.width + col], note);
		}
	}
	check_same(what, want, &out, k, "");
	free(want);
	free(out.pixels);
}

START_TEST(test_processes_no_seams)
{
	static const int counts[] = {2, 3, 4, 7};
	struct image in = img_random(40, 30, 9), out = img_new(40, 30);
	int r;

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		check_seams(PROCESSES, &in, BLUR, counts[i]);
		check_seams(PROCESSES, &in, SOBEL, counts[i]);
	}
	probe_reset(&in, 0, -1);
	r = filter_processes(&in, &out, probe_fn, 4);
	ck_assert_msg(r == 0, "filter_processes(probe, 4 workers) returned %d (errno %s).", r,
		      err_name(errno));
	check_inputs("filter_processes(4 workers)");
	free(in.pixels);
	free(out.pixels);
}
END_TEST

START_TEST(test_processes_split)
{
	check_split(PROCESSES, 16, 10, 4);
	check_split(PROCESSES, 16, 3, 5);
	check_split(PROCESSES, 8, 64, 7);
	suite_check_leaks("filter_processes()");
}
END_TEST

/* filter_processes() must refuse bad arguments with EINVAL, before starting any worker. */
static void check_rejects(enum driver d)
{
	struct image in = img_random(8, 6, 4), out = img_new(8, 6), odd = img_new(6, 8);
	struct {
		struct image *out;
		filter_fn *fn;
		int n;
		const char *what;
	} cases[] = {
	    {&out, probe_fn, 0, "0 workers"},
	    {&out, probe_fn, FILTER_MAX_WORKERS + 1, "FILTER_MAX_WORKERS + 1 workers"},
	    {&out, probe_fn, -3, "-3 workers"},
	    {&odd, probe_fn, 2, "an 8 x 6 in and a 6 x 8 out"},
	    {&in, probe_fn, 2, "in and out the same image"},
	    {&out, NULL, 2, "fn NULL"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		probe_reset(&in, 0, -1);
		errno = 0;
		r = run_driver(d, &in, cases[i].out, cases[i].fn, cases[i].n);
		ck_assert_msg(r == -1 && errno == EINVAL,
			      "%s() with %s returned %d (errno %s), expected -1 with EINVAL.",
			      driver_name[d], cases[i].what, r, r < 0 ? err_name(errno) : "-");
		ck_assert_msg(atomic_load(&pr->ncalls) == 0,
			      "%s() with %s ran the filter: check the arguments before starting "
			      "any worker.",
			      driver_name[d], cases[i].what);
	}
	free(in.pixels);
	free(out.pixels);
	free(odd.pixels);
}

START_TEST(test_processes_cleanup)
{
	struct image in = img_random(64, 48, 8), out = img_new(64, 48);
	int before, r, e;

	probe_reset(&in, 0, -1); /* the probe's page is there before and after */
	before = shared_mappings();

	r = filter_processes(&in, &out, filter_blur, 4);
	ck_assert_msg(r == 0, "filter_processes(blur, 4 workers) returned %d (errno %s).", r,
		      err_name(errno));
	suite_check_leaks("filter_processes() (every worker must be reaped with waitpid(), "
			  "and a shm_open() object unlinked)");
	ck_assert_msg(shared_mappings() == before,
		      "after filter_processes() returned, /proc/self/maps lists %d more shared "
		      "mapping%s: munmap() the shared area once the output is copied out.",
		      shared_mappings() - before, shared_mappings() - before > 1 ? "s" : "");

	probe_reset(&in, 0, 0); /* the worker of band 0 exits with status 3 */
	img_fill(&out);
	errno = 0;
	r = filter_processes(&in, &out, probe_fn, 4);
	e = errno;
	ck_assert_msg(r == -1 && e == EIO,
		      "a worker exited with status 3; filter_processes() returned %d (errno %s), "
		      "expected -1 with EIO: check every worker's wait status (WIFEXITED and "
		      "WEXITSTATUS 0).",
		      r, r < 0 ? err_name(e) : "-");
	for (size_t i = 0; i < 64 * 48; i++)
		ck_assert_msg(
		    out.pixels[i] == FILLER,
		    "filter_processes() failed with EIO but changed out (pixel %zu): copy "
		    "the output only when every worker succeeded.",
		    i);
	suite_check_leaks("filter_processes() with a failing worker");
	ck_assert_msg(shared_mappings() == before,
		      "filter_processes() failed with EIO and left the shared area mapped: "
		      "munmap() it on the error path too.");
	check_rejects(PROCESSES);
	suite_check_leaks("filter_processes() with bad arguments");
	free(in.pixels);
	free(out.pixels);
}
END_TEST

START_TEST(test_processes_fork_fails)
{
	struct image in = sample(), out = img_new(SAMPLE_W, SAMPLE_H);
	int before = shared_mappings(), r, e;

	fault_inject(FAULT_FORK, 3);
	errno = 0;
	r = filter_processes(&in, &out, filter_blur, 5);
	e = errno;
	fault_stop();
	ck_assert_msg(r == -1 && e == EAGAIN,
		      "filter_processes(5 workers), whose third fork() the grader makes fail with "
		      "EAGAIN, returned %d (errno %s): return -1 with fork's errno. %s",
		      r, r < 0 ? err_name(e) : "-", fault_report());
	suite_check_leaks("filter_processes() after a failed fork() (the two workers already "
			  "started must still be reaped)");
	ck_assert_msg(shared_mappings() == before,
		      "filter_processes() failed when fork() did and left the shared area mapped: "
		      "munmap() it on the error path too.");
	for (size_t i = 0; i < (size_t)SAMPLE_W * SAMPLE_H; i++)
		ck_assert_msg(out.pixels[i] == FILLER,
			      "filter_processes() failed (fork) but changed out (pixel %zu): copy "
			      "the output only when every worker succeeded.",
			      i);
	free(in.pixels);
	free(out.pixels);
}
END_TEST

/* ==== Tests: threads ==== */

START_TEST(test_threads_identical)
{
	check_sample_counts(THREADS);
	check_odd_sizes(THREADS);
	suite_check_leaks("filter_threads()");
}
END_TEST

START_TEST(test_threads_split)
{
	check_split(THREADS, 16, 10, 4);
	check_split(THREADS, 16, 3, 5);
	check_split(THREADS, 8, 64, 7);
	check_rejects(THREADS);
	suite_check_leaks("filter_threads()");
}
END_TEST

/* How many probe calls had not returned yet. */
static int probe_running(void)
{
	int n = 0;

	for (int i = 0; i < atomic_load(&pr->ncalls) && i < MAX_CALLS; i++)
		n += !atomic_load(&pr->calls[i].done);
	return n;
}

START_TEST(test_threads_create_fails)
{
	struct image in = img_random(16, 40, 12), out = img_new(16, 40);
	int r, e, running;

	probe_reset(&in, 0, -1);
	pr->hold_ms = HOLD_MS; /* the threads started are still busy when the third create fails */
	fault_inject(FAULT_THREAD, 3);
	errno = 0;
	r = filter_threads(&in, &out, probe_fn, 5);
	e = errno;
	fault_stop();
	running = probe_running();
	atomic_store(&pr->abandoned, running > 0);
	ck_assert_msg(running == 0,
		      "filter_threads(5 workers), whose third pthread_create() the grader makes "
		      "fail, returned while %d of the threads it had started were still "
		      "filtering: join every thread already started before returning.",
		      running);
	ck_assert_msg(r == -1 && e == EAGAIN,
		      "filter_threads(5 workers), whose third pthread_create() the grader makes "
		      "fail with EAGAIN, returned %d (errno %s): return -1 with errno set to the "
		      "number pthread_create() returned. %s",
		      r, r < 0 ? err_name(e) : "-", fault_report());
	suite_check_leaks("filter_threads() after a failed pthread_create() (the two threads "
			  "already started must still be joined)");
	free(in.pixels);
	free(out.pixels);
}
END_TEST

void suite_define(void)
{
	/* PGM files. */
	SUITE_TEST(
	    test_pgm_load_sample, 1,
	    "Can your pgm_load() read the picture the lab ships?\n"
	    "A PGM header may hold comment lines: '#' to the end of the line, anywhere white "
	    "space may be (netpbm's pgm(5)).\n"
	    "Read the whole file into memory, then parse it with one skip_space() that also "
	    "skips comments.");
	SUITE_TEST(
	    test_pgm_header_parsing, 2,
	    "Which header in the message did your parser misread?\n"
	    "White space is any run of the six isspace() bytes, comments count as white "
	    "space, and after the maxval comes exactly one white-space byte: pgm(5).\n"
	    "After reading the maxval, do i++ once — never skip_space() — before the raster.");
	SUITE_TEST(
	    test_pgm_maxval, 1,
	    "What must happen to a sample when maxval is not 255?\n"
	    "maxval is the value of white; 1..255 means one byte a sample, more means two: "
	    "pgm(5). image.h says how to scale.\n"
	    "pixel = (v * 255 + maxval / 2) / maxval; EINVAL for maxval 0, above 255, or v > "
	    "maxval.");
	SUITE_TEST(
	    test_pgm_errors, 2,
	    "What does your parser do when the data runs out?\n"
	    "Every read of a header item or a sample must check it is still inside the file; "
	    "a short file is EINVAL, not zeros.\n"
	    "Compare the bytes left with width * height before copying the raster; close "
	    "the file on every path.");
	SUITE_TEST(
	    test_pgm_save_roundtrip, 2,
	    "Is every byte written, and only those?\n"
	    "write(2) may write fewer bytes than asked or fail with EINTR; O_TRUNC empties an "
	    "existing file: open(2).\n"
	    "open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), then a write_all() loop for the "
	    "header and the pixels.");

	/* The filters. */
	SUITE_TEST(test_blur_by_hand, 2,
		   "Work out the pixel in the message by hand: which nine pixels did you add?\n"
		   "The border rule is clamp: a neighbour outside the image is the nearest pixel "
		   "inside it; round with + 4 before / 9.\n"
		   "Read every neighbour through a helper that clamps r to 0..height-1 and c to "
		   "0..width-1.");
	SUITE_TEST(test_sobel_by_hand, 2,
		   "Check the signs and the cap of your Sobel.\n"
		   "gx and gy can be negative and |gx| + |gy| can pass 255: compute them in int.\n"
		   "out = min(255, abs(gx) + abs(gy)), with the same clamping helper as the blur.");
	SUITE_TEST(
	    test_filter_band_only, 2,
	    "Where do the neighbours of a band's first and last rows come from?\n"
	    "A filter reads any row of in but writes only rows [first, first + count) of "
	    "out, and never reads out.\n"
	    "Loop r from first to first + count - 1 and read only in, clamped to the IMAGE's "
	    "rows, not the band's.");
	SUITE_TEST(test_sequential_reference, 1,
		   "Does filter_sequential() run the filter once over every row?\n"
		   "It is the reference every parallel version is compared with; bad arguments are "
		   "EINVAL.\n"
		   "Check fn, the pixels and the sizes (and in != out), then fn(in, out, 0, "
		   "in->height).");

	/* Processes. */
	SUITE_TEST(test_processes_identical, 3,
		   "Which row differs, and where does it lie among the bands?\n"
		   "The output must live in a MAP_SHARED mapping made before fork(), or the "
		   "children's rows die with them: mmap(2).\n"
		   "mmap(NULL, w * h, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) "
		   "before the fork loop; memcpy out after reaping.");
	SUITE_TEST(test_processes_odd_sizes, 2,
		   "What happens to the last rows when k does not divide the height?\n"
		   "Bands [w * h / k, (w + 1) * h / k) cover every row exactly once, and "
		   "k = min(nworkers, height).\n"
		   "Compute both ends of each band with that formula — never h / k rows each.");
	SUITE_TEST(test_processes_no_seams, 2,
		   "Look at the rows where two bands meet.\n"
		   "The rows just outside a band must be read from the input, as it was; the "
		   "output buffer holds other workers' results, or nothing yet.\n"
		   "In the child call fn(in, &shared_out, first, count): in itself, never the "
		   "shared output, as the input.");
	SUITE_TEST_EX(test_processes_split, 2, 12, 0,
		      "Are all the workers alive at the same time, one band each?\n"
		      "fork(2) every worker in one loop and waitpid(2) them in another; each "
		      "child does its band and _exit(0)s.\n"
		      "Move the waitpid() out of the fork loop; start min(nworkers, height) "
		      "children with the contract's bands.");
	SUITE_TEST(test_processes_cleanup, 2,
		   "What is left after your function returns, or fails?\n"
		   "Every child must be reaped, its status checked (wait(2): WIFEXITED, "
		   "WEXITSTATUS), and the mapping removed: munmap(2).\n"
		   "Reap all, set EIO if any status is not a clean 0, copy out only then, munmap() "
		   "on every path.");
	SUITE_TEST(
	    test_processes_fork_fails, 2,
	    "What happens to the children already started when a fork() fails?\n"
	    "fork(2) fails with EAGAIN when the process limit is reached; the workers "
	    "started still run and must be reaped.\n"
	    "On fork() < 0: save errno, break out of the loop, reap those started, munmap(), "
	    "then return -1 with that errno.");

	/* Threads. */
	SUITE_TEST(test_threads_identical, 2,
		   "Which row differs, and which thread had it?\n"
		   "Each thread needs its own argument, alive until it is joined: "
		   "pthread_create(3).\n"
		   "An array of band structs, one per thread; fill bands[w] before "
		   "pthread_create(..., &bands[w]).");
	SUITE_TEST_EX(test_threads_split, 2, 12, 0,
		      "Are all the threads running at the same time, one band each?\n"
		      "Create every thread first, then join them all: pthread_join(3) in the "
		      "creating loop makes them run in turn.\n"
		      "Two loops: pthread_create() for w in 0..k-1, then pthread_join() for each.");
	SUITE_TEST(test_threads_create_fails, 1,
		   "What happens to the threads already started when pthread_create() fails?\n"
		   "pthread_create(3) returns an error number (it does not set errno); the threads "
		   "started must still be joined.\n"
		   "On an error: stop creating, join those started, errno = the returned number, "
		   "return -1.");
}
