/*
** ops_avx2.c — softmax and exact GELU, eight floats at a time (see ops_avx2.h).
**
** Built without -mavx2 (the library must load on any x86-64): the vector
** functions carry target("avx2,fma") and run only after snt_have_avx2().
*/
#include "ops_avx2.h"

#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SNT_X86 1
#endif

/* ---- scalar fallbacks (CPUs without AVX2) -------------------------------- */

static void softmax_scalar(float *x, int T, int N) {
  for (int t = 0; t < T; t++) {
    float *r = x + (size_t)t * N;
    float max = r[0], sum = 0;
    for (int i = 1; i < N; i++) max = r[i] > max ? r[i] : max;
    for (int i = 0; i < N; i++) {
      r[i] = expf(r[i] - max);
      sum += r[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < N; i++) r[i] *= inv;
  }
}

static void gelu_scalar(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

#ifdef SNT_X86

int snt_have_avx2(void) {
  static int have = -1;
  int h = __atomic_load_n(&have, __ATOMIC_RELAXED);
  if (h < 0) {
    __builtin_cpu_init();
    h = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    __atomic_store_n(&have, h, __ATOMIC_RELAXED);
  }
  return h;
}

#define AVX2 __attribute__((target("avx2,fma")))

/* exp(x), x ≤ 88: n = round(x·log2 e), r = x − n·ln 2 (in two parts), then
** 2^n · (1 + r + r²·p(r)) with Cephes's expf polynomial. Below −87.3 the
** result flushes to 0 (exp underflows there anyway). */
AVX2 static inline __m256 exp_ps(__m256 x) {
  __m256 lo = _mm256_set1_ps(-87.3f);
  __m256 zero_mask = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
  x = _mm256_max_ps(x, lo);
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_andnot_ps(zero_mask, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

AVX2 static float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

AVX2 static float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

/* Lanes [0, n) of a partial vector: mask for maskload/maskstore. */
AVX2 static __m256i tail_mask(int n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2 static void softmax_avx2(float *x, int T, int N) {
  int n8 = N & ~7, rest = N - n8;
  __m256i tm = tail_mask(rest);
  for (int t = 0; t < T; t++) {
    float *r = x + (size_t)t * N;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (int i = 0; i < n8; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(r + i));
    float max = hmax(vmax);
    for (int i = n8; i < N; i++) max = r[i] > max ? r[i] : max;
    __m256 vm = _mm256_set1_ps(max), vsum = _mm256_setzero_ps();
    for (int i = 0; i < n8; i += 8) {
      __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(r + i), vm));
      _mm256_storeu_ps(r + i, e);
      vsum = _mm256_add_ps(vsum, e);
    }
    if (rest) {
      __m256 e = exp_ps(_mm256_sub_ps(_mm256_maskload_ps(r + n8, tm), vm));
      e = _mm256_and_ps(e, _mm256_castsi256_ps(tm));
      _mm256_maskstore_ps(r + n8, tm, e);
      vsum = _mm256_add_ps(vsum, e);
    }
    __m256 inv = _mm256_set1_ps(1.0f / hsum(vsum));
    for (int i = 0; i < n8; i += 8) _mm256_storeu_ps(r + i, _mm256_mul_ps(_mm256_loadu_ps(r + i), inv));
    if (rest) _mm256_maskstore_ps(r + n8, tm, _mm256_mul_ps(_mm256_maskload_ps(r + n8, tm), inv));
  }
}

/* x/2 · erfc(−x/√2). erfc(z), z ≥ 0, is t·exp(−z² + poly(t)), t = 1/(1 + z/2)
** (Numerical Recipes' erfcc, relative error < 1.2e-7); erfc(−z) = 2 − erfc(z). */
AVX2 static inline __m256 gelu_ps(__m256 x) {
  __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(-0.70710678118654752f)); /* erfc argument */
  __m256 sign = _mm256_and_ps(z, _mm256_set1_ps(-0.0f));
  __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), z); /* |z| */
  __m256 one = _mm256_set1_ps(1.0f);
  __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.5f), a, one));
  __m256 p = _mm256_set1_ps(0.17087277f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.82215223f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.48851587f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.13520398f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.27886807f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.18628806f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.09678418f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.37409196f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.00002368f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.26551223f));
  __m256 e = _mm256_mul_ps(t, exp_ps(_mm256_sub_ps(p, _mm256_mul_ps(a, a)))); /* erfc(|z|) */
  /* z < 0 (x > 0): erfc(z) = 2 − erfc(|z|) */
  __m256 erfc = _mm256_blendv_ps(e, _mm256_sub_ps(_mm256_set1_ps(2.0f), e), sign);
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), erfc);
}

AVX2 static void gelu_avx2(float *x, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, gelu_ps(_mm256_loadu_ps(x + i)));
  if (i < n) {
    __m256i tm = tail_mask((int)(n - i));
    _mm256_maskstore_ps(x + i, tm, gelu_ps(_mm256_maskload_ps(x + i, tm)));
  }
}

void snt_softmax_avx2(float *x, int T, int N) {
  if (snt_have_avx2())
    softmax_avx2(x, T, N);
  else
    softmax_scalar(x, T, N);
}

void snt_gelu_avx2(float *x, size_t n) {
  if (snt_have_avx2())
    gelu_avx2(x, n);
  else
    gelu_scalar(x, n);
}

#else /* not x86 */

int snt_have_avx2(void) { return 0; }
void snt_softmax_avx2(float *x, int T, int N) { softmax_scalar(x, T, N); }
void snt_gelu_avx2(float *x, size_t n) { gelu_scalar(x, n); }

#endif
