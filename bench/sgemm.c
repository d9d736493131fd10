/*
** bench/sgemm.c — the sgemm ceiling: cblas_sgemm GFLOP/s on a model's
** linear-layer shapes, the way nn.Linear runs them (row-major, W transposed).
**
**   build/bench/sgemm [-d DIM] [-f FFN] [M ...]
**
** DIM and FFN default to DistilBERT-base's 768 and 3072; M (tokens per batch)
** defaults to 512 2048.
**
** Prints one line per (threads, M): GFLOP/s per shape and the FLOP-weighted
** rate over one transformer layer, for
**   1     one thread (openblas_set_num_threads(1))
**   2     OpenBLAS's own two threads on one call
**   2x1   two threads of ours, each calling single-threaded sgemm at once
**         (what a pool of workers with BLAS single-threaded can reach)
** The last line is machine-readable for bench/run.sh:
**   SGEMM t1=<GFLOP/s> t2=<GFLOP/s> t2x1=<GFLOP/s>   (at the largest M)
*/
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* (N, K) of each linear in one layer: q, k, v, out, ffn in, ffn out. */
enum { N_SHAPES = 6 };
static int kShapes[N_SHAPES][2];

static void set_shapes(int D, int F) {
  for (int s = 0; s < 4; s++) kShapes[s][0] = kShapes[s][1] = D;
  kShapes[4][0] = F, kShapes[4][1] = D;
  kShapes[5][0] = D, kShapes[5][1] = F;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct job {
  int M, N, K, reps;
  float *A, *W, *C;
  double sec;
} job;

static void fill(float *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
}

static job job_new(int M, int N, int K) {
  job j = {M, N, K, 0, NULL, NULL, NULL, 0};
  j.A = malloc(sizeof(float) * M * K);
  j.W = malloc(sizeof(float) * N * K);
  j.C = malloc(sizeof(float) * M * N);
  fill(j.A, (size_t)M * K);
  fill(j.W, (size_t)N * K);
  return j;
}

static void job_free(job *j) { free(j->A); free(j->W); free(j->C); }

static void *job_run(void *arg) {
  job *j = arg;
  /* warm-up, then time reps calls */
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->M, j->N, j->K, 1.0f, j->A, j->K,
              j->W, j->K, 0.0f, j->C, j->N);
  double t0 = now();
  for (int r = 0; r < j->reps; r++)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->M, j->N, j->K, 1.0f, j->A,
                j->K, j->W, j->K, 0.0f, j->C, j->N);
  j->sec = now() - t0;
  return NULL;
}

/* GFLOP/s of one layer's shapes with `workers` concurrent callers. */
static double layer_rate(int M, int workers, double *per_shape) {
  double flop_all = 0, sec_all = 0;
  for (int s = 0; s < N_SHAPES; s++) {
    int N = kShapes[s][0], K = kShapes[s][1];
    double flop1 = 2.0 * M * N * K;
    int reps = (int)(3e10 / flop1) + 1; /* ~0.3 s per shape at 100 GFLOP/s */
    job jobs[2];
    pthread_t th[2];
    for (int w = 0; w < workers; w++) {
      jobs[w] = job_new(M, N, K);
      jobs[w].reps = reps;
    }
    double t0 = now();
    for (int w = 0; w < workers; w++) pthread_create(&th[w], NULL, job_run, &jobs[w]);
    for (int w = 0; w < workers; w++) pthread_join(th[w], NULL);
    (void)t0;
    double sec = 0;
    for (int w = 0; w < workers; w++) {
      if (jobs[w].sec > sec) sec = jobs[w].sec;
      job_free(&jobs[w]);
    }
    double flop = flop1 * reps * workers;
    per_shape[s] = flop / sec / 1e9;
    flop_all += flop;
    sec_all += sec;
  }
  return flop_all / sec_all / 1e9;
}

int main(int argc, char **argv) {
  int Ms[8] = {512, 2048}, nM = 2, D = 768, F = 3072, i = 1;
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (argv[i][1] == 'd') D = atoi(argv[i + 1]);
    else if (argv[i][1] == 'f') F = atoi(argv[i + 1]);
  }
  if (D <= 0 || F <= 0) {
    fprintf(stderr, "usage: sgemm [-d DIM] [-f FFN] [M ...]\n");
    return 2;
  }
  set_shapes(D, F);
  if (i < argc) {
    nM = 0;
    for (; i < argc && nM < 8; i++) Ms[nM++] = atoi(argv[i]);
  }
  const char *modes[3] = {"1", "2", "2x1"};
  double last[3] = {0, 0, 0};
  char sq[32], up[32], down[32];
  snprintf(sq, sizeof sq, "%dx%d", D, D);
  snprintf(up, sizeof up, "%dx%d", F, D);
  snprintf(down, sizeof down, "%dx%d", D, F);
  printf("%-5s %6s  %9s %9s %9s  %s\n", "thr", "M", sq, up, down, "layer GFLOP/s");
  for (int mi = 0; mi < nM; mi++) {
    for (int m = 0; m < 3; m++) {
      openblas_set_num_threads(m == 1 ? 2 : 1);
      double ps[N_SHAPES];
      double r = layer_rate(Ms[mi], m == 2 ? 2 : 1, ps);
      printf("%-5s %6d  %9.1f %9.1f %9.1f  %.1f\n", modes[m], Ms[mi], ps[0], ps[4], ps[5], r);
      fflush(stdout);
      last[m] = r;
    }
  }
  printf("SGEMM t1=%.1f t2=%.1f t2x1=%.1f\n", last[0], last[1], last[2]);
  return 0;
}
