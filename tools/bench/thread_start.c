/*
 * thread_start — the cost of a thread's start and end.
 *
 * Usage: thread_start WAVES WIDTH
 *
 * WAVES times: start WIDTH threads at once, each doing one mutex
 * lock/unlock pair (so a traced thread sets up its buffer), and join them.
 * Prints `us_per_thread=<microseconds>`: the program's own wall time from
 * the first create to the last join, per thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static volatile long sink;

static void *run(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m);
    sink++;
    pthread_mutex_unlock(&m);
    return NULL;
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    long waves = argc == 3 ? atol(argv[1]) : 0, width = argc == 3 ? atol(argv[2]) : 0;
    if (waves <= 0 || width <= 0 || width > 4096) {
        fprintf(stderr, "usage: thread_start WAVES WIDTH (WIDTH <= 4096)\n");
        return 64;
    }
    pthread_t *t = calloc((size_t)width, sizeof *t);
    double start = now_us();
    for (long w = 0; w < waves; w++) {
        for (long i = 0; i < width; i++)
            if (pthread_create(&t[i], NULL, run, NULL) != 0) {
                fprintf(stderr, "thread_start: pthread_create failed\n");
                return 1;
            }
        for (long i = 0; i < width; i++) pthread_join(t[i], NULL);
    }
    printf("us_per_thread=%.2f\n", (now_us() - start) / (double)(waves * width));
    return 0;
}
