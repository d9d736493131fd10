/*
** test_tokenizer.c — core/vocab.c + core/wordpiece.c against HuggingFace.
**
**   - every case of ../shared/golden/tokenizer/bert-base-uncased.jsonl, ids
**     exact, with the vocabulary from vocab.txt and from tokenizer.json;
**   - truncation at 512 (HF: the first 510 pieces, then [SEP]);
**   - offsets: inside the text, in order, and for ASCII cases the bytes of
**     each piece, lowercased, are the piece without "##";
**   - invalid UTF-8, embedded NULs, never reading past n;
**   - vocabulary errors, argument errors, allocation failures.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "unicode.h"
#include "util.h"

static char vocab_txt[4096], tokenizer_json[4096], golden[4096];

/* Print text for a FAIL line: escaped, at most 160 bytes. */
static const char *show(const char *s, size_t n) {
  static char buf[1024];
  size_t k = 0;
  for (size_t i = 0; i < n && k < 700; i++) {
    unsigned char c = (unsigned char)s[i];
    if (i == 160) {
      k += (size_t)snprintf(buf + k, sizeof buf - k, "…(%zu bytes)", n);
      break;
    }
    if (c >= 0x20 && c != 0x7F && c != '\\') buf[k++] = (char)c;
    else k += (size_t)snprintf(buf + k, sizeof buf - k, "\\x%02x", c);
  }
  buf[k] = 0;
  return buf;
}

static int tok_equal(const snt_tokens *t, const int32_t *ids, int n, int *at) {
  int i = 0;
  while (i < t->n && i < n && t->tok[i].id == ids[i]) i++;
  *at = i;
  return i == t->n && i == n;
}

static int is_plain_ascii(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7F) return 0;
  return 1;
}

/* Offsets: in range, in order; ASCII text: the bytes spell the piece. */
static int check_offsets(const snt_vocab *v, const snt_tokens *t, const char *s, size_t n,
                         char *why, size_t why_n) {
  int64_t prev = 0;
  int ascii = is_plain_ascii(s, n);
  if (t->n < 2 || t->tok[0].start != -1 || t->tok[0].end != -1 || t->tok[t->n - 1].start != -1 ||
      t->tok[t->n - 1].end != -1) {
    snprintf(why, why_n, "[CLS]/[SEP] offsets are not -1");
    return 0;
  }
  for (int i = 1; i < t->n - 1; i++) {
    const snt_token *k = &t->tok[i];
    if (k->start < prev || k->start >= k->end || k->end > (int64_t)n) {
      snprintf(why, why_n, "token %d: [%lld, %lld) out of order or range (n %zu)", i,
               (long long)k->start, (long long)k->end, n);
      return 0;
    }
    prev = k->start;
    const char *piece = snt_vocab_piece(v, k->id);
    size_t len = (size_t)(k->end - k->start);
    if (piece[0] == '[' && piece[strlen(piece) - 1] == ']') {
      /* [UNK] of a word, or a special token typed in the text */
      if (k->id != 100 && (len != strlen(piece) || memcmp(s + k->start, piece, len) != 0)) {
        snprintf(why, why_n, "token %d: special %s at [%lld, %lld)", i, piece,
                 (long long)k->start, (long long)k->end);
        return 0;
      }
      continue;
    }
    if (!ascii) continue;
    if (piece[0] == '#' && piece[1] == '#' && piece[2]) piece += 2;
    int same = strlen(piece) == len;
    for (size_t j = 0; same && j < len; j++) {
      char c = s[k->start + (int64_t)j];
      if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
      same = c == piece[j];
    }
    if (!same) {
      snprintf(why, why_n, "token %d: bytes '%.*s' at [%lld, %lld) for piece '%s'", i,
               (int)len, s + k->start, (long long)k->start, (long long)k->end, piece);
      return 0;
    }
  }
  return 1;
}

