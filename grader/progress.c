/*
 * A student's progress (see progress.h). The file, one record a line,
 * fields separated by tabs:
 *
 *	lab	04-pipes	BEST	MAX	LAST	LAST-RUN (seconds since 1970)
 *	hint	04-pipes	test_pc_eof	LEVEL
 *
 * Lines it does not understand are dropped: the file is the grader's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipclab.h"
#include "progress.h"

static struct progress_lab *find_lab(const struct progress *p, const char *id)
{
	for (int i = 0; i < p->nlabs; i++)
		if (strcmp(p->labs[i].id, id) == 0)
			return &p->labs[i];
	return NULL;
}

static struct progress_lab *add_lab(struct progress *p, const char *id)
{
	struct progress_lab *l;

	p->labs = realloc(p->labs, (size_t)(p->nlabs + 1) * sizeof(*p->labs));
	if (!p->labs)
		err_die("realloc:");
	l = memset(&p->labs[p->nlabs++], 0, sizeof(*l));
	l->id = xstrdup(id);
	return l;
}

static struct progress_hint *find_hint(const struct progress *p, const char *lab, const char *test)
{
	for (int i = 0; i < p->nhints; i++)
		if (strcmp(p->hints[i].lab, lab) == 0 && strcmp(p->hints[i].test, test) == 0)
			return &p->hints[i];
	return NULL;
}

/* Split line at tabs into at most max fields; returns how many. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line)
			break;
		*line++ = '\0';
	}
	return n;
}

static void read_line(struct progress *p, char *line)
{
	char *f[6];
	int n = split(line, f, 6);

	if (n == 6 && strcmp(f[0], "lab") == 0 && !find_lab(p, f[1])) {
		struct progress_lab *l = add_lab(p, f[1]);

		l->best = atoi(f[2]);
		l->max = atoi(f[3]);
		l->last = atoi(f[4]);
		l->last_run = (time_t)atoll(f[5]);
	} else if (n == 4 && strcmp(f[0], "hint") == 0) {
		progress_set_hint_level(p, f[1], f[2], atoi(f[3]));
	}
}

void progress_load(struct progress *p, const char *labs_dir)
{
	char line[1024];
	FILE *f;

	memset(p, 0, sizeof(*p));
	if (asprintf(&p->path, "%s/%s", labs_dir, PROGRESS_FILE) < 0)
		err_die("asprintf:");
	f = fopen(p->path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		read_line(p, line);
	fclose(f);
}

int progress_save(const struct progress *p)
{
	char *tmp;
	FILE *f;
	int r = 0;

	if (asprintf(&tmp, "%s.tmp", p->path) < 0)
		err_die("asprintf:");
	f = fopen(tmp, "w");
	if (!f) {
		free(tmp);
		return -1;
	}
	fprintf(f, "# IPC Labs: your progress, kept by ipcgrade (delete it to start afresh)\n");
	for (int i = 0; i < p->nlabs; i++)
		fprintf(f, "lab\t%s\t%d\t%d\t%d\t%lld\n", p->labs[i].id, p->labs[i].best,
			p->labs[i].max, p->labs[i].last, (long long)p->labs[i].last_run);
	for (int i = 0; i < p->nhints; i++)
		if (p->hints[i].level > 0)
			fprintf(f, "hint\t%s\t%s\t%d\n", p->hints[i].lab, p->hints[i].test,
				p->hints[i].level);
	if (fclose(f) != 0 || rename(tmp, p->path) < 0) {
		int e = errno;

		unlink(tmp);
		errno = e;
		r = -1;
	}
	free(tmp);
	return r;
}

void progress_free(struct progress *p)
{
	for (int i = 0; i < p->nlabs; i++)
		free(p->labs[i].id);
	for (int i = 0; i < p->nhints; i++) {
		free(p->hints[i].lab);
		free(p->hints[i].test);
	}
	free(p->labs);
	free(p->hints);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

const struct progress_lab *progress_lab(const struct progress *p, const char *id)
{
	return find_lab(p, id);
}

/* True when every test of the lab has a result of its own (not a --test run, not cut short). */
static int graded_whole(const struct lab_result *l)
{
	if (l->state == LAB_BUILD_ERROR)
		return 1;
	if (l->state != LAB_DONE || l->ntests == 0)
		return 0;
	for (int i = 0; i < l->ntests; i++)
		if (l->tests[i].status == TEST_SKIPPED || l->tests[i].status == TEST_PENDING ||
		    l->tests[i].status == TEST_RUNNING)
			return 0;
	return 1;
}

