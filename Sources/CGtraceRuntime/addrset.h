/*
 * addrset.h — a fixed set of addresses, lock-free and async-signal-safe: open
 * addressing over a static table, 16 probes, removed entries left as
 * tombstones (reused by a later insert). A full neighbourhood drops the insert.
 * `used` turns lookups on once an address was ever inserted, so a program that
 * never makes one pays a single load. namedsems.c and binarysems.c keep their
 * semaphores in one each.
 */
#ifndef GTRACE_ADDRSET_H
#define GTRACE_ADDRSET_H

#include "gtrace_runtime.h"

#define GT_ADDRSET_PROBES 16u
#define GT_ADDRSET_TOMB ((uintptr_t)1)

struct gt_addrset {
    uintptr_t *slots;
    uint32_t size;
    int used;
};

static inline void gt_addrset_insert(struct gt_addrset *set, uintptr_t a) {
    uint32_t h = gt_address_slot(a, set->size);
    for (uint32_t k = 0; k < GT_ADDRSET_PROBES; k++) {
        uintptr_t *slot = &set->slots[(h + k) % set->size];
        uintptr_t v = __atomic_load_n(slot, __ATOMIC_RELAXED);
        if (v == a) return;
        if ((v == 0 || v == GT_ADDRSET_TOMB) && __atomic_compare_exchange_n(slot, &v, a, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            __atomic_store_n(&set->used, 1, __ATOMIC_RELEASE);
            return;
        }
    }
}

static inline void gt_addrset_remove(struct gt_addrset *set, uintptr_t a) {
    if (!__atomic_load_n(&set->used, __ATOMIC_ACQUIRE)) return;
    uint32_t h = gt_address_slot(a, set->size);
    for (uint32_t k = 0; k < GT_ADDRSET_PROBES; k++) {
        uintptr_t expected = a;
        if (__atomic_compare_exchange_n(&set->slots[(h + k) % set->size], &expected, GT_ADDRSET_TOMB, 0,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
    }
}

static inline int gt_addrset_contains(struct gt_addrset *set, uintptr_t a) {
    if (!__atomic_load_n(&set->used, __ATOMIC_ACQUIRE)) return 0;
    uint32_t h = gt_address_slot(a, set->size);
    for (uint32_t k = 0; k < GT_ADDRSET_PROBES; k++) {
        uintptr_t v = __atomic_load_n(&set->slots[(h + k) % set->size], __ATOMIC_RELAXED);
        if (v == a) return 1;
        if (v == 0) return 0;
    }
    return 0;
}

#endif
