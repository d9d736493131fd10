/*
** bench_model.c — latency and memory of the transformer core on one model.
**
**   make bench-model         (builds this, generates the random
**                             DistilBERT-base in build/bench-model/, runs it)
**   build/bench-model/bench_model DIR [REPS]
**
** Loads DIR, prints the load time and resident memory (VmRSS, split into
** RssFile — pages of the mmapped model.safetensors — and RssAnon), then the
** latency of snt_forward on one sequence of 128 and of 512 tokens and of a
** packed batch of 8 × 128, at 1 and 2 OpenBLAS threads: median and min of
** REPS runs (default 7) after one warm-up run. Ids are fixed pseudo-random
** ids ([CLS] … [SEP]), so runs are repeatable. Timings on a shared machine
** are noisy: look at min as well as median.
*/
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "snt.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* kB of field ("VmRSS", "RssFile", "RssAnon") in /proc/self/status; -1 if absent. */
static long status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  size_t n = strlen(field);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':') kb = atol(line + n + 1);
  if (f) fclose(f);
  return kb;
}

static void print_rss(const char *when) {
  printf("  RSS %-22s %7.1f MB  (file-backed %6.1f MB, anonymous %6.1f MB)\n", when,
         status_kb("VmRSS") / 1024.0, status_kb("RssFile") / 1024.0, status_kb("RssAnon") / 1024.0);
}

/* The 1-minute load average: other work on the machine skews every timing. */
static double loadavg(void) {
  FILE *f = fopen("/proc/loadavg", "r");
  double l = -1;
  if (f && fscanf(f, "%lf", &l) != 1) l = -1;
  if (f) fclose(f);
  return l;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median and min seconds of reps forward passes over n_seq sequences of len. */
static int time_forward(const snt_model *m, snt_state *s, int n_seq, int len, int reps,
                        double *median, double *min) {
  int32_t *ids = malloc(sizeof *ids * (size_t)n_seq * len);
  int *off = malloc(sizeof *off * (size_t)(n_seq + 1));
  float logits[64 * 16];
  double *t = malloc(sizeof *t * (size_t)reps);
  uint32_t r = 12345;
  int vocab = snt_model_config(m)->vocab_size, rc = 0;
  off[0] = 0;
  for (int i = 0; i < n_seq; i++) {
    off[i + 1] = off[i] + len;
    for (int j = 0; j < len; j++) {
      r = r * 1664525u + 1013904223u;
      ids[off[i] + j] = j == 0 ? 101 : j == len - 1 ? 102 : 1000 + (int32_t)(r >> 8) % (vocab - 1000);
    }
  }
  snt_error err = {0};
  for (int k = -1; k < reps && rc == 0; k++) {
    double t0 = now();
    rc = snt_forward_batch(m, s, n_seq, ids, off, logits, &err);
    if (k >= 0) t[k] = now() - t0;
  }
  if (rc) fprintf(stderr, "forward: %s\n", err.msg);
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  *median = t[reps / 2];
  *min = t[0];
  free(ids), free(off), free(t);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL_DIR [REPS]\n", argv[0]);
    return 2;
  }
  int reps = argc > 2 ? atoi(argv[2]) : 7;
  if (reps < 1) reps = 1;
  snt_error err = {0};
  printf("bench_model: %s, %d runs each (after 1 warm-up), OpenBLAS %s\n", argv[1], reps,
         openblas_get_config());
  printf("  load average before: %.2f (on %ld CPUs)\n", loadavg(), sysconf(_SC_NPROCESSORS_ONLN));
  print_rss("before load");
  double t0 = now();
  snt_model *m = snt_model_open(argv[1], &err);
  if (!m) {
    fprintf(stderr, "bench_model: %s\n", err.msg);
    return 1;
  }
  double load = now() - t0;
  const snt_config *c = snt_model_config(m);
  printf("  model: dim %d, %d layers, %d heads, FFN %d, vocab %d; opened in %.1f ms\n", c->dim,
         c->n_layers, c->n_heads, c->ffn_dim, c->vocab_size, load * 1e3);
  print_rss("after load");
  snt_state *s = snt_state_new(m, 8 * 128, &err);
  if (!s) {
    fprintf(stderr, "bench_model: %s\n", err.msg);
    snt_model_free(m);
    return 1;
  }
  print_rss("after state (1024 tok)");
  static const struct { int n_seq, len; } work[] = {{1, 128}, {1, 512}, {8, 128}};
  int rc = 0;
  printf("\n  threads  input        median ms     min ms   tokens/s (median)\n");
  for (int threads = 1; threads <= 2 && rc == 0; threads++) {
    openblas_set_num_threads(threads);
    for (size_t w = 0; w < sizeof work / sizeof work[0] && rc == 0; w++) {
      double med, min;
      rc = time_forward(m, s, work[w].n_seq, work[w].len, reps, &med, &min);
      char what[32];
      if (work[w].n_seq > 1) snprintf(what, sizeof what, "%d x %d tok", work[w].n_seq, work[w].len);
      else snprintf(what, sizeof what, "%d tok", work[w].len);
      printf("  %7d  %-11s %10.1f %10.1f %12.0f\n", threads, what, med * 1e3, min * 1e3,
             work[w].n_seq * work[w].len / med);
    }
  }
  printf("\n  load average after: %.2f\n", loadavg());
  print_rss("after the runs");
  snt_state_free(s);
  snt_model_free(m);
  return rc ? 1 : 0;
}
