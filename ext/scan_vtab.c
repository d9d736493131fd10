/*
** scan_vtab.c — sentiment_scan: score every row a query returns, in batches,
** on all cores.
**
**   SELECT * FROM sentiment_scan('SELECT id, text FROM reviews');
**   SELECT key, label, score FROM sentiment_scan('SELECT id, text FROM reviews', 'imdb');
**   SELECT sentiment_threads();      -- workers a scan uses on this connection
**   SELECT sentiment_threads(1);     -- set them (0: back to the default)
**
** The query runs on the same connection. Its first column is passed through
** as `key`, its second is the text (converted as sentiment() converts it;
** further columns are ignored). Each row gives
**
**   key        the query's first column, unchanged
**   label      sentiment(text): id2label of the argmax, NULL when text is NULL
**   score      sentiment_score(text)
**   n_tokens   tokens the model saw, [CLS] and [SEP] included
**   truncated  1 when the text was cut to the model's max_len, else 0
**   logits     the raw logits as a JSON array, e.g. [-1.25,0.5]
**
** The values are those of sentiment(), sentiment_score() and
** sentiment_logits() for the same text and model: the same tokens, label and
** formulas. Scores and logits agree to float rounding (≤ 1e-6 in
** tests/test_scan.c), not always to the last bit: OpenBLAS rounds a row of a
** product differently depending on how many rows share the call, and the scan
** packs many sequences into one call. Results do not depend on the thread
** count (each chunk is computed the same way whichever worker takes it).
**
** How it runs: rows are read in batches (up to SCAN_BATCH_ROWS rows or
** SCAN_BATCH_TOKENS tokens), tokenized, sorted by length and cut into chunks
** of at most SCAN_CHUNK_TOKENS tokens; each chunk is one snt_forward_batch on
** packed sequences (no padding), run after checking that the model file was
** not changed on disk (snt_model_check_file; also once as the scan starts: a
** file truncated in place is an error, not a SIGBUS). The chunks of a batch
** are shared out to sentiment_threads() workers, each with its own snt_state,
** OpenBLAS held at one thread while they run (see ext/blas_threads.h: measured
** faster than giving OpenBLAS both cores — bench/README.md).
**
** Threads: the default is $SENTIMENT_THREADS when it holds a number in
** 1..SCAN_MAX_THREADS, else the number of online CPUs (capped at 8).
**
** Interrupts: sqlite3_interrupt() stops a scan within one chunk. SQLite 3.40
** (Debian 12) has no sqlite3_is_interrupted() (3.41+), so between chunks the
** calling thread steps a prepared "SELECT 1" on the connection: once the
** connection is interrupted that step returns SQLITE_INTERRUPT, and the scan
** returns it too. Between batches the user's own statement reports it.
**
** Progress: with SENTIMENT_PROGRESS=1 in the environment, a scan counts the
** query's rows first, then writes a line to stderr at most once a second:
** rows done, rows/s, tokens/s and the time left.
**
** Security: the table is SQLITE_VTAB_DIRECTONLY and the query must be
** read-only (sqlite3_stmt_readonly): a view or trigger in a database someone
** else wrote cannot use sentiment_scan to run SQL of its choosing.
*/
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blas_threads.h"
#include "registry.h"
SQLITE_EXTENSION_INIT3

#define SCAN_BATCH_ROWS 256      /* rows read from the query per batch */
#define SCAN_BATCH_TOKENS 32768  /* ...or fewer once their tokens reach this */
/* Tokens per snt_forward_batch (≥ max_len). 2,048 beat 1,024 by 5–6% and
** 4,096 by 12% on DistilBERT-base, 2 workers (bench/README.md). */
#define SCAN_CHUNK_TOKENS 2048
#define SCAN_MAX_THREADS 64

/* Columns; the last two are the function's arguments. */
enum {
  SCAN_KEY, SCAN_LABEL, SCAN_SCORE, SCAN_NTOK, SCAN_TRUNC, SCAN_LOGITS,
  SCAN_QUERY, SCAN_MODEL
};

/* ---- thread count ----------------------------------------------------- */

/* Per connection, shared by the module and sentiment_threads() (each holds
** a reference; the last destructor frees it and drops its SntConn reference). */
typedef struct ScanConn {
  SntConn *pSnt;   /* the connection's model names (registry.h) */
  int nThread;     /* what sentiment_threads() set; 0: the default */
  int nRef;
} ScanConn;

