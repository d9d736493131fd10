/*
** test_faults.c — hostile texts and faults through SQL (issue 7).
**
**   - a 10 MB text is scored (truncated to the model's limit, no error), with
**     the score of any text that truncates to the same pieces;
**   - invalid UTF-8 and NUL bytes: no error, invalid bytes and NULs vanish
**     (core/wordpiece.c), so the score is that of the clean text;
**   - a failing UPDATE … SET s = sentiment(text, 'nosuchmodel') inside a
**     transaction leaves the table as it was, also when it fails midway after
**     updating rows; the transaction goes on and commits what came before;
**   - a model file replaced on disk by rename while loaded keeps working: the
**     mapping holds the old inode, every score is unchanged until the model is
**     loaded again, and the next load reads the new file.
**   - by default (weights read into memory at load, the file closed): a model
**     file truncated to half, to nothing, rewritten in place with other
**     weights, and truncated + rewritten in the middle of a 600-row scan,
**     while two connections hold the model: every answer (the four scalar
**     functions, the scan's labels and logits, a third connection) is the
**     one from before, no error, no descriptor held; once every connection
**     closed, the next load reads the new weights;
**   - with SENTIMENT_MMAP=1 (F32 weights used in place from a mapping):
**     a model file truncated in place (to half its size) while two
**     connections hold the model: every scalar function and sentiment_scan is
**     an SQL error naming the file ("model file '…' was changed on disk while
**     loaded …"), never a SIGBUS in this process, the memoised last text
**     included; sentiment_tokens (vocabulary in memory) still works; a third
**     connection is not handed the stale model but loads the half file anew
**     and gets its format error. Rewritten in place with the original bytes
**     (same size, another mtime): still the error. DELETE + INSERT of the
**     name loads the file once more (loads + 1) and gives the original
**     scores; the other connection errs until it re-registers too, then
**     shares that load. The held descriptor is closed with the last
**     reference. (A truncation during a forward pass already running can
**     still SIGBUS: not tested.)
**   - a 100,000-row sentiment_scan into a table gives every row the label and
**     token count the scalar functions give its text (NULL for NULL), with
**     bounded memory; a scan failing at its last row but one creates nothing
**     (10,000 rows under make valgrind, which sets SNT_VALGRIND).
*/
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "check.h"
#include "model_fixture.h"

int sqlite3_sentiment_init(sqlite3 *db, char **pzErrMsg, const struct sqlite3_api_routines *pApi);

static sqlite3 *open_db(const char *zDir) {
  sqlite3 *db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) fx_die("sqlite3_open");
  char *z = sqlite3_mprintf("INSERT INTO sentiment_models(name, path) VALUES ('m', '%q')", zDir);
  char *zErr = NULL;
  int rc = sqlite3_exec(db, z, NULL, NULL, &zErr);
  CHECK(rc == SQLITE_OK, "register %s: %s", zDir, zErr ? zErr : "?");
  sqlite3_free(zErr);
  sqlite3_free(z);
  return db;
}

/* sql with ?1 bound to text[0..n) (n < 0: no binding); the first column of the
** first row as text into out (NULL → "NULL"). Returns the SQLite result code;
** *zErr gets the message on failure. */
static int query(sqlite3 *db, const char *sql, const char *text, long n, char *out, size_t nOut,
                 char *zErr, size_t nErr) {
  sqlite3_stmt *st = NULL;
  out[0] = 0;
  if (zErr) zErr[0] = 0;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK && n >= 0) rc = sqlite3_bind_text(st, 1, text, (int)n, SQLITE_STATIC);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const char *z = (const char *)sqlite3_column_text(st, 0);
      snprintf(out, nOut, "%s", z ? z : "NULL");
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      rc = SQLITE_OK;
    }
  }
  if (rc != SQLITE_OK && zErr) snprintf(zErr, nErr, "%s", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  return rc;
}

static void score(sqlite3 *db, const char *text, long n, char *out, size_t nOut) {
  char zErr[512];
  int rc = query(db, "SELECT sentiment_scores(?1, 'm')", text, n, out, nOut, zErr, sizeof zErr);
  CHECK(rc == SQLITE_OK, "score of %ld bytes: %s", n, zErr);
}

