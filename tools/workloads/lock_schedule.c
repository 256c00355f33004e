/*
 * lock_schedule — a pthread program with a KNOWN lock schedule.
 *
 * Usage: lock_schedule THREADS ITERATIONS HOLD_US
 *
 * THREADS threads take turns on one global mutex `the_lock` in strict
 * round-robin order over the global sequence s = r*THREADS + t (round r,
 * thread t). Turn-taking uses a raw futex on an atomic counter (an inline syscall instruction,
 * not pthread primitives, so the tracer does not see it). The holder
 * advances the turn and wakes everyone right after acquiring the lock, then
 * busy-spins at least HOLD_US microseconds and until the next thread is
 * blocked in pthread_mutex_lock (glibc lock word == 2), so the next thread
 * always has to wait, whatever HOLD_US and the machine load.
 *
 * Expected:
 *   acquisitions           = THREADS*ITERATIONS
 *   contended acquisitions = THREADS*ITERATIONS - 1   (0 if THREADS == 1)
 *   owner changes          = THREADS*ITERATIONS - 1   (0 if THREADS == 1)
 *   per thread             = ITERATIONS acquisitions
 *
 * Built with -DRECURSIVE, `the_lock` is a recursive mutex that each holder
 * locks a second time inside its hold (and unlocks before the outer unlock):
 * the same schedule, with 2*THREADS*ITERATIONS lock calls.
 *
 * Prints one JSON line of self-measured truth on stdout (see README.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef RECURSIVE
pthread_mutex_t the_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
#else
pthread_mutex_t the_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

static _Atomic uint32_t turn;  /* next global sequence number allowed to lock */
static uint32_t n_threads, n_iterations;
static uint64_t hold_ns_target;

