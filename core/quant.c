/*
** quant.c — int8 weights and 7-bit activations for the opt-in int8 path
** (quant.h): quantizing, the choice of kernel for snt_q8_gemm
** (ops_int8_vnni.c, ops_int8_avx2.c), and the linear layer built on it.
*/
#include "quant.h"

#include <math.h>
#include <string.h>

#include "ops_avx2.h"

int snt_q8_pad(int K) { return (K + 31) & ~31; }

static long clampl(long v, long lo, long hi) { return v < lo ? lo : v > hi ? hi : v; }

void snt_q8_weights(int8_t *wq, float *scale, int32_t *sum, const float *w, int N, int K) {
  int Kp = snt_q8_pad(K);
  for (int o = 0; o < N; o++) {
    const float *v = w + (size_t)o * K;
    int8_t *q = wq + (size_t)o * Kp;
    float mx = 0;
    for (int k = 0; k < K; k++) mx = fabsf(v[k]) > mx ? fabsf(v[k]) : mx;
    float inv = mx > 0 ? 127.0f / mx : 0.0f;
    int32_t s = 0;
    for (int k = 0; k < K; k++) {
      q[k] = (int8_t)clampl(lrintf(v[k] * inv), -127, 127);
      s += q[k];
    }
    memset(q + K, 0, (size_t)(Kp - K));
    scale[o] = mx / 127.0f;
    if (sum) sum[o] = s;
  }
}

void snt_q8_rows_ref(uint8_t *xq, float *sx, int32_t *zx, const float *x, int T, int K) {
  int Kp = snt_q8_pad(K);
  for (int t = 0; t < T; t++) {
    const float *v = x + (size_t)t * K;
    uint8_t *q = xq + (size_t)t * Kp;
    float lo = 0, hi = 0;
    for (int k = 0; k < K; k++) {
      lo = v[k] < lo ? v[k] : lo;
      hi = v[k] > hi ? v[k] : hi;
    }
    float inv;
    int32_t z;
    if (!snt_q8_row_scale(lo, hi, &sx[t], &inv, &zx[t])) {
      memset(q, 0, (size_t)Kp);
      continue;
    }
    z = zx[t];
    for (int k = 0; k < K; k++) q[k] = (uint8_t)clampl(lrintf(v[k] * inv) + z, 0, 127);
    memset(q + K, 0, (size_t)(Kp - K));
  }
}

int snt_q8_row_scale(float lo, float hi, float *scale, float *inv, int32_t *zero) {
  float s = (hi - lo) / 127.0f;
  *zero = 0;
  if (!(s > 0)) { /* all zeros (or NaN: no scale fits; the output is NaN then) */
    *scale = s == 0 ? 0.0f : NAN;
    *inv = 0;
    return 0;
  }
  *scale = s;
  *inv = 1.0f / s;
  *zero = (int32_t)clampl(lrintf(-lo * *inv), 0, 127);
  return 1;
}

static int forced_kernel = -1;

static int have_kernel(int k) {
  return k == SNT_Q8_REF || (k == SNT_Q8_AVX2 && snt_have_avx2()) ||
         (k == SNT_Q8_VNNI && snt_have_vnni());
}

int snt_q8_kernel(void) {
  int k = __atomic_load_n(&forced_kernel, __ATOMIC_RELAXED);
  if (k >= 0) return k;
  return snt_have_vnni() ? SNT_Q8_VNNI : snt_have_avx2() ? SNT_Q8_AVX2 : SNT_Q8_REF;
}

const char *snt_q8_kernel_name(int k) {
  return k == SNT_Q8_VNNI ? "avx512-vnni" : k == SNT_Q8_AVX2 ? "avx2" : "reference loop";
}

int snt_q8_force_kernel(int k) {
  if (k >= 0 && !have_kernel(k)) return 0;
  __atomic_store_n(&forced_kernel, k < 0 ? -1 : k, __ATOMIC_RELAXED);
  return 1;
}

