/*
** fuzz_tokenize.c — snt_tokenize on arbitrary bytes.
**
** Input: byte 0 picks max_len (0, 2..9, or 512), the rest is the text. The
** vocabulary is ../shared/vocab/bert-base-uncased/vocab.txt (or
** $SENTIMENT_SHARED/...), else a small built-in one. Checks the invariants
** of fuzz_common.h, and that a truncated result is a prefix of the full one.
*/
#include <stdio.h>

#include "fuzz_common.h"

static snt_vocab *vocab;
static snt_tokens full, cut;

static const char small_vocab[] =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n!\n#\n.\n[\n]\na\nb\nc\ne\ni\no\nthe\nmovie\n##s\n"
    "##a\n##b\n##e\n##ing\n\xc3\xa9\n##\xc3\xa9\n\xe4\xb8\xad\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  const char *sd = getenv("SENTIMENT_SHARED");
  char path[4096];
  snprintf(path, sizeof path, "%s/vocab/bert-base-uncased/vocab.txt", sd ? sd : "../shared");
  snt_error err;
  vocab = snt_vocab_load(path, &err);
  if (!vocab) {
    fprintf(stderr, "fuzz_tokenize: %s; using a small built-in vocabulary\n", err.msg);
    vocab = snt_vocab_parse_txt(small_vocab, sizeof small_vocab - 1, &err);
  }
  if (!vocab) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  int sel = data[0] % 10;
  int max_len = sel == 0 ? 0 : sel == 9 ? 512 : sel + 1;
  const char *text = (const char *)data + 1;
  size_t n = size - 1;
  fuzz_tokenize_check(vocab, text, n, 0, &full);
  if (max_len) {
    fuzz_tokenize_check(vocab, text, n, max_len, &cut);
    /* HF truncation: the first max_len - 2 pieces of the full result */
    int keep = cut.n - 2;
    FUZZ_REQUIRE(cut.truncated == (full.n > max_len));
    FUZZ_REQUIRE(cut.n == (full.n > max_len ? max_len : full.n));
    for (int i = 1; i <= keep; i++)
      FUZZ_REQUIRE(cut.tok[i].id == full.tok[i].id && cut.tok[i].start == full.tok[i].start &&
                   cut.tok[i].end == full.tok[i].end);
  }
  return 0;
}