struct worker {
    pthread_t thread;
    uint32_t index;
    pid_t tid;
    uint64_t hold_ns, wait_ns, acquisitions;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Give up waiting for the next thread to block after this long (then that
 * acquisition may be uncontended; only happens on a wildly overloaded box). */
#define WAITER_TIMEOUT_NS 2000000000ull

/* True when a thread has entered the slow (waiting) path of
 * pthread_mutex_lock(&the_lock): glibc sets the lock word of a normal mutex
 * to 2 before it futex-waits (the holder resets it to 1 after acquiring). */
static int lock_has_waiter(void) {
    return __atomic_load_n(&the_lock.__data.__lock, __ATOMIC_ACQUIRE) == 2;
}

/* The futex syscall issued inline, not through libc's syscall() (which
 * gtrace records as a futex lock): the turn-taking stays invisible. */
static long raw_futex(_Atomic uint32_t *addr, int op, uint32_t val) {
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = 0;
    __asm__ __volatile__("syscall" : "=a"(ret) : "0"((long)SYS_futex), "D"(addr), "S"((long)op), "d"((long)val), "r"(r10)
                         : "rcx", "r11", "memory");
    return ret;
#else
    return syscall(SYS_futex, (uint32_t *)addr, op, val, NULL, NULL, 0);
#endif
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t expected) {
    raw_futex(addr, FUTEX_WAIT_PRIVATE, expected);
}

static void futex_wake_all(_Atomic uint32_t *addr) {
    raw_futex(addr, FUTEX_WAKE_PRIVATE, INT_MAX);
}

static void *run(void *arg) {
    struct worker *w = arg;
    w->tid = (pid_t)syscall(SYS_gettid);
    for (uint32_t r = 0; r < n_iterations; r++) {
        uint32_t s = r * n_threads + w->index;
        for (;;) {
            uint32_t cur = atomic_load_explicit(&turn, memory_order_acquire);
            if (cur == s) break;
            futex_wait(&turn, cur);  /* returns at once if turn already moved */
        }
        uint64_t t0 = now_ns();
        pthread_mutex_lock(&the_lock);
        uint64_t t1 = now_ns();
        /* A contended acquire leaves the lock word at 2 ("maybe waiters").
         * Nobody else can touch the_lock until we publish the next turn, so
         * reset it to 1: from now on 2 means the next thread is waiting. */
        int contended_word = 2;
        __atomic_compare_exchange_n(&the_lock.__data.__lock, &contended_word, 1, 0,
                                    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
#ifdef RECURSIVE
        pthread_mutex_lock(&the_lock);  /* nested: the hold goes on */
#endif
        /* Let the next thread in the sequence go and block on the_lock. */
        atomic_store_explicit(&turn, s + 1, memory_order_release);
        futex_wake_all(&turn);
        /* Hold for at least HOLD_US and, unless this is the last acquisition,
         * until the next thread is blocked inside pthread_mutex_lock, so every
         * acquisition but the first is contended even on a loaded machine. */
        int last = s + 1 == n_threads * n_iterations;
        uint64_t t2;
        do {
            t2 = now_ns();
        } while (t2 - t1 < hold_ns_target ||
                 (!last && n_threads > 1 && !lock_has_waiter() && t2 - t1 < hold_ns_target + WAITER_TIMEOUT_NS));
#ifdef RECURSIVE
        pthread_mutex_unlock(&the_lock);  /* the nested one: still held */
#endif
        pthread_mutex_unlock(&the_lock);
        w->wait_ns += t1 - t0;
        w->hold_ns += t2 - t1;
        w->acquisitions++;
    }
    return NULL;
}

static int parse_u32(const char *s, uint32_t min, uint32_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || v < min || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv) {
    uint64_t start = now_ns();
    uint32_t hold_us;
    if (argc != 4 || parse_u32(argv[1], 1, &n_threads) || parse_u32(argv[2], 1, &n_iterations) ||
        parse_u32(argv[3], 0, &hold_us) || (uint64_t)n_threads * n_iterations > UINT32_MAX - 1) {
        fprintf(stderr, "usage: lock_schedule THREADS ITERATIONS HOLD_US  (THREADS, ITERATIONS >= 1)\n");
        return 64;
    }
    hold_ns_target = (uint64_t)hold_us * 1000u;

    struct worker *workers = calloc(n_threads, sizeof *workers);
    if (!workers) {
        perror("lock_schedule: calloc");
        return 1;
    }
    for (uint32_t t = 0; t < n_threads; t++) {
        workers[t].index = t;
        int rc = pthread_create(&workers[t].thread, NULL, run, &workers[t]);
        if (rc) {
            fprintf(stderr, "lock_schedule: pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    uint64_t hold_total = 0, wait_total = 0, acq_total = 0;
    for (uint32_t t = 0; t < n_threads; t++) {
        pthread_join(workers[t].thread, NULL);
        hold_total += workers[t].hold_ns;
        wait_total += workers[t].wait_ns;
        acq_total += workers[t].acquisitions;
    }

    char addr[32];
    snprintf(addr, sizeof addr, "%p", (void *)&the_lock);
    uint64_t wall = now_ns() - start;
    printf("{\"lock_address\":\"%s\",\"threads\":%u,\"iterations\":%u,\"hold_us\":%u,"
           "\"acquisitions\":%llu,\"hold_ns_total\":%llu,\"wait_ns_total\":%llu,\"wall_ns\":%llu,"
           "\"per_thread\":[",
           addr, n_threads, n_iterations, hold_us, (unsigned long long)acq_total,
           (unsigned long long)hold_total, (unsigned long long)wait_total, (unsigned long long)wall);
    for (uint32_t t = 0; t < n_threads; t++) {
        printf("%s{\"tid\":%d,\"hold_ns\":%llu,\"wait_ns\":%llu,\"acquisitions\":%llu}", t ? "," : "",
               (int)workers[t].tid, (unsigned long long)workers[t].hold_ns,
               (unsigned long long)workers[t].wait_ns, (unsigned long long)workers[t].acquisitions);
    }
    printf("]}\n");
    free(workers);
    return 0;
}
