/*
** test_pool.c — splitting one forward pass over threads (core/pool.c,
** snt_state_set_threads):
**   1. snt_split covers [0, total) exactly, cut at the alignment;
**   2. the budget: teams never hold more members than snt_pool_set_budget,
**      a caller that finds it spent gets a team of 1 (it never waits);
**   3. logits at 2 and 3 threads are within 1e-6 of 1 thread, labels equal,
**      on the default model (long texts: the split engages above ~2^25 FLOPs
**      per layer) and on tiny-bert in packed batches, f32 and int8; a team
**      starts helper threads (/proc/self/task);
**   4. four threads scoring at once, each asking for 2, budget 2 (TSan runs
**      this: make test-tsan).
*/
#include <cblas.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pool.h"
#include "snt.h"

static int tasks(void) { /* threads in this process */
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  if (!d) return -1;
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static void test_split(void) {
  int ok = 1;
  for (int total = 0; total <= 100; total += 7)
    for (int n = 1; n <= 5; n++)
      for (int align = 1; align <= 16; align *= 4) {
        int next = 0;
        for (int i = 0; i < n; i++) {
          int lo, hi;
          snt_split(total, align, i, n, &lo, &hi);
          ok &= lo == next && hi >= lo && (hi == total || (hi - lo) % align == 0);
          next = hi;
        }
        ok &= next == total;
      }
  CHECK(ok, "snt_split leaves a gap or an overlap");
}

static void test_budget(void) {
  snt_pool_set_budget(3);
  CHECK(snt_pool_budget() == 3, "budget %d", snt_pool_budget());
  snt_team a, b, c;
  int before = tasks();
  snt_team_begin(&a, 8);
  CHECK(tasks() >= before + 2, "a team of 3 started no helper threads (%d threads before, %d after)",
        before, tasks());
  snt_team_begin(&b, 8);
  CHECK(a.n == 3 && b.n == 1, "budget 3: teams of %d and %d, not 3 and 1", a.n, b.n);
  snt_team_end(&a);
  snt_team_begin(&c, 2);
  CHECK(c.n == 2, "after a team ends its helpers are free again: team of %d", c.n);
  snt_team_end(&c);
  snt_team_end(&b);
  snt_team_begin(&a, 1);
  CHECK(a.n == 1, "a team of 1 asked, %d given", a.n);
  snt_team_end(&a);
  snt_pool_set_budget(0);
}

/* Logits of ids (n_seq packed sequences) at `threads`; no CHECK here (the
** harness's counters are not for several threads): err says what failed. */
static int run(const snt_model *m, int threads, int n_seq, const int32_t *ids, const int *off,
               float *lg, snt_error *err) {
  snt_state *s = snt_state_new(m, off[n_seq], err);
  int rc = s ? snt_state_set_threads(s, threads, err) : err->code;
  if (rc == SNT_OK) rc = snt_forward_batch(m, s, n_seq, ids, off, lg, err);
  snt_state_free(s);
  return rc;
}

static void compare(const snt_model *m, const char *what, int n_seq, const int32_t *ids,
                    const int *off) {
  int C = snt_model_config(m)->n_labels;
  float *one = calloc((size_t)n_seq * C, sizeof *one), *many = calloc((size_t)n_seq * C, sizeof *many);
  snt_error err = {0};
  snt_pool_set_budget(3);
  int rc = run(m, 1, n_seq, ids, off, one, &err);
  CHECK(rc == SNT_OK, "%s: forward: %s", what, err.msg);
  if (rc == SNT_OK)
    for (int t = 2; t <= 3; t++) {
      rc = run(m, t, n_seq, ids, off, many, &err);
      CHECK(rc == SNT_OK, "%s: forward at %d threads: %s", what, t, err.msg);
      if (rc != SNT_OK) continue;
      double worst = 0;
      int labels = 1;
      for (int i = 0; i < n_seq; i++) {
        int a = 0, b = 0;
        for (int j = 0; j < C; j++) {
          worst = fmax(worst, fabs((double)one[i * C + j] - many[i * C + j]));
          if (one[i * C + j] > one[i * C + a]) a = j;
          if (many[i * C + j] > many[i * C + b]) b = j;
        }
        labels &= a == b;
      }
      printf("%s: %d threads vs 1: max |dlogit| %.3g\n", what, t, worst);
      CHECK(worst <= 1e-6 && labels, "%s: %d threads differ from 1 by %g", what, t, worst);
    }
  snt_pool_set_budget(0);
  free(one), free(many);
}

/* A packed batch of n_seq sequences of lengths len, len+37, ... (ids from a seed). */
static int make_batch(int n_seq, int len, int max_len, int vocab, int32_t *ids, int *off) {
  unsigned r = 7;
  off[0] = 0;
  for (int i = 0; i < n_seq; i++) {
    int n = len + 37 * i;
    n = n > max_len ? max_len : n;
    ids[off[i]] = 101;
    for (int k = 1; k < n - 1; k++) ids[off[i] + k] = 1000 + (int)((r = r * 1103515245u + 12345u) >> 8) % (vocab - 1000);
    ids[off[i] + n - 1] = 102;
    off[i + 1] = off[i] + n;
  }
  return off[n_seq];
}

typedef struct worker {
  const snt_model *m;
  const int32_t *ids;
  const int *off;
  int n_seq, rc;
  float *lg;
  snt_error err;
} worker;

static void *worker_main(void *arg) {
  worker *w = arg;
  w->rc = run(w->m, 2, w->n_seq, w->ids, w->off, w->lg, &w->err);
  return NULL;
}

int main(void) {
  /* As the extension does around every forward pass (ext/blas_threads.h):
  ** helpers split the products, OpenBLAS runs each on one thread (its own
  ** threads are invisible to ThreadSanitizer and would be reported). */
  openblas_set_num_threads(1);
  test_split();
  test_budget();
  snt_error err = {0};
  snt_model *m = snt_model_open("models/default", &err);
  if (!m) {
    SKIP("models/default: %s", err.msg);
  } else {
    static int32_t ids[8192];
    static int off[16];
    make_batch(1, 300, 512, snt_model_config(m)->vocab_size, ids, off);
    compare(m, "default model, 300 tokens", 1, ids, off);
    make_batch(6, 200, 512, snt_model_config(m)->vocab_size, ids, off);
    compare(m, "default model, 6 packed", 6, ids, off);
    snt_model *q = snt_model_open("models/default", &err);
    CHECK(q && snt_model_quantize(q, &err) == SNT_OK, "int8: %s", err.msg);
    if (q && snt_model_is_int8(q)) compare(q, "default model int8, 6 packed", 6, ids, off);
    /* 4 host threads, budget 2: each gets a helper or runs alone, all agree */
    snt_pool_set_budget(2);
    float one[6 * 2], lg[4][6 * 2];
    CHECK(run(m, 1, 6, ids, off, one, &err) == SNT_OK, "forward: %s", err.msg);
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
      w[i] = (worker){m, ids, off, 6, 0, lg[i], {0, {0}}};
      pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    double worst = 0;
    for (int i = 0; i < 4; i++) {
      pthread_join(th[i], NULL);
      CHECK(w[i].rc == SNT_OK, "host thread %d: %s", i, w[i].err.msg);
      for (int j = 0; j < 12; j++) worst = fmax(worst, fabs((double)lg[i][j] - one[j]));
    }
    CHECK(worst <= 1e-6, "4 threads at once: max |dlogit| %g", worst);
    snt_pool_set_budget(0);
    snt_model_free(q);
    snt_model_free(m);
  }
  const char *sh = shared_dir();
  char dir[4096];
  if (!sh) {
    SKIP("../shared is missing: tiny-bert not tested");
  } else {
    snprintf(dir, sizeof dir, "%s/golden/models/tiny-bert", sh);
    m = snt_model_open(dir, &err);
    CHECK(m != NULL, "%s: %s", dir, err.msg);
    if (m) {
      static int32_t ids[8192];
      static int off[16];
      make_batch(12, 300, 512, snt_model_config(m)->vocab_size, ids, off); /* ~5,000 tokens */
      compare(m, "tiny-bert, 12 packed", 12, ids, off);
      snt_model_free(m);
    }
  }
  return check_report("test_pool");
}
