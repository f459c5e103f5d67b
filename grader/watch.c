/*
 * Watch mode and re-grading (see watch.h). One inotify descriptor watches
 * every lab folder of the submission; an event on a .c or .h file pushes
 * that lab's deadline WATCH_SETTLE_MS into the future, and the lab is
 * handed out once its deadline has passed: a save that writes, renames and
 * touches several files counts once.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "ipclab.h"
#include "report.h"
#include "watch.h"

/* What a save can look like: a write, an editor's rename, a delete, a touch. */
#define WATCH_EVENTS                                                                               \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB)

struct watch {
	int fd;         /* the inotify descriptor */
	int nlabs;      /* labs of the model */
	int *wd;        /* wd[i]: the watch on lab i's folder, or -1 */
	long long *due; /* due[i]: when lab i's change settles (ms), or 0 */
};

/* Re-grading one lab: the engine sees a model of one lab; the view sees all of g. */
struct regrade_view {
	const struct engine_view *inner; /* the caller's view, or NULL */
	struct grade_result *g;          /* the whole model */
	int offset;                      /* index in g of the engine's lab 0 */
};

/* ==== Time and names ==== */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True for the files a lab is made of: .c and .h. */
static int is_source(const char *name)
{
	size_t n = strlen(name);

	return n > 2 && name[n - 2] == '.' && (name[n - 1] == 'c' || name[n - 1] == 'h');
}

/* ==== Watching ==== */

struct watch *watch_open(const struct grade_result *g)
{
	struct watch *w = xcalloc(1, sizeof(*w));

	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		free(w);
		return NULL;
	}
	w->nlabs = g->nlabs;
	w->wd = xcalloc((size_t)(g->nlabs ? g->nlabs : 1), sizeof(*w->wd));
	w->due = xcalloc((size_t)(g->nlabs ? g->nlabs : 1), sizeof(*w->due));
	for (int i = 0; i < g->nlabs; i++)
		w->wd[i] =
		    inotify_add_watch(w->fd, g->labs[i].source_dir, WATCH_EVENTS | IN_ONLYDIR);
	return w;
}

void watch_close(struct watch *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w->wd);
	free(w->due);
	free(w);
}

int watch_fd(const struct watch *w)
{
	return w->fd;
}

/* Note one event: a lab file changed, or a lab folder went away. */
static int note_event(struct watch *w, const struct inotify_event *e)
{
	for (int i = 0; i < w->nlabs; i++) {
		if (w->wd[i] != e->wd)
			continue;
		if (e->mask & IN_IGNORED)
			w->wd[i] = -1;
		if (e->len == 0 || !is_source(e->name))
			return 0;
		w->due[i] = now_ms() + WATCH_SETTLE_MS;
		return 1;
	}
	return 0;
}

int watch_read(struct watch *w)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	int changes = 0;

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? changes : -1;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;

			changes += note_event(w, e);
			p += sizeof(*e) + e->len;
		}
	}
}

int watch_timeout(const struct watch *w)
{
	long long now = now_ms(), soonest = -1;

	for (int i = 0; i < w->nlabs; i++)
		if (w->due[i] && (soonest < 0 || w->due[i] < soonest))
			soonest = w->due[i];
	if (soonest < 0)
		return -1;
	return soonest <= now ? 0 : (int)(soonest - now);
}

int watch_next(struct watch *w)
{
	long long now = now_ms();

	for (int i = 0; i < w->nlabs; i++)
		if (w->due[i] && w->due[i] <= now) {
			w->due[i] = 0;
			return i;
		}
	return -1;
}

/* ==== Re-grading ==== */

/* Forget what grading lab l found, as if it had never run. */
static void lab_reset(struct lab_result *l)
{
	for (int j = 0; j < l->ntests; j++) {
		free(l->tests[j].name);
		free(l->tests[j].message);
		free(l->tests[j].hint);
		free(l->tests[j].output);
		free(l->tests[j].xray);
	}
	free(l->tests);
	free(l->build_log);
	free(l->error);
	l->tests = NULL;
	l->build_log = l->error = NULL;
	l->ntests = l->build_ok = l->score = l->max_score = 0;
	l->state = LAB_PENDING;
}

/* The engine's view of a part of the model, passed on as a change of the whole. */
static void regrade_changed(void *ctx, const struct grade_result *part, enum engine_event ev,
			    int lab, int test)
{
	struct regrade_view *r = ctx;

	(void)part;
	grade_result_tally(r->g);
	if (r->inner && r->inner->changed)
		r->inner->changed(r->inner->ctx, r->g, ev, lab + r->offset, test);
}

int watch_regrade(const struct engine_opts *eo, struct grade_result *g, int lab,
		  const struct engine_view *v)
{
	struct grade_result part = *g;
	struct regrade_view rv = {v, g, lab < 0 ? 0 : lab};
	struct engine_view view = {regrade_changed, &rv};

	engine_lock();
	for (int i = 0; i < g->nlabs; i++)
		if (lab < 0 || i == lab)
			lab_reset(&g->labs[i]);
	grade_result_tally(g);
	if (v && v->changed)
		v->changed(v->ctx, g, EV_LAB_STATE, lab < 0 ? 0 : lab, -1);
	engine_unlock();
	if (lab >= 0) {
		part.labs = &g->labs[lab];
		part.nlabs = 1;
	}
	return engine_grade(eo, &part, &view);
}

/* ==== Text mode ==== */

/* Wait for the next lab whose change has settled. Returns its index, or -1 on an error. */
static int wait_change(struct watch *w)
{
	for (;;) {
		struct pollfd p = {.fd = watch_fd(w), .events = POLLIN};
		int lab = watch_next(w);

		if (lab >= 0)
			return lab;
		if (poll(&p, 1, watch_timeout(w)) < 0 && errno != EINTR)
			return -1;
		if ((p.revents & POLLIN) && watch_read(w) < 0)
			return -1;
	}
}

int watch_text(const struct engine_opts *eo, struct grade_result *g, FILE *f, int color)
{
	struct watch *w = watch_open(g);
	int lab;

	if (!w) {
		err_warn("--watch: inotify is not available:");
		return -1;
	}
	fprintf(f, "\nWatching %s for changes to .c and .h files (Ctrl-C stops).\n", g->submission);
	fflush(f);
	while ((lab = wait_change(w)) >= 0) {
		time_t now = time(NULL);
		char when[16];

		strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
		fprintf(f, "\n==== %s: %s changed, grading it again\n", when, g->labs[lab].lab->id);
		fflush(f);
		watch_regrade(eo, g, lab, NULL);
		report_text_lab(f, g, lab, color);
		report_text_summary(f, g, color);
		fflush(f);
	}
	err_warn("--watch: cannot read changes:");
	watch_close(w);
	return -1;
}
