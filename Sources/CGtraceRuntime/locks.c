/*
 * locks.c — pthread mutex, rwlock and condition-variable interposers.
 *
 * Every interposer returns exactly what the real function returned. The
 * per-event work (gt_emit) does no syscall and does not touch errno.
 *
 * Blocking acquisitions are split with a real trylock first:
 *   trylock ok          -> LOCK_ACQUIRE
 *   trylock busy/error  -> LOCK_WAIT, real (blocking) call,
 *                          LOCK_ACQUIRED (0, or EOWNERDEAD: u32 = rc) or LOCK_FAILED (u32 = rc)
 * Releases are recorded before the real unlock, so a hand-off reads
 * release -> acquire in time.
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <pthread.h>

/* glibc (2.34+) exports these only as GLIBC_2.2.5 compat versions: bind them
 * at link time (no dlsym at run time, so no bootstrap recursion). */
__asm__(".symver gt_mutex_init, __pthread_mutex_init@GLIBC_2.2.5");
__asm__(".symver gt_mutex_destroy, __pthread_mutex_destroy@GLIBC_2.2.5");
__asm__(".symver gt_mutex_lock, __pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver gt_mutex_trylock, __pthread_mutex_trylock@GLIBC_2.2.5");
__asm__(".symver gt_mutex_unlock, __pthread_mutex_unlock@GLIBC_2.2.5");
__asm__(".symver gt_rw_rdlock, __pthread_rwlock_rdlock@GLIBC_2.2.5");
__asm__(".symver gt_rw_wrlock, __pthread_rwlock_wrlock@GLIBC_2.2.5");
__asm__(".symver gt_rw_tryrdlock, __pthread_rwlock_tryrdlock@GLIBC_2.2.5");
__asm__(".symver gt_rw_trywrlock, __pthread_rwlock_trywrlock@GLIBC_2.2.5");
__asm__(".symver gt_rw_unlock, __pthread_rwlock_unlock@GLIBC_2.2.5");
extern int gt_mutex_init(pthread_mutex_t *, const pthread_mutexattr_t *);
extern int gt_mutex_destroy(pthread_mutex_t *);
extern int gt_mutex_lock(pthread_mutex_t *);
extern int gt_mutex_trylock(pthread_mutex_t *);
extern int gt_mutex_unlock(pthread_mutex_t *);
extern int gt_rw_rdlock(pthread_rwlock_t *);
extern int gt_rw_wrlock(pthread_rwlock_t *);
extern int gt_rw_tryrdlock(pthread_rwlock_t *);
extern int gt_rw_trywrlock(pthread_rwlock_t *);
extern int gt_rw_unlock(pthread_rwlock_t *);

/* ---- mutex -------------------------------------------------------------- */

/* Watched only to locate CPython's GIL (gil.c). */
GT_EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr) {
    int rc = gt_mutex_init(m, attr);
    if (rc == 0 && gt_enabled) {
        int saved = errno;
        gt_gil_mutex_initialised(m);
        errno = saved;
    }
    return rc;
}

/* A subinterpreter's GIL is destroyed before its memory is freed. */
GT_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m) {
    if (GT_UNLIKELY(gt_gil_extra_count != 0) && gt_is_gil_mutex(m)) {
        int saved = errno;
        gt_gil_mutex_destroyed(m);
        errno = saved;
    }
    return gt_mutex_destroy(m);
}

/* The lock's body, with the program's call site (c11threads.c passes its own caller's). */
static inline __attribute__((always_inline)) int gt_mutex_lock_from(pthread_mutex_t *m, uint64_t caller) {
    if (GT_UNLIKELY(gt_is_gil_mutex(m))) return gt_gil_lock(m);
    if (!gt_active()) return gt_mutex_lock(m);
    int rc = gt_mutex_trylock(m);
    if (GT_LIKELY(rc == 0 || rc == EOWNERDEAD)) { /* EOWNERDEAD: robust, now owned */
        gt_emit_acq(GTRACE_RAW_LOCK_ACQUIRE, GTRACE_LOCKF_MUTEX, (uint32_t)rc, A(m), caller);
        return rc;
    }
    gt_emit(GTRACE_RAW_LOCK_WAIT, GTRACE_LOCKF_MUTEX, 0, A(m), caller);
    rc = gt_mutex_lock(m);
    gt_after_wait(m, GTRACE_LOCKF_MUTEX, rc);
    return rc;
}

GT_EXPORT int pthread_mutex_lock(pthread_mutex_t *m) { return gt_mutex_lock_from(m, GT_CALLER()); }

int gt_traced_mutex_lock(pthread_mutex_t *m, uint64_t caller) { return gt_mutex_lock_from(m, caller); }

