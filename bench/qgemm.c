/*
** bench/qgemm.c — the int8 linear layer (core/quant.c: snt_linear_q8, with
** its row quantization and scaling) against cblas_sgemm on the same shape,
** one thread, CPU time of the calling thread (so that other jobs on a shared
** machine count less than in wall time):
**
**   build/bench/qgemm T K N     # e.g. 2048 768 3072: a scan chunk through lin1
**
** Prints GFLOP/s (2·T·K·N per call) of each, best of 3 rounds of 5 calls,
** the int8 layer once per int8 kernel this CPU has (AVX2, AVX-512 VNNI).
*/
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "quant.h"

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s T K N\n", argv[0]);
    return 2;
  }
  int T = atoi(argv[1]), K = atoi(argv[2]), N = atoi(argv[3]), Kp = snt_q8_pad(K);
  if (T < 1 || K < 1 || N < 1 || Kp > 65536) return 2;
  openblas_set_num_threads(1);
  float *x = malloc(sizeof(float) * T * K), *w = malloc(sizeof(float) * N * K);
  float *y = malloc(sizeof(float) * T * N), *sw = malloc(sizeof(float) * N), *sx = malloc(sizeof(float) * T);
  int32_t *sum = malloc(sizeof(int32_t) * N), *zx = malloc(sizeof(int32_t) * T);
  uint8_t *xq = malloc((size_t)T * Kp);
  int8_t *wq = malloc((size_t)N * Kp), *wp = malloc((size_t)snt_q8_pack_rows(N) * Kp);
  if (!x || !w || !y || !sw || !sx || !sum || !zx || !xq || !wq || !wp) return 1;
  srand(1);
  for (size_t i = 0; i < (size_t)T * K; i++) x[i] = (float)(rand() % 2001 - 1000) / 1000.0f;
  for (size_t i = 0; i < (size_t)N * K; i++) w[i] = (float)(rand() % 2001 - 1000) / 20000.0f;
  snt_q8_weights(wq, sw, sum, w, N, K);
  snt_q8_pack(wp, wq, N, Kp);
  snt_q8 q[2] = {{wq, sw, sum, N, K, Kp, 0}, {wp, sw, sum, N, K, Kp, 1}}; /* AVX2: rows; VNNI: packed */
  snt_q8_scratch s = {xq, sx, zx};
  double flop = 2.0 * T * K * N, best_f = 0, best_q[2] = {0, 0};
  int kernels[2] = {SNT_Q8_AVX2, SNT_Q8_VNNI};
  for (int r = 0; r < 3; r++) { /* interleaved: sgemm, then each kernel */
    double t0 = cpu_now();
    for (int i = 0; i < 5; i++)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, N, K, 1.0f, x, K, w, K, 0.0f, y, N);
    double t1 = cpu_now();
    if (5 * flop / (t1 - t0) > best_f) best_f = 5 * flop / (t1 - t0);
    for (int k = 0; k < 2; k++) {
      if (!snt_q8_force_kernel(kernels[k])) continue;
      t0 = cpu_now();
      for (int i = 0; i < 5; i++) snt_linear_q8(y, x, &q[k], NULL, T, &s);
      t1 = cpu_now();
      if (5 * flop / (t1 - t0) > best_q[k]) best_q[k] = 5 * flop / (t1 - t0);
    }
  }
  printf("T=%d K=%d N=%d: sgemm %.1f GFLOP/s", T, K, N, best_f / 1e9);
  for (int k = 0; k < 2; k++)
    if (best_q[k] > 0)
      printf(", int8 %s %.1f GOP/s (%.2fx)", snt_q8_kernel_name(kernels[k]), best_q[k] / 1e9,
             best_q[k] / best_f);
  printf("\n");
  return 0;
}
