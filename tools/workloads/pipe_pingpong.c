/*
 * pipe_pingpong.c — two processes hand a token back and forth over two pipes,
 * for the replay's waker truth test (a read waits for the write that woke it).
 *
 *   pipe_pingpong ROUNDS PARENT_US CHILD_US
 *
 * The parent forks; each round the parent works PARENT_US microseconds of CPU
 * (its own CPU clock, so preemption does not shorten it), writes one byte to
 * the child and blocks reading the answer; the child blocks reading, works
 * CHILD_US, and answers. Neither side overlaps the other: the wall time is
 * ROUNDS × (PARENT_US + CHILD_US) plus the hand-offs, and the critical path
 * alternates between the two processes.
 *
 * Prints one line: `rounds N parent_pid P child_pid C wall_ns T` (T from
 * before the fork to after the child was reaped).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "workload_clock.h"

static int full_read(int fd, char *c) { return read(fd, c, 1) == 1; }
static int full_write(int fd, char c) { return write(fd, &c, 1) == 1; }

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: pipe_pingpong ROUNDS PARENT_US CHILD_US\n");
        return 64;
    }
    int rounds = atoi(argv[1]);
    uint64_t parent_ns = strtoull(argv[2], NULL, 10) * 1000u, child_ns = strtoull(argv[3], NULL, 10) * 1000u;
    if (rounds < 1) {
        fprintf(stderr, "pipe_pingpong: ROUNDS must be >= 1\n");
        return 64;
    }
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) {
        perror("pipe");
        return 1;
    }
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    char c = 'x';
    if (child == 0) {
        close(down[1]);
        close(up[0]);
        while (full_read(down[0], &c)) {
            work(child_ns);
            if (!full_write(up[1], c)) _exit(1);
        }
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    for (int r = 0; r < rounds; r++) {
        work(parent_ns);
        if (!full_write(down[1], c) || !full_read(up[0], &c)) {
            fprintf(stderr, "pipe_pingpong: the child went away\n");
            return 1;
        }
    }
    close(down[1]);
    int status = 0;
    waitpid(child, &status, 0);
    uint64_t wall = clock_ns(CLOCK_MONOTONIC) - start;
    printf("rounds %d parent_pid %d child_pid %d wall_ns %llu\n", rounds, (int)getpid(), (int)child,
           (unsigned long long)wall);
    return status == 0 ? 0 : 1;
}
