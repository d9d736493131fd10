/*
** tvf.c — the shared parts of the table-valued functions (tvf.h).
*/
#include <string.h>

#include "tvf.h"
SQLITE_EXTENSION_INIT3

#define TVF_MAX_ARGS 8

int sntTvfConnect(sqlite3 *db, void *pAux, const char *zSchema, sqlite3_vtab **ppVtab) {
  int rc = sqlite3_declare_vtab(db, zSchema);
  if (rc != SQLITE_OK) return rc;
  sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
  SntTvf *pVtab = sqlite3_malloc(sizeof *pVtab);
  if (!pVtab) return SQLITE_NOMEM;
  memset(pVtab, 0, sizeof *pVtab);
  pVtab->pConn = pAux;
  *ppVtab = &pVtab->base;
  return SQLITE_OK;
}

int sntTvfDisconnect(sqlite3_vtab *pVtab) {
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

int sntTvfBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo, int iFirst, int nArg,
                    const char *zUsage) {
  int aiCons[TVF_MAX_ARGS], bUnusable = 0;
  if (nArg > TVF_MAX_ARGS) nArg = TVF_MAX_ARGS;
  for (int j = 0; j < TVF_MAX_ARGS; j++) aiCons[j] = -1;
  for (int i = 0; i < pInfo->nConstraint; i++) {
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    int j = c->iColumn - iFirst;
    if (j < 0 || j >= nArg || c->op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
    if (!c->usable) {
      bUnusable = 1;
      continue;
    }
    aiCons[j] = i;
  }
  if (bUnusable) return SQLITE_CONSTRAINT; /* try a plan where they are usable */
  if (aiCons[0] < 0) {
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = sqlite3_mprintf("%s", zUsage);
    return SQLITE_ERROR;
  }
  pInfo->idxNum = 0;
  for (int j = 0; j < nArg && aiCons[j] >= 0; j++) {
    pInfo->aConstraintUsage[aiCons[j]].argvIndex = j + 1;
    pInfo->aConstraintUsage[aiCons[j]].omit = 1;
    pInfo->idxNum |= 1 << j;
  }
  pInfo->estimatedCost = 100;
  pInfo->estimatedRows = 100;
  return SQLITE_OK;
}

int sntTvfError(sqlite3_vtab *pVtab, int rc, char *zErr) {
  sqlite3_free(pVtab->zErrMsg);
  pVtab->zErrMsg = zErr;
  return rc == SQLITE_ERROR && !zErr ? SQLITE_NOMEM : rc;
}

int sntTvfFilterArgs(int idxNum, int argc, sqlite3_value **argv, int nArg, sqlite3_value **apArg,
                     const char **pzModel, int *pbRows) {
  *pzModel = NULL;
  *pbRows = 0;
  if (argc < 1 || !(idxNum & 1)) return SQLITE_OK;
  for (int i = 0; i < argc; i++)
    if (sqlite3_value_type(argv[i]) == SQLITE_NULL) return SQLITE_OK; /* no rows */
  for (int i = 0; i < argc && i < nArg; i++)
    if (!(apArg[i] = sqlite3_value_dup(argv[i]))) return SQLITE_NOMEM;
  if (argc > 1 && nArg > 1 && !(*pzModel = (const char *)sqlite3_value_text(apArg[1])))
    return SQLITE_NOMEM;
  *pbRows = 1;
  return SQLITE_OK;
}
