/*
** models_vtab.c — sentiment_models: the model names this connection knows.
**
**   SELECT * FROM sentiment_models;
**   INSERT INTO sentiment_models(name, path) VALUES ('imdb', '/models/imdb');
**   INSERT INTO sentiment_models(name, path, precision) VALUES ('fast', '/models/imdb', 'int8');
**   INSERT OR REPLACE INTO sentiment_models(name, path) VALUES ('default', '/m');
**   DELETE FROM sentiment_models WHERE name = 'imdb';
**   SELECT sentiment_register('imdb', '/models/imdb');  -- the same, unhideable
**   SELECT sentiment_register('fast', '/models/imdb', 'int8');
**   SELECT sentiment_unregister('imdb');                 -- 1: it was there
**
** An eponymous virtual table over the connection's registry (registry.h):
** one row per name, starting with 'default'. Registering a folder checks that
** it exists and that its config.json parses, and reads no weights; the model
** is loaded by the first call that uses the name, and shared with every other
** connection of the process that uses the same folder. The columns describe
** the model from its config.json (so listing loads nothing): model_type,
** labels (a JSON array in id order), n_layers, dim, vocab_size, max_length
** (tokens, [CLS] and [SEP] included), loaded (1 when the model is in memory
** in this process), loads (how many times this process has loaded it),
** then precision: 'f32' (the default: exact) or 'int8' (the opt-in int8
** path, core/quant.c: linear layers and word embeddings in int8, logits
** within about 1e-2; a load of its own, holding no F32 copy of what it
** quantized), and
** sha256 (of model.safetensors, or of the embedded bytes: which weights a
** stored score came from; model_hash.h — the first read of a folder's hash
** reads its whole file).
** Only name, path and precision can be written; UPDATE is refused (DELETE,
** then INSERT). A name already there is an error, replaced by INSERT OR
** REPLACE, kept as it is by INSERT OR IGNORE.
** Changes take effect at once and are not undone by ROLLBACK.
**
** A table or view named sentiment_models in a database the connection opens
** or attaches hides this one: INSERTs go into it and register nothing. The
** functions that use a model then fail and say so (sntConnCheckShadow in
** registry.h), until it is dropped or the connection registers with
** sentiment_register(), a function no schema can hide (it replaces a name,
** like INSERT OR REPLACE).
**
** SQLITE_VTAB_DIRECTONLY: an INSERT names a path that the extension then
** reads, so only SQL the application runs itself may use this table — not a
** trigger or view that came with a database file (see csv.c).
*/
#include <stdlib.h>
#include <string.h>

#include "model_hash.h"
#include "registry.h"
#include "result.h"
SQLITE_EXTENSION_INIT3

enum {
  COL_NAME, COL_PATH, COL_MODEL_TYPE, COL_LABELS, COL_N_LAYERS, COL_DIM, COL_VOCAB_SIZE,
  COL_MAX_LENGTH, COL_LOADED, COL_LOADS, COL_PRECISION, COL_SHA256
};

static const char *const azPrec[] = {"f32", "int8"}; /* by CACHE_F32, CACHE_INT8 */

typedef struct ModelsVtab {
  sqlite3_vtab base;
  sqlite3 *db;
  SntConn *pConn;
} ModelsVtab;

typedef struct ModelsCursor {
  sqlite3_vtab_cursor base;
  sqlite3_int64 iRowid; /* current row; looked up again on each use */
  int bEof;
} ModelsCursor;

static int modelsConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                         sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc;
  (void)argv;
  (void)pzErr;
  int rc = sqlite3_declare_vtab(db,
                                "CREATE TABLE x(name TEXT, path TEXT, model_type TEXT, "
                                "labels TEXT, n_layers INTEGER, dim INTEGER, "
                                "vocab_size INTEGER, max_length INTEGER, loaded INTEGER, "
                                "loads INTEGER, precision TEXT, sha256 TEXT)");
  if (rc != SQLITE_OK) return rc;
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  ModelsVtab *pVtab = sqlite3_malloc(sizeof *pVtab);
  if (!pVtab) return SQLITE_NOMEM;
  memset(pVtab, 0, sizeof *pVtab);
  pVtab->db = db;
  pVtab->pConn = pAux;
  *ppVtab = &pVtab->base;
  return SQLITE_OK;
}

