/*
** fuzz_model.c — a whole model opened from memory (snt_model_open_memory:
** core/config.c, vocab.c, safetensors.c, model.c) and then run (wordpiece.c,
** ops.c). Input:
**
**   u32 LE config length │ u32 LE vocab length │ config.json │ vocab.txt │
**   model.safetensors (the rest)
**
** Each part is copied into a buffer of its own, of exactly its size (so ASan
** sees a read past any one of them), 64-byte aligned (F32 tensors are used in
** place and need 4). Seeds: micro models, tests/fuzz/make_model_corpus.py.
**
** A model that opens must run: a fixed text and the input's first bytes
** tokenize within snt_model_max_len, snt_forward gives the model's C logits
** for each, and snt_forward_batch on both packed gives the same logits, bit
** for bit (compared when all are finite: NaN and Inf weights are legal).
** After a successful open, any failure but out-of-memory is a bug. Then every
** allocation fails in turn (up to FUZZ_MAX_FAULTS: a seed's open and run make
** 23 or 24).
**
** cblas_sgemm, the one BLAS routine ops.c calls, is defined here as a plain
** loop instead of OpenBLAS's (not linked): it is instrumented, so ASan sees
** every matrix read; it checks the arguments OpenBLAS would refuse (OpenBLAS
** prints and computes nothing); and each element of C is one loop over K
** whatever M is. OpenBLAS rounds a row differently for different M, and a
** fuzzed model's near-constant LayerNorm rows amplify that past any tolerance
** (one found in 100 s: 7e-4 apart on logits of 0.14).
*/
#include <cblas.h>
#include <math.h>

#include "fuzz_model_common.h"

#define TEXT_MAX 64 /* bytes of the input tokenized as a second text */

static const char fixed_text[] = "the movie was not boring, i loved it!";

static uint32_t le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The three parts of data, or 0 when the lengths do not fit. */
static int split(const uint8_t *data, size_t size, size_t *config_len, size_t *vocab_len) {
  if (size < 8) return 0;
  *config_len = le32(data);
  *vocab_len = le32(data + 4);
  return *config_len <= size - 8 && *vocab_len <= size - 8 - *config_len;
}

static void *copy(const uint8_t *p, size_t n) {
  void *q = NULL;
  FUZZ_REQUIRE(posix_memalign(&q, 64, n ? n : 1) == 0);
  if (n) memcpy(q, p, n);
  return q;
}

/* C (M, N) = alpha · A (M, K) · op(B) + beta · C, row-major; op(B) is B (K, N)
** or, transposed, Bᵀ with B (N, K). beta 0: C is not read (BLAS). */
void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb,
                 blasint M, blasint N, blasint K, float alpha, const float *A, blasint lda,
                 const float *B, blasint ldb, float beta, float *C, blasint ldc) {
  int bt = tb == CblasTrans;
  FUZZ_REQUIRE(order == CblasRowMajor && ta == CblasNoTrans && (bt || tb == CblasNoTrans));
  FUZZ_REQUIRE(M >= 1 && N >= 1 && K >= 1 && lda >= K && ldb >= (bt ? K : N) && ldc >= N);
  for (blasint i = 0; i < M; i++)
    for (blasint j = 0; j < N; j++) {
      float acc = 0;
      for (blasint k = 0; k < K; k++)
        acc += A[(size_t)i * lda + k] * (bt ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
      float *c = &C[(size_t)i * ldc + j];
      *c = alpha * acc + (beta != 0 ? beta * *c : 0);
    }
}

/* a (n) and b (n) are equal; skipped unless every logit is finite. */
static void same_logits(const float *a, const float *b, int n) {
  for (int i = 0; i < n; i++)
    if (!isfinite(a[i]) || !isfinite(b[i])) return;
  for (int i = 0; i < n; i++) FUZZ_REQUIRE(a[i] == b[i]);
}

/* Tokenize texts[0..1] with m; logits of each alone, then of both packed. */
static int run(const snt_model *m, const char *texts[2], const size_t lens[2]) {
  const snt_config *cfg = snt_model_config(m);
  const snt_vocab *v = snt_model_vocab(m);
  int C = cfg->n_labels, max_len = snt_model_max_len(m);
  FUZZ_REQUIRE(v && C >= 1 && max_len >= 2); /* room for [CLS] [SEP] */
  snt_error err = {0};
  snt_tokens tok[2] = {{0}};
  snt_state *s = NULL;
  int32_t *ids = NULL;
  int off[3] = {0}; /* sequence i is ids[off[i] .. off[i + 1]) */
  /* Exactly C logits a sequence: ASan catches a write past them. */
  float *one[2] = {malloc((size_t)C * sizeof(float)), malloc((size_t)C * sizeof(float))};
  float *both = malloc(2 * (size_t)C * sizeof *both); /* (2, C) */
  FUZZ_REQUIRE(one[0] && one[1] && both && cfg->labels);
  for (int i = 0; i < C; i++) FUZZ_REQUIRE(cfg->labels[i]);
  int rc = SNT_OK;
  for (int i = 0; i < 2 && rc == SNT_OK; i++) {
    rc = snt_tokenize(v, texts[i], lens[i], max_len, &tok[i], &err);
    if (rc == SNT_OK) FUZZ_REQUIRE(tok[i].n >= 2 && tok[i].n <= max_len);
  }
  if (rc) goto done;
  off[1] = tok[0].n;
  off[2] = tok[0].n + tok[1].n;
  ids = malloc((size_t)off[2] * sizeof *ids);
  FUZZ_REQUIRE(ids);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < tok[i].n; j++) ids[off[i] + j] = tok[i].tok[j].id;
  if (!(s = snt_state_new(m, off[2], &err))) {
    rc = err.code;
    goto done;
  }
  for (int i = 0; i < 2 && rc == SNT_OK; i++)
    rc = snt_forward(m, s, ids + off[i], tok[i].n, one[i], &err);
  if (rc == SNT_OK) rc = snt_forward_batch(m, s, 2, ids, off, both, &err);
  if (rc == SNT_OK) {
    same_logits(one[0], both, C);
    same_logits(one[1], both + C, C);
  }
done:
  FUZZ_REQUIRE(rc == SNT_OK || (rc == SNT_ERR_NOMEM && err.code == rc && err.msg[0]));
  snt_state_free(s);
  snt_tokens_free(&tok[0]);
  snt_tokens_free(&tok[1]);
  free(ids);
  free(one[0]);
  free(one[1]);
  free(both);
  return rc;
}

static int parse(const uint8_t *data, size_t size) {
  size_t cl, vl;
  FUZZ_REQUIRE(split(data, size, &cl, &vl));
  size_t sl = size - 8 - cl - vl;
  char *config = copy(data + 8, cl), *vocab = copy(data + 8 + cl, vl);
  void *st = copy(data + 8 + cl + vl, sl);
  snt_error err = {0};
  snt_model *m = snt_model_open_memory(config, cl, vocab, vl, st, sl, &err);
  int rc;
  if (!m) {
    FUZZ_REQUIRE(err.code != SNT_OK && err.msg[0]);
    rc = err.code;
  } else {
    const char *texts[2] = {fixed_text, (const char *)data};
    size_t lens[2] = {sizeof fixed_text - 1, size < TEXT_MAX ? size : TEXT_MAX};
    rc = run(m, texts, lens);
    snt_model_free(m);
  }
  free(config);
  free(vocab);
  free(st);
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t cl, vl;
  if (!split(data, size, &cl, &vl)) return 0;
  fuzz_with_faults(parse, data, size);
  return 0;
}
