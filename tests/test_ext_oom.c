/*
** test_ext_oom.c — every allocation the extension makes can fail, and each
** failure comes back as SQLITE_NOMEM ("out of memory"), never as a crash, a
** leak (under make test-asan) or a misleading error.
**
** Two kinds of allocations, made to fail one at a time, the k-th from the
** start of a session, for k = 1, 2, … until a session runs clean:
**   - SQLite's (sqlite3_malloc: the registry, scratch buffers, results),
**     through a counting allocator installed with SQLITE_CONFIG_MALLOC;
**   - core's (snt_malloc: model, vocabulary, state, tokens), through
**     snt_alloc_fail_after.
** A session opens a connection (the extension is an auto-extension), registers
** a golden model, scores a text with each function, reads sentiment_tokens,
** sentiment_explain (and sentiment_highlight) and sentiment_models, scores
** three rows with sentiment_scan, and closes. After each failing session a
** clean one must give the right answer: nothing was left half-built.
*/
#include <sqlite3.h>
#include <string.h>

#include "check.h"
#include "util.h"

int sqlite3_sentiment_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

/* ---- a SQLite allocator whose k-th call fails ---------------------------- */

static sqlite3_mem_methods memDefault;
static long memCountdown; /* 0: off; else the allocation that fails */
static int memFailed;

static int memShouldFail(void) {
  if (memCountdown > 0 && --memCountdown == 0) {
    memFailed = 1;
    return 1;
  }
  return 0;
}
static void *memMalloc(int n) { return memShouldFail() ? NULL : memDefault.xMalloc(n); }
static void *memRealloc(void *p, int n) {
  return memShouldFail() ? NULL : memDefault.xRealloc(p, n);
}

/* ---- one session ---------------------------------------------------------- */

static const char *azSql[] = {
    "SELECT sentiment('A fine film.', 'm')",
    "SELECT sentiment_score('A fine film.', 'm')",
    "SELECT sentiment_scores('Another film.', 'm')",
    "SELECT sentiment_logits('Yet another.', 'm')",
    "SELECT group_concat(token, ' ') FROM sentiment_tokens('Loved it!', 'm')",
    "SELECT group_concat(name || labels || loaded, ';') FROM sentiment_models",
    /* Occlusion: the packed variants, the rows, highlighting. */
    "SELECT group_concat(word || pieces || label || label_without || unit || round(weight, 4), ' ') "
    "FROM sentiment_explain('Loved it. Dull', 'm')",
    "SELECT sentiment_highlight('Loved <it>', 'm', 'html') || "
    "sentiment_highlight('Loved *it*', 'm', 'markdown')",
    /* The bulk path: reading the query, batching, packing, results. Three
    ** short rows make one chunk, which the scan runs on the calling thread. */
    "SELECT group_concat(key || label || n_tokens || truncated || round(score, 4), ' ') "
    "FROM sentiment_scan('SELECT 1, ''A fine film.'' UNION ALL SELECT 2, NULL "
    "UNION ALL SELECT 3, ''Dull and long.''', 'm')",
};
#define N_SQL (int)(sizeof azSql / sizeof azSql[0])

static char zModel[1024];

/* Runs a session, stopping at the first failed statement; *pnBad counts
** failures other than SQLITE_NOMEM "out of memory". The results, joined,
** go to zOut. Returns 1 when every statement succeeded. */
static int session(char *zOut, size_t nOut, int *pnBad) {
  sqlite3 *db = NULL;
  int bAllOk = 1;
  zOut[0] = 0;
  int rc = sqlite3_open(":memory:", &db);
  if (rc != SQLITE_OK) {
    if (rc != SQLITE_NOMEM) {
      (*pnBad)++;
      fprintf(stderr, "open: %s\n", db ? sqlite3_errmsg(db) : "?");
    }
    sqlite3_close(db);
    return 0;
  }
  char *zIns =
      sqlite3_mprintf("INSERT INTO sentiment_models(name, path) VALUES ('m', '%q')", zModel);
  const char *zInsert = zIns ? zIns : "SELECT 'mprintf failed'";
  for (int i = -1; i < N_SQL; i++) {
    const char *zSql = i < 0 ? zInsert : azSql[i];
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(db, zSql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *z = (const char *)sqlite3_column_text(st, 0);
        size_t n = strlen(zOut);
        snprintf(zOut + n, nOut - n, "%s|", z ? z : "NULL");
      }
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK) {
      bAllOk = 0;
      const char *zErr = sqlite3_errmsg(db);
      /* SQLite's own "out of memory", or the scan's, which says for what */
      if ((rc & 0xff) != SQLITE_NOMEM || !strstr(zErr, "out of memory")) {
        (*pnBad)++;
        fprintf(stderr, "FAIL-DETAIL %s: rc %d: %s\n", zSql, rc, zErr);
      }
    }
    sqlite3_finalize(st);
    if (!zIns) bAllOk = 0;
    if (!bAllOk) break; /* the rest depends on this statement */
  }
  sqlite3_free(zIns);
  sqlite3_close(db);
  return bAllOk;
}