static int modelsDisconnect(sqlite3_vtab *pVtab) {
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

static int modelsBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo) {
  ((ModelsVtab *)pVtab)->pConn->bResolved = 1; /* the name reached us (sntConnCheckShadow) */
  pInfo->estimatedCost = 10;
  pInfo->estimatedRows = 10;
  return SQLITE_OK;
}

static int modelsOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor) {
  (void)pVtab;
  ModelsCursor *pCur = sqlite3_malloc(sizeof *pCur);
  if (!pCur) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof *pCur);
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static int modelsClose(sqlite3_vtab_cursor *pCursor) {
  sqlite3_free(pCursor);
  return SQLITE_OK;
}

static SntConn *cursorConn(sqlite3_vtab_cursor *pCursor) {
  return ((ModelsVtab *)pCursor->pVtab)->pConn;
}

/* Rows are visited in rowid order by rowid, not by pointer, so a DELETE
** between two steps of a scan cannot leave the cursor dangling. */
static int modelsNext(sqlite3_vtab_cursor *pCursor) {
  ModelsCursor *pCur = (ModelsCursor *)pCursor;
  SntEntry *e = sntConnNext(cursorConn(pCursor), pCur->iRowid);
  if (e) pCur->iRowid = e->iRowid;
  else pCur->bEof = 1;
  return SQLITE_OK;
}

static int modelsFilter(sqlite3_vtab_cursor *pCursor, int idxNum, const char *idxStr, int argc,
                        sqlite3_value **argv) {
  (void)idxNum;
  (void)idxStr;
  (void)argc;
  (void)argv;
  ModelsCursor *pCur = (ModelsCursor *)pCursor;
  pCur->iRowid = 0;
  pCur->bEof = 0;
  return modelsNext(pCursor);
}

static int modelsEof(sqlite3_vtab_cursor *pCursor) { return ((ModelsCursor *)pCursor)->bEof; }

static int modelsRowid(sqlite3_vtab_cursor *pCursor, sqlite3_int64 *pRowid) {
  *pRowid = ((ModelsCursor *)pCursor)->iRowid;
  return SQLITE_OK;
}

/* The cache key of e's folder (free() it), or NULL for the embedded model.
** *pbOk is 0 when the folder cannot be resolved (then it is not loaded). */
static char *entryKey(const SntEntry *e, int *pbOk) {
  char *z = e->zPath ? realpath(e->zPath, NULL) : NULL;
  *pbOk = !e->zPath || z;
  return z;
}

static int modelsColumn(sqlite3_vtab_cursor *pCursor, sqlite3_context *ctx, int iCol) {
  ModelsCursor *pCur = (ModelsCursor *)pCursor;
  SntConn *p = cursorConn(pCursor);
  SntEntry *e = sntConnFindRowid(p, pCur->iRowid);
  const snt_config *cfg;
  if (!e) return SQLITE_OK; /* deleted during the scan: NULLs */
  if (iCol == COL_NAME) {
    sqlite3_result_text(ctx, e->zName, -1, SQLITE_TRANSIENT);
    return SQLITE_OK;
  }
  if (iCol == COL_PATH) {
    if (e->zPath) sqlite3_result_text(ctx, e->zPath, -1, SQLITE_TRANSIENT);
    return SQLITE_OK;
  }
  if (iCol == COL_PRECISION) {
    sqlite3_result_text(ctx, azPrec[e->iPrec], -1, SQLITE_STATIC);
    return SQLITE_OK;
  }
  if (iCol == COL_LOADED || iCol == COL_LOADS) {
    int bOk;
    char *zKey = entryKey(e, &bOk);
    if (iCol == COL_LOADED) sqlite3_result_int(ctx, bOk && cacheIsLoaded(zKey, e->iPrec));
    else sqlite3_result_int64(ctx, bOk ? cacheLoadCount(zKey, e->iPrec) : 0);
    free(zKey);
    return SQLITE_OK;
  }
  if (iCol == COL_SHA256) {
    const char *zHex;
    if (sntEntrySha256(e, &zHex) != SQLITE_OK) return SQLITE_NOMEM;
    if (zHex) sqlite3_result_text(ctx, zHex, 64, SQLITE_TRANSIENT); /* else NULL: unreadable */
    return SQLITE_OK;
  }
  if (!(cfg = sntEntryConfig(e))) return SQLITE_OK; /* unreadable config.json: NULL */
  switch (iCol) {
    case COL_MODEL_TYPE:
      sqlite3_result_text(ctx, cfg->arch == SNT_ARCH_BERT ? "bert" : "distilbert", -1,
                          SQLITE_STATIC);
      break;
    case COL_LABELS: {
      sqlite3_str *s = sqlite3_str_new(NULL);
      sntStrLabels(s, cfg);
      return sntResultStr(ctx, s, 0);
    }
    case COL_N_LAYERS: sqlite3_result_int(ctx, cfg->n_layers); break;
    case COL_DIM: sqlite3_result_int(ctx, cfg->dim); break;
    case COL_VOCAB_SIZE: sqlite3_result_int(ctx, cfg->vocab_size); break;
    case COL_MAX_LENGTH: sqlite3_result_int(ctx, cfg->max_pos); break;
  }
  return SQLITE_OK;
}

