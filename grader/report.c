/*
 * Reports (see report.h): text for a person, JSON for programs, and the
 * formats that CI systems and course platforms read. All read the model.
 */
#include <stdio.h>
#include <string.h>

#include "report.h"

#define OUTPUT_LINES 12 /* lines of a failed test's output shown in text */

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
		fprintf(f, "%s%.*s\n", prefix, (int)cut, text);
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

static void text_test(FILE *f, const struct test_result *t, int color)
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
	wrapped(f, "           ", t->message, 88, 10);
	if (t->hint[0]) {
		char hint[512];

		snprintf(hint, sizeof(hint), "hint: %s", t->hint);
		wrapped(f, "           ", hint, 88, 4);
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
	fprintf(f, "   lab %s, from %s\n", l->lab->id, l->source_dir);
	if (l->error)
		fprintf(f, "   %s\n", l->error);
	if (l->state == LAB_BUILD_ERROR || (l->state == LAB_ERROR && l->build_log))
		indented(f, "   | ", l->build_log, 30);
	for (int i = 0; i < l->ntests; i++) {
		skipped += l->tests[i].status == TEST_SKIPPED;
		if (l->state == LAB_DONE)
			text_test(f, &l->tests[i], color);
	}
	if (l->state != LAB_DONE && l->ntests)
		fprintf(f, "   %d tests not run.\n", skipped);
}

void report_text_header(FILE *f, const struct grade_result *g, int color)
{
	fprintf(f, "%sIPC Labs grader%s: %s\n", color ? "\033[1m" : "", reset(color),
		g->submission);
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

/* Length of the valid UTF-8 sequence at s, or 0 when it is not valid. */
static int utf8_len(const unsigned char *s)
{
	int n = s[0] < 0x80         ? 1
		: (s[0] >> 5) == 6  ? 2
		: (s[0] >> 4) == 14 ? 3
		: (s[0] >> 3) == 30 ? 4
				    : 0;

	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Write s as a JSON string; bytes that are not UTF-8 become U+FFFD. */
static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		int n = utf8_len(p);

		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else if (n == 0)
			fputs("\\ufffd", f);
		else
			fwrite(p, 1, (size_t)n, f);
		p += n ? n : 1;
	}
	fputc('"', f);
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
	fprintf(f, ", \"output_truncated\": %s, \"duration_ms\": %ld}",
		t->output_total > strlen(t->output) ? "true" : "false", t->duration_ms);
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

static int write_json(FILE *f, const struct grade_result *g)
{
	fputs("{\n  \"submission\": ", f);
	json_str(f, g->submission);
	fputs(",\n  \"sandbox\": ", f);
	json_str(f, g->sandbox);
	fprintf(f, ",\n  \"score\": %d,\n  \"max_score\": %d,\n  \"labs\": [\n", g->score,
		g->max_score);
	for (int i = 0; i < g->nlabs; i++) {
		json_lab(f, &g->labs[i]);
		fputs(i + 1 < g->nlabs ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
	return 0;
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
	default:
		write_text(f, g);
		break;
	}
	fflush(f);
	return ferror(f) ? -1 : 0;
}
