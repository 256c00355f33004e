/*
 * thread_arenas — do threads that never call malloc get malloc arenas?
 *
 * Usage: thread_arenas THREADS
 *
 * Starts THREADS threads that are all alive at once (a barrier); each only
 * counts and returns (no malloc, no free). Then prints the number of malloc heaps glibc has
 * (`<heap nr=` entries of malloc_info): 1 untraced. A tracer that makes the
 * new threads free() or malloc() gives them arenas the program never had.
 * Prints `heaps N`. Bad arguments: usage on stderr, exit 64.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile long sink;
static pthread_barrier_t all_alive;

static void *run(void *arg) {
    for (long i = 0; i < 1000; i++) sink += i + (long)arg;
    pthread_barrier_wait(&all_alive);
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc == 2 ? atoi(argv[1]) : 0;
    if (n <= 0) {
        fprintf(stderr, "usage: thread_arenas THREADS\n");
        return 64;
    }
    pthread_t *threads = calloc((size_t)n, sizeof *threads);
    if (threads == NULL || pthread_barrier_init(&all_alive, NULL, (unsigned)n) != 0) return 1;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&threads[i], NULL, run, (void *)(long)i) != 0) return 1;
    }
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (f == NULL) return 1;
    malloc_info(0, f);
    fclose(f);
    int heaps = 0;
    for (const char *p = text; (p = strstr(p, "<heap nr=")) != NULL; p++) heaps++;
    printf("heaps %d\n", heaps);
    return 0;
}
