/*
** sql_fixture.h — small SQLite helpers the in-process extension tests share
** (test_threads.c, test_concurrency.c, test_scan.c): run SQL, register a model folder, read
** one integer. Each prints what failed on stderr.
*/
#ifndef SNT_SQL_FIXTURE_H
#define SNT_SQL_FIXTURE_H

#include <sqlite3.h>
#include <stdio.h>

static int exec(sqlite3 *db, const char *zSql) {
  char *zErr = NULL;
  int rc = sqlite3_exec(db, zSql, NULL, NULL, &zErr);
  if (rc != SQLITE_OK) fprintf(stderr, "%s: %s\n", zSql, zErr ? zErr : "?");
  sqlite3_free(zErr);
  return rc;
}

/* INSERT INTO sentiment_models(name, path). */
static int registerModel(sqlite3 *db, const char *zName, const char *zPath) {
  char *zSql =
      sqlite3_mprintf("INSERT INTO sentiment_models(name, path) VALUES (%Q, %Q)", zName, zPath);
  int rc = exec(db, zSql);
  sqlite3_free(zSql);
  return rc;
}

/* An integer from a one-row query, or -1. */
static long long queryInt(sqlite3 *db, const char *zSql) {
  sqlite3_stmt *st = NULL;
  long long v = -1;
  if (sqlite3_prepare_v2(db, zSql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  else
    fprintf(stderr, "%s: %s\n", zSql, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return v;
}

#endif
