/*
** safetensors.c — read a .safetensors file's header and validate it; read
** its tensors as F32. See safetensors.h for the format and what is checked.
**
** Two ways to open a file:
**   - read (the default for models): the header is pread() into memory and
**     each tensor is pread() straight into the caller's F32 buffer
**     (snt_st_load_f32; F16/BF16 through a small bounce buffer). No byte of
**     the file is ever mapped, so a file truncated or rewritten while it is
**     read gives a short read or a changed fstat — an error — never SIGBUS.
**   - map: the file is mapped read-only (MAP_PRIVATE) and tensors point into
**     the mapping (model.c uses F32 ones in place, so only the pages a
**     forward pass touches become resident). The descriptor stays open with
**     the size and mtime the file had when it was opened, so that
**     snt_st_check can tell a file truncated or rewritten in place.
** Nothing here trusts a byte of the file: every offset is checked against
** the data size before any pointer or read is formed from it.
*/
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; F32 tensors are used in place"
#endif

struct snt_safetensors {
  void *map;                  /* the mmap'd file; NULL for a buffer or a read file */
  size_t map_len;
  unsigned char *hdr;         /* read mode: the first 8 + header-length bytes */
  snt_json_doc *doc;          /* the header; tensor names point into it */
  snt_st_tensor *t;           /* (n), sorted by name */
  int n;
  int fd;                     /* the file, held open; -1 for a buffer */
  struct stat sb;             /* its fstat at open: size, mtime, inode, device */
  char path[];                /* the path it was opened by ("" for a buffer) */
};

static const struct {
  const char *name;
  snt_dtype dt;
  size_t size;
} dtypes[] = {
  {"F32", SNT_DT_F32, 4},   {"F16", SNT_DT_F16, 2},   {"BF16", SNT_DT_BF16, 2},
  {"F64", SNT_DT_F64, 8},   {"I64", SNT_DT_I64, 8},   {"I32", SNT_DT_I32, 4},
  {"I16", SNT_DT_I16, 2},   {"I8", SNT_DT_I8, 1},     {"U64", SNT_DT_U64, 8},
  {"U32", SNT_DT_U32, 4},   {"U16", SNT_DT_U16, 2},   {"U8", SNT_DT_U8, 1},
  {"BOOL", SNT_DT_BOOL, 1}, {"F8_E4M3", SNT_DT_F8_E4M3, 1},
  {"F8_E5M2", SNT_DT_F8_E5M2, 1},
};
#define N_DTYPES (sizeof dtypes / sizeof dtypes[0])

const char *snt_dtype_name(snt_dtype dt) {
  for (size_t i = 0; i < N_DTYPES; i++)
    if (dtypes[i].dt == dt) return dtypes[i].name;
  return "?";
}

size_t snt_dtype_size(snt_dtype dt) {
  for (size_t i = 0; i < N_DTYPES; i++)
    if (dtypes[i].dt == dt) return dtypes[i].size;
  return 0;
}

static int dtype_parse(const snt_json *s, snt_dtype *out) {
  for (size_t i = 0; i < N_DTYPES; i++)
    if (strlen(dtypes[i].name) == s->len && memcmp(dtypes[i].name, s->str, s->len) == 0) {
      *out = dtypes[i].dt;
      return 1;
    }
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const snt_st_tensor *)a)->name, ((const snt_st_tensor *)b)->name);
}

