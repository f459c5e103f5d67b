/*
 * Building test binaries (see build.h). Steps, each a program run under the
 * sandbox's deadline and limits:
 *	1. stage the submission's .c files in build/ (so that an #include "x.h"
 *	   finds the toolkit's header, not a copy the student edited);
 *	2. compile them, and merge them into one object with ld -r;
 *	3. seal it: every global symbol but the API the suite calls becomes
 *	   local (objcopy), so that a submission cannot replace a function of
 *	   Check, of libipclab or of the suite; and refuse constructors;
 *	4. link it with the suite, the runner and libipclab.
 * The inputs are hashed; when the hash matches the last build's, nothing runs.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipclab.h"
#include "build.h"
#include "catalogue.h"
#include "sandbox.h"

#ifndef IPC_CHECK_CFLAGS
#define IPC_CHECK_CFLAGS ""
#endif
#ifndef IPC_CHECK_LIBS
#define IPC_CHECK_LIBS "-lcheck"
#endif

#define MAX_SOURCES     32
#define MAX_ARGS        96
#define COMPILE_TIMEOUT 60

static const char *const student_cflags[] = {
    "-std=c11", "-D_GNU_SOURCE",
    "-Wall",    "-Wextra",
    "-O1",      "-g",
    "-pthread", "-fdiagnostics-color=never",
    NULL,
};

/* The toolkit's shared objects are built once; workers take turns. */
static pthread_mutex_t toolkit_lock = PTHREAD_MUTEX_INITIALIZER;

/* ==== Small helpers ==== */

struct strbuf {
	char *s;    /* NUL-terminated text */
	size_t len; /* its length */
};

static void sb_add(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	b->s = realloc(b->s, b->len + (size_t)n + 1);
	if (!b->s)
		err_die("realloc:");
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static char *path_join(const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s", a, b) < 0)
		err_die("asprintf:");
	return p;
}

/* Read a whole file (up to 4 MiB). NULL when it cannot be read. */
static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text;

	if (fd < 0)
		return NULL;
	text = io_slurp(fd, 4u << 20, len);
	close(fd);
	return text;
}

static int write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ok;

	if (fd < 0)
		return -1;
	ok = io_writen(fd, text, len) == (ssize_t)len;
	return close(fd) == 0 && ok ? 0 : -1;
}

static int file_exists(const char *dir, const char *name)
{
	char *p = path_join(dir, name);
	int r = access(p, F_OK) == 0;

	free(p);
	return r;
}

static void unlink_in(const char *dir, const char *name)
{
	char *p = path_join(dir, name);

	unlink(p);
	free(p);
}

static int mkdirs(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	int r = mkdir(p, 0755) < 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return r;
}

static void hash_bytes(uint64_t *h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++) {
		*h ^= p[i];
		*h *= 1099511628211ull; /* FNV-1a */
	}
}

/* Mix a file's name and contents into *h. Returns 0, or -1 when unreadable. */
static int hash_file(uint64_t *h, const char *path)
{
	size_t len;
	char *text = read_file(path, &len);

	hash_bytes(h, path, strlen(path) + 1);
	if (!text)
		return -1;
	hash_bytes(h, text, len);
	free(text);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .c (or .h) files of dir, main.c excepted, sorted. Returns how many, or -1. */
static int list_files(const char *dir, const char *suffix, char **names, int max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	size_t sl = strlen(suffix);

	if (!d)
		return -1;
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);

		if (len > sl && strcmp(e->d_name + len - sl, suffix) == 0 &&
		    strcmp(e->d_name, "main.c") != 0 && e->d_name[0] != '.')
			names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(*names), by_name);
	return n;
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
}

/* ==== Running the tools ==== */

/*
 * Run a tool (found on PATH through /usr/bin/env) in cwd under a deadline,
 * appending its messages to log. Returns its exit status, or -1.
 */
