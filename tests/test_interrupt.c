/*
** test_interrupt.c — how soon sqlite3_interrupt stops a long call.
**
** A random DistilBERT with thin layers (D 128, F 512, 1,024 positions) makes
** one layer short and a whole pass long. The depth is calibrated: 48 layers
** (10 M parameters), doubled until one uninterrupted scalar pass of 1,024
** tokens, T, takes at least MIN_PASS_S here, so the test means the same on a
** fast machine as on a slow one. Another thread calls sqlite3_interrupt
**   - T/4 into a scalar sentiment() of a 1,024-token text: it returns
**     SQLITE_INTERRUPT ("sentiment(): interrupted"), not a value;
**   - 100 ms into a sentiment_scan of 64 such texts on 2 workers (32 chunks
**     of 2,048 tokens): SQLITE_INTERRUPT.
** The latency (interrupt → return) must stay under a bound stated from the
** model's own speed here: a layer ≈ T/L; a scalar call must return within
** 25 ms + 8 layers, a scan within 100 ms + 16 layers of a 2,048-token chunk
** (2 × 16 T/L, twice that again: two workers share two busy cores). Before
** per-layer checks a scalar call could not be interrupted at all (it ran the
** remaining 3T/4, which the calibration makes at least three times the
** bound) and a scan stopped one to two chunks late (a chunk is L layers of
** 2,048 tokens: 2 T), far past either bound. Both connections are used again afterwards:
** an interrupted call leaves nothing behind.
*/
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "model_fixture.h"
#include "sql_fixture.h"

int sqlite3_sentiment_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

enum { V = 1000, P = 1024, D = 128, F = 512, L_START = 48, L_MAX = 384, N_TEXTS = 64 };
/* SCAN_CHUNK_TOKENS of ext/scan_batch.h, whose sqlite3ext.h would turn this
** program's sqlite3_* calls into extension-API macros. */
enum { SCAN_CHUNK = 2048 };
#define MIN_PASS_S 0.3 /* seconds: 3T/4 is then at least three times the scalar bound */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A random model of L layers in zDir. */
static void writeModel(const char *zDir, int L) {
  fx_model m = {0};
  fx_tiny_model(&m, 0, V, P, D, F, L, 2);
  fx_write_model(fx_path(zDir, "model.safetensors"), &m, 0);
  fx_free(&m);
  char zCfg[512];
  snprintf(zCfg, sizeof zCfg,
           "{\"model_type\": \"distilbert\", \"vocab_size\": %d, \"dim\": %d, \"n_layers\": %d,"
           " \"n_heads\": 4, \"hidden_dim\": %d, \"max_position_embeddings\": %d}",
           V, D, L, F, P);
  fx_write_text(fx_path(zDir, "config.json"), zCfg);
  FILE *f = fopen(fx_path(zDir, "vocab.txt"), "w");
  if (!f) fx_die("vocab.txt");
  for (int i = 0; i < V; i++) {
    if (i == 0) fputs("[PAD]\n", f);
    else if (i == 100) fputs("[UNK]\n", f);
    else if (i == 101) fputs("[CLS]\n", f);
    else if (i == 102) fputs("[SEP]\n", f);
    else if (i == 103) fputs("[MASK]\n", f);
    else fprintf(f, "w%d\n", i);
  }
  fclose(f);
}

typedef struct Interrupter {
  sqlite3 *db;
  double tAfter; /* seconds after the start */
  double tAt;    /* when it interrupted (monotonic) */
  pthread_t thread;
} Interrupter;

static void *interrupterMain(void *p) {
  Interrupter *in = p;
  usleep((useconds_t)(in->tAfter * 1e6));
  in->tAt = now();
  sqlite3_interrupt(in->db);
  return NULL;
}

/* Run zSql on db, interrupted tAfter s in; its result code, *pLatency the
** seconds from the interrupt to the return, zErr the message. */
static int runInterrupted(sqlite3 *db, const char *zSql, double tAfter, double *pLatency,
                          char *zErr, size_t nErr) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &st, NULL);
  if (rc != SQLITE_OK) {
    snprintf(zErr, nErr, "%s", sqlite3_errmsg(db));
    return rc;
  }
  Interrupter in = {db, tAfter, 0, 0};
  pthread_create(&in.thread, NULL, interrupterMain, &in);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
  }
  double t = now();
  pthread_join(in.thread, NULL);
  snprintf(zErr, nErr, "%s", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  *pLatency = t - in.tAt;
  return rc;
}

