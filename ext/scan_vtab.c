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
** How it runs: rows are read in batches and scored by scan_batch.c (rows in,
** logits out: sorting, chunking, the worker pool; scan_batch.h says how),
** after checking once as the scan starts that the model file was not
** changed on disk. This file keeps the SQL surface: the table, its query,
** sentiment_threads(), interrupts and progress.
**
** Threads: the default is $SENTIMENT_THREADS when it holds a number in
** 1..SCAN_MAX_THREADS, else the number of online CPUs (capped at 8).
**
** Interrupts: sqlite3_interrupt() stops a scan within one layer of one chunk
** on every worker (scan_batch.h). SQLite 3.40 (Debian 12) has no
** sqlite3_is_interrupted() (3.41+), so before each of its layers (and every
** 2 ms while it waits for the other workers) the calling thread steps a
** prepared "SELECT 1" on the connection: once the connection is interrupted
** that step returns SQLITE_INTERRUPT, every worker stops at its next layer,
** and the scan returns SQLITE_INTERRUPT too. Between batches the user's own
** statement reports it.
**
** Progress: with sentiment_progress(1) on the connection (or, until that
** is set, SENTIMENT_PROGRESS=1/true/yes/on in the environment), a scan
** counts the query's rows first, then writes a line to stderr at most once a
** second: rows done, rows/s, tokens/s and the time left; and one line with
** "done" at the end.
**
** A NULL model (sentiment_scan(q, NULL)) gives no rows, as sentiment(text,
** NULL) gives NULL.
**
** Nesting: a scan's query may use sentiment_scan itself, SCAN_MAX_DEPTH (4)
** levels deep; deeper is an error ("nested too deeply"), so that a query that
** runs itself cannot overflow the stack.
**
** Writes: when a statement that writes is running on the connection (INSERT
** INTO t SELECT … FROM sentiment_scan('… FROM t'), UPDATE, CREATE TABLE …
** AS), the query is run as a MATERIALIZED CTE: SQLite reads all its rows
** into a temporary table (in memory, then on disk) before the first row is
** scored, so the scan scores the rows that were there when it began and the
** statement ends. Plain SELECTs stream.
**
** Reruns: a LEFT JOIN re-filters the scan, and a correlated subquery opens
** it anew, once per outer row. Within one statement the same query and model
** are not scored twice: a cursor keeps what it scored (up to
** SCAN_REPLAY_BYTES of results, keys included) and replays it, then goes on
** reading the query where it stopped; a correlated subquery's new cursor
** (opened by SQLite just before it closes the old one) inherits all of it.
** Past SCAN_REPLAY_BYTES the rows already served are dropped, and a rerun is
** an error that says to store the scan in a temporary table first.
**
** Security: the table is SQLITE_VTAB_DIRECTONLY and the query must be
** read-only (sqlite3_stmt_readonly): a view or trigger in a database someone
** else wrote cannot use sentiment_scan to run SQL of its choosing.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"
#include "result.h"
#include "scan_batch.h"
SQLITE_EXTENSION_INIT3

#define SCAN_MAX_THREADS 64
#define SCAN_MAX_DEPTH 4              /* scans running inside a scan's query, nested */
#define SCAN_REPLAY_BYTES (32 << 20)  /* a pass's results kept for the next pass */

/* Columns; the last two are the function's arguments. */
enum {
  SCAN_KEY, SCAN_LABEL, SCAN_SCORE, SCAN_NTOK, SCAN_TRUNC, SCAN_LOGITS,
  SCAN_QUERY, SCAN_MODEL
};

/* ---- settings: threads, progress -------------------------------------- */

/* Per connection, shared by the module, sentiment_threads() and
** sentiment_progress() (each holds a reference; the last destructor frees it
** and drops its SntConn reference). */
typedef struct ScanConn {
  SntConn *pSnt;   /* the connection's model names and thread count (registry.h) */
  int eProgress;   /* what sentiment_progress() set; -1: $SENTIMENT_PROGRESS */
  int nDepth;      /* scans whose query is running now, nested in each other */
  void *pOpened;   /* the cursor just opened, until the next scan call (scanClose) */
  int nRef;
} ScanConn;