static int run_tool(char *const *args, const char *cwd, struct strbuf *log)
{
	char *argv[MAX_ARGS + 2] = {"/usr/bin/env"};
	char path_env[4096];
	char *envp[] = {path_env, "LANG=C", "LC_ALL=C", NULL};
	struct sandbox_opts o = {.argv = argv,
				 .envp = envp,
				 .cwd = cwd,
				 .timeout_s = COMPILE_TIMEOUT,
				 .output_cap = 32768};
	struct sandbox_outcome out;
	int r;

	for (int i = 0; args[i] && i < MAX_ARGS; i++)
		argv[i + 1] = args[i];
	snprintf(path_env, sizeof(path_env), "PATH=%s",
		 getenv("PATH") ? getenv("PATH") : "/usr/local/bin:/usr/bin:/bin");
	if (sandbox_run(&o, &out) < 0) {
		sb_add(log, "%s: %s\n", args[0], out.error);
		sandbox_outcome_free(&out);
		return -1;
	}
	sb_add(log, "%s", out.output);
	if (out.timed_out)
		sb_add(log, "%s: stopped after %d seconds\n", args[0], COMPILE_TIMEOUT);
	r = out.exited && WIFEXITED(out.status) ? WEXITSTATUS(out.status) : -1;
	sandbox_outcome_free(&out);
	return r;
}

/* Append words (split at spaces) to argv from position *n. */
static void add_words(char **argv, int *n, char *words)
{
	for (char *w = strtok(words, " "); w && *n < MAX_ARGS; w = strtok(NULL, " "))
		argv[(*n)++] = w;
}

/* ==== Labs that use Open MPI (catalogue option mpi) ==== */

static pthread_once_t mpi_once = PTHREAD_ONCE_INIT;
static char *mpi_cflags, *mpi_libs; /* pkg-config's flags for ompi-c */
static const char *mpi_absent;      /* why there are none, or NULL */

/* Find Open MPI's flags with pkg-config, and check that mpirun runs. Once per grader. */
static void probe_mpi(void)
{
	char *cflags[] = {"pkg-config", "--cflags", "ompi-c", NULL};
	char *libs[] = {"pkg-config", "--libs", "ompi-c", NULL};
	char *mpirun[] = {"mpirun", "--version", NULL};
	struct strbuf c = {0}, l = {0}, v = {0};

	if (run_tool(cflags, NULL, &c) == 0 && run_tool(libs, NULL, &l) == 0 &&
	    run_tool(mpirun, NULL, &v) == 0) {
		mpi_cflags = c.s ? c.s : xstrdup("");
		mpi_libs = l.s ? l.s : xstrdup("");
		mpi_cflags[strcspn(mpi_cflags, "\n")] = '\0';
		mpi_libs[strcspn(mpi_libs, "\n")] = '\0';
	} else {
		mpi_absent =
		    "Open MPI is not installed: apt-get install libopenmpi-dev openmpi-bin";
		free(c.s);
		free(l.s);
	}
	free(v.s);
}

/* Why lab, an mpi lab, cannot be built here; NULL when it can, or is no mpi lab. */
static const char *mpi_missing(const struct lab *lab)
{
	if (!lab_has_option(lab, "mpi"))
		return NULL;
	pthread_once(&mpi_once, probe_mpi);
	return mpi_absent;
}

/*
 * The extra flags to compile (link: to link) lab's code with: base, then
 * Open MPI's for an mpi lab. Without Open MPI, an mpi lab's suite is
 * compiled with -DIPCLAB_NO_MPI: its test side alone, to list its tests.
 * Returns a new string (free it), or NULL when there are none.
 */
static char *lab_flags(const struct lab *lab, const char *base, int link)
{
	const char *mpi = NULL;
	char *flags;

	if (lab_has_option(lab, "mpi"))
		mpi = mpi_missing(lab) ? (link ? NULL : "-DIPCLAB_NO_MPI")
				       : (link ? mpi_libs : mpi_cflags);
	if (!mpi)
		return base ? xstrdup(base) : NULL;
	if (asprintf(&flags, "%s%s%s", base ? base : "", base ? " " : "", mpi) < 0)
		err_die("asprintf:");
	return flags;
}

