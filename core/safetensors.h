/*
** safetensors.h — a validated, read-only view of a .safetensors file.
**
**   [u64 little-endian header length N][N bytes of JSON header][data]
**
** The header maps tensor names to {dtype, shape, data_offsets: [begin, end]}
** (offsets relative to the start of data), plus an optional __metadata__.
** Everything in it is checked before anything is used: header length
** ≤ 100 MB and ≤ file size − 8; each tensor's dtype known, shape
** non-negative, begin ≤ end ≤ data size, end − begin = numel × dtype size
** (overflow-checked), no two tensors overlapping, no duplicate names.
**
** Internal to core/ (model.c and the tests).
*/
#ifndef SNT_SAFETENSORS_H
#define SNT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "snt.h"

#define SNT_ST_MAX_HEADER (100u * 1024 * 1024)
#define SNT_ST_MAX_DIMS 8

/* Dtypes whose sizes we know. Only F32, F16 and BF16 can be turned into
** model weights; the others are validated (for size and overlap) and may sit
** in the file as extras (e.g. an I64 position_ids buffer). */
typedef enum {
  SNT_DT_F32 = 1, SNT_DT_F16, SNT_DT_BF16, SNT_DT_F64,
  SNT_DT_I64, SNT_DT_I32, SNT_DT_I16, SNT_DT_I8,
  SNT_DT_U64, SNT_DT_U32, SNT_DT_U16, SNT_DT_U8, SNT_DT_BOOL,
  SNT_DT_F8_E4M3, SNT_DT_F8_E5M2
} snt_dtype;

typedef struct snt_st_tensor {
  const char *name;                /* NUL-terminated, points into the parsed header */
  snt_dtype dtype;
  int ndim;
  int64_t shape[SNT_ST_MAX_DIMS];
  uint64_t numel;
  uint64_t offset;                 /* of its first byte in the file */
  const unsigned char *data;       /* into the data section; NULL when the file is read, not mapped */
  size_t nbytes;
} snt_st_tensor;

typedef struct snt_safetensors snt_safetensors;

/* Open path and validate its header. map 1: map it read-only (tensors'
** data point into the mapping); map 0: read the header only, tensors are read
** by snt_st_load_f32 (data NULL). Either way the file must be regular (opened
** non-blocking: a FIFO is refused, not waited on) and, from 1 MiB, not mostly
** holes (a quarter of its size allocated at least). NULL with err set on
** failure (SNT_ERR_IO, SNT_ERR_FORMAT, SNT_ERR_UNSUPPORTED, SNT_ERR_NOMEM). */
snt_safetensors *snt_st_open_ex(const char *path, int map, snt_error *err);
/* snt_st_open_ex(path, 1, err). */
snt_safetensors *snt_st_open(const char *path, snt_error *err);
/* The same over buf[0..n), which must outlive the result (not copied). */
snt_safetensors *snt_st_open_memory(const void *buf, size_t n, snt_error *err);
/* Unmaps the file and closes its descriptor (held open since snt_st_open). */
void snt_st_close(snt_safetensors *st);
/* 1 when st's data is a mapping of a file (snt_st_open_ex with map 1). */
int snt_st_mapped(const snt_safetensors *st);

/* SNT_OK when the file still has the size and mtime it had at
** snt_st_open (one fstat of the held descriptor, no allocation), or when st
** is over a memory buffer. Otherwise SNT_ERR_CHANGED naming the path: the
** file was truncated or rewritten in place, and reading the mapping may
** SIGBUS (past a new end) or see other bytes. A file replaced by rename is
** not "changed": the descriptor and the mapping hold the old inode. */
int snt_st_check(const snt_safetensors *st, snt_error *err);

int snt_st_count(const snt_safetensors *st);
const snt_st_tensor *snt_st_tensor_at(const snt_safetensors *st, int i);
/* The tensor called name; NULL when absent. */
const snt_st_tensor *snt_st_find(const snt_safetensors *st, const char *name);

const char *snt_dtype_name(snt_dtype dt);
size_t snt_dtype_size(snt_dtype dt);

/* Write t's numel values as F32 into dst (F32 copied, F16/BF16 converted);
** t->data must not be NULL. SNT_ERR_UNSUPPORTED (naming the tensor) for any
** other dtype. */
int snt_st_to_f32(const snt_st_tensor *t, float *dst, snt_error *err);
/* The same for a tensor of st, from memory or read from the file: a read
** that ends early is SNT_ERR_CHANGED (the file was truncated meanwhile), a
** failing one SNT_ERR_IO, both naming the tensor and the file. */
int snt_st_load_f32(const snt_safetensors *st, const snt_st_tensor *t, float *dst,
                    snt_error *err);

/* IEEE half and bfloat16 bit patterns to float (exact; subnormals, ±inf, NaN). */
float snt_f16_to_f32(uint16_t h);
float snt_bf16_to_f32(uint16_t h);

#endif