/* Word indices: -1 on [CLS]/[SEP]; the first piece is word 0; a piece starts
** a new word (index + 1) exactly when it is not a "##" continuation (the
** only way WordPiece continues a word; '#' is punctuation, so no word starts
** with "##"). */
static int check_words(const snt_vocab *v, const snt_tokens *t, char *why, size_t why_n) {
  if (t->tok[0].word != -1 || t->tok[t->n - 1].word != -1) {
    snprintf(why, why_n, "[CLS]/[SEP] word is not -1");
    return 0;
  }
  for (int i = 1; i < t->n - 1; i++) {
    const char *piece = snt_vocab_piece(v, t->tok[i].id);
    int cont = i > 1 && piece[0] == '#' && piece[1] == '#' && piece[2];
    int want = i == 1 ? 0 : t->tok[i - 1].word + !cont;
    if (t->tok[i].word != want) {
      snprintf(why, why_n, "token %d '%s': word %d, want %d", i, piece, t->tok[i].word, want);
      return 0;
    }
  }
  return 1;
}

/* "a" X "b " X for code points where Unicode versions or normalization
** matter; ids from HF tokenizers (Node binding @anush008/tokenizers 0.6.0).
** `make probe-tokenizer` checks every code point this way against HF live. */
static void test_probes(const snt_vocab *v) {
  static const struct { int32_t cp; int32_t ids[8]; } probe[] = {
      {0x2E43, {101, 100, 100, 102}},          /* Po since 9.0: a letter to HF */
      {0x111C9, {101, 1037, 100, 1038, 100, 102}}, /* Po in 8.0, Mn now: punctuation */
      {0x1885, {101, 100, 100, 102}},          /* Lo in 8.0, Mn now: a letter */
      {0x166D, {101, 1037, 100, 1038, 100, 102}}, /* Po in 8.0, So now */
      {0xA9BD, {101, 100, 100, 102}},          /* Mc in 8.0, Mn now */
      {0x61D, {101, 100, 100, 102}},           /* Po since 14.0 */
      {0x1734, {101, 11113, 102}},             /* Mn in 8.0, Mc now: stripped */
      {0x8D4, {101, 100, 100, 102}},           /* Mn since 9.0 */
      {0x13439, {101, 100, 100, 102}},         /* Cf since 15.0: kept */
      {0x212A, {101, 17712, 2497, 1047, 102}}, /* KELVIN SIGN → k */
      {0x37E, {101, 1037, 1025, 1038, 1025, 102}}, /* GREEK QUESTION MARK → ; */
      {0x1FEF, {101, 1037, 1036, 1038, 1036, 102}}, /* GREEK VARIA → ` */
      {0xF900, {101, 1037, 100, 1038, 100, 102}},  /* CJK compatibility ideograph */
      {0xAC00, {101, 1037, 29991, 30006, 2497, 1455, 30006, 102}}, /* 가 → jamo */
      {0x130, {101, 9932, 2497, 1045, 102}},   /* İ → i (NFD, then the dot stripped) */
      {0x1E9E, {101, 1037, 19310, 2497, 1096, 102}}, /* ẞ → ß */
  };
  snt_tokens t = {0};
  snt_error err;
  for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
    char text[16], ch[4];
    int k = snt_utf8_encode(probe[i].cp, ch);
    int n = snprintf(text, sizeof text, "a%.*sb %.*s", k, ch, k, ch);
    int rc = snt_tokenize(v, text, (size_t)n, 0, &t, &err);
    int m = 0;
    while (m < 8 && probe[i].ids[m]) m++;
    int ok = rc == SNT_OK && t.n == m;
    for (int j = 0; ok && j < m; j++) ok = t.tok[j].id == probe[i].ids[j];
    CHECK(ok, "U+%04X in \"a_b _\": ids differ from HF's (n %d, want %d)", probe[i].cp, t.n, m);
  }
  /* pieces cut from one character carry its span: a [0,1) ##ᄀ [1,4) ##ᅡ [1,4) */
  int rc = snt_tokenize(v, "a\xea\xb0\x80", 4, 0, &t, &err);
  CHECK(rc == SNT_OK && t.n == 5 && t.tok[2].start == 1 && t.tok[2].end == 4 &&
            t.tok[3].start == 1 && t.tok[3].end == 4,
        "offsets of jamo pieces of one Hangul syllable");
  snt_tokens_free(&t);
}

