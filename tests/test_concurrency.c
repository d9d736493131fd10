/*
** test_concurrency.c — N threads × M connections registering, scoring and
** unregistering the same and different models in a loop (issue 7).
**
** The extension is linked in and registered with sqlite3_auto_extension, so
** every sqlite3_open gets it, as after a `.load`. 4 threads each own 4
** connections (opened, closed and reopened by the thread itself); every round,
** on every connection, a thread
**   - registers 'shared' → tiny-distilbert (the same name and model on every
**     connection) and 'own_<thread>_<conn>' → tiny-distilbert or tiny-bert
**     (a name of its own, pointing at the other model every other round);
**   - scores a slice of the golden texts with 'shared', its own name and the
**     embedded 'default' model, and compares "label logits" with the
**     single-threaded results: the label byte for byte, the logits within
**     1e-5 (a long text's products are split over a team of threads when
**     helpers are free and not when they are busy, and OpenBLAS rounds a
**     product split by columns differently: 7e-7 seen, Zen 4 / Haswell kernels);
**   - every other round, runs sentiment_scan over the texts with its own name
**     (the scan starts its own workers) and compares labels and token counts;
**   - unregisters both names and checks that its own name is gone;
**   - every third round, closes the connection and opens a new one.
** The main connection keeps the three models loaded throughout, so each model
** file must have been loaded exactly once (the `loads` column).
**
** Run natively by `make test`, and under ThreadSanitizer by `make test-tsan`,
** which fails on any reported race. SNT_STRESS_ROUNDS sets the rounds (6;
** 3 under make valgrind, enough for every kind of round).
** SKIPs loudly without ../shared.
*/
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sql_fixture.h"
#include "json.h"
#include "snt.h"
#include "util.h"

int sqlite3_sentiment_init(sqlite3 *db, char **pzErrMsg, const void *pApi);

enum { N_THREADS = 4, N_CONNS = 4, MAX_TEXTS = 300, N_MODELS = 3, STRIDE = 5 };
enum { DISTIL = 0, BERT = 1, DEFAULT = 2 };

static char azPath[2][1024];                 /* DISTIL, BERT folders */
static const char *azRefName[N_MODELS] = {"m", "b", "default"};
static char *azText[MAX_TEXTS];
static int anText[MAX_TEXTS], nText;
static char *azWant[N_MODELS][MAX_TEXTS];   /* single-threaded "label logits" */
static char *azLabel[N_MODELS][MAX_TEXTS];  /* single-threaded label */
static int anTok[N_MODELS][MAX_TEXTS];      /* sentiment_tokens count */
static int nRound = 6;

/* The golden texts of tiny-distilbert up to 300 bytes (119 of 268: control
** characters, accents, CJK, empty...) and the first one over 2,000 bytes
** (truncated at 512 tokens); the long ones would only make the loop slower. */
static int loadTexts(const char *zFile) {
  int bLong = 0;
  char *buf = NULL;
  size_t n = 0;
  snt_error err = {0, {0}};
  if (snt_read_file(zFile, 64u << 20, &buf, &n, &err) != SNT_OK) {
    fprintf(stderr, "%s\n", err.msg);
    return 0;
  }
  for (char *line = buf, *end; line < buf + n && nText < MAX_TEXTS; line = end + 1) {
    end = memchr(line, '\n', (size_t)(buf + n - line));
    if (!end) end = buf + n;
    snt_json_doc *doc = end > line ? snt_json_parse(line, (size_t)(end - line), &err) : NULL;
    const snt_json *text = doc ? snt_json_get(snt_json_root(doc), "text") : NULL;
    if (text && text->type == SNT_JSON_STRING && (text->len <= 300 || (text->len > 2000 && !bLong++))) {
      anText[nText] = (int)text->len;
      azText[nText] = malloc(text->len + 1);
      memcpy(azText[nText], text->str, text->len);
      azText[nText][text->len] = 0;
      nText++;
    }
    snt_json_free(doc);
  }
  snt_free(buf);
  return nText;
}

