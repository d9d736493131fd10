/*
** test_hostile_sql.c — SQL that attacks sentiment_scan and the registry
** (docs/reliability.md, "Hostile SQL"), each case once a crash, a hang or
** a silent wrong answer:
**
**   1. a query that runs itself through sentiment_scan (directly, and
**      through a table), on the main thread and on a thread with a 256 KiB
**      stack: an error "nested too deeply (limit 4)", no stack overflow;
**      4 levels still work;
**   2. INSERT INTO t SELECT … FROM sentiment_scan('SELECT … FROM t'): scores
**      the rows that were there when it began (the LIMIT is only a guard
**      against the old endless loop); UPDATE and CREATE TABLE … AS too;
**   3. a LEFT JOIN, a correlated scalar subquery and EXISTS run the scan per
**      outer row: each text is scored once per statement (counted), and the
**      results are the plain JOIN's; past the replay bound, an error that
**      says what to do, and what it says works;
**   4. keys of 1 MiB: SQLite's heap peak stays far below the keys' total;
**   5. progress: "done" once; sentiment_progress(on) and the accepted
**      spellings of $SENTIMENT_PROGRESS;
**   6. sentiment_scan(q, NULL) gives no rows.
** SKIPs loudly without ../shared.
*/
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sql_fixture.h"

int sqlite3_sentiment_init(sqlite3 *db, char **pzErrMsg, const void *pApi);
long scanBatchScored(void); /* ext/scan_batch.h: texts scored in this process */

/* Steps sql to the end: its result code, and the error text into zErr. */
static int run(sqlite3 *db, const char *sql, char *zErr, size_t nErr) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  snprintf(zErr, nErr, "%s", rc == SQLITE_OK ? "" : sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return rc;
}

static void expectError(sqlite3 *db, const char *sql, const char *zWant) {
  char zErr[1024];
  int rc = run(db, sql, zErr, sizeof zErr);
  CHECK(rc != SQLITE_OK && strstr(zErr, zWant), "%.200s: got rc %d \"%s\", want \"%s\"", sql, rc,
        zErr, zWant);
}

/* The self-replicating query of the report: its text is itself. */
#define SELF_QUERY                                                                       \
  "SELECT key, label FROM sentiment_scan(replace('SELECT key, label FROM "              \
  "sentiment_scan(replace(@, char(64), quote(@)), ''tiny'')', char(64), quote('SELECT key, " \
  "label FROM sentiment_scan(replace(@, char(64), quote(@)), ''tiny'')')), 'tiny')"
#define NEST_ERROR "sentiment_scan(): nested too deeply (limit 4)"

typedef struct Job {
  sqlite3 *db;
  int rc;
  char zErr[512];
} Job;

static void *selfOnThread(void *p) {
  Job *j = p;
  j->rc = run(j->db, SELF_QUERY, j->zErr, sizeof j->zErr);
  return NULL;
}

/* sentiment_scan nested n levels: each level scans the one below. */
static char *nested(int n) {
  char *z = sqlite3_mprintf("SELECT id, text FROM r");
  for (int i = 0; i < n; i++) {
    char *zUp = sqlite3_mprintf("SELECT key, label FROM sentiment_scan(%Q, 'tiny')", z);
    sqlite3_free(z);
    z = zUp;
  }
  return z;
}

/* stderr of running sql, into zLog. */
static void stderrOf(sqlite3 *db, const char *sql, char *zLog, size_t nLog) {
  char zPath[] = "/tmp/test_hostile_sql_XXXXXX";
  int fd = mkstemp(zPath);
  zLog[0] = 0;
  if (fd < 0) return;
  fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  char zErr[256];
  run(db, sql, zErr, sizeof zErr);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  ssize_t got = pread(fd, zLog, nLog - 1, 0);
  zLog[got > 0 ? got : 0] = 0;
  close(fd);
  unlink(zPath);
}

/* sql, a count over the 60 rows of r that runs a scan of r per row: 60, the
** plain scan's answer, with each of the 60 texts scored once (the old code:
** 3,600). */
static void expectScoredOnce(sqlite3 *db, const char *zWhat, const char *sql) {
  long before = scanBatchScored();
  long long n = queryInt(db, sql);
  long nScored = scanBatchScored() - before;
  CHECK(n == 60, "%s: %lld rows agree with the plain scan, want 60", zWhat, n);
  CHECK(nScored == 60, "%s over 60 rows scored %ld texts, want 60", zWhat, nScored);
}

static int count(const char *z, const char *zWhat) {
  int n = 0;
  for (const char *p = z; (p = strstr(p, zWhat)); p += strlen(zWhat)) n++;
  return n;
}

