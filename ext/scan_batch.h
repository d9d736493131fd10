/*
** scan_batch.h — sentiment_scan's engine: rows in, logits out.
**
**   ScanBatch b;
**   scanBatchInit(&b, pModel);                       // once per model
**   while (!scanBatchFull(&b))
**     scanBatchAdd(&b, pKey, zText, nText, &err);   // tokenizes the text
**   scanBatchRun(&b, nThread, xStop, pArg, &err);    // logits of every row
**   ... b.aRow[i], scanBatchLogits(&b, i) ...
**   scanBatchClear(&b);                              // next batch
**   scanBatchFree(&b);
**
** A batch holds up to SCAN_BATCH_ROWS rows, SCAN_BATCH_TOKENS tokens or
** SCAN_BATCH_BYTES bytes of keys and texts, whichever comes first (a row
** bigger than that is a batch of its own): a query of huge keys does not
** hold 256 of them at once.
** scanBatchRun sorts its sequences longest first, cuts them into chunks of
** at most SCAN_CHUNK_TOKENS tokens (scanBatchPlan), and hands the chunks,
** largest first, to nThread workers; each chunk is one snt_forward_batch on
** packed sequences (no padding), run after checking that the model file was
** not changed on disk (snt_model_check_file: a file truncated in place is an
** error, not a SIGBUS). Each worker has its own snt_state, made on first use
** and kept for the next batches; OpenBLAS is held at one thread while they
** run (blas_threads.h: measured faster than giving OpenBLAS every core,
** bench/README.md). Results do not depend on the thread count: each chunk is
** computed the same way whichever worker takes it.
**
** No SQL runs in here: the caller reads the rows, and xStop (called by the
** calling thread only) says when to stop. It is asked before every layer of
** the calling thread's chunks and every 2 ms while that thread waits for the
** other workers; every worker checks the resulting stop flag before each of
** its layers. So a run stops within one layer of one chunk (≤ 2,048 tokens)
** of xStop saying so (tests/test_interrupt.c measures it).
*/
#ifndef SNT_SCAN_BATCH_H
#define SNT_SCAN_BATCH_H

#include <sqlite3ext.h>

#include "snt.h"

#define SCAN_BATCH_ROWS 256      /* rows per batch */
#define SCAN_BATCH_TOKENS 32768  /* ...or fewer once their tokens reach this */
#define SCAN_BATCH_BYTES (8 << 20) /* ...or their keys' and texts' bytes */
/* Tokens per snt_forward_batch (≥ max_len). 2,048 beat 1,024 by 5–6% and
** 4,096 by 12% on DistilBERT-base, 2 workers (bench/README.md). */
#define SCAN_CHUNK_TOKENS 2048

/* One row of the batch. */
typedef struct ScanRow {
  sqlite3_value *pKey;  /* the query's first column (the batch owns it) */
  int isNull;           /* text was NULL: no tokens, no logits */
  int nTok;             /* tokens, [CLS] and [SEP] included */
  int truncated;
  int iIds;             /* its ids start at aIds[iIds] */
  size_t nKeyBytes;     /* pKey's text or blob bytes */
} ScanRow;

/* One snt_forward_batch call: sorted sequences [iSeq, iSeq+nSeq), their ids
** at packed[iId...], their nSeq+1 offsets (from iId) at aOff[iOff...]. */
typedef struct ScanChunk {
  int iSeq, nSeq;
  int iId, iOff;
  int nTok;
  double cost;          /* FLOPs, to hand out the largest chunks first */
} ScanChunk;

typedef struct ScanBatch {
  const snt_model *pModel;
  int nClass, maxLen;
  snt_tokens toks;      /* tokenizer scratch */
  ScanRow *aRow;        /* (SCAN_BATCH_ROWS) */
  int nRow;
  int32_t *aIds;        /* the rows' token ids, row after row */
  int nIds, nIdsAlloc;
  size_t nBytes;        /* the rows' keys and texts, for SCAN_BATCH_BYTES */
  float *aLogit;        /* (SCAN_BATCH_ROWS, nClass) */
  snt_state **apState;  /* one per worker, made on first use */
  int nState;
} ScanBatch;

/* Set b up, empty, for pModel (which must outlive b's use). SQLITE_OK or
** SQLITE_NOMEM. b must be zeroed (or freed with scanBatchFree) before. */
int scanBatchInit(ScanBatch *b, const snt_model *pModel);
/* Drop the rows; keep the buffers. */
void scanBatchClear(ScanBatch *b);
/* Free everything; b is zeroed. */
void scanBatchFree(ScanBatch *b);

/* 1 when no row should be added before scanBatchRun. */
int scanBatchFull(const ScanBatch *b);
/* Add a row: pKey (the batch owns it from now, also on error), and its text
** z[0..n), or z = NULL for a NULL text. Returns an SNT_* code, err filled. */
int scanBatchAdd(ScanBatch *b, sqlite3_value *pKey, const char *z, int n, snt_error *err);
/* The logits of every non-NULL row, on nThread workers. xStop(pArg), when
** not NULL, is called by the calling thread (see above); when it returns
** non-zero the run stops. Returns SQLITE_OK, SQLITE_INTERRUPT (xStop
** said so), SQLITE_NOMEM, or SQLITE_ERROR with err filled. */
int scanBatchRun(ScanBatch *b, int nThread, int (*xStop)(void *), void *pArg, snt_error *err);
/* Row i's logits (nClass), valid after scanBatchRun. */
const float *scanBatchLogits(const ScanBatch *b, int i);
/* Rows scanBatchRun has scored in this process (a test counter). */
long scanBatchScored(void);

/* The chunker, on its own for the tests: sorts the non-NULL rows of
** aRow[0..nRow) longest first into aOrder (returns their count), cuts that
** order into chunks of whole sequences of at most chunkTokens tokens (a
** sequence longer than that is a chunk of its own), and sorts the chunks by
** cost (FLOPs of cfg's model), highest first. aOrder and aChunk have room for
** nRow entries, aOff for 2 * nRow + 1; *pnChunk gets the chunks' count. */
int scanBatchPlan(const ScanRow *aRow, int nRow, int chunkTokens, const snt_config *cfg,
                  int *aOrder, ScanChunk *aChunk, int *aOff, int *pnChunk);

#endif
