/*
 * named_locks.c — locks with known names, taken in known functions, for the
 * symbolization tests: a global `queue_lock` (contended, in worker_loop), a
 * field of a global `stats.guard` (stats+0x8, in count_hit) and a heap lock
 * (first used in use_heap). Three threads run all three. Prints nothing.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
struct stats { long hits; pthread_mutex_t guard; } stats = {0, PTHREAD_MUTEX_INITIALIZER};
static pthread_mutex_t *heap_lock;
__attribute__((noinline)) void spin(int us) { volatile long x = 0; for (long i = 0; i < us * 300L; i++) x += i; }
__attribute__((noinline)) void worker_loop(void) { for (int i = 0; i < 200; i++) { pthread_mutex_lock(&queue_lock); spin(50); pthread_mutex_unlock(&queue_lock); spin(10); } }
__attribute__((noinline)) void count_hit(void) { for (int i = 0; i < 100; i++) { pthread_mutex_lock(&stats.guard); stats.hits++; pthread_mutex_unlock(&stats.guard); } }
__attribute__((noinline)) void use_heap(void) { for (int i = 0; i < 50; i++) { pthread_mutex_lock(heap_lock); spin(5); pthread_mutex_unlock(heap_lock); } }
static void *run(void *a) { (void)a; worker_loop(); count_hit(); use_heap(); return NULL; }
int main(void) {
    heap_lock = malloc(sizeof *heap_lock); pthread_mutex_init(heap_lock, NULL);
    pthread_t t[3]; for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, run, NULL);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    return 0;
}
