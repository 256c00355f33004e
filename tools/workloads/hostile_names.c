/*
 * hostile_names.c — a program whose names try to break an HTML report.
 *
 *   hostile_names ARG...
 *
 * Names its main thread "</script><img s" and a second thread
 * "<img src=x oner" (pthread names hold 15 bytes), and both take one mutex
 * a few times; the arguments (the test passes
 * `</script><img src=x onerror=alert(1)>`) end up in the trace as argv.
 * The HTML report must show these strings as text and run none of them.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "<img src=x oner");
    for (int i = 0; i < 10; i++) {
        pthread_mutex_lock(&lock);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(int argc, char **argv) {
    pthread_setname_np(pthread_self(), "</script><img s");
    pthread_t thread;
    if (pthread_create(&thread, NULL, worker, NULL) != 0) return 1;
    for (int i = 0; i < 10; i++) {
        pthread_mutex_lock(&lock);
        pthread_mutex_unlock(&lock);
    }
    pthread_join(thread, NULL);
    printf("args %d\n", argc - 1);
    (void)argv;
    return 0;
}
