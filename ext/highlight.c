/*
** highlight.c — sentiment_highlight: the text with each word marked by its
** weight, to look at rather than read.
**
**   SELECT sentiment_highlight('The acting was wonderful but the plot was dull.');          -- ansi
**   SELECT sentiment_highlight(review, 'default', 'html') FROM reviews WHERE id = 7;
**   SELECT sentiment_highlight(review, 'imdb', 'markdown') FROM reviews;
**
** The weights are sentiment_explain's (explain.h, granularity 'auto'):
** green = the unit pushed toward the label the weights measure (positive, or
** the predicted label of a model without one), red = away from it. Strength
** is |weight| relative to the text's largest |weight|, which counts as at
** least HIGHLIGHT_FLOOR (so a text where no word matters much stays pale):
**
**   s = |weight| / max(max |weight|, HIGHLIGHT_FLOOR), units with s < 0.1 unmarked
**
**   ansi      background from the 256-colour palette, 5 shades of green
**             (22 28 34 40 46) or red (52 88 124 160 196) by s, white text
**             on the 3 darker shades, black on the 2 brighter; ESC[0m after
**             each unit. For the sqlite3 shell in a terminal.
**   html      <mark style="background:#rrggbb" title="+0.214">…</mark>: white
**             blended toward green (#2ca02c) or red (#d62728) by 0.85 s; the
**             whole text HTML-escaped (& < > " '). For notebooks and pages.
**   markdown  units with s ≥ 0.3: **word**(+0.21) toward, ~~word~~(-0.30)
**             away (GitHub strikethrough); a lone ASCII punctuation mark is
**             left plain (CommonMark would not close ** after it); the text's
**             \ ` * _ ~ [ ] < > | escaped with a backslash.
**
** Text past what the model reads (truncation) is copied unmarked. NULL in,
** NULL out; an unknown format is an error naming the allowed ones.
*/
#include <math.h>
#include <string.h>

#include "explain.h"
#include "result.h"
SQLITE_EXTENSION_INIT3

#define HIGHLIGHT_FLOOR 0.05 /* weights below this never reach full strength */
#define HIGHLIGHT_MIN 0.1    /* strength below which a unit is not marked */
#define MARKDOWN_MIN 0.3     /* ... in markdown, where marks are heavier */

enum { FMT_ANSI, FMT_HTML, FMT_MARKDOWN };
static const char *const azFormat[] = {"ansi", "html", "markdown"};

/* Text zText[0..n), escaped for eFmt. */
static void appendText(sqlite3_str *pOut, int eFmt, const char *z, sqlite3_int64 n) {
  sqlite3_int64 iRun = 0; /* start of the bytes not yet copied */
  for (sqlite3_int64 i = 0; i < n && eFmt != FMT_ANSI; i++) {
    const char *zEsc = NULL;
    char c = z[i], zMd[3] = {'\\', c, 0};
    if (eFmt == FMT_HTML) {
      zEsc = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;"
           : c == '"' ? "&quot;" : c == '\'' ? "&#39;" : NULL;
    } else if (c && strchr("\\`*_~[]<>|", c)) {
      zEsc = zMd;
    }
    if (!zEsc) continue;
    sqlite3_str_append(pOut, z + iRun, (int)(i - iRun));
    sqlite3_str_appendall(pOut, zEsc);
    iRun = i + 1;
  }
  sqlite3_str_append(pOut, z + iRun, (int)(n - iRun));
}

/* #rrggbb: white blended toward (r, g, b) by a in [0, 1]. */
static void appendBlend(sqlite3_str *pOut, int r, int g, int b, double a) {
  int c[3] = {r, g, b};
  sqlite3_str_appendall(pOut, "#");
  for (int i = 0; i < 3; i++) sqlite3_str_appendf(pOut, "%02x", (int)lround(255 + (c[i] - 255) * a));
}

static int isAsciiPunct(const char *z, sqlite3_int64 n) {
  return n == 1 && strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", z[0]) && z[0];
}

