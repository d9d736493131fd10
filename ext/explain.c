/*
** explain.c — occlusion weights of a text's words or sentences (explain.h).
**
**   text ─► snt_tokenize ─► units (words, or sentences of words)
**        ─► [CLS] all [SEP], [CLS] all but unit 0 [SEP], … packed in chunks
**        ─► snt_forward_batch ─► P(label) of each ─► weight = P(all) − P(without)
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas_threads.h"
#include "explain.h"
#include "result.h"
SQLITE_EXTENSION_INIT3

int sntExplainParseUnit(const char *z, int *peUnit) {
  static const struct {
    const char *zName;
    int eUnit;
  } aName[] = {{"auto", SNT_UNIT_AUTO}, {"word", SNT_UNIT_WORD}, {"sentence", SNT_UNIT_SENTENCE}};
  for (size_t i = 0; i < sizeof aName / sizeof aName[0]; i++) {
    if (sqlite3_stricmp(z, aName[i].zName) == 0) {
      *peUnit = aName[i].eUnit;
      return 0;
    }
  }
  return -1;
}

const char *sntExplainUnitName(int eUnit) {
  return eUnit == SNT_UNIT_SENTENCE ? "sentence" : eUnit == SNT_UNIT_SPAN ? "sentences" : "word";
}

void sntExplanationFree(SntExplanation *pEx) {
  sqlite3_free(pEx->aUnit);
  memset(pEx, 0, sizeof *pEx);
}

/* Does the word of token t end a sentence? Its piece is . ! ? or … (a run of
** them, "?!" or "...", ends it at its last one), or a line break follows it. */
static int endsSentence(const snt_vocab *v, const snt_tokens *pToks, int iLast, const char *zText) {
  static const char *const azEnd[] = {".", "!", "?", "\xe2\x80\xa6"};
  const snt_token *t = &pToks->tok[iLast];
  const snt_token *pNext = iLast + 2 < pToks->n ? &pToks->tok[iLast + 1] : NULL;
  const char *zPiece = snt_vocab_piece(v, t->id);
  int bEnd = 0;
  for (size_t i = 0; !bEnd && zPiece && i < sizeof azEnd / sizeof azEnd[0]; i++)
    bEnd = strcmp(zPiece, azEnd[i]) == 0;
  if (!pNext) return 1;
  if (bEnd) {
    const char *zNext = snt_vocab_piece(v, pNext->id);
    for (size_t i = 0; zNext && i < sizeof azEnd / sizeof azEnd[0]; i++)
      if (strcmp(zNext, azEnd[i]) == 0) return 0; /* the run goes on */
    return 1;
  }
  return pNext->start > t->end &&
         memchr(zText + t->end, '\n', (size_t)(pNext->start - t->end)) != NULL;
}

/* FLOPs of one forward pass over nTok tokens (linear layers + attention). */
static double passFlops(const snt_config *cfg, int nTok) {
  double lin = 2.0 * cfg->n_layers * (4.0 * cfg->dim * cfg->dim + 2.0 * cfg->dim * cfg->ffn_dim);
  double att = 4.0 * cfg->n_layers * cfg->dim * nTok;
  return nTok * (lin + att);
}

/* Cut the tokens 1 .. n-2 into units of eUnit (never AUTO) into pEx->aUnit. */
static int makeUnits(const snt_vocab *v, const snt_tokens *pToks, const char *zText, int eUnit,
                     SntExplanation *pEx) {
  int nWord = pToks->n > 2 ? pToks->tok[pToks->n - 2].word - pToks->tok[1].word + 1 : 0;
  pEx->eUnit = eUnit;
  pEx->nUnit = 0;
  if (nWord == 0) return SQLITE_OK;
  pEx->aUnit = sqlite3_malloc64(sizeof(SntUnit) * (size_t)nWord);
  if (!pEx->aUnit) return SQLITE_NOMEM;
  SntUnit *u = NULL;
  for (int i = 1; i < pToks->n - 1; i++) {
    const snt_token *t = &pToks->tok[i];
    int bNewWord = i == 1 || t->word != pToks->tok[i - 1].word;
    int bNewUnit = bNewWord && (eUnit == SNT_UNIT_WORD || !u ||
                                endsSentence(v, pToks, i - 1, zText));
    if (bNewUnit) {
      u = &pEx->aUnit[pEx->nUnit++];
      memset(u, 0, sizeof *u);
      u->iTok = i;
      u->iStart = t->start;
    }
    u->nTok++;
    u->nWord += bNewWord;
    if (t->end > u->iEnd) u->iEnd = t->end;
  }
  return SQLITE_OK;
}

/* Runs of consecutive units, nSpan of them (as even in units as they go). */
static void mergeUnits(SntExplanation *pEx, int nSpan) {
  int nPer = (pEx->nUnit + nSpan - 1) / nSpan, n = 0;
  for (int i = 0; i < pEx->nUnit; i += nPer, n++) {
    SntUnit u = pEx->aUnit[i];
    for (int j = i + 1; j < i + nPer && j < pEx->nUnit; j++) {
      u.nTok += pEx->aUnit[j].nTok;
      u.nWord += pEx->aUnit[j].nWord;
      u.iEnd = pEx->aUnit[j].iEnd;
    }
    pEx->aUnit[n] = u;
  }
  pEx->nUnit = n;
  pEx->eUnit = SNT_UNIT_SPAN;
}

