/*
** test_quant.c — the int8 path's pieces (core/quant.c, core/ops_int8_avx2.c):
**   1. each int8 kernel this CPU has (AVX-512 VNNI on packed weights, AVX2
**      on weight rows) equals the plain loop snt_q8_gemm_ref bit for bit: random and extreme
**      (x = 127, w = ±127 everywhere: the worst case for the int16 pairs and
**      the int32 sums) operands, every tail of T and N, K up to the 65,536
**      the saturation argument allows; a kernel the CPU lacks is a SKIP;
**   2. quantizing: weights in [-127, 127] with the largest at ±127,
**      activations in [0, 127] with 0 exact, zero rows, padding zero; the
**      AVX2 row quantizer gives the plain loop's bytes, every tail of K;
**   3. snt_linear_q8 against the float64 loop, within the int8 rounding bound;
**   4. an int8 model reads no F32 linear weight after load: the pages of
**      those tensors are made unreadable (mprotect) and the forward pass runs.
** The golden models' int8 label agreement and max |Δlogit| are in
** tests/test_model.c (test_int8), beside the F32 golden run.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "ops.h"
#include "ops_avx2.h"
#include "quant.h"
#include "safetensors.h"
#include "snt.h"
#include "util.h"

static unsigned rng = 12345;
static unsigned nextr(void) { return rng = rng * 1664525u + 1013904223u; }
static int8_t rand_w(void) { return (int8_t)((int)(nextr() >> 16) % 255 - 127); }
static uint8_t rand_x(void) { return (uint8_t)((nextr() >> 16) % 128); }

/* 1: the kernels against the reference, bit for bit. packed: w goes through
** snt_q8_pack and snt_q8_gemm_packed (the VNNI kernel when forced), whose
** columns N..pack_rows(N) must be 0; both layouts against the row-layout
** plain loop, and the packed plain loop too. */
static void gemm_case(int T, int N, int Kp, int fill, int packed) {
  int Np = packed ? snt_q8_pack_rows(N) : N, ld = Np + 3; /* the gap must stay untouched */
  uint8_t *x = malloc((size_t)T * Kp);
  int8_t *w = malloc((size_t)N * Kp), *wp = malloc((size_t)Np * Kp);
  int32_t *a = malloc(sizeof(int32_t) * (size_t)T * ld), *r = malloc(sizeof(int32_t) * (size_t)T * ld);
  int32_t *pr = malloc(sizeof(int32_t) * (size_t)T * ld);
  /* fill: x = 127 and w = ±fill in runs that keep each pair of one sign */
  for (size_t i = 0; i < (size_t)T * Kp; i++) x[i] = fill ? 127 : rand_x();
  for (size_t i = 0; i < (size_t)N * Kp; i++) w[i] = fill ? (int8_t)((i / 2) % 3 ? fill : -fill) : rand_w();
  for (size_t i = 0; i < (size_t)T * ld; i++) a[i] = r[i] = pr[i] = 0x5a5a5a5a;
  snt_q8_gemm_ref(r, ld, x, w, T, N, Kp);
  if (packed) {
    for (int t = 0; t < T; t++)
      for (int o = N; o < Np; o++) r[(size_t)t * ld + o] = 0;
    snt_q8_pack(wp, w, N, Kp);
    snt_q8_gemm_packed(a, ld, x, wp, T, N, Kp);
    snt_q8_gemm_packed_ref(pr, ld, x, wp, T, N, Kp);
    CHECK(memcmp(pr, r, sizeof(int32_t) * (size_t)T * ld) == 0,
          "q8 packed plain loop T=%d N=%d Kp=%d fill=%d differs from the row layout's", T, N, Kp, fill);
  } else {
    snt_q8_gemm(a, ld, x, w, T, N, Kp);
  }
  CHECK(memcmp(a, r, sizeof(int32_t) * (size_t)T * ld) == 0,
        "q8 gemm (%s) T=%d N=%d Kp=%d fill=%d differs from the reference loop",
        packed ? "packed" : "rows", T, N, Kp, fill);
  free(x), free(w), free(wp), free(a), free(r), free(pr);
}

