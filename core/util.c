/*
** util.c — errors, the allocator and whole-file reads shared by core/.
**
** The allocator is a thin wrapper over malloc so that a test build can make
** the k-th allocation fail (fault injection, tests/test_faults.c) and count
** allocations; in the shipped library the hook costs one relaxed atomic load.
*/
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int snt_error_set(snt_error *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

/* Fault injection: when snt_fail_countdown reaches zero, that allocation fails. */
static long snt_fail_countdown = 0; /* 0 = never fail */
static long snt_alloc_calls = 0;

void snt_alloc_fail_after(long k) { __atomic_store_n(&snt_fail_countdown, k, __ATOMIC_SEQ_CST); }
long snt_alloc_count(void) { return __atomic_load_n(&snt_alloc_calls, __ATOMIC_SEQ_CST); }

static int alloc_should_fail(void) {
  __atomic_add_fetch(&snt_alloc_calls, 1, __ATOMIC_RELAXED);
  if (__atomic_load_n(&snt_fail_countdown, __ATOMIC_RELAXED) == 0) return 0;
  return __atomic_sub_fetch(&snt_fail_countdown, 1, __ATOMIC_SEQ_CST) == 0;
}

void *snt_malloc(size_t n) {
  if (alloc_should_fail()) return NULL;
  return malloc(n ? n : 1);
}

void *snt_calloc(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  if (alloc_should_fail()) return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

void *snt_realloc(void *p, size_t n) {
  if (alloc_should_fail()) return NULL;
  return realloc(p, n ? n : 1);
}

void snt_free(void *p) { free(p); }

char *snt_strndup(const char *s, size_t n) {
  char *d = snt_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}

int snt_read_file(const char *path, size_t max_bytes, char **out, size_t *n,
                  snt_error *err) {
  *out = NULL;
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return snt_error_set(err, SNT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return snt_error_set(err, SNT_ERR_IO, "cannot read '%s': not a regular file", path);
  }
  if ((uint64_t)st.st_size > max_bytes) {
    fclose(f);
    return snt_error_set(err, SNT_ERR_TOO_BIG, "'%s' is %lld bytes, over the limit of %zu",
                         path, (long long)st.st_size, max_bytes);
  }
  size_t size = (size_t)st.st_size;
  char *buf = snt_malloc(size + 1);
  if (!buf) {
    fclose(f);
    return snt_error_set(err, SNT_ERR_NOMEM, "out of memory reading '%s'", path);
  }
  size_t got = fread(buf, 1, size, f);
  int failed = ferror(f);
  fclose(f);
  if (failed || got != size) {
    snt_free(buf);
    return snt_error_set(err, SNT_ERR_IO, "cannot read '%s': short read", path);
  }
  buf[size] = 0;
  *out = buf;
  *n = size;
  return SNT_OK;
}