static void test_golden(const snt_vocab *vt, const snt_vocab *vj) {
  char *buf;
  size_t n;
  snt_error err = {0};
  if (snt_read_file(golden, (size_t)1 << 30, &buf, &n, &err) != SNT_OK) {
    CHECK(0, "%s", err.msg);
    return;
  }
  snt_tokens t = {0};
  int cases = 0, same_txt = 0, same_json = 0, long_cases = 0;
  int32_t *ids = NULL;
  int cap = 0;
  for (char *line = buf, *end = buf + n; line < end;) {
    char *nl = memchr(line, '\n', (size_t)(end - line));
    size_t len = nl ? (size_t)(nl - line) : (size_t)(end - line);
    snt_json_doc *doc = len ? snt_json_parse(line, len, &err) : NULL;
    line = nl ? nl + 1 : end;
    if (!len) continue;
    CHECK(doc != NULL, "golden line %d: %s", cases + 1, err.msg);
    if (!doc) continue;
    const snt_json *text = snt_json_get(snt_json_root(doc), "text");
    const snt_json *jids = snt_json_get(snt_json_root(doc), "ids");
    const snt_json *jtoks = snt_json_get(snt_json_root(doc), "tokens");
    if (!text || text->type != SNT_JSON_STRING || !jids || jids->type != SNT_JSON_ARRAY) {
      CHECK(0, "golden line %d: no text/ids", cases + 1);
      snt_json_free(doc);
      continue;
    }
    cases++;
    if (jids->n > cap) {
      cap = jids->n * 2;
      ids = realloc(ids, (size_t)cap * sizeof *ids);
    }
    int nid = 0;
    for (const snt_json *e = jids->child; e; e = e->next) ids[nid++] = (int32_t)e->i;
    /* the vocabulary agrees with the golden token strings */
    if (jtoks && jtoks->n == nid) {
      int k = 0, ok = 1;
      for (const snt_json *e = jtoks->child; e; e = e->next, k++)
        if (strcmp(snt_vocab_piece(vt, ids[k]), e->str) != 0) ok = 0;
      if (!ok) CHECK(0, "case %d: golden tokens differ from vocab pieces", cases);
    }
    for (int which = 0; which < 2; which++) {
      const snt_vocab *v = which ? vj : vt;
      int at, rc = snt_tokenize(v, text->str, text->len, 0, &t, &err);
      if (rc != SNT_OK) {
        CHECK(0, "case %d: snt_tokenize failed: %s", cases, err.msg);
        continue;
      }
      if (tok_equal(&t, ids, nid, &at)) {
        *(which ? &same_json : &same_txt) += 1;
      } else {
        CHECK(0, "case %d (%s): ids differ at %d (got %d tokens, want %d)", cases,
              which ? "tokenizer.json" : "vocab.txt", at, t.n, nid);
        fprintf(stderr, "  text: \"%s\"\n", show(text->str, text->len));
        {
          char g[512] = "", w[512] = "";
          size_t gk = 0, wk = 0;
          int lo = at > 3 ? at - 3 : 0;
          for (int i = lo; i < t.n && i < lo + 10; i++)
            gk += (size_t)snprintf(g + gk, sizeof g - gk, "%d:%s ", t.tok[i].id,
                                   snt_vocab_piece(v, t.tok[i].id));
          for (int i = lo; i < nid && i < lo + 10; i++)
            wk += (size_t)snprintf(w + wk, sizeof w - wk, "%d:%s ", ids[i],
                                   snt_vocab_piece(v, ids[i]));
          fprintf(stderr, "  got:  %s\n  want: %s\n", g, w);
        }
      }
      if (which) continue;
      char why[512];
      CHECK(check_offsets(v, &t, text->str, text->len, why, sizeof why),
            "case %d offsets: %s\n  text: \"%s\"", cases, why, show(text->str, text->len));
      CHECK(check_words(v, &t, why, sizeof why), "case %d words: %s\n  text: \"%s\"", cases, why,
            show(text->str, text->len));
      /* truncation as HF does it: the first 510 pieces, then [SEP] */
      if (nid > 512) {
        long_cases++;
        rc = snt_tokenize(v, text->str, text->len, 512, &t, &err);
        int ok = rc == SNT_OK && t.n == 512 && t.truncated == 1 && t.tok[511].id == 102;
        for (int i = 0; ok && i < 511; i++) ok = t.tok[i].id == ids[i];
        CHECK(ok, "case %d: truncation to 512 (n %d, truncated %d)", cases, t.n, t.truncated);
      } else if (nid >= 2) {
        rc = snt_tokenize(v, text->str, text->len, 512, &t, &err);
        CHECK(rc == SNT_OK && t.n == nid && t.truncated == 0,
              "case %d: max_len 512 changed a short case (n %d, truncated %d)", cases, t.n,
              t.truncated);
        if (nid > 3) { /* exactly at the limit: nothing dropped */
          rc = snt_tokenize(v, text->str, text->len, nid, &t, &err);
          CHECK(rc == SNT_OK && t.n == nid && t.truncated == 0, "case %d: max_len %d", cases,
                nid);
          rc = snt_tokenize(v, text->str, text->len, nid - 1, &t, &err);
          CHECK(rc == SNT_OK && t.n == nid - 1 && t.truncated == 1 &&
                    t.tok[nid - 2].id == 102 && t.tok[nid - 3].id == ids[nid - 3],
                "case %d: max_len %d", cases, nid - 1);
        }
      }
    }
    snt_json_free(doc);
  }
  printf("golden: %d cases, %d identical with vocab.txt, %d with tokenizer.json, %d over 512 "
         "tokens\n",
         cases, same_txt, same_json, long_cases);
  CHECK(cases == 1368, "golden: %d cases, expected 1368", cases);
  CHECK(long_cases > 0, "golden: no case over 512 tokens");
  free(ids);
  snt_tokens_free(&t);
  snt_free(buf);
}

