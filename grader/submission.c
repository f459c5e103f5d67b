/* A submission's folder and what grading it needs (see submission.h). */
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipclab.h"
#include "sandbox.h"
#include "submission.h"

int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *labs_folder(const char *dir)
{
	char *abs = realpath(dir, NULL), *inner;

	if (!abs || !is_dir(abs)) {
		free(abs);
		return NULL;
	}
	if (asprintf(&inner, "%s/labs", abs) < 0)
		err_die("asprintf:");
	if (is_dir(inner)) {
		free(abs);
		return inner;
	}
	free(inner);
	return abs;
}

char *submission_tag(const char *path)
{
	uint64_t h = 14695981039346656037ull;
	char *base = xstrdup(path), *tag;

	for (const char *p = path; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	for (char *p = basename(base); *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			*p = '_';
	if (asprintf(&tag, "sub/%.40s-%08x", basename(base), (unsigned)(h & 0xffffffffu)) < 0)
		err_die("asprintf:");
	free(base);
	return tag;
}

void submission_init(struct grade_result *g, const struct lab *const *labs, int n,
		     const char *labs_dir)
{
	memset(g, 0, sizeof(*g));
	g->submission = xstrdup(labs_dir);
	g->sandbox = xstrdup(sandbox_describe());
	g->labs = xcalloc((size_t)(n ? n : 1), sizeof(*g->labs));
	for (int i = 0; i < n; i++) {
		g->labs[i].lab = labs[i];
		if (asprintf(&g->labs[i].source_dir, "%s/%s", labs_dir, labs[i]->id) < 0)
			err_die("asprintf:");
	}
	g->nlabs = n;
}

const char *const *protected_folders(const struct toolkit *tk, const char *submissions)
{
	static const char *dirs[4];
	int n = 0;

	dirs[n++] = tk->root;
	if (submissions)
		dirs[n++] = submissions;
	if (geteuid() != 0 && getenv("HOME") && getenv("HOME")[0] == '/')
		dirs[n++] = getenv("HOME");
	dirs[n] = NULL;
	return dirs;
}

int write_report_file(const char *path, const struct grade_result *g, enum report_format fmt)
{
	char *tmp;
	FILE *f;
	int r;

	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		err_die("asprintf:");
	f = fopen(tmp, "w");
	if (!f) {
		err_warn("cannot write %s:", tmp);
		free(tmp);
		return -1;
	}
	r = report_write(f, g, fmt);
	if (fclose(f) != 0 || r < 0 || rename(tmp, path) < 0) {
		err_warn("cannot write %s:", path);
		unlink(tmp);
		r = -1;
	}
	free(tmp);
	return r;
}
