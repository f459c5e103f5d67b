/*
 * Lab 22: a session, a ping-pong, a ring and two reductions in MPI. The
 * contracts are in mpilab.h. Each function is one rank's part of the job:
 * every rank of s->comm runs it at the same time, with its own arguments,
 * and branches on s->rank where the ranks' parts differ.
 *
 * Build and run the demo with `make run LAB=22` (four ranks under mpirun);
 * grade with `make grade LAB=22`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mpilab.h"

/* ==== The session ==== */

int session_begin(int *argc, char ***argv, struct mpi_session *s)
{
	(void)argc;
	(void)argv;
	(void)s;
	/* TODO(22): check s, then MPI_Init(argc, argv): before it, no other MPI call is allowed. */
	/* TODO(22): MPI_Comm_dup(MPI_COMM_WORLD, &s->comm) — the lab's own world of messages. */
	/* TODO(22): MPI_Comm_rank and MPI_Comm_size of s->comm into s->rank and s->size. */
	errno = ENOSYS;
	return -1;
}

int session_end(struct mpi_session *s)
{
	(void)s;
	/* TODO(22): MPI_Comm_free(&s->comm): what you duplicate, you free. */
	/* TODO(22): MPI_Finalize() on every rank, not on rank 0 alone — mpirun reports any rank
	 * that leaves without it, and ends the whole job. */
	errno = ENOSYS;
	return -1;
}

/* ==== Point to point ==== */

int pingpong(const struct mpi_session *s, char *buf, int len, int rounds, double *seconds)
{
	(void)s;
	(void)buf;
	(void)len;
	(void)rounds;
	(void)seconds;
	/* TODO(22): EINVAL for size < 2, len < 0, rounds < 1 — on every rank, before any message. */
	/* TODO(22): rank 0: malloc an echo buffer, t0 = MPI_Wtime(); each round MPI_Send(buf, len,
	 * MPI_BYTE, 1, PINGPONG_TAG, s->comm), then MPI_Recv the echo from source 1, same tag. */
	/* TODO(22): rank 0: MPI_Get_count on the status, and memcmp: remember a bad echo, but do
	 * every round — rank 1 is waiting for them. *seconds = elapsed / rounds. */
	/* TODO(22): rank 1: each round MPI_Recv(buf, ..., 0, PINGPONG_TAG, ...) then send it back.
	 * Name the source and the tag: MPI_ANY_SOURCE or MPI_ANY_TAG take anybody's message. */
	/* TODO(22): any other rank has no part: return 0 (an "else" for every rank but 0 would make
	 * rank 2 wait for a ping that never comes). */
	errno = ENOSYS;
	return -1;
}

/* ==== A ring ==== */

int ring_allreduce(const struct mpi_session *s, const long *mine, long *sum, int count)
{
	(void)s;
	(void)mine;
	(void)sum;
	(void)count;
	/* TODO(22): right = (rank + 1) % size; left = (rank - 1 + size) % size — never negative. */
	/* TODO(22): two buffers of count longs: the token you hold (a copy of mine at first) and
	 * the one that comes in. sum starts as a copy of mine. */
	/* TODO(22): size - 1 steps: MPI_Sendrecv(token to right, next from left, RING_TAG), add
	 * next into sum, and pass next on: it is the token of the next step, not mine. */
	/* TODO(22): not MPI_Send then MPI_Recv: a large token waits in MPI_Send until the right
	 * neighbour receives, and it is sending too — every rank waits, forever. */
	errno = ENOSYS;
	return -1;
}

/* ==== Collectives ==== */

int scatter_sum_squares(const struct mpi_session *s, const int *data, int n, long long *result)
{
	(void)s;
	(void)data;
	(void)n;
	(void)result;
	/* TODO(22): counts[r] = n / size, plus one for the first n % size ranks; displs[r] = the
	 * sum of the counts before r. Dropping the n % size left over loses values. */
	/* TODO(22): MPI_Scatterv(data, counts, displs, MPI_INT, mine, counts[rank], MPI_INT, 0, ...):
	 * only rank 0 has data — the others must not read it (NULL there). */
	/* TODO(22): sum (long long)x * x over your share, then MPI_Reduce(&part, result, 1,
	 * MPI_LONG_LONG, MPI_SUM, 0, s->comm): the result lands on rank 0 only. */
	errno = ENOSYS;
	return -1;
}

int integrate_pi(const struct mpi_session *s, long steps, double *pi)
{
	(void)s;
	(void)steps;
	(void)pi;
	/* TODO(22): h = 1.0 / steps (not 1 / steps: integer division gives 0). */
	/* TODO(22): this rank's strips, split as in scatter_sum_squares: every strip counted once. */
	/* TODO(22): part = h * sum of 4 / (1 + x * x) at x = (i + 0.5) * h over those strips;
	 * MPI_Allreduce(&part, pi, 1, MPI_DOUBLE, MPI_SUM, s->comm): pi on every rank. */
	errno = ENOSYS;
	return -1;
}
