/*
 * Lab 21's demo: filter a PGM image sequentially, with worker processes and
 * with worker threads, check that all give the same bytes, and time them.
 *
 *	make run LAB=21                                          # blur the sample, 1..4 workers
 *	make run LAB=21 ARGS='sobel labs/21-parallel-image/sample.pgm build/edges.pgm 8'
 *	make run LAB=21 ARGS='sample build/big.pgm 2048 2048'   # draw a bigger test picture
 *	make run LAB=21 ARGS='blur build/big.pgm build/big-blur.pgm 4'
 *
 * blur|sobel IN OUT [N] filters IN into OUT and prints, for 1 to N workers,
 * the median time of the processes and of the threads and their speedup
 * over the sequential filter. sample OUT [W H] draws the test picture that
 * the lab ships as sample.pgm (256 x 192), at any size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "ipclab.h"

#define RUNS 5 /* timed runs of each version; the median is shown */

/* ==== The test picture ==== */

/* Whether (r, c) lies within radius rad of (cr, cc): integers only, so every machine agrees. */
static int in_circle(int r, int c, int cr, int cc, int rad)
{
	return (r - cr) * (r - cr) + (c - cc) * (c - cc) <= rad * rad;
}

/* A pseudo-random number from n: the same on every machine. */
static unsigned hash(unsigned n)
{
	n ^= n >> 16;
	n *= 0x45d9f3bu;
	return n ^ (n >> 16);
}

/* The grey level of pixel (r, c) of the w x h test picture. */
static unsigned char sample_pixel(int r, int c, int w, int h)
{
	int unit = h < w ? h : w;

	if (r >= h - h / 6 && r < h - h / 24 && c >= w / 16 && c < w - w / 16) {
		/* Lines of "text": words of thin bars, the finest detail of the picture. */
		int word = hash((unsigned)(c / 24 + r / 12 * 131)) % 4 != 0;
		return word && c % 24 < 20 && c % 3 == 0 && r % 12 < 9 ? 20 : 235;
	}
	if (r < h / 3 && c >= w - w / 4)
		return ((r / 8 + c / 8) % 2) ? 250 : 5; /* a checkerboard: edges everywhere */
	if (in_circle(r, c, h / 2, w / 2, unit / 4) && !in_circle(r, c, h / 2, w / 2, unit / 5))
		return 255; /* a ring */
	if (in_circle(r, c, h / 3, w / 4, unit / 6))
		return 40;
	if (in_circle(r, c, 2 * h / 3, 3 * w / 4 - w / 16, unit / 8))
		return 190;
	return (unsigned char)(16 + c * 150 / w + r * 60 / h); /* a diagonal gradient */
}

static void draw_sample(struct image *img)
{
	for (int r = 0; r < img->height; r++)
		for (int c = 0; c < img->width; c++)
			img->pixels[(size_t)r * img->width + c] =
			    sample_pixel(r, c, img->width, img->height);
}

/* ==== Timing ==== */

struct run {
	const struct image *in; /* the input */
	struct image *out;      /* where the output goes */
	filter_fn *fn;          /* the filter */
	int workers;            /* 0: sequential */
	int threads;            /* 1: filter_threads, 0: filter_processes */
};

static void run_once(void *arg)
{
	struct run *r = arg;
	int ret;

	if (r->workers == 0)
		ret = filter_sequential(r->in, r->out, r->fn);
	else if (r->threads)
		ret = filter_threads(r->in, r->out, r->fn, r->workers);
	else
		ret = filter_processes(r->in, r->out, r->fn, r->workers);
	if (ret < 0)
		err_die("filter_%s(%d workers):",
			r->workers == 0 ? "sequential"
			: r->threads    ? "threads"
					: "processes",
			r->workers);
}

