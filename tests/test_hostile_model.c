/*
** test_hostile_model.c — model folders from strangers: every malformed
** safetensors file, config.json and vocabulary the loader must refuse, each
** built here in a mkdtemp folder, each refused with a message that names the
** cause (asserted on its text), none crashing or leaking (run it under
** `make test-asan`). Also: forward-pass argument checks, every allocation
** made to fail in turn, and a few thousand random mutations of a valid header
** and config.
*/
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "model_fixture.h"
#include "safetensors.h"
#include "snt.h"
#include "util.h"

/* A tiny valid DistilBERT: V 12, positions 16, D 8, 2 heads, F 16, 1 layer, 3 labels. */
static const char *CONFIG =
    "{\"model_type\": \"distilbert\", \"dim\": 8, \"n_layers\": 1, \"n_heads\": 2,"
    " \"hidden_dim\": 16, \"vocab_size\": 12, \"max_position_embeddings\": 16,"
    " \"activation\": \"gelu\", \"id2label\": {\"0\": \"neg\", \"1\": \"mixed\", \"2\": \"pos\"}}";
static const char *VOCAB = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\nd\ne\nf\ng\n";
static const char *BERT_CONFIG =
    "{\"model_type\": \"bert\", \"hidden_size\": 8, \"num_hidden_layers\": 1,"
    " \"num_attention_heads\": 2, \"intermediate_size\": 16, \"vocab_size\": 12,"
    " \"max_position_embeddings\": 16, \"hidden_act\": \"relu\", \"layer_norm_eps\": 1e-5,"
    " \"num_labels\": 3}";

static const int32_t IDS[] = {2, 5, 6, 7, 11, 3};
#define N_IDS 6

static void base_model(fx_model *m) {
  fx_rng = 12345;
  fx_tiny_model(m, 0, 12, 16, 8, 16, 1, 3);
}

/* A folder with the given files (NULL: left out). */
static char *folder(const char *config, const char *vocab, const fx_model *st) {
  char *dir = fx_tmpdir();
  if (config) fx_write_text(fx_path(dir, "config.json"), config);
  if (vocab) fx_write_text(fx_path(dir, "vocab.txt"), vocab);
  if (st) fx_write_model(fx_path(dir, "model.safetensors"), st, 0);
  return dir;
}

/* Opening dir must fail with code and a message holding want (and want2). */
static void expect_fail(const char *what, const char *dir, int code, const char *want,
                        const char *want2) {
  snt_error err = {0};
  snt_model *m = snt_model_open(dir, &err);
  CHECK(m == NULL, "%s: opened", what);
  snt_model_free(m);
  CHECK(err.code == code, "%s: code %d, expected %d (%s)", what, err.code, code, err.msg);
  CHECK(strstr(err.msg, want) != NULL, "%s: message \"%s\" does not say \"%s\"", what, err.msg, want);
  if (want2)
    CHECK(strstr(err.msg, want2) != NULL, "%s: message \"%s\" does not say \"%s\"", what, err.msg,
          want2);
  printf("  %-34s → %s\n", what, err.msg);
}

/* Opening dir must succeed; returns the logits of IDS (C of them) in out. */
static int expect_open(const char *what, const char *dir, float *out) {
  snt_error err = {0};
  snt_model *m = snt_model_open(dir, &err);
  CHECK(m != NULL, "%s: %s", what, err.msg);
  if (!m) return -1;
  snt_state *s = snt_state_new(m, 0, &err);
  CHECK(s != NULL, "%s: state: %s", what, err.msg);
  int rc = s ? snt_forward(m, s, IDS, N_IDS, out, &err) : -1;
  CHECK(rc == SNT_OK, "%s: forward: %s", what, err.msg);
  snt_state_free(s);
  snt_model_free(m);
  return rc;
}

/* The base model with one tensor's header entry overridden. */
static void st_case(const char *what, const char *tensor, const char *dtype, const char *shape,
                    const char *offsets, int code, const char *want, const char *want2) {
  fx_model m = {0};
  base_model(&m);
  fx_tensor *t = fx_find(&m, tensor);
  if (dtype) t->dtype = dtype;
  t->shape_json = shape;
  t->offsets_json = offsets;
  char *dir = folder(CONFIG, VOCAB, &m);
  expect_fail(what, dir, code, want, want2);
  fx_rmdir(dir);
  fx_free(&m);
}

