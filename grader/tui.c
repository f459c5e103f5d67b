/*
 * The TUI (see tui.h), laid out as ncdu and htop are: one draw function and
 * one key function per screen state, chosen by a switch on the state; keys
 * map to actions, and an action returns flags (redraw, resize, quit) for
 * the loop to act on; the colours live in one table, with a monochrome
 * theme for terminals without colour and for NO_COLOR.
 *
 * Threads: the engine grades on a thread started here (it takes requests
 * from a queue, so that r and a are safe at any time) and tells the view
 * about each change with the model locked. The view only writes a byte to
 * a self-pipe; the UI thread, the only one that touches ncurses, wakes in
 * poll() on the terminal and that pipe, then reads the model under
 * engine_lock() while it draws. Signal handlers only set a flag and write
 * to the same pipe; the crash handler writes the terminal's reset strings,
 * saved in advance, with write(2).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <curses.h>

#include "ipclab.h"
#include "sandbox.h"
#include "submission.h"
#include "tui.h"
#include "watch.h"

#define MIN_COLS   80   /* below this, the "too small" screen */
#define MIN_LINES  24   /* likewise */
#define SPIN_MS    150  /* the progress spinner's step while grading */
#define BAR_WIDTH  10   /* cells of a score bar */
#define STATUS_COL 13   /* width of a lab's status column */
#define NOTE_MS    4000 /* how long a note stays in the footer */

/* ==== Types ==== */

enum tui_screen { SCREEN_MAIN, SCREEN_DETAIL, SCREEN_HELP, SCREEN_SMALL };

enum pane { PANE_LABS, PANE_TESTS, PANE_DETAIL, PANE_COUNT };

/* What an action asks the loop to do. */
enum action { ACT_NONE = 0, ACT_REDRAW = 1 << 0, ACT_RESIZE = 1 << 1, ACT_QUIT = 1 << 2 };

/* The elements that have a colour of their own. */
enum colour {
	C_NORMAL,
	C_HEADER,
	C_TITLE,
	C_TITLE_FOCUS,
	C_CURSOR,
	C_CURSOR_DIM,
	C_PASS,
	C_FAIL,
	C_BUILD,
	C_RUN,
	C_IDLE,
	C_HINT,
	C_LABEL,
	C_KEY,
	C_BAR,
	C_WARN,
	C_COUNT
};

/* The grading thread's work: what was asked for, and what it is doing. */
enum { RUN_NONE = -1, RUN_ALL = -2, RUN_QUIT = -3 };

struct queue {
	pthread_mutex_t lock; /* guards the fields below */
	pthread_cond_t wake;  /* signalled when a request arrives */
	unsigned char *want;  /* want[i]: lab i is to be graded again */
	int nlabs;            /* the size of want */
	int all;              /* every lab is to be graded again */
	int running;          /* the lab being graded, RUN_ALL, or RUN_NONE */
	int failed;           /* some lab could not be graded (the toolkit failed) */
	int quit;             /* the thread is to end */
};

/* A line of the detail pane, cut to the pane's width. */
struct line {
	enum colour colour; /* how it is drawn */
	wchar_t *text;      /* what it says */
};

struct lines {
	struct line *v; /* the lines */
	int n, cap;     /* how many there are, and room for */
	int width;      /* columns a line may take */
};

/* The line being filled while text is wrapped. */
struct fill {
	struct lines *out;  /* where finished lines go */
	enum colour colour; /* the colour of every line */
	wchar_t *buf;       /* the line so far, indent included */
	int len, cols;      /* its wide characters and columns */
	int indent;         /* wide characters (and columns) of the indent */
	int brk;            /* index of the last space, where a word wrap may cut; -1 */
	int emitted;        /* lines emitted so far */
};

struct tui {
	struct grade_result *g;        /* the model (read under engine_lock) */
	const struct engine_opts *eo;  /* how to grade */
	struct engine_view view;       /* what the engine calls */
	struct queue q;                /* requests to the grading thread */
	pthread_t thread;              /* the grading thread */
	struct watch *watch;           /* the watch on lab folders, or NULL when off */
	enum tui_screen screen;        /* the screen shown (unless too small) */
	enum pane pane;                /* the focused pane of the main screen */
	int lab, test;                 /* the selection */
	int lab_top, test_top;         /* the first row shown of each list */
	int detail_top;                /* the first line shown of the detail */
	int detail_n;                  /* lines of the detail at the last draw */
	int labs_h, tests_h, detail_h; /* rows of each pane at the last draw */
	struct progress *p;            /* the student's progress, saved as labs finish */
	int confirm_reset;             /* a y now resets the selected lab */
	int show_solution;             /* the detail screen shows the lab's reference solution */
	int moved;                     /* the user has moved the selection */
	int was_busy;                  /* grading was under way at the last wake */
	int spin;                      /* the spinner's phase */
	char note[200];                /* a message for the footer */
	long long note_until;          /* when it goes (ms, monotonic) */
};

/* ==== Static data ==== */

/* The colour table: a pair and attributes with colours, attributes alone without. */
static const struct {
	short fg, bg;   /* -1: the terminal's default */
	int attr, mono; /* attributes in colour, and in the monochrome theme */
} theme[C_COUNT] = {
    [C_NORMAL] = {-1, -1, A_NORMAL, A_NORMAL},
    [C_HEADER] = {COLOR_WHITE, COLOR_BLUE, A_BOLD, A_REVERSE},
    [C_TITLE] = {COLOR_CYAN, -1, A_NORMAL, A_NORMAL},
    [C_TITLE_FOCUS] = {COLOR_CYAN, -1, A_BOLD | A_REVERSE, A_REVERSE},
    [C_CURSOR] = {COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE},
    [C_CURSOR_DIM] = {COLOR_BLACK, COLOR_WHITE, A_NORMAL, A_UNDERLINE},
    [C_PASS] = {COLOR_GREEN, -1, A_BOLD, A_NORMAL},
    [C_FAIL] = {COLOR_RED, -1, A_BOLD, A_BOLD},
    [C_BUILD] = {COLOR_MAGENTA, -1, A_BOLD, A_BOLD | A_UNDERLINE},
    [C_RUN] = {COLOR_YELLOW, -1, A_NORMAL, A_NORMAL},
    [C_IDLE] = {-1, -1, A_DIM, A_DIM},
    [C_HINT] = {COLOR_YELLOW, -1, A_NORMAL, A_NORMAL},
    [C_LABEL] = {-1, -1, A_BOLD, A_BOLD},
    [C_KEY] = {COLOR_CYAN, -1, A_BOLD, A_BOLD},
    [C_BAR] = {COLOR_GREEN, -1, A_NORMAL, A_NORMAL},
    [C_WARN] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
};

static int attrs[C_COUNT]; /* the theme in use: what attrset() gets for each element */

/* Shared with signal handlers: only set, written and read with async-signal-safe calls. */
static volatile sig_atomic_t got_signal; /* SIGINT, SIGTERM or SIGHUP arrived */
static volatile sig_atomic_t screen_on;  /* the terminal is in curses mode */
static int wake_fd = -1;                 /* the self-pipe's write end */
static pid_t ui_pid;                     /* our process: a forked child never restores */
static struct termios saved_tty;         /* the terminal's modes before curses */
static int saved_stderr = -1;            /* stderr while the screen holds it */
static char reset_seq[256];              /* what puts the terminal back, from terminfo */
static size_t reset_len;
static struct sigaction curses_winch; /* ncurses' own SIGWINCH handler, called from ours */

