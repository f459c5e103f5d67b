/*
 * Lab 22, the reference: a session, a ping-pong, a ring and two reductions
 * in MPI. Each function is one rank's part of the job; every rank of
 * s->comm runs it at the same time, with its own arguments.
 *
 * MPI calls are not checked one by one: the communicator's error handler,
 * MPI_ERRORS_ARE_FATAL, ends the whole job with a message when one fails.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mpilab.h"

/* ==== The session ==== */

int session_begin(int *argc, char ***argv, struct mpi_session *s)
{
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	MPI_Init(argc, argv);
	/* Same ranks as MPI_COMM_WORLD, but messages of the lab's own. */
	MPI_Comm_dup(MPI_COMM_WORLD, &s->comm);
	MPI_Comm_rank(s->comm, &s->rank);
	MPI_Comm_size(s->comm, &s->size);
	return 0;
}

int session_end(struct mpi_session *s)
{
	if (!s) {
		errno = EINVAL;
		return -1;
	}
	MPI_Comm_free(&s->comm);
	MPI_Finalize();
	return 0;
}

/* ==== Point to point ==== */

/* Rank 0's part: send, receive the echo, compare; every round, even after a bad echo. */
static int ping(const struct mpi_session *s, const char *buf, int len, int rounds, double *seconds)
{
	char *echo = malloc(len > 0 ? (size_t)len : 1);
	int bad = 0;
	double start;

	if (!echo)
		return -1; /* errno is ENOMEM */
	start = MPI_Wtime();
	for (int i = 0; i < rounds; i++) {
		MPI_Status st;
		int got;

		MPI_Send(buf, len, MPI_BYTE, 1, PINGPONG_TAG, s->comm);
		MPI_Recv(echo, len, MPI_BYTE, 1, PINGPONG_TAG, s->comm, &st);
		MPI_Get_count(&st, MPI_BYTE, &got);
		if (got != len || memcmp(echo, buf, (size_t)len) != 0)
			bad = 1;
	}
	if (seconds)
		*seconds = (MPI_Wtime() - start) / rounds;
	free(echo);
	if (bad) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* Rank 1's part: receive each message into buf and send it straight back. */
static void pong(const struct mpi_session *s, char *buf, int len, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		MPI_Status st;
		int got;

		MPI_Recv(buf, len, MPI_BYTE, 0, PINGPONG_TAG, s->comm, &st);
		MPI_Get_count(&st, MPI_BYTE, &got);
		MPI_Send(buf, got, MPI_BYTE, 0, PINGPONG_TAG, s->comm);
	}
}

int pingpong(const struct mpi_session *s, char *buf, int len, int rounds, double *seconds)
{
	if (s->size < 2 || len < 0 || rounds < 1 || (!buf && len > 0)) {
		errno = EINVAL;
		return -1;
	}
	if (s->rank == 0)
		return ping(s, buf, len, rounds, seconds);
	if (s->rank == 1)
		pong(s, buf, len, rounds);
	return 0;
}

/* ==== A ring ==== */

int ring_allreduce(const struct mpi_session *s, const long *mine, long *sum, int count)
{
	int right = (s->rank + 1) % s->size, left = (s->rank - 1 + s->size) % s->size;
	long *both, *token, *next;

	if (count < 0 || ((!mine || !sum) && count > 0)) {
		errno = EINVAL;
		return -1;
	}
	both = malloc(2 * (count > 0 ? (size_t)count : 1) * sizeof(long));
	if (!both)
		return -1;                     /* errno is ENOMEM */
	token = both;                          /* the token this rank holds */
	next = both + (count > 0 ? count : 1); /* where its left neighbour's comes in */
	memcpy(token, mine, (size_t)count * sizeof(long));
	memcpy(sum, mine, (size_t)count * sizeof(long));
	for (int step = 1; step < s->size; step++) {
		long *t;

		/* Send and receive at once: no rank waits for a receive it has not posted. */
		MPI_Sendrecv(token, count, MPI_LONG, right, RING_TAG, next, count, MPI_LONG, left,
			     RING_TAG, s->comm, MPI_STATUS_IGNORE);
		for (int i = 0; i < count; i++)
			sum[i] += next[i];
		t = token; /* pass on what came in */
		token = next;
		next = t;
	}
	free(both);
	return 0;
}

/* ==== Collectives ==== */

/* The strips or values [*first, *first + *count) of rank r out of n over size ranks. */
static void share(long n, int size, int r, long *first, long *count)
{
	long base = n / size, extra = n % size;

	*count = base + (r < extra);
	*first = r * base + (r < extra ? r : extra);
}

int scatter_sum_squares(const struct mpi_session *s, const int *data, int n, long long *result)
{
	int *counts = NULL, *displs = NULL, *mine = NULL, rc = -1;
	long first, count;
	long long part = 0;

	if (n < 0 || !result || (s->rank == 0 && !data && n > 0)) {
		errno = EINVAL;
		return -1;
	}
	share(n, s->size, s->rank, &first, &count);
	counts = malloc((size_t)s->size * sizeof(int));
	displs = malloc((size_t)s->size * sizeof(int));
	mine = malloc((count > 0 ? (size_t)count : 1) * sizeof(int));
	if (!counts || !displs || !mine)
		goto out; /* errno is ENOMEM */
	for (int r = 0; r < s->size; r++) {
		share(n, s->size, r, &first, &count);
		counts[r] = (int)count;
		displs[r] = (int)first;
	}
	/* counts and displs matter on the root only; every rank knows its own count. */
	MPI_Scatterv(data, counts, displs, MPI_INT, mine, counts[s->rank], MPI_INT, 0, s->comm);
	for (int i = 0; i < counts[s->rank]; i++)
		part += (long long)mine[i] * mine[i];
	MPI_Reduce(&part, result, 1, MPI_LONG_LONG, MPI_SUM, 0, s->comm);
	rc = 0;
out:
	free(counts);
	free(displs);
	free(mine);
	return rc;
}

int integrate_pi(const struct mpi_session *s, long steps, double *pi)
{
	double h, part = 0;
	long first, count;

	if (steps < 1 || !pi) {
		errno = EINVAL;
		return -1;
	}
	h = 1.0 / (double)steps;
	share(steps, s->size, s->rank, &first, &count);
	for (long i = first; i < first + count; i++) {
		double x = ((double)i + 0.5) * h;

		part += 4.0 / (1.0 + x * x);
	}
	part *= h;
	MPI_Allreduce(&part, pi, 1, MPI_DOUBLE, MPI_SUM, s->comm);
	return 0;
}
