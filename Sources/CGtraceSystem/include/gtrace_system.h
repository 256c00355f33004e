#ifndef GTRACE_SYSTEM_H
#define GTRACE_SYSTEM_H
/* Linux calls the recorder needs that Swift's Glibc module does not expose. */
#include <stdint.h>

/* prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of the tree are reparented to us. Returns 0 or -1. */
int gtrace_become_child_subreaper(void);

/* Atomic access to counters shared with the runtime through a file mapping. */
uint64_t gtrace_load_acquire_u64(const uint64_t *p);
void gtrace_store_release_u64(uint64_t *p, uint64_t value);

#endif
