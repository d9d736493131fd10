/*
** pool.c — helper threads for splitting a forward pass (pool.h).
**
** One mutex guards the budget count and the list of parked helpers. A
** helper waits on its own condition variable for a job (a function, its
** context and a part number), runs it, then counts the job's parts down
** under the job's mutex; the caller, after its own part, waits for the count
** to reach zero. Helpers live until the library is unloaded (the destructor
** stops and joins them: they are all parked then, as no forward pass runs).
** A child of fork() has none of the parent's threads: it forgets them
** (pthread_atfork) and starts its own, rather than wait for them forever.
*/
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct job_done {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int left;
} job_done;

struct snt_helper {
  pthread_t th;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int has_job, quit;
  void (*fn)(void *, int, int);
  void *ctx;
  int part, parts;
  job_done *done;
  snt_helper *next;        /* in the parked list; every helper in all_helpers */
  snt_helper *next_all;
};

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static snt_helper *parked, *all_helpers;
static int in_teams;       /* callers and helpers in teams now */
static int budget;         /* snt_pool_set_budget; 0: the CPU count */

static int budget_locked(void) {
  if (budget > 0) return budget;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > SNT_TEAM_MAX ? SNT_TEAM_MAX : (int)n;
}

void snt_pool_set_budget(int n) {
  pthread_mutex_lock(&pool_mu);
  budget = n < 0 ? 0 : n > SNT_TEAM_MAX ? SNT_TEAM_MAX : n;
  pthread_mutex_unlock(&pool_mu);
}

int snt_pool_budget(void) {
  pthread_mutex_lock(&pool_mu);
  int n = budget_locked();
  pthread_mutex_unlock(&pool_mu);
  return n;
}

static void *helper_main(void *arg) {
  snt_helper *h = arg;
  pthread_mutex_lock(&h->mu);
  for (;;) {
    while (!h->has_job && !h->quit) pthread_cond_wait(&h->cv, &h->mu);
    if (h->quit) break;
    h->has_job = 0;
    void (*fn)(void *, int, int) = h->fn;
    void *ctx = h->ctx;
    int part = h->part, parts = h->parts;
    job_done *d = h->done;
    pthread_mutex_unlock(&h->mu);
    fn(ctx, part, parts);
    pthread_mutex_lock(&d->mu);
    if (--d->left == 0) pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
    pthread_mutex_lock(&h->mu);
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

/* In the child of a fork (pool_mu held across it by the prepare handler):
** the helpers' threads do not exist here; their memory is left as it is. */
static void pool_fork_prepare(void) { pthread_mutex_lock(&pool_mu); }
static void pool_fork_parent(void) { pthread_mutex_unlock(&pool_mu); }
static void pool_fork_child(void) {
  parked = all_helpers = NULL;
  in_teams = 0;
  pthread_mutex_unlock(&pool_mu);
}

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static void pool_init(void) {
  pthread_atfork(pool_fork_prepare, pool_fork_parent, pool_fork_child);
}

/* A parked helper, or a new one; NULL when none can be started. Caller
** holds pool_mu. */
static snt_helper *helper_get(void) {
  snt_helper *h = parked;
  if (h) {
    parked = h->next;
    return h;
  }
  h = calloc(1, sizeof *h);
  if (!h) return NULL;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  if (pthread_create(&h->th, NULL, helper_main, h) != 0) {
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
    return NULL;
  }
  h->next_all = all_helpers;
  all_helpers = h;
  return h;
}

void snt_team_begin(snt_team *t, int want) {
  if (want > 1) pthread_once(&pool_once, pool_init);
  pthread_mutex_lock(&pool_mu);
  int free_slots = budget_locked() - in_teams - 1; /* after counting the caller */
  int k = want - 1 < free_slots ? want - 1 : free_slots;
  if (k > SNT_TEAM_MAX - 1) k = SNT_TEAM_MAX - 1;
  t->n = 1;
  for (int i = 0; i < k; i++) {
    snt_helper *h = helper_get();
    if (!h) break;
    t->h[t->n++ - 1] = h;
  }
  in_teams += t->n;
  pthread_mutex_unlock(&pool_mu);
}

void snt_team_end(snt_team *t) {
  pthread_mutex_lock(&pool_mu);
  for (int i = 0; i < t->n - 1; i++) {
    t->h[i]->next = parked;
    parked = t->h[i];
  }
  in_teams -= t->n;
  pthread_mutex_unlock(&pool_mu);
  t->n = 1;
}

void snt_team_run(const snt_team *t, void (*fn)(void *ctx, int part, int parts), void *ctx) {
  if (t->n == 1) {
    fn(ctx, 0, 1);
    return;
  }
  job_done d;
  pthread_mutex_init(&d.mu, NULL);
  pthread_cond_init(&d.cv, NULL);
  d.left = t->n - 1;
  for (int i = 1; i < t->n; i++) {
    snt_helper *h = t->h[i - 1];
    pthread_mutex_lock(&h->mu);
    h->fn = fn;
    h->ctx = ctx;
    h->part = i;
    h->parts = t->n;
    h->done = &d;
    h->has_job = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
  }
  fn(ctx, 0, t->n);
  pthread_mutex_lock(&d.mu);
  while (d.left > 0) pthread_cond_wait(&d.cv, &d.mu);
  pthread_mutex_unlock(&d.mu);
  pthread_mutex_destroy(&d.mu);
  pthread_cond_destroy(&d.cv);
}

void snt_split(int total, int align, int i, int n, int *lo, int *hi) {
  int chunk = (total + n - 1) / n;
  chunk = (chunk + align - 1) / align * align;
  long a = (long)i * chunk, b = a + chunk;
  *lo = a < total ? (int)a : total;
  *hi = i == n - 1 || b > total ? total : (int)b;
}

/* Unloading the library (or exit): stop and join every helper. */
__attribute__((destructor)) static void pool_shutdown(void) {
  pthread_mutex_lock(&pool_mu);
  snt_helper *all = all_helpers;
  all_helpers = parked = NULL;
  pthread_mutex_unlock(&pool_mu);
  while (all) {
    snt_helper *h = all, *next = all->next_all;
    pthread_mutex_lock(&h->mu);
    h->quit = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
    all = next;
  }
}
