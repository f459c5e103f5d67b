/*
 * Lab 08's demo: producers and consumers sharing a POSIX message queue,
 * then a System V queue choosing messages by type.
 *
 *	make run LAB=08
 *	make run LAB=08 ARGS='-p 3 -c 2 -n 5'
 *
 * -p producers (default 2), -c consumers (default 3), -n tasks per producer
 * (default 4). Each task is "task P.I", with priority I % 3: watch the
 * higher priorities overtake the others while the queue is full. Each
 * consumer prints what it takes; at the end the demo checks that the queue
 * is gone.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipclab.h"
#include "msgqueue.h"

#define MSGSIZE 64

static int ntasks = 4;

/* A producer: ntasks tasks, priorities 0, 1, 2, 0, ... */
static int produce(struct wq *q, int id, void *arg)
{
	char task[MSGSIZE];

	(void)arg;
	for (int i = 0; i < ntasks; i++) {
		int len = snprintf(task, sizeof(task), "task %d.%d", id, i);

		if (wq_put(q, task, (size_t)len, (unsigned)(i % 3), -1) < 0) {
			err_warn("producer %d: wq_put:", id);
			return 1;
		}
	}
	return 0;
}

/* A consumer's work: say what it got. dprintf: no stdio buffer for _exit to lose. */
static int consume(const void *task, size_t len, unsigned prio, void *arg)
{
	(void)arg;
	dprintf(STDOUT_FILENO, "consumer %d got \"%.*s\" (priority %u)\n", (int)getpid(), (int)len,
		(const char *)task, prio);
	usleep(20000); /* pretend to work, so that the queue fills up */
	return 0;
}

static void run_work_queue(int producers, int consumers)
{
	char name[64];
	struct wq_plan plan = {name, 4, MSGSIZE, producers, produce, consumers, consume, NULL};
	mqd_t mq;
	int r;

	snprintf(name, sizeof(name), "/ipclab08-demo-%d", (int)getpid());
	printf("== %d producers x %d tasks, %d consumers, queue %s of 4 tasks\n", producers, ntasks,
	       consumers, name);
	fflush(stdout); /* before fork: or the children would inherit the unflushed text */
	r = wq_run(&plan);
	if (r < 0)
		err_die("wq_run:");
	printf("wq_run returned %d (children that failed)\n", r);
	mq = mq_open(name, O_RDONLY);
	printf("queue %s still there? %s\n", name,
	       mq == (mqd_t)-1 ? "no" : "yes (wq_run must remove it)");
	if (mq != (mqd_t)-1) {
		mq_close(mq);
		mq_unlink(name);
	}
}

static void run_system_v(void)
{
	const long types[] = {3, 1, 2, 1};
	const char *texts[] = {"three", "one", "two", "one again"};
	char buf[64];
	long type;
	ssize_t n;
	int id = svq_create();

	if (id < 0)
		err_die("svq_create:");
	printf(
	    "== System V queue %d: sent types 3, 1, 2, 1; receiving with type -3 (lowest first)\n",
	    id);
	for (int i = 0; i < 4; i++)
		if (svq_send(id, types[i], texts[i], strlen(texts[i])) < 0)
			err_die("svq_send:");
	while ((n = svq_recv(id, -3, buf, sizeof(buf), &type, 0)) >= 0)
		printf("type %ld: \"%.*s\"\n", type, (int)n, buf);
	if (svq_remove(id) < 0)
		err_die("svq_remove:");
	printf("queue %d removed (ipcs -q no longer lists it)\n", id);
}

int main(int argc, char **argv)
{
	int producers = 2, consumers = 3, c;

	while ((c = getopt(argc, argv, "p:c:n:")) != -1) {
		if (c == 'p')
			producers = atoi(optarg);
		else if (c == 'c')
			consumers = atoi(optarg);
		else if (c == 'n')
			ntasks = atoi(optarg);
		else
			err_die("usage: demo [-p producers] [-c consumers] [-n tasks]");
	}
	run_work_queue(producers, consumers);
	run_system_v();
	return 0;
}