void snt_q8_gemm(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *w, int T, int N, int Kp) {
  if (snt_q8_kernel() != SNT_Q8_REF && snt_have_avx2())
    snt_q8_gemm_avx2(acc, ldacc, x, w, T, N, Kp);
  else snt_q8_gemm_ref(acc, ldacc, x, w, T, N, Kp);
}

int snt_q8_pack_rows(int N) { return snt_q8_pad(N); } /* the same rounding, to 32 */

/* Where w[o][k] goes in the packed layout. */
static size_t packed_at(int o, int k, int Kp) {
  return ((size_t)(o / 16) * (size_t)(Kp / 4) + (size_t)(k / 4)) * 64 + (size_t)(o % 16) * 4 +
         (size_t)(k % 4);
}

void snt_q8_pack(int8_t *dst, const int8_t *rows, int N, int Kp) {
  int Np = snt_q8_pack_rows(N);
  for (int o = 0; o < Np; o++)
    for (int k = 0; k < Kp; k++) dst[packed_at(o, k, Kp)] = o < N ? rows[(size_t)o * Kp + k] : 0;
}

void snt_q8_gemm_packed_ref(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *wp, int T,
                            int N, int Kp) {
  int Np = snt_q8_pack_rows(N);
  for (int t = 0; t < T; t++)
    for (int o = 0; o < Np; o++) {
      int32_t s = 0;
      for (int k = 0; k < Kp; k++) s += (int32_t)x[(size_t)t * Kp + k] * wp[packed_at(o, k, Kp)];
      acc[(size_t)t * ldacc + o] = s;
    }
}

void snt_q8_gemm_packed(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *wp, int T, int N,
                        int Kp) {
  if (snt_q8_kernel() == SNT_Q8_VNNI) snt_q8_gemm_vnni(acc, ldacc, x, wp, T, N, Kp);
  else snt_q8_gemm_packed_ref(acc, ldacc, x, wp, T, N, Kp);
}

void snt_q8_dequant_row_ref(float *y, const int32_t *acc, int32_t z, const int32_t *sum, float sx,
                            const float *scale, const float *b, int n) {
  /* Σ (xu − z)·w: both terms and the difference stay under Kp·127² in magnitude */
  for (int o = 0; o < n; o++)
    y[o] = (float)(acc[o] - z * sum[o]) * (sx * scale[o]) + (b ? b[o] : 0.0f);
}

/* Blocks of BT activation rows (≤ 96 KB at Kp 3,072: in L2) against BN
** weight rows at a time, the int32 results in a 16 KB buffer on the stack,
** then corrected for the zero point and scaled into y. */
enum { BT = 32, BN = 128 };

void snt_linear_q8(float *y, const float *x, const snt_q8 *w, const float *b, int T,
                   const snt_q8_scratch *s) {
  snt_q8_rows(s->xq, s->sx, s->zx, x, T, w->K);
  snt_linear_q8_cols(y, w, b, T, s, 0, w->N);
}

void snt_linear_q8_cols(float *y, const snt_q8 *w, const float *b, int T, const snt_q8_scratch *s,
                        int c0, int c1) {
  int N = w->N, Kp = w->Kp;
  int32_t acc[BT * BN];
  for (int t0 = 0; t0 < T; t0 += BT) {
    int nt = T - t0 < BT ? T - t0 : BT;
    for (int o0 = c0; o0 < c1; o0 += BN) {
      int no = c1 - o0 < BN ? c1 - o0 : BN;
      const uint8_t *xb = s->xq + (size_t)t0 * Kp;
      if (w->packed) snt_q8_gemm_packed(acc, BN, xb, w->w + (size_t)o0 * Kp, nt, no, Kp);
      else snt_q8_gemm(acc, BN, xb, w->w + (size_t)o0 * Kp, nt, no, Kp);
      for (int t = 0; t < nt; t++)
        snt_q8_dequant_row(y + (size_t)(t0 + t) * N + o0, acc + t * BN, s->zx[t0 + t], w->sum + o0,
                           s->sx[t0 + t], w->scale + o0, b ? b + o0 : NULL, no);
    }
  }
}
