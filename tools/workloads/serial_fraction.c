/*
 * serial_fraction.c — a workload with a known serial fraction, for the
 * parallelism and replay truth tests.
 *
 *   serial_fraction THREADS ITERATIONS WORK_US FRACTION
 *
 * Each of THREADS threads runs ITERATIONS iterations of WORK_US microseconds
 * of CPU work, of which the share FRACTION runs holding one global mutex
 * (`serial_lock`) and the rest outside it. Work is measured on the thread's
 * own CPU clock, so preemption does not shorten it. With unlimited cores the
 * best speedup is 1 / FRACTION (Amdahl).
 *
 * Prints one line: `threads N fraction F work_ns W wall_ns T`, where W is the
 * total CPU work asked for and T the wall time from before the first thread
 * starts to after the last one is joined.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "workload_clock.h"

static pthread_mutex_t serial_lock = PTHREAD_MUTEX_INITIALIZER;
static int iterations;
static uint64_t outside_ns, inside_ns;

static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < iterations; i++) {
        work(outside_ns);
        pthread_mutex_lock(&serial_lock);
        work(inside_ns);
        pthread_mutex_unlock(&serial_lock);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: serial_fraction THREADS ITERATIONS WORK_US FRACTION\n");
        return 64;
    }
    int threads = atoi(argv[1]);
    iterations = atoi(argv[2]);
    double work_us = atof(argv[3]), fraction = atof(argv[4]);
    if (threads < 1 || threads > 1024 || iterations < 1 || work_us <= 0 || fraction < 0 || fraction > 1) {
        fprintf(stderr, "serial_fraction: bad arguments\n");
        return 64;
    }
    inside_ns = (uint64_t)(work_us * 1000 * fraction);
    outside_ns = (uint64_t)(work_us * 1000) - inside_ns;
    pthread_t ids[1024];
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&ids[t], NULL, worker, NULL) != 0) {
            fprintf(stderr, "serial_fraction: pthread_create failed\n");
            return 1;
        }
    }
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    uint64_t wall = clock_ns(CLOCK_MONOTONIC) - start;
    printf("threads %d fraction %g work_ns %llu wall_ns %llu\n", threads, fraction,
           (unsigned long long)((outside_ns + inside_ns) * (uint64_t)iterations * (uint64_t)threads), (unsigned long long)wall);
    return 0;
}
