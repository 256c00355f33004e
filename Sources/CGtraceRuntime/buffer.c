/*
 * buffer.c — per-thread file-backed buffer chunks.
 *
 * Each thread owns chunk files <session>/<pid>.<image>.<tid>.<chunk>.buf,
 * mapped MAP_SHARED so that every record written survives SIGKILL in the
 * page cache; a thread's first chunk may instead be a slot of an arena file
 * (arena.c). The per-event path (gt_emit_ts in gtrace_runtime.h) takes a
 * slot with a non-LOCKed xadd on header->reserved, writes the record and
 * stores `kind` last with release ordering. Only the slow paths live here:
 * first-chunk creation and rotation to the next chunk.
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

__thread struct gt_tls gt_tls __attribute__((tls_model("initial-exec")));

static pthread_key_t gt_key;
static int gt_key_ok;

uint32_t gt_gettid(void) {
    struct gt_tls *t = &gt_tls;
    if (GT_UNLIKELY(t->tid == 0)) t->tid = (uint32_t)syscall(SYS_gettid);
    return t->tid;
}

uint64_t gt_thread_cpu_ns(void) { return gt_clock_ns(CLOCK_THREAD_CPUTIME_ID); }

static size_t gt_chunk_bytes(uint32_t chunk) {
    size_t len = GT_CHUNK_FIRST_BYTES;
    for (uint32_t i = 0; i < chunk && len < GT_CHUNK_MAX_BYTES; i++) len *= 2;
    return len > GT_CHUNK_MAX_BYTES ? GT_CHUNK_MAX_BYTES : len;
}

/* Create and map chunk `*chunk` (or the next free number if the file already
 * exists: a reused tid). Returns NULL on failure (errno set). */
uint64_t gt_budget_bytes; /* 0: unlimited */
static uint64_t gt_used_bytes;

/* `<session>/<pid>.<image>.<tid>.<chunk>.buf` */
static void gt_chunk_path(char *path, char *end, uint32_t tid, uint32_t c) {
    char *p = gt_put_session_prefix(path, end, gt_pid);
    p = gt_put_str(p, end, ".");
    p = gt_put_u64(p, end, gt_image);
    p = gt_put_str(p, end, ".");
    p = gt_put_u64(p, end, tid);
    p = gt_put_str(p, end, ".");
    p = gt_put_u64(p, end, c);
    gt_put_str(p, end, ".buf");
}

static struct gtrace_buffer_header *gt_chunk_create(uint32_t tid, uint32_t *chunk, size_t *len_out) {
    char path[GT_PATH_MAX + 96];
    char *end = path + sizeof path;
    int fd = -1;
    uint32_t c = *chunk;
    size_t len = gt_chunk_bytes(c);
    /* Budget of this process image: the first (small) chunk of a thread is
     * always allowed so that thread starts and ends stay visible. */
    uint64_t used = __atomic_add_fetch(&gt_used_bytes, len, __ATOMIC_RELAXED);
    if (gt_budget_bytes != 0 && c != 0 && used > gt_budget_bytes) {
        __atomic_sub_fetch(&gt_used_bytes, len, __ATOMIC_RELAXED);
        errno = EDQUOT;
        return NULL;
    }
    /* A thread's chunks double in size (16 KiB, 32 KiB, ... 2 MiB), so a
     * thread's tmpfs use stays within about twice its records whatever its
     * rate. Chunks after the first come from the recorder's pool when it has
     * one (pages already allocated and written); else they are new files. */
    int pooled = 0;
    if (c != 0 && gt_pool_has(len)) {
        for (int attempt = 0; attempt < 8; attempt++, c++) {
            gt_chunk_path(path, end, tid, c);
            fd = gt_pool_claim(path, len);
            if (fd >= 0) {
                pooled = 1;
                break;
            }
            if (errno != EEXIST) break;
        }
    }
    for (int attempt = 0; !pooled && attempt < 64; attempt++, c++) {
        gt_chunk_path(path, end, tid, c);
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && gt_session_use_drop(errno)) { /* the uid changed: same chunk, in the drop box */
            c--;
            continue;
        }
        if (fd >= 0 || errno != EEXIST) break;
    }
    if (fd < 0) {
        __atomic_sub_fetch(&gt_used_bytes, len, __ATOMIC_RELAXED);
        return NULL;
    }
    /* fallocate reserves the pages (ENOSPC now instead of SIGBUS later on a
     * full tmpfs); file systems without it get a sparse ftruncate. */
    if (!pooled && fallocate(fd, 0, 0, (off_t)len) != 0) {
        if ((errno != EOPNOTSUPP && errno != ENOSYS) || ftruncate(fd, (off_t)len) != 0) {
            int e = errno;
            __atomic_sub_fetch(&gt_used_bytes, len, __ATOMIC_RELAXED);
            ftruncate(fd, 0);
            close(fd);
            errno = e;
            return NULL;
        }
    }
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) {
        __atomic_sub_fetch(&gt_used_bytes, len, __ATOMIC_RELAXED);
        errno = e;
        return NULL;
    }
    gt_chunk_header_init(m, tid, c, len);
    *chunk = c;
    *len_out = len;
    return m;
}