int main(void) {
  const char *zShared = shared_dir();
  char zWant[4096], zGot[4096];
  int nBad = 0;

  if (!zShared) {
    SKIP("no shared folder (../shared or $SENTIMENT_SHARED): no model to load");
    return check_report("test_ext_oom");
  }
  unsetenv("SENTIMENT_MODEL");
  snprintf(zModel, sizeof zModel, "%s/golden/models/tiny-bert", zShared);

  sqlite3_mem_methods m;
  CHECK(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &memDefault) == SQLITE_OK, "GETMALLOC");
  m = memDefault;
  m.xMalloc = memMalloc;
  m.xRealloc = memRealloc;
  CHECK(sqlite3_config(SQLITE_CONFIG_MALLOC, &m) == SQLITE_OK, "CONFIG_MALLOC");
  CHECK(sqlite3_initialize() == SQLITE_OK, "initialize");
  CHECK(sqlite3_auto_extension((void (*)(void))sqlite3_sentiment_init) == SQLITE_OK,
        "auto_extension");

  CHECK(session(zWant, sizeof zWant, &nBad) && nBad == 0, "clean session: %s", zWant);

  /* SQLite's allocations. */
  int k, nFailed = 0, nMismatch = 0;
  for (k = 1; k < 100000; k++) {
    memFailed = 0;
    memCountdown = k;
    session(zGot, sizeof zGot, &nBad);
    memCountdown = 0;
    if (!memFailed) break; /* the k-th allocation never came: all covered */
    nFailed++;
    if (!session(zGot, sizeof zGot, &nBad) || strcmp(zGot, zWant) != 0) nMismatch++;
  }
  printf("SQLite allocations failed one at a time: %d\n", nFailed);
  CHECK(nFailed > 50, "only %d SQLite allocations failed", nFailed);
  CHECK(nBad == 0, "SQLite allocation failures: %d misleading errors", nBad);
  CHECK(nMismatch == 0, "%d clean sessions after a failure gave other results", nMismatch);

  /* core's allocations (the model is reloaded each session: every connection
  ** that held it has closed). */
  nFailed = nMismatch = 0;
  for (k = 1; k < 100000; k++) {
    long n0 = snt_alloc_count();
    snt_alloc_fail_after(k);
    int ok = session(zGot, sizeof zGot, &nBad);
    snt_alloc_fail_after(0);
    if (ok && snt_alloc_count() - n0 < k) break;
    nFailed++;
    if (!session(zGot, sizeof zGot, &nBad) || strcmp(zGot, zWant) != 0) nMismatch++;
  }
  printf("core allocations failed one at a time: %d\n", nFailed);
  CHECK(nFailed > 10, "only %d core allocations failed", nFailed);
  CHECK(nBad == 0, "core allocation failures: %d misleading errors", nBad);
  CHECK(nMismatch == 0, "%d clean sessions after a core failure gave other results", nMismatch);

  /* Steady state: once a connection has scored a text as long as the next
  ** ones, scoring allocates nothing in core/ (state, tokens and ids reused). */
  {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char zText[200];
    long nAlloc = -1;
    int nRow = 0;
    sqlite3_open(":memory:", &db);
    char *zIns =
        sqlite3_mprintf("INSERT INTO sentiment_models(name, path) VALUES ('m', '%q')", zModel);
    sqlite3_exec(db, zIns, NULL, NULL, NULL);
    sqlite3_free(zIns);
    sqlite3_prepare_v2(db, "SELECT sentiment(?1, 'm'), sentiment_scores(?1, 'm')", -1, &st,
                       NULL);
    for (int i = 0; i < 101; i++) {
      if (i == 1) nAlloc = snt_alloc_count(); /* after the first call */
      snprintf(zText, sizeof zText, "review number %d: quite a fine film, %d out of ten", i,
               i % 10);
      sqlite3_bind_text(st, 1, zText, -1, SQLITE_TRANSIENT);
      nRow += sqlite3_step(st) == SQLITE_ROW;
      sqlite3_reset(st);
    }
    CHECK(nRow == 101, "steady state: %d rows", nRow);
    CHECK(snt_alloc_count() == nAlloc, "steady state: %ld core allocations in 100 calls",
          snt_alloc_count() - nAlloc);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }

  sqlite3_reset_auto_extension();
  sqlite3_shutdown();
  return check_report("test_ext_oom");
}
