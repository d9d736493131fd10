/* blas_threads.c — see blas_threads.h. */
#include "blas_threads.h"

#include <cblas.h>
#include <pthread.h>

static pthread_mutex_t blasMutex = PTHREAD_MUTEX_INITIALIZER;
static int blasUsers = 0;
static int blasSaved = 1;

/* fork(): the mutex is taken around it, so a child never inherits it held
** (only the forking thread lives on in the child). */
static void blasForkPrepare(void) { pthread_mutex_lock(&blasMutex); }
static void blasForkParent(void) { pthread_mutex_unlock(&blasMutex); }
static void blasForkChild(void) {
  pthread_mutex_init(&blasMutex, NULL);
  blasUsers = 0; /* the forward passes of the parent's other threads are not in the child */
}

__attribute__((constructor)) static void blasInit(void) {
  pthread_atfork(blasForkPrepare, blasForkParent, blasForkChild);
}

void sntBlasEnter(void) {
  pthread_mutex_lock(&blasMutex);
  if (blasUsers++ == 0) {
    blasSaved = openblas_get_num_threads();
    if (blasSaved != 1) openblas_set_num_threads(1);
  }
  pthread_mutex_unlock(&blasMutex);
}

void sntBlasLeave(void) {
  pthread_mutex_lock(&blasMutex);
  if (--blasUsers == 0 && blasSaved != 1) openblas_set_num_threads(blasSaved);
  pthread_mutex_unlock(&blasMutex);
}