static void test_long_text(sqlite3 *db) {
  const char *w = "good movie ";
  size_t nw = strlen(w), n = 10u * 1024 * 1024;
  char *big = malloc(n);
  if (!big) fx_die("malloc");
  for (size_t i = 0; i < n; i++) big[i] = w[i % nw];
  char a[512], b[512], c[512];
  score(db, big, (long)n, a, sizeof a);
  score(db, big, (long)(600 * nw), b, sizeof b); /* 1200 pieces: truncated alike */
  score(db, big, (long)(100 * nw), c, sizeof c); /* 200 pieces: not truncated */
  CHECK(a[0] == '{' && strcmp(a, b) == 0, "10 MB text: %s, its first 600 words: %s", a, b);
  CHECK(strcmp(a, c) != 0, "truncation happens (10 MB %s vs 100 words %s)", a, c);
  char tok[64];
  CHECK(query(db, "SELECT count(*) FROM sentiment_tokens(?1, 'm')", big, (long)n, tok, sizeof tok,
              NULL, 0) == SQLITE_OK && atoi(tok) == 512,
        "sentiment_tokens of 10 MB: %s rows (512: [CLS] 510 pieces [SEP])", tok);
  free(big);
}

static void test_bad_bytes(sqlite3 *db) {
  char want[512], got[512];
  score(db, "A truly great film", -1 + 19, want, sizeof want);
  static const struct {
    const char *what;
    const char *text;
    long n;
  } cases[] = {
      {"stray 0xff/0xfe", "A truly\xff great\xfe film", 20},
      {"truncated sequences", "A truly great\xc3 film\xe2\x82", 21},
      {"overlong and surrogate", "A\xc0\xaf truly great \xed\xa0\x80""film", 23},
      {"NUL bytes", "A truly\0 great film\0\0", 22},
      {"NUL first", "\0A truly great film", 19},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    score(db, cases[i].text, cases[i].n, got, sizeof got);
    CHECK(strcmp(got, want) == 0, "%s: %s, clean text: %s", cases[i].what, got, want);
  }
  /* Only bad bytes: the score of an empty text, no error. */
  char empty[512];
  score(db, "", 0, empty, sizeof empty);
  score(db, "\xff\xfe\0\xc3\0\x80\x80", 7, got, sizeof got);
  CHECK(empty[0] == '{' && strcmp(got, empty) == 0, "only bad bytes: %s, empty text: %s", got, empty);
  /* The same from SQL literals, through sentiment_tokens too. */
  char zErr[512];
  int rc = query(db, "SELECT sentiment(CAST(X'41207472756c79ff20677265617400206669c3' AS TEXT), 'm')",
                 NULL, -1, got, sizeof got, zErr, sizeof zErr);
  CHECK(rc == SQLITE_OK && strcmp(got, "NULL") != 0, "literal with bad bytes: rc %d %s %s", rc, got, zErr);
  rc = query(db,
             "SELECT group_concat(token, ' ') FROM sentiment_tokens("
             "CAST(X'41207472756c79ff20677265617400206669c36c6d' AS TEXT), 'm')",
             NULL, -1, got, sizeof got, zErr, sizeof zErr);
  CHECK(rc == SQLITE_OK && strstr(got, "truly") && strstr(got, "great"),
        "sentiment_tokens with bad bytes: rc %d '%s' %s", rc, got, zErr);
}

static void exec_ok(sqlite3 *db, const char *sql) {
  char *zErr = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &zErr);
  CHECK(rc == SQLITE_OK, "%s: %s", sql, zErr ? zErr : "?");
  sqlite3_free(zErr);
}

static void table(sqlite3 *db, char *out, size_t n) {
  query(db, "SELECT group_concat(id || ':' || coalesce(s, 'NULL'), ',') FROM "
            "(SELECT * FROM reviews ORDER BY id)", NULL, -1, out, n, NULL, 0);
}

static void test_failing_update(sqlite3 *db) {
  exec_ok(db, "CREATE TABLE reviews(id INTEGER PRIMARY KEY, text TEXT, s TEXT);"
              "INSERT INTO reviews(text, s) VALUES ('Great film.', 'old1'), ('Awful film.', 'old2'),"
              " ('Fine.', 'old3'), ('Dull.', 'old4')");
  char before[1024], after[1024], zErr[512], out[64];
  table(db, before, sizeof before);
  exec_ok(db, "BEGIN");
  int rc = query(db, "UPDATE reviews SET s = sentiment(text, 'nosuchmodel')", NULL, -1, out,
                 sizeof out, zErr, sizeof zErr);
  CHECK(rc == SQLITE_ERROR && strstr(zErr, "no model named 'nosuchmodel'"), "failing UPDATE: rc %d %s",
        rc, zErr);
  table(db, after, sizeof after);
  CHECK(strcmp(before, after) == 0, "after the failed UPDATE: %s, before: %s", after, before);
  /* Fails at row 3, after rows 1 and 2 were updated: the statement is undone. */
  rc = query(db,
             "UPDATE reviews SET s = sentiment(text, CASE WHEN id = 3 THEN 'nosuchmodel' ELSE 'm' END)",
             NULL, -1, out, sizeof out, zErr, sizeof zErr);
  CHECK(rc == SQLITE_ERROR, "UPDATE failing midway: rc %d", rc);
  table(db, after, sizeof after);
  CHECK(strcmp(before, after) == 0, "after the UPDATE failing midway: %s, before: %s", after, before);
  CHECK(sqlite3_get_autocommit(db) == 0, "the transaction is still open");
  exec_ok(db, "UPDATE reviews SET s = 'new4' WHERE id = 4");
  exec_ok(db, "COMMIT");
  table(db, after, sizeof after);
  CHECK(strcmp(after, "1:old1,2:old2,3:old3,4:new4") == 0, "committed: %s", after);
}

