/*
** test_scan_batch.c — sentiment_scan's engine (ext/scan_batch.c) on its own:
**
** the chunker (scanBatchPlan) on made-up batches — no rows, all NULL, one
** row, equal lengths, a sequence longer than a chunk, 256 random lengths
** with NULLs among them: the order is longest first (ties in row order) and
** holds every non-NULL row once; chunks are consecutive runs of that order,
** each within the chunk size unless it is one sequence, each full (the next
** sequence would not have fitted), with ids and offsets that match the
** lengths, sorted by cost, highest first; the costs match a plain recount.
** Needs no model and no ../shared.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "scan_batch.h"

/* Every property the chunker promises, for rows aRow[0..nRow). */
static void checkPlan(const char *zWhat, const ScanRow *aRow, int nRow, int chunkTokens,
                      const snt_config *cfg) {
  int *aOrder = malloc(sizeof(int) * (nRow + 1));
  int *aOff = malloc(sizeof(int) * (2 * nRow + 1));
  ScanChunk *aChunk = malloc(sizeof(ScanChunk) * (nRow + 1));
  int *aSeen = calloc(nRow + 1, sizeof(int));
  int nChunk = -1;
  int nSeq = scanBatchPlan(aRow, nRow, chunkTokens, cfg, aOrder, aChunk, aOff, &nChunk);

  int nNonNull = 0, bad = 0;
  for (int i = 0; i < nRow; i++) nNonNull += !aRow[i].isNull;
  CHECK(nSeq == nNonNull, "%s: %d sequences, %d non-NULL rows", zWhat, nSeq, nNonNull);
  for (int j = 0; j < nSeq; j++) {
    int i = aOrder[j];
    if (i < 0 || i >= nRow || aRow[i].isNull || aSeen[i]++) bad++;
    if (j > 0) {
      const ScanRow *p = &aRow[aOrder[j - 1]], *q = &aRow[i];
      if (p->nTok < q->nTok || (p->nTok == q->nTok && aOrder[j - 1] > i)) bad++;
    }
  }
  CHECK(bad == 0, "%s: the order is not every non-NULL row once, longest first (%d bad)", zWhat,
        bad);

  /* Chunks, put back in sequence order, tile [0, nSeq). */
  int *aChunkAt = malloc(sizeof(int) * (nSeq + 1));
  for (int j = 0; j < nSeq; j++) aChunkAt[j] = -1;
  int nBadChunk = 0, nBadCost = 0;
  double linFlop = 2.0 * cfg->n_layers * (4.0 * cfg->dim * cfg->dim + 2.0 * cfg->dim * cfg->ffn_dim);
  double attFlop = 4.0 * cfg->n_layers * cfg->dim;
  for (int k = 0; k < nChunk; k++) {
    const ScanChunk *c = &aChunk[k];
    if (c->nSeq < 1 || c->iSeq < 0 || c->iSeq + c->nSeq > nSeq) {
      nBadChunk++;
      continue;
    }
    if (aChunkAt[c->iSeq] != -1) nBadChunk++;
    aChunkAt[c->iSeq] = k;
    int nTok = 0, iId = 0;
    double cost = 0;
    for (int j = 0; j < c->iSeq; j++) iId += aRow[aOrder[j]].nTok;
    if (c->iId != iId || aOff[c->iOff] != 0) nBadChunk++;
    for (int j = 0; j < c->nSeq; j++) {
      int n = aRow[aOrder[c->iSeq + j]].nTok;
      nTok += n;
      cost += n * (linFlop + attFlop * n);
      if (aOff[c->iOff + j + 1] != nTok) nBadChunk++;
    }
    if (c->nTok != nTok) nBadChunk++;
    if (c->nSeq > 1 && nTok > chunkTokens) nBadChunk++;
    if (c->iSeq + c->nSeq < nSeq && nTok + aRow[aOrder[c->iSeq + c->nSeq]].nTok <= chunkTokens)
      nBadChunk++; /* the next sequence would have fitted */
    if (cost != c->cost) nBadCost++;
    if (k > 0 && aChunk[k - 1].cost < c->cost) nBadCost++;
  }
  for (int j = 0, k; j < nSeq; j += aChunk[k].nSeq)
    if ((k = aChunkAt[j]) < 0) {
      nBadChunk++;
      break;
    }
  CHECK(nBadChunk == 0, "%s: %d chunks, %d faults in their ranges, sizes or offsets", zWhat,
        nChunk, nBadChunk);
  CHECK(nBadCost == 0, "%s: %d faults in the chunks' costs or their order", zWhat, nBadCost);
  free(aChunkAt);
  free(aOrder);
  free(aOff);
  free(aChunk);
  free(aSeen);
}

int main(void) {
  (void)shared_dir; /* needs no ../shared */
  snt_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.dim = 64;
  cfg.n_layers = 2;
  cfg.ffn_dim = 256;
  enum { N = SCAN_BATCH_ROWS };
  ScanRow aRow[N];
  memset(aRow, 0, sizeof aRow);

  checkPlan("no rows", aRow, 0, 2048, &cfg);
  for (int i = 0; i < 5; i++) aRow[i].isNull = 1;
  checkPlan("all NULL", aRow, 5, 2048, &cfg);

  memset(aRow, 0, sizeof aRow);
  aRow[0].nTok = 7;
  checkPlan("one row", aRow, 1, 2048, &cfg);

  for (int i = 0; i < 40; i++) aRow[i].nTok = 100;
  checkPlan("40 equal rows of 100 tokens", aRow, 40, 2048, &cfg);
  int aOrder[N], aOff[2 * N + 1], nChunk = 0;
  ScanChunk aChunk[N];
  scanBatchPlan(aRow, 40, 2048, &cfg, aOrder, aChunk, aOff, &nChunk);
  CHECK(nChunk == 2 && aChunk[0].nSeq == 20 && aChunk[1].nSeq == 20,
        "40 x 100 tokens in chunks of 2,048: %d chunks (%d, %d sequences), want 2 of 20", nChunk,
        aChunk[0].nSeq, nChunk > 1 ? aChunk[1].nSeq : -1);

  aRow[3].nTok = 3000; /* longer than a chunk: one of its own, first */
  checkPlan("one sequence longer than a chunk", aRow, 40, 2048, &cfg);
  scanBatchPlan(aRow, 40, 2048, &cfg, aOrder, aChunk, aOff, &nChunk);
  CHECK(aOrder[0] == 3 && aChunk[0].nSeq == 1 && aChunk[0].nTok == 3000,
        "the 3,000-token sequence is the first chunk, alone");

  srand(14);
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < N; i++) {
      aRow[i].isNull = rand() % 10 == 0;
      aRow[i].nTok = aRow[i].isNull ? 0 : 2 + rand() % 511;
    }
    char zWhat[64];
    snprintf(zWhat, sizeof zWhat, "256 random rows, round %d", round);
    checkPlan(zWhat, aRow, N, round % 2 ? 2048 : 512, &cfg);
  }
  return check_report("test_scan_batch");
}
