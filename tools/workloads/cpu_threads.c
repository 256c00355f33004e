/*
 * cpu_threads — threads that burn a known amount of their own CPU time.
 *
 * Usage: cpu_threads NTHREADS MILLIS
 *
 * Starts NTHREADS threads. Each spins on pure arithmetic (no syscalls in the
 * loop except reading CLOCK_THREAD_CPUTIME_ID every 1000 iterations) until
 * its own thread CPU time reaches MILLIS ms. The clock is read once more as
 * the very last thing before the thread returns; the results are stored in
 * an array and printed by main after all joins (no locks, no stdio in the
 * threads).
 *
 * Truth on stdout, one line per thread in start order, then main:
 *   thread <tid> cpu_ns <CLOCK_THREAD_CPUTIME_ID at the end of that thread>
 *   main <tid> cpu_ns <CLOCK_THREAD_CPUTIME_ID of main, read just before printing>
 * Each thread's cpu_ns is >= MILLIS*1e6 (plus at most ~1000 iterations).
 * Bad arguments: usage on stderr, exit 64.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct worker {
    pthread_t thread;
    pid_t tid;
    uint64_t cpu_ns;
};

static uint64_t target_ns;
static volatile uint64_t sink; /* keeps the spin loop from being optimised away */

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *run(void *arg) {
    struct worker *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    uint64_t x = (uint64_t)w->tid * 0x9e3779b97f4a7c15u;
    while (thread_cpu_ns() < target_ns) {
        for (int i = 0; i < 1000; i++) x = x * 6364136223846793005u + 1442695040888963407u;
        sink = x;
    }
    w->cpu_ns = thread_cpu_ns(); /* last thing before returning */
    return NULL;
}

static long parse_long(const char *s, long min, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    return v;
}

int main(int argc, char **argv) {
    long n = argc == 3 ? parse_long(argv[1], 1, 100000) : -1;
    long millis = argc == 3 ? parse_long(argv[2], 0, 86400000) : -1;
    if (n < 0 || millis < 0) {
        fprintf(stderr, "usage: cpu_threads NTHREADS MILLIS  (NTHREADS >= 1)\n");
        return 64;
    }
    target_ns = (uint64_t)millis * 1000000u;
    struct worker *w = calloc((size_t)n, sizeof *w);
    if (!w) {
        perror("cpu_threads: calloc");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int rc = pthread_create(&w[i].thread, NULL, run, &w[i]);
        if (rc) {
            fprintf(stderr, "cpu_threads: pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    for (long i = 0; i < n; i++) pthread_join(w[i].thread, NULL);
    for (long i = 0; i < n; i++)
        printf("thread %d cpu_ns %llu\n", (int)w[i].tid, (unsigned long long)w[i].cpu_ns);
    printf("main %d cpu_ns %llu\n", (int)getpid(), (unsigned long long)thread_cpu_ns());
    free(w);
    return 0;
}
