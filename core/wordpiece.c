/*
** wordpiece.c — text → token ids, as HuggingFace `tokenizers` does for
** bert-base-uncased (tokenizer.json: added special tokens, BertNormalizer
** with lowercase + strip_accents, BertPreTokenizer, WordPiece, the template
** "[CLS] $A [SEP]").
**
** One pass over the bytes; a word is normalized into a fixed buffer on the
** stack and cut into pieces as soon as it ends, so nothing is allocated but
** the output array. Per source character:
**
**   1. "[CLS]" "[SEP]" "[PAD]" "[MASK]" "[UNK]" typed in the text (exact
**      bytes, present in the vocabulary) become their id, before anything
**      else — HF matches added tokens in the raw text. They end a word.
**   2. Invalid UTF-8: a byte that does not start a valid, complete, shortest
**      UTF-8 sequence (no surrogates, ≤ U+10FFFF) counts as one U+FFFD, and
**      clean_text drops U+FFFD. So invalid bytes vanish without splitting the
**      word around them: the ids are those HF gives for the text decoded
**      with String::from_utf8_lossy. Nothing past text[n) is read; NUL bytes
**      are ordinary (dropped) characters.
**   3. clean_text: NUL, U+FFFD and Cc/Cf/Co characters other than \t \n \r
**      are dropped (the word goes on across them); whitespace ends a word.
**      Categories are HF's (Unicode 8.0 tables, see unicode.c).
**   4. handle_chinese_chars: a CJK ideograph is a word of its own.
**   5. NFD (with the canonical reordering of the marks that survive),
**      nonspacing marks (Mn) dropped, lowercase (unicode.c).
**   6. BertPreTokenizer: each punctuation character of the normalized text is
**      a word of its own.
**   7. WordPiece: greedy longest match, "##" on pieces after the first; a word
**      of over 100 code points (normalized, as HF counts) or one with a
**      position no piece matches is one [UNK].
**
** ASCII takes a fast path (a byte class table; a run of letters and digits is
** lowercased and copied in one go). Vocabulary lookups hash the word's bytes
** in place (vocab.h): the hashes of every prefix are computed in one forward
** pass, so the longest-match loop never builds a string nor rehashes.
**
** Offsets: each token's [start, end) are byte offsets into text. Every
** normalized character remembers the source character it came from; a piece
** spans from the first byte of the first source character of its characters
** to the last byte of the last one. So a piece of a word that normalization
** changed covers whole original characters: "Café" → "cafe" [0, 5) with
** é's two bytes; pieces cut from one character (a Hangul syllable
** decomposes into jamo) all carry that character's span; dropped characters
** (controls, invalid bytes, lone combining marks) belong to no piece unless
** they sit inside one. An [UNK] word spans the whole word.
*/
#include <limits.h>
#include <string.h>

#include "unicode.h"
#include "util.h"
#include "vocab.h"

#define WORD_MAX_CHARS 100 /* HF WordPiece max_input_chars_per_word */
/* A stored word is ≤ 100 code points of ≤ 4 bytes. */
#define WORD_CAP (4 * WORD_MAX_CHARS + 4)

/* The word being read. Bytes are stored while the word has at most
** WORD_MAX_CHARS characters; past that only nchar and end move (it is an
** [UNK] whatever it holds). */
typedef struct word {
  size_t nchar;         /* normalized code points so far */
  int nb;               /* bytes stored in b */
  int run;              /* b[run..nb) is the current run of nonzero-ccc marks */
  int mapped;           /* 0: b[i] is text[start + i] lowercased; 1: use src_* */
  int64_t start, end;   /* source span of the whole word */
  char b[WORD_CAP];
  int64_t src_s[WORD_CAP], src_e[WORD_CAP]; /* mapped: source span per byte */
} word;

typedef struct tok {
  const snt_vocab *v;
  snt_tokens *out;
  long budget;    /* pieces still allowed before [SEP] */
  int limited;    /* max_len given: running out of budget truncates */
  int stop;       /* budget exhausted: the rest of the text is skipped */
  int32_t iword;  /* index of the word whose pieces are being pushed */
  snt_error *err;
  word w;
} tok;

enum { C_WORD, C_SPACE, C_DROP, C_PUNCT, C_HIGH };

/* BERT's view of each byte: letters/digits (W), whitespace (S), dropped
** controls (D), punctuation (P); bytes ≥ 0x80 start a non-ASCII character. */
#define W C_WORD
#define S C_SPACE
#define D C_DROP
#define P C_PUNCT
#define H16 C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, \
            C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH
