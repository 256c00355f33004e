/* The least a runtime record can cost on this machine: what every record
 * does (a timestamp, a slot reserved by the runtime's non-LOCKed xadd, 32
 * bytes stored, the kind published with release), timed in a loop over a
 * buffer already in the cache. (A LOCKed add here made the bound 27 ms for a
 * run whose own CPU time grew by 13 ms: the runtime's records are cheaper.) The runtime does more per record (its interposer, thread-local
 * state, the lock's own protocol, Python frames for the GIL), so a run's
 * records times this is a lower bound on what recording them added to its
 * CPU time (docs/METRICS.md, "Recording cost"). */
#include "gtrace_system.h"
#include "gtrace_format.h"

#include <time.h>

enum { COST_SLOTS = 4096, COST_ROUNDS = 8 };

/* The runtime's slot reservation (gtrace_runtime.h, gt_xadd): one instruction
 * without the LOCK prefix, each buffer having a single writer. */
static inline uint64_t cost_xadd(uint64_t *p, uint64_t v) {
#if defined(__x86_64__)
    __asm__ __volatile__("xaddq %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v;
#else
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#endif
}

static uint64_t cost_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t gtrace_record_cost_ps(void) {
    static struct gtrace_raw_record slots[COST_SLOTS];
    static uint64_t reserved;
    uint64_t best = UINT64_MAX;
    for (int round = 0; round < COST_ROUNDS; round++) {
        uint64_t start = cost_now_ns();
        for (int i = 0; i < COST_SLOTS; i++) {
            uint64_t slot = cost_xadd(&reserved, 1) % COST_SLOTS;
            struct gtrace_raw_record *r = &slots[slot];
            r->tsc = gtrace_timestamp();
            r->flags = (uint16_t)i;
            r->u32 = (uint32_t)round;
            r->addr = (uint64_t)(uintptr_t)r;
            r->arg = slot;
            __atomic_store_n(&r->kind, (uint16_t)1, __ATOMIC_RELEASE);
        }
        uint64_t elapsed = cost_now_ns() - start;
        if (round > 0 && elapsed < best) best = elapsed;  /* the first round faults the slots in */
    }
    return best * 1000 / COST_SLOTS;
}