static void test_gemm_kernel(int kernel) {
  if (!snt_q8_force_kernel(kernel)) {
    SKIP("int8 kernel %s: not on this CPU, not tested", snt_q8_kernel_name(kernel));
    return;
  }
  int packed = kernel == SNT_Q8_VNNI;
  CHECK(snt_q8_kernel() == kernel, "forcing kernel %s", snt_q8_kernel_name(kernel));
  printf("q8 gemm: kernel %s (%s) against the reference loop\n", snt_q8_kernel_name(kernel),
         packed ? "packed weights" : "weight rows");
  int Ts[] = {1, 2, 3, 4, 5, 6, 7, 13, 33}, Ns[] = {1, 3, 4, 5, 8, 16, 17, 32, 33, 130};
  int Ks[] = {32, 64, 96, 768};
  for (size_t i = 0; i < sizeof Ts / sizeof *Ts; i++)
    for (size_t j = 0; j < sizeof Ns / sizeof *Ns; j++)
      for (size_t k = 0; k < sizeof Ks / sizeof *Ks; k++) gemm_case(Ts[i], Ns[j], Ks[k], 0, packed);
  /* The extremes: every product ±16,129 and both of a pair of one sign, so
  ** the int16 pair sums reach ±32,258; at K = 65,536 the int32 sums ±1.06e9. */
  gemm_case(3, 5, 3072, 127, packed);
  gemm_case(7, 40, 3072, 127, packed);
  gemm_case(2, 4, 65536, 127, packed);
  {
    uint8_t *x = malloc(65536);
    int8_t *w = malloc(65536), *wp = malloc(32 * 65536);
    int32_t a[32] = {0};
    memset(x, 127, 65536);
    memset(w, 0x81, 65536); /* -127 */
    if (packed) {
      snt_q8_pack(wp, w, 1, 65536);
      snt_q8_gemm_packed(a, 32, x, wp, 1, 1, 65536);
    } else {
      snt_q8_gemm(a, 1, x, w, 1, 1, 65536);
    }
    CHECK(a[0] == -65536 * 16129, "q8 gemm: 65,536 × 127 × -127 gave %d, not %d", a[0], -65536 * 16129);
    free(x), free(w), free(wp);
  }
  snt_q8_force_kernel(-1);
}

static void test_gemm(void) {
  test_gemm_kernel(SNT_Q8_AVX2);
  test_gemm_kernel(SNT_Q8_VNNI);
  snt_q8_force_kernel(SNT_Q8_REF); /* the packed plain loop on its own */
  gemm_case(7, 33, 64, 0, 1);
  snt_q8_force_kernel(-1);
  CHECK(snt_q8_force_kernel(99) == 0, "an unknown kernel was accepted");
  printf("q8 gemm: this CPU runs %s\n", snt_q8_kernel_name(snt_q8_kernel()));
}

