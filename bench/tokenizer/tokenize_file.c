/*
** tokenize_file.c — ids for a file of texts, for bench/tokenizer/probe.mjs.
**
**   tokenize_file VOCAB_TXT TEXTS_BIN IDS_BIN
**
** TEXTS_BIN: u32 count, then per text u32 byte length + bytes.
** IDS_BIN:   per text u32 token count + that many i32 ids (no length limit).
*/
#include <stdio.h>
#include <stdlib.h>

#include "snt.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s VOCAB_TXT TEXTS_BIN IDS_BIN\n", argv[0]);
    return 2;
  }
  snt_error err;
  snt_vocab *v = snt_vocab_load(argv[1], &err);
  if (!v) {
    fprintf(stderr, "%s\n", err.msg);
    return 1;
  }
  FILE *in = fopen(argv[2], "rb"), *out = fopen(argv[3], "wb");
  if (!in || !out) {
    fprintf(stderr, "cannot open %s or %s\n", argv[2], argv[3]);
    return 1;
  }
  uint32_t n, len;
  snt_tokens t = {0};
  char *buf = NULL;
  size_t cap = 0;
  int ok = fread(&n, 4, 1, in) == 1;
  for (uint32_t i = 0; ok && i < n; i++) {
    ok = fread(&len, 4, 1, in) == 1;
    if (ok && len > cap) buf = realloc(buf, cap = len);
    ok = ok && fread(buf, 1, len, in) == len && snt_tokenize(v, buf, len, 0, &t, &err) == SNT_OK;
    uint32_t k = (uint32_t)t.n;
    ok = ok && fwrite(&k, 4, 1, out) == 1;
    for (int j = 0; ok && j < t.n; j++) ok = fwrite(&t.tok[j].id, 4, 1, out) == 1;
  }
  if (fclose(out) != 0 || !ok) {
    fprintf(stderr, "tokenize_file: failed (%s)\n", err.msg);
    return 1;
  }
  fclose(in);
  free(buf);
  snt_tokens_free(&t);
  snt_vocab_free(v);
  return 0;
}