void gt_chunk_header_init(struct gtrace_buffer_header *h, uint32_t tid, uint32_t chunk, size_t len) {
    h->version = GTRACE_BUFFER_VERSION;
    h->record_size = (uint32_t)sizeof(struct gtrace_raw_record);
    h->pid = gt_pid;
    h->tid = tid;
    h->image = gt_image;
    h->chunk = chunk;
    h->capacity = (len - GT_HEADER_BYTES) / sizeof(struct gtrace_raw_record);
    h->reserved = 0;
    h->lost = 0;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(h->magic, GTRACE_BUFFER_MAGIC, 8);
}

void gt_budget_charge(size_t len) { __atomic_add_fetch(&gt_used_bytes, len, __ATOMIC_RELAXED); }

/* Unmaps one of the thread's chunks, unless it is its arena slot. */
static void gt_chunk_unmap(struct gt_tls *t, void *chunk, size_t len) {
    if (chunk != NULL && chunk != t->slot) munmap(chunk, len);
}

/* Ticks since `start`, for a chunk header's setup_ticks: what recording cost the
 * thread beyond its records (the kernel's file and mapping work, and waiting for
 * other threads doing the same: they share the process's memory-map lock). */
static uint32_t gt_setup_ticks(uint64_t start) {
    uint64_t ticks = gtrace_timestamp() - start;
    return ticks > UINT32_MAX ? UINT32_MAX : (uint32_t)ticks;
}

static void gt_block_signals(sigset_t *old) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, old);
}

static void gt_restore_signals(const sigset_t *old) { sigprocmask(SIG_SETMASK, old, NULL); }

/* First event of a thread: map chunk 0 and, for a thread whose start was not
 * seen (created before the runtime or not via pthread_create), write
 * THREAD_START(0) and its name. */
/* Threads of this process whose chunks are mapped. A fork child only needs
 * to look for other threads' chunks in /proc/self/maps (~100 µs) when the
 * parent had more than the forking thread. */
static int gt_mapped_threads;

static int gt_thread_init(void) {
    struct gt_tls *t = &gt_tls;
    int saved = errno;
    sigset_t old;
    gt_block_signals(&old);
    t->state = GT_INITIALIZING;
    uint32_t tid = gt_gettid();
    uint32_t chunk = 0;
    size_t len = GTRACE_ARENA_SLOT_BYTES;
    uint64_t setup_start = gtrace_timestamp();
    struct gtrace_buffer_header *h = gt_arena_slot(tid, &t->slot_arena);
    t->slot = h;
    if (h == NULL) h = gt_chunk_create(tid, &chunk, &len);
    if (h == NULL) {
        t->state = GT_OFF;
        gt_restore_signals(&old);
        /* The session directory is unusable: stop recording in this process
         * (one line on stderr, not one per thread). */
        if (__atomic_exchange_n(&gt_enabled, 0, __ATOMIC_RELAXED))
            gt_diag_err("cannot create a thread buffer in the session directory; recording disabled", errno);
        errno = saved;
        return 0;
    }
    h->setup_ticks = gt_setup_ticks(setup_start);
    t->hdr = h;
    t->chunk = chunk;
    t->cur_len = len;
    t->retired[0] = t->retired[1] = NULL;
    t->rotating = 0;
    t->broken = 0;
    t->state = GT_READY;
    __atomic_add_fetch(&gt_mapped_threads, 1, __ATOMIC_RELAXED);
    if (gt_key_ok && !t->key_set) {
        t->key_set = 1;
        pthread_setspecific(gt_key, (void *)1);
    }
    gt_emit_clock_sync();
    gt_restore_signals(&old);
    if (!t->started) {
        t->started = 1;
        gt_emit(GTRACE_RAW_THREAD_START, 0, 0, 0, 0);
        gt_emit_own_name();
    }
    errno = saved;
    return 1;
}

void gt_emit_slow(uint16_t kind, uint16_t flags, uint32_t u32, uint64_t addr, uint64_t arg) {
    struct gt_tls *t = &gt_tls;
    if (t->guard != 0) return;
    if (t->state == GT_UNINIT) {
        if (!gt_enabled) return;
        if (!gt_thread_init()) return;
        gt_emit(kind, flags, u32, addr, arg);
    }
    /* GT_INITIALIZING (nested from a signal handler) or GT_OFF: dropped. */
}