/* Compile src (relative to cwd) into obj with the student flags, extra ones and include dirs. */
static int compile(const struct toolkit *tk, const char *cwd, const char *src, const char *obj,
		   const char *const *incs, const char *extra, struct strbuf *log)
{
	char *argv[MAX_ARGS + 1];
	char *check = xstrdup(IPC_CHECK_CFLAGS), *more = xstrdup(extra ? extra : "");
	char *inc[8];
	int n = 0, k = 0, r;

	argv[n++] = tk->cc;
	for (int i = 0; student_cflags[i]; i++)
		argv[n++] = (char *)student_cflags[i];
	for (; incs[k] && k < 8; k++) {
		if (asprintf(&inc[k], "-I%s", incs[k]) < 0)
			err_die("asprintf:");
		argv[n++] = inc[k];
	}
	add_words(argv, &n, check);
	add_words(argv, &n, more);
	argv[n++] = "-c";
	argv[n++] = (char *)src;
	argv[n++] = "-o";
	argv[n++] = (char *)obj;
	argv[n] = NULL;
	r = run_tool(argv, cwd, log);
	while (k-- > 0)
		free(inc[k]);
	free(check);
	free(more);
	return r;
}

/* ==== Sealing a submission's object ==== */

/*
 * The name of a section of an ELF object that would run code before main or
 * after it (constructors, destructors), or NULL when it has none.
 */
static const char *find_constructors(const char *path)
{
	static const char *const bad[] = {".init_array", ".preinit_array", ".ctors",
					  ".fini_array", ".dtors",         NULL};
	static char found[64];
	size_t len;
	char *img = read_file(path, &len);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	const char *result = NULL;

	if (!img || len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len ||
	    eh->e_shstrndx >= eh->e_shnum) {
		free(img);
		return img ? "(not an ELF object)" : "(unreadable)";
	}
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	const char *names = img + sh[eh->e_shstrndx].sh_offset;
	for (int i = 0; i < eh->e_shnum && !result; i++) {
		const char *name = names + sh[i].sh_name;
		int type = (int)sh[i].sh_type;

		for (int b = 0; bad[b] && !result; b++)
			if (strncmp(name, bad[b], strlen(bad[b])) == 0 || type == SHT_INIT_ARRAY ||
			    type == SHT_FINI_ARRAY || type == SHT_PREINIT_ARRAY) {
				snprintf(found, sizeof(found), "%s", name);
				result = found;
			}
	}
	free(img);
	return result;
}

/* Merge objs into one relocatable object merged (in dir). */
static int merge_objects(const char *dir, char **objs, int n, const char *merged,
			 struct strbuf *log)
{
	char *argv[MAX_ARGS + 1] = {"ld", "-r", "-o", (char *)merged};
	int k = 4;

	for (int i = 0; i < n && k < MAX_ARGS; i++)
		argv[k++] = objs[i];
	argv[k] = NULL;
	return run_tool(argv, dir, log);
}

/* Write the global symbols that obj defines, one a line, to the file syms. */
static int defined_symbols(const char *dir, const char *obj, const char *syms, struct strbuf *log)
{
	struct strbuf out = {0};
	char *argv[] = {"nm", "-g", "--defined-only", "--format=posix", (char *)obj, NULL};
	struct strbuf names = {0};
	int r = run_tool(argv, dir, &out);

	for (char *line = out.s ? strtok(out.s, "\n") : NULL; line; line = strtok(NULL, "\n"))
		sb_add(&names, "%.*s\n", (int)strcspn(line, " "), line);
	if (r == 0) {
		char *path = path_join(dir, syms);

		r = write_file(path, names.s ? names.s : "", names.len);
		free(path);
	} else {
		sb_add(log, "%s", out.s ? out.s : "");
	}
	free(out.s);
	free(names.s);
	return r;
}

