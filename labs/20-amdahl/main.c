/*
 * Demo of lab 20: measure the speedup of a workload whose serial fraction
 * you choose, on 1 .. N workers, and set it against Amdahl's prediction: a
 * table, a chart drawn in the terminal, and a PNG when gnuplot is installed.
 *
 *	make run LAB=20                        units that wait: 8 workers, serial 0.1
 *	make run LAB=20 ARGS="-m spin"         units that compute: the cores are the limit
 *	make run LAB=20 ARGS="-s 0.5 -n 12"    half serial, up to 12 workers
 *
 * Options: -m sleep|spin  what a unit does; -s F  the serial fraction;
 * -n N  the most workers; -u U  units in all; -q US  microseconds a unit
 * lasts; -r R  timed runs for each n; -o FILE  the PNG (default amdahl.png).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "amdahl.h"
#include "ipclab.h"

#define CHART_ROWS 16 /* the chart's height in lines */
#define CHART_COLS 64 /* its width in columns, within 80 with the axis */

struct options {
	struct amdahl_work work; /* the workload to measure */
	int max_workers;         /* n from 1 to this */
	int repeats;             /* timed runs for each n */
	const char *png;         /* where gnuplot draws */
};

/* ==== The table ==== */

static void print_table(const struct options *o, const struct amdahl_point *pts)
{
	double p = 1.0 - o->work.serial_fraction;

	printf("%3s %10s %9s %9s %11s %7s %9s\n", "n", "T(n) ms", "measured", "Amdahl",
	       "efficiency", "e(n)", "Gustafson");
	for (int k = 0; k < o->max_workers; k++) {
		const struct amdahl_point *pt = &pts[k];

		printf("%3d %10.1f %9.2f %9.2f %11.2f ", pt->workers, (double)pt->median_ns / 1e6,
		       pt->speedup, amdahl_speedup(p, pt->workers),
		       efficiency(pt->speedup, pt->workers));
		if (k == 0)
			printf("%7s", "-");
		else
			printf("%7.3f", pt->serial_estimate);
		printf(" %9.2f\n", gustafson_speedup(p, pt->workers));
	}
}

/* ==== The chart ==== */

/* The column of the chart where n workers are drawn. */
static int column_of(double n, int max_workers)
{
	if (max_workers == 1)
		return 0;
	return (int)lround((n - 1) * (CHART_COLS - 1) / (max_workers - 1));
}

/* The row of speedup s on a chart whose top row is ymax (row 0 at the top). */
static int row_of(double s, double ymax)
{
	return CHART_ROWS - 1 - (int)lround(s / ymax * (CHART_ROWS - 1));
}

/* Put c at speedup s, column col, unless it falls outside or a stronger mark is there. */
static void plot(char grid[CHART_ROWS][CHART_COLS + 1], int col, double s, double ymax, char c)
{
	static const char strength[] = " .-*"; /* a later mark covers an earlier one */
	int row = row_of(s, ymax);

	if (row < 0 || row >= CHART_ROWS || col < 0 || col >= CHART_COLS)
		return;
	if (strchr(strength, grid[row][col]) <= strchr(strength, c))
		grid[row][col] = c;
}

static void draw_grid(const struct options *o, const struct amdahl_point *pts, double ymax,
		      char grid[CHART_ROWS][CHART_COLS + 1])
{
	double p = 1.0 - o->work.serial_fraction;
	int n = o->max_workers;

	for (int r = 0; r < CHART_ROWS; r++) {
		memset(grid[r], ' ', CHART_COLS);
		grid[r][CHART_COLS] = '\0';
	}
	/* The ideal S = n and Amdahl's curve, at every column; then the measurements. */
	for (int col = 0; col < CHART_COLS; col++) {
		double x = n == 1 ? 1 : 1 + (double)col * (n - 1) / (CHART_COLS - 1);

		plot(grid, col, x, ymax, '.');
		plot(grid, col, 1.0 / ((1 - p) + p / x), ymax, '-');
	}
	for (int k = 0; k < n; k++)
		plot(grid, column_of(k + 1, n), pts[k].speedup, ymax, '*');
}

/* The numbers of workers under the chart's axis, as many as fit. */
static void print_x_labels(int max_workers)
{
	char line[CHART_COLS + 8];
	int free_from = 0, end = 0;

	memset(line, ' ', sizeof(line));
	for (int k = 1; k <= max_workers; k++) {
		int col = column_of(k, max_workers);

		if (col < free_from)
			continue; /* no room: the label before is in the way */
		end = col + snprintf(line + col, sizeof(line) - (size_t)col, "%d", k);
		line[end] = ' ';
		free_from = end + 1;
	}
	printf("        %.*s  workers\n", end, line);
}