/* pVtab's error becomes "sentiment_models: <zMsg>" (a message left by an
** earlier statement is freed first). Returns SQLITE_ERROR. */
static int modelsError(sqlite3_vtab *pVtab, const char *zMsg) {
  sqlite3_free(pVtab->zErrMsg);
  pVtab->zErrMsg = sqlite3_mprintf("sentiment_models: %s", zMsg);
  return SQLITE_ERROR;
}

/* CACHE_F32 for 'f32', CACHE_INT8 for 'int8', else -1. */
static int modelsPrecision(const char *z) {
  return strcmp(z, "int8") == 0 ? CACHE_INT8 : strcmp(z, "f32") == 0 ? CACHE_F32 : -1;
}

static int modelsUpdate(sqlite3_vtab *pVtab, int argc, sqlite3_value **argv,
                        sqlite3_int64 *pRowid) {
  ModelsVtab *pTab = (ModelsVtab *)pVtab;
  SntConn *p = pTab->pConn;
  char *zErr = NULL;
  int rc;
  if (argc == 1) { /* DELETE */
    sntConnRemove(p, sqlite3_value_int64(argv[0]));
    return SQLITE_OK;
  }
  if (sqlite3_value_type(argv[0]) != SQLITE_NULL) {
    return modelsError(pVtab, "UPDATE is not supported (DELETE the name, then INSERT it)");
  }
  /* INSERT: argv[1] is the rowid (ignored: rowids are assigned), then the
  ** columns in declaration order. */
  for (int i = COL_MODEL_TYPE; i < argc - 2; i++) {
    if (i != COL_PRECISION && sqlite3_value_type(argv[2 + i]) != SQLITE_NULL) {
      return modelsError(pVtab, "only name, path and precision can be set; the other columns "
                                "come from the model's config.json");
    }
  }
  int iPrec = CACHE_F32;
  if (sqlite3_value_type(argv[2 + COL_PRECISION]) != SQLITE_NULL) {
    const char *z = (const char *)sqlite3_value_text(argv[2 + COL_PRECISION]);
    if (!z) return SQLITE_NOMEM;
    if ((iPrec = modelsPrecision(z)) < 0) {
      char *zMsg =
          sqlite3_mprintf("precision must be 'f32' (the default, exact) or 'int8', not '%s'", z);
      if (!zMsg) return SQLITE_NOMEM;
      modelsError(pVtab, zMsg);
      sqlite3_free(zMsg);
      return SQLITE_ERROR;
    }
  }
  const char *zName = (const char *)sqlite3_value_text(argv[2 + COL_NAME]);
  const char *zPath = (const char *)sqlite3_value_text(argv[2 + COL_PATH]);
  if (!zName || !zName[0] || !zPath || !zPath[0]) {
    return modelsError(pVtab, "name and path must be non-empty text: INSERT INTO "
                              "sentiment_models(name, path) VALUES ('imdb', '/path/to/model')");
  }
  int eConflict = sqlite3_vtab_on_conflict(pTab->db);
  SntEntry *pOld = sntConnFind(p, zName);
  if (pOld && eConflict == SQLITE_IGNORE) { /* INSERT OR IGNORE: the name stays as it is */
    *pRowid = pOld->iRowid;
    return SQLITE_OK;
  }
  rc = sntConnAdd(p, zName, zPath, iPrec, eConflict == SQLITE_REPLACE, &zErr);
  if (rc == SQLITE_OK) {
    *pRowid = sntConnFind(p, zName)->iRowid;
  } else if (zErr) {
    modelsError(pVtab, zErr);
  }
  sqlite3_free(zErr);
  return rc;
}

