/*
 * The grading engine (see engine.h). Workers take labs one at a time; each
 * lab is built, listed and run test by test, every test in a sandbox of its
 * own: a new process tree, fresh namespaces, and a deadline. The results of
 * a test come only through the runner's private pipe (runner.c); a test that
 * did not report passing has not passed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"
#include "engine.h"
#include "sandbox.h"

#define LIST_TIMEOUT 20
#define TEST_GRACE   6 /* seconds the sandbox waits beyond a test's own timeout */

static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;

struct work {
	const struct engine_opts *o;
	struct grade_result *g;
	const struct engine_view *v;
	int next;   /* the next lab to take */
	int failed; /* some lab could not be graded */
};

void engine_lock(void)
{
	pthread_mutex_lock(&model_lock);
}

void engine_unlock(void)
{
	pthread_mutex_unlock(&model_lock);
}

static void notify(struct work *w, enum engine_event ev, int lab, int test)
{
	if (w->v && w->v->changed)
		w->v->changed(w->v->ctx, w->g, ev, lab, test);
}

/* ==== Records from the runner ==== */

/* Undo the runner's escapes (\\, \t, \n) in place. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*d++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* Split a record line into at most n tab-separated fields. Returns how many. */
static int fields(char *line, char **f, int n)
{
	int k = 0;

	while (k < n && line) {
		f[k++] = line;
		line = strchr(line, '\t');
		if (line)
			*line++ = '\0';
	}
	return k;
}

static enum test_status status_from(const char *s)
{
	static const struct {
		const char *name;
		enum test_status st;
	} map[] = {{"pass", TEST_PASS},       {"fail", TEST_FAIL},   {"error", TEST_ERROR},
		   {"timeout", TEST_TIMEOUT}, {"crash", TEST_CRASH}, {"skipped", TEST_SKIPPED}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(s, map[i].name) == 0)
			return map[i].st;
	return TEST_ERROR;
}

/* Parse the list binary's "test" records into the lab's tests. Returns 0, or -1. */
static int parse_list(struct lab_result *l, char *text)
{
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *f[6];
		struct test_result *t;

		if (fields(line, f, 6) != 6 || strcmp(f[0], "test") != 0)
			return -1;
		l->tests = realloc(l->tests, (size_t)(l->ntests + 1) * sizeof(*l->tests));
		if (!l->tests)
			err_die("realloc:");
		t = &l->tests[l->ntests++];
		memset(t, 0, sizeof(*t));
		unescape(f[5]);
		t->name = xstrdup(f[1]);
		t->max_points = atoi(f[2]);
		t->timeout_s = atof(f[3]);
		t->runs = atoi(f[4]) > 1 ? atoi(f[4]) : 1;
		t->hint = xstrdup(f[5]);
		t->message = xstrdup("");
		t->output = xstrdup("");
	}
	return l->ntests > 0 ? 0 : -1;
}

/* ==== Running ==== */

static void set_text(char **field, const char *text)
{
	free(*field);
	*field = xstrdup(text);
}

/* What to say when the runner reported nothing. */
static void explain_silence(struct test_result *t, const struct sandbox_outcome *out)
{
	char why[256], st[64];

	if (out->error[0]) {
		t->status = TEST_ERROR;
		snprintf(why, sizeof(why), "%s", out->error);
	} else if (out->timed_out) {
		t->status = TEST_TIMEOUT;
		snprintf(why, sizeof(why),
			 "The test did not finish within %g seconds and was stopped: an endless "
			 "loop, a deadlock, or a read that never sees end of file?",
			 t->timeout_s + TEST_GRACE);
	} else if (out->exited && WIFSIGNALED(out->status)) {
		t->status = TEST_CRASH;
		proc_status_text(out->status, st, sizeof(st));
		snprintf(why, sizeof(why),
			 "The test program was %s before it could report (memory or process "
			 "limit reached?).",
			 st);
	} else {
		t->status = TEST_ERROR;
		proc_status_text(out->status, st, sizeof(st));
		snprintf(why, sizeof(why), "The test program %s without reporting a result.", st);
	}
	set_text(&t->message, why);
}

