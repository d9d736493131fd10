/*
** vocab.c — the WordPiece vocabulary: loading it from vocab.txt or from
** tokenizer.json's model.vocab, and piece ↔ id lookups.
**
**   vocab.txt        one piece per line, line number = id ("\n" or "\r\n";
**                    a leading UTF-8 BOM is skipped; a last line without "\n"
**                    counts when it is not empty)
**   tokenizer.json   {"model": {"type": "WordPiece", "vocab": {piece: id}}},
**                    ids must be exactly 0..n-1, each once
**
** Both refuse a vocabulary without [UNK], [CLS] or [SEP]: snt_tokenize needs
** them. A piece on two lines of vocab.txt keeps both ids for snt_vocab_piece,
** and snt_vocab_id gives the later one (as HuggingFace's loaders do); in
** tokenizer.json a piece given twice is an error (HF would lose one id).
** The layout (arena + hash table) is described in vocab.h.
*/
#include "vocab.h"

#include <string.h>

#include "json.h"
#include "util.h"

#define VOCAB_MAX_PIECES (1 << 24)
#define VOCAB_MAX_FILE ((size_t)256 << 20)

/* An empty vocabulary with room for n pieces of nbytes bytes in all (NULs
** excluded). */
static snt_vocab *vocab_alloc(int n, size_t nbytes, snt_error *err) {
  snt_vocab *v = snt_calloc(1, sizeof *v);
  if (!v) goto nomem;
  v->n = n;
  v->bytes = snt_malloc(nbytes + (size_t)n);
  v->off = snt_calloc((size_t)n, sizeof *v->off);
  v->len = snt_calloc((size_t)n, sizeof *v->len);
  uint32_t cap = 16;
  while (cap < 2u * (uint32_t)n) cap <<= 1;
  v->slot = snt_malloc((size_t)cap * sizeof *v->slot);
  if (!v->bytes || !v->off || !v->len || !v->slot) goto nomem;
  v->mask = cap - 1;
  for (uint32_t i = 0; i < cap; i++) v->slot[i].id = -1;
  return v;
nomem:
  snt_vocab_free(v);
  snt_error_set(err, SNT_ERR_NOMEM, "out of memory loading a vocabulary of %d pieces", n);
  return NULL;
}

/* Index every piece, note the longest ones and the special pieces; fails when
** [UNK], [CLS] or [SEP] is missing, or with unique set on a piece listed
** twice. what names the source in messages. */
static int vocab_finish(snt_vocab *v, const char *what, int unique, snt_error *err) {
  for (int id = 0; id < v->n; id++) {
    const char *p = v->bytes + v->off[id];
    size_t n = v->len[id];
    uint32_t h = snt_vocab_hash_more(SNT_VOCAB_HASH0, p, n);
    uint32_t i = h & v->mask;
    for (; v->slot[i].id >= 0; i = (i + 1) & v->mask) {
      const snt_vocab_slot *e = &v->slot[i];
      if (e->hash == h && v->len[e->id] == n && memcmp(v->bytes + v->off[e->id], p, n) == 0) {
        if (unique)
          return snt_error_set(err, SNT_ERR_FORMAT, "%s: the piece \"%.64s\" has ids %d and %d",
                               what, p, e->id, id);
        break; /* a duplicate: the later id wins */
      }
    }
    v->slot[i].hash = h;
    v->slot[i].id = id;
    if (n >= 2 && p[0] == '#' && p[1] == '#') {
      if ((int)n - 2 > v->max_cont_len) v->max_cont_len = (int)n - 2;
    } else if ((int)n > v->max_word_len) {
      v->max_word_len = (int)n;
    }
  }
  v->unk = snt_vocab_id(v, "[UNK]", 5);
  v->cls = snt_vocab_id(v, "[CLS]", 5);
  v->sep = snt_vocab_id(v, "[SEP]", 5);
  v->pad = snt_vocab_id(v, "[PAD]", 5);
  v->mask_id = snt_vocab_id(v, "[MASK]", 6);
  const char *missing = v->unk < 0 ? "[UNK]" : v->cls < 0 ? "[CLS]" : v->sep < 0 ? "[SEP]" : NULL;
  if (missing)
    return snt_error_set(err, SNT_ERR_FORMAT, "%s: the vocabulary has no %s piece", what, missing);
  return SNT_OK;
}

