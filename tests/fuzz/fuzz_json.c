/*
** fuzz_json.c — snt_json_parse (core/json.c) on arbitrary bytes. An accepted
** document must be a well-formed tree: n matches the children, strings are
** NUL-terminated at len, object members have keys, numbers flagged is_int
** agree with their double. Then every allocation fails in turn.
*/
#include <math.h>

#include "fuzz_model_common.h"
#include "json.h"

static void check(const snt_json *j, int depth) {
  FUZZ_REQUIRE(depth < 100000);
  switch (j->type) {
    case SNT_JSON_STRING:
      FUZZ_REQUIRE(j->str && j->str[j->len] == '\0');
      break;
    case SNT_JSON_NUMBER:
      if (j->is_int) FUZZ_REQUIRE((double)j->i == j->num || fabs((double)j->i - j->num) <= fabs(j->num) * 1e-15);
      break;
    case SNT_JSON_ARRAY:
    case SNT_JSON_OBJECT: {
      int n = 0;
      for (const snt_json *c = j->child; c; c = c->next, n++) {
        if (j->type == SNT_JSON_OBJECT) {
          FUZZ_REQUIRE(c->key && c->key[c->key_len] == '\0');
          /* the last member with this key is the one snt_json_get finds */
          const snt_json *g = snt_json_get(j, c->key);
          FUZZ_REQUIRE(g != NULL);
          if (memchr(c->key, 0, c->key_len) == NULL)
            FUZZ_REQUIRE(g->key_len == c->key_len && memcmp(g->key, c->key, c->key_len) == 0);
        }
        check(c, depth + 1);
      }
      FUZZ_REQUIRE(n == j->n);
      break;
    }
    case SNT_JSON_NULL:
    case SNT_JSON_FALSE:
    case SNT_JSON_TRUE:
      break;
    default:
      FUZZ_REQUIRE(0);
  }
}

static int parse(const uint8_t *data, size_t size) {
  snt_error err = {0};
  snt_json_doc *d = snt_json_parse((const char *)data, size, &err);
  if (!d) {
    FUZZ_REQUIRE(err.code != SNT_OK && err.msg[0]);
    return err.code;
  }
  const snt_json *root = snt_json_root(d);
  FUZZ_REQUIRE(root != NULL);
  check(root, 0);
  snt_json_free(d);
  return SNT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_with_faults(parse, data, size);
  return 0;
}
