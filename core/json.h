/*
** json.h — a small strict JSON (RFC 8259) parser for config.json,
** safetensors headers and tokenizer.json. Input is untrusted: depth is
** limited, every byte is checked, and nothing is read past n.
**
** The whole tree lives in one arena (a few large allocations), freed at once
** with snt_json_free.
*/
#ifndef SNT_JSON_H
#define SNT_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "snt.h"

typedef enum {
  SNT_JSON_NULL, SNT_JSON_FALSE, SNT_JSON_TRUE, SNT_JSON_NUMBER,
  SNT_JSON_STRING, SNT_JSON_ARRAY, SNT_JSON_OBJECT
} snt_json_type;

typedef struct snt_json snt_json;
struct snt_json {
  snt_json_type type;
  double num;        /* NUMBER */
  int is_int;        /* NUMBER written without fraction/exponent, |i| < 2^63 */
  int64_t i;         /* NUMBER when is_int */
  const char *str;   /* STRING: decoded UTF-8, NUL-terminated (may hold NULs) */
  size_t len;        /* STRING: bytes in str */
  const char *key;   /* member of an OBJECT: its decoded key, NUL-terminated */
  size_t key_len;
  snt_json *child;   /* ARRAY/OBJECT: first element/member */
  snt_json *next;    /* next sibling */
  int n;             /* ARRAY/OBJECT: number of children */
};

typedef struct snt_json_doc snt_json_doc;

/* Parse text[0..n). Returns the document (root via snt_json_root) or NULL with
** err set (SNT_ERR_FORMAT with the byte offset, or SNT_ERR_NOMEM). */
snt_json_doc *snt_json_parse(const char *text, size_t n, snt_error *err);
const snt_json *snt_json_root(const snt_json_doc *doc);
void snt_json_free(snt_json_doc *doc);

/* The member named key of an object; NULL if obj is not an object or has none
** (with duplicate keys, the last one wins, as in Python). */
const snt_json *snt_json_get(const snt_json *obj, const char *key);

#endif
