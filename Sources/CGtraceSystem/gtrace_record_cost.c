/* The least a runtime record can cost on this machine: what every record
 * does (a timestamp, a slot reserved by the runtime's non-LOCKed xadd, 32
 * bytes stored, the kind published with release), timed in a loop over a
 * buffer already in the cache. The runtime does more per record (its
 * interposer, thread-local state, the lock's own protocol, Python frames for
 * the GIL), so a run's records times this is a lower bound on what recording
 * them added to its CPU time (docs/METRICS.md, "Recording cost"). A LOCKed
 * add here, which the runtime does not use, made it 12.5 ns per record
 * instead of 11.2 on a 2-vCPU VM. */
#include "gtrace_system.h"
#include "gtrace_format.h"

#include <time.h>

enum { COST_SLOTS = 4096, COST_ROUNDS = 8 };

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
            uint64_t slot = gtrace_xadd(&reserved, 1) % COST_SLOTS;
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