/* model.safetensors = 8-byte length field, then the header bytes, then data. */
static void raw_case(const char *what, uint64_t hlen_field, const char *header, size_t data_len,
                     int code, const char *want) {
  char *dir = folder(CONFIG, VOCAB, NULL);
  unsigned char *data = calloc(1, data_len + 1);
  fx_write_raw(fx_path(dir, "model.safetensors"), header, strlen(header),
               hlen_field == (uint64_t)-1 ? strlen(header) : hlen_field, data, data_len);
  expect_fail(what, dir, code, want, NULL);
  free(data);
  fx_rmdir(dir);
}

static void config_case(const char *what, const char *config, int code, const char *want,
                        const char *want2) {
  fx_model m = {0};
  base_model(&m);
  char *dir = folder(config, VOCAB, &m);
  expect_fail(what, dir, code, want, want2);
  fx_rmdir(dir);
  fx_free(&m);
}

static void test_safetensors_files(void) {
  fx_model m = {0};
  base_model(&m);
  size_t n;
  unsigned char *good = fx_safetensors(&m, 0, &n);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | good[i];
  char *dir = folder(CONFIG, VOCAB, NULL);
  const char *st = fx_path(dir, "model.safetensors");

  fx_write_file(st, good, 0);
  expect_fail("empty file", dir, SNT_ERR_FORMAT, "too short", NULL);
  fx_write_file(st, good, 5);
  expect_fail("5-byte file", dir, SNT_ERR_FORMAT, "too short", NULL);
  fx_write_file(st, good, 8 + hlen / 2);
  expect_fail("truncated in the header", dir, SNT_ERR_FORMAT, "past the end", NULL);
  fx_write_file(st, good, n - 100);
  expect_fail("truncated in the data", dir, SNT_ERR_FORMAT, "out of range", NULL);
  fx_write_file(st, good, n - 1);
  expect_fail("one byte short", dir, SNT_ERR_FORMAT, "classifier.bias", "out of range");
  unlink(st);
  mkdir(st, 0700);
  expect_fail("safetensors is a folder", dir, SNT_ERR_IO, "model.safetensors is not a regular file (a directory)", NULL);
  rmdir(st);
  expect_fail("no model.safetensors", dir, SNT_ERR_IO, "no model.safetensors", NULL);
  fx_write_text(fx_path(dir, "pytorch_model.bin"), "PK");
  expect_fail("only pytorch_model.bin", dir, SNT_ERR_IO, "pytorch_model.bin", "safe_serialization");
  fx_rmdir(dir);
  free(good);
  fx_free(&m);

  raw_case("header length past EOF", 1000, "{}", 10, SNT_ERR_FORMAT, "past the end");
  raw_case("header length 2^63", (uint64_t)1 << 63, "{}", 10, SNT_ERR_FORMAT, "past the end");
  raw_case("header length 2^64-2", (uint64_t)-2, "{}", 10, SNT_ERR_FORMAT, "past the end");
  raw_case("header not JSON", (uint64_t)-1, "{\"a\": nope}", 0, SNT_ERR_FORMAT, "header is not JSON");
  raw_case("header of NULs", (uint64_t)-1, "", 0, SNT_ERR_FORMAT, "header is not JSON");
  raw_case("header an array", (uint64_t)-1, "[1, 2]", 0, SNT_ERR_FORMAT, "not a JSON object");
  raw_case("entry not an object", (uint64_t)-1, "{\"classifier.bias\": 5}", 0, SNT_ERR_FORMAT,
           "not an object");
  raw_case("__metadata__ a string", (uint64_t)-1, "{\"__metadata__\": \"x\"}", 0, SNT_ERR_FORMAT,
           "__metadata__");
  raw_case("empty tensor name", (uint64_t)-1,
           "{\"\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
           SNT_ERR_FORMAT, "empty");
  raw_case("no dtype", (uint64_t)-1, "{\"x\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", 4,
           SNT_ERR_FORMAT, "no dtype");
  raw_case("no shape", (uint64_t)-1, "{\"x\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", 4,
           SNT_ERR_FORMAT, "no shape");
  raw_case("no data_offsets", (uint64_t)-1, "{\"x\": {\"dtype\": \"F32\", \"shape\": [1]}}", 4,
           SNT_ERR_FORMAT, "data_offsets");
  raw_case("empty header object", (uint64_t)-1, "{}", 0, SNT_ERR_SHAPE,
           "missing tensor distilbert.embeddings.word_embeddings.weight");

  st_case("offsets past the data", "classifier.bias", NULL, NULL, "[0, 99999999]", SNT_ERR_FORMAT,
          "classifier.bias", "out of range");
  st_case("offsets reversed", "classifier.bias", NULL, NULL, "[12, 0]", SNT_ERR_FORMAT,
          "classifier.bias", "out of range");
  st_case("offsets negative", "classifier.bias", NULL, NULL, "[-12, 0]", SNT_ERR_FORMAT,
          "classifier.bias", "out of range");
  st_case("offsets of 19 digits", "classifier.bias", NULL, NULL,
          "[9223372036854775807, 9223372036854775807]", SNT_ERR_FORMAT, "classifier.bias",
          "not two integers");
  st_case("offsets 10^18", "classifier.bias", NULL, NULL, "[999999999999999999, 999999999999999999]",
          SNT_ERR_FORMAT, "classifier.bias", "out of range");
  st_case("offsets not integers", "classifier.bias", NULL, NULL, "[0.5, 12.5]", SNT_ERR_FORMAT,
          "classifier.bias", "not two integers");
  st_case("three offsets", "classifier.bias", NULL, NULL, "[0, 6, 12]", SNT_ERR_FORMAT,
          "classifier.bias", "not two integers");
  st_case("overlapping tensors", "classifier.bias", NULL, NULL, "[4, 16]", SNT_ERR_FORMAT,
          "overlap", "classifier.bias");
  st_case("size vs dtype (F16 over F32)", "classifier.bias", "F16", NULL, NULL, SNT_ERR_FORMAT,
          "classifier.bias", "needs 6");
  st_case("size vs shape", "classifier.bias", NULL, "[4]", NULL, SNT_ERR_FORMAT,
          "classifier.bias", "needs 16");
  st_case("unknown dtype", "classifier.bias", "F17", NULL, NULL, SNT_ERR_UNSUPPORTED,
          "classifier.bias", "unsupported dtype 'F17'");
  st_case("integer weights (I32)", "classifier.bias", "I32", NULL, NULL, SNT_ERR_UNSUPPORTED,
          "classifier.bias", "dtype I32 is not supported");
  st_case("negative dimension", "classifier.bias", NULL, "[-3]", NULL, SNT_ERR_FORMAT,
          "classifier.bias", "non-negative");
  st_case("fractional dimension", "classifier.bias", NULL, "[3.0]", NULL, SNT_ERR_FORMAT,
          "classifier.bias", "non-negative integer");
  st_case("9 dimensions", "classifier.bias", NULL, "[1,1,1,1,1,1,1,1,3]", NULL,
          SNT_ERR_UNSUPPORTED, "classifier.bias", "9 dimensions");
  st_case("element count overflow", "classifier.bias", NULL,
          "[4294967296, 4294967296, 4294967296]", NULL, SNT_ERR_FORMAT, "classifier.bias",
          "overflows");
  st_case("byte size overflow", "classifier.bias", NULL, "[5000000000, 1000000000]", NULL,
          SNT_ERR_FORMAT, "classifier.bias", "overflows");

  /* Shapes that match the bytes but not the config. */
  const char *shape_cases[][3] = {
      {"wrong shape", "distilbert.transformer.layer.0.ffn.lin1.weight",
       "distilbert.transformer.layer.0.ffn.lin1.weight: expected (16, 8), found (8, 8)"},
      {"wrong shape (transposed)", "distilbert.transformer.layer.0.ffn.lin1.weight",
       "distilbert.transformer.layer.0.ffn.lin1.weight: expected (16, 8), found (8, 16)"},
      {"wrong rank", "classifier.bias", "classifier.bias: expected (3), found (3, 1)"},
  };
  for (int c = 0; c < 3; c++) {
    fx_model w = {0};
    base_model(&w);
    fx_tensor *t = fx_find(&w, shape_cases[c][1]);
    if (c == 0) t->shape[0] = 8, t->nbytes = 8 * 8 * 4; /* a real (8, 8) tensor */
    else if (c == 1) t->shape[0] = 8, t->shape[1] = 16;
    else t->ndim = 2, t->shape[1] = 1;
    char *d = folder(CONFIG, VOCAB, &w);
    expect_fail(shape_cases[c][0], d, SNT_ERR_SHAPE, shape_cases[c][2], NULL);
    fx_rmdir(d);
    fx_free(&w);
  }

  /* Missing and duplicated tensors. */
  fx_model w = {0};
  base_model(&w);
  fx_remove(&w, "distilbert.transformer.layer.0.sa_layer_norm.bias");
  char *d = folder(CONFIG, VOCAB, &w);
  expect_fail("missing tensor", d, SNT_ERR_SHAPE,
              "missing tensor distilbert.transformer.layer.0.sa_layer_norm.bias", NULL);
  fx_rmdir(d);
  fx_free(&w);
  base_model(&w);
  float four[3] = {1, 2, 3};
  int64_t three = 3;
  fx_add(&w, "classifier.bias", "F32", 1, &three, four, 12);
  d = folder(CONFIG, VOCAB, &w);
  expect_fail("duplicate tensor", d, SNT_ERR_FORMAT, "classifier.bias", "appears twice");
  fx_rmdir(d);
  fx_free(&w);
}