static void scanConnUnref(void *p) {
  ScanConn *c = p;
  if (--c->nRef == 0) {
    sntConnUnref(c->pSnt);
    sqlite3_free(c);
  }
}

static int scanThreads(const ScanConn *c) { return sntConnThreads(c->pSnt); }

/* sentiment_threads() / sentiment_threads(n): registered for 0 and 1
** arguments, so SQLite itself refuses any other count. */
static void scanThreadsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  ScanConn *c = sqlite3_user_data(ctx);
  if (argc == 1) {
    sqlite3_int64 n = sqlite3_value_int64(argv[0]);
    if (sqlite3_value_type(argv[0]) != SQLITE_INTEGER || n < 0 || n > SCAN_MAX_THREADS) {
      sqlite3_result_error(ctx, "sentiment_threads(): n must be an integer from 0 to 64", -1);
      return;
    }
    c->pSnt->nThread = (int)n;
  }
  sqlite3_result_int(ctx, scanThreads(c));
}

/* 1 for 1/true/yes/on, 0 for 0/false/no/off (any case), else -1. */
static int scanParseBool(const char *z) {
  static const char *const azOn[] = {"1", "true", "yes", "on"};
  static const char *const azOff[] = {"0", "false", "no", "off"};
  for (int i = 0; z && i < 4; i++) {
    if (sqlite3_stricmp(z, azOn[i]) == 0) return 1;
    if (sqlite3_stricmp(z, azOff[i]) == 0) return 0;
  }
  return -1;
}

static int scanProgressOn(const ScanConn *c) {
  if (c->eProgress >= 0) return c->eProgress;
  return scanParseBool(getenv("SENTIMENT_PROGRESS")) == 1;
}

/* sentiment_progress() / sentiment_progress(on); NULL: back to the environment */
static void scanProgressFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  ScanConn *c = sqlite3_user_data(ctx);
  if (argc == 1) {
    int e = -1;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
      c->eProgress = -1;
    } else if ((e = scanParseBool((const char *)sqlite3_value_text(argv[0]))) < 0) {
      sqlite3_result_error(ctx,
                           "sentiment_progress(): on must be 1/true/yes/on or 0/false/no/off "
                           "(NULL: back to $SENTIMENT_PROGRESS)", -1);
      return;
    } else {
      c->eProgress = e;
    }
  }
  sqlite3_result_int(ctx, scanProgressOn(c));
}

/* ---- structures ------------------------------------------------------- */

typedef struct ScanVtab {
  sqlite3_vtab base;
  sqlite3 *db;
  ScanConn *pConn;
} ScanVtab;

/* One scored row, kept for the rest of the pass and for the next passes. */
typedef struct ScanResult {
  sqlite3_value *pKey;
  int isNull, nTok, truncated;
} ScanResult;