int main(void) {
  const char *shared = shared_dir();
  if (!shared) {
    SKIP("../shared is absent (set SENTIMENT_SHARED): hostile SQL is not tested");
    return check_report("test_hostile_sql");
  }
  char zModel[1024];
  snprintf(zModel, sizeof zModel, "%s/golden/models/tiny-distilbert", shared);
  sqlite3_auto_extension((void (*)(void))sqlite3_sentiment_init);
  sqlite3 *db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK || registerModel(db, "tiny", zModel) != SQLITE_OK) {
    CHECK(0, "opening a connection with the tiny model");
    return check_report("test_hostile_sql");
  }
  exec(db,
       "CREATE TABLE r(id INTEGER PRIMARY KEY, text TEXT);"
       "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)"
       "  INSERT INTO r SELECT i, 'a fine film, take ' || i FROM n;");
  char zErr[1024];

  /* 1. nesting */
  expectError(db, SELF_QUERY, NEST_ERROR);
  exec(db, "CREATE TABLE q(sql TEXT);"
           "INSERT INTO q VALUES ('SELECT key, label FROM sentiment_scan((SELECT sql FROM q), ''tiny'')')");
  expectError(db, "SELECT * FROM sentiment_scan((SELECT sql FROM q), 'tiny')", NEST_ERROR);
  char *z4 = nested(4), *z5 = nested(5);
  char *zCount = sqlite3_mprintf("SELECT count(*) FROM (%s)", z4);
  CHECK(queryInt(db, zCount) == 60, "4 nested scans give the 60 rows");
  expectError(db, z5, NEST_ERROR);
  sqlite3_free(zCount);
  sqlite3_free(z4);
  sqlite3_free(z5);
  {
    pthread_attr_t attr;
    pthread_t t;
    Job job = {db, 0, ""};
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    CHECK(pthread_create(&t, &attr, selfOnThread, &job) == 0, "a thread with a 256 KiB stack");
    pthread_join(t, NULL);
    pthread_attr_destroy(&attr);
    CHECK(job.rc == SQLITE_ERROR && strstr(job.zErr, NEST_ERROR),
          "self-replicating query on a 256 KiB stack: rc %d \"%s\"", job.rc, job.zErr);
  }
  CHECK(queryInt(db, "SELECT count(*) FROM sentiment_scan('SELECT id, text FROM r', 'tiny')") == 60,
        "a scan after the nesting errors runs normally");

  /* 2. a scan feeding a write to the table it reads */
  int rc = run(db, "CREATE TABLE s AS SELECT * FROM sentiment_scan('SELECT id, text FROM r', 'tiny')",
               zErr, sizeof zErr);
  CHECK(rc == SQLITE_OK && queryInt(db, "SELECT count(*) FROM s") == 60,
        "CREATE TABLE s AS SELECT * FROM sentiment_scan: rc %d (%s)", rc, zErr);
  /* 300 rows: more than a batch (256), so that the old code read the
  ** inserted rows back (in the report, 1,000 grew to 51,000). */
  exec(db, "CREATE TABLE t(id, text);"
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)"
           "  INSERT INTO t SELECT i, 'a fine film, take ' || i FROM n;"
           "CREATE TABLE s300 AS SELECT * FROM sentiment_scan('SELECT id, text FROM t', 'tiny')");
  rc = run(db,
           "INSERT INTO t(text) SELECT label FROM sentiment_scan('SELECT id, text FROM t', 'tiny')"
           " LIMIT 10000",
           zErr, sizeof zErr);
  long long n = queryInt(db, "SELECT count(*) FROM t");
  CHECK(rc == SQLITE_OK && n == 600, "INSERT INTO t SELECT … FROM sentiment_scan(… FROM t): "
                                     "rc %d (%s), %lld rows, want 300 + 300", rc, zErr, n);
  CHECK(queryInt(db, "SELECT (SELECT group_concat(text) FROM (SELECT text FROM t WHERE id IS NULL "
                     "ORDER BY rowid)) = (SELECT group_concat(label) FROM (SELECT label FROM s300 "
                     "ORDER BY key))") == 1,
        "the 300 rows added are the labels of the 300 that were there, in order");
  rc = run(db,
           "UPDATE t SET text = (SELECT label FROM sentiment_scan('SELECT id, text FROM t', 'tiny') x"
           " WHERE x.key = t.id) WHERE id IS NOT NULL",
           zErr, sizeof zErr);
  CHECK(rc == SQLITE_OK &&
            queryInt(db, "SELECT count(*) FROM t WHERE text = (SELECT label FROM s300 WHERE "
                         "s300.key = t.id)") == 300,
        "UPDATE t from a scan of t: rc %d (%s), every row its own label", rc, zErr);

  /* 3. reruns within one statement */
  expectScoredOnce(db, "LEFT JOIN",
                   "SELECT count(*) FROM r LEFT JOIN sentiment_scan('SELECT id, text FROM r', 'tiny') x"
                   " ON x.key = r.id WHERE x.label = (SELECT label FROM s WHERE s.key = r.id)");
  expectScoredOnce(db, "correlated scalar subquery",
                   "SELECT count(*) FROM r WHERE (SELECT label FROM sentiment_scan('SELECT id, text "
                   "FROM r', 'tiny') x WHERE x.key = r.id) = (SELECT label FROM s WHERE s.key = r.id)");
  expectScoredOnce(db, "EXISTS",
                   "SELECT count(*) FROM r WHERE EXISTS (SELECT 1 FROM sentiment_scan('SELECT id, "
                   "text FROM r', 'tiny') x WHERE x.key = r.id)");
  /* 40 keys of 1 MiB pass the 32 MiB kept for a rerun. */
  const char *zBig = "sentiment_scan('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                     "WHERE i < 40) SELECT zeroblob(1048576) || i, ''fine'' FROM n', 'tiny')";
  char *zSql = sqlite3_mprintf("SELECT count(*) FROM r LEFT JOIN %s x ON x.key = r.id", zBig);
  expectError(db, zSql, "sentiment_scan(): this statement runs the same scan again (a LEFT JOIN or a "
                        "correlated subquery runs it once per outer row) and its results passed the "
                        "32 MiB kept for that; store them first: CREATE TEMP TABLE s AS SELECT * FROM "
                        "sentiment_scan(...), then use s");
  sqlite3_free(zSql);
  zSql = sqlite3_mprintf("CREATE TEMP TABLE big AS SELECT * FROM %s", zBig);
  CHECK(exec(db, zSql) == SQLITE_OK &&
            queryInt(db, "SELECT count(*) FROM r LEFT JOIN big ON big.key = r.id") == 60,
        "the advice works: CREATE TEMP TABLE, then the LEFT JOIN");
  sqlite3_free(zSql);
  exec(db, "DROP TABLE big");

  /* 4. big keys: batches are bounded in bytes */
  sqlite3_int64 hw0 = sqlite3_memory_highwater(1);
  (void)hw0;
  long long nRows = queryInt(db,
      "SELECT count(*) FROM sentiment_scan('WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1"
      " FROM n WHERE i < 100) SELECT zeroblob(1048576) || i, ''fine'' FROM n', 'tiny')");
  sqlite3_int64 hw = sqlite3_memory_highwater(0);
  if (hw <= 0) {
    SKIP("this SQLite keeps no memory statistics (SQLITE_DEFAULT_MEMSTATUS=0): peak not measured");
  } else {
    printf("100 keys of 1 MiB: SQLite heap peak %.1f MiB\n", hw / 1048576.0);
    CHECK(nRows == 100 && hw < 64 << 20,
          "100 keys of 1 MiB: %lld rows, SQLite heap peak %.1f MiB, want < 64 (batch 8 + replay 32)",
          nRows, hw / 1048576.0);
  }

  /* 5. progress */
  char zLog[8192];
  setenv("SENTIMENT_PROGRESS", "1", 1);
  stderrOf(db, "SELECT * FROM sentiment_scan('SELECT id, text FROM r', 'tiny')", zLog, sizeof zLog);
  CHECK(count(zLog, ", done") == 1, "progress: one \"done\" line, got: %s", zLog);
  const char *azOn[] = {"true", "YES", "On"};
  for (int i = 0; i < 3; i++) {
    setenv("SENTIMENT_PROGRESS", azOn[i], 1);
    stderrOf(db, "SELECT * FROM sentiment_scan('SELECT id, text FROM r', 'tiny')", zLog, sizeof zLog);
    CHECK(strstr(zLog, "sentiment_scan: 60/60 rows"), "SENTIMENT_PROGRESS=%s: %s", azOn[i], zLog);
  }
  setenv("SENTIMENT_PROGRESS", "off", 1);
  CHECK(queryInt(db, "SELECT sentiment_progress()") == 0, "SENTIMENT_PROGRESS=off");
  CHECK(queryInt(db, "SELECT sentiment_progress('ON')") == 1, "sentiment_progress('ON')");
  stderrOf(db, "SELECT * FROM sentiment_scan('SELECT id, text FROM r', 'tiny')", zLog, sizeof zLog);
  CHECK(strstr(zLog, "60/60 rows") && count(zLog, ", done") == 1, "sentiment_progress(1): %s", zLog);
  CHECK(queryInt(db, "SELECT sentiment_progress(0)") == 0, "sentiment_progress(0)");
  stderrOf(db, "SELECT * FROM sentiment_scan('SELECT id, text FROM r', 'tiny')", zLog, sizeof zLog);
  CHECK(zLog[0] == 0, "sentiment_progress(0): nothing on stderr, got %s", zLog);
  CHECK(queryInt(db, "SELECT sentiment_progress(NULL)") == 0, "sentiment_progress(NULL): the environment's off");
  unsetenv("SENTIMENT_PROGRESS");
  expectError(db, "SELECT sentiment_progress('maybe')",
              "sentiment_progress(): on must be 1/true/yes/on or 0/false/no/off");

  /* 6. a NULL model */
  CHECK(queryInt(db, "SELECT count(*) FROM sentiment_scan('SELECT id, text FROM r', NULL)") == 0,
        "sentiment_scan(q, NULL): no rows");

  sqlite3_close(db);
  return check_report("test_hostile_sql");
}