/* 2: quantizing weights and activation rows. */
static void test_rows(void) {
  enum { T = 3, K = 40 };
  float x[T * K];
  int8_t wq[T * 64];
  uint8_t xq[T * 64];
  float sw[T], sx[T];
  int32_t sum[T], zx[T];
  for (int i = 0; i < K; i++) {
    x[i] = (float)(i - 20) * 0.37f;       /* [-7.4, 7.03] */
    x[K + i] = 0.0f;
    x[2 * K + i] = 1e-5f * (float)(i + 1); /* all positive: the zero point is 0 */
  }
  CHECK(snt_q8_pad(K) == 64 && snt_q8_pad(64) == 64 && snt_q8_pad(1) == 32, "snt_q8_pad");
  memset(wq, 0x33, sizeof wq);
  snt_q8_weights(wq, sw, sum, x, T, K);
  CHECK(fabsf(sw[0] - 20 * 0.37f / 127) < 1e-7f, "weight scale %g", sw[0]);
  CHECK(wq[0] == -127, "the largest |w| quantizes to -127, got %d", wq[0]);
  CHECK(sw[1] == 0.0f && sum[1] == 0, "a zero row has scale 0 and sum 0, got %g, %d", sw[1], sum[1]);
  int s0 = 0, okw = 1, pad = 1;
  for (int t = 0; t < T; t++)
    for (int k = 0; k < 64; k++) {
      int v = wq[t * 64 + k];
      if (k >= K) pad &= v == 0;
      else okw &= v >= -127 && v <= 127 && fabsf(v * sw[t] - x[t * K + k]) <= sw[t] * 0.5001f;
      if (t == 0) s0 += v;
    }
  CHECK(okw && s0 == sum[0], "weights within half a step, row sum %d == %d", s0, sum[0]);
  memset(xq, 0x33, sizeof xq);
  snt_q8_rows(xq, sx, zx, x, T, K);
  CHECK(fabsf(sx[0] - (7.03f + 7.4f) / 127) < 1e-6f, "row scale %g", sx[0]);
  CHECK(xq[0] == 0 && xq[K - 1] == 127, "min and max map to 0 and 127: %d, %d", xq[0], xq[K - 1]);
  CHECK(xq[20] == zx[0], "x = 0 maps to the zero point exactly: %d vs %d", xq[20], zx[0]);
  CHECK(sx[1] == 0.0f && zx[1] == 0 && xq[64] == 0, "a zero row: scale 0, zero point 0");
  CHECK(zx[2] == 0 && xq[2 * 64 + K - 1] == 127, "an all-positive row uses 0..127");
  int okx = 1;
  pad = 1;
  for (int t = 0; t < T; t++)
    for (int k = 0; k < 64; k++) {
      int v = xq[t * 64 + k];
      if (k >= K) pad &= v == 0;
      else okx &= v <= 127 && fabsf((v - zx[t]) * sx[t] - x[t * K + k]) <= sx[t] * 0.5001f;
    }
  CHECK(okx, "activations within half a step of the input");
  CHECK(pad, "padding after K is zero");

  /* snt_q8_rows (AVX2) against snt_q8_rows_ref, byte for byte */
  int same = 1;
  for (int k = 1; k <= 70; k++) {
    enum { R = 5 };
    float v[R * 70], s1[R], s2[R];
    int32_t z1[R], z2[R];
    uint8_t q1[R * 96], q2[R * 96];
    for (int i = 0; i < R * k; i++) v[i] = (float)((int)(nextr() >> 8) % 20001 - 10000) / (i % 7 + 1) / 997.0f;
    for (int i = 0; i < k; i++) v[k + i] = 0.0f;  /* row 1: zeros */
    for (int i = 0; i < k; i++) v[2 * k + i] = fabsf(v[2 * k + i]); /* row 2: all ≥ 0 */
    memset(q1, 0x55, sizeof q1);
    memset(q2, 0xaa, sizeof q2);
    snt_q8_rows(q1, s1, z1, v, R, k);
    snt_q8_rows_ref(q2, s2, z2, v, R, k);
    same &= memcmp(q1, q2, (size_t)R * snt_q8_pad(k)) == 0 && memcmp(s1, s2, sizeof s1) == 0 &&
            memcmp(z1, z2, sizeof z1) == 0;
  }
  CHECK(same, "snt_q8_rows differs from snt_q8_rows_ref");

  /* snt_q8_dequant_row (AVX2) against snt_q8_dequant_row_ref, bit for bit,
  ** every tail of n, with and without a bias, extreme int32 sums */
  same = 1;
  for (int n = 1; n <= 40; n++)
    for (int with_b = 0; with_b < 2; with_b++) {
      int32_t acc[40], sums[40];
      float sc[40], b[40], y1[40], y2[40];
      for (int o = 0; o < n; o++) {
        acc[o] = (int32_t)(nextr() % 1000000001u) - 500000000; /* |acc − z·sum| < 2^31 */
        sums[o] = (int32_t)(nextr() % 8000001u) - 4000000;
        sc[o] = (float)(nextr() % 1000 + 1) * 1e-5f;
        b[o] = (float)((int)(nextr() % 2001) - 1000) * 1e-3f;
      }
      int32_t z = (int32_t)(nextr() % 128);
      snt_q8_dequant_row(y1, acc, z, sums, 0.0137f, sc, with_b ? b : NULL, n);
      snt_q8_dequant_row_ref(y2, acc, z, sums, 0.0137f, sc, with_b ? b : NULL, n);
      same &= memcmp(y1, y2, sizeof(float) * (size_t)n) == 0;
    }
  CHECK(same, "snt_q8_dequant_row differs from snt_q8_dequant_row_ref");
}

