/*
** sentiment.c — a SQLite extension that classifies text with a DistilBERT or
** BERT sequence classifier, on the CPU.
**
**   .load ./sentiment
**   SELECT sentiment('A gripping, beautifully shot film.');  -- 'positive'
**   SELECT sentiment_score('Dull.');     -- P(positive), a REAL in [0, 1]
**   SELECT sentiment_scores('Dull.');    -- {"negative":0.9…,"positive":0.0…}
**   SELECT sentiment_logits('Dull.');    -- [1.6…,-1.5…]
**   SELECT * FROM sentiment_tokens('Unwatchable!');  -- pos, id, token, start, end
**   SELECT word, weight FROM sentiment_explain('Dull.');  -- which words pushed the score
**   SELECT sentiment_highlight('Dull.', 'default', 'html');  -- ... marked in the text
**
**   INSERT INTO sentiment_models(name, path) VALUES ('imdb', '/models/imdb');
**   SELECT sentiment(review, 'imdb') FROM reviews;
**   SELECT * FROM sentiment_models;        -- name, path, model_type, labels, …
**   SELECT sentiment_version();         -- '0.2.0 (model sha256:…)'
**   SELECT name, sha256 FROM sentiment_models;   -- which weights
**
** The model argument is a name from sentiment_models; without it, 'default':
** the folder in $SENTIMENT_MODEL, else the model embedded in this library.
** NULL in gives NULL out; numbers are scored as their text; a text longer than
** the model's limit (512 tokens) is truncated to its first 510 pieces.
**
** Files: this one (init, the registration table, the scalar functions),
** registry.c (the names a connection knows + its scratch buffers),
** result.c (logits to SQL values: label, score, JSON),
** model_cache.c (models loaded once per process, shared by every connection
** and thread), models_vtab.c, tokens_vtab.c, scan_vtab.c (sentiment_scan's
** SQL surface), scan_batch.c (its engine: rows in, logits out), explain.c
** (occlusion weights) with explain_vtab.c (sentiment_explain) and
** highlight.c (sentiment_highlight), default_model.S.
**
** Flags (also in README.md, "SQL reference"):
**   - The scalar functions are SQLITE_DETERMINISTIC: the same text and model
**     name give the same value, so `CREATE INDEX … ON reviews(sentiment(text))`,
**     generated columns and partial indexes can use them. (If you re-point a
**     name that an index uses at another folder, REINDEX.)
**   - They are SQLITE_INNOCUOUS, usable from views, triggers and indexes even
**     with PRAGMA trusted_schema=OFF: they read only the default model and the
**     folders that this connection registered itself, by direct SQL — a
**     schema cannot make them open a path of its choosing.
**   - sentiment_tokens and sentiment_explain are SQLITE_VTAB_INNOCUOUS for the
**     same reason.
**   - sentiment_models is SQLITE_VTAB_DIRECTONLY (as csv.c): an INSERT names
**     a path that is then read, and a schema someone else wrote (a trigger or
**     a view in a database file you open) must not be able to do that.
*/
#include <pthread.h>
#include <string.h>

#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1

#include "blas_threads.h"
#include "interrupt.h"
#include "model_hash.h"
#include "registry.h"
#include "result.h"

/* The library version: the file VERSION, passed by the Makefile (semver;
** CHANGELOG.md says what each one changed). */
#ifndef SNT_VERSION
#error "build with -DSNT_VERSION=\"x.y.z\" (the Makefile reads it from VERSION)"
#endif

/* In models_vtab.c, tokens_vtab.c, explain_vtab.c, scan_vtab.c and highlight.c. */
int sntRegisterModelsVtab(sqlite3 *db, SntConn *p); /* sentiment_models, sentiment_register */
int sntRegisterTokensVtab(sqlite3 *db, SntConn *p);
int sntRegisterExplainVtab(sqlite3 *db, SntConn *p);
int sntRegisterScanVtab(sqlite3 *db, SntConn *p); /* sentiment_scan, sentiment_threads, sentiment_progress */
void sntHighlightFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv);

