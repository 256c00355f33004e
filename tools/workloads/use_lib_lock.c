/*
 * use_lib_lock.c — calls library_work() of liblock.so from two threads, then
 * optionally replaces its own executable before exiting, for the
 * symbolization tests:
 *
 *   use_lib_lock [--delete-self | --corrupt-self | --replace-self OTHER]
 *
 * --delete-self unlinks the program's file; --corrupt-self replaces it with a
 * file that starts like ELF and then holds garbage; --replace-self puts a copy
 * of another ELF program (another build-id) in its place. gtrace must then
 * warn that it cannot name the program's addresses, and still name the library's.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void library_work(int n);

pthread_mutex_t program_lock = PTHREAD_MUTEX_INITIALIZER; /* a lock in the program itself */

static void *run(void *arg) {
    (void)arg;
    library_work(500);
    return NULL;
}

int main(int argc, char **argv) {
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, run, NULL);
    for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
    pthread_mutex_lock(&program_lock);
    pthread_mutex_unlock(&program_lock);
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0 && argc >= 2) {
        self[n] = '\0';
        unlink(self);
        if (strcmp(argv[1], "--replace-self") == 0 && argc == 3) {
            int in = open(argv[2], O_RDONLY), out = open(self, O_WRONLY | O_CREAT | O_TRUNC, 0755);
            char chunk[65536];
            ssize_t got;
            while (in >= 0 && out >= 0 && (got = read(in, chunk, sizeof chunk)) > 0) (void)!write(out, chunk, (size_t)got);
            if (in >= 0) close(in);
            if (out >= 0) close(out);
        } else if (strcmp(argv[1], "--corrupt-self") == 0) {
            int fd = open(self, O_WRONLY | O_CREAT | O_TRUNC, 0755);
            char junk[256] = "\177ELF";
            memset(junk + 4, 0xff, sizeof junk - 4);
            if (fd >= 0) {
                (void)!write(fd, junk, sizeof junk);
                close(fd);
            }
        }
    }
    printf("done\n");
    return 0;
}
