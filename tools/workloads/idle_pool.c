/* idle_pool IDLE WORKERS MILLIS SERIAL_MS — IDLE threads of a pool wait on a condition
 * variable paired with mutex `m` for the whole run (node's V8 platform
 * threads, a thread pool with nothing to do), while WORKERS threads wait on
 * another condition of `m` only until the main thread starts them, then each
 * burns MILLIS ms of its own CPU time in parallel. Before it starts the
 * workers, the main thread burns SERIAL_MS ms alone (node's start-up), so
 * the run's parallelism is low though the workers' part is parallel.
 * Prints {"wall_ns": ...}
 * (CLOCK_MONOTONIC from the start to the workers' end).
 * Bad arguments: usage on stderr, exit 64. */
#include "workload_clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER, go = PTHREAD_COND_INITIALIZER;
static int started, stopping;
static long millis;

static void *wait_idle(void *unused) {
    (void)unused;
    pthread_mutex_lock(&m);
    while (!stopping) pthread_cond_wait(&idle, &m);
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *worker(void *unused) {
    (void)unused;
    pthread_mutex_lock(&m);
    while (!started) pthread_cond_wait(&go, &m);
    pthread_mutex_unlock(&m);
    work((uint64_t)millis * 1000000u);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5 || atol(argv[4]) < 0 || atoi(argv[1]) < 0 || atoi(argv[1]) > 32 || atoi(argv[2]) < 1 || atoi(argv[2]) > 32 || atol(argv[3]) < 1) {
        fprintf(stderr, "usage: idle_pool IDLE WORKERS MILLIS SERIAL_MS\n");
        return 64;
    }
    int idlers = atoi(argv[1]), workers = atoi(argv[2]);
    millis = atol(argv[3]);
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    pthread_t t[64];
    for (int i = 0; i < idlers; i++) pthread_create(&t[i], NULL, wait_idle, NULL);
    work((uint64_t)atol(argv[4]) * 1000000u);
    for (int i = 0; i < workers; i++) pthread_create(&t[idlers + i], NULL, worker, NULL);
    usleep(2000);
    pthread_mutex_lock(&m);
    started = 1;
    pthread_cond_broadcast(&go);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < workers; i++) pthread_join(t[idlers + i], NULL);
    uint64_t wall = clock_ns(CLOCK_MONOTONIC) - start;
    pthread_mutex_lock(&m);
    stopping = 1;
    pthread_cond_broadcast(&idle);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < idlers; i++) pthread_join(t[i], NULL);
    printf("{\"wall_ns\": %llu}\n", (unsigned long long)wall);
    return 0;
}
