/* lock_pairs — THREADS threads each lock and unlock their own mutex PAIRS
 * times, never contended: exactly THREADS × PAIRS acquisitions, for the
 * loss-accounting test (Tests/EndToEndTests/LossTests.swift), where a small
 * GTRACE_MAX_MB cuts the recording short. LINGER_MS: the main thread then
 * sleeps that long, so the run goes on well after the last recorded event.
 *
 *   lock_pairs THREADS PAIRS [LINGER_MS]
 *
 * Bad arguments: usage on stderr, exit 64.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long pairs;

static void *locker(void *arg) {
    (void)arg;
    pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    for (long i = 0; i < pairs; i++) {
        pthread_mutex_lock(&mutex);
        pthread_mutex_unlock(&mutex);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc == 3 || argc == 4 ? atoi(argv[1]) : 0;
    pairs = argc == 3 || argc == 4 ? atol(argv[2]) : 0;
    long linger = argc == 4 ? atol(argv[3]) : 0;
    if (threads < 1 || threads > 64 || pairs < 1 || linger < 0 || linger > 10000) {
        fprintf(stderr, "usage: lock_pairs THREADS PAIRS [LINGER_MS]\n");
        return 64;
    }
    pthread_t ids[64];
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, locker, NULL);
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    if (linger > 0) usleep((useconds_t)(linger * 1000));
    return 0;
}
