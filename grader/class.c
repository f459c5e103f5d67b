/*
 * Grading a class (see class.h).
 *
 * Each student's result is also kept in reports/NAME.row, stamped with a
 * fingerprint of the student's files, the hidden suites and the grader
 * itself. A later run with the same fingerprint reads the row back instead
 * of grading again: that is how an interrupted run resumes. Every file is
 * written to a temporary name and renamed, so none is ever half-written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipclab.h"
#include "class.h"
#include "engine.h"
#include "report.h"
#include "sandbox.h"
#include "submission.h"

#define ROW_MAGIC "ipcgrade-row 1"

struct student {
	char *name;     /* the sub-folder's name */
	char *labs_dir; /* its labs folder */
	int checkout;   /* the sub-folder is a checkout holding labs/ */
	uint64_t print; /* fingerprint of its files, the suites and the grader */
	int resumed;    /* read back from an earlier run */
	int done;       /* has a result */
	struct grade_result g;
};

struct class_run {
	const struct toolkit *tk;
	const struct class_opts *o;
	struct student *s;
	int n;
	char *folder;  /* where the gradebook goes */
	char *reports; /* folder/reports */
	const char *const *readonly;
	pthread_mutex_t lock; /* guards what follows */
	int next;             /* the next student to grade */
	int finished;         /* students with a result, resumed or graded */
	int graded;           /* students graded by this run */
	int broken;           /* the toolkit failed to build some lab's tests */
	struct stopwatch sw;
};

/* ==== Fingerprints ==== */

static void hash_bytes(uint64_t *h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++)
		*h = (*h ^ p[i]) * 1099511628211ull;
}

/* Hash path's name and bytes into *h (a missing file hashes as its name). */
static void hash_file(uint64_t *h, const char *path)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	hash_bytes(h, path, strlen(path) + 1);
	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		hash_bytes(h, buf, (size_t)n);
	close(fd);
}

static int source_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 2 && e->d_name[0] != '.' && e->d_name[n - 2] == '.' &&
	       (e->d_name[n - 1] == 'c' || e->d_name[n - 1] == 'h');
}

