/*
 * namedsems.c — named POSIX semaphores (sem_open) as locks in CPython ≥ 3.14.
 *
 * From 3.14 threading's locks are PyMutexes, and the runtime records sem_*
 * calls as parking waits and wakers (pymutex.c), not as locks. But a
 * multiprocessing.Lock, RLock, Semaphore or Value's lock (_multiprocessing's
 * SemLock) is still a named semaphore in shared memory, taken with
 * sem_trywait (the GIL held), then sem_wait/sem_clockwait (the GIL released),
 * and given back with sem_post: what pylocks.c records as a Python lock up to
 * 3.13. Four processes doing all their work under a Value's lock had no lock
 * in the trace on 3.14, and the verdict named none ("Serial parts").
 *
 * sem_open's semaphores are remembered in a small table (an insert per
 * sem_open, a lookup per sem_* call once the table holds one); pylocks.c
 * records those as Python locks. A forked child inherits the table with the
 * mapping; a spawned one opens the semaphore by name itself. A full table
 * leaves later semaphores as before (waits and wakers).
 */
#include "gtrace_runtime.h"
#include "addrset.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdarg.h>

#define GT_NAMED_SEMS 256u
static uintptr_t gt_named_slots[GT_NAMED_SEMS];
static struct gt_addrset gt_named = {gt_named_slots, GT_NAMED_SEMS, 0};

int gt_named_sem(const void *s) { return gt_addrset_contains(&gt_named, (uintptr_t)s); }

GT_EXPORT sem_t *sem_open(const char *name, int oflag, ...) {
    static sem_t *(*real)(const char *, int, ...);
    if (GT_UNLIKELY(real == NULL)) real = (sem_t * (*)(const char *, int, ...)) dlsym(RTLD_NEXT, "sem_open");
    if (GT_UNLIKELY(real == NULL)) return SEM_FAILED;
    sem_t *s;
    if (oflag & O_CREAT) {
        va_list ap;
        va_start(ap, oflag);
        mode_t mode = va_arg(ap, mode_t);
        unsigned int value = va_arg(ap, unsigned int);
        va_end(ap);
        s = real(name, oflag, mode, value);
        if (s != SEM_FAILED) gt_binary_sem_made(s, value);
    } else {
        s = real(name, oflag);
    }
    if (s != SEM_FAILED) gt_addrset_insert(&gt_named, (uintptr_t)s);
    return s;
}

GT_EXPORT int sem_close(sem_t *s) {
    static int (*real)(sem_t *);
    if (GT_UNLIKELY(real == NULL)) real = (int (*)(sem_t *))dlsym(RTLD_NEXT, "sem_close");
    if (GT_UNLIKELY(real == NULL)) return -1;
    gt_addrset_remove(&gt_named, (uintptr_t)s);
    gt_binary_sem_closed(s);
    return real(s);
}
