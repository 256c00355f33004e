/*
 * many_threads — many short-lived threads on small stacks.
 *
 * Usage: many_threads N
 *
 * Creates N threads with a 64 KiB stack (pthread_attr_setstacksize, so 1000
 * fit easily). Each thread locks one global mutex `counter_lock`, increments
 * `counter`, unlocks, sleeps 1 ms with nanosleep and returns. Main joins all.
 *
 * Truth on stdout:
 *   threads N counter <value>       (value == N)
 * So `counter_lock` is acquired exactly N times, once per thread.
 * If pthread_create fails: `many_threads: pthread_create #i: <error>` on
 * stderr, exit 1 (the threads already started are not joined).
 * Bad arguments: usage on stderr, exit 64.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STACK_SIZE (64 * 1024)

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *run(void *arg) {
    (void)arg;
    pthread_mutex_lock(&counter_lock);
    counter++;
    pthread_mutex_unlock(&counter_lock);
    struct timespec ts = {0, 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
    return NULL;
}

int main(int argc, char **argv) {
    char *end;
    errno = 0;
    long n = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || errno || end == argv[1] || *end || n < 0 || n > 1000000) {
        fprintf(stderr, "usage: many_threads N\n");
        return 64;
    }
    pthread_t *t = calloc(n ? (size_t)n : 1, sizeof *t);
    if (!t) {
        perror("many_threads: calloc");
        return 1;
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    int rc = pthread_attr_setstacksize(&attr, STACK_SIZE);
    if (rc) {
        fprintf(stderr, "many_threads: pthread_attr_setstacksize: %s\n", strerror(rc));
        return 1;
    }
    for (long i = 0; i < n; i++) {
        rc = pthread_create(&t[i], &attr, run, NULL);
        if (rc) {
            fprintf(stderr, "many_threads: pthread_create #%ld: %s\n", i, strerror(rc));
            return 1;
        }
    }
    pthread_attr_destroy(&attr);
    for (long i = 0; i < n; i++) pthread_join(t[i], NULL);
    printf("threads %ld counter %ld\n", n, counter);
    free(t);
    return 0;
}
