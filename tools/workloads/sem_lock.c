/*
 * sem_lock — WORKERS threads or processes take one POSIX semaphore made with
 * value 1 (a C program's lock) ROUNDS times each and spin HOLD_US under it.
 * Each measures its own time holding it and waiting in sem_wait; one line of
 * JSON gives their totals (tools/workloads/README.md).
 *
 * Usage: sem_lock threads|processes|named WORKERS ROUNDS HOLD_US
 *   threads:   threads of one process, a sem_init(…, 0, 1) global semaphore
 *   processes: forked processes, a sem_init(…, 1, 1) semaphore in shared memory
 *   named:     forked processes, a sem_open(…, O_CREAT, …, 1) semaphore
 */
#define _GNU_SOURCE
#include "workload_clock.h"

#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
    sem_t unnamed;
    uint64_t hold_ns, wait_ns;  /* added under the semaphore */
};

static struct shared *shared;
static sem_t threads_sem;  /* threads: a global, named by its symbol */
static sem_t *lock_sem;
static int rounds;
static uint64_t hold;

static void *worker(void *unused) {
    (void)unused;
    uint64_t held = 0, waited = 0;
    for (int r = 0; r < rounds; r++) {
        uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
        while (sem_wait(lock_sem) != 0) {}
        uint64_t t1 = clock_ns(CLOCK_MONOTONIC), t2;
        do t2 = clock_ns(CLOCK_MONOTONIC); while (t2 - t1 < hold);
        waited += t1 - t0;
        held += t2 - t1;
        if (r == rounds - 1) {
            shared->hold_ns += held;
            shared->wait_ns += waited;
        }
        sem_post(lock_sem);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: sem_lock threads|processes|named WORKERS ROUNDS HOLD_US\n");
        return 64;
    }
    const char *mode = argv[1];
    int workers = atoi(argv[2]);
    rounds = atoi(argv[3]);
    hold = (uint64_t)atoll(argv[4]) * 1000u;
    if (workers < 1 || workers > 64 || rounds < 1) return 64;
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) return 1;
    char name[64] = "";
    if (strcmp(mode, "named") == 0) {
        snprintf(name, sizeof name, "/gtrace-sem-lock-%d", (int)getpid());
        lock_sem = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
        if (lock_sem == SEM_FAILED) return 1;
    } else {
        int processes = strcmp(mode, "processes") == 0;
        lock_sem = processes ? &shared->unnamed : &threads_sem;
        if (sem_init(lock_sem, processes, 1) != 0) return 1;
    }
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    if (strcmp(mode, "threads") == 0) {
        pthread_t t[64];
        for (int w = 0; w < workers; w++) pthread_create(&t[w], NULL, worker, NULL);
        for (int w = 0; w < workers; w++) pthread_join(t[w], NULL);
    } else {
        for (int w = 0; w < workers; w++) {
            if (fork() != 0) continue;
            worker(NULL);
            _exit(0);
        }
        for (int w = 0; w < workers; w++) wait(NULL);
    }
    if (name[0] != '\0') sem_unlink(name);
    printf("{\"lock_address\":\"%p\",\"hold_ns\":%llu,\"wait_ns\":%llu,\"wall_ns\":%llu}\n", (void *)lock_sem,
           (unsigned long long)shared->hold_ns, (unsigned long long)shared->wait_ns, (unsigned long long)(clock_ns(CLOCK_MONOTONIC) - start));
    return 0;
}