static const char *const help_text[] = {
    "Keys",
    "  Up/Down, j/k  move; in the detail, scroll    PgUp/PgDn, g/G  a page, first, last",
    "  Tab, S-Tab    next, previous pane            Enter, Esc      open, back",
    "  r             grade the selected lab again   a               grade every lab again",
    "  h             a failed test's hint, one level at a time: a nudge, the idea, the fix",
    "  n             the next lab not passed yet    w               watch: a save re-grades",
    "  s             the lab's reference solution, once every test of it passes",
    "  R             put the lab's skeleton back (asks first; your file is kept)",
    "  ?             this help                      q               quit",
    "",
    "A lab's status",
    "  pass          every test passed",
    "  fail          some test failed: select it to see why",
    "  build error   the code did not compile: the detail shows the compiler's messages",
    "  running       being graded now: results appear as each test finishes",
    "  queued        waiting for its turn; not yet run: press r to grade it",
    "",
    "Your progress (best scores, hints opened) is kept in labs/.ipclab-progress.",
    "Press any key to go back.",
};

/* ==== Signals and the terminal ==== */

/* Wake the UI thread. Async-signal-safe; never blocks (the pipe is non-blocking). */
static void poke(void)
{
	int saved = errno;

	if (wake_fd >= 0)
		(void)!write(wake_fd, "", 1);
	errno = saved;
}

static void on_quit_signal(int sig)
{
	got_signal = sig;
	poke();
}

/* Let ncurses note the new size (it returns KEY_RESIZE), and wake the UI thread. */
static void on_winch(int sig)
{
	void (*curses_handler)(int) = curses_winch.sa_handler;

	if (!(curses_winch.sa_flags & SA_SIGINFO) && curses_handler != SIG_DFL &&
	    curses_handler != SIG_IGN)
		curses_handler(sig);
	poke();
}

/* Put the terminal back with write(2) and tcsetattr(3) only: safe in a signal handler. */
static void emergency_restore(void)
{
	if (!screen_on || getpid() != ui_pid)
		return;
	screen_on = 0;
	(void)!write(STDOUT_FILENO, reset_seq, reset_len);
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
	if (saved_stderr >= 0)
		dup2(saved_stderr, STDERR_FILENO);
}

/* A crash: restore the terminal, then die of the same signal (SA_RESETHAND). */
static void on_crash(int sig)
{
	emergency_restore();
	raise(sig);
}

/* Save terminfo's strings that leave curses mode, without padding, for emergency_restore. */
static void save_reset_sequence(void)
{
	static const char *const caps[] = {"sgr0", "cnorm", "rmkx", "rmcup"};

	reset_len = 0;
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		const char *s = tigetstr(caps[i]);

		for (; s && s != (char *)-1 && *s && reset_len < sizeof(reset_seq) - 1; s++) {
			if (s[0] == '$' && s[1] == '<' && strchr(s, '>')) {
				s = strchr(s, '>'); /* a padding delay, not text */
				continue;
			}
			reset_seq[reset_len++] = *s;
		}
	}
}

/*
 * SIGINT, SIGTERM and SIGHUP quit, crashes restore the terminal; with on
 * false, all go back to their default actions. Installed before ncurses
 * starts, so that it keeps ours.
 */
static void install_signals(int on)
{
	static const int quits[] = {SIGINT, SIGTERM, SIGHUP};
	static const int crashes[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on ? on_quit_signal : SIG_DFL;
	for (size_t i = 0; i < sizeof(quits) / sizeof(quits[0]); i++)
		sigaction(quits[i], &sa, NULL);
	sa.sa_handler = on ? on_crash : SIG_DFL;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof(crashes) / sizeof(crashes[0]); i++)
		sigaction(crashes[i], &sa, NULL);
}

/* Chain our SIGWINCH handler in front of the one ncurses installed. */
static void chain_winch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_winch;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGWINCH, &sa, &curses_winch);
}

/*
 * While the screen is on, messages written to stderr (by the engine or the
 * sandbox) would scribble over it: they go to a temporary file, copied to
 * the real stderr when the screen is off again.
 */
static void hold_stderr(void)
{
	char path[] = "/tmp/ipcgrade-stderr-XXXXXX";
	int fd = mkostemp(path, O_CLOEXEC);

	if (fd < 0)
		return;
	unlink(path);
	saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (saved_stderr < 0 || dup2(fd, STDERR_FILENO) < 0) {
		close(saved_stderr);
		saved_stderr = -1;
	}
	close(fd);
}

static void release_stderr(void)
{
	char buf[4096];
	ssize_t n;

	if (saved_stderr < 0)
		return;
	lseek(STDERR_FILENO, 0, SEEK_SET);
	while ((n = read(STDERR_FILENO, buf, sizeof(buf))) > 0)
		(void)!write(saved_stderr, buf, (size_t)n);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
}

/* ==== The grading thread ==== */

static int first_wanted(const struct queue *q)
{
	for (int i = 0; i < q->nlabs; i++)
		if (q->want[i])
			return i;
	return -1;
}

