/*
 * closefds_daemon.c — a classic daemon (tools/realworld): fork, setsid,
 * close every inherited fd (close_range), start 2 threads that share a lock,
 * fork+exec /bin/true, and write its result into the file named by argv[1].
 * The original parent waits for the file's line (so the run has a defined
 * end) and prints it. Exit 0.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *work(void *arg) {
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: closefds_daemon OUTPUT\n");
        return 64;
    }
    const char *out = argv[1];
    unlink(out);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        setsid();
        if (fork() != 0) _exit(0);
        syscall(SYS_close_range, 0u, ~0u, 0u);
        pthread_t t[2];
        for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, work, NULL);
        for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
        pid_t p = fork();
        if (p == 0) {
            execl("/bin/true", "true", (char *)NULL);
            _exit(127);
        }
        int st = 0;
        waitpid(p, &st, 0);
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", out);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char line[128];
        int n = snprintf(line, sizeof line, "counter %ld true %d\n", counter, WEXITSTATUS(st));
        if (fd >= 0) {
            (void)!write(fd, line, (size_t)n);
            close(fd);
            rename(tmp, out);
        }
        _exit(0);
    }
    waitpid(child, NULL, 0);
    for (int i = 0; i < 3000; i++) { /* up to 30 s */
        FILE *f = fopen(out, "r");
        if (f != NULL) {
            char line[128];
            if (fgets(line, sizeof line, f) != NULL) {
                fputs(line, stdout);
                fclose(f);
                return 0;
            }
            fclose(f);
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "closefds_daemon: no result\n");
    return 1;
}
