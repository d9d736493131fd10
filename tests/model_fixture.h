/*
** model_fixture.h — build model folders for the model tests: a safetensors
** writer (any header, any padding), float → F16/BF16 rounding, a tiny random
** DistilBERT or BERT, temp folders that clean up after themselves.
**
** Test code: it may exit on its own I/O failures (never on the library's).
*/
#ifndef SNT_MODEL_FIXTURE_H
#define SNT_MODEL_FIXTURE_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fx_tensor {
  char name[128];
  const char *dtype;           /* "F32", "F16", "BF16", or anything for hostile files */
  int ndim;
  int64_t shape[4];
  unsigned char *data;         /* owned */
  size_t nbytes;
  const char *shape_json;      /* hostile files: written instead of the shape, */
  const char *offsets_json;    /* the data_offsets (data still laid out in order) */
} fx_tensor;

typedef struct fx_model {
  fx_tensor *t;
  int n, cap;
} fx_model;

static inline void fx_die(const char *what) {
  perror(what);
  exit(2);
}

static inline fx_tensor *fx_add(fx_model *m, const char *name, const char *dtype, int ndim,
                         const int64_t *shape, const void *data, size_t nbytes) {
  if (m->n == m->cap) {
    m->cap = m->cap ? 2 * m->cap : 64;
    m->t = realloc(m->t, (size_t)m->cap * sizeof *m->t);
    if (!m->t) fx_die("realloc");
  }
  fx_tensor *t = &m->t[m->n++];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", name);
  t->dtype = dtype;
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
  t->data = malloc(nbytes ? nbytes : 1);
  if (!t->data) fx_die("malloc");
  if (data && nbytes) memcpy(t->data, data, nbytes);
  t->nbytes = nbytes;
  return t;
}

static inline fx_tensor *fx_find(fx_model *m, const char *name) {
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->t[i].name, name) == 0) return &m->t[i];
  return NULL;
}

static inline void fx_remove(fx_model *m, const char *name) {
  fx_tensor *t = fx_find(m, name);
  if (!t) return;
  free(t->data);
  *t = m->t[--m->n];
}

static inline void fx_free(fx_model *m) {
  for (int i = 0; i < m->n; i++) free(m->t[i].data);
  free(m->t);
  memset(m, 0, sizeof *m);
}

/* ---- number formats --------------------------------------------------- */

static inline uint16_t fx_f32_to_f16(float f) { /* round to nearest even */
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, man = x & 0x7fffff;
  int32_t e8 = (int32_t)((x >> 23) & 0xff), exp = e8 - 127 + 15;
  if (e8 == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
  if (exp >= 31) return (uint16_t)(sign | 0x7c00);
  if (exp <= 0) {
    if (exp < -10) return (uint16_t)sign;
    man |= 0x800000;
    int shift = 14 - exp;
    uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (h & 1))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = sign | (uint32_t)exp << 10 | man >> 13, rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;
  return (uint16_t)h;
}

static inline uint16_t fx_f32_to_bf16(float f) { /* round to nearest even (finite inputs) */
  uint32_t x;
  memcpy(&x, &f, 4);
  x += 0x7fff + ((x >> 16) & 1);
  return (uint16_t)(x >> 16);
}

/* ---- reading and writing ---------------------------------------------- */

/* The bytes of path, NUL-terminated (*n excludes the NUL); dies on failure. */
static inline char *fx_read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f || fseek(f, 0, SEEK_END) != 0) fx_die(path);
  long len = ftell(f);
  if (len < 0 || fseek(f, 0, SEEK_SET) != 0) fx_die(path);
  char *b = malloc((size_t)len + 1);
  if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) fx_die(path);
  fclose(f);
  b[len] = 0;
  *n = (size_t)len;
  return b;
}

static inline void fx_write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) fx_die(path);
}

static inline void fx_write_text(const char *path, const char *text) {
  fx_write_file(path, text, strlen(text));
}

static inline void fx_copy_file(const char *src, const char *dst) {
  size_t n;
  char *b = fx_read_file(src, &n);
  fx_write_file(dst, b, n);
  free(b);
}

