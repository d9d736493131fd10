/* interrupt.c — see interrupt.h. */
#include <time.h>

#include "interrupt.h"
SQLITE_EXTENSION_INIT3

double sntNow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void sntInterruptBegin(SntInterrupt *p, sqlite3 *db, double tGrace) {
  p->db = db;
  p->pProbe = NULL;
  p->tGrace = tGrace;
  p->tStart = tGrace > 0 ? sntNow() : 0;
  p->bInterrupted = 0;
}

int sntInterrupted(SntInterrupt *p) {
  if (p->bInterrupted) return 1;
  if (!p->pProbe) {
    int rc = sqlite3_prepare_v2(p->db, "SELECT 1", -1, &p->pProbe, NULL);
    if (rc == SQLITE_INTERRUPT) return p->bInterrupted = 1;
    if (rc != SQLITE_OK) return 0; /* cannot tell (out of memory): go on */
  }
  int rc = sqlite3_step(p->pProbe);
  sqlite3_reset(p->pProbe);
  return p->bInterrupted = rc == SQLITE_INTERRUPT;
}

int sntInterruptCancel(void *pArg) {
  SntInterrupt *p = pArg;
  if (p->tGrace > 0 && sntNow() - p->tStart < p->tGrace) return 0;
  return sntInterrupted(p);
}

void sntInterruptEnd(SntInterrupt *p) {
  sqlite3_finalize(p->pProbe);
  p->pProbe = NULL;
}