static const unsigned char byte_class[256] = {
  D, D, D, D, D, D, D, D, D, S, S, D, D, S, D, D,  /* 0x00 */
  D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D,  /* 0x10 */
  S, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,  /* 0x20 */
  W, W, W, W, W, W, W, W, W, W, P, P, P, P, P, P,  /* 0x30 */
  P, W, W, W, W, W, W, W, W, W, W, W, W, W, W, W,  /* 0x40 */
  W, W, W, W, W, W, W, W, W, W, W, P, P, P, P, P,  /* 0x50 */
  P, W, W, W, W, W, W, W, W, W, W, W, W, W, W, W,  /* 0x60 */
  W, W, W, W, W, W, W, W, W, W, W, P, P, P, P, D,  /* 0x70 */
  H16, H16, H16, H16, H16, H16, H16, H16,
};
#undef W
#undef S
#undef D
#undef P
#undef H16

static inline char ascii_lower(unsigned char c) {
  return (char)((unsigned char)(c - 'A') < 26 ? c + 32 : c);
}

/* ---- output ------------------------------------------------------------ */

static int push(tok *t, int32_t id, int32_t iword, int64_t start, int64_t end) {
  snt_tokens *o = t->out;
  if (o->n == o->cap) {
    if (o->cap >= INT_MAX / 2)
      return snt_error_set(t->err, SNT_ERR_TOO_BIG, "snt_tokenize: over %d tokens", o->cap);
    int cap = o->cap ? 2 * o->cap : 64;
    snt_token *p = snt_realloc(o->tok, (size_t)cap * sizeof *p);
    if (!p)
      return snt_error_set(t->err, SNT_ERR_NOMEM, "snt_tokenize: out of memory for %d tokens", cap);
    o->tok = p;
    o->cap = cap;
  }
  o->tok[o->n++] = (snt_token){id, iword, start, end};
  return SNT_OK;
}

/* One piece of the text (not [CLS]/[SEP]), of word t->iword: counts against
** the budget. */
static int push_piece(tok *t, int32_t id, int64_t start, int64_t end) {
  if (t->budget == 0) {
    if (!t->limited)
      return snt_error_set(t->err, SNT_ERR_TOO_BIG, "snt_tokenize: over %d tokens", INT_MAX - 2);
    t->out->truncated = 1;
    t->stop = 1;
    return SNT_OK;
  }
  t->budget--;
  return push(t, id, t->iword, start, end);
}

/* ---- the current word -------------------------------------------------- */

/* Leave identity mode: give every stored byte its source span. */
static void word_map(word *w) {
  for (int i = 0; i < w->nb; i++) {
    w->src_s[i] = w->start + i;
    w->src_e[i] = w->start + i + 1;
  }
  w->mapped = 1;
}

/* Append text[pos .. pos+len), ASCII letters and digits, lowercased. */
static void word_add_ascii(word *w, const unsigned char *p, size_t len, int64_t pos) {
  if (w->nchar == 0) {
    w->start = pos;
    w->nb = 0;
    w->mapped = 0;
  } else if (!w->mapped && w->start + w->nb != pos) {
    word_map(w); /* something was dropped in between */
  }
  w->end = pos + (int64_t)len;
  if (w->nchar + len <= WORD_MAX_CHARS) {
    char *b = w->b + w->nb;
    for (size_t i = 0; i < len; i++) b[i] = ascii_lower(p[i]);
    if (w->mapped) {
      for (size_t i = 0; i < len; i++) {
        w->src_s[w->nb + i] = pos + (int64_t)i;
        w->src_e[w->nb + i] = pos + (int64_t)i + 1;
      }
    }
    w->nb += (int)len;
    w->run = w->nb;
  }
  w->nchar += len;
}

/* The canonical combining class of the character ending at b[end). */
static int ccc_before(const word *w, int end, int *start) {
  int i = end - 1;
  while (i > 0 && ((unsigned char)w->b[i] & 0xC0) == 0x80) i--;
  int32_t cp;
  snt_utf8_decode((const unsigned char *)w->b + i, (size_t)(end - i), &cp);
  *start = i;
  return cp < 0 ? 0 : snt_uni_ccc(cp);
}

/* Rotate b[a..e) so that b[m..e) comes first (and the spans with it). */
static void word_rotate(word *w, int a, int m, int e) {
  char tb[4];
  int64_t ts[4], te[4];
  int k = e - m; /* one character: ≤ 4 bytes */
  memcpy(tb, w->b + m, (size_t)k);
  memcpy(ts, w->src_s + m, (size_t)k * sizeof *ts);
  memcpy(te, w->src_e + m, (size_t)k * sizeof *te);
  memmove(w->b + a + k, w->b + a, (size_t)(m - a));
  memmove(w->src_s + a + k, w->src_s + a, (size_t)(m - a) * sizeof *ts);
  memmove(w->src_e + a + k, w->src_e + a, (size_t)(m - a) * sizeof *te);
  memcpy(w->b + a, tb, (size_t)k);
  memcpy(w->src_s + a, ts, (size_t)k * sizeof *ts);
  memcpy(w->src_e + a, te, (size_t)k * sizeof *te);
}