/* What a scalar call returns, and the name its errors start with. */
enum { OUT_LABEL, OUT_SCORE, OUT_SCORES, OUT_LOGITS };
static const char *const azFuncName[] = {"sentiment()", "sentiment_score()",
                                         "sentiment_scores()", "sentiment_logits()"};

static void resultError(sqlite3_context *ctx, int rc, char *zErr) {
  if (rc == SQLITE_NOMEM || !zErr) {
    sqlite3_result_error_nomem(ctx);
  } else {
    sqlite3_result_error(ctx, zErr, -1);
  }
  sqlite3_free(zErr);
}

/* Keep text as the one whose logits e->aLogit holds: the next call with the
** same text and model (sentiment(t) and sentiment_score(t) in one row) reuses
** them. Texts over MEMO_MAX_BYTES are not kept (the buffer would stay that
** big); neither when the copy cannot be allocated: it is only a shortcut. */
#define MEMO_MAX_BYTES 65536
static void rememberText(SntEntry *e, const char *zText, size_t nText) {
  if (nText > MEMO_MAX_BYTES) return;
  if (nText > e->nLastAlloc) {
    size_t nNew = nText < 256 ? 256 : nText;
    char *z = sqlite3_realloc64(e->zLast, nNew);
    if (!z) return;
    e->zLast = z;
    e->nLastAlloc = nNew;
  }
  if (nText) memcpy(e->zLast, zText, nText);
  e->nLast = nText;
  e->bLast = 1;
}

/* The four scalar functions: check the model file, tokenize, forward (unless
** the text is the one just scored), then shape the logits. */
static void scoreFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv, int eOut) {
  SntConn *p = sqlite3_user_data(ctx);
  const char *zFunc = azFuncName[eOut];
  const char *zModel = NULL;
  SntEntry *e;
  char *zErr = NULL;
  snt_error err = {0};
  int rc;

  for (int i = 0; i < argc; i++)
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return; /* NULL in, NULL out */
  if (argc > 1 && !(zModel = (const char *)sqlite3_value_text(argv[1]))) goto nomem;
  rc = sntConnModel(p, zFunc, zModel, &e, &zErr);
  /* Every call, memoised or not: with SENTIMENT_MMAP=1, a model file
  ** truncated in place would make the forward pass SIGBUS
  ** (snt_model_check_file); say so as an error. (Weights read into memory,
  ** the default: always fine.) */
  if (rc == SQLITE_OK) rc = sntEntryCheckFile(e, zFunc, &zErr);
  if (rc != SQLITE_OK) {
    resultError(ctx, rc, zErr);
    return;
  }
  const char *zText = (const char *)sqlite3_value_text(argv[0]);
  if (!zText) goto nomem;
  size_t nText = (size_t)sqlite3_value_bytes(argv[0]);
  const snt_model *m = cacheModel(e->pModel);
  if (!(e->bLast && e->nLast == nText && (nText == 0 || memcmp(e->zLast, zText, nText) == 0))) {
    e->bLast = 0;
    /* The connection's thread count splits the products (core/pool.c), within
    ** the process-wide budget set at init. */
    if (sntConnTokenize(p, e, zText, nText, &err) == SNT_OK &&
        snt_state_set_threads(e->pState, sntConnThreads(p), &err) == SNT_OK) {
      /* Interruptible between layers: sqlite3_interrupt() makes the call
      ** return SQLITE_INTERRUPT within one layer (after its first 5 ms:
      ** shorter calls never prepare the probe; ext/interrupt.h). */
      SntInterrupt in;
      sntInterruptBegin(&in, sqlite3_context_db_handle(ctx), 0.005);
      snt_state_set_cancel(e->pState, sntInterruptCancel, &in);
      sntBlasEnter();
      snt_forward(m, e->pState, p->aId, p->toks.n, e->aLogit, &err);
      sntBlasLeave();
      snt_state_set_cancel(e->pState, NULL, NULL);
      sntInterruptEnd(&in);
    }
    if (err.code != SNT_OK) {
      if (err.code == SNT_ERR_NOMEM) goto nomem;
      if (err.code == SNT_ERR_INTERRUPTED) {
        resultError(ctx, SQLITE_ERROR, sqlite3_mprintf("%s: interrupted", zFunc));
        sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
        return;
      }
      resultError(ctx, SQLITE_ERROR, sqlite3_mprintf("%s: %s", zFunc, err.msg));
      return;
    }
    rememberText(e, zText, nText);
  }

  const snt_config *cfg = snt_model_config(m);
  switch (eOut) {
    case OUT_LABEL:
      sqlite3_result_text(ctx, cfg->labels[sntArgmax(e->aLogit, cfg->n_labels)], -1,
                          SQLITE_TRANSIENT);
      return;
    case OUT_SCORE: {
      int iPos = cachePositiveLabel(e->pModel);
      if (iPos >= 0) sqlite3_result_double(ctx, sntProb(e->aLogit, cfg->n_labels, iPos));
      return; /* no positive class: NULL */
    }
    default: {
      sqlite3_str *s = sqlite3_str_new(sqlite3_context_db_handle(ctx));
      if (eOut == OUT_SCORES) sntStrScores(s, cfg, e->aLogit);
      else sntStrLogits(s, e->aLogit, cfg->n_labels);
      sntResultStr(ctx, s, 1); /* or its error */
      return;
    }
  }
nomem:
  sqlite3_result_error_nomem(ctx);
}