/* What must load: extras of other dtypes ignored, gamma/beta names, BERT. */
static void test_accepted(void) {
  float want[3], got[3];
  fx_model m = {0};
  base_model(&m);
  char *dir = folder(CONFIG, VOCAB, &m);
  int ok = expect_open("base model", dir, want) == 0;
  fx_rmdir(dir);

  int64_t shape[2] = {1, 16};
  int64_t pos[16];
  for (int i = 0; i < 16; i++) pos[i] = i;
  fx_add(&m, "distilbert.embeddings.position_ids", "I64", 2, shape, pos, sizeof pos);
  fx_add(&m, "zero.sized", "F32", 1, (int64_t[]){0}, NULL, 0);
  dir = folder(CONFIG, VOCAB, &m);
  if (expect_open("extra I64 and empty tensors", dir, got) == 0 && ok)
    CHECK(memcmp(got, want, sizeof got) == 0, "extras changed the logits");
  fx_rmdir(dir);

  for (int i = 0; i < m.n; i++) { /* LayerNorm.weight → LayerNorm.gamma, .bias → .beta */
    char *nm = m.t[i].name;
    size_t k = strlen(nm);
    if (!strstr(nm, "LayerNorm.") && !strstr(nm, "layer_norm.")) continue;
    if (k > 7 && strcmp(nm + k - 7, ".weight") == 0) strcpy(nm + k - 7, ".gamma");
    else if (k > 5 && strcmp(nm + k - 5, ".bias") == 0) strcpy(nm + k - 5, ".beta");
  }
  dir = folder(CONFIG, NULL, &m); /* tokenizer.json instead of vocab.txt */
  fx_write_text(fx_path(dir, "tokenizer.json"),
                "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[PAD]\": 0, \"[UNK]\": 1,"
                " \"[CLS]\": 2, \"[SEP]\": 3, \"[MASK]\": 4, \"a\": 5, \"b\": 6, \"c\": 7, \"d\": 8,"
                " \"e\": 9, \"f\": 10, \"g\": 11}}}");
  if (expect_open("tokenizer.json vocabulary", dir, got) == 0 && ok)
    CHECK(memcmp(got, want, sizeof got) == 0, "tokenizer.json changed the logits");
  fx_rmdir(dir);

  dir = folder(CONFIG, VOCAB, &m);
  if (expect_open("gamma/beta LayerNorm names", dir, got) == 0 && ok)
    CHECK(memcmp(got, want, sizeof got) == 0, "gamma/beta changed the logits");
  fx_rmdir(dir);
  fx_free(&m);

  fx_rng = 777;
  fx_tiny_model(&m, 1, 12, 16, 8, 16, 1, 3);
  dir = folder(BERT_CONFIG, VOCAB, &m);
  expect_open("tiny BERT, relu, num_labels", dir, got);
  snt_error err = {0};
  snt_model *bm = snt_model_open(dir, &err);
  if (bm) {
    const snt_config *c = snt_model_config(bm);
    CHECK(c->arch == SNT_ARCH_BERT && c->act == SNT_ACT_RELU && c->n_labels == 3 &&
              c->type_vocab_size == 2 && c->ln_eps == 1e-5f &&
              strcmp(c->labels[2], "LABEL_2") == 0 && snt_model_max_len(bm) == 16,
          "BERT config fields");
    CHECK(snt_vocab_size(snt_model_vocab(bm)) == 12, "vocab size");
  }
  snt_model_free(bm);
  fx_rmdir(dir);
  fx_free(&m);
}

