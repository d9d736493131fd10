/*
** wordpiece.c — placeholder so that sentiment.so links while the tokenizer
** is written (issue 2). snt_tokenize fails cleanly until then.
*/
#include "util.h"

int snt_tokenize(const snt_vocab *v, const char *text, size_t n, int max_len,
                 snt_tokens *out, snt_error *err) {
  (void)v; (void)text; (void)n; (void)max_len;
  if (out) { out->n = 0; out->truncated = 0; }
  return snt_error_set(err, SNT_ERR_UNSUPPORTED, "snt_tokenize: not implemented yet");
}

void snt_tokens_free(snt_tokens *t) {
  if (!t) return;
  snt_free(t->tok);
  t->tok = NULL;
  t->n = t->cap = 0;
}
