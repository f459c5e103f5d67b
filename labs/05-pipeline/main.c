/*
 * Lab 05's demo: a tiny shell that runs one pipeline with run_pipeline().
 *
 *	make run LAB=05
 *	make run LAB=05 ARGS="'ls -l /usr/bin | grep zip | wc -l'"
 *	make run LAB=05 ARGS="-n 'yes | head -n 3'"
 *
 * The pipeline is one argument: commands separated by '|', words separated
 * by blanks (no quotes, no redirections: the lesson is the plumbing, not the
 * parsing). Its output goes to this program's standard output; its status
 * is printed on stderr afterwards, as `echo $?` would show it. -n also
 * prints how many descriptors this process held before and after, which
 * must be the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipclab.h"
#include "pipeline.h"

#define MAX_STAGES 32
#define MAX_WORDS  256

/* The pipeline of the command line, split in place. */
struct parsed {
	char **cmds[MAX_STAGES]; /* one argv a stage, pointing into words */
	char *words[MAX_WORDS];  /* every word, each stage's followed by NULL */
	int n;                   /* how many stages */
};

/*
 * Split line (modified in place) on '|' into stages and on blanks into
 * words. Dies with a message on an empty stage or too many of anything.
 */
static void parse(char *line, struct parsed *p)
{
	char *stage, *word, *save_stage, *save_word;
	int w = 0;

	for (stage = strtok_r(line, "|", &save_stage); stage;
	     stage = strtok_r(NULL, "|", &save_stage)) {
		if (p->n == MAX_STAGES)
			err_die("more than %d stages", MAX_STAGES);
		p->cmds[p->n++] = &p->words[w];
		for (word = strtok_r(stage, " \t\n", &save_word); word;
		     word = strtok_r(NULL, " \t\n", &save_word)) {
			if (w >= MAX_WORDS - 1)
				err_die("more than %d words", MAX_WORDS);
			p->words[w++] = word;
		}
		if (p->cmds[p->n - 1] == &p->words[w])
			err_die("stage %d is empty", p->n);
		p->words[w++] = NULL;
	}
	if (p->n == 0)
		err_die("no command to run");
}

static void usage(void)
{
	fprintf(stderr, "usage: demo [-n] ['cmd ARGS | cmd ARGS | ...']\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char line[4096] = "ls / | sort -r | head -n 3";
	struct parsed p = {0};
	int c, show_fds = 0, before, status;

	while ((c = getopt(argc, argv, "n")) != -1) {
		if (c != 'n')
			usage();
		show_fds = 1;
	}
	if (argc - optind > 1)
		usage();
	if (optind < argc && snprintf(line, sizeof(line), "%s", argv[optind]) >= (int)sizeof(line))
		err_die("the pipeline is too long");
	fprintf(stderr, "$ %s\n", line);
	parse(line, &p);
	before = proc_count_fds(0);
	fflush(stdout); /* the stages write to the same descriptor: keep the order */
	status = run_pipeline(p.cmds, p.n, STDIN_FILENO, STDOUT_FILENO);
	if (status < 0)
		err_die("run_pipeline:");
	fprintf(stderr, "[%d stage%s, exit status %d]\n", p.n, p.n > 1 ? "s" : "", status);
	if (show_fds)
		fprintf(stderr, "[descriptors open here: %d before, %d after]\n", before,
			proc_count_fds(0));
	return 0;
}
