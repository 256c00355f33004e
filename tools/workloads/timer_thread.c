/* A timer thread beside two workers: it waits on a condition with a 20 ms timeout
 * again and again (as HotSpot's WatcherThread does every 50 ms), while two workers
 * compute. Then main joins the workers and either
 *   join: signals the timer to stop and joins it, or
 *   exit: returns from main with the timer still waiting (the exit ends it).
 * Prints "wall_ns N" (main's start to its end) and the timer's ticks.
 * Usage: timer_thread join|exit [ITERATIONS per worker, default 150000000] */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int stop;
static long ticks;
static volatile double sink;

static void *timer(void *arg) {
    pthread_mutex_lock(&m);
    while (!stop) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += 20000000;
        if (deadline.tv_nsec >= 1000000000) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000;
        }
        if (pthread_cond_timedwait(&c, &m, &deadline) == ETIMEDOUT) ticks++;
    }
    pthread_mutex_unlock(&m);
    return arg;
}

static void *work(void *arg) {
    long n = *(long *)arg;
    double s = 0;
    for (long i = 0; i < n; i++) s += (double)i * 1.000001;
    sink = s;
    return 0;
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
    int join = argc < 2 || strcmp(argv[1], "exit") != 0;
    long n = argc > 2 ? atol(argv[2]) : 150000000L;
    long long start = now_ns();
    pthread_t timer_thread, workers[2];
    pthread_create(&timer_thread, 0, timer, 0);
    for (int i = 0; i < 2; i++) pthread_create(&workers[i], 0, work, &n);
    for (int i = 0; i < 2; i++) pthread_join(workers[i], 0);
    if (join) {
        pthread_mutex_lock(&m);
        stop = 1;
        pthread_cond_signal(&c);
        pthread_mutex_unlock(&m);
        pthread_join(timer_thread, 0);
    }
    pthread_mutex_lock(&m);
    long seen = ticks;
    pthread_mutex_unlock(&m);
    printf("wall_ns %lld ticks %ld\n", now_ns() - start, seen);
    return 0;
}
