/*
** pool.h — helper threads that split one forward pass's matrix products and
** attention heads, under one process-wide budget.
**
**   snt_team t;
**   snt_team_begin(&t, want);          // this thread + up to want-1 helpers
**   snt_team_run(&t, fn, ctx);         // fn(ctx, part, t.n) on every member, then wait
**   snt_team_end(&t);                  // helpers back to the pool
**
** Budget: threads inside teams (callers and helpers together) never exceed
** snt_pool_budget(); a caller that finds it spent runs alone (a team of 1:
** it never waits), so several host threads scoring at once run as they
** would without the pool. Helpers are started on first use and kept, parked
** on a condition variable; each runs OpenBLAS on its own thread (the caller
** holds OpenBLAS at one thread, ext/blas_threads.h).
**
** Internal to core/ and tests/.
*/
#ifndef SNT_POOL_H
#define SNT_POOL_H

#define SNT_TEAM_MAX 64

typedef struct snt_helper snt_helper;

typedef struct snt_team {
  int n;                           /* members: the caller and n - 1 helpers */
  snt_helper *h[SNT_TEAM_MAX - 1];
} snt_team;

/* Helpers plus callers at most (≥ 1); 0 restores the default, the number of
** online CPUs (at most SNT_TEAM_MAX). */
void snt_pool_set_budget(int n);
int snt_pool_budget(void);

/* Form a team of at most want members (1 ≤ n ≤ want), within the budget. */
void snt_team_begin(snt_team *t, int want);
/* Runs fn(ctx, i, t->n) for i in [0, t->n): part 0 on the calling thread,
** the others on the helpers; returns when all are done. */
void snt_team_run(const snt_team *t, void (*fn)(void *ctx, int part, int parts), void *ctx);
void snt_team_end(snt_team *t);

/* The range [lo, hi) of part i of n over [0, total), cut at multiples of
** align (the last part takes the rest). */
void snt_split(int total, int align, int i, int n, int *lo, int *hi);

#endif
