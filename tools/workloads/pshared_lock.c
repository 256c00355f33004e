/*
 * pshared_lock — PROCESSES processes (fork) take one process-shared pthread
 * mutex in shared memory ROUNDS times each and spin HOLD_US under it. Each
 * measures its own time holding it and waiting in pthread_mutex_lock; the
 * parent prints one line of JSON with their totals (tools/workloads/README.md).
 *
 * Usage: pshared_lock PROCESSES ROUNDS HOLD_US
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
    pthread_mutex_t lock;
    uint64_t hold_ns, wait_ns;  /* added under the lock */
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: pshared_lock PROCESSES ROUNDS HOLD_US\n");
        return 64;
    }
    int processes = atoi(argv[1]), rounds = atoi(argv[2]);
    uint64_t hold = (uint64_t)atoll(argv[3]) * 1000u;
    if (processes < 1 || rounds < 1) return 64;
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (s == MAP_FAILED) return 1;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->lock, &a);
    uint64_t start = now_ns();
    for (int p = 0; p < processes; p++) {
        if (fork() != 0) continue;
        uint64_t held = 0, waited = 0;
        for (int r = 0; r < rounds; r++) {
            uint64_t t0 = now_ns();
            pthread_mutex_lock(&s->lock);
            uint64_t t1 = now_ns(), t2;
            do t2 = now_ns(); while (t2 - t1 < hold);
            waited += t1 - t0;
            held += t2 - t1;
            if (r == rounds - 1) {
                s->hold_ns += held;
                s->wait_ns += waited;
            }
            pthread_mutex_unlock(&s->lock);
        }
        _exit(0);
    }
    for (int p = 0; p < processes; p++) wait(NULL);
    printf("{\"lock_address\":\"%p\",\"hold_ns\":%llu,\"wait_ns\":%llu,\"wall_ns\":%llu}\n", (void *)&s->lock,
           (unsigned long long)s->hold_ns, (unsigned long long)s->wait_ns, (unsigned long long)(now_ns() - start));
    return 0;
}
