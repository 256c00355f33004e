/*
 * wakers.c — records that let the replay name who woke a waiting thread
 * (GTRACE_RAW_WAKER, see gtrace_format.h and docs/METRICS.md, "Replay"):
 *
 *  - writes to pipes, sockets and anonymous-inode descriptors (eventfd), with
 *    the object's inode and device, so that a read that blocked on the same
 *    object can be tied to the write that ended it. The descriptor's kind and
 *    identity are cached per descriptor number (one fstat the first time;
 *    an anonymous inode, shared by every eventfd, is told apart by process
 *    and descriptor number);
 *    close, dup2 and dup3 forget the entry. No lock: a racing thread at worst
 *    repeats the fstat;
 *  - pthread_cond_signal / pthread_cond_broadcast (not the GIL's own);
 *  - kill(pid, sig) of a process, for children killed by their parent.
 *
 * Every wrapper returns what the real call returned, errno intact.
 */
#include "gtrace_runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GT_FD_CACHE 4096

enum { GT_FD_UNKNOWN = 0, GT_FD_OTHER = 1, GT_FD_OBJECT = 2 };

static uint8_t gt_fd_kind[GT_FD_CACHE];
static uint64_t gt_fd_ino[GT_FD_CACHE];
static uint64_t gt_fd_dev[GT_FD_CACHE];
static uint64_t gt_fd_noted[GT_FD_CACHE]; /* stamp of the last IO_READ/IO_WRITE noted */
static uint64_t gt_fd_written[GT_FD_CACHE]; /* bytes written since the last IO_WRITE noted */

/* A pipe, a socket, or an anonymous inode (eventfd, timerfd, signalfd): an
 * object another thread of the tree can wake a reader of. */
static int gt_is_object_mode(mode_t mode) {
    return S_ISFIFO(mode) || S_ISSOCK(mode) || (mode & S_IFMT) == 0;
}

int gt_io_object(int fd, uint64_t *ino, uint64_t *dev) {
    if (fd < 0) return 0;
    if (fd < GT_FD_CACHE) {
        uint8_t k = __atomic_load_n(&gt_fd_kind[fd], __ATOMIC_ACQUIRE);
        if (k == GT_FD_OTHER) return 0;
        if (k == GT_FD_OBJECT) {
            *ino = gt_fd_ino[fd];
            *dev = gt_fd_dev[fd];
            return 1;
        }
    }
    int saved = errno;
    struct stat st;
    int ok = syscall(SYS_fstat, fd, &st) == 0;
    errno = saved;
    if (!ok) return 0;
    int object = gt_is_object_mode(st.st_mode);
    if (object && S_ISSOCK(st.st_mode)) {
        /* Both ends of a connection are one object (connections.c). */
        uint64_t cino = (uint64_t)st.st_ino, cdev = (uint64_t)st.st_dev;
        if (gt_connection_object(fd, &cino, &cdev)) {
            st.st_ino = (ino_t)cino;
            st.st_dev = (dev_t)cdev;
        }
    }
    if (object && (st.st_mode & S_IFMT) == 0) {
        /* Every eventfd, timerfd, signalfd and epoll fd of the machine is the
         * one anonymous inode: identified by process and fd number instead
         * (tag 0xa0; a fork child keeps its parent's for the fds it inherits). */
        st.st_ino = (ino_t)(0xa0ull << 56 | (uint64_t)gt_pid << 20 | ((uint64_t)fd & 0xfffff));
    }
    if (fd < GT_FD_CACHE) {
        gt_fd_ino[fd] = (uint64_t)st.st_ino;
        gt_fd_dev[fd] = (uint64_t)st.st_dev;
        __atomic_store_n(&gt_fd_kind[fd], object ? GT_FD_OBJECT : GT_FD_OTHER, __ATOMIC_RELEASE);
    }
    *ino = (uint64_t)st.st_ino;
    *dev = (uint64_t)st.st_dev;
    return object;
}

