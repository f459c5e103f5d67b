/*
 * Reports (see report.h): text for a person, JSON for programs, and the
 * formats that CI systems and course platforms read. All read the model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define OUTPUT_LINES 12 /* lines of a failed test's output shown in text */
#define XRAY_LINES   40 /* lines of a failed test's X-ray shown in text (all of it) */

/* ==== Escaping ==== */

/*
 * Decode the UTF-8 sequence at s into *cp. Returns its length, or 0 when
 * the bytes are not valid UTF-8: a stray continuation byte, a sequence cut
 * short, an overlong form, a surrogate or a code point above U+10FFFF.
 */
static int utf8_next(const unsigned char *s, unsigned *cp)
{
	static const unsigned least[] = {0, 0, 0x80, 0x800, 0x10000};
	int n = s[0] < 0x80         ? 1
		: (s[0] >> 5) == 6  ? 2
		: (s[0] >> 4) == 14 ? 3
		: (s[0] >> 3) == 30 ? 4
				    : 0;
	unsigned c = n == 1 ? s[0] : s[0] & (0xffu >> (n + 1));

	if (n == 0)
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Each format escapes text with one function: it gets a character (a code
 * point, or REPLACEMENT for bytes that are not UTF-8) and the bytes that
 * spell it, and writes what the format needs.
 */
#define REPLACEMENT 0xfffd

typedef void (*escape_fn)(FILE *f, unsigned c, const unsigned char *bytes, int n);

/* Write s (NULL counts as "") through esc, character by character. */
static void put_escaped(FILE *f, const char *s, escape_fn esc)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		unsigned c;
		int n = utf8_next(p, &c);

		if (n == 0)
			esc(f, REPLACEMENT, (const unsigned char *)"\xef\xbf\xbd", 3);
		else
			esc(f, c, p, n);
		p += n ? n : 1;
	}
}

/* ==== Text ==== */

static const char *colour(int on, enum test_status s)
{
	if (!on)
		return "";
	switch (s) {
	case TEST_PASS:
		return "\033[32m";
	case TEST_SKIPPED:
	case TEST_PENDING:
		return "\033[2m";
	default:
		return "\033[31m";
	}
}

static const char *reset(int on)
{
	return on ? "\033[0m" : "";
}

/* Control characters in caret notation (ESC is ^[), as cat -v shows them. */
static void text_escape(FILE *f, unsigned c, const unsigned char *bytes, int n)
{
	if ((c < 0x20 && c != '\t') || c == 0x7f)
		fprintf(f, "^%c", c ^ 0x40);
	else
		fwrite(bytes, 1, (size_t)n, f);
}

/*
 * Print prefix and the first n bytes of text as one line. What a test
 * printed may hold escape sequences: they are shown, never obeyed.
 */
static void text_line(FILE *f, const char *prefix, const char *text, size_t n)
{
	char *line = strndup(text, n);

	fputs(prefix, f);
	put_escaped(f, line ? line : "", text_escape);
	fputc('\n', f);
	free(line);
}

/* Print text with each line indented by prefix and wrapped at width, at most max_lines lines. */
static void wrapped(FILE *f, const char *prefix, const char *text, int width, int max_lines)
{
	int lines = 0;

	while (*text && lines < max_lines) {
		size_t n = strcspn(text, "\n"), cut = n;

		if (width > 0 && n > (size_t)width) {
			cut = (size_t)width;
			while (cut > (size_t)width / 2 && text[cut] != ' ')
				cut--;
			if (text[cut] != ' ')
				cut = (size_t)width;
		}
		text_line(f, prefix, text, cut);
		text += cut;
		text += *text == '\n' || (cut < n && *text == ' ');
		lines++;
	}
	if (*text)
		fprintf(f, "%s[...]\n", prefix);
}

/* Print text with each line indented by prefix, unwrapped, at most max_lines lines. */
static void indented(FILE *f, const char *prefix, const char *text, int max_lines)
{
	wrapped(f, prefix, text, 0, max_lines);
}

static void score_bar(FILE *f, int score, int max)
{
	int filled = max > 0 ? score * 10 / max : 0;

	fputc('[', f);
	for (int i = 0; i < 10; i++)
		fputc(i < filled ? '#' : '.', f);
	fputc(']', f);
}

