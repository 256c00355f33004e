/*
 * daemon — a double-forked daemon that outlives the process that started it.
 *
 * Usage: daemon MILLIS
 *
 * The parent makes a pipe, flushes stdout and forks child C. C calls
 * setsid(), forks grandchild D (the daemon), writes D's pid into the pipe and
 * _exit(0)s at once. The parent waitpid()s C, reads D's pid from the pipe,
 * prints its lines and exits 0 right away. D sleeps MILLIS ms (nanosleep),
 * locks/unlocks `daemon_lock` 100 times, prints its line and exits 0 — long
 * after the parent is gone (D is reparented to init or a subreaper). D keeps
 * the inherited stdout, so a reader of stdout sees EOF only when D exits.
 *
 * Truth on stdout:
 *   daemon_pid <D>                                  (parent, first)
 *   parent <parent pid> child <C> daemon-started    (parent, then it exits 0)
 *   daemon <D> done                                 (D, ~MILLIS ms later)
 * `daemon_lock` is acquired exactly 100 times, all by D; C does nothing traced.
 * Bad arguments: usage on stderr, exit 64; fork/pipe failures: exit 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t daemon_lock = PTHREAD_MUTEX_INITIALIZER;

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static void run_daemon(long millis) {
    sleep_ms(millis);
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&daemon_lock);
        pthread_mutex_unlock(&daemon_lock);
    }
    printf("daemon %d done\n", (int)getpid());
    fflush(stdout);
    exit(0);
}

int main(int argc, char **argv) {
    char *end;
    errno = 0;
    long millis = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || errno || end == argv[1] || *end || millis < 0 || millis > 86400000) {
        fprintf(stderr, "usage: daemon MILLIS\n");
        return 64;
    }
    int fds[2];
    if (pipe(fds) < 0) {
        perror("daemon: pipe");
        return 1;
    }
    fflush(NULL); /* nothing buffered may be inherited and printed twice */
    pid_t child = fork();
    if (child < 0) {
        perror("daemon: fork");
        return 1;
    }
    if (child == 0) {
        close(fds[0]);
        if (setsid() < 0) {
            perror("daemon: setsid");
            _exit(1);
        }
        pid_t d = fork();
        if (d < 0) {
            perror("daemon: fork (grandchild)");
            _exit(1);
        }
        if (d == 0) {
            close(fds[1]);
            run_daemon(millis);
        }
        ssize_t w = write(fds[1], &d, sizeof d);
        _exit(w == (ssize_t)sizeof d ? 0 : 1);
    }
    close(fds[1]);
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR) {
            perror("daemon: waitpid");
            return 1;
        }
    pid_t d;
    ssize_t r;
    while ((r = read(fds[0], &d, sizeof d)) < 0 && errno == EINTR) {
    }
    if (r != (ssize_t)sizeof d || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "daemon: first child failed\n");
        return 1;
    }
    printf("daemon_pid %d\n", (int)d);
    printf("parent %d child %d daemon-started\n", (int)getpid(), (int)child);
    return 0;
}