static int by_offset(const void *a, const void *b) {
  const snt_st_tensor *x = *(const snt_st_tensor *const *)a;
  const snt_st_tensor *y = *(const snt_st_tensor *const *)b;
  if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
  return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

/* One header entry → t. The data section (size bytes) starts at file offset
** base; data points at it, or is NULL when the data is not in memory. */
static int parse_tensor(const char *src, const snt_json *e, const unsigned char *data,
                        uint64_t base, size_t size, snt_st_tensor *t, snt_error *err) {
  const char *name = e->key;
  if (e->type != SNT_JSON_OBJECT)
    return snt_error_set(err, SNT_ERR_FORMAT, "%s: tensor '%s': entry is not an object", src, name);
  const snt_json *dt = snt_json_get(e, "dtype");
  const snt_json *shape = snt_json_get(e, "shape");
  const snt_json *offs = snt_json_get(e, "data_offsets");
  if (!dt || dt->type != SNT_JSON_STRING)
    return snt_error_set(err, SNT_ERR_FORMAT, "%s: tensor '%s': no dtype string", src, name);
  if (!dtype_parse(dt, &t->dtype))
    return snt_error_set(err, SNT_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported dtype '%.32s'",
                         src, name, dt->str);
  if (!shape || shape->type != SNT_JSON_ARRAY)
    return snt_error_set(err, SNT_ERR_FORMAT, "%s: tensor '%s': no shape array", src, name);
  if (shape->n > SNT_ST_MAX_DIMS)
    return snt_error_set(err, SNT_ERR_UNSUPPORTED, "%s: tensor '%s': %d dimensions (at most %d)",
                         src, name, shape->n, SNT_ST_MAX_DIMS);
  t->ndim = 0;
  t->numel = 1;
  for (const snt_json *d = shape->child; d; d = d->next) {
    if (d->type != SNT_JSON_NUMBER || !d->is_int || d->i < 0)
      return snt_error_set(err, SNT_ERR_FORMAT,
                           "%s: tensor '%s': shape holds something other than a non-negative integer",
                           src, name);
    if (__builtin_mul_overflow(t->numel, (uint64_t)d->i, &t->numel))
      return snt_error_set(err, SNT_ERR_FORMAT, "%s: tensor '%s': element count overflows", src, name);
    t->shape[t->ndim++] = d->i;
  }
  if (!offs || offs->type != SNT_JSON_ARRAY || offs->n != 2 ||
      offs->child->type != SNT_JSON_NUMBER || !offs->child->is_int ||
      offs->child->next->type != SNT_JSON_NUMBER || !offs->child->next->is_int)
    return snt_error_set(err, SNT_ERR_FORMAT, "%s: tensor '%s': data_offsets is not two integers",
                         src, name);
  int64_t begin = offs->child->i, end = offs->child->next->i;
  if (begin < 0 || end < begin || (uint64_t)end > size)
    return snt_error_set(err, SNT_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets [%lld, %lld] out of range (data is %zu bytes)",
                         src, name, (long long)begin, (long long)end, size);
  uint64_t nbytes;
  if (__builtin_mul_overflow(t->numel, (uint64_t)snt_dtype_size(t->dtype), &nbytes))
    return snt_error_set(err, SNT_ERR_FORMAT, "%s: tensor '%s': byte size overflows", src, name);
  if (nbytes != (uint64_t)(end - begin))
    return snt_error_set(err, SNT_ERR_FORMAT,
                         "%s: tensor '%s': data_offsets span %lld bytes, but dtype %s with %llu "
                         "elements needs %llu",
                         src, name, (long long)(end - begin), snt_dtype_name(t->dtype),
                         (unsigned long long)t->numel, (unsigned long long)nbytes);
  t->name = name;
  t->offset = base + (uint64_t)begin;
  t->data = data ? data + begin : NULL;
  t->nbytes = (size_t)nbytes;
  return SNT_OK;
}

/* Parse and check the header of a file of n bytes into st; buf holds its
** first 8 + header-length bytes at least, all n when have_data. src names it
** in errors. */
static int parse(snt_safetensors *st, const char *src, const unsigned char *buf, size_t n,
                 int have_data, snt_error *err) {
  int rc = SNT_OK;
  const snt_st_tensor **order = NULL;
  if (n < 8) {
    rc = snt_error_set(err, SNT_ERR_FORMAT, "%s: %zu bytes, too short for a safetensors file", src, n);
    goto done;
  }
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | buf[i];
  if (hlen > SNT_ST_MAX_HEADER || hlen > n - 8) {
    rc = snt_error_set(err, SNT_ERR_FORMAT,
                       "%s: header length %llu is past the end of the file (%zu bytes) or over 100 MB",
                       src, (unsigned long long)hlen, n);
    goto done;
  }
  const unsigned char *data = have_data ? buf + 8 + hlen : NULL;
  size_t size = n - 8 - (size_t)hlen;
  snt_error jerr = {0};
  st->doc = snt_json_parse((const char *)buf + 8, (size_t)hlen, &jerr);
  if (!st->doc) {
    rc = snt_error_set(err, jerr.code, "%s: header is not JSON: %s", src, jerr.msg);
    goto done;
  }
  const snt_json *root = snt_json_root(st->doc);
  if (root->type != SNT_JSON_OBJECT) {
    rc = snt_error_set(err, SNT_ERR_FORMAT, "%s: header is not a JSON object", src);
    goto done;
  }
  st->t = snt_calloc((size_t)root->n + 1, sizeof *st->t);
  if (!st->t) {
    rc = snt_error_set(err, SNT_ERR_NOMEM, "%s: out of memory for %d tensors", src, root->n);
    goto done;
  }
  for (const snt_json *e = root->child; e; e = e->next) {
    if (strlen(e->key) != e->key_len || e->key_len == 0) {
      rc = snt_error_set(err, SNT_ERR_FORMAT, "%s: a tensor name is empty or holds a NUL", src);
      goto done;
    }
    if (strcmp(e->key, "__metadata__") == 0) {
      if (e->type != SNT_JSON_OBJECT) {
        rc = snt_error_set(err, SNT_ERR_FORMAT, "%s: __metadata__ is not an object", src);
        goto done;
      }
      continue;
    }
    rc = parse_tensor(src, e, data, 8 + hlen, size, &st->t[st->n], err);
    if (rc) goto done;
    st->n++;
  }
  qsort(st->t, (size_t)st->n, sizeof *st->t, by_name);
  for (int i = 1; i < st->n; i++)
    if (strcmp(st->t[i - 1].name, st->t[i].name) == 0) {
      rc = snt_error_set(err, SNT_ERR_FORMAT, "%s: tensor '%s' appears twice", src, st->t[i].name);
      goto done;
    }
  order = snt_calloc((size_t)st->n + 1, sizeof *order);
  if (!order) {
    rc = snt_error_set(err, SNT_ERR_NOMEM, "%s: out of memory", src);
    goto done;
  }
  for (int i = 0; i < st->n; i++) order[i] = &st->t[i];
  qsort(order, (size_t)st->n, sizeof *order, by_offset);
  /* Sorted by begin: each non-empty tensor must start at or after the end of
  ** the previous non-empty one. */
  const snt_st_tensor *prev = NULL;
  for (int i = 0; i < st->n; i++) {
    if (order[i]->nbytes == 0) continue;
    if (prev && order[i]->offset < prev->offset + prev->nbytes) {
      rc = snt_error_set(err, SNT_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", src,
                         prev->name, order[i]->name);
      goto done;
    }
    prev = order[i];
  }
done:
  snt_free(order);
  return rc;
}

static snt_safetensors *open_buffer(snt_safetensors *st, const char *src, const void *buf,
                                    size_t n, int have_data, snt_error *err) {
  if (parse(st, src, buf, n, have_data, err) != SNT_OK) {
    snt_st_close(st);
    return NULL;
  }
  return st;
}

snt_safetensors *snt_st_open_memory(const void *buf, size_t n, snt_error *err) {
  if (!buf && n) {
    snt_error_set(err, SNT_ERR_ARG, "safetensors buffer is NULL");
    return NULL;
  }
  snt_safetensors *st = snt_calloc(1, sizeof *st + 1);
  if (!st) {
    snt_error_set(err, SNT_ERR_NOMEM, "out of memory");
    return NULL;
  }
  st->fd = -1;
  return open_buffer(st, "safetensors buffer", buf ? buf : "", n, 1, err);
}

/* Under a quarter of the file's size allocated on disk: mostly holes. A
** sparse file costs nothing to make and claims any size; reading its holes
** gives zeros at memory speed, and a mapping of it is unbounded. Files under
** 1 MiB are not judged (some file systems keep small files inline). */
#define SPARSE_MIN_SIZE (1u << 20)

/* The header of a file being read (not mapped) into st->hdr. */
static int read_header(snt_safetensors *st, size_t n, snt_error *err) {
  unsigned char len8[8];
  if (snt_pread_all(st->fd, len8, 8, 0) != 0)
    return snt_error_set(err, SNT_ERR_IO, "cannot read '%s': %s", st->path,
                         errno ? strerror(errno) : "shorter than its size");
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | len8[i];
  if (hlen > SNT_ST_MAX_HEADER || hlen > n - 8)
    return snt_error_set(err, SNT_ERR_FORMAT,
                         "%s: header length %llu is past the end of the file (%zu bytes) or over "
                         "100 MB", st->path, (unsigned long long)hlen, n);
  st->hdr = snt_malloc(8 + (size_t)hlen);
  if (!st->hdr) return snt_error_set(err, SNT_ERR_NOMEM, "out of memory opening '%s'", st->path);
  memcpy(st->hdr, len8, 8);
  if (hlen && snt_pread_all(st->fd, st->hdr + 8, (size_t)hlen, 8) != 0)
    return snt_error_set(err, SNT_ERR_IO, "cannot read '%s': %s", st->path,
                         errno ? strerror(errno) : "shorter than its size");
  return SNT_OK;
}

snt_safetensors *snt_st_open_ex(const char *path, int map, snt_error *err) {
  snt_safetensors *st = NULL;
  int fd;
  struct stat sb;
  if (snt_open_regular(path, &fd, &sb, err) != SNT_OK) return NULL;
  size_t n = (size_t)sb.st_size;
  if (n < 8) {
    snt_error_set(err, SNT_ERR_FORMAT, "%s: %zu bytes, too short for a safetensors file", path, n);
    goto done;
  }
  if (n >= SPARSE_MIN_SIZE && (uint64_t)sb.st_blocks * 512 < n / 4) {
    snt_error_set(err, SNT_ERR_FORMAT,
                  "%s: a sparse file (%zu bytes, of which %llu are on disk): mostly holes, not "
                  "a model", path, n, (unsigned long long)sb.st_blocks * 512);
    goto done;
  }
  /* The path rides in the same allocation (for messages). */
  size_t path_len = strlen(path);
  st = snt_calloc(1, sizeof *st + path_len + 1);
  if (!st) {
    snt_error_set(err, SNT_ERR_NOMEM, "out of memory opening '%s'", path);
    goto done;
  }
  memcpy(st->path, path, path_len + 1);
  st->sb = sb;
  st->fd = fd; /* snt_st_close closes it, on error too */
  fd = -1;
  if (!map) {
    if (read_header(st, n, err) != SNT_OK) {
      snt_st_close(st);
      return NULL;
    }
    return open_buffer(st, path, st->hdr, n, 0, err);
  }
  void *m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, st->fd, 0);
  if (m == MAP_FAILED) {
    snt_error_set(err, SNT_ERR_IO, "cannot map '%s': %s", path, strerror(errno));
    snt_st_close(st);
    return NULL;
  }
  st->map = m;
  st->map_len = n;
  return open_buffer(st, path, m, n, 1, err);
done:
  if (fd >= 0) close(fd);
  return st;
}

