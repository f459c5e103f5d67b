/*
 * Lab 16's demo: a server and a client on a Unix socket, a server child on a
 * socketpair, and a descriptor passed from one process to another.
 *
 *	make run LAB=16
 *	make run LAB=16 ARGS='-s @demo16 hello unix sockets'
 *
 * Each WORD is one request; the server answers it in upper case. -s PATH is
 * the socket's name (default demo16.sock in the current directory; a name
 * starting with '@' lives in the abstract namespace). Then the same requests
 * go to a child made with usock_spawn(), and last, the parent writes a line
 * into a file with no name (created, then unlinked) and passes its
 * descriptor to a child, which reads the line through it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipclab.h"
#include "unixsock.h"

/* The server's work: the request in upper case. */
static ssize_t shout(void *arg, const char *req, size_t len, char *resp, size_t cap)
{
	(void)arg;
	if (len > cap)
		return -1;
	for (size_t i = 0; i < len; i++)
		resp[i] = (char)toupper((unsigned char)req[i]);
	return (ssize_t)len;
}

/* Send every word on fd and print the answers. */
static void ask_all(int fd, char **words, int n)
{
	char answer[256];
	size_t len;

	for (int i = 0; i < n; i++) {
		if (usock_call(fd, words[i], (uint32_t)strlen(words[i]), answer, sizeof(answer),
			       &len) < 0)
			err_die("usock_call:");
		printf("  %-16s -> %.*s\n", words[i], (int)len, answer);
	}
}

/* A server process on path for one client; the parent is the client. */
static void demo_server(const char *path, char **words, int n)
{
	int lfd, fd, status;
	pid_t pid;

	lfd = usock_listen(path);
	if (lfd < 0)
		err_die("usock_listen %s:", path);
	printf("server listening on %s\n", path);
	fflush(stdout);
	pid = xfork();
	if (pid == 0)
		_exit(usock_serve(lfd, 1, shout, NULL) < 0 ? 1 : 0);
	fd = usock_connect(path);
	if (fd < 0)
		err_die("usock_connect %s:", path);
	ask_all(fd, words, n);
	close(fd);
	xwaitpid(pid, &status, 0);
	if (usock_close(lfd, path) < 0)
		err_die("usock_close:");
	printf("server done (status %d), %s\n", WEXITSTATUS(status),
	       path[0] == '@' ? "an abstract name: no file to remove" : "its socket file removed");
}

static void demo_pair(char **words, int n)
{
	pid_t pid;
	int fd = usock_spawn(shout, NULL, &pid);

	if (fd < 0)
		err_die("usock_spawn:");
	printf("child %d on a socketpair\n", (int)pid);
	ask_all(fd, words, n);
	printf("child done, status %d\n", usock_finish(fd, pid));
}

/* The child reads, through a descriptor it was sent, a file that has no name. */
static void demo_fd(void)
{
	char path[] = "/tmp/ipclab16-XXXXXX", buf[128];
	const char *line = "read through a descriptor passed with SCM_RIGHTS\n";
	int sv[2], file, status;
	ssize_t n;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		err_die("socketpair:");
	fflush(stdout); /* or the child inherits, and prints again, what is still buffered */
	pid = xfork();
	if (pid == 0) {
		close(sv[0]);
		n = recv_file(sv[1], buf, sizeof(buf));
		if (n < 0)
			err_die("child: recv_file:");
		printf("child read %zd bytes: %.*s", n, (int)n, buf);
		fflush(stdout); /* _exit() does not flush stdio */
		_exit(0);
	}
	close(sv[1]);
	file = mkstemp(path);
	if (file < 0)
		err_die("mkstemp:");
	unlink(path); /* from now on only the descriptor reaches the file */
	io_writen(file, line, strlen(line));
	lseek(file, 0, SEEK_SET);
	if (send_fd(sv[0], file) < 0)
		err_die("send_fd:");
	printf("parent sent the descriptor of a file that has no name any more\n");
	fflush(stdout);
	close(file);
	close(sv[0]);
	xwaitpid(pid, &status, 0);
}

int main(int argc, char **argv)
{
	static char *defaults[] = {"hello", "unix", "sockets"};
	const char *path = "demo16.sock";
	char **words = defaults;
	int n = 3, c;

	while ((c = getopt(argc, argv, "s:")) != -1) {
		if (c != 's') {
			fprintf(stderr, "usage: demo [-s PATH] [WORD...]\n");
			return 2;
		}
		path = optarg;
	}
	if (argc > optind) {
		words = argv + optind;
		n = argc - optind;
	}
	demo_server(path, words, n);
	demo_pair(words, n);
	demo_fd();
	return 0;
}