static void test_configs(void) {
  fx_model m = {0};
  base_model(&m);
  char *dir = folder(NULL, VOCAB, &m);
  expect_fail("config.json missing", dir, SNT_ERR_IO, "config.json", "No such file");
  fx_rmdir(dir);
  fx_free(&m);

  config_case("config truncated", "{\"model_type\": \"distilbert\", \"dim\": ", SNT_ERR_FORMAT,
              "config.json", "invalid JSON");
  config_case("config empty", "", SNT_ERR_FORMAT, "config.json", "invalid JSON");
  config_case("config an array", "[]", SNT_ERR_FORMAT, "config.json", "not a JSON object");
  config_case("model_type absent", "{\"dim\": 8}", SNT_ERR_FORMAT, "no model_type", NULL);
  config_case("model_type gpt2", "{\"model_type\": \"gpt2\"}", SNT_ERR_UNSUPPORTED,
              "model_type 'gpt2' is not supported", NULL);
  config_case("model_type a number", "{\"model_type\": 7}", SNT_ERR_FORMAT, "no model_type", NULL);
  config_case("dim a string", "{\"model_type\": \"distilbert\", \"dim\": \"eight\"}", SNT_ERR_FORMAT,
              "'dim' is not an integer", NULL);
  config_case("dim 0", "{\"model_type\": \"distilbert\", \"dim\": 0}", SNT_ERR_UNSUPPORTED,
              "'dim' is 0, outside", NULL);
  config_case("dim 2^40", "{\"model_type\": \"distilbert\", \"dim\": 1099511627776}",
              SNT_ERR_UNSUPPORTED, "'dim' is 1099511627776, outside", NULL);
  config_case("n_layers 10^6", "{\"model_type\": \"distilbert\", \"n_layers\": 1000000}",
              SNT_ERR_UNSUPPORTED, "'n_layers'", "outside");
  config_case("vocab_size 2^31", "{\"model_type\": \"distilbert\", \"vocab_size\": 2147483648}",
              SNT_ERR_UNSUPPORTED, "'vocab_size'", "outside");
  config_case("max_position_embeddings 10^6",
              "{\"model_type\": \"distilbert\", \"max_position_embeddings\": 1000000}",
              SNT_ERR_UNSUPPORTED, "'max_position_embeddings'", "outside");
  config_case("dim % heads", "{\"model_type\": \"distilbert\", \"dim\": 8, \"n_heads\": 3}",
              SNT_ERR_FORMAT, "dim 8 is not a multiple of 3 heads", NULL);
  config_case("activation gelu_new", "{\"model_type\": \"distilbert\", \"activation\": \"gelu_new\"}",
              SNT_ERR_UNSUPPORTED, "activation 'gelu_new' is not supported", NULL);
  config_case("hidden_act silu", "{\"model_type\": \"bert\", \"hidden_act\": \"silu\"}",
              SNT_ERR_UNSUPPORTED, "hidden_act 'silu' is not supported", NULL);
  config_case("relative positions",
              "{\"model_type\": \"bert\", \"position_embedding_type\": \"relative_key\"}",
              SNT_ERR_UNSUPPORTED, "position_embedding_type 'relative_key'", NULL);
  config_case("layer_norm_eps -1", "{\"model_type\": \"bert\", \"layer_norm_eps\": -1}",
              SNT_ERR_FORMAT, "layer_norm_eps", NULL);
  config_case("pad_token_id past vocab",
              "{\"model_type\": \"distilbert\", \"vocab_size\": 12, \"pad_token_id\": 12}",
              SNT_ERR_FORMAT, "pad_token_id 12", NULL);
  config_case("id2label key not a number",
              "{\"model_type\": \"distilbert\", \"id2label\": {\"0\": \"a\", \"x\": \"b\"}}",
              SNT_ERR_FORMAT, "id2label key 'x'", NULL);
  config_case("id2label with a gap",
              "{\"model_type\": \"distilbert\", \"id2label\": {\"0\": \"a\", \"2\": \"b\"}}",
              SNT_ERR_FORMAT, "id2label key '2' is not an id in 0..1", NULL);
  config_case("id2label id twice",
              "{\"model_type\": \"distilbert\", \"id2label\": {\"0\": \"a\", \"0\": \"b\"}}",
              SNT_ERR_FORMAT, "id2label has id 0 twice", NULL);
  config_case("id2label: one label twice",
              "{\"model_type\": \"distilbert\", \"id2label\": {\"0\": \"pos\", \"1\": \"neg\", \"2\": \"pos\"}}",
              SNT_ERR_FORMAT, "label 'pos' is both id2label[0] and id2label[2]", NULL);
  config_case("id2label: an empty label",
              "{\"model_type\": \"distilbert\", \"id2label\": {\"0\": \"neg\", \"1\": \"\"}}",
              SNT_ERR_FORMAT, "id2label[1] is an empty label", NULL);
  config_case("id2label: a label with a NUL",
              "{\"model_type\": \"distilbert\", \"id2label\": {\"0\": \"neg\", \"1\": \"po\\u0000s\"}}",
              SNT_ERR_FORMAT, "id2label[1] 'po' contains a NUL character", NULL);
  config_case("id2label key 01",
              "{\"model_type\": \"distilbert\", \"id2label\": {\"01\": \"a\", \"0\": \"b\"}}",
              SNT_ERR_FORMAT, "id2label key '01'", NULL);
  config_case("id2label value a number",
              "{\"model_type\": \"distilbert\", \"id2label\": {\"0\": 5}}", SNT_ERR_FORMAT,
              "id2label[0] is not a string", NULL);
  config_case("id2label empty", "{\"model_type\": \"distilbert\", \"id2label\": {}}",
              SNT_ERR_FORMAT, "id2label", NULL);
  config_case("num_labels vs id2label",
              "{\"model_type\": \"distilbert\", \"num_labels\": 5, \"id2label\": {\"0\": \"a\"}}",
              SNT_ERR_FORMAT, "num_labels is 5 but id2label has 1", NULL);
  /* Config well-formed but other sizes than the file: the first tensor says so. */
  config_case("config dim vs tensors",
              "{\"model_type\": \"distilbert\", \"dim\": 16, \"n_heads\": 2, \"hidden_dim\": 16,"
              " \"n_layers\": 1, \"vocab_size\": 12, \"max_position_embeddings\": 16, \"num_labels\": 3}",
              SNT_ERR_SHAPE, "distilbert.embeddings.word_embeddings.weight: expected (12, 16), found (12, 8)",
              NULL);
  config_case("two labels by default",
              "{\"model_type\": \"distilbert\", \"dim\": 8, \"n_heads\": 2, \"hidden_dim\": 16,"
              " \"n_layers\": 1, \"vocab_size\": 12, \"max_position_embeddings\": 16}",
              SNT_ERR_SHAPE, "classifier.weight: expected (2, 8), found (3, 8)", NULL);
  config_case("more layers than the file",
              "{\"model_type\": \"distilbert\", \"dim\": 8, \"n_heads\": 2, \"hidden_dim\": 16,"
              " \"n_layers\": 2, \"vocab_size\": 12, \"max_position_embeddings\": 16, \"_num_labels\": 3}",
              SNT_ERR_SHAPE, "missing tensor distilbert.transformer.layer.1.attention.q_lin.weight",
              NULL);
  config_case("bert config, distilbert tensors", BERT_CONFIG, SNT_ERR_SHAPE,
              "missing tensor bert.embeddings.word_embeddings.weight", NULL);
}

