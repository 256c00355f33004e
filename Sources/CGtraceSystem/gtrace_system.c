#define _GNU_SOURCE
#include <sched.h>
#include "gtrace_system.h"
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int gtrace_become_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

uint64_t gtrace_load_acquire_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

void gtrace_store_release_u64(uint64_t *p, uint64_t value) { __atomic_store_n(p, value, __ATOMIC_RELEASE); }

int gtrace_set_idle_priority(void) {
    struct sched_param parameters = {0};
    if (sched_setscheduler(0, SCHED_IDLE, &parameters) != 0) return -1;
    return (int)syscall(SYS_gettid);
}

int gtrace_set_normal_priority(int tid) {
    struct sched_param parameters = {0};
    return sched_setscheduler(tid, SCHED_OTHER, &parameters);
}

void gtrace_acquire_fence(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }

int gtrace_affinity_cpus(int *cpus, int capacity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        if (count < capacity) cpus[count] = cpu;
        count++;
    }
    return count;
}

/* libstdc++'s Itanium ABI demangler (C linkage). */
extern char *__cxa_demangle(const char *mangled, char *output, size_t *length, int *status);

char *gtrace_demangle(const char *name) {
    int status = 0;
    char *result = __cxa_demangle(name, NULL, NULL, &status);
    return status == 0 ? result : NULL;
}