/* fail_at(id, n, x): x, or an error when id = n. */
static void failAt(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  if (sqlite3_value_int64(argv[0]) == sqlite3_value_int64(argv[1]))
    sqlite3_result_error(ctx, "fail_at: injected failure", -1);
  else
    sqlite3_result_value(ctx, argv[2]);
}

static long maxrss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static long long int_of(sqlite3 *db, const char *sql) {
  char out[64], zErr[512];
  int rc = query(db, sql, NULL, -1, out, sizeof out, zErr, sizeof zErr);
  CHECK(rc == SQLITE_OK, "%s: %s", sql, zErr);
  return rc == SQLITE_OK ? atoll(out) : -1;
}

static void test_big_scan(sqlite3 *db) {
  const int N_ROWS = getenv("SNT_VALGRIND") ? 10000 : 100000;
  /* 1,000 distinct texts of three to five words; every 997th row NULL. */
  exec_ok(db,
          "CREATE TABLE words(i INTEGER PRIMARY KEY, w TEXT);"
          "INSERT INTO words VALUES (0,'good'),(1,'bad'),(2,'film'),(3,'boring'),(4,'loved'),"
          " (5,'plot'),(6,'awful'),(7,'great'),(8,'acting'),(9,'never'),(10,'again'),"
          " (11,'fun'),(12,'slow'),(13,'the'),(14,'best'),(15,'worst');"
          "CREATE TABLE ref(j INTEGER PRIMARY KEY, text TEXT, label TEXT, n INTEGER);"
          "WITH RECURSIVE c(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM c WHERE j < 999)"
          " INSERT INTO ref(j, text) SELECT j, (SELECT w FROM words WHERE i = j % 16) || ' ' ||"
          "  (SELECT w FROM words WHERE i = j / 16 % 16) || ' ' || (SELECT w FROM words WHERE i = j / 256)"
          "  || substr(' and the film was long', 1, 4 * (j % 6)) FROM c;"
          "UPDATE ref SET label = sentiment(text, 'm'),"
          " n = (SELECT count(*) FROM sentiment_tokens(ref.text, 'm'));"
          "CREATE TABLE big(id INTEGER PRIMARY KEY, j INTEGER, text TEXT);");
  char *zFill = sqlite3_mprintf(
          "WITH RECURSIVE c(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM c WHERE id < %d)"
          " INSERT INTO big SELECT id, id * 7919 %% 1000,"
          "  CASE WHEN id %% 997 THEN (SELECT text FROM ref WHERE j = id * 7919 %% 1000) END FROM c;",
          N_ROWS);
  exec_ok(db, zFill);
  sqlite3_free(zFill);
  CHECK(int_of(db, "SELECT count(DISTINCT label) FROM ref") == 2, "both labels among the texts");
  long rss0 = maxrss_kb();
  exec_ok(db, "CREATE TABLE scored AS SELECT key, label, n_tokens, truncated FROM "
              "sentiment_scan('SELECT id, text FROM big', 'm')");
  long grown_mb = (maxrss_kb() - rss0) / 1024;
  CHECK(int_of(db, "SELECT count(*) FROM scored") == N_ROWS, "%d-row scan: row count", N_ROWS);
  CHECK(int_of(db, "SELECT count(*) FROM scored JOIN big ON big.id = scored.key JOIN ref USING (j)"
                   " WHERE big.text IS NOT NULL AND scored.label = ref.label"
                   " AND scored.n_tokens = ref.n AND NOT scored.truncated") == N_ROWS - N_ROWS / 997,
        "%d-row scan: rows whose label or token count differ from the scalar functions'", N_ROWS);
  CHECK(int_of(db, "SELECT count(*) FROM scored JOIN big ON big.id = scored.key"
                   " WHERE big.text IS NULL AND scored.label IS NULL") == N_ROWS / 997,
        "%d-row scan: NULL texts", N_ROWS);
  /* The table, ~10 MB of rows, is in this :memory: database; the scan itself
  ** holds one batch of rows, one state per worker and at most SCAN_REPLAY_BYTES
  ** (32 MiB) of results kept for a rerun. AddressSanitizer keeps freed blocks in
  ** its quarantine (256 MB by default), so its build gets a looser bound. */
#ifdef __SANITIZE_ADDRESS__
  const long max_grown_mb = 160;
#else
  const long max_grown_mb = 64;
#endif
  CHECK(grown_mb < max_grown_mb, "%d-row scan grew the peak RSS by %ld MB (bound %ld)", N_ROWS, grown_mb,
        max_grown_mb);
  printf("test_faults: %d-row scan, peak RSS grew by %ld MB\n", N_ROWS, grown_mb);

  /* The same scan failing at its last row but one (an error from the scanned query):
  ** the error comes back and no table is created. */
  sqlite3_create_function(db, "fail_at", 3, SQLITE_UTF8, NULL, failAt, NULL, NULL);
  char out[64], zErr[512];
  char *zFail = sqlite3_mprintf("CREATE TABLE scored2 AS SELECT key, label FROM "
                                "sentiment_scan('SELECT id, fail_at(id, %d, text) FROM big', 'm')",
                                N_ROWS - 1);
  int rc = query(db, zFail, NULL, -1, out, sizeof out, zErr, sizeof zErr);
  sqlite3_free(zFail);
  CHECK(rc == SQLITE_ERROR && strstr(zErr, "injected failure"), "scan failing at row %d: rc %d %s", N_ROWS - 1,
        rc, zErr);
  CHECK(int_of(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'scored2'") == 0,
        "a failed CREATE TABLE … AS scan left a table");
  exec_ok(db, "DROP TABLE scored; DROP TABLE big; DROP TABLE ref; DROP TABLE words");
}

/* A copy of model.safetensors with classifier.bias set to (+8, -8, …). */
static void write_changed_model(const char *src, const char *dst) {
  size_t n;
  unsigned char *b = (unsigned char *)fx_read_file(src, &n);
  uint64_t hlen = 0;
  memcpy(&hlen, b, 8);
  char *h = strndup((const char *)b + 8, hlen);
  char *p = strstr(h, "\"classifier.bias\"");
  char *o = p ? strstr(p, "\"data_offsets\"") : NULL;
  long begin = -1, end = -1;
  if (!o || sscanf(strchr(o, '[') + 1, "%ld , %ld", &begin, &end) != 2) {
    fprintf(stderr, "no classifier.bias in %s\n", src);
    exit(2);
  }
  for (long k = begin, i = 0; k + 4 <= end; k += 4, i++) {
    float v = i % 2 ? -8.0f : 8.0f;
    memcpy(b + 8 + hlen + k, &v, 4);
  }
  fx_write_file(dst, b, n);
  free(h);
  free(b);
}

static void test_replace_by_rename(const char *zShared) {
  char zDir[4096], zSrc[4096];
  snprintf(zDir, sizeof zDir, "%s", fx_tmpdir());
  snprintf(zSrc, sizeof zSrc, "%s/golden/models/tiny-distilbert", zShared);
  static const char *files[] = {"config.json", "vocab.txt", "model.safetensors"};
  for (int i = 0; i < 3; i++) fx_copy_file(fx_path(zSrc, files[i]), fx_path(zDir, files[i]));

  const char *t = "An unforgettable, moving film.";
  char a[512], b[512], c[512], d[512];
  sqlite3 *db = open_db(zDir);
  score(db, t, (long)strlen(t), a, sizeof a);
  struct stat st0, st1;
  CHECK(stat(fx_path(zDir, "model.safetensors"), &st0) == 0, "stat");

  /* A new file renamed over the loaded one. */
  write_changed_model(fx_path(zDir, "model.safetensors"), fx_path(zDir, "model.safetensors.new"));
  CHECK(rename(fx_path(zDir, "model.safetensors.new"), fx_path(zDir, "model.safetensors")) == 0,
        "rename");
  CHECK(stat(fx_path(zDir, "model.safetensors"), &st1) == 0 && st1.st_ino != st0.st_ino,
        "a new inode");
  score(db, t, (long)strlen(t), b, sizeof b);
  CHECK(a[0] == '{' && strcmp(a, b) == 0, "after the rename, the loaded model: %s, before: %s", b, a);
  /* A second connection naming the same folder shares the loaded model. */
  sqlite3 *db2 = open_db(zDir);
  score(db2, t, (long)strlen(t), c, sizeof c);
  CHECK(strcmp(a, c) == 0, "second connection: %s, first: %s", c, a);
  sqlite3_close(db2);
  sqlite3_close(db);
  /* Everyone let go: the next load reads the new file. */
  db = open_db(zDir);
  score(db, t, (long)strlen(t), d, sizeof d);
  CHECK(d[0] == '{' && strcmp(a, d) != 0, "reloaded: %s (the new classifier bias), old: %s", d, a);
  sqlite3_close(db);
  fx_rmdir(zDir);
}

/* The text of sql's error on db, or "" when it runs clean. */
static const char *error_of(sqlite3 *db, const char *sql) {
  static char zErr[8192];
  char out[512];
  if (query(db, sql, NULL, -1, out, sizeof out, zErr, sizeof zErr) == SQLITE_OK) zErr[0] = 0;
  return zErr;
}

static void reregister(sqlite3 *db, const char *zDir) {
  char *z = sqlite3_mprintf("DELETE FROM sentiment_models WHERE name = 'm';"
                            "INSERT INTO sentiment_models(name, path) VALUES ('m', '%q')", zDir);
  exec_ok(db, z);
  sqlite3_free(z);
}

static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* opendir's own */
}

