/*
** ops_int8_avx2.c — the int8 matrix product of quant.h on AVX2, acc = x · wᵀ
** in int32 with x unsigned 7-bit and w signed 8-bit (snt_q8_gemm_avx2, which
** quant.c's snt_q8_gemm runs when the CPU has AVX2 but not AVX-512 VNNI,
** ops_int8_vnni.c), and the AVX2 row quantizer. The plain loops are
** snt_q8_gemm_ref and snt_q8_rows_ref; each kernel gives their integers and
** bytes, bit for bit (tests/test_quant.c).
**
** Why nothing saturates or overflows. AVX2 has no 8-bit dot product into
** int32; vpmaddubsw multiplies unsigned bytes by signed bytes and adds
** adjacent pairs into int16 *with saturation*: 255 · 127 · 2 = 64,770 would
** clip. quant.c therefore limits the activations to 7 bits, x in [0, 127]
** (asymmetric, with a zero point: FBGEMM's and PyTorch's "reduce_range"),
** and the weights to [-127, 127]. Then each product |x·w| ≤ 127 · 127 =
** 16,129 and each int16 pair sum ≤ 32,258 < 32,767: vpmaddubsw is exact.
** vpmaddwd against ones widens the pairs to int32 exactly. Each int32 lane
** then sums Kp/8 groups of 4 products and the result has Kp products:
** |acc| ≤ Kp · 16,129 ≤ 65,536 · 16,129 = 1.06e9 < 2^31 - 1 for Kp ≤ 65,536
** (config.c caps widths at 65,536), so no partial sum overflows and the order
** of the additions cannot change the result: it equals the reference loop's.
** (The sign trick, |x| · sign(w, x) with 8-bit x, is exact too but costs a
** vpsignb per product: measured 95-130 GOP/s against 150-190 for this on one
** Zen 3 core, where OpenBLAS's sgemm reaches about 95 GFLOP/s.)
**
** Layout: a 2-row × 4-output tile keeps 8 accumulators (8 int32 lanes each)
** in registers and walks K 32 bytes at a time; tails in T and N use 1-row and
** 1-output tiles. snt_linear_q8 (quant.c) calls this on blocks small enough
** that the 4 weight rows stay in L1 while the activation rows come from L2.
*/
#include "quant.h"

#include <math.h>
#include <string.h>

#include "ops_avx2.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SNT_X86 1
#endif

void snt_q8_gemm_ref(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *w, int T, int N,
                     int Kp) {
  for (int t = 0; t < T; t++)
    for (int o = 0; o < N; o++) {
      int32_t s = 0;
      for (int k = 0; k < Kp; k++) s += (int32_t)x[(size_t)t * Kp + k] * w[(size_t)o * Kp + k];
      acc[(size_t)t * ldacc + o] = s;
    }
}

#ifdef SNT_X86

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

/* 32 products x·w summed into 8 int32 lanes, added to acc. */
AVX2 static inline __m256i dot32(__m256i acc, __m256i x, __m256i w, __m256i ones) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), ones));
}

