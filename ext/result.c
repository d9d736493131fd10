/*
** result.c — logits to SQL values (result.h).
*/
#include <math.h>

#include "result.h"
SQLITE_EXTENSION_INIT3

int sntArgmax(const float *aLogit, int n) {
  int iBest = 0;
  for (int i = 1; i < n; i++)
    if (aLogit[i] > aLogit[iBest]) iBest = i;
  return iBest;
}

/* softmax's max and denominator: p_i = exp(l_i - *pMax) / *pSum. */
static void softmaxTerms(const float *aLogit, int n, double *pMax, double *pSum) {
  double mx = aLogit[0], sum = 0;
  for (int j = 1; j < n; j++)
    if (aLogit[j] > mx) mx = aLogit[j];
  for (int j = 0; j < n; j++) sum += exp((double)aLogit[j] - mx);
  *pMax = mx;
  *pSum = sum;
}

double sntProb(const float *aLogit, int n, int i) {
  double mx, sum;
  softmaxTerms(aLogit, n, &mx, &sum);
  return exp((double)aLogit[i] - mx) / sum;
}

static void strNumber(sqlite3_str *s, double x) {
  if (x != x || x > 1e308 || x < -1e308) sqlite3_str_append(s, "null", 4);
  else sqlite3_str_appendf(s, "%.9g", x);
}

/* z as a JSON string, quotes included. */
static void strJsonString(sqlite3_str *s, const char *z) {
  static const char hex[] = "0123456789abcdef";
  const char *zRun = z; /* start of the bytes not yet copied */
  sqlite3_str_appendchar(s, 1, '"');
  for (; *z; z++) {
    unsigned char c = (unsigned char)*z;
    if (c != '"' && c != '\\' && c >= 0x20) continue;
    sqlite3_str_append(s, zRun, (int)(z - zRun));
    if (c == '"' || c == '\\') sqlite3_str_appendf(s, "\\%c", c);
    else sqlite3_str_appendf(s, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
    zRun = z + 1;
  }
  sqlite3_str_append(s, zRun, (int)(z - zRun));
  sqlite3_str_appendchar(s, 1, '"');
}

void sntStrLogits(sqlite3_str *s, const float *aLogit, int n) {
  sqlite3_str_appendchar(s, 1, '[');
  for (int i = 0; i < n; i++) {
    if (i) sqlite3_str_appendchar(s, 1, ',');
    strNumber(s, aLogit[i]);
  }
  sqlite3_str_appendchar(s, 1, ']');
}

void sntStrScores(sqlite3_str *s, const snt_config *cfg, const float *aLogit) {
  double mx, sum;
  softmaxTerms(aLogit, cfg->n_labels, &mx, &sum);
  sqlite3_str_appendchar(s, 1, '{');
  for (int i = 0; i < cfg->n_labels; i++) {
    if (i) sqlite3_str_appendchar(s, 1, ',');
    strJsonString(s, cfg->labels[i]);
    sqlite3_str_appendchar(s, 1, ':');
    strNumber(s, exp((double)aLogit[i] - mx) / sum);
  }
  sqlite3_str_appendchar(s, 1, '}');
}

void sntStrLabels(sqlite3_str *s, const snt_config *cfg) {
  sqlite3_str_appendchar(s, 1, '[');
  for (int i = 0; i < cfg->n_labels; i++) {
    if (i) sqlite3_str_appendchar(s, 1, ',');
    strJsonString(s, cfg->labels[i]);
  }
  sqlite3_str_appendchar(s, 1, ']');
}

int sntResultStr(sqlite3_context *ctx, sqlite3_str *s, int bJson) {
  int rc = s ? sqlite3_str_errcode(s) : SQLITE_NOMEM;
  int n = s ? sqlite3_str_length(s) : 0;
  char *z = sqlite3_str_finish(s);
  if (rc == SQLITE_OK && !z) z = sqlite3_mprintf(""); /* nothing appended */
  if (rc == SQLITE_OK && !z) rc = SQLITE_NOMEM;
  if (rc != SQLITE_OK) {
    sqlite3_free(z);
    if (rc == SQLITE_TOOBIG) sqlite3_result_error_toobig(ctx);
    else sqlite3_result_error_nomem(ctx);
    return rc;
  }
  sqlite3_result_text(ctx, z, n, sqlite3_free);
  if (bJson) sqlite3_result_subtype(ctx, 'J');
  return SQLITE_OK;
}
