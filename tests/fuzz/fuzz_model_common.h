/*
** fuzz_model_common.h — what the model-file fuzz targets (issue 7) share:
** FUZZ_REQUIRE (a broken invariant is a crash the fuzzer keeps) and a replay
** of each parse with every allocation failing in turn, which must fail cleanly
** (an error code, no leak — LeakSanitizer runs in the fuzzer).
*/
#ifndef SNT_FUZZ_MODEL_COMMON_H
#define SNT_FUZZ_MODEL_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snt.h"
#include "util.h"

#define FUZZ_REQUIRE(cond) \
  do {                     \
    if (!(cond)) __builtin_trap(); \
  } while (0)

/* Replays with an allocation failure: at most this many allocations per input. */
#define FUZZ_MAX_FAULTS 32

/* Run parse(data, size) once counting allocations (it returns the error code,
** SNT_OK on success, and cleans up after itself); then again with allocation
** k failing for each k. A failed allocation must give SNT_ERR_NOMEM, or the
** error the input gave anyway when that error comes first. */
static void fuzz_with_faults(int (*parse)(const uint8_t *, size_t), const uint8_t *data,
                             size_t size) {
  long before = snt_alloc_count();
  int rc0 = parse(data, size);
  long allocs = snt_alloc_count() - before;
  if (allocs > FUZZ_MAX_FAULTS) allocs = FUZZ_MAX_FAULTS;
  for (long k = 1; k <= allocs; k++) {
    snt_alloc_fail_after(k);
    int rc = parse(data, size);
    snt_alloc_fail_after(0);
    FUZZ_REQUIRE(rc == SNT_ERR_NOMEM || (rc0 != SNT_OK && rc == rc0));
  }
}

#endif
