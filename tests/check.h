/*
** check.h — the tiny harness every C test uses.
**
**   CHECK(cond, "fmt", ...)   counts a pass, or prints FAIL with file:line
**   SKIP("why")               counts a skip and says why, loudly
**   return check_report("name");   prints "name: N passed, N failed[, N skipped]"
**                                  and returns the exit status
**
** shared_dir() is ../shared beside the repository (or $SENTIMENT_SHARED):
** tests that need it call it and SKIP loudly when it returns NULL (a FAIL
** instead when SENTIMENT_REQUIRE_SHARED=1).
*/
#ifndef SNT_CHECK_H
#define SNT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int check_passed, check_failed, check_skipped;

#define CHECK(cond, ...)                                            \
  do {                                                              \
    if (cond) {                                                     \
      check_passed++;                                               \
    } else {                                                        \
      check_failed++;                                               \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
      fprintf(stderr, __VA_ARGS__);                                 \
      fputc('\n', stderr);                                          \
    }                                                               \
  } while (0)

#define SKIP(...)                                                   \
  do {                                                              \
    check_skipped++;                                                \
    fprintf(stderr, "SKIP %s:%d: ", __FILE__, __LINE__);            \
    fprintf(stderr, __VA_ARGS__);                                   \
    fputc('\n', stderr);                                            \
  } while (0)

static int check_report(const char *name) {
  if (check_skipped)
    printf("%s: %d passed, %d failed, %d skipped\n", name, check_passed, check_failed,
           check_skipped);
  else
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
  return check_failed ? 1 : 0;
}

/* The shared reference folder, or NULL when absent. With
** SENTIMENT_REQUIRE_SHARED=1 (.ci/run sets it) an absent folder is also a
** failure, counted once: CI must not pass with the golden checks skipped. */
static const char *shared_dir(void) {
  static int bSaid;
  const char *d = getenv("SENTIMENT_SHARED");
  const char *zReq = getenv("SENTIMENT_REQUIRE_SHARED");
  if (!d) d = "../shared";
  struct stat st;
  if (stat(d, &st) == 0 && S_ISDIR(st.st_mode)) return d;
  if (zReq && strcmp(zReq, "1") == 0 && !bSaid++) {
    check_failed++;
    fprintf(stderr, "FAIL: no shared folder at %s, and SENTIMENT_REQUIRE_SHARED=1\n", d);
  }
  return NULL;
}

#endif
