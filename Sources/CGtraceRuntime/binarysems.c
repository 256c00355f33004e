/*
 * binarysems.c — POSIX semaphores made with value 1, outside CPython's locks,
 * as locks (lock kind "semaphore").
 *
 * A semaphore created at 1 is almost always a mutex: sem_wait takes it, sem_post
 * gives it back (a C program's lock, between threads or, pshared in shared
 * memory or named, between processes). Without this, such a semaphore was only
 * blocking calls and wakers: four threads doing all their work under one were
 * "Serial parts" with no lock named. pylocks.c asks gt_binary_sem() for the
 * semaphores it does not already record as Python locks, and records these the
 * same way (hold and wait) with GTRACE_LOCKF_BINARY_SEM. A semaphore made at 0
 * or above 1 (a signal, a counter) stays waits and wakers; the analysis copes
 * with a binary one later used as a counter (posted twice) as it does for a
 * Python lock.
 *
 * The table is filled by sem_init (pylocks.c) and sem_open with O_CREAT
 * (namedsems.c), a lookup per sem_* call once it holds one. A forked child
 * inherits it with the memory; a process that opens an existing named
 * semaphore by name (O_CREAT not given) does not know its value and leaves it
 * as waits and wakers. sem_init of another value at the same address removes
 * it. A full table leaves later semaphores as before.
 */
#include "gtrace_runtime.h"

#define GT_BINARY_SEMS 1024u
#define GT_BINARY_TOMB ((uintptr_t)1)
#define GT_BINARY_PROBES 16u
static uintptr_t gt_binary[GT_BINARY_SEMS];
static int gt_binary_used;

void gt_binary_sem_made(const void *s, unsigned int value) {
    uintptr_t a = (uintptr_t)s;
    uint32_t h = gt_address_slot(a, GT_BINARY_SEMS);
    if (value != 1) {
        if (!__atomic_load_n(&gt_binary_used, __ATOMIC_ACQUIRE)) return;
        for (uint32_t k = 0; k < GT_BINARY_PROBES; k++) {
            uintptr_t expected = a;
            if (__atomic_compare_exchange_n(&gt_binary[(h + k) % GT_BINARY_SEMS], &expected, GT_BINARY_TOMB, 0,
                                            __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
        }
        return;
    }
    for (uint32_t k = 0; k < GT_BINARY_PROBES; k++) {
        uintptr_t *slot = &gt_binary[(h + k) % GT_BINARY_SEMS];
        uintptr_t v = __atomic_load_n(slot, __ATOMIC_RELAXED);
        if (v == a) return;
        if ((v == 0 || v == GT_BINARY_TOMB) && __atomic_compare_exchange_n(slot, &v, a, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            __atomic_store_n(&gt_binary_used, 1, __ATOMIC_RELEASE);
            return;
        }
    }
}

int gt_binary_sem(const void *s) {
    if (!__atomic_load_n(&gt_binary_used, __ATOMIC_ACQUIRE)) return 0;
    uintptr_t a = (uintptr_t)s;
    uint32_t h = gt_address_slot(a, GT_BINARY_SEMS);
    for (uint32_t k = 0; k < GT_BINARY_PROBES; k++) {
        uintptr_t v = __atomic_load_n(&gt_binary[(h + k) % GT_BINARY_SEMS], __ATOMIC_RELAXED);
        if (v == a) return 1;
        if (v == 0) return 0;
    }
    return 0;
}
