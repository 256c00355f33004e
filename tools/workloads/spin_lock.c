/* spin_lock THREADS ROUNDS WORK_US — THREADS threads take one
 * pthread_spinlock_t ROUNDS times each and work WORK_US of CPU inside it, and
 * a fifth of that outside. Waiters spin on a CPU, so the scheduler sees every
 * thread running while only one works. Each thread measures its own time
 * holding the lock (CLOCK_MONOTONIC, from its lock returning to its unlock)
 * and its CPU time spinning for it (CLOCK_THREAD_CPUTIME_ID around the call:
 * a spinner preempted by another program is not spinning);
 * prints {"held_ns": total, "spun_ns": total, "acquisitions": THREADS * ROUNDS}. */
#include "workload_clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_spinlock_t spin_lock_shared;
static int rounds;
static uint64_t work_ns;
static uint64_t held[64];
static uint64_t spun[64];

static void *worker(void *arg) {
    long id = (long)arg;
    for (int r = 0; r < rounds; r++) {
        uint64_t asked = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        pthread_spin_lock(&spin_lock_shared);
        spun[id] += clock_ns(CLOCK_THREAD_CPUTIME_ID) - asked;
        uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
        work(work_ns);
        held[id] += clock_ns(CLOCK_MONOTONIC) - t0;
        pthread_spin_unlock(&spin_lock_shared);
        work(work_ns / 5);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: spin_lock THREADS ROUNDS WORK_US\n");
        return 2;
    }
    int threads = atoi(argv[1]);
    rounds = atoi(argv[2]);
    work_ns = (uint64_t)atol(argv[3]) * 1000u;
    if (threads < 2 || threads > 64 || rounds < 1) return 2;
    pthread_spin_init(&spin_lock_shared, PTHREAD_PROCESS_PRIVATE);
    pthread_t t[64];
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, (void *)i);
    uint64_t total = 0, spun_total = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        total += held[i];
        spun_total += spun[i];
    }
    printf("{\"held_ns\": %llu, \"spun_ns\": %llu, \"acquisitions\": %d}\n", (unsigned long long)total,
           (unsigned long long)spun_total, threads * rounds);
    return 0;
}
