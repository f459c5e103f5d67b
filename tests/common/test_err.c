/*
 * Unit tests of err.c: err_warn's ':' convention, err_name's table, err_die's
 * exit status, and the x-wrappers, which must die with a message that names
 * the call that failed. Every message is captured from a child through a pipe.
 */
#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"
#include "unit.h"

#define OUT_MAX  1024       /* bytes of a child's output kept */
#define BIG_SIZE (1 << 30)  /* an allocation that fails once memory is capped */
#define BIG_STR  (64 << 20) /* a string too long to copy once memory is capped */

#ifdef __NR_clone3
#define NR_CLONE3 __NR_clone3 /* glibc tries clone3 first for threads */
#else
#define NR_CLONE3 __NR_clone
#endif

/* One exiting wrapper made to fail, and the message it must die with. */
struct dying {
	const char *name;      /* the wrapper */
	void (*fn)(void *arg); /* makes it fail */
	const char *call;      /* how the message must name the call */
	int errnum;            /* the errno it fails with */
	const char *ename;     /* that errno's name */
};

/* ==== Helpers ==== */

/* What err_warn must print: "prog: " then rest. */
static const char *expected(const char *rest)
{
	static char want[OUT_MAX];

	snprintf(want, sizeof(want), "%s: %s", program_invocation_short_name, rest);
	return want;
}

/* What err_warn must print for a format ending in ':' (errno text appended). */
static const char *expected_errno(const char *msg, int errnum, const char *ename)
{
	static char want[OUT_MAX];

	snprintf(want, sizeof(want), "%s: %s %s (%s)\n", program_invocation_short_name, msg,
		 strerror(errnum), ename);
	return want;
}

/* From now on, this process can't create a process or a thread: clone fails with EAGAIN. */
static void forbid_clone(void)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 2, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_CLONE3, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAGAIN),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		_exit(126);
}

static void *thread_return_arg(void *arg)
{
	return arg;
}

/* ==== Children that print ==== */

static void warn_plain(void *arg)
{
	(void)arg;
	errno = ENOENT; /* must not show: the format does not end in ':' */
	err_warn("hello %d", 42);
}

static void warn_colon(void *arg)
{
	(void)arg;
	errno = ENOENT;
	err_warn("open(%s):", "missing.txt");
}

static void warn_colon_inside(void *arg)
{
	(void)arg;
	errno = EPIPE;
	err_warn("a: b");
}

static void warn_colon_in_argument(void *arg)
{
	(void)arg;
	errno = EPIPE;
	err_warn("%s", "ends in a colon:");
}

static void warn_keeps_errno(void *arg)
{
	(void)arg;
	errno = EPIPE;
	err_warn("write:");
	_exit(errno == EPIPE ? 0 : 3);
}

static void warn_after_printf(void *arg)
{
	(void)arg;
	printf("out "); /* still in stdout's buffer when err_warn runs */
	err_warn("err");
}

static void die_with_errno(void *arg)
{
	(void)arg;
	errno = ECONNRESET;
	err_die("lost %s:", "peer");
}

/* ==== Children that make a wrapper fail ==== */

static void fail_xfork(void *arg)
{
	(void)arg;
	forbid_clone();
	xfork();
}

static void fail_xpipe(void *arg)
{
	struct rlimit none = {0, 0}; /* no descriptor number is free below 0 */
	int fds[2];

	(void)arg;
	if (setrlimit(RLIMIT_NOFILE, &none) < 0)
		_exit(126);
	xpipe(fds);
}

static void fail_xclose(void *arg)
{
	(void)arg;
	xclose(-1);
}

static void fail_xdup2(void *arg)
{
	(void)arg;
	xdup2(-1, 10);
}

static void fail_xwaitpid(void *arg)
{
	(void)arg;
	xwaitpid(-1, NULL, 0); /* this child has no children */
}

