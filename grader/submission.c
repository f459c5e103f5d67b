/* A submission's folder and what grading it needs (see submission.h). */
#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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

/* ==== Reset ==== */

/* The pristine text of the toolkit's labs/LAB/NAME (to free), or NULL. */
static char *pristine(const struct toolkit *tk, const char *lab, const char *name, size_t *len)
{
	char *path, *spec, *text = NULL;
	int fd, p[2];

	if (asprintf(&path, "%s/pristine/%s/%s", tk->build, lab, name) < 0 ||
	    asprintf(&spec, "HEAD:labs/%s/%s", lab, name) < 0)
		err_die("asprintf:");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		text = io_slurp(fd, 1 << 20, len);
		close(fd);
	} else if (pipe2(p, O_CLOEXEC) == 0) {
		char *argv[] = {"git", "-C", tk->root, "show", spec, NULL};
		pid_t pid = fork();
		int status = 0;

		if (pid == 0) {
			dup2(p[1], 1);
			execvp(argv[0], argv);
			_exit(127);
		}
		close(p[1]);
		text = pid > 0 ? io_slurp(p[0], 1 << 20, len) : NULL;
		close(p[0]);
		if (pid > 0 && (waitpid(pid, &status, 0) < 0 || status != 0)) {
			free(text);
			text = NULL;
		}
	}
	free(path);
	free(spec);
	return text;
}

static int is_student_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 2 && strcmp(e->d_name + n - 2, ".c") == 0 && strcmp(e->d_name, "main.c") != 0;
}

/* Save path (when it differs from text) as path.backup-DATE, then write text there. */
static int restore(const char *path, const char *text, size_t len, FILE *out)
{
	size_t old_len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *old = fd >= 0 ? io_slurp(fd, 1 << 20, &old_len) : NULL, *backup = NULL;
	int r = 0;

	if (fd >= 0)
		close(fd);
	if (old && old_len == len && memcmp(old, text, len) == 0) {
		fprintf(out, "  %s: already the skeleton\n", path);
		goto done;
	}
	if (old) {
		char stamp[32];
		time_t now = time(NULL);

		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime(&now));
		if (asprintf(&backup, "%s.backup-%s", path, stamp) < 0)
			err_die("asprintf:");
		if (rename(path, backup) < 0) {
			err_warn("cannot save %s as %s:", path, backup);
			r = -1;
			goto done;
		}
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || io_writen(fd, text, len) < 0 || close(fd) < 0) {
		err_warn("cannot write %s:", path);
		r = -1;
		goto done;
	}
	fprintf(out, "  %s: the skeleton again%s%s%s\n", path, backup ? " (yours is in " : "",
		backup ? backup : "", backup ? ")" : "");
done:
	free(old);
	free(backup);
	return r;
}

int submission_reset(const struct toolkit *tk, const struct lab *lab, const char *labs_dir,
		     FILE *out)
{
	char *dir, *mine;
	struct dirent **names;
	int n, r = 0;

	if (asprintf(&dir, "%s/labs/%s", tk->root, lab->id) < 0 ||
	    asprintf(&mine, "%s/%s", labs_dir, lab->id) < 0)
		err_die("asprintf:");
	n = scandir(dir, &names, is_student_file, alphasort);
	if (n <= 0)
		fprintf(stderr, "ipcgrade: no skeleton for %s in %s\n", lab->id, dir);
	mkdir(mine, 0755);
	fprintf(out, "Reset %s:\n", lab->id);
	for (int i = 0; i < n; i++) {
		size_t len;
		char *text = pristine(tk, lab->id, names[i]->d_name, &len), *path;

		if (asprintf(&path, "%s/%s", mine, names[i]->d_name) < 0)
			err_die("asprintf:");
		if (!text) {
			fprintf(
			    stderr,
			    "ipcgrade: no pristine copy of %s/%s: neither build/pristine/ (made by "
			    "make) nor git has it\n",
			    lab->id, names[i]->d_name);
			r = -1;
		} else if (restore(path, text, len, out) < 0) {
			r = -1;
		}
		free(text);
		free(path);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	free(dir);
	free(mine);
	return n > 0 ? r : -1;
}
