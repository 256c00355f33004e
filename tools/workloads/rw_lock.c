/* rw_lock MODE THREADS ROUNDS WORK_US — threads on one pthread_rwlock_t.
 *   readers: THREADS readers take the read lock ROUNDS times each and work
 *            WORK_US of CPU inside it; one writer takes the write lock
 *            ROUNDS / 5 times, working WORK_US inside. The readers overlap,
 *            and with glibc's default (readers first) the writer waits for
 *            them to run out.
 *   writers: THREADS threads take the write lock ROUNDS times each, working
 *            WORK_US inside and a fifth of that outside: one at a time.
 * Each thread measures, on CLOCK_MONOTONIC, its waits (from its lock call to
 * its return) and holds; prints {"read_hold_ns", "write_hold_ns",
 * "write_wait_ns", "write_acquisitions"}. */
#include "workload_clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_rwlock_t rw_lock_shared = PTHREAD_RWLOCK_INITIALIZER;
static int rounds;
static uint64_t work_ns;
static uint64_t read_hold[65], write_hold[65], write_wait[65], write_count[65];

static void take_write(long id) {
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    pthread_rwlock_wrlock(&rw_lock_shared);
    uint64_t t1 = clock_ns(CLOCK_MONOTONIC);
    work(work_ns);
    write_hold[id] += clock_ns(CLOCK_MONOTONIC) - t1;
    write_wait[id] += t1 - t0;
    write_count[id]++;
    pthread_rwlock_unlock(&rw_lock_shared);
}

static void *reader(void *arg) {
    long id = (long)arg;
    for (int r = 0; r < rounds; r++) {
        pthread_rwlock_rdlock(&rw_lock_shared);
        uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
        work(work_ns);
        read_hold[id] += clock_ns(CLOCK_MONOTONIC) - t0;
        pthread_rwlock_unlock(&rw_lock_shared);
    }
    return NULL;
}

static void *writer(void *arg) {
    for (int r = 0; r < rounds / 5; r++) take_write((long)arg);
    return NULL;
}

static void *exclusive(void *arg) {
    for (int r = 0; r < rounds; r++) {
        take_write((long)arg);
        work(work_ns / 5);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "readers") != 0 && strcmp(argv[1], "writers") != 0)) {
        fprintf(stderr, "usage: rw_lock readers|writers THREADS ROUNDS WORK_US\n");
        return 2;
    }
    int readers = strcmp(argv[1], "readers") == 0;
    int threads = atoi(argv[2]);
    rounds = atoi(argv[3]);
    work_ns = (uint64_t)atol(argv[4]) * 1000u;
    if (threads < 1 || threads > 64 || rounds < 5) return 2;
    pthread_t t[65];
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, readers ? reader : exclusive, (void *)i);
    int all = threads;
    if (readers) pthread_create(&t[all++], NULL, writer, (void *)(long)threads);
    uint64_t rh = 0, wh = 0, ww = 0, wc = 0;
    for (int i = 0; i < all; i++) {
        pthread_join(t[i], NULL);
        rh += read_hold[i], wh += write_hold[i], ww += write_wait[i], wc += write_count[i];
    }
    printf("{\"read_hold_ns\": %llu, \"write_hold_ns\": %llu, \"write_wait_ns\": %llu, \"write_acquisitions\": %llu}\n",
           (unsigned long long)rh, (unsigned long long)wh, (unsigned long long)ww, (unsigned long long)wc);
    return 0;
}
