/*
 * sem_pc.c — a producer and a consumer thread handing items over through a
 * POSIX semaphore, beside a third thread that only naps, for the replay's
 * waker truth test (a sem_wait ends at the sem_post that woke it, not at the
 * latest event of whichever thread, here the napper, ran last).
 *
 *   sem_pc ITEMS PRODUCE_US CONSUME_US
 *
 * The producer works PRODUCE_US microseconds of CPU (its own CPU clock) per
 * item and posts; the consumer waits for each item and works CONSUME_US on
 * it. With PRODUCE_US > CONSUME_US the consumer waits for every item: the
 * critical path runs through the producer and each post. The napper sleeps
 * 5 ms at a time until the producer starts its last two items, so the run
 * ends in the consumer. (With 200 µs naps the replay, which gives a woken
 * thread no priority over running ones, delayed the napper's ~300 wake-ups
 * behind full slices: 107 ms replayed for 95 ms.)
 *
 * Prints `producer_tid TID` (for the test to find it on the critical path),
 * then `items N wall_ns T`.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "workload_clock.h"

static sem_t ready;
static int items;
static volatile int produced;
static uint64_t produce_ns, consume_ns;

static void *producer(void *arg) {
    (void)arg;
    printf("producer_tid %ld\n", (long)gettid());
    fflush(stdout);
    for (int i = 0; i < items; i++) {
        if (i == items - 2) produced = 1;  /* the napper ends before the consumer */
        work(produce_ns);
        sem_post(&ready);
    }
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    for (int i = 0; i < items; i++) {
        while (sem_wait(&ready) != 0) {}
        work(consume_ns);
    }
    return NULL;
}

static void *napper(void *arg) {
    (void)arg;
    while (!produced) usleep(5000);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: sem_pc ITEMS PRODUCE_US CONSUME_US\n");
        return 64;
    }
    items = atoi(argv[1]);
    produce_ns = strtoull(argv[2], NULL, 10) * 1000u;
    consume_ns = strtoull(argv[3], NULL, 10) * 1000u;
    if (items < 1) {
        fprintf(stderr, "sem_pc: ITEMS must be >= 1\n");
        return 64;
    }
    sem_init(&ready, 0, 0);
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    pthread_t p, c, n;
    pthread_create(&n, NULL, napper, NULL);
    pthread_create(&c, NULL, consumer, NULL);
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    pthread_join(n, NULL);
    uint64_t wall = clock_ns(CLOCK_MONOTONIC) - start;
    printf("items %d wall_ns %llu\n", items, (unsigned long long)wall);
    return 0;
}
