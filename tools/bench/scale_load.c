/*
 * scale_load — a lock workload of a given size, spread over processes and threads.
 *
 * Usage: scale_load PROCESSES THREADS PAIRS
 *
 * PROCESSES processes (the first is this one; it forks the others at once and
 * waits for them) each run THREADS threads; every thread does PAIRS
 * pthread_mutex_lock/unlock pairs of one of 16 mutexes shared by its process.
 * A traced run records about 2 events per pair (acquire and release).
 *
 * Truth on stdout: `pairs <total>` (PROCESSES × THREADS × PAIRS).
 * Bad arguments: usage on stderr, exit 64.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t locks[16];
static long pairs;
static volatile long sink;

static void *run(void *arg) {
    long index = (long)arg;
    pthread_mutex_t *m = &locks[index % 16];
    for (long i = 0; i < pairs; i++) {
        pthread_mutex_lock(m);
        sink++;
        pthread_mutex_unlock(m);
    }
    return 0;
}

static void work(long threads) {
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    if (!t) _exit(1);
    for (long i = 0; i < threads; i++)
        if (pthread_create(&t[i], 0, run, (void *)i) != 0) { perror("pthread_create"); _exit(1); }
    for (long i = 0; i < threads; i++) pthread_join(t[i], 0);
    free(t);
}

int main(int argc, char **argv) {
    if (argc != 4 || atol(argv[1]) < 1 || atol(argv[2]) < 1 || atol(argv[3]) < 0) {
        fprintf(stderr, "usage: scale_load PROCESSES THREADS PAIRS\n");
        return 64;
    }
    long processes = atol(argv[1]), threads = atol(argv[2]);
    pairs = atol(argv[3]);
    for (int i = 0; i < 16; i++) pthread_mutex_init(&locks[i], 0);
    for (long p = 1; p < processes; p++) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) { work(threads); _exit(0); }
    }
    work(threads);
    while (wait(0) > 0) {}
    printf("pairs %ld\n", processes * threads * pairs);
    return 0;
}
