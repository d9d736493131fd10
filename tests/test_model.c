/*
** test_model.c — the transformer core reproduces HuggingFace's logits.
**
**   1. every fast kernel of core/ops.c against its reference loop;
**   2. every case of ../shared/golden/models/{tiny-distilbert,tiny-bert}/
**      expected.jsonl: logits within 1e-4 of the float64 golden ones (the max
**      difference is printed), same label;
**   3. snt_forward_batch (packed sequences) against snt_forward one by one;
**   4. the same model from memory, as F16, as BF16 and with F32 tensors not
**      4-byte aligned in the file (the conversion / copy paths): F16 and BF16
**      must give bit-identical logits to F32 weights rounded the same way;
**      the F16 decoder is checked on all 65,536 bit patterns;
**   5. two threads sharing one model (a state each) get the one-thread logits.
*/
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "model_fixture.h"
#include "ops.h"
#include "safetensors.h"
#include "snt.h"
#include "util.h"

/* ---- 1. kernels ----------------------------------------------------------- */

static void fill(float *x, size_t n, float scale) {
  for (size_t i = 0; i < n; i++) x[i] = scale * fx_randf();
}

/* max |a − b| / (1 + |b|) */
static double maxdiff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]) / (1 + fabs((double)b[i]));
    if (!(d <= m)) m = d; /* NaN sticks */
  }
  return m;
}

static void test_kernels(void) {
  enum { MAXN = 1 << 16 };
  float *x = malloc(MAXN * 4), *w = malloc(MAXN * 4), *b = malloc(MAXN * 4), *y1 = malloc(MAXN * 4),
        *y2 = malloc(MAXN * 4), *q = malloc(MAXN * 4), *k = malloc(MAXN * 4),
        *v = malloc(MAXN * 4), *s = malloc(MAXN * 4);
  double worst[5] = {0};
  static const int lin[][3] = {{1, 1, 1}, {1, 32, 2}, {7, 33, 19}, {64, 96, 200}, {3, 257, 64}};
  for (size_t c = 0; c < sizeof lin / sizeof lin[0]; c++) {
    int T = lin[c][0], K = lin[c][1], N = lin[c][2];
    fill(x, (size_t)T * K, 2), fill(w, (size_t)N * K, 0.5f), fill(b, (size_t)N, 1);
    for (int withb = 0; withb < 2; withb++) {
      snt_linear(y1, x, w, withb ? b : NULL, T, K, N);
      snt_linear_ref(y2, x, w, withb ? b : NULL, T, K, N);
      double d = maxdiff(y1, y2, (size_t)T * N);
      worst[0] = d > worst[0] ? d : worst[0];
      CHECK(d < 1e-5, "linear T=%d K=%d N=%d bias=%d: diff %g", T, K, N, withb, d);
    }
  }
  static const int ln[][2] = {{1, 1}, {3, 8}, {17, 768}, {5, 1000}};
  for (size_t c = 0; c < sizeof ln / sizeof ln[0]; c++) {
    int T = ln[c][0], D = ln[c][1];
    fill(x, (size_t)T * D, 3), fill(w, (size_t)D, 1), fill(b, (size_t)D, 1);
    for (int i = 0; i < T * D; i++) x[i] += 5; /* an offset: mean subtraction matters */
    snt_layernorm(y1, x, w, b, T, D, 1e-12f);
    snt_layernorm_ref(y2, x, w, b, T, D, 1e-12f);
    double d = maxdiff(y1, y2, (size_t)T * D);
    worst[1] = d > worst[1] ? d : worst[1];
    CHECK(d < 1e-5, "layernorm T=%d D=%d: diff %g", T, D, d);
    memcpy(y1, x, (size_t)T * D * 4); /* in place */
    snt_layernorm(y1, y1, w, b, T, D, 1e-12f);
    CHECK(maxdiff(y1, y2, (size_t)T * D) < 1e-5, "layernorm in place T=%d D=%d", T, D);
  }
  {
    size_t n = 4096;
    for (size_t i = 0; i < n; i++) x[i] = -12.0f + 24.0f * (float)i / (float)n;
    x[0] = 0, x[1] = -0.0f, x[2] = 1e-30f, x[3] = -1e-30f, x[4] = 40, x[5] = -40;
    memcpy(y1, x, n * 4), memcpy(y2, x, n * 4);
    snt_gelu(y1, n), snt_gelu_ref(y2, n);
    worst[2] = maxdiff(y1, y2, n);
    CHECK(worst[2] < 1e-6, "gelu: diff %g", worst[2]);
    CHECK(y1[4] == 40 && y1[5] == 0 && y1[0] == 0, "gelu limits: %g %g %g", y1[4], y1[5], y1[0]);
  }
  static const int sm[][2] = {{1, 1}, {4, 7}, {16, 512}};
  for (size_t c = 0; c < sizeof sm / sizeof sm[0]; c++) {
    int T = sm[c][0], N = sm[c][1];
    fill(x, (size_t)T * N, 30);
    memcpy(y1, x, (size_t)T * N * 4), memcpy(y2, x, (size_t)T * N * 4);
    snt_softmax(y1, T, N), snt_softmax_ref(y2, T, N);
    double d = maxdiff(y1, y2, (size_t)T * N);
    worst[3] = d > worst[3] ? d : worst[3];
    CHECK(d < 1e-6, "softmax T=%d N=%d: diff %g", T, N, d);
  }
  static const int at[][3] = {{1, 8, 2}, {5, 32, 4}, {37, 48, 3}, {128, 64, 4}};
  for (size_t c = 0; c < sizeof at / sizeof at[0]; c++) {
    int T = at[c][0], D = at[c][1], H = at[c][2];
    fill(q, (size_t)T * D, 2), fill(k, (size_t)T * D, 2), fill(v, (size_t)T * D, 1);
    snt_attention(y1, q, k, v, T, D, H, s);
    snt_attention_ref(y2, q, k, v, T, D, H, s);
    double d = maxdiff(y1, y2, (size_t)T * D);
    worst[4] = d > worst[4] ? d : worst[4];
    CHECK(d < 1e-5, "attention T=%d D=%d H=%d: diff %g", T, D, H, d);
  }
  printf("kernels, max |fast - ref| / (1 + |ref|): linear %.2g, layernorm %.2g, gelu %.2g, "
         "softmax %.2g, attention %.2g\n", worst[0], worst[1], worst[2], worst[3], worst[4]);
  free(x), free(w), free(b), free(y1), free(y2), free(q), free(k), free(v), free(s);
}

