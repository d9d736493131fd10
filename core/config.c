/*
** config.c — a HuggingFace config.json into snt_config.
**
**   {"model_type": "distilbert", "dim": 768, "n_layers": 6, "n_heads": 12,
**    "hidden_dim": 3072, "activation": "gelu", "vocab_size": 30522,
**    "max_position_embeddings": 512, "id2label": {"0": "NEGATIVE", ...}}
**
** DistilBERT and BERT name the same quantities differently; both map onto one
** snt_config. A key that is absent takes HuggingFace's default for that class
** (as from_pretrained does); a key that is present must have the right type
** and lie in a sane range, so that a hostile config cannot ask for absurd
** sizes (the tensors are then checked against these sizes in model.c).
*/
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* Upper bounds: generous for any BERT-family classifier, small enough that
** nothing derived from them overflows an int or a size_t product. */
#define MAX_VOCAB (1 << 24)
#define MAX_DIM 16384
#define MAX_LAYERS 256
#define MAX_FFN 65536
#define MAX_POS 8192
#define MAX_TYPES 1024
#define MAX_LABELS 65536

static int get_int(const snt_json *root, const char *key, int def, int lo, int hi, int *out,
                   snt_error *err) {
  const snt_json *v = snt_json_get(root, key);
  if (!v || v->type == SNT_JSON_NULL) {
    *out = def;
    return SNT_OK;
  }
  if (v->type != SNT_JSON_NUMBER || !v->is_int)
    return snt_error_set(err, SNT_ERR_FORMAT, "config.json: '%s' is not an integer", key);
  if (v->i < lo || v->i > hi)
    return snt_error_set(err, SNT_ERR_UNSUPPORTED,
                         "config.json: '%s' is %lld, outside the supported range [%d, %d]", key,
                         (long long)v->i, lo, hi);
  *out = (int)v->i;
  return SNT_OK;
}

/* An activation name → SNT_ACT_*. Only exact (erf) GELU and ReLU: the
** tanh approximations ("gelu_new", "gelu_pytorch_tanh") would give different
** logits, so they are refused rather than silently substituted. */
static int get_act(const snt_json *root, const char *key, int *out, snt_error *err) {
  const snt_json *v = snt_json_get(root, key);
  if (!v) {
    *out = SNT_ACT_GELU;
    return SNT_OK;
  }
  if (v->type != SNT_JSON_STRING)
    return snt_error_set(err, SNT_ERR_FORMAT, "config.json: '%s' is not a string", key);
  if (strcmp(v->str, "gelu") == 0) *out = SNT_ACT_GELU;
  else if (strcmp(v->str, "relu") == 0) *out = SNT_ACT_RELU;
  else
    return snt_error_set(err, SNT_ERR_UNSUPPORTED,
                         "config.json: %s '%.64s' is not supported (gelu or relu)", key, v->str);
  return SNT_OK;
}

/* "17" → 17; -1 unless a plain decimal without leading zeros below limit. */
static int parse_label_id(const char *s, size_t n, int limit) {
  if (n == 0 || n > 9 || (n > 1 && s[0] == '0')) return -1;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v < limit ? v : -1;
}

