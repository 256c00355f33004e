/*
 * c11threads.c — C11 <threads.h> interposers: mtx_*, cnd_*, thrd_create, thrd_join.
 *
 * glibc implements them over its pthread functions, calling those inside
 * libc, where no interposer sees the call: a C11 program's mutexes were
 * "waits gtrace cannot see" (futex calls inside libc) and its threads had no
 * creator. Each wrapper does what glibc's does — the pthread call on the same
 * object (mtx_t and cnd_t are glibc's pthread types), its result mapped with
 * thrd_err_map — through gtrace's pthread wrappers, so the records are the
 * pthread ones (a C11 mutex is a mutex in the trace), with the program's call
 * sites.
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <threads.h>

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is glibc's pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is glibc's pthread_cond_t");
_Static_assert(sizeof(thrd_t) == sizeof(pthread_t), "thrd_t is glibc's pthread_t");

/* glibc's thrd_err_map. */
static int gt_thrd_result(int rc) {
    switch (rc) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
    }
}

GT_EXPORT int mtx_lock(mtx_t *m) {
    return gt_thrd_result(gt_traced_mutex_lock((pthread_mutex_t *)m, GT_CALLER()));
}

GT_EXPORT int mtx_trylock(mtx_t *m) {
    return gt_thrd_result(pthread_mutex_trylock((pthread_mutex_t *)m));
}

GT_EXPORT int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict abstime) {
    return gt_thrd_result(pthread_mutex_timedlock((pthread_mutex_t *)m, abstime));
}

GT_EXPORT int mtx_unlock(mtx_t *m) {
    return gt_thrd_result(pthread_mutex_unlock((pthread_mutex_t *)m));
}

GT_EXPORT __attribute__((optimize("no-omit-frame-pointer"))) int cnd_wait(cnd_t *c, mtx_t *m) {
    return gt_thrd_result(gt_traced_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m, NULL, GT_CALLER(), GT_OUTER_SITE()));
}

GT_EXPORT __attribute__((optimize("no-omit-frame-pointer"))) int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
                                                                               const struct timespec *restrict abstime) {
    return gt_thrd_result(gt_traced_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m, abstime, GT_CALLER(), GT_OUTER_SITE()));
}

GT_EXPORT int cnd_signal(cnd_t *c) {
    return gt_thrd_result(pthread_cond_signal((pthread_cond_t *)c));
}

GT_EXPORT int cnd_broadcast(cnd_t *c) {
    return gt_thrd_result(pthread_cond_broadcast((pthread_cond_t *)c));
}

GT_EXPORT int thrd_create(thrd_t *th, thrd_start_t fn, void *arg) {
    if (!gt_enabled) {
        int (*f)(unsigned long *, int (*)(void *), void *) = GT_REAL(thrd_create);
        if (f != NULL) return f((unsigned long *)th, fn, arg);
    }
    return gt_thrd_result(gt_thread_create((pthread_t *)th, NULL, (void *(*)(void *))(uintptr_t)fn, arg, 1));
}

/* glibc: the thread's result (an int returned as a pointer-sized value) cast back. */
GT_EXPORT int thrd_join(thrd_t th, int *res) {
    void *ret = NULL;
    int rc = pthread_join((pthread_t)th, &ret);
    if (rc == 0 && res != NULL) *res = (int)(intptr_t)ret;
    return gt_thrd_result(rc);
}
