/*
** ops.c — transformer kernels: the fast one, then its plain reference loop.
** See ops.h for shapes. Linear layers and the two attention products go to
** OpenBLAS (cblas_sgemm, RowMajor, B transposed where the weight is (N, K),
** as ggml-blas does); softmax and GELU use the AVX2 kernels of ops_avx2.c
** (with a scalar fallback there); the rest are loops over rows.
**
** The reference loops accumulate in double and follow the textbook formula
** with no reordering, so a disagreement points at the fast kernel.
*/
#include "ops.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "ops_avx2.h"

/* ---- linear ------------------------------------------------------------- */

void snt_linear(float *y, const float *x, const float *w, const float *b, int T, int K, int N) {
  snt_linear_ld(y, N, x, w, b, T, K, N);
}

void snt_linear_ld(float *y, int ldy, const float *x, const float *w, const float *b, int T, int K,
                   int N) {
  /* y = b broadcast, then y = 1·x·wᵀ + 1·y: the bias costs no extra pass. */
  if (b)
    for (int t = 0; t < T; t++) memcpy(y + (size_t)t * ldy, b, (size_t)N * sizeof *y);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, N, K, 1.0f, x, K, w, K,
              b ? 1.0f : 0.0f, y, ldy);
}

void snt_linear_ref(float *y, const float *x, const float *w, const float *b, int T, int K, int N) {
  for (int t = 0; t < T; t++)
    for (int o = 0; o < N; o++) {
      double acc = b ? b[o] : 0.0;
      for (int i = 0; i < K; i++) acc += (double)x[(size_t)t * K + i] * w[(size_t)o * K + i];
      y[(size_t)t * N + o] = (float)acc;
    }
}

/* ---- layernorm ---------------------------------------------------------- */

void snt_layernorm(float *y, const float *x, const float *g, const float *b, int T, int D,
                   float eps) {
  for (int t = 0; t < T; t++) {
    const float *xr = x + (size_t)t * D;
    float *yr = y + (size_t)t * D;
    float mean = 0, var = 0;
    for (int i = 0; i < D; i++) mean += xr[i];
    mean /= (float)D;
    for (int i = 0; i < D; i++) {
      float d = xr[i] - mean;
      var += d * d;
    }
    var /= (float)D;
    float rstd = 1.0f / sqrtf(var + eps);
    for (int i = 0; i < D; i++) yr[i] = (xr[i] - mean) * rstd * g[i] + b[i];
  }
}

void snt_layernorm_ref(float *y, const float *x, const float *g, const float *b, int T, int D,
                       float eps) {
  for (int t = 0; t < T; t++) {
    const float *xr = x + (size_t)t * D;
    double mean = 0, var = 0;
    for (int i = 0; i < D; i++) mean += xr[i];
    mean /= D;
    for (int i = 0; i < D; i++) var += (xr[i] - mean) * (xr[i] - mean);
    var /= D;
    for (int i = 0; i < D; i++)
      y[(size_t)t * D + i] = (float)((xr[i] - mean) / sqrt(var + eps) * g[i] + b[i]);
  }
}

/* ---- activations -------------------------------------------------------- */

/* Eight at a time with AVX2/FMA polynomials where the CPU has them, else
** erff per element: ops_avx2.c. */
void snt_gelu(float *x, size_t n) { snt_gelu_avx2(x, n); }

void snt_gelu_ref(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0))));
}

void snt_relu(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
}

void snt_tanh(float *x, size_t n) {
  for (size_t i = 0; i < n; i++) x[i] = tanhf(x[i]);
}

void snt_add(float *y, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] += x[i];
}

/* ---- softmax ------------------------------------------------------------ */

/* AVX2 exp polynomial where the CPU has it, else expf: ops_avx2.c. */
void snt_softmax(float *x, int T, int N) { snt_softmax_avx2(x, T, N); }

void snt_softmax_ref(float *x, int T, int N) {
  for (int t = 0; t < T; t++) {
    float *r = x + (size_t)t * N;
    double max = r[0], sum = 0;
    for (int i = 1; i < N; i++) max = r[i] > max ? r[i] : max;
    for (int i = 0; i < N; i++) sum += exp(r[i] - max);
    for (int i = 0; i < N; i++) r[i] = (float)(exp(r[i] - max) / sum);
  }
}

/* ---- attention ---------------------------------------------------------- */

void snt_attention(float *out, const float *q, const float *k, const float *v, int T, int D,
                   int H, float *scores) {
  snt_attention_heads(out, q, k, v, T, D, H, 0, H, scores);
}

void snt_attention_heads(float *out, const float *q, const float *k, const float *v, int T, int D,
                         int H, int h0, int h1, float *scores) {
  int P = D / H;
  float scale = 1.0f / sqrtf((float)P);
  for (int h = h0; h < h1; h++) {
    /* scores (T, T) = scale · Q_h (T, P) · K_hᵀ; rows of Q_h are D apart. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, P, scale, q + h * P, D,
                k + h * P, D, 0.0f, scores, T);
    snt_softmax(scores, T, T);
    /* out_h (T, P) = scores (T, T) · V_h (T, P) */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, P, T, 1.0f, scores, T, v + h * P,
                D, 0.0f, out + h * P, D);
  }
}

void snt_attention_ref(float *out, const float *q, const float *k, const float *v, int T, int D,
                       int H, float *scores) {
  int P = D / H;
  for (int h = 0; h < H; h++)
    for (int i = 0; i < T; i++) {
      float *s = scores; /* (T): row i of this head's scores */
      for (int j = 0; j < T; j++) {
        double dot = 0;
        for (int p = 0; p < P; p++)
          dot += (double)q[(size_t)i * D + h * P + p] * k[(size_t)j * D + h * P + p];
        s[j] = (float)(dot / sqrt((double)P));
      }
      snt_softmax_ref(s, 1, T);
      for (int p = 0; p < P; p++) {
        double acc = 0;
        for (int j = 0; j < T; j++) acc += (double)s[j] * v[(size_t)j * D + h * P + p];
        out[(size_t)i * D + h * P + p] = (float)acc;
      }
    }
}
