/* file_lock.c — processes that take turns under flock() on one file.
 *
 *   file_lock PATH PROCESSES ROUNDS HOLD_MS OUTSIDE_MS unlock|close|fcntl|lockf|poll|none
 *
 * Each of PROCESSES forked children, ROUNDS times: flock(LOCK_EX), HOLD_MS of
 * CPU, release, OUTSIDE_MS of CPU. `unlock` releases with flock(LOCK_UN);
 * `close` opens the file each round and releases by closing it (Python's
 * `with open(...) as f: fcntl.flock(f, ...)`); `fcntl` takes a POSIX record
 * lock of the whole file instead (F_SETLKW; F_UNLCK: Python's fcntl.lockf);
 * `lockf` the same through C's lockf(fd, F_LOCK, 0) at offset 0 (a pid
 * file's lock; glibc's lockf calls its internal fcntl);
 * `poll` tries flock(LOCK_EX | LOCK_NB) and sleeps 2 ms between tries (the
 * `filelock` package's way, every 50 ms there); `none` takes no lock. Each
 * child prints its own clocks: {"pid": P, "hold_ns": H, "wait_ns": W}, the
 * time from each flock's return to the release and from its call to its
 * return; the parent prints {"wall_s": S}. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload_clock.h"

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: file_lock PATH PROCESSES ROUNDS HOLD_MS OUTSIDE_MS unlock|close|fcntl|lockf|poll|none\n");
        return 64;
    }
    const char *path = argv[1];
    int processes = atoi(argv[2]), rounds = atoi(argv[3]);
    uint64_t hold = (uint64_t)(atof(argv[4]) * 1e6), outside = (uint64_t)(atof(argv[5]) * 1e6);
    int byClose = strcmp(argv[6], "close") == 0, none = strcmp(argv[6], "none") == 0, record = strcmp(argv[6], "fcntl") == 0;
    int poll = strcmp(argv[6], "poll") == 0, posix = strcmp(argv[6], "lockf") == 0;
    struct flock whole = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    struct flock unlock = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    uint64_t start = clock_ns(CLOCK_MONOTONIC);
    for (int p = 0; p < processes; p++) {
        if (fork() != 0) continue;
        uint64_t held = 0, waited = 0;
        int fd = byClose ? -1 : open(path, O_RDWR | O_CREAT, 0600);
        for (int r = 0; r < rounds; r++) {
            if (byClose) fd = open(path, O_RDWR | O_CREAT, 0600);
            uint64_t asked = clock_ns(CLOCK_MONOTONIC);
            if (poll) {
                while (flock(fd, LOCK_EX | LOCK_NB) != 0) usleep(2000);
            } else if (posix) {
                if (lockf(fd, F_LOCK, 0) != 0) _exit(1);
            } else if (record ? fcntl(fd, F_SETLKW, &whole) != 0 : !none && flock(fd, LOCK_EX) != 0) {
                _exit(1);
            }
            uint64_t got = clock_ns(CLOCK_MONOTONIC);
            work(hold);
            uint64_t released = clock_ns(CLOCK_MONOTONIC);
            if (byClose) close(fd);
            else if (record) fcntl(fd, F_SETLK, &unlock);
            else if (posix) lockf(fd, F_ULOCK, 0);
            else if (!none) flock(fd, LOCK_UN);
            held += released - got;
            waited += got - asked;
            work(outside);
        }
        printf("{\"pid\": %d, \"hold_ns\": %llu, \"wait_ns\": %llu}\n", (int)getpid(), (unsigned long long)held,
               (unsigned long long)waited);
        fflush(stdout);
        _exit(0);
    }
    while (wait(NULL) > 0) {}
    printf("{\"wall_s\": %.6f}\n", (double)(clock_ns(CLOCK_MONOTONIC) - start) / 1e9);
    return 0;
}
