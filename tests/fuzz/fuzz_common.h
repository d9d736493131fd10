/*
** fuzz_common.h — what the tokenizer fuzz targets share: the invariants every
** snt_tokenize result must hold. A broken invariant is a crash (the fuzzer
** keeps the input), not a message.
*/
#ifndef SNT_FUZZ_COMMON_H
#define SNT_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snt.h"
#include "vocab.h"

#define FUZZ_REQUIRE(cond) \
  do {                     \
    if (!(cond)) __builtin_trap(); \
  } while (0)

/* Tokenize text[0..n) with max_len and check the result. */
static void fuzz_tokenize_check(const snt_vocab *v, const char *text, size_t n, int max_len,
                                snt_tokens *t) {
  snt_error err;
  int rc = snt_tokenize(v, text, n, max_len, t, &err);
  FUZZ_REQUIRE(rc == SNT_OK);
  FUZZ_REQUIRE(t->n >= 2 && t->n <= t->cap);
  if (max_len) FUZZ_REQUIRE(t->n <= max_len);
  FUZZ_REQUIRE(t->tok[0].id == v->cls && t->tok[t->n - 1].id == v->sep);
  FUZZ_REQUIRE(t->tok[0].start == -1 && t->tok[t->n - 1].end == -1);
  int64_t prev = 0;
  for (int i = 1; i < t->n - 1; i++) {
    const snt_token *k = &t->tok[i];
    FUZZ_REQUIRE(k->id >= 0 && k->id < snt_vocab_size(v));
    FUZZ_REQUIRE(k->start >= prev && k->start < k->end && k->end <= (int64_t)n);
    prev = k->start;
  }
}

/* A vocabulary a loader accepted: non-empty, has the special tokens, every id
** in [0, n) has a piece that looks up to itself or (a duplicate in vocab.txt)
** to a later id, never an earlier one, and there is no piece past the end. */
static void fuzz_vocab_check(const snt_vocab *v) {
  int n = snt_vocab_size(v);
  FUZZ_REQUIRE(n > 0 && v->unk >= 0 && v->cls >= 0 && v->sep >= 0);
  for (int i = 0; i < n; i++) {
    const char *p = snt_vocab_piece(v, i);
    FUZZ_REQUIRE(p != NULL);
    int id = snt_vocab_find(v, 0, p, v->len[i]);
    FUZZ_REQUIRE(id >= i && v->len[id] == v->len[i] && memcmp(snt_vocab_piece(v, id), p, v->len[i]) == 0);
  }
  FUZZ_REQUIRE(snt_vocab_piece(v, n) == NULL);
}

#endif
