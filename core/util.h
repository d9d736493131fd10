/*
** util.h — what every file of core/ shares: the allocator
** (one place, so tests can count allocations and make any one of them fail),
** and reading a whole file.
**
** Internal to core/ and tests/: ext/ includes snt.h only.
*/
#ifndef SNT_UTIL_H
#define SNT_UTIL_H

#include <stddef.h>
#include <stdint.h>

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

/* Test hooks (tests/ only): make the k-th allocation from now fail (k ≥ 1;
** 0 turns failures off) and count the allocations made so far. */
void snt_alloc_fail_after(long k);
long snt_alloc_count(void);

#endif