static const char *lab_verdict(const struct lab_result *l)
{
	if (l->state == LAB_BUILD_ERROR)
		return "BUILD ERROR";
	if (l->state == LAB_ERROR)
		return "NOT GRADED";
	if (l->state != LAB_DONE)
		return lab_state_name(l->state);
	return l->score == l->max_score ? "PASS" : "FAIL";
}

/* The hint's levels after the first, for the line that says they exist. */
static int more_hints(const char *hint)
{
	int n = 0;

	for (const char *p = strchr(hint, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
		n++;
	return n;
}

static void text_test(FILE *f, const struct lab_result *l, const struct test_result *t, int color)
{
	char label[16];

	snprintf(label, sizeof(label), "%s", test_status_name(t->status));
	for (char *p = label; *p; p++)
		*p = (char)(*p - 32 * (*p >= 'a' && *p <= 'z'));
	fprintf(f, "   %s%-7s%s %-44s %2d/%-2d", colour(color, t->status), label, reset(color),
		t->name, t->points, t->max_points);
	if (t->duration_ms >= 1000)
		fprintf(f, "  %.1fs", (double)t->duration_ms / 1000);
	fputc('\n', f);
	if (!test_failed(t) || t->status == TEST_SKIPPED)
		return;
	/* A message with a diff (suite_same_text) keeps its lines. */
	wrapped(f, "           ", t->message, 88, strstr(t->message, "\n--- expected\n") ? 40 : 10);
	if (t->hint[0]) {
		char hint[512];
		int more = more_hints(t->hint);

		snprintf(hint, sizeof(hint), "hint: %.*s", (int)strcspn(t->hint, "\n"), t->hint);
		wrapped(f, "           ", hint, 88, 4);
		if (more)
			fprintf(f,
				"           (%d more hint%s: press h in the TUI, one at a time)\n",
				more, more > 1 ? "s" : "");
	}
	if (t->seed)
		fprintf(f, "           re-run just this: build/ipcgrade %.2s --test %s --seed %u\n",
			l->lab->id, t->name, t->seed);
	if (t->xray) {
		fprintf(f, "           X-ray at the moment it failed:\n");
		indented(f, "             ", t->xray, XRAY_LINES);
	}
	if (t->output[0]) {
		fprintf(f, "           output%s:\n",
			t->output_total > strlen(t->output) ? " (cut: the test printed more)" : "");
		indented(f, "           | ", t->output, OUTPUT_LINES);
	}
}

void report_text_lab(FILE *f, const struct grade_result *g, int li, int color)
{
	const struct lab_result *l = &g->labs[li];
	int skipped = 0;

	fprintf(f, "\n%-52s ", l->lab->title);
	score_bar(f, l->score, l->max_score);
	fprintf(f, " %3d/%-3d %s\n", l->score, l->max_score, lab_verdict(l));
	fprintf(f, "   lab %s, from ", l->lab->id);
	text_line(f, "", l->source_dir, strlen(l->source_dir));
	if (l->error)
		text_line(f, "   ", l->error, strlen(l->error));
	if (l->state == LAB_BUILD_ERROR || (l->state == LAB_ERROR && l->build_log))
		indented(f, "   | ", l->build_log, 30);
	for (int i = 0; i < l->ntests; i++) {
		skipped += l->tests[i].status == TEST_SKIPPED;
		if (l->state == LAB_DONE)
			text_test(f, l, &l->tests[i], color);
	}
	if (l->state != LAB_DONE && l->ntests)
		fprintf(f, "   %d tests not run.\n", skipped);
}

void report_text_header(FILE *f, const struct grade_result *g, int color)
{
	fprintf(f, "%sIPC Labs grader%s: ", color ? "\033[1m" : "", reset(color));
	text_line(f, "", g->submission, strlen(g->submission));
	fprintf(f, "sandbox: %s\n", g->sandbox);
}

void report_text_summary(FILE *f, const struct grade_result *g, int color)
{
	const struct lab_result *first = NULL;
	const struct test_result *ft = NULL;
	int passed = 0;

	for (int i = 0; i < g->nlabs; i++) {
		const struct lab_result *l = &g->labs[i];

		passed += l->state == LAB_DONE && l->score == l->max_score;
		for (int j = 0; j < l->ntests && !ft; j++)
			if (test_failed(&l->tests[j]) && l->tests[j].status != TEST_SKIPPED) {
				first = l;
				ft = &l->tests[j];
			}
		if (!first && l->score < l->max_score)
			first = l;
	}
	fprintf(f, "\n%sTotal: %d/%d%s, %d of %d labs complete.\n", color ? "\033[1m" : "",
		g->score, g->max_score, reset(color), passed, g->nlabs);
	if (ft)
		fprintf(f, "Next: lab %s, test %s. Re-run it with: build/ipcgrade %.2s\n",
			first->lab->id, ft->name, first->lab->id);
	else if (first)
		fprintf(f, "Next: lab %s.\n", first->lab->id);
}

static int write_text(FILE *f, const struct grade_result *g)
{
	report_text_header(f, g, 0);
	for (int i = 0; i < g->nlabs; i++)
		report_text_lab(f, g, i, 0);
	report_text_summary(f, g, 0);
	return 0;
}

/* ==== JSON ==== */

static void json_escape(FILE *f, unsigned c, const unsigned char *bytes, int n)
{
	if (c == '"' || c == '\\')
		fprintf(f, "\\%c", c);
	else if (c == '\n')
		fputs("\\n", f);
	else if (c == '\t')
		fputs("\\t", f);
	else if (c < 0x20 || c == 0x7f)
		fprintf(f, "\\u%04x", c);
	else
		fwrite(bytes, 1, (size_t)n, f);
}

/* Write s as a JSON string; bytes that are not UTF-8 become U+FFFD. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	put_escaped(f, s, json_escape);
	fputc('"', f);
}

static int output_cut(const struct test_result *t)
{
	return t->output_total > strlen(t->output);
}

static void json_test(FILE *f, const struct test_result *t)
{
	fputs("        {\"name\": ", f);
	json_str(f, t->name);
	fprintf(f, ", \"status\": \"%s\", \"points\": %d, \"max_points\": %d,\n",
		test_status_name(t->status), t->points, t->max_points);
	fputs("         \"message\": ", f);
	json_str(f, t->message);
	fputs(", \"hint\": ", f);
	json_str(f, t->hint);
	fputs(",\n         \"output\": ", f);
	json_str(f, t->output);
	if (t->xray) {
		fputs(",\n         \"xray\": ", f);
		json_str(f, t->xray);
	}
	fprintf(f, ", \"output_truncated\": %s, \"duration_ms\": %ld, \"seed\": %u}",
		output_cut(t) ? "true" : "false", t->duration_ms, t->seed);
}

static void json_lab(FILE *f, const struct lab_result *l)
{
	fputs("    {\"id\": ", f);
	json_str(f, l->lab->id);
	fputs(", \"title\": ", f);
	json_str(f, l->lab->title);
	fprintf(f, ", \"state\": \"%s\", \"score\": %d, \"max_score\": %d,\n",
		lab_state_name(l->state), l->score, l->max_score);
	fprintf(f, "     \"build\": {\"ok\": %s, \"log\": ", l->build_ok ? "true" : "false");
	json_str(f, l->build_log);
	fputs("},\n     \"error\": ", f);
	if (l->error)
		json_str(f, l->error);
	else
		fputs("null", f);
	fputs(",\n     \"tests\": [\n", f);
	for (int j = 0; j < l->ntests; j++) {
		json_test(f, &l->tests[j]);
		fputs(j + 1 < l->ntests ? ",\n" : "\n", f);
	}
	fputs("     ]}", f);
}

static void write_json(FILE *f, const struct grade_result *g)
{
	fputs("{\n  \"submission\": ", f);
	json_str(f, g->submission);
	fputs(",\n  \"sandbox\": ", f);
	json_str(f, g->sandbox);
	fprintf(f, ", \"seed\": %u", g->seed);
	fprintf(f, ",\n  \"score\": %d,\n  \"max_score\": %d,\n  \"labs\": [\n", g->score,
		g->max_score);
	for (int i = 0; i < g->nlabs; i++) {
		json_lab(f, &g->labs[i]);
		fputs(i + 1 < g->nlabs ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
}

/* ==== What CI formats make of a result ==== */

/*
 * TAP, JUnit and Gradescope know passed, failed, errored and skipped. A test
 * that did not run because its lab did not build is an error there, not a
 * skip: a skip reads as success in CI, and code that does not compile has
 * not passed anything.
 */
enum verdict { V_PASS, V_FAIL, V_ERROR, V_SKIP };

static int lab_not_built(const struct lab_result *l)
{
	return l->state == LAB_BUILD_ERROR || l->state == LAB_ERROR;
}

static enum verdict verdict(const struct lab_result *l, const struct test_result *t)
{
	switch (t->status) {
	case TEST_PASS:
		return V_PASS;
	case TEST_FAIL:
		return V_FAIL;
	case TEST_SKIPPED:
		return lab_not_built(l) ? V_ERROR : V_SKIP;
	default:
		return V_ERROR; /* error, timeout, crash, or never finished */
	}
}

/* Why the lab was not graded, for a lab that has no tests to report. */
static const char *lab_problem(const struct lab_result *l)
{
	if (l->error)
		return l->error;
	return l->state == LAB_BUILD_ERROR ? "The code did not compile."
					   : "The lab was not graded.";
}

/* ==== TAP ==== */

/* In a YAML double-quoted scalar (as TAP::Parser's YAMLish reads it). */
static void yaml_escape(FILE *f, unsigned c, const unsigned char *bytes, int n)
{
	if (c == '"' || c == '\\')
		fprintf(f, "\\%c", c);
	else if (c == '\n')
		fputs("\\n", f);
	else if (c == '\t')
		fputs("\\t", f);
	else if (c < 0x20 || c == 0x7f)
		fprintf(f, "\\x%02x", c);
	else
		fwrite(bytes, 1, (size_t)n, f);
}

/* In a test line's description or a comment: one line, no directive. */
static void tap_line_escape(FILE *f, unsigned c, const unsigned char *bytes, int n)
{
	if (c == '#' || c == '\\')
		fprintf(f, "\\%c", c);
	else if (c < 0x20 || c == 0x7f)
		fprintf(f, "\\x%02x", c);
	else
		fwrite(bytes, 1, (size_t)n, f);
}

static void yaml_field(FILE *f, const char *key, const char *value)
{
	fprintf(f, "  %s: \"", key);
	put_escaped(f, value, yaml_escape);
	fputs("\"\n", f);
}

/* The YAML diagnostics of a test that did not pass. */
static void tap_diagnostics(FILE *f, const struct lab_result *l, const struct test_result *t)
{
	fputs("  ---\n", f);
	yaml_field(f, "message", t->message);
	fprintf(f, "  severity: %s\n", verdict(l, t) == V_FAIL ? "fail" : "error");
	fprintf(f, "  status: %s\n", test_status_name(t->status));
	fprintf(f, "  points: %d\n  max_points: %d\n", t->points, t->max_points);
	if (t->hint[0])
		yaml_field(f, "hint", t->hint);
	if (t->output[0])
		yaml_field(f, "output", t->output);
	if (lab_not_built(l) && l->build_log && l->build_log[0])
		yaml_field(f, "build_log", l->build_log);
	fprintf(f, "  duration_ms: %ld\n  ...\n", t->duration_ms);
}

static void tap_test(FILE *f, int n, const struct lab_result *l, const struct test_result *t)
{
	enum verdict v = verdict(l, t);

	fprintf(f, "%s %d - %s: ", v == V_PASS || v == V_SKIP ? "ok" : "not ok", n, l->lab->id);
	put_escaped(f, t->name, tap_line_escape);
	if (v == V_SKIP) {
		fputs(" # SKIP ", f);
		put_escaped(f, t->message[0] ? t->message : "not run", tap_line_escape);
	}
	fputc('\n', f);
	if (v == V_FAIL || v == V_ERROR)
		tap_diagnostics(f, l, t);
}

/* A lab that has no tests to list still gets a line, so that it cannot pass unseen. */
static void tap_lab_problem(FILE *f, int n, const struct lab_result *l)
{
	fprintf(f, "not ok %d - %s: grading\n  ---\n", n, l->lab->id);
	yaml_field(f, "message", lab_problem(l));
	fprintf(f, "  severity: error\n  status: %s\n", lab_state_name(l->state));
	if (l->build_log && l->build_log[0])
		yaml_field(f, "build_log", l->build_log);
	fputs("  ...\n", f);
}

static void write_tap(FILE *f, const struct grade_result *g)
{
	int lines = 0, n = 0;

	for (int i = 0; i < g->nlabs; i++)
		lines += g->labs[i].ntests ? g->labs[i].ntests : 1;
	fprintf(f, "TAP version 13\n1..%d\n# IPC Labs grader: ", lines);
	put_escaped(f, g->submission, tap_line_escape);
	fputc('\n', f);
	for (int i = 0; i < g->nlabs; i++) {
		const struct lab_result *l = &g->labs[i];

		fprintf(f, "# %s: ", l->lab->id);
		put_escaped(f, l->lab->title, tap_line_escape);
		fprintf(f, ": %d/%d, %s\n", l->score, l->max_score, lab_state_name(l->state));
		for (int j = 0; j < l->ntests; j++)
			tap_test(f, ++n, l, &l->tests[j]);
		if (l->ntests == 0)
			tap_lab_problem(f, ++n, l);
	}
	fprintf(f, "# Total: %d/%d\n", g->score, g->max_score);
}

/* ==== JUnit XML ==== */

/*
 * XML 1.0 cannot hold most control characters, not even as references: they
 * are shown as the matching Control Pictures (U+2400 to U+241F, and U+2421
 * for DEL), so that "\x1b[31m" reads as "␛[31m". Bytes that are not UTF-8
 * become U+FFFD.
 */
static void xml_escape_any(FILE *f, unsigned c, const unsigned char *bytes, int n, int attr)
{
	if (c == '<')
		fputs("&lt;", f);
	else if (c == '>')
		fputs("&gt;", f);
	else if (c == '&')
		fputs("&amp;", f);
	else if (c == '"' && attr)
		fputs("&quot;", f);
	else if (c == '\r' || (attr && (c == '\n' || c == '\t')))
		fprintf(f, "&#%u;", c); /* kept as they are: a parser would normalise them */
	else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
		fprintf(f, "&#x%x;", c == 0x7f ? 0x2421 : 0x2400 + c);
	else if (c == 0xfffe || c == 0xffff)
		fputs("&#xfffd;", f);
	else
		fwrite(bytes, 1, (size_t)n, f);
}

static void xml_text_escape(FILE *f, unsigned c, const unsigned char *bytes, int n)
{
	xml_escape_any(f, c, bytes, n, 0);
}

static void xml_attr_escape(FILE *f, unsigned c, const unsigned char *bytes, int n)
{
	xml_escape_any(f, c, bytes, n, 1);
}

/* Write name="value" with value escaped. */
static void xml_attr(FILE *f, const char *name, const char *value)
{
	fprintf(f, " %s=\"", name);
	put_escaped(f, value, xml_attr_escape);
	fputc('"', f);
}

static void xml_property(FILE *f, const char *name, const char *value)
{
	fputs("      <property", f);
	xml_attr(f, "name", name);
	xml_attr(f, "value", value);
	fputs("/>\n", f);
}

struct counts {
	int tests, failures, errors, skipped;
	long ms;
};

static void count_lab(const struct lab_result *l, struct counts *c)
{
	c->tests += l->ntests ? l->ntests : 1;
	c->errors += l->ntests == 0;
	for (int j = 0; j < l->ntests; j++) {
		enum verdict v = verdict(l, &l->tests[j]);

		c->failures += v == V_FAIL;
		c->errors += v == V_ERROR;
		c->skipped += v == V_SKIP;
		c->ms += l->tests[j].duration_ms;
	}
}

static void junit_counts(FILE *f, const struct counts *c)
{
	fprintf(f, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\"",
		c->tests, c->failures, c->errors, c->skipped, (double)c->ms / 1000);
}

/* The body of a failure or an error: the message, the hint, the build log. */
static void junit_problem(FILE *f, const struct lab_result *l, const struct test_result *t)
{
	enum verdict v = verdict(l, t);

	fprintf(f, "        <%s", v == V_FAIL ? "failure" : "error");
	xml_attr(f, "message", t->message);
	xml_attr(f, "type",
		 lab_not_built(l) ? lab_state_name(l->state) : test_status_name(t->status));
	fputc('>', f);
	put_escaped(f, t->message, xml_text_escape);
	if (t->hint[0]) {
		fputs("\nHint: ", f);
		put_escaped(f, t->hint, xml_text_escape);
	}
	if (t->xray) {
		fputs("\nX-ray at the moment it failed:\n", f);
		put_escaped(f, t->xray, xml_text_escape);
	}
	if (lab_not_built(l) && l->build_log && l->build_log[0]) {
		fputs("\nBuild log:\n", f);
		put_escaped(f, l->build_log, xml_text_escape);
	}
	fprintf(f, "</%s>\n", v == V_FAIL ? "failure" : "error");
}

static void junit_test(FILE *f, const struct lab_result *l, const struct test_result *t)
{
	enum verdict v = verdict(l, t);

	fputs("    <testcase", f);
	xml_attr(f, "classname", l->lab->id);
	xml_attr(f, "name", t->name);
	fprintf(f, " time=\"%.3f\">\n", (double)t->duration_ms / 1000);
	if (v == V_SKIP) {
		fputs("        <skipped", f);
		xml_attr(f, "message", t->message);
		fputs("/>\n", f);
	} else if (v != V_PASS) {
		junit_problem(f, l, t);
	}
	if (t->output[0]) {
		fputs("        <system-out>", f);
		put_escaped(f, t->output, xml_text_escape);
		if (output_cut(t))
			fprintf(f, "\n[cut: the test printed %zu bytes]", t->output_total);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
}

static void junit_lab_problem(FILE *f, const struct lab_result *l)
{
	fputs("    <testcase", f);
	xml_attr(f, "classname", l->lab->id);
	fputs(" name=\"grading\" time=\"0.000\">\n        <error", f);
	xml_attr(f, "message", lab_problem(l));
	xml_attr(f, "type", lab_state_name(l->state));
	fputc('>', f);
	put_escaped(f, l->build_log ? l->build_log : "", xml_text_escape);
	fputs("</error>\n    </testcase>\n", f);
}

static void junit_lab(FILE *f, const struct grade_result *g, const struct lab_result *l)
{
	struct counts c = {0};
	char num[32];

	count_lab(l, &c);
	fputs("  <testsuite", f);
	xml_attr(f, "name", l->lab->id);
	junit_counts(f, &c);
	fputs(">\n    <properties>\n", f);
	xml_property(f, "title", l->lab->title);
	xml_property(f, "submission", g->submission);
	xml_property(f, "state", lab_state_name(l->state));
	snprintf(num, sizeof(num), "%d", l->score);
	xml_property(f, "score", num);
	snprintf(num, sizeof(num), "%d", l->max_score);
	xml_property(f, "max_score", num);
	fputs("    </properties>\n", f);
	for (int j = 0; j < l->ntests; j++)
		junit_test(f, l, &l->tests[j]);
	if (l->ntests == 0)
		junit_lab_problem(f, l);
	if (l->build_log && l->build_log[0]) {
		fputs("    <system-err>", f);
		put_escaped(f, l->build_log, xml_text_escape);
		fputs("</system-err>\n", f);
	}
	fputs("  </testsuite>\n", f);
}

static void write_junit(FILE *f, const struct grade_result *g)
{
	struct counts all = {0};

	for (int i = 0; i < g->nlabs; i++)
		count_lab(&g->labs[i], &all);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ipcgrade\"", f);
	junit_counts(f, &all);
	fputs(">\n", f);
	for (int i = 0; i < g->nlabs; i++)
		junit_lab(f, g, &g->labs[i]);
	fputs("</testsuites>\n", f);
}

/* ==== Gradescope ==== */

/* A piece of a JSON string: the caller writes the quotes. */
static void json_part(FILE *f, const char *s)
{
	put_escaped(f, s, json_escape);
}

/* A test's output on Gradescope: message, hint, what it printed, the build log. */
static void gradescope_output(FILE *f, const struct lab_result *l, const struct test_result *t)
{
	fputc('"', f);
	json_part(f, t->status == TEST_PASS ? "Passed." : t->message);
	if (t->status != TEST_PASS && t->hint[0]) {
		char more[512];
		int n = more_hints(t->hint);

		/* Only the first level: the others are for a student who asks, in the TUI. */
		snprintf(more, sizeof(more), "%.*s", (int)strcspn(t->hint, "\n"), t->hint);
		json_part(f, "\n\nHint: ");
		json_part(f, more);
		snprintf(more, sizeof(more), " (%d more in the grader's TUI: press h)", n);
		if (n)
			json_part(f, more);
	}
	if (t->xray) {
		json_part(f, "\n\nX-ray at the moment it failed:\n");
		json_part(f, t->xray);
	}
	if (t->output[0]) {
		json_part(f, output_cut(t) ? "\n\nOutput (cut: the test printed more):\n"
					   : "\n\nOutput:\n");
		json_part(f, t->output);
	}
	if (lab_not_built(l) && l->build_log && l->build_log[0]) {
		json_part(f, "\n\nBuild log:\n");
		json_part(f, l->build_log);
	}
	fputc('"', f);
}

static void gradescope_test(FILE *f, const struct lab_result *l, int j)
{
	const struct test_result *t = &l->tests[j];

	fputs("    {\"name\": \"", f);
	json_part(f, l->lab->id);
	json_part(f, ": ");
	json_part(f, t->name);
	fprintf(f, "\", \"number\": \"%d.%d\", \"score\": %d, \"max_score\": %d,\n", l->lab->number,
		j + 1, t->points, t->max_points);
	fprintf(f, "     \"status\": \"%s\", \"visibility\": \"visible\", \"tags\": [",
		t->status == TEST_PASS ? "passed" : "failed");
	json_str(f, l->lab->id);
	fputs("],\n     \"output_format\": \"text\", \"output\": ", f);
	gradescope_output(f, l, t);
	fputc('}', f);
}

/* The submission's own output: the score of each lab, and why a lab was not graded. */
static void gradescope_summary(FILE *f, const struct grade_result *g)
{
	char line[160];

	fputc('"', f);
	snprintf(line, sizeof(line), "IPC Labs: %d/%d\n", g->score, g->max_score);
	json_part(f, line);
	for (int i = 0; i < g->nlabs; i++) {
		const struct lab_result *l = &g->labs[i];

		snprintf(line, sizeof(line), "%s: %d/%d, %s\n", l->lab->id, l->score, l->max_score,
			 lab_state_name(l->state));
		json_part(f, line);
		if (lab_not_built(l)) {
			json_part(f, lab_problem(l));
			json_part(f, "\n");
			json_part(f, l->build_log);
		}
	}
	fputc('"', f);
}

static void write_gradescope(FILE *f, const struct grade_result *g)
{
	int first = 1;

	fprintf(f, "{\n  \"score\": %d,\n  \"output\": ", g->score);
	gradescope_summary(f, g);
	fputs(",\n  \"output_format\": \"text\",\n  \"test_output_format\": \"text\",\n", f);
	fputs("  \"visibility\": \"visible\",\n  \"stdout_visibility\": \"hidden\",\n", f);
	fprintf(f, "  \"extra_data\": {\"max_score\": %d, \"sandbox\": ", g->max_score);
	json_str(f, g->sandbox);
	fputs("},\n  \"tests\": [\n", f);
	for (int i = 0; i < g->nlabs; i++)
		for (int j = 0; j < g->labs[i].ntests; j++) {
			fputs(first ? "" : ",\n", f);
			gradescope_test(f, &g->labs[i], j);
			first = 0;
		}
	fputs("\n  ]\n}\n", f);
}

/* ==== Choosing a format ==== */

int report_format_from(const char *name)
{
	static const char *const names[] = {"tui", "text", "tap", "json", "junit", "gradescope"};

	for (int i = 0; i < 6; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

int report_write(FILE *f, const struct grade_result *g, enum report_format fmt)
{
	switch (fmt) {
	case FMT_JSON:
		write_json(f, g);
		break;
	case FMT_TAP:
		write_tap(f, g);
		break;
	case FMT_JUNIT:
		write_junit(f, g);
		break;
	case FMT_GRADESCOPE:
		write_gradescope(f, g);
		break;
	default:
		write_text(f, g);
		break;
	}
	fflush(f);
	return ferror(f) ? -1 : 0;
}