/* The slot taken from h was past its capacity: rotate to the next chunk. */
void gt_emit_full(struct gtrace_buffer_header *h, uint64_t tsc, uint16_t kind, uint16_t flags,
                  uint32_t u32, uint64_t addr, uint64_t arg) {
    struct gt_tls *t = &gt_tls;
    if (t->rotating || t->broken) {
        h->lost++;
        return;
    }
    int saved = errno;
    sigset_t old;
    gt_block_signals(&old);
    if (t->hdr != h || t->state != GT_READY) {
        /* A signal handler rotated between our load of hdr and our xadd. */
        gt_restore_signals(&old);
        errno = saved;
        gt_emit_ts(tsc, kind, flags, u32, addr, arg);
        return;
    }
    t->rotating = 1;
    uint32_t chunk = t->chunk + 1;
    size_t len = 0;
    uint64_t setup_start = gtrace_timestamp();
    struct gtrace_buffer_header *n = gt_chunk_create(gt_gettid(), &chunk, &len);
    if (n == NULL) {
        int failure = errno;
        t->broken = 1;
        h->broken_errno = failure != 0 ? (uint32_t)failure : EIO;
        h->lost++;
        t->rotating = 0;
        gt_restore_signals(&old);
        static int said;
        if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
            gt_diag_err(failure == EDQUOT ? "buffer budget (GTRACE_MAX_MB) reached; further events are counted as lost"
                                          : "cannot create a buffer chunk; further events of that thread are counted as lost",
                        failure);
        errno = saved;
        return;
    }
    /* Retire: the chunk two rotations back is unmapped now; the previous two
     * stay mapped so an interrupted writer can still finish its record. */
    gt_chunk_unmap(t, t->retired[1], t->retired_len[1]);
    n->setup_ticks = gt_setup_ticks(setup_start);
    t->retired[1] = t->retired[0];
    t->retired_len[1] = t->retired_len[0];
    t->retired[0] = h;
    t->retired_len[0] = t->cur_len;
    t->hdr = n;
    t->chunk = chunk;
    t->cur_len = len;
    t->rotating = 0;
    /* The event first (its tsc predates the rotation), then the chunk's clock pair. */
    gt_emit_ts(tsc, kind, flags, u32, addr, arg);
    gt_emit_clock_sync();
    gt_restore_signals(&old);
    errno = saved;
}

