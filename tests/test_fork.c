/*
** test_fork.c — fork() in a process where other threads use the extension
** (Python multiprocessing with fork, preforking servers).
**
**   - fork while another thread is in the middle of loading a model (held
**     there by a test hook): the child opens a connection and scores with a
**     model the parent had loaded and with the one that was loading (which
**     the child loads itself), and exits 0, within a 20 s watchdog; the
**     parent's load then finishes normally;
**   - 50 forks while another thread takes and releases the cache and BLAS
**     mutexes in a loop: every child scores and exits 0 in time, with the
**     parent's answer.
** Not under ThreadSanitizer (TSan does not support threads started in the
** child of a multi-threaded fork, which OpenBLAS may do).
*/
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "model_fixture.h"
#include "sql_fixture.h"
#include "blas_threads.h"
#include "model_cache.h"
#include "util.h"

int sqlite3_sentiment_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

static sqlite3 *openDb(void) {
  sqlite3 *db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) fx_die("sqlite3_open");
  return db;
}

/* The first column of the first row of zSql as text into zOut ("" on error). */
static void textOf(sqlite3 *db, const char *zSql, char *zOut, size_t n) {
  sqlite3_stmt *st = NULL;
  zOut[0] = 0;
  if (sqlite3_prepare_v2(db, zSql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
      sqlite3_column_text(st, 0))
    snprintf(zOut, n, "%s", sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
}

static char zFast[4096], zSlow[4096]; /* model folders */
static char zWant[256];               /* the parent's answer with zFast */
static const char *zScoreSql = "SELECT sentiment_scores('A fine, moving film.', 'm')";
static pid_t parentPid;

/* The child: score with zFast (and zSlow when bSlow); 0 when all went well. */
static int childWork(int bSlow) {
  alarm(getenv("SNT_VALGRIND") ? 300 : 20);
  sqlite3 *db = openDb();
  char zGot[256];
  int ok = registerModel(db, "m", zFast) == SQLITE_OK;
  textOf(db, zScoreSql, zGot, sizeof zGot);
  ok = ok && strcmp(zGot, zWant) == 0;
  if (bSlow) {
    ok = ok && registerModel(db, "s", zSlow) == SQLITE_OK;
    textOf(db, "SELECT sentiment('A fine, moving film.', 's')", zGot, sizeof zGot);
    ok = ok && zGot[0];
  }
  sqlite3_close(db);
  return ok ? 0 : 1;
}

/* Wait up to 30 s for pid; its wait status, or -1 (then it is killed). */
static int waitChild(pid_t pid) {
  for (int i = 0; i < (getenv("SNT_VALGRIND") ? 36000 : 3000); i++) {
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return status;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

static void checkChild(pid_t pid, const char *zWhat) {
  CHECK(pid > 0, "fork");
  if (pid <= 0) return;
  int status = waitChild(pid);
  CHECK(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "%s: the child %s", zWhat,
        status < 0 ? "hung (killed after 30 s)"
        : WIFSIGNALED(status) ? (WTERMSIG(status) == SIGALRM ? "hung (its 20 s watchdog fired)"
                                                               : "died of a signal")
                              : "failed to score");
}

/* ---- fork during a load ------------------------------------------------ */

static pthread_mutex_t hookMutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hookCond = PTHREAD_COND_INITIALIZER;
static int bInHook, bRelease;

/* Holds the parent's loads of zSlow (up to 10 s) until bRelease. */
static void slowHook(const char *zDir) {
  if (getpid() != parentPid || strcmp(zDir, zSlow) != 0) return;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&hookMutex);
  bInHook = 1;
  pthread_cond_broadcast(&hookCond);
  while (!bRelease)
    if (pthread_cond_timedwait(&hookCond, &hookMutex, &until) != 0) break;
  pthread_mutex_unlock(&hookMutex);
}

static char zLoaded[256];

static void *loaderMain(void *pArg) {
  (void)pArg;
  sqlite3 *db = openDb();
  if (registerModel(db, "s", zSlow) == SQLITE_OK)
    textOf(db, "SELECT sentiment('A fine, moving film.', 's')", zLoaded, sizeof zLoaded);
  sqlite3_close(db);
  return NULL;
}

static void testForkDuringLoad(void) {
  pthread_t t;
  snt_test_set_open_hook(slowHook);
  pthread_create(&t, NULL, loaderMain, NULL);
  pthread_mutex_lock(&hookMutex);
  while (!bInHook) pthread_cond_wait(&hookCond, &hookMutex);
  pthread_mutex_unlock(&hookMutex);
  pid_t pid = fork();
  if (pid == 0) _exit(childWork(1));
  checkChild(pid, "fork while another thread loads a model");
  pthread_mutex_lock(&hookMutex);
  bRelease = 1;
  pthread_cond_broadcast(&hookCond);
  pthread_mutex_unlock(&hookMutex);
  pthread_join(t, NULL);
  snt_test_set_open_hook(NULL);
  CHECK(zLoaded[0], "the parent's load finished after the fork");
}

/* ---- fork while another thread holds our mutexes often ----------------- */

static int bStop;
static long nRounds;

/* Takes and releases the cache and BLAS mutexes in a loop, as scoring does
** (SQLite itself is left out: its own global mutexes have no fork handlers,
** so a child of a thread inside sqlite3_malloc can hang in SQLite whatever
** an extension does). */
static void *hammerMain(void *pArg) {
  (void)pArg;
  snt_error err = {0};
  while (!__atomic_load_n(&bStop, __ATOMIC_ACQUIRE)) {
    CachedModel *p = cacheAcquire(zFast, CACHE_F32, &err);
    sntBlasEnter();
    sntBlasLeave();
    cacheRetain(p);
    cacheRelease(p);
    cacheRelease(p);
    __atomic_add_fetch(&nRounds, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

static void testForkWhileHammering(void) {
  pthread_t t;
  pthread_create(&t, NULL, hammerMain, NULL);
  while (__atomic_load_n(&nRounds, __ATOMIC_RELAXED) < 1000) usleep(1000);
  int nFork = getenv("SNT_VALGRIND") ? 5 : 50; /* a child scores in seconds under valgrind */
  for (int i = 0; i < nFork; i++) {
    pid_t pid = fork();
    if (pid == 0) _exit(childWork(0));
    checkChild(pid, "fork while another thread takes the cache and BLAS mutexes");
  }
  __atomic_store_n(&bStop, 1, __ATOMIC_RELEASE);
  pthread_join(t, NULL);
  printf("test_fork: %d forks during %ld rounds of the cache and BLAS mutexes\n", nFork, nRounds);
}

int main(void) {
  const char *zShared = shared_dir();
  if (!zShared) {
    SKIP("no shared folder (../shared or $SENTIMENT_SHARED): no model to load");
    return check_report("test_fork");
  }
  unsetenv("SENTIMENT_MODEL");
  parentPid = getpid();
  CHECK(sqlite3_auto_extension((void (*)(void))sqlite3_sentiment_init) == SQLITE_OK,
        "auto_extension");
  char *z = realpath(zShared, NULL);
  if (!z) fx_die(zShared);
  snprintf(zFast, sizeof zFast, "%s/golden/models/tiny-bert", z);
  snprintf(zSlow, sizeof zSlow, "%s/golden/models/tiny-distilbert", z);
  free(z);
  /* The parent holds zFast loaded throughout. */
  sqlite3 *db = openDb();
  CHECK(registerModel(db, "m", zFast) == SQLITE_OK, "register");
  textOf(db, zScoreSql, zWant, sizeof zWant);
  CHECK(zWant[0] == '{' && queryInt(db, "SELECT loaded FROM sentiment_models WHERE name = 'm'") == 1,
        "the parent scores: %s", zWant);
  testForkDuringLoad();
  testForkWhileHammering();
  sqlite3_close(db);
  return check_report("test_fork");
}
