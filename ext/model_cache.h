/*
** model_cache.h — the models loaded in this process, shared by every
** connection and thread.
**
**   CachedModel *p = cacheAcquire("/abs/dir", &err);  // loads, or shares
**   const snt_model *m = cacheModel(p);               // read-only, any thread
**   cacheRelease(p);                                  // last one frees it
**
** A model folder is keyed by its realpath, so two names (or two connections)
** that point at the same files share one loaded copy: one load per model file
** per process. The embedded default model has the key NULL. Loading happens
** under the cache's mutex, so concurrent first calls load once; the forward
** pass itself takes no lock (snt.h: a loaded model is read-only).
**
** No SQLite in here: errors come back in an snt_error, like core/.
*/
#ifndef SNT_MODEL_CACHE_H
#define SNT_MODEL_CACHE_H

#include "snt.h"

typedef struct CachedModel CachedModel;

/* One reference to the model in folder zKey (a realpath), or to the
** embedded default model when zKey is NULL; loads it if no one holds it.
** Returns NULL and fills err on failure (nothing is cached then: the next
** call tries again). Release the reference with cacheRelease.
** A loaded model whose file has changed on disk since it was loaded
** (snt_model_check_file fails) is not shared: it is set aside for those who
** hold it, and the folder is loaded anew (cacheLoadCount goes up by one). */
CachedModel *cacheAcquire(const char *zKey, snt_error *err);
/* Another reference to a model already held. */
void cacheRetain(CachedModel *p);
/* Drop one reference; the model is freed when the last one goes. NULL: no-op. */
void cacheRelease(CachedModel *p);

const snt_model *cacheModel(const CachedModel *p);
/* Label id whose probability sentiment_score() returns: the label named
** "positive" or "pos" (any case); else 1 for a two-label model; else -1. */
int cachePositiveLabel(const CachedModel *p);

/* 1 when the model of zKey (NULL: embedded) is loaded in this process. */
int cacheIsLoaded(const char *zKey);
/* How many times the model of zKey has been loaded in this process (a test
** counter: it stays 1 however many connections and threads share it). */
long cacheLoadCount(const char *zKey);

/* The embedded default model (ext/default_model.S): 1 and its three files
** when the build has one, 0 when it does not. */
int cacheEmbedded(const char **pConfig, size_t *nConfig, const char **pVocab, size_t *nVocab,
                  const void **pWeights, size_t *nWeights);

#endif
