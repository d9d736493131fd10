/*
** explain.h — which words pushed a text's score: occlusion weights, shared by
** sentiment_explain (explain_vtab.c) and sentiment_highlight (highlight.c).
**
**   SntExplanation x;
**   rc = sntExplain(e, "sentiment_explain()", zText, nText, SNT_UNIT_AUTO, &x, &zErr);
**   for (int i = 0; i < x.nUnit; i++) x.aUnit[i].weight ...
**   sntExplanationFree(&x);
**
** The text is tokenized as sentiment() tokenizes it (truncated to the model's
** max length) and cut into units: the pre-tokenizer's words (whitespace and
** punctuation boundaries, snt_token.word), or sentences (runs of words ended
** by a word . ! ? … or a line break). A unit's weight is
**
**   P(label | the text as read) − P(label | the same ids without the unit's pieces)
**
** where label is the positive one (cachePositiveLabel) or, for a model
** without one, the label predicted for the whole text. So a positive weight
** pushed toward that label. The sequence and every occluded variant (one per
** unit) run packed through snt_forward_batch, in chunks of at most
** EXPLAIN_CHUNK_TOKENS tokens (memory: one snt_state of that size).
**
** Only what the model reads is explained: units past the truncation point
** are absent (a word cut by it appears with the pieces read).
**
** SNT_UNIT_AUTO bounds the work: it explains word by word when the passes
** that takes (one per word, plus the whole text) fit in EXPLAIN_BUDGET
** floating-point operations — each pass counted as long as the whole text,
** linear layers and attention — else sentence by sentence, and when even
** the sentences do not fit, runs of consecutive sentences, as many runs as
** fit (at least 2). $SENTIMENT_EXPLAIN_BUDGET (a number ≥ 1, read on each
** call) replaces EXPLAIN_BUDGET.
*/
#ifndef SNT_EXPLAIN_H
#define SNT_EXPLAIN_H

#include "registry.h"

/* Tokens per snt_forward_batch, as sentiment_scan's chunks (at least the
** model's max length). */
#define EXPLAIN_CHUNK_TOKENS 2048
/* FLOPs an automatic explanation may cost (about 3 s of one core here). On
** the default model (dim 256, FFN 1024, 2 layers) texts up to about 320
** pre-tokenizer words go word by word, longer ones sentence by sentence (a
** 365-piece review: 26 sentences, 0.5 s; word by word it is 6.5 s). On
** DistilBERT-base (dim 768, FFN 3072, 6 layers) one pass over 367 tokens is
** 3.4e10: that review gets 9 runs of 3 sentences; texts up to about 60 words
** still go word by word there. */
#define EXPLAIN_BUDGET 4e11

enum { SNT_UNIT_AUTO, SNT_UNIT_WORD, SNT_UNIT_SENTENCE, SNT_UNIT_SPAN /* runs of sentences */ };

typedef struct SntUnit {
  sqlite3_int64 iStart, iEnd; /* bytes [iStart, iEnd) of the text */
  int iTok, nTok;             /* its pieces: tokens iTok .. iTok+nTok-1 of the sequence */
  int nWord;                  /* words in it (1 for a word) */
  double weight;              /* P(label) with it − P(label) without it */
  int iLabelWithout;          /* the predicted label without it */
} SntUnit;

typedef struct SntExplanation {
  SntUnit *aUnit;             /* nUnit units, in text order */
  int nUnit;
  int eUnit;                  /* SNT_UNIT_WORD, _SENTENCE or _SPAN: what a unit is */
  int iLabel;                 /* the label whose probability the weights measure */
  int iLabelFull;             /* the label predicted for the text as read */
  double pFull;               /* P(iLabel) for the text as read */
  int nTok;                   /* tokens of the text as read, [CLS] and [SEP] included */
  int bTruncated;             /* 1 when the text was cut to the model's length */
} SntExplanation;

/* Parse a granularity argument: 'auto', 'word' or 'sentence' (any case).
** Returns 0 and sets *peUnit, or -1 for anything else. */
int sntExplainParseUnit(const char *z, int *peUnit);
/* "word", "sentence" or "sentences" (a run of them). */
const char *sntExplainUnitName(int eUnit);

/* Explain zText[0..nText) with e's model (attached by sntConnModel) for a
** call of zFunc. Fills *pEx (free it with sntExplanationFree, also after an
** error). Returns SQLITE_OK, SQLITE_NOMEM, or SQLITE_ERROR with
** *pzErr = "zFunc: <cause>" (sqlite3_malloc'd). */
int sntExplain(SntEntry *e, const char *zFunc, const char *zText, size_t nText, int eUnit,
               SntExplanation *pEx, char **pzErr);
void sntExplanationFree(SntExplanation *pEx);

#endif
