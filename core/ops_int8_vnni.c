/*
** ops_int8_vnni.c — snt_q8_gemm's kernel for CPUs with AVX-512 VNNI
** (snt_have_vnni): the same integers as snt_q8_gemm_ref, bit for bit
** (tests/test_quant.c), in a third of AVX2's instructions.
**
** vpdpbusd multiplies 4 adjacent unsigned bytes of x by 4 signed bytes of w
** and adds the 4 products to an int32 lane, with no int16 step and no
** saturation (vpdpbusds is the saturating one): one instruction where AVX2
** needs vpmaddubsw, vpmaddwd and vpaddd (ops_int8_avx2.c). The int32 bound
** is ops_int8_avx2.c's: |acc| ≤ Kp · 127 · 127 < 2^31 for Kp ≤ 65,536, so
** no sum wraps and the order of additions cannot change the result.
**
** On 256-bit registers (AVX512VL), so the same Kp multiple of 32 needs no
** tail, and a 4-row × 4-output tile: 16 accumulators, 4 activation vectors
** and 1 weight vector, 21 of AVX-512's 32 registers.
*/
#include "quant.h"

#include "ops_int8_x86.h"

#ifdef SNT_X86

int snt_have_vnni(void) {
  static int have = -1;
  int h = __atomic_load_n(&have, __ATOMIC_RELAXED);
  if (h < 0) {
    __builtin_cpu_init(); /* libgcc also checks that the OS saves the AVX-512 state */
    h = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx2");
    __atomic_store_n(&have, h, __ATOMIC_RELAXED);
  }
  return h;
}

#define VNNI __attribute__((target("avx2,fma,avx512f,avx512vl,avx512vnni")))
#define DOT(acc, x, w) ((acc) = _mm256_dpbusd_epi32((acc), (x), (w)))

/* Rows x[0..4) (Kp apart) against the 4 weight rows at w: acc rows ld apart.
** Sixteen named accumulators, not an array: GCC keeps an array in memory. */
VNNI static void tile_4x4(int32_t *acc, size_t ld, const uint8_t *x, const int8_t *w, size_t Kp) {
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c02 = c00, c03 = c00;
  __m256i c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  __m256i c20 = c00, c21 = c00, c22 = c00, c23 = c00;
  __m256i c30 = c00, c31 = c00, c32 = c00, c33 = c00;
  for (size_t k = 0; k < Kp; k += 32) {
    __m256i v0 = LOAD(x + k), v1 = LOAD(x + Kp + k), v2 = LOAD(x + 2 * Kp + k),
            v3 = LOAD(x + 3 * Kp + k), wv;
#define COLUMN(j)                                                                                  \
  wv = LOAD(w + j * Kp + k);                                                                       \
  DOT(c0##j, v0, wv);                                                                              \
  DOT(c1##j, v1, wv);                                                                              \
  DOT(c2##j, v2, wv);                                                                              \
  DOT(c3##j, v3, wv)
    COLUMN(0);
    COLUMN(1);
    COLUMN(2);
    COLUMN(3);
#undef COLUMN
  }
  _mm_storeu_si128((__m128i *)(void *)acc, hsum4(c00, c01, c02, c03));
  _mm_storeu_si128((__m128i *)(void *)(acc + ld), hsum4(c10, c11, c12, c13));
  _mm_storeu_si128((__m128i *)(void *)(acc + 2 * ld), hsum4(c20, c21, c22, c23));
  _mm_storeu_si128((__m128i *)(void *)(acc + 3 * ld), hsum4(c30, c31, c32, c33));
}

/* One row x0 against the 4 weight rows at w. */
VNNI static void tile_1x4(int32_t *acc0, const uint8_t *x0, const int8_t *w, size_t Kp) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
  for (size_t k = 0; k < Kp; k += 32) {
    __m256i v0 = LOAD(x0 + k);
    DOT(c0, v0, LOAD(w + k));
    DOT(c1, v0, LOAD(w + Kp + k));
    DOT(c2, v0, LOAD(w + 2 * Kp + k));
    DOT(c3, v0, LOAD(w + 3 * Kp + k));
  }
  _mm_storeu_si128((__m128i *)(void *)acc0, hsum4(c0, c1, c2, c3));
}

/* One row against one weight row. */
VNNI static int32_t tile_1x1(const uint8_t *x0, const int8_t *w0, size_t Kp) {
  __m256i c = _mm256_setzero_si256();
  for (size_t k = 0; k < Kp; k += 32) DOT(c, LOAD(x0 + k), LOAD(w0 + k));
  return hsum1(c);
}

VNNI void snt_q8_gemm_vnni(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *w, int T, int N,
                           int Kp) {
  size_t K = (size_t)Kp, ld = (size_t)ldacc;
  int N4 = N & ~3;
  for (int o = 0; o < N4; o += 4) {
    const int8_t *wo = w + (size_t)o * K;
    int t = 0;
    for (; t + 3 < T; t += 4) tile_4x4(acc + t * ld + o, ld, x + t * K, wo, K);
    for (; t < T; t++) tile_1x4(acc + t * ld + o, x + t * K, wo, K);
  }
  for (int o = N4; o < N; o++)
    for (int t = 0; t < T; t++) acc[t * ld + o] = tile_1x1(x + t * K, w + (size_t)o * K, K);
}

#else /* not x86: never chosen (snt_have_vnni is 0) */

int snt_have_vnni(void) { return 0; }

void snt_q8_gemm_vnni(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *w, int T, int N,
                      int Kp) {
  snt_q8_gemm_ref(acc, ldacc, x, w, T, N, Kp);
}

#endif