snt_vocab *snt_vocab_parse_txt(const char *buf, size_t n, snt_error *err) {
  if (!buf && n) {
    snt_error_set(err, SNT_ERR_ARG, "vocab.txt: NULL buffer");
    return NULL;
  }
  const char *p = buf, *end = buf + n;
  if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  /* Count the lines first: one allocation of each kind. */
  size_t lines = 0;
  for (const char *q = p; q < end;) {
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    lines++;
    q = nl ? nl + 1 : end;
  }
  if (lines == 0) {
    snt_error_set(err, SNT_ERR_FORMAT, "vocab.txt: the vocabulary is empty");
    return NULL;
  }
  if (lines > VOCAB_MAX_PIECES) {
    snt_error_set(err, SNT_ERR_TOO_BIG, "vocab.txt: %zu pieces, over the limit of %d", lines,
                  VOCAB_MAX_PIECES);
    return NULL;
  }
  snt_vocab *v = vocab_alloc((int)lines, (size_t)(end - p), err);
  if (!v) return NULL;
  size_t at = 0;
  int id = 0;
  for (const char *q = p; q < end; id++) {
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    const char *e = nl ? nl : end;
    size_t len = (size_t)(e - q);
    if (len && q[len - 1] == '\r') len--;
    memcpy(v->bytes + at, q, len);
    v->bytes[at + len] = 0;
    v->off[id] = (uint32_t)at;
    v->len[id] = (uint32_t)len;
    at += len + 1;
    q = nl ? nl + 1 : end;
  }
  if (vocab_finish(v, "vocab.txt", 0, err) != SNT_OK) {
    snt_vocab_free(v);
    return NULL;
  }
  return v;
}

