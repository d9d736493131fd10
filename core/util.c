/*
** util.c — errors, the allocator and whole-file reads shared by core/.
**
** The allocator is a thin wrapper over malloc so that a test build can make
** the k-th allocation fail (fault injection, tests/test_faults.c) and count
** allocations; in the shipped library the hook costs one relaxed atomic load.
*/
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static const char *file_kind(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  return "not a plain file";
}

int snt_open_regular(const char *path, int *fd, struct stat *st, snt_error *err) {
  /* O_NONBLOCK: opening a FIFO for reading would wait for a writer. */
  *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (*fd < 0)
    return snt_error_set(err, SNT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  if (fstat(*fd, st) != 0) {
    int e = errno;
    close(*fd);
    *fd = -1;
    return snt_error_set(err, SNT_ERR_IO, "cannot read '%s': %s", path, strerror(e));
  }
  if (!S_ISREG(st->st_mode)) {
    close(*fd);
    *fd = -1;
    const char *base = strrchr(path, '/');
    return snt_error_set(err, SNT_ERR_IO, "cannot read '%s': %s is not a regular file (%s)",
                         path, base ? base + 1 : path, file_kind(st->st_mode));
  }
  return SNT_OK;
}

int snt_pread_all(int fd, void *buf, size_t n, uint64_t off) {
  unsigned char *p = buf;
  while (n) {
    size_t want = n < (1u << 30) ? n : (1u << 30);
    ssize_t got = pread(fd, p, want, (off_t)off);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return -1;
    if (got == 0) {
      errno = 0; /* end of file: shorter than it was */
      return -1;
    }
    p += got;
    n -= (size_t)got;
    off += (uint64_t)got;
  }
  return 0;
}

int snt_read_file(const char *path, size_t max_bytes, char **out, size_t *n,
                  snt_error *err) {
  *out = NULL;
  *n = 0;
  int fd;
  struct stat st;
  int rc = snt_open_regular(path, &fd, &st, err);
  if (rc) return rc;
  if ((uint64_t)st.st_size > max_bytes) {
    close(fd);
    return snt_error_set(err, SNT_ERR_TOO_BIG, "'%s' is %lld bytes, over the limit of %zu",
                         path, (long long)st.st_size, max_bytes);
  }
  size_t size = (size_t)st.st_size;
  char *buf = snt_malloc(size + 1);
  if (!buf) {
    close(fd);
    return snt_error_set(err, SNT_ERR_NOMEM, "out of memory reading '%s'", path);
  }
  int failed = snt_pread_all(fd, buf, size, 0);
  int e = errno;
  close(fd);
  if (failed) {
    snt_free(buf);
    return snt_error_set(err, SNT_ERR_IO, "cannot read '%s': %s", path,
                         e ? strerror(e) : "shorter than its size (changed while read?)");
  }
  buf[size] = 0;
  *out = buf;
  *n = size;
  return SNT_OK;
}

/* ---- test hook ----------------------------------------------------------- */

static void (*open_hook)(const char *dir);

void snt_test_set_open_hook(void (*fn)(const char *dir)) {
  __atomic_store_n(&open_hook, fn, __ATOMIC_SEQ_CST);
}

void snt_test_open_hook(const char *dir) {
  void (*fn)(const char *) = __atomic_load_n(&open_hook, __ATOMIC_ACQUIRE);
  if (fn) fn(dir);
}
