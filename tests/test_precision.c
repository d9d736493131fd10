/*
** test_precision.c — sentiment_models.precision, through SQL in-process:
**   - 'int8' registers the int8 twin (core/quant.c), listed as 'int8'; the
**     default name and SENTIMENT_MODEL stay 'f32'; anything else in precision
**     is an error naming the allowed values;
**   - an int8 name is a load of its own, and loads no F32 model (the int8
**     registration holds no F32 copy of the linears: docs/int8.md); two
**     names of one folder at one precision share one load;
**   - int8 logits are near the f32 ones (labels equal on these texts) but not
**     equal: the int8 path runs; sentiment_scan on the int8 name gives the
**     scalar int8 logits (the int8 products are exact integers, whatever the
**     batch, so the scan adds only OpenBLAS's rounding in attention).
** Uses models/default (in the repository).
*/
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "sql_fixture.h"

int sqlite3_sentiment_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

static const char *azText[] = {
    "A gripping, beautifully shot film.", "Dull, predictable and far too long.",
    "I laughed, I cried, I bought the soundtrack.", "The worst two hours of my life.",
    "Not bad at all, though the ending drags.", "An instant classic: go and see it twice."};
#define N_TEXT (int)(sizeof azText / sizeof *azText)

/* The text of a one-row query, sqlite3_malloc'd, or NULL (and the error on stderr). */
static char *queryText(sqlite3 *db, const char *zSql) {
  sqlite3_stmt *st = NULL;
  char *z = NULL;
  if (sqlite3_prepare_v2(db, zSql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    z = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(st, 0));
  else
    fprintf(stderr, "%s: %s\n", zSql, sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return z;
}

/* "[a,b]" → a, b. */
static int parse2(const char *z, double *a, double *b) {
  return z && sscanf(z, "[%lf,%lf]", a, b) == 2;
}

int main(void) {
  (void)shared_dir;
  (void)registerModel;
  if (access("models/default/config.json", R_OK) != 0) {
    SKIP("models/default is missing: run from the repository root");
    return check_report("test_precision");
  }
  setenv("SENTIMENT_MODEL", "models/default", 1);
  CHECK(sqlite3_auto_extension((void (*)(void))sqlite3_sentiment_init) == SQLITE_OK, "auto_extension");
  sqlite3 *db = NULL;
  CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK, "open");

  /* the listing, the defaults, the errors */
  char *z = queryText(db, "SELECT precision FROM sentiment_models WHERE name = 'default'");
  CHECK(z && strcmp(z, "f32") == 0, "SENTIMENT_MODEL's default is f32, got %s", z ? z : "NULL");
  sqlite3_free(z);
  CHECK(exec(db, "INSERT INTO sentiment_models(name, path) VALUES ('exact', 'models/default')") == SQLITE_OK, "exact");
  CHECK(exec(db, "INSERT INTO sentiment_models(name, path, precision) VALUES ('fast', 'models/default', 'int8')") == SQLITE_OK, "fast");
  CHECK(exec(db, "INSERT INTO sentiment_models(name, path, precision) VALUES ('also', 'models/default', 'f32')") == SQLITE_OK, "also");
  z = queryText(db, "SELECT group_concat(name || ':' || precision, ' ') FROM sentiment_models");
  CHECK(z && strcmp(z, "default:f32 exact:f32 fast:int8 also:f32") == 0, "listing: %s", z ? z : "NULL");
  sqlite3_free(z);
  char *zErr = NULL;
  int rc = sqlite3_exec(db, "INSERT INTO sentiment_models(name, path, precision) VALUES ('bad', 'models/default', 'fp16')",
                        NULL, NULL, &zErr);
  CHECK(rc == SQLITE_ERROR && zErr && strstr(zErr, "'f32'") && strstr(zErr, "'int8'") && strstr(zErr, "'fp16'"),
        "a bad precision: %s", zErr ? zErr : "no error");
  sqlite3_free(zErr);
  zErr = NULL;
  rc = sqlite3_exec(db, "INSERT INTO sentiment_models(name, path, precision) VALUES ('bad', 'models/default', 8)",
                    NULL, NULL, &zErr);
  CHECK(rc == SQLITE_ERROR && zErr && strstr(zErr, "'int8'"), "precision 8: %s", zErr ? zErr : "no error");
  sqlite3_free(zErr);
  CHECK(queryInt(db, "SELECT count(*) FROM sentiment_models WHERE name = 'bad'") == 0, "nothing registered");

  /* the int8 name first: it loads the folder as int8 only */
  z = queryText(db, "SELECT sentiment('Dull.', 'fast')");
  CHECK(z != NULL, "int8 scores");
  sqlite3_free(z);
  CHECK(queryInt(db, "SELECT loaded FROM sentiment_models WHERE name = 'fast'") == 1, "int8 loaded");
  CHECK(queryInt(db, "SELECT loaded FROM sentiment_models WHERE name = 'exact'") == 0,
        "using the int8 name loaded the F32 model of its folder too");

  /* int8 near f32, labels equal; the default (SENTIMENT_MODEL) equals f32 exactly */
  double worst = 0;
  int same_label = 0;
  for (int i = 0; i < N_TEXT; i++) {
    char *zSql = sqlite3_mprintf("SELECT sentiment_logits(%Q, 'fast') || ' ' || sentiment_logits(%Q, 'exact')"
                                 " || ' ' || sentiment_logits(%Q)", azText[i], azText[i], azText[i]);
    char *zRow = queryText(db, zSql);
    double a0, a1, b0, b1, c0, c1;
    char *z2 = zRow ? strchr(zRow, ' ') : NULL, *z3 = z2 ? strchr(z2 + 1, ' ') : NULL;
    CHECK(zRow && z3 && parse2(zRow, &a0, &a1) && parse2(z2 + 1, &b0, &b1) && parse2(z3 + 1, &c0, &c1),
          "logits of text %d: %s", i, zRow ? zRow : "NULL");
    if (zRow && z3) {
      CHECK(b0 == c0 && b1 == c1, "text %d: the default model is not the f32 one: %s", i, zRow);
      worst = fmax(worst, fmax(fabs(a0 - b0), fabs(a1 - b1)));
      same_label += (a1 > a0) == (b1 > b0);
    }
    sqlite3_free(zRow);
    sqlite3_free(zSql);
  }
  printf("int8 vs f32 on %d texts: labels agree on %d, max |dlogit| %.3g\n", N_TEXT, same_label, worst);
  CHECK(same_label == N_TEXT, "int8 labels differ on %d texts", N_TEXT - same_label);
  CHECK(worst > 0 && worst < 0.1, "int8 max |dlogit| %g: 0 means int8 did not run", worst);

  /* one load per precision: 'exact', 'also' and the default share the F32 one */
  CHECK(queryInt(db, "SELECT loads FROM sentiment_models WHERE name = 'exact'") == 1, "f32 loaded once");
  CHECK(queryInt(db, "SELECT loads FROM sentiment_models WHERE name = 'also'") == 1, "f32 shared");
  CHECK(queryInt(db, "SELECT loads FROM sentiment_models WHERE name = 'fast'") == 1, "int8 loaded once");

  /* the scan on the int8 name equals the scalar int8 function */
  CHECK(exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, text TEXT)") == SQLITE_OK, "table");
  for (int i = 0; i < N_TEXT; i++) {
    char *zSql = sqlite3_mprintf("INSERT INTO t(text) VALUES (%Q)", azText[i]);
    exec(db, zSql);
    sqlite3_free(zSql);
  }
  sqlite3_stmt *st = NULL;
  double scan_worst = -1;
  if (sqlite3_prepare_v2(db, "SELECT s.logits, sentiment_logits(t.text, 'fast') FROM "
                         "sentiment_scan('SELECT id, text FROM t', 'fast') s JOIN t ON t.id = s.key",
                         -1, &st, NULL) == SQLITE_OK) {
    int n = 0;
    scan_worst = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
      double a0, a1, b0, b1;
      if (parse2((const char *)sqlite3_column_text(st, 0), &a0, &a1) &&
          parse2((const char *)sqlite3_column_text(st, 1), &b0, &b1))
        scan_worst = fmax(scan_worst, fmax(fabs(a0 - b0), fabs(a1 - b1))), n++;
    }
    CHECK(n == N_TEXT, "scan rows: %d", n);
  }
  sqlite3_finalize(st);
  printf("int8 scan vs int8 scalar: max |dlogit| %.3g\n", scan_worst);
  CHECK(scan_worst >= 0 && scan_worst < 1e-5, "int8 scan differs from the int8 scalar function by %g", scan_worst);

  /* dropping the f32 names keeps the int8 one working */
  CHECK(exec(db, "DELETE FROM sentiment_models WHERE name IN ('exact', 'also', 'default')") == SQLITE_OK, "delete");
  z = queryText(db, "SELECT sentiment('Dull.', 'fast')");
  CHECK(z != NULL, "int8 after its f32 names are gone");
  sqlite3_free(z);
  sqlite3_close(db);
  sqlite3_reset_auto_extension();
  return check_report("test_precision");
}
