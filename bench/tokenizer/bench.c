/*
** bench.c — core/wordpiece.c on every IMDb review, single-threaded.
**
**   bench_tokenizer IMDB_DB VOCAB_TXT OUT_DIR [REPS]
**
** Reads reviews.text (all 75k rows, id order) into memory, tokenizes them all
** REPS times (default 3; one snt_tokens reused, no length limit) and prints
** the best pass as MB/s of UTF-8 input and tokens/s ([CLS]/[SEP] included),
** by wall clock and by this thread's CPU time (the machine may be shared).
** Then writes for bench/tokenizer/hf_bench.mjs:
**   OUT_DIR/texts.bin   u32 count, then per review u32 byte length + bytes
**   OUT_DIR/ids-c.bin   per review u32 token count + that many i32 ids
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snt.h"

static double now(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int write_u32(FILE *f, uint32_t x) { return fwrite(&x, 4, 1, f) == 1; }

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s IMDB_DB VOCAB_TXT OUT_DIR [REPS]\n", argv[0]);
    return 2;
  }
  int reps = argc > 4 ? atoi(argv[4]) : 3;
  if (reps < 1) reps = 1;

  /* all reviews in one buffer */
  sqlite3 *db;
  sqlite3_stmt *st;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT text FROM reviews ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", argv[1], sqlite3_errmsg(db));
    return 1;
  }
  size_t cap = 1 << 27, used = 0, ncap = 1 << 17;
  int n = 0;
  char *all = malloc(cap);
  size_t *off = malloc((ncap + 1) * sizeof *off);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(st, 0);
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    if (used + len > cap) all = realloc(all, cap = 2 * (used + len));
    if ((size_t)n + 1 >= ncap) off = realloc(off, ((ncap *= 2) + 1) * sizeof *off);
    memcpy(all + used, z ? z : "", len);
    off[n++] = used;
    used += len;
  }
  off[n] = used;
  sqlite3_finalize(st);
  sqlite3_close(db);

  snt_error err;
  snt_vocab *v = snt_vocab_load(argv[2], &err);
  if (!v) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  snt_tokens t = {0};
  /* warm-up: page in the text and the vocabulary */
  for (int i = 0; i < n && i < 2000; i++)
    snt_tokenize(v, all + off[i], off[i + 1] - off[i], 0, &t, &err);

  double best_wall = 1e30, best_cpu = 1e30;
  long long ntok = 0;
  for (int r = 0; r < reps; r++) {
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_THREAD_CPUTIME_ID);
    long long k = 0;
    for (int i = 0; i < n; i++) {
      if (snt_tokenize(v, all + off[i], off[i + 1] - off[i], 0, &t, &err) != SNT_OK) {
        fprintf(stderr, "review %d: %s\n", i, err.msg);
        return 1;
      }
      k += t.n;
    }
    double w = now(CLOCK_MONOTONIC) - w0, c = now(CLOCK_THREAD_CPUTIME_ID) - c0;
    if (w < best_wall) best_wall = w;
    if (c < best_cpu) best_cpu = c;
    ntok = k;
  }
  printf("C   core/wordpiece.c    %d reviews, %.1f MB, %lld tokens, best of %d passes\n", n,
         (double)used / 1e6, ntok, reps);
  printf("    wall %.3f s: %7.1f MB/s %6.2f M tokens/s   | thread CPU %.3f s: %7.1f MB/s %6.2f M "
         "tokens/s\n",
         best_wall, (double)used / 1e6 / best_wall, (double)ntok / 1e6 / best_wall, best_cpu,
         (double)used / 1e6 / best_cpu, (double)ntok / 1e6 / best_cpu);

  /* files for the HF side */
  char path[4096];
  snprintf(path, sizeof path, "%s/texts.bin", argv[3]);
  FILE *ft = fopen(path, "wb");
  snprintf(path, sizeof path, "%s/ids-c.bin", argv[3]);
  FILE *fi = fopen(path, "wb");
  if (!ft || !fi) {
    fprintf(stderr, "cannot write into %s\n", argv[3]);
    return 1;
  }
  int ok = write_u32(ft, (uint32_t)n);
  for (int i = 0; ok && i < n; i++) {
    size_t len = off[i + 1] - off[i];
    ok = write_u32(ft, (uint32_t)len) && fwrite(all + off[i], 1, len, ft) == len &&
         snt_tokenize(v, all + off[i], len, 0, &t, &err) == SNT_OK && write_u32(fi, (uint32_t)t.n);
    for (int k = 0; ok && k < t.n; k++) ok = fwrite(&t.tok[k].id, 4, 1, fi) == 1;
  }
  if (fclose(ft) != 0 || fclose(fi) != 0 || !ok) {
    fprintf(stderr, "writing %s failed\n", argv[3]);
    return 1;
  }
  snt_tokens_free(&t);
  snt_vocab_free(v);
  free(all);
  free(off);
  return 0;
}