void gt_io_alias(int fd, uint64_t ino, uint64_t dev) {
    if (fd < 0 || fd >= GT_FD_CACHE) return;
    __atomic_store_n(&gt_fd_kind[fd], GT_FD_UNKNOWN, __ATOMIC_RELAXED);
    __atomic_store_n(&gt_fd_written[fd], 0, __ATOMIC_RELAXED);
    gt_fd_ino[fd] = ino;
    gt_fd_dev[fd] = dev;
    __atomic_store_n(&gt_fd_kind[fd], GT_FD_OBJECT, __ATOMIC_RELEASE);
}

/* Reads, and writes of under GT_IO_NOTE_BYTES, are recorded at most once per
 * GT_IO_NOTE_TICKS per descriptor (per process): a stream of small writes
 * costs ~10 000 records a second at most, and a reader woken inside a burst
 * is tied to the burst's first write, at most 100 µs early. */
#if GTRACE_TIMESTAMP_IS_TSC
#define GT_IO_NOTE_TICKS 300000u
#else
#define GT_IO_NOTE_TICKS 100000u
#endif

void gt_note_io(uint16_t what, int fd, uint64_t tsc) { gt_note_io_bytes(what, fd, tsc, 0); }

/* An IO_WRITE record carries the bytes written to its descriptor since the
 * previous one, this write's included (saturated to 32 bits), in the high half
 * of its dev word: st_dev is a 32-bit kernel encoding. Writes inside the
 * rate limit only add to the count, unless they moved GT_IO_NOTE_BYTES or
 * more (a pickled task after its header: the copy costs more than the
 * record); so the small writes of the last 100 µs of a burst are counted with
 * the descriptor's next noted write, or never. A fork child starts with its
 * parent's count: at most those small writes. */
#define GT_IO_NOTE_BYTES 65536u
void gt_note_io_bytes(uint16_t what, int fd, uint64_t tsc, uint64_t bytes) {
    uint64_t ino, dev;
    int cached = fd >= 0 && fd < GT_FD_CACHE;
    if (cached && (what == GTRACE_WAKER_IO_WRITE || what == GTRACE_WAKER_IO_READ)) {
        uint8_t kind = __atomic_load_n(&gt_fd_kind[fd], __ATOMIC_RELAXED);
        if (kind == GT_FD_OTHER) return;
        if (bytes != 0) __atomic_add_fetch(&gt_fd_written[fd], bytes, __ATOMIC_RELAXED);
        uint64_t last = __atomic_load_n(&gt_fd_noted[fd], __ATOMIC_RELAXED);
        if (last != 0 && tsc - last < GT_IO_NOTE_TICKS && kind != GT_FD_UNKNOWN && bytes < GT_IO_NOTE_BYTES)
            return;
    }
    if (!gt_io_object(fd, &ino, &dev)) return;
    if (what == GTRACE_WAKER_IO_WRITE) {
        if (cached) bytes = __atomic_exchange_n(&gt_fd_written[fd], 0, __ATOMIC_RELAXED);
        dev = (dev & 0xffffffffull) | (bytes < 0xffffffffull ? bytes : 0xffffffffull) << 32;
    }
    if (cached) __atomic_store_n(&gt_fd_noted[fd], tsc, __ATOMIC_RELAXED);
    gt_emit_ts(tsc, GTRACE_RAW_WAKER, what, (uint32_t)fd, ino, dev);
}

static void gt_forget_fd(int fd) {
    if (fd >= 0 && fd < GT_FD_CACHE) {
        __atomic_store_n(&gt_fd_kind[fd], GT_FD_UNKNOWN, __ATOMIC_RELEASE);
        __atomic_store_n(&gt_fd_noted[fd], 0, __ATOMIC_RELAXED);
        __atomic_store_n(&gt_fd_written[fd], 0, __ATOMIC_RELAXED);
    }
}