static void test_vocabs(void) {
  fx_model m = {0};
  base_model(&m);
  char *dir = folder(CONFIG, "", &m);
  expect_fail("empty vocab.txt", dir, SNT_ERR_FORMAT, "vocab", "empty");
  fx_rmdir(dir);

  dir = folder(CONFIG, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\nd\ne\nf\n", &m);
  expect_fail("vocab shorter than embeddings", dir, SNT_ERR_SHAPE, "11 entries",
              "fewer than the embedding matrix's 12 rows");
  fx_rmdir(dir);
  dir = folder(CONFIG, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\nd\ne\nf\ng\nh\n", &m);
  expect_fail("vocab longer than embeddings", dir, SNT_ERR_SHAPE, "13 entries",
              "more than the embedding matrix's 12 rows");
  fx_rmdir(dir);
  dir = folder(CONFIG, NULL, &m);
  expect_fail("no vocab at all", dir, SNT_ERR_IO, "no vocab.txt or tokenizer.json", NULL);
  fx_rmdir(dir);
  fx_free(&m);
}

static void test_forward_args(void) {
  fx_model fm = {0};
  base_model(&fm);
  char *dir = folder(CONFIG, VOCAB, &fm);
  snt_error err = {0};
  snt_model *m = snt_model_open(dir, &err), *m2 = snt_model_open(dir, &err);
  CHECK(m && m2, "open: %s", err.msg);
  fx_rmdir(dir);
  fx_free(&fm);
  if (!m || !m2) {
    snt_model_free(m), snt_model_free(m2);
    return;
  }
  snt_state *s = snt_state_new(m, 0, &err), *s2 = snt_state_new(m2, 40, &err);
  CHECK(s && s2, "state: %s", err.msg);
  float lg[3 * 8];
  int32_t ids[40];
  for (int i = 0; i < 40; i++) ids[i] = i % 12;
  int rc;
  rc = snt_forward(m, s, ids, 0, lg, &err);
  CHECK(rc == SNT_ERR_ARG, "0 tokens: %d %s", rc, err.msg);
  rc = snt_forward(m, s, ids, 17, lg, &err);
  CHECK(rc == SNT_ERR_TOO_BIG && strstr(err.msg, "17 tokens"), "17 tokens: %d %s", rc, err.msg);
  ids[3] = 12;
  rc = snt_forward(m, s, ids, 5, lg, &err);
  CHECK(rc == SNT_ERR_ARG && strstr(err.msg, "token id 12"), "id 12: %d %s", rc, err.msg);
  ids[3] = -1;
  rc = snt_forward(m, s, ids, 5, lg, &err);
  CHECK(rc == SNT_ERR_ARG && strstr(err.msg, "token id -1"), "id -1: %d %s", rc, err.msg);
  ids[3] = 3;
  rc = snt_forward(m, s2, ids, 5, lg, &err);
  CHECK(rc == SNT_ERR_ARG && strstr(err.msg, "another model"), "other state: %d %s", rc, err.msg);
  rc = snt_forward(m, s, NULL, 5, lg, &err);
  CHECK(rc == SNT_ERR_ARG, "NULL ids: %d", rc);
  rc = snt_forward(m, s, ids, 5, lg, NULL); /* err may be NULL */
  CHECK(rc == SNT_OK, "err NULL: %d", rc);
  int off_bad[][4] = {{1, 3, 5, 7}, {0, 3, 3, 7}, {0, 5, 3, 7}, {0, 14, 28, 42}, {0, 3, 5, 22}};
  int want[] = {SNT_ERR_ARG, SNT_ERR_ARG, SNT_ERR_ARG, SNT_ERR_ARG, SNT_ERR_TOO_BIG};
  for (int c = 0; c < 5; c++) {
    rc = snt_forward_batch(m2, s2, 3, ids, off_bad[c], lg, &err);
    CHECK(rc == want[c], "bad offsets %d: %d %s", c, rc, err.msg);
  }
  rc = snt_forward_batch(m2, s2, 0, ids, off_bad[0], lg, &err);
  CHECK(rc == SNT_ERR_ARG, "0 sequences: %d", rc);
  int off_ok[] = {0, 16, 32, 40};
  rc = snt_forward_batch(m2, s2, 3, ids, off_ok, lg, &err);
  CHECK(rc == SNT_OK, "40 tokens in a 40-token state: %s", err.msg);
  snt_state *big = snt_state_new(m, (1 << 20) + 1, &err);
  CHECK(big == NULL && err.code == SNT_ERR_TOO_BIG, "state of 2^20+1 tokens: %s", err.msg);
  CHECK(snt_state_new(NULL, 1, &err) == NULL && err.code == SNT_ERR_ARG, "state of NULL model");
  CHECK(snt_model_open(NULL, &err) == NULL && err.code == SNT_ERR_ARG, "open(NULL)");
  CHECK(snt_model_open_memory(NULL, 0, NULL, 0, NULL, 0, &err) == NULL && err.code == SNT_ERR_ARG,
        "open_memory(NULL)");
  snt_state_free(NULL);
  snt_model_free(NULL);
  snt_state_free(s), snt_state_free(s2);
  snt_model_free(m), snt_model_free(m2);
}

/* Make allocation k fail, for every k, in open, state and forward. */
static void test_alloc_failures(void) {
  fx_model fm = {0};
  base_model(&fm);
  size_t st_len;
  unsigned char *st = fx_safetensors(&fm, 0, &st_len);
  char *dir = folder(CONFIG, VOCAB, &fm);
  int failures = 0, wrong = 0, k;
  for (int mem = 0; mem < 2; mem++)
    for (k = 1; k < 10000; k++) {
      snt_error err = {0};
      snt_alloc_fail_after(k);
      snt_model *m = mem ? snt_model_open_memory(CONFIG, strlen(CONFIG), VOCAB, strlen(VOCAB), st,
                                                 st_len, &err)
                         : snt_model_open(dir, &err);
      snt_state *s = m ? snt_state_new(m, 0, &err) : NULL;
      float lg[3];
      int rc = s ? snt_forward(m, s, IDS, N_IDS, lg, &err) : -1;
      snt_alloc_fail_after(0);
      snt_state_free(s);
      snt_model_free(m);
      if (rc == SNT_OK) break;
      failures++;
      if (err.code != SNT_ERR_NOMEM) {
        wrong++;
        fprintf(stderr, "allocation %d failed, error %d: %s\n", k, err.code, err.msg);
      }
    }
  CHECK(wrong == 0, "%d injected allocation failures reported as something else", wrong);
  CHECK(failures > 5, "only %d allocations to fail", failures);
  printf("  %d injected allocation failures, each SNT_ERR_NOMEM\n", failures);
  fx_rmdir(dir);
  free(st);
  fx_free(&fm);
}

/* Random mutations of a valid header and config: refused or run, never a crash. */
static void test_mutations(void) {
  fx_model fm = {0};
  base_model(&fm);
  size_t n;
  unsigned char *good = fx_safetensors(&fm, 0, &n), *buf = malloc(n);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | good[i];
  static const char bytes[] = "0123456789-.,:[]{}\"e \x00\xff";
  int opened = 0, refused = 0;
  fx_rng = 99;
  for (int it = 0; it < 3000; it++) {
    memcpy(buf, good, n);
    size_t len = n;
    int edits = 1 + (int)((fx_randf() + 1) * 2);
    for (int e = 0; e < edits; e++) {
      size_t at = (size_t)((fx_randf() + 1) / 2 * (double)(8 + hlen)) % (8 + hlen);
      buf[at] = (unsigned char)bytes[(size_t)((fx_randf() + 1) / 2 * (sizeof bytes - 1)) % (sizeof bytes - 1)];
    }
    if (fx_randf() > 0.8f) len = (size_t)((fx_randf() + 1) / 2 * (double)n);
    snt_error err = {0};
    snt_model *m = snt_model_open_memory(CONFIG, strlen(CONFIG), VOCAB, strlen(VOCAB), buf, len, &err);
    if (m) {
      snt_state *s = snt_state_new(m, 0, &err);
      float lg[3];
      if (s) snt_forward(m, s, IDS, N_IDS, lg, &err);
      snt_state_free(s);
      opened++;
    } else {
      refused++;
      CHECK(err.msg[0] && err.code != SNT_OK, "mutation %d refused without a message", it);
    }
    snt_model_free(m);
  }
  size_t cl = strlen(CONFIG);
  char *cfg = malloc(cl + 1);
  for (int it = 0; it < 2000; it++) {
    memcpy(cfg, CONFIG, cl + 1);
    int edits = 1 + (int)((fx_randf() + 1) * 2);
    for (int e = 0; e < edits; e++)
      cfg[(size_t)((fx_randf() + 1) / 2 * (double)cl) % cl] =
          bytes[(size_t)((fx_randf() + 1) / 2 * (sizeof bytes - 1)) % (sizeof bytes - 1)];
    snt_error err = {0};
    snt_model *m = snt_model_open_memory(cfg, cl, VOCAB, strlen(VOCAB), good, n, &err);
    if (m) opened++;
    else {
      refused++;
      CHECK(err.msg[0] && err.code != SNT_OK, "config mutation %d refused without a message", it);
    }
    snt_model_free(m);
  }
  printf("  5000 mutations: %d refused with a message, %d still valid and run\n", refused, opened);
  free(cfg);
  free(buf);
  free(good);
  fx_free(&fm);
}

int main(void) {
  (void)shared_dir; /* nothing here reads ../shared */
  test_accepted();
  test_safetensors_files();
  test_configs();
  test_vocabs();
  test_forward_args();
  test_alloc_failures();
  test_mutations();
  return check_report("test_hostile_model");
}
