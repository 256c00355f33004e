/*
 * pylocks.c — Python's own locks as locks (lock kind "Python lock").
 *
 * Up to CPython 3.13, threading.Lock, RLock, Condition, Semaphore, Event and
 * queue.Queue are built on PyThread locks, which are POSIX semaphores
 * (USE_SEMAPHORES): acquire = sem_trywait (with the GIL held), then, when the
 * lock is busy, sem_wait / sem_timedwait / sem_clockwait with the GIL
 * released; release = sem_post. In a CPython process (≤ 3.13) the runtime
 * records them as lock events with GTRACE_LOCKF_SEMAPHORE:
 *   sem_trywait that took it                → LOCK_ACQUIRE
 *   a blocking wait: it was busy            → LOCK_WAIT, then LOCK_ACQUIRED
 *                                             (or LOCK_FAILED: timeout, EINTR)
 *   sem_post                                → LOCK_RELEASE (before posting)
 * The first acquisition of each semaphore in a process with the GIL held is
 * followed by its Python location (pyframes.c), which names the lock.
 * The blocking waits need none: the thread's Python line is the one at its
 * last GIL release. blocking.c keeps its BLOCK_BEGIN/END records for the
 * waits and calls the hooks below.
 *
 * A semaphore used as a counter (multiprocessing, a C extension) is recorded
 * the same way; a lock released by another thread than its holder (a
 * Condition's waiter lock) is a hand-over, as in CPython. Outside CPython,
 * or from 3.14 on (PyMutex: parking lot on semaphores, pymutex.c), a sem_post
 * is recorded as a waker (GTRACE_WAKER_SEM_POST): the replay ends the
 * sem_wait it woke there instead of guessing the waker by time. From 3.14 on,
 * named semaphores (sem_open: multiprocessing's locks) are still recorded as
 * Python locks (namedsems.c). Outside those, a semaphore made with value 1 is
 * recorded the same way as a lock of kind "semaphore" (binarysems.c).
 */
#include "gtrace_runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <semaphore.h>

static int gt_pylocks_on;
/* CPython ≥ 3.14: only its named semaphores are locks. */
static int gt_pylocks_named;

/* The lock flag the runtime records semaphore s with: a Python lock, a binary
 * semaphore (binarysems.c), or 0 (not a lock: waits and wakers). */
static inline uint16_t gt_sem_lock_flag(const void *s) {
    if (gt_pylocks_on || (gt_pylocks_named && gt_named_sem(s))) return GTRACE_LOCKF_SEMAPHORE;
    return gt_binary_sem(s) ? GTRACE_LOCKF_BINARY_SEM : 0;
}
static int (*gt_real_sem_post)(sem_t *);
static int (*gt_real_sem_trywait)(sem_t *);
static int (*gt_real_sem_init)(sem_t *, int, unsigned int);

#define GT_PYLOCK_SEEN 4096u
static uint64_t gt_pylock_seen[GT_PYLOCK_SEEN];

void gt_pylocks_init(uint32_t version_hex) {
    gt_real_sem_post = (int (*)(sem_t *))dlsym(RTLD_NEXT, "sem_post");
    gt_real_sem_trywait = (int (*)(sem_t *))dlsym(RTLD_NEXT, "sem_trywait");
    gt_real_sem_init = (int (*)(sem_t *, int, unsigned int))dlsym(RTLD_NEXT, "sem_init");
    if ((version_hex >> 24) == 3 && ((version_hex >> 16) & 0xff) <= 13) gt_pylocks_on = 1;
    else if ((version_hex >> 24) == 3) gt_pylocks_named = 1;
}

void gt_pylocks_fork_child(void) {
    for (unsigned i = 0; i < GT_PYLOCK_SEEN; i++) gt_pylock_seen[i] = 0;
}

/* The semaphore at s is new: its next acquisition is located again. */
static void gt_pylock_forget(uintptr_t s) {
    uint32_t h = gt_address_slot(s, GT_PYLOCK_SEEN);
    for (uint32_t k = 0; k < 8; k++) {
        uint64_t *slot = &gt_pylock_seen[(h + k) % GT_PYLOCK_SEEN];
        if (__atomic_load_n(slot, __ATOMIC_RELAXED) == s) __atomic_store_n(slot, 1, __ATOMIC_RELAXED); /* tombstone */
    }
}

/* 1 the first time this semaphore is acquired in this process (table full: 0).
 * A forgotten semaphore's slot (a tombstone) is taken again: without that, the
 * eight slots an address can use filled up with tombstones of the locks
 * created and freed there (import locks by the thousand) and a later lock of
 * that region was never located (a spawned worker's multiprocessing lock). */