/* Localise every global of obj that the API list syms does not name; refuse constructors. */
/*
 * Seal obj into sealed: only the API (syms) stays global, and the calls the
 * fault injector wraps (faults, a --redefine-syms file) are renamed to it.
 */
static int seal(const char *dir, const char *obj, const char *syms, const char *faults,
		int check_ctors, const char *sealed, struct strbuf *log)
{
	char *keep, *redefine, *argv[6];
	const char *ctor;
	char *sealed_path;
	int r;

	if (asprintf(&keep, "--keep-global-symbols=%s", syms) < 0 ||
	    asprintf(&redefine, "--redefine-syms=%s", faults) < 0)
		err_die("asprintf:");
	argv[0] = "objcopy";
	argv[1] = keep;
	argv[2] = redefine;
	argv[3] = (char *)obj;
	argv[4] = (char *)sealed;
	argv[5] = NULL;
	r = run_tool(argv, dir, log);
	free(keep);
	free(redefine);
	if (r != 0 || !check_ctors)
		return r; /* sanitizers add constructors of their own */
	sealed_path = path_join(dir, sealed);
	ctor = find_constructors(sealed_path);
	free(sealed_path);
	if (ctor) {
		sb_add(
		    log,
		    "error: your code has a %s section (a constructor or destructor, code that "
		    "runs before or after main). Lab code must run only when the tests call it.\n",
		    ctor);
		return 1;
	}
	return 0;
}

/* ==== Building ==== */

/* True when the line at p is an #include whose path is absolute or climbs with "..". */
static int bad_include(const char *p, char *path, size_t size)
{
	char fmt[32];

	p += strspn(p, " \t");
	if (*p++ != '#')
		return 0;
	p += strspn(p, " \t");
	if (strncmp(p, "include", 7) != 0)
		return 0;
	p += 7;
	p += strspn(p, " \t");
	snprintf(fmt, sizeof(fmt), "%%*[\"<]%%%zu[^\">\n]", size - 1);
	if (sscanf(p, fmt, path) != 1)
		return 0;
	return path[0] == '/' || strstr(path, "..") != NULL;
}

