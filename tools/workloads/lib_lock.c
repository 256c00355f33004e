/*
 * lib_lock.c — a shared library whose global `library_lock` is taken in
 * `library_work`, for the symbolization test of a lock that lives in a
 * shared object (build: cc -shared -fPIC -O1 -g -o liblock.so lib_lock.c).
 */
#include <pthread.h>

pthread_mutex_t library_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

__attribute__((noinline)) void library_work(int n) {
    for (int i = 0; i < n; i++) {
        pthread_mutex_lock(&library_lock);
        counter++;
        pthread_mutex_unlock(&library_lock);
    }
}