static void scanConnUnref(void *p) {
  ScanConn *c = p;
  if (--c->nRef == 0) {
    sntConnUnref(c->pSnt);
    sqlite3_free(c);
  }
}

static int scanDefaultThreads(void) {
  const char *z = getenv("SENTIMENT_THREADS");
  if (z && *z) {
    char *end;
    long n = strtol(z, &end, 10);
    if (*end == 0 && n >= 1 && n <= SCAN_MAX_THREADS) return (int)n;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

static int scanThreads(const ScanConn *c) {
  return c->nThread ? c->nThread : scanDefaultThreads();
}

/* sentiment_threads() / sentiment_threads(n) */
static void scanThreadsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  ScanConn *c = sqlite3_user_data(ctx);
  if (argc > 1) {
    sqlite3_result_error(ctx, "sentiment_threads: takes 0 or 1 argument", -1);
    return;
  }
  if (argc == 1) {
    if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER) {
      sqlite3_result_error(ctx, "sentiment_threads: n must be an integer from 0 to 64", -1);
      return;
    }
    sqlite3_int64 n = sqlite3_value_int64(argv[0]);
    if (n < 0 || n > SCAN_MAX_THREADS) {
      sqlite3_result_error(ctx, "sentiment_threads: n must be an integer from 0 to 64", -1);
      return;
    }
    c->nThread = (int)n;
  }
  sqlite3_result_int(ctx, scanThreads(c));
}

/* ---- structures ------------------------------------------------------- */

typedef struct ScanVtab {
  sqlite3_vtab base;
  sqlite3 *db;
  ScanConn *pConn;
} ScanVtab;

/* One row of the current batch. */
typedef struct ScanRow {
  sqlite3_value *pKey;  /* the query's first column (sqlite3_value_dup) */
  int isNull;           /* text was NULL: label, score... are NULL */
  int nTok;             /* tokens, [CLS] and [SEP] included */
  int truncated;
  int iIds;             /* its ids start at aIds[iIds] */
} ScanRow;

/* One snt_forward_batch call: sorted sequences [iSeq, iSeq+nSeq), their ids
** at aPacked[iId...], their nSeq+1 offsets (from iId) at aOff[iOff...]. */
typedef struct ScanChunk {
  int iSeq, nSeq;
  int iId, iOff;
  int nTok;
  double cost;          /* FLOPs, to hand out the largest chunks first */
} ScanChunk;

typedef struct ScanCursor {
  sqlite3_vtab_cursor base;
  sqlite3 *db;
  sqlite3_stmt *pStmt;       /* the user's query */
  sqlite3_stmt *pProbe;      /* "SELECT 1": sees sqlite3_interrupt (header comment) */
  CachedModel *pCached;      /* our own reference: keeps pModel alive */
  const snt_model *pModel;
  int nClass, maxLen;
  int iPositive;             /* label sentiment_score() reports; -1: none */
  snt_tokens toks;           /* tokenizer scratch */

  ScanRow *aRow;             /* current batch: nRow rows, iRow the current one */
  int nRow, iRow;
  int32_t *aIds;             /* their token ids, row after row */
  int nIds, nIdsAlloc;
  float *aLogit;             /* (nRow, nClass) */
  int stmtDone;              /* the query returned SQLITE_DONE */
  sqlite3_int64 iRowid;

  /* Workers: one snt_state each, made on first use and kept. */
  snt_state **apState;
  int nState;

  /* Progress (SENTIMENT_PROGRESS=1). */
  int bProgress;
  sqlite3_int64 nTotal;      /* rows in the query, -1 when unknown */
  sqlite3_int64 nDone, nTokDone;
  double tStart, tLastReport;
} ScanCursor;

/* ---- helpers ---------------------------------------------------------- */

static double scanNow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Sets the table's error message ("sentiment_scan: " + the format) and
** returns rc. */
static int scanSetError(ScanCursor *pCur, int rc, const char *zFmt, ...) {
  sqlite3_vtab *pVtab = pCur->base.pVtab;
  va_list ap;
  va_start(ap, zFmt);
  char *z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  sqlite3_free(pVtab->zErrMsg);
  pVtab->zErrMsg = z ? sqlite3_mprintf("sentiment_scan(): %z", z) : NULL;
  return rc;
}