/* Refuse an #include of an absolute path or of a parent folder: a lab reads only its files. */
static int check_includes(const char *name, const char *text, struct strbuf *log)
{
	int lineno = 1, bad = 0;
	char path[256];

	for (const char *line = text; line; lineno++) {
		if (bad_include(line, path, sizeof(path))) {
			sb_add(log,
			       "%s:%d: error: #include \"%s\" reaches outside the lab folder; "
			       "include only system headers and the lab's own header\n",
			       name, lineno, path);
			bad = 1;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return bad;
}

static int link_tests(const struct toolkit *tk, const char *dir, const char *student,
		      const char *suite, const char *runner, const char *extra, const char *out,
		      struct strbuf *log)
{
	char *lib = path_join(tk->build, "libipclab.a");
	char *libs = xstrdup(IPC_CHECK_LIBS " -pthread -lrt -lm"),
	     *more = xstrdup(extra ? extra : "");
	char *argv[MAX_ARGS + 1] = {tk->cc, "-o", (char *)out, (char *)suite, (char *)runner};
	int n = 5, r;

	if (student)
		argv[n++] = (char *)student; /* none: an mpi lab's test list without Open MPI */
	argv[n++] = lib;
	add_words(argv, &n, more);
	add_words(argv, &n, libs);
	argv[n] = NULL;
	r = run_tool(argv, dir, log);
	free(lib);
	free(libs);
	free(more);
	return r;
}

/* Compile every .c of src_dir (main.c aside) into dir/NAME.o and merge them into dir/merged. */
static int compile_sources(const struct toolkit *tk, const char *src_dir, char **names, int n,
			   const char *dir, const char *const *incs, const char *extra,
			   const char *merged, struct strbuf *log)
{
	char *objs[MAX_SOURCES];
	int r = 0;

	for (int i = 0; i < n; i++) {
		char *src = path_join(src_dir, names[i]);

		/* A sanitized build's objects are named as their merged object is: -san. */
		if (asprintf(&objs[i], "%s/%s%s.o", dir, names[i],
			     strstr(merged, "-san") ? "-san" : "") < 0)
			err_die("asprintf:");
		if (r == 0 && compile(tk, src_dir, names[i], objs[i], incs, extra, log) != 0)
			r = 1;
		free(src);
	}
	if (r == 0 && merge_objects(dir, objs, n, merged, log) != 0)
		r = 1;
	for (int i = 0; i < n; i++)
		free(objs[i]);
	return r;
}

/* Hash the toolkit's inputs for lab: the runner, the suite, the headers, the skeleton. */
static uint64_t toolkit_hash(const struct toolkit *tk, const struct lab *lab, char *suite_path,
			     char *lab_dir)
{
	uint64_t h = 14695981039346656037ull;
	char *files[] = {
	    path_join(tk->root, "grader/runner.c"),   path_join(tk->root, "grader/suite.h"),
	    path_join(tk->root, "common/ipclab.h"),   path_join(tk->build, "libipclab.a"),
	    path_join(tk->root, "grader/fault.c"),    path_join(tk->root, "grader/fault.h"),
	    path_join(tk->root, "grader/fault.syms"), path_join(tk->root, "grader/xray.c"),
	    path_join(tk->root, "grader/xray.h")};
	char *names[MAX_SOURCES];
	int n = list_files(lab_dir, ".c", names, MAX_SOURCES);
	int m = list_files(lab_dir, ".h", names + (n > 0 ? n : 0), MAX_SOURCES - (n > 0 ? n : 0));

	hash_bytes(&h, tk->cc, strlen(tk->cc) + 1);
	hash_bytes(&h, IPC_CHECK_CFLAGS IPC_CHECK_LIBS, sizeof(IPC_CHECK_CFLAGS IPC_CHECK_LIBS));
	hash_bytes(&h, lab->id, strlen(lab->id) + 1);
	if (lab_has_option(lab, "mpi") && !mpi_missing(lab)) { /* Open MPI installed since? */
		hash_bytes(&h, mpi_cflags, strlen(mpi_cflags) + 1);
		hash_bytes(&h, mpi_libs, strlen(mpi_libs) + 1);
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		hash_file(&h, files[i]);
		free(files[i]);
	}
	hash_file(&h, suite_path);
	for (int i = 0; i < n + m; i++) {
		char *p = path_join(lab_dir, names[i]);

		hash_file(&h, p);
		free(p);
	}
	free_names(names, (n > 0 ? n : 0) + (m > 0 ? m : 0));
	return h;
}

static int stamp_matches(const char *dir, uint64_t hash, int *ok)
{
	char *path = path_join(dir, "stamp");
	char *text = read_file(path, NULL);
	unsigned long long h = 0;
	char word[16] = "";
	int match = text && sscanf(text, "%llx %15s", &h, word) == 2 && h == hash;

	*ok = strcmp(word, "ok") == 0;
	free(path);
	free(text);
	return match;
}

static void write_stamp(const char *dir, uint64_t hash, int ok, const struct strbuf *log)
{
	char *path = path_join(dir, "stamp"), *logpath = path_join(dir, "build.log");
	char line[64];
	int n = snprintf(line, sizeof(line), "%016llx %s\n", (unsigned long long)hash,
			 ok ? "ok" : "failed");

	write_file(logpath, log->s ? log->s : "", log->len);
	write_file(path, line, (size_t)n);
	free(path);
	free(logpath);
}

/* Compile the runner, the fault injector and the X-ray into one object, out (in tdir). */
static int compile_runner(const struct toolkit *tk, const char *tdir, const char *const *incs,
			  const char *extra, const char *out, struct strbuf *log)
{
	char *runner = path_join(tk->root, "grader/runner.c");
	char *fault = path_join(tk->root, "grader/fault.c");
	char *xray = path_join(tk->root, "grader/xray.c");
	char *objs[] = {"runner-main.o", "fault.o", "xray.o"};
	int r = compile(tk, tdir, runner, objs[0], incs, extra, log) ||
		compile(tk, tdir, fault, objs[1], incs, extra, log) ||
		compile(tk, tdir, xray, objs[2], incs, extra, log) ||
		merge_objects(tdir, objs, 3, out, log);

	free(runner);
	free(fault);
	free(xray);
	return r;
}

/*
 * Take the lock on the toolkit's build folder that graders running side by
 * side share (the mutex covers our own threads). Returns the descriptor
 * that holds it, or -1 when there is none to take (then we build anyway).
 */
static int lock_toolkit(const struct toolkit *tk)
{
	char *dir = path_join(tk->build, "grade"), *path = path_join(dir, ".toolkit.lock");
	int fd = mkdirs(dir) == 0 ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;

	while (fd >= 0 && flock(fd, LOCK_EX) < 0 && errno == EINTR)
		;
	free(dir);
	free(path);
	return fd;
}

/* The folder of the toolkit's side of lab: one per folder of hidden suites. */
static char *toolkit_dir(const struct toolkit *tk, const struct lab *lab)
{
	char *default_suites = path_join(tk->root, "grader/suites"), *dir;
	uint64_t h = 14695981039346656037ull;
	int r;

	hash_bytes(&h, tk->suites, strlen(tk->suites));
	if (strcmp(tk->suites, default_suites) == 0)
		r = asprintf(&dir, "%s/grade/toolkit/%s", tk->build, lab->id);
	else
		r = asprintf(&dir, "%s/grade/toolkit-%08x/%s", tk->build,
			     (unsigned)(h & 0xffffffffu), lab->id);
	if (r < 0)
		err_die("asprintf:");
	free(default_suites);
	return dir;
}

/*
 * Build the toolkit's side of lab in tdir (once, under a lock): runner.o,
 * suite.o, the API's symbol list (the globals the pristine skeleton defines)
 * and list-tests, the skeleton linked with the suite, which tells the tests
 * and their points without running a line of the submission.
 */
static enum build_status toolkit_objects(const struct toolkit *tk, const struct lab *lab,
					 const char *tdir, uint64_t *hash, struct strbuf *log)
{
	char *suite_path, *lab_dir, *grader_dir = path_join(tk->root, "grader");
	char *common_dir = path_join(tk->root, "common"), *names[MAX_SOURCES];
	enum build_status st = BUILD_BROKEN;
	char *cflags = lab_flags(lab, NULL, 0), *libs = lab_flags(lab, NULL, 1);
	int ok, n, skeleton = !mpi_missing(lab); /* without Open MPI: the test list alone */

	if (asprintf(&suite_path, "%s/%s.c", tk->suites, lab->id) < 0 ||
	    asprintf(&lab_dir, "%s/labs/%s", tk->root, lab->id) < 0)
		err_die("asprintf:");
	const char *incs[] = {grader_dir, common_dir, lab_dir, NULL};
	pthread_mutex_lock(&toolkit_lock);
	int lock = lock_toolkit(tk);
	*hash = toolkit_hash(tk, lab, suite_path, lab_dir);
	if (stamp_matches(tdir, *hash, &ok) && ok) {
		st = BUILD_OK; /* a failed toolkit build is always tried again */
		goto out;
	}
	n = list_files(lab_dir, ".c", names, MAX_SOURCES);
	if (access(suite_path, R_OK) < 0 || n <= 0) {
		sb_add(log, "missing toolkit file: %s\n", n <= 0 ? lab_dir : suite_path);
		goto out;
	}
	if (mkdirs(tdir) == 0 && compile(tk, tdir, suite_path, "suite.o", incs, cflags, log) == 0 &&
	    compile_runner(tk, tdir, incs, NULL, "runner.o", log) == 0 &&
	    (!skeleton ||
	     (compile_sources(tk, lab_dir, names, n, tdir, incs, cflags, "skeleton.o", log) == 0 &&
	      defined_symbols(tdir, "skeleton.o", "api.syms", log) == 0)) &&
	    link_tests(tk, tdir, skeleton ? "skeleton.o" : NULL, "suite.o", "runner.o", libs,
		       "list-tests", log) == 0)
		st = BUILD_OK;
	/* The sanitizer's side is optional: a compiler without its runtime only loses it. */
	if (st == BUILD_OK && skeleton && sanitizer_flags(lab)) {
		struct strbuf ignored = {0};
		char *san = lab_flags(lab, sanitizer_flags(lab), 0);

		if (compile(tk, tdir, suite_path, "suite-san.o", incs, san, &ignored) ||
		    compile_runner(tk, tdir, incs, sanitizer_flags(lab), "runner-san.o", &ignored))
			unlink_in(tdir, "suite-san.o");
		free(ignored.s);
		free(san);
	}
	free_names(names, n);
	write_stamp(tdir, *hash, st == BUILD_OK, log);
out:
	if (lock >= 0)
		close(lock); /* and with it the lock */
	pthread_mutex_unlock(&toolkit_lock);
	free(suite_path);
	free(lab_dir);
	free(grader_dir);
	free(common_dir);
	free(cflags);
	free(libs);
	return st;
}

/* Copy the submission's sources into dir/src, checking their #includes. */
static int stage_sources(const char *src_dir, char **names, int n, const char *stage,
			 struct strbuf *log)
{
	int bad = 0;

	if (mkdirs(stage) < 0) {
		sb_add(log, "cannot make %s: %s\n", stage, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *from = path_join(src_dir, names[i]), *to = path_join(stage, names[i]);
		size_t len;
		char *text = read_file(from, &len);

		if (!text) {
			sb_add(log, "cannot read %s: %s\n", from, strerror(errno));
			bad = -1;
		} else {
			bad |= check_includes(names[i], text, log);
			if (write_file(to, text, len) < 0)
				bad = -1;
		}
		free(text);
		free(from);
		free(to);
	}
	return bad;
}

const char *sanitizer_flags(const struct lab *lab)
{
	if (lab_has_option(lab, "nosan"))
		return NULL;
	if (lab_has_option(lab, "threads"))
		return "-fsanitize=thread";
	return "-fsanitize=address,undefined -fno-sanitize-recover=undefined "
	       "-fno-omit-frame-pointer";
}

/*
 * Build out/tests-san, the sanitizer's variant of the test binary, when the
 * toolkit's side of it exists. Its failure costs only the variant: the
 * grader then runs without the sanitizer's second opinion.
 */
static void build_sanitized(const struct toolkit *tk, const struct lab *lab, const char *stage,
			    char **names, int n, const char *out, const char *tdir,
			    const char *const *incs, struct strbuf *note)
{
	char *syms = path_join(tdir, "api.syms"), *suite = path_join(tdir, "suite-san.o");
	char *runner = path_join(tdir, "runner-san.o");
	char *faults = path_join(tk->root, "grader/fault.syms");
	char *cflags = lab_flags(lab, sanitizer_flags(lab), 0);
	char *libs = lab_flags(lab, sanitizer_flags(lab), 1);
	struct strbuf log = {0};

	unlink_in(out, "tests-san");
	if (access(suite, R_OK) == 0 &&
	    compile_sources(tk, stage, names, n, out, incs, cflags, "student-san.o", &log) == 0 &&
	    seal(out, "student-san.o", syms, faults, 0, "sealed-san.o", &log) == 0)
		link_tests(tk, out, "sealed-san.o", suite, runner, libs, "tests-san", &log);
	if (access(suite, R_OK) < 0 || !file_exists(out, "tests-san"))
		sb_add(note,
		       "note: the %s variant could not be built here (no sanitizer runtime?): "
		       "the tests run without its second opinion.\n",
		       sanitizer_flags(lab));
	free(log.s);
	free(cflags);
	free(libs);
	free(syms);
	free(suite);
	free(runner);
	free(faults);
}

/* Build the submission's objects into out and link them with the toolkit's. */
static int build_submission(const struct toolkit *tk, const struct lab *lab, const char *src_dir,
			    char **names, int n, const char *out, const char *tdir,
			    struct strbuf *log)
{
	char *stage = path_join(out, "src"), *lab_dir, *common_dir = path_join(tk->root, "common");
	char *syms = path_join(tdir, "api.syms"), *suite = path_join(tdir, "suite.o");
	char *runner = path_join(tdir, "runner.o"),
	     *faults = path_join(tk->root, "grader/fault.syms");
	char *cflags = lab_flags(lab, NULL, 0), *libs = lab_flags(lab, NULL, 1);
	int r;

	if (asprintf(&lab_dir, "%s/labs/%s", tk->root, lab->id) < 0)
		err_die("asprintf:");
	const char *incs[] = {lab_dir, common_dir, NULL};
	r = stage_sources(src_dir, names, n, stage, log);
	if (r == 0)
		r = compile_sources(tk, stage, names, n, out, incs, cflags, "student.o", log);
	if (r == 0)
		r = seal(out, "student.o", syms, faults, 1, "sealed.o", log);
	if (r == 0)
		r = link_tests(tk, out, "sealed.o", suite, runner, libs, "tests", log);
	if (r == 0 && sanitizer_flags(lab))
		build_sanitized(tk, lab, stage, names, n, out, tdir, incs, log);
	free(cflags);
	free(libs);
	free(stage);
	free(lab_dir);
	free(common_dir);
	free(syms);
	free(suite);
	free(runner);
	free(faults);
	return r;
}

enum build_status build_lab(const struct toolkit *tk, const struct lab *lab, const char *src_dir,
			    const char *tag, char **binary, char **log)
{
	struct strbuf lg = {0};
	char *tdir, *out, *names[MAX_SOURCES];
	uint64_t hash;
	enum build_status st;
	int n = 0, ok;

	tdir = toolkit_dir(tk, lab);
	if (asprintf(&out, "%s/grade/%s/%s", tk->build, tag, lab->id) < 0)
		err_die("asprintf:");
	*binary = path_join(out, "tests");
	st = toolkit_objects(tk, lab, tdir, &hash, &lg);
	if (st != BUILD_OK)
		goto done;
	if (mpi_missing(lab)) {
		/* Nothing of the submission is built: its tests are skipped, and the log says why. */
		free(lg.s);
		lg.s = xstrdup(mpi_missing(lab));
		st = BUILD_SKIPPED;
		goto done;
	}
	n = list_files(src_dir, ".c", names, MAX_SOURCES);
	if (n <= 0) {
		sb_add(&lg, "no .c file to build in %s\n", src_dir);
		st = BUILD_FAILED;
		goto done;
	}
	for (int i = 0; i < n; i++) {
		char *p = path_join(src_dir, names[i]);

		hash_file(&hash, p);
		free(p);
	}
	if (stamp_matches(out, hash, &ok)) {
		char *logpath = path_join(out, "build.log");

		lg.s = read_file(logpath, &lg.len);
		free(logpath);
		st = ok ? BUILD_OK : BUILD_FAILED;
		goto done;
	}
	st = build_submission(tk, lab, src_dir, names, n, out, tdir, &lg) == 0 ? BUILD_OK
									       : BUILD_FAILED;
	write_stamp(out, hash, st == BUILD_OK, &lg);
done:
	free_names(names, n > 0 ? n : 0);
	free(tdir);
	free(out);
	*log = lg.s ? lg.s : xstrdup("");
	return st;
}

char *build_list_binary(const struct toolkit *tk, const struct lab *lab)
{
	char *dir = toolkit_dir(tk, lab), *path = path_join(dir, "list-tests");

	free(dir);
	return path;
}
