/*
** model_cache.h — the models loaded in this process, shared by every
** connection and thread.
**
**   CachedModel *p = cacheAcquire("/abs/dir", CACHE_F32, &err);  // loads, or shares
**   const snt_model *m = cacheModel(p);               // read-only, any thread
**   cacheRelease(p);                                  // last one frees it
**
** A model folder is keyed by its realpath, so two names (or two connections)
** that point at the same files share one loaded copy: one load per model file
** per process. The embedded default model has the key NULL. A model loads
** with the cache's mutex released (the entry marked "loading"): concurrent
** first calls of one model load it once (the others wait for it), and calls
** on other models never wait for a load; the forward pass itself takes no
** lock (snt.h: a loaded model is read-only). The options of a load (limits,
** SENTIMENT_MMAP) come from the environment: model_cache.c.
**
** Precision: a folder at CACHE_INT8 is a load of its own, quantized in place
** once loaded (snt_model_quantize), so an int8 registration holds its int8
** weights and the F32 tensors int8 leaves alone, never the F32 copy of the
** linears; the same folder at both precisions is two loads (with
** SENTIMENT_MMAP=1, two mappings of one file, sharing its page cache).
**
** No SQLite in here: errors come back in an snt_error, like core/.
*/
#ifndef SNT_MODEL_CACHE_H
#define SNT_MODEL_CACHE_H

#include "snt.h"

typedef struct CachedModel CachedModel;

/* What a registration computes in (sentiment_models.precision). */
enum { CACHE_F32 = 0, CACHE_INT8 = 1 };

/* One reference to the model in folder zKey (a realpath), or to the
** embedded default model when zKey is NULL; loads it if no one holds it.
** Returns NULL and fills err on failure (nothing is cached then: the next
** call tries again). Release the reference with cacheRelease.
** A loaded model whose file has changed on disk since it was loaded
** (snt_model_check_file fails) is not shared: it is set aside for those who
** hold it, and the folder is loaded anew (cacheLoadCount goes up by one). */
CachedModel *cacheAcquire(const char *zKey, int iPrec, snt_error *err);
/* Another reference to a model already held. */
void cacheRetain(CachedModel *p);
/* Drop one reference; the model is freed when the last one goes. NULL: no-op. */
void cacheRelease(CachedModel *p);

const snt_model *cacheModel(const CachedModel *p);
/* Label id whose probability sentiment_score() returns: the label named
** "positive" or "pos" (any case); else 1 for a two-label model; else -1. */
int cachePositiveLabel(const CachedModel *p);

/* 1 when the model of zKey (NULL: embedded) at iPrec is loaded in this process. */
int cacheIsLoaded(const char *zKey, int iPrec);
/* How many times the model of zKey at iPrec has been loaded (int8: built) in
** this process (a test counter: it stays 1 however many connections and
** threads share it). */
long cacheLoadCount(const char *zKey, int iPrec);

/* The embedded default model (ext/default_model.S): 1 and its three files
** when the build has one, 0 when it does not. */
int cacheEmbedded(const char **pConfig, size_t *nConfig, const char **pVocab, size_t *nVocab,
                  const void **pWeights, size_t *nWeights);

#endif
