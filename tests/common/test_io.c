/*
 * Unit tests of io.c over real pipes, with a real process at the other end:
 * a writer child that dribbles a few bytes at a time so that reads come back
 * short, a slow reader child so that big writes block, and a timer whose
 * handler was installed without SA_RESTART so that blocked calls fail with
 * EINTR or return short.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipclab.h"
#include "unit.h"

#define SMALL_PIPE 4096         /* one page: the smallest capacity a pipe can have */
#define FLOOD      (512 * 1024) /* bytes written through the slow reader */
#define TICK_US    1000         /* the interrupting timer's period */

/* What a writer child sends, and how slowly. */
struct dribble {
	size_t len;   /* bytes of the pattern to send */
	size_t chunk; /* bytes per write() */
	long gap_us;  /* pause after each write() */
};

/* ==== Data and children ==== */

/* Byte i of a stream that does not repeat at short range, so misplaced bytes show. */
static unsigned char pattern_at(size_t i)
{
	return (unsigned char)(((uint32_t)i * 2654435761u) >> 24);
}

/* The offset of the first byte of buf that is not the pattern, or -1. */
static long pattern_mismatch(const void *buf, size_t n)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern_at(i))
			return (long)i;
	return -1;
}

static void pause_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The writer child: send d's bytes to fd with plain write() calls, then exit 0. */
static void dribble_to(int fd, const struct dribble *d)
{
	for (size_t off = 0; off < d->len;) {
		unsigned char chunk[256];
		size_t n = d->len - off < d->chunk ? d->len - off : d->chunk;

		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern_at(off + i);
		if (write(fd, chunk, n) != (ssize_t)n)
			_exit(2);
		off += n;
		pause_us(d->gap_us);
	}
	_exit(0);
}

/* Start a writer child on a new pipe; returns its pid and stores our read end in *rfd. */
static pid_t start_writer(const struct dribble *d, int *rfd)
{
	int fds[2];
	pid_t pid;

	ck_assert_msg(pipe(fds) == 0, "test: pipe failed");
	pid = fork();
	ck_assert_msg(pid >= 0, "test: fork failed");
	if (pid == 0) {
		close(fds[0]);
		dribble_to(fds[1], d);
	}
	close(fds[1]); /* or our read end would never see end of file */
	*rfd = fds[0];
	return pid;
}

/* The reader child: read fd slowly to end of file; exit 0 if it got want bytes of pattern. */
static void read_slowly(int fd, size_t want)
{
	static unsigned char buf[FLOOD];
	size_t got = 0;
	ssize_t r;

	while (got < sizeof(buf) && (r = read(fd, buf + got, 1000)) != 0) {
		if (r < 0)
			_exit(2);
		got += (size_t)r;
		pause_us(50);
	}
	_exit(got != want ? 3 : pattern_mismatch(buf, got) >= 0 ? 4 : 0);
}

/* Start a reader child on a new, small pipe; returns its pid and stores our write end in *wfd. */
static pid_t start_reader(size_t want, int *wfd)
{
	int fds[2];
	pid_t pid;

	ck_assert_msg(pipe(fds) == 0, "test: pipe failed");
	(void)fcntl(fds[1], F_SETPIPE_SZ, SMALL_PIPE); /* best effort: 64 KiB works too */
	pid = fork();
	ck_assert_msg(pid >= 0, "test: fork failed");
	if (pid == 0) {
		close(fds[1]);
		read_slowly(fds[0], want);
	}
	close(fds[0]);
	*wfd = fds[1];
	return pid;
}

/* Reap a child; fail unless it exited with status 0. */
static void expect_clean_exit(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		ck_assert_msg(errno == EINTR, "test: waitpid failed");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s did not end cleanly (wait status 0x%x)", what, status);
}

static unsigned char *pattern_new(size_t n)
{
	unsigned char *buf = malloc(n);

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern_at(i);
	return buf;
}

/* ==== io_readn ==== */

START_TEST(test_io_readn_whole_from_dribbling_writer)
{
	struct dribble d = {.len = 200, .chunk = 7, .gap_us = 500};
	unsigned char buf[200];
	int fd;
	pid_t pid = start_writer(&d, &fd);

	ck_assert_msg(io_readn(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf),
		      "io_readn must loop over short reads until it has all n bytes");
	ck_assert_int_eq(pattern_mismatch(buf, sizeof(buf)), -1);
	close(fd);
	expect_clean_exit(pid, "the writer");
}
END_TEST

START_TEST(test_io_readn_short_at_eof)
{
	struct dribble d = {.len = 10, .chunk = 3, .gap_us = 1000};
	unsigned char buf[64];
	int fd;
	pid_t pid = start_writer(&d, &fd);

	ck_assert_msg(io_readn(fd, buf, sizeof(buf)) == 10,
		      "at end of file io_readn must return the bytes it got (10)");
	ck_assert_int_eq(pattern_mismatch(buf, 10), -1);
	ck_assert_msg(io_readn(fd, buf, sizeof(buf)) == 0, "after end of file io_readn returns 0");
	close(fd);
	expect_clean_exit(pid, "the writer");
}
END_TEST

