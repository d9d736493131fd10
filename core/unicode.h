/*
** unicode.h — the character classes and the per-code-point normalization of
** HuggingFace's BertNormalizer and BertPreTokenizer, over utf8proc.
** Internal to core/ (core/wordpiece.c) and tests/.
**
** HF takes general categories (control, nonspacing mark, punctuation) from
** the Rust crate unicode_categories 0.1.1, whose tables are Unicode 8.0;
** utf8proc 2.8 is Unicode 15.0. The snt_uni_* predicates give HF's answer:
** code points assigned after 8.0 as Cf, Mn or P* are ordinary letters to HF
** (they are absent from its tables), see unicode.c.
*/
#ifndef SNT_UNICODE_H
#define SNT_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Decode one UTF-8 sequence at s[0..n), n ≥ 1. Returns its length in bytes
** (1–4) and sets *cp. A byte that does not start a valid, complete, shortest
** sequence of a scalar value (no surrogates, ≤ U+10FFFF) gives *cp = -1 and
** length 1: the caller goes on at the next byte. */
int snt_utf8_decode(const unsigned char *s, size_t n, int32_t *cp);

/* Encode cp (a scalar value) at out[0..4); returns the length. */
int snt_utf8_encode(int32_t cp, char *out);

/* BertNormalizer clean_text drops these: NUL, U+FFFD and "other" characters
** (Cc, Cf, Co) except \t \n \r. Unassigned code points are kept. */
int snt_uni_is_dropped(int32_t cp);
/* Rust char::is_whitespace (White_Space), which the BERT steps use. */
int snt_uni_is_space(int32_t cp);
/* The CJK ranges of BertNormalizer handle_chinese_chars. */
int snt_uni_is_cjk(int32_t cp);
/* BertPreTokenizer punctuation: ASCII 33–47, 58–64, 91–96, 123–126, or P*. */
int snt_uni_is_punct(int32_t cp);

/* BertNormalizer strip_accents + lowercase on one code point: canonical
** decomposition (NFD), nonspacing marks (Mn) dropped, each remaining code
** point lowercased (Rust char::to_lowercase). Writes up to
** SNT_UNI_NORM_MAX code points to out and their canonical combining classes
** to ccc; returns how many (0 when everything was a mark). *starter is set to
** 1 when the decomposition held a code point of combining class 0, dropped or
** not (it ends a run of marks that NFD would reorder). */
#define SNT_UNI_NORM_MAX 8
int snt_uni_normalize(int32_t cp, int32_t *out, uint8_t *ccc, int *starter);

/* Canonical combining class of cp (0 for starters). */
int snt_uni_ccc(int32_t cp);

#endif
