/*
 * threads.c — thread lifetime: pthread_create (trampoline), pthread_exit,
 * pthread_setname_np.
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct gt_start {
    void *(*fn)(void *);
    void *arg;
    uint32_t creator;
    int c11; /* fn is a C11 thrd_start_t: returns int (glibc converts it the same way) */
};

static void *gt_trampoline(void *p) {
    struct gt_start s = *(struct gt_start *)p;
    struct gt_tls *t = &gt_tls;
    t->guard++;
    free(p);
    t->guard--;
    uint32_t tid = gt_gettid();
    long off = gt_tid_offset;
    if (off >= 0) {
        int v;
        memcpy(&v, (const char *)pthread_self() + off, 4);
        if ((uint32_t)v != tid) gt_tid_offset = -1;
    }
    if (gt_enabled && t->state == GT_UNINIT) {
        t->started = 1; /* the first chunk must not add THREAD_START(0) */
        gt_emit(GTRACE_RAW_THREAD_START, 0, s.creator, 0, 0);
        gt_emit_own_name();
    }
    void *ret = s.c11 ? (void *)(intptr_t)((int (*)(void *))(uintptr_t)s.fn)(s.arg) : s.fn(s.arg);
    if (gt_active()) {
        int saved = errno;
        gt_emit(GTRACE_RAW_THREAD_END, GTRACE_THREAD_END_RETURN, 0, 0, gt_thread_cpu_ns());
        gt_emit_clock_sync();
        errno = saved;
    }
    return ret;
}

GT_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
    return gt_thread_create(th, attr, fn, arg, 0);
}

int gt_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg, int c11) {
    int (*f)(void *, const void *, void *(*)(void *), void *) = GT_REAL(pthread_create);
    if (!gt_enabled) return f(th, attr, fn, arg);
    struct gt_tls *t = &gt_tls;
    int saved = errno;
    t->guard++;
    struct gt_start *s = malloc(sizeof *s);
    t->guard--;
    errno = saved;
    /* Traced lazily, THREAD_START(0). A C11 start routine's int then comes back in the
     * low half of the thread's result, which is all thrd_join reads. */
    if (s == NULL) return f(th, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    s->creator = gt_gettid();
    s->c11 = c11;
    int rc = f(th, attr, gt_trampoline, s);
    if (rc != 0) {
        saved = errno;
        t->guard++;
        free(s);
        t->guard--;
        errno = saved;
    }
    return rc;
}

GT_EXPORT void pthread_exit(void *ret) {
    if (gt_active()) {
        int saved = errno;
        gt_emit(GTRACE_RAW_THREAD_END, GTRACE_THREAD_END_PTHREAD_EXIT, 0, 0, gt_thread_cpu_ns());
        gt_emit_clock_sync();
        errno = saved;
    }
    GT_REAL(pthread_exit)(ret);
}

GT_EXPORT int pthread_setname_np(pthread_t th, const char *name) {
    int rc = GT_REAL(pthread_setname_np)((unsigned long)th, name);
    if (rc == 0 && gt_active()) {
        int saved = errno;
        uint32_t tid = 0;
        if (pthread_equal(th, pthread_self())) {
            tid = gt_gettid();
        } else if (gt_tid_offset >= 0) {
            int v;
            memcpy(&v, (const char *)th + gt_tid_offset, 4);
            tid = v > 0 ? (uint32_t)v : 0; /* 0: thread already exited */
        }
        gt_emit_name(tid, name);
        errno = saved;
    }
    return rc;
}