/* tsc (midpoint around the clock read), CLOCK_MONOTONIC ns, CLOCK_REALTIME ns. */
void gt_emit_clock_sync(void) {
    struct timespec mono, real;
    uint64_t t0 = gtrace_timestamp();
    clock_gettime(CLOCK_MONOTONIC, &mono);
    uint64_t t1 = gtrace_timestamp();
    clock_gettime(CLOCK_REALTIME, &real);
    uint64_t tsc = t0 + (t1 - t0) / 2;
    gt_emit_ts(tsc, GTRACE_RAW_CLOCK_SYNC, 0, 0,
               (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec,
               (uint64_t)real.tv_sec * 1000000000ull + (uint64_t)real.tv_nsec);
}

void gt_emit_name(uint32_t tid, const char *name) {
    uint64_t w[2] = {0, 0};
    size_t n = 0;
    if (name != NULL)
        while (n < 16 && name[n] != '\0') n++;
    memcpy(w, name, n);
    gt_emit(GTRACE_RAW_THREAD_NAME, 0, tid, w[0], w[1]);
}

void gt_emit_own_name(void) {
    char name[17];
    memset(name, 0, sizeof name);
    int saved = errno;
    if (prctl(PR_GET_NAME, name, 0, 0, 0) == 0) gt_emit_name(gt_gettid(), name);
    errno = saved;
}

static void gt_unmap_all(struct gt_tls *t) {
    gt_chunk_unmap(t, t->hdr, t->cur_len);
    for (int i = 0; i < 2; i++) gt_chunk_unmap(t, t->retired[i], t->retired_len[i]);
    t->hdr = NULL;
    t->retired[0] = t->retired[1] = NULL;
}

/* The thread is gone (last pthread key destructor round): stop recording and
 * give the address space back. */
void gt_thread_release(void) {
    struct gt_tls *t = &gt_tls;
    sigset_t old;
    int saved = errno;
    gt_block_signals(&old);
    t->state = GT_OFF;
    if (t->hdr != NULL) __atomic_sub_fetch(&gt_mapped_threads, 1, __ATOMIC_RELAXED);
    /* Unmapping the retired chunks is buffer set-up time too, added to the last chunk's
     * header (whose own unmapping cannot be). */
    uint64_t start = gtrace_timestamp();
    for (int i = 0; i < 2; i++) {
        gt_chunk_unmap(t, t->retired[i], t->retired_len[i]);
        t->retired[i] = NULL;
    }
    if (t->hdr != NULL) {
        uint64_t total = (uint64_t)t->hdr->setup_ticks + gt_setup_ticks(start);
        t->hdr->setup_ticks = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
    }
    gt_unmap_all(t);
    if (t->slot != NULL) gt_arena_slot_ended(t->slot_arena);
    t->slot = NULL;
    gt_restore_signals(&old);
    errno = saved;
}

static void gt_key_dtor(void *v) {
    (void)v;
    struct gt_tls *t = &gt_tls;
    /* Re-arm for later rounds so that other keys' destructors (which may still
     * lock) are recorded; unmap in the last round glibc runs. */
    if (t->dtor_rounds + 1 < PTHREAD_DESTRUCTOR_ITERATIONS) {
        t->dtor_rounds++;
        pthread_setspecific(gt_key, (void *)1);
        return;
    }
    gt_thread_release();
}

void gt_key_init(void) {
    if (!gt_key_ok && pthread_key_create(&gt_key, gt_key_dtor) == 0) gt_key_ok = 1;
}

/* In a fork child: the parent's chunks are shared mappings of the parent's
 * files. Unmap them without writing to them, including the chunks of the
 * parent's other threads (found in /proc/self/maps), and reset this thread. */
static int gt_is_parent_buf(const char *path, size_t n, const char *prefix, size_t plen) {
    if (n < plen + 4 || memcmp(path, prefix, plen) != 0) return 0;
    return memcmp(path + n - 4, ".buf", 4) == 0;
}

static void gt_unmap_parent_chunks(uint32_t parent_pid) {
    char prefix[GT_PATH_MAX + 32];
    char *pe = prefix + sizeof prefix;
    char *p = gt_put_session_prefix(prefix, pe, parent_pid);
    p = gt_put_str(p, pe, ".");
    size_t plen = (size_t)(p - prefix);

    /* Collect ranges first, unmap after reading (unmapping while reading
     * /proc/self/maps would shift its contents). */
    static uintptr_t ranges[512][2];
    int nr = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    static char buf[8192];
    size_t have = 0;
    int eof = 0;
    while (!eof || have > 0) {
        if (!eof && have < sizeof buf) {
            ssize_t r = gt_sys_read(fd, buf + have, sizeof buf - have);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) eof = 1; else have += (size_t)r;
        }
        char *nl = memchr(buf, '\n', have);
        if (nl == NULL) {
            if (eof || have == sizeof buf) have = 0; /* overlong or unterminated line: skip */
            continue;
        }
        size_t ll = (size_t)(nl - buf);
        /* start-end perms offset dev inode path */
        uintptr_t s = 0, e = 0;
        size_t i = 0;
        for (; i < ll && buf[i] != '-'; i++) s = s * 16 + (uintptr_t)(buf[i] <= '9' ? buf[i] - '0' : (buf[i] | 32) - 'a' + 10);
        for (i++; i < ll && buf[i] != ' '; i++) e = e * 16 + (uintptr_t)(buf[i] <= '9' ? buf[i] - '0' : (buf[i] | 32) - 'a' + 10);
        char *slash = memchr(buf, '/', ll);
        if (slash != NULL && nr < 512 && gt_is_parent_buf(slash, (size_t)(nl - slash), prefix, plen)) {
            ranges[nr][0] = s;
            ranges[nr][1] = e;
            nr++;
        }
        size_t consumed = ll + 1;
        memmove(buf, buf + consumed, have - consumed);
        have -= consumed;
    }
    close(fd);
    for (int i = 0; i < nr; i++) munmap((void *)ranges[i][0], ranges[i][1] - ranges[i][0]);
}

/* Call before gt_pid is updated to the child's pid. */
void gt_thread_forget_after_fork(void) {
    struct gt_tls *t = &gt_tls;
    gt_used_bytes = 0;
    int guard = t->guard;
    int others = __atomic_load_n(&gt_mapped_threads, __ATOMIC_RELAXED) - (t->hdr != NULL ? 1 : 0);
    gt_unmap_all(t);
    if (others > 0) gt_unmap_parent_chunks(gt_pid);
    gt_arena_forget_after_fork();
    gt_mapped_threads = 0;
    memset(t, 0, sizeof *t);
    t->guard = guard;
}
