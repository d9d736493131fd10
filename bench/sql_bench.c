/*
** bench/sql_bench.c — times one SQL statement with the extension loaded: the
** extension side of bench/run.sh.
**
**   build/bench/sql_bench DB EXTENSION SETUP_SQL TIMED_SQL [OUT]
**
** Opens DB, loads EXTENSION (sqlite3_load_extension, as a user would), runs
** SETUP_SQL (thread count, a warm-up call that loads the model: not timed),
** then steps TIMED_SQL to the end and prints one JSON line:
**   {"rows": N, "seconds": S}
** With OUT, each row of TIMED_SQL is written there, columns separated by tabs.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: %s DB EXTENSION SETUP_SQL TIMED_SQL [OUT]\n", argv[0]);
    return 2;
  }
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  char *zErr = NULL;
  FILE *out = NULL;
  int rc = 1;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) goto sql_error;
  sqlite3_enable_load_extension(db, 1);
  if (sqlite3_load_extension(db, argv[2], NULL, &zErr) != SQLITE_OK) goto sql_error;
  if (sqlite3_exec(db, argv[3], NULL, NULL, &zErr) != SQLITE_OK) goto sql_error;
  if (sqlite3_prepare_v2(db, argv[4], -1, &st, NULL) != SQLITE_OK) goto sql_error;
  if (argc == 6 && !(out = fopen(argv[5], "w"))) {
    perror(argv[5]);
    goto done;
  }
  long rows = 0;
  double t0 = now();
  int src;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    rows++;
    if (!out) continue;
    for (int i = 0; i < sqlite3_column_count(st); i++) {
      const unsigned char *z = sqlite3_column_text(st, i);
      fprintf(out, i ? "\t%s" : "%s", z ? (const char *)z : "NULL");
    }
    fputc('\n', out);
  }
  double sec = now() - t0;
  if (src != SQLITE_DONE) goto sql_error;
  printf("{\"rows\": %ld, \"seconds\": %.6f}\n", rows, sec);
  rc = 0;
  goto done;
sql_error:
  fprintf(stderr, "sql_bench: %s\n", zErr ? zErr : sqlite3_errmsg(db));
done:
  if (out) fclose(out);
  sqlite3_free(zErr);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc;
}