/* ids of text[0..n) (n bytes, copied to a buffer of exactly n bytes, so
** ASan catches a read past n) compared with those of want. */
static int same_ids(const snt_vocab *v, const char *text, size_t n, const char *want) {
  char *copy = malloc(n ? n : 1);
  memcpy(copy, text, n);
  snt_tokens a = {0}, b = {0};
  snt_error err;
  int ok = snt_tokenize(v, copy, n, 0, &a, &err) == SNT_OK &&
           snt_tokenize(v, want, strlen(want), 0, &b, &err) == SNT_OK && a.n == b.n;
  for (int i = 0; ok && i < a.n; i++) ok = a.tok[i].id == b.tok[i].id;
  snt_tokens_free(&a);
  snt_tokens_free(&b);
  free(copy);
  return ok;
}

static int tokenize_str(const snt_vocab *v, const char *s, snt_tokens *t) {
  snt_error err;
  return snt_tokenize(v, s, strlen(s), 0, t, &err);
}

static void test_bytes(const snt_vocab *v) {
  /* invalid UTF-8: each bad byte is a dropped U+FFFD, the word goes on */
  static const struct { const char *text; size_t n; const char *want; } bad[] = {
      {"ab\xff" "cd", 5, "abcd"},
      {"caf\xc3", 4, "caf"},                       /* truncated at the end */
      {"caf\xc3" "e", 5, "cafe"},                  /* lead byte then ASCII */
      {"\xc0\xaf" "x", 3, "x"},                    /* overlong '/' */
      {"a\xed\xa0\x80" "b", 5, "ab"},              /* surrogate */
      {"a\xf4\x90\x80\x80" "b", 6, "ab"},          /* over U+10FFFF */
      {"\x80\x80 movie", 8, "movie"},              /* stray continuations */
      {"\xe2\x82", 2, ""},                         /* truncated euro sign */
      {"good \xf0\x9f\x98", 8, "good"},            /* truncated emoji */
      {"\xef\xbf\xbd" "x\xef\xbf\xbd", 7, "x"},    /* real U+FFFD, dropped */
      {"[SEP\xff]", 6, "[SEP]x"},                  /* not the special token */
      {"\xe2[SEP]", 6, "[SEP]"},                   /* bad lead byte before it */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (i == 10) {
      /* "[SEP\xff]": '[' 'sep' ']' as text, not id 102 */
      snt_tokens t = {0};
      snt_error err;
      int rc = snt_tokenize(v, bad[i].text, bad[i].n, 0, &t, &err);
      int has102 = 0;
      for (int k = 1; rc == SNT_OK && k < t.n - 1; k++) has102 |= t.tok[k].id == 102;
      CHECK(rc == SNT_OK && t.n == 5 && !has102, "invalid UTF-8 inside [SEP]: n %d", t.n);
      snt_tokens_free(&t);
      continue;
    }
    CHECK(same_ids(v, bad[i].text, bad[i].n, bad[i].want), "invalid UTF-8 case %zu (\"%s\")", i,
          show(bad[i].text, bad[i].n));
  }
  /* "ab\xffcd" is "abcd": abc [0,4) (the bad byte inside it) ##d [4,5) */
  snt_tokens t = {0};
  snt_error err;
  int rc = snt_tokenize(v, "ab\xff" "cd", 5, 0, &t, &err);
  CHECK(rc == SNT_OK && t.n == 4 && t.tok[1].id == 5925 && t.tok[1].start == 0 &&
            t.tok[1].end == 4 && t.tok[2].start == 4 && t.tok[2].end == 5,
        "offsets around an invalid byte");
  /* embedded NULs: dropped characters; the length is n, not strlen */
  CHECK(same_ids(v, "hello\0world", 11, "helloworld"), "NUL inside a word");
  CHECK(same_ids(v, "hello \0 world", 13, "hello world"), "NUL between words");
  CHECK(same_ids(v, "\0\0\0", 3, ""), "only NULs");
  rc = snt_tokenize(v, "great\0film", 10, 0, &t, &err);
  CHECK(rc == SNT_OK && t.n >= 3 && t.tok[t.n - 2].end == 10, "tokens after a NUL (last end %lld)",
        t.n >= 3 ? (long long)t.tok[t.n - 2].end : -1LL);
  /* text ending inside a special token or a multibyte char: no read past n */
  CHECK(same_ids(v, "a [SE", 5, "a [se"), "special token cut by n");
  CHECK(same_ids(v, "a [MASK", 7, "a [mask"), "[MASK cut by n");
  CHECK(same_ids(v, "x\xc3\xa9", 3, "x\xc3\xa9"), "two-byte char at the very end");
  /* special tokens typed in the text */
  rc = tokenize_str(v, "hello[SEP]world [MASK] [PAD][UNK][CLS] [sep]", &t);
  int32_t want[] = {101, 7592, 102, 2088, 103, 0, 100, 101, 1031, 19802, 1033, 102};
  int ok = rc == SNT_OK && t.n == (int)(sizeof want / sizeof want[0]);
  for (int i = 0; ok && i < t.n; i++) ok = t.tok[i].id == want[i];
  CHECK(ok, "special tokens in the text (n %d)", t.n);
  CHECK(rc == SNT_OK && t.n > 2 && t.tok[2].start == 5 && t.tok[2].end == 10,
        "offsets of a typed [SEP]");
  /* word indices: a typed special token is a word; punctuation is a word each */
  ok = rc == SNT_OK && t.n == 12;
  for (int i = 1; ok && i < t.n - 1; i++) ok = t.tok[i].word == i - 1;
  CHECK(ok, "typed special tokens: one word each");
  rc = tokenize_str(v, "Unbelievably good, isn't it?", &t); /* un ##bel ##ie ##va ##bly */
  {
    int32_t wantw[] = {-1, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, -1};
    ok = rc == SNT_OK && t.n == (int)(sizeof wantw / sizeof wantw[0]);
    for (int i = 0; ok && i < t.n; i++) ok = t.tok[i].word == wantw[i];
    CHECK(ok, "word indices of \"Unbelievably good, isn't it?\" (n %d)", t.n);
  }
  /* normalization changes: offsets cover whole source characters */
  rc = tokenize_str(v, "Caf\xc3\xa9 na\xc3\xafve", &t); /* Café naïve */
  CHECK(rc == SNT_OK && t.n == 4 && t.tok[1].start == 0 && t.tok[1].end == 5 &&
            t.tok[2].start == 6 && t.tok[2].end == 12,
        "offsets of accented words: n %d [%lld,%lld) [%lld,%lld)", t.n,
        t.n > 1 ? (long long)t.tok[1].start : -1LL, t.n > 1 ? (long long)t.tok[1].end : -1LL,
        t.n > 2 ? (long long)t.tok[2].start : -1LL, t.n > 2 ? (long long)t.tok[2].end : -1LL);
  rc = tokenize_str(v, "e\xcc\x81t\xc3\xa9", &t); /* e + U+0301, t, é: "ete" */
  CHECK(rc == SNT_OK && t.n >= 3 && t.tok[1].start == 0 && t.tok[t.n - 2].end == 6,
        "decomposed accents: offsets");
  /* a word of exactly 100 characters is cut into pieces; 101 is one [UNK] */
  char longw[300];
  memset(longw, 'a', 101);
  longw[101] = 0;
  rc = snt_tokenize(v, longw, 100, 0, &t, &err);
  CHECK(rc == SNT_OK && t.n > 3 && t.tok[1].id != 100, "100-character word");
  rc = snt_tokenize(v, longw, 101, 0, &t, &err);
  CHECK(rc == SNT_OK && t.n == 3 && t.tok[1].id == 100 && t.tok[1].start == 0 &&
            t.tok[1].end == 101,
        "101-character word is one [UNK]");
  /* 101 characters once 'é' lost its accent: still counted after normalization */
  memset(longw, 'a', 99);
  memcpy(longw + 99, "\xc3\xa9", 3);
  rc = snt_tokenize(v, longw, 101, 0, &t, &err);
  CHECK(rc == SNT_OK && t.n > 3, "100 normalized characters with an accent");
  /* max_len */
  rc = snt_tokenize(v, "a b c d", 7, 2, &t, &err);
  CHECK(rc == SNT_OK && t.n == 2 && t.truncated == 1, "max_len 2");
  rc = snt_tokenize(v, "a b c d", 7, 3, &t, &err);
  CHECK(rc == SNT_OK && t.n == 3 && t.truncated == 1 && t.tok[1].id == 1037, "max_len 3");
  rc = snt_tokenize(v, "a b c d", 7, 6, &t, &err);
  CHECK(rc == SNT_OK && t.n == 6 && t.truncated == 0, "max_len 6 fits exactly");
  rc = snt_tokenize(v, "", 0, 2, &t, &err);
  CHECK(rc == SNT_OK && t.n == 2 && t.truncated == 0, "empty text, max_len 2");
  rc = snt_tokenize(v, NULL, 0, 0, &t, &err);
  CHECK(rc == SNT_OK && t.n == 2, "NULL text of length 0");
  /* arguments */
  rc = snt_tokenize(v, "x", 1, 1, &t, &err);
  CHECK(rc == SNT_ERR_ARG && strstr(err.msg, "max_len"), "max_len 1: %s", err.msg);
  rc = snt_tokenize(v, "x", 1, -5, &t, &err);
  CHECK(rc == SNT_ERR_ARG, "max_len -5");
  rc = snt_tokenize(NULL, "x", 1, 0, &t, &err);
  CHECK(rc == SNT_ERR_ARG && strstr(err.msg, "vocabulary"), "NULL vocab: %s", err.msg);
  rc = snt_tokenize(v, NULL, 3, 0, &t, &err);
  CHECK(rc == SNT_ERR_ARG, "NULL text of length 3");
  CHECK(snt_tokenize(v, "x", 1, 0, NULL, &err) == SNT_ERR_ARG, "NULL out");
  CHECK(snt_tokenize(v, "x", 1, 0, &t, NULL) == SNT_OK, "NULL err");
  /* allocation failures: clean error, no leak (test-asan), out emptied */
  snt_tokens f = {0};
  snt_alloc_fail_after(1);
  rc = snt_tokenize(v, "some words", 10, 0, &f, &err);
  snt_alloc_fail_after(0);
  CHECK(rc == SNT_ERR_NOMEM && f.n == 0 && strstr(err.msg, "memory"), "NOMEM: %s", err.msg);
  snt_tokens_free(&f);
  snt_tokens_free(&f); /* twice is fine */
  snt_tokens_free(NULL);
  snt_tokens_free(&t);
}

