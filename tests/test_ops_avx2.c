/*
** test_ops_avx2.c — the AVX2 softmax and GELU (core/ops_avx2.c) against
** float64 references (ops.c's _ref loops; GELU through erfc, exact where
** 1 + erf cancels), over a sweep of inputs and every tail length.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ops.h"
#include "ops_avx2.h"

static float frand(unsigned *s, float lo, float hi) {
  *s = *s * 1664525u + 1013904223u;
  return lo + (hi - lo) * (float)(*s >> 8) / (float)(1u << 24);
}

int main(void) {
  (void)shared_dir; /* check.h's; this test needs no shared data */
  printf("ops_avx2: AVX2/FMA path %s\n", snt_have_avx2() ? "on" : "off (scalar fallback)");

  /* GELU: a dense sweep of [-12, 12] plus the extremes; relative error vs the
  ** float64 reference, absolute near zero. */
  enum { NG = 24001 + 7 };
  float *g = malloc(sizeof(float) * NG), *gr = malloc(sizeof(float) * NG);
  for (int i = 0; i < 24001; i++) g[i] = -12.0f + i * 0.001f;
  float extra[7] = {0.0f, -0.0f, 1e-30f, -1e-30f, 80.0f, -80.0f, 3.4e38f};
  memcpy(g + 24001, extra, sizeof extra);
  memcpy(gr, g, sizeof(float) * NG);
  snt_gelu_avx2(g, NG);
  /* Truth in float64 through erfc: snt_gelu_ref's 1 + erf cancels below x ≈ −8. */
  for (int i = 0; i < NG; i++) gr[i] = (float)(0.5 * gr[i] * erfc(-gr[i] / sqrt(2.0)));
  /* Two bounds. Relative error ≤ 2e-6 for |x| ≤ 3, where nearly every FFN
  ** activation lies (beyond, float's rounding of x² in exp(−x²/2) grows it:
  ** 3e-6 at |x| = 6 — ops.c's 1 + erff cancels to 0 there, 100% off).
  ** Absolute error ≤ 2e-7 · max(1, |x|) everywhere: float's own rounding. */
  double worst = 0, worst_abs = 0;
  int worst_i = 0, worst_abs_i = 0;
  for (int i = 0; i < NG; i++) {
    double x = i < 24001 ? -12.0 + i * 0.001 : extra[i - 24001];
    if (isinf(gr[i]) && g[i] == gr[i]) continue;
    double d = fabs((double)g[i] - gr[i]);
    if (fabs(x) <= 3.0 && gr[i] != 0 && d / fabs(gr[i]) > worst) worst = d / fabs(gr[i]), worst_i = i;
    double a = d / (fabs(x) > 1 ? fabs(x) : 1);
    if (a > worst_abs) worst_abs = a, worst_abs_i = i;
  }
  printf("gelu: max relative error %.3g (|x| <= 3), max absolute error / max(1, |x|) %.3g\n", worst,
         worst_abs);
  CHECK(worst <= 2e-6, "gelu: relative error %g at index %d (gelu %g)", worst, worst_i, g[worst_i]);
  CHECK(worst_abs <= 2e-7, "gelu: absolute error %g at index %d", worst_abs, worst_abs_i);
  /* every tail length 0..8 leaves the bytes after n alone */
  for (int n = 0; n <= 17; n++) {
    float buf[24], ref[24];
    for (int i = 0; i < 24; i++) buf[i] = ref[i] = -2.0f + 0.25f * i;
    snt_gelu_avx2(buf, (size_t)n);
    snt_gelu_ref(ref, (size_t)n);
    int ok = 1;
    for (int i = 0; i < 24; i++)
      ok &= i < n ? fabsf(buf[i] - ref[i]) <= 1e-6f * (fabsf(ref[i]) + 1e-6f) : buf[i] == -2.0f + 0.25f * i;
    CHECK(ok, "gelu: n = %d", n);
  }

  /* softmax: rows of every length 1..70 and 512, scores spread like
  ** attention's (and wider, to reach exp's underflow). */
  unsigned seed = 42;
  int lens[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 70, 129, 512};
  for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
    int N = lens[li], T = 3;
    float *a = malloc(sizeof(float) * (T * N + 8)), *b = malloc(sizeof(float) * T * N);
    for (int i = 0; i < T * N; i++) a[i] = frand(&seed, li % 2 ? -120.0f : -6.0f, 6.0f);
    for (int i = 0; i < 8; i++) a[T * N + i] = 123.0f; /* guard */
    memcpy(b, a, sizeof(float) * T * N);
    snt_softmax_avx2(a, T, N);
    snt_softmax_ref(b, T, N);
    double err = 0, sum_err = 0;
    for (int t = 0; t < T; t++) {
      double s = 0;
      for (int i = 0; i < N; i++) {
        s += a[t * N + i];
        double e = fabs((double)a[t * N + i] - b[t * N + i]);
        if (e > err) err = e;
      }
      if (fabs(s - 1) > sum_err) sum_err = fabs(s - 1);
    }
    int guard = 1;
    for (int i = 0; i < 8; i++) guard &= a[T * N + i] == 123.0f;
    CHECK(err < 1e-6 && sum_err < 1e-5 && guard, "softmax N = %d: max |diff| %g, |sum - 1| %g%s", N,
          err, sum_err, guard ? "" : ", wrote past the row");
    free(a);
    free(b);
  }
  free(g);
  free(gr);
  return check_report("ops_avx2");
}
