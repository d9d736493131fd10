/*
** json.c — strict recursive-descent JSON parser into an arena.
** See json.h. Limits: nesting depth 64; strings must be valid UTF-8 after
** escape decoding (lone surrogates in \u escapes are rejected).
*/
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define JSON_MAX_DEPTH 64
#define ARENA_BLOCK (64 * 1024)

typedef struct arena_block {
  struct arena_block *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
} arena_block;

struct snt_json_doc {
  arena_block *blocks;
  snt_json *root;
};

typedef struct parser {
  const char *s;
  size_t n, pos;
  snt_json_doc *doc;
  snt_error *err;
  int failed;
} parser;

static void *arena_alloc(parser *p, size_t size) {
  size = (size + 15) & ~(size_t)15;
  arena_block *b = p->doc->blocks;
  if (!b || b->cap - b->used < size) {
    size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
    b = snt_malloc(sizeof *b + cap);
    if (!b) {
      if (!p->failed) snt_error_set(p->err, SNT_ERR_NOMEM, "out of memory parsing JSON");
      p->failed = 1;
      return NULL;
    }
    b->used = 0;
    b->cap = cap;
    b->next = p->doc->blocks;
    p->doc->blocks = b;
  }
  void *r = b->data + b->used;
  b->used += size;
  return r;
}

static void fail(parser *p, const char *what) {
  if (!p->failed)
    snt_error_set(p->err, SNT_ERR_FORMAT, "invalid JSON at byte %zu: %s", p->pos, what);
  p->failed = 1;
}