static snt_vocab *parse_txt(const char *s, snt_error *err) {
  return snt_vocab_parse_txt(s, strlen(s), err);
}

static snt_vocab *parse_json(const char *s, snt_error *err) {
  return snt_vocab_parse_tokenizer_json(s, strlen(s), err);
}

static void test_vocab_errors(void) {
  snt_error err = {0};
  snt_vocab *v;
  v = parse_txt("", &err);
  CHECK(!v && err.code == SNT_ERR_FORMAT && strstr(err.msg, "empty"), "empty vocab.txt: %s",
        err.msg);
  v = parse_txt("[PAD]\n[CLS]\n[SEP]\nhello\n", &err);
  CHECK(!v && err.code == SNT_ERR_FORMAT && strstr(err.msg, "[UNK]"), "no [UNK]: %s", err.msg);
  v = parse_txt("[UNK]\n[SEP]\n", &err);
  CHECK(!v && strstr(err.msg, "[CLS]"), "no [CLS]: %s", err.msg);
  /* a minimal vocabulary, CRLF, BOM, no final newline */
  v = parse_txt("\xef\xbb\xbf[UNK]\r\n[CLS]\r\n[SEP]\r\nhel\r\n##lo\r\nhello", &err);
  CHECK(v && snt_vocab_size(v) == 6 && snt_vocab_id(v, "[UNK]", 5) == 0 &&
            snt_vocab_id(v, "##lo", 4) == 4 && strcmp(snt_vocab_piece(v, 5), "hello") == 0 &&
            snt_vocab_piece(v, 6) == NULL && snt_vocab_piece(v, -1) == NULL &&
            snt_vocab_id(v, "nope", 4) == -1,
        "small vocab.txt: %s", v ? "" : err.msg);
  if (v) {
    snt_tokens t = {0};
    int rc = tokenize_str(v, "HELLO helo hel!", &t);
    /* hello | [UNK] (no "##o") | hel | "!" not in the vocabulary → [UNK] */
    CHECK(rc == SNT_OK && t.n == 6 && t.tok[1].id == 5 && t.tok[2].id == 0 && t.tok[3].id == 3 &&
              t.tok[4].id == 0,
          "small vocab tokenize (n %d)", t.n);
    rc = tokenize_str(v, "hel hello [MASK] [PAD]", &t); /* no [MASK]/[PAD]: plain text */
    CHECK(rc == SNT_OK && t.n == 2 + 2 + 6, "absent specials are text (n %d)", t.n);
    snt_tokens_free(&t);
    snt_vocab_free(v);
  }
  /* duplicates: the later id wins for lookups, both pieces stay */
  v = parse_txt("[UNK]\n[CLS]\n[SEP]\nx\nx\n", &err);
  CHECK(v && snt_vocab_id(v, "x", 1) == 4 && strcmp(snt_vocab_piece(v, 3), "x") == 0,
        "duplicate piece");
  snt_vocab_free(v);
  /* tokenizer.json */
  v = parse_json("{", &err);
  CHECK(!v && err.code == SNT_ERR_FORMAT && strstr(err.msg, "tokenizer.json"), "bad JSON: %s",
        err.msg);
  v = parse_json("{\"version\": \"1.0\"}", &err);
  CHECK(!v && strstr(err.msg, "model"), "no model: %s", err.msg);
  v = parse_json("{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}", &err);
  CHECK(!v && err.code == SNT_ERR_UNSUPPORTED && strstr(err.msg, "BPE"), "BPE: %s", err.msg);
  v = parse_json("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}", &err);
  CHECK(!v && strstr(err.msg, "empty"), "empty model.vocab: %s", err.msg);
  v = parse_json("{\"model\": {\"vocab\": {\"[UNK]\": 0, \"[CLS]\": 0, \"[SEP]\": 2}}}", &err);
  CHECK(!v && strstr(err.msg, "twice"), "duplicate id: %s", err.msg);
  v = parse_json("{\"model\": {\"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2, "
                 "\"[UNK]\": 3}}}",
                 &err);
  CHECK(!v && strstr(err.msg, "\"[UNK]\" has ids 0 and 3"), "duplicate piece in json: %s",
        err.msg);
  v = parse_json("{\"model\": {\"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 3}}}", &err);
  CHECK(!v && strstr(err.msg, "[SEP]"), "id out of range: %s", err.msg);
  v = parse_json("{\"model\": {\"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1.5, \"[SEP]\": 2}}}", &err);
  CHECK(!v && strstr(err.msg, "[CLS]"), "fractional id: %s", err.msg);
  v = parse_json("{\"model\": {\"vocab\": {\"a\": 0, \"[CLS]\": 1, \"[SEP]\": 2}}}", &err);
  CHECK(!v && strstr(err.msg, "[UNK]"), "json without [UNK]: %s", err.msg);
  v = parse_json("{\"normalizer\": {\"type\": \"BertNormalizer\", \"lowercase\": false}, "
                 "\"model\": {\"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2}}}",
                 &err);
  CHECK(!v && err.code == SNT_ERR_UNSUPPORTED && strstr(err.msg, "lowercase"), "cased: %s",
        err.msg);
  v = parse_json("{\"model\": {\"vocab\": {\"[SEP]\": 2, \"[UNK]\": 0, \"[CLS]\": 1}}}", &err);
  CHECK(v && snt_vocab_size(v) == 3 && strcmp(snt_vocab_piece(v, 2), "[SEP]") == 0,
        "json ids in any order: %s", v ? "" : err.msg);
  snt_vocab_free(v);
  /* files */
  v = snt_vocab_load("/nonexistent/vocab.txt", &err);
  CHECK(!v && err.code == SNT_ERR_IO && strstr(err.msg, "/nonexistent/vocab.txt"),
        "missing file: %s", err.msg);
  v = snt_vocab_load(NULL, &err);
  CHECK(!v && err.code == SNT_ERR_ARG, "NULL path");
  if (shared_dir()) {
    v = snt_vocab_load_tokenizer_json(vocab_txt, &err);
    CHECK(!v && err.code == SNT_ERR_FORMAT && strstr(err.msg, "vocab.txt") &&
              strstr(err.msg, "JSON"),
          "vocab.txt as tokenizer.json: %s", err.msg);
  }
  snt_vocab_free(NULL);
  CHECK(snt_vocab_size(NULL) == 0 && snt_vocab_id(NULL, "a", 1) == -1, "NULL vocab accessors");
  /* allocation failures at every step of a load */
  const char *small = "{\"model\": {\"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2}}}";
  int clean = 1, k;
  for (k = 1; k < 200; k++) {
    snt_alloc_fail_after(k);
    snt_vocab *a = parse_json(small, &err);
    snt_alloc_fail_after(0);
    if (a) {
      snt_vocab_free(a);
      break;
    }
    if (err.code != SNT_ERR_NOMEM) clean = 0;
  }
  CHECK(clean && k > 1 && k < 200, "tokenizer.json under allocation failures (%d)", k);
  clean = 1;
  for (k = 1; k < 200; k++) {
    snt_alloc_fail_after(k);
    snt_vocab *a = parse_txt("[UNK]\n[CLS]\n[SEP]\n", &err);
    snt_alloc_fail_after(0);
    if (a) {
      snt_vocab_free(a);
      break;
    }
    if (err.code != SNT_ERR_NOMEM) clean = 0;
  }
  CHECK(clean && k > 1 && k < 200, "vocab.txt under allocation failures (%d)", k);
}

