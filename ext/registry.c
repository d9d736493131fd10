/*
** registry.c — per-connection model names and scratch buffers (registry.h).
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry.h"
SQLITE_EXTENSION_INIT3

static void entryFree(SntEntry *e) {
  if (!e) return;
  snt_state_free(e->pState);
  cacheRelease(e->pModel);
  if (e->eCfg == 1) snt_config_free(&e->cfg);
  sqlite3_free(e->aLogit);
  sqlite3_free(e->zLast);
  sqlite3_free(e->zName);
  sqlite3_free(e->zPath);
  sqlite3_free(e);
}

/* A new entry appended to p, or NULL when out of memory. zPath may be NULL. */
static SntEntry *entryAppend(SntConn *p, const char *zName, const char *zPath) {
  if (p->nEntry == p->nAlloc) {
    int nNew = p->nAlloc ? 2 * p->nAlloc : 4;
    SntEntry **a = sqlite3_realloc64(p->apEntry, (sqlite3_uint64)nNew * sizeof *a);
    if (!a) return NULL;
    p->apEntry = a;
    p->nAlloc = nNew;
  }
  SntEntry *e = sqlite3_malloc(sizeof *e);
  if (!e) return NULL;
  memset(e, 0, sizeof *e);
  e->zName = sqlite3_mprintf("%s", zName);
  e->zPath = zPath ? sqlite3_mprintf("%s", zPath) : NULL;
  if (!e->zName || (zPath && !e->zPath)) {
    entryFree(e);
    return NULL;
  }
  e->iRowid = ++p->iNextRowid;
  p->apEntry[p->nEntry++] = e;
  return e;
}

SntConn *sntConnNew(void) {
  SntConn *p = sqlite3_malloc(sizeof *p);
  if (!p) return NULL;
  memset(p, 0, sizeof *p);
  /* Read the environment only: no file is touched until a call needs it. */
  const char *zEnv = getenv("SENTIMENT_MODEL");
  if (!entryAppend(p, "default", zEnv && zEnv[0] ? zEnv : NULL)) {
    sntConnUnref(p);
    return NULL;
  }
  return p;
}

void sntConnRef(SntConn *p) { p->nRef++; }

