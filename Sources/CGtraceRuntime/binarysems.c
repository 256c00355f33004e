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
 * as waits and wakers. sem_init of another value at the same address, or
 * sem_close, removes it. A full table leaves later semaphores as before.
 */
#include "gtrace_runtime.h"
#include "addrset.h"

#define GT_BINARY_SEMS 1024u
static uintptr_t gt_binary_slots[GT_BINARY_SEMS];
static struct gt_addrset gt_binary = {gt_binary_slots, GT_BINARY_SEMS, 0};

void gt_binary_sem_made(const void *s, unsigned int value) {
    if (value == 1) gt_addrset_insert(&gt_binary, (uintptr_t)s);
    else gt_addrset_remove(&gt_binary, (uintptr_t)s);
}

void gt_binary_sem_closed(const void *s) { gt_addrset_remove(&gt_binary, (uintptr_t)s); }

int gt_binary_sem(const void *s) { return gt_addrset_contains(&gt_binary, (uintptr_t)s); }
