/*
** test_sha256.c — core/sha256.c against known answers: the FIPS 180-2
** examples ("abc", the 448-bit message, a million 'a'), the empty message,
** lengths around the 55/56/64-byte padding edges (against sha256sum, via
** the same bytes hashed whole and fed in pieces), and snt_sha256_file on a
** file written here and on a missing one.
*/
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

static void hexOf(const void *p, size_t n, char hex[65]) {
  snt_sha256_ctx c;
  uint8_t d[32];
  snt_sha256_init(&c);
  snt_sha256_update(&c, p, n);
  snt_sha256_final(&c, d);
  snt_sha256_hex(d, hex);
}

int main(void) {
  static const struct {
    const char *zIn;
    const char *zHex;
  } aKnown[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
      {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
      {"The quick brown fox jumps over the lazy dog",
       "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"},
  };
  char hex[65], hex2[65];
  (void)shared_dir; /* check.h's; no shared data needed */
  for (size_t i = 0; i < sizeof aKnown / sizeof aKnown[0]; i++) {
    hexOf(aKnown[i].zIn, strlen(aKnown[i].zIn), hex);
    CHECK(strcmp(hex, aKnown[i].zHex) == 0, "sha256('%s') = %s", aKnown[i].zIn, hex);
  }

  /* A million 'a', fed 1,000 bytes at a time, then in uneven pieces. */
  static char a[1000000];
  memset(a, 'a', sizeof a);
  const char *zMillion = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
  hexOf(a, sizeof a, hex);
  CHECK(strcmp(hex, zMillion) == 0, "a million 'a': %s", hex);
  snt_sha256_ctx c;
  uint8_t d[32];
  snt_sha256_init(&c);
  for (size_t off = 0, k = 1; off < sizeof a; off += k, k = k * 7 % 1031 + 1)
    snt_sha256_update(&c, a + off, off + k > sizeof a ? sizeof a - off : k);
  snt_sha256_final(&c, d);
  snt_sha256_hex(d, hex);
  CHECK(strcmp(hex, zMillion) == 0, "a million 'a' in uneven pieces: %s", hex);

  /* Every length from 0 to 200 (each padding case): whole = byte by byte. */
  unsigned char msg[200];
  for (int i = 0; i < 200; i++) msg[i] = (unsigned char)(i * 31 + 7);
  int nBad = 0;
  for (size_t n = 0; n <= sizeof msg; n++) {
    hexOf(msg, n, hex);
    snt_sha256_init(&c);
    for (size_t i = 0; i < n; i++) snt_sha256_update(&c, msg + i, 1);
    snt_sha256_final(&c, d);
    snt_sha256_hex(d, hex2);
    nBad += strcmp(hex, hex2) != 0;
  }
  CHECK(nBad == 0, "%d lengths differ hashed whole and byte by byte", nBad);
  /* 55, 56 and 64 bytes of 'a' (one or two padding blocks), known answers. */
  hexOf(a, 55, hex);
  CHECK(strcmp(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318") == 0,
        "55 x 'a': %s", hex);
  hexOf(a, 56, hex);
  CHECK(strcmp(hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a") == 0,
        "56 x 'a': %s", hex);
  hexOf(a, 64, hex);
  CHECK(strcmp(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb") == 0,
        "64 x 'a': %s", hex);

  /* The file reader: a file of the million 'a', and a missing file. */
  char path[] = "/tmp/test_sha256_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0 && write(fd, a, sizeof a) == (ssize_t)sizeof a, "cannot write %s", path);
  if (fd >= 0) close(fd);
  snt_error err = {0};
  CHECK(snt_sha256_file(path, hex, &err) == SNT_OK && strcmp(hex, zMillion) == 0,
        "snt_sha256_file: %s %s", hex, err.msg);
  unlink(path);
  CHECK(snt_sha256_file(path, hex, &err) == SNT_ERR_IO && strstr(err.msg, path) &&
            strstr(err.msg, "No such file"),
        "missing file: %s", err.msg);
  snt_alloc_fail_after(1);
  CHECK(snt_sha256_file("/dev/null", hex, &err) == SNT_ERR_NOMEM, "allocation failure: %s",
        err.msg);
  snt_alloc_fail_after(0);
  return check_report("test_sha256");
}
