/*
 * Lab 06: FIFOs, a sequence-number server and its client. Your work goes here.
 *
 * The contracts are in fifos.h: read them first, and the picture at its
 * top. Write the client first (seq_next, then seq_stop on the same static
 * helper), then the server; the demo runs both (`make run LAB=06`).
 * Grade with `make grade LAB=06`.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fifos.h"

/* ==== The server ==== */

int seq_serve(const char *dir, int first)
{
	/* TODO(06): signals first. sigaction(SIGPIPE) to SIG_IGN, so that writing to a client that
	 * went away fails with EPIPE instead of killing the server. sigaction(SIGTERM) to a handler
	 * that only sets a static volatile sig_atomic_t flag, with sa_flags = 0: WITHOUT
	 * SA_RESTART, a blocked open() or read() then fails with EINTR. Keep the old actions. */
	/* TODO(06): seq_server_path(path, sizeof(path), dir), then mkfifo(path, 0600). EEXIST is
	 * fine (a FIFO left by a crashed server); any other error: restore the signals, return -1.
	 */
	/* TODO(06): open(path, O_RDONLY) — it blocks until a client opens the FIFO for writing —
	 * then open(path, O_WRONLY) too, and never write to it: while a write end is open, read()
	 * cannot return 0 (end of file) in the quiet moment between two clients. */
	/* TODO(06): loop while the flag is not set: read() one struct seq_request. EINTR: go back
	 * to the loop test. For len >= 1: open the client's FIFO (seq_client_path with req.pid) for
	 * writing, write one struct seq_response with the next number, close it; only if that
	 * worked, add len to the next number. ENOENT or EPIPE: skip that client, never exit. */
	/* TODO(06): len < 0: ignore the request. len == 0: answer with the next number, then
	 * leave the loop. */
	/* TODO(06): the cleanup, on every way out: close both descriptors, unlink(path), restore
	 * the old SIGPIPE and SIGTERM actions, return 0. */
	(void)dir;
	(void)first;
	errno = ENOSYS;
	return -1;
}

/* ==== The client ==== */

int seq_next(const char *dir, int len, int *first)
{
	/* TODO(06): len < 1 is EINVAL, before anything is created. Then do the exchange in a static
	 * helper of your own, shared with seq_stop(). */
	/* TODO(06): mkfifo() your reply FIFO, seq_client_path(..., dir, getpid()), BEFORE sending
	 * the request: the server looks for it as soon as it reads the request. */
	/* TODO(06): open the server's FIFO with O_WRONLY (ENOENT: no server), write the whole
	 * struct seq_request in ONE write() — at most PIPE_BUF bytes, so it is atomic and never
	 * mixes with another client's; a write() or read() that fails with EINTR moved nothing:
	 * try it again — then close it. */
	/* TODO(06): only now open your reply FIFO with O_RDONLY. Opening a FIFO for reading waits
	 * for a writer, and the server becomes one only after reading your request: open it before
	 * sending and you both wait for ever. */
	/* TODO(06): read the struct seq_response (loop over short reads; end of file before all of
	 * it: EPROTO), close, unlink your FIFO, store the number. On EVERY error path, unlink your
	 * FIFO too, saving errno around the cleanup. */
	(void)dir;
	(void)len;
	(void)first;
	errno = ENOSYS;
	return -1;
}

int seq_stop(const char *dir, int *next)
{
	/* TODO(06): the same exchange with len == 0; store the answer in *next unless next is NULL.
	 */
	(void)dir;
	(void)next;
	errno = ENOSYS;
	return -1;
}
