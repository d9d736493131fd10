/*
** fuzz_config.c — snt_config_parse (core/config.c over core/json.c) on
** arbitrary bytes. An accepted config must describe a model the rest of the
** core can size from: positive dimensions, D a multiple of H, pad id inside the
** vocabulary, C ≥ 1 labels each a string. Then every allocation fails in turn.
*/
#include "fuzz_model_common.h"

static int parse(const uint8_t *data, size_t size) {
  snt_error err = {0};
  snt_config cfg;
  memset(&cfg, 0xa5, sizeof cfg); /* no field may be used unset */
  int rc = snt_config_parse((const char *)data, size, &cfg, &err);
  if (rc != SNT_OK) {
    FUZZ_REQUIRE(err.code == rc && err.msg[0]);
    return rc;
  }
  FUZZ_REQUIRE(cfg.arch == SNT_ARCH_DISTILBERT || cfg.arch == SNT_ARCH_BERT);
  FUZZ_REQUIRE(cfg.vocab_size > 0 && cfg.dim > 0 && cfg.n_layers > 0 && cfg.n_heads > 0);
  FUZZ_REQUIRE(cfg.dim % cfg.n_heads == 0);
  FUZZ_REQUIRE(cfg.ffn_dim > 0 && cfg.max_pos >= 2 && cfg.type_vocab_size >= 0);
  FUZZ_REQUIRE(cfg.act == SNT_ACT_GELU || cfg.act == SNT_ACT_RELU);
  FUZZ_REQUIRE(cfg.ln_eps > 0 && cfg.ln_eps < 1);
  FUZZ_REQUIRE(cfg.pad_id >= 0 && cfg.pad_id < cfg.vocab_size);
  FUZZ_REQUIRE(cfg.n_labels >= 1 && cfg.labels);
  for (int i = 0; i < cfg.n_labels; i++) FUZZ_REQUIRE(cfg.labels[i] && strlen(cfg.labels[i]) < size + 32);
  snt_config_free(&cfg);
  return SNT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_with_faults(parse, data, size);
  return 0;
}
