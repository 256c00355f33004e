/* Hides most of perf's start-up wait behind the recorder's own start-up.
 *
 * The first context-switch event opened on a machine where none is open makes
 * the kernel enable its scheduler hooks and wait for an RCU grace period
 * before perf_event_open returns (kernel/events/core.c, account_event:
 * synchronize_rcu). It stays enabled until about a second after the last such
 * event is closed, so every `gtrace record` started more than a second after
 * the previous one waits: 14–20 ms here (docs/BENCHMARKS.md, "Session 17"),
 * which is most of a recording's fixed cost.
 *
 * When the executable starts as `gtrace record`, a constructor starts a thread
 * that opens one such event on itself. The wait then runs while the Swift
 * runtime loads and the arguments are parsed; the recorder's own rings, opened
 * later, find the hooks enabled and open at once. gtrace_perf_warm_finish
 * waits for the thread and closes its event (the rings keep the hooks on). The
 * event is close-on-exec, disabled and counts nothing: the command never sees it. */
#define _GNU_SOURCE
#include "gtrace_system.h"

#include <linux/perf_event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pthread_t warm_thread;
static int warm_started;
static int warm_fd = -1;

static void *warm_open(void *unused) {
    (void)unused;
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_DUMMY;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.context_switch = 1;
    warm_fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    return NULL;
}

__attribute__((constructor)) static void gtrace_perf_warm_start(int argc, char **argv, char **envp) {
    (void)envp;
    if (argc < 2 || argv == NULL || argv[1] == NULL || strcmp(argv[1], "record") != 0) return;
    const char *off = getenv("GTRACE_NO_PERF");
    if (off != NULL && off[0] != '\0' && strcmp(off, "0") != 0) return;
    warm_started = pthread_create(&warm_thread, NULL, warm_open, NULL) == 0;
}

void gtrace_perf_warm_finish(void) {
    if (!warm_started) return;
    warm_started = 0;
    pthread_join(warm_thread, NULL);
    if (warm_fd >= 0) close(warm_fd);
    warm_fd = -1;
}
