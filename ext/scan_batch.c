/*
** scan_batch.c — sentiment_scan's engine: a batch of rows in, their logits
** out; sorting, chunking and the worker pool (scan_batch.h says how).
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas_threads.h"
#include "scan_batch.h"
SQLITE_EXTENSION_INIT3

int scanBatchInit(ScanBatch *b, const snt_model *pModel) {
  b->pModel = pModel;
  b->nClass = snt_model_config(pModel)->n_labels;
  b->maxLen = snt_model_max_len(pModel);
  if (!b->aRow) {
    b->aRow = sqlite3_malloc64(sizeof(ScanRow) * SCAN_BATCH_ROWS);
    if (!b->aRow) return SQLITE_NOMEM;
  }
  float *a = sqlite3_realloc64(b->aLogit, sizeof(float) * SCAN_BATCH_ROWS * b->nClass);
  if (!a) return SQLITE_NOMEM;
  b->aLogit = a;
  return SQLITE_OK;
}

void scanBatchClear(ScanBatch *b) {
  for (int i = 0; i < b->nRow; i++) sqlite3_value_free(b->aRow[i].pKey);
  b->nRow = 0;
  b->nIds = 0;
  b->nBytes = 0;
}

void scanBatchFree(ScanBatch *b) {
  scanBatchClear(b);
  for (int i = 0; i < b->nState; i++) snt_state_free(b->apState[i]);
  sqlite3_free(b->apState);
  snt_tokens_free(&b->toks);
  sqlite3_free(b->aRow);
  sqlite3_free(b->aIds);
  sqlite3_free(b->aLogit);
  memset(b, 0, sizeof *b);
}

int scanBatchFull(const ScanBatch *b) {
  return b->nRow >= SCAN_BATCH_ROWS || b->nIds >= SCAN_BATCH_TOKENS ||
         b->nBytes >= SCAN_BATCH_BYTES;
}

int scanBatchAdd(ScanBatch *b, sqlite3_value *pKey, const char *z, int n, snt_error *err) {
  ScanRow *r = &b->aRow[b->nRow];
  memset(r, 0, sizeof *r);
  r->pKey = pKey;
  int eType = sqlite3_value_type(pKey); /* bytes of a number would convert it to text */
  r->nKeyBytes = eType == SQLITE_TEXT || eType == SQLITE_BLOB ? (size_t)sqlite3_value_bytes(pKey) : 0;
  b->nBytes += r->nKeyBytes + (z ? (size_t)n : 0);
  b->nRow++;
  if (!z) {
    r->isNull = 1;
    return SNT_OK;
  }
  int rc = snt_tokenize(snt_model_vocab(b->pModel), z, (size_t)n, b->maxLen, &b->toks, err);
  if (rc != SNT_OK) return rc;
  if (b->nIds + b->toks.n > b->nIdsAlloc) {
    int nNew = 2 * b->nIdsAlloc + b->toks.n;
    int32_t *a = sqlite3_realloc64(b->aIds, sizeof(int32_t) * nNew);
    if (!a) {
      err->code = SNT_ERR_NOMEM;
      snprintf(err->msg, sizeof err->msg, "out of memory");
      return SNT_ERR_NOMEM;
    }
    b->aIds = a;
    b->nIdsAlloc = nNew;
  }
  r->iIds = b->nIds;
  r->nTok = b->toks.n;
  r->truncated = b->toks.truncated;
  for (int i = 0; i < b->toks.n; i++) b->aIds[b->nIds++] = b->toks.tok[i].id;
  return SNT_OK;
}

const float *scanBatchLogits(const ScanBatch *b, int i) {
  return b->aLogit + (size_t)i * b->nClass;
}

static long nScored; /* atomic */
long scanBatchScored(void) { return __atomic_load_n(&nScored, __ATOMIC_RELAXED); }

/* ---- the chunker -------------------------------------------------------- */

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

int scanBatchPlan(const ScanRow *aRow, int nRow, int chunkTokens, const snt_config *cfg,
                  int *aOrder, ScanChunk *aChunk, int *aOff, int *pnChunk) {
  int nSeq = 0;
  for (int i = 0; i < nRow; i++)
    if (!aRow[i].isNull) aOrder[nSeq++] = i;
  qsort_r(aOrder, nSeq, sizeof(int), scanCmpLen, (void *)aRow);

  double linFlop = 2.0 * cfg->n_layers * (4.0 * cfg->dim * cfg->dim + 2.0 * cfg->dim * cfg->ffn_dim);
  double attFlop = 4.0 * cfg->n_layers * cfg->dim; /* per token, per token of context */
  int nChunk = 0, nPacked = 0, iOff = 0;
  for (int j = 0; j < nSeq; j++) {
    const ScanRow *r = &aRow[aOrder[j]];
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
    nPacked += r->nTok;
    c->nSeq++;
    c->nTok += r->nTok;
    c->cost += r->nTok * (linFlop + attFlop * r->nTok);
    aOff[iOff++] = c->nTok;
  }
  qsort(aChunk, nChunk, sizeof(ScanChunk), scanCmpCost);
  *pnChunk = nChunk;
  return nSeq;
}