/* Time one version; say where its bytes differ from want. Returns the median in ms. */
static double time_version(struct run *r, const unsigned char *want, const char **verdict)
{
	size_t n = (size_t)r->in->width * r->in->height;
	struct measure_stats st;

	memset(r->out->pixels, 0, n);
	if (measure_repeat(run_once, r, RUNS, &st) < 0)
		err_die("measure_repeat:");
	*verdict = "same bytes";
	for (size_t i = 0; want && i < n; i++)
		if (r->out->pixels[i] != want[i]) {
			*verdict = "DIFFERENT BYTES";
			break;
		}
	return st.median_ns / 1e6;
}

/* ==== Commands ==== */

static void cmd_filter(filter_fn *fn, const char *from, const char *to, int max_workers)
{
	struct image in, out;
	struct run r = {&in, &out, fn, 0, 0};
	const char *vp, *vt;
	unsigned char *want;
	double seq;

	if (pgm_load(from, &in) < 0)
		err_die("pgm_load(%s):", from);
	out = in;
	out.pixels = xmalloc((size_t)in.width * in.height);
	seq = time_version(&r, NULL, &vp);
	want = xmalloc((size_t)in.width * in.height); /* the reference bytes */
	memcpy(want, out.pixels, (size_t)in.width * in.height);
	printf("%s: %d x %d, median of %d runs\n", from, in.width, in.height, RUNS);
	printf("sequential     %9.3f ms\n", seq);
	printf("workers   processes ms  speedup     threads ms  speedup\n");
	for (int w = 1; w <= max_workers; w++) {
		double tp, tt;

		r.workers = w;
		r.threads = 0;
		tp = time_version(&r, want, &vp);
		r.threads = 1;
		tt = time_version(&r, want, &vt);
		printf("%7d  %12.3f  %6.2fx  %12.3f  %6.2fx  %s%s%s\n", w, tp, seq / tp, tt,
		       seq / tt, vp, strcmp(vp, vt) ? " / " : "", strcmp(vp, vt) ? vt : "");
	}
	if (pgm_save(to, &out) < 0)
		err_die("pgm_save(%s):", to);
	printf("wrote %s\n", to);
	free(want);
	free(in.pixels);
	free(out.pixels);
}

/*
 * Draw the test picture into the file to. The demo writes the file itself,
 * with stdio, to put a comment in the header: pgm_load() must skip it.
 */
static void cmd_sample(const char *to, int width, int height)
{
	struct image img = {width, height, NULL};
	size_t n = (size_t)width * height;
	FILE *f;

	if (width < 1 || height < 1 || width > PGM_MAX_SIDE || height > PGM_MAX_SIDE)
		err_die("sample: sides from 1 to %d", PGM_MAX_SIDE);
	img.pixels = xmalloc(n);
	draw_sample(&img);
	f = fopen(to, "wb");
	if (!f)
		err_die("%s:", to);
	fprintf(f, "P5\n# IPC Labs, lab 21: the test picture (demo sample)\n%d %d\n255\n", width,
		height);
	if (fwrite(img.pixels, 1, n, f) != n || fclose(f) != 0)
		err_die("writing %s:", to);
	printf("wrote %s: the %d x %d test picture\n", to, width, height);
	free(img.pixels);
}

static void usage(void)
{
	fprintf(stderr, "usage: demo [blur|sobel IN.pgm OUT.pgm [WORKERS]]\n"
			"       demo sample OUT.pgm [WIDTH HEIGHT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		cmd_filter(filter_blur, "labs/21-parallel-image/sample.pgm",
			   "build/sample-blur.pgm", 4);
	} else if ((strcmp(argv[1], "blur") == 0 || strcmp(argv[1], "sobel") == 0) &&
		   (argc == 4 || argc == 5)) {
		int workers = argc == 5 ? atoi(argv[4]) : 4;

		if (workers < 1 || workers > FILTER_MAX_WORKERS)
			usage();
		cmd_filter(argv[1][0] == 'b' ? filter_blur : filter_sobel, argv[2], argv[3],
			   workers);
	} else if (strcmp(argv[1], "sample") == 0 && (argc == 3 || argc == 5)) {
		cmd_sample(argv[2], argc == 5 ? atoi(argv[3]) : 256,
			   argc == 5 ? atoi(argv[4]) : 192);
	} else {
		usage();
	}
	return 0;
}
