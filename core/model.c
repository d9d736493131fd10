/*
** model.c — a HuggingFace DistilBERT/BERT sequence classifier: open a model
** folder (or buffers), bind every tensor the config implies, and run the
** forward pass.
**
**   ids ─► word + position (+ token type 0) embeddings ─► LayerNorm
**       ─► L × post-LN block:  x = LN(x + Wo·attn(Wq x, Wk x, Wv x))
**                              x = LN(x + W2·act(W1 x))
**       ─► head on token 0:    DistilBERT: classifier(relu(pre_classifier(x₀)))
**                              BERT:       classifier(tanh(pooler(x₀)))
**
** DistilBERT and BERT are the same network under different tensor names (BERT
** adds token-type embeddings; its head uses tanh instead of ReLU), so one
** binding table per architecture fills one set of pointers and one forward
** pass serves both.
**
** Letters: V vocab, Pm max positions, D width, H heads, F FFN width, L layers,
** C labels, N tokens in a batch (all sequences packed), T one sequence's length.
**
** Memory: by default every tensor is read from model.safetensors (pread, F16
** and BF16 converted) into one owned block and the file is closed, so nothing
** done to the file later can reach a loaded model. With map_weights, and for
** a model opened from memory, F32 tensors point into the read-only mapping
** or buffer instead (only F16/BF16 and misaligned F32 ones are converted).
** snt_model_quantize then replaces the linears and word embeddings by int8
** copies and frees their F32 bytes (or leaves their pages unread).
** The model is never written after open, so threads share it; each brings
** an snt_state, all scratch allocated up front.
**
** Limits (snt_open_opts): parameters, FLOPs per token and bytes of memory
** are computed from config.json and checked before any weight is read.
*/
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ops.h"
#include "pool.h"
#include "quant.h"
#include "safetensors.h"
#include "util.h"

#define MAX_CONFIG_BYTES (16u << 20)
#define MAX_STATE_TOKENS (1 << 20)

typedef struct layer_w {
  const float *wq, *bq;        /* (D, D), (D) */
  const float *wk, *bk;        /* (D, D), (D) */
  const float *wv, *bv;        /* (D, D), (D) */
  const float *wo, *bo;        /* (D, D), (D) */
  const float *ln1_g, *ln1_b;  /* (D), (D) after attention */
  const float *w1, *b1;        /* (F, D), (F) */
  const float *w2, *b2;        /* (D, F), (D) */
  const float *ln2_g, *ln2_b;  /* (D), (D) after the FFN */
  snt_q8 q8[6];                /* int8 wq wk wv wo w1 w2 (snt_model_quantize); .w NULL: F32 */
} layer_w;

enum { Q8_Q, Q8_K, Q8_V, Q8_O, Q8_1, Q8_2 };

struct snt_model {
  snt_config cfg;
  snt_vocab *vocab;
  snt_safetensors *st;         /* the mapping or buffer F32 weights point into;
                                  NULL once a read file's weights are all in owned */
  float *owned;                /* converted / realigned tensors, one block */
  size_t owned_bytes;          /* its size */
  size_t weight_bytes;         /* every bound tensor, as F32 */
  const float *wte;            /* (V, D) word embeddings; NULL once int8 */
  snt_q8 wte_q8;               /* int8 models: the word embeddings, (V, Kp) int8 rows */
  const float *wpe;            /* (Pm, D) position embeddings */
  const float *wtt;            /* (types, D) token types, BERT; NULL for DistilBERT */
  const float *ln_g, *ln_b;    /* (D), (D) embedding LayerNorm */
  layer_w *layers;             /* (L) */
  const float *head_w, *head_b; /* (D, D), (D) pre_classifier or pooler */
  const float *cls_w, *cls_b;  /* (C, D), (C) classifier */
  void *q8mem;                 /* snt_model_quantize: int8 weights, scales and sums, one block */
  size_t q8bytes;              /* its size */
  int q8kp;                    /* the widest padded input of its linears, 0 for F32 */
};

struct snt_state {
  const snt_model *m;
  int max_tokens;              /* N at most */
  float *mem;                  /* the one allocation the pointers below carve */
  float *x;                    /* (N, D) hidden states */
  float *q, *k, *v;            /* (N, D) */
  float *ctx;                  /* (N, D) attention output, before Wo */
  float *t;                    /* (N, D) sublayer output */
  float *h;                    /* (N, F) FFN hidden */
  float *scores;               /* (Pm, Pm) one head of one sequence */
  snt_q8_scratch q8;           /* int8 models: (N, q8kp) activations, (N) scales, zero points */
  int (*cancel)(void *);       /* asked before each layer; NULL: never */
  void *cancel_arg;
  int threads;                 /* snt_state_set_threads: team size asked for, ≥ 1 */
  float *scores_more;          /* (threads - 1, Pm, Pm): the helpers' attention scores */
  snt_team *team;              /* during a forward pass: who splits its products */
};

/* ---- binding: tensor names and shapes the config implies ----------------- */

typedef struct bind {
  char name[160];
  int ndim;
  int64_t shape[2];
  const float **dst;
  const snt_st_tensor *t;      /* found in the file */
} bind;

typedef struct binder {
  bind *b;
  int n, cap;
} binder;

