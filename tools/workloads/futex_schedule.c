/*
 * futex_schedule.c — futex calls through libc's syscall() with a known
 * schedule (the FutexTests check gtrace's counts and durations against the
 * program's own), plus non-futex syscall() calls whose results and errno must
 * be the same with and without the preload.
 *
 * stdout: deterministic lines (compared between a traced and a plain run),
 * and lines starting with "count " / "time " that hold the program's own
 * truth (outcome counts, measured wait time in ns per futex word).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

uint32_t handoff_word;   /* phase 1: waits woken by main */
uint32_t changed_word;   /* phase 2: EAGAIN */
uint32_t timeout_word;   /* phase 3: timeouts */
uint32_t signal_word;    /* phase 4: EINTR, and a restart after SA_RESTART */
uint32_t idle_word;      /* phase 5: wakes with nobody waiting */

static volatile int ready;
static long woken, eagain, timedout, interrupted, wakes, woke_threads;
static uint64_t handoff_ns, timeout_ns, signal_ns; /* measured by the waiting thread */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* One futex call; counts its outcome. Returns the result, errno in *err. */
static long futex_call(uint32_t *word, int op, uint32_t val, const struct timespec *ts, uint32_t bitset,
                       uint64_t *elapsed, int *err) {
    uint64_t t0 = now_ns();
    errno = 0;
    long r = syscall(SYS_futex, word, op, val, ts, NULL, bitset);
    *err = errno;
    uint64_t t1 = now_ns();
    if (elapsed) *elapsed += t1 - t0;
    if (r == 0) woken++;
    else if (*err == EAGAIN) eagain++;
    else if (*err == ETIMEDOUT) timedout++;
    else if (*err == EINTR) interrupted++;
    return r;
}

static void *handoff_waiter(void *arg) {
    (void)arg;
    for (int round = 1; round <= 5; round++) {
        __atomic_store_n(&ready, round, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&handoff_word, __ATOMIC_SEQ_CST) < (uint32_t)round) {
            int err;
            futex_call(&handoff_word, FUTEX_WAIT_PRIVATE, (uint32_t)round - 1, NULL, 0, &handoff_ns, &err);
        }
    }
    return NULL;
}

static void on_signal(int sig) { (void)sig; }

static void *signal_waiter(void *arg) {
    (void)arg;
    int err;
    __atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
    /* Interrupted: EINTR (no SA_RESTART). */
    long r = futex_call(&signal_word, FUTEX_WAIT, 0, NULL, 0, &signal_ns, &err);
    printf("eintr-wait result=%ld errno=%s\n", r, err == EINTR ? "EINTR" : strerror(err));
    __atomic_store_n(&ready, 2, __ATOMIC_SEQ_CST);
    /* With SA_RESTART the kernel restarts the wait; main wakes it later. */
    while (__atomic_load_n(&signal_word, __ATOMIC_SEQ_CST) == 0) {
        r = futex_call(&signal_word, FUTEX_WAIT, 0, NULL, 0, &signal_ns, &err);
        printf("restart-wait result=%ld errno=%d\n", r, r == 0 ? 0 : err);
    }
    return NULL;
}

static void wait_ready(int value) {
    while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < value) sleep_ms(1);
}

