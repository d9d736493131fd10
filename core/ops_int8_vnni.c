/*
** ops_int8_vnni.c — snt_q8_gemm_packed's kernel for CPUs with AVX-512 VNNI
** (snt_have_vnni): the same integers as snt_q8_gemm_packed_ref, bit for bit
** (tests/test_quant.c).
**
** vpdpbusd multiplies 4 adjacent unsigned bytes of x by 4 signed bytes of w
** and adds the 4 products to an int32 lane, with no int16 step and no
** saturation (vpdpbusds is the saturating one): one instruction where AVX2
** needs vpmaddubsw, vpmaddwd and vpaddd (ops_int8_avx2.c). The int32 bound
** is ops_int8_avx2.c's: |acc| ≤ Kp · 127 · 127 < 2^31 for Kp ≤ 65,536, so
** no sum wraps and the order of additions cannot change the result.
**
** Layout (snt_q8_pack): the weights in blocks of 16 outputs; inside a block,
** for every 4 inputs, 64 bytes: output 0's 4 bytes, output 1's, … output 15's.
** One 512-bit load is then 16 outputs × 4 inputs, and one vpdpbusd against 4
** bytes of an activation row broadcast to every lane adds 4 products to each
** of 16 outputs: the accumulators hold output columns, no horizontal sums.
** A tile is 6 rows × 32 outputs: 12 accumulators; per 4 inputs 2 weight
** loads, 6 broadcasts and 12 vpdpbusd (as MLAS's AVX-512 kernels do).
** The product of a 4 × 4 tile of rows against rows (the AVX2 layout) on
** VNNI was measured first: 173–230 GOP/s on one core, against a peak here of
** 453 (3.5 G vpdpbusd/s on 512-bit registers), held back by its horizontal
** sums and loads.
*/
#include "quant.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SNT_X86 1
#endif

#ifdef SNT_X86

int snt_have_vnni(void) {
  static int have = -1;
  int h = __atomic_load_n(&have, __ATOMIC_RELAXED);
  if (h < 0) {
    __builtin_cpu_init(); /* libgcc also checks that the OS saves the AVX-512 state */
    h = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2");
    __atomic_store_n(&have, h, __ATOMIC_RELAXED);
  }
  return h;
}

#define VNNI __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni")))
#define W64(p) _mm512_loadu_si512((const void *)(p))
#define DOT(acc, a, b) ((acc) = _mm512_dpbusd_epi32((acc), (a), (b)))

/* 4 bytes of x broadcast to every 32-bit lane. */
VNNI static inline __m512i bcast4(const uint8_t *x) {
  int32_t v;
  memcpy(&v, x, sizeof v);
  return _mm512_set1_epi32(v);
}

/* Rows x[0..6) (Kp apart) against the 32 outputs whose two packed blocks
** start at w: acc (6, 32), rows ld apart. Named accumulators: GCC keeps an
** array in memory. */
VNNI static void tile_6x32(int32_t *acc, size_t ld, const uint8_t *x, const int8_t *w, size_t Kp) {
  __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m512i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const int8_t *w1 = w + 16 * Kp;
  for (size_t k = 0; k < Kp; k += 4) {
    __m512i b0 = W64(w + 16 * k), b1 = W64(w1 + 16 * k), a;
#define ROW(r)                \
  a = bcast4(x + r * Kp + k); \
  DOT(c##r##0, a, b0);        \
  DOT(c##r##1, a, b1)
    ROW(0);
    ROW(1);
    ROW(2);
    ROW(3);
    ROW(4);
    ROW(5);
#undef ROW
  }
#define STORE(r)                                        \
  _mm512_storeu_si512((void *)(acc + r * ld), c##r##0); \
  _mm512_storeu_si512((void *)(acc + r * ld + 16), c##r##1)
  STORE(0);
  STORE(1);
  STORE(2);
  STORE(3);
  STORE(4);
  STORE(5);
#undef STORE
}

/* One row against the same 32 outputs. */
VNNI static void tile_1x32(int32_t *acc, const uint8_t *x, const int8_t *w, size_t Kp) {
  __m512i c0 = _mm512_setzero_si512(), c1 = c0;
  const int8_t *w1 = w + 16 * Kp;
  for (size_t k = 0; k < Kp; k += 4) {
    __m512i a = bcast4(x + k);
    DOT(c0, a, W64(w + 16 * k));
    DOT(c1, a, W64(w1 + 16 * k));
  }
  _mm512_storeu_si512((void *)acc, c0);
  _mm512_storeu_si512((void *)(acc + 16), c1);
}

VNNI void snt_q8_gemm_vnni(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *wp, int T,
                           int N, int Kp) {
  size_t K = (size_t)Kp, ld = (size_t)ldacc;
  int Np = snt_q8_pack_rows(N);
  for (int o = 0; o < Np; o += 32) {
    const int8_t *wo = wp + (size_t)o * K; /* its two blocks */
    int t = 0;
    for (; t + 5 < T; t += 6) tile_6x32(acc + t * ld + o, ld, x + t * K, wo, K);
    for (; t < T; t++) tile_1x32(acc + t * ld + o, x + t * K, wo, K);
  }
}

#else /* not x86: never chosen (snt_have_vnni is 0) */

int snt_have_vnni(void) { return 0; }

void snt_q8_gemm_vnni(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *wp, int T, int N,
                      int Kp) {
  snt_q8_gemm_packed_ref(acc, ldacc, x, wp, T, N, Kp);
}

#endif