static sqlite3_module modelsModule = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: no CREATE VIRTUAL TABLE */
    .xConnect = modelsConnect,
    .xBestIndex = modelsBestIndex,
    .xDisconnect = modelsDisconnect,
    .xDestroy = modelsDisconnect,
    .xOpen = modelsOpen,
    .xClose = modelsClose,
    .xFilter = modelsFilter,
    .xNext = modelsNext,
    .xEof = modelsEof,
    .xColumn = modelsColumn,
    .xRowid = modelsRowid,
    .xUpdate = modelsUpdate,
};

/* ---- sentiment_register(name, path [, precision]), sentiment_unregister(name) */

/* Register folder path under name (at precision 'f32', the default, or
** 'int8'), replacing what the name pointed at; returns the folder's
** realpath. A NULL or empty argument is an error, not NULL: a registration
** that silently did not happen would leave the name on its old model. */
static void registerFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  SntConn *p = sqlite3_user_data(ctx);
  const char *zName = (const char *)sqlite3_value_text(argv[0]);
  const char *zPath = (const char *)sqlite3_value_text(argv[1]);
  const char *zPrec = argc > 2 ? (const char *)sqlite3_value_text(argv[2]) : "f32";
  char *zErr = NULL;
  if (!zName || !zName[0] || !zPath || !zPath[0]) {
    sqlite3_result_error(ctx,
                         "sentiment_register(): name and path must be non-empty text: SELECT "
                         "sentiment_register('imdb', '/path/to/model')", -1);
    return;
  }
  int iPrec = zPrec ? modelsPrecision(zPrec) : -1;
  if (iPrec < 0) {
    sqlite3_result_error(
        ctx, "sentiment_register(): precision must be 'f32' (the default, exact) or 'int8'", -1);
    return;
  }
  int rc = sntConnAdd(p, zName, zPath, iPrec, 1, &zErr);
  if (rc == SQLITE_OK) {
    p->bDirect = 1;
    sqlite3_result_text(ctx, sntConnFind(p, zName)->zPath, -1, SQLITE_TRANSIENT);
  } else if (zErr) {
    char *z = sqlite3_mprintf("sentiment_register(): %s", zErr);
    if (z) sqlite3_result_error(ctx, z, -1);
    else sqlite3_result_error_nomem(ctx);
    sqlite3_free(z);
  } else {
    sqlite3_result_error_nomem(ctx);
  }
  sqlite3_free(zErr);
}

/* Drop name; 1 when it was registered, else 0. */
static void unregisterFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  SntConn *p = sqlite3_user_data(ctx);
  const char *zName = (const char *)sqlite3_value_text(argv[0]);
  if (!zName) {
    sqlite3_result_error(ctx, "sentiment_unregister(): the name must be text", -1);
    return;
  }
  SntEntry *e = sntConnFind(p, zName);
  if (e) sntConnRemove(p, e->iRowid);
  p->bDirect = 1;
  sqlite3_result_int(ctx, e != NULL);
}

/* sentiment_models, sentiment_register() and sentiment_unregister(), each
** holding a reference to p. The functions are SQLITE_DIRECTONLY like the
** table, and, being functions, cannot be hidden by a table of the same name. */
int sntRegisterModelsVtab(sqlite3 *db, SntConn *p) {
  int rc = SQLITE_OK;
  for (int nArg = 2; rc == SQLITE_OK && nArg <= 3; nArg++) {
    sntConnRef(p);
    rc = sqlite3_create_function_v2(db, "sentiment_register", nArg,
                                    SQLITE_UTF8 | SQLITE_DIRECTONLY, p, registerFunc, NULL, NULL,
                                    sntConnUnref);
  }
  if (rc != SQLITE_OK) return rc;
  sntConnRef(p);
  rc = sqlite3_create_function_v2(db, "sentiment_unregister", 1,
                                  SQLITE_UTF8 | SQLITE_DIRECTONLY, p, unregisterFunc, NULL, NULL,
                                  sntConnUnref);
  if (rc != SQLITE_OK) return rc;
  sntConnRef(p);
  return sqlite3_create_module_v2(db, "sentiment_models", &modelsModule, p, sntConnUnref);
}