GT_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m) {
    int rc = gt_mutex_trylock(m);
    if (!gt_active() || GT_UNLIKELY(gt_is_gil_mutex(m))) return rc;
    if (rc == 0 || rc == EOWNERDEAD)
        gt_emit_acq(GTRACE_RAW_LOCK_ACQUIRE, GTRACE_LOCKF_MUTEX, (uint32_t)rc, A(m), 0);
    else
        gt_emit(GTRACE_RAW_LOCK_TRY_FAILED, GTRACE_LOCKF_MUTEX, (uint32_t)rc, A(m), 0);
    return rc;
}

GT_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime) {
    int (*f)(void *, const void *) = GT_REAL(mutex_timedlock);
    if (!gt_active()) return f(m, abstime);
    int rc = gt_mutex_trylock(m);
    if (rc == 0 || rc == EOWNERDEAD) {
        gt_emit_acq(GTRACE_RAW_LOCK_ACQUIRE, GTRACE_LOCKF_MUTEX, (uint32_t)rc, A(m), 0);
        return rc;
    }
    gt_emit(GTRACE_RAW_LOCK_WAIT, GTRACE_LOCKF_MUTEX, 0, A(m), 0);
    rc = f(m, abstime);
    gt_after_wait(m, GTRACE_LOCKF_MUTEX, rc);
    return rc;
}

GT_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock, const struct timespec *abstime) {
    int (*f)(void *, int, const void *) = GT_REAL(mutex_clocklock);
    if (!gt_active()) return f(m, clock, abstime);
    int rc = gt_mutex_trylock(m);
    if (rc == 0 || rc == EOWNERDEAD) {
        gt_emit_acq(GTRACE_RAW_LOCK_ACQUIRE, GTRACE_LOCKF_MUTEX, (uint32_t)rc, A(m), 0);
        return rc;
    }
    gt_emit(GTRACE_RAW_LOCK_WAIT, GTRACE_LOCKF_MUTEX, 0, A(m), 0);
    rc = f(m, clock, abstime);
    gt_after_wait(m, GTRACE_LOCKF_MUTEX, rc);
    return rc;
}

GT_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m) {
    if (GT_UNLIKELY(gt_is_gil_mutex(m))) return gt_gil_unlock(m);
    if (gt_active()) gt_emit_rel(GTRACE_RAW_LOCK_RELEASE, GTRACE_LOCKF_MUTEX, 0, A(m), 0);
    return gt_mutex_unlock(m);
}

/* ---- rwlock ------------------------------------------------------------- */

#define RW_R (GTRACE_LOCKF_RWLOCK | GTRACE_LOCKF_SHARED)
#define RW_W (GTRACE_LOCKF_RWLOCK)

/* Try first; on busy record WAIT and run the blocking call `call`. */
#define GT_RW_LOCK(l, tryfn, flags, call)                                   \
    do {                                                                    \
        int rc_ = tryfn(l);                                                 \
        if (rc_ == 0) {                                                     \
            gt_emit_acq(GTRACE_RAW_LOCK_ACQUIRE, (flags), 0, A(l), GT_CALLER()); \
            return 0;                                                       \
        }                                                                   \
        gt_emit(GTRACE_RAW_LOCK_WAIT, (flags), 0, A(l), GT_CALLER());       \
        rc_ = (call);                                                       \
        gt_after_wait((l), (flags), rc_);                                   \
        return rc_;                                                         \
    } while (0)

GT_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l) {
    if (!gt_active()) return gt_rw_rdlock(l);
    GT_RW_LOCK(l, gt_rw_tryrdlock, RW_R, gt_rw_rdlock(l));
}

GT_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l) {
    if (!gt_active()) return gt_rw_wrlock(l);
    GT_RW_LOCK(l, gt_rw_trywrlock, RW_W, gt_rw_wrlock(l));
}

GT_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *abstime) {
    int (*f)(void *, const void *) = GT_REAL(rw_timedrdlock);
    if (!gt_active()) return f(l, abstime);
    GT_RW_LOCK(l, gt_rw_tryrdlock, RW_R, f(l, abstime));
}

GT_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *abstime) {
    int (*f)(void *, const void *) = GT_REAL(rw_timedwrlock);
    if (!gt_active()) return f(l, abstime);
    GT_RW_LOCK(l, gt_rw_trywrlock, RW_W, f(l, abstime));
}

GT_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t clock, const struct timespec *abstime) {
    int (*f)(void *, int, const void *) = GT_REAL(rw_clockrdlock);
    if (!gt_active()) return f(l, clock, abstime);
    GT_RW_LOCK(l, gt_rw_tryrdlock, RW_R, f(l, clock, abstime));
}

GT_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t clock, const struct timespec *abstime) {
    int (*f)(void *, int, const void *) = GT_REAL(rw_clockwrlock);
    if (!gt_active()) return f(l, clock, abstime);
    GT_RW_LOCK(l, gt_rw_trywrlock, RW_W, f(l, clock, abstime));
}

GT_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *l) {
    int rc = gt_rw_tryrdlock(l);
    if (gt_active())
        gt_emit_acq(rc == 0 ? GTRACE_RAW_LOCK_ACQUIRE : GTRACE_RAW_LOCK_TRY_FAILED, RW_R, (uint32_t)rc, A(l), 0);
    return rc;
}

