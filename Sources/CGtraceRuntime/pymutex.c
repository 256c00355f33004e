/*
 * pymutex.c — CPython 3.14+'s own locks: PyMutex waits as "waits only" locks.
 *
 * From 3.14, threading.Lock, RLock, Condition, Semaphore, Event and
 * queue.Queue rest on PyMutex: an uncontended acquire or release is one
 * atomic operation inside the interpreter and never reaches the runtime. A
 * contended acquire parks the thread in CPython's parking lot
 * (Python/parking_lot.c): on its stack a
 *     struct wait_entry { void *park_arg; uintptr_t addr; _PySemaphore sema; … }
 * whose `addr` is the PyMutex's address and whose `sema` starts with a sem_t
 * (_Py_USE_SEMAPHORES, Linux), then sem_clockwait/sem_timedwait/sem_wait on
 * it; the unlock that hands the mutex over sem_posts the waiter's semaphore.
 * `addr` sits right before `sema` in 3.13, 3.14 and 3.15's parking_lot.c. So a
 * semaphore wait or post called from CPython's own code (the return address
 * inside the executable segments of the object that defines _PyRuntime) is
 * also recorded, on the PyMutex's address, as a futex-style wait and wake
 * with GTRACE_FUTEX_PYMUTEX in the op:
 *     the wait blocks          → FUTEX_WAIT (arg = the call site)
 *     it returns               → FUTEX_WOKE (0, or −errno)
 *     sem_post of a waiter     → FUTEX_WAKE (u32 = 1)
 * blocking.c's BLOCK_BEGIN/END and pylocks.c's WAKER SEM_POST stay. The
 * recorder names the word after the Python line the first waiting thread
 * was at (its last GIL release: the `with lock:` line). Holds are not seen.
 * Other parking-lot users (PyEvent: a thread's join) are recorded the same
 * way.
 *
 * CPython posts other semaphores too (one kept in a heap object was seen on
 * 3.14), so both ends are checked: a wait counts only when its semaphore is
 * on the waiting thread's own stack, above the wrapper's frame (a wait_entry
 * is a local of _PyParkingLot_Park), and is kept in a small table while the
 * thread waits; a post counts only when its semaphore is in that table. A
 * post that comes before its waiter blocked is not seen, and neither is the
 * wait (the waiter takes the semaphore at once). Per event: compares, a load
 * beside the semaphore and a table probe; no syscall, no lock.
 */
#include "gtrace_runtime.h"

#include <link.h>

static int gt_pymutex_on;
static uintptr_t gt_cpython_text_lo, gt_cpython_text_hi;

struct gt_text_search {
    uintptr_t inside;  /* an address in the object wanted (&_PyRuntime) */
    uintptr_t lo, hi;  /* its executable segments' span */
};

static int gt_find_cpython_text(struct dl_phdr_info *info, size_t size, void *data) {
    struct gt_text_search *search = data;
    int contains = 0;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t start = info->dlpi_addr + ph->p_vaddr, end = start + ph->p_memsz;
        if (search->inside >= start && search->inside < end) contains = 1;
        if (ph->p_flags & PF_X) {
            if (start < lo) lo = start;
            if (end > hi) hi = end;
        }
    }
    if (!contains || lo >= hi) return 0;
    search->lo = lo;
    search->hi = hi;
    return 1;
}

/* gil.c, at start-up: a CPython ≥ 3.14 process with _PyRuntime at `runtime`. */
void gt_pymutex_init(uint32_t version_hex, void *runtime) {
    if ((version_hex >> 24) != 3 || ((version_hex >> 16) & 0xff) < 14) return;
    struct gt_text_search search = {(uintptr_t)runtime, 0, 0};
    dl_iterate_phdr(gt_find_cpython_text, &search);
    if (search.lo >= search.hi) return;
    gt_cpython_text_lo = search.lo;
    gt_cpython_text_hi = search.hi;
    gt_pymutex_on = 1;
}

static inline int gt_from_cpython(uintptr_t ret) {
    return gt_pymutex_on && ret >= gt_cpython_text_lo && ret < gt_cpython_text_hi;
}

/* Semaphores of parked waiters, while they wait: 0 free, 1 a tombstone. */
#define GT_PARKED 1024u
#define GT_PARKED_PROBE 8u
static uintptr_t gt_parked[GT_PARKED];

static void gt_parked_add(uintptr_t s) {
    uint32_t h = gt_address_slot(s, GT_PARKED);
    for (uint32_t k = 0; k < GT_PARKED_PROBE; k++) {
        uintptr_t *slot = &gt_parked[(h + k) % GT_PARKED];
        uintptr_t v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
        if (v > 1) continue;
        if (__atomic_compare_exchange_n(slot, &v, s, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return;
    }
    /* Full near there: this wait's post is not seen as a hand-over. */
}

static void gt_parked_remove(uintptr_t s) {
    uint32_t h = gt_address_slot(s, GT_PARKED);
    for (uint32_t k = 0; k < GT_PARKED_PROBE; k++) {
        uintptr_t *slot = &gt_parked[(h + k) % GT_PARKED];
        uintptr_t expected = s;
        if (__atomic_compare_exchange_n(slot, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return;
    }
}

static int gt_parked_contains(uintptr_t s) {
    uint32_t h = gt_address_slot(s, GT_PARKED);
    for (uint32_t k = 0; k < GT_PARKED_PROBE; k++)
        if (__atomic_load_n(&gt_parked[(h + k) % GT_PARKED], __ATOMIC_ACQUIRE) == s) return 1;
    return 0;
}

/* A parking-lot wait: called from CPython, its semaphore on this thread's stack above our frame. */
static inline int gt_is_parking(const void *s, uintptr_t ret, uintptr_t frame) {
    uintptr_t a = (uintptr_t)s;
    return gt_from_cpython(ret) && a > frame && a - frame < (1u << 20);
}

/* The address a parking-lot semaphore's waiter is parked on (wait_entry.addr). */
static inline uint64_t gt_parked_on(const void *sem) {
    return *(const uintptr_t *)((const char *)sem - sizeof(uintptr_t));
}

/* blocking.c: a sem wait called from `ret` blocks; `frame` is the wrapper's frame. */
void gt_pymutex_wait(void *s, uintptr_t ret, uintptr_t frame) {
    if (!gt_is_parking(s, ret, frame)) return;
    gt_parked_add((uintptr_t)s);
    gt_emit(GTRACE_RAW_FUTEX_WAIT, GTRACE_FUTEX_PYMUTEX, 0, gt_parked_on(s), ret);
}

/* blocking.c: that wait returned rc (−1: errno err). */
void gt_pymutex_woke(void *s, uintptr_t ret, uintptr_t frame, int rc, int err) {
    if (!gt_is_parking(s, ret, frame)) return;
    gt_parked_remove((uintptr_t)s);
    gt_emit(GTRACE_RAW_FUTEX_WOKE, GTRACE_FUTEX_PYMUTEX, rc == 0 ? 0 : (uint32_t)-err, gt_parked_on(s), 0);
}

/* pylocks.c: sem_post called from `ret`, before it posts. */
void gt_pymutex_post(void *s, uintptr_t ret) {
    if (gt_from_cpython(ret) && gt_parked_contains((uintptr_t)s))
        gt_emit(GTRACE_RAW_FUTEX_WAKE, GTRACE_FUTEX_PYMUTEX, 1, gt_parked_on(s), ret);
}
