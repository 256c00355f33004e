/*
 * signal_storm — lock events recorded from a signal handler while the
 * interrupted code is itself recording (the runtime's slot reservation must
 * lose nothing, and records may land out of time order in the buffer).
 *
 *   signal_storm PAIRS
 *
 * The main thread does PAIRS lock/unlock pairs of mutex `loop_lock` while a
 * SIGALRM every 50 µs locks and unlocks `handler_lock` (only ever taken in the
 * handler, so no deadlock). Prints one JSON line: the pairs done by each and
 * both lock addresses.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static pthread_mutex_t loop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t handler_pairs;

static void on_alarm(int sig) {
    (void)sig;
    pthread_mutex_lock(&handler_lock);
    handler_pairs++;
    pthread_mutex_unlock(&handler_lock);
}

int main(int argc, char **argv) {
    long pairs = argc == 2 ? atol(argv[1]) : 0;
    if (pairs <= 0) {
        fprintf(stderr, "usage: signal_storm PAIRS\n");
        return 64;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every = {{0, 50}, {0, 50}};
    setitimer(ITIMER_REAL, &every, NULL);
    volatile long counter = 0;
    for (long i = 0; i < pairs; i++) {
        pthread_mutex_lock(&loop_lock);
        counter++;
        pthread_mutex_unlock(&loop_lock);
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("{\"pairs\":%ld,\"handler_pairs\":%ld,\"loop_lock\":\"%p\",\"handler_lock\":\"%p\"}\n",
           (long)counter, (long)handler_pairs, (void *)&loop_lock, (void *)&handler_lock);
    return 0;
}