/* Append one normalized code point cp (combining class ccc) that came from
** the source character text[ps .. pe). */
static void word_add_cp(word *w, int32_t cp, int ccc, int64_t ps, int64_t pe) {
  if (w->nchar == 0) {
    w->start = ps;
    w->nb = 0;
    w->end = pe;
    w->run = 0;
    w->mapped = 1;
  } else if (!w->mapped) {
    word_map(w);
  }
  if (pe > w->end) w->end = pe;
  if (w->nchar + 1 <= WORD_MAX_CHARS) {
    int at = w->nb;
    int k = snt_utf8_encode(cp, w->b + at);
    for (int i = 0; i < k; i++) {
      w->src_s[at + i] = ps;
      w->src_e[at + i] = pe;
    }
    w->nb += k;
    if (ccc == 0) {
      w->run = w->nb;
    } else {
      /* NFD's canonical ordering: a mark moves before the marks of a higher
      ** class in its run (only marks that survive stripping are here: the
      ** relative order of the others does not matter). */
      while (at > w->run) {
        int prev;
        if (ccc_before(w, at, &prev) <= ccc) break;
        word_rotate(w, prev, at, at + k);
        at = prev;
      }
    }
  }
  w->nchar++;
}

/* ---- WordPiece ----------------------------------------------------------- */

/* Cut the current word (not empty) into pieces and emit them; the word is
** then empty. */
static int word_pieces(tok *t) {
  word *w = &t->w;
  const snt_vocab *v = t->v;
  size_t nchar = w->nchar;
  w->nchar = 0;
  if (nchar > WORD_MAX_CHARS) return push_piece(t, v->unk, w->start, w->end);

  int32_t id[WORD_MAX_CHARS];
  int cut[WORD_MAX_CHARS + 1]; /* piece i is b[cut[i] .. cut[i+1]) */
  uint32_t h[WORD_CAP + 1];    /* h[k]: hash of b[s .. s+k) */
  int np = 0, s = 0, nb = w->nb;
  const char *b = w->b;
  while (s < nb) {
    int cont = s > 0;
    int maxl = cont ? v->max_cont_len : v->max_word_len;
    int e = nb - s < maxl ? nb : s + maxl;
    uint32_t hh = cont ? SNT_VOCAB_HASH_CONT : SNT_VOCAB_HASH0;
    for (int k = 1; k <= e - s; k++) {
      hh = (hh ^ (unsigned char)b[s + k - 1]) * 16777619u;
      h[k] = hh;
    }
    int32_t found = -1;
    for (; e > s; e--) {
      if (e < nb && ((unsigned char)b[e] & 0xC0) == 0x80) continue; /* not a character boundary */
      found = snt_vocab_find_hashed(v, cont, b + s, (size_t)(e - s), h[e - s]);
      if (found >= 0) break;
    }
    if (found < 0) return push_piece(t, v->unk, w->start, w->end);
    cut[np] = s;
    id[np++] = found;
    s = e;
  }
  cut[np] = nb;
  for (int i = 0; i < np; i++) {
    int64_t ps, pe;
    if (!w->mapped) {
      ps = w->start + cut[i];
      pe = w->start + cut[i + 1];
    } else {
      ps = w->src_s[cut[i]];
      pe = w->src_e[cut[i]];
      for (int j = cut[i] + 1; j < cut[i + 1]; j++) {
        if (w->src_s[j] < ps) ps = w->src_s[j];
        if (w->src_e[j] > pe) pe = w->src_e[j];
      }
    }
    int rc = push_piece(t, id[i], ps, pe);
    if (rc != SNT_OK || t->stop) return rc;
  }
  return SNT_OK;
}

/* The same for any word, empty or not; the next word gets the next index. */
static int word_flush(tok *t) {
  if (t->w.nchar == 0) return SNT_OK;
  int rc = word_pieces(t);
  t->iword++;
  return rc;
}

/* ---- the text ------------------------------------------------------------ */

/* The length of the special token at s[0..n) (s[0] == '['), 0 if none. */
static int special_at(const snt_vocab *v, const char *s, size_t n, int32_t *id) {
  if (n < 5 || s[4] != ']') {
    if (n >= 6 && memcmp(s, "[MASK]", 6) == 0 && v->mask_id >= 0) {
      *id = v->mask_id;
      return 6;
    }
    return 0;
  }
  static const char names[4][6] = {"[CLS]", "[SEP]", "[PAD]", "[UNK]"};
  const int32_t ids[4] = {v->cls, v->sep, v->pad, v->unk};
  for (int i = 0; i < 4; i++) {
    if (ids[i] >= 0 && memcmp(s, names[i], 5) == 0) {
      *id = ids[i];
      return 5;
    }
  }
  return 0;
}

