/*
** result.h — logits to SQL values, in one place: what sentiment(),
** sentiment_score(), sentiment_scores(), sentiment_logits(), the columns of
** sentiment_scan and the labels column of sentiment_models return.
**
**   label    the label of the first of equal maxima (argmax)
**   score    a label's softmax probability, computed in double
**   JSON     {"negative":0.1,"positive":0.9}, [1.25,-0.5], ["negative","positive"]:
**            numbers as "%.9g" (enough digits to round-trip a float; SQLite's
**            printf, so no locale: a host with LC_NUMERIC=de_DE still gets
**            valid JSON), a non-finite number as null
**
** JSON is built in an sqlite3_str: append freely, its error is sticky, and
** sntResultStr checks it once when handing the text to SQLite.
*/
#ifndef SNT_RESULT_H
#define SNT_RESULT_H

#include <sqlite3ext.h>

#include "snt.h"

/* The index of the largest logit; the first one when several are equal. */
int sntArgmax(const float *aLogit, int n);
/* softmax(aLogit)[i], in double. */
double sntProb(const float *aLogit, int n, int i);

/* Appends to s. */
void sntStrLogits(sqlite3_str *s, const float *aLogit, int n);      /* [l0,l1,…] */
void sntStrScores(sqlite3_str *s, const snt_config *cfg, const float *aLogit); /* {"label":p,…} */
void sntStrLabels(sqlite3_str *s, const snt_config *cfg);           /* ["label",…] */

/* Finishes s (always: s is freed) and makes its text ctx's result, with
** subtype 'J' when bJson (so json_object() nests it as JSON). On the
** builder's error (out of memory, over SQLITE_LIMIT_LENGTH) the result is
** that error instead, and the code (SQLITE_NOMEM, SQLITE_TOOBIG) is returned. */
int sntResultStr(sqlite3_context *ctx, sqlite3_str *s, int bJson);

#endif