/* SENTIMENT_MMAP=1 (F32 weights used in place from a mapping):
** model.safetensors truncated, then rewritten, in place under two
** connections that hold the model: each use of the weights is an SQL error
** (never the SIGBUS a read past the new end would be: that would kill this
** process), until the name is registered again, which loads the file anew. */
static void test_rewrite_in_place_mapped(const char *zShared) {
  setenv("SENTIMENT_MMAP", "1", 1);
  char zDir[4096], zSrc[4096], zFile[4096], want[8192], got[8192];
  snprintf(zDir, sizeof zDir, "%s", fx_tmpdir());
  snprintf(zSrc, sizeof zSrc, "%s/golden/models/tiny-bert", zShared);
  static const char *files[] = {"config.json", "vocab.txt", "model.safetensors"};
  for (int i = 0; i < 3; i++) fx_copy_file(fx_path(zSrc, files[i]), fx_path(zDir, files[i]));
  char *zReal = realpath(zDir, NULL);
  if (!zReal) fx_die("realpath");
  snprintf(zFile, sizeof zFile, "%s/model.safetensors", zReal);
  /* The original bytes, to write back in place. */
  size_t nOrig;
  char *orig = fx_read_file(zFile, &nOrig);
  long n = (long)nOrig;
  struct stat st0;
  CHECK(stat(zFile, &st0) == 0, "stat %s", zFile);
  int nFd0 = count_fds();

  const char *t = "An unforgettable, moving film.", *t2 = "Dull and far too long.";
  char a[512], a2[512], b[512];
  sqlite3 *db = open_db(zDir), *db2 = open_db(zDir);
  score(db, t, (long)strlen(t), a, sizeof a);
  score(db2, t, (long)strlen(t), a2, sizeof a2);
  CHECK(a[0] == '{' && strcmp(a, a2) == 0, "two connections: %s, %s", a, a2);
  const char *zLoads = "SELECT loads FROM sentiment_models WHERE name = 'm'";
  long long nLoad0 = int_of(db, zLoads);
  CHECK(nLoad0 == 1, "loads after the first scores: %lld", nLoad0);
  CHECK(count_fds() == nFd0 + 1, "a loaded model holds one descriptor: %d, before %d",
        count_fds(), nFd0);
  exec_ok(db, "CREATE TABLE r(id INTEGER PRIMARY KEY, text TEXT);"
              "INSERT INTO r(text) VALUES ('Great film.'), (NULL), ('Awful, dull film.')");
  const char *zScan = "SELECT group_concat(key || ':' || coalesce(label, 'NULL'), ',') FROM "
                      "sentiment_scan('SELECT id, text FROM r', 'm')";
  const char *zToks = "SELECT count(*) FROM sentiment_tokens('Great film.', 'm')";
  long long nTok = int_of(db, zToks);
  char scan0[512];
  CHECK(query(db, zScan, NULL, -1, scan0, sizeof scan0, got, sizeof got) == SQLITE_OK &&
            strncmp(scan0, "1:", 2) == 0,
        "scan before: %s %s", scan0, got);

  /* (a) Truncated in place to half its size. */
  CHECK(truncate(zFile, n / 2) == 0, "truncate %s", zFile);
  static const char *azFunc[] = {"sentiment", "sentiment_score", "sentiment_scores",
                                 "sentiment_logits"};
  for (int i = 0; i < 4; i++) {
    char sql[128];
    /* t is the text just scored: the memoised logits are not used either. */
    snprintf(sql, sizeof sql, "SELECT %s('%s', 'm')", azFunc[i], t);
    snprintf(want, sizeof want,
             "%s(): model file '%s' was changed on disk while loaded (truncated or rewritten in "
             "place: %ld bytes, was %ld); replace model files by rename (mv) and load the model "
             "again", azFunc[i], zFile, n / 2, n);
    snprintf(got, sizeof got, "%s", error_of(db, sql));
    CHECK(strcmp(got, want) == 0, "truncated, %s:\n  got  %s\n  want %s", sql, got, want);
  }
  snprintf(want, sizeof want,
           "sentiment(): model file '%s' was changed on disk while loaded (truncated or rewritten "
           "in place: %ld bytes, was %ld); replace model files by rename (mv) and load the model "
           "again", zFile, n / 2, n);
  snprintf(got, sizeof got, "%s", error_of(db2, "SELECT sentiment('Dull and far too long.', 'm')"));
  CHECK(strcmp(got, want) == 0, "truncated, second connection:\n  got  %s\n  want %s", got, want);
  snprintf(want, sizeof want,
           "sentiment_scan(): model file '%s' was changed on disk while loaded (truncated or "
           "rewritten in place: %ld bytes, was %ld); replace model files by rename (mv) and load "
           "the model again", zFile, n / 2, n);
  snprintf(got, sizeof got, "%s", error_of(db, zScan));
  CHECK(strcmp(got, want) == 0, "truncated, sentiment_scan:\n  got  %s\n  want %s", got, want);
  /* The vocabulary is in memory, not in the file: tokenizing still works. */
  CHECK(nTok == 5 && int_of(db, zToks) == nTok, "sentiment_tokens on a model whose file changed");
  /* A connection opened now is not handed the stale model: it loads the file
  ** anew, and the half file is refused as malformed. */
  sqlite3 *db3 = open_db(zDir);
  snprintf(got, sizeof got, "%s", error_of(db3, "SELECT sentiment('Fine.', 'm')"));
  CHECK(strncmp(got, "sentiment(): ", 13) == 0 && strstr(got, "model.safetensors") &&
            !strstr(got, "was changed on disk"),
        "truncated, a new connection: %s", got);
  CHECK(int_of(db3, zLoads) == nLoad0, "a failed load is not counted: loads %lld",
        int_of(db3, zLoads));
  sqlite3_close(db3);

  /* (b) Rewritten in place with the original bytes (as a 'wb' save does), at
  ** an mtime 7 s past the loaded one: same size, other mtime. */
  int fd = open(zFile, O_WRONLY | O_TRUNC);
  CHECK(fd >= 0 && write(fd, orig, (size_t)n) == (ssize_t)n, "rewrite %s", zFile);
  struct timespec ts[2] = {st0.st_atim, st0.st_mtim};
  ts[1].tv_sec += 7;
  CHECK(futimens(fd, ts) == 0, "futimens");
  close(fd);
  snprintf(want, sizeof want,
           "sentiment_scores(): model file '%s' was changed on disk while loaded (truncated or "
           "rewritten in place: %ld bytes, was %ld); replace model files by rename (mv) and load "
           "the model again", zFile, n, n);
  for (int k = 0; k < 2; k++) {
    snprintf(got, sizeof got, "%s",
             error_of(k ? db2 : db, "SELECT sentiment_scores('Great film.', 'm')"));
    CHECK(strcmp(got, want) == 0, "rewritten, connection %d:\n  got  %s\n  want %s", k + 1, got,
          want);
  }
  snprintf(got, sizeof got, "%s", error_of(db, zScan));
  CHECK(strncmp(got, "sentiment_scan(): model file '", 30) == 0 &&
            strstr(got, "was changed on disk while loaded"),
        "rewritten, sentiment_scan: %s", got);

  /* (c) Registered again: the file is loaded anew (once), the scores are the
  ** original ones; the second connection errs until it registers again too. */
  reregister(db, zDir);
  score(db, t, (long)strlen(t), b, sizeof b);
  CHECK(strcmp(a, b) == 0, "re-registered: %s, before: %s", b, a);
  CHECK(int_of(db, zLoads) == nLoad0 + 1, "loads after re-registering: %lld, before %lld",
        int_of(db, zLoads), nLoad0);
  CHECK(query(db, zScan, NULL, -1, b, sizeof b, got, sizeof got) == SQLITE_OK &&
            strcmp(b, scan0) == 0,
        "scan after re-registering: %s (before: %s) %s", b, scan0, got);
  snprintf(got, sizeof got, "%s", error_of(db2, "SELECT sentiment('Great film.', 'm')"));
  CHECK(strncmp(got, "sentiment(): model file '", 25) == 0 &&
            strstr(got, "was changed on disk while loaded"),
        "second connection, not re-registered: %s", got);
  reregister(db2, zDir);
  score(db2, t2, (long)strlen(t2), b, sizeof b); /* a new text: no memo */
  score(db, t2, (long)strlen(t2), a2, sizeof a2);
  CHECK(b[0] == '{' && strcmp(a2, b) == 0, "second connection re-registered: %s, first: %s", b,
        a2);
  CHECK(int_of(db2, zLoads) == nLoad0 + 1, "the two connections share the new load: loads %lld",
        int_of(db2, zLoads));
  CHECK(count_fds() == nFd0 + 1, "one descriptor for the new load, the stale one closed: %d, "
        "before %d", count_fds(), nFd0);
  sqlite3_close(db2);
  sqlite3_close(db);
  CHECK(count_fds() == nFd0, "every model released: %d descriptors, before %d", count_fds(),
        nFd0);
  free(orig);
  free(zReal);
  fx_rmdir(zDir);
  unsetenv("SENTIMENT_MMAP");
}