/* The JSON header of m, tensors laid out in order, padded with spaces so that
** 8 + header length ≡ align_mod (mod 8) (0: the HF 8-byte alignment). */
static inline char *fx_header(const fx_model *m, int align_mod, size_t *len) {
  size_t cap = 256 + (size_t)m->n * 256, k = 0;
  char *h = malloc(cap + 16);
  if (!h) fx_die("malloc");
  k += (size_t)snprintf(h + k, cap - k, "{\"__metadata__\":{\"format\":\"pt\"}");
  size_t off = 0;
  for (int i = 0; i < m->n; i++) {
    const fx_tensor *t = &m->t[i];
    k += (size_t)snprintf(h + k, cap - k, ",\"%s\":{\"dtype\":\"%s\",\"shape\":", t->name, t->dtype);
    if (t->shape_json) {
      k += (size_t)snprintf(h + k, cap - k, "%s", t->shape_json);
    } else {
      h[k++] = '[';
      for (int d = 0; d < t->ndim; d++)
        k += (size_t)snprintf(h + k, cap - k, "%s%lld", d ? "," : "", (long long)t->shape[d]);
      h[k++] = ']';
    }
    if (t->offsets_json)
      k += (size_t)snprintf(h + k, cap - k, ",\"data_offsets\":%s}", t->offsets_json);
    else
      k += (size_t)snprintf(h + k, cap - k, ",\"data_offsets\":[%zu,%zu]}", off, off + t->nbytes);
    off += t->nbytes;
  }
  h[k++] = '}';
  while ((8 + k) % 8 != (size_t)align_mod) h[k++] = ' ';
  *len = k;
  return h;
}

