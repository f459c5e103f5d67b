/*
 * ipcgrade: the IPC Labs grader. It builds a submission's labs with the
 * hidden suites, runs every test in a sandbox and reports what passed, what
 * failed and why. See DESIGN.md, "The grader", for the contract below.
 *
 * Exit status: 0 all tests passed; 1 some failed; 2 the grader could not run.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipclab.h"
#include "catalogue.h"
#include "class.h"
#include "engine.h"
#include "report.h"
#include "progress.h"
#include "sandbox.h"
#include "submission.h"
#include "tui.h"
#include "watch.h"

struct options {
	const char *submission; /* -s */
	int format;             /* -f, or -1 for the default */
	const char *output;     /* -o */
	const char *class_dir;  /* --class */
	int jobs;               /* -j */
	const char *tests;      /* --tests */
	const char *only_test;  /* --test */
	int list;               /* --list */
	int status;             /* --status */
	const char *reset;      /* --reset LAB */
	unsigned seed;          /* --seed */
	int watch;              /* --watch */
	char **labs;            /* LAB... */
	int nlabs;
};

struct stream {
	FILE *f;      /* where lab blocks go as they finish */
	int color;    /* ANSI colours on */
	int next;     /* the next lab to print, in catalogue order */
	int progress; /* a progress line on stderr */
};

static const char usage_text[] =
    "usage: ipcgrade [OPTIONS] [LAB...]\n"
    "Grade IPC Labs: LAB is 4, 04 or 04-pipes; none means every lab.\n"
    "  -s, --submission DIR  a folder shaped like labs/ (or a checkout holding labs/); default "
    "labs/\n"
    "  -f, --format FMT      tui | text | tap | json | junit | gradescope\n"
    "                        (default: tui on a terminal, text otherwise)\n"
    "  -o, --output FILE     write the report to FILE instead of stdout\n"
    "      --class DIR       grade every sub-folder of DIR; write a gradebook CSV\n"
    "  -j, --jobs N          grade up to N labs at once (with --class: N students)\n"
    "      --tests DIR       hidden suites from DIR instead of grader/suites\n"
    "      --test NAME       run only the test NAME\n"
    "      --seed N          the seed of tests that use randomness (a failure prints it)\n"
    "      --status          your progress: each lab's best and last score, and what is next\n"
    "      --reset LAB       put LAB's skeleton back (your file is kept as a backup)\n"
    "      --watch           re-grade a lab when its files change\n"
    "      --list            print the lab catalogue\n"
    "  -h, --help            show this help\n"
    "Exit status: 0 all tests passed, 1 some failed, 2 the grader could not run.\n";

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ipcgrade: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'ipcgrade --help'.\n");
	exit(2);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {{"submission", required_argument, NULL, 's'},
					      {"format", required_argument, NULL, 'f'},
					      {"output", required_argument, NULL, 'o'},
					      {"class", required_argument, NULL, 'C'},
					      {"jobs", required_argument, NULL, 'j'},
					      {"tests", required_argument, NULL, 'T'},
					      {"test", required_argument, NULL, 't'},
					      {"watch", no_argument, NULL, 'w'},
					      {"list", no_argument, NULL, 'l'},
					      {"status", no_argument, NULL, 'S'},
					      {"reset", required_argument, NULL, 'R'},
					      {"seed", required_argument, NULL, 'D'},
					      {"help", no_argument, NULL, 'h'},
					      {NULL, 0, NULL, 0}};
	int c;
	char *end;
	unsigned long seed;

	memset(o, 0, sizeof(*o));
	o->format = -1;
	o->jobs = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:f:o:j:h", longs, NULL)) != -1) {
		switch (c) {
		case 's':
			o->submission = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'C':
			o->class_dir = optarg;
			break;
		case 'T':
			o->tests = optarg;
			break;
		case 't':
			o->only_test = optarg;
			break;
		case 'w':
			o->watch = 1;
			break;
		case 'l':
			o->list = 1;
			break;
		case 'S':
			o->status = 1;
			break;
		case 'R':
			o->reset = optarg;
			break;
		case 'D':
			errno = 0;
			seed = strtoul(optarg, &end, 10);
			if (*end || !*optarg || errno || seed == 0 || seed > UINT_MAX)
				usage_error("--seed wants a number from 1 to 4294967295, not '%s'",
					    optarg);
			o->seed = (unsigned)seed;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case 'f':
			o->format = report_format_from(optarg);
			if (o->format < 0)
				usage_error(
				    "unknown format '%s' (tui, text, tap, json, junit, gradescope)",
				    optarg);
			break;
		case 'j':
			o->jobs = (int)strtol(optarg, &end, 10);
			if (*end || o->jobs < 1 || o->jobs > 16)
				usage_error("-j wants a number from 1 to 16, not '%s'", optarg);
			break;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
			break;
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
			break;
		}
	}
	o->labs = argv + optind;
	o->nlabs = argc - optind;
}

/* ==== The toolkit and the submission ==== */