/* Drop the current batch's rows. */
static void scanClearBatch(ScanCursor *pCur) {
  for (int i = 0; i < pCur->nRow; i++) sqlite3_value_free(pCur->aRow[i].pKey);
  pCur->nRow = pCur->iRow = 0;
  pCur->nIds = 0;
}

/* Everything one xFilter set up, so that the cursor can be filtered again. */
static void scanReset(ScanCursor *pCur) {
  scanClearBatch(pCur);
  sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = NULL;
  cacheRelease(pCur->pCached);
  pCur->pCached = NULL;
  pCur->pModel = NULL;
  for (int i = 0; i < pCur->nState; i++) snt_state_free(pCur->apState[i]);
  sqlite3_free(pCur->apState);
  pCur->apState = NULL;
  pCur->nState = 0;
  pCur->stmtDone = 1;
  pCur->iRowid = 0;
}

/* ---- the parallel forward pass ----------------------------------------- */

typedef struct ScanJob {
  const snt_model *pModel;
  snt_state **apState;
  const int32_t *aIds;       /* packed in sorted order */
  const int *aOff;           /* offsets, ScanChunk.iOff */
  const ScanChunk *aChunk;
  int nChunk, nClass;
  float *aLogit;             /* (sorted sequence, nClass) */
  ScanCursor *pCur;          /* only the calling thread probes it */
  int iNext;                 /* next chunk to take (atomic) */
  int bStop;                 /* set on error or interrupt (atomic) */
  int bInterrupted;
  pthread_mutex_t mutex;     /* guards err */
  snt_error err;
} ScanJob;

typedef struct ScanWorker {
  ScanJob *pJob;
  int iWorker;
  pthread_t thread;
} ScanWorker;

/* Has the connection been interrupted? Only the thread that holds the
** connection (the one in xFilter/xNext) may call this. */
static int scanInterrupted(ScanCursor *pCur) {
  if (!pCur->pProbe) return 0;
  int rc = sqlite3_step(pCur->pProbe);
  sqlite3_reset(pCur->pProbe);
  return rc == SQLITE_INTERRUPT;
}

static void scanWork(ScanJob *pJob, int iWorker) {
  snt_state *pState = pJob->apState[iWorker];
  for (;;) {
    if (__atomic_load_n(&pJob->bStop, __ATOMIC_ACQUIRE)) break;
    int k = __atomic_fetch_add(&pJob->iNext, 1, __ATOMIC_ACQ_REL);
    if (k >= pJob->nChunk) break;
    const ScanChunk *c = &pJob->aChunk[k];
    snt_error err = {0, {0}};
    /* Before each chunk: a model file truncated in place since the scan
    ** began would make the forward pass SIGBUS (snt_model_check_file). */
    int rc = snt_model_check_file(pJob->pModel, &err);
    if (rc == SNT_OK)
      rc = snt_forward_batch(pJob->pModel, pState, c->nSeq, pJob->aIds + c->iId,
                             pJob->aOff + c->iOff,
                             pJob->aLogit + (size_t)c->iSeq * pJob->nClass, &err);
    if (rc != SNT_OK) {
      pthread_mutex_lock(&pJob->mutex);
      if (pJob->err.code == SNT_OK) pJob->err = err;
      if (pJob->err.code == SNT_OK) pJob->err.code = rc;
      pthread_mutex_unlock(&pJob->mutex);
      __atomic_store_n(&pJob->bStop, 1, __ATOMIC_RELEASE);
      break;
    }
    if (iWorker == 0 && scanInterrupted(pJob->pCur)) {
      pJob->bInterrupted = 1;
      __atomic_store_n(&pJob->bStop, 1, __ATOMIC_RELEASE);
      break;
    }
  }
}

static void *scanWorkerMain(void *p) {
  ScanWorker *w = p;
  scanWork(w->pJob, w->iWorker);
  return NULL;
}

static int scanCmpLen(const void *a, const void *b, void *ctx) {
  const ScanRow *aRow = ctx;
  int x = *(const int *)a, y = *(const int *)b;
  int d = aRow[y].nTok - aRow[x].nTok; /* longest first */
  return d ? d : x - y;
}

static int scanCmpCost(const void *a, const void *b) {
  const ScanChunk *x = a, *y = b;
  return x->cost < y->cost ? 1 : x->cost > y->cost ? -1 : x->iSeq - y->iSeq;
}

