/*
** explain_vtab.c — sentiment_explain: which words pushed a text's score.
**
**   SELECT word, start, end, weight FROM sentiment_explain('The acting was wonderful but the plot was dull.');
**   -- wonderful|15|24|0.21…   dull|43|47|-0.30…   (one row per word, in text order)
**   SELECT word, weight FROM sentiment_explain(review, 'imdb') ORDER BY abs(weight) DESC LIMIT 3;
**   SELECT * FROM sentiment_explain(review, 'default', 'sentence');
**
** A table-valued function (eponymous virtual table) with hidden arguments
** text, model and granularity ('auto' when absent, 'word', 'sentence'). One
** row per unit of the text the model reads, in text order (explain.h says
** how units and weights are made):
**
**   word           the unit's text: a word as BERT's pre-tokenizer splits it
**                  (each punctuation character is one), or a sentence
**   start, end     its bytes [start, end) in the text
**   weight         P(label | text) − P(label | text without it)
**   label          the label weight measures: the positive one (as
**                  sentiment_score picks it), else the one predicted for the text
**   pieces         its WordPiece tokens
**   label_without  the predicted label without it
**   unit           'word', 'sentence' or 'sentences' (a run of them: what
**                  auto chose, explain.h)
**
** A NULL argument gives no rows; errors are "sentiment_explain(): …".
** SQLITE_VTAB_INNOCUOUS, as sentiment_tokens: it reads only models that the
** connection itself registered (or the default).
*/
#include <string.h>

#include "explain.h"
#include "tvf.h"
SQLITE_EXTENSION_INIT3

enum {
  COL_WORD, COL_START, COL_END, COL_WEIGHT, COL_LABEL, COL_PIECES, COL_LABEL_WITHOUT, COL_UNIT,
  COL_TEXT, COL_MODEL, COL_GRANULARITY
};
#define N_ARG 3 /* the hidden columns, in argument order */

typedef struct ExplainCursor {
  sqlite3_vtab_cursor base;
  CachedModel *pModel;     /* a reference held while the rows are read (labels) */
  SntExplanation ex;
  int iUnit;
  sqlite3_value *apArg[N_ARG]; /* the arguments, for the hidden columns */
} ExplainCursor;

static int explainConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                          sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc;
  (void)argv;
  (void)pzErr;
  return sntTvfConnect(db, pAux,
                       "CREATE TABLE x(word TEXT, start INTEGER, \"end\" INTEGER, weight REAL, "
                       "label TEXT, pieces INTEGER, label_without TEXT, unit TEXT, "
                       "text HIDDEN, model HIDDEN, granularity HIDDEN)",
                       ppVtab);
}

/* argv: the text (idxNum bit 1), the model (bit 2), the granularity (bit 4). */
static int explainBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo) {
  int rc = sntTvfBestIndex(pVtab, pInfo, COL_TEXT, N_ARG,
                           "sentiment_explain(): needs a text: SELECT * FROM "
                           "sentiment_explain('some text' [, model [, granularity]])");
  pInfo->estimatedCost = 1e6; /* a forward pass per word */
  return rc;
}

static int explainOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor) {
  (void)pVtab;
  ExplainCursor *pCur = sqlite3_malloc(sizeof *pCur);
  if (!pCur) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof *pCur);
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static void cursorReset(ExplainCursor *pCur) {
  cacheRelease(pCur->pModel);
  pCur->pModel = NULL;
  sntExplanationFree(&pCur->ex);
  pCur->iUnit = 0;
  for (int i = 0; i < N_ARG; i++) {
    sqlite3_value_free(pCur->apArg[i]);
    pCur->apArg[i] = NULL;
  }
}

