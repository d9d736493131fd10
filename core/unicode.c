/*
** unicode.c — UTF-8 decoding and the BERT character classes (unicode.h).
**
** Versions. HuggingFace's BertNormalizer / BertPreTokenizer ask the crate
** unicode_categories 0.1.1 whether a character is a control/format/private
** use character, a nonspacing mark or punctuation. Its tables hold the
** categories of Unicode 8.0 (found by probing HF with every code point, see
** the README's Tokenizer section). We ask utf8proc (Unicode 15.0) and correct
** for the difference:
**   - new_since_8[] lists the code points assigned in Unicode 9.0–15.0 whose
**     category is Cf, Mn or P*: HF does not know them, so to it they are plain
**     letters (kept, not stripped, not split). Generated from DerivedAge
**     (perl's Unicode::UCD prop_invmap("Age")) crossed with utf8proc's
**     categories; e.g. U+061D ARABIC END OF TEXT MARK (14.0) is in the golden
**     file as part of a word.
**   - hf_category() pins the few code points whose category changed since
**     8.0 to their 8.0 value (e.g. U+111C9 SHARADA SANDHI MARK: Po, now Mn).
** Whitespace and lowercasing come from Rust's std (current Unicode), so
** utf8proc answers those directly, as it does NFD.
*/
#include "unicode.h"

#include <utf8proc.h>

int snt_utf8_decode(const unsigned char *s, size_t n, int32_t *cp) {
  unsigned c = s[0];
  if (c < 0x80) {
    *cp = (int32_t)c;
    return 1;
  }
  int len;
  uint32_t v, min;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, v = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, v = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, v = c & 0x07, min = 0x10000;
  } else {
    *cp = -1; /* continuation byte, overlong lead C0/C1, or F5–FF */
    return 1;
  }
  if ((size_t)len > n) {
    *cp = -1;
    return 1;
  }
  for (int i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) {
      *cp = -1;
      return 1;
    }
    v = (v << 6) | (s[i] & 0x3F);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
    *cp = -1;
    return 1;
  }
  *cp = (int32_t)v;
  return len;
}

int snt_utf8_encode(int32_t cp, char *out) {
  uint32_t c = (uint32_t)cp;
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

/* Code points assigned after Unicode 8.0 with category Cf, Mn or P* (in
** utf8proc 2.8 / Unicode 15.0), as inclusive ranges, sorted. */
static const struct { int32_t lo, hi; } new_since_8[] = {
    {0x61D, 0x61D}, {0x7FD, 0x7FD}, {0x890, 0x891}, {0x898, 0x89F}, {0x8CA, 0x8E2},
    {0x9FD, 0x9FE}, {0xA76, 0xA76}, {0xAFA, 0xAFF}, {0xB55, 0xB55}, {0xC04, 0xC04},
    {0xC3C, 0xC3C}, {0xC77, 0xC77}, {0xC84, 0xC84}, {0xD00, 0xD00}, {0xD3B, 0xD3C},
    {0xD81, 0xD81}, {0xEBA, 0xEBA}, {0xECE, 0xECE}, {0x180F, 0x180F}, {0x1ABF, 0x1ACE},
    {0x1B7D, 0x1B7E}, {0x1DF6, 0x1DFB}, {0x2E43, 0x2E4F}, {0x2E52, 0x2E5D}, {0xA82C, 0xA82C},
    {0xA8C5, 0xA8C5}, {0xA8FF, 0xA8FF}, {0x10D24, 0x10D27}, {0x10EAB, 0x10EAD}, {0x10EFD, 0x10EFF},
    {0x10F46, 0x10F50}, {0x10F55, 0x10F59}, {0x10F82, 0x10F89}, {0x11070, 0x11070}, {0x11073, 0x11074},
    {0x110C2, 0x110C2}, {0x110CD, 0x110CD}, {0x111CF, 0x111CF}, {0x1123E, 0x1123E}, {0x11241, 0x11241},
    {0x1133B, 0x1133B}, {0x11438, 0x1143F}, {0x11442, 0x11444}, {0x11446, 0x11446}, {0x1144B, 0x1144F},
    {0x1145A, 0x1145B}, {0x1145D, 0x1145E}, {0x11660, 0x1166C}, {0x116B9, 0x116B9}, {0x1182F, 0x11837},
    {0x11839, 0x1183B}, {0x1193B, 0x1193C}, {0x1193E, 0x1193E}, {0x11943, 0x11946}, {0x119D4, 0x119D7},
    {0x119DA, 0x119DB}, {0x119E0, 0x119E0}, {0x119E2, 0x119E2}, {0x11A01, 0x11A0A}, {0x11A33, 0x11A38},
    {0x11A3B, 0x11A47}, {0x11A51, 0x11A56}, {0x11A59, 0x11A5B}, {0x11A8A, 0x11A96}, {0x11A98, 0x11A9C},
    {0x11A9E, 0x11AA2}, {0x11B00, 0x11B09}, {0x11C30, 0x11C36}, {0x11C38, 0x11C3D}, {0x11C3F, 0x11C3F},
    {0x11C41, 0x11C45}, {0x11C70, 0x11C71}, {0x11C92, 0x11CA7}, {0x11CAA, 0x11CB0}, {0x11CB2, 0x11CB3},
    {0x11CB5, 0x11CB6}, {0x11D31, 0x11D36}, {0x11D3A, 0x11D3A}, {0x11D3C, 0x11D3D}, {0x11D3F, 0x11D45},
    {0x11D47, 0x11D47}, {0x11D90, 0x11D91}, {0x11D95, 0x11D95}, {0x11D97, 0x11D97}, {0x11EF3, 0x11EF4},
    {0x11EF7, 0x11EF8}, {0x11F00, 0x11F01}, {0x11F36, 0x11F3A}, {0x11F40, 0x11F40}, {0x11F42, 0x11F4F},
    {0x11FFF, 0x11FFF}, {0x12FF1, 0x12FF2}, {0x13430, 0x13440}, {0x13447, 0x13455}, {0x16E97, 0x16E9A},
    {0x16F4F, 0x16F4F}, {0x16FE2, 0x16FE2}, {0x16FE4, 0x16FE4}, {0x1CF00, 0x1CF2D}, {0x1CF30, 0x1CF46},
    {0x1E000, 0x1E006}, {0x1E008, 0x1E018}, {0x1E01B, 0x1E021}, {0x1E023, 0x1E024}, {0x1E026, 0x1E02A},
    {0x1E08F, 0x1E08F}, {0x1E130, 0x1E136}, {0x1E2AE, 0x1E2AE}, {0x1E2EC, 0x1E2EF}, {0x1E4EC, 0x1E4EF},
    {0x1E944, 0x1E94A}, {0x1E95E, 0x1E95F},   
};

static int is_new_since_8(int32_t cp) {
  if (cp < new_since_8[0].lo) return 0;
  int lo = 0, hi = (int)(sizeof new_since_8 / sizeof new_since_8[0]) - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (cp < new_since_8[mid].lo) hi = mid - 1;
    else if (cp > new_since_8[mid].hi) lo = mid + 1;
    else return 1;
  }
  return 0;
}

