/*
 * spinlocks.c — pthread_spin_lock/trylock/unlock interposers.
 *
 * A thread that finds a spinlock taken spins on a CPU until it is free: the
 * scheduler sees it running, and without these records its spinning counted
 * as work ("the threads ran in parallel" for threads that took turns). The
 * protocol is the mutexes' (locks.c): a real trylock first; when busy,
 * LOCK_WAIT, the real (spinning) lock, LOCK_ACQUIRED. The flag
 * GTRACE_LOCKF_SPIN makes the lock a spinlock in the trace (raw records only).
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <pthread.h>

GT_EXPORT int pthread_spin_lock(pthread_spinlock_t *l) {
    int (*lock)(volatile int *) = GT_REAL(spin_lock);
    if (GT_UNLIKELY(lock == NULL)) return ENOSYS;
    if (!gt_active()) return lock(l);
    if (GT_REAL(spin_trylock)(l) == 0) {
        gt_emit_acq(GTRACE_RAW_LOCK_ACQUIRE, GTRACE_LOCKF_SPIN, 0, A(l), GT_CALLER());
        return 0;
    }
    gt_emit(GTRACE_RAW_LOCK_WAIT, GTRACE_LOCKF_SPIN, 0, A(l), GT_CALLER());
    int rc = lock(l);
    gt_after_wait(l, GTRACE_LOCKF_SPIN, rc);
    return rc;
}

GT_EXPORT int pthread_spin_trylock(pthread_spinlock_t *l) {
    int (*trylock)(volatile int *) = GT_REAL(spin_trylock);
    if (GT_UNLIKELY(trylock == NULL)) return ENOSYS;
    int rc = trylock(l);
    if (!gt_active()) return rc;
    if (rc == 0)
        gt_emit_acq(GTRACE_RAW_LOCK_ACQUIRE, GTRACE_LOCKF_SPIN, 0, A(l), 0);
    else
        gt_emit(GTRACE_RAW_LOCK_TRY_FAILED, GTRACE_LOCKF_SPIN, (uint32_t)rc, A(l), 0);
    return rc;
}

GT_EXPORT int pthread_spin_unlock(pthread_spinlock_t *l) {
    int (*unlock)(volatile int *) = GT_REAL(spin_unlock);
    if (GT_UNLIKELY(unlock == NULL)) return ENOSYS;
    if (gt_active()) gt_emit_rel(GTRACE_RAW_LOCK_RELEASE, GTRACE_LOCKF_SPIN, 0, A(l), 0);
    return unlock(l);
}
