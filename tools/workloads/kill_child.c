/*
 * kill_child — a child busy with a mutex, killed by SIGKILL from its parent.
 *
 * Usage: kill_child MILLIS
 *
 * Forks a child that loops forever: lock/unlock the process-private mutex
 * `child_lock`, then nanosleep 100 µs. It prints nothing and never exits on
 * its own. The parent sleeps MILLIS ms, kill(child, SIGKILL)s it, waitpid()s.
 *
 * Truth on stdout:
 *   child <pid> signal 9                (WTERMSIG; `child <pid> status <code>`
 *                                        if it somehow exited normally)
 * The child's trace ends abruptly (no exit path runs); its last acquisition
 * of `child_lock` is complete or in flight when it dies.
 * Bad arguments: usage on stderr, exit 64.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t child_lock = PTHREAD_MUTEX_INITIALIZER;

static void sleep_ns(long ns) {
    struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

int main(int argc, char **argv) {
    char *end;
    errno = 0;
    long millis = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || errno || end == argv[1] || *end || millis < 0 || millis > 86400000) {
        fprintf(stderr, "usage: kill_child MILLIS\n");
        return 64;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("kill_child: fork");
        return 1;
    }
    if (pid == 0) {
        for (;;) {
            pthread_mutex_lock(&child_lock);
            pthread_mutex_unlock(&child_lock);
            sleep_ns(100000);
        }
    }
    sleep_ns(millis * 1000000L);
    if (kill(pid, SIGKILL) < 0) {
        perror("kill_child: kill");
        return 1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("kill_child: waitpid");
            return 1;
        }
    if (WIFSIGNALED(status))
        printf("child %d signal %d\n", (int)pid, WTERMSIG(status));
    else
        printf("child %d status %d\n", (int)pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
