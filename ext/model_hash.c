/* model_hash.c — see model_hash.h. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "model_hash.h"

static pthread_once_t embeddedOnce = PTHREAD_ONCE_INIT;
static char zEmbedded[65];

static void hashEmbedded(void) {
  const char *zConfig, *zVocab;
  const void *pWeights;
  size_t nConfig, nVocab, nWeights;
  snt_sha256_ctx c;
  uint8_t digest[32];
  if (!cacheEmbedded(&zConfig, &nConfig, &zVocab, &nVocab, &pWeights, &nWeights)) return;
  snt_sha256_init(&c);
  snt_sha256_update(&c, pWeights, nWeights);
  snt_sha256_final(&c, digest);
  snt_sha256_hex(digest, zEmbedded);
}

const char *sntEmbeddedSha256(void) {
  pthread_once(&embeddedOnce, hashEmbedded);
  return zEmbedded[0] ? zEmbedded : NULL;
}

int sntEntrySha256(SntEntry *e, const char **pzHex) {
  char zFile[4096];
  struct stat st;
  snt_error err = {0};
  *pzHex = NULL;
  if (!e->zPath) {
    *pzHex = sntEmbeddedSha256();
    return SQLITE_OK;
  }
  if (snprintf(zFile, sizeof zFile, "%s/model.safetensors", e->zPath) >= (int)sizeof zFile ||
      stat(zFile, &st) != 0 || !S_ISREG(st.st_mode)) {
    e->bSha256 = 0;
    return SQLITE_OK;
  }
  long long aStat[5] = {(long long)st.st_dev, (long long)st.st_ino, (long long)st.st_size,
                        (long long)st.st_mtim.tv_sec, (long long)st.st_mtim.tv_nsec};
  if (!e->bSha256 || memcmp(aStat, e->aShaStat, sizeof aStat) != 0) {
    e->bSha256 = 0;
    int rc = snt_sha256_file(zFile, e->zSha256, &err);
    if (rc == SNT_ERR_NOMEM) return SQLITE_NOMEM;
    if (rc != SNT_OK) return SQLITE_OK; /* unreadable: NULL */
    memcpy(e->aShaStat, aStat, sizeof aStat);
    e->bSha256 = 1;
  }
  *pzHex = e->zSha256;
  return SQLITE_OK;
}