/* Fill in t from what the sandboxed runner sent and did. */
static void record_result(struct test_result *t, struct sandbox_outcome *out)
{
	char *f[4] = {NULL}, *x[3] = {NULL};
	int records = 0, trusted = 1;

	for (char *line = out->results ? strtok(out->results, "\n") : NULL; line;
	     line = strtok(NULL, "\n")) {
		records++;
		if (records == 1 && fields(line, f, 4) == 4 && strcmp(f[0], "result") == 0 &&
		    strcmp(f[1], t->name) == 0)
			continue;
		/* The result may be followed by one X-ray of the same test. */
		if (records == 2 && fields(line, x, 3) == 3 && strcmp(x[0], "xray") == 0 &&
		    strcmp(x[1], t->name) == 0)
			continue;
		trusted = 0; /* anything else is not trusted */
	}
	free(t->xray);
	t->xray = NULL;
	if (records == 0 || !trusted) {
		explain_silence(t, out);
		return;
	}
	unescape(f[3]);
	t->status = status_from(f[2]);
	set_text(&t->message, t->status == TEST_PASS ? "" : f[3]);
	if (x[0] && t->status != TEST_PASS) {
		unescape(x[2]);
		t->xray = xstrdup(x[2]);
	}
	if (t->status == TEST_PASS &&
	    !(out->exited && WIFEXITED(out->status) && WEXITSTATUS(out->status) == 0)) {
		t->status = TEST_ERROR;
		set_text(&t->message,
			 "The test reported passing but its program did not end cleanly.");
	}
	t->points = t->status == TEST_PASS ? t->max_points : 0;
}

/* ==== The sanitizer's second opinion ==== */

static const char *const sanitizer_marks[] = {
    "WARNING: ThreadSanitizer:",
    "ERROR: AddressSanitizer:",
    "runtime error:",
    NULL,
};

/* The report's first line, or NULL when the output holds none. */
static const char *find_report(const char *output)
{
	for (int i = 0; sanitizer_marks[i]; i++) {
		const char *p = strstr(output, sanitizer_marks[i]);

		if (p) {
			while (p > output && p[-1] != '\n')
				p--;
			return p;
		}
	}
	return NULL;
}

/*
 * Turn a sanitizer's report into a failure message: its first line, then the
 * stack frames in the student's files, with the build folder cut from paths.
 */
static char *report_message(const char *report)
{
	char *msg = NULL, *copy = xstrdup(report), *line;
	size_t len = 0;
	int frames = 0;
	FILE *f = open_memstream(&msg, &len);

	fprintf(f, "The sanitizer found a bug that this run happened to survive:\n");
	for (line = strtok(copy, "\n"); line && frames < 12; line = strtok(NULL, "\n")) {
		char *src = strstr(line, "/src/");

		if (line == copy || strstr(line, "SUMMARY:")) {
			fprintf(f, "%s\n", line + strspn(line, "= "));
		} else if (src && strstr(line, "#")) {
			const char *frame = line + strspn(line, " ");

			fprintf(f, "  %.*s%s\n", (int)strcspn(frame, "/"), frame, src + 5);
			frames++;
		} else if (strstr(line, " of size ") || strstr(line, "Location is")) {
			fprintf(f, "%s\n", line + strspn(line, " "));
		}
	}
	fclose(f);
	free(copy);
	return msg;
}

/* Run a passing test again under the sanitizer; fail it if a report comes out. */
static void second_opinion(struct work *w, struct test_result *t, const char *binary, int slot)
{
	char *san, data[64] = "IPCLAB_SANITIZER=1", seedvar[32];
	char *argv[] = {NULL, "--run", t->name, NULL};
	char *envp[] = {"PATH=/usr/bin:/bin",
			"LANG=C",
			"HOME=/tmp",
			"IPCLAB_RESULT_FD=3",
			"CK_TIMEOUT_MULTIPLIER=4",
			data,
			"TSAN_OPTIONS=halt_on_error=1 exitcode=66 report_signal_unsafe=0",
			"ASAN_OPTIONS=detect_leaks=0 exitcode=66 abort_on_error=0",
			"UBSAN_OPTIONS=print_stacktrace=1 halt_on_error=1",
			seedvar,
			NULL};
	struct sandbox_opts so = {.argv = argv,
				  .envp = envp,
				  .isolate = 1,
				  .results = 1,
				  .timeout_s = 4 * t->timeout_s + TEST_GRACE,
				  .slot = slot,
				  .output_cap = 65536,
				  .mem_mb = -1,
				  .readonly = w->o->readonly};
	struct sandbox_outcome out;
	const char *report;

	snprintf(seedvar, sizeof(seedvar), "IPCLAB_SEED=%u", t->seed);
	if (asprintf(&san, "%s-san", binary) < 0)
		err_die("asprintf:");
	argv[0] = san;
	if (access(san, X_OK) == 0 && sandbox_run(&so, &out) == 0) {
		report = find_report(out.output);
		engine_lock();
		if (report) {
			t->status = TEST_FAIL;
			t->points = 0;
			free(t->message);
			t->message = report_message(report);
			free(t->output);
			t->output = out.output;
			out.output = NULL;
		}
		engine_unlock();
		sandbox_outcome_free(&out);
	}
	free(san);
}

