/*
** quant.h — the opt-in int8 path: linear layers with int8 weights and 7-bit
** activations, int32 accumulation, F32 scales.
**
**   w (N, K) F32 ─► snt_q8_weights (once, at load) ─► int8 rows in [-127, 127],
**                   one F32 scale and one int32 row sum per output
**   x (T, K) F32 ─► snt_q8_rows (per token row, at run time) ─► u8 in [0, 127],
**                   a scale and a zero point per row
**   y[t][o] = sx[t] · sw[o] · (Σ_k xu[t][k] · wq[o][k] − zx[t] · Σ_k wq[o][k]) + b[o]
**
** Weights are symmetric per output row: q = round(w / s), s = max|w| / 127.
** Activations are asymmetric per token row over [min(x, 0), max(x, 0)] in 127
** steps, so 0 is exact: xu = round(x / s) + z, s = (max − min) / 127,
** z = round(−min / s). Seven bits, not eight, so that vpmaddubsw cannot
** saturate (ops_int8_avx2.c says why). A row of zeros gets scale 0.
** Rows are stored Kp = K rounded up to 32 bytes apart, zero-padded, so the
** kernels need no tail loop over K; on CPUs with AVX-512 VNNI a linear's
** rows are then packed (snt_q8_pack) for that kernel.
**
** Internal to core/ and tests/.
*/
#ifndef SNT_QUANT_H
#define SNT_QUANT_H

#include <stddef.h>
#include <stdint.h>

typedef struct snt_q8 {
  const int8_t *w;    /* (N, Kp): row o is output o's weights; packed: snt_q8_pack's layout */
  const float *scale; /* (N) */
  const int32_t *sum; /* (N) Σ_k w[o][k], for the activations' zero point (NULL: an embedding) */
  int N, K, Kp;
  int packed; /* 1: w is packed for snt_q8_gemm_packed (the VNNI kernel) */
} snt_q8;

/* K rounded up to a multiple of 32. */
int snt_q8_pad(int K);

/* Quantize w (N, K) into wq (N, Kp), scale (N) and sum (N, or NULL: not
** wanted), per output row. */
void snt_q8_weights(int8_t *wq, float *scale, int32_t *sum, const float *w, int N, int K);

/* Quantize each of the T rows of x (T, K) into xq (T, Kp) (values 0..127),
** sx (T) and zx (T). ops_int8_avx2.c: AVX2 where the CPU has it (the same
** bytes as the plain loop for finite input), else snt_q8_rows_ref. */
void snt_q8_rows(uint8_t *xq, float *sx, int32_t *zx, const float *x, int T, int K);
void snt_q8_rows_ref(uint8_t *xq, float *sx, int32_t *zx, const float *x, int T, int K);
/* A row's scale, 1/scale and zero point from its min(x, 0) and max(x, 0);
** 0 when the row is all zeros (scale 0) or not finite (scale NaN). */
int snt_q8_row_scale(float lo, float hi, float *scale, float *inv, int32_t *zero);

/* acc (T, N), ldacc apart, = x (T, Kp) · w (N, Kp)ᵀ in int32, exact, for x in
** [0, 127], w in [-127, 127], Kp a multiple of 32 and at most 65,536, through
** snt_q8_kernel()'s kernel. Every kernel gives the reference loop's integers. */
void snt_q8_gemm(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *w, int T, int N, int Kp);
void snt_q8_gemm_ref(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *w, int T, int N,
                     int Kp);
/* The same on AVX2 (ops_int8_avx2.c): call only where snt_have_avx2(). */
void snt_q8_gemm_avx2(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *w, int T, int N,
                      int Kp);

/* The packed layout of the VNNI kernel (ops_int8_vnni.c says why): the rows
** padded with zero rows to snt_q8_pack_rows(N), a multiple of 32, in blocks of
** 16 outputs; in a block, for each 4 inputs, 64 bytes: 4 of output 0, 4 of
** output 1, …, 4 of output 15. The block of outputs o0.. (o0 a multiple of
** 16) starts o0 · Kp bytes in, as a row-layout row would. */
int snt_q8_pack_rows(int N);
/* dst (snt_q8_pack_rows(N), Kp), packed, from rows (N, Kp). */
void snt_q8_pack(int8_t *dst, const int8_t *rows, int N, int Kp);
/* acc = x (T, Kp) · wᵀ as snt_q8_gemm, w packed: writes columns
** [0, snt_q8_pack_rows(N)) of acc (the padding columns get 0), so ldacc must
** be at least that. VNNI where the CPU has it (snt_q8_gemm_vnni), else the
** plain loop snt_q8_gemm_packed_ref. */
void snt_q8_gemm_packed(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *wp, int T, int N,
                        int Kp);
void snt_q8_gemm_packed_ref(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *wp, int T,
                            int N, int Kp);
void snt_q8_gemm_vnni(int32_t *acc, int ldacc, const uint8_t *x, const int8_t *wp, int T, int N,
                      int Kp);
int snt_have_vnni(void);

/* Which kernel the int8 products run: the best this CPU has (VNNI on packed
** weights, else AVX2, else the reference loop), or the one snt_q8_force_kernel
** chose. snt_model_quantize packs the weights when this says VNNI. */
enum { SNT_Q8_REF, SNT_Q8_AVX2, SNT_Q8_VNNI };
int snt_q8_kernel(void);
const char *snt_q8_kernel_name(int kernel);
/* For tests and benchmarks: run kernel k from now on in this process (one the
** CPU has, else the call is ignored and returns 0); -1: back to the best. */
int snt_q8_force_kernel(int k);

/* One row of a product back to F32: y[o] = (acc[o] − z·sum[o]) · (sx·scale[o])
** + b[o] (b may be NULL), o < n. ops_int8_avx2.c: AVX2 where the CPU has it
** (the same floats: multiply, then add, as the plain loop), else the plain loop. */
void snt_q8_dequant_row(float *y, const int32_t *acc, int32_t z, const int32_t *sum, float sx,
                        const float *scale, const float *b, int n);
void snt_q8_dequant_row_ref(float *y, const int32_t *acc, int32_t z, const int32_t *sum, float sx,
                            const float *scale, const float *b, int n);

/* Scratch snt_linear_q8 needs for T rows of K inputs: xq (T, Kp) bytes, then
** sx and zx (T) each. */
typedef struct snt_q8_scratch {
  uint8_t *xq;
  float *sx;
  int32_t *zx;
} snt_q8_scratch;

/* y (T, N) = x (T, K) · wᵀ + b (N, may be NULL) through int8. */
void snt_linear_q8(float *y, const float *x, const snt_q8 *w, const float *b, int T,
                   const snt_q8_scratch *s);
/* Output columns [o0, o1) of the same, from rows already quantized into s
** (snt_q8_rows): how a team of threads splits one product. o0 a multiple of
** 32 when w is packed. */
void snt_linear_q8_cols(float *y, const snt_q8 *w, const float *b, int T, const snt_q8_scratch *s,
                        int o0, int o1);

#endif