/* Logits of every non-NULL row of the batch into aLogit. */
static int scanForward(ScanCursor *pCur) {
  const snt_config *cfg = snt_model_config(pCur->pModel);
  int nSeq = 0, nThread = scanThreads(((ScanVtab *)pCur->base.pVtab)->pConn);
  int rc = SQLITE_OK;
  int *aOrder = NULL, *aOff = NULL;
  int32_t *aPacked = NULL;
  float *aSorted = NULL;
  ScanChunk *aChunk = NULL;
  ScanWorker *aWorker = NULL;
  ScanJob job;
  memset(&job, 0, sizeof job);

  for (int i = 0; i < pCur->nRow; i++) nSeq += !pCur->aRow[i].isNull;
  if (nSeq == 0) return SQLITE_OK;

  /* Longest first; chunks of whole sequences up to SCAN_CHUNK_TOKENS. */
  aOrder = sqlite3_malloc64(sizeof(int) * nSeq);
  aOff = sqlite3_malloc64(sizeof(int) * (2 * (size_t)nSeq + 1));
  aPacked = sqlite3_malloc64(sizeof(int32_t) * ((size_t)pCur->nIds + 1));
  aSorted = sqlite3_malloc64(sizeof(float) * (size_t)nSeq * pCur->nClass);
  aChunk = sqlite3_malloc64(sizeof(ScanChunk) * nSeq);
  if (!aOrder || !aOff || !aPacked || !aSorted || !aChunk) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  for (int i = 0, j = 0; i < pCur->nRow; i++)
    if (!pCur->aRow[i].isNull) aOrder[j++] = i;
  qsort_r(aOrder, nSeq, sizeof(int), scanCmpLen, pCur->aRow);

  int chunkTokens = SCAN_CHUNK_TOKENS > pCur->maxLen ? SCAN_CHUNK_TOKENS : pCur->maxLen;
  double linFlop = 2.0 * cfg->n_layers * (4.0 * cfg->dim * cfg->dim + 2.0 * cfg->dim * cfg->ffn_dim);
  double attFlop = 4.0 * cfg->n_layers * cfg->dim; /* per token, per token of context */
  int nChunk = 0, nPacked = 0, iOff = 0;
  for (int j = 0; j < nSeq; j++) {
    const ScanRow *r = &pCur->aRow[aOrder[j]];
    ScanChunk *c = nChunk ? &aChunk[nChunk - 1] : NULL;
    if (!c || c->nTok + r->nTok > chunkTokens) {
      c = &aChunk[nChunk++];
      c->iSeq = j;
      c->iId = nPacked;
      c->iOff = iOff;
      c->nSeq = c->nTok = 0;
      c->cost = 0;
      aOff[iOff++] = 0;
    }
    memcpy(aPacked + nPacked, pCur->aIds + r->iIds, sizeof(int32_t) * r->nTok);
    nPacked += r->nTok;
    c->nSeq++;
    c->nTok += r->nTok;
    c->cost += r->nTok * (linFlop + attFlop * r->nTok);
    aOff[iOff++] = c->nTok;
  }
  qsort(aChunk, nChunk, sizeof(ScanChunk), scanCmpCost);

  if (nThread > nChunk) nThread = nChunk;
  if (pCur->nState < nThread) {
    snt_state **ap = sqlite3_realloc64(pCur->apState, sizeof(snt_state *) * nThread);
    if (!ap) {
      rc = SQLITE_NOMEM;
      goto done;
    }
    pCur->apState = ap;
    while (pCur->nState < nThread) {
      snt_error err = {0, {0}};
      ap[pCur->nState] = snt_state_new(pCur->pModel, chunkTokens, &err);
      if (!ap[pCur->nState]) {
        rc = scanSetError(pCur, err.code == SNT_ERR_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR,
                          "%s", err.msg);
        goto done;
      }
      pCur->nState++;
    }
  }

  job.pModel = pCur->pModel;
  job.apState = pCur->apState;
  job.aIds = aPacked;
  job.aOff = aOff;
  job.aChunk = aChunk;
  job.nChunk = nChunk;
  job.nClass = pCur->nClass;
  job.aLogit = aSorted;
  job.pCur = pCur;
  pthread_mutex_init(&job.mutex, NULL);

  int nStarted = 0;
  sntBlasEnter(); /* before any worker starts: every chunk runs on one BLAS thread */
  if (nThread > 1) {
    aWorker = sqlite3_malloc64(sizeof(ScanWorker) * nThread);
    if (aWorker) {
      for (int w = 1; w < nThread; w++) {
        aWorker[w].pJob = &job;
        aWorker[w].iWorker = w;
        if (pthread_create(&aWorker[w].thread, NULL, scanWorkerMain, &aWorker[w]) != 0) break;
        nStarted++;
      }
    }
  }
  scanWork(&job, 0);
  for (int w = 1; w <= nStarted; w++) pthread_join(aWorker[w].thread, NULL);
  sntBlasLeave();
  pthread_mutex_destroy(&job.mutex);

  if (job.err.code != SNT_OK) {
    rc = scanSetError(pCur, job.err.code == SNT_ERR_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR,
                      "%s", job.err.msg);
    goto done;
  }
  if (job.bInterrupted) {
    rc = SQLITE_INTERRUPT;
    goto done;
  }
  for (int j = 0; j < nSeq; j++)
    memcpy(pCur->aLogit + (size_t)aOrder[j] * pCur->nClass,
           aSorted + (size_t)j * pCur->nClass, sizeof(float) * pCur->nClass);

done:
  sqlite3_free(aOrder);
  sqlite3_free(aOff);
  sqlite3_free(aPacked);
  sqlite3_free(aSorted);
  sqlite3_free(aChunk);
  sqlite3_free(aWorker);
  return rc;
}