static void sentimentFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  scoreFunc(ctx, argc, argv, OUT_LABEL);
}
static void scoreOneFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  scoreFunc(ctx, argc, argv, OUT_SCORE);
}
static void scoresFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  scoreFunc(ctx, argc, argv, OUT_SCORES);
}
static void logitsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  scoreFunc(ctx, argc, argv, OUT_LOGITS);
}

/* "0.2.0 (model sha256:<the first 16 hex digits of the embedded weights'
** SHA-256>)", or "0.2.0 (no embedded model)": the library's version and
** which default model is built in (the full hash: the sha256 column of
** sentiment_models). The first call hashes the embedded bytes (model_hash.h). */
static void versionFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  (void)argv;
  const char *zHex = sntEmbeddedSha256();
  char *z = zHex ? sqlite3_mprintf("%s (model sha256:%.16s)", SNT_VERSION, zHex)
                 : sqlite3_mprintf("%s (no embedded model)", SNT_VERSION);
  if (z) sqlite3_result_text(ctx, z, -1, sqlite3_free);
  else sqlite3_result_error_nomem(ctx);
}

#define SCALAR_FLAGS (SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS)
/* The JSON results carry subtype 'J' so that json_object() nests them as JSON.
** SQLite 3.45+ wants functions that set a subtype to say so (else it may drop
** the subtype in an index expression); older versions ignore the bit, so it
** is passed even when built against 3.40's headers (the library loaded at run
** time may be newer: better-sqlite3 brings its own). */
#ifndef SQLITE_RESULT_SUBTYPE
#define SQLITE_RESULT_SUBTYPE 0x001000000
#endif
#define JSON_FLAGS (SCALAR_FLAGS | SQLITE_RESULT_SUBTYPE)