int sntDefaultThreads(void) {
  const char *z = getenv("SENTIMENT_THREADS");
  if (z && *z) {
    char *end;
    long n = strtol(z, &end, 10);
    if (*end == 0 && n >= 1 && n <= 64) return (int)n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

int sntConnThreads(const SntConn *p) { return p->nThread ? p->nThread : sntDefaultThreads(); }

void sntConnUnref(void *pArg) {
  SntConn *p = pArg;
  if (!p || --p->nRef > 0) return;
  for (int i = 0; i < p->nEntry; i++) entryFree(p->apEntry[i]);
  sqlite3_free(p->apEntry);
  snt_tokens_free(&p->toks);
  sqlite3_free(p->aId);
  sqlite3_free(p);
}

SntEntry *sntConnFind(SntConn *p, const char *zName) {
  for (int i = 0; i < p->nEntry; i++)
    if (strcmp(p->apEntry[i]->zName, zName) == 0) return p->apEntry[i];
  return NULL;
}

SntEntry *sntConnFindRowid(SntConn *p, sqlite3_int64 iRowid) {
  for (int i = 0; i < p->nEntry; i++)
    if (p->apEntry[i]->iRowid == iRowid) return p->apEntry[i];
  return NULL;
}

SntEntry *sntConnNext(SntConn *p, sqlite3_int64 iRowid) {
  for (int i = 0; i < p->nEntry; i++) /* apEntry is in rowid order */
    if (p->apEntry[i]->iRowid > iRowid) return p->apEntry[i];
  return NULL;
}

void sntConnRemove(SntConn *p, sqlite3_int64 iRowid) {
  for (int i = 0; i < p->nEntry; i++) {
    if (p->apEntry[i]->iRowid != iRowid) continue;
    entryFree(p->apEntry[i]);
    memmove(&p->apEntry[i], &p->apEntry[i + 1], (size_t)(p->nEntry - i - 1) * sizeof *p->apEntry);
    p->nEntry--;
    return;
  }
}

/* Parse e's config.json into e->cfg (the core reads the file: one size cap,
** one set of messages). */
static int entryParseConfig(SntEntry *e, snt_error *err) {
  const char *zConfig, *zVocab;
  const void *pWeights;
  size_t nConfig, nVocab, nWeights;
  if (e->zPath) return snt_config_load(e->zPath, &e->cfg, err);
  if (!cacheEmbedded(&zConfig, &nConfig, &zVocab, &nVocab, &pWeights, &nWeights))
    return snt_error_set(err, SNT_ERR_ARG, "no embedded model");
  return snt_config_parse(zConfig, nConfig, &e->cfg, err);
}

const snt_config *sntEntryConfig(SntEntry *e) {
  if (e->pModel) return snt_model_config(cacheModel(e->pModel));
  if (e->eCfg == 0) {
    snt_error err = {0};
    e->eCfg = entryParseConfig(e, &err) == SNT_OK ? 1 : 2;
  }
  return e->eCfg == 1 ? &e->cfg : NULL;
}

int sntConnAdd(SntConn *p, const char *zName, const char *zPath, int iPrec, int bReplace,
               char **pzErr) {
  char *zReal = NULL;
  struct stat st;
  SntEntry *pOld = sntConnFind(p, zName), *e;
  snt_error err = {0};
  int rc = SQLITE_ERROR;
  *pzErr = NULL;
  if (pOld && !bReplace) {
    *pzErr = sqlite3_mprintf("a model named '%s' already exists (DELETE it first, or INSERT OR "
                             "REPLACE)", zName);
    goto done;
  }
  if (!(zReal = realpath(zPath, NULL))) {
    if (errno == ENOMEM) goto nomem;
    *pzErr = sqlite3_mprintf("cannot open model '%s': %s", zPath, strerror(errno));
    goto done;
  }
  if (stat(zReal, &st) != 0 || !S_ISDIR(st.st_mode)) {
    *pzErr = sqlite3_mprintf("cannot open model '%s': not a folder (a HuggingFace model folder "
                             "holds config.json, vocab.txt and model.safetensors)", zPath);
    goto done;
  }
  if (!(e = entryAppend(p, zName, zReal))) goto nomem;
  e->iPrec = iPrec;
  /* Parse config.json now, so that a wrong folder fails here and not at the
  ** first sentiment() call; the weights are still loaded lazily. */
  rc = entryParseConfig(e, &err);
  if (rc != SNT_OK) {
    sntConnRemove(p, e->iRowid);
    if (rc == SNT_ERR_NOMEM) goto nomem;
    *pzErr = sqlite3_mprintf("%s", err.msg); /* names the file and the cause */
    rc = SQLITE_ERROR;
    goto done;
  }
  e->eCfg = 1;
  if (pOld) sntConnRemove(p, pOld->iRowid);
  rc = SQLITE_OK;
  goto done;
nomem:
  rc = SQLITE_NOMEM;
done:
  if (rc == SQLITE_ERROR && !*pzErr) rc = SQLITE_NOMEM;
  free(zReal);
  return rc;
}

/* Load e's model (shared through the cache) and this connection's scratch. */
static int entryAttach(SntEntry *e, snt_error *err) {
  char *zReal = NULL;
  if (e->zPath && !(zReal = realpath(e->zPath, NULL))) {
    int iErr = errno;
    return snt_error_set(err, iErr == ENOMEM ? SNT_ERR_NOMEM : SNT_ERR_IO,
                         "cannot open model '%.900s': %s", e->zPath, strerror(iErr));
  }
  e->pModel = cacheAcquire(zReal, e->iPrec, err);
  free(zReal);
  if (!e->pModel) return err->code;
  const snt_model *m = cacheModel(e->pModel);
  e->pState = snt_state_new(m, snt_model_max_len(m), err);
  e->aLogit = sqlite3_malloc64((sqlite3_uint64)snt_model_config(m)->n_labels * sizeof(float));
  if (!e->pState || !e->aLogit) {
    int rc = e->pState ? SNT_ERR_NOMEM : err->code;
    snt_state_free(e->pState);
    sqlite3_free(e->aLogit);
    cacheRelease(e->pModel);
    e->pState = NULL;
    e->aLogit = NULL;
    e->pModel = NULL;
    return err->code = rc;
  }
  return SNT_OK;
}

int sntConnCheckShadow(SntConn *p, const char *zFunc, char **pzErr) {
  *pzErr = NULL;
  if (!p->db || p->bDirect) return SQLITE_OK;
  sqlite3_stmt *pStmt = NULL;
  p->bResolved = 0; /* models_vtab.c's xBestIndex sets it */
  int rc = sqlite3_prepare_v2(p->db, "SELECT 1 FROM sentiment_models", -1, &pStmt, NULL);
  sqlite3_finalize(pStmt);
  if (rc == SQLITE_NOMEM) return SQLITE_NOMEM;
  if (p->bResolved || (rc != SQLITE_OK && rc != SQLITE_ERROR)) return SQLITE_OK;
  *pzErr = sqlite3_mprintf(
      "%s: a table or view named sentiment_models in a database of this connection hides the "
      "model registry: INSERT INTO sentiment_models writes into it and registers nothing. Drop "
      "or rename it, or register with SELECT sentiment_register(name, path)", zFunc);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

int sntConnModel(SntConn *p, const char *zFunc, const char *zName, SntEntry **ppEntry,
                 char **pzErr) {
  SntEntry *e = sntConnFind(p, zName ? zName : "default");
  *ppEntry = NULL;
  int rc = sntConnCheckShadow(p, zFunc, pzErr);
  if (rc != SQLITE_OK) return rc;
  if (!e) {
    *pzErr = sqlite3_mprintf("%s: no model named '%s' (see SELECT name FROM sentiment_models)",
                             zFunc, zName ? zName : "default");
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  if (!e->pModel) {
    const char *z1, *z2;
    const void *pW;
    size_t n1, n2, nW;
    if (!e->zPath && !cacheEmbedded(&z1, &n1, &z2, &n2, &pW, &nW)) {
      /* Only the initial 'default' entry has no path. */
      *pzErr = sqlite3_mprintf(
          "%s: no default model: this build embeds none; set SENTIMENT_MODEL to a model "
          "folder, or register one: INSERT OR REPLACE INTO sentiment_models(name, path) "
          "VALUES ('default', '/path/to/model')",
          zFunc);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    snt_error err = {0};
    if (entryAttach(e, &err) != SNT_OK) {
      if (err.code == SNT_ERR_NOMEM) return SQLITE_NOMEM;
      *pzErr = sqlite3_mprintf("%s: %s", zFunc, err.msg);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  *ppEntry = e;
  return SQLITE_OK;
}

int sntEntryCheckFile(SntEntry *e, const char *zFunc, char **pzErr) {
  snt_error err;
  err.code = SNT_OK;
  *pzErr = NULL;
  if (snt_model_check_file(cacheModel(e->pModel), &err) == SNT_OK) return SQLITE_OK;
  *pzErr = sqlite3_mprintf("%s: %s", zFunc, err.msg);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

int sntConnTokenize(SntConn *p, SntEntry *e, const char *text, size_t n, snt_error *err) {
  const snt_model *m = cacheModel(e->pModel);
  int rc = snt_tokenize(snt_model_vocab(m), text, n, snt_model_max_len(m), &p->toks, err);
  if (rc != SNT_OK) return rc;
  if (p->toks.n > p->nIdAlloc) {
    int32_t *a = sqlite3_realloc64(p->aId, (sqlite3_uint64)p->toks.n * sizeof *a);
    if (!a) return snt_error_set(err, SNT_ERR_NOMEM, "out of memory");
    p->aId = a;
    p->nIdAlloc = p->toks.n;
  }
  for (int i = 0; i < p->toks.n; i++) p->aId[i] = p->toks.tok[i].id;
  return SNT_OK;
}