/* Hash the .c and .h files of dir, in name order. */
static void hash_sources(uint64_t *h, const char *dir)
{
	struct dirent **list;
	int n = scandir(dir, &list, source_file, alphasort);

	for (int i = 0; i < n; i++) {
		char *path;

		if (asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0)
			err_die("asprintf:");
		hash_file(h, path);
		free(path);
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

/* What a student's result depends on: the grader, the suites, the selection, the files. */
static uint64_t fingerprint(const struct class_run *r, const struct student *s)
{
	uint64_t h = 14695981039346656037ull;
	const char *only = r->o->only_test ? r->o->only_test : "";

	static const char *const toolkit[] = {"grader/runner.c", "grader/fault.c", "grader/suite.h",
					      "grader/catalogue"};

	hash_file(&h, "/proc/self/exe");
	for (size_t i = 0; i < sizeof(toolkit) / sizeof(toolkit[0]); i++) {
		char *path;

		if (asprintf(&path, "%s/%s", r->tk->root, toolkit[i]) < 0)
			err_die("asprintf:");
		hash_file(&h, path);
		free(path);
	}
	hash_bytes(&h, only, strlen(only) + 1);
	hash_bytes(&h, sandbox_describe(), strlen(sandbox_describe()));
	for (int i = 0; i < r->o->nlabs; i++) {
		const char *id = r->o->labs[i]->id;
		char *suite, *mine;

		if (asprintf(&suite, "%s/%s.c", r->tk->suites, id) < 0 ||
		    asprintf(&mine, "%s/%s", s->labs_dir, id) < 0)
			err_die("asprintf:");
		hash_file(&h, suite);
		hash_sources(&h, mine);
		free(suite);
		free(mine);
	}
	return h;
}

/* ==== Rows: a student's result, kept to resume ==== */

static char *row_path(const struct class_run *r, const struct student *s)
{
	char *path;

	if (asprintf(&path, "%s/%s.row", r->reports, s->name) < 0)
		err_die("asprintf:");
	return path;
}

/* The first line of text, with tabs made spaces, for a field of a row. */
static void put_field(FILE *f, const char *text)
{
	for (const char *p = text ? text : ""; *p && *p != '\n'; p++)
		fputc(*p == '\t' || *p == '\r' ? ' ' : *p, f);
}

static void write_row(const struct class_run *r, const struct student *s)
{
	char *path = row_path(r, s), *tmp;
	FILE *f;

	if (asprintf(&tmp, "%s.tmp", path) < 0)
		err_die("asprintf:");
	if (!(f = fopen(tmp, "w"))) {
		err_warn("cannot write %s:", tmp);
		goto out;
	}
	fprintf(f, "%s %016llx\n", ROW_MAGIC, (unsigned long long)s->print);
	for (int i = 0; i < s->g.nlabs; i++) {
		const struct lab_result *l = &s->g.labs[i];

		fprintf(f, "lab\t%s\t%s\t%d\n", l->lab->id, lab_state_name(l->state), l->build_ok);
		for (int t = 0; t < l->ntests; t++) {
			fprintf(f, "test\t%s\t%s\t%d\t%d\t", l->tests[t].name,
				test_status_name(l->tests[t].status), l->tests[t].points,
				l->tests[t].max_points);
			put_field(f, l->tests[t].hint);
			fputc('\n', f);
		}
	}
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		err_warn("cannot write %s:", path);
		unlink(tmp);
	}
out:
	free(tmp);
	free(path);
}

static int status_from(const char *name)
{
	for (int s = TEST_PENDING; s <= TEST_SKIPPED; s++)
		if (strcmp(test_status_name(s), name) == 0)
			return s;
	return -1;
}

static int state_from(const char *name)
{
	for (int s = LAB_PENDING; s <= LAB_ERROR; s++)
		if (strcmp(lab_state_name(s), name) == 0)
			return s;
	return -1;
}

/* Add a test read from a row to lab l. Returns 0, or -1 when the line is not one. */
static int row_test(struct lab_result *l, char **f, int nf)
{
	struct test_result *t;
	int status = nf == 6 ? status_from(f[2]) : -1;

	if (status < 0)
		return -1;
	l->tests = realloc(l->tests, (size_t)(l->ntests + 1) * sizeof(*l->tests));
	if (!l->tests)
		err_die("realloc:");
	t = &l->tests[l->ntests++];
	memset(t, 0, sizeof(*t));
	t->name = xstrdup(f[1]);
	t->status = status;
	t->points = atoi(f[3]);
	t->max_points = atoi(f[4]);
	t->hint = xstrdup(f[5]);
	t->message =
	    xstrdup(status == TEST_PASS ? "" : "(graded in an earlier run: see the report)");
	return 0;
}

/* Split line at tabs into at most max fields; returns how many. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	line[strcspn(line, "\n")] = '\0';
	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

/*
 * Read the student's row from an earlier run into s->g when its
 * fingerprint matches and its labs are this run's. Returns 1 when it did.
 */
static int read_row(const struct class_run *r, struct student *s)
{
	char *path = row_path(r, s), line[4096], *f[6], want[64];
	FILE *in = fopen(path, "r");
	int li = -1, ok = 0;

	free(path);
	if (!in)
		return 0;
	snprintf(want, sizeof(want), "%s %016llx\n", ROW_MAGIC, (unsigned long long)s->print);
	if (!fgets(line, sizeof(line), in) || strcmp(line, want) != 0)
		goto out;
	submission_init(&s->g, r->o->labs, r->o->nlabs, s->labs_dir);
	ok = 1;
	while (ok && fgets(line, sizeof(line), in)) {
		int nf = split(line, f, 6);

		if (strcmp(f[0], "lab") == 0 && nf == 4 && li + 1 < s->g.nlabs &&
		    strcmp(f[1], s->g.labs[li + 1].lab->id) == 0 && state_from(f[2]) >= 0) {
			s->g.labs[++li].state = state_from(f[2]);
			s->g.labs[li].build_ok = atoi(f[3]);
		} else {
			ok = li >= 0 && strcmp(f[0], "test") == 0 &&
			     row_test(&s->g.labs[li], f, nf) == 0;
		}
	}
	ok = ok && li == s->g.nlabs - 1;
	if (ok)
		grade_result_tally(&s->g);
	else
		grade_result_free(&s->g);
out:
	fclose(in);
	return ok;
}

/* ==== The gradebook and the reports ==== */

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* Open path's temporary twin for writing; *tmp gets its name. */
static FILE *open_tmp(const char *path, char **tmp)
{
	FILE *f;

	if (asprintf(tmp, "%s.tmp", path) < 0)
		err_die("asprintf:");
	f = fopen(*tmp, "w");
	if (!f)
		err_warn("cannot write %s:", *tmp);
	return f;
}

/* Close f and move it over path. Returns 0, or -1 (said why). */
static int close_tmp(FILE *f, char *tmp, const char *path)
{
	int r = 0;

	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		err_warn("cannot write %s:", path);
		unlink(tmp);
		r = -1;
	}
	free(tmp);
	return r;
}