/* Rows x0, x1 against the 4 weight rows at w: acc0[0..4), acc1[0..4). */
AVX2 static void tile_2x4(int32_t *acc0, int32_t *acc1, const uint8_t *x0, const uint8_t *x1,
                          const int8_t *w, size_t Kp) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c02 = c00, c03 = c00;
  __m256i c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  for (size_t k = 0; k < Kp; k += 32) {
    __m256i v0 = LOAD(x0 + k), v1 = LOAD(x1 + k), wv;
    /* KEEP: the empty asm statements stop GCC from hoisting all eight
    ** products ahead of the sums, which needs 19 registers of AVX2's 16 and
    ** spilled an accumulator to the stack (a store-to-load chain each step:
    ** 140 GOP/s instead of 190). The CPU reorders anyway. */
    wv = LOAD(w + k);
    c00 = dot32(c00, v0, wv, ones);
    c10 = dot32(c10, v1, wv, ones);
    __asm__("" : "+x"(c00), "+x"(c10));
    wv = LOAD(w + Kp + k);
    c01 = dot32(c01, v0, wv, ones);
    c11 = dot32(c11, v1, wv, ones);
    __asm__("" : "+x"(c01), "+x"(c11));
    wv = LOAD(w + 2 * Kp + k);
    c02 = dot32(c02, v0, wv, ones);
    c12 = dot32(c12, v1, wv, ones);
    __asm__("" : "+x"(c02), "+x"(c12));
    wv = LOAD(w + 3 * Kp + k);
    c03 = dot32(c03, v0, wv, ones);
    c13 = dot32(c13, v1, wv, ones);
  }
  _mm_storeu_si128((__m128i *)(void *)acc0, hsum4(c00, c01, c02, c03));
  _mm_storeu_si128((__m128i *)(void *)acc1, hsum4(c10, c11, c12, c13));
}

/* One row x0 against the 4 weight rows at w. */
AVX2 static void tile_1x4(int32_t *acc0, const uint8_t *x0, const int8_t *w, size_t Kp) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, c2 = c0, c3 = c0;
  for (size_t k = 0; k < Kp; k += 32) {
    __m256i v0 = LOAD(x0 + k);
    c0 = dot32(c0, v0, LOAD(w + k), ones);
    c1 = dot32(c1, v0, LOAD(w + Kp + k), ones);
    c2 = dot32(c2, v0, LOAD(w + 2 * Kp + k), ones);
    c3 = dot32(c3, v0, LOAD(w + 3 * Kp + k), ones);
  }
  _mm_storeu_si128((__m128i *)(void *)acc0, hsum4(c0, c1, c2, c3));
}

/* One row against one weight row. */
AVX2 static int32_t tile_1x1(const uint8_t *x0, const int8_t *w0, size_t Kp) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i c = _mm256_setzero_si256();
  for (size_t k = 0; k < Kp; k += 32) c = dot32(c, LOAD(x0 + k), LOAD(w0 + k), ones);
  return hsum1(c);
}

AVX2 void snt_q8_gemm_avx2(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *w, int T, int N,
                           int Kp) {
  size_t K = (size_t)Kp, ld = (size_t)ldacc;
  int N4 = N & ~3;
  for (int o = 0; o < N4; o += 4) {
    const int8_t *wo = w + (size_t)o * K;
    int t = 0;
    for (; t + 1 < T; t += 2)
      tile_2x4(acc + t * ld + o, acc + (t + 1) * ld + o, x + t * K, x + (t + 1) * K, wo, K);
    if (t < T) tile_1x4(acc + t * ld + o, x + t * K, wo, K);
  }
  for (int o = N4; o < N; o++)
    for (int t = 0; t < T; t++) acc[t * ld + o] = tile_1x1(x + t * K, w + (size_t)o * K, K);
}