/* ---- batches ---------------------------------------------------------- */

static void scanProgress(ScanCursor *pCur, int bLast) {
  double t = scanNow();
  if (!bLast && t - pCur->tLastReport < 1.0) return;
  pCur->tLastReport = t;
  double sec = t - pCur->tStart;
  double rps = sec > 0 ? pCur->nDone / sec : 0, tps = sec > 0 ? pCur->nTokDone / sec : 0;
  char zLeft[64] = "";
  if (pCur->nTotal >= pCur->nDone && rps > 0 && !bLast)
    snprintf(zLeft, sizeof zLeft, ", %.0f s left", (pCur->nTotal - pCur->nDone) / rps);
  if (pCur->nTotal >= 0)
    fprintf(stderr, "sentiment_scan: %lld/%lld rows, %.1f rows/s, %.0f tokens/s%s%s\n",
            (long long)pCur->nDone, (long long)pCur->nTotal, rps, tps, zLeft,
            bLast ? ", done" : "");
  else
    fprintf(stderr, "sentiment_scan: %lld rows, %.1f rows/s, %.0f tokens/s%s\n",
            (long long)pCur->nDone, rps, tps, bLast ? ", done" : "");
}

/* Read the next batch of rows from the query, tokenize and score them. On
** return nRow == 0 means the query is done. */
static int scanFill(ScanCursor *pCur) {
  const snt_vocab *pVocab = snt_model_vocab(pCur->pModel);
  scanClearBatch(pCur);
  while (!pCur->stmtDone && pCur->nRow < SCAN_BATCH_ROWS && pCur->nIds < SCAN_BATCH_TOKENS) {
    int rc = sqlite3_step(pCur->pStmt);
    if (rc == SQLITE_DONE) {
      pCur->stmtDone = 1;
      break;
    }
    if (rc != SQLITE_ROW) {
      if (rc == SQLITE_INTERRUPT) return rc;
      return scanSetError(pCur, rc, "%s", sqlite3_errmsg(pCur->db));
    }
    ScanRow *r = &pCur->aRow[pCur->nRow];
    memset(r, 0, sizeof *r);
    r->pKey = sqlite3_value_dup(sqlite3_column_value(pCur->pStmt, 0));
    if (!r->pKey) return SQLITE_NOMEM;
    pCur->nRow++;
    if (sqlite3_column_type(pCur->pStmt, 1) == SQLITE_NULL) {
      r->isNull = 1;
      continue;
    }
    const char *z = (const char *)sqlite3_column_text(pCur->pStmt, 1);
    int n = sqlite3_column_bytes(pCur->pStmt, 1);
    if (!z) return SQLITE_NOMEM;
    snt_error err = {0, {0}};
    int src = snt_tokenize(pVocab, z, (size_t)n, pCur->maxLen, &pCur->toks, &err);
    if (src != SNT_OK)
      return scanSetError(pCur, src == SNT_ERR_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR,
                          "%s", err.msg);
    if (pCur->nIds + pCur->toks.n > pCur->nIdsAlloc) {
      int nNew = 2 * pCur->nIdsAlloc + pCur->toks.n;
      int32_t *a = sqlite3_realloc64(pCur->aIds, sizeof(int32_t) * nNew);
      if (!a) return SQLITE_NOMEM;
      pCur->aIds = a;
      pCur->nIdsAlloc = nNew;
    }
    r->iIds = pCur->nIds;
    r->nTok = pCur->toks.n;
    r->truncated = pCur->toks.truncated;
    for (int i = 0; i < pCur->toks.n; i++) pCur->aIds[pCur->nIds++] = pCur->toks.tok[i].id;
  }
  int rc = scanForward(pCur);
  if (rc != SQLITE_OK) return rc;
  if (pCur->bProgress) {
    pCur->nDone += pCur->nRow;
    pCur->nTokDone += pCur->nIds;
    scanProgress(pCur, pCur->stmtDone);
  }
  return SQLITE_OK;
}

