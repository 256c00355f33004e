/*
 * fake_free_threaded.c — a stand-in for a free-threaded CPython (3.14t), which
 * cannot be installed here: it exports what gtrace's runtime looks for in a
 * CPython process (_PyRuntime with a size, Py_Version, Py_GetVersion) with the
 * version string of a free-threaded build, then runs two threads that contend
 * on a pthread mutex, as a program without a GIL would.
 *
 * Build with -rdynamic (the symbols must be in .dynsym, as in a real python3).
 * Prints "ok".
 */
#include <pthread.h>
#include <stdio.h>

char _PyRuntime[4096];
const unsigned long Py_Version = 0x030e00f0; /* 3.14.0 final */

const char *Py_GetVersion(void) {
    return "3.14.0 free-threading build (main, Oct  7 2025, 00:00:00) [GCC 14.2.0]";
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long counter;

static void *work(void *arg) {
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void) {
    _PyRuntime[0] = 1;
    pthread_t a, b;
    pthread_create(&a, NULL, work, NULL);
    pthread_create(&b, NULL, work, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    puts(counter == 40000 ? "ok" : "wrong count");
    return 0;
}
