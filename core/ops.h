/*
** ops.h — the kernels of the transformer forward pass, each with a plain
** reference loop beside it (the _ref twin) that tests/test_model.c compares
** the fast one against.
**
** Matrices are row-major float arrays. Letters: T tokens (rows), K inputs,
** N outputs, D model width, H heads, P = D / H per head.
** No kernel allocates; none can fail (callers validate sizes, all ≥ 1).
**
** Internal to core/ and tests/.
*/
#ifndef SNT_OPS_H
#define SNT_OPS_H

#include <stddef.h>

/* y (T, N) = x (T, K) · wᵀ + b, with w (N, K) as nn.Linear stores it and
** b (N) or NULL. y must not alias x. */
void snt_linear(float *y, const float *x, const float *w, const float *b, int T, int K, int N);
/* The same into rows ldy apart: y (T, N) a block of columns of a wider matrix. */
void snt_linear_ld(float *y, int ldy, const float *x, const float *w, const float *b, int T, int K,
                   int N);
void snt_linear_ref(float *y, const float *x, const float *w, const float *b, int T, int K, int N);

/* Row-wise LayerNorm: y (T, D) = (x − mean) / sqrt(var + eps) · g + b,
** biased variance as torch computes it. y may equal x. */
void snt_layernorm(float *y, const float *x, const float *g, const float *b, int T, int D,
                   float eps);
void snt_layernorm_ref(float *y, const float *x, const float *g, const float *b, int T, int D,
                       float eps);

/* In place over x[0..n): exact GELU x·Φ(x) = x/2 · (1 + erf(x/√2)). */
void snt_gelu(float *x, size_t n);
void snt_gelu_ref(float *x, size_t n);

/* In place: max(x, 0) and tanh(x). One loop each; nothing to compare. */
void snt_relu(float *x, size_t n);
void snt_tanh(float *x, size_t n);

/* y[i] += x[i] over n (the residual connection). */
void snt_add(float *y, const float *x, size_t n);

/* In place, each of the T rows of x (T, N): softmax. */
void snt_softmax(float *x, int T, int N);
void snt_softmax_ref(float *x, int T, int N);

/* Multi-head scaled dot-product attention over one sequence, no mask:
** out (T, D) = concat over heads h of softmax(Q_h K_hᵀ / √P) V_h, where
** Q_h is columns [h·P, (h+1)·P) of q (T, D), likewise k, v.
** scores is scratch of at least T·T floats. out must not alias q, k, v. */
void snt_attention(float *out, const float *q, const float *k, const float *v, int T, int D,
                   int H, float *scores);
/* The same for heads [h0, h1) only. */
void snt_attention_heads(float *out, const float *q, const float *k, const float *v, int T, int D,
                         int H, int h0, int h1, float *scores);
void snt_attention_ref(float *out, const float *q, const float *k, const float *v, int T, int D,
                       int H, float *scores);

#endif
