/*
** tvf.h — what the table-valued functions (sentiment_tokens,
** sentiment_explain) share: a vtab that knows its SntConn, and a planner
** that turns positional hidden arguments into xFilter's argv.
**
**   SELECT * FROM sentiment_explain('text', 'model', 'word');
**   -- the hidden columns text, model, granularity = argv[0], argv[1], argv[2]
*/
#ifndef SNT_TVF_H
#define SNT_TVF_H

#include "registry.h"

typedef struct SntTvf {
  sqlite3_vtab base;
  SntConn *pConn;        /* the pAux of the module's registration */
} SntTvf;

/* The body of an xConnect: declares zSchema, marks the table
** SQLITE_VTAB_INNOCUOUS (it reads only models the connection registered
** itself, or the default) and allocates an SntTvf for pAux. */
int sntTvfConnect(sqlite3 *db, void *pAux, const char *zSchema, sqlite3_vtab **ppVtab);
int sntTvfDisconnect(sqlite3_vtab *pVtab);

/* An xBestIndex for nArg positional arguments, the hidden columns iFirst ..
** iFirst+nArg-1: equality constraints on a prefix of them (the text, then
** the model, …) become argv[0], argv[1], …, and idxNum has bit i set for
** argument i. Without the first one the query is an error, zUsage (e.g.
** "sentiment_tokens(): needs a text: …"), rather than an empty table. */
int sntTvfBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo, int iFirst, int nArg,
                    const char *zUsage);

/* The start of an xFilter whose argv is sntTvfBestIndex's: SQLITE_OK with
** *pbRows 0 (no rows) when the text is absent or any argument is NULL.
** Otherwise *pbRows is 1, each of the first nArg arguments is copied to
** apArg[i] (the cursor's, for the hidden columns; the caller frees them) and
** *pzModel is the model apArg[1] names, or NULL for the default. */
int sntTvfFilterArgs(int idxNum, int argc, sqlite3_value **argv, int nArg, sqlite3_value **apArg,
                     const char **pzModel, int *pbRows);

/* Sets pVtab's error to zErr (sqlite3_malloc'd, owned from here; NULL means
** out of memory) and returns rc, or SQLITE_NOMEM for SQLITE_ERROR without a
** message. */
int sntTvfError(sqlite3_vtab *pVtab, int rc, char *zErr);

#endif
