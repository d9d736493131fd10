/*
** interrupt.h — has this connection been interrupted (sqlite3_interrupt)?
**
** SQLite 3.40 (Debian 12) has no sqlite3_is_interrupted() (3.41+), so this
** steps a prepared "SELECT 1" on the connection: once it is interrupted, that
** step (or the prepare) returns SQLITE_INTERRUPT. About 1 µs a question.
** Only the thread that holds the connection (the one inside a function or a
** virtual table method of it) may ask.
**
**   SntInterrupt in;
**   sntInterruptBegin(&in, db, 0.005);          // no question in the first 5 ms
**   snt_state_set_cancel(state, sntInterruptCancel, &in);
**   ... snt_forward(...) → SNT_ERR_INTERRUPTED within one layer ...
**   sntInterruptEnd(&in);                       // finalizes the probe
*/
#ifndef SNT_INTERRUPT_H
#define SNT_INTERRUPT_H

#include <sqlite3ext.h>

typedef struct SntInterrupt {
  sqlite3 *db;
  sqlite3_stmt *pProbe;  /* "SELECT 1", prepared at the first question */
  double tStart;         /* sntInterruptBegin's time ... */
  double tGrace;         /* ... before which sntInterruptCancel answers 0 unasked */
  int bInterrupted;      /* sticky */
} SntInterrupt;

void sntInterruptBegin(SntInterrupt *p, sqlite3 *db, double tGrace);
/* 1 once db has been interrupted (asks SQLite every time). */
int sntInterrupted(SntInterrupt *p);
/* A cancel callback for snt_state_set_cancel (arg: the SntInterrupt): 0
** during the grace time (short calls never prepare the probe), then
** sntInterrupted. */
int sntInterruptCancel(void *p);
void sntInterruptEnd(SntInterrupt *p);

/* Seconds on the monotonic clock. */
double sntNow(void);

#endif
