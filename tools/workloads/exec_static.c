/*
 * exec_static — fork and exec a (statically linked) program, report how it
 * ended.
 *
 * Usage: exec_static PATH
 *
 * Forks; the child does execv(PATH, {PATH, NULL}) (environment inherited);
 * the parent waitpid()s. Meant for static_child, which prints `static <pid>`
 * and exits 7.
 *
 * Truth on stdout:
 *   child <pid> status <code>           (7 for static_child; `child <pid>
 *                                        signal <sig>` if it was killed)
 * If exec fails the child prints the error on stderr and _exit(127)s.
 * Bad arguments: usage on stderr, exit 64.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: exec_static PATH\n");
        return 64;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("exec_static: fork");
        return 1;
    }
    if (pid == 0) {
        execv(argv[1], (char *[]){argv[1], NULL});
        fprintf(stderr, "exec_static: exec %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("exec_static: waitpid");
            return 1;
        }
    if (WIFEXITED(status))
        printf("child %d status %d\n", (int)pid, WEXITSTATUS(status));
    else
        printf("child %d signal %d\n", (int)pid, WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return 0;
}
