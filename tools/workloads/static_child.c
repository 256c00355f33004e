/*
 * static_child — a statically linked program (LD_PRELOAD cannot reach it).
 *
 * Build: cc -static -std=gnu11 -O2 -Wall -Wextra -o static_child static_child.c
 * Usage: static_child
 *
 * Prints `static <pid>` on stdout (flushed at once), burns ~20 ms of its own
 * CPU time (spinning, reading CLOCK_PROCESS_CPUTIME_ID every 1000
 * iterations), then exits with status 7. Run it via exec_static.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;

static uint64_t process_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(void) {
    printf("static %d\n", (int)getpid());
    fflush(stdout);
    uint64_t x = 1;
    while (process_cpu_ns() < 20000000u) {
        for (int i = 0; i < 1000; i++) x = x * 6364136223846793005u + 1442695040888963407u;
        sink = x;
    }
    return 7;
}
