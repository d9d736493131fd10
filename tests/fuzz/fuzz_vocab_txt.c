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
  fuzz_vocab_check(v);
  fuzz_tokenize_check(v, (const char *)data, size, 0, &toks);
  fuzz_tokenize_check(v, (const char *)data, size, 7, &toks);
  snt_vocab_free(v);
  return 0;
}
