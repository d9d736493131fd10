/*
** check.h — the tiny harness every C test uses.
**
**   CHECK(cond, "fmt", ...)   counts a pass, or prints FAIL with file:line
**   SKIP("why")               counts a skip and says why, loudly
**   return check_report("name");   prints "name: N passed, N failed[, N skipped]"
**                                  and returns the exit status
**
** shared_dir() is ../shared beside the repository (or $SENTIMENT_SHARED):
** tests that need it call it and SKIP loudly when it returns NULL.
*/
#ifndef SNT_CHECK_H
#define SNT_CHECK_H

#include <stdio.h>
#include <stdlib.h>
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

/* The shared reference folder, or NULL when absent. */
static const char *shared_dir(void) {
  const char *d = getenv("SENTIMENT_SHARED");
  if (!d) d = "../shared";
  struct stat st;
  return stat(d, &st) == 0 && S_ISDIR(st.st_mode) ? d : NULL;
}

#endif
