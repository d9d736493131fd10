/*
** sha256.c — SHA-256 (FIPS 180-4), for the sha256 column of sentiment_models
** and the model part of sentiment_version(): which weights produced a score.
**
**   snt_sha256_ctx c;
**   snt_sha256_init(&c);
**   snt_sha256_update(&c, data, n);          // any number of times
**   snt_sha256_final(&c, digest);            // 32 bytes
**   snt_sha256_hex(digest, hex);             // 64 lowercase hex digits + NUL
**   snt_sha256_file("/m/model.safetensors", hex, &err);
**
** A plain implementation of the standard, one block at a time: no
** dependency (OpenSSL would be a fourth library). tests/test_sha256.c checks
** it against the FIPS 180-2 example vectors and the NIST short messages.
*/
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t ror(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

/* One 64-byte block into the state. */
static void compress(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64], a, b, c, d, e, f, g, k;
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
           p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

void snt_sha256_init(snt_sha256_ctx *c) {
  static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->h, h0, sizeof h0);
  c->n = 0;
  c->nBuf = 0;
}

void snt_sha256_update(snt_sha256_ctx *c, const void *data, size_t n) {
  const uint8_t *p = data;
  c->n += n;
  if (c->nBuf) { /* fill the partial block first */
    size_t k = 64 - c->nBuf < n ? 64 - c->nBuf : n;
    memcpy(c->buf + c->nBuf, p, k);
    c->nBuf += k, p += k, n -= k;
    if (c->nBuf < 64) return;
    compress(c->h, c->buf);
    c->nBuf = 0;
  }
  for (; n >= 64; p += 64, n -= 64) compress(c->h, p);
  memcpy(c->buf, p, n);
  c->nBuf = n;
}

void snt_sha256_final(snt_sha256_ctx *c, uint8_t digest[32]) {
  uint64_t bits = c->n * 8;
  uint8_t pad[72] = {0x80};
  size_t nPad = (c->nBuf < 56 ? 56 : 120) - c->nBuf; /* to 56 mod 64, then the length */
  for (int i = 0; i < 8; i++) pad[nPad + i] = (uint8_t)(bits >> (56 - 8 * i));
  snt_sha256_update(c, pad, nPad + 8);
  for (int i = 0; i < 32; i++) digest[i] = (uint8_t)(c->h[i / 4] >> (24 - 8 * (i % 4)));
}

void snt_sha256_hex(const uint8_t digest[32], char hex[65]) {
  static const char x[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) hex[2 * i] = x[digest[i] >> 4], hex[2 * i + 1] = x[digest[i] & 15];
  hex[64] = 0;
}

int snt_sha256_file(const char *path, char hex[65], snt_error *err) {
  enum { CHUNK = 1 << 20 };
  snt_sha256_ctx c;
  uint8_t digest[32];
  uint8_t *buf = snt_malloc(CHUNK);
  int fd, rc = SNT_OK;
  if (!buf) return snt_error_set(err, SNT_ERR_NOMEM, "out of memory");
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
    snt_free(buf);
    return snt_error_set(err, SNT_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  }
  snt_sha256_init(&c);
  for (;;) {
    ssize_t k = read(fd, buf, CHUNK);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) {
      rc = snt_error_set(err, SNT_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
      break;
    }
    if (k == 0) break;
    snt_sha256_update(&c, buf, (size_t)k);
  }
  close(fd);
  snt_free(buf);
  if (rc == SNT_OK) {
    snt_sha256_final(&c, digest);
    snt_sha256_hex(digest, hex);
  }
  return rc;
}
