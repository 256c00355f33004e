/*
 * cond_pc.c — a producer and a consumer thread around a one-slot buffer,
 * guarded by a mutex and two condition variables, for the replay's waker
 * truth test (a condition wait ends at the signal that woke it).
 *
 *   cond_pc ITEMS PRODUCE_US CONSUME_US
 *
 * The producer works PRODUCE_US microseconds of CPU (its own CPU clock) per
 * item, puts it in the slot and signals `not_empty`; the consumer takes it,
 * signals `not_full` and works CONSUME_US on it. With PRODUCE_US > CONSUME_US
 * the consumer waits for every item: the wall time is about ITEMS ×
 * PRODUCE_US + CONSUME_US on two cores, and the critical path runs through
 * the producer and each signal.
 *
 * Prints one line: `items N wall_ns T`.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "workload_clock.h"

static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static int full, items;
static uint64_t produce_ns, consume_ns;

static void *producer(void *arg) {
    (void)arg;
    for (int i = 0; i < items; i++) {
        work(produce_ns);
        pthread_mutex_lock(&slot_lock);
        while (full) pthread_cond_wait(&not_full, &slot_lock);
        full = 1;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&slot_lock);
    }
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    for (int i = 0; i < items; i++) {
        pthread_mutex_lock(&slot_lock);
        while (!full) pthread_cond_wait(&not_empty, &slot_lock);
        full = 0;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&slot_lock);
        work(consume_ns);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: cond_pc ITEMS PRODUCE_US CONSUME_US\n");
        return 64;
    }
    items = atoi(argv[1]);
    produce_ns = strtoull(argv[2], NULL, 10) * 1000u;
    consume_ns = strtoull(argv[3], NULL, 10) * 1000u;
    if (items < 1) {
        fprintf(stderr, "cond_pc: ITEMS must be >= 1\n");
        return 64;
    }
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    pthread_t p, c;
    pthread_create(&c, NULL, consumer, NULL);
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    uint64_t wall = clock_ns(CLOCK_MONOTONIC) - start;
    printf("items %d wall_ns %llu\n", items, (unsigned long long)wall);
    return 0;
}
