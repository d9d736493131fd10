/*
** tokens_vtab.c — sentiment_tokens: the tokens a model sees for a text.
**
**   SELECT pos, id, token, start, end FROM sentiment_tokens('Loved it!');
**   -- 0|101|[CLS]||        1|3866|loved|0|5   2|2009|it|6|8
**   -- 3|999|!|8|9          4|102|[SEP]||
**   SELECT r.id, t.token FROM reviews r, sentiment_tokens(r.text, 'imdb') t;
**
** A table-valued function (eponymous virtual table) with hidden arguments
** text and model. One row per token after truncation to the model's length,
** [CLS] and [SEP] included: pos (0-based), id (vocabulary id), token (the
** WordPiece, '##' continuation included), start and end (byte offsets
** [start, end) into the text; NULL for [CLS] and [SEP]). A NULL text or
** model gives no rows.
**
** SQLITE_VTAB_INNOCUOUS: it reads only models that the connection itself
** registered (or the default), like the scalar functions.
*/
#include <string.h>

#include "tvf.h"
SQLITE_EXTENSION_INIT3

enum { COL_POS, COL_ID, COL_TOKEN, COL_START, COL_END, COL_TEXT, COL_MODEL };
#define N_ARG 2 /* the hidden columns, in argument order */

typedef struct TokensCursor {
  sqlite3_vtab_cursor base;
  CachedModel *pModel;   /* a reference held while the rows are read */
  snt_tokens toks;       /* this cursor's own: scalar calls reuse the connection's */
  int iPos;
  sqlite3_value *apArg[N_ARG]; /* the arguments, for the hidden columns */
} TokensCursor;

static int tokensConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                         sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc;
  (void)argv;
  (void)pzErr;
  return sntTvfConnect(db, pAux,
                       "CREATE TABLE x(pos INTEGER, id INTEGER, token TEXT, "
                       "start INTEGER, \"end\" INTEGER, text HIDDEN, model HIDDEN)",
                       ppVtab);
}

/* argv: the text (idxNum bit 1), then the model (bit 2). */
static int tokensBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo) {
  return sntTvfBestIndex(
      pVtab, pInfo, COL_TEXT, 2,
      "sentiment_tokens(): needs a text: SELECT * FROM sentiment_tokens('some text' [, model])");
}

static int tokensOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor) {
  (void)pVtab;
  TokensCursor *pCur = sqlite3_malloc(sizeof *pCur);
  if (!pCur) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof *pCur);
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static void cursorReset(TokensCursor *pCur) {
  cacheRelease(pCur->pModel);
  pCur->pModel = NULL;
  pCur->toks.n = 0;
  pCur->iPos = 0;
  for (int i = 0; i < N_ARG; i++) {
    sqlite3_value_free(pCur->apArg[i]);
    pCur->apArg[i] = NULL;
  }
}

static int tokensClose(sqlite3_vtab_cursor *pCursor) {
  TokensCursor *pCur = (TokensCursor *)pCursor;
  cursorReset(pCur);
  snt_tokens_free(&pCur->toks);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int tokensFilter(sqlite3_vtab_cursor *pCursor, int idxNum, const char *idxStr, int argc,
                        sqlite3_value **argv) {
  TokensCursor *pCur = (TokensCursor *)pCursor;
  sqlite3_vtab *pVtab = pCursor->pVtab;
  const char *zModel;
  SntEntry *e;
  char *zErr = NULL;
  snt_error err = {0};
  int bRows;
  (void)idxStr;
  cursorReset(pCur);
  int rc = sntTvfFilterArgs(idxNum, argc, argv, N_ARG, pCur->apArg, &zModel, &bRows);
  if (rc != SQLITE_OK || !bRows) return rc;
  rc = sntConnModel(((SntTvf *)pVtab)->pConn, "sentiment_tokens()", zModel, &e, &zErr);
  if (rc != SQLITE_OK) return sntTvfError(pVtab, rc, zErr);
  pCur->pModel = e->pModel;
  cacheRetain(pCur->pModel); /* the name may be deleted while we read */
  const snt_model *m = cacheModel(pCur->pModel);
  const char *zText = (const char *)sqlite3_value_text(pCur->apArg[0]);
  if (!zText) return SQLITE_NOMEM;
  size_t nText = (size_t)sqlite3_value_bytes(pCur->apArg[0]);
  rc = snt_tokenize(snt_model_vocab(m), zText, nText, snt_model_max_len(m), &pCur->toks, &err);
  if (rc != SNT_OK) {
    pCur->toks.n = 0;
    if (rc == SNT_ERR_NOMEM) return SQLITE_NOMEM;
    return sntTvfError(pVtab, SQLITE_ERROR, sqlite3_mprintf("sentiment_tokens(): %s", err.msg));
  }
  return SQLITE_OK;
}

static int tokensNext(sqlite3_vtab_cursor *pCursor) {
  ((TokensCursor *)pCursor)->iPos++;
  return SQLITE_OK;
}

static int tokensEof(sqlite3_vtab_cursor *pCursor) {
  TokensCursor *pCur = (TokensCursor *)pCursor;
  return pCur->iPos >= pCur->toks.n;
}

static int tokensColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx, int iCol) {
  TokensCursor *pCur = (TokensCursor *)pCursor;
  const snt_token *t = &pCur->toks.tok[pCur->iPos];
  switch (iCol) {
    case COL_POS: sqlite3_result_int(ctx, pCur->iPos); break;
    case COL_ID: sqlite3_result_int(ctx, t->id); break;
    case COL_TOKEN: {
      const char *z = snt_vocab_piece(snt_model_vocab(cacheModel(pCur->pModel)), t->id);
      if (z) sqlite3_result_text(ctx, z, -1, SQLITE_TRANSIENT);
      break;
    }
    case COL_START:
      if (t->start >= 0) sqlite3_result_int64(ctx, t->start);
      break;
    case COL_END:
      if (t->end >= 0) sqlite3_result_int64(ctx, t->end);
      break;
    default:
      if (pCur->apArg[iCol - COL_TEXT]) sqlite3_result_value(ctx, pCur->apArg[iCol - COL_TEXT]);
      break;
  }
  return SQLITE_OK;
}

static int tokensRowid(sqlite3_vtab_cursor *pCursor, sqlite3_int64 *pRowid) {
  *pRowid = ((TokensCursor *)pCursor)->iPos;
  return SQLITE_OK;
}

static sqlite3_module tokensModule = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only */
    .xConnect = tokensConnect,
    .xBestIndex = tokensBestIndex,
    .xDisconnect = sntTvfDisconnect,
    .xDestroy = sntTvfDisconnect,
    .xOpen = tokensOpen,
    .xClose = tokensClose,
    .xFilter = tokensFilter,
    .xNext = tokensNext,
    .xEof = tokensEof,
    .xColumn = tokensColumn,
    .xRowid = tokensRowid,
};

int sntRegisterTokensVtab(sqlite3 *db, SntConn *p) {
  sntConnRef(p);
  return sqlite3_create_module_v2(db, "sentiment_tokens", &tokensModule, p, sntConnUnref);
}
