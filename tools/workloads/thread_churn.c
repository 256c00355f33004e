/*
 * thread_churn — a process that keeps starting short threads, and what of
 * gtrace's buffers it still maps at the end.
 *
 * Usage: thread_churn N
 *
 * Starts N threads one after another; each does one mutex lock/unlock pair
 * and returns, and is joined before the next starts. Then reads
 * /proc/self/maps.
 *
 * Truth on stdout: `threads N arena_mappings K buffer_mappings B cpu_us C`:
 * K mapped ranges of gtrace arena files (`.arena`), B of gtrace chunk files
 * (`.buf`), untraced both 0; C the process's user + system time so far
 * (getrusage RUSAGE_SELF, microseconds). Bad arguments: usage on stderr, exit 64.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static volatile long sink;

static void *run(void *arg) {
    (void)arg;
    pthread_mutex_lock(&m);
    sink++;
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(int argc, char **argv) {
    long n = argc == 2 ? atol(argv[1]) : 0;
    if (n <= 0) {
        fprintf(stderr, "usage: thread_churn N\n");
        return 64;
    }
    for (long i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, run, NULL) != 0) {
            fprintf(stderr, "thread_churn: pthread_create failed\n");
            return 1;
        }
        pthread_join(t, NULL);
    }
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps == NULL) return 1;
    char line[4096];
    long arenas = 0, chunks = 0;
    while (fgets(line, sizeof line, maps) != NULL) {
        size_t len = strcspn(line, "\n");
        line[len] = '\0';
        if (len >= 6 && strcmp(line + len - 6, ".arena") == 0) arenas++;
        if (len >= 4 && strcmp(line + len - 4, ".buf") == 0) chunks++;
    }
    fclose(maps);
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    long cpu = (self.ru_utime.tv_sec + self.ru_stime.tv_sec) * 1000000L + self.ru_utime.tv_usec + self.ru_stime.tv_usec;
    printf("threads %ld arena_mappings %ld buffer_mappings %ld cpu_us %ld\n", n, arenas, chunks, cpu);
    return 0;
}