GT_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *l) {
    int rc = gt_rw_trywrlock(l);
    if (gt_active())
        gt_emit_acq(rc == 0 ? GTRACE_RAW_LOCK_ACQUIRE : GTRACE_RAW_LOCK_TRY_FAILED, RW_W, (uint32_t)rc, A(l), 0);
    return rc;
}

/* The mode being released is decided the way glibc's own unlock decides it:
 * the lock is write-held by us iff __cur_writer holds our tid. */
GT_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l) {
    if (gt_active()) {
        int writer = __atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED);
        uint16_t flags = (uint32_t)writer == gt_gettid() ? RW_W : RW_R;
        gt_emit_rel(GTRACE_RAW_LOCK_RELEASE, flags, 0, A(l), 0);
    }
    return gt_rw_unlock(l);
}

/* ---- condition variables ------------------------------------------------ */

/* Call sites of a condition wait: GT_OUTER_SITE (gtrace_runtime.h). */

#define GT_COND_BEFORE(c, m) GT_COND_BEFORE_FROM(c, m, GT_CALLER())
#define GT_COND_BEFORE_FROM(c, m, caller)                                                 \
    do {                                                                                  \
        gt_emit_rel(GTRACE_RAW_LOCK_RELEASE, GTRACE_LOCKF_MUTEX | GTRACE_LOCKF_VIA_COND, 0, A(m), (caller)); \
        gt_emit(GTRACE_RAW_COND_WAIT, 0, 0, A(c), A(m));                                  \
    } while (0)

#define GT_COND_AFTER(c, m, rc)                                                           \
    do {                                                                                  \
        gt_emit(GTRACE_RAW_COND_WOKE, 0, (uint32_t)(rc), A(c), A(m));                     \
        gt_emit_acq(GTRACE_RAW_LOCK_ACQUIRE, GTRACE_LOCKF_MUTEX | GTRACE_LOCKF_VIA_COND, 0, A(m), outer_); \
    } while (0)

GT_EXPORT __attribute__((optimize("no-omit-frame-pointer"))) int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
    int (*f)(void *, void *) = GT_REAL(cond_wait);
    if (!gt_active() || GT_UNLIKELY(gt_is_gil_mutex(m))) return f(c, m);
    uint64_t outer_ = GT_OUTER_SITE();
    GT_COND_BEFORE(c, m);
    int rc = f(c, m);
    GT_COND_AFTER(c, m, rc);
    return rc;
}

GT_EXPORT __attribute__((optimize("no-omit-frame-pointer"))) int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime) {
    int (*f)(void *, void *, const void *) = GT_REAL(cond_timedwait);
    if (GT_UNLIKELY(gt_is_gil_mutex(m)) && gt_active()) return gt_gil_cond_timedwait(c, m, -1, abstime, GT_REAL(cond_clockwait));
    if (!gt_active() || GT_UNLIKELY(gt_is_gil_mutex(m))) return f(c, m, abstime);
    uint64_t outer_ = GT_OUTER_SITE();
    GT_COND_BEFORE(c, m);
    int rc = f(c, m, abstime);
    GT_COND_AFTER(c, m, rc);
    return rc;
}

/* C11 cnd_wait/cnd_timedwait (c11threads.c): the same, with their caller's sites. */
int gt_traced_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime,
                        uint64_t caller, uint64_t outer_) {
    if (abstime == NULL) {
        int (*f)(void *, void *) = GT_REAL(cond_wait);
        if (!gt_active() || GT_UNLIKELY(gt_is_gil_mutex(m))) return f(c, m);
        GT_COND_BEFORE_FROM(c, m, caller);
        int rc = f(c, m);
        GT_COND_AFTER(c, m, rc);
        return rc;
    }
    int (*f)(void *, void *, const void *) = GT_REAL(cond_timedwait);
    if (!gt_active() || GT_UNLIKELY(gt_is_gil_mutex(m))) return f(c, m, abstime);
    GT_COND_BEFORE_FROM(c, m, caller);
    int rc = f(c, m, abstime);
    GT_COND_AFTER(c, m, rc);
    return rc;
}

GT_EXPORT __attribute__((optimize("no-omit-frame-pointer"))) int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                                     const struct timespec *abstime) {
    int (*f)(void *, void *, int, const void *) = GT_REAL(cond_clockwait);
    if (GT_UNLIKELY(gt_is_gil_mutex(m)) && gt_active()) return gt_gil_cond_timedwait(c, m, clock, abstime, f);
    if (!gt_active() || GT_UNLIKELY(gt_is_gil_mutex(m))) return f(c, m, clock, abstime);
    uint64_t outer_ = GT_OUTER_SITE();
    GT_COND_BEFORE(c, m);
    int rc = f(c, m, clock, abstime);
    GT_COND_AFTER(c, m, rc);
    return rc;
}
