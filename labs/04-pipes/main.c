/*
 * Lab 04's demo: a child produces messages, the parent consumes them.
 *
 *	make run LAB=04
 *	make run LAB=04 ARGS='-b 1000000 hello pipe'
 *	make run LAB=04 ARGS='-x 3 bye'
 *
 * Each WORD goes through the pipe as one framed message; -b BYTES adds one
 * big message of that many dots (try more than the 64 KiB a pipe holds);
 * -x STATUS is the status the child exits with. The parent prints what it
 * received and how the child ended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipclab.h"
#include "pipes.h"

struct plan {
	char **words; /* the messages to send, one a word */
	int nwords;   /* how many */
	size_t big;   /* bytes of the extra big message, 0 for none */
	int status;   /* what the child exits with */
};

/* The producer, run in the child: one frame a word, then the big one. Returns the status. */
static int produce(int wfd, void *arg)
{
	const struct plan *p = arg;
	char *dots;

	for (int i = 0; i < p->nwords; i++)
		if (send_msg(wfd, p->words[i], (uint32_t)strlen(p->words[i])) < 0)
			goto fail;
	if (p->big > 0) {
		dots = malloc(p->big);
		if (!dots)
			goto fail;
		memset(dots, '.', p->big);
		if (send_msg(wfd, dots, (uint32_t)p->big) < 0)
			goto fail;
		free(dots);
	}
	return p->status;
fail:
	/* Only report: the caller's _exit() ends the child, never exit(). */
	err_warn("child: send_msg:");
	return 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: demo [-b BYTES] [-x STATUS] [WORD...]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct plan *p)
{
	static char *defaults[] = {"Hello", ", ", "pipe", "!"};
	int c;

	while ((c = getopt(argc, argv, "b:x:")) != -1) {
		if (c == 'b')
			p->big = strtoul(optarg, NULL, 10);
		else if (c == 'x')
			p->status = atoi(optarg);
		else
			usage();
	}
	if (p->big > UINT32_MAX - 4096)
		err_die("-b %zu: a frame's length must fit in 32 bits", p->big);
	p->words = argc > optind ? argv + optind : defaults;
	p->nwords = argc > optind ? argc - optind : 4;
}

int main(int argc, char **argv)
{
	struct plan plan = {0};
	size_t cap, len = 0;
	char *out;
	int status;

	parse(argc, argv, &plan);
	cap = plan.big + 4096;
	for (int i = 0; i < plan.nwords; i++)
		cap += strlen(plan.words[i]);
	out = xmalloc(cap);
	status = producer_consumer(produce, &plan, out, cap, &len);
	if (status < 0)
		err_die("producer_consumer:");
	printf("received %zu bytes: \"%.*s\"%s\n", len, len > 60 ? 60 : (int)len, out,
	       len > 60 ? "..." : "");
	printf("the child exited with status %d\n", status);
	free(out);
	return 0;
}
