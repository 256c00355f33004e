/* atexit_wait MILLIS — forks a child that burns MILLIS ms of CPU, and returns
 * from main at once: an atexit handler waits for the child (findutils' xargs
 * waits for its last children this way). The process ends after the child.
 * Bad arguments: usage on stderr, exit 64. */
#include "workload_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void wait_for_children(void) {
    while (wait(NULL) > 0) {}
}

int main(int argc, char **argv) {
    if (argc != 2 || atol(argv[1]) < 1) {
        fprintf(stderr, "usage: atexit_wait MILLIS\n");
        return 64;
    }
    atexit(wait_for_children);
    pid_t child = fork();
    if (child == 0) {
        work((uint64_t)atol(argv[1]) * 1000000u);
        _exit(0);
    }
    return child > 0 ? 0 : 1;
}
