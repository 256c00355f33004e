/*
 * lib_hidden_lock.c — a shared library whose lock and the function taking it
 * are internal (not exported), like a stripped distribution library
 * (liblzma): once stripped, only the object and link address can name them.
 * Build: cc -shared -fPIC -O1 -o libhidden.so lib_hidden_lock.c && strip --strip-all libhidden.so
 */
#include <pthread.h>

static pthread_mutex_t hidden_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static __attribute__((noinline)) void hidden_work(int n) {
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&hidden_lock);
        counter++;
        pthread_mutex_unlock(&hidden_lock);
    }
}

void hidden_entry(int n) { hidden_work(n); }
