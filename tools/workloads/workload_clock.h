/* workload_clock.h — the clocks and the CPU burner the C workloads share:
 * each test compares gtrace's numbers with times these workloads measured
 * themselves, on the same clocks. Header-only (each workload is one cc call). */
#ifndef WORKLOAD_CLOCK_H
#define WORKLOAD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spins until this thread has used `ns` more nanoseconds of CPU. */
static inline void work(uint64_t ns) {
    uint64_t until = clock_ns(CLOCK_THREAD_CPUTIME_ID) + ns;
    volatile uint64_t x = 1;
    while (clock_ns(CLOCK_THREAD_CPUTIME_ID) < until) {
        for (int i = 0; i < 200; i++) x = x * 6364136223846793005u + 1;
    }
}

#endif
