/* epoll_token_wait THREADS MILLIS — THREADS threads each burn MILLIS ms of
 * their own CPU time and then write to an eventfd, while the main thread waits
 * for them in epoll_wait. The eventfd is registered with a token as its epoll
 * data (as Rust's mio does), not its fd number, so gtrace cannot tell which
 * descriptor woke the wait and keeps it as recorded.
 * Prints {"wall_ns": ...} (CLOCK_MONOTONIC around the threads).
 * Bad arguments: usage on stderr, exit 64. */
#include "workload_clock.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int efd;
static long millis;

static void *burn(void *unused) {
    (void)unused;
    work((uint64_t)millis * 1000000u);
    uint64_t one = 1;
    if (write(efd, &one, sizeof one) != sizeof one) perror("write");
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3 || atoi(argv[1]) < 1 || atoi(argv[1]) > 64 || atol(argv[2]) < 1) {
        fprintf(stderr, "usage: epoll_token_wait THREADS MILLIS\n");
        return 64;
    }
    int n = atoi(argv[1]);
    millis = atol(argv[2]);
    efd = eventfd(0, 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x5eed0000cafeull};
    if (efd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) != 0) {
        perror("epoll");
        return 1;
    }
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    pthread_t t[64];
    for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, burn, NULL);
    uint64_t done = 0;
    while (done < (uint64_t)n) {
        struct epoll_event got;
        if (epoll_wait(ep, &got, 1, -1) == 1) {
            uint64_t count;
            if (read(efd, &count, sizeof count) == sizeof count) done += count;
        }
    }
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    printf("{\"wall_ns\": %llu}\n", (unsigned long long)(clock_ns(CLOCK_MONOTONIC) - start));
    return 0;
}
