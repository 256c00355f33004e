/*
 * fork_from_threads — a threaded process whose non-main thread forks a
 * threaded child.
 *
 * Usage: fork_from_threads THREADS PAIRS
 *
 * The main thread starts THREADS threads; each does PAIRS lock/unlock pairs
 * of one mutex. The first of them then forks; the child starts THREADS
 * threads of its own doing PAIRS pairs each of another mutex, joins them and
 * exits 0. The parent's thread waits for the child before it returns.
 *
 * Truth on stdout: `parent <pid> child <pid> threads <THREADS> pairs <PAIRS>`.
 * Bad arguments: usage on stderr, exit 64.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t parent_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t child_lock = PTHREAD_MUTEX_INITIALIZER;
static long threads, pairs;
static volatile long sink;
static pid_t child;

static void *spin(void *arg) {
    pthread_mutex_t *m = arg;
    for (long i = 0; i < pairs; i++) {
        pthread_mutex_lock(m);
        sink++;
        pthread_mutex_unlock(m);
    }
    return NULL;
}

static void run_threads(pthread_mutex_t *m) {
    pthread_t t[64];
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, spin, m);
    for (long i = 0; i < threads; i++) pthread_join(t[i], NULL);
}

static void *forker(void *arg) {
    spin(arg);
    child = fork();
    if (child == 0) {
        run_threads(&child_lock);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    return NULL;
}

int main(int argc, char **argv) {
    threads = argc == 3 ? atol(argv[1]) : 0;
    pairs = argc == 3 ? atol(argv[2]) : -1;
    if (threads < 1 || threads > 64 || pairs < 0) {
        fprintf(stderr, "usage: fork_from_threads THREADS (1-64) PAIRS\n");
        return 64;
    }
    pthread_t t[64];
    pthread_create(&t[0], NULL, forker, &parent_lock);
    for (long i = 1; i < threads; i++) pthread_create(&t[i], NULL, spin, &parent_lock);
    for (long i = 0; i < threads; i++) pthread_join(t[i], NULL);
    printf("parent %d child %d threads %ld pairs %ld\n", (int)getpid(), (int)child, threads, pairs);
    return 0;
}