/* Run test ti of lab li once, with seed, into its result. */
static void run_once(struct work *w, int li, int ti, const char *binary, int slot, unsigned seed)
{
	struct lab_result *l = &w->g->labs[li];
	struct test_result *t = &l->tests[ti];
	char data[4200], seedvar[32], *name = t->name;
	char *argv[] = {(char *)binary, "--run", name, NULL};
	/* Under the memory limit, glibc's 64 MiB arena a thread would stop the 16th thread. */
	char *envp[] = {"PATH=/usr/bin:/bin", "LANG=C", "HOME=/tmp", "IPCLAB_RESULT_FD=3",
			"MALLOC_ARENA_MAX=2", data,     seedvar,     NULL};
	struct sandbox_opts so = {.argv = argv,
				  .envp = envp,
				  .isolate = 1,
				  .results = 1,
				  .timeout_s = t->timeout_s + TEST_GRACE,
				  .slot = slot,
				  .output_cap = 65536,
				  .readonly = w->o->readonly};
	struct sandbox_outcome out;

	snprintf(data, sizeof(data), "IPCLAB_DATA=%s/labs/%s", w->o->tk->root, l->lab->id);
	snprintf(seedvar, sizeof(seedvar), "IPCLAB_SEED=%u", seed);
	sandbox_run(&so, &out);
	engine_lock();
	t->seed = seed;
	record_result(t, &out);
	free(t->output);
	t->output = out.output;
	out.output = NULL;
	t->output_total = out.output_total;
	t->duration_ms = out.duration_ms;
	engine_unlock();
	sandbox_outcome_free(&out);
}

/* The seed of run r of a test: the run's seed, then the next ones (never 0). */
static unsigned run_seed(const struct grade_result *g, int r)
{
	unsigned seed = g->seed + (unsigned)r;

	return seed ? seed : 1;
}

/*
 * Run test ti of lab li: as many times as it asks (each with its own seed,
 * stopping at the first failure, whose seed stays in the result), then once
 * more under the sanitizer when it passed.
 */
static void run_test(struct work *w, int li, int ti, const char *binary, int slot)
{
	struct test_result *t = &w->g->labs[li].tests[ti];

	engine_lock();
	t->status = TEST_RUNNING;
	notify(w, EV_TEST_START, li, ti);
	engine_unlock();
	for (int r = 0; r < t->runs && (r == 0 || t->status == TEST_PASS); r++)
		run_once(w, li, ti, binary, slot, run_seed(w->g, r));
	if (t->status == TEST_PASS && !getenv("IPCLAB_NO_SECOND_OPINION"))
		second_opinion(w, t, binary, slot);
	engine_lock();
	grade_result_tally(w->g);
	notify(w, EV_TEST_DONE, li, ti);
	engine_unlock();
}

/* Ask the toolkit's list binary for the lab's tests. Returns 0, or -1 with l->error set. */
static int list_tests(struct work *w, struct lab_result *l)
{
	char *bin = build_list_binary(w->o->tk, l->lab);
	char *argv[] = {bin, "--list", NULL};
	char *envp[] = {"PATH=/usr/bin:/bin", "LANG=C", "IPCLAB_RESULT_FD=3", NULL};
	struct sandbox_opts so = {.argv = argv,
				  .envp = envp,
				  .results = 1,
				  .timeout_s = LIST_TIMEOUT,
				  .output_cap = 4096};
	struct sandbox_outcome out;
	int r = -1;

	if (sandbox_run(&so, &out) == 0 && out.results) {
		engine_lock();
		r = parse_list(l, out.results);
		engine_unlock();
	}
	if (r < 0 && !l->error)
		asprintf(&l->error, "the toolkit's test list for %s could not be read (%s%s)",
			 l->lab->id, out.error, out.output ? out.output : "");
	sandbox_outcome_free(&out);
	free(bin);
	return r;
}