/* The gradebook: a header, then one row a student that has a result, by name. */
static int write_gradebook(const struct class_run *r)
{
	char *tmp;
	FILE *f = open_tmp(r->o->book, &tmp);

	if (!f) {
		free(tmp);
		return -1;
	}
	fputs("student", f);
	for (int i = 0; i < r->o->nlabs; i++)
		fprintf(f, ",%s", r->o->labs[i]->id);
	fputs(",total\n", f);
	for (int i = 0; i < r->n; i++) {
		const struct student *s = &r->s[i];

		if (!s->done)
			continue;
		csv_field(f, s->name);
		for (int l = 0; l < s->g.nlabs; l++)
			fprintf(f, ",%d", s->g.labs[l].score);
		fprintf(f, ",%d\n", s->g.score);
	}
	return close_tmp(f, tmp, r->o->book);
}

/* A student's reports in every format, named after the student. */
static void student_reports(const struct class_run *r, const struct student *s)
{
	static const struct {
		const char *suffix;
		enum report_format fmt;
	} kinds[] = {{"txt", FMT_TEXT},
		     {"json", FMT_JSON},
		     {"tap", FMT_TAP},
		     {"junit.xml", FMT_JUNIT},
		     {"gradescope.json", FMT_GRADESCOPE}};
	char *path;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (asprintf(&path, "%s/%s.%s", r->reports, s->name, kinds[i].suffix) < 0)
			err_die("asprintf:");
		write_report_file(path, &s->g, kinds[i].fmt);
		free(path);
	}
}

/* ==== Grading, side by side ==== */

static void quiet(void *ctx, const struct grade_result *g, enum engine_event ev, int lab, int test)
{
	(void)ctx;
	(void)g;
	(void)ev;
	(void)lab;
	(void)test;
}