static void wake(uint32_t *word, int op, int count) {
    errno = 0;
    long r = syscall(SYS_futex, word, op, count, NULL, NULL, FUTEX_BITSET_MATCH_ANY);
    wakes++;
    if (r > 0) woke_threads += r;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* A parent may have left SIGUSR1 blocked (the test runner does). */
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    pthread_t th;
    int err;

    /* Phase 1: five hand-offs, each after ~40 ms. */
    pthread_create(&th, NULL, handoff_waiter, NULL);
    for (int round = 1; round <= 5; round++) {
        wait_ready(round);
        sleep_ms(40);
        __atomic_store_n(&handoff_word, (uint32_t)round, __ATOMIC_SEQ_CST);
        wake(&handoff_word, FUTEX_WAKE_PRIVATE, 1);
    }
    pthread_join(th, NULL);
    printf("phase1 done word=%u\n", handoff_word);

    /* Phase 2: the word is not the expected value: EAGAIN at once. */
    changed_word = 7;
    for (int i = 0; i < 3; i++) {
        long r = futex_call(&changed_word, FUTEX_WAIT, 6, NULL, 0, NULL, &err);
        printf("eagain result=%ld errno=%s\n", r, err == EAGAIN ? "EAGAIN" : strerror(err));
    }

    /* Phase 3: timeouts: relative 30 ms (FUTEX_WAIT), absolute 30 ms on
     * CLOCK_REALTIME (FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME|PRIVATE). */
    struct timespec rel = {0, 30000000L};
    long r = futex_call(&timeout_word, FUTEX_WAIT, 0, &rel, 0, &timeout_ns, &err);
    printf("timeout-rel result=%ld errno=%s\n", r, err == ETIMEDOUT ? "ETIMEDOUT" : strerror(err));
    struct timespec abs_rt;
    clock_gettime(CLOCK_REALTIME, &abs_rt);
    abs_rt.tv_nsec += 30000000L;
    if (abs_rt.tv_nsec >= 1000000000L) { abs_rt.tv_sec++; abs_rt.tv_nsec -= 1000000000L; }
    r = futex_call(&timeout_word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME | FUTEX_PRIVATE_FLAG, 0, &abs_rt,
                   FUTEX_BITSET_MATCH_ANY, &timeout_ns, &err);
    printf("timeout-abs result=%ld errno=%s\n", r, err == ETIMEDOUT ? "ETIMEDOUT" : strerror(err));

    /* Phase 4: a signal interrupts a wait (EINTR), then one that restarts. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    ready = 0;
    pthread_create(&th, NULL, signal_waiter, NULL);
    wait_ready(1);
    /* Again every 30 ms: one sent before the wait began would be lost. */
    while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < 2) {
        sleep_ms(30);
        if (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < 2) pthread_kill(th, SIGUSR1);
    }
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sleep_ms(30);
    pthread_kill(th, SIGUSR1); /* restarted by the kernel: no return */
    sleep_ms(30);
    __atomic_store_n(&signal_word, 1, __ATOMIC_SEQ_CST);
    wake(&signal_word, FUTEX_WAKE, 1);
    pthread_join(th, NULL);

    /* Phase 5: wakes with nobody waiting (WAKE and WAKE_BITSET). */
    wake(&idle_word, FUTEX_WAKE_PRIVATE, 1);
    wake(&idle_word, FUTEX_WAKE_BITSET_PRIVATE, 1);

    /* Other numbers: results and errno untouched. */
    printf("getpid %s\n", syscall(SYS_getpid) == getpid() ? "same" : "differs");
    printf("gettid %s\n", syscall(SYS_gettid) == gettid() ? "same" : "differs");
    errno = 1234;
    long w = syscall(SYS_write, 1, "write via syscall\n", 18);
    printf("write result=%ld errno-kept=%d\n", w, errno == 1234);
    errno = 0;
    r = syscall(SYS_close, -1);
    printf("close(-1) result=%ld errno=%s\n", r, errno == EBADF ? "EBADF" : strerror(errno));
    errno = 0;
    r = syscall(99999, 1, 2, 3, 4, 5, 6);
    printf("syscall(99999) result=%ld errno=%s\n", r, errno == ENOSYS ? "ENOSYS" : strerror(errno));
    /* Six arguments reach the kernel: pselect6-free check with prctl/getrlimit-free call. */
    struct timespec req = {0, 1000000L}, rem = {9, 9};
    r = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &req, &rem);
    printf("clock_nanosleep result=%ld\n", r);
    errno = 0;
    r = syscall(SYS_futex, (uint32_t *)8, FUTEX_WAIT, 0, NULL, NULL, 0);
    printf("futex(bad address) result=%ld errno=%s\n", r, errno == EFAULT ? "EFAULT" : strerror(errno));
    errno = 0;
    r = syscall(SYS_futex, &idle_word, 99, 0, NULL, NULL, 0);
    printf("futex(op 99) result=%ld errno=%s\n", r, errno == ENOSYS ? "ENOSYS" : strerror(errno));

    printf("count woken=%ld eagain=%ld timedout=%ld interrupted=%ld wakes=%ld woke=%ld\n", woken, eagain,
           timedout, interrupted, wakes, woke_threads);
    printf("time handoff_word=%llu timeout_word=%llu signal_word=%llu\n", (unsigned long long)handoff_ns,
           (unsigned long long)timeout_ns, (unsigned long long)signal_ns);
    return 0;
}