/* EXPLAIN_BUDGET, or $SENTIMENT_EXPLAIN_BUDGET when that is a number ≥ 1. */
static double explainBudget(void) {
  const char *z = getenv("SENTIMENT_EXPLAIN_BUDGET");
  char *zEnd;
  double x = z ? strtod(z, &zEnd) : 0;
  return z && zEnd != z && *zEnd == 0 && x >= 1 ? x : EXPLAIN_BUDGET;
}

/* Variant k of the sequence into aId: k == 0 the whole of it, else without
** unit k-1. Returns its length. */
static int variant(const snt_tokens *pToks, const SntExplanation *pEx, int k, int32_t *aId) {
  int iSkip = k ? pEx->aUnit[k - 1].iTok : pToks->n, nSkip = k ? pEx->aUnit[k - 1].nTok : 0, n = 0;
  for (int i = 0; i < pToks->n; i++)
    if (i < iSkip || i >= iSkip + nSkip) aId[n++] = pToks->tok[i].id;
  return n;
}

int sntExplain(SntEntry *e, const char *zFunc, const char *zText, size_t nText, int eUnit,
               SntExplanation *pEx, char **pzErr) {
  const snt_model *m = cacheModel(e->pModel);
  const snt_config *cfg = snt_model_config(m);
  const snt_vocab *v = snt_model_vocab(m);
  int nLabel = cfg->n_labels, maxLen = snt_model_max_len(m);
  int chunkTokens = EXPLAIN_CHUNK_TOKENS > maxLen ? EXPLAIN_CHUNK_TOKENS : maxLen;
  snt_tokens toks = {0};
  snt_state *pState = NULL;
  int32_t *aId = NULL;
  int *aOff = NULL;
  float *aLogit = NULL;
  snt_error err = {0};
  int rc = SQLITE_OK;
  memset(pEx, 0, sizeof *pEx);
  *pzErr = NULL;

  if (snt_tokenize(v, zText, nText, maxLen, &toks, &err) != SNT_OK) goto core_error;
  pEx->nTok = toks.n;
  pEx->bTruncated = toks.truncated;
  if (eUnit == SNT_UNIT_AUTO) {
    /* The passes the budget pays for, the whole text's included (≥ 3). */
    double nFit = explainBudget() / passFlops(cfg, toks.n);
    int nMax = nFit > 3 ? (nFit < 1e9 ? (int)nFit : 1000000000) : 3;
    int nWord = toks.n > 2 ? toks.tok[toks.n - 2].word - toks.tok[1].word + 1 : 0;
    rc = makeUnits(v, &toks, zText, nWord < nMax ? SNT_UNIT_WORD : SNT_UNIT_SENTENCE, pEx);
    if (rc != SQLITE_OK) goto done;
    if (pEx->nUnit >= nMax) mergeUnits(pEx, nMax - 1);
  } else if ((rc = makeUnits(v, &toks, zText, eUnit, pEx)) != SQLITE_OK) {
    goto done;
  }

  /* Variant 0 (the whole text) and one per unit, packed into chunks. */
  int nVar = pEx->nUnit + 1;
  aId = sqlite3_malloc64(sizeof(int32_t) * (size_t)chunkTokens);
  aOff = sqlite3_malloc64(sizeof(int) * ((size_t)nVar + 1));
  aLogit = sqlite3_malloc64(sizeof(float) * (size_t)nVar * (size_t)nLabel);
  if (!aId || !aOff || !aLogit) {
    rc = SQLITE_NOMEM;
    goto done;
  }
  /* Every variant fits: the longest is the whole text, ≤ maxLen ≤ chunkTokens. */
  int nState = toks.n * nVar < chunkTokens ? toks.n * nVar : chunkTokens;
  if (!(pState = snt_state_new(m, nState, &err))) goto core_error;
  sntBlasEnter();
  for (int k0 = 0; k0 < nVar && err.code == SNT_OK;) {
    int k = k0, nPacked = 0;
    aOff[0] = 0;
    while (k < nVar && nPacked + toks.n - (k ? pEx->aUnit[k - 1].nTok : 0) <= chunkTokens) {
      nPacked += variant(&toks, pEx, k, aId + nPacked);
      aOff[++k - k0] = nPacked;
    }
    /* A file truncated in place would SIGBUS the pass: check before each. */
    if (snt_model_check_file(m, &err) == SNT_OK)
      snt_forward_batch(m, pState, k - k0, aId, aOff, aLogit + (size_t)k0 * nLabel, &err);
    k0 = k;
  }
  sntBlasLeave();
  if (err.code != SNT_OK) goto core_error;

  pEx->iLabelFull = sntArgmax(aLogit, nLabel);
  int iPos = cachePositiveLabel(e->pModel);
  pEx->iLabel = iPos >= 0 ? iPos : pEx->iLabelFull;
  pEx->pFull = sntProb(aLogit, nLabel, pEx->iLabel);
  for (int k = 1; k < nVar; k++) {
    const float *a = aLogit + (size_t)k * nLabel;
    pEx->aUnit[k - 1].weight = pEx->pFull - sntProb(a, nLabel, pEx->iLabel);
    pEx->aUnit[k - 1].iLabelWithout = sntArgmax(a, nLabel);
  }
  goto done;

core_error:
  if (err.code == SNT_ERR_NOMEM) {
    rc = SQLITE_NOMEM;
  } else {
    *pzErr = sqlite3_mprintf("%s: %s", zFunc, err.msg);
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
done:
  if (rc != SQLITE_OK) sntExplanationFree(pEx);
  snt_state_free(pState);
  snt_tokens_free(&toks);
  sqlite3_free(aId);
  sqlite3_free(aOff);
  sqlite3_free(aLogit);
  return rc;
}