/* One unit z[0..n) of weight w and strength s, marked. */
static void appendUnit(sqlite3_str *pOut, int eFmt, const char *z, sqlite3_int64 n, double w,
                       double s) {
  int bToward = w > 0;
  switch (eFmt) {
    case FMT_ANSI: {
      static const int aGreen[] = {22, 28, 34, 40, 46}, aRed[] = {52, 88, 124, 160, 196};
      int iShade = (int)(s * 5 - 1e-9);
      if (iShade > 4) iShade = 4;
      if (iShade < 0) iShade = 0;
      sqlite3_str_appendf(pOut, "\x1b[%d;48;5;%dm", iShade < 3 ? 97 : 30,
                          bToward ? aGreen[iShade] : aRed[iShade]);
      appendText(pOut, eFmt, z, n);
      sqlite3_str_appendall(pOut, "\x1b[0m");
      break;
    }
    case FMT_HTML:
      sqlite3_str_appendall(pOut, "<mark style=\"background:");
      if (bToward) appendBlend(pOut, 0x2c, 0xa0, 0x2c, 0.85 * s);
      else appendBlend(pOut, 0xd6, 0x27, 0x28, 0.85 * s);
      sqlite3_str_appendf(pOut, "\" title=\"%+.3f\">", w);
      appendText(pOut, eFmt, z, n);
      sqlite3_str_appendall(pOut, "</mark>");
      break;
    case FMT_MARKDOWN:
      if (s < MARKDOWN_MIN || isAsciiPunct(z, n)) {
        appendText(pOut, eFmt, z, n);
        break;
      }
      sqlite3_str_appendall(pOut, bToward ? "**" : "~~");
      appendText(pOut, eFmt, z, n);
      sqlite3_str_appendf(pOut, "%s(%+.2f)", bToward ? "**" : "~~", w);
      break;
  }
}

/* Registered in sentiment.c's table of functions. */
void sntHighlightFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  SntConn *p = sqlite3_user_data(ctx);
  const char *zFunc = "sentiment_highlight()";
  const char *zModel = NULL;
  int eFmt = FMT_ANSI;
  SntEntry *e;
  SntExplanation ex = {0};
  char *zErr = NULL;
  int rc;

  for (int i = 0; i < argc; i++)
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return; /* NULL in, NULL out */
  if (argc > 1 && !(zModel = (const char *)sqlite3_value_text(argv[1]))) goto nomem;
  if (argc > 2) {
    const char *zFmt = (const char *)sqlite3_value_text(argv[2]);
    if (!zFmt) goto nomem;
    for (eFmt = 0; eFmt < 3 && sqlite3_stricmp(zFmt, azFormat[eFmt]) != 0; eFmt++) {
    }
    if (eFmt == 3) {
      zErr = sqlite3_mprintf("%s: unknown format '%s': use 'ansi', 'html' or 'markdown'", zFunc,
                             zFmt);
      if (!zErr) goto nomem;
      sqlite3_result_error(ctx, zErr, -1);
      sqlite3_free(zErr);
      return;
    }
  }
  const char *zText = (const char *)sqlite3_value_text(argv[0]);
  if (!zText) goto nomem;
  sqlite3_int64 nText = sqlite3_value_bytes(argv[0]);
  rc = sntConnModel(p, zFunc, zModel, &e, &zErr);
  if (rc == SQLITE_OK) rc = sntEntryCheckFile(e, zFunc, &zErr);
  if (rc == SQLITE_OK) rc = sntExplain(e, zFunc, zText, (size_t)nText, SNT_UNIT_AUTO, &ex, &zErr);
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_NOMEM || !zErr) goto nomem;
    sqlite3_result_error(ctx, zErr, -1);
    sqlite3_free(zErr);
    return;
  }

  double mx = HIGHLIGHT_FLOOR;
  for (int i = 0; i < ex.nUnit; i++)
    if (fabs(ex.aUnit[i].weight) > mx) mx = fabs(ex.aUnit[i].weight);
  sqlite3_str *pOut = sqlite3_str_new(sqlite3_context_db_handle(ctx));
  sqlite3_int64 iAt = 0; /* bytes of the text written so far */
  for (int i = 0; i < ex.nUnit; i++) {
    const SntUnit *u = &ex.aUnit[i];
    double s = fabs(u->weight) / mx;
    if (s < HIGHLIGHT_MIN) continue; /* written with the text around it */
    appendText(pOut, eFmt, zText + iAt, u->iStart - iAt);
    appendUnit(pOut, eFmt, zText + u->iStart, u->iEnd - u->iStart, u->weight, s);
    iAt = u->iEnd;
  }
  appendText(pOut, eFmt, zText + iAt, nText - iAt);
  sntExplanationFree(&ex);
  sntResultStr(ctx, pOut, 0);
  return;
nomem:
  sntExplanationFree(&ex);
  sqlite3_result_error_nomem(ctx);
}
