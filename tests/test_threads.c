/*
** test_threads.c — one model shared by many connections on many threads.
**
** The extension is linked in (ext/ objects) and registered with
** sqlite3_auto_extension, so every sqlite3_open gets it, as after a
** `.load`. Checks:
**   - 4 threads, each with its own connection, scoring the golden texts at
**     the same time, get exactly the single-threaded results (byte-equal
**     JSON logits and labels);
**   - the model is loaded once (the `loads` column of sentiment_models), also
**     when 4 threads ask for a model nobody has loaded yet at the same instant;
**   - when the last connection using a model closes, it is freed; the next use
**     loads it again;
**   - deleting a name while a sentiment_tokens cursor reads its tokens is safe.
*/
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

#include "check.h"
#include "sql_fixture.h"

int sqlite3_sentiment_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

#define N_THREADS 4
#define MAX_TEXTS 120

static char zDistil[1024], zBert[1024]; /* model folders */
static char *azText[MAX_TEXTS];         /* golden texts (sqlite3_malloc'd) */
static int anText[MAX_TEXTS];
static char *azWant[MAX_TEXTS];         /* single-threaded "label logits" */
static int nText;

static sqlite3 *openDb(void) {
  sqlite3 *db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    fprintf(stderr, "open: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

/* "label logits" of text i with model zModel on db: sqlite3_malloc'd, or NULL. */
static char *score(sqlite3 *db, sqlite3_stmt *st, int i) {
  char *z = NULL;
  sqlite3_bind_text(st, 1, azText[i], anText[i], SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    z = sqlite3_mprintf("%s %s", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
  else
    fprintf(stderr, "score: %s\n", sqlite3_errmsg(db));
  sqlite3_reset(st);
  return z;
}

/* The golden texts of tiny-distilbert, read through SQLite's JSON functions. */
static int loadTexts(sqlite3 *db, const char *zFile) {
  FILE *f = fopen(zFile, "rb");
  sqlite3_stmt *st = NULL;
  static char zLine[1 << 20];
  if (!f) return 0;
  sqlite3_prepare_v2(db, "SELECT ?1 ->> '$.text'", -1, &st, NULL);
  while (nText < MAX_TEXTS && fgets(zLine, sizeof zLine, f)) {
    sqlite3_bind_text(st, 1, zLine, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
      anText[nText] = sqlite3_column_bytes(st, 0);
      azText[nText] = sqlite3_malloc(anText[nText] + 1);
      if (anText[nText]) memcpy(azText[nText], sqlite3_column_blob(st, 0), anText[nText]);
      azText[nText][anText[nText]] = 0;
      nText++;
    }
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  fclose(f);
  return nText;
}

typedef struct Worker {
  pthread_t tid;
  sqlite3 *db;
  int nRound;
  int nMismatch, nError;
  long long nTokens;
  pthread_barrier_t *pBarrier; /* to start the cold-load race together */
} Worker;

static void *work(void *pArg) {
  Worker *w = pArg;
  sqlite3_stmt *st = NULL, *stTok = NULL, *stCold = NULL;
  if (sqlite3_prepare_v2(w->db, "SELECT sentiment(?1, 'm'), sentiment_logits(?1, 'm')", -1, &st,
                         NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(w->db, "SELECT count(*) FROM sentiment_tokens(?1, 'm')", -1, &stTok,
                         NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(w->db, "SELECT sentiment('first!', 'b')", -1, &stCold, NULL) !=
          SQLITE_OK) {
    w->nError++;
    goto done;
  }
  /* All threads at once ask for a model that nobody has loaded. */
  pthread_barrier_wait(w->pBarrier);
  if (sqlite3_step(stCold) != SQLITE_ROW) w->nError++;
  for (int r = 0; r < w->nRound; r++) {
    for (int i = 0; i < nText; i++) {
      char *z = score(w->db, st, i);
      if (!z) w->nError++;
      else if (strcmp(z, azWant[i]) != 0) w->nMismatch++;
      sqlite3_free(z);
      sqlite3_bind_text(stTok, 1, azText[i], anText[i], SQLITE_STATIC);
      if (sqlite3_step(stTok) == SQLITE_ROW) w->nTokens += sqlite3_column_int64(stTok, 0);
      else w->nError++;
      sqlite3_reset(stTok);
    }
  }
done:
  sqlite3_finalize(st);
  sqlite3_finalize(stTok);
  sqlite3_finalize(stCold);
  return NULL;
}

int main(void) {
  const char *zShared = shared_dir();
  sqlite3 *db0 = NULL, *db = NULL;
  sqlite3_stmt *st = NULL;
  Worker aW[N_THREADS];
  pthread_barrier_t barrier;
  char zFile[1100];
  long long nTokens0 = 0;

  if (!zShared) {
    SKIP("no shared folder (../shared or $SENTIMENT_SHARED): nothing to score");
    return check_report("test_threads");
  }
  unsetenv("SENTIMENT_MODEL");
  snprintf(zDistil, sizeof zDistil, "%s/golden/models/tiny-distilbert", zShared);
  snprintf(zBert, sizeof zBert, "%s/golden/models/tiny-bert", zShared);
  snprintf(zFile, sizeof zFile, "%s/expected.jsonl", zDistil);
  CHECK(sqlite3_threadsafe() != 0, "SQLite built without threads");
  CHECK(sqlite3_auto_extension((void (*)(void))sqlite3_sentiment_init) == SQLITE_OK,
        "auto_extension");

  /* Single-threaded reference on the main connection, which keeps 'm'
  ** loaded while the threads run. */
  db0 = openDb();
  CHECK(db0 && loadTexts(db0, zFile) > 100, "read %s: %d texts", zFile, nText);
  CHECK(registerModel(db0, "m", zDistil) == SQLITE_OK, "register m");
  CHECK(queryInt(db0, "SELECT loaded FROM sentiment_models WHERE name = 'm'") == 0,
        "registering loaded the model");
  sqlite3_prepare_v2(db0, "SELECT sentiment(?1, 'm'), sentiment_logits(?1, 'm')", -1, &st, NULL);
  int nOk = 0;
  for (int i = 0; i < nText; i++) nOk += (azWant[i] = score(db0, st, i)) != NULL;
  sqlite3_finalize(st);
  CHECK(nOk == nText, "single-threaded: %d of %d texts scored", nOk, nText);
  sqlite3_prepare_v2(db0, "SELECT count(*) FROM sentiment_tokens(?1, 'm')", -1, &st, NULL);
  for (int i = 0; i < nText; i++) {
    sqlite3_bind_text(st, 1, azText[i], anText[i], SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) nTokens0 += sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  CHECK(queryInt(db0, "SELECT loads FROM sentiment_models WHERE name = 'm'") == 1, "loads");

  /* Four connections, opened here (opening runs the extension's init), each
  ** then used by one thread only. */
  pthread_barrier_init(&barrier, NULL, N_THREADS);
  for (int k = 0; k < N_THREADS; k++) {
    memset(&aW[k], 0, sizeof aW[k]);
    aW[k].db = openDb();
    aW[k].nRound = 1;
    aW[k].pBarrier = &barrier;
    CHECK(aW[k].db && registerModel(aW[k].db, "m", zDistil) == SQLITE_OK &&
              registerModel(aW[k].db, "b", zBert) == SQLITE_OK,
          "connection %d", k);
  }
  for (int k = 0; k < N_THREADS; k++) pthread_create(&aW[k].tid, NULL, work, &aW[k]);
  for (int k = 0; k < N_THREADS; k++) pthread_join(aW[k].tid, NULL);
  pthread_barrier_destroy(&barrier);
  for (int k = 0; k < N_THREADS; k++) {
    CHECK(aW[k].nError == 0, "thread %d: %d errors", k, aW[k].nError);
    CHECK(aW[k].nMismatch == 0, "thread %d: %d results differ from single-threaded", k,
          aW[k].nMismatch);
    CHECK(aW[k].nTokens == nTokens0, "thread %d: %lld tokens, want %lld", k, aW[k].nTokens,
          nTokens0);
  }
  CHECK(queryInt(db0, "SELECT loads FROM sentiment_models WHERE name = 'm'") == 1,
        "m loaded more than once");
  CHECK(queryInt(aW[0].db, "SELECT loads FROM sentiment_models WHERE name = 'b'") == 1,
        "b: 4 threads asking at once loaded it %lld times",
        queryInt(aW[0].db, "SELECT loads FROM sentiment_models WHERE name = 'b'"));

  /* The last connection holding a model frees it; the next use reloads. */
  for (int k = 0; k < N_THREADS; k++) sqlite3_close(aW[k].db);
  sqlite3_close(db0);
  db = openDb();
  CHECK(db && registerModel(db, "m", zDistil) == SQLITE_OK, "register again");
  CHECK(queryInt(db, "SELECT loaded FROM sentiment_models WHERE name = 'm'") == 0,
        "still loaded after every connection closed");
  CHECK(queryInt(db, "SELECT sentiment('x', 'm') IS NOT NULL") == 1, "score after reload");
  CHECK(queryInt(db, "SELECT loads FROM sentiment_models WHERE name = 'm'") == 2, "reload count");

  /* DELETE a name while a cursor reads its tokens: the cursor keeps the model. */
  sqlite3_prepare_v2(db, "SELECT token FROM sentiment_tokens('one two three four', 'm')", -1,
                     &st, NULL);
  int nRow = 0;
  CHECK(sqlite3_step(st) == SQLITE_ROW, "first token");
  nRow++;
  CHECK(exec(db, "DELETE FROM sentiment_models WHERE name = 'm'") == SQLITE_OK, "delete m");
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *z = (const char *)sqlite3_column_text(st, 0);
    CHECK(z && (nRow != 4 || strcmp(z, "four") == 0), "token %d after delete: %s", nRow, z);
    nRow++;
  }
  CHECK(nRow == 6, "%d tokens, want 6", nRow);
  sqlite3_finalize(st);
  CHECK(queryInt(db, "SELECT loaded FROM sentiment_models WHERE name = 'default'") == 0,
        "default model loaded though unused");
  sqlite3_close(db);

  for (int i = 0; i < nText; i++) {
    sqlite3_free(azText[i]);
    sqlite3_free(azWant[i]);
  }
  sqlite3_reset_auto_extension();
  return check_report("test_threads");
}
