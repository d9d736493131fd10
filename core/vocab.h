/*
** vocab.h — the inside of snt_vocab, shared by core/vocab.c (loading) and
** core/wordpiece.c (lookups). Internal to core/ and tests/.
**
** Pieces live in one byte arena, each NUL-terminated, piece i at
** bytes + off[i] with length len[i]. piece → id is an open-addressing hash
** table keyed by the piece's bytes. WordPiece looks up "##" + suffix without
** building the string: the hash is byte-sequential, so hashing the suffix can
** start from the state after "##" (snt_vocab_hash_cont).
*/
#ifndef SNT_VOCAB_H
#define SNT_VOCAB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "snt.h"

typedef struct snt_vocab_slot {
  uint32_t hash;   /* full 32-bit hash of the piece (cheap reject before memcmp) */
  int32_t id;      /* -1 = empty */
} snt_vocab_slot;

struct snt_vocab {
  int n;                 /* pieces; ids are 0..n-1 */
  char *bytes;           /* arena: every piece, NUL-terminated */
  uint32_t *off, *len;   /* (n) */
  snt_vocab_slot *slot;  /* (mask + 1), a power of two, at most half full */
  uint32_t mask;
  int max_word_len;      /* longest piece not starting with "##", in bytes */
  int max_cont_len;      /* longest "##" piece, in bytes, "##" excluded */
  /* Special pieces; -1 when the vocabulary has none. unk, cls and sep are
  ** always present (the loaders refuse a vocabulary without them). */
  int32_t unk, cls, sep, pad, mask_id;
};

/* FNV-1a over bytes, continued from state h. */
static inline uint32_t snt_vocab_hash_more(uint32_t h, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}
#define SNT_VOCAB_HASH0 2166136261u
/* The state after hashing "##". */
#define SNT_VOCAB_HASH_CONT \
  ((((SNT_VOCAB_HASH0 ^ 0x23u) * 16777619u) ^ 0x23u) * 16777619u)

/* The id of (cont ? "##" : "") + s[0..n), or -1; h is its hash
** (snt_vocab_hash_more from SNT_VOCAB_HASH0, or SNT_VOCAB_HASH_CONT when cont). */
static inline int32_t snt_vocab_find_hashed(const snt_vocab *v, int cont, const char *s,
                                            size_t n, uint32_t h) {
  size_t want = n + (cont ? 2 : 0);
  for (uint32_t i = h & v->mask;; i = (i + 1) & v->mask) {
    const snt_vocab_slot *e = &v->slot[i];
    if (e->id < 0) return -1;
    if (e->hash != h || v->len[e->id] != want) continue;
    const char *p = v->bytes + v->off[e->id];
    if (cont && (p[0] != '#' || p[1] != '#')) continue;
    if (memcmp(p + (cont ? 2 : 0), s, n) == 0) return e->id;
  }
}

/* The id of (cont ? "##" : "") + s[0..n), or -1. */
static inline int32_t snt_vocab_find(const snt_vocab *v, int cont, const char *s, size_t n) {
  uint32_t h = snt_vocab_hash_more(cont ? SNT_VOCAB_HASH_CONT : SNT_VOCAB_HASH0, s, n);
  return snt_vocab_find_hashed(v, cont, s, n, h);
}

#endif
