/*
** model_cache.c — one loaded copy of each model per process, shared by every
** connection and thread (see model_cache.h).
**
** A list of entries, one per model folder ever asked for (keyed by realpath;
** the embedded model by NULL), each with its loaded model or NULL, the number
** of references held, and how many times it was loaded. One mutex guards the
** list and the counts, and is never held across file I/O or conversion: the
** thread that loads a model marks its entry "loading" and loads with the lock
** released; a second thread asking for that model waits on a condition
** variable and then shares it (or, if the load failed, tries itself), while
** threads asking for other models go on. The lock is taken once per
** connection per model (when a connection first uses a name), never per row.
**
** Options of a load come from the environment, read at each load:
** SENTIMENT_MAX_PARAMS, SENTIMENT_MAX_FLOPS, SENTIMENT_MAX_MODEL_BYTES (the
** limits of core/snt.h) and SENTIMENT_MMAP=1 (F32 weights used in place from
** a mapping, for files only ever replaced by rename; docs/reliability.md).
**
** fork(): pthread_atfork handlers take the mutex around fork, so a child
** never inherits it held; in the child, a load that was running in another
** thread of the parent (a thread the child does not have) is forgotten, so
** the child's first call loads the model itself instead of waiting forever.
**
** An entry whose last reference goes frees its model but stays in the list
** (a key and two counters) so that cacheLoadCount can tell a reload apart.
**
** A model whose file was changed on disk while loaded (snt_model_check_file:
** truncated or rewritten in place) is never handed out again: cacheAcquire
** checks the loaded model of its key (one fstat, under the mutex, once per
** connection per model) and, when the check fails, detaches that entry from
** the list — the connections that still hold it keep it, and their calls get
** the check's error; the last cacheRelease frees it — and puts a new entry
** for the key in its place (the same key and load count), which loads the
** file anew.
*/
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model_cache.h"

struct CachedModel {
  char *zKey;          /* realpath of the model folder; NULL: embedded model */
  int iPrec;           /* CACHE_F32 or CACHE_INT8 */
  snt_model *pModel;   /* NULL while nobody holds it */
  int nRef;            /* references handed out by cacheAcquire/cacheRetain */
  long nLoad;          /* times pModel was loaded */
  int iPositive;       /* cachePositiveLabel() */
  int bDetached;       /* out of the list (a stale file): freed with its last reference */
  int bLoading;        /* a thread is loading pModel, the mutex released */
  CachedModel *pNext;
};

static pthread_mutex_t cacheMutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cacheLoaded = PTHREAD_COND_INITIALIZER; /* a load ended */
static CachedModel *cacheList;

static void cacheForkPrepare(void) { pthread_mutex_lock(&cacheMutex); }
static void cacheForkParent(void) { pthread_mutex_unlock(&cacheMutex); }
/* The child has only the thread that forked: no load is running in it. */
static void cacheForkChild(void) {
  pthread_mutex_init(&cacheMutex, NULL);
  pthread_cond_init(&cacheLoaded, NULL);
  for (CachedModel *p = cacheList; p; p = p->pNext) p->bLoading = 0;
}

__attribute__((constructor)) static void cacheInit(void) {
  /* glibc drops a library's handlers when it is unloaded (dlclose). */
  pthread_atfork(cacheForkPrepare, cacheForkParent, cacheForkChild);
}

/* The embedded model's bytes, from ext/default_model.S (hidden symbols). */
#define HIDDEN __attribute__((visibility("hidden")))
extern const int sntDefaultPresent HIDDEN;
extern const char sntDefaultConfig[] HIDDEN, sntDefaultConfigEnd[] HIDDEN;
extern const char sntDefaultVocab[] HIDDEN, sntDefaultVocabEnd[] HIDDEN;
extern const char sntDefaultWeights[] HIDDEN, sntDefaultWeightsEnd[] HIDDEN;

int cacheEmbedded(const char **pConfig, size_t *nConfig, const char **pVocab, size_t *nVocab,
                  const void **pWeights, size_t *nWeights) {
  if (!sntDefaultPresent) return 0;
  *pConfig = sntDefaultConfig;
  *nConfig = (size_t)(sntDefaultConfigEnd - sntDefaultConfig);
  *pVocab = sntDefaultVocab;
  *nVocab = (size_t)(sntDefaultVocabEnd - sntDefaultVocab);
  *pWeights = sntDefaultWeights;
  *nWeights = (size_t)(sntDefaultWeightsEnd - sntDefaultWeights);
  return 1;
}