static const struct {
  const char *zName;
  int nArg;
  int flags;
  void (*xFunc)(sqlite3_context *, int, sqlite3_value **);
} aFunc[] = {
    {"sentiment", 1, SCALAR_FLAGS, sentimentFunc},
    {"sentiment", 2, SCALAR_FLAGS, sentimentFunc},
    {"sentiment_score", 1, SCALAR_FLAGS, scoreOneFunc},
    {"sentiment_score", 2, SCALAR_FLAGS, scoreOneFunc},
    {"sentiment_scores", 1, JSON_FLAGS, scoresFunc},
    {"sentiment_scores", 2, JSON_FLAGS, scoresFunc},
    {"sentiment_logits", 1, JSON_FLAGS, logitsFunc},
    {"sentiment_logits", 2, JSON_FLAGS, logitsFunc},
    {"sentiment_highlight", 1, SCALAR_FLAGS, sntHighlightFunc},
    {"sentiment_highlight", 2, SCALAR_FLAGS, sntHighlightFunc},
    {"sentiment_highlight", 3, SCALAR_FLAGS, sntHighlightFunc},
    {"sentiment_version", 0, SCALAR_FLAGS, versionFunc},
};

/* The virtual tables, each registered by its own file (which takes its
** references to the SntConn). */
static const struct {
  const char *zName;
  int (*xRegister)(sqlite3 *, SntConn *);
} aModule[] = {
    {"sentiment_models", sntRegisterModelsVtab},
    {"sentiment_tokens", sntRegisterTokensVtab},
    {"sentiment_explain", sntRegisterExplainVtab},
    {"sentiment_scan", sntRegisterScanVtab}, /* and sentiment_threads(), sentiment_progress() */
};

/* SQLITE_EXTENSION_INIT2 is a plain store into the global sqlite3_api on
** every sqlite3_open. Connections opened on several threads while others
** call SQLite through that pointer race on it (the same value, but a data
** race all the same: ThreadSanitizer reports it), so it is stored under a
** mutex, and only when it changes. */
static pthread_mutex_t apiMutex = PTHREAD_MUTEX_INITIALIZER;

/* fork(): held around it, so that a child never inherits it locked. */
static void apiForkPrepare(void) { pthread_mutex_lock(&apiMutex); }
static void apiForkParent(void) { pthread_mutex_unlock(&apiMutex); }
static void apiForkChild(void) { pthread_mutex_init(&apiMutex, NULL); }

__attribute__((constructor)) static void apiInit(void) {
  pthread_atfork(apiForkPrepare, apiForkParent, apiForkChild);
}

#ifdef _WIN32
__declspec(dllexport)
#endif
__attribute__((visibility("default"))) int sqlite3_sentiment_init(
    sqlite3 *db, char **pzErrMsg, const sqlite3_api_routines *pApi) {
  pthread_mutex_lock(&apiMutex);
  if (sqlite3_api != pApi) SQLITE_EXTENSION_INIT2(pApi);
  pthread_mutex_unlock(&apiMutex);
  snt_pool_set_budget(sntDefaultThreads()); /* $SENTIMENT_THREADS, else the CPUs */
  SntConn *p = sntConnNew();
  int rc = SQLITE_OK;
  if (!p) return SQLITE_NOMEM;
  p->db = db;
  /* Each registration holds a reference to p, dropped by its destructor
  ** (which SQLite also calls when the registration itself fails). */
  sntConnRef(p);
  for (size_t i = 0; rc == SQLITE_OK && i < sizeof aFunc / sizeof aFunc[0]; i++) {
    sntConnRef(p);
    rc = sqlite3_create_function_v2(db, aFunc[i].zName, aFunc[i].nArg, aFunc[i].flags, p,
                                    aFunc[i].xFunc, NULL, NULL, sntConnUnref);
    if (rc != SQLITE_OK && pzErrMsg)
      *pzErrMsg = sqlite3_mprintf("sentiment: cannot register %s(): %s", aFunc[i].zName,
                                  sqlite3_errmsg(db));
  }
  for (size_t i = 0; rc == SQLITE_OK && i < sizeof aModule / sizeof aModule[0]; i++) {
    rc = aModule[i].xRegister(db, p);
    if (rc != SQLITE_OK && pzErrMsg)
      *pzErrMsg = sqlite3_mprintf("sentiment: cannot register %s: %s", aModule[i].zName,
                                  sqlite3_errmsg(db));
  }
  sntConnUnref(p);
  return rc;
}
