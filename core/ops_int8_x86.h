/*
** ops_int8_x86.h — what the x86 int8 kernels share (ops_int8_avx2.c,
** ops_int8_vnni.c): the target attribute, unaligned loads, lane sums.
** Internal to core/.
*/
#ifndef SNT_OPS_INT8_X86_H
#define SNT_OPS_INT8_X86_H

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SNT_X86 1

#define AVX2 __attribute__((target("avx2,fma")))

#define LOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))

/* The 4 lane sums of a0..a3, in order. */
AVX2 static inline __m128i hsum4(__m256i a0, __m256i a1, __m256i a2, __m256i a3) {
  __m256i s = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  return _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

AVX2 static inline int32_t hsum1(__m256i a) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

#endif

#endif