/* header bytes (with its length as given, or hlen_override when not ~0) and
** then data bytes, to path. */
static inline void fx_write_raw(const char *path, const char *header, size_t hlen, uint64_t hlen_field,
                         const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  unsigned char len8[8];
  for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hlen_field >> (8 * i));
  if (!f || fwrite(len8, 1, 8, f) != 8 || (hlen && fwrite(header, 1, hlen, f) != hlen) ||
      (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
    fx_die(path);
}

/* m as a whole safetensors file in memory (malloc'd; *n its size). */
static inline unsigned char *fx_safetensors(const fx_model *m, int align_mod, size_t *n) {
  size_t hlen, data = 0;
  char *h = fx_header(m, align_mod, &hlen);
  for (int i = 0; i < m->n; i++) data += m->t[i].nbytes;
  unsigned char *buf = malloc(8 + hlen + data);
  if (!buf) fx_die("malloc");
  for (int i = 0; i < 8; i++) buf[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
  memcpy(buf + 8, h, hlen);
  size_t k = 8 + hlen;
  for (int i = 0; i < m->n; i++) {
    memcpy(buf + k, m->t[i].data, m->t[i].nbytes);
    k += m->t[i].nbytes;
  }
  free(h);
  *n = k;
  return buf;
}

static inline void fx_write_model(const char *path, const fx_model *m, int align_mod) {
  size_t n;
  unsigned char *buf = fx_safetensors(m, align_mod, &n);
  fx_write_file(path, buf, n);
  free(buf);
}

/* ---- a tiny random model ------------------------------------------------ */

static uint64_t fx_rng = 0x9E3779B97F4A7C15ull;

static inline float fx_randf(void) { /* uniform in [-1, 1) */
  fx_rng ^= fx_rng << 13;
  fx_rng ^= fx_rng >> 7;
  fx_rng ^= fx_rng << 17;
  return (float)((fx_rng >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

static inline void fx_rand_tensor(fx_model *m, const char *name, int64_t d0, int64_t d1, float scale,
                           float bias) {
  int64_t shape[2] = {d0, d1};
  size_t n = (size_t)d0 * (size_t)(d1 ? d1 : 1);
  fx_tensor *t = fx_add(m, name, "F32", d1 ? 2 : 1, shape, NULL, n * 4);
  float *p = (float *)(void *)t->data;
  for (size_t i = 0; i < n; i++) p[i] = bias + scale * fx_randf();
}

/* DistilBERT (bert = 0) or BERT with V, P, D, F, L and C labels, HF names. */
static inline void fx_tiny_model(fx_model *m, int bert, int V, int P, int D, int F, int L, int C) {
  char name[128];
  const char *pre = bert ? "bert" : "distilbert";
  snprintf(name, sizeof name, "%s.embeddings.word_embeddings.weight", pre);
  fx_rand_tensor(m, name, V, D, 0.5f, 0);
  snprintf(name, sizeof name, "%s.embeddings.position_embeddings.weight", pre);
  fx_rand_tensor(m, name, P, D, 0.5f, 0);
  if (bert) fx_rand_tensor(m, "bert.embeddings.token_type_embeddings.weight", 2, D, 0.5f, 0);
  snprintf(name, sizeof name, "%s.embeddings.LayerNorm.weight", pre);
  fx_rand_tensor(m, name, D, 0, 0.1f, 1);
  snprintf(name, sizeof name, "%s.embeddings.LayerNorm.bias", pre);
  fx_rand_tensor(m, name, D, 0, 0.1f, 0);
  static const char *dn[][2] = {{"attention.q_lin", "attention.self.query"},
                                {"attention.k_lin", "attention.self.key"},
                                {"attention.v_lin", "attention.self.value"},
                                {"attention.out_lin", "attention.output.dense"}};
  for (int l = 0; l < L; l++) {
    const char *lp = bert ? "bert.encoder.layer" : "distilbert.transformer.layer";
    for (int k = 0; k < 4; k++) {
      snprintf(name, sizeof name, "%s.%d.%s.weight", lp, l, dn[k][bert]);
      fx_rand_tensor(m, name, D, D, 0.4f, 0);
      snprintf(name, sizeof name, "%s.%d.%s.bias", lp, l, dn[k][bert]);
      fx_rand_tensor(m, name, D, 0, 0.1f, 0);
    }
    const char *ln1 = bert ? "attention.output.LayerNorm" : "sa_layer_norm";
    const char *f1 = bert ? "intermediate.dense" : "ffn.lin1";
    const char *f2 = bert ? "output.dense" : "ffn.lin2";
    const char *ln2 = bert ? "output.LayerNorm" : "output_layer_norm";
    snprintf(name, sizeof name, "%s.%d.%s.weight", lp, l, ln1);
    fx_rand_tensor(m, name, D, 0, 0.1f, 1);
    snprintf(name, sizeof name, "%s.%d.%s.bias", lp, l, ln1);
    fx_rand_tensor(m, name, D, 0, 0.1f, 0);
    snprintf(name, sizeof name, "%s.%d.%s.weight", lp, l, f1);
    fx_rand_tensor(m, name, F, D, 0.4f, 0);
    snprintf(name, sizeof name, "%s.%d.%s.bias", lp, l, f1);
    fx_rand_tensor(m, name, F, 0, 0.1f, 0);
    snprintf(name, sizeof name, "%s.%d.%s.weight", lp, l, f2);
    fx_rand_tensor(m, name, D, F, 0.3f, 0);
    snprintf(name, sizeof name, "%s.%d.%s.bias", lp, l, f2);
    fx_rand_tensor(m, name, D, 0, 0.1f, 0);
    snprintf(name, sizeof name, "%s.%d.%s.weight", lp, l, ln2);
    fx_rand_tensor(m, name, D, 0, 0.1f, 1);
    snprintf(name, sizeof name, "%s.%d.%s.bias", lp, l, ln2);
    fx_rand_tensor(m, name, D, 0, 0.1f, 0);
  }
  fx_rand_tensor(m, bert ? "bert.pooler.dense.weight" : "pre_classifier.weight", D, D, 0.4f, 0);
  fx_rand_tensor(m, bert ? "bert.pooler.dense.bias" : "pre_classifier.bias", D, 0, 0.1f, 0);
  fx_rand_tensor(m, "classifier.weight", C, D, 0.4f, 0);
  fx_rand_tensor(m, "classifier.bias", C, 0, 0.1f, 0);
}

/* ---- temp folders -------------------------------------------------------- */

static inline char *fx_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/snt-model-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(buf)) fx_die("mkdtemp");
  return buf;
}

static inline const char *fx_path(const char *dir, const char *file) {
  static char buf[4][4096];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%.3800s/%.200s", dir, file);
  return buf[k];
}

/* Remove the files in dir (one level, as the tests make them) and dir. */
static inline void fx_rmdir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlink(fx_path(dir, e->d_name));
  closedir(d);
  rmdir(dir);
}

#endif
