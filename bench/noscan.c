/*
** bench/noscan.c — for build/bench/sentiment-noscan.so only: the library as
** it was before sentiment_scan, registering nothing in its place, so that
** bench/run.sh can time the scalar functions with and without the scan.
*/
#include <sqlite3ext.h>

#include "registry.h"

int sntRegisterScanVtab(sqlite3 *db, SntConn *p) {
  (void)db, (void)p;
  return SQLITE_OK;
}
