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

/* Start blocks of threads being created, claimed with a compare-and-swap:
 * neither the creator nor the new thread calls malloc or free. A new thread's
 * first free() gives it a malloc arena (and tcache) that a program whose
 * threads never allocate would not have (tools/workloads/thread_arenas.c: 5
 * heaps traced against 1). malloc only when every slot is in use: that many
 * threads being created at the same moment. */
#define GT_START_SLOTS 256
static struct gt_start gt_start_slots[GT_START_SLOTS];
static int gt_start_used[GT_START_SLOTS];
static unsigned gt_start_next;

static struct gt_start *gt_start_claim(void) {
    unsigned first = __atomic_fetch_add(&gt_start_next, 1, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < GT_START_SLOTS; i++) {
        unsigned k = (first + i) % GT_START_SLOTS;
        int expected = 0;
        if (__atomic_compare_exchange_n(&gt_start_used[k], &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return &gt_start_slots[k];
    }
    struct gt_tls *t = &gt_tls;
    int saved = errno;
    t->guard++;
    struct gt_start *s = malloc(sizeof *s);
    t->guard--;
    errno = saved;
    return s;
}

/* After the block was read (the release store orders the reads before it). */
static void gt_start_release(struct gt_start *s) {
    if (s >= gt_start_slots && s < gt_start_slots + GT_START_SLOTS) {
        __atomic_store_n(&gt_start_used[s - gt_start_slots], 0, __ATOMIC_RELEASE);
        return;
    }
    struct gt_tls *t = &gt_tls;
    int saved = errno;
    t->guard++;
    free(s);
    t->guard--;
    errno = saved;
}

static void *gt_trampoline(void *p) {
    struct gt_start s = *(struct gt_start *)p;
    struct gt_tls *t = &gt_tls;
    gt_start_release(p);
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
    struct gt_start *s = gt_start_claim();
    /* Traced lazily, THREAD_START(0). A C11 start routine's int then comes back in the
     * low half of the thread's result, which is all thrd_join reads. */
    if (s == NULL) return f(th, attr, fn, arg);
    s->fn = fn;
    s->arg = arg;
    s->creator = gt_gettid();
    s->c11 = c11;
    int rc = f(th, attr, gt_trampoline, s);
    if (rc != 0) gt_start_release(s);
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