typedef struct ScanCursor {
  sqlite3_vtab_cursor base;
  sqlite3 *db;
  ScanConn *pConn;
  sqlite3_stmt *pStmt;       /* the user's query */
  sqlite3_stmt *pProbe;      /* "SELECT 1": sees sqlite3_interrupt (header comment) */
  char *zQuery, *zModel;     /* the pass's arguments (zModel NULL: 'default') */
  CachedModel *pCached;      /* our own reference: keeps pModel alive */
  const snt_model *pModel;
  int nClass;
  int iPositive;             /* label sentiment_score() reports; -1: none */
  ScanBatch batch;           /* rows read, then scored, then moved to aRes */
  int stmtDone;              /* the query returned SQLITE_DONE */

  /* The pass's results (header comment, "Reruns"): rows iFirst.. of the
  ** pass are aRes[0..nRes), their logits aResLogit (nRes, nClass). */
  ScanResult *aRes;
  float *aResLogit;
  int nRes, nResAlloc;
  size_t nResBytes;
  sqlite3_int64 iFirst;      /* > 0 once rows were dropped: no rerun then */
  sqlite3_int64 iPos;        /* the current row of the pass */

  /* Progress (sentiment_progress(), $SENTIMENT_PROGRESS). */
  int bProgress, bReported;  /* bReported: the "done" line is out */
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

/* Sets the table's error message ("sentiment_scan(): " + the format, once:
** a nested scan's message already has it) and returns rc. */
static int scanSetError(ScanCursor *pCur, int rc, const char *zFmt, ...) {
  static const char zPrefix[] = "sentiment_scan(): ";
  sqlite3_vtab *pVtab = pCur->base.pVtab;
  va_list ap;
  va_start(ap, zFmt);
  char *z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  sqlite3_free(pVtab->zErrMsg);
  if (z && strncmp(z, zPrefix, sizeof zPrefix - 1) == 0)
    pVtab->zErrMsg = z;
  else
    pVtab->zErrMsg = z ? sqlite3_mprintf("%s%z", zPrefix, z) : NULL;
  return rc;
}

static void scanDropResults(ScanCursor *pCur) {
  for (int i = 0; i < pCur->nRes; i++) sqlite3_value_free(pCur->aRes[i].pKey);
  pCur->iFirst += pCur->nRes;
  pCur->nRes = 0;
  pCur->nResBytes = 0;
}

/* Everything one xFilter set up, so that the cursor can be filtered again. */
static void scanReset(ScanCursor *pCur) {
  scanBatchFree(&pCur->batch);
  scanDropResults(pCur);
  sqlite3_free(pCur->aRes);
  sqlite3_free(pCur->aResLogit);
  pCur->aRes = NULL;
  pCur->aResLogit = NULL;
  pCur->nResAlloc = 0;
  pCur->iFirst = pCur->iPos = 0;
  sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = NULL;
  sqlite3_free(pCur->zQuery);
  sqlite3_free(pCur->zModel);
  pCur->zQuery = pCur->zModel = NULL;
  cacheRelease(pCur->pCached);
  pCur->pCached = NULL;
  pCur->pModel = NULL;
  pCur->stmtDone = 1;
}

/* One step of the user's query (or of its count), counted as nesting. */
static int scanStep(ScanCursor *pCur, sqlite3_stmt *pStmt) {
  pCur->pConn->nDepth++;
  int rc = sqlite3_step(pStmt);
  pCur->pConn->nDepth--;
  return rc;
}

/* Has the connection been interrupted? Only the thread that holds the
** connection (the one in xFilter/xNext) may call this: scanBatchRun calls it
** from the calling thread, between layers. */
static int scanInterrupted(void *p) {
  ScanCursor *pCur = p;
  if (!pCur->pProbe) return 0;
  int rc = sqlite3_step(pCur->pProbe);
  sqlite3_reset(pCur->pProbe);
  return rc == SQLITE_INTERRUPT;
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
  if (bLast) pCur->bReported = 1;
}

/* Move the scored batch to aRes. Past SCAN_REPLAY_BYTES the rows already
** served are dropped first (and a rerun is refused: scanFilter). */
static int scanKeep(ScanCursor *pCur) {
  ScanBatch *b = &pCur->batch;
  size_t nNew = 0, nRowBytes = sizeof(ScanResult) + sizeof(float) * pCur->nClass + 64;
  for (int i = 0; i < b->nRow; i++) nNew += nRowBytes + b->aRow[i].nKeyBytes;
  if (pCur->nRes > 0 && pCur->nResBytes + nNew > SCAN_REPLAY_BYTES) scanDropResults(pCur);
  if (pCur->nRes + b->nRow > pCur->nResAlloc) {
    int nAlloc = 2 * (pCur->nRes + b->nRow);
    ScanResult *a = sqlite3_realloc64(pCur->aRes, sizeof(ScanResult) * nAlloc);
    if (!a) return SQLITE_NOMEM;
    pCur->aRes = a;
    float *f = sqlite3_realloc64(pCur->aResLogit, sizeof(float) * pCur->nClass * nAlloc);
    if (!f) return SQLITE_NOMEM;
    pCur->aResLogit = f;
    pCur->nResAlloc = nAlloc;
  }
  for (int i = 0; i < b->nRow; i++) {
    ScanResult *r = &pCur->aRes[pCur->nRes];
    r->pKey = b->aRow[i].pKey;
    b->aRow[i].pKey = NULL; /* aRes owns it now */
    r->isNull = b->aRow[i].isNull;
    r->nTok = b->aRow[i].nTok;
    r->truncated = b->aRow[i].truncated;
    memcpy(pCur->aResLogit + (size_t)pCur->nRes * pCur->nClass, scanBatchLogits(b, i),
           sizeof(float) * pCur->nClass);
    pCur->nRes++;
  }
  pCur->nResBytes += nNew;
  return SQLITE_OK;
}

static int scanSntError(ScanCursor *pCur, int src, const snt_error *err) {
  return scanSetError(pCur, src == SNT_ERR_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR, "%s", err->msg);
}

/* Read the next batch of rows from the query, tokenize and score them, and
** append them to aRes. None appended means the query is done. */
static int scanFill(ScanCursor *pCur) {
  ScanBatch *b = &pCur->batch;
  scanBatchClear(b);
  while (!pCur->stmtDone && !scanBatchFull(b)) {
    int rc = scanStep(pCur, pCur->pStmt);
    if (rc == SQLITE_DONE) {
      pCur->stmtDone = 1;
      break;
    }
    if (rc != SQLITE_ROW) {
      if (rc == SQLITE_INTERRUPT) return rc;
      return scanSetError(pCur, rc, "%s", sqlite3_errmsg(pCur->db));
    }
    sqlite3_value *pKey = sqlite3_value_dup(sqlite3_column_value(pCur->pStmt, 0));
    if (!pKey) return SQLITE_NOMEM;
    const char *z = NULL;
    int n = 0;
    if (sqlite3_column_type(pCur->pStmt, 1) != SQLITE_NULL) {
      z = (const char *)sqlite3_column_text(pCur->pStmt, 1);
      n = sqlite3_column_bytes(pCur->pStmt, 1);
      if (!z) {
        sqlite3_value_free(pKey);
        return SQLITE_NOMEM;
      }
    }
    snt_error err = {0, {0}};
    int src = scanBatchAdd(b, pKey, z, n, &err);
    if (src != SNT_OK) return scanSntError(pCur, src, &err);
  }
  snt_error err = {0, {0}};
  int rc = scanBatchRun(b, scanThreads(pCur->pConn), scanInterrupted, pCur, &err);
  if (rc == SQLITE_ERROR || (rc == SQLITE_NOMEM && err.code))
    return scanSetError(pCur, rc, "%s", err.msg);
  if (rc != SQLITE_OK) return rc;
  if (pCur->bProgress && !pCur->bReported) {
    pCur->nDone += b->nRow;
    pCur->nTokDone += b->nIds;
    scanProgress(pCur, pCur->stmtDone);
  }
  rc = scanKeep(pCur);
  scanBatchClear(b);
  return rc;
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
  pCur->pConn = ((ScanVtab *)pVtab)->pConn;
  pCur->stmtDone = 1;
  pCur->pConn->pOpened = pCur;
  *ppCursor = &pCur->base;
  return SQLITE_OK;
}

static int scanClose(sqlite3_vtab_cursor *cur) {
  ScanCursor *pCur = (ScanCursor *)cur;
  ScanCursor *pNew = pCur->pConn->pOpened;
  pCur->pConn->pOpened = NULL;
  if (pNew && pNew != pCur && pCur->pStmt) {
    /* A correlated subquery opens a new cursor (xOpen), then closes the old
    ** one, for each outer row: the new one inherits the pass (header
    ** comment, "Reruns"). */
    sqlite3_vtab_cursor base = pCur->base;
    ScanCursor t = *pNew;
    *pNew = *pCur;
    pNew->base = t.base;
    *pCur = t;
    pCur->base = base;
  }
  scanReset(pCur);
  sqlite3_finalize(pCur->pProbe);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* Rows in the query, for the time left; -1 when it cannot be counted. */
static sqlite3_int64 scanCountRows(ScanCursor *pCur, const char *zQuery) {
  sqlite3_int64 n = -1;
  char *zSql = sqlite3_mprintf("SELECT count(*) FROM (%s\n)", zQuery);
  sqlite3_stmt *pStmt = NULL;
  if (zSql && sqlite3_prepare_v2(pCur->db, zSql, -1, &pStmt, NULL) == SQLITE_OK &&
      scanStep(pCur, pStmt) == SQLITE_ROW)
    n = sqlite3_column_int64(pStmt, 0);
  sqlite3_finalize(pStmt);
  sqlite3_free(zSql);
  return n;
}

/* Is a statement that writes running on this connection (INSERT … SELECT
** FROM sentiment_scan(…), UPDATE …, CREATE TABLE … AS)? Its writes could
** reach the tables the scan's query reads. */
static int scanInWrite(ScanCursor *pCur) {
  for (sqlite3_stmt *p = sqlite3_next_stmt(pCur->db, NULL); p; p = sqlite3_next_stmt(pCur->db, p))
    if (p != pCur->pStmt && p != pCur->pProbe && sqlite3_stmt_busy(p) && !sqlite3_stmt_readonly(p))
      return 1;
  return 0;
}

/* Is this pass's query and model the last pass's? */
static int scanSameArgs(const ScanCursor *pCur, const char *zQuery, const char *zModel) {
  if (!pCur->pStmt || !pCur->zQuery || strcmp(pCur->zQuery, zQuery) != 0) return 0;
  if (!zModel || !pCur->zModel) return zModel == pCur->zModel;
  return strcmp(zModel, pCur->zModel) == 0;
}

/* Prepare the query into pCur->pStmt; with bWrite, as a materialized CTE:
** SQLite reads every row of it into a temporary table (memory, then disk)
** before the first row comes out. */
static int scanPrepare(ScanCursor *pCur, const char *zQuery, int bWrite) {
  const char *zTail = NULL;
  int rc = sqlite3_prepare_v2(pCur->db, zQuery, -1, &pCur->pStmt, &zTail);
  if (rc != SQLITE_OK)
    return scanSetError(pCur, rc, "%s", sqlite3_errmsg(pCur->db));
  if (!pCur->pStmt)
    return scanSetError(pCur, SQLITE_ERROR, "the query is empty");
  int nSql = (int)(zTail - zQuery);
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
  if (!bWrite) return SQLITE_OK;
  while (nSql > 0 && strchr(" \t\n\r;", zQuery[nSql - 1])) nSql--;
  char *zSql = sqlite3_mprintf(
      "WITH sentiment_scan_rows AS MATERIALIZED (%.*s\n) SELECT * FROM sentiment_scan_rows", nSql,
      zQuery);
  if (!zSql) return SQLITE_NOMEM;
  sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = NULL;
  rc = sqlite3_prepare_v2(pCur->db, zSql, -1, &pCur->pStmt, NULL);
  sqlite3_free(zSql);
  if (rc != SQLITE_OK)
    return scanSetError(pCur, rc, "%s", sqlite3_errmsg(pCur->db));
  return SQLITE_OK;
}

static int scanFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr, int argc,
                      sqlite3_value **argv) {
  (void)idxStr;
  ScanCursor *pCur = (ScanCursor *)cur;
  ScanConn *c = pCur->pConn;
  c->pOpened = NULL;
  if (!(idxNum & 1) || argc < 1 || sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    scanReset(pCur);
    return scanSetError(pCur, SQLITE_ERROR,
                        "the first argument must be the query (text)");
  }
  const char *zQuery = (const char *)sqlite3_value_text(argv[0]);
  const char *zModel = NULL;
  if ((idxNum & 2) && argc >= 2) {
    if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
      scanReset(pCur); /* a NULL model: no rows, as sentiment(text, NULL) is NULL */
      return SQLITE_OK;
    }
    zModel = (const char *)sqlite3_value_text(argv[1]);
    if (!zModel) return SQLITE_NOMEM;
  }

  /* The same arguments again in this statement (a LEFT JOIN, a correlated
  ** subquery): replay what was scored, then go on where the query was. */
  if (scanSameArgs(pCur, zQuery, zModel)) {
    if (pCur->iFirst > 0)
      return scanSetError(
          pCur, SQLITE_ERROR,
          "this statement runs the same scan again (a LEFT JOIN or a correlated subquery "
          "runs it once per outer row) and its results passed the %d MiB kept for that; "
          "store them first: CREATE TEMP TABLE s AS SELECT * FROM sentiment_scan(...), then "
          "use s", SCAN_REPLAY_BYTES >> 20);
    pCur->iPos = 0;
    return SQLITE_OK;
  }

  scanReset(pCur);
  if (c->nDepth >= SCAN_MAX_DEPTH)
    return scanSetError(pCur, SQLITE_ERROR,
                        "nested too deeply (limit %d): the query of a sentiment_scan runs "
                        "sentiment_scan, which runs it again...", SCAN_MAX_DEPTH);
  pCur->zQuery = sqlite3_mprintf("%s", zQuery);
  pCur->zModel = zModel ? sqlite3_mprintf("%s", zModel) : NULL;
  if (!pCur->zQuery || (zModel && !pCur->zModel)) return SQLITE_NOMEM;

  /* The name's model, as sentiment(text, name) finds it; our own reference
  ** keeps it loaded even if the name is dropped from sentiment_models while
  ** the scan runs. */
  SntEntry *e = NULL;
  char *zErr = NULL;
  int rc = sntConnModel(c->pSnt, "sentiment_scan()", zModel, &e, &zErr);
  if (rc != SQLITE_OK) {
    if (zErr) {
      sqlite3_free(cur->pVtab->zErrMsg);
      cur->pVtab->zErrMsg = zErr;
    }
    return rc;
  }
  cacheRetain(e->pModel);
  pCur->pCached = e->pModel;
  pCur->pModel = cacheModel(e->pModel);
  pCur->iPositive = cachePositiveLabel(e->pModel);
  pCur->nClass = snt_model_config(pCur->pModel)->n_labels;
  snt_error err = {0, {0}};
  if (snt_model_check_file(pCur->pModel, &err) != SNT_OK) /* and before each chunk */
    return scanSetError(pCur, SQLITE_ERROR, "%s", err.msg);
  if (scanBatchInit(&pCur->batch, pCur->pModel) != SQLITE_OK) return SQLITE_NOMEM;

  rc = scanPrepare(pCur, zQuery, scanInWrite(pCur));
  if (rc != SQLITE_OK) return rc;
  if (!pCur->pProbe) {
    rc = sqlite3_prepare_v2(pCur->db, "SELECT 1", -1, &pCur->pProbe, NULL);
    if (rc != SQLITE_OK) return rc;
  }
  pCur->bProgress = scanProgressOn(c);
  pCur->bReported = 0;
  if (pCur->bProgress) {
    pCur->nTotal = scanCountRows(pCur, zQuery);
    pCur->nDone = pCur->nTokDone = 0;
    pCur->tStart = pCur->tLastReport = scanNow();
  }
  pCur->stmtDone = 0;
  return scanFill(pCur);
}

