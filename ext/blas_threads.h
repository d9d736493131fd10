/*
** blas_threads.h — the one place the extension touches OpenBLAS's thread
** count, which is a single setting for the whole process.
**
** While any of our forward passes runs (a scalar call or a scan's workers),
** OpenBLAS is held at 1 thread, then put back to what it was when the first
** of them started. Why: at batch 1 the second BLAS thread costs more than it
** gives (measured 0.27 s vs 0.19 s for the same scalar loop), and several
** host threads calling a multi-threaded OpenBLAS at once oversubscribe its
** shared pool (4 Python threads: 14.5 s vs 0.5 s). Bulk scans get their
** parallelism from their own workers (ext/scan_vtab.c). Other threads of the
** host that call BLAS meanwhile run single-threaded: slower, never wrong.
*/
#ifndef SNT_BLAS_THREADS_H
#define SNT_BLAS_THREADS_H

void sntBlasEnter(void);
void sntBlasLeave(void);

#endif
