/*
** util.h — what every file of core/ shares: the allocator
** (one place, so tests can count allocations and make any one of them fail),
** and opening and reading files (non-blocking, regular files only).
**
** Internal to core/ and tests/: ext/ includes snt.h only.
*/
#ifndef SNT_UTIL_H
#define SNT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <sys/stat.h>

#include "snt.h"

/* snt_error_set is in snt.h (ext/ sets errors too). */

/* Every allocation in core/ goes through these (never malloc directly).
** snt_malloc(0) returns a valid pointer. snt_free(NULL) is a no-op. */
void *snt_malloc(size_t n);
void *snt_calloc(size_t count, size_t size);   /* NULL on count*size overflow */
void *snt_realloc(void *p, size_t n);
void snt_free(void *p);
char *snt_strndup(const char *s, size_t n);    /* always NUL-terminated */

/* Read the whole file at path into a new buffer (NUL-terminated; *n excludes
** the NUL). Fails with SNT_ERR_IO naming the path and strerror(errno), or
** SNT_ERR_TOO_BIG past max_bytes. Caller frees *out with snt_free. */
int snt_read_file(const char *path, size_t max_bytes, char **out, size_t *n,
                  snt_error *err);

/* Open path read-only, non-blocking (a FIFO does not wait for a writer),
** close-on-exec, and fstat it into *st: SNT_OK with *fd open on a regular
** file; else SNT_ERR_IO naming the path and, when it is not a regular file,
** what it is ("config.json is not a regular file (a FIFO)"), *fd -1. */
int snt_open_regular(const char *path, int *fd, struct stat *st, snt_error *err);
/* Read exactly n bytes at offset off of fd (EINTR and short reads retried).
** 0, or -1 with errno set (0 when the file ended first). */
int snt_pread_all(int fd, void *buf, size_t n, uint64_t off);

/* Test hook (tests/ only): fn(dir) is called as snt_model_open_ex starts,
** so that a test can make a load slow (NULL: none). */
void snt_test_set_open_hook(void (*fn)(const char *dir));
void snt_test_open_hook(const char *dir);

/* Test hooks (tests/ only): make the k-th allocation from now fail (k ≥ 1;
** 0 turns failures off) and count the allocations made so far. */
void snt_alloc_fail_after(long k);
long snt_alloc_count(void);

#endif
