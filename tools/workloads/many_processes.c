/*
 * many_processes — many short-lived child processes, forked in batches.
 *
 * Usage: many_processes N
 *
 * Forks N children one after another in batches of 10: fork up to 10, then
 * waitpid each of them (in fork order), then the next batch. Child i
 * (i = 0..N-1) burns ~1 ms of its own CPU time and exits with _exit(i % 5).
 *
 * Truth on stdout:
 *   child <pid> status <code>     one per reaped child, in fork order
 *   total N
 * (a child killed by a signal would print `child <pid> signal <sig>` instead).
 * Bad arguments: usage on stderr, exit 64; fork/waitpid failure: exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 10

static volatile uint64_t sink;

static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void burn_cpu_ns(uint64_t ns) {
    uint64_t start = thread_cpu_ns(), x = start;
    while (thread_cpu_ns() - start < ns) {
        for (int i = 0; i < 1000; i++) x = x * 6364136223846793005u + 1442695040888963407u;
        sink = x;
    }
}

int main(int argc, char **argv) {
    char *end;
    errno = 0;
    long n = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || errno || end == argv[1] || *end || n < 0 || n > 10000000) {
        fprintf(stderr, "usage: many_processes N\n");
        return 64;
    }
    pid_t pids[BATCH];
    for (long base = 0; base < n; base += BATCH) {
        int count = n - base < BATCH ? (int)(n - base) : BATCH;
        fflush(stdout); /* children _exit, but never share a dirty buffer */
        for (int k = 0; k < count; k++) {
            long i = base + k;
            pid_t pid = fork();
            if (pid < 0) {
                perror("many_processes: fork");
                return 1;
            }
            if (pid == 0) {
                burn_cpu_ns(1000000);
                _exit((int)(i % 5));
            }
            pids[k] = pid;
        }
        for (int k = 0; k < count; k++) {
            int status;
            while (waitpid(pids[k], &status, 0) < 0)
                if (errno != EINTR) {
                    perror("many_processes: waitpid");
                    return 1;
                }
            if (WIFEXITED(status))
                printf("child %d status %d\n", (int)pids[k], WEXITSTATUS(status));
            else
                printf("child %d signal %d\n", (int)pids[k], WIFSIGNALED(status) ? WTERMSIG(status) : -1);
        }
    }
    printf("total %ld\n", n);
    return 0;
}