static void clock_text(char *buf, size_t size, double s)
{
	long t = (long)(s + 0.5);

	snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

/* One line on stderr a student finished: who, the score, and the time left. */
static void progress(struct class_run *r, const struct student *s)
{
	double elapsed = stopwatch_ms(&r->sw) / 1000,
	       rate = r->graded / (elapsed > 0 ? elapsed : 1);
	char spent[32], left[32];

	clock_text(spent, sizeof(spent), elapsed);
	clock_text(left, sizeof(left), rate > 0 ? (r->n - r->finished) / rate : 0);
	fprintf(stderr, "[%*d/%d] %-20s %4d/%-4d %-22s %s elapsed, about %s left\n",
		r->n >= 100  ? 3
		: r->n >= 10 ? 2
			     : 1,
		r->finished, r->n, s->name, s->g.score, s->g.max_score,
		s->checkout ? "(a checkout with labs/)" : "(a labs folder)", spent, left);
}

static void grade_student(struct class_run *r, struct student *s, int slot)
{
	struct engine_view view = {quiet, NULL};
	char *tag = submission_tag(s->labs_dir);
	struct engine_opts eo = {.tk = r->tk,
				 .tag = tag,
				 .jobs = 1,
				 .first_slot = slot,
				 .only_test = r->o->only_test,
				 .readonly = r->readonly};
	int broken;

	submission_init(&s->g, r->o->labs, r->o->nlabs, s->labs_dir);
	broken = engine_grade(&eo, &s->g, &view) < 0;
	grade_result_tally(&s->g);
	free(tag);
	student_reports(r, s);
	if (!broken)
		write_row(r, s); /* a broken toolkit's zeros are not kept */
	pthread_mutex_lock(&r->lock);
	s->done = 1;
	r->broken |= broken;
	r->finished++;
	r->graded++;
	write_gradebook(r);
	progress(r, s);
	pthread_mutex_unlock(&r->lock);
}

static void *grader_thread(void *arg)
{
	struct class_run *r = ((void **)arg)[0];
	int slot = (int)(long)((void **)arg)[1];

	for (;;) {
		int i = -1;

		pthread_mutex_lock(&r->lock);
		while (r->next < r->n && i < 0)
			if (!r->s[r->next++].done)
				i = r->next - 1;
		pthread_mutex_unlock(&r->lock);
		if (i < 0)
			return NULL;
		grade_student(r, &r->s[i], slot);
	}
}

/* Grade every student without a result, jobs at a time. */
static void grade_all(struct class_run *r)
{
	int jobs = r->o->jobs < 1 ? 1 : r->o->jobs > 16 ? 16 : r->o->jobs;
	pthread_t threads[16];
	void *args[16][2];
	int started = 0;

	sandbox_mode(); /* probe once, before the threads start */
	for (int i = 0; i < jobs; i++) {
		args[i][0] = r;
		args[i][1] = (void *)(long)i;
		if (jobs == 1 || pthread_create(&threads[i], NULL, grader_thread, args[i]) != 0)
			break;
		started++;
	}
	if (started == 0)
		grader_thread(args[0]);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/* ==== Finding the students ==== */

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct student *)a)->name, ((const struct student *)b)->name);
}

/* The sub-folders of o->dir, by name, into r. Returns 0, or -1 (said why). */
static int find_students(struct class_run *r)
{
	DIR *d = opendir(r->o->dir);
	struct dirent *e;

	if (!d) {
		fprintf(stderr, "ipcgrade: --class %s: %s\n", r->o->dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char *path;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "reports") == 0)
			continue;
		if (asprintf(&path, "%s/%s", r->o->dir, e->d_name) < 0)
			err_die("asprintf:");
		if (is_dir(path)) {
			struct student *s;

			r->s = realloc(r->s, (size_t)(r->n + 1) * sizeof(*r->s));
			if (!r->s)
				err_die("realloc:");
			s = memset(&r->s[r->n++], 0, sizeof(*s));
			s->name = xstrdup(e->d_name);
			s->labs_dir = labs_folder(path);
			s->checkout = s->labs_dir &&
				      strcmp(s->labs_dir + strlen(s->labs_dir) - 5, "/labs") == 0;
			if (!s->labs_dir)
				s->labs_dir = xstrdup(path);
		}
		free(path);
	}
	closedir(d);
	qsort(r->s, (size_t)r->n, sizeof(*r->s), by_name);
	return 0;
}

/* Read back the rows of students whose files have not changed since they were graded. */
static void resume(struct class_run *r)
{
	int resumed = 0;

	for (int i = 0; i < r->n; i++) {
		r->s[i].print = fingerprint(r, &r->s[i]);
		if (read_row(r, &r->s[i])) {
			r->s[i].done = r->s[i].resumed = 1;
			resumed++;
		}
	}
	r->finished = resumed;
	if (resumed)
		fprintf(stderr,
			"ipcgrade: resuming: %d of %d students were graded before and their files "
			"have not changed (%s/*.row); grading the other %d\n",
			resumed, r->n, r->reports, r->n - resumed);
}

/* ==== The summary: what the class did not understand ==== */

