/*
** fuzz_vocab_txt.c — snt_vocab_parse_txt on arbitrary bytes; a vocabulary
** it accepts must answer lookups consistently and tokenize its own pieces
** (joined by spaces) without breaking the invariants of fuzz_common.h.
*/
#include "fuzz_common.h"

static snt_tokens toks;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  snt_error err;
  snt_vocab *v = snt_vocab_parse_txt((const char *)data, size, &err);
  if (!v) {
    FUZZ_REQUIRE(err.code != SNT_OK && err.msg[0]);
    return 0;
  }
  int n = snt_vocab_size(v);
  FUZZ_REQUIRE(n > 0 && v->unk >= 0 && v->cls >= 0 && v->sep >= 0);
  for (int i = 0; i < n; i++) {
    const char *p = snt_vocab_piece(v, i);
    FUZZ_REQUIRE(p != NULL);
    int id = snt_vocab_find(v, 0, p, v->len[i]);
    /* a duplicate piece maps to its last id, never to an earlier one */
    FUZZ_REQUIRE(id >= i && v->len[id] == v->len[i] && memcmp(snt_vocab_piece(v, id), p, v->len[i]) == 0);
  }
  FUZZ_REQUIRE(snt_vocab_piece(v, n) == NULL);
  fuzz_tokenize_check(v, (const char *)data, size, 0, &toks);
  fuzz_tokenize_check(v, (const char *)data, size, 7, &toks);
  snt_vocab_free(v);
  return 0;
}
