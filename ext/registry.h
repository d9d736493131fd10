/*
** registry.h — per-connection state: the model names a connection knows
** (what `SELECT * FROM sentiment_models` lists) and the scratch buffers its
** calls reuse.
**
**   name ─► SntEntry (folder path) ─► CachedModel (model_cache.h, shared)
**                                 └─► snt_state + logits (this connection's)
**
** One SntConn per connection, created by sqlite3_sentiment_init and handed to
** every function and module it registers as their pApp/pAux; each of those
** registrations holds a reference (sntConnRef) and its destructor drops it
** (sntConnUnref), so the SntConn lives exactly as long as something points at
** it. A connection is used by one thread at a time (SQLite serialises calls on
** it), so nothing here takes a lock; the shared part is in model_cache.c.
**
** A name's model is loaded lazily: the first call that needs it attaches the
** entry (sntEntryAttach), which takes a cache reference and allocates this
** connection's snt_state for it; later calls reuse both.
*/
#ifndef SNT_REGISTRY_H
#define SNT_REGISTRY_H

#include <sqlite3ext.h>

#include "model_cache.h"
#include "snt.h"

typedef struct SntEntry {
  sqlite3_int64 iRowid;  /* rowid in sentiment_models: stable, never reused */
  char *zName;
  char *zPath;           /* model folder; NULL: the embedded default model */
  int iPrec;             /* CACHE_F32 (the default) or CACHE_INT8: sentiment_models.precision */
  snt_config cfg;        /* config.json for the listing, parsed on demand ... */
  int eCfg;              /* ... 0: not yet, 1: parsed into cfg, 2: failed */
  CachedModel *pModel;   /* NULL until the first call that needs the model */
  snt_state *pState;     /* this connection's scratch for pModel */
  float *aLogit;         /* (n_labels): the logits of the last text scored ... */
  char *zLast;           /* ... which was zLast[0..nLast) when bLast is 1, kept so */
  size_t nLast, nLastAlloc; /* that sentiment(t), sentiment_score(t) in one row */
  int bLast;             /* run the model once */
  char zSha256[65];      /* hex SHA-256 of the folder's model.safetensors, valid */
  int bSha256;           /* when bSha256 is 1, for the file whose (st_dev, st_ino, */
  long long aShaStat[5]; /* st_size, st_mtim s, ns) these are (model_hash.c) */
} SntEntry;

typedef struct SntConn {
  int nRef;              /* registrations pointing here */
  sqlite3 *db;           /* the connection (for sntConnCheckShadow) */
  int bResolved;         /* set when a statement resolves sentiment_models to us */
  int bDirect;           /* sentiment_register() was used: no shadow check */
  SntEntry **apEntry;    /* in rowid order */
  int nEntry, nAlloc;
  sqlite3_int64 iNextRowid;
  snt_tokens toks;       /* the last text's tokens, reused */
  int32_t *aId;          /* toks' ids, contiguous for snt_forward */
  int nIdAlloc;
  int nThread;           /* what sentiment_threads() set; 0: the default */
} SntConn;

/* Threads the connection's calls use: sentiment_scan's workers, and the
** team that splits each scalar call's products (snt_state_set_threads).
** sentiment_threads(n) when set, else sntDefaultThreads(). */
int sntConnThreads(const SntConn *p);
/* $SENTIMENT_THREADS when it holds a number in 1..64, else the number of
** online CPUs (at most 8). Also the process-wide budget (snt_pool_set_budget)
** that scalar calls on every connection and thread share. */
int sntDefaultThreads(void);

/* A new SntConn with the one entry 'default' (the folder in $SENTIMENT_MODEL,
** else the embedded model) and a reference count of 0. NULL when out of
** memory. */
SntConn *sntConnNew(void);
void sntConnRef(SntConn *p);
/* Drops one reference; frees at zero. A destructor for sqlite3_create_*_v2. */
void sntConnUnref(void *p);

SntEntry *sntConnFind(SntConn *p, const char *zName);
SntEntry *sntConnFindRowid(SntConn *p, sqlite3_int64 iRowid);
/* The first entry with a rowid greater than iRowid, or NULL. */
SntEntry *sntConnNext(SntConn *p, sqlite3_int64 iRowid);

/* Register folder zPath under zName at precision iPrec (CACHE_F32 or
** CACHE_INT8; the folder must exist and hold a config.json that parses; its
** realpath is stored). With bReplace an existing zName is replaced, else it
** is an error. Returns an SQLite code; on error *pzErr is an sqlite3_malloc'd
** message (NULL for SQLITE_NOMEM). */
int sntConnAdd(SntConn *p, const char *zName, const char *zPath, int iPrec, int bReplace,
               char **pzErr);
/* Drop the entry of iRowid (its model reference too); no-op if absent. */
void sntConnRemove(SntConn *p, sqlite3_int64 iRowid);

/* The entry named zName (NULL: 'default') with its model loaded, for a call
** of zFunc (e.g. "sentiment()"), after sntConnCheckShadow. Returns SQLITE_OK,
** SQLITE_NOMEM (no message) or SQLITE_ERROR with *pzErr = "zFunc: <cause>"
** (sqlite3_malloc'd). */
int sntConnModel(SntConn *p, const char *zFunc, const char *zName, SntEntry **ppEntry,
                 char **pzErr);

/* Does the name sentiment_models still reach this registry? A table or view
** of that name in an opened or attached database hides the eponymous table:
** INSERTs into it register nothing, silently. SQLITE_OK when it does (or when
** the connection registers with sentiment_register(), which no schema can
** hide, or when it cannot be told: SQLITE_BUSY, SQLITE_AUTH...); else
** SQLITE_ERROR with *pzErr = "zFunc: a table or view named sentiment_models
** …" (sqlite3_malloc'd), or SQLITE_NOMEM. One sqlite3_prepare (~4 µs);
** sntConnModel calls it. */
int sntConnCheckShadow(SntConn *p, const char *zFunc, char **pzErr);

/* Before a call of zFunc uses the weights of e's model (attached by
** sntConnModel): SQLITE_OK when its model.safetensors is unchanged on disk
** since it was loaded (snt_model_check_file: one fstat, no lock). Else
** SQLITE_ERROR with *pzErr = "zFunc: model file '…' was changed on disk while
** loaded …" (sqlite3_malloc'd), or SQLITE_NOMEM. The entry keeps failing until
** the name is registered again (DELETE + INSERT) or the connection reopened:
** the next load then reads the file anew (model_cache.h). */
int sntEntryCheckFile(SntEntry *e, const char *zFunc, char **pzErr);

/* The entry's config for the listing: the loaded model's, else config.json
** parsed (once) from its folder or the embedded model; NULL when neither can
** be read. Reads no weights. */
const snt_config *sntEntryConfig(SntEntry *e);

/* Tokenize text[0..n) for e's model into p->toks (truncated to the model's
** max length) and p->aId. Returns an SNT_* code, err filled. */
int sntConnTokenize(SntConn *p, SntEntry *e, const char *text, size_t n, snt_error *err);

#endif
