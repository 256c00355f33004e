/* pipe_write_loop.c — ns per write(2) of SIZE bytes into a pipe that a forked
 * child drains: what the write wrapper (wakers.c: the per-descriptor byte
 * count and the rate-limited IO_WRITE record) adds to a pipe write.
 *
 *   pipe_write_loop WRITES SIZE     prints "ns_per_write=<best of 5 rounds>" */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long writes = argc > 1 ? atol(argv[1]) : 200000;
    size_t size = argc > 2 ? (size_t)atol(argv[2]) : 64;
    if (writes <= 0 || size == 0 || size > 65536) {
        fprintf(stderr, "usage: pipe_write_loop WRITES SIZE (1..65536)\n");
        return 64;
    }
    int fd[2];
    if (pipe(fd) != 0) { perror("pipe"); return 1; }
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 1; }
    if (child == 0) {
        close(fd[1]);
        char sink[65536];
        while (read(fd[0], sink, sizeof sink) > 0) {}
        _exit(0);
    }
    close(fd[0]);
    char *buf = calloc(1, size);
    double best = 1e30;
    for (int round = 0; round < 5; round++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long i = 0; i < writes; i++) {
            if (write(fd[1], buf, size) != (ssize_t)size) { perror("write"); return 1; }
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / writes;
        if (ns < best) best = ns;
    }
    close(fd[1]);
    waitpid(child, NULL, 0);
    printf("ns_per_write=%.1f\n", best);
    return 0;
}