/* ---- the worker pool ---------------------------------------------------- */

typedef struct ScanJob {
  const snt_model *pModel;
  snt_state **apState;
  const int32_t *aIds;       /* packed in sorted order */
  const int *aOff;           /* offsets, ScanChunk.iOff */
  const ScanChunk *aChunk;
  int nChunk, nClass;
  float *aLogit;             /* (sorted sequence, nClass) */
  int (*xStop)(void *);      /* only the calling thread (worker 0) calls it */
  void *pStopArg;
  int iNext;                 /* next chunk to take (atomic) */
  int bStop;                 /* set on error or interrupt (atomic) */
  int bInterrupted;
  int nRunning;              /* workers started and not yet done (atomic) */
  pthread_mutex_t mutex;     /* guards err */
  snt_error err;
} ScanJob;

typedef struct ScanWorker {
  ScanJob *pJob;
  int iWorker;
  pthread_t thread;
} ScanWorker;

/* The cancel callbacks of the workers' states (snt_state_set_cancel), asked
** before every layer: so every worker sees a stop within one layer of one
** chunk, not at the end of its chunk. The calling thread's also asks xStop
** (it is the one thread that may use the connection). */
static int scanStopAsked(void *p) {
  ScanJob *pJob = p;
  return __atomic_load_n(&pJob->bStop, __ATOMIC_ACQUIRE);
}

static int scanStopAskedMain(void *p) {
  ScanJob *pJob = p;
  if (__atomic_load_n(&pJob->bStop, __ATOMIC_ACQUIRE)) return 1;
  if (pJob->xStop && pJob->xStop(pJob->pStopArg)) {
    pJob->bInterrupted = 1;
    __atomic_store_n(&pJob->bStop, 1, __ATOMIC_RELEASE);
    return 1;
  }
  return 0;
}

static void scanWork(ScanJob *pJob, int iWorker) {
  snt_state *pState = pJob->apState[iWorker];
  snt_state_set_cancel(pState, iWorker ? scanStopAsked : scanStopAskedMain, pJob);
  for (;;) {
    if (__atomic_load_n(&pJob->bStop, __ATOMIC_ACQUIRE)) break;
    int k = __atomic_fetch_add(&pJob->iNext, 1, __ATOMIC_ACQ_REL);
    if (k >= pJob->nChunk) break;
    const ScanChunk *c = &pJob->aChunk[k];
    snt_error err = {0, {0}};
    /* Before each chunk: with SENTIMENT_MMAP=1, a model file truncated in
    ** place since the scan began would make the forward pass SIGBUS
    ** (snt_model_check_file). */
    int rc = snt_model_check_file(pJob->pModel, &err);
    if (rc == SNT_OK)
      rc = snt_forward_batch(pJob->pModel, pState, c->nSeq, pJob->aIds + c->iId,
                             pJob->aOff + c->iOff,
                             pJob->aLogit + (size_t)c->iSeq * pJob->nClass, &err);
    if (rc == SNT_ERR_INTERRUPTED) break; /* bStop was set: an error or xStop */
    if (rc != SNT_OK) {
      pthread_mutex_lock(&pJob->mutex);
      if (pJob->err.code == SNT_OK) pJob->err = err;
      if (pJob->err.code == SNT_OK) pJob->err.code = rc;
      pthread_mutex_unlock(&pJob->mutex);
      __atomic_store_n(&pJob->bStop, 1, __ATOMIC_RELEASE);
      break;
    }
  }
  snt_state_set_cancel(pState, NULL, NULL); /* the job lives on the caller's stack */
}

static void *scanWorkerMain(void *p) {
  ScanWorker *w = p;
  scanWork(w->pJob, w->iWorker);
  __atomic_sub_fetch(&w->pJob->nRunning, 1, __ATOMIC_ACQ_REL);
  return NULL;
}

/* The calling thread, its own chunks done, while other workers still run:
** keep asking xStop (every 2 ms), so that an interrupt still reaches them. */
static void scanWatch(ScanJob *pJob) {
  struct timespec ts = {0, 2000000};
  while (__atomic_load_n(&pJob->nRunning, __ATOMIC_ACQUIRE) > 0) {
    if (!__atomic_load_n(&pJob->bStop, __ATOMIC_ACQUIRE)) scanStopAskedMain(pJob);
    nanosleep(&ts, NULL);
  }
}

