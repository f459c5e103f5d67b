/*
 * Lab 03, races: shared data touched by several threads at once, made safe
 * with a mutex, with an atomic, and with a lock that a scope releases for
 * you. Four small pieces: a counter behind a mutex, a counter that is one
 * atomic, a bank whose balances share one lock, and a runner that calls a
 * critical section from many threads under one shared lock.
 *
 * This header is the contract. Do not edit it: the grader builds your
 * races.c against its own copy.
 */
#ifndef RACES_H
#define RACES_H

#include <pthread.h>
#include <stdatomic.h>

/* ==== A counter behind a mutex ==== */

struct counter {
	pthread_mutex_t lock; /* protects value: held for every read and every write of it */
	long value;           /* the count */
};

/*
 * Make c a counter at 0 with a new mutex (default attributes).
 * Returns 0, or -1 with errno set to the number pthread_mutex_init returned.
 * Cleanup: counter_destroy, once no thread uses c any more.
 */
int counter_init(struct counter *c);

/*
 * Add 1 to c->value, holding c->lock (the counter's own mutex, not another)
 * from before the read until after the write, so that no increment made by
 * another thread at the same time is ever lost. Safe to call from any number
 * of threads at once. Returns 0, or -1 with errno set to the number a
 * pthread_mutex_* call returned.
 */
int counter_increment(struct counter *c);

/* The current count, read while holding c->lock. Can't fail. */
long counter_get(struct counter *c);

/*
 * Destroy c's mutex. Returns 0, or -1 with errno set to the number
 * pthread_mutex_destroy returned (EBUSY: someone still holds the lock).
 */
int counter_destroy(struct counter *c);

/* ==== A counter that is one atomic ==== */

struct acounter {
	atomic_long value; /* the count, only ever touched through <stdatomic.h> */
};

/* Set a's count to value. Call it before any thread uses a. Can't fail. */
void acounter_init(struct acounter *a, long value);

/*
 * Add delta to a's count in one indivisible step and return the count just
 * before the add (a fetch-and-add). Run at once from many threads, each call
 * sees a count of its own: threads taking 1 at a time from 0 get 0, 1, 2, ...
 * each exactly once, like tickets. No mutex. Can't fail.
 */
long acounter_add(struct acounter *a, long delta);

/* a's current count. Can't fail. */
long acounter_get(struct acounter *a);

/* ==== A bank: one lock for every balance ==== */

struct bank {
	pthread_mutex_t lock; /* protects naccounts' balances: held to read or change any */
	int naccounts;        /* how many accounts: 0 .. naccounts - 1 */
	long *balance;        /* balance[i]: what account i holds, never below 0 */
};

/*
 * Open a bank of naccounts accounts holding initial each, with a new mutex.
 * Returns 0. Errors: -1 with errno EINVAL when naccounts < 1 or initial < 0;
 * ENOMEM; the number pthread_mutex_init returned. On error nothing is left
 * allocated. Cleanup: bank_destroy.
 */
int bank_init(struct bank *b, int naccounts, long initial);

/*
 * Free b's balances and destroy its mutex. Returns 0, or -1 with errno set
 * to the number pthread_mutex_destroy returned (the balances are freed all
 * the same).
 */
int bank_destroy(struct bank *b);

/*
 * Move amount from account from to account to. The check that from holds
 * enough and the move itself happen under one holding of b->lock, so that
 * two transfers at once can never overdraw an account, and a reader of
 * bank_total never sees money that has left one account and not yet reached
 * the other. Use pthread_mutex_lock and pthread_mutex_unlock yourself here.
 *
 * Returns 0. Errors: -1 with errno EINVAL when from or to is not an account
 * or they are the same, or amount <= 0; -1 with errno ERANGE when from holds
 * less than amount (nothing moves). Every return, on every error too,
 * leaves b->lock unlocked: a path that returns with the lock held makes the
 * next caller wait forever.
 */
int bank_transfer(struct bank *b, int from, int to, long amount);

/*
 * Take amount out of account, under b->lock. Write it with the scoped lock
 * WITH_LOCK of races.c (C's `with lock:`), returning from inside the locked
 * block when the account holds too little.
 *
 * Returns 0. Errors: -1 with errno EINVAL when account is not an account or
 * amount <= 0; -1 with errno ERANGE when the account holds less than amount
 * (nothing is taken). Every return leaves b->lock unlocked.
 */
int bank_withdraw(struct bank *b, int account, long amount);

/*
 * The sum of every balance, all read under one holding of b->lock: a
 * consistent snapshot, even while transfers run. Can't fail.
 */
long bank_total(struct bank *b);

/* ==== A critical section run from many threads ==== */

/*
 * Start nthreads new threads, all running at once, and have each call
 * fn(ctx) calls times. Every call is made while holding one mutex shared by
 * all the threads (taken before each call and released after it), so that no
 * two calls ever overlap, whichever threads make them: fn may then update
 * plain variables through ctx without a lock of its own. fn never runs in
 * the calling thread.
 *
 * Returns 0 once every thread has been joined. Errors: -1 with errno EINVAL
 * when nthreads < 1, calls < 0 or fn is NULL (no thread started); ENOMEM;
 * and when pthread_create fails, -1 with errno set to the number it returned.
 *
 * Cleanup: every thread started is joined and the mutex destroyed before
 * run_critical returns, on failure too; all memory it allocated is freed.
 */
int run_critical(int nthreads, long calls, void (*fn)(void *ctx), void *ctx);

#endif
