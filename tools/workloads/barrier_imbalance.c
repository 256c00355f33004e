/* barrier_imbalance THREADS ROUNDS WORK_US — THREADS threads meet at one
 * pthread_barrier_t after each round; thread 0 works 4 × WORK_US of CPU per
 * round, the others WORK_US, so the others wait at the barrier for thread 0.
 * Each thread measures its own time inside pthread_barrier_wait
 * (CLOCK_MONOTONIC); prints {"wait_ns": total, "threads": THREADS}.
 * With a fourth argument "pinned", thread 0 runs on CPU 0 and the others on
 * CPU 1 (sched_setaffinity): a known schedule on 2 CPUs in which thread 0's
 * work is the whole critical path whenever the others' fits beside it. */
#define _GNU_SOURCE
#include "workload_clock.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_barrier_t barrier;
static int rounds;
static uint64_t work_ns;
static uint64_t waited[64];
static int pinned;

static void *worker(void *arg) {
    long id = (long)arg;
    if (pinned) {
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(id == 0 ? 0 : 1, &cpus);
        if (sched_setaffinity(0, sizeof cpus, &cpus) != 0) {
            perror("sched_setaffinity");
            exit(2);
        }
    }
    for (int r = 0; r < rounds; r++) {
        work(id == 0 ? 4 * work_ns : work_ns);
        uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
        pthread_barrier_wait(&barrier);
        waited[id] += clock_ns(CLOCK_MONOTONIC) - t0;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4 && !(argc == 5 && strcmp(argv[4], "pinned") == 0)) {
        fprintf(stderr, "usage: barrier_imbalance THREADS ROUNDS WORK_US [pinned]\n");
        return 2;
    }
    pinned = argc == 5;
    int threads = atoi(argv[1]);
    rounds = atoi(argv[2]);
    work_ns = (uint64_t)atol(argv[3]) * 1000u;
    if (threads < 2 || threads > 64 || rounds < 1) return 2;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads);
    pthread_t t[64];
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    uint64_t total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += waited[i];
    }
    printf("{\"wait_ns\": %llu, \"threads\": %d}\n", (unsigned long long)total, threads);
    return 0;
}