snt_safetensors *snt_st_open(const char *path, snt_error *err) {
  return snt_st_open_ex(path, 1, err);
}

void snt_st_close(snt_safetensors *st) {
  if (!st) return;
  if (st->map) munmap(st->map, st->map_len);
  if (st->fd >= 0) close(st->fd);
  snt_free(st->hdr);
  snt_json_free(st->doc);
  snt_free(st->t);
  snt_free(st);
}

int snt_st_mapped(const snt_safetensors *st) { return st && st->map; }

int snt_st_check(const snt_safetensors *st, snt_error *err) {
  if (!st) return snt_error_set(err, SNT_ERR_ARG, "snt_st_check: NULL");
  if (st->fd < 0) return SNT_OK; /* a memory buffer: nothing on disk to change */
  struct stat now;
  if (fstat(st->fd, &now) != 0)
    return snt_error_set(err, SNT_ERR_CHANGED,
                         "model file '%.700s' cannot be checked while loaded: %s", st->path,
                         strerror(errno));
  if (now.st_size == st->sb.st_size && now.st_mtim.tv_sec == st->sb.st_mtim.tv_sec &&
      now.st_mtim.tv_nsec == st->sb.st_mtim.tv_nsec)
    return SNT_OK;
  return snt_error_set(err, SNT_ERR_CHANGED,
                       "model file '%.700s' was changed on disk while loaded (truncated or "
                       "rewritten in place: %lld bytes, was %lld); replace model files by "
                       "rename (mv) and load the model again",
                       st->path, (long long)now.st_size, (long long)st->sb.st_size);
}