/* 3: the int8 linear layer against float64. Per output the error is bounded
** by the two roundings: |Δ| ≤ Σ_k (|x_k|·sw/2 + |w_k|·sx/2 + sx·sw/4). */
static void test_linear(void) {
  enum { T = 7, K = 200, N = 37 };
  int Kp = snt_q8_pad(K);
  float *x = malloc(sizeof(float) * T * K), *w = malloc(sizeof(float) * N * K), b[N];
  float *y = malloc(sizeof(float) * T * N), *yr = malloc(sizeof(float) * T * N), sx[T], sw[N];
  int32_t zx[T], sum[N];
  uint8_t *xq = malloc((size_t)T * Kp);
  int8_t *wq = malloc((size_t)N * Kp);
  for (int i = 0; i < T * K; i++) x[i] = (float)((int)(nextr() >> 8) % 2001 - 1000) / 300.0f;
  for (int i = 0; i < N * K; i++) w[i] = (float)((int)(nextr() >> 8) % 2001 - 1000) / 20000.0f;
  for (int i = 0; i < N; i++) b[i] = 0.01f * (float)i;
  snt_q8_weights(wq, sw, sum, w, N, K);
  snt_q8 q = {wq, sw, sum, N, K, Kp, 0};
  snt_q8_scratch scr = {xq, sx, zx};
  snt_linear_q8(y, x, &q, b, T, &scr);
  snt_linear_ref(yr, x, w, b, T, K, N);
  int ok = 1;
  double worst = 0;
  for (int t = 0; t < T; t++)
    for (int o = 0; o < N; o++) {
      double bound = 0;
      for (int k = 0; k < K; k++)
        bound += fabs(x[t * K + k]) * sw[o] / 2 + fabs(w[o * K + k]) * sx[t] / 2 + sx[t] * sw[o] / 4;
      double d = fabs((double)y[t * N + o] - yr[t * N + o]);
      ok &= d <= bound * 1.001 + 1e-6;
      worst = d > worst ? d : worst;
    }
  printf("linear_q8: max |Δ| vs float64 %.3g (T=%d K=%d N=%d)\n", worst, T, K, N);
  CHECK(ok, "snt_linear_q8 outside the rounding bound");
  CHECK(worst > 0, "int8 equal to float64 to the bit: the int8 path did not run");
  /* packed weights (the VNNI layout; its plain loop without VNNI): the same floats */
  int8_t *wp = malloc((size_t)snt_q8_pack_rows(N) * Kp);
  float *yp = malloc(sizeof(float) * T * N);
  snt_q8_pack(wp, wq, N, Kp);
  snt_q8 qp = {wp, sw, sum, N, K, Kp, 1};
  snt_linear_q8(yp, x, &qp, b, T, &scr);
  CHECK(memcmp(y, yp, sizeof(float) * T * N) == 0, "snt_linear_q8 on packed weights differs");
  free(x), free(w), free(y), free(yr), free(xq), free(wq), free(wp), free(yp);
}

