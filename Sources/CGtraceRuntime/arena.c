/*
 * arena.c — threads' first chunks as slots of a few shared files.
 *
 * A first chunk of its own costs a thread five system calls (open,
 * fallocate, mmap, close, and munmap at its end: ~36 us here), and the two
 * mapping calls take the process's memory-map lock for writing, on which
 * threads that start together queue (docs/BENCHMARKS.md, "Session 20").
 * So every thread of a process image after its first takes its first chunk
 * as a slot of an arena, `<pid>.<image>.<n>.arena` (gtrace_format.h), mapped
 * once for all of them: a fetch-add, no system call. The slot stays mapped
 * after the thread ends; the arena is unmapped when every one of its slots'
 * threads has ended (so a program that keeps starting threads does not keep
 * every arena mapped), else by exec, exit or a fork child.
 *
 * Arenas grow, 4, 16, 64, then 128 slots, so that a process with a few
 * threads maps little. Each is a file from the recorder's pool when it has
 * one of that size (pages allocated and written already), else the creating
 * thread allocates at most 16 slots itself. One thread creates the next
 * arena; a thread that finds another doing so, or the arenas unusable (the
 * uid changed and the session is not writable), makes a file of its own as
 * before.
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GT_ARENAS_MAX 4096 /* ~500 k threads; then files of their own */
#define GT_ARENA_OWN_MAX_BYTES (16u * GTRACE_ARENA_SLOT_BYTES)

struct gt_arena {
    char *base;    /* NULL once unmapped */
    size_t bytes;
    uint32_t slots;
    uint32_t next;  /* slots handed out (fetch-add; may pass `slots`) */
    uint32_t ended; /* threads of its slots that have ended */
};

static struct gt_arena gt_arenas[GT_ARENAS_MAX];
static uint32_t gt_arena_count; /* arenas published (release-stored after the entry is filled) */
static int gt_arena_busy;       /* a thread is creating the next arena */
static int gt_arena_failed;     /* creating one failed: threads make their own files */
static uint32_t gt_arena_threads; /* threads that asked; the first gets no slot */

/* Arena n's size: 64 KiB, 256 KiB, 1 MiB, then 2 MiB (all sizes the pool keeps). */
static size_t gt_arena_bytes(uint32_t n) {
    return n < 3 ? (size_t)(4u * GTRACE_ARENA_SLOT_BYTES) << (2 * n) : GT_CHUNK_MAX_BYTES;
}

/* Creates, maps and publishes arena n; 0 on failure. */
static int gt_arena_create(uint32_t n) {
    char path[GT_PATH_MAX + 96];
    char *end = path + sizeof path;
    char *p = gt_put_session_prefix(path, end, gt_pid);
    p = gt_put_str(p, end, ".");
    p = gt_put_u64(p, end, gt_image);
    p = gt_put_str(p, end, ".");
    p = gt_put_u64(p, end, n);
    gt_put_str(p, end, ".arena");
    size_t len = gt_arena_bytes(n);
    int fd = gt_pool_has(len) ? gt_pool_claim(path, len) : -1;
    if (fd < 0) {
        if (len > GT_ARENA_OWN_MAX_BYTES) len = GT_ARENA_OWN_MAX_BYTES;
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) return 0;
        /* Pages reserved now (ENOSPC here rather than SIGBUS at a write). */
        if (fallocate(fd, 0, 0, (off_t)len) != 0 &&
            ((errno != EOPNOTSUPP && errno != ENOSYS) || ftruncate(fd, (off_t)len) != 0)) {
            ftruncate(fd, 0);
            close(fd);
            return 0;
        }
    }
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return 0;
    gt_budget_charge(len);
    struct gt_arena *a = &gt_arenas[n];
    a->base = m;
    a->bytes = len;
    a->slots = (uint32_t)(len / GTRACE_ARENA_SLOT_BYTES);
    a->next = 0;
    a->ended = 0;
    __atomic_store_n(&gt_arena_count, n + 1, __ATOMIC_RELEASE);
    return 1;
}

struct gtrace_buffer_header *gt_arena_slot(uint32_t tid, uint32_t *arena) {
    if (__atomic_fetch_add(&gt_arena_threads, 1, __ATOMIC_RELAXED) == 0) return NULL;
    for (;;) {
        if (__atomic_load_n(&gt_arena_failed, __ATOMIC_RELAXED)) return NULL;
        uint32_t n = __atomic_load_n(&gt_arena_count, __ATOMIC_ACQUIRE);
        if (n > 0) {
            struct gt_arena *a = &gt_arenas[n - 1];
            uint32_t k = __atomic_fetch_add(&a->next, 1, __ATOMIC_RELAXED);
            if (k < a->slots) {
                struct gtrace_buffer_header *h = (void *)(a->base + (size_t)k * GTRACE_ARENA_SLOT_BYTES);
                gt_chunk_header_init(h, tid, 0, GTRACE_ARENA_SLOT_BYTES);
                *arena = n - 1;
                return h;
            }
        }
        if (n == GT_ARENAS_MAX) return NULL;
        int idle = 0;
        if (!__atomic_compare_exchange_n(&gt_arena_busy, &idle, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return NULL; /* another thread is creating the next one */
        /* Another thread may have published arena n since our look. */
        int ok = __atomic_load_n(&gt_arena_count, __ATOMIC_ACQUIRE) != n || gt_arena_create(n);
        if (!ok) __atomic_store_n(&gt_arena_failed, 1, __ATOMIC_RELAXED);
        __atomic_store_n(&gt_arena_busy, 0, __ATOMIC_RELEASE);
    }
}

void gt_arena_slot_ended(uint32_t arena) {
    struct gt_arena *a = &gt_arenas[arena];
    if (__atomic_add_fetch(&a->ended, 1, __ATOMIC_ACQ_REL) != a->slots) return;
    /* Forgotten first: a fork child then never unmaps the range (the kernel
     * may give it to another mapping once it is free). */
    char *base = __atomic_exchange_n(&a->base, NULL, __ATOMIC_ACQ_REL);
    if (base != NULL) munmap(base, a->bytes);
}

/* In a fork child: the arenas are the parent's files. */
void gt_arena_forget_after_fork(void) {
    uint32_t n = __atomic_load_n(&gt_arena_count, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++) {
        if (gt_arenas[i].base != NULL) munmap(gt_arenas[i].base, gt_arenas[i].bytes);
        gt_arenas[i] = (struct gt_arena){0};
    }
    gt_arena_count = 0;
    gt_arena_busy = 0;
    gt_arena_failed = 0;
    gt_arena_threads = 0;
}