int snt_st_count(const snt_safetensors *st) { return st->n; }

const snt_st_tensor *snt_st_tensor_at(const snt_safetensors *st, int i) {
  return i >= 0 && i < st->n ? &st->t[i] : NULL;
}

const snt_st_tensor *snt_st_find(const snt_safetensors *st, const char *name) {
  snt_st_tensor key = {.name = name};
  return st->n ? bsearch(&key, st->t, (size_t)st->n, sizeof *st->t, by_name) : NULL;
}

float snt_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | man << 13;             /* inf, NaN */
  } else if (exp != 0) {
    bits = sign | (exp + 112) << 23 | man << 13;       /* normal: rebias 15 → 127 */
  } else if (man == 0) {
    bits = sign;                                       /* ±0 */
  } else {                                             /* subnormal: man × 2^-24 */
    int e = 0;
    while (!(man & 0x400)) {
      man <<= 1;
      e++;
    }
    bits = sign | (uint32_t)(113 - e) << 23 | (man & 0x3ff) << 13;
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

float snt_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static int snt_to_f32_unsupported(const snt_st_tensor *t, snt_error *err) {
  return snt_error_set(err, SNT_ERR_UNSUPPORTED,
                       "%s: dtype %s is not supported for weights (F32, F16 or BF16)", t->name,
                       snt_dtype_name(t->dtype));
}

static void convert(snt_dtype dt, const unsigned char *p, float *dst, size_t n);

int snt_st_to_f32(const snt_st_tensor *t, float *dst, snt_error *err) {
  switch (t->dtype) {
  case SNT_DT_F32:
    if (t->nbytes) memcpy(dst, t->data, t->nbytes);
    return SNT_OK;
  case SNT_DT_F16:
  case SNT_DT_BF16:
    convert(t->dtype, t->data, dst, (size_t)t->numel);
    return SNT_OK;
  default:
    return snt_to_f32_unsupported(t, err);
  }
}

/* F16/BF16 bits little-endian at p → n floats. */
static void convert(snt_dtype dt, const unsigned char *p, float *dst, size_t n) {
  if (dt == SNT_DT_F16)
    for (size_t i = 0; i < n; i++) dst[i] = snt_f16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
  else
    for (size_t i = 0; i < n; i++) dst[i] = snt_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
}

static int read_failed(const snt_safetensors *st, const snt_st_tensor *t, snt_error *err) {
  if (errno)
    return snt_error_set(err, SNT_ERR_IO, "cannot read tensor %s from '%s': %s", t->name,
                         st->path, strerror(errno));
  return snt_error_set(err, SNT_ERR_CHANGED,
                       "model file '%s' ended before tensor %s: it was truncated while being "
                       "loaded", st->path, t->name);
}

int snt_st_load_f32(const snt_safetensors *st, const snt_st_tensor *t, float *dst,
                    snt_error *err) {
  if (t->data) return snt_st_to_f32(t, dst, err);
  if (t->dtype == SNT_DT_F32) {
    if (t->nbytes && snt_pread_all(st->fd, dst, t->nbytes, t->offset) != 0)
      return read_failed(st, t, err);
    return SNT_OK;
  }
  if (t->dtype != SNT_DT_F16 && t->dtype != SNT_DT_BF16)
    return snt_to_f32_unsupported(t, err);
  unsigned char buf[1 << 14]; /* on the stack of any host thread: keep it small */
  for (uint64_t i = 0; i < t->numel;) {
    size_t k = t->numel - i < sizeof buf / 2 ? (size_t)(t->numel - i) : sizeof buf / 2;
    if (snt_pread_all(st->fd, buf, 2 * k, t->offset + 2 * i) != 0) return read_failed(st, t, err);
    convert(t->dtype, buf, dst + i, k);
    i += k;
  }
  return SNT_OK;
}