static int explainClose(sqlite3_vtab_cursor *pCursor) {
  ExplainCursor *pCur = (ExplainCursor *)pCursor;
  cursorReset(pCur);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int explainFilter(sqlite3_vtab_cursor *pCursor, int idxNum, const char *idxStr, int argc,
                         sqlite3_value **argv) {
  ExplainCursor *pCur = (ExplainCursor *)pCursor;
  sqlite3_vtab *pVtab = pCursor->pVtab;
  const char *zFunc = "sentiment_explain()";
  const char *zModel;
  int eUnit = SNT_UNIT_AUTO, bRows;
  SntEntry *e;
  char *zErr = NULL;
  (void)idxStr;
  cursorReset(pCur);
  int rc = sntTvfFilterArgs(idxNum, argc, argv, N_ARG, pCur->apArg, &zModel, &bRows);
  if (rc != SQLITE_OK || !bRows) return rc;
  if (argc > 2) {
    const char *zUnit = (const char *)sqlite3_value_text(pCur->apArg[2]);
    if (!zUnit) return SQLITE_NOMEM;
    if (sntExplainParseUnit(zUnit, &eUnit) != 0)
      return sntTvfError(pVtab, SQLITE_ERROR,
                         sqlite3_mprintf("%s: granularity '%s': use 'auto', 'word' or 'sentence'",
                                         zFunc, zUnit));
  }
  rc = sntConnModel(((SntTvf *)pVtab)->pConn, zFunc, zModel, &e, &zErr);
  if (rc == SQLITE_OK) rc = sntEntryCheckFile(e, zFunc, &zErr);
  if (rc != SQLITE_OK) return sntTvfError(pVtab, rc, zErr);
  pCur->pModel = e->pModel;
  cacheRetain(pCur->pModel); /* the name may be deleted while we read */
  const char *zText = (const char *)sqlite3_value_text(pCur->apArg[0]);
  if (!zText) return SQLITE_NOMEM;
  size_t nText = (size_t)sqlite3_value_bytes(pCur->apArg[0]);
  rc = sntExplain(e, zFunc, zText, nText, eUnit, &pCur->ex, &zErr);
  if (rc != SQLITE_OK) return sntTvfError(pVtab, rc, zErr);
  return SQLITE_OK;
}

static int explainNext(sqlite3_vtab_cursor *pCursor) {
  ((ExplainCursor *)pCursor)->iUnit++;
  return SQLITE_OK;
}

static int explainEof(sqlite3_vtab_cursor *pCursor) {
  ExplainCursor *pCur = (ExplainCursor *)pCursor;
  return pCur->iUnit >= pCur->ex.nUnit;
}

static int explainColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx, int iCol) {
  ExplainCursor *pCur = (ExplainCursor *)pCursor;
  const SntUnit *u = &pCur->ex.aUnit[pCur->iUnit];
  switch (iCol) {
    case COL_WORD: {
      const char *zText = (const char *)sqlite3_value_text(pCur->apArg[0]);
      if (!zText) return SQLITE_NOMEM;
      sqlite3_result_text(ctx, zText + u->iStart, (int)(u->iEnd - u->iStart), SQLITE_TRANSIENT);
      break;
    }
    case COL_START: sqlite3_result_int64(ctx, u->iStart); break;
    case COL_END: sqlite3_result_int64(ctx, u->iEnd); break;
    case COL_WEIGHT: sqlite3_result_double(ctx, u->weight); break;
    case COL_PIECES: sqlite3_result_int(ctx, u->nTok); break;
    case COL_LABEL:
    case COL_LABEL_WITHOUT: {
      const snt_config *cfg = snt_model_config(cacheModel(pCur->pModel));
      int iLabel = iCol == COL_LABEL ? pCur->ex.iLabel : u->iLabelWithout;
      sqlite3_result_text(ctx, cfg->labels[iLabel], -1, SQLITE_TRANSIENT);
      break;
    }
    case COL_UNIT: sqlite3_result_text(ctx, sntExplainUnitName(pCur->ex.eUnit), -1, SQLITE_STATIC); break;
    default:
      if (pCur->apArg[iCol - COL_TEXT]) sqlite3_result_value(ctx, pCur->apArg[iCol - COL_TEXT]);
      break;
  }
  return SQLITE_OK;
}

static int explainRowid(sqlite3_vtab_cursor *pCursor, sqlite3_int64 *pRowid) {
  *pRowid = ((ExplainCursor *)pCursor)->iUnit;
  return SQLITE_OK;
}

static sqlite3_module explainModule = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = explainConnect,
    .xBestIndex = explainBestIndex,
    .xDisconnect = sntTvfDisconnect,
    .xDestroy = sntTvfDisconnect,
    .xOpen = explainOpen,
    .xClose = explainClose,
    .xFilter = explainFilter,
    .xNext = explainNext,
    .xEof = explainEof,
    .xColumn = explainColumn,
    .xRowid = explainRowid,
};

int sntRegisterExplainVtab(sqlite3 *db, SntConn *p) {
  sntConnRef(p);
  return sqlite3_create_module_v2(db, "sentiment_explain", &explainModule, p, sntConnUnref);
}