static int parse_labels(const snt_json *root, snt_config *cfg, snt_error *err) {
  const snt_json *map = snt_json_get(root, "id2label");
  if (map && map->type == SNT_JSON_NULL) map = NULL;
  int n = 0, rc;
  const char *nkey = snt_json_get(root, "num_labels") ? "num_labels" : "_num_labels";
  if ((rc = get_int(root, nkey, 2, 1, MAX_LABELS, &n, err))) return rc;
  if (map) {
    if (map->type != SNT_JSON_OBJECT || map->n == 0)
      return snt_error_set(err, SNT_ERR_FORMAT, "config.json: 'id2label' is not a non-empty object");
    if (map->n > MAX_LABELS)
      return snt_error_set(err, SNT_ERR_UNSUPPORTED, "config.json: %d labels (at most %d)",
                           map->n, MAX_LABELS);
    if (snt_json_get(root, nkey) && n != map->n)
      return snt_error_set(err, SNT_ERR_FORMAT, "config.json: %s is %d but id2label has %d entries",
                           nkey, n, map->n);
    n = map->n;
  }
  cfg->labels = snt_calloc((size_t)n, sizeof *cfg->labels);
  if (!cfg->labels) return snt_error_set(err, SNT_ERR_NOMEM, "out of memory for %d labels", n);
  cfg->n_labels = n;
  if (!map) {
    for (int i = 0; i < n; i++) {
      char name[32];
      int len = snprintf(name, sizeof name, "LABEL_%d", i);
      if (!(cfg->labels[i] = snt_strndup(name, (size_t)len)))
        return snt_error_set(err, SNT_ERR_NOMEM, "out of memory for labels");
    }
    return SNT_OK;
  }
  for (const snt_json *e = map->child; e; e = e->next) {
    int id = parse_label_id(e->key, e->key_len, n);
    if (id < 0)
      return snt_error_set(err, SNT_ERR_FORMAT,
                           "config.json: id2label key '%.32s' is not an id in 0..%d", e->key, n - 1);
    if (cfg->labels[id])
      return snt_error_set(err, SNT_ERR_FORMAT, "config.json: id2label has id %d twice", id);
    if (e->type != SNT_JSON_STRING)
      return snt_error_set(err, SNT_ERR_FORMAT, "config.json: id2label[%d] is not a string", id);
    /* sentiment() returns a label and sentiment_scores() keys a JSON object
    ** by them: an empty, cut (NUL) or repeated label would be lost there. */
    if (e->len == 0)
      return snt_error_set(err, SNT_ERR_FORMAT, "config.json: id2label[%d] is an empty label", id);
    if (memchr(e->str, 0, e->len))
      return snt_error_set(err, SNT_ERR_FORMAT,
                           "config.json: id2label[%d] '%.64s' contains a NUL character", id, e->str);
    if (!(cfg->labels[id] = snt_strndup(e->str, e->len)))
      return snt_error_set(err, SNT_ERR_NOMEM, "out of memory for labels");
  }
  /* n distinct ids in 0..n-1: every slot is filled. */
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++)
      if (strcmp(cfg->labels[i], cfg->labels[j]) == 0)
        return snt_error_set(err, SNT_ERR_FORMAT,
                             "config.json: label '%.64s' is both id2label[%d] and id2label[%d]: "
                             "labels must be distinct", cfg->labels[i], i, j);
  return SNT_OK;
}

static int parse_distilbert(const snt_json *root, snt_config *cfg, snt_error *err) {
  int rc;
  if ((rc = get_int(root, "dim", 768, 1, MAX_DIM, &cfg->dim, err)) ||
      (rc = get_int(root, "n_layers", 6, 1, MAX_LAYERS, &cfg->n_layers, err)) ||
      (rc = get_int(root, "n_heads", 12, 1, MAX_DIM, &cfg->n_heads, err)) ||
      (rc = get_int(root, "hidden_dim", 3072, 1, MAX_FFN, &cfg->ffn_dim, err)) ||
      (rc = get_act(root, "activation", &cfg->act, err)))
    return rc;
  cfg->type_vocab_size = 0;
  cfg->ln_eps = 1e-12f; /* fixed in HF's DistilBERT */
  return SNT_OK;
}