static void fail_xmalloc(void *arg)
{
	(void)arg;
	unit_cap_memory();
	xmalloc(BIG_SIZE);
}

static void fail_xcalloc(void *arg)
{
	(void)arg;
	unit_cap_memory();
	xcalloc(BIG_SIZE / 16, 16);
}

static void fail_xstrdup(void *arg)
{
	char *s = malloc(BIG_STR + 1);

	(void)arg;
	if (!s)
		_exit(126);
	memset(s, 'x', BIG_STR);
	s[BIG_STR] = '\0';
	unit_cap_memory();
	xstrdup(s);
}

static void fail_xpthread_create(void *arg)
{
	pthread_t t;

	(void)arg;
	forbid_clone();
	xpthread_create(&t, thread_return_arg, NULL);
}

static void fail_xpthread_join(void *arg)
{
	(void)arg;
	xpthread_join(pthread_self(), NULL);
}

static const struct dying dying[] = {
    {"xfork", fail_xfork, "fork:", EAGAIN, "EAGAIN"},
    {"xpipe", fail_xpipe, "pipe:", EMFILE, "EMFILE"},
    {"xclose", fail_xclose, "close(-1):", EBADF, "EBADF"},
    {"xdup2", fail_xdup2, "dup2(-1, 10):", EBADF, "EBADF"},
    {"xwaitpid", fail_xwaitpid, "waitpid(-1):", ECHILD, "ECHILD"},
    {"xmalloc", fail_xmalloc, "malloc(1073741824):", ENOMEM, "ENOMEM"},
    {"xcalloc", fail_xcalloc, "calloc(67108864, 16):", ENOMEM, "ENOMEM"},
    {"xstrdup", fail_xstrdup, "strdup:", ENOMEM, "ENOMEM"},
    {"xpthread_create", fail_xpthread_create, "pthread_create:", EAGAIN, "EAGAIN"},
    {"xpthread_join", fail_xpthread_join, "pthread_join:", EDEADLK, "EDEADLK"},
};

#define NDYING ((int)(sizeof(dying) / sizeof(dying[0])))

/* ==== err_warn ==== */

START_TEST(test_err_warn_plain)
{
	char out[OUT_MAX];
	int status = unit_capture(warn_plain, NULL, out, sizeof(out));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "err_warn must not exit");
	ck_assert_msg(strcmp(out, expected("hello 42\n")) == 0,
		      "err_warn(\"hello %%d\", 42) printed \"%s\"; expected \"%s\" (no errno text "
		      "without a final ':')",
		      out, expected("hello 42\n"));
}
END_TEST

START_TEST(test_err_warn_colon_appends_errno)
{
	char out[OUT_MAX];
	const char *want = expected_errno("open(missing.txt):", ENOENT, "ENOENT");

	unit_capture(warn_colon, NULL, out, sizeof(out));
	ck_assert_msg(strcmp(out, want) == 0,
		      "a format ending in ':' printed \"%s\"; expected \"%s\"", out, want);
}
END_TEST

START_TEST(test_err_warn_colon_inside_not_appended)
{
	char out[OUT_MAX];

	unit_capture(warn_colon_inside, NULL, out, sizeof(out));
	ck_assert_msg(strcmp(out, expected("a: b\n")) == 0,
		      "only a final ':' appends the errno; \"a: b\" printed \"%s\"", out);
}
END_TEST

START_TEST(test_err_warn_colon_in_argument_not_appended)
{
	char out[OUT_MAX];

	unit_capture(warn_colon_in_argument, NULL, out, sizeof(out));
	ck_assert_msg(strcmp(out, expected("ends in a colon:\n")) == 0,
		      "the convention looks at the format, not at the text its arguments "
		      "make; printed \"%s\"",
		      out);
}
END_TEST

START_TEST(test_err_warn_keeps_errno)
{
	char out[OUT_MAX];
	int status = unit_capture(warn_keeps_errno, NULL, out, sizeof(out));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "err_warn changed errno: a caller may still need it");
}
END_TEST