static void set_state(struct work *w, int li, enum lab_state s)
{
	engine_lock();
	w->g->labs[li].state = s;
	grade_result_tally(w->g);
	notify(w, EV_LAB_STATE, li, -1);
	engine_unlock();
}

/* Mark every test not run, with why. */
static void skip_all(struct lab_result *l, const char *why)
{
	for (int i = 0; i < l->ntests; i++) {
		l->tests[i].status = TEST_SKIPPED;
		set_text(&l->tests[i].message, why);
	}
}

static void grade_lab(struct work *w, int li, int slot)
{
	struct lab_result *l = &w->g->labs[li];
	char *binary = NULL, *log = NULL;
	struct stat st;
	enum build_status bs;

	set_state(w, li, LAB_BUILDING);
	if (stat(l->source_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		engine_lock();
		asprintf(&l->error, "no folder %s in the submission", l->source_dir);
		engine_unlock();
	}
	bs = build_lab(w->o->tk, l->lab, l->source_dir, w->o->tag, &binary, &log);
	engine_lock();
	/* A lab whose dependency is missing (Open MPI) is not graded: its tests are skipped, with why. */
	if (bs == BUILD_SKIPPED && !l->error)
		l->error = xstrdup(log);
	l->build_log = log;
	l->build_ok = bs == BUILD_OK && !l->error;
	if (bs == BUILD_BROKEN && !l->error)
		asprintf(&l->error, "the toolkit could not build its tests for %s", l->lab->id);
	engine_unlock();
	if (bs != BUILD_BROKEN && list_tests(w, l) == 0 && !l->error && bs == BUILD_OK) {
		set_state(w, li, LAB_RUNNING);
		for (int i = 0; i < l->ntests; i++)
			if (!w->o->only_test || strcmp(l->tests[i].name, w->o->only_test) == 0)
				run_test(w, li, i, binary, slot);
			else
				l->tests[i].status = TEST_SKIPPED;
		set_state(w, li, LAB_DONE);
	} else {
		engine_lock();
		skip_all(l, l->error ? l->error : "Not run: the code did not compile.");
		w->failed |= bs == BUILD_BROKEN;
		engine_unlock();
		set_state(w, li, l->error ? LAB_ERROR : LAB_BUILD_ERROR);
	}
	free(binary);
}

static void *worker(void *arg)
{
	struct work *w = ((void **)arg)[0];
	int slot = (int)(long)((void **)arg)[1];

	for (;;) {
		int li;

		engine_lock();
		li = w->next < w->g->nlabs ? w->next++ : -1;
		engine_unlock();
		if (li < 0)
			return NULL;
		grade_lab(w, li, slot);
	}
}

/* A seed for a run: different every run, small enough to type. Can't fail. */
static unsigned pick_seed(void)
{
	unsigned seed = 0;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (unsigned)clock_now_ns() ^ (unsigned)getpid();
	return seed % 100000 + 1;
}

int engine_grade(const struct engine_opts *o, struct grade_result *g, const struct engine_view *v)
{
	struct work w = {.o = o, .g = g, .v = v};
	int jobs = o->jobs < 1 ? 1 : o->jobs > 16 ? 16 : o->jobs;
	pthread_t threads[16];
	void *args[16][2];
	int started = 0;

	sandbox_mode(); /* probe once, before the workers start */
	g->seed = o->seed ? o->seed : g->seed ? g->seed : pick_seed();
	for (int i = 0; i < jobs; i++) {
		args[i][0] = &w;
		args[i][1] = (void *)(long)(o->first_slot + i);
		if (jobs == 1 || pthread_create(&threads[i], NULL, worker, args[i]) != 0)
			break;
		started++;
	}
	if (started == 0)
		worker(args[0]);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	return w.failed ? -1 : 0;
}