static int parse_bert(const snt_json *root, snt_config *cfg, snt_error *err) {
  int rc;
  if ((rc = get_int(root, "hidden_size", 768, 1, MAX_DIM, &cfg->dim, err)) ||
      (rc = get_int(root, "num_hidden_layers", 12, 1, MAX_LAYERS, &cfg->n_layers, err)) ||
      (rc = get_int(root, "num_attention_heads", 12, 1, MAX_DIM, &cfg->n_heads, err)) ||
      (rc = get_int(root, "intermediate_size", 3072, 1, MAX_FFN, &cfg->ffn_dim, err)) ||
      (rc = get_int(root, "type_vocab_size", 2, 1, MAX_TYPES, &cfg->type_vocab_size, err)) ||
      (rc = get_act(root, "hidden_act", &cfg->act, err)))
    return rc;
  const snt_json *eps = snt_json_get(root, "layer_norm_eps");
  cfg->ln_eps = 1e-12f;
  if (eps) {
    if (eps->type != SNT_JSON_NUMBER || !(eps->num > 0 && eps->num < 1))
      return snt_error_set(err, SNT_ERR_FORMAT, "config.json: 'layer_norm_eps' is not a number in (0, 1)");
    cfg->ln_eps = (float)eps->num;
  }
  const snt_json *pe = snt_json_get(root, "position_embedding_type");
  if (pe && pe->type != SNT_JSON_NULL &&
      (pe->type != SNT_JSON_STRING || strcmp(pe->str, "absolute") != 0))
    return snt_error_set(err, SNT_ERR_UNSUPPORTED,
                         "config.json: position_embedding_type '%.64s' is not supported (absolute)",
                         pe->type == SNT_JSON_STRING ? pe->str : "?");
  return SNT_OK;
}

int snt_config_parse(const char *json, size_t n, snt_config *cfg, snt_error *err) {
  memset(cfg, 0, sizeof *cfg);
  snt_error jerr = {0};
  snt_json_doc *doc = snt_json_parse(json, n, &jerr);
  int rc = SNT_OK;
  if (!doc) {
    rc = snt_error_set(err, jerr.code, "config.json: %s", jerr.msg);
    goto done;
  }
  const snt_json *root = snt_json_root(doc);
  if (root->type != SNT_JSON_OBJECT) {
    rc = snt_error_set(err, SNT_ERR_FORMAT, "config.json: not a JSON object");
    goto done;
  }
  const snt_json *mt = snt_json_get(root, "model_type");
  if (!mt || mt->type != SNT_JSON_STRING) {
    rc = snt_error_set(err, SNT_ERR_FORMAT, "config.json: no model_type string (distilbert or bert)");
    goto done;
  }
  if (strcmp(mt->str, "distilbert") == 0) {
    cfg->arch = SNT_ARCH_DISTILBERT;
    rc = parse_distilbert(root, cfg, err);
  } else if (strcmp(mt->str, "bert") == 0) {
    cfg->arch = SNT_ARCH_BERT;
    rc = parse_bert(root, cfg, err);
  } else {
    rc = snt_error_set(err, SNT_ERR_UNSUPPORTED,
                       "config.json: model_type '%.64s' is not supported (distilbert or bert)", mt->str);
  }
  if (rc) goto done;
  /* max_position_embeddings ≥ 2: every input is at least [CLS] [SEP]. */
  if ((rc = get_int(root, "vocab_size", 30522, 1, MAX_VOCAB, &cfg->vocab_size, err)) ||
      (rc = get_int(root, "max_position_embeddings", 512, 2, MAX_POS, &cfg->max_pos, err)) ||
      (rc = get_int(root, "pad_token_id", 0, 0, MAX_VOCAB, &cfg->pad_id, err)))
    goto done;
  if (cfg->dim % cfg->n_heads != 0) {
    rc = snt_error_set(err, SNT_ERR_FORMAT, "config.json: dim %d is not a multiple of %d heads",
                       cfg->dim, cfg->n_heads);
    goto done;
  }
  if (cfg->pad_id >= cfg->vocab_size) {
    rc = snt_error_set(err, SNT_ERR_FORMAT, "config.json: pad_token_id %d is past vocab_size %d",
                       cfg->pad_id, cfg->vocab_size);
    goto done;
  }
  rc = parse_labels(root, cfg, err);
done:
  snt_json_free(doc);
  if (rc) snt_config_free(cfg);
  return rc;
}

void snt_config_free(snt_config *cfg) {
  if (!cfg) return;
  if (cfg->labels)
    for (int i = 0; i < cfg->n_labels; i++) snt_free(cfg->labels[i]);
  snt_free(cfg->labels);
  memset(cfg, 0, sizeof *cfg);
}