int main(void) {
  (void)shared_dir; /* a random model of its own: no shared folder needed */
  unsetenv("SENTIMENT_MODEL");
  if (getenv("SNT_VALGRIND")) {
    SKIP("under valgrind: the timings mean nothing there (the code runs in the other sanitizers)");
    return check_report("test_interrupt");
  }
  CHECK(sqlite3_auto_extension((void (*)(void))sqlite3_sentiment_init) == SQLITE_OK,
        "auto_extension");
  sqlite3 *db = NULL;
  sqlite3_open(":memory:", &db);
  CHECK(exec(db, "SELECT sentiment_threads(2)") == SQLITE_OK, "2 workers");
  /* Texts of 1,100 words: 1,024 tokens once truncated. */
  char *zFill = sqlite3_mprintf(
      "CREATE TABLE r(id INTEGER PRIMARY KEY, text TEXT);"
      "WITH RECURSIVE w(i, s) AS (SELECT 0, '' UNION ALL SELECT i + 1, s || ' w' || (200 + i %% 700)"
      " FROM w WHERE i < 1100) INSERT INTO r SELECT NULL, s FROM w, (SELECT 1 FROM w LIMIT %d)"
      " WHERE i = 1100",
      N_TEXTS);
  CHECK(exec(db, zFill) == SQLITE_OK, "fill");
  sqlite3_free(zFill);
  CHECK(queryInt(db, "SELECT count(*) FROM r") == N_TEXTS, "%d texts", N_TEXTS);

  /* Calibrate the depth: double it until a pass takes MIN_PASS_S. Each depth
  ** is a model in a folder of its own, registered in place of the last one. */
  char *zDir = NULL;
  int L = L_START;
  double T = 0;
  for (;;) {
    char *zNew = strdup(fx_tmpdir());
    writeModel(zNew, L);
    if (zDir)
      CHECK(exec(db, "DELETE FROM sentiment_models WHERE name = 'big'") == SQLITE_OK, "unregister");
    CHECK(registerModel(db, "big", zNew) == SQLITE_OK, "register %d layers", L);
    if (zDir) fx_rmdir(zDir);
    free(zDir);
    zDir = zNew;
    CHECK(queryInt(db, "SELECT sentiment('warm up', 'big') IS NOT NULL") == 1, "load %d layers", L);
    double t0 = now();
    CHECK(queryInt(db, "SELECT sentiment(text || ' w5', 'big') IS NOT NULL FROM r LIMIT 1") == 1,
          "an uninterrupted pass of %d layers", L);
    T = now() - t0;
    if (T >= MIN_PASS_S || L >= L_MAX) break;
    L *= 2;
  }
  double layer = T / L;
  CHECK(queryInt(db,
                 "SELECT count(*) FROM sentiment_tokens((SELECT text FROM r LIMIT 1), 'big')") == P,
        "a text is %d tokens", P);
  printf(
      "test_interrupt: %d layers; one uninterrupted pass of %d tokens: %.0f ms (a layer: %.2f ms)\n",
      L, P, T * 1e3, layer * 1e3);
  CHECK(
      T >= MIN_PASS_S,
      "an uninterrupted pass of %d layers takes %.3f s: too fast for interrupting it to mean much",
      L, T);

  char zErr[512];
  double lat = -1, bound = 0.025 + 8 * layer;
  int rc = runInterrupted(db, "SELECT sentiment(text || ' w6', 'big') FROM r LIMIT 1", T / 4, &lat,
                          zErr, sizeof zErr);
  CHECK(rc == SQLITE_INTERRUPT && strcmp(zErr, "sentiment(): interrupted") == 0,
        "scalar call interrupted: rc %d '%s'", rc, zErr);
  CHECK(lat >= 0 && lat < bound, "scalar call: %.0f ms after the interrupt (bound %.0f ms)",
        lat * 1e3, bound * 1e3);
  printf("test_interrupt: scalar call returned %.1f ms after sqlite3_interrupt (bound %.0f ms)\n",
         lat * 1e3, bound * 1e3);

  bound = 0.1 + 2 * 16 * (SCAN_CHUNK / P) * layer;
  rc = runInterrupted(db, "SELECT count(*) FROM sentiment_scan('SELECT id, text FROM r', 'big')",
                      0.1, &lat, zErr, sizeof zErr);
  CHECK(rc == SQLITE_INTERRUPT, "scan interrupted: rc %d '%s'", rc, zErr);
  CHECK(lat >= 0 && lat < bound, "scan (2 workers): %.0f ms after the interrupt (bound %.0f ms)",
        lat * 1e3, bound * 1e3);
  printf("test_interrupt: 2-worker scan returned %.1f ms after sqlite3_interrupt (bound %.0f ms)\n",
         lat * 1e3, bound * 1e3);

  /* Nothing left behind: the connection scores again. */
  CHECK(queryInt(db, "SELECT sentiment('w7 w8', 'big') IS NOT NULL") == 1, "after the interrupts");
  CHECK(
      queryInt(
          db,
          "SELECT count(*) FROM sentiment_scan('SELECT id, substr(text, 1, 20) FROM r', 'big')") ==
          N_TEXTS,
      "a scan after the interrupts");
  sqlite3_close(db);
  fx_rmdir(zDir);
  free(zDir);
  return check_report("test_interrupt");
}