/* The toolkit is the folder above build/ipcgrade, unless IPCLAB_ROOT says otherwise. */
static void find_toolkit(struct toolkit *tk, const char *tests)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *env = getenv("IPCLAB_ROOT");

	if (env) {
		tk->root = realpath(env, NULL);
	} else if (n > 0) {
		exe[n] = '\0';
		tk->root = xstrdup(dirname(dirname(exe)));
	}
	if (!tk->root || !is_dir(tk->root)) {
		fprintf(stderr, "ipcgrade: cannot find the toolkit's folder (set IPCLAB_ROOT)\n");
		exit(2);
	}
	if (asprintf(&tk->build, "%s/build", tk->root) < 0)
		err_die("asprintf:");
	tk->suites = tests ? realpath(tests, NULL) : NULL;
	if (tests && !tk->suites) {
		fprintf(stderr, "ipcgrade: --tests %s: %s\n", tests, strerror(errno));
		exit(2);
	}
	if (!tk->suites && asprintf(&tk->suites, "%s/grader/suites", tk->root) < 0)
		err_die("asprintf:");
	tk->cc = xstrdup(getenv("CC") && *getenv("CC") ? getenv("CC") : "cc");
	char *lib;
	if (asprintf(&lib, "%s/libipclab.a", tk->build) < 0)
		err_die("asprintf:");
	if (access(lib, R_OK) < 0) {
		fprintf(stderr, "ipcgrade: missing toolkit file %s: run 'make' first\n", lib);
		exit(2);
	}
	free(lib);
}

/* The labs o names (all of the catalogue when none), in *n. Exits 2 on a bad name. */
static const struct lab **select_labs(const struct catalogue *c, const struct options *o, int *n)
{
	int want = o->nlabs ? o->nlabs : c->n;
	const struct lab **labs = xcalloc((size_t)want + 1, sizeof(*labs));

	*n = 0;
	for (int i = 0; i < want; i++) {
		const struct lab *lab = o->nlabs ? catalogue_find(c, o->labs[i]) : &c->labs[i];

		if (!lab)
			usage_error("no lab '%s' in the catalogue (ipcgrade --list shows them)",
				    o->labs[i]);
		for (int j = 0; j < *n; j++)
			if (labs[j] == lab)
				lab = NULL;
		if (lab) /* else named twice */
			labs[(*n)++] = lab;
	}
	return labs;
}

/* ==== Showing progress ==== */

static void stream_changed(void *ctx, const struct grade_result *g, enum engine_event ev, int lab,
			   int test)
{
	struct stream *s = ctx;

	if (s->progress && ev == EV_TEST_START)
		fprintf(stderr, "\r\033[K  grading %s: %s ...", g->labs[lab].lab->id,
			g->labs[lab].tests[test].name);
	if (ev != EV_LAB_STATE || !s->f)
		return;
	if (s->progress)
		fprintf(stderr, "\r\033[K");
	while (s->next < g->nlabs && (g->labs[s->next].state >= LAB_DONE)) {
		report_text_lab(s->f, g, s->next++, s->color);
		fflush(s->f);
	}
}

/* ==== Grading one submission ==== */

static int all_passed(const struct grade_result *g)
{
	return g->score == g->max_score && g->max_score > 0;
}

/* NO_COLOR, when set and not empty, turns colours off (no-color.org). */
static int no_color(void)
{
	const char *v = getenv("NO_COLOR");

	return v && *v;
}

/* The submission's labs folder (to free): -s, else ./labs, else the toolkit's. Exits 2 if none. */
static char *submission_dir(const struct toolkit *tk, const struct options *o)
{
	const char *dir = o->submission ? o->submission : is_dir("labs") ? "labs" : NULL;
	char *fallback = NULL, *labs_dir;

	if (!dir && asprintf(&fallback, "%s/labs", tk->root) < 0)
		err_die("asprintf:");
	labs_dir = labs_folder(dir ? dir : fallback);
	if (!labs_dir) {
		fprintf(stderr, "ipcgrade: no submission folder %s: %s\n", dir ? dir : fallback,
			strerror(errno ? errno : ENOENT));
		exit(2);
	}
	free(fallback);
	return labs_dir;
}

/*
 * The format to use: -f, or else the TUI when stdin and stdout are a
 * terminal that can address the cursor and there is no -o; text otherwise.
 */
static int choose_format(const struct options *o)
{
	const char *term = getenv("TERM");
	int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) && term && *term &&
		  strcmp(term, "dumb") != 0;

	if (o->format == FMT_TUI && o->output)
		usage_error("%s", "-f tui shows results on the terminal: it takes no -o");
	if (o->format == FMT_TUI && !tty)
		usage_error("%s", "-f tui needs a terminal (stdin and stdout); try -f text");
	if (o->watch && (o->output || o->format > FMT_TEXT))
		usage_error("%s", "--watch shows results in the TUI or as text: no -o, and no -f "
				  "tap, json, junit or gradescope");
	if (o->format >= 0)
		return o->format;
	return tty && !o->output ? FMT_TUI : FMT_TEXT;
}