static int scanNext(sqlite3_vtab_cursor *cur) {
  ScanCursor *pCur = (ScanCursor *)cur;
  pCur->pConn->pOpened = NULL;
  if (++pCur->iPos < pCur->iFirst + pCur->nRes || pCur->stmtDone) return SQLITE_OK;
  return scanFill(pCur);
}

static int scanEof(sqlite3_vtab_cursor *cur) {
  ScanCursor *pCur = (ScanCursor *)cur;
  pCur->pConn->pOpened = NULL;
  return pCur->iPos >= pCur->iFirst + pCur->nRes;
}

static int scanColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i) {
  ScanCursor *pCur = (ScanCursor *)cur;
  pCur->pConn->pOpened = NULL;
  int iRes = (int)(pCur->iPos - pCur->iFirst);
  const ScanResult *r = &pCur->aRes[iRes];
  const float *aLogit = pCur->aResLogit + (size_t)iRes * pCur->nClass;
  if (i == SCAN_KEY) {
    sqlite3_result_value(ctx, r->pKey);
    return SQLITE_OK;
  }
  if (r->isNull) return SQLITE_OK; /* NULL text: NULL everything else */
  switch (i) {
    /* The values sentiment(), sentiment_score() and sentiment_logits() give
    ** (result.h). */
    case SCAN_LABEL:
      sqlite3_result_text(ctx, snt_model_config(pCur->pModel)->labels[sntArgmax(aLogit, pCur->nClass)],
                          -1, SQLITE_TRANSIENT);
      break;
    case SCAN_SCORE:
      if (pCur->iPositive >= 0)
        sqlite3_result_double(ctx, sntProb(aLogit, pCur->nClass, pCur->iPositive));
      break; /* no positive label: NULL, as sentiment_score() */
    case SCAN_NTOK:
      sqlite3_result_int(ctx, r->nTok);
      break;
    case SCAN_TRUNC:
      sqlite3_result_int(ctx, r->truncated);
      break;
    case SCAN_LOGITS: {
      sqlite3_str *s = sqlite3_str_new(pCur->db);
      sntStrLogits(s, aLogit, pCur->nClass);
      return sntResultStr(ctx, s, 0);
    }
    default: /* query, model: the arguments */
      break;
  }
  return SQLITE_OK;
}

