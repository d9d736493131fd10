/*
** test_load.c — hostile model folders and hostile timing around loading.
**
**   - a FIFO as config.json: INSERT INTO sentiment_models fails at once with
**     "config.json is not a regular file (a FIFO)" instead of blocking the
**     thread forever; a FIFO swapped in after registration for config.json,
**     vocab.txt or model.safetensors: the first call fails at once, naming
**     the file;
**   - a slow load (held 4 s by a test hook inside snt_model_open_ex) does not
**     delay another connection's first call on a model already loaded, nor
**     the sentiment_models listing (each timed, bound 1 s); a second thread
**     asking for the model being loaded waits for it and shares it (the same
**     answer, one load);
**   - limits on config.json alone: the attack shape (dim 16384, 256 layers)
**     is refused at the first call in well under a second, without growing
**     the process; SENTIMENT_MAX_PARAMS, SENTIMENT_MAX_FLOPS and
**     SENTIMENT_MAX_MODEL_BYTES lower the limits (each refusal names its
**     variable); a value that is not a number is an error naming the variable;
**   - a model.safetensors that is mostly holes (a real file extended to
**     256 MB by ftruncate) is refused as sparse;
**   - the core's cancel callback: asked before each layer and before the
**     head (n_layers + 1 times), a nonzero answer stops the pass there with
**     SNT_ERR_INTERRUPTED; a callback that never cancels changes nothing.
** A watchdog (alarm) turns a hang into a failed run, not a stuck one.
*/
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "model_fixture.h"
#include "sql_fixture.h"
#include "util.h"

int sqlite3_sentiment_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

/* Time bounds, 10× under valgrind (SNT_VALGRIND, set by make valgrind). */
static double slow(void) { return getenv("SNT_VALGRIND") ? 10 : 1; }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static sqlite3 *openDb(void) {
  sqlite3 *db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) fx_die("sqlite3_open");
  return db;
}

/* The error of zSql on db ("" when it runs clean), in a static buffer. */
static const char *errorOf(sqlite3 *db, const char *zSql) {
  static char zErr[4096];
  char *z = NULL;
  zErr[0] = 0;
  if (sqlite3_exec(db, zSql, NULL, NULL, &z) != SQLITE_OK) snprintf(zErr, sizeof zErr, "%s", z ? z : "?");
  sqlite3_free(z);
  return zErr;
}

/* A new temp folder holding a copy of the shared model zName. */
static char *copyModel(const char *zShared, const char *zName) {
  char zSrc[4096];
  snprintf(zSrc, sizeof zSrc, "%s/golden/models/%s", zShared, zName);
  char *zDir = strdup(fx_tmpdir());
  static const char *files[] = {"config.json", "vocab.txt", "model.safetensors"};
  for (int i = 0; i < 3; i++) fx_copy_file(fx_path(zSrc, files[i]), fx_path(zDir, files[i]));
  return zDir;
}

/* ---- FIFOs ------------------------------------------------------------ */

static void testFifo(const char *zShared) {
  static const char *files[] = {"config.json", "vocab.txt", "model.safetensors"};
  for (int i = 0; i < 3; i++) {
    char *zDir = copyModel(zShared, "tiny-bert");
    sqlite3 *db = openDb();
    if (i == 0) {
      /* At registration. */
      unlink(fx_path(zDir, "config.json"));
      CHECK(mkfifo(fx_path(zDir, "config.json"), 0600) == 0, "mkfifo");
      char *zSql = sqlite3_mprintf("INSERT INTO sentiment_models(name, path) VALUES ('f', %Q)", zDir);
      double t0 = now();
      const char *zErr = errorOf(db, zSql);
      double dt = now() - t0;
      sqlite3_free(zSql);
      CHECK(strstr(zErr, "config.json is not a regular file (a FIFO)") != NULL,
            "FIFO config.json at registration: '%s'", zErr);
      CHECK(dt < slow(), "FIFO config.json at registration took %.2f s", dt);
      unlink(fx_path(zDir, "config.json"));
      char zSrc[4096];
      snprintf(zSrc, sizeof zSrc, "%s/golden/models/tiny-bert/config.json", zShared);
      fx_copy_file(zSrc, fx_path(zDir, "config.json"));
    }
    /* Swapped in after registration, before the first call. */
    CHECK(registerModel(db, "f", zDir) == SQLITE_OK, "register %s", zDir);
    unlink(fx_path(zDir, files[i]));
    CHECK(mkfifo(fx_path(zDir, files[i]), 0600) == 0, "mkfifo");
    double t0 = now();
    char zWant[256];
    snprintf(zWant, sizeof zWant, "%s is not a regular file (a FIFO)", files[i]);
    const char *zErr = errorOf(db, "SELECT sentiment('Fine.', 'f')");
    double dt = now() - t0;
    CHECK(strncmp(zErr, "sentiment(): ", 13) == 0 && strstr(zErr, zWant),
          "FIFO %s at the first call: '%s'", files[i], zErr);
    CHECK(dt < slow(), "FIFO %s at the first call took %.2f s", files[i], dt);
    sqlite3_close(db);
    fx_rmdir(zDir);
    free(zDir);
  }
}

