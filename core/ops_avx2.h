/*
** ops_avx2.h — AVX2/FMA versions of the two element-wise kernels that cost
** the most after the matrix products: the attention softmax and the exact
** GELU. Same contracts as snt_softmax / snt_gelu in ops.h; tests compare them
** with the _ref loops there (tests/test_ops_avx2.c).
**
** Measured on DistilBERT-base over 64 IMDb reviews (1 thread, bench/README.md):
** the scalar softmax was 8% of the forward pass and the scalar erff GELU 7%;
** these take about a fifth of that.
**
** Accuracy: exp by Cephes's polynomial after range reduction (max relative
** error 1.2e-7); GELU(x) = x/2 · erfc(−x/√2) with Numerical Recipes' erfcc
** (relative error < 1.2e-7 in exact arithmetic): in float, relative error
** ≤ 2e-6 for |x| ≤ 3 and absolute error ≤ 2e-7·max(1, |x|) everywhere
** (ops.c's x/2·(1 + erff) cancels to 0 below x ≈ −4; this does not).
**
** Each function checks the CPU once (AVX2 and FMA) and otherwise runs a plain
** loop, so the library still loads and runs on CPUs without AVX2.
**
** Internal to core/ and tests/.
*/
#ifndef SNT_OPS_AVX2_H
#define SNT_OPS_AVX2_H

#include <stddef.h>

/* In place, each of the T rows of x (T, N): softmax. */
void snt_softmax_avx2(float *x, int T, int N);

/* In place over x[0..n): exact (erf) GELU. */
void snt_gelu_avx2(float *x, size_t n);

/* 1 when the CPU runs the AVX2/FMA paths (checked once). */
int snt_have_avx2(void);

#endif