START_TEST(test_err_warn_flushes_stdout_first)
{
	char out[OUT_MAX], want[OUT_MAX + 8];

	snprintf(want, sizeof(want), "out %s", expected("err\n"));
	unit_capture(warn_after_printf, NULL, out, sizeof(out));
	ck_assert_msg(strcmp(out, want) == 0,
		      "err_warn must flush stdout before it writes, so that both streams "
		      "appear in order; got \"%s\", expected \"%s\"",
		      out, want);
}
END_TEST

/* ==== err_name ==== */

START_TEST(test_err_name_known)
{
	static const struct {
		int num;
		const char *name;
	} known[] = {
	    {EPERM, "EPERM"},
	    {ENOENT, "ENOENT"},
	    {ESRCH, "ESRCH"},
	    {EINTR, "EINTR"},
	    {EIO, "EIO"},
	    {EBADF, "EBADF"},
	    {ECHILD, "ECHILD"},
	    {EAGAIN, "EAGAIN"},
	    {ENOMEM, "ENOMEM"},
	    {EACCES, "EACCES"},
	    {EFAULT, "EFAULT"},
	    {EEXIST, "EEXIST"},
	    {EINVAL, "EINVAL"},
	    {EMFILE, "EMFILE"},
	    {ESPIPE, "ESPIPE"},
	    {EPIPE, "EPIPE"},
	    {EDEADLK, "EDEADLK"},
	    {ENOSYS, "ENOSYS"},
	    {ETIMEDOUT, "ETIMEDOUT"},
	    {ECONNREFUSED, "ECONNREFUSED"},
	    {ECONNRESET, "ECONNRESET"},
	    {EADDRINUSE, "EADDRINUSE"},
	    {ENOTCONN, "ENOTCONN"},
	    {EMSGSIZE, "EMSGSIZE"},
	    {EOVERFLOW, "EOVERFLOW"},
	    {ENOTSOCK, "ENOTSOCK"},
	    {EPROTO, "EPROTO"},
	    {EOPNOTSUPP, "EOPNOTSUPP"},
	    {ECANCELED, "ECANCELED"},
	    {EIDRM, "EIDRM"},
	    {ENOMSG, "ENOMSG"},
	    {ESHUTDOWN, "ESHUTDOWN"},
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		ck_assert_msg(strcmp(err_name(known[i].num), known[i].name) == 0,
			      "err_name(%d) is \"%s\"; expected \"%s\"", known[i].num,
			      err_name(known[i].num), known[i].name);
}
END_TEST

START_TEST(test_err_name_aliases)
{
	/* On Linux these pairs are one number: the name is the first of each pair. */
	ck_assert_str_eq(err_name(EWOULDBLOCK), "EAGAIN");
	ck_assert_str_eq(err_name(ENOTSUP), "EOPNOTSUPP");
}
END_TEST

START_TEST(test_err_name_unknown)
{
	static const int unknown[] = {0, -1, -EINVAL, 9999, INT_MAX, INT_MIN};

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		ck_assert_msg(strcmp(err_name(unknown[i]), "E?") == 0,
			      "err_name(%d) is \"%s\"; an unknown number must give \"E?\"",
			      unknown[i], err_name(unknown[i]));
}
END_TEST

/* ==== err_die ==== */

START_TEST(test_err_die_exits_1)
{
	freopen("/dev/null", "w", stderr); /* keep the report clean */
	err_die("bye");
}
END_TEST

START_TEST(test_err_die_message)
{
	char out[OUT_MAX];
	const char *want = expected_errno("lost peer:", ECONNRESET, "ECONNRESET");
	int status = unit_capture(die_with_errno, NULL, out, sizeof(out));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "err_die must exit(1)");
	ck_assert_msg(strcmp(out, want) == 0, "err_die printed \"%s\"; expected \"%s\"", out, want);
}
END_TEST

