/*
 * clearenv_exec — exec a program with an empty environment (no LD_PRELOAD,
 * no GTRACE_* variables), two ways.
 *
 * Usage: clearenv_exec PROGRAM [ARGS...]
 *        clearenv_exec --execve-null-env PROGRAM [ARGS...]
 *
 * Default: calls clearenv() in this process, prints the number of entries
 * left in `environ` (0), flushes, forks; the child does
 * execv(PROGRAM, {PROGRAM, ARGS..., NULL}) with the now-empty environ.
 * --execve-null-env: leaves this process's environment alone, prints its
 * entry count, forks; the child does
 * execve(PROGRAM, {PROGRAM, ARGS..., NULL}, (char *[]){NULL}).
 * PROGRAM is a path (no PATH search). The parent waitpid()s the child.
 *
 * Truth on stdout (PROGRAM's own output comes in between):
 *   cleared environ_count 0             (default)
 *   kept environ_count <n>              (--execve-null-env; n = entries here)
 *   child <pid> status <code>           (or `child <pid> signal <sig>`)
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

extern char **environ;

static long environ_count(void) {
    long n = 0;
    if (environ)
        while (environ[n]) n++;
    return n;
}

int main(int argc, char **argv) {
    int null_env = argc > 1 && strcmp(argv[1], "--execve-null-env") == 0;
    int first = null_env ? 2 : 1; /* argv[first] = PROGRAM */
    if (argc <= first) {
        fprintf(stderr, "usage: clearenv_exec [--execve-null-env] PROGRAM [ARGS...]\n");
        return 64;
    }
    char **child_argv = &argv[first];
    if (null_env) {
        printf("kept environ_count %ld\n", environ_count());
    } else {
        if (clearenv() != 0) {
            fprintf(stderr, "clearenv_exec: clearenv failed\n");
            return 1;
        }
        printf("cleared environ_count %ld\n", environ_count());
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("clearenv_exec: fork");
        return 1;
    }
    if (pid == 0) {
        if (null_env)
            execve(child_argv[0], child_argv, (char *[]){NULL});
        else
            execv(child_argv[0], child_argv);
        fprintf(stderr, "clearenv_exec: exec %s: %s\n", child_argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("clearenv_exec: waitpid");
            return 1;
        }
    if (WIFEXITED(status))
        printf("child %d status %d\n", (int)pid, WEXITSTATUS(status));
    else
        printf("child %d signal %d\n", (int)pid, WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return 0;
}