/* One test of one lab, across the class. */
struct tally {
	const char *lab;
	const char *test;
	const char *hint;
	int failed; /* students who attempted the lab and failed the test */
	int tried;  /* students who attempted the lab: it built and scored something */
};

static int by_score(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int by_failures(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	if (x->failed != y->failed)
		return y->failed - x->failed;
	return x->tried != y->tried ? y->tried - x->tried : strcmp(x->test, y->test);
}

/* Lab li's line: mean, median, range and the distribution of the scores. */
static void lab_line(const struct class_run *r, int li, FILE *text, FILE *csv)
{
	int *score = xcalloc((size_t)r->n + 1, sizeof(int)), n = 0, max = 0, full = 0, zero = 0;
	int bucket[5] = {0};
	double sum = 0, median = 0;

	for (int i = 0; i < r->n; i++) {
		const struct lab_result *l = &r->s[i].g.labs[li];

		if (!r->s[i].done)
			continue;
		score[n++] = l->score;
		max = l->max_score > max ? l->max_score : max;
		sum += l->score;
	}
	qsort(score, (size_t)n, sizeof(int), by_score);
	for (int i = 0; i < n; i++) {
		full += max > 0 && score[i] == max;
		zero += score[i] == 0;
		bucket[max > 0 ? (score[i] == max ? 4 : score[i] * 4 / max) : 0]++;
	}
	if (n > 0)
		median = n % 2 ? score[n / 2] : (score[n / 2 - 1] + score[n / 2]) / 2.0;
	fprintf(text, "%-20s %4d %7.1f %7.1f %5d %5d %5d %5d  %6d %6d %6d %6d %6d\n",
		r->o->labs[li]->id, max, n ? sum / n : 0, median, n ? score[0] : 0,
		n ? score[n - 1] : 0, full, zero, bucket[0], bucket[1], bucket[2], bucket[3],
		bucket[4]);
	if (csv)
		fprintf(csv, "%s,%d,%d,%.2f,%.1f,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", r->o->labs[li]->id,
			max, n, n ? sum / n : 0, median, n ? score[0] : 0, n ? score[n - 1] : 0,
			full, zero, bucket[0], bucket[1], bucket[2], bucket[3], bucket[4]);
	free(score);
}

/* Count, for every test of lab li, the students who attempted the lab and failed it. */
static int tally_lab(const struct class_run *r, int li, struct tally *t, int nt)
{
	for (int i = 0; i < r->n; i++) {
		const struct lab_result *l = &r->s[i].g.labs[li];

		if (!r->s[i].done || !l->build_ok || l->score == 0)
			continue;
		for (int k = 0; k < l->ntests; k++) {
			int j = 0;

			while (j < nt &&
			       (t[j].lab != l->lab->id || strcmp(t[j].test, l->tests[k].name)))
				j++;
			if (j == nt)
				t[nt++] = (struct tally){l->lab->id, l->tests[k].name,
							 l->tests[k].hint, 0, 0};
			t[j].tried++;
			t[j].failed += l->tests[k].status != TEST_PASS;
		}
	}
	return nt;
}

/* Print at most show of the most failed tests to text; write all to csv. */
static void failures(const struct class_run *r, FILE *text, FILE *csv, int show)
{
	int cap = 0, nt = 0;
	struct tally *t;

	for (int i = 0; i < r->n; i++)
		for (int l = 0; r->s[i].done && l < r->s[i].g.nlabs; l++)
			cap += r->s[i].g.labs[l].ntests;
	t = xcalloc((size_t)cap + 1, sizeof(*t));
	for (int li = 0; li < r->o->nlabs; li++)
		nt = tally_lab(r, li, t, nt);
	qsort(t, (size_t)nt, sizeof(*t), by_failures);
	fprintf(text, "\nTests failed most often, by the students who attempted the lab:\n");
	for (int j = 0; j < nt && j < show && t[j].failed > 0; j++) {
		const char *hint = t[j].hint ? t[j].hint : "";

		fprintf(text, "  %3d of %-3d %s %s\n", t[j].failed, t[j].tried, t[j].lab,
			t[j].test);
		if (*hint)
			fprintf(text, "             hint: %.*s\n", (int)strcspn(hint, "\n"), hint);
	}
	if (nt == 0 || t[0].failed == 0)
		fprintf(text, "  none\n");
	for (int j = 0; csv && j < nt; j++) {
		fprintf(csv, "%s,%s,%d,%d,", t[j].lab, t[j].test, t[j].failed, t[j].tried);
		csv_field(csv, t[j].hint ? t[j].hint : "");
		fputc('\n', csv);
	}
	free(t);
}

/* The class summary on text, and as summary.csv and failures.csv in folder. */
static void class_summary(const struct class_run *r, FILE *text, const char *folder)
{
	char *spath, *fpath, *stmp, *ftmp;
	FILE *scsv, *fcsv;

	if (asprintf(&spath, "%s/summary.csv", folder) < 0 ||
	    asprintf(&fpath, "%s/failures.csv", folder) < 0)
		err_die("asprintf:");
	scsv = open_tmp(spath, &stmp);
	fcsv = open_tmp(fpath, &ftmp);
	fprintf(text, "Class summary: %d students, %d labs\n", r->n, r->o->nlabs);
	fprintf(text, "%-20s %4s %7s %7s %5s %5s %5s %5s  %6s %6s %6s %6s %6s\n", "lab", "max",
		"mean", "median", "min", "max", "full", "zero", "0-24%", "25-49%", "50-74%",
		"75-99%", "100%");
	if (scsv)
		fputs("lab,max_points,students,mean,median,min,max,full,zero,"
		      "pct_0_24,pct_25_49,pct_50_74,pct_75_99,pct_100\n",
		      scsv);
	for (int li = 0; li < r->o->nlabs; li++)
		lab_line(r, li, text, scsv);
	if (fcsv)
		fputs("lab,test,failed,attempted,hint\n", fcsv);
	failures(r, text, fcsv, 10);
	if (scsv)
		close_tmp(scsv, stmp, spath);
	else
		free(stmp);
	if (fcsv)
		close_tmp(fcsv, ftmp, fpath);
	else
		free(ftmp);
	free(spath);
	free(fpath);
}

static int class_status(const struct class_run *r)
{
	if (r->broken)
		return 2;
	for (int i = 0; i < r->n; i++)
		if (r->s[i].g.score != r->s[i].g.max_score || r->s[i].g.max_score == 0)
			return 1;
	return 0;
}

int class_grade(const struct toolkit *tk, const struct class_opts *o)
{
	struct class_run r = {.tk = tk, .o = o, .lock = PTHREAD_MUTEX_INITIALIZER};
	char *copy = xstrdup(o->book);
	int status = 2;

	r.folder = xstrdup(dirname(copy));
	if (asprintf(&r.reports, "%s/reports", r.folder) < 0)
		err_die("asprintf:");
	if (!is_dir(r.folder)) {
		fprintf(stderr, "ipcgrade: -o %s: no folder %s\n", o->book, r.folder);
		goto out;
	}
	if (mkdir(r.reports, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "ipcgrade: cannot make %s: %s\n", r.reports, strerror(errno));
		goto out;
	}
	if (find_students(&r) < 0)
		goto out;
	r.readonly = protected_folders(tk, o->dir);
	resume(&r);
	stopwatch_start(&r.sw);
	grade_all(&r);
	if (write_gradebook(&r) < 0)
		goto out;
	class_summary(&r, stdout, r.folder);
	fprintf(stderr, "gradebook: %s; reports: %s/; summaries: %s/summary.csv, %s/failures.csv\n",
		o->book, r.reports, r.folder, r.folder);
	status = class_status(&r);
out:
	for (int i = 0; i < r.n; i++) {
		if (r.s[i].done)
			grade_result_free(&r.s[i].g);
		free(r.s[i].name);
		free(r.s[i].labs_dir);
	}
	free(r.s);
	free(r.reports);
	free(r.folder);
	free(copy);
	return status;
}
