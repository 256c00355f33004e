/*
 * raw_futex.c — threads that block on a futex the way Go's runtime does:
 * with their own `syscall` instruction, no libc call, so no wrapper sees the
 * wait. Usage: raw_futex raw|libc [ROUNDS] [MS]
 *
 * Three workers each block ROUNDS times for about MS milliseconds on a futex
 * word that the main thread bumps and wakes. `raw`: the futex calls are inline
 * `syscall` instructions (invisible to gtrace: its report must say how much
 * thread time went to waits it cannot see); `libc`: the same calls through
 * libc's syscall() (recorded as a futex word: nothing unseen).
 * Prints "blocked_ns=N" — the workers' own measured time in the waits.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t word;
static int use_raw;
static int rounds = 4;
static uint64_t blocked_ns[3];

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long futex(uint32_t *addr, int op, uint32_t val) {
    if (!use_raw) return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = 0;
    __asm__ __volatile__("syscall" : "=a"(ret) : "0"((long)SYS_futex), "D"(addr), "S"((long)op), "d"((long)val), "r"(r10)
                         : "rcx", "r11", "memory");
    return ret;
#else
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
#endif
}

static void *worker(void *arg) {
    int index = (int)(intptr_t)arg;
    for (int round = 0; round < rounds; round++) {
        uint64_t t0 = now_ns();
        while (__atomic_load_n(&word, __ATOMIC_SEQ_CST) == (uint32_t)round) futex(&word, FUTEX_WAIT_PRIVATE, (uint32_t)round);
        blocked_ns[index] += now_ns() - t0;
    }
    return NULL;
}

int main(int argc, char **argv) {
    use_raw = argc > 1 && strcmp(argv[1], "raw") == 0;
    if (argc > 2) rounds = atoi(argv[2]);
    long ms = argc > 3 ? atol(argv[3]) : 100;
    pthread_t th[3];
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    for (int round = 0; round < rounds; round++) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        __atomic_store_n(&word, (uint32_t)round + 1, __ATOMIC_SEQ_CST);
        futex(&word, FUTEX_WAKE_PRIVATE, 3);
    }
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    printf("blocked_ns=%llu\n", (unsigned long long)(blocked_ns[0] + blocked_ns[1] + blocked_ns[2]));
    return 0;
}