/* Workers' states up to nThread. SQLITE_OK, SQLITE_NOMEM or SQLITE_ERROR
** (err filled). */
static int scanBatchStates(ScanBatch *b, int nThread, int chunkTokens, snt_error *err) {
  if (b->nState >= nThread) return SQLITE_OK;
  snt_state **ap = sqlite3_realloc64(b->apState, sizeof(snt_state *) * nThread);
  if (!ap) return SQLITE_NOMEM;
  b->apState = ap;
  while (b->nState < nThread) {
    ap[b->nState] = snt_state_new(b->pModel, chunkTokens, err);
    if (!ap[b->nState]) return err->code == SNT_ERR_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
    b->nState++;
  }
  return SQLITE_OK;
}

int scanBatchRun(ScanBatch *b, int nThread, int (*xStop)(void *), void *pArg, snt_error *err) {
  int nSeq = 0, nChunk = 0;
  int rc = SQLITE_OK;
  int *aOrder = NULL, *aOff = NULL;
  int32_t *aPacked = NULL;
  float *aSorted = NULL;
  ScanChunk *aChunk = NULL;
  ScanWorker *aWorker = NULL;
  ScanJob job;
  memset(&job, 0, sizeof job);

  for (int i = 0; i < b->nRow; i++) nSeq += !b->aRow[i].isNull;
  if (nSeq == 0) return SQLITE_OK;

  aOrder = sqlite3_malloc64(sizeof(int) * b->nRow);
  aOff = sqlite3_malloc64(sizeof(int) * (2 * (size_t)b->nRow + 1));
  aPacked = sqlite3_malloc64(sizeof(int32_t) * ((size_t)b->nIds + 1));
  aSorted = sqlite3_malloc64(sizeof(float) * (size_t)nSeq * b->nClass);
  aChunk = sqlite3_malloc64(sizeof(ScanChunk) * b->nRow);
  if (!aOrder || !aOff || !aPacked || !aSorted || !aChunk) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  int chunkTokens = SCAN_CHUNK_TOKENS > b->maxLen ? SCAN_CHUNK_TOKENS : b->maxLen;
  scanBatchPlan(b->aRow, b->nRow, chunkTokens, snt_model_config(b->pModel), aOrder, aChunk, aOff,
                &nChunk);
  for (int j = 0, nPacked = 0; j < nSeq; j++) {
    const ScanRow *r = &b->aRow[aOrder[j]];
    memcpy(aPacked + nPacked, b->aIds + r->iIds, sizeof(int32_t) * r->nTok);
    nPacked += r->nTok;
  }

  if (nThread > nChunk) nThread = nChunk;
  rc = scanBatchStates(b, nThread, chunkTokens, err);
  if (rc != SQLITE_OK) goto done;

  job.pModel = b->pModel;
  job.apState = b->apState;
  job.aIds = aPacked;
  job.aOff = aOff;
  job.aChunk = aChunk;
  job.nChunk = nChunk;
  job.nClass = b->nClass;
  job.aLogit = aSorted;
  job.xStop = xStop;
  job.pStopArg = pArg;
  pthread_mutex_init(&job.mutex, NULL);

  int nStarted = 0;
  sntBlasEnter(); /* before any worker starts: every chunk runs on one BLAS thread */
  if (nThread > 1) {
    aWorker = sqlite3_malloc64(sizeof(ScanWorker) * nThread);
    if (aWorker) {
      for (int w = 1; w < nThread; w++) {
        aWorker[w].pJob = &job;
        aWorker[w].iWorker = w;
        __atomic_add_fetch(&job.nRunning, 1, __ATOMIC_ACQ_REL);
        if (pthread_create(&aWorker[w].thread, NULL, scanWorkerMain, &aWorker[w]) != 0) {
          __atomic_sub_fetch(&job.nRunning, 1, __ATOMIC_ACQ_REL);
          break;
        }
        nStarted++;
      }
    }
  }
  scanWork(&job, 0);
  scanWatch(&job);
  for (int w = 1; w <= nStarted; w++) pthread_join(aWorker[w].thread, NULL);
  sntBlasLeave();
  pthread_mutex_destroy(&job.mutex);

  if (job.err.code != SNT_OK) {
    *err = job.err;
    rc = job.err.code == SNT_ERR_NOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
    goto done;
  }
  if (job.bInterrupted) {
    rc = SQLITE_INTERRUPT;
    goto done;
  }
  for (int j = 0; j < nSeq; j++)
    memcpy(b->aLogit + (size_t)aOrder[j] * b->nClass, aSorted + (size_t)j * b->nClass,
           sizeof(float) * b->nClass);
  __atomic_add_fetch(&nScored, nSeq, __ATOMIC_RELAXED);

done:
  sqlite3_free(aOrder);
  sqlite3_free(aOff);
  sqlite3_free(aPacked);
  sqlite3_free(aSorted);
  sqlite3_free(aChunk);
  sqlite3_free(aWorker);
  return rc;
}