/* 4: the default model (models/default) read into page-aligned memory; once
** quantized, every page lying wholly inside a quantized tensor is made
** unreadable and the int8 model scores a text. Touching one is SIGSEGV. */
static void test_untouched(void) {
  static const char *dir = "models/default";
  char *cfg = NULL, *voc = NULL, *st = NULL;
  size_t ncfg, nvoc, nst;
  snt_error err = {0};
  char path[256];
  snprintf(path, sizeof path, "%s/config.json", dir);
  if (snt_read_file(path, 1 << 20, &cfg, &ncfg, &err)) {
    SKIP("%s: %s (the mprotect test needs the default model)", path, err.msg);
    return;
  }
  snprintf(path, sizeof path, "%s/vocab.txt", dir);
  int rc = snt_read_file(path, 16 << 20, &voc, &nvoc, &err);
  snprintf(path, sizeof path, "%s/model.safetensors", dir);
  if (!rc) rc = snt_read_file(path, 256 << 20, &st, &nst, &err);
  CHECK(rc == 0, "%s", err.msg);
  long pg = sysconf(_SC_PAGESIZE);
  size_t nmap = (nst + (size_t)pg - 1) / (size_t)pg * (size_t)pg;
  unsigned char *mem = rc ? MAP_FAILED : mmap(NULL, nmap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) goto out;
  memcpy(mem, st, nst);
  snt_model *q = snt_model_open_memory(cfg, ncfg, voc, nvoc, mem, nst, &err);
  CHECK(q != NULL, "open: %s", err.msg);
  if (q && snt_model_quantize(q, &err) != SNT_OK) {
    CHECK(0, "quantize: %s", err.msg);
    snt_model_free(q);
    q = NULL;
  }
  snt_safetensors *t = snt_st_open_memory(mem, nst, &err);
  size_t locked = 0;
  if (q && t) {
    const snt_config *c = snt_model_config(q);
    static const char *lin[] = {"attention.q_lin", "attention.k_lin", "attention.v_lin",
                                "attention.out_lin", "ffn.lin1", "ffn.lin2"};
    for (int l = 0; l <= c->n_layers; l++)
      for (int i = 0; i < (l < c->n_layers ? 6 : 1); i++) {
        char name[128];
        if (l < c->n_layers)
          snprintf(name, sizeof name, "distilbert.transformer.layer.%d.%s.weight", l, lin[i]);
        else
          snprintf(name, sizeof name, "distilbert.embeddings.word_embeddings.weight");
        const snt_st_tensor *x = snt_st_find(t, name);
        CHECK(x != NULL, "%s not in the file", name);
        if (!x) continue;
        uintptr_t a = ((uintptr_t)x->data + (uintptr_t)pg - 1) & ~(uintptr_t)(pg - 1);
        uintptr_t e = ((uintptr_t)x->data + (uintptr_t)x->nbytes) & ~(uintptr_t)(pg - 1); /* F32 or F16 */
        if (e > a && mprotect((void *)a, e - a, PROT_NONE) == 0) locked += e - a;
      }
    printf("int8: %zu KB of the file's linear weights and word embeddings made unreadable\n", locked >> 10);
    CHECK(locked > 0, "no page locked: the test tests nothing");
    snt_state *s = snt_state_new(q, 0, &err);
    int32_t ids[6] = {101, 2023, 3185, 2001, 2307, 102};
    float lg[8];
    CHECK(s && snt_forward(q, s, ids, 6, lg, &err) == SNT_OK, "int8 forward: %s", err.msg);
    snt_state_free(s);
    mprotect(mem, nmap, PROT_READ | PROT_WRITE);
  }
  snt_st_close(t);
  snt_model_free(q);
  munmap(mem, nmap);
out:
  snt_free(cfg), snt_free(voc), snt_free(st);
}

int main(void) {
  (void)shared_dir;
  printf("quant: AVX2 %s, AVX-512 VNNI %s\n", snt_have_avx2() ? "on" : "off",
         snt_have_vnni() ? "on" : "off");
  test_gemm();
  test_rows();
  test_linear();
  test_untouched();
  return check_report("test_quant");
}