void progress_update(struct progress *p, const struct grade_result *g)
{
	time_t now = time(NULL);

	for (int i = 0; i < g->nlabs; i++) {
		const struct lab_result *r = &g->labs[i];
		struct progress_lab *l;

		if (!graded_whole(r) || r->max_score <= 0)
			continue;
		l = find_lab(p, r->lab->id);
		if (!l)
			l = add_lab(p, r->lab->id);
		if (l->max != r->max_score) /* the suite changed: its old best no longer counts */
			l->best = 0;
		l->max = r->max_score;
		l->last = r->score;
		l->best = r->score > l->best ? r->score : l->best;
		l->last_run = now;
	}
}

int progress_passed(const struct progress *p, const char *id)
{
	const struct progress_lab *l = find_lab(p, id);

	return l && l->max > 0 && l->best == l->max;
}

int progress_hint_level(const struct progress *p, const char *lab, const char *test)
{
	const struct progress_hint *h = find_hint(p, lab, test);

	return h ? h->level : 0;
}

void progress_set_hint_level(struct progress *p, const char *lab, const char *test, int level)
{
	struct progress_hint *h = find_hint(p, lab, test);

	if (!h) {
		p->hints = realloc(p->hints, (size_t)(p->nhints + 1) * sizeof(*p->hints));
		if (!p->hints)
			err_die("realloc:");
		h = &p->hints[p->nhints++];
		h->lab = xstrdup(lab);
		h->test = xstrdup(test);
	}
	h->level = level < 0 ? 0 : level;
}

const struct lab *progress_next(const struct progress *p, const struct catalogue *c)
{
	for (int i = 0; i < c->n; i++)
		if (!progress_passed(p, c->labs[i].id))
			return &c->labs[i];
	return NULL;
}

/* "3 days ago", "12 min ago", "never": when a lab was last graded. */
static void ago(time_t when, char *buf, size_t size)
{
	long s = (long)(time(NULL) - when);

	if (!when)
		snprintf(buf, size, "never");
	else if (s < 90)
		snprintf(buf, size, "just now");
	else if (s < 90 * 60)
		snprintf(buf, size, "%ld min ago", s / 60);
	else if (s < 36 * 3600)
		snprintf(buf, size, "%ld h ago", s / 3600);
	else
		snprintf(buf, size, "%ld days ago", s / 86400);
}

void progress_print(const struct progress *p, const struct catalogue *c, FILE *f)
{
	const struct lab *next = progress_next(p, c);
	int done = 0;

	fprintf(f, "%-20s %-9s %-9s %s\n", "lab", "best", "last", "graded");
	for (int i = 0; i < c->n; i++) {
		const struct progress_lab *l = find_lab(p, c->labs[i].id);
		char best[24] = "-", last[24] = "-", when[40];

		if (l && l->max > 0) {
			snprintf(best, sizeof(best), "%d/%d", l->best, l->max);
			snprintf(last, sizeof(last), "%d/%d", l->last, l->max);
		}
		ago(l ? l->last_run : 0, when, sizeof(when));
		done += progress_passed(p, c->labs[i].id);
		fprintf(f, "%-20s %-9s %-9s %-13s %s\n", c->labs[i].id, best, last, when,
			progress_passed(p, c->labs[i].id) ? "passed"
			: &c->labs[i] == next             ? "<- next"
							  : "");
	}
	fprintf(f, "\n%d of %d labs passed.", done, c->n);
	if (next)
		fprintf(f,
			" Next: lab %s, %s.\n  Read its chapter in course.md, edit "
			"labs/%s/, then: build/ipcgrade %.2s\n",
			next->id, next->title, next->id, next->id);
	else
		fprintf(f, " Every lab passed: well done.\n");
}