/* The fd numbers are inherited: a fork child keeps the cache; an exec starts
 * a new image with an empty one. */

typedef int (*gt_close_fn)(int);
typedef int (*gt_dup2_fn)(int, int);
typedef int (*gt_dup3_fn)(int, int, int);
typedef int (*gt_cond_fn)(pthread_cond_t *);
typedef int (*gt_kill_fn)(pid_t, int);

/* Resolved lazily here (not in gt_real): a failed lookup makes the syscall. */
static void *gt_next(void **slot, const char *name, const char *version) {
    void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (p == NULL) {
        p = version != NULL ? dlvsym(RTLD_NEXT, name, version) : NULL;
        if (p == NULL) p = dlsym(RTLD_NEXT, name);
        __atomic_store_n(slot, p, __ATOMIC_RELEASE);
    }
    return p;
}

static void *gt_close_p, *gt_dup2_p, *gt_dup3_p, *gt_signal_p, *gt_broadcast_p, *gt_kill_p;

GT_EXPORT int close(int fd) {
    gt_forget_fd(fd);
    gt_file_locks_closing(fd);
    gt_close_fn f = (gt_close_fn)gt_next(&gt_close_p, "close", NULL);
    if (GT_UNLIKELY(f == NULL)) return (int)syscall(SYS_close, fd);
    return f(fd);
}

GT_EXPORT int dup2(int old, int new) {
    gt_dup2_fn f = (gt_dup2_fn)gt_next(&gt_dup2_p, "dup2", NULL);
    if (old != new) gt_file_locks_closing(new);
    int rc = f != NULL ? f(old, new) : (int)syscall(SYS_dup3, old, new, 0);
    if (rc >= 0) gt_forget_fd(new);
    return rc;
}

GT_EXPORT int dup3(int old, int new, int flags) {
    gt_dup3_fn f = (gt_dup3_fn)gt_next(&gt_dup3_p, "dup3", NULL);
    if (old != new) gt_file_locks_closing(new);
    int rc = f != NULL ? f(old, new, flags) : (int)syscall(SYS_dup3, old, new, flags);
    if (rc >= 0) gt_forget_fd(new);
    return rc;
}

/* ---- condition variables: who signalled -------------------------------- */

GT_EXPORT int pthread_cond_signal(pthread_cond_t *c) {
    gt_cond_fn f = (gt_cond_fn)gt_next(&gt_signal_p, "pthread_cond_signal", "GLIBC_2.3.2");
    if (GT_UNLIKELY(f == NULL)) return ENOSYS;
    if (gt_active() && !gt_is_gil_mutex(c))
        gt_emit_rel(GTRACE_RAW_WAKER, GTRACE_WAKER_COND_SIGNAL, 0, (uint64_t)(uintptr_t)c, 0);
    return f(c);
}

GT_EXPORT int pthread_cond_broadcast(pthread_cond_t *c) {
    gt_cond_fn f = (gt_cond_fn)gt_next(&gt_broadcast_p, "pthread_cond_broadcast", "GLIBC_2.3.2");
    if (GT_UNLIKELY(f == NULL)) return ENOSYS;
    if (gt_active() && !gt_is_gil_mutex(c))
        gt_emit_rel(GTRACE_RAW_WAKER, GTRACE_WAKER_COND_BROADCAST, 0, (uint64_t)(uintptr_t)c, 0);
    return f(c);
}

/* ---- kill: a parent ending its child ------------------------------------ */

GT_EXPORT int kill(pid_t pid, int sig) {
    gt_kill_fn f = (gt_kill_fn)gt_next(&gt_kill_p, "kill", NULL);
    if (sig != 0 && pid > 0 && gt_active())
        gt_emit(GTRACE_RAW_WAKER, GTRACE_WAKER_KILL, (uint32_t)pid, (uint64_t)sig, 0);
    if (GT_UNLIKELY(f == NULL)) return (int)syscall(SYS_kill, pid, sig);
    return f(pid, sig);
}