static int scanRowid(sqlite3_vtab_cursor *cur, sqlite_int64 *pRowid) {
  *pRowid = ((ScanCursor *)cur)->iPos + 1;
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
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: no CREATE VIRTUAL TABLE */
    .xConnect = scanConnect,
    .xBestIndex = scanBestIndex,
    .xDisconnect = scanDisconnect,
    .xDestroy = NULL,
    .xOpen = scanOpen,
    .xClose = scanClose,
    .xFilter = scanFilter,
    .xNext = scanNext,
    .xEof = scanEof,
    .xColumn = scanColumn,
    .xRowid = scanRowid,
    /* read-only: no xUpdate, no transactions */
};

/* Registers sentiment_scan, sentiment_threads() and sentiment_progress() on
** db for the connection state p (ext/sentiment.c calls this from
** sqlite3_sentiment_init). Each registration holds a reference to p through
** the ScanConn. */
int sntRegisterScanVtab(sqlite3 *db, SntConn *p) {
  static const struct {
    const char *zName;
    int nArg;
    void (*xFunc)(sqlite3_context *, int, sqlite3_value **);
  } aFunc[] = {
      {"sentiment_threads", 0, scanThreadsFunc},
      {"sentiment_threads", 1, scanThreadsFunc},
      {"sentiment_progress", 0, scanProgressFunc},
      {"sentiment_progress", 1, scanProgressFunc},
  };
  enum { N_FUNC = sizeof aFunc / sizeof aFunc[0] };
  ScanConn *c = sqlite3_malloc(sizeof *c);
  int rc = SQLITE_OK;
  if (!c) return SQLITE_NOMEM;
  memset(c, 0, sizeof *c);
  sntConnRef(p);
  c->pSnt = p;
  c->eProgress = -1;
  c->nRef = N_FUNC + 1; /* each function's and the module's; each destructor drops one */
  /* SQLite calls the destructor even when a registration fails; a reference
  ** never handed out is dropped here. */
  for (int i = 0; i < N_FUNC; i++) {
    if (rc == SQLITE_OK)
      rc = sqlite3_create_function_v2(db, aFunc[i].zName, aFunc[i].nArg,
                                      SQLITE_UTF8 | SQLITE_DIRECTONLY, c, aFunc[i].xFunc, NULL,
                                      NULL, scanConnUnref);
    else
      scanConnUnref(c);
  }
  if (rc != SQLITE_OK) {
    scanConnUnref(c); /* the module's */
    return rc;
  }
  return sqlite3_create_module_v2(db, "sentiment_scan", &scanModule, c, scanConnUnref);
}