/* A non-ASCII character cp at text[i .. i+len). */
static int add_char(tok *t, int32_t cp, int64_t i, int len) {
  int rc;
  if (snt_uni_is_dropped(cp)) return SNT_OK;
  if (snt_uni_is_space(cp)) return word_flush(t);
  int cjk = snt_uni_is_cjk(cp);
  if (cjk && (rc = word_flush(t)) != SNT_OK) return rc;
  int32_t o[SNT_UNI_NORM_MAX];
  uint8_t ccc[SNT_UNI_NORM_MAX];
  int starter;
  int k = snt_uni_normalize(cp, o, ccc, &starter);
  if (starter) t->w.run = t->w.nb;
  for (int j = 0; j < k && !t->stop; j++) {
    if (snt_uni_is_space(o[j])) {
      rc = word_flush(t);
    } else if (snt_uni_is_punct(o[j])) {
      if ((rc = word_flush(t)) != SNT_OK || t->stop) return rc;
      word_add_cp(&t->w, o[j], 0, i, i + len);
      rc = word_flush(t);
    } else {
      word_add_cp(&t->w, o[j], ccc[j], i, i + len);
      rc = SNT_OK;
    }
    if (rc != SNT_OK) return rc;
  }
  return cjk && !t->stop ? word_flush(t) : SNT_OK;
}

static int tokenize_text(tok *t, const unsigned char *s, size_t n) {
  size_t i = 0;
  int rc = SNT_OK;
  while (i < n && rc == SNT_OK && !t->stop) {
    unsigned char c = s[i];
    switch (byte_class[c]) {
    case C_WORD: {
      size_t j = i + 1;
      while (j < n && byte_class[s[j]] == C_WORD) j++;
      word_add_ascii(&t->w, s + i, j - i, (int64_t)i);
      i = j;
      break;
    }
    case C_SPACE:
      rc = word_flush(t);
      i++;
      break;
    case C_DROP:
      i++;
      break;
    case C_PUNCT: {
      int32_t id;
      int k = c == '[' ? special_at(t->v, (const char *)s + i, n - i, &id) : 0;
      if ((rc = word_flush(t)) != SNT_OK || t->stop) break;
      if (k) {
        rc = push_piece(t, id, (int64_t)i, (int64_t)(i + (size_t)k));
        t->iword++; /* a special token is a word of its own */
        i += (size_t)k;
      } else {
        word_add_ascii(&t->w, s + i, 1, (int64_t)i);
        rc = word_flush(t);
        i++;
      }
      break;
    }
    default: {
      int32_t cp;
      int len = snt_utf8_decode(s + i, n - i, &cp);
      if (cp >= 0) rc = add_char(t, cp, (int64_t)i, len);
      i += (size_t)len; /* an invalid byte is a dropped U+FFFD */
      break;
    }
    }
  }
  if (rc == SNT_OK && !t->stop) rc = word_flush(t);
  return rc;
}

int snt_tokenize(const snt_vocab *v, const char *text, size_t n, int max_len,
                 snt_tokens *out, snt_error *err) {
  if (!out) return snt_error_set(err, SNT_ERR_ARG, "snt_tokenize: out is NULL");
  out->n = 0;
  out->truncated = 0;
  if (!v) return snt_error_set(err, SNT_ERR_ARG, "snt_tokenize: no vocabulary");
  if (!text && n) return snt_error_set(err, SNT_ERR_ARG, "snt_tokenize: text is NULL");
  if (max_len < 0 || max_len == 1)
    return snt_error_set(err, SNT_ERR_ARG,
                         "snt_tokenize: max_len %d: 0 (no limit) or at least 2 ([CLS] and [SEP])",
                         max_len);
  tok tk; /* not zeroed as a whole: the word buffers are written before read */
  tok *t = &tk;
  t->w.nchar = 0;
  t->w.nb = 0;
  t->w.run = 0;
  t->stop = 0;
  t->iword = 0;
  t->v = v;
  t->out = out;
  t->err = err;
  t->limited = max_len > 0;
  t->budget = max_len > 0 ? max_len - 2 : INT_MAX - 2;
  int rc = push(t, v->cls, -1, -1, -1);
  if (rc == SNT_OK) rc = tokenize_text(t, (const unsigned char *)(text ? text : ""), n);
  if (rc == SNT_OK) rc = push(t, v->sep, -1, -1, -1);
  if (rc != SNT_OK) {
    out->n = 0;
    out->truncated = 0;
  }
  return rc;
}

void snt_tokens_free(snt_tokens *t) {
  if (!t) return;
  snt_free(t->tok);
  t->tok = NULL;
  t->n = t->cap = 0;
  t->truncated = 0;
}
