/* kernel_threads MODE THREADS ITERATIONS — threads that spend most of their CPU
 * time in the kernel, in two shapes the runtime cannot tell apart when the
 * program is static (it records only their scheduling):
 *   mutex     each thread takes one shared pthread mutex ITERATIONS times and
 *             does all its work under it: the futex hand-offs are the kernel
 *             time, and one core runs it faster than two;
 *   syscalls  each thread makes ITERATIONS getppid system calls of its own:
 *             kernel time that runs in parallel.
 * Prints one JSON line: wall_s, user_s, system_s (getrusage of the process). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;
static long iterations;
static int mutex_mode;

static void *work(void *unused) {
    (void)unused;
    for (long i = 0; i < iterations; i++) {
        if (mutex_mode) {
            pthread_mutex_lock(&lock);
            for (int k = 0; k < 200; k++) counter++;
            pthread_mutex_unlock(&lock);
        } else {
            syscall(SYS_getppid);
        }
    }
    return NULL;
}

static double seconds(struct timeval t) { return (double)t.tv_sec + (double)t.tv_usec / 1e6; }

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[1], "mutex") != 0 && strcmp(argv[1], "syscalls") != 0)) {
        fprintf(stderr, "usage: kernel_threads mutex|syscalls THREADS ITERATIONS\n");
        return 2;
    }
    mutex_mode = strcmp(argv[1], "mutex") == 0;
    int n = atoi(argv[2]);
    iterations = atol(argv[3]);
    if (n < 1 || n > 64 || iterations < 1) return 2;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_t threads[64];
    for (int i = 0; i < n; i++) pthread_create(&threads[i], NULL, work, NULL);
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("{\"wall_s\": %.6f, \"user_s\": %.6f, \"system_s\": %.6f}\n",
           (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9,
           seconds(usage.ru_utime), seconds(usage.ru_stime));
    return 0;
}