/* Grade g as text streamed lab by lab, or in fmt at the end. Returns the exit status. */
static int grade_report(const struct engine_opts *eo, const struct options *o,
			struct grade_result *g, int fmt)
{
	struct stream s = {.f = fmt == FMT_TEXT && !o->output ? stdout : NULL,
			   .color = isatty(STDOUT_FILENO) && !no_color(),
			   .progress = isatty(STDERR_FILENO) && !getenv("CI")};
	struct engine_view view = {stream_changed, &s};
	int r;

	if (s.f)
		report_text_header(s.f, g, s.color);
	r = engine_grade(eo, g, &view);
	grade_result_tally(g);
	if (s.progress)
		fprintf(stderr, "\r\033[K");
	if (s.f) {
		report_text_summary(s.f, g, s.color);
	} else if (!o->output) {
		r |= report_write(stdout, g, fmt);
	} else if (write_report_file(o->output, g, fmt) < 0) {
		report_write(stdout, g, fmt); /* the results are not lost: they go to stdout */
		r = -1;
	}
	if (o->watch && r == 0 && watch_text(eo, g, stdout, s.color) < 0)
		r = -1;
	return r < 0 ? 2 : all_passed(g) ? 0 : 1;
}

static int grade_one(const struct toolkit *tk, const struct catalogue *c, const struct options *o)
{
	char *labs_dir = submission_dir(tk, o), *tag = submission_tag(labs_dir);
	int nlabs;
	const struct lab **labs = select_labs(c, o, &nlabs);
	struct engine_opts eo = {.tk = tk,
				 .tag = tag,
				 .jobs = o->jobs,
				 .only_test = o->only_test,
				 .seed = o->seed,
				 .readonly = protected_folders(tk, labs_dir)};
	struct grade_result g;
	struct progress p;
	int fmt = choose_format(o), status;

	submission_init(&g, labs, nlabs, labs_dir);
	free(labs);
	progress_load(&p, labs_dir);
	if (fmt == FMT_TUI) {
		status = tui_run(&eo, &g, o->watch, &p);
		if (status >= 0) {
			progress_free(&p);
			grade_result_free(&g);
			free(labs_dir);
			free(tag);
			return status;
		}
		fprintf(stderr,
			"ipcgrade: this terminal (TERM=%s) cannot show the TUI: text "
			"follows\n",
			getenv("TERM"));
		fmt = FMT_TEXT;
	}
	sandbox_guard_signals(); /* Ctrl-C leaves no test process and no folder behind */
	status = grade_report(&eo, o, &g, fmt);
	progress_update(&p, &g);
	progress_save(&p); /* a read-only submission keeps no progress: not an error */
	progress_free(&p);
	grade_result_free(&g);
	free(labs_dir);
	free(tag);
	return status;
}

/* --status: the progress kept in the submission, and the next lab. */
static int show_status(const struct toolkit *tk, const struct catalogue *c, const struct options *o)
{
	char *labs_dir = submission_dir(tk, o);
	struct progress p;

	progress_load(&p, labs_dir);
	printf("Progress of %s (kept in %s)\n\n", labs_dir, p.path);
	progress_print(&p, c, stdout);
	progress_free(&p);
	free(labs_dir);
	return 0;
}

/* --reset LAB: the skeleton back, the student's file kept. */
static int reset_lab(const struct toolkit *tk, const struct catalogue *c, const struct options *o)
{
	const struct lab *lab = catalogue_find(c, o->reset);
	char *labs_dir;
	int r;

	if (!lab)
		usage_error("no lab '%s' in the catalogue (ipcgrade --list shows them)", o->reset);
	labs_dir = submission_dir(tk, o);
	r = submission_reset(tk, lab, labs_dir, stdout);
	free(labs_dir);
	return r < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct toolkit tk = {0};
	struct catalogue c;
	char err[512], *path;

	parse_args(argc, argv, &o);
	find_toolkit(&tk, o.tests);
	if (asprintf(&path, "%s/grader/catalogue", tk.root) < 0)
		err_die("asprintf:");
	if (catalogue_load(path, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "ipcgrade: %s\n", err);
		return 2;
	}
	free(path);
	if (o.list) {
		for (int i = 0; i < c.n; i++)
			printf("%-18s %s\n", c.labs[i].id, c.labs[i].title);
		return 0;
	}
	if (o.watch && o.class_dir)
		usage_error("%s", "--watch grades one submission, not a --class");
	if ((o.status || o.reset) && o.class_dir)
		usage_error("%s", "--status and --reset are for one submission, not a --class");
	if (o.status)
		return show_status(&tk, &c, &o);
	if (o.reset)
		return reset_lab(&tk, &c, &o);
	if (o.class_dir) {
		struct class_opts co = {.dir = o.class_dir,
					.book = o.output ? o.output : "gradebook.csv",
					.jobs = o.jobs,
					.only_test = o.only_test};

		co.labs = select_labs(&c, &o, &co.nlabs);
		sandbox_guard_signals();
		return class_grade(&tk, &co);
	}
	return grade_one(&tk, &c, &o);
}
