/* Per-CPU perf context-switch rings for `gtrace record` (docs/RECORDING.md,
 * "Scheduling"). Opened on the recorder itself before it spawns the command:
 * disabled, inherited by every task created afterwards, and enabled in each
 * task when it execs. The recorder never execs, so it records nothing of its
 * own; the command and everything it forks or execs does. Records land in the
 * ring of the CPU they happened on and carry (pid, tid, time, cpu). */
#define _GNU_SOURCE
#include "gtrace_system.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int gtrace_perf_open(int cpu, uint32_t data_pages, int *fd_out, void **map_out, uint64_t *map_bytes_out) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_DUMMY;
    attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU;
    attr.disabled = 1;
    attr.inherit = 1;
    attr.enable_on_exec = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    attr.task = 1;           /* FORK and EXIT records */
    attr.comm = 1;           /* COMM records, also on exec */
    attr.comm_exec = 1;
    attr.mmap = 1;           /* MMAP records of executable mappings: which libraries each process loaded */
    attr.context_switch = 1; /* SWITCH records: in, out, out while still runnable */
    attr.sample_id_all = 1;
    attr.use_clockid = 1;
    attr.clockid = CLOCK_MONOTONIC;
    int fd = (int)syscall(SYS_perf_event_open, &attr, 0, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) return errno;
    uint64_t bytes = (uint64_t)(data_pages + 1) * (uint64_t)sysconf(_SC_PAGESIZE);
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        int err = errno;
        close(fd);
        return err;
    }
    *fd_out = fd;
    *map_out = map;
    *map_bytes_out = bytes;
    return 0;
}

uint64_t gtrace_perf_drain(void *map, uint8_t *out, uint64_t capacity) {
    struct perf_event_mmap_page *meta = map;
    uint8_t *data = (uint8_t *)map + meta->data_offset;
    uint64_t size = meta->data_size;
    uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = meta->data_tail;
    uint64_t available = head - tail;
    if (available > capacity) available = capacity;
    uint64_t start = tail % size;
    uint64_t first = available < size - start ? available : size - start;
    memcpy(out, data + start, first);
    memcpy(out + first, data, available - first);
    /* The bytes were copied: the kernel may reuse them. A record cut at the
     * end of `out` is completed by the next drain (the stream is contiguous). */
    __atomic_store_n(&meta->data_tail, tail + available, __ATOMIC_RELEASE);
    return available;
}

void gtrace_perf_close(int fd, void *map, uint64_t map_bytes) {
    if (map != NULL) munmap(map, map_bytes);
    if (fd >= 0) close(fd);
}