/* ---- 2. golden logits ----------------------------------------------------- */

typedef struct gcase {
  int32_t *ids;
  int n;
  double logits[8];
  int n_logits;
  char label[64];
} gcase;

typedef struct golden {
  gcase *c;
  int n;
} golden;

static void golden_free(golden *g) {
  for (int i = 0; i < g->n; i++) free(g->c[i].ids);
  free(g->c);
  memset(g, 0, sizeof *g);
}

static int golden_load(const char *path, golden *g) {
  char *buf;
  size_t n;
  snt_error err = {0};
  memset(g, 0, sizeof *g);
  if (snt_read_file(path, 64u << 20, &buf, &n, &err)) {
    CHECK(0, "%s", err.msg);
    return -1;
  }
  int cap = 0, line_no = 0;
  for (char *line = buf, *end; line < buf + n; line = end + 1) {
    end = memchr(line, '\n', (size_t)(buf + n - line));
    if (!end) end = buf + n;
    if (end == line) continue;
    snt_json_doc *doc = snt_json_parse(line, (size_t)(end - line), &err);
    if (!doc) {
      CHECK(0, "%s: %s", path, err.msg);
      break;
    }
    const snt_json *r = snt_json_root(doc);
    const snt_json *ids = snt_json_get(r, "ids"), *lg = snt_json_get(r, "logits"),
                   *lab = snt_json_get(r, "label");
    if (!ids || !lg || !lab || lg->n > 8) {
      CHECK(0, "%s: a line without ids/logits/label", path);
      snt_json_free(doc);
      break;
    }
    /* Under valgrind (make valgrind sets SNT_VALGRIND), every 8th case: the
    ** same code paths at an eighth of the cost. */
    if (getenv("SNT_VALGRIND") && line_no++ % 8 != 0) {
      snt_json_free(doc);
      continue;
    }
    if (g->n == cap) g->c = realloc(g->c, (size_t)(cap = cap ? 2 * cap : 256) * sizeof *g->c);
    gcase *c = &g->c[g->n++];
    c->ids = malloc((size_t)(ids->n ? ids->n : 1) * sizeof *c->ids);
    c->n = 0;
    for (const snt_json *e = ids->child; e; e = e->next) c->ids[c->n++] = (int32_t)e->i;
    c->n_logits = 0;
    for (const snt_json *e = lg->child; e; e = e->next) c->logits[c->n_logits++] = e->num;
    snprintf(c->label, sizeof c->label, "%s", lab->str);
    snt_json_free(doc);
  }
  snt_free(buf);
  return 0;
}

