/*
 * lock_loop — microbenchmark for per-lock-event overhead.
 *
 * Usage: lock_loop THREADS PAIRS
 * Each of THREADS threads does PAIRS pthread_mutex_lock/unlock pairs on one
 * shared mutex. Prints `ns_per_pair=<float>`: wall time (from creating the
 * first thread to joining the last) divided by THREADS*PAIRS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long long pairs;
static volatile unsigned long long counter;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *run(void *arg) {
    (void)arg;
    for (unsigned long long i = 0; i < pairs; i++) {
        pthread_mutex_lock(&shared_lock);
        counter++;
        pthread_mutex_unlock(&shared_lock);
    }
    return NULL;
}

static int parse(const char *s, unsigned long long *out) {
    char *end;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno || end == s || *end || s[0] == '-' || *out == 0 ? -1 : 0;
}

int main(int argc, char **argv) {
    unsigned long long threads;
    if (argc != 3 || parse(argv[1], &threads) || parse(argv[2], &pairs) || threads > 4096) {
        fprintf(stderr, "usage: lock_loop THREADS PAIRS  (both >= 1)\n");
        return 64;
    }
    pthread_t *t = calloc(threads, sizeof *t);
    if (!t) return 1;
    uint64_t start = now_ns();
    for (unsigned long long i = 0; i < threads; i++)
        if (pthread_create(&t[i], NULL, run, NULL)) {
            fprintf(stderr, "lock_loop: pthread_create failed\n");
            return 1;
        }
    for (unsigned long long i = 0; i < threads; i++) pthread_join(t[i], NULL);
    uint64_t wall = now_ns() - start;
    if (counter != threads * pairs) {
        fprintf(stderr, "lock_loop: counter %llu != %llu\n", counter, threads * pairs);
        return 1;
    }
    printf("ns_per_pair=%.2f\n", (double)wall / (double)(threads * pairs));
    free(t);
    return 0;
}