/* ==== Exiting wrappers ==== */

START_TEST(test_xwrappers_pipe_dup2_close)
{
	int fds[2];
	char c = 0;

	xpipe(fds);
	xdup2(fds[1], fds[1] + 10);
	xclose(fds[1]);
	ck_assert_int_eq(write(fds[1] + 10, "z", 1), 1);
	xclose(fds[1] + 10);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	ck_assert_int_eq(c, 'z');
	ck_assert_int_eq(read(fds[0], &c, 1), 0); /* both write ends closed: end of file */
	xclose(fds[0]);
}
END_TEST

START_TEST(test_xwrappers_fork_waitpid)
{
	int status = -1;
	pid_t pid = xfork();

	if (pid == 0)
		_exit(5);
	ck_assert_int_eq(xwaitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 5,
		      "xwaitpid must store the child's status");
}
END_TEST

START_TEST(test_xwrappers_alloc)
{
	char *z = xcalloc(64, 4);
	char *s = xstrdup("ipc");
	void *none = xmalloc(0);

	ck_assert_ptr_nonnull(none); /* a size of 0 still gives a pointer to free */
	for (int i = 0; i < 64 * 4; i++)
		ck_assert_msg(z[i] == 0, "xcalloc's memory must be zeroed (byte %d)", i);
	ck_assert_str_eq(s, "ipc");
	free(none);
	free(z);
	free(s);
	ck_assert_ptr_nonnull(z = xcalloc(0, 0));
	free(z);
}
END_TEST

START_TEST(test_xwrappers_pthread)
{
	pthread_t t;
	void *result = NULL;
	int token;

	xpthread_create(&t, thread_return_arg, &token);
	xpthread_join(t, &result);
	ck_assert_ptr_eq(result, &token);
}
END_TEST

START_TEST(test_xwrapper_dies_naming_call)
{
	const struct dying *d = &dying[_i];
	char out[OUT_MAX];
	const char *want = expected_errno(d->call, d->errnum, d->ename);
	int status = unit_capture(d->fn, NULL, out, sizeof(out));

	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
		      "%s must exit(1) when its call fails (wait status 0x%x)", d->name, status);
	ck_assert_msg(strcmp(out, want) == 0, "%s printed \"%s\"; expected \"%s\"", d->name, out,
		      want);
}
END_TEST

/* ==== The suite ==== */

Suite *err_suite(void)
{
	Suite *s = suite_create("err");
	TCase *warn = tcase_create("warn");
	TCase *name = tcase_create("name");
	TCase *die = tcase_create("die");
	TCase *wrappers = tcase_create("wrappers");

	tcase_add_test(warn, test_err_warn_plain);
	tcase_add_test(warn, test_err_warn_colon_appends_errno);
	tcase_add_test(warn, test_err_warn_colon_inside_not_appended);
	tcase_add_test(warn, test_err_warn_colon_in_argument_not_appended);
	tcase_add_test(warn, test_err_warn_keeps_errno);
	tcase_add_test(warn, test_err_warn_flushes_stdout_first);
	tcase_add_test(name, test_err_name_known);
	tcase_add_test(name, test_err_name_aliases);
	tcase_add_test(name, test_err_name_unknown);
	tcase_add_exit_test(die, test_err_die_exits_1, 1);
	tcase_add_test(die, test_err_die_message);
	tcase_add_test(wrappers, test_xwrappers_pipe_dup2_close);
	tcase_add_test(wrappers, test_xwrappers_fork_waitpid);
	tcase_add_test(wrappers, test_xwrappers_alloc);
	tcase_add_test(wrappers, test_xwrappers_pthread);
	tcase_add_loop_test(wrappers, test_xwrapper_dies_naming_call, 0, NDYING);
	suite_add_tcase(s, warn);
	suite_add_tcase(s, name);
	suite_add_tcase(s, die);
	suite_add_tcase(s, wrappers);
	return s;
}
