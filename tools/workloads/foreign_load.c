/* foreign_load — a CPU-bound program and a CPU burner beside it, for the
 * foreign-load truth test (Tests/EndToEndTests/SeedTruthTests.swift).
 *
 *   foreign_load burn                      spin until killed, at most 120 s (the "other program");
 *                                          it unblocks every signal first, so SIGTERM ends it
 *                                          even when its parent ran it with signals blocked
 *   foreign_load run BURNER_PID THREADS MS  THREADS threads each burn MS ms of
 *                                          their own CPU time; prints the burner's
 *                                          CPU time (from /proc/PID/stat) during the run
 *
 * Output of `run`, one line of JSON:
 *   {"threads":2,"ms":600,"wall_ns":…,"burner_cpu_ns":…,"burner_cpu_while_all_ran_ns":…,
 *    "thread_start_ns":[…],"thread_end_ns":[…],"thread_cpu_ns":[…]}
 * Thread times are CLOCK_MONOTONIC; thread CPU is each thread's own CPU clock.
 * "burner_cpu_while_all_ran_ns": the burner's CPU time from the start of the
 * last burning thread to the end of the first; only then did every burning
 * thread want a CPU (10 ms tick granularity at either end).
 * Bad arguments: usage on stderr, exit 64.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* utime + stime of a process, in ns (clock ticks from /proc/PID/stat). */
static long long process_cpu_ns(long pid) {
    char path[64], buffer[4096];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buffer, 1, sizeof buffer - 1, f);
    fclose(f);
    buffer[n] = 0;
    char *p = strrchr(buffer, ')'); /* the command name may hold spaces */
    if (!p) return -1;
    unsigned long long utime = 0, stime = 0;
    /* fields after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
    return (long long)(utime + stime) * (1000000000LL / sysconf(_SC_CLK_TCK));
}

static long long burn_ms;
static long burner_pid;
static int thread_count;
static long long thread_start[256], thread_end[256], thread_cpu[256];
static int started, finished;
static long long burner_when_all_started = -1, burner_when_first_ended = -1;

static void *burner_thread(void *arg) {
    int index = (int)(long)arg;
    thread_start[index] = now_ns(CLOCK_MONOTONIC);
    if (__atomic_add_fetch(&started, 1, __ATOMIC_SEQ_CST) == thread_count)
        burner_when_all_started = process_cpu_ns(burner_pid);
    long long until = now_ns(CLOCK_THREAD_CPUTIME_ID) + burn_ms * 1000000LL;
    volatile unsigned long x = 0;
    while (now_ns(CLOCK_THREAD_CPUTIME_ID) < until)
        for (int i = 0; i < 10000; i++) x += (unsigned long)i;
    thread_cpu[index] = now_ns(CLOCK_THREAD_CPUTIME_ID);
    thread_end[index] = now_ns(CLOCK_MONOTONIC);
    if (__atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST) == 1)
        burner_when_first_ended = process_cpu_ns(burner_pid);
    return NULL;
}

static void print_array(const char *name, const long long *values, int count) {
    printf(",\"%s\":[", name);
    for (int i = 0; i < count; i++) printf("%s%lld", i ? "," : "", values[i]);
    printf("]");
}

static int usage(void) {
    fprintf(stderr, "usage: foreign_load burn | foreign_load run BURNER_PID THREADS MS\n");
    return 64;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "burn") == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGTERM, SIG_DFL);
        long long until = now_ns(CLOCK_MONOTONIC) + 120LL * 1000000000LL;
        volatile unsigned long x = 0;
        while (now_ns(CLOCK_MONOTONIC) < until)
            for (int i = 0; i < 1000000; i++) x++;
        return 0;
    }
    if (argc != 5 || strcmp(argv[1], "run") != 0) return usage();
    long burner = burner_pid = atol(argv[2]);
    int threads = thread_count = atoi(argv[3]);
    burn_ms = atoll(argv[4]);
    if (burner <= 0 || threads < 1 || threads > 256 || burn_ms < 1) return usage();
    long long wall0 = now_ns(CLOCK_MONOTONIC), burner0 = process_cpu_ns(burner);
    pthread_t ids[256];
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, burner_thread, (void *)(long)i);
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    long long burner1 = process_cpu_ns(burner), wall1 = now_ns(CLOCK_MONOTONIC);
    /* The first thread may end before the last starts: then no time had all of them burning. */
    long long all_ran = burner_when_all_started < 0 || burner_when_first_ended < 0 ? -1
                        : burner_when_first_ended > burner_when_all_started ? burner_when_first_ended - burner_when_all_started : 0;
    printf("{\"threads\":%d,\"ms\":%lld,\"wall_ns\":%lld,\"burner_cpu_ns\":%lld,\"burner_cpu_while_all_ran_ns\":%lld",
           threads, burn_ms, wall1 - wall0, burner0 < 0 || burner1 < 0 ? -1 : burner1 - burner0, all_ran);
    print_array("thread_start_ns", thread_start, threads);
    print_array("thread_end_ns", thread_end, threads);
    print_array("thread_cpu_ns", thread_cpu, threads);
    printf("}\n");
    return 0;
}