/* Ask for lab (or RUN_ALL) to be graded again. */
static void queue_ask(struct queue *q, int lab)
{
	pthread_mutex_lock(&q->lock);
	if (lab == RUN_ALL)
		q->all = 1;
	else
		q->want[lab] = 1;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

/* Wait for a request. Returns a lab, RUN_ALL, or RUN_QUIT. */
static int queue_take(struct queue *q)
{
	int job = RUN_QUIT;

	pthread_mutex_lock(&q->lock);
	while (!q->quit && !q->all && first_wanted(q) < 0)
		pthread_cond_wait(&q->wake, &q->lock);
	if (!q->quit && q->all) {
		job = RUN_ALL;
		q->all = 0;
		memset(q->want, 0, (size_t)q->nlabs);
	} else if (!q->quit) {
		job = first_wanted(q);
		q->want[job] = 0;
	}
	q->running = job == RUN_QUIT ? RUN_NONE : job;
	pthread_mutex_unlock(&q->lock);
	return job;
}

static void queue_done(struct queue *q, int result)
{
	pthread_mutex_lock(&q->lock);
	q->running = RUN_NONE;
	q->failed |= result < 0;
	pthread_mutex_unlock(&q->lock);
}

/* True while a lab is being graded or waits to be. */
static int queue_busy(struct queue *q)
{
	int busy;

	pthread_mutex_lock(&q->lock);
	busy = q->running != RUN_NONE || q->all || first_wanted(q) >= 0;
	pthread_mutex_unlock(&q->lock);
	return busy;
}

/* True when lab waits for its turn. */
static int queue_waiting(struct queue *q, int lab)
{
	int waiting;

	pthread_mutex_lock(&q->lock);
	waiting = q->want[lab] || (q->all && q->running != RUN_ALL);
	pthread_mutex_unlock(&q->lock);
	return waiting;
}

/* The engine's view: called with the model locked, on the grading thread. */
static void tui_changed(void *ctx, const struct grade_result *g, enum engine_event ev, int lab,
			int test)
{
	(void)ctx;
	(void)g;
	(void)ev;
	(void)lab;
	(void)test;
	poke();
}

static void *grading_thread(void *arg)
{
	struct tui *t = arg;
	int job;

	while ((job = queue_take(&t->q)) != RUN_QUIT) {
		int r = watch_regrade(t->eo, t->g, job == RUN_ALL ? -1 : job, &t->view);

		queue_done(&t->q, r);
		poke();
	}
	return NULL;
}

/* ==== Colours ==== */

static int no_color(void)
{
	const char *v = getenv("NO_COLOR");

	return v && *v;
}

/* Choose the theme: colours when the terminal has them and NO_COLOR is not set. */
static void theme_init(void)
{
	int colour = has_colors() && !no_color() && start_color() == OK && COLOR_PAIRS > C_COUNT;
	int defaults = colour && use_default_colors() == OK;

	for (int i = 0; i < C_COUNT; i++) {
		short fg = theme[i].fg < 0 && !defaults ? COLOR_WHITE : theme[i].fg;
		short bg = theme[i].bg < 0 && !defaults ? COLOR_BLACK : theme[i].bg;

		attrs[i] = theme[i].mono;
		if (colour && init_pair((short)(i + 1), fg, bg) == OK)
			attrs[i] = (int)COLOR_PAIR(i + 1) | theme[i].attr;
	}
}

/* ==== Text for the screen ==== */

/*
 * The next character of s as the screen shows it: up to two wide
 * characters in wc (*nwc of them, *cols columns). Control characters are
 * shown in caret notation (ESC is ^[), what the locale cannot decode or
 * print as '?'. Returns the bytes used (at least 1).
 */
static int glyph(const char *s, wchar_t wc[2], int *nwc, int *cols)
{
	unsigned char b = (unsigned char)*s;
	mbstate_t st;
	size_t n;
	int w;

	*nwc = *cols = 1;
	if (b < 0x20 || b == 0x7f) {
		wc[0] = L'^';
		wc[1] = (wchar_t)(b ^ 0x40);
		*nwc = *cols = 2;
		return 1;
	}
	memset(&st, 0, sizeof(st));
	n = mbrtowc(&wc[0], s, MB_CUR_MAX, &st);
	if (n == 0 || n == (size_t)-1 || n == (size_t)-2) {
		wc[0] = L'?';
		return 1;
	}
	w = wcwidth(wc[0]);
	if (w < 1) {
		wc[0] = L'?';
		w = 1;
	}
	*cols = w;
	return (int)n;
}

/* Draw s at (y, x) in at most cols columns, padded when pad. Returns the columns used. */
static int put_text(int y, int x, int cols, const char *s, int pad)
{
	int used = 0;

	move(y, x);
	while (s && *s && used < cols) {
		wchar_t wc[2];
		int nwc, w, n = *s == '\n' || *s == '\t' ? 1 : glyph(s, wc, &nwc, &w);

		if (*s == '\n' || *s == '\t') {
			wc[0] = L' ';
			nwc = w = 1;
		}
		if (used + w > cols)
			break;
		addnwstr(wc, nwc);
		used += w;
		s += n;
	}
	for (; pad && used < cols; used++)
		addch(' ');
	return used;
}

static void lines_free(struct lines *L)
{
	for (int i = 0; i < L->n; i++)
		free(L->v[i].text);
	free(L->v);
	memset(L, 0, sizeof(*L));
}

/* Emit the first len wide characters of the fill as a line. */
static void fill_emit(struct fill *f, int len)
{
	struct lines *L = f->out;
	wchar_t *text = xmalloc(((size_t)len + 1) * sizeof(*text));

	wmemcpy(text, f->buf, (size_t)len);
	text[len] = L'\0';
	if (L->n == L->cap) {
		L->cap = L->cap ? 2 * L->cap : 64;
		L->v = realloc(L->v, (size_t)L->cap * sizeof(*L->v));
		if (!L->v)
			err_die("realloc:");
	}
	L->v[L->n++] = (struct line){f->colour, text};
	f->emitted++;
}

/* Emit the line; keep what follows position from (a word carried over), after the indent. */
static void fill_break(struct fill *f, int upto, int from)
{
	int keep = f->len - from;

	fill_emit(f, upto);
	wmemmove(f->buf + f->indent, f->buf + from, (size_t)keep);
	f->len = f->indent + keep;
	f->cols = f->indent;
	for (int i = f->indent; i < f->len; i++)
		f->cols += wcwidth(f->buf[i]) > 0 ? wcwidth(f->buf[i]) : 1;
	f->brk = -1;
}

/* Add a character (nwc wide characters, w columns) to the line, wrapping first if it is full. */
static void fill_put(struct fill *f, const wchar_t *wc, int nwc, int w, int words)
{
	if (f->cols + w > f->out->width && f->len > f->indent) {
		if (words && f->brk > f->indent)
			fill_break(f, f->brk, f->brk + 1);
		else
			fill_break(f, f->len, f->len);
	}
	if (words && nwc == 1 && wc[0] == L' ')
		f->brk = f->len;
	wmemcpy(f->buf + f->len, wc, (size_t)nwc);
	f->len += nwc;
	f->cols += w;
}

/*
 * Add text to L, wrapped to its width, each line starting with indent
 * (ASCII). With words, lines are cut at spaces; otherwise anywhere, as
 * captured output is. Tabs go to the next multiple of 8.
 */
static void add_text(struct lines *L, enum colour colour, const char *indent, const char *text,
		     int words)
{
	struct fill f = {.out = L, .colour = colour, .brk = -1};

	f.buf = xmalloc(((size_t)L->width + (size_t)strlen(indent) + 4) * sizeof(*f.buf));
	for (; indent[f.indent]; f.indent++)
		f.buf[f.indent] = (wchar_t)(unsigned char)indent[f.indent];
	f.len = f.cols = f.indent;
	for (const char *s = text ? text : ""; *s;) {
		wchar_t wc[2] = {L' ', 0};
		int nwc = 1, w = 1, n = 1;

		if (*s == '\n') {
			fill_break(&f, f.len, f.len);
		} else if (*s == '\t') {
			do
				fill_put(&f, wc, 1, 1, 0);
			while ((f.cols - f.indent) % 8 && f.cols < L->width);
		} else if (*s != '\r') {
			n = glyph(s, wc, &nwc, &w);
			fill_put(&f, wc, nwc, w, words);
		}
		s += n;
	}
	if (f.len > f.indent || f.emitted == 0)
		fill_emit(&f, f.len);
	free(f.buf);
}

static void add_blank(struct lines *L)
{
	add_text(L, C_NORMAL, "", "", 0);
}

/* ==== What to call things ==== */

static const struct lab_result *sel_lab(const struct tui *t)
{
	return t->g->nlabs ? &t->g->labs[t->lab] : NULL;
}

/* The selected test, or NULL when the lab has none (yet). */
static const struct test_result *sel_test(const struct tui *t)
{
	const struct lab_result *l = sel_lab(t);

	return l && t->test < l->ntests ? &l->tests[t->test] : NULL;
}

static int tests_done(const struct lab_result *l)
{
	int done = 0;

	for (int j = 0; j < l->ntests; j++)
		done += l->tests[j].status >= TEST_PASS;
	return done;
}

/* A lab's status word and its colour. */
static const char *lab_status(struct tui *t, int i, enum colour *c, char *buf, size_t size)
{
	const struct lab_result *l = &t->g->labs[i];
	static const char spinner[] = "|/-\\";

	*c = C_RUN;
	if (l->state == LAB_BUILDING || l->state == LAB_RUNNING) {
		snprintf(buf, size, "%s %c", l->state == LAB_BUILDING ? "building" : "running",
			 spinner[t->spin % 4]);
		return buf;
	}
	if (queue_waiting(&t->q, i))
		return "queued";
	switch (l->state) {
	case LAB_DONE:
		*c = l->score == l->max_score ? C_PASS : C_FAIL;
		return l->score == l->max_score ? "pass" : "fail";
	case LAB_BUILD_ERROR:
		*c = C_BUILD;
		return "build error";
	case LAB_ERROR:
		*c = C_FAIL;
		return "not graded";
	default:
		*c = C_IDLE;
		return "not yet run";
	}
}

/* A test's status label and its colour. */
static const char *test_label(const struct test_result *x, enum colour *c)
{
	static const char *const labels[] = {"-",     "RUN",     "PASS",  "FAIL",
					     "ERROR", "TIMEOUT", "CRASH", "SKIP"};
	static const enum colour colours[] = {C_IDLE, C_RUN,  C_PASS, C_FAIL,
					      C_FAIL, C_FAIL, C_FAIL, C_IDLE};

	*c = colours[x->status];
	return labels[x->status];
}

/* ==== The detail ==== */

static void detail_build_error(struct lines *L, const struct lab_result *l)
{
	char line[512];

	snprintf(line, sizeof(line), "%s %s", l->lab->id,
		 l->state == LAB_BUILD_ERROR ? "did not compile." : "could not be graded.");
	add_text(L, l->state == LAB_BUILD_ERROR ? C_BUILD : C_FAIL, "", line, 1);
	add_text(L, C_IDLE, "From ", l->source_dir, 0);
	if (l->error) {
		add_blank(L);
		add_text(L, C_FAIL, "", l->error, 1);
	}
	if (l->build_log && l->build_log[0]) {
		add_blank(L);
		add_text(L, C_LABEL, "", "The compiler said:", 0);
		add_text(L, C_NORMAL, "  ", l->build_log, 0);
	}
	add_blank(L);
	add_text(L, C_IDLE, "", "Fix the code, then press r (or w to grade it on every save).", 1);
}

static void detail_lab(struct lines *L, const struct lab_result *l)
{
	add_text(L, C_LABEL, "", l->lab->title, 1);
	add_text(L, C_IDLE, "From ", l->source_dir, 0);
	add_blank(L);
	if (l->state == LAB_BUILDING)
		add_text(L, C_RUN, "", "Building...", 0);
	else
		add_text(L, C_IDLE, "", "Not yet run: press r to grade this lab.", 1);
}

/* What the test printed, with a note when the sandbox kept only part of it. */
static void detail_output(struct lines *L, const struct test_result *x)
{
	char head[160];
	size_t kept = strlen(x->output);

	if (!x->output[0])
		return;
	if (x->output_total > kept)
		snprintf(head, sizeof(head),
			 "Output (cut: the test printed %zu bytes, %zu kept):", x->output_total,
			 kept);
	else
		snprintf(head, sizeof(head), "Output:");
	add_blank(L);
	add_text(L, C_LABEL, "", head, 0);
	add_text(L, C_NORMAL, "| ", x->output, 0);
}

/* A failure's message; a diff in it (suite_same_text) line by line, in colour. */
static void detail_message(struct lines *L, enum colour c, const char *msg)
{
	const char *diff = strstr(msg, "\n--- expected\n");
	char *head, line[256];

	if (!diff) {
		add_text(L, c, "", msg, 1);
		return;
	}
	head = strndup(msg, (size_t)(diff - msg));
	if (!head)
		err_die("strndup:");
	add_text(L, c, "", head, 1);
	free(head);
	for (const char *p = diff + 1; *p;) {
		size_t n = strcspn(p, "\n");
		enum colour lc = *p == '-' && p[1] == ' '              ? C_FAIL
				 : *p == '+' && p[1] == ' '            ? C_PASS
				 : *p == '@' || *p == '-' || *p == '+' ? C_TITLE
								       : C_NORMAL;

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		add_text(L, lc, "", line, 0);
		p += n + (p[n] == '\n');
	}
}

/* How many levels a hint has: one a line. */
static int hint_levels(const char *hint)
{
	int n = *hint != '\0';

	for (const char *p = strchr(hint, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
		n++;
	return n;
}

/* The levels of the hint opened so far, and how to open the next. */
static void detail_hints(struct tui *t, struct lines *L, const struct test_result *x)
{
	int levels = hint_levels(x->hint);
	int shown = progress_hint_level(t->p, sel_lab(t)->lab->id, x->name);
	const char *h = x->hint;
	char text[1024];

	add_blank(L);
	shown = shown > levels ? levels : shown;
	for (int i = 0; i < shown; i++) {
		size_t n = strcspn(h, "\n");

		snprintf(text, sizeof(text), "Hint %d/%d: %.*s", i + 1, levels, (int)n, h);
		add_text(L, C_HINT, "", text, 1);
		h += n + (h[n] == '\n');
	}
	if (shown == 0)
		add_text(L, C_IDLE, "",
			 levels > 1 ? "Press h for a hint: a nudge first, the fix last."
				    : "Press h for a hint.",
			 1);
	else if (shown < levels)
		add_text(L, C_IDLE, "", "Press h for the next hint.", 0);
}

/* What the test's processes held when it failed (a timeout, a leak), when the runner took it. */
static void detail_xray(struct lines *L, const struct test_result *x)
{
	if (!x->xray || !test_failed(x))
		return;
	add_blank(L);
	add_text(L, C_LABEL, "", "X-ray at the moment it failed:", 0);
	add_text(L, C_NORMAL, "  ", x->xray, 0);
}

static void detail_test(struct tui *t, struct lines *L, const struct test_result *x)
{
	enum colour c;
	char head[256];
	const char *label = test_label(x, &c);

	snprintf(head, sizeof(head), "%s   %s   %d/%d points   %ld ms", x->name, label, x->points,
		 x->max_points, x->duration_ms);
	add_text(L, C_LABEL, "", head, 1);
	add_blank(L);
	if (x->status == TEST_PENDING)
		add_text(L, C_IDLE, "", "Not run yet.", 0);
	else if (x->status == TEST_RUNNING)
		add_text(L, C_RUN, "", "Running...", 0);
	else if (x->status == TEST_PASS)
		add_text(L, C_PASS, "", "Passed.", 0);
	else
		detail_message(L, c, x->message[0] ? x->message : "(no message)");
	if (test_failed(x) && x->hint[0])
		detail_hints(t, L, x);
	detail_xray(L, x);
	detail_output(L, x);
}

static int is_solution_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 2 && strcmp(e->d_name + n - 2, ".c") == 0 && strcmp(e->d_name, "main.c") != 0;
}

/* The lab's reference solution, file by file. */
static void detail_solution(struct tui *t, struct lines *L, const struct lab_result *l)
{
	char *dir;
	struct dirent **names;
	int n;

	if (asprintf(&dir, "%s/solutions/%s", t->eo->tk->root, l->lab->id) < 0)
		err_die("asprintf:");
	n = scandir(dir, &names, is_solution_file, alphasort);
	add_text(L, C_LABEL, "", "The reference solution: one good answer among several.", 1);
	add_text(L, C_IDLE, "",
		 "Compare it with yours: what does it do more simply? Esc goes back.", 1);
	for (int i = 0; i < n; i++) {
		char *path, *text;
		int fd;

		if (asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0)
			err_die("asprintf:");
		fd = open(path, O_RDONLY | O_CLOEXEC);
		text = fd >= 0 ? io_slurp(fd, 1 << 20, NULL) : NULL;
		if (fd >= 0)
			close(fd);
		add_blank(L);
		add_text(L, C_TITLE, "", path + strlen(t->eo->tk->root) + 1, 0);
		add_text(L, C_NORMAL, "  ", text ? text : "(cannot be read)", 0);
		free(text);
		free(path);
		free(names[i]);
	}
	if (n < 0)
		add_text(L, C_FAIL, "", "No reference solution in this copy of the toolkit.", 0);
	else
		free(names);
	free(dir);
}

/* Fill L with the detail of the selection. */
static void detail_build(struct tui *t, struct lines *L, int width)
{
	const struct lab_result *l = sel_lab(t);
	const struct test_result *x = sel_test(t);

	memset(L, 0, sizeof(*L));
	L->width = width;
	if (l && t->show_solution && t->screen == SCREEN_DETAIL)
		detail_solution(t, L, l);
	else if (!l)
		add_text(L, C_IDLE, "", "No labs to grade.", 0);
	else if (l->state == LAB_BUILD_ERROR || l->state == LAB_ERROR)
		detail_build_error(L, l);
	else if (!x)
		detail_lab(L, l);
	else
		detail_test(t, L, x);
}

/* ==== Drawing ==== */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Keep the selected row sel within the h rows shown from *top. */
static void keep_visible(int *top, int sel, int h, int n)
{
	if (sel < *top)
		*top = sel;
	if (sel >= *top + h)
		*top = sel - h + 1;
	*top = clamp(*top, 0, n > h ? n - h : 0);
}

/* A pane's title line: a rule with the title on it, highlighted when focused. */
static void draw_title(int y, const char *title, const char *right, int focused)
{
	attrset(attrs[C_TITLE]);
	mvhline(y, 0, ACS_HLINE | (chtype)attrs[C_TITLE], COLS);
	attrset(attrs[focused ? C_TITLE_FOCUS : C_TITLE]);
	put_text(y, 2, COLS - 4, title, 0);
	attrset(attrs[C_TITLE]);
	if (right && (int)strlen(right) + 2 < COLS / 2)
		put_text(y, COLS - (int)strlen(right) - 2, (int)strlen(right), right, 0);
	attrset(attrs[C_NORMAL]);
}

static void draw_header(struct tui *t, int busy)
{
	char right[128], progress[64] = "";
	int done = 0, total = 0, n;

	for (int i = 0; i < t->g->nlabs; i++) {
		done += tests_done(&t->g->labs[i]);
		total += t->g->labs[i].ntests;
	}
	if (busy)
		snprintf(progress, sizeof(progress), "grading %d/%d tests  ", done, total);
	n = snprintf(right, sizeof(right), "%s%sTotal %d/%d ", t->watch ? "watch on  " : "",
		     progress, t->g->score, t->g->max_score);
	attrset(attrs[C_HEADER]);
	mvhline(0, 0, ' ' | (chtype)attrs[C_HEADER], COLS);
	put_text(0, 1, 16, "IPC Labs grader", 0);
	put_text(0, 18, COLS - 18 - n - 1, t->g->submission, 0);
	put_text(0, COLS - n, n, right, 0);
	attrset(attrs[C_NORMAL]);
}

/* The running test or lab, for the footer. */
static void progress_text(struct tui *t, char *buf, size_t size)
{
	snprintf(buf, size, "Waiting for the grader...");
	for (int i = 0; i < t->g->nlabs; i++) {
		const struct lab_result *l = &t->g->labs[i];

		if (l->state == LAB_BUILDING)
			snprintf(buf, size, "Building %s...", l->lab->id);
		for (int j = 0; j < l->ntests; j++)
			if (l->tests[j].status == TEST_RUNNING)
				snprintf(buf, size, "Grading %s: %s (%d/%d)", l->lab->id,
					 l->tests[j].name, j + 1, l->ntests);
	}
}

static void draw_footer(struct tui *t, int busy)
{
	static const char *const keys[] = {
	    "j/k", "move", "Tab", "pane", "Enter", "open",  "r", "re-run", "a", "all",
	    "h",   "hint", "n",   "next", "w",     "watch", "?", "help",   "q", "quit"};
	char text[256];
	int x = 0;

	mvhline(LINES - 1, 0, ' ', COLS);
	if (t->note[0] && now_ms() >= t->note_until)
		t->note[0] = '\0';
	if (t->note[0] || busy) {
		if (!t->note[0])
			progress_text(t, text, sizeof(text));
		attrset(attrs[t->note[0] ? C_WARN : C_RUN]);
		put_text(LINES - 1, 1, COLS - 2, t->note[0] ? t->note : text, 0);
		attrset(attrs[C_NORMAL]);
		return;
	}
	for (size_t i = 0; i + 1 < sizeof(keys) / sizeof(keys[0]); i += 2) {
		if (x + (int)(strlen(keys[i]) + strlen(keys[i + 1])) + 1 > COLS)
			break;
		attrset(attrs[C_KEY]);
		x += put_text(LINES - 1, x, COLS - x, keys[i], 0) + 1;
		attrset(attrs[C_NORMAL]);
		x += put_text(LINES - 1, x, COLS - x, keys[i + 1], 0) + 2;
	}
}

/* A score bar: BAR_WIDTH cells, filled in proportion. */
static void draw_bar(int y, int x, int score, int max, int base)
{
	int filled = max > 0 ? score * BAR_WIDTH / max : 0;

	mvaddch(y, x, '[');
	for (int i = 0; i < BAR_WIDTH; i++) {
		attrset(i < filled && base == attrs[C_NORMAL] ? attrs[C_BAR] : base);
		addch(i < filled ? '#' : '.');
	}
	attrset(base);
	addch(']');
}

static void draw_lab_row(struct tui *t, int y, int i)
{
	const struct lab_result *l = &t->g->labs[i];
	int sel = i == t->lab, base = attrs[C_NORMAL];
	int title_w = COLS - 5 - (BAR_WIDTH + 3) - 9 - STATUS_COL - 1;
	char num[16], score[32], buf[32];
	enum colour c;
	const char *status = lab_status(t, i, &c, buf, sizeof(buf));

	if (sel)
		base = attrs[t->pane == PANE_LABS ? C_CURSOR : C_CURSOR_DIM];
	attrset(base);
	mvhline(y, 0, ' ' | (chtype)base, COLS);
	snprintf(num, sizeof(num), "%02d", l->lab->number);
	put_text(y, 1, 2, num, 0);
	put_text(y, 5, title_w, l->lab->title, 1);
	draw_bar(y, 5 + title_w + 1, l->score, l->max_score, base);
	snprintf(score, sizeof(score), "%3d/%-3d", l->score, l->max_score);
	if (l->ntests == 0)
		snprintf(score, sizeof(score), "   -");
	put_text(y, 5 + title_w + BAR_WIDTH + 4, 8, score, 0);
	attrset(sel ? base : attrs[c]);
	put_text(y, COLS - STATUS_COL - 1, STATUS_COL, status, 0);
	attrset(attrs[C_NORMAL]);
}

static void draw_labs(struct tui *t, int y, int h)
{
	char title[64];

	snprintf(title, sizeof(title), " Labs (%d) ", t->g->nlabs);
	draw_title(y, title, NULL, t->pane == PANE_LABS);
	keep_visible(&t->lab_top, t->lab, h, t->g->nlabs);
	for (int r = 0; r < h && t->lab_top + r < t->g->nlabs; r++)
		draw_lab_row(t, y + 1 + r, t->lab_top + r);
}

static void draw_test_row(struct tui *t, int y, const struct test_result *x, int sel)
{
	int base = attrs[C_NORMAL], name_w = COLS - 12 - 8 - 10 - 2;
	char pts[32], ms[32];
	enum colour c;
	const char *label = test_label(x, &c);

	if (sel)
		base = attrs[t->pane == PANE_TESTS ? C_CURSOR : C_CURSOR_DIM];
	attrset(base);
	mvhline(y, 0, ' ' | (chtype)base, COLS);
	attrset(sel ? base : attrs[c]);
	put_text(y, 2, 8, label, 0);
	attrset(base);
	put_text(y, 12, name_w, x->name, 1);
	snprintf(pts, sizeof(pts), "%2d/%-2d", x->points, x->max_points);
	put_text(y, 12 + name_w + 1, 7, pts, 0);
	snprintf(ms, sizeof(ms), "%6ld ms", x->duration_ms);
	if (x->status >= TEST_PASS && x->status != TEST_SKIPPED)
		put_text(y, COLS - 11, 10, ms, 0);
	attrset(attrs[C_NORMAL]);
}

static void draw_tests(struct tui *t, int y, int h)
{
	const struct lab_result *l = sel_lab(t);
	char title[256], right[64] = "";
	int n = l ? l->ntests : 0;

	snprintf(title, sizeof(title), " Tests of %s ", l ? l->lab->id : "-");
	if (l && n)
		snprintf(right, sizeof(right), " %d/%d points ", l->score, l->max_score);
	draw_title(y, title, right, t->pane == PANE_TESTS);
	t->test = clamp(t->test, 0, n ? n - 1 : 0);
	keep_visible(&t->test_top, t->test, h, n);
	for (int r = 0; r < h && t->test_top + r < n; r++)
		draw_test_row(t, y + 1 + r, &l->tests[t->test_top + r], t->test_top + r == t->test);
	if (l && n == 0) {
		attrset(attrs[C_IDLE]);
		put_text(y + 1, 2, COLS - 4,
			 l->state == LAB_PENDING ? "(the tests appear once the lab is built)"
						 : "(no tests: see the detail below)",
			 0);
		attrset(attrs[C_NORMAL]);
	}
}

/* The detail of the selection in h rows from y, scrolled to t->detail_top. */
static void draw_detail_pane(struct tui *t, int y, int h, int focused)
{
	const struct test_result *x = sel_test(t);
	const struct lab_result *l = sel_lab(t);
	struct lines L;
	char title[256], right[64] = "";

	detail_build(t, &L, COLS - 2);
	t->detail_n = L.n;
	t->detail_top = clamp(t->detail_top, 0, L.n > h ? L.n - h : 0);
	if (l && (l->state == LAB_BUILD_ERROR || l->state == LAB_ERROR))
		snprintf(title, sizeof(title), " Build of %s ", l->lab->id);
	else
		snprintf(title, sizeof(title), " Detail%s%s ", x ? ": " : "", x ? x->name : "");
	if (L.n > h)
		snprintf(right, sizeof(right), " lines %d-%d of %d ", t->detail_top + 1,
			 clamp(t->detail_top + h, 1, L.n), L.n);
	draw_title(y, title, right, focused);
	for (int r = 0; r < h && t->detail_top + r < L.n; r++) {
		attrset(attrs[L.v[t->detail_top + r].colour]);
		mvaddwstr(y + 1 + r, 1, L.v[t->detail_top + r].text);
	}
	attrset(attrs[C_NORMAL]);
	lines_free(&L);
}

static void draw_main(struct tui *t, int busy)
{
	int rows = LINES - 5, most = 3; /* header, footer and three titles */

	for (int i = 0; i < t->g->nlabs; i++)
		most = t->g->labs[i].ntests > most ? t->g->labs[i].ntests : most;
	t->labs_h = clamp(t->g->nlabs, 2, rows / 3);
	t->tests_h = clamp(most, 3, (rows - t->labs_h) / 2);
	t->detail_h = rows - t->labs_h - t->tests_h;
	draw_header(t, busy);
	draw_labs(t, 1, t->labs_h);
	draw_tests(t, 2 + t->labs_h, t->tests_h);
	draw_detail_pane(t, 3 + t->labs_h + t->tests_h, t->detail_h, t->pane == PANE_DETAIL);
	draw_footer(t, busy);
}

static void draw_detail(struct tui *t, int busy)
{
	t->detail_h = LINES - 3;
	draw_header(t, busy);
	draw_detail_pane(t, 1, t->detail_h, 1);
	draw_footer(t, busy);
}

static void draw_help(struct tui *t, int busy)
{
	int n = (int)(sizeof(help_text) / sizeof(help_text[0]));

	draw_header(t, busy);
	draw_title(1, " Help ", NULL, 1);
	for (int i = 0; i < n && 2 + i < LINES - 1; i++) {
		attrset(attrs[help_text[i][0] && help_text[i][0] != ' ' ? C_LABEL : C_NORMAL]);
		put_text(2 + i, 2, COLS - 4, help_text[i], 0);
	}
	attrset(attrs[C_NORMAL]);
	draw_footer(t, busy);
}

static void draw_small(struct tui *t, int busy)
{
	char size[64];

	(void)t;
	(void)busy;
	snprintf(size, sizeof(size), "Terminal too small: %dx%d.", COLS, LINES);
	attrset(attrs[C_WARN]);
	put_text(LINES / 2 - 1, 1, COLS - 2, size, 0);
	attrset(attrs[C_NORMAL]);
	snprintf(size, sizeof(size), "The grader needs %dx%d. Resize, or press q.", MIN_COLS,
		 MIN_LINES);
	put_text(LINES / 2, 1, COLS - 2, size, 0);
}

/* The screen to show: the chosen one, unless the terminal is too small for any. */
static enum tui_screen screen_now(const struct tui *t)
{
	return COLS < MIN_COLS || LINES < MIN_LINES ? SCREEN_SMALL : t->screen;
}

static void draw(struct tui *t)
{
	int busy = queue_busy(&t->q);

	erase();
	engine_lock();
	switch (screen_now(t)) {
	case SCREEN_MAIN:
		draw_main(t, busy);
		break;
	case SCREEN_DETAIL:
		draw_detail(t, busy);
		break;
	case SCREEN_HELP:
		draw_help(t, busy);
		break;
	case SCREEN_SMALL:
		draw_small(t, busy);
		break;
	}
	engine_unlock();
	refresh();
}

/* ==== Actions ==== */

/* Show a message in the footer for a few seconds. */
static void __attribute__((format(printf, 2, 3))) set_note(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->note, sizeof(t->note), fmt, ap);
	va_end(ap);
	t->note_until = now_ms() + NOTE_MS;
}

static int lab_ntests(struct tui *t)
{
	int n;

	engine_lock();
	n = t->g->nlabs ? t->g->labs[t->lab].ntests : 0;
	engine_unlock();
	return n;
}

/* Select lab i, and in it the first test that did not pass. */
static int select_lab(struct tui *t, int i)
{
	const struct lab_result *l;

	if (t->g->nlabs == 0)
		return ACT_NONE;
	t->lab = clamp(i, 0, t->g->nlabs - 1);
	t->test = t->detail_top = 0;
	engine_lock();
	l = &t->g->labs[t->lab];
	for (int j = l->ntests - 1; j >= 0; j--)
		if (test_failed(&l->tests[j]))
			t->test = j;
	engine_unlock();
	return ACT_REDRAW;
}

/* Move the selection (or scroll the detail) of the focused pane by delta rows. */
static int move_by(struct tui *t, int delta)
{
	t->moved = 1;
	switch (t->pane) {
	case PANE_LABS:
		return select_lab(t, t->lab + delta);
	case PANE_TESTS:
		t->test = clamp(t->test + delta, 0, lab_ntests(t) ? lab_ntests(t) - 1 : 0);
		t->detail_top = 0;
		return ACT_REDRAW;
	default:
		t->detail_top = clamp(t->detail_top + delta, 0,
				      t->detail_n > t->detail_h ? t->detail_n - t->detail_h : 0);
		return ACT_REDRAW;
	}
}

static int page(const struct tui *t)
{
	int h = t->pane == PANE_LABS ? t->labs_h : t->pane == PANE_TESTS ? t->tests_h : t->detail_h;

	return h > 1 ? h - 1 : 1;
}

static int rerun_lab(struct tui *t)
{
	if (t->g->nlabs == 0)
		return ACT_NONE;
	queue_ask(&t->q, t->lab);
	set_note(t, "%s will be graded again.", t->g->labs[t->lab].lab->id);
	return ACT_REDRAW;
}

static int rerun_all(struct tui *t)
{
	queue_ask(&t->q, RUN_ALL);
	set_note(t, "Every lab will be graded again.");
	return ACT_REDRAW;
}

static int toggle_watch(struct tui *t)
{
	if (t->watch) {
		watch_close(t->watch);
		t->watch = NULL;
		set_note(t, "Watch off.");
		return ACT_REDRAW;
	}
	t->watch = watch_open(t->g);
	if (!t->watch)
		set_note(t, "Cannot watch: inotify failed (%s).", strerror(errno));
	else
		set_note(t, "Watch on: saving a lab's .c or .h file grades that lab again.");
	return ACT_REDRAW;
}

/* Changes in the lab folders: queue each lab whose files have settled. */
static int watch_events(struct tui *t, short revents)
{
	int lab, flags = ACT_NONE;

	if (!t->watch)
		return ACT_NONE;
	if ((revents & POLLIN) && watch_read(t->watch) < 0)
		return toggle_watch(t);
	while ((lab = watch_next(t->watch)) >= 0) {
		queue_ask(&t->q, lab);
		set_note(t, "%s changed: grading it again.", t->g->labs[lab].lab->id);
		flags = ACT_REDRAW;
	}
	return flags;
}

/* After the first run, show the first lab that did not pass, unless the user has moved. */
static void pick_first_problem(struct tui *t)
{
	int pick = -1;

	engine_lock();
	for (int i = t->g->nlabs - 1; i >= 0; i--)
		if (t->g->labs[i].state != LAB_DONE ||
		    t->g->labs[i].score < t->g->labs[i].max_score)
			pick = i;
	engine_unlock();
	if (pick >= 0)
		select_lab(t, pick);
}

/* ==== Progress, hints, reset and the solution ==== */

/* Keep the progress of a run that ended: best scores, last scores. */
static void save_progress(struct tui *t)
{
	engine_lock();
	progress_update(t->p, t->g);
	engine_unlock();
	if (progress_save(t->p) < 0 && !t->note[0])
		set_note(t, "Your progress cannot be saved in %s: %s", t->p->path, strerror(errno));
}

/* Open the next level of the selected failed test's hint (after the last: close them). */
static int next_hint(struct tui *t)
{
	const struct test_result *x = sel_test(t);
	int levels, level;

	if (!x || !test_failed(x) || !x->hint[0]) {
		set_note(t, "%s", "Hints are for failed tests: select one first.");
		return ACT_REDRAW;
	}
	levels = hint_levels(x->hint);
	level = progress_hint_level(t->p, sel_lab(t)->lab->id, x->name) + 1;
	level = level > levels ? 0 : level;
	progress_set_hint_level(t->p, sel_lab(t)->lab->id, x->name, level);
	progress_save(t->p);
	if (level)
		set_note(t, "Hint %d of %d.%s", level, levels,
			 level < levels ? " Press h again for the next." : "");
	else
		set_note(t, "%s", "Hints closed; h opens them again.");
	return ACT_REDRAW;
}

/* True when lab i is not passed: by this run's result, or else by the progress kept. */
static int unfinished(struct tui *t, int i)
{
	const struct lab_result *l = &t->g->labs[i];

	if (l->state == LAB_DONE)
		return l->score < l->max_score || l->max_score == 0;
	if (l->state == LAB_BUILD_ERROR || l->state == LAB_ERROR)
		return 1;
	return !progress_passed(t->p, l->lab->id);
}

/* Select the next lab not passed yet, after the selected one (wrapping). */
static int next_unfinished(struct tui *t)
{
	int n = t->g->nlabs, found = -1;

	engine_lock();
	for (int k = 1; k <= n && found < 0; k++)
		if (unfinished(t, (t->lab + k) % n))
			found = (t->lab + k) % n;
	engine_unlock();
	t->moved = 1;
	if (found < 0) {
		set_note(t, "%s", "Every lab here is passed.");
		return ACT_REDRAW;
	}
	t->pane = PANE_LABS;
	return select_lab(t, found);
}

/* The reference solution, once the lab is passed (or when IPCLAB_SHOW_SOLUTIONS is set). */
static int show_solution(struct tui *t)
{
	const struct lab_result *l = sel_lab(t);
	const char *env = getenv("IPCLAB_SHOW_SOLUTIONS");

	if (!l)
		return ACT_NONE;
	if (!progress_passed(t->p, l->lab->id) && !(env && *env && strcmp(env, "0") != 0)) {
		set_note(t, "The reference solution of %s opens once every test of it passes.",
			 l->lab->id);
		return ACT_REDRAW;
	}
	t->show_solution = 1;
	t->detail_top = 0;
	t->screen = SCREEN_DETAIL;
	return ACT_REDRAW;
}

static int ask_reset(struct tui *t)
{
	if (!sel_lab(t))
		return ACT_NONE;
	t->confirm_reset = 1;
	set_note(
	    t,
	    "Put the skeleton of %s back? Your file is kept as a backup. y: yes, any other key: no",
	    sel_lab(t)->lab->id);
	t->note_until = now_ms() + 600000;
	return ACT_REDRAW;
}

/* The answer to ask_reset: y resets the lab and grades it again. */
static int answer_reset(struct tui *t, int ch)
{
	const struct lab_result *l = sel_lab(t);
	char *said = NULL;
	size_t len = 0;
	FILE *out;

	t->confirm_reset = 0;
	if (ch != 'y' && ch != 'Y') {
		set_note(t, "%s", "Nothing was reset.");
		return ACT_REDRAW;
	}
	if (queue_busy(&t->q)) {
		set_note(t, "%s", "Grading is under way: reset once it ends.");
		return ACT_REDRAW;
	}
	out = open_memstream(&said, &len);
	if (!out || submission_reset(t->eo->tk, l->lab, t->g->submission, out) < 0)
		set_note(t, "%s could not be reset: see the backup beside your file.", l->lab->id);
	else
		set_note(t, "%s is the skeleton again; your file was kept as NAME.c.backup-DATE.",
			 l->lab->id);
	if (out)
		fclose(out);
	free(said);
	t->note_until = now_ms() + 8000;
	queue_ask(&t->q, t->lab);
	return ACT_REDRAW;
}

/* ==== Keys ==== */

/* Keys that mean the same on every screen but the too-small one. */
static int key_global(struct tui *t, int ch)
{
	switch (ch) {
	case 'q':
	case 'Q':
		return ACT_QUIT;
	case '?':
		t->screen = SCREEN_HELP;
		return ACT_REDRAW;
	case 'r':
		return rerun_lab(t);
	case 'a':
		return rerun_all(t);
	case 'h':
		return next_hint(t);
	case 'n':
		return next_unfinished(t);
	case 's':
		return show_solution(t);
	case 'R':
		return ask_reset(t);
	case 'w':
		return toggle_watch(t);
	case KEY_RESIZE:
	case 'L' & 0x1f: /* Ctrl-L: paint the whole screen again */
		return ACT_RESIZE;
	default:
		return ACT_NONE;
	}
}

static int key_main(struct tui *t, int ch)
{
	switch (ch) {
	case KEY_UP:
	case 'k':
		return move_by(t, -1);
	case KEY_DOWN:
	case 'j':
		return move_by(t, 1);
	case KEY_PPAGE:
		return move_by(t, -page(t));
	case KEY_NPAGE:
		return move_by(t, page(t));
	case KEY_HOME:
	case 'g':
		return move_by(t, -100000);
	case KEY_END:
	case 'G':
		return move_by(t, 100000);
	case '\t':
	case KEY_RIGHT:
		t->pane = (t->pane + 1) % PANE_COUNT;
		return ACT_REDRAW;
	case KEY_BTAB:
	case KEY_LEFT:
		t->pane = (t->pane + PANE_COUNT - 1) % PANE_COUNT;
		return ACT_REDRAW;
	case '\r':
	case '\n':
	case KEY_ENTER:
		if (t->pane == PANE_LABS)
			t->pane = PANE_TESTS;
		else
			t->screen = SCREEN_DETAIL;
		return ACT_REDRAW;
	default:
		return key_global(t, ch);
	}
}

/* The whole detail of a test: movement keys scroll it; Esc, Enter or Backspace go back. */
static int key_detail(struct tui *t, int ch)
{
	enum pane focus = t->pane;
	int flags;

	switch (ch) {
	case 27: /* Esc */
	case KEY_BACKSPACE:
	case 127:
	case '\b':
	case KEY_LEFT:
	case '\r':
	case '\n':
	case KEY_ENTER:
		t->screen = SCREEN_MAIN;
		t->show_solution = 0;
		return ACT_REDRAW;
	case '\t':
	case KEY_BTAB:
	case KEY_RIGHT:
		return ACT_NONE;
	default:
		t->pane = PANE_DETAIL;
		flags = key_main(t, ch);
		t->pane = focus;
		return flags;
	}
}

/* Help: q quits, a resize redraws it, any other key goes back. */
static int key_help(struct tui *t, int ch)
{
	if (ch == 'q' || ch == 'Q')
		return ACT_QUIT;
	if (ch != KEY_RESIZE)
		t->screen = SCREEN_MAIN;
	return ACT_RESIZE;
}

/* Too small: only q and a resize mean anything. */
static int key_small(struct tui *t, int ch)
{
	(void)t;
	if (ch == 'q' || ch == 'Q')
		return ACT_QUIT;
	return ch == KEY_RESIZE ? ACT_RESIZE : ACT_NONE;
}

static int key(struct tui *t, int ch)
{
	t->note[0] = '\0';
	if (t->confirm_reset && ch != KEY_RESIZE)
		return answer_reset(t, ch);
	switch (screen_now(t)) {
	case SCREEN_DETAIL:
		return key_detail(t, ch);
	case SCREEN_HELP:
		return key_help(t, ch);
	case SCREEN_SMALL:
		return key_small(t, ch);
	default:
		return key_main(t, ch);
	}
}

/* ==== The loop ==== */

static void drain(int fd)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* How long poll() may sleep: until the spinner moves or a watched change settles. */
static int loop_timeout(struct tui *t, int busy)
{
	int w = t->watch ? watch_timeout(t->watch) : -1;
	long long note = t->note[0] ? t->note_until - now_ms() : -1;

	if (busy && (w < 0 || w > SPIN_MS))
		w = SPIN_MS;
	if (note >= 0 && (w < 0 || note < w))
		w = (int)note + 1;
	return w;
}

/* Sleep until something happens; handle it. Returns the actions' flags. */
static int wait_events(struct tui *t, int wake)
{
	int busy = queue_busy(&t->q), flags = ACT_NONE, ch;
	struct pollfd p[3] = {{.fd = STDIN_FILENO, .events = POLLIN},
			      {.fd = wake, .events = POLLIN},
			      {.fd = t->watch ? watch_fd(t->watch) : -1, .events = POLLIN}};

	if (poll(p, 3, loop_timeout(t, busy)) < 0 && errno != EINTR)
		return ACT_QUIT;
	if (got_signal || (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
		return ACT_QUIT;
	if (p[1].revents & POLLIN)
		drain(wake);
	while ((ch = getch()) != ERR)
		flags |= key(t, ch);
	flags |= watch_events(t, p[2].revents);
	busy |= queue_busy(&t->q);
	if (t->was_busy && !queue_busy(&t->q))
		save_progress(t);
	if (t->was_busy && !queue_busy(&t->q) && !t->moved)
		pick_first_problem(t);
	t->was_busy = queue_busy(&t->q);
	t->spin += busy;
	return flags | ((p[1].revents & POLLIN) || busy ? ACT_REDRAW : ACT_NONE);
}

static void run_loop(struct tui *t, int wake)
{
	int flags = ACT_REDRAW;

	while (!(flags & ACT_QUIT)) {
		if (flags & ACT_RESIZE)
			clearok(curscr, TRUE);
		if (flags & (ACT_REDRAW | ACT_RESIZE))
			draw(t);
		flags = wait_events(t, wake);
	}
}

/* ==== Starting and stopping ==== */

/* Put the terminal in curses mode. Returns 0, or -1 when it cannot be used. */
static int screen_start(void)
{
	SCREEN *s;

	setlocale(LC_CTYPE, "");
	if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
		return -1;
	ui_pid = getpid();
	install_signals(1);
	s = newterm(NULL, stdout, stdin);
	if (!s) {
		install_signals(0);
		return -1;
	}
	set_term(s);
	save_reset_sequence();
	screen_on = 1;
	atexit(emergency_restore); /* a thread that calls exit() leaves the terminal usable */
	hold_stderr();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	theme_init();
	chain_winch();
	return 0;
}

static void screen_stop(void)
{
	endwin();
	screen_on = 0;
	release_stderr();
}

static void tui_init(struct tui *t, const struct engine_opts *eo, struct grade_result *g,
		     struct progress *p)
{
	memset(t, 0, sizeof(*t));
	t->g = g;
	t->eo = eo;
	t->view = (struct engine_view){tui_changed, t};
	t->p = p;
	pthread_mutex_init(&t->q.lock, NULL);
	pthread_cond_init(&t->q.wake, NULL);
	t->q.nlabs = g->nlabs;
	t->q.want = xcalloc((size_t)(g->nlabs ? g->nlabs : 1), 1);
	t->q.running = RUN_NONE;
	t->q.all = 1; /* the first run grades every lab */
	for (int i = 0; i < g->nlabs; i++)
		if (!progress_passed(p, g->labs[i].lab->id)) {
			select_lab(t, i); /* open where the student left off */
			break;
		}
}

/* The exit status the model calls for. */
static int run_status(struct tui *t)
{
	int status;

	pthread_mutex_lock(&t->q.lock);
	status = t->q.failed ? 2 : -1;
	pthread_mutex_unlock(&t->q.lock);
	if (status < 0) {
		engine_lock();
		status = t->g->score == t->g->max_score && t->g->max_score > 0 ? 0 : 1;
		engine_unlock();
	}
	return status;
}

/* End the grading thread and wait for it. Returns -1, doing nothing, while it is grading. */
static int stop_grading(struct tui *t)
{
	if (queue_busy(&t->q))
		return -1;
	pthread_mutex_lock(&t->q.lock);
	t->q.quit = 1;
	pthread_cond_signal(&t->q.wake);
	pthread_mutex_unlock(&t->q.lock);
	pthread_join(t->thread, NULL);
	return 0;
}

int tui_run(const struct engine_opts *eo, struct grade_result *g, int watch, struct progress *p)
{
	struct tui t;
	int pipefd[2], status;

	if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	wake_fd = pipefd[1];
	if (screen_start() < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		wake_fd = -1;
		return -1;
	}
	tui_init(&t, eo, g, p);
	if (watch)
		toggle_watch(&t);
	if (pthread_create(&t.thread, NULL, grading_thread, &t) != 0)
		err_die("pthread_create:");
	run_loop(&t, pipefd[0]);
	screen_stop();
	status = run_status(&t);
	if (got_signal) {
		sandbox_abandon();
		signal(got_signal, SIG_DFL);
		raise(got_signal);
	}
	if (stop_grading(&t) < 0) {
		sandbox_abandon();
		_exit(status); /* tests are running on the model: they end with the process */
	}
	watch_close(t.watch);
	free(t.q.want);
	close(pipefd[0]);
	close(pipefd[1]);
	wake_fd = -1;
	return status;
}
