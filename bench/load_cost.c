/*
** bench/load_cost.c — what reading the weights into memory (the default)
** costs against mapping them (SENTIMENT_MMAP=1, map_weights 1): load time and
** resident memory, anonymous and file-backed, after the load and after one
** forward pass of 128 tokens (which touches every weight); and the same for
** the model turned int8 after the load (snt_model_quantize, what a precision
** 'int8' registration does), the load time then including quantizing.
**
**   make build/bench/load_cost
**   build/bench/load_cost models/default           # a model folder
**   build/bench/load_cost --random-base /tmp/rb    # writes (once) and measures a
**                                                  # random DistilBERT-base (268 MB)
**
** Each measurement runs in a fresh child process (fork) so that its RSS
** starts from nothing; the file is read once first, so the page cache is
** warm for every run (the load-time figures are CPU and memory copies, not
** disk). Prints the median of 5 load times per mode.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/model_fixture.h"
#include "snt.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* RssAnon and RssFile of this process, in MB. */
static void rss(double *anon, double *file) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  *anon = *file = -1;
  while (f && fgets(line, sizeof line, f)) {
    long kb;
    if (sscanf(line, "RssAnon: %ld", &kb) == 1) *anon = kb / 1024.0;
    if (sscanf(line, "RssFile: %ld", &kb) == 1) *file = kb / 1024.0;
  }
  if (f) fclose(f);
}

typedef struct Result {
  double load_s, anon0, file0, anon1, file1;
} Result;

static Result measure(const char *dir, int map, int int8) {
  int fd[2];
  Result r = {-1, -1, -1, -1, -1};
  if (pipe(fd) != 0) return r;
  pid_t pid = fork();
  if (pid == 0) {
    snt_open_opts o = {0};
    o.map_weights = map;
    snt_error err = {0};
    double a, f;
    rss(&a, &f);
    double t0 = now();
    snt_model *m = snt_model_open_ex(dir, &o, &err);
    if (m && int8 && snt_model_quantize(m, &err) != SNT_OK) _exit(1);
    r.load_s = now() - t0;
    if (!m) {
      fprintf(stderr, "load_cost: %s\n", err.msg);
      _exit(1);
    }
    rss(&r.anon0, &r.file0);
    r.anon0 -= a;
    r.file0 -= f;
    snt_state *s = snt_state_new(m, 128, &err);
    int32_t ids[128];
    int V = snt_model_config(m)->vocab_size;
    for (int i = 0; i < 128; i++) ids[i] = i == 0 ? 101 % V : i == 127 ? 102 % V : (i * 7919) % V;
    float logits[64];
    /* One forward touches every layer; the embedding rows only of these ids. */
    if (snt_forward(m, s, ids, 128, logits, &err) != SNT_OK) _exit(1);
    snt_state_free(s);
    rss(&r.anon1, &r.file1);
    r.anon1 -= a;
    r.file1 -= f;
    if (write(fd[1], &r, sizeof r) != sizeof r) _exit(1);
    snt_model_free(m);
    _exit(0);
  }
  close(fd[1]);
  if (read(fd[0], &r, sizeof r) != sizeof r) r.load_s = -1;
  close(fd[0]);
  waitpid(pid, NULL, 0);
  return r;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  char buf[1 << 16];
  if (argc == 3 && strcmp(argv[1], "--random-base") == 0) {
    struct stat sb;
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", argv[2]);
    if (stat(path, &sb) != 0) {
      mkdir(argv[2], 0755);
      fx_model m = {0};
      fx_tiny_model(&m, 0, 30522, 512, 768, 3072, 6, 2);
      fx_write_model(path, &m, 0);
      fx_free(&m);
      snprintf(path, sizeof path, "%s/config.json", argv[2]);
      fx_write_text(path, "{\"model_type\": \"distilbert\", \"vocab_size\": 30522, \"dim\": 768,"
                          " \"n_layers\": 6, \"n_heads\": 12, \"hidden_dim\": 3072,"
                          " \"max_position_embeddings\": 512}");
      snprintf(path, sizeof path, "%s/vocab.txt", argv[2]);
      FILE *f = fopen(path, "w");
      if (!f) fx_die(path);
      for (int i = 0; i < 30522; i++)
        fprintf(f, "%s\n", i == 0     ? "[PAD]"
                           : i == 100 ? "[UNK]"
                           : i == 101 ? "[CLS]"
                           : i == 102 ? "[SEP]"
                           : i == 103 ? "[MASK]"
                                      : (snprintf(buf, sizeof buf, "w%d", i), buf));
      fclose(f);
    }
    argv[1] = argv[2];
  } else if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL_DIR | --random-base DIR\n", argv[0]);
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/model.safetensors", argv[1]);
  FILE *f = fopen(path, "rb"); /* warm the page cache */
  size_t total = 0, k;
  while (f && (k = fread(buf, 1, sizeof buf, f)) > 0) total += k;
  if (f) fclose(f);
  printf("%s: model.safetensors %.1f MB\n", argv[1], total / 1e6);
  printf("%-9s %7s %22s %22s\n", "mode", "load (s)", "after load anon/file", "after forward anon/file");
  for (int mode = 0; mode < 4; mode++) {
    int map = mode & 1, int8 = mode >> 1;
    double t[5];
    Result r = {0};
    for (int i = 0; i < 5; i++) {
      r = measure(argv[1], map, int8);
      t[i] = r.load_s;
    }
    qsort(t, 5, sizeof t[0], cmp);
    printf("%-9s %7.3f %11.0f / %5.0f MB %11.0f / %5.0f MB\n",
           (const char *[]){"copy", "mmap", "copy int8", "mmap int8"}[mode], t[2], r.anon0, r.file0,
           r.anon1, r.file1);
  }
  return 0;
}