/* Write bytes over path in place, as cp or open(…, 'wb') do: the same inode. */
static void rewrite_in_place(const char *path, const char *bytes, long n) {
  int fd = open(path, O_WRONLY | O_TRUNC);
  if (fd < 0 || write(fd, bytes, (size_t)n) != (ssize_t)n || close(fd) != 0) fx_die(path);
}

static const char *zClobberFile; /* clobber(): the file it rewrites ... */
static char *zClobberBytes;      /* ... with these bytes */
static long nClobberBytes;

/* clobber(id, at, x): x; when id = at, first truncates zClobberFile to 0
** bytes and then rewrites it in place with zClobberBytes. */
static void clobberFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  if (sqlite3_value_int64(argv[0]) == sqlite3_value_int64(argv[1])) {
    CHECK(truncate(zClobberFile, 0) == 0, "truncate %s", zClobberFile);
    rewrite_in_place(zClobberFile, zClobberBytes, nClobberBytes);
  }
  sqlite3_result_value(ctx, argv[2]);
}

/* The default (weights copied into memory at load, the file closed):
** model.safetensors truncated, rewritten in place with other weights, and
** both in the middle of a scan, under two connections that hold the model:
** every answer stays the one the loaded weights give (no error, no SIGBUS,
** no number from the new bytes); no descriptor is held; a new connection
** shares the loaded model; once every connection lets go, the next load
** reads the file as it is now. */
static void test_rewrite_in_place(const char *zShared) {
  char zDir[4096], zSrc[4096], zFile[4200], got[8192];
  snprintf(zDir, sizeof zDir, "%s", fx_tmpdir());
  snprintf(zSrc, sizeof zSrc, "%s/golden/models/tiny-bert", zShared);
  static const char *files[] = {"config.json", "vocab.txt", "model.safetensors"};
  for (int i = 0; i < 3; i++) fx_copy_file(fx_path(zSrc, files[i]), fx_path(zDir, files[i]));
  snprintf(zFile, sizeof zFile, "%s/model.safetensors", zDir);
  size_t nOrig, nNew;
  char *orig = fx_read_file(zFile, &nOrig);
  write_changed_model(zFile, fx_path(zDir, "changed"));
  char *changed = fx_read_file(fx_path(zDir, "changed"), &nNew);
  long n = (long)nOrig, nChanged = (long)nNew;
  unlink(fx_path(zDir, "changed"));
  int nFd0 = count_fds();

  static const char *azSql[] = {
      "SELECT sentiment('An unforgettable, moving film.', 'm')",
      "SELECT sentiment_score('An unforgettable, moving film.', 'm')",
      "SELECT sentiment_scores('Dull and far too long.', 'm')",
      "SELECT sentiment_logits('Dull and far too long.', 'm')",
      "SELECT group_concat(key || ':' || coalesce(label, 'NULL') || ':' || logits, ',') FROM "
      "sentiment_scan('SELECT id, text FROM r', 'm')",
  };
  enum { N_SQL = sizeof azSql / sizeof azSql[0] };
  static char want[N_SQL][65536], out[65536]; /* the scan: 600 rows of logits */
  sqlite3 *db = open_db(zDir), *db2 = open_db(zDir);
  exec_ok(db, "CREATE TABLE r(id INTEGER PRIMARY KEY, text TEXT);"
              "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 600)"
              " INSERT INTO r SELECT i, CASE WHEN i % 97 THEN 'Film number ' || i ||"
              " CASE i % 3 WHEN 0 THEN ' was great.' WHEN 1 THEN ' was awful.' ELSE ' was fine, long.' END"
              " END FROM c");
  for (int i = 0; i < N_SQL; i++) {
    CHECK(query(db, azSql[i], NULL, -1, want[i], sizeof want[i], got, sizeof got) == SQLITE_OK &&
              strcmp(want[i], "NULL") != 0,
          "before: %s: %s", azSql[i], got);
  }
  CHECK(strlen(want[N_SQL - 1]) > 600 * 20, "the scan's 600 rows are all compared (%zu bytes)",
        strlen(want[N_SQL - 1]));
  const char *zLoads = "SELECT loads FROM sentiment_models WHERE name = 'm'";
  CHECK(int_of(db2, "SELECT sentiment('Fine.', 'm') IS NOT NULL") == 1 && int_of(db2, zLoads) == 1,
        "two connections, one load");
  CHECK(count_fds() == nFd0, "a loaded model holds no descriptor: %d, before %d", count_fds(),
        nFd0);

  /* Truncated to half, then to nothing, then rewritten in place with other
  ** weights (same size): every answer, on both connections and on a third
  ** one opened now, is the loaded model's. */
  for (int step = 0; step < 3; step++) {
    if (step == 0) CHECK(truncate(zFile, n / 2) == 0, "truncate");
    if (step == 1) CHECK(truncate(zFile, 0) == 0, "truncate to 0");
    if (step == 2) rewrite_in_place(zFile, changed, nChanged);
    sqlite3 *db3 = open_db(zDir);
    for (int k = 0; k < 3; k++)
      for (int i = 0; i < N_SQL; i++) {
        sqlite3 *d = k == 0 ? db : k == 1 ? db2 : db3;
        if (i == N_SQL - 1 && d != db) continue; /* the table r is db's */
        int rc = query(d, azSql[i], NULL, -1, out, sizeof out, got, sizeof got);
        CHECK(rc == SQLITE_OK && strcmp(out, want[i]) == 0,
              "file changed in place (step %d), connection %d, %s: rc %d %s (want %.80s) %s", step,
              k + 1, azSql[i], rc, out, want[i], got);
      }
    CHECK(int_of(db3, zLoads) == 1, "the third connection shares the loaded model");
    sqlite3_close(db3);
  }

  /* During a scan: at row 300 of 600 the file is truncated to 0 bytes and
  ** rewritten with other weights; the scan's answers are the loaded model's. */
  rewrite_in_place(zFile, orig, n);
  zClobberFile = zFile;
  zClobberBytes = changed;
  nClobberBytes = nChanged;
  sqlite3_create_function(db, "clobber", 3, SQLITE_UTF8, NULL, clobberFunc, NULL, NULL);
  int rc = query(db,
                 "SELECT group_concat(key || ':' || coalesce(label, 'NULL') || ':' || logits, ',') "
                 "FROM sentiment_scan('SELECT id, clobber(id, 300, text) FROM r', 'm')",
                 NULL, -1, out, sizeof out, got, sizeof got);
  CHECK(rc == SQLITE_OK && strcmp(out, want[N_SQL - 1]) == 0,
        "scan with the file truncated and rewritten at row 300: rc %d %s", rc, got);
  CHECK(count_fds() == nFd0, "still no descriptor held: %d, before %d", count_fds(), nFd0);

  /* Everyone let go: the next load reads the file as it is now. */
  sqlite3_close(db2);
  sqlite3_close(db);
  db = open_db(zDir);
  CHECK(query(db, azSql[2], NULL, -1, out, sizeof out, got, sizeof got) == SQLITE_OK &&
            out[0] == '{' && strcmp(out, want[2]) != 0,
        "reloaded: %s (the new classifier bias), old: %s %s", out, want[2], got);
  sqlite3_close(db);
  free(orig);
  free(changed);
  fx_rmdir(zDir);
}

int main(void) {
  const char *zShared = shared_dir();
  if (!zShared) {
    SKIP("no shared folder (../shared or $SENTIMENT_SHARED): no model to load");
    return check_report("test_faults");
  }
  unsetenv("SENTIMENT_MODEL");
  CHECK(sqlite3_auto_extension((void (*)(void))sqlite3_sentiment_init) == SQLITE_OK,
        "auto_extension");
  char zModel[4096];
  snprintf(zModel, sizeof zModel, "%s/golden/models/tiny-bert", zShared);
  sqlite3 *db = open_db(zModel);
  test_big_scan(db); /* first: its peak RSS is measured from where it starts */
  test_long_text(db);
  test_bad_bytes(db);
  test_failing_update(db);
  sqlite3_close(db);
  test_replace_by_rename(zShared);
  test_rewrite_in_place(zShared);
  test_rewrite_in_place_mapped(zShared);
  return check_report("test_faults");
}