static void print_chart(const struct options *o, const struct amdahl_point *pts)
{
	char grid[CHART_ROWS][CHART_COLS + 1], axis[CHART_COLS + 1];
	double ymax = amdahl_speedup(1.0 - o->work.serial_fraction, o->max_workers);

	for (int k = 0; k < o->max_workers; k++)
		ymax = fmax(ymax, pts[k].speedup);
	ymax = ceil(ymax * 1.1);
	draw_grid(o, pts, ymax, grid);
	printf("\nspeedup\n");
	for (int r = 0; r < CHART_ROWS; r++) {
		int len = CHART_COLS;

		while (len > 0 && grid[r][len - 1] == ' ')
			len--;
		printf("%6.1f |%.*s\n", ymax * (CHART_ROWS - 1 - r) / (CHART_ROWS - 1), len,
		       grid[r]);
	}
	memset(axis, '-', CHART_COLS);
	axis[CHART_COLS] = '\0';
	printf("       +%s\n", axis);
	print_x_labels(o->max_workers);
	printf("        * measured   - Amdahl for serial fraction %.2f   . ideal S = n\n",
	       o->work.serial_fraction);
}

/* ==== The PNG, through gnuplot ==== */

/* Whether an executable called name is in a folder of $PATH. */
static int on_path(const char *name)
{
	const char *path = getenv("PATH");
	char dir[4096];

	while (path && *path) {
		size_t len = strcspn(path, ":");

		snprintf(dir, sizeof(dir), "%.*s/%s", (int)len, path, name);
		if (len > 0 && access(dir, X_OK) == 0)
			return 1;
		path += len + (path[len] == ':');
	}
	return 0;
}

static void write_png(const struct options *o, const struct amdahl_point *pts)
{
	double p = 1.0 - o->work.serial_fraction;
	FILE *gp;

	if (!on_path("gnuplot")) {
		printf(
		    "\n(gnuplot is not on PATH: no PNG; `apt-get install gnuplot-nox` for one)\n");
		return;
	}
	gp = popen("gnuplot", "w");
	if (!gp) {
		err_warn("popen gnuplot:");
		return;
	}
	fprintf(gp, "set terminal pngcairo size 800,500 noenhanced\nset output '%s'\n", o->png);
	fprintf(gp, "set xlabel 'workers'\nset ylabel 'speedup'\nset key left top\nset grid\n");
	fprintf(gp, "p = %g\namdahl(x) = 1 / ((1 - p) + p / x)\n$m << EOD\n", p);
	for (int k = 0; k < o->max_workers; k++)
		fprintf(gp, "%d %g\n", pts[k].workers, pts[k].speedup);
	fprintf(gp,
		"EOD\nplot [1:%d] [0:] x title 'ideal' dashtype 2, amdahl(x) title "
		"'Amdahl, serial %.2f', $m with linespoints pointtype 7 title 'measured'\n",
		o->max_workers, o->work.serial_fraction);
	if (pclose(gp) != 0)
		err_warn("gnuplot failed: no PNG");
	else
		printf("\nchart written to %s\n", o->png);
}

/* ==== Main ==== */

static void parse(int argc, char **argv, struct options *o)
{
	int c;

	while ((c = getopt(argc, argv, "m:s:n:u:q:r:o:")) != -1) {
		if (c == 'm' && (!strcmp(optarg, "sleep") || !strcmp(optarg, "spin")))
			o->work.mode = !strcmp(optarg, "spin") ? AMDAHL_SPIN : AMDAHL_SLEEP;
		else if (c == 's')
			o->work.serial_fraction = atof(optarg);
		else if (c == 'n')
			o->max_workers = atoi(optarg);
		else if (c == 'u')
			o->work.units = atol(optarg);
		else if (c == 'q')
			o->work.unit_ns = atol(optarg) * 1000;
		else if (c == 'r')
			o->repeats = atoi(optarg);
		else if (c == 'o')
			o->png = optarg;
		else
			err_die("usage: demo [-m sleep|spin] [-s SERIAL] [-n WORKERS] [-u UNITS] "
				"[-q UNIT_US] [-r REPEATS] [-o FILE.png]");
	}
}

int main(int argc, char **argv)
{
	struct options o = {.work = {.serial_fraction = 0.1, .units = 100, .unit_ns = 1000000},
			    .max_workers = 8,
			    .repeats = 3,
			    .png = "amdahl.png"};
	struct amdahl_point pts[AMDAHL_MAX_WORKERS];
	int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);

	parse(argc, argv, &o);
	printf("%ld units of %.3f ms that %s, serial fraction %.2f; %d cores online; "
	       "median of %d runs\n\n",
	       o.work.units, o.work.unit_ns / 1e6, o.work.mode == AMDAHL_SPIN ? "compute" : "wait",
	       o.work.serial_fraction, cores, o.repeats);
	if (measure_speedup(&o.work, o.max_workers, o.repeats, pts) < 0)
		err_die("measure_speedup:");
	print_table(&o, pts);
	printf(
	    "\nestimated serial fraction (median of e(n)): %.3f; Amdahl's ceiling 1/(1-p): %.1f\n",
	    estimate_serial_fraction(pts, o.max_workers),
	    amdahl_limit(1.0 - o.work.serial_fraction));
	print_chart(&o, pts);
	if (o.work.mode == AMDAHL_SPIN && o.max_workers > cores)
		printf("\nPast %d workers, units that compute queue for the %d cores: the measured "
		       "curve\nflattens there, whatever Amdahl's law allows. Units that wait "
		       "(-m sleep) do not.\n",
		       cores, cores);
	write_png(&o, pts);
	return 0;
}