START_TEST(test_io_readn_zero_bytes)
{
	int fds[2];
	char c;

	ck_assert_int_eq(pipe(fds), 0);
	/* The pipe is empty and its writer open: a read would block forever. */
	ck_assert_int_eq(io_readn(fds[0], &c, 0), 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_io_readn_bad_fd)
{
	int fds[2];
	char buf[4];

	ck_assert_int_eq(pipe(fds), 0);
	errno = 0;
	ck_assert_int_eq(io_readn(-1, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_int_eq(io_readn(fds[1], buf, sizeof(buf)), -1); /* the write end */
	ck_assert_int_eq(errno, EBADF);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_io_readn_survives_eintr)
{
	struct dribble d = {.len = 64, .chunk = 4, .gap_us = 4000};
	unsigned char buf[64];
	int fd, ticks;
	ssize_t r;
	pid_t pid = start_writer(&d, &fd);

	unit_ticks_start(TICK_US);
	r = io_readn(fd, buf, sizeof(buf));
	ticks = unit_ticks_stop();
	ck_assert_msg(ticks > 0, "test: the timer never fired");
	ck_assert_msg(r == (ssize_t)sizeof(buf),
		      "io_readn returned %zd under signals: it must retry after EINTR", r);
	ck_assert_int_eq(pattern_mismatch(buf, sizeof(buf)), -1);
	close(fd);
	expect_clean_exit(pid, "the writer");
}
END_TEST

/* ==== io_writen ==== */

START_TEST(test_io_writen_all_to_slow_reader)
{
	unsigned char *buf = pattern_new(FLOOD);
	int fd;
	pid_t pid = start_reader(FLOOD, &fd);

	ck_assert_int_eq(io_writen(fd, buf, FLOOD), FLOOD);
	close(fd);
	expect_clean_exit(pid, "the reader (it checks the byte count and the bytes)");
	free(buf);
}
END_TEST

START_TEST(test_io_writen_survives_eintr_and_short_writes)
{
	unsigned char *buf = pattern_new(FLOOD);
	int fd, ticks;
	ssize_t w;
	pid_t pid = start_reader(FLOOD, &fd);

	/* A blocked write interrupted after moving some bytes returns short. */
	unit_ticks_start(TICK_US);
	w = io_writen(fd, buf, FLOOD);
	ticks = unit_ticks_stop();
	ck_assert_msg(ticks > 0, "test: the timer never fired");
	ck_assert_msg(w == FLOOD, "io_writen returned %zd under signals; expected %d", w, FLOOD);
	close(fd);
	expect_clean_exit(pid, "the reader (it checks the byte count and the bytes)");
	free(buf);
}
END_TEST

START_TEST(test_io_writen_zero_bytes)
{
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(io_writen(fds[1], "", 0), 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_io_writen_epipe)
{
	int fds[2];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	errno = 0;
	ck_assert_msg(io_writen(fds[1], "abc", 3) == -1 && errno == EPIPE,
		      "writing to a pipe with no reader must fail with EPIPE (errno %s)",
		      err_name(errno));
	close(fds[1]);
}
END_TEST

START_TEST(test_io_writen_bad_fd)
{
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	errno = 0;
	ck_assert_int_eq(io_writen(-1, "abc", 3), -1);
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_int_eq(io_writen(fds[0], "abc", 3), -1); /* the read end */
	ck_assert_int_eq(errno, EBADF);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

/* ==== io_slurp ==== */

START_TEST(test_io_slurp_reads_all)
{
	struct dribble d = {.len = 300, .chunk = 11, .gap_us = 200};
	size_t len = 0;
	int fd;
	pid_t pid = start_writer(&d, &fd);
	char *s = io_slurp(fd, 1000, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_msg(len == 300, "io_slurp kept %zu bytes; the writer sent 300", len);
	ck_assert_int_eq(pattern_mismatch(s, len), -1);
	ck_assert_msg(s[len] == '\0', "io_slurp's buffer must end with a NUL");
	free(s);
	close(fd);
	expect_clean_exit(pid, "the writer");
}
END_TEST

START_TEST(test_io_slurp_caps_and_drains)
{
	/* More than a pipe holds: the writer finishes only if the reader drains it all. */
	struct dribble d = {.len = 256 * 1024, .chunk = 256, .gap_us = 0};
	size_t len = 0;
	char c;
	int fd;
	pid_t pid = start_writer(&d, &fd);
	char *s = io_slurp(fd, 100, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_msg(len == 100, "io_slurp kept %zu bytes with a cap of 100", len);
	ck_assert_int_eq(pattern_mismatch(s, len), -1);
	ck_assert_msg(s[100] == '\0', "io_slurp's buffer must end with a NUL");
	ck_assert_msg(read(fd, &c, 1) == 0, "io_slurp must read to end of file past its cap");
	free(s);
	close(fd);
	expect_clean_exit(pid, "the writer (it is killed by SIGPIPE if the rest was not read)");
}
END_TEST

START_TEST(test_io_slurp_exact_cap)
{
	struct dribble d = {.len = 100, .chunk = 9, .gap_us = 0};
	size_t len = 0;
	int fd;
	pid_t pid = start_writer(&d, &fd);
	char *s = io_slurp(fd, 100, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(len, 100);
	ck_assert_int_eq(pattern_mismatch(s, len), -1);
	ck_assert_int_eq(s[100], '\0');
	free(s);
	close(fd);
	expect_clean_exit(pid, "the writer");
}
END_TEST

START_TEST(test_io_slurp_cap_zero)
{
	struct dribble d = {.len = 50, .chunk = 50, .gap_us = 0};
	size_t len = 99;
	int fd;
	pid_t pid = start_writer(&d, &fd);
	char *s = io_slurp(fd, 0, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(s, "");
	free(s);
	close(fd);
	expect_clean_exit(pid, "the writer");
}
END_TEST

START_TEST(test_io_slurp_empty_and_len_optional)
{
	int fds[2];
	size_t len = 99;
	char *s;

	ck_assert_int_eq(pipe(fds), 0);
	close(fds[1]);
	s = io_slurp(fds[0], 16, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(s, "");
	free(s);
	s = io_slurp(fds[0], 16, NULL); /* len may be NULL */
	ck_assert_ptr_nonnull(s);
	free(s);
	close(fds[0]);
}
END_TEST

START_TEST(test_io_slurp_bad_fd)
{
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	errno = 0;
	ck_assert_ptr_null(io_slurp(-1, 16, NULL));
	ck_assert_int_eq(errno, EBADF);
	errno = 0;
	ck_assert_ptr_null(io_slurp(fds[1], 16, NULL)); /* the write end */
	ck_assert_int_eq(errno, EBADF);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_io_slurp_impossible_cap)
{
	static const size_t caps[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2};
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	close(fds[1]);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		char *s;

		errno = 0;
		s = io_slurp(fds[0], caps[i], NULL);
		ck_assert_msg(s == NULL && errno == ENOMEM,
			      "io_slurp(fd, %zu, ...) can't have its buffer: NULL with ENOMEM "
			      "expected (errno %s)",
			      caps[i], err_name(errno));
	}
	close(fds[0]);
}
END_TEST

START_TEST(test_io_slurp_survives_eintr)
{
	struct dribble d = {.len = 64, .chunk = 4, .gap_us = 4000};
	size_t len = 0;
	int fd, ticks;
	pid_t pid = start_writer(&d, &fd);
	char *s;

	unit_ticks_start(TICK_US);
	s = io_slurp(fd, 1000, &len);
	ticks = unit_ticks_stop();
	ck_assert_msg(ticks > 0, "test: the timer never fired");
	ck_assert_msg(s != NULL, "io_slurp failed under signals (%s): it must retry after EINTR",
		      err_name(errno));
	ck_assert_uint_eq(len, 64);
	ck_assert_int_eq(pattern_mismatch(s, len), -1);
	free(s);
	close(fd);
	expect_clean_exit(pid, "the writer");
}
END_TEST

/* ==== The suite ==== */

Suite *io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *readn = tcase_create("readn");
	TCase *writen = tcase_create("writen");
	TCase *slurp = tcase_create("slurp");

	tcase_add_test(readn, test_io_readn_whole_from_dribbling_writer);
	tcase_add_test(readn, test_io_readn_short_at_eof);
	tcase_add_test(readn, test_io_readn_zero_bytes);
	tcase_add_test(readn, test_io_readn_bad_fd);
	tcase_add_test(readn, test_io_readn_survives_eintr);
	tcase_add_test(writen, test_io_writen_all_to_slow_reader);
	tcase_add_test(writen, test_io_writen_survives_eintr_and_short_writes);
	tcase_add_test(writen, test_io_writen_zero_bytes);
	tcase_add_test(writen, test_io_writen_epipe);
	tcase_add_test(writen, test_io_writen_bad_fd);
	tcase_add_test(slurp, test_io_slurp_reads_all);
	tcase_add_test(slurp, test_io_slurp_caps_and_drains);
	tcase_add_test(slurp, test_io_slurp_exact_cap);
	tcase_add_test(slurp, test_io_slurp_cap_zero);
	tcase_add_test(slurp, test_io_slurp_empty_and_len_optional);
	tcase_add_test(slurp, test_io_slurp_bad_fd);
	tcase_add_test(slurp, test_io_slurp_impossible_cap);
	tcase_add_test(slurp, test_io_slurp_survives_eintr);
	tcase_set_timeout(writen, 20); /* a slow reader on a busy machine, one CPU */
	suite_add_tcase(s, readn);
	suite_add_tcase(s, writen);
	suite_add_tcase(s, slurp);
	return s;
}
