/*
 * pool.c — taking pre-allocated chunk files from the recorder's pool.
 *
 * Allocating fresh tmpfs pages is the dominant cost of a busy thread's
 * recording (~2.6 us per 4 KiB page measured on the 2-vCPU VM, i.e. ~20 ns
 * per 32-byte record), so `gtrace record` allocates spare chunk files in
 * another process while the target runs (see gtrace_format.h, "chunk pool").
 * Taking one is a fetch-add on the shared control block and one rename; when
 * the pool is empty or absent the caller creates a chunk itself.
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct gtrace_pool_control *gt_pool;
/* 0: not opened yet, 1: open, 2: being opened or unavailable. */
static int gt_pool_state;

static void gt_pool_open(void) {
    int expected = 0;
    if (!__atomic_compare_exchange_n(&gt_pool_state, &expected, 2, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return;
    char path[GT_PATH_MAX + 32];
    char *p = gt_put_str(path, path + sizeof path, gt_session);
    gt_put_str(p, path + sizeof path, "/" GTRACE_POOL_CONTROL);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return;
    void *m = mmap(NULL, sizeof *gt_pool, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return;
    struct gtrace_pool_control *c = m;
    if (memcmp(c->magic, GTRACE_POOL_MAGIC, 8) != 0 || c->classes > GTRACE_POOL_CLASSES) {
        munmap(m, sizeof *gt_pool);
        return;
    }
    gt_pool = c;
    __atomic_store_n(&gt_pool_state, 1, __ATOMIC_RELEASE);
}

/* The class of chunks of `len` bytes, or -1. */
static int gt_pool_class(size_t len) {
    if (__atomic_load_n(&gt_pool_state, __ATOMIC_ACQUIRE) == 0) gt_pool_open();
    if (__atomic_load_n(&gt_pool_state, __ATOMIC_ACQUIRE) != 1) return -1;
    for (uint64_t i = 0; i < gt_pool->classes; i++)
        if (gt_pool->cls[i].chunk_bytes == len && len >= 2 * GT_HEADER_BYTES) return (int)i;
    return -1;
}

int gt_pool_has(size_t len) { return gt_pool_class(len) >= 0; }

int gt_pool_claim(const char *dest, size_t len) {
    int i = gt_pool_class(len);
    if (i < 0) {
        errno = ENOENT;
        return -1;
    }
    struct gtrace_pool_class *c = &gt_pool->cls[i];
    uint64_t k = __atomic_fetch_add(&c->claimed, 1, __ATOMIC_RELAXED);
    if (k >= __atomic_load_n(&c->produced, __ATOMIC_ACQUIRE)) {
        __atomic_fetch_add(&c->fallbacks, 1, __ATOMIC_RELAXED);
        errno = EAGAIN;
        return -1;
    }
    char src[GT_PATH_MAX + 64];
    char *end = src + sizeof src;
    char *p = gt_put_str(src, end, gt_session);
    p = gt_put_str(p, end, "/" GTRACE_POOL_DIRECTORY "/");
    p = gt_put_u64(p, end, (uint64_t)i);
    p = gt_put_str(p, end, ".");
    p = gt_put_u64(p, end, k);
    gt_put_str(p, end, ".chunk");
    /* NOREPLACE: a reused tid may already own `dest`; the caller then tries
     * the next chunk number (this pool file is left unused). */
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dest, RENAME_NOREPLACE) != 0) return -1;
    return open(dest, O_RDWR | O_CLOEXEC);
}
