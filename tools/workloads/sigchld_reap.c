/*
 * sigchld_reap.c — a parent that runs JOBS children, at most PARALLEL at a
 * time, and reaps them the way make does: SIGCHLD blocked, `pselect` with no
 * descriptors and SIGCHLD unblocked until the signal arrives, then
 * `waitpid(-1, WNOHANG)` until nothing is left to reap. For the replay's truth
 * test (a wait that ends with a WNOHANG reap waits for that child).
 *
 *   sigchld_reap JOBS PARALLEL WORK_US
 *
 * Each child works WORK_US microseconds of CPU (its own CPU clock) and exits.
 * With enough cores the wall time is about ceil(JOBS / PARALLEL) × WORK_US;
 * on one core about JOBS × WORK_US.
 *
 * Prints one line: `jobs N parallel P wall_ns T` (T from before the first
 * fork to after the last reap).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workload_clock.h"

static void on_child(int sig) { (void)sig; }

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: sigchld_reap JOBS PARALLEL WORK_US\n");
        return 64;
    }
    int jobs = atoi(argv[1]), parallel = atoi(argv[2]);
    uint64_t work_ns = strtoull(argv[3], NULL, 10) * 1000u;
    if (jobs < 1 || parallel < 1) {
        fprintf(stderr, "sigchld_reap: JOBS and PARALLEL must be >= 1\n");
        return 64;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_child;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigset_t blocked, waiting;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGCHLD);
    sigprocmask(SIG_BLOCK, &blocked, &waiting);
    sigdelset(&waiting, SIGCHLD);

    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    int started = 0, running = 0, failed = 0;
    while (started < jobs || running > 0) {
        while (started < jobs && running < parallel) {
            pid_t pid = fork();
            if (pid < 0) {
                perror("fork");
                return 1;
            }
            if (pid == 0) {
                work(work_ns);
                _exit(0);
            }
            started++;
            running++;
        }
        /* Reap what has ended; wait for SIGCHLD only when nothing was reaped. */
        int reaped = 0, status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            running--;
            reaped++;
            failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        if (reaped == 0 && running > 0) {
            int rc = pselect(0, NULL, NULL, NULL, NULL, &waiting);
            if (rc < 0 && errno != EINTR) {
                perror("pselect");
                return 1;
            }
        }
    }
    uint64_t wall = clock_ns(CLOCK_MONOTONIC) - start;
    printf("jobs %d parallel %d wall_ns %llu\n", jobs, parallel, (unsigned long long)wall);
    return failed == 0 ? 0 : 1;
}