static int gt_pylock_first(uintptr_t s) {
    uint32_t h = gt_address_slot(s, GT_PYLOCK_SEEN);
    uint64_t *tomb = NULL, *empty = NULL;
    for (uint32_t k = 0; k < 8 && empty == NULL; k++) {
        uint64_t *slot = &gt_pylock_seen[(h + k) % GT_PYLOCK_SEEN];
        uint64_t v = __atomic_load_n(slot, __ATOMIC_RELAXED);
        if (v == s) return 0;
        if (v == 1 && tomb == NULL) tomb = slot;
        if (v == 0) empty = slot;
    }
    /* Callers hold the GIL, so no other thread of this interpreter races for the
     * slot; a lost race only leaves this acquisition unlocated (the next tries again). */
    uint64_t *slot = tomb != NULL ? tomb : empty;
    uint64_t expected = tomb != NULL ? 1 : 0;
    return slot != NULL && __atomic_compare_exchange_n(slot, &expected, s, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* caller: the program's call site, kept for a binary semaphore (a Python lock's
 * call sites are Python lines). */
static void gt_pylock_acquired(sem_t *s, uint16_t kind, uint16_t flag, uint64_t caller) {
    uintptr_t a = (uintptr_t)s;
    gt_emit_acq(kind, flag, 0, a, flag == GTRACE_LOCKF_BINARY_SEM ? caller : 0);
    if (flag != GTRACE_LOCKF_SEMAPHORE) return;
    /* Located once, at its first acquisition with the GIL held: an acquisition
     * after a blocking wait (the GIL released) cannot read the frames, and must
     * not use up the lock's one location (a multiprocessing lock whose first
     * acquisition in a child waited stayed unnamed). */
    if (gt_gil_base != 0 && gt_holds_main_gil() && gt_pylock_first(a)) gt_py_location(gt_gil_base);
}

GT_EXPORT int sem_trywait(sem_t *s) {
    int (*f)(sem_t *) = gt_real_sem_trywait != NULL ? gt_real_sem_trywait : (int (*)(sem_t *))GT_REAL(sem_trywait);
    if (GT_UNLIKELY(f == NULL)) {
        errno = ENOSYS;
        return -1;
    }
    int rc = f(s);
    uint16_t flag;
    if (rc == 0 && (flag = gt_sem_lock_flag(s)) != 0 && gt_active()) {
        int saved = errno;
        gt_pylock_acquired(s, GTRACE_RAW_LOCK_ACQUIRE, flag, GT_CALLER());
        errno = saved;
    }
    return rc;
}

/* PyThread_allocate_lock (with the GIL held): where the lock was created. */
GT_EXPORT int sem_init(sem_t *s, int pshared, unsigned int value) {
    if (GT_UNLIKELY(gt_real_sem_init == NULL)) gt_real_sem_init = (int (*)(sem_t *, int, unsigned int))dlsym(RTLD_NEXT, "sem_init");
    int rc = gt_real_sem_init(s, pshared, value);
    if (rc == 0 && !gt_pylocks_on) gt_binary_sem_made(s, value);  /* every lock here is a Python lock */
    if (rc == 0 && gt_pylocks_on && gt_active()) {
        int saved = errno;
        gt_pylock_forget((uintptr_t)s);
        gt_emit(GTRACE_RAW_PY_LOCK_NEW, 0, value, (uintptr_t)s, 0);
        if (gt_gil_base != 0 && gt_holds_main_gil()) gt_py_location(gt_gil_base);
        errno = saved;
    }
    return rc;
}

GT_EXPORT int sem_post(sem_t *s) {
    if (GT_UNLIKELY(gt_real_sem_post == NULL)) gt_real_sem_post = (int (*)(sem_t *))dlsym(RTLD_NEXT, "sem_post");
    if (gt_active()) {
        uint16_t flag = gt_sem_lock_flag(s);
        if (flag != 0) gt_emit_rel(GTRACE_RAW_LOCK_RELEASE, flag, 0, (uintptr_t)s, 0);
        else gt_emit_rel(GTRACE_RAW_WAKER, GTRACE_WAKER_SEM_POST, 0, (uintptr_t)s, 0);  /* the replay's waker of a sem_wait */
        gt_pymutex_post(s, (uintptr_t)__builtin_return_address(0));  /* 3.14+: a PyMutex handed over */
    }
    return gt_real_sem_post(s);
}

/* blocking.c: the wait's trywait took it without waiting. */
void gt_pylock_taken(void *s, uint64_t caller) {
    uint16_t flag = gt_sem_lock_flag(s);
    if (flag != 0) gt_pylock_acquired((sem_t *)s, GTRACE_RAW_LOCK_ACQUIRE, flag, caller);
}

/* blocking.c: the semaphore was at zero; the thread waits. */
void gt_pylock_wait(void *s, uint64_t caller) {
    uint16_t flag = gt_sem_lock_flag(s);
    if (flag != 0) gt_emit(GTRACE_RAW_LOCK_WAIT, flag, 0, (uintptr_t)s, flag == GTRACE_LOCKF_BINARY_SEM ? caller : 0);
}

/* blocking.c: the wait returned rc (0: it has the lock; −1: errno). */
void gt_pylock_woke(void *s, int rc, int err) {
    uint16_t flag = gt_sem_lock_flag(s);
    if (flag == 0) return;
    if (rc == 0) gt_pylock_acquired((sem_t *)s, GTRACE_RAW_LOCK_ACQUIRED, flag, 0);
    else gt_emit(GTRACE_RAW_LOCK_FAILED, flag, (uint32_t)err, (uintptr_t)s, 0);
}