/* ---- virtual table methods ---------------------------------------------- */

static int scanConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr) {
  (void)argc, (void)argv, (void)pzErr;
  int rc = sqlite3_declare_vtab(db,
      "CREATE TABLE x(key, label TEXT, score REAL, n_tokens INTEGER, truncated INTEGER,"
      " logits TEXT, query HIDDEN, model HIDDEN)");
  if (rc != SQLITE_OK) return rc;
  ScanVtab *p = sqlite3_malloc(sizeof *p);
  if (!p) return SQLITE_NOMEM;
  memset(p, 0, sizeof *p);
  p->db = db;
  p->pConn = pAux;
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *ppVtab = &p->base;
  return SQLITE_OK;
}

static int scanDisconnect(sqlite3_vtab *pVtab) {
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

static int scanOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCursor) {
  ScanCursor *pCur = sqlite3_malloc(sizeof *pCur);
  if (!pCur) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof *pCur);
  pCur->db = ((ScanVtab *)pVtab)->db;
  pCur->stmtDone = 1;
  pCur->aRow = sqlite3_malloc64(sizeof(ScanRow) * SCAN_BATCH_ROWS);
  if (!pCur->aRow) {
    sqlite3_free(pCur);
    return SQLITE_NOMEM;
  }
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static int scanClose(sqlite3_vtab_cursor *cur) {
  ScanCursor *pCur = (ScanCursor *)cur;
  scanReset(pCur);
  sqlite3_finalize(pCur->pProbe);
  snt_tokens_free(&pCur->toks);
  sqlite3_free(pCur->aRow);
  sqlite3_free(pCur->aIds);
  sqlite3_free(pCur->aLogit);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* Rows in the query, for the time left; -1 when it cannot be counted. */
static sqlite3_int64 scanCountRows(sqlite3 *db, const char *zQuery) {
  sqlite3_int64 n = -1;
  char *zSql = sqlite3_mprintf("SELECT count(*) FROM (%s)", zQuery);
  sqlite3_stmt *pStmt = NULL;
  if (zSql && sqlite3_prepare_v2(db, zSql, -1, &pStmt, NULL) == SQLITE_OK &&
      sqlite3_step(pStmt) == SQLITE_ROW)
    n = sqlite3_column_int64(pStmt, 0);
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return n;
}

static int scanFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv) {
  (void)idxStr;
  ScanCursor *pCur = (ScanCursor *)cur;
  ScanVtab *pTab = (ScanVtab *)cur->pVtab;
  scanReset(pCur);
  if (!(idxNum & 1) || argc < 1 || sqlite3_value_type(argv[0]) != SQLITE_TEXT)
    return scanSetError(pCur, SQLITE_ERROR,
                        "the first argument must be the query (text)");
  const char *zQuery = (const char *)sqlite3_value_text(argv[0]);
  const char *zModel = NULL;
  if ((idxNum & 2) && argc >= 2 && sqlite3_value_type(argv[1]) != SQLITE_NULL)
    zModel = (const char *)sqlite3_value_text(argv[1]);

  /* The name's model, as sentiment(text, name) finds it; our own reference
  ** keeps it loaded even if the name is dropped from sentiment_models while
  ** the scan runs. */
  SntEntry *e = NULL;
  char *zErr = NULL;
  int rc = sntConnModel(pTab->pConn->pSnt, "sentiment_scan()", zModel, &e, &zErr);
  if (rc != SQLITE_OK) {
    if (zErr) {
      sqlite3_free(pTab->base.zErrMsg);
      pTab->base.zErrMsg = zErr;
    }
    return rc;
  }
  cacheRetain(e->pModel);
  pCur->pCached = e->pModel;
  pCur->pModel = cacheModel(e->pModel);
  pCur->iPositive = cachePositiveLabel(e->pModel);
  pCur->nClass = snt_model_config(pCur->pModel)->n_labels;
  pCur->maxLen = snt_model_max_len(pCur->pModel);
  snt_error err = {0, {0}};
  if (snt_model_check_file(pCur->pModel, &err) != SNT_OK) /* and before each chunk */
    return scanSetError(pCur, SQLITE_ERROR, "%s", err.msg);
  float *a = sqlite3_realloc64(pCur->aLogit, sizeof(float) * SCAN_BATCH_ROWS * pCur->nClass);
  if (!a) return SQLITE_NOMEM;
  pCur->aLogit = a;

  const char *zTail = NULL;
  rc = sqlite3_prepare_v2(pCur->db, zQuery, -1, &pCur->pStmt, &zTail);
  if (rc != SQLITE_OK)
    return scanSetError(pCur, rc, "%s", sqlite3_errmsg(pCur->db));
  if (!pCur->pStmt)
    return scanSetError(pCur, SQLITE_ERROR, "the query is empty");
  while (zTail && (*zTail == ' ' || *zTail == '\t' || *zTail == '\n' || *zTail == '\r' ||
                   *zTail == ';'))
    zTail++;
  if (zTail && *zTail)
    return scanSetError(pCur, SQLITE_ERROR,
                        "the query must be one statement; extra text: %s",
                        zTail);
  if (!sqlite3_stmt_readonly(pCur->pStmt))
    return scanSetError(pCur, SQLITE_ERROR,
                        "the query must be read-only (a SELECT)");
  int nCol = sqlite3_column_count(pCur->pStmt);
  if (nCol < 2)
    return scanSetError(pCur, SQLITE_ERROR,
                        "the query must return 2 columns (key, text), it returns %d", nCol);
  if (!pCur->pProbe) {
    rc = sqlite3_prepare_v2(pCur->db, "SELECT 1", -1, &pCur->pProbe, NULL);
    if (rc != SQLITE_OK) return rc;
  }
  const char *zProg = getenv("SENTIMENT_PROGRESS");
  pCur->bProgress = zProg && strcmp(zProg, "1") == 0;
  if (pCur->bProgress) {
    pCur->nTotal = scanCountRows(pCur->db, zQuery);
    pCur->nDone = pCur->nTokDone = 0;
    pCur->tStart = pCur->tLastReport = scanNow();
  }
  pCur->stmtDone = 0;
  return scanFill(pCur);
}

