#ifndef GTRACE_SYSTEM_H
#define GTRACE_SYSTEM_H
/* Linux calls the recorder needs that Swift's Glibc module does not expose. */
#include <stdint.h>
#include <sys/types.h>

/* Puts the calling thread in SCHED_IDLE: it runs only when a CPU has nothing
 * else to run. Returns its tid (for gtrace_set_normal_priority), or -1. */
int gtrace_set_idle_priority(void);
/* Puts thread `tid` back in SCHED_OTHER. Returns 0 or -1. */
int gtrace_set_normal_priority(int tid);

/* The CPUs the calling thread may run on (sched_getaffinity: taskset, a
 * cpuset): up to `capacity` of their numbers in `cpus`. Returns how many
 * there are, or -1. */
int gtrace_affinity_cpus(int *cpus, int capacity);

/* prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of the tree are reparented to us. Returns 0 or -1. */
int gtrace_become_child_subreaper(void);

/* The least one runtime record costs on this machine, in picoseconds
 * (gtrace_record_cost.c): a lower bound for the recording's cost. */
uint64_t gtrace_record_cost_ps(void);

/* Atomic access to counters shared with the runtime through a file mapping. */
uint64_t gtrace_load_acquire_u64(const uint64_t *p);
void gtrace_store_release_u64(uint64_t *p, uint64_t value);
/* Orders the loads after it after the loads before it (records read once
 * their kinds, which the runtime writes last with release, were seen). */
void gtrace_acquire_fence(void);

/* Opens CPU `cpu`'s context-switch event on the calling process (inherited,
 * enabled on exec; see gtrace_perf.c) and maps its ring of `data_pages` pages
 * (a power of two). Returns 0, or the errno of the refusal. */
int gtrace_perf_open(int cpu, uint32_t data_pages, int *fd_out, void **map_out, uint64_t *map_bytes_out);

/* Copies up to `capacity` unread ring bytes to `out` and frees them in the ring. */
uint64_t gtrace_perf_drain(void *map, uint8_t *out, uint64_t capacity);

void gtrace_perf_close(int fd, void *map, uint64_t map_bytes);

/* Ends the warm-up `gtrace record` starts at process start (gtrace_perf_warm.c):
 * call once the rings are open, or perf was refused. */
void gtrace_perf_warm_finish(void);

/* SIGTERM/SIGHUP (those of `signals`) sent to the recorder go to `root`, the
 * command; after gtrace_forward_root_reaped, to each remaining child of the
 * recorder (orphans of the tree reparented to it). See gtrace_forward.c. */
void gtrace_forward_install(pid_t root, const int *signals, int count);
void gtrace_forward_root_reaped(void);
void gtrace_forward_uninstall(void);

/* An Itanium-mangled name (C++, legacy Rust) demangled by libstdc++, or NULL
 * when `name` is not one. The caller frees the result. */
char *gtrace_demangle(const char *name);

#endif