/* snt_q8_rows_ref eight at a time: the same min/max, the same float
** products, and vcvtps2dq rounds to nearest even as lrintf does (default
** rounding mode), so the bytes are the same. */
AVX2 static void rows_avx2(uint8_t *xq, float *sx, int32_t *zx, const float *x, int T, int K) {
  int Kp = snt_q8_pad(K), K8 = K & ~7;
  for (int t = 0; t < T; t++) {
    const float *v = x + (size_t)t * K;
    uint8_t *q = xq + (size_t)t * Kp;
    __m256 lo8 = _mm256_setzero_ps(), hi8 = lo8;
    for (int k = 0; k < K8; k += 8) {
      __m256 a = _mm256_loadu_ps(v + k);
      lo8 = _mm256_min_ps(lo8, a);
      hi8 = _mm256_max_ps(hi8, a);
    }
    float l[8], h[8], lo = 0, hi = 0;
    _mm256_storeu_ps(l, lo8);
    _mm256_storeu_ps(h, hi8);
    for (int i = 0; i < 8; i++) {
      lo = l[i] < lo ? l[i] : lo;
      hi = h[i] > hi ? h[i] : hi;
    }
    for (int k = K8; k < K; k++) {
      lo = v[k] < lo ? v[k] : lo;
      hi = v[k] > hi ? v[k] : hi;
    }
    float inv;
    memset(q, 0, (size_t)Kp);
    if (!snt_q8_row_scale(lo, hi, &sx[t], &inv, &zx[t])) continue;
    __m256 vinv = _mm256_set1_ps(inv);
    __m256i z = _mm256_set1_epi32(zx[t]), top = _mm256_set1_epi32(127),
            bottom = _mm256_setzero_si256();
    for (int k = 0; k < K8; k += 8) {
      __m256i r = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(v + k), vinv));
      r = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, z), bottom), top);
      int32_t o[8];
      _mm256_storeu_si256((__m256i *)(void *)o, r);
      for (int i = 0; i < 8; i++) q[k + i] = (uint8_t)o[i];
    }
    for (int k = K8; k < K; k++) {
      long r = lrintf(v[k] * inv) + zx[t];
      q[k] = (uint8_t)(r < 0 ? 0 : r > 127 ? 127 : r);
    }
  }
}

void snt_q8_rows(uint8_t *xq, float *sx, int32_t *zx, const float *x, int T, int K) {
  if (snt_have_avx2()) rows_avx2(xq, sx, zx, x, T, K);
  else snt_q8_rows_ref(xq, sx, zx, x, T, K);
}

/* snt_q8_dequant_row_ref eight at a time: the same int32 difference, the same
** two float roundings (a product, then a sum: no FMA, as the plain loop is
** compiled with -std=c11, which does not contract). */
AVX2 static void dequant_avx2(float *y, const int32_t *acc, int32_t z, const int32_t *sum, float sx,
                              const float *scale, const float *b, int n) {
  const __m256i vz = _mm256_set1_epi32(z);
  const __m256 vsx = _mm256_set1_ps(sx);
  int n8 = n & ~7;
  for (int o = 0; o < n8; o += 8) {
    __m256i d = _mm256_sub_epi32(LOAD(acc + o), _mm256_mullo_epi32(vz, LOAD(sum + o)));
    __m256 r = _mm256_mul_ps(_mm256_cvtepi32_ps(d), _mm256_mul_ps(vsx, _mm256_loadu_ps(scale + o)));
    r = _mm256_add_ps(r, b ? _mm256_loadu_ps(b + o) : _mm256_setzero_ps());
    _mm256_storeu_ps(y + o, r);
  }
  snt_q8_dequant_row_ref(y + n8, acc + n8, z, sum + n8, sx, scale + n8, b ? b + n8 : NULL, n - n8);
}

void snt_q8_dequant_row(float *y, const int32_t *acc, int32_t z, const int32_t *sum, float sx,
                        const float *scale, const float *b, int n) {
  if (snt_have_avx2()) dequant_avx2(y, acc, z, sum, sx, scale, b, n);
  else snt_q8_dequant_row_ref(y, acc, z, sum, sx, scale, b, n);
}

#else /* not x86: snt_q8_gemm_avx2 is never chosen (snt_have_avx2 is 0) */

void snt_q8_gemm_avx2(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *w, int T, int N,
                      int Kp) {
  snt_q8_gemm_ref(acc, ldacc, x, w, T, N, Kp);
}

void snt_q8_rows(uint8_t *xq, float *sx, int32_t *zx, const float *x, int T, int K) {
  snt_q8_rows_ref(xq, sx, zx, x, T, K);
}

void snt_q8_dequant_row(float *y, const int32_t *acc, int32_t z, const int32_t *sum, float sx,
                        const float *scale, const float *b, int n) {
  snt_q8_dequant_row_ref(y, acc, z, sum, sx, scale, b, n);
}

#endif