static void add(binder *bd, const float **dst, int64_t d0, int64_t d1, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* d1 == 0 means a vector (d0). cap is sized exactly by bind_count. */
static void add(binder *bd, const float **dst, int64_t d0, int64_t d1, const char *fmt, ...) {
  bind *b = &bd->b[bd->n++];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(b->name, sizeof b->name, fmt, ap);
  va_end(ap);
  b->ndim = d1 ? 2 : 1;
  b->shape[0] = d0;
  b->shape[1] = d1;
  b->dst = dst;
}

/* One encoder layer's 16 tensors, in binding order: its field, its shape ('D' dim, 'F'
** ffn_dim, 0 none: (rows, cols), a vector when cols is 0) and its name after
** "<prefix>.<layer>." in HF DistilBERT and in HF BERT. */
typedef struct layer_tensor {
  size_t field; /* offsetof(layer_w, …) */
  char rows, cols;
  const char *distilbert, *bert;
} layer_tensor;

static const layer_tensor k_layer_tensors[] = {
    {offsetof(layer_w, wq), 'D', 'D', "attention.q_lin.weight", "attention.self.query.weight"},
    {offsetof(layer_w, bq), 'D', 0, "attention.q_lin.bias", "attention.self.query.bias"},
    {offsetof(layer_w, wk), 'D', 'D', "attention.k_lin.weight", "attention.self.key.weight"},
    {offsetof(layer_w, bk), 'D', 0, "attention.k_lin.bias", "attention.self.key.bias"},
    {offsetof(layer_w, wv), 'D', 'D', "attention.v_lin.weight", "attention.self.value.weight"},
    {offsetof(layer_w, bv), 'D', 0, "attention.v_lin.bias", "attention.self.value.bias"},
    {offsetof(layer_w, wo), 'D', 'D', "attention.out_lin.weight", "attention.output.dense.weight"},
    {offsetof(layer_w, bo), 'D', 0, "attention.out_lin.bias", "attention.output.dense.bias"},
    {offsetof(layer_w, ln1_g), 'D', 0, "sa_layer_norm.weight", "attention.output.LayerNorm.weight"},
    {offsetof(layer_w, ln1_b), 'D', 0, "sa_layer_norm.bias", "attention.output.LayerNorm.bias"},
    {offsetof(layer_w, w1), 'F', 'D', "ffn.lin1.weight", "intermediate.dense.weight"},
    {offsetof(layer_w, b1), 'F', 0, "ffn.lin1.bias", "intermediate.dense.bias"},
    {offsetof(layer_w, w2), 'D', 'F', "ffn.lin2.weight", "output.dense.weight"},
    {offsetof(layer_w, b2), 'D', 0, "ffn.lin2.bias", "output.dense.bias"},
    {offsetof(layer_w, ln2_g), 'D', 0, "output_layer_norm.weight", "output.LayerNorm.weight"},
    {offsetof(layer_w, ln2_b), 'D', 0, "output_layer_norm.bias", "output.LayerNorm.bias"},
};

#define N_LAYER_TENSORS (sizeof k_layer_tensors / sizeof *k_layer_tensors)

/* The tensors a config binds (BERT's 12 outside the layers; DistilBERT's 8 fit too). */
static int bind_count(const snt_config *c) { return (int)N_LAYER_TENSORS * c->n_layers + 12; }

static int64_t layer_dim(const snt_config *c, char d) {
  return d == 'D' ? c->dim : d == 'F' ? c->ffn_dim : 0;
}

/* Every layer's tensors, named as the model's family names them. */
static void table_layers(snt_model *m, binder *bd, int bert) {
  const snt_config *c = &m->cfg;
  const char *prefix = bert ? "bert.encoder.layer" : "distilbert.transformer.layer";
  for (int l = 0; l < c->n_layers; l++)
    for (size_t i = 0; i < N_LAYER_TENSORS; i++) {
      const layer_tensor *t = &k_layer_tensors[i];
      const float **dst = (const float **)((char *)&m->layers[l] + t->field);
      add(bd, dst, layer_dim(c, t->rows), layer_dim(c, t->cols), "%s.%d.%s", prefix, l,
          bert ? t->bert : t->distilbert);
    }
}

static void table_distilbert(snt_model *m, binder *bd) {
  const snt_config *c = &m->cfg;
  int64_t V = c->vocab_size, D = c->dim, C = c->n_labels;
  add(bd, &m->wte, V, D, "distilbert.embeddings.word_embeddings.weight");
  add(bd, &m->wpe, c->max_pos, D, "distilbert.embeddings.position_embeddings.weight");
  add(bd, &m->ln_g, D, 0, "distilbert.embeddings.LayerNorm.weight");
  add(bd, &m->ln_b, D, 0, "distilbert.embeddings.LayerNorm.bias");
  table_layers(m, bd, 0);
  add(bd, &m->head_w, D, D, "pre_classifier.weight");
  add(bd, &m->head_b, D, 0, "pre_classifier.bias");
  add(bd, &m->cls_w, C, D, "classifier.weight");
  add(bd, &m->cls_b, C, 0, "classifier.bias");
}

static void table_bert(snt_model *m, binder *bd) {
  const snt_config *c = &m->cfg;
  int64_t V = c->vocab_size, D = c->dim, C = c->n_labels;
  add(bd, &m->wte, V, D, "bert.embeddings.word_embeddings.weight");
  add(bd, &m->wpe, c->max_pos, D, "bert.embeddings.position_embeddings.weight");
  add(bd, &m->wtt, c->type_vocab_size, D, "bert.embeddings.token_type_embeddings.weight");
  add(bd, &m->ln_g, D, 0, "bert.embeddings.LayerNorm.weight");
  add(bd, &m->ln_b, D, 0, "bert.embeddings.LayerNorm.bias");
  table_layers(m, bd, 1);
  add(bd, &m->head_w, D, D, "bert.pooler.dense.weight");
  add(bd, &m->head_b, D, 0, "bert.pooler.dense.bias");
  add(bd, &m->cls_w, C, D, "classifier.weight");
  add(bd, &m->cls_b, C, 0, "classifier.bias");
}

/* Older checkpoints (TF-converted BERTs) call LayerNorm's parameters
** gamma/beta: "x.LayerNorm.weight" → "x.LayerNorm.gamma", ".bias" → ".beta". */
static const snt_st_tensor *find_alt(const snt_safetensors *st, const char *name) {
  size_t n = strlen(name);
  char alt[sizeof ((bind *)0)->name + 8];
  if (!strstr(name, "LayerNorm.") && !strstr(name, "layer_norm.")) return NULL;
  if (n > 7 && strcmp(name + n - 7, ".weight") == 0)
    snprintf(alt, sizeof alt, "%.*s.gamma", (int)(n - 7), name);
  else if (n > 5 && strcmp(name + n - 5, ".bias") == 0)
    snprintf(alt, sizeof alt, "%.*s.beta", (int)(n - 5), name);
  else
    return NULL;
  return snt_st_find(st, alt);
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
  size_t k = (size_t)snprintf(buf, cap, "(");
  for (int i = 0; i < ndim && k < cap; i++)
    k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
  if (k < cap) snprintf(buf + k, cap - k, ")");
}

/* Used in place: an F32 tensor 4-byte aligned in a mapping or buffer. */
static int in_place(const snt_st_tensor *t) {
  return t->data && t->dtype == SNT_DT_F32 && !((uintptr_t)t->data & 3);
}

/* Find, check and point every tensor of the table; copy or convert into
** m->owned what is not used in place, within max_bytes. */
static int bind_all(snt_model *m, binder *bd, uint64_t max_bytes, snt_error *err) {
  size_t owned = 0; /* floats to convert or realign */
  for (int i = 0; i < bd->n; i++) {
    bind *b = &bd->b[i];
    b->t = snt_st_find(m->st, b->name);
    if (!b->t) b->t = find_alt(m->st, b->name);
    if (!b->t) return snt_error_set(err, SNT_ERR_SHAPE, "missing tensor %s", b->name);
    const snt_st_tensor *t = b->t;
    if (t->ndim != b->ndim || t->shape[0] != b->shape[0] ||
        (b->ndim == 2 && t->shape[1] != b->shape[1])) {
      char want[64], found[160];
      shape_str(want, sizeof want, b->ndim, b->shape);
      shape_str(found, sizeof found, t->ndim, t->shape);
      return snt_error_set(err, SNT_ERR_SHAPE, "%s: expected %s, found %s", b->name, want, found);
    }
    if (t->dtype != SNT_DT_F32 && t->dtype != SNT_DT_F16 && t->dtype != SNT_DT_BF16)
      return snt_error_set(err, SNT_ERR_UNSUPPORTED,
                           "%s: dtype %s is not supported (F32, F16 or BF16)", b->name,
                           snt_dtype_name(t->dtype));
    if (!in_place(t)) owned += t->numel;
    m->weight_bytes += (size_t)t->numel * sizeof(float);
  }
  if ((uint64_t)owned * sizeof *m->owned > max_bytes)
    return snt_error_set(err, SNT_ERR_TOO_BIG,
                         "the model needs %llu bytes of memory for its weights, over the limit "
                         "of %llu (SENTIMENT_MAX_MODEL_BYTES)",
                         (unsigned long long)owned * sizeof *m->owned,
                         (unsigned long long)max_bytes);
  m->owned_bytes = owned * sizeof *m->owned;
  m->owned = snt_malloc(owned * sizeof *m->owned);
  if (!m->owned)
    return snt_error_set(err, SNT_ERR_NOMEM, "out of memory converting %zu weights to F32", owned);
  float *p = m->owned;
  for (int i = 0; i < bd->n; i++) {
    const snt_st_tensor *t = bd->b[i].t;
    if (in_place(t)) {
      *bd->b[i].dst = (const float *)(const void *)t->data;
    } else {
      int rc = snt_st_load_f32(m->st, t, p, err);
      if (rc) return rc;
      *bd->b[i].dst = p;
      p += t->numel;
    }
  }
  return SNT_OK;
}

/* opts with its zeros replaced by the defaults. */
static snt_open_opts resolve_opts(const snt_open_opts *o) {
  snt_open_opts r = {0};
  if (o) r = *o;
  if (!r.max_params) r.max_params = SNT_DEFAULT_MAX_PARAMS;
  if (!r.max_flops) r.max_flops = SNT_DEFAULT_MAX_FLOPS;
  if (!r.max_bytes) r.max_bytes = SNT_DEFAULT_MAX_BYTES;
  return r;
}

/* The parameters and FLOPs per token (at max_pos tokens of context) that c
** implies, against the limits. config.c bounds every size (V ≤ 2^24,
** D ≤ 2^14, F ≤ 2^16, L ≤ 2^8, Pm ≤ 2^13, C ≤ 2^16), so uint64 cannot
** overflow here. */
static int check_limits(const snt_config *c, const snt_open_opts *o, snt_error *err) {
  uint64_t V = (uint64_t)c->vocab_size, D = (uint64_t)c->dim, F = (uint64_t)c->ffn_dim;
  uint64_t L = (uint64_t)c->n_layers, Pm = (uint64_t)c->max_pos, C = (uint64_t)c->n_labels;
  uint64_t T = c->arch == SNT_ARCH_BERT ? (uint64_t)c->type_vocab_size : 0;
  uint64_t layer = 4 * (D * D + D) + 2 * D + (F * D + F) + (D * F + D) + 2 * D;
  uint64_t params = (V + Pm + T + 2) * D + L * layer + (D * D + D) + (C * D + C);
  /* Per token: 2 FLOPs per multiply-add of the six matrices of a layer, and
  ** attention over Pm tokens (Q·K and weights·V: 2 × 2·D per pair). */
  uint64_t flops = L * (2 * (4 * D * D + 2 * D * F) + 4 * D * Pm);
  if (params > o->max_params)
    return snt_error_set(err, SNT_ERR_TOO_BIG,
                         "config.json describes %llu parameters, over the limit of %llu "
                         "(SENTIMENT_MAX_PARAMS)",
                         (unsigned long long)params, (unsigned long long)o->max_params);
  if (flops > o->max_flops)
    return snt_error_set(err, SNT_ERR_TOO_BIG,
                         "config.json describes %llu FLOPs per token at %llu tokens, over the "
                         "limit of %llu (SENTIMENT_MAX_FLOPS)",
                         (unsigned long long)flops, (unsigned long long)Pm,
                         (unsigned long long)o->max_flops);
  return SNT_OK;
}

/* Takes ownership of cfg's contents, v and st, whatever happens. */
static snt_model *model_build(snt_config *cfg, snt_vocab *v, snt_safetensors *st,
                              const snt_open_opts *opts, snt_error *err) {
  binder bd = {0};
  int rc = SNT_OK;
  snt_model *m = snt_calloc(1, sizeof *m);
  if (!m) {
    snt_config_free(cfg);
    snt_vocab_free(v);
    snt_st_close(st);
    snt_error_set(err, SNT_ERR_NOMEM, "out of memory opening a model");
    return NULL;
  }
  m->cfg = *cfg;
  memset(cfg, 0, sizeof *cfg);
  m->vocab = v;
  m->st = st;
  m->layers = snt_calloc((size_t)m->cfg.n_layers, sizeof *m->layers);
  bd.cap = bind_count(&m->cfg);
  bd.b = snt_calloc((size_t)bd.cap, sizeof *bd.b);
  if (!m->layers || !bd.b) {
    rc = snt_error_set(err, SNT_ERR_NOMEM, "out of memory opening a model");
    goto done;
  }
  if (m->cfg.arch == SNT_ARCH_BERT) table_bert(m, &bd);
  else table_distilbert(m, &bd);
  if ((rc = bind_all(m, &bd, opts->max_bytes, err))) goto done;
  if (!snt_st_mapped(st)) {
    /* Read (or a buffer): every weight is in owned or the caller's buffer.
    ** A file rewritten while it was read may have given a mix of old and new
    ** bytes: refuse it (one fstat); otherwise let the file go. */
    if ((rc = snt_st_check(st, err))) goto done;
    snt_st_close(m->st);
    m->st = NULL;
  }
  /* Every id the tokenizer can produce must have an embedding row, and every
  ** row a piece: a vocabulary of another size belongs to another model. */
  int nv = snt_vocab_size(v);
  if (nv != m->cfg.vocab_size)
    rc = snt_error_set(err, SNT_ERR_SHAPE,
                       nv < m->cfg.vocab_size
                           ? "vocabulary has %d entries, fewer than the embedding matrix's %d rows"
                           : "vocabulary has %d entries, more than the embedding matrix's %d rows",
                       nv, m->cfg.vocab_size);
done:
  snt_free(bd.b);
  if (rc) {
    snt_model_free(m);
    return NULL;
  }
  return m;
}

void snt_model_free(snt_model *m) {
  if (!m) return;
  snt_config_free(&m->cfg);
  snt_vocab_free(m->vocab);
  snt_st_close(m->st);
  snt_free(m->owned);
  snt_free(m->q8mem);
  snt_free(m->layers);
  snt_free(m);
}

/* ---- opening ------------------------------------------------------------- */

static int join(char *buf, size_t cap, const char *dir, const char *file, snt_error *err) {
  int n = snprintf(buf, cap, "%s/%s", dir, file);
  if (n < 0 || (size_t)n >= cap)
    return snt_error_set(err, SNT_ERR_ARG, "model path '%.200s…' is too long", dir);
  return SNT_OK;
}

static int is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

int snt_config_load(const char *dir, snt_config *cfg, snt_error *err) {
  char path[4096];
  char *json = NULL;
  size_t json_len = 0;
  int rc;
  if (!dir) return snt_error_set(err, SNT_ERR_ARG, "model folder is NULL");
  if ((rc = join(path, sizeof path, dir, "config.json", err))) return rc;
  if ((rc = snt_read_file(path, MAX_CONFIG_BYTES, &json, &json_len, err))) return rc;
  rc = snt_config_parse(json, json_len, cfg, err);
  if (rc && err) {
    /* config.c's messages start "config.json: "; say which one. */
    char msg[sizeof err->msg];
    memcpy(msg, err->msg, sizeof msg);
    snt_error_set(err, err->code, "%.300s/%.700s", dir, msg);
  }
  snt_free(json);
  return rc;
}

snt_model *snt_model_open(const char *dir, snt_error *err) {
  return snt_model_open_ex(dir, NULL, err);
}

snt_model *snt_model_open_ex(const char *dir, const snt_open_opts *o, snt_error *err) {
  snt_open_opts opts = resolve_opts(o);
  char path[4096];
  snt_config cfg = {0};
  snt_vocab *v = NULL;
  snt_safetensors *st = NULL;
  snt_model *m = NULL;
  if (!dir) {
    snt_error_set(err, SNT_ERR_ARG, "model folder is NULL");
    goto done;
  }
  snt_test_open_hook(dir);
  if (snt_config_load(dir, &cfg, err)) goto done;
  if (check_limits(&cfg, &opts, err)) goto done;
  /* A vocab.txt or model.safetensors that exists but is not a regular file
  ** is refused by name when opened (snt_open_regular). */
  if (join(path, sizeof path, dir, "vocab.txt", err)) goto done;
  if (exists(path)) {
    v = snt_vocab_load(path, err);
  } else {
    if (join(path, sizeof path, dir, "tokenizer.json", err)) goto done;
    if (!exists(path)) {
      snt_error_set(err, SNT_ERR_IO, "%s: no vocab.txt or tokenizer.json", dir);
      goto done;
    }
    v = snt_vocab_load_tokenizer_json(path, err);
  }
  if (!v) goto done;
  if (join(path, sizeof path, dir, "model.safetensors", err)) goto done;
  if (!exists(path)) {
    char other[4096];
    const char *why = "";
    if (join(other, sizeof other, dir, "model.safetensors.index.json", NULL) == SNT_OK &&
        is_file(other))
      why = " (sharded checkpoints are not read: save with a max_shard_size over the model's size)";
    else if (join(other, sizeof other, dir, "pytorch_model.bin", NULL) == SNT_OK && is_file(other))
      why = " (pytorch_model.bin is not read: save the model with safe_serialization=True)";
    snt_error_set(err, SNT_ERR_IO, "%s: no model.safetensors%s", dir, why);
    goto done;
  }
  if (!(st = snt_st_open_ex(path, opts.map_weights, err))) goto done;
  m = model_build(&cfg, v, st, &opts, err);
  v = NULL;
  st = NULL;
done:
  snt_config_free(&cfg);
  snt_vocab_free(v);
  snt_st_close(st);
  return m;
}

snt_model *snt_model_open_memory(const char *config_json, size_t config_len,
                                 const char *vocab_txt, size_t vocab_len,
                                 const void *safetensors, size_t st_len, snt_error *err) {
  snt_config cfg = {0};
  snt_vocab *v = NULL;
  snt_safetensors *st = NULL;
  if (!config_json || !vocab_txt || !safetensors) {
    snt_error_set(err, SNT_ERR_ARG, "model buffers must not be NULL");
    return NULL;
  }
  snt_open_opts opts = resolve_opts(NULL);
  if (snt_config_parse(config_json, config_len, &cfg, err)) return NULL;
  if (check_limits(&cfg, &opts, err)) goto fail;
  if (!(v = snt_vocab_parse_txt(vocab_txt, vocab_len, err))) goto fail;
  if (!(st = snt_st_open_memory(safetensors, st_len, err))) goto fail;
  return model_build(&cfg, v, st, &opts, err);
fail:
  snt_config_free(&cfg);
  snt_vocab_free(v);
  return NULL;
}

int snt_model_check_file(const snt_model *m, snt_error *err) {
  if (!m) return snt_error_set(err, SNT_ERR_ARG, "snt_model_check_file: model is NULL");
  return m->st ? snt_st_check(m->st, err) : SNT_OK; /* no st: the weights are in memory */
}

/* ---- int8 ---------------------------------------------------------------- */

/* The F32 tensors an int8 model keeps (everything but the six linears of each
** block and the word embeddings), with their sizes in floats: 8 + 10 per
** layer. Returns how many it wrote into list (room for kept_count(c)). */
typedef struct kept {
  const float **p;
  size_t n;
} kept;

static int kept_count(const snt_config *c) { return 8 + 10 * c->n_layers; }

static int kept_tensors(snt_model *m, kept *list) {
  const snt_config *c = &m->cfg;
  size_t D = (size_t)c->dim, F = (size_t)c->ffn_dim, C = (size_t)c->n_labels;
  int n = 0;
  list[n++] = (kept){&m->wpe, (size_t)c->max_pos * D};
  list[n++] = (kept){&m->wtt, m->wtt ? (size_t)c->type_vocab_size * D : 0};
  list[n++] = (kept){&m->ln_g, D};
  list[n++] = (kept){&m->ln_b, D};
  list[n++] = (kept){&m->head_w, D * D};
  list[n++] = (kept){&m->head_b, D};
  list[n++] = (kept){&m->cls_w, C * D};
  list[n++] = (kept){&m->cls_b, C};
  for (int l = 0; l < c->n_layers; l++) {
    layer_w *w = &m->layers[l];
    const float **vec[10] = {&w->bq, &w->bk, &w->bv, &w->bo, &w->ln1_g,
                             &w->ln1_b, &w->b1, &w->b2, &w->ln2_g, &w->ln2_b};
    for (int i = 0; i < 10; i++) list[n++] = (kept){vec[i], vec[i] == &w->b1 ? F : D};
  }
  return n;
}

/* p points into m's owned block (not into a mapping or the caller's buffer). */
static int in_owned(const snt_model *m, const float *p) {
  const float *end = m->owned + m->owned_bytes / sizeof *m->owned;
  return p && m->owned && p >= m->owned && p < end;
}

/* Where the next int8 tensor goes in an int8 model's block. */
typedef struct q8_cursor {
  float *scale;
  int32_t *sum;
  int8_t *w;
  int8_t *rows;  /* packing: a linear's (N, Kp) rows before snt_q8_pack; NULL: row layout */
} q8_cursor;

/* Bytes of a linear's int8 weights, N rows of Kp, packed or not. */
static size_t q8_linear_bytes(int N, int Kp, int packed) {
  return (size_t)(packed ? snt_q8_pack_rows(N) : N) * (size_t)Kp;
}

/* q = w (N, K) quantized per row into the block at cur, which moves on. A
** linear layer also gets its row sums, and is packed for the VNNI kernel when
** cur->rows is set; embeddings (linear 0) stay rows, looked up one by one. */
static void q8_take(q8_cursor *cur, snt_q8 *q, const float *w, int N, int K, int linear) {
  int pack = linear && cur->rows;
  q->N = N;
  q->K = K;
  q->Kp = snt_q8_pad(K);
  q->packed = pack;
  snt_q8_weights(pack ? cur->rows : cur->w, cur->scale, linear ? cur->sum : NULL, w, N, K);
  if (pack) snt_q8_pack(cur->w, cur->rows, N, q->Kp);
  q->w = cur->w;
  q->scale = cur->scale;
  q->sum = linear ? cur->sum : NULL;
  cur->w += q8_linear_bytes(N, q->Kp, pack);
  cur->scale += N;
  if (linear) cur->sum += N;
}

int snt_model_quantize(snt_model *m, snt_error *err) {
  if (!m) return snt_error_set(err, SNT_ERR_ARG, "snt_model_quantize: model is NULL");
  if (m->q8mem) return snt_error_set(err, SNT_ERR_ARG, "snt_model_quantize: the model is already int8");
  const snt_config *c = &m->cfg;
  int L = c->n_layers, D = c->dim, F = c->ffn_dim, V = c->vocab_size;
  int Dp = snt_q8_pad(D), Fp = snt_q8_pad(F);
  /* Per layer: Q K V O (D, Dp), W1 (F, Dp), W2 (D, Fp) bytes (rows padded to
  ** 32 when packed), a scale and a row sum per row; word embeddings (V, Dp)
  ** bytes, a scale per row. */
  int pack = snt_q8_kernel() == SNT_Q8_VNNI;
  size_t wbytes = (size_t)L * (4 * q8_linear_bytes(D, Dp, pack) + q8_linear_bytes(F, Dp, pack) +
                               q8_linear_bytes(D, Fp, pack)) +
                  (size_t)V * Dp;
  size_t rows_bytes = 0; /* packing: the largest linear's rows, one at a time */
  size_t lin_bytes[3] = {(size_t)D * Dp, (size_t)F * Dp, (size_t)D * Fp};
  for (int i = 0; pack && i < 3; i++) rows_bytes = lin_bytes[i] > rows_bytes ? lin_bytes[i] : rows_bytes;
  size_t lin_rows = (size_t)L * ((size_t)5 * D + F), rows = lin_rows + (size_t)V;
  size_t total = rows * sizeof(float) + lin_rows * sizeof(int32_t) + wbytes;
  int nk = kept_count(c);
  kept *list = snt_calloc((size_t)nk, sizeof *list);
  if (!list) return snt_error_set(err, SNT_ERR_NOMEM, "out of memory quantizing to int8");
  nk = kept_tensors(m, list);
  size_t keep_floats = 0;
  for (int i = 0; i < nk; i++)
    if (in_owned(m, *list[i].p)) keep_floats += list[i].n;
  char *mem = snt_calloc(total, 1);
  float *keep = snt_malloc(keep_floats * sizeof *keep);
  int8_t *rows_tmp = pack ? snt_malloc(rows_bytes) : NULL;
  if (!mem || !keep || (pack && !rows_tmp)) {
    snt_free(list), snt_free(mem), snt_free(keep), snt_free(rows_tmp);
    return snt_error_set(err, SNT_ERR_NOMEM, "out of memory quantizing %d layers to int8 (%zu MB)",
                         L, total >> 20);
  }
  q8_cursor cur = {(float *)(void *)mem, NULL, NULL, rows_tmp}; /* scales and sums first */
  cur.sum = (int32_t *)(void *)(cur.scale + rows);
  cur.w = (int8_t *)(void *)(cur.sum + lin_rows);
  for (int l = 0; l < L; l++) {
    layer_w *w = &m->layers[l];
    q8_take(&cur, &w->q8[Q8_Q], w->wq, D, D, 1);
    q8_take(&cur, &w->q8[Q8_K], w->wk, D, D, 1);
    q8_take(&cur, &w->q8[Q8_V], w->wv, D, D, 1);
    q8_take(&cur, &w->q8[Q8_O], w->wo, D, D, 1);
    q8_take(&cur, &w->q8[Q8_1], w->w1, F, D, 1);
    q8_take(&cur, &w->q8[Q8_2], w->w2, D, F, 1);
    /* The forward pass reads the int8 copies only: drop the F32 pointers, so
    ** that nothing reads these tensors' F32 bytes (owned or mapped) again. */
    w->wq = w->wk = w->wv = w->wo = w->w1 = w->w2 = NULL;
  }
  q8_take(&cur, &m->wte_q8, m->wte, V, D, 0);
  snt_free(rows_tmp);
  m->wte = NULL;
  /* The F32 tensors kept move into a block of their own; the old one goes. */
  float *p = keep;
  for (int i = 0; i < nk; i++)
    if (in_owned(m, *list[i].p)) {
      memcpy(p, *list[i].p, list[i].n * sizeof *p);
      *list[i].p = p;
      p += list[i].n;
    }
  snt_free(list);
  snt_free(m->owned);
  m->owned = keep;
  m->owned_bytes = keep_floats * sizeof *keep;
  m->q8mem = mem;
  m->q8bytes = total;
  m->q8kp = Dp > Fp ? Dp : Fp;
  return SNT_OK;
}

int snt_model_is_int8(const snt_model *m) { return m && m->q8mem; }

size_t snt_model_owned_bytes(const snt_model *m) {
  return m ? m->owned_bytes + m->q8bytes : 0;
}

size_t snt_model_weight_bytes(const snt_model *m) { return m ? m->weight_bytes : 0; }

const snt_config *snt_model_config(const snt_model *m) { return m ? &m->cfg : NULL; }
const snt_vocab *snt_model_vocab(const snt_model *m) { return m ? m->vocab : NULL; }
int snt_model_max_len(const snt_model *m) { return m ? m->cfg.max_pos : 0; }

/* ---- state --------------------------------------------------------------- */

snt_state *snt_state_new(const snt_model *m, int max_tokens, snt_error *err) {
  if (!m) {
    snt_error_set(err, SNT_ERR_ARG, "snt_state_new: model is NULL");
    return NULL;
  }
  const snt_config *c = &m->cfg;
  if (max_tokens < c->max_pos) max_tokens = c->max_pos;
  if (max_tokens > MAX_STATE_TOKENS) {
    snt_error_set(err, SNT_ERR_TOO_BIG, "a state holds at most %d tokens, asked for %d",
                  MAX_STATE_TOKENS, max_tokens);
    return NULL;
  }
  /* Floats: 6 (N, D) buffers, (N, F), (Pm, Pm). Bounded by config.c's limits
  ** (N ≤ 2^20, D, F ≤ 2^16, Pm ≤ 2^13), so this fits in a size_t. */
  size_t N = (size_t)max_tokens, D = (size_t)c->dim, F = (size_t)c->ffn_dim;
  size_t Pm = (size_t)c->max_pos;
  size_t Kq = (size_t)m->q8kp; /* a multiple of 32: (N, Kq) bytes are whole floats */
  size_t total = N * (6 * D + F) + Pm * Pm + (Kq ? N * Kq / sizeof(float) + 2 * N : 0);
  snt_state *s = snt_calloc(1, sizeof *s);
  float *mem = snt_calloc(total, sizeof *mem);
  if (!s || !mem) {
    snt_free(s);
    snt_free(mem);
    snt_error_set(err, SNT_ERR_NOMEM, "out of memory for a state of %d tokens (%zu MB)",
                  max_tokens, total * sizeof *mem >> 20);
    return NULL;
  }
  s->m = m;
  s->max_tokens = max_tokens;
  s->threads = 1;
  s->mem = mem;
  float *p = mem;
  s->x = p, p += N * D;
  s->q = p, p += N * D;
  s->k = p, p += N * D;
  s->v = p, p += N * D;
  s->ctx = p, p += N * D;
  s->t = p, p += N * D;
  s->h = p, p += N * F;
  s->scores = p, p += Pm * Pm;
  if (Kq) {
    s->q8.sx = p, p += N;
    s->q8.zx = (int32_t *)(void *)p, p += N;
    s->q8.xq = (uint8_t *)(void *)p;
  }
  return s;
}

void snt_state_set_cancel(snt_state *s, int (*cancel)(void *arg), void *arg) {
  if (!s) return;
  s->cancel = cancel;
  s->cancel_arg = arg;
}

int snt_state_set_threads(snt_state *s, int n, snt_error *err) {
  if (!s) return snt_error_set(err, SNT_ERR_ARG, "snt_state_set_threads: state is NULL");
  if (n < 1) n = 1;
  if (n > SNT_TEAM_MAX) n = SNT_TEAM_MAX;
  if (n > 1 && n != s->threads) {
    size_t Pm = (size_t)s->m->cfg.max_pos;
    float *more = snt_calloc((size_t)(n - 1) * Pm * Pm, sizeof *more);
    if (!more)
      return snt_error_set(err, SNT_ERR_NOMEM, "out of memory for %d threads' attention scores", n);
    snt_free(s->scores_more);
    s->scores_more = more;
  }
  s->threads = n;
  return SNT_OK;
}

void snt_state_free(snt_state *s) {
  if (!s) return;
  snt_free(s->scores_more);
  snt_free(s->mem);
  snt_free(s);
}

/* ---- forward ------------------------------------------------------------- */

static int check_batch(const snt_model *m, const snt_state *s, int n_seq, const int32_t *ids,
                       const int *off, const float *logits, snt_error *err) {
  if (!m || !s || !ids || !off || !logits)
    return snt_error_set(err, SNT_ERR_ARG, "snt_forward: NULL argument");
  if (s->m != m)
    return snt_error_set(err, SNT_ERR_ARG, "snt_forward: the state belongs to another model");
  if (n_seq < 1) return snt_error_set(err, SNT_ERR_ARG, "snt_forward: %d sequences", n_seq);
  if (off[0] != 0) return snt_error_set(err, SNT_ERR_ARG, "snt_forward: off[0] is %d, not 0", off[0]);
  for (int i = 0; i < n_seq; i++) {
    if (off[i + 1] <= off[i])
      return snt_error_set(err, SNT_ERR_ARG, "snt_forward: sequence %d spans [%d, %d): empty or reversed",
                           i, off[i], off[i + 1]);
    if ((int64_t)off[i + 1] - off[i] > m->cfg.max_pos)
      return snt_error_set(err, SNT_ERR_TOO_BIG,
                           "snt_forward: sequence %d has %lld tokens, over the model's %d", i,
                           (long long)off[i + 1] - off[i], m->cfg.max_pos);
    if (off[i + 1] > s->max_tokens)
      return snt_error_set(err, SNT_ERR_ARG,
                           "snt_forward: sequence %d ends at token %d, past the state's %d", i,
                           off[i + 1], s->max_tokens);
  }
  for (int i = 0; i < off[n_seq]; i++)
    if (ids[i] < 0 || ids[i] >= m->cfg.vocab_size)
      return snt_error_set(err, SNT_ERR_ARG, "snt_forward: token id %d at %d is outside [0, %d)",
                           ids[i], i, m->cfg.vocab_size);
  return SNT_OK;
}

/* x (N, D) = LN(wte[ids] + wpe[position in its sequence] (+ wtt[0])) */
static void embed(const snt_model *m, snt_state *s, int n_seq, const int32_t *ids,
                  const int *off) {
  size_t D = (size_t)m->cfg.dim;
  for (int i = 0; i < n_seq; i++)
    for (int r = off[i]; r < off[i + 1]; r++) {
      float *x = s->x + r * D;
      const float *pe = m->wpe + (size_t)(r - off[i]) * D;
      if (m->wte) {
        const float *we = m->wte + (size_t)ids[r] * D;
        for (size_t j = 0; j < D; j++) x[j] = we[j] + pe[j];
      } else { /* int8: the row times its scale */
        const int8_t *we = m->wte_q8.w + (size_t)ids[r] * m->wte_q8.Kp;
        float sc = m->wte_q8.scale[ids[r]];
        for (size_t j = 0; j < D; j++) x[j] = (float)we[j] * sc + pe[j];
      }
      if (m->wtt) snt_add(x, m->wtt, D); /* token type 0 */
    }
  snt_layernorm(s->x, s->x, m->ln_g, m->ln_b, off[n_seq], (int)D, m->cfg.ln_eps);
}

/* One post-LN block over all N packed tokens; attention within each sequence. */
/* y (T, N) = x (T, K) · wᵀ + b, in int8 when the layer has int8 weights q. */
/* One product split by output columns over the state's team (pool.h): each
** member computes y's columns [o0, o1), then applies GELU to them if asked. */
typedef struct lin_job {
  snt_state *s;
  float *y;
  const float *x, *w, *b;
  const snt_q8 *q;
  int T, K, N, gelu;
} lin_job;

static void lin_part(void *arg, int part, int parts) {
  const lin_job *j = arg;
  int o0, o1;
  snt_split(j->N, j->q->packed ? 32 : 16, part, parts, &o0, &o1);
  if (o0 >= o1) return;
  if (j->q->w) {
    snt_linear_q8_cols(j->y, j->q, j->b, j->T, &j->s->q8, o0, o1);
  } else {
    snt_linear_ld(j->y + o0, j->N, j->x, j->w + (size_t)o0 * j->K, j->b ? j->b + o0 : NULL, j->T,
                  j->K, o1 - o0);
  }
  if (j->gelu)
    for (int t = 0; t < j->T; t++) snt_gelu(j->y + (size_t)t * j->N + o0, (size_t)(o1 - o0));
}

/* int8: the activation rows quantized once for every part of the product,
** split by rows over the same team. */
static void rows_part(void *arg, int part, int parts) {
  const lin_job *j = arg;
  int t0, t1;
  snt_split(j->T, 1, part, parts, &t0, &t1);
  if (t0 >= t1) return;
  const snt_q8_scratch *q8 = &j->s->q8;
  snt_q8_rows(q8->xq + (size_t)t0 * j->q->Kp, q8->sx + t0, q8->zx + t0, j->x + (size_t)t0 * j->K,
              t1 - t0, j->K);
}

static void linear_act(snt_state *s, float *y, const float *x, const float *w, const snt_q8 *q,
                       const float *b, int T, int K, int N, int gelu) {
  lin_job j = {s, y, x, w, b, q, T, K, N, gelu};
  if (q->w) snt_team_run(s->team, rows_part, &j);
  snt_team_run(s->team, lin_part, &j);
}

/* y (T, N) = x (T, K) · wᵀ + b, in int8 when the layer has int8 weights q. */
static void linear(snt_state *s, float *y, const float *x, const float *w, const snt_q8 *q,
                   const float *b, int T, int K, int N) {
  linear_act(s, y, x, w, q, b, T, K, N, 0);
}

/* Attention split by heads over the team; member i uses its own scores. */
typedef struct att_job {
  snt_state *s;
  int n_seq;
  const int *off;
} att_job;

static void att_part(void *arg, int part, int parts) {
  const att_job *j = arg;
  snt_state *s = j->s;
  const snt_config *c = &s->m->cfg;
  int D = c->dim, H = c->n_heads, h0, h1;
  size_t Pm = (size_t)c->max_pos;
  float *scores = part ? s->scores_more + (size_t)(part - 1) * Pm * Pm : s->scores;
  snt_split(H, 1, part, parts, &h0, &h1);
  for (int i = 0; h0 < h1 && i < j->n_seq; i++) {
    size_t o = (size_t)j->off[i] * D;
    snt_attention_heads(s->ctx + o, s->q + o, s->k + o, s->v + o, j->off[i + 1] - j->off[i], D, H,
                        h0, h1, scores);
  }
}

static void block(const snt_model *m, snt_state *s, const layer_w *w, int n_seq, const int *off) {
  const snt_config *c = &m->cfg;
  int N = off[n_seq], D = c->dim, F = c->ffn_dim;
  size_t ND = (size_t)N * D;
  linear(s, s->q, s->x, w->wq, &w->q8[Q8_Q], w->bq, N, D, D);
  linear(s, s->k, s->x, w->wk, &w->q8[Q8_K], w->bk, N, D, D);
  linear(s, s->v, s->x, w->wv, &w->q8[Q8_V], w->bv, N, D, D);
  att_job aj = {s, n_seq, off};
  snt_team_run(s->team, att_part, &aj);
  linear(s, s->t, s->ctx, w->wo, &w->q8[Q8_O], w->bo, N, D, D);
  snt_add(s->t, s->x, ND);
  snt_layernorm(s->x, s->t, w->ln1_g, w->ln1_b, N, D, c->ln_eps);
  linear_act(s, s->h, s->x, w->w1, &w->q8[Q8_1], w->b1, N, D, F, c->act == SNT_ACT_GELU);
  if (c->act != SNT_ACT_GELU) snt_relu(s->h, (size_t)N * F);
  linear(s, s->t, s->h, w->w2, &w->q8[Q8_2], w->b2, N, F, D);
  snt_add(s->t, s->x, ND);
  snt_layernorm(s->x, s->t, w->ln2_g, w->ln2_b, N, D, c->ln_eps);
}

/* logits (n_seq, C) from each sequence's first token ([CLS]). */
static void head(const snt_model *m, snt_state *s, int n_seq, const int *off, float *logits) {
  const snt_config *c = &m->cfg;
  size_t D = (size_t)c->dim;
  float *cls = s->q;     /* (n_seq, D) */
  float *pooled = s->k;  /* (n_seq, D) */
  for (int i = 0; i < n_seq; i++) memcpy(cls + i * D, s->x + (size_t)off[i] * D, D * sizeof *cls);
  snt_linear(pooled, cls, m->head_w, m->head_b, n_seq, (int)D, (int)D);
  if (c->arch == SNT_ARCH_BERT) snt_tanh(pooled, n_seq * D);
  else snt_relu(pooled, n_seq * D);
  snt_linear(logits, pooled, m->cls_w, m->cls_b, n_seq, (int)D, c->n_labels);
}

int snt_forward_batch(const snt_model *m, snt_state *s, int n_seq, const int32_t *ids,
                      const int *off, float *logits, snt_error *err) {
  int rc = check_batch(m, s, n_seq, ids, off, logits, err);
  if (rc) return rc;
  /* Helpers only where a layer's products are worth a dispatch (≈ 2^25
  ** FLOPs, a third of a millisecond on one core): not for short texts on
  ** small models. As many as the budget allows now. */
  const snt_config *c = &m->cfg;
  double flops = 2.0 * off[n_seq] * c->dim * (4.0 * c->dim + 2.0 * c->ffn_dim);
  snt_team team;
  snt_team_begin(&team, flops >= 33554432.0 ? s->threads : 1);
  s->team = &team;
  embed(m, s, n_seq, ids, off);
  for (int l = 0; rc == SNT_OK && l <= m->cfg.n_layers; l++) {
    if (s->cancel && s->cancel(s->cancel_arg))
      rc = snt_error_set(err, SNT_ERR_INTERRUPTED, "interrupted");
    else if (l < m->cfg.n_layers) block(m, s, &m->layers[l], n_seq, off);
  }
  if (rc == SNT_OK) head(m, s, n_seq, off, logits);
  s->team = NULL;
  snt_team_end(&team); /* also when interrupted: the helpers go back to the budget */
  return rc;
}

int snt_forward(const snt_model *m, snt_state *s, const int32_t *ids, int n, float *logits,
                snt_error *err) {
  int off[2] = {0, n};
  if (n < 1) return snt_error_set(err, SNT_ERR_ARG, "snt_forward: %d tokens", n);
  return snt_forward_batch(m, s, 1, ids, off, logits, err);
}