snt_vocab *snt_vocab_parse_tokenizer_json(const char *buf, size_t n, snt_error *err) {
  snt_vocab *v = NULL;
  snt_json_doc *doc = snt_json_parse(buf, n, err);
  if (!doc) {
    if (err) {
      char inner[sizeof err->msg];
      memcpy(inner, err->msg, sizeof inner);
      snt_error_set(err, err->code, "tokenizer.json: %s", inner);
    }
    return NULL;
  }
  const snt_json *model = snt_json_get(snt_json_root(doc), "model");
  const snt_json *type = snt_json_get(model, "type");
  const snt_json *pieces = snt_json_get(model, "vocab");
  const snt_json *prefix = snt_json_get(model, "continuing_subword_prefix");
  const snt_json *norm = snt_json_get(snt_json_root(doc), "normalizer");
  const snt_json *lower = snt_json_get(norm, "lowercase");
  if (!model || model->type != SNT_JSON_OBJECT) {
    snt_error_set(err, SNT_ERR_FORMAT, "tokenizer.json: no \"model\" object");
    goto done;
  }
  if (type && (type->type != SNT_JSON_STRING || strcmp(type->str, "WordPiece") != 0)) {
    snt_error_set(err, SNT_ERR_UNSUPPORTED,
                  "tokenizer.json: model.type is \"%s\", only WordPiece is supported",
                  type->type == SNT_JSON_STRING ? type->str : "?");
    goto done;
  }
  if (prefix && prefix->type == SNT_JSON_STRING && strcmp(prefix->str, "##") != 0) {
    snt_error_set(err, SNT_ERR_UNSUPPORTED,
                  "tokenizer.json: continuing_subword_prefix \"%s\", only \"##\" is supported",
                  prefix->str);
    goto done;
  }
  if (lower && lower->type == SNT_JSON_FALSE) {
    snt_error_set(err, SNT_ERR_UNSUPPORTED,
                  "tokenizer.json: normalizer.lowercase is false; only uncased tokenizers are supported");
    goto done;
  }
  if (!pieces || pieces->type != SNT_JSON_OBJECT) {
    snt_error_set(err, SNT_ERR_FORMAT, "tokenizer.json: no \"model.vocab\" object");
    goto done;
  }
  if (pieces->n == 0) {
    snt_error_set(err, SNT_ERR_FORMAT, "tokenizer.json: the vocabulary is empty");
    goto done;
  }
  if (pieces->n > VOCAB_MAX_PIECES) {
    snt_error_set(err, SNT_ERR_TOO_BIG, "tokenizer.json: %d pieces, over the limit of %d",
                  pieces->n, VOCAB_MAX_PIECES);
    goto done;
  }
  size_t nbytes = 0;
  for (const snt_json *m = pieces->child; m; m = m->next) nbytes += m->key_len;
  v = vocab_alloc(pieces->n, nbytes, err);
  if (!v) goto done;
  /* off[id] == 0 with len[id] == 0 marks an id not yet seen: store offsets + 1
  ** while filling, then shift back. */
  size_t at = 0;
  for (const snt_json *m = pieces->child; m; m = m->next) {
    if (m->type != SNT_JSON_NUMBER || !m->is_int || m->i < 0 || m->i >= pieces->n) {
      snt_error_set(err, SNT_ERR_FORMAT,
                    "tokenizer.json: model.vocab[\"%.64s\"] is not an id in [0, %d)", m->key,
                    pieces->n);
      goto fail;
    }
    int id = (int)m->i;
    if (v->off[id]) {
      snt_error_set(err, SNT_ERR_FORMAT, "tokenizer.json: model.vocab gives id %d twice", id);
      goto fail;
    }
    memcpy(v->bytes + at, m->key, m->key_len);
    v->bytes[at + m->key_len] = 0;
    v->off[id] = (uint32_t)at + 1;
    v->len[id] = (uint32_t)m->key_len;
    at += m->key_len + 1;
  }
  /* n members, n distinct ids in [0, n): every id is present. */
  for (int id = 0; id < v->n; id++) v->off[id]--;
  if (vocab_finish(v, "tokenizer.json", 1, err) != SNT_OK) goto fail;
  goto done;
fail:
  snt_vocab_free(v);
  v = NULL;
done:
  snt_json_free(doc);
  return v;
}

static snt_vocab *vocab_load(const char *path, int json, snt_error *err) {
  char *buf;
  size_t n;
  if (!path) {
    snt_error_set(err, SNT_ERR_ARG, "vocabulary path is NULL");
    return NULL;
  }
  if (snt_read_file(path, VOCAB_MAX_FILE, &buf, &n, err) != SNT_OK) return NULL;
  snt_vocab *v = json ? snt_vocab_parse_tokenizer_json(buf, n, err)
                      : snt_vocab_parse_txt(buf, n, err);
  snt_free(buf);
  if (!v && err) {
    /* Name the file: "vocab.txt: …" → "'<path>': …". */
    char inner[sizeof err->msg];
    memcpy(inner, err->msg, sizeof inner);
    const char *colon = strstr(inner, ": ");
    snt_error_set(err, err->code, "'%s': %s", path, colon ? colon + 2 : inner);
  }
  return v;
}

snt_vocab *snt_vocab_load(const char *path, snt_error *err) { return vocab_load(path, 0, err); }

snt_vocab *snt_vocab_load_tokenizer_json(const char *path, snt_error *err) {
  return vocab_load(path, 1, err);
}

void snt_vocab_free(snt_vocab *v) {
  if (!v) return;
  snt_free(v->bytes);
  snt_free(v->off);
  snt_free(v->len);
  snt_free(v->slot);
  snt_free(v);
}

int snt_vocab_size(const snt_vocab *v) { return v ? v->n : 0; }

const char *snt_vocab_piece(const snt_vocab *v, int id) {
  if (!v || id < 0 || id >= v->n) return NULL;
  return v->bytes + v->off[id];
}

int snt_vocab_id(const snt_vocab *v, const char *piece, size_t n) {
  if (!v || (!piece && n)) return -1;
  return snt_vocab_find(v, 0, piece ? piece : "", n);
}
