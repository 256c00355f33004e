/* c11_threads THREADS ROUNDS WORK_US — C11 <threads.h>: THREADS threads
 * (thrd_create) take one mtx_t ROUNDS times each and work WORK_US of CPU
 * inside it, a fifth of that outside; the last to finish signals a cnd_t that
 * main waits on (cnd_wait), then main joins them (thrd_join) and checks each
 * thread's int result. Each thread measures its own time holding the mutex
 * (CLOCK_MONOTONIC); prints {"held_ns": total, "acquisitions": N,
 * "results_ok": 1 when every thrd_join gave the thread's own result}. */
#include "workload_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <threads.h>

static mtx_t c11_mutex;
static cnd_t all_done;
static int finished, threads, rounds;
static uint64_t work_ns;
static uint64_t held[64];

static int worker(void *arg) {
    long id = (long)arg;
    for (int r = 0; r < rounds; r++) {
        mtx_lock(&c11_mutex);
        uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
        work(work_ns);
        held[id] += clock_ns(CLOCK_MONOTONIC) - t0;
        mtx_unlock(&c11_mutex);
        work(work_ns / 5);
    }
    mtx_lock(&c11_mutex);
    if (++finished == threads) cnd_signal(&all_done);
    mtx_unlock(&c11_mutex);
    return 100 + (int)id;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: c11_threads THREADS ROUNDS WORK_US\n");
        return 2;
    }
    threads = atoi(argv[1]);
    rounds = atoi(argv[2]);
    work_ns = (uint64_t)atol(argv[3]) * 1000u;
    if (threads < 2 || threads > 64 || rounds < 1) return 2;
    if (mtx_init(&c11_mutex, mtx_plain) != thrd_success || cnd_init(&all_done) != thrd_success) return 1;
    thrd_t t[64];
    for (long i = 0; i < threads; i++)
        if (thrd_create(&t[i], worker, (void *)i) != thrd_success) return 1;
    mtx_lock(&c11_mutex);
    while (finished < threads) cnd_wait(&all_done, &c11_mutex);
    mtx_unlock(&c11_mutex);
    uint64_t total = 0;
    int ok = 1;
    for (int i = 0; i < threads; i++) {
        int res = -1;
        if (thrd_join(t[i], &res) != thrd_success || res != 100 + i) ok = 0;
        total += held[i];
    }
    printf("{\"held_ns\": %llu, \"acquisitions\": %d, \"results_ok\": %d}\n", (unsigned long long)total, threads * rounds, ok);
    return 0;
}