static int sameKey(const char *a, const char *b) {
  return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* The entry of zKey at iPrec, or NULL. Caller holds cacheMutex. */
static CachedModel *cacheFind(const char *zKey, int iPrec) {
  for (CachedModel *p = cacheList; p; p = p->pNext)
    if (p->iPrec == iPrec && sameKey(p->zKey, zKey)) return p;
  return NULL;
}

static int positiveLabel(const snt_config *cfg) {
  for (int i = 0; i < cfg->n_labels; i++) {
    const char *z = cfg->labels[i];
    if (z && (strcasecmp(z, "positive") == 0 || strcasecmp(z, "pos") == 0)) return i;
  }
  return cfg->n_labels == 2 ? 1 : -1;
}

/* $zName as a positive number into *pOut (untouched when unset); an error
** naming the variable when it is set to anything else. */
static int envLimit(const char *zName, uint64_t *pOut, snt_error *err) {
  const char *z = getenv(zName);
  if (!z || !*z) return SNT_OK;
  char *zEnd;
  errno = 0;
  double v = strtod(z, &zEnd);
  while (*zEnd == ' ') zEnd++;
  if (errno || *zEnd || !(v >= 1) || v > 1.8e19) {
    snprintf(err->msg, sizeof err->msg,
             "%s='%.100s' is not a positive number (a limit, e.g. 2e9; see docs/reliability.md)",
             zName, z);
    return err->code = SNT_ERR_ARG;
  }
  *pOut = (uint64_t)v;
  return SNT_OK;
}

/* The options of a load, from the environment (see the header comment). */
static int loadOptions(snt_open_opts *o, snt_error *err) {
  memset(o, 0, sizeof *o);
  const char *zMmap = getenv("SENTIMENT_MMAP");
  o->map_weights = zMmap && strcmp(zMmap, "1") == 0;
  if (envLimit("SENTIMENT_MAX_PARAMS", &o->max_params, err) ||
      envLimit("SENTIMENT_MAX_FLOPS", &o->max_flops, err) ||
      envLimit("SENTIMENT_MAX_MODEL_BYTES", &o->max_bytes, err))
    return err->code;
  return SNT_OK;
}

static snt_model *loadF32(const char *zKey, snt_error *err) {
  if (zKey) {
    snt_open_opts opts;
    if (loadOptions(&opts, err) != SNT_OK) return NULL;
    return snt_model_open_ex(zKey, &opts, err);
  }
  const char *zConfig, *zVocab;
  const void *pWeights;
  size_t nConfig, nVocab, nWeights;
  if (!cacheEmbedded(&zConfig, &nConfig, &zVocab, &nVocab, &pWeights, &nWeights)) {
    err->code = SNT_ERR_ARG;
    strcpy(err->msg, "this build embeds no default model");
    return NULL;
  }
  return snt_model_open_memory(zConfig, nConfig, zVocab, nVocab, pWeights, nWeights, err);
}

/* The model of zKey at iPrec, loaded now (int8: loaded, then quantized in
** place, so that the F32 bytes of its linears are gone before it is used). */
static snt_model *loadModel(const char *zKey, int iPrec, snt_error *err) {
  snt_model *m = loadF32(zKey, err);
  if (m && iPrec == CACHE_INT8 && snt_model_quantize(m, err) != SNT_OK) {
    snt_model_free(m);
    return NULL;
  }
  return m;
}

/* p (in the list, its model loaded and held) failed snt_model_check_file:
** replace it in the list with a new entry for its key, without a model, and
** return that; p lives on, detached, until its last reference goes. NULL
** when out of memory (nothing changed). Caller holds cacheMutex. */
static CachedModel *cacheDetach(CachedModel *p) {
  CachedModel *pNew = calloc(1, sizeof *pNew);
  if (!pNew) return NULL;
  CachedModel **pp = &cacheList;
  while (*pp != p) pp = &(*pp)->pNext;
  *pp = p->pNext;
  pNew->zKey = p->zKey; /* the key moves over: p keeps nothing cacheFind sees */
  pNew->iPrec = p->iPrec;
  pNew->nLoad = p->nLoad;
  pNew->pNext = cacheList;
  cacheList = pNew;
  p->zKey = NULL;
  p->pNext = NULL;
  p->bDetached = 1;
  return pNew;
}

/* cacheAcquire with cacheMutex held (released while a model loads, and
** taken again before returning). */
static CachedModel *acquireLocked(const char *zKey, int iPrec, snt_error *err) {
  CachedModel *p;
  for (;;) {
    p = cacheFind(zKey, iPrec);
    if (!p || !p->bLoading) break;
    /* Someone loads it: wait for the outcome, then look again (the entry
    ** may have been detached meanwhile). */
    pthread_cond_wait(&cacheLoaded, &cacheMutex);
  }
  if (p && p->pModel) {
    snt_error check;
    check.code = SNT_OK;
    if (snt_model_check_file(p->pModel, &check) != SNT_OK && !(p = cacheDetach(p))) {
      err->code = SNT_ERR_NOMEM;
      strcpy(err->msg, "out of memory");
      return NULL;
    }
  }
  if (!p) {
    p = calloc(1, sizeof *p);
    if (!p || (zKey && !(p->zKey = strdup(zKey)))) {
      free(p);
      err->code = SNT_ERR_NOMEM;
      strcpy(err->msg, "out of memory");
      return NULL;
    }
    p->iPrec = iPrec;
    p->pNext = cacheList;
    cacheList = p;
  }
  if (!p->pModel) {
    /* Load with the lock released: other models stay usable
    ** meanwhile; those asking for this one wait (bLoading). The entry stays
    ** in the list (entries leave it only when detached, and a loading one has
    ** no model to be stale). */
    p->bLoading = 1;
    pthread_mutex_unlock(&cacheMutex);
    snt_model *pModel = loadModel(zKey, iPrec, err);
    pthread_mutex_lock(&cacheMutex);
    p->bLoading = 0;
    pthread_cond_broadcast(&cacheLoaded);
    if (!pModel) return NULL;
    p->pModel = pModel;
    p->nLoad++;
    p->iPositive = positiveLabel(snt_model_config(p->pModel));
  }
  p->nRef++;
  return p;
}

CachedModel *cacheAcquire(const char *zKey, int iPrec, snt_error *err) {
  pthread_mutex_lock(&cacheMutex);
  CachedModel *p = acquireLocked(zKey, iPrec, err);
  pthread_mutex_unlock(&cacheMutex);
  return p;
}

void cacheRetain(CachedModel *p) {
  pthread_mutex_lock(&cacheMutex);
  p->nRef++;
  pthread_mutex_unlock(&cacheMutex);
}

void cacheRelease(CachedModel *p) {
  if (!p) return;
  snt_model *pFree = NULL;
  CachedModel *pEntryFree = NULL;
  pthread_mutex_lock(&cacheMutex);
  if (--p->nRef == 0) {
    pFree = p->pModel;
    p->pModel = NULL;
    if (p->bDetached) pEntryFree = p; /* in no list: nobody can find it again */
  }
  pthread_mutex_unlock(&cacheMutex);
  snt_model_free(pFree); /* outside the lock: freeing or unmapping takes a while */
  free(pEntryFree);
}

const snt_model *cacheModel(const CachedModel *p) { return p->pModel; }

int cachePositiveLabel(const CachedModel *p) { return p->iPositive; }

int cacheIsLoaded(const char *zKey, int iPrec) {
  pthread_mutex_lock(&cacheMutex);
  CachedModel *p = cacheFind(zKey, iPrec);
  int loaded = p && p->pModel;
  pthread_mutex_unlock(&cacheMutex);
  return loaded;
}

long cacheLoadCount(const char *zKey, int iPrec) {
  pthread_mutex_lock(&cacheMutex);
  CachedModel *p = cacheFind(zKey, iPrec);
  long n = p ? p->nLoad : 0;
  pthread_mutex_unlock(&cacheMutex);
  return n;
}

/* When sentiment.so is unloaded (the last connection that loaded it closed),
** every reference is gone: free the bookkeeping too. */
__attribute__((destructor)) static void cacheShutdown(void) {
  pthread_mutex_lock(&cacheMutex);
  CachedModel **pp = &cacheList;
  while (*pp) {
    CachedModel *p = *pp;
    if (p->nRef == 0 && !p->bLoading) {
      *pp = p->pNext;
      free(p->zKey);
      free(p);
    } else {
      pp = &p->pNext;
    }
  }
  pthread_mutex_unlock(&cacheMutex);
}
