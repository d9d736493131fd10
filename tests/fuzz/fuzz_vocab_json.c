/*
** fuzz_vocab_json.c — snt_vocab_parse_tokenizer_json on arbitrary bytes; a
** vocabulary it accepts must give every id in [0, n) exactly one piece that
** looks up to it, and tokenize the input itself within the invariants of
** fuzz_common.h.
*/
#include "fuzz_common.h"

static snt_tokens toks;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  snt_error err;
  snt_vocab *v = snt_vocab_parse_tokenizer_json((const char *)data, size, &err);
  if (!v) {
    FUZZ_REQUIRE(err.code != SNT_OK && err.msg[0]);
    return 0;
  }
  fuzz_vocab_check(v);
  fuzz_tokenize_check(v, (const char *)data, size, 0, &toks);
  snt_vocab_free(v);
  return 0;
}
