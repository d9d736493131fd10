/*
** bench/dump_ids.c — the token ids every engine of bench/run.sh is fed.
**
**   build/bench/dump_ids VOCAB.txt REVIEWS.db MAX_LEN > IDS.txt
**
** Reads `SELECT text FROM reviews ORDER BY id`, tokenizes each text with the
** project's tokenizer (core/wordpiece.c, truncated to MAX_LEN tokens the HF
** way) and prints one line per review: its ids separated by spaces. ONNX
** Runtime and PyTorch read these lines, so all engines see identical ids.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "snt.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s VOCAB.txt REVIEWS.db MAX_LEN > IDS.txt\n", argv[0]);
    return 2;
  }
  snt_error err = {0, {0}};
  snt_vocab *v = snt_vocab_load(argv[1], &err);
  if (!v) {
    fprintf(stderr, "dump_ids: %s\n", err.msg);
    return 1;
  }
  int max_len = atoi(argv[3]);
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc = 1;
  if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT text FROM reviews ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "dump_ids: %s: %s\n", argv[2], sqlite3_errmsg(db));
    goto done;
  }
  snt_tokens toks = {0};
  long n_rev = 0, n_tok = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    if (snt_tokenize(v, z ? z : "", (size_t)n, max_len, &toks, &err) != SNT_OK) {
      fprintf(stderr, "dump_ids: review %ld: %s\n", n_rev, err.msg);
      goto done;
    }
    for (int i = 0; i < toks.n; i++) printf(i ? " %d" : "%d", toks.tok[i].id);
    putchar('\n');
    n_rev++;
    n_tok += toks.n;
  }
  snt_tokens_free(&toks);
  fprintf(stderr, "dump_ids: %ld reviews, %ld tokens\n", n_rev, n_tok);
  rc = 0;
done:
  sqlite3_finalize(st);
  sqlite3_close(db);
  snt_vocab_free(v);
  return rc;
}
