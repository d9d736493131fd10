/*
** fuzz_safetensors.c — snt_st_open_memory (core/safetensors.c) on arbitrary
** bytes: the 8-byte length, the JSON header, the data offsets. An accepted
** file must hold only tensors whose bytes lie inside the data section, whose
** size is numel × dtype size, that do not overlap, and that snt_st_find finds
** by name; F32/F16/BF16 ones convert (reading every byte), others are refused
** with SNT_ERR_UNSUPPORTED. Then every allocation fails in turn.
*/
#include "fuzz_model_common.h"
#include "safetensors.h"

static float scratch[4096];

static int by_data(const void *a, const void *b) {
  const snt_st_tensor *x = *(const snt_st_tensor *const *)a, *y = *(const snt_st_tensor *const *)b;
  return x->data < y->data ? -1 : x->data > y->data;
}

static int parse(const uint8_t *data, size_t size) {
  snt_error err = {0};
  snt_safetensors *st = snt_st_open_memory(data, size, &err);
  if (!st) {
    FUZZ_REQUIRE(err.code != SNT_OK && err.msg[0]);
    return err.code;
  }
  FUZZ_REQUIRE(size >= 8);
  uint64_t hlen = 0;
  memcpy(&hlen, data, 8);
  FUZZ_REQUIRE(hlen <= size - 8);
  const uint8_t *begin = data + 8 + hlen, *end = data + size;
  int n = snt_st_count(st);
  FUZZ_REQUIRE(n >= 0);
  const snt_st_tensor **sorted = malloc((size_t)(n ? n : 1) * sizeof *sorted);
  FUZZ_REQUIRE(sorted);
  int m = 0;
  for (int i = 0; i < n; i++) {
    const snt_st_tensor *t = snt_st_tensor_at(st, i);
    FUZZ_REQUIRE(t && t->name);
    FUZZ_REQUIRE(t->ndim >= 0 && t->ndim <= SNT_ST_MAX_DIMS);
    uint64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
      FUZZ_REQUIRE(t->shape[d] >= 0);
      numel *= (uint64_t)t->shape[d];
    }
    FUZZ_REQUIRE(numel == t->numel);
    size_t es = snt_dtype_size(t->dtype);
    FUZZ_REQUIRE(es > 0 && t->nbytes == numel * es);
    FUZZ_REQUIRE(t->data >= begin && t->data <= end && t->nbytes <= (size_t)(end - t->data));
    FUZZ_REQUIRE(snt_st_find(st, t->name) == t);
    if (numel <= sizeof scratch / sizeof scratch[0]) {
      int rc = snt_st_to_f32(t, scratch, &err);
      if (t->dtype == SNT_DT_F32 || t->dtype == SNT_DT_F16 || t->dtype == SNT_DT_BF16)
        FUZZ_REQUIRE(rc == SNT_OK);
      else
        FUZZ_REQUIRE(rc == SNT_ERR_UNSUPPORTED);
    }
    if (t->nbytes) sorted[m++] = t; /* empty tensors may sit anywhere */
  }
  qsort(sorted, (size_t)m, sizeof *sorted, by_data);
  for (int i = 1; i < m; i++)
    FUZZ_REQUIRE(sorted[i - 1]->data + sorted[i - 1]->nbytes <= sorted[i]->data);
  free(sorted);
  FUZZ_REQUIRE(snt_st_tensor_at(st, n) == NULL && snt_st_tensor_at(st, -1) == NULL);
  snt_st_close(st);
  return SNT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_with_faults(parse, data, size);
  return 0;
}
