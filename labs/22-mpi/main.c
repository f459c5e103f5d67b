/*
 * Lab 22's demo: one MPI program, run as several ranks by mpirun.
 *
 *	make run LAB=22                  four ranks on this machine
 *	make run LAB=22 NP=2 ARGS=1e8    two ranks, pi over 10^8 strips
 *	mpirun --hostfile hosts -n 8 build/labs/22-mpi/demo
 *
 * Rank 0 prints where every rank runs (MPI_Gather of the host names), the
 * ping-pong's round-trip time and bandwidth for growing messages, checks
 * the ring and the sum of squares against what it computes alone, and
 * times the pi integration: run it with -n 1, 2 and 4 and compare (lab 20).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipclab.h"
#include "mpilab.h"

#define RING_COUNT 100000 /* longs a token: 800 KB, far past the eager limit */
#define VALUES     1000003

/* Rank 0 prints every rank's host: the step from one machine to many shows here. */
static void show_ranks(const struct mpi_session *s)
{
	char name[MPI_MAX_PROCESSOR_NAME] = "", *all = NULL;
	int len;

	MPI_Get_processor_name(name, &len);
	if (s->rank == 0)
		all = xcalloc((size_t)s->size, MPI_MAX_PROCESSOR_NAME);
	MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0,
		   s->comm);
	for (int r = 0; s->rank == 0 && r < s->size; r++)
		printf("rank %d of %d on %s\n", r, s->size,
		       all + (size_t)r * MPI_MAX_PROCESSOR_NAME);
	free(all);
}

static void show_pingpong(const struct mpi_session *s)
{
	static const int sizes[] = {1, 1024, 65536, 1 << 20};
	char *buf = xcalloc(1, 1 << 20);

	if (s->size < 2) {
		if (s->rank == 0)
			printf("ping-pong: needs two ranks (mpirun -n 2 or more)\n");
		free(buf);
		return;
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double t = 0;

		memset(buf, 'a' + (int)i, (size_t)sizes[i]);
		if (pingpong(s, buf, sizes[i], 20, &t) < 0)
			err_die("pingpong:");
		if (s->rank == 0)
			printf("ping-pong %8d bytes: %9.2f us a round trip, %8.1f MB/s\n", sizes[i],
			       t * 1e6, t > 0 ? 2.0 * sizes[i] / t / 1e6 : 0.0);
	}
	free(buf);
}

static void show_ring(const struct mpi_session *s)
{
	long *mine = xcalloc(RING_COUNT, sizeof(long)), *sum = xcalloc(RING_COUNT, sizeof(long));
	long want = (long)s->size * (s->size - 1) / 2; /* 0 + 1 + ... + size - 1 */
	int bad = 0;

	for (int i = 0; i < RING_COUNT; i++)
		mine[i] = s->rank;
	if (ring_allreduce(s, mine, sum, RING_COUNT) < 0)
		err_die("ring_allreduce:");
	for (int i = 0; i < RING_COUNT; i++)
		bad += sum[i] != want;
	if (s->rank == 0)
		printf("ring: %d longs a token, every sum %s %ld\n", RING_COUNT,
		       bad ? "is NOT" : "is", want);
	free(mine);
	free(sum);
}

static void show_collectives(const struct mpi_session *s, long steps)
{
	int *data = NULL;
	long long got = 0, want = 0;
	double pi = 0, t;

	if (s->rank == 0) {
		data = xcalloc(VALUES, sizeof(int));
		for (int i = 0; i < VALUES; i++) {
			data[i] = i % 2000 - 1000;
			want += (long long)data[i] * data[i];
		}
	}
	if (scatter_sum_squares(s, data, VALUES, &got) < 0)
		err_die("scatter_sum_squares:");
	if (s->rank == 0)
		printf("sum of squares of %d values: %lld (alone: %lld)\n", VALUES, got, want);
	free(data);
	MPI_Barrier(s->comm); /* everyone starts the clock together */
	t = MPI_Wtime();
	if (integrate_pi(s, steps, &pi) < 0)
		err_die("integrate_pi:");
	t = MPI_Wtime() - t;
	if (s->rank == 0)
		printf("pi over %ld strips on %d ranks: %.12f in %.3f s\n", steps, s->size, pi, t);
}

int main(int argc, char **argv)
{
	struct mpi_session s;
	long steps;

	if (session_begin(&argc, &argv, &s) < 0)
		err_die("session_begin:");
	steps = argc > 1 ? (long)strtod(argv[1], NULL) : 100000000;
	show_ranks(&s);
	show_pingpong(&s);
	show_ring(&s);
	show_collectives(&s, steps > 0 ? steps : 1);
	if (session_end(&s) < 0)
		err_die("session_end:");
	return 0;
}