static int scanNext(sqlite3_vtab_cursor *cur) {
  ScanCursor *pCur = (ScanCursor *)cur;
  pCur->iRowid++;
  if (++pCur->iRow < pCur->nRow) return SQLITE_OK;
  return scanFill(pCur);
}

static int scanEof(sqlite3_vtab_cursor *cur) {
  ScanCursor *pCur = (ScanCursor *)cur;
  return pCur->iRow >= pCur->nRow;
}

/* What the scalar functions compute from the logits (sentiment.c): the
** label is the first of equal maxima; the score is the positive label's
** softmax probability, in double. */
static double scanProb(const float *aLogit, int n, int i) {
  double mx = aLogit[0], sum = 0;
  for (int j = 1; j < n; j++)
    if (aLogit[j] > mx) mx = aLogit[j];
  for (int j = 0; j < n; j++) sum += exp((double)aLogit[j] - mx);
  return exp((double)aLogit[i] - mx) / sum;
}

static int scanColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  ScanCursor *pCur = (ScanCursor *)cur;
  const ScanRow *r = &pCur->aRow[pCur->iRow];
  const float *aLogit = pCur->aLogit + (size_t)pCur->iRow * pCur->nClass;
  if (i == SCAN_KEY) {
    sqlite3_result_value(ctx, r->pKey);
    return SQLITE_OK;
  }
  if (r->isNull) return SQLITE_OK; /* NULL text: NULL everything else */
  switch (i) {
    case SCAN_LABEL: {
      int iBest = 0;
      for (int c = 1; c < pCur->nClass; c++)
        if (aLogit[c] > aLogit[iBest]) iBest = c;
      sqlite3_result_text(ctx, snt_model_config(pCur->pModel)->labels[iBest], -1,
                          SQLITE_TRANSIENT);
      break;
    }
    case SCAN_SCORE:
      if (pCur->iPositive >= 0)
        sqlite3_result_double(ctx, scanProb(aLogit, pCur->nClass, pCur->iPositive));
      break; /* no positive label: NULL, as sentiment_score() */
    case SCAN_NTOK:
      sqlite3_result_int(ctx, r->nTok);
      break;
    case SCAN_TRUNC:
      sqlite3_result_int(ctx, r->truncated);
      break;
    case SCAN_LOGITS: { /* the text sentiment_logits() returns */
      SntConn *p = ((ScanVtab *)cur->pVtab)->pConn->pSnt;
      int rc;
      sntOutReset(p);
      rc = sntOutRaw(p, "[", 1);
      for (int c = 0; rc == SQLITE_OK && c < pCur->nClass; c++) {
        if (c) rc = sntOutRaw(p, ",", 1);
        if (rc == SQLITE_OK) rc = sntOutNumber(p, aLogit[c]);
      }
      if (rc == SQLITE_OK) rc = sntOutRaw(p, "]", 1);
      if (rc != SQLITE_OK) return rc;
      sqlite3_result_text(ctx, p->zOut, (int)p->nOut, SQLITE_TRANSIENT);
      break;
    }
    default: /* query, model: the arguments */
      break;
  }
  return SQLITE_OK;
}

