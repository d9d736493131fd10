/*
** bench/threads.c — the thread decision behind sentiment_scan, measured on
** the real forward pass (core/, no SQLite, no tokenizer):
**
**   build/bench/threads MODEL_DIR IDS.txt WORKERS BLAS_THREADS CHUNK_TOKENS
**
** Sequences (IDS.txt: one per line, from build/bench/dump_ids) are sorted
** longest first and packed into chunks of at most CHUNK_TOKENS tokens, as
** ext/scan_vtab.c does; WORKERS threads take chunks in turn, each with its
** own snt_state, with OpenBLAS set to BLAS_THREADS. Prints tokens/s.
**   WORKERS=2 BLAS_THREADS=1   what sentiment_scan does
**   WORKERS=1 BLAS_THREADS=2   leaving the parallelism to OpenBLAS
** With SNT_BENCH_INT8=1 in the environment the model runs through its int8
** form (snt_model_quantize), as a precision 'int8' registration does, on the
** best int8 kernel of the CPU; SNT_BENCH_INT8=avx2 forces the AVX2 kernel
** (to compare with AVX-512 VNNI on a CPU that has both).
*/
#include <cblas.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quant.h"
#include "snt.h"

static snt_model *model;
static int32_t *ids;           /* all sequences, packed in sorted order */
static int *seq_off;           /* (n_seq + 1) offsets into ids */
static int *chunk_seq;         /* (n_chunk + 1): chunk k is sequences [chunk_seq[k], chunk_seq[k+1]) */
static int n_chunk, chunk_tokens, next_chunk;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *worker(void *arg) {
  (void)arg;
  snt_error err;
  snt_state *s = snt_state_new(model, chunk_tokens, &err);
  int *off = malloc(sizeof(int) * (chunk_tokens + 1));
  float *logits = malloc(sizeof(float) * chunk_tokens * 64);
  if (!s || !off || !logits) {
    fprintf(stderr, "threads: out of memory\n");
    exit(1);
  }
  for (;;) {
    int k = __atomic_fetch_add(&next_chunk, 1, __ATOMIC_SEQ_CST);
    if (k >= n_chunk) break;
    int a = chunk_seq[k], b = chunk_seq[k + 1];
    for (int i = a; i <= b; i++) off[i - a] = seq_off[i] - seq_off[a];
    if (snt_forward_batch(model, s, b - a, ids + seq_off[a], off, logits, &err) != SNT_OK) {
      fprintf(stderr, "threads: %s\n", err.msg);
      exit(1);
    }
  }
  snt_state_free(s);
  free(off);
  free(logits);
  return NULL;
}

typedef struct { int n; int32_t *ids; } seq;

static int by_len_desc(const void *a, const void *b) {
  return ((const seq *)b)->n - ((const seq *)a)->n;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s MODEL_DIR IDS.txt WORKERS BLAS_THREADS CHUNK_TOKENS\n", argv[0]);
    return 2;
  }
  snt_error err;
  model = snt_model_open(argv[1], &err);
  if (!model) {
    fprintf(stderr, "threads: %s\n", err.msg);
    return 1;
  }
  const char *q8 = getenv("SNT_BENCH_INT8");
  int int8 = q8 && (strcmp(q8, "1") == 0 || strcmp(q8, "avx2") == 0);
  /* before quantizing: the kernel decides the weights' layout */
  if (int8 && strcmp(q8, "avx2") == 0 && !snt_q8_force_kernel(SNT_Q8_AVX2)) {
    fprintf(stderr, "threads: this CPU has no AVX2\n");
    return 1;
  }
  if (int8 && snt_model_quantize(model, &err) != SNT_OK) {
    fprintf(stderr, "threads: %s\n", err.msg);
    return 1;
  }
  int workers = atoi(argv[3]), blas = atoi(argv[4]);
  chunk_tokens = atoi(argv[5]);
  if (chunk_tokens < snt_model_max_len(model)) chunk_tokens = snt_model_max_len(model);
  FILE *f = fopen(argv[2], "r");
  if (!f) {
    perror(argv[2]);
    return 1;
  }
  seq *seqs = NULL;
  int n_seq = 0, cap = 0;
  long total = 0;
  static char line[1 << 16];
  while (fgets(line, sizeof line, f)) {
    if (n_seq == cap) seqs = realloc(seqs, sizeof(seq) * (cap = cap ? 2 * cap : 256));
    seq *q = &seqs[n_seq];
    q->n = 0;
    q->ids = malloc(sizeof(int32_t) * 1024);
    for (char *t = strtok(line, " \n"); t && q->n < 1024; t = strtok(NULL, " \n")) q->ids[q->n++] = atoi(t);
    if (q->n) n_seq++, total += q->n;
  }
  fclose(f);
  qsort(seqs, n_seq, sizeof(seq), by_len_desc);
  ids = malloc(sizeof(int32_t) * total);
  seq_off = malloc(sizeof(int) * (n_seq + 1));
  chunk_seq = malloc(sizeof(int) * (n_seq + 1));
  int p = 0, in_chunk = 0;
  for (int i = 0; i < n_seq; i++) {
    if (i == 0 || in_chunk + seqs[i].n > chunk_tokens) chunk_seq[n_chunk++] = i, in_chunk = 0;
    seq_off[i] = p;
    memcpy(ids + p, seqs[i].ids, sizeof(int32_t) * seqs[i].n);
    p += seqs[i].n;
    in_chunk += seqs[i].n;
  }
  seq_off[n_seq] = p;
  chunk_seq[n_chunk] = n_seq;

  openblas_set_num_threads(blas);
  pthread_t th[64];
  if (workers < 1 || workers > 64) workers = 1;
  double t0 = now();
  for (int w = 1; w < workers; w++) pthread_create(&th[w], NULL, worker, NULL);
  worker(NULL);
  for (int w = 1; w < workers; w++) pthread_join(th[w], NULL);
  double sec = now() - t0;
  char precision[64] = "";
  if (snt_model_is_int8(model))
    snprintf(precision, sizeof precision, "int8 %s, ", snt_q8_kernel_name(snt_q8_kernel()));
  printf("%sworkers %d, OpenBLAS threads %d, chunks of <= %d tokens: %d sequences, %ld tokens, "
         "%.2f s, %.0f tokens/s\n",
         precision, workers, blas, chunk_tokens, n_seq, total, sec, total / sec);
  return 0;
}
