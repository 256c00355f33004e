/* cond_pingpong ROUNDS — two threads take turns through one mutex and one
 * condition variable ROUNDS times each: each turn signals the other thread
 * and waits, so every hand-off is a wake-up and nothing else runs. Prints
 * {"wall_ns": ..., "hand_offs": 2 * ROUNDS} (CLOCK_MONOTONIC around the threads). */
#include "workload_clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static int turn, rounds;

static void *player(void *arg) {
    int me = (int)(long)arg;
    for (int i = 0; i < rounds; i++) {
        pthread_mutex_lock(&turn_lock);
        while (turn != me) pthread_cond_wait(&turn_changed, &turn_lock);
        turn = !me;
        pthread_cond_signal(&turn_changed);
        pthread_mutex_unlock(&turn_lock);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2 || (rounds = atoi(argv[1])) < 1) {
        fprintf(stderr, "usage: cond_pingpong ROUNDS\n");
        return 2;
    }
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    pthread_t a, b;
    pthread_create(&a, NULL, player, (void *)0L);
    pthread_create(&b, NULL, player, (void *)1L);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("{\"wall_ns\": %llu, \"hand_offs\": %d}\n", (unsigned long long)(clock_ns(CLOCK_MONOTONIC) - start), 2 * rounds);
    return 0;
}