/* ---- a slow load (held 4 s, 40 s under valgrind; the bounds are 1 s, 10 s)  ------------------------------------------------------ */

static pthread_mutex_t hookMutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hookCond = PTHREAD_COND_INITIALIZER;
static char zSlowDir[4096]; /* loads of this folder are held ... */
static int bInHook;         /* ... (1 while one is) ... */
static int bRelease;        /* ... until this is set, or 4 s have passed */

static void slowHook(const char *zDir) {
  char *zReal = realpath(zDir, NULL);
  int bSlow = zReal && strcmp(zReal, zSlowDir) == 0;
  free(zReal);
  if (!bSlow) return;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += (time_t)(4 * slow());
  pthread_mutex_lock(&hookMutex);
  bInHook = 1;
  pthread_cond_broadcast(&hookCond);
  while (!bRelease)
    if (pthread_cond_timedwait(&hookCond, &hookMutex, &until) != 0) break;
  bInHook = 0;
  pthread_mutex_unlock(&hookMutex);
}

typedef struct Loader {
  const char *zDir;
  pthread_t thread;
  char zResult[256];
  int bDone;             /* zResult is set; the connection stays open ... */
} Loader;
static int bCloseLoaders; /* ... until this is set */

/* A first call on the slow folder from a connection of its own, kept open
** (so the model stays loaded) until bCloseLoaders. */
static void *loaderMain(void *pArg) {
  Loader *p = pArg;
  sqlite3 *db = openDb();
  sqlite3_stmt *st = NULL;
  if (registerModel(db, "slow", p->zDir) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT sentiment('A fine film.', 'slow')", -1, &st, NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    snprintf(p->zResult, sizeof p->zResult, "%s", sqlite3_column_text(st, 0));
  else
    snprintf(p->zResult, sizeof p->zResult, "error: %s", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  __atomic_store_n(&p->bDone, 1, __ATOMIC_RELEASE);
  while (!__atomic_load_n(&bCloseLoaders, __ATOMIC_ACQUIRE)) usleep(1000);
  sqlite3_close(db);
  return NULL;
}

static void testSlowLoad(const char *zShared) {
  char *zSlow = copyModel(zShared, "tiny-distilbert"), *zFast = copyModel(zShared, "tiny-bert");
  char *zReal = realpath(zSlow, NULL);
  snprintf(zSlowDir, sizeof zSlowDir, "%s", zReal);
  free(zReal);
  /* 'fast' loaded by a connection that keeps it. */
  sqlite3 *dbHold = openDb();
  CHECK(registerModel(dbHold, "fast", zFast) == SQLITE_OK, "register fast");
  CHECK(queryInt(dbHold, "SELECT sentiment('Good.', 'fast') IS NOT NULL") == 1, "fast loads");

  snt_test_set_open_hook(slowHook);
  Loader a = {zSlow, 0, "", 0}, b = {zSlow, 0, "", 0};
  pthread_create(&a.thread, NULL, loaderMain, &a);
  pthread_mutex_lock(&hookMutex);
  while (!bInHook) pthread_cond_wait(&hookCond, &hookMutex);
  pthread_mutex_unlock(&hookMutex);
  /* A second thread asks for the model being loaded: it waits for it. */
  pthread_create(&b.thread, NULL, loaderMain, &b);

  /* Meanwhile: another connection's first call on the loaded model, and a
  ** listing. */
  sqlite3 *db = openDb();
  CHECK(registerModel(db, "fast", zFast) == SQLITE_OK, "register fast again");
  double t0 = now();
  long long ok = queryInt(db, "SELECT sentiment('A fine film.', 'fast') IS NOT NULL");
  double dt = now() - t0;
  CHECK(ok == 1 && dt < slow(), "first call on a loaded model during a slow load: %lld in %.3f s", ok, dt);
  printf("test_load: a first call on a loaded model while another model loads: %.1f ms\n", dt * 1e3);
  t0 = now();
  ok = queryInt(db, "SELECT count(*) FROM sentiment_models WHERE loaded");
  dt = now() - t0;
  CHECK(ok == 1 && dt < slow(), "listing during a slow load: %lld loaded in %.3f s", ok, dt);
  pthread_mutex_lock(&hookMutex);
  CHECK(bInHook, "the slow load was still held while the other calls ran");
  bRelease = 1;
  pthread_cond_broadcast(&hookCond);
  pthread_mutex_unlock(&hookMutex);
  while (!__atomic_load_n(&a.bDone, __ATOMIC_ACQUIRE) || !__atomic_load_n(&b.bDone, __ATOMIC_ACQUIRE))
    usleep(1000);
  /* Both connections hold the model now: one load between them. */
  CHECK(registerModel(db, "slow", zSlow) == SQLITE_OK, "register slow");
  CHECK(queryInt(db, "SELECT loads FROM sentiment_models WHERE name = 'slow'") == 1,
        "two first calls of a model being loaded: one load");
  __atomic_store_n(&bCloseLoaders, 1, __ATOMIC_RELEASE);
  pthread_join(a.thread, NULL);
  pthread_join(b.thread, NULL);
  snt_test_set_open_hook(NULL);
  CHECK(a.zResult[0] && strncmp(a.zResult, "error", 5) != 0, "slow load: %s", a.zResult);
  CHECK(strcmp(a.zResult, b.zResult) == 0, "the waiting thread: %s, the loader: %s", b.zResult,
        a.zResult);
  sqlite3_close(db);
  sqlite3_close(dbHold);
  fx_rmdir(zSlow);
  fx_rmdir(zFast);
  free(zSlow);
  free(zFast);
}

/* ---- limits ------------------------------------------------------------ */

static long maxrssKb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static void expectLimit(const char *zDir, const char *zVar, const char *zValue, const char *zWant) {
  if (zVar) setenv(zVar, zValue, 1);
  sqlite3 *db = openDb();
  CHECK(registerModel(db, "l", zDir) == SQLITE_OK, "register %s", zDir);
  double t0 = now();
  const char *zErr = errorOf(db, "SELECT sentiment('Fine.', 'l')");
  double dt = now() - t0;
  CHECK(strncmp(zErr, "sentiment(): ", 13) == 0 && strstr(zErr, zWant),
        "%s=%s: '%s' (want '%s')", zVar ? zVar : "(none)", zValue, zErr, zWant);
  CHECK(dt < slow(), "refused in %.2f s", dt);
  sqlite3_close(db);
  if (zVar) unsetenv(zVar);
}

static void testLimits(const char *zShared) {
  char *zDir = copyModel(zShared, "tiny-bert");
  /* The attack shape: 825 G parameters (3.3 TB as F32) described by 250 bytes. */
  char zSrc[4096];
  snprintf(zSrc, sizeof zSrc, "%s/golden/models/tiny-bert/config.json", zShared);
  fx_write_text(fx_path(zDir, "config.json"),
                "{\"model_type\": \"bert\", \"hidden_size\": 16384, \"num_hidden_layers\": 256,"
                " \"num_attention_heads\": 16, \"intermediate_size\": 65536, \"vocab_size\": 30522,"
                " \"max_position_embeddings\": 8192, \"id2label\": {\"0\": \"neg\", \"1\": \"pos\"}}");
  long rss0 = maxrssKb();
  expectLimit(zDir, NULL, "", "config.json describes 825591087106 parameters");
  expectLimit(zDir, NULL, "", "parameters, over the limit of 1000000000 (SENTIMENT_MAX_PARAMS)");
  CHECK(maxrssKb() - rss0 < 16 * 1024, "refusing it grew the peak RSS by %ld KB", maxrssKb() - rss0);
  fx_copy_file(zSrc, fx_path(zDir, "config.json"));
  /* tiny-bert: 1,012,546 parameters, 4 MB; each limit below it. */
  expectLimit(zDir, "SENTIMENT_MAX_PARAMS", "1e6",
              "config.json describes 1011426 parameters, over the limit of 1000000 (SENTIMENT_MAX_PARAMS)");
  expectLimit(zDir, "SENTIMENT_MAX_FLOPS", "100000",
              "FLOPs per token at 512 tokens, over the limit of 100000 (SENTIMENT_MAX_FLOPS)");
  expectLimit(zDir, "SENTIMENT_MAX_MODEL_BYTES", "4000000",
              "the model needs 4045704 bytes of memory for its weights, over the limit of 4000000 "
              "(SENTIMENT_MAX_MODEL_BYTES)");
  expectLimit(zDir, "SENTIMENT_MAX_PARAMS", "lots",
              "SENTIMENT_MAX_PARAMS='lots' is not a positive number");
  /* Limits at the model's size exactly: it loads. */
  setenv("SENTIMENT_MAX_PARAMS", "1011426", 1);
  setenv("SENTIMENT_MAX_MODEL_BYTES", "4045704", 1);
  sqlite3 *db = openDb();
  CHECK(registerModel(db, "l", zDir) == SQLITE_OK, "register");
  CHECK(queryInt(db, "SELECT sentiment('Fine.', 'l') IS NOT NULL") == 1, "at the limits, it loads");
  sqlite3_close(db);
  unsetenv("SENTIMENT_MAX_PARAMS");
  unsetenv("SENTIMENT_MAX_MODEL_BYTES");

  /* Mostly holes: the real file, then 256 MB of nothing. */
  CHECK(truncate(fx_path(zDir, "model.safetensors"), 256 << 20) == 0, "extend");
  struct stat sb;
  CHECK(stat(fx_path(zDir, "model.safetensors"), &sb) == 0 && (long long)sb.st_blocks * 512 < (64 << 20),
        "the file is sparse here (%lld bytes allocated)", (long long)sb.st_blocks * 512);
  expectLimit(zDir, NULL, "", "model.safetensors: a sparse file (268435456 bytes, of which ");
  expectLimit(zDir, NULL, "", "mostly holes, not a model");
  fx_rmdir(zDir);
  free(zDir);
}

/* ---- cancel ------------------------------------------------------------ */

static int nAsked, nStopAt;

static int cancelAt(void *pArg) {
  (void)pArg;
  return ++nAsked == nStopAt;
}

static void testCancel(const char *zShared) {
  char zDir[4096];
  snprintf(zDir, sizeof zDir, "%s/golden/models/tiny-bert", zShared);
  snt_error err = {0};
  snt_model *m = snt_model_open(zDir, &err);
  CHECK(m != NULL, "open: %s", err.msg);
  if (!m) return;
  snt_state *s = snt_state_new(m, 0, &err);
  int32_t ids[] = {101, 2204, 3185, 102};
  float want[2], got[2] = {-1, -1};
  CHECK(snt_forward(m, s, ids, 4, want, &err) == SNT_OK, "forward");
  int nLayer = snt_model_config(m)->n_layers;
  nAsked = 0;
  nStopAt = -1;
  snt_state_set_cancel(s, cancelAt, NULL);
  CHECK(snt_forward(m, s, ids, 4, got, &err) == SNT_OK && memcmp(got, want, sizeof got) == 0,
        "a callback that never cancels: the same logits");
  CHECK(nAsked == nLayer + 1, "asked %d times for %d layers", nAsked, nLayer);
  for (int k = 1; k <= nLayer + 1; k++) {
    nAsked = 0;
    nStopAt = k;
    got[0] = got[1] = -1;
    err.code = 0;
    int rc = snt_forward(m, s, ids, 4, got, &err);
    CHECK(rc == SNT_ERR_INTERRUPTED && err.code == SNT_ERR_INTERRUPTED &&
              strcmp(err.msg, "interrupted") == 0 && nAsked == k && got[0] == -1 && got[1] == -1,
          "cancelled at the %d-th question: rc %d, asked %d, '%s'", k, rc, nAsked, err.msg);
  }
  snt_state_set_cancel(s, NULL, NULL);
  CHECK(snt_forward(m, s, ids, 4, got, &err) == SNT_OK && memcmp(got, want, sizeof got) == 0,
        "callback removed: the same logits");
  snt_state_free(s);
  snt_model_free(m);
}

int main(void) {
  const char *zShared = shared_dir();
  if (!zShared) {
    SKIP("no shared folder (../shared or $SENTIMENT_SHARED): no model to load");
    return check_report("test_load");
  }
  alarm((unsigned)(120 * slow())); /* a hang is a failure (SIGALRM), not a stuck run */
  unsetenv("SENTIMENT_MODEL");
  unsetenv("SENTIMENT_MMAP");
  CHECK(sqlite3_auto_extension((void (*)(void))sqlite3_sentiment_init) == SQLITE_OK,
        "auto_extension");
  testFifo(zShared);
  testSlowLoad(zShared);
  testLimits(zShared);
  testCancel(zShared);
  return check_report("test_load");
}