/* The general category HF's tables give (see the top of the file). */
static int hf_category(int32_t cp) {
  switch (cp) { /* changed since 8.0 */
  case 0x166D: case 0x111C9: return UTF8PROC_CATEGORY_PO;
  case 0x1885: case 0x1886: return UTF8PROC_CATEGORY_LO;
  case 0xA9BD: return UTF8PROC_CATEGORY_MC;
  case 0x1734: return UTF8PROC_CATEGORY_MN;
  }
  int cat = utf8proc_category(cp);
  switch (cat) {
  case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_MN:
  case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
  case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
  case UTF8PROC_CATEGORY_PO:
    return is_new_since_8(cp) ? UTF8PROC_CATEGORY_LO : cat;
  default:
    return cat;
  }
}

int snt_uni_is_dropped(int32_t cp) {
  if (cp == 0 || cp == 0xFFFD) return 1;
  if (cp == '\t' || cp == '\n' || cp == '\r') return 0;
  int cat = hf_category(cp);
  return cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF ||
         cat == UTF8PROC_CATEGORY_CO;
}

int snt_uni_is_space(int32_t cp) {
  switch (cp) {
  case '\t': case '\n': case 0x0B: case 0x0C: case '\r': case ' ':
  case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
  case 0x205F: case 0x3000:
    return 1;
  default:
    return cp >= 0x2000 && cp <= 0x200A;
  }
}

int snt_uni_is_cjk(int32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

int snt_uni_is_punct(int32_t cp) {
  if (cp < 0x80)
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
           (cp >= 123 && cp <= 126);
  switch (hf_category(cp)) {
  case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
  case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
  case UTF8PROC_CATEGORY_PO:
    return 1;
  default:
    return 0;
  }
}

int snt_uni_ccc(int32_t cp) { return utf8proc_get_property(cp)->combining_class; }

int snt_uni_normalize(int32_t cp, int32_t *out, uint8_t *ccc, int *starter) {
  utf8proc_int32_t d[SNT_UNI_NORM_MAX];
  int bound = 0;
  utf8proc_ssize_t nd = utf8proc_decompose_char(cp, d, SNT_UNI_NORM_MAX, UTF8PROC_DECOMPOSE, &bound);
  if (nd < 1 || nd > SNT_UNI_NORM_MAX) { /* cannot happen for a scalar value (NFD is ≤ 4) */
    d[0] = cp;
    nd = 1;
  }
  int k = 0;
  *starter = 0;
  for (int i = 0; i < (int)nd; i++) {
    int c = utf8proc_get_property(d[i])->combining_class;
    if (c == 0) *starter = 1;
    if (hf_category(d[i]) == UTF8PROC_CATEGORY_MN) continue;
    out[k] = utf8proc_tolower(d[i]);
    ccc[k] = (uint8_t)c;
    k++;
  }
  return k;
}