static void skip_ws(parser *p) {
  while (p->pos < p->n) {
    char c = p->s[p->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    p->pos++;
  }
}

static int hex4(parser *p, unsigned *out) {
  if (p->n - p->pos < 4) return 0;
  unsigned v = 0;
  for (int k = 0; k < 4; k++) {
    char c = p->s[p->pos + k];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  p->pos += 4;
  *out = v;
  return 1;
}

static size_t put_utf8(unsigned char *d, unsigned cp) {
  if (cp < 0x80) { d[0] = (unsigned char)cp; return 1; }
  if (cp < 0x800) { d[0] = 0xC0 | (cp >> 6); d[1] = 0x80 | (cp & 63); return 2; }
  if (cp < 0x10000) {
    d[0] = 0xE0 | (cp >> 12); d[1] = 0x80 | ((cp >> 6) & 63); d[2] = 0x80 | (cp & 63);
    return 3;
  }
  d[0] = 0xF0 | (cp >> 18); d[1] = 0x80 | ((cp >> 12) & 63);
  d[2] = 0x80 | ((cp >> 6) & 63); d[3] = 0x80 | (cp & 63);
  return 4;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned cp;
  if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
  else return 0;
  if (n < len) return 0;
  for (size_t k = 1; k < len; k++) {
    if ((s[k] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (s[k] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

/* Parse a string starting at the opening quote; decoded into the arena. */
static int parse_string(parser *p, const char **out, size_t *out_len) {
  p->pos++; /* opening quote */
  /* Decoded length ≤ raw length, so size the buffer from the closing quote. */
  size_t end = p->pos;
  while (end < p->n && p->s[end] != '"') end += (p->s[end] == '\\') ? 2 : 1;
  if (end >= p->n) { fail(p, "unterminated string"); return 0; }
  unsigned char *d = arena_alloc(p, end - p->pos + 1);
  if (!d) return 0;
  size_t k = 0;
  while (p->pos < end) {
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c < 0x20) { fail(p, "control character in string"); return 0; }
    if (c == '\\') {
      p->pos++;
      char e = p->s[p->pos++];
      switch (e) {
        case '"': d[k++] = '"'; break;
        case '\\': d[k++] = '\\'; break;
        case '/': d[k++] = '/'; break;
        case 'b': d[k++] = '\b'; break;
        case 'f': d[k++] = '\f'; break;
        case 'n': d[k++] = '\n'; break;
        case 'r': d[k++] = '\r'; break;
        case 't': d[k++] = '\t'; break;
        case 'u': {
          unsigned cp, lo;
          if (!hex4(p, &cp)) { fail(p, "bad \\u escape"); return 0; }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (p->n - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
              fail(p, "lone surrogate"); return 0;
            }
            p->pos += 2;
            if (!hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) { fail(p, "bad surrogate pair"); return 0; }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail(p, "lone surrogate"); return 0;
          }
          /* \uXXXX takes 6 raw bytes and decodes to at most 4 (a pair: 12 → 4). */
          k += put_utf8(d + k, cp);
          break;
        }
        default: p->pos--; fail(p, "bad escape"); return 0;
      }
      if (p->pos > end) { fail(p, "bad escape at end of string"); return 0; }
    } else {
      size_t len = utf8_seq_len((const unsigned char *)p->s + p->pos, end - p->pos);
      if (!len) { fail(p, "invalid UTF-8 in string"); return 0; }
      memcpy(d + k, p->s + p->pos, len);
      k += len;
      p->pos += len;
    }
  }
  p->pos = end + 1;
  d[k] = 0;
  *out = (const char *)d;
  *out_len = k;
  return 1;
}

static int parse_number(parser *p, snt_json *v) {
  size_t start = p->pos;
  int is_int = 1;
  if (p->pos < p->n && p->s[p->pos] == '-') p->pos++;
  if (p->pos >= p->n) { fail(p, "bad number"); return 0; }
  if (p->s[p->pos] == '0') p->pos++;
  else if (p->s[p->pos] >= '1' && p->s[p->pos] <= '9')
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
  else { fail(p, "bad number"); return 0; }
  if (p->pos < p->n && p->s[p->pos] == '.') {
    is_int = 0;
    p->pos++;
    size_t d0 = p->pos;
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (p->pos == d0) { fail(p, "bad number"); return 0; }
  }
  if (p->pos < p->n && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
    is_int = 0;
    p->pos++;
    if (p->pos < p->n && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
    size_t d0 = p->pos;
    while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') p->pos++;
    if (p->pos == d0) { fail(p, "bad number"); return 0; }
  }
  char buf[64];
  size_t len = p->pos - start;
  if (len >= sizeof buf) {
    /* Very long literals: only the double matters; strtod needs a copy. */
    char *tmp = arena_alloc(p, len + 1);
    if (!tmp) return 0;
    memcpy(tmp, p->s + start, len);
    tmp[len] = 0;
    v->num = strtod(tmp, NULL);
    is_int = 0;
  } else {
    memcpy(buf, p->s + start, len);
    buf[len] = 0;
    v->num = strtod(buf, NULL);
    if (is_int) {
      /* digits ≤ 18 always fit in int64 */
      size_t digits = len - (buf[0] == '-');
      if (digits <= 18) v->i = strtoll(buf, NULL, 10);
      else is_int = 0;
    }
  }
  v->type = SNT_JSON_NUMBER;
  v->is_int = is_int;
  return 1;
}

static snt_json *parse_value(parser *p, int depth);

static int parse_container(parser *p, snt_json *v, int depth, int is_object) {
  char close = is_object ? '}' : ']';
  v->type = is_object ? SNT_JSON_OBJECT : SNT_JSON_ARRAY;
  p->pos++;
  skip_ws(p);
  if (p->pos < p->n && p->s[p->pos] == close) { p->pos++; return 1; }
  snt_json **tail = &v->child;
  for (;;) {
    const char *key = NULL;
    size_t key_len = 0;
    skip_ws(p);
    if (is_object) {
      if (p->pos >= p->n || p->s[p->pos] != '"') { fail(p, "expected a string key"); return 0; }
      if (!parse_string(p, &key, &key_len)) return 0;
      skip_ws(p);
      if (p->pos >= p->n || p->s[p->pos] != ':') { fail(p, "expected ':'"); return 0; }
      p->pos++;
    }
    snt_json *child = parse_value(p, depth + 1);
    if (!child) return 0;
    child->key = key;
    child->key_len = key_len;
    *tail = child;
    tail = &child->next;
    if (v->n == INT32_MAX) { fail(p, "too many elements"); return 0; }
    v->n++;
    skip_ws(p);
    if (p->pos >= p->n) { fail(p, "unterminated container"); return 0; }
    char c = p->s[p->pos++];
    if (c == close) return 1;
    if (c != ',') { p->pos--; fail(p, "expected ',' or end of container"); return 0; }
  }
}

static int match_word(parser *p, const char *w) {
  size_t len = strlen(w);
  if (p->n - p->pos < len || memcmp(p->s + p->pos, w, len) != 0) return 0;
  p->pos += len;
  return 1;
}

static snt_json *parse_value(parser *p, int depth) {
  if (depth > JSON_MAX_DEPTH) { fail(p, "nested too deeply"); return NULL; }
  skip_ws(p);
  if (p->pos >= p->n) { fail(p, "unexpected end of input"); return NULL; }
  snt_json *v = arena_alloc(p, sizeof *v);
  if (!v) return NULL;
  memset(v, 0, sizeof *v);
  char c = p->s[p->pos];
  int ok;
  if (c == '{' || c == '[') ok = parse_container(p, v, depth, c == '{');
  else if (c == '"') { v->type = SNT_JSON_STRING; ok = parse_string(p, &v->str, &v->len); }
  else if (c == '-' || (c >= '0' && c <= '9')) ok = parse_number(p, v);
  else if (match_word(p, "true")) { v->type = SNT_JSON_TRUE; ok = 1; }
  else if (match_word(p, "false")) { v->type = SNT_JSON_FALSE; ok = 1; }
  else if (match_word(p, "null")) { v->type = SNT_JSON_NULL; ok = 1; }
  else { fail(p, "unexpected character"); ok = 0; }
  return ok ? v : NULL;
}

snt_json_doc *snt_json_parse(const char *text, size_t n, snt_error *err) {
  snt_json_doc *doc = snt_calloc(1, sizeof *doc);
  if (!doc) {
    snt_error_set(err, SNT_ERR_NOMEM, "out of memory parsing JSON");
    return NULL;
  }
  parser p = {text, n, 0, doc, err, 0};
  doc->root = parse_value(&p, 0);
  if (doc->root) {
    skip_ws(&p);
    if (p.pos != n) { fail(&p, "trailing characters"); doc->root = NULL; }
  }
  if (!doc->root) {
    snt_json_free(doc);
    return NULL;
  }
  return doc;
}

const snt_json *snt_json_root(const snt_json_doc *doc) { return doc ? doc->root : NULL; }

void snt_json_free(snt_json_doc *doc) {
  if (!doc) return;
  arena_block *b = doc->blocks;
  while (b) {
    arena_block *next = b->next;
    snt_free(b);
    b = next;
  }
  snt_free(doc);
}

const snt_json *snt_json_get(const snt_json *obj, const char *key) {
  if (!obj || obj->type != SNT_JSON_OBJECT) return NULL;
  size_t len = strlen(key);
  const snt_json *found = NULL;
  for (const snt_json *c = obj->child; c; c = c->next)
    if (c->key_len == len && memcmp(c->key, key, len) == 0) found = c;
  return found;
}