int main(void) {
  const char *sd = shared_dir();
  if (sd) {
    snprintf(vocab_txt, sizeof vocab_txt, "%s/vocab/bert-base-uncased/vocab.txt", sd);
    snprintf(tokenizer_json, sizeof tokenizer_json, "%s/vocab/bert-base-uncased/tokenizer.json",
             sd);
    snprintf(golden, sizeof golden, "%s/golden/tokenizer/bert-base-uncased.jsonl", sd);
  }
  test_vocab_errors();
  if (!sd) {
    SKIP("no shared dir (../shared or $SENTIMENT_SHARED): golden tokenizer cases NOT run");
    return check_report("test_tokenizer");
  }
  snt_error err = {0};
  snt_vocab *vt = snt_vocab_load(vocab_txt, &err);
  CHECK(vt != NULL, "%s", err.msg);
  snt_vocab *vj = snt_vocab_load_tokenizer_json(tokenizer_json, &err);
  CHECK(vj != NULL, "%s", err.msg);
  if (vt && vj) {
    int same = snt_vocab_size(vt) == 30522 && snt_vocab_size(vj) == 30522;
    for (int i = 0; same && i < snt_vocab_size(vt); i++) {
      const char *p = snt_vocab_piece(vt, i);
      same = strcmp(p, snt_vocab_piece(vj, i)) == 0 && snt_vocab_id(vt, p, strlen(p)) == i &&
             snt_vocab_id(vj, p, strlen(p)) == i;
    }
    CHECK(same, "vocab.txt and tokenizer.json give the same 30522 pieces and ids");
    test_bytes(vt);
    test_probes(vt);
    test_golden(vt, vj);
  }
  snt_vocab_free(vt);
  snt_vocab_free(vj);
  return check_report("test_tokenizer");
}