static int argmax(const float *x, int n) {
  int best = 0;
  for (int i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

/* Runs every case one by one into out (n_cases, C); returns max |logit − golden|. */
static double run_golden(const snt_model *m, const golden *g, float *out, const char *what) {
  const snt_config *cfg = snt_model_config(m);
  int C = cfg->n_labels, bad_label = 0;
  double worst = 0;
  snt_error err = {0};
  snt_state *s = snt_state_new(m, 0, &err);
  CHECK(s != NULL, "%s: state: %s", what, err.msg);
  if (!s) return INFINITY;
  for (int i = 0; i < g->n; i++) {
    const gcase *c = &g->c[i];
    float *lg = out + (size_t)i * C;
    int rc = snt_forward(m, s, c->ids, c->n, lg, &err);
    CHECK(rc == SNT_OK, "%s case %d: %s", what, i, err.msg);
    CHECK(c->n_logits == C, "%s case %d: %d golden logits, model has %d", what, i, c->n_logits, C);
    if (rc || c->n_logits != C) continue;
    for (int j = 0; j < C; j++) {
      double d = fabs(lg[j] - c->logits[j]);
      if (!(d <= worst)) worst = d;
    }
    if (strcmp(cfg->labels[argmax(lg, C)], c->label) != 0) bad_label++;
  }
  CHECK(bad_label == 0, "%s: %d labels differ from golden", what, bad_label);
  snt_state_free(s);
  return worst;
}

/* Packs the cases into batches of up to budget tokens; returns max |batch − one-by-one|. */
static double run_batched(const snt_model *m, const golden *g, const float *ref, int budget) {
  int C = snt_model_config(m)->n_labels;
  snt_error err = {0};
  snt_state *s = snt_state_new(m, budget, &err);
  CHECK(s != NULL, "batch state: %s", err.msg);
  if (!s) return INFINITY;
  int32_t *ids = malloc((size_t)budget * sizeof *ids);
  int *off = malloc((size_t)(g->n + 1) * sizeof *off);
  float *lg = malloc((size_t)g->n * C * sizeof *lg);
  double worst = 0;
  int batches = 0, biggest = 0;
  for (int i = 0; i < g->n;) {
    int k = 0, first = i;
    off[0] = 0;
    while (i < g->n && off[k] + g->c[i].n <= budget) {
      memcpy(ids + off[k], g->c[i].ids, (size_t)g->c[i].n * sizeof *ids);
      off[k + 1] = off[k] + g->c[i].n;
      k++, i++;
    }
    int rc = snt_forward_batch(m, s, k, ids, off, lg, &err);
    CHECK(rc == SNT_OK, "batch of %d: %s", k, err.msg);
    if (rc) break;
    for (int j = 0; j < k * C; j++) {
      double d = fabs((double)lg[j] - ref[(size_t)first * C + j]);
      if (!(d <= worst)) worst = d;
    }
    batches++;
    biggest = k > biggest ? k : biggest;
  }
  printf("  %d batches of up to %d sequences / %d tokens\n", batches, biggest, budget);
  free(ids), free(off), free(lg);
  snt_state_free(s);
  return worst;
}

/* Two threads, one model, a state each: the model is read-only, so both get
** the one-thread logits. */
typedef struct worker {
  const snt_model *m;
  const golden *g;
  float *out;
  int failed;
} worker;

static void *worker_run(void *arg) {
  worker *w = arg;
  snt_error err = {0};
  snt_state *s = snt_state_new(w->m, 0, &err);
  int C = snt_model_config(w->m)->n_labels;
  w->failed = !s;
  for (int i = 0; s && i < w->g->n; i++)
    if (snt_forward(w->m, s, w->g->c[i].ids, w->g->c[i].n, w->out + (size_t)i * C, &err)) w->failed++;
  snt_state_free(s);
  return NULL;
}

static void run_threads(const snt_model *m, const golden *g, const float *ref) {
  int C = snt_model_config(m)->n_labels;
  worker w[2];
  pthread_t th[2];
  for (int i = 0; i < 2; i++) {
    w[i] = (worker){m, g, malloc((size_t)g->n * C * sizeof(float)), 0};
    CHECK(pthread_create(&th[i], NULL, worker_run, &w[i]) == 0, "pthread_create");
  }
  for (int i = 0; i < 2; i++) {
    pthread_join(th[i], NULL);
    /* Same kernels on the same data; OpenBLAS splits rows and columns, never
    ** the sum, so in practice this is 0. */
    double d = maxdiff(w[i].out, ref, (size_t)g->n * C);
    CHECK(!w[i].failed && d <= 1e-6, "thread %d: logits differ from the one-thread run by %g", i, d);
    free(w[i].out);
  }
}

static char *slurp(const char *path, size_t *n) {
  char *buf = NULL;
  snt_error err = {0};
  if (snt_read_file(path, 1u << 30, &buf, n, &err)) CHECK(0, "%s", err.msg);
  return buf;
}

/* Logits of every case from a model built from dir's config + vocab and the
** safetensors bytes st; compared bit for bit with want (or returned in out). */
static int run_variant(const char *dir, const unsigned char *st, size_t st_len, const golden *g,
                       float *out) {
  size_t cl, vl;
  char *cfg = slurp(fx_path(dir, "config.json"), &cl);
  char *voc = slurp(fx_path(dir, "vocab.txt"), &vl);
  snt_error err = {0};
  snt_model *m = cfg && voc ? snt_model_open_memory(cfg, cl, voc, vl, st, st_len, &err) : NULL;
  CHECK(m != NULL, "open_memory: %s", err.msg);
  if (m) run_golden(m, g, out, "variant");
  snt_model_free(m);
  snt_free(cfg), snt_free(voc);
  return m ? 0 : -1;
}

/* The golden model re-encoded: every tensor as dtype (F16/BF16) and, as the
** reference, as F32 holding the same rounded values. */
static void test_dtypes(const char *dir, const golden *g, const float *want, int C) {
  snt_error err = {0};
  snt_safetensors *st = snt_st_open(fx_path(dir, "model.safetensors"), &err);
  CHECK(st != NULL, "%s", err.msg);
  if (!st) return;
  size_t nl = (size_t)g->n * C;
  float *a = malloc(nl * 4), *b = malloc(nl * 4);
  for (int bf = 0; bf < 2; bf++) {
    fx_model half = {0}, rounded = {0};
    for (int i = 0; i < snt_st_count(st); i++) {
      const snt_st_tensor *t = snt_st_tensor_at(st, i);
      size_t n = (size_t)t->numel;
      float *f = malloc(n * 4 + 4);
      uint16_t *h = malloc(n * 2 + 2);
      memcpy(f, t->data, n * 4);
      for (size_t j = 0; j < n; j++) {
        h[j] = bf ? fx_f32_to_bf16(f[j]) : fx_f32_to_f16(f[j]);
        f[j] = bf ? snt_bf16_to_f32(h[j]) : snt_f16_to_f32(h[j]);
      }
      fx_add(&half, t->name, bf ? "BF16" : "F16", t->ndim, t->shape, h, n * 2);
      fx_add(&rounded, t->name, "F32", t->ndim, t->shape, f, n * 4);
      free(f), free(h);
    }
    size_t n1, n2;
    unsigned char *b1 = fx_safetensors(&half, 0, &n1), *b2 = fx_safetensors(&rounded, 0, &n2);
    if (run_variant(dir, b1, n1, g, a) == 0 && run_variant(dir, b2, n2, g, b) == 0) {
      CHECK(memcmp(a, b, nl * 4) == 0, "%s logits differ from F32 with the same values",
            bf ? "BF16" : "F16");
      double d = maxdiff(a, want, nl);
      printf("  %s weights: logits bit-identical to rounded F32; max diff to F32 model %.2g\n",
             bf ? "BF16" : "F16", d);
      CHECK(d < 0.05, "%s weights drift %g from the F32 logits", bf ? "BF16" : "F16", d);
    }
    free(b1), free(b2);
    fx_free(&half), fx_free(&rounded);
  }
  /* F32, but every tensor 2 bytes off 4-byte alignment: the copy path. */
  fx_model same = {0};
  for (int i = 0; i < snt_st_count(st); i++) {
    const snt_st_tensor *t = snt_st_tensor_at(st, i);
    fx_add(&same, t->name, "F32", t->ndim, t->shape, t->data, t->nbytes);
  }
  size_t n3;
  unsigned char *b3 = fx_safetensors(&same, 2, &n3);
  if (run_variant(dir, b3, n3, g, a) == 0)
    CHECK(memcmp(a, want, nl * 4) == 0, "misaligned F32 logits differ from the mapped ones");
  /* The buffer itself at an odd address. */
  unsigned char *odd = malloc(n3 + 1);
  memcpy(odd + 1, b3, n3);
  if (run_variant(dir, odd + 1, n3, g, a) == 0)
    CHECK(memcmp(a, want, nl * 4) == 0, "odd-address buffer logits differ");
  free(odd), free(b3);
  fx_free(&same);
  free(a), free(b);
  snt_st_close(st);
}

static void test_f16_decoder(void) {
  int bad = 0;
  for (uint32_t h = 0; h < 65536; h++) {
    int s = h >> 15, e = (h >> 10) & 31, man = h & 1023;
    double want = e == 0 ? ldexp(man, -24) : e == 31 ? (man ? NAN : INFINITY)
                                                     : ldexp(1024 + man, e - 25);
    if (s) want = -want;
    float got = snt_f16_to_f32((uint16_t)h);
    if (isnan(want) ? !isnan(got) : (got != (float)want || !signbit(got) != !signbit(want))) bad++;
  }
  CHECK(bad == 0, "F16 decoder: %d of 65536 bit patterns wrong", bad);
  CHECK(snt_bf16_to_f32(0x3f80) == 1.0f && snt_bf16_to_f32(0xc040) == -3.0f, "BF16 decoder");
}

/* The model of dir turned int8 (snt_model_quantize) on the same cases,
** against the F32 logits f32: label agreement and max / mean |Δlogit|. The
** bounds come from measurement (printed): on these tiny random models, whose
** F32 logits reach ±1–2, int8 (linears and word embeddings) moved them by at
** most 0.041 (tiny-distilbert) and 0.049 (tiny-bert), 0.008–0.011 on average,
** and agreed on 268/268 and 196/198 labels; a wrong product or scale moves
** them by as much as the logits themselves. Also its memory: read into
** memory (the default open), all its weights are owned; once int8, ≤ 30% of
** the F32 weight bytes (the 30% of an int8 registration, docs/int8.md). */
static void test_int8(const char *dir, const golden *g, const float *f32, const char *name) {
  snt_error err = {0};
  snt_model *q = snt_model_open(dir, &err);
  CHECK(q != NULL, "%s: open: %s", name, err.msg);
  if (!q) return;
  size_t f32_bytes = snt_model_weight_bytes(q);
  CHECK(snt_model_owned_bytes(q) == f32_bytes && !snt_model_is_int8(q),
        "%s: read F32 model owns %zu of %zu weight bytes", name, snt_model_owned_bytes(q), f32_bytes);
  CHECK(snt_model_quantize(q, &err) == SNT_OK, "%s: quantize: %s", name, err.msg);
  CHECK(snt_model_quantize(q, &err) == SNT_ERR_ARG && strstr(err.msg, "already int8"),
        "%s: quantizing twice: %s", name, err.msg);
  snt_state *s = snt_state_new(q, 0, &err);
  CHECK(s != NULL, "%s: int8 state: %s", name, err.msg);
  if (!s) {
    snt_model_free(q);
    return;
  }
  int C = snt_model_config(q)->n_labels, agree = 0, n = 0;
  double worst = 0, sum = 0, big = 0;
  float lg[8];
  for (int i = 0; i < g->n; i++) {
    if (snt_forward(q, s, g->c[i].ids, g->c[i].n, lg, &err) != SNT_OK) {
      CHECK(0, "%s: int8 case %d: %s", name, i, err.msg);
      continue;
    }
    const float *r = f32 + (size_t)i * C;
    agree += argmax(lg, C) == argmax(r, C);
    for (int j = 0; j < C; j++) {
      double d = fabs((double)lg[j] - r[j]);
      worst = d > worst ? d : worst;
      big = fabs(r[j]) > big ? fabs(r[j]) : big;
      sum += d, n++;
    }
  }
  printf("  int8: labels agree with F32 on %d/%d, max |dlogit| %.3g, mean %.3g (F32 max |logit| %.3g)\n",
         agree, g->n, worst, n ? sum / n : 0.0, big);
  CHECK(agree >= g->n * 0.98, "%s: int8 labels agree with F32 on only %d of %d", name, agree, g->n);
  CHECK(worst < 0.08, "%s: int8 max |dlogit| %g", name, worst);
  CHECK(n && sum / n < 0.02, "%s: int8 mean |dlogit| %g", name, n ? sum / n : 0.0);
  CHECK(worst > 0, "%s: int8 logits equal F32's to the bit: the int8 path did not run", name);
  printf("  int8: owns %zu bytes, %.1f%% of the %zu F32 weight bytes\n", snt_model_owned_bytes(q),
         100.0 * snt_model_owned_bytes(q) / f32_bytes, f32_bytes);
  CHECK(snt_model_is_int8(q), "%s: snt_model_is_int8", name);
  CHECK(snt_model_weight_bytes(q) == f32_bytes, "%s: weight bytes changed", name);
  CHECK(snt_model_owned_bytes(q) <= f32_bytes * 3 / 10,
        "%s: int8 owns %zu bytes, over 30%% of the %zu F32 weight bytes", name,
        snt_model_owned_bytes(q), f32_bytes);
  snt_state_free(s);
  snt_model_free(q);
}

static void test_golden(const char *shared, const char *name) {
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s/golden/models/%s", shared, name);
  snprintf(path, sizeof path, "%s/expected.jsonl", dir);
  golden g;
  if (golden_load(path, &g)) return;
  snt_error err = {0};
  snt_model *m = snt_model_open(dir, &err);
  CHECK(m != NULL, "%s: %s", dir, err.msg);
  if (!m) {
    golden_free(&g);
    return;
  }
  const snt_config *cfg = snt_model_config(m);
  int C = cfg->n_labels, longest = 0;
  for (int i = 0; i < g.n; i++) longest = g.c[i].n > longest ? g.c[i].n : longest;
  float *one = malloc((size_t)g.n * C * sizeof *one);
  double d = run_golden(m, &g, one, name);
  printf("%s: %d cases (up to %d tokens), max |logit - golden| = %.3g\n", name, g.n, longest, d);
  CHECK(d < 1e-4, "%s: max logit diff %g over 1e-4", name, d);
  double bd = run_batched(m, &g, one, 4096);
  printf("  batched vs one by one: max |diff| = %.3g\n", bd);
  CHECK(bd < 1e-5, "%s: batch differs from one-by-one by %g", name, bd);
  bd = run_batched(m, &g, one, 512);
  CHECK(bd < 1e-5, "%s: batch (512) differs from one-by-one by %g", name, bd);
  run_threads(m, &g, one);
  test_int8(dir, &g, one, name);
  test_dtypes(dir, &g, one, C);
  free(one);
  snt_model_free(m);
  golden_free(&g);
}

int main(void) {
  test_kernels();
  test_f16_decoder();
  const char *shared = shared_dir();
  if (!shared) {
    SKIP("../shared is absent (set SENTIMENT_SHARED): golden logits NOT checked");
  } else {
    test_golden(shared, "tiny-distilbert");
    test_golden(shared, "tiny-bert");
  }
  return check_report("test_model");
}