/* A connection with the texts in table t(id, text), ids 0..nText-1. */
static sqlite3 *openConn(void) {
  sqlite3 *db = NULL;
  sqlite3_stmt *ins = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
      exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, text TEXT)") != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?)", -1, &ins, NULL) != SQLITE_OK) {
    fprintf(stderr, "open: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return NULL;
  }
  for (int i = 0; i < nText; i++) {
    sqlite3_bind_int(ins, 1, i);
    sqlite3_bind_text(ins, 2, azText[i], anText[i], SQLITE_STATIC);
    sqlite3_step(ins);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  return db;
}

/* "label logits" of text i under model zName: sqlite3_malloc'd, or NULL. */
static char *score(sqlite3 *db, int i, const char *zName) {
  sqlite3_stmt *st = NULL;
  char *z = NULL;
  if (sqlite3_prepare_v2(db, "SELECT sentiment(?1, ?2), sentiment_logits(?1, ?2)", -1, &st,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, azText[i], anText[i], SQLITE_STATIC);
    sqlite3_bind_text(st, 2, zName, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
      z = sqlite3_mprintf("%s %s", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
  }
  if (!z) fprintf(stderr, "score %d with %s: %s\n", i, zName, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return z;
}

/* Whether two "label [logit,logit,…]" results (score()) agree: the same
** label, as many logits, each within 1e-5. */
static int sameScore(const char *a, const char *b) {
  size_t n = strcspn(a, " ");
  if (strncmp(a, b, n + 1) != 0) return 0;
  const char *pa = a + n + 1, *pb = b + n + 1;
  while (*pa && *pb) {
    if (*pa != *pb || (*pa != '[' && *pa != ',' && *pa != ']')) return 0; /* both at a separator */
    if (*pa == ']') return pa[1] == 0 && pb[1] == 0;
    char *ea, *eb;
    double x = strtod(pa + 1, &ea), y = strtod(pb + 1, &eb);
    if (ea == pa + 1 || eb == pb + 1 || fabs(x - y) > 1e-5) return 0;
    pa = ea;
    pb = eb;
  }
  return 0;
}

typedef struct Worker {
  pthread_t tid;
  int k;                               /* thread number */
  int nScored, nScanRows, nError, nMismatch;
} Worker;

/* One round on one connection; see the header. */
static void round1(Worker *w, sqlite3 *db, int c, int r) {
  char zOwn[32];
  int own = (w->k + c + r) % 2 ? BERT : DISTIL;
  snprintf(zOwn, sizeof zOwn, "own_%d_%d", w->k, c);
  if (registerModel(db, "shared", azPath[DISTIL]) != SQLITE_OK ||
      registerModel(db, zOwn, azPath[own]) != SQLITE_OK) {
    w->nError++;
    return;
  }
  struct { const char *zName; int model; } aUse[3] = {
      {"shared", DISTIL}, {zOwn, own}, {"default", DEFAULT}};
  for (int i = (w->k + c + r) % STRIDE; i < nText; i += STRIDE) {
    for (int u = 0; u < 3; u++) {
      char *z = score(db, i, aUse[u].zName);
      if (!z) w->nError++;
      else if (!sameScore(z, azWant[aUse[u].model][i])) w->nMismatch++;
      else w->nScored++;
      sqlite3_free(z);
    }
  }
  if ((r + c) % 2 == 0) {
    char *zSql = sqlite3_mprintf(
        "SELECT key, label, n_tokens FROM sentiment_scan('SELECT id, text FROM t', %Q)", zOwn);
    sqlite3_stmt *st = NULL;
    int nRow = 0, rc = sqlite3_prepare_v2(db, zSql, -1, &st, NULL);
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      int i = sqlite3_column_int(st, 0);
      const char *zLabel = (const char *)sqlite3_column_text(st, 1);
      if (i < 0 || i >= nText || !zLabel || strcmp(zLabel, azLabel[own][i]) != 0 ||
          sqlite3_column_int(st, 2) != anTok[own][i])
        w->nMismatch++;
      nRow++;
    }
    if (rc != SQLITE_OK || sqlite3_errcode(db) != SQLITE_DONE || nRow != nText) {
      fprintf(stderr, "thread %d: scan: %d rows: %s\n", w->k, nRow, sqlite3_errmsg(db));
      w->nError++;
    }
    w->nScanRows += nRow;
    sqlite3_finalize(st);
    sqlite3_free(zSql);
  }
  char *zDel = sqlite3_mprintf("DELETE FROM sentiment_models WHERE name IN ('shared', %Q)", zOwn);
  if (exec(db, zDel) != SQLITE_OK) w->nError++;
  sqlite3_free(zDel);
  /* The name is gone: scoring with it is an error naming it. */
  char *zGone = sqlite3_mprintf("SELECT sentiment('x', %Q)", zOwn);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, zGone, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ERROR ||
      !strstr(sqlite3_errmsg(db), "no model named")) {
    fprintf(stderr, "thread %d: %s after DELETE: %s\n", w->k, zOwn, sqlite3_errmsg(db));
    w->nError++;
  }
  sqlite3_finalize(st);
  sqlite3_free(zGone);
}

static void *work(void *pArg) {
  Worker *w = pArg;
  sqlite3 *aDb[N_CONNS] = {0};
  for (int c = 0; c < N_CONNS; c++)
    if (!(aDb[c] = openConn())) w->nError++;
  for (int r = 0; r < nRound; r++) {
    for (int c = 0; c < N_CONNS; c++) {
      if (!aDb[c]) continue;
      round1(w, aDb[c], c, r);
      if (r % 3 == 2) {
        sqlite3_close(aDb[c]);
        if (!(aDb[c] = openConn())) w->nError++;
      }
    }
  }
  for (int c = 0; c < N_CONNS; c++) sqlite3_close(aDb[c]);
  return NULL;
}

int main(void) {
  const char *zShared = shared_dir();
  char zFile[1100];
  if (!zShared) {
    SKIP("no shared folder (../shared or $SENTIMENT_SHARED): nothing to score");
    return check_report("test_concurrency");
  }
  if (getenv("SNT_VALGRIND")) nRound = 3; /* make valgrind: every case of the loop, once */
  if (getenv("SNT_STRESS_ROUNDS")) nRound = atoi(getenv("SNT_STRESS_ROUNDS"));
  if (nRound < 1) nRound = 1;
  unsetenv("SENTIMENT_MODEL");
  snprintf(azPath[DISTIL], sizeof azPath[DISTIL], "%s/golden/models/tiny-distilbert", zShared);
  snprintf(azPath[BERT], sizeof azPath[BERT], "%s/golden/models/tiny-bert", zShared);
  snprintf(zFile, sizeof zFile, "%s/expected.jsonl", azPath[DISTIL]);
  CHECK(loadTexts(zFile) > 100, "read %s: %d texts", zFile, nText);
  CHECK(sqlite3_auto_extension((void (*)(void))sqlite3_sentiment_init) == SQLITE_OK,
        "auto_extension");

  /* Single-threaded references on the main connection, which keeps all three
  ** models loaded while the threads run. */
  sqlite3 *db0 = openConn();
  CHECK(db0 && registerModel(db0, "m", azPath[DISTIL]) == SQLITE_OK &&
            registerModel(db0, "b", azPath[BERT]) == SQLITE_OK,
        "main connection");
  int nOk = 0;
  sqlite3_stmt *stTok = NULL;
  sqlite3_prepare_v2(db0, "SELECT count(*) FROM sentiment_tokens(?1, ?2)", -1, &stTok, NULL);
  for (int m = 0; m < N_MODELS; m++) {
    for (int i = 0; i < nText; i++) {
      azWant[m][i] = score(db0, i, azRefName[m]);
      if (!azWant[m][i]) continue;
      nOk++;
      azLabel[m][i] = sqlite3_mprintf("%.*s", (int)strcspn(azWant[m][i], " "), azWant[m][i]);
      sqlite3_bind_text(stTok, 1, azText[i], anText[i], SQLITE_STATIC);
      sqlite3_bind_text(stTok, 2, azRefName[m], -1, SQLITE_STATIC);
      anTok[m][i] = sqlite3_step(stTok) == SQLITE_ROW ? sqlite3_column_int(stTok, 0) : -1;
      sqlite3_reset(stTok);
    }
  }
  sqlite3_finalize(stTok);
  CHECK(nOk == N_MODELS * nText, "single-threaded: %d of %d scored", nOk, N_MODELS * nText);

  Worker aW[N_THREADS];
  memset(aW, 0, sizeof aW);
  for (int k = 0; k < N_THREADS; k++) {
    aW[k].k = k;
    pthread_create(&aW[k].tid, NULL, work, &aW[k]);
  }
  for (int k = 0; k < N_THREADS; k++) pthread_join(aW[k].tid, NULL);

  /* Each thread scored its slice of the texts with 3 names on N_CONNS
  ** connections every round. */
  for (int k = 0; k < N_THREADS; k++) {
    int nWant = 0, nScans = 0;
    for (int r = 0; r < nRound; r++)
      for (int c = 0; c < N_CONNS; c++) {
        for (int i = (k + c + r) % STRIDE; i < nText; i += STRIDE) nWant += 3;
        nScans += (r + c) % 2 == 0;
      }
    CHECK(aW[k].nError == 0, "thread %d: %d errors", k, aW[k].nError);
    CHECK(aW[k].nMismatch == 0, "thread %d: %d results differ from single-threaded", k,
          aW[k].nMismatch);
    CHECK(aW[k].nScored == nWant, "thread %d: %d scored, want %d", k, aW[k].nScored, nWant);
    CHECK(aW[k].nScanRows == nScans * nText, "thread %d: %d scan rows, want %d", k,
          aW[k].nScanRows, nScans * nText);
  }
  for (int m = 0; m < N_MODELS; m++) {
    char *zSql = sqlite3_mprintf("SELECT loads FROM sentiment_models WHERE name = %Q", azRefName[m]);
    long long n = queryInt(db0, zSql);
    CHECK(n == 1, "model %s: loaded %lld times, want once", azRefName[m], n);
    sqlite3_free(zSql);
  }
  CHECK(queryInt(db0, "SELECT count(*) FROM sentiment_models") == 3,
        "the threads' names leaked into the main connection");
  sqlite3_close(db0);

  for (int i = 0; i < nText; i++) {
    free(azText[i]);
    for (int m = 0; m < N_MODELS; m++) {
      sqlite3_free(azWant[m][i]);
      sqlite3_free(azLabel[m][i]);
    }
  }
  sqlite3_reset_auto_extension();
  printf("test_concurrency: %d threads x %d connections x %d rounds\n", N_THREADS, N_CONNS, nRound);
  return check_report("test_concurrency");
}
