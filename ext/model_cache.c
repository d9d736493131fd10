/*
** model_cache.c — one loaded copy of each model per process, shared by every
** connection and thread (see model_cache.h).
**
** A list of entries, one per model folder ever asked for (keyed by realpath;
** the embedded model by NULL), each with its loaded model or NULL, the number
** of references held, and how many times it was loaded. One mutex guards the
** list, the counts and the loading itself: a second thread asking for a model
** that is being loaded waits and then shares it. The lock is taken once per
** connection per model (when a connection first uses a name), never per row.
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
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model_cache.h"

struct CachedModel {
  char *zKey;          /* realpath of the model folder; NULL: embedded model */
  int iPrec;           /* CACHE_F32 or CACHE_INT8 */
  CachedModel *pBase;  /* int8, while loaded: the F32 entry it borrows from (one reference) */
  snt_model *pModel;   /* NULL while nobody holds it */
  int nRef;            /* references handed out by cacheAcquire/cacheRetain */
  long nLoad;          /* times pModel was loaded */
  int iPositive;       /* cachePositiveLabel() */
  int bDetached;       /* out of the list (a stale file): freed with its last reference */
  CachedModel *pNext;
};

static pthread_mutex_t cacheMutex = PTHREAD_MUTEX_INITIALIZER;
static CachedModel *cacheList;

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

static snt_model *loadModel(const char *zKey, snt_error *err) {
  if (zKey) return snt_model_open(zKey, err);
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

static void releaseLocked(CachedModel *p, snt_model **ppFree, CachedModel **ppBase,
                          CachedModel **ppEntry);

/* cacheAcquire with cacheMutex held. */
static CachedModel *acquireLocked(const char *zKey, int iPrec, snt_error *err) {
  CachedModel *p = cacheFind(zKey, iPrec);
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
    if (iPrec == CACHE_INT8) {
      /* The F32 model of the same folder (loaded or shared), then its twin. */
      CachedModel *pBase = acquireLocked(zKey, CACHE_F32, err);
      if (!pBase) return NULL;
      p->pModel = snt_model_quantize(cacheModel(pBase), err);
      if (!p->pModel) {
        /* Out of memory: drop the F32 reference again (freeing it here, under
        ** the lock, if it was loaded just now: a rare path). */
        snt_model *pFree = NULL;
        CachedModel *pNone = NULL, *pEntry = NULL;
        releaseLocked(pBase, &pFree, &pNone, &pEntry);
        snt_model_free(pFree);
        free(pEntry);
        return NULL;
      }
      p->pBase = pBase;
    } else {
      p->pModel = loadModel(zKey, err);
      if (!p->pModel) return NULL;
    }
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

/* Drop one reference to p with cacheMutex held: at zero, *ppFree gets its
** model, *ppBase the F32 entry it held (int8), *ppEntry p itself when it was
** detached — for the caller to free / release after unlocking. */
static void releaseLocked(CachedModel *p, snt_model **ppFree, CachedModel **ppBase,
                          CachedModel **ppEntry) {
  if (--p->nRef > 0) return;
  *ppFree = p->pModel;
  *ppBase = p->pBase;
  p->pModel = NULL;
  p->pBase = NULL;
  if (p->bDetached) *ppEntry = p; /* in no list: nobody can find it again */
}

void cacheRelease(CachedModel *p) {
  while (p) {
    snt_model *pFree = NULL;
    CachedModel *pBase = NULL, *pEntryFree = NULL;
    pthread_mutex_lock(&cacheMutex);
    releaseLocked(p, &pFree, &pBase, &pEntryFree);
    pthread_mutex_unlock(&cacheMutex);
    snt_model_free(pFree); /* outside the lock: unmapping takes a while */
    free(pEntryFree);
    p = pBase; /* an int8 twin, freed: now its F32 model's reference */
  }
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
    if (p->nRef == 0) {
      *pp = p->pNext;
      free(p->zKey);
      free(p);
    } else {
      pp = &p->pNext;
    }
  }
  pthread_mutex_unlock(&cacheMutex);
}