static int scanRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid) {
  *pRowid = ((ScanCursor *)cur)->iRowid + 1;
  return SQLITE_OK;
}

/* The query argument is required; the model is optional. */
static int scanBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo) {
  (void)pVtab;
  int iQuery = -1, iModel = -1;
  for (int i = 0; i < pInfo->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    if (c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (c->iColumn == SCAN_QUERY) {
      if (!c->usable) return SQLITE_CONSTRAINT;
      iQuery = i;
    } else if (c->iColumn == SCAN_MODEL) {
      if (!c->usable) return SQLITE_CONSTRAINT;
      iModel = i;
    }
  }
  if (iQuery < 0) {
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = sqlite3_mprintf("sentiment_scan(): the first argument, the query, is required");
    return SQLITE_ERROR;
  }
  int idxNum = 1, n = 1;
  pInfo->aConstraintUsage[iQuery].argvIndex = n++;
  pInfo->aConstraintUsage[iQuery].omit = 1;
  if (iModel >= 0) {
    pInfo->aConstraintUsage[iModel].argvIndex = n++;
    pInfo->aConstraintUsage[iModel].omit = 1;
    idxNum |= 2;
  }
  pInfo->idxNum = idxNum;
  pInfo->estimatedCost = 1e9;
  pInfo->estimatedRows = 100000;
  return SQLITE_OK;
}

static sqlite3_module scanModule = {
    0,              /* iVersion */
    0,              /* xCreate: eponymous only */
    scanConnect, scanBestIndex, scanDisconnect,
    0,              /* xDestroy */
    scanOpen, scanClose, scanFilter, scanNext, scanEof, scanColumn, scanRowid,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

/* Registers sentiment_scan and sentiment_threads() on db for the connection
** state p (ext/sentiment.c calls this from sqlite3_sentiment_init). Each
** registration holds a reference to p through the ScanConn. */
int sntRegisterScanVtab(sqlite3 *db, SntConn *p) {
  ScanConn *c = sqlite3_malloc(sizeof *c);
  if (!c) return SQLITE_NOMEM;
  sntConnRef(p);
  c->pSnt = p;
  c->nThread = 0;
  c->nRef = 2; /* the function's and the module's; each destructor drops one */
  /* SQLite calls the destructor even when a registration fails. */
  int rc = sqlite3_create_function_v2(db, "sentiment_threads", -1,
                                      SQLITE_UTF8 | SQLITE_DIRECTONLY, c, scanThreadsFunc,
                                      NULL, NULL, scanConnUnref);
  if (rc != SQLITE_OK) {
    scanConnUnref(c); /* the module's reference, never handed out */
    return rc;
  }
  return sqlite3_create_module_v2(db, "sentiment_scan", &scanModule, c, scanConnUnref);
}
