/*
 * filelocks.c — file locks: flock(), fcntl() record locks of a whole file, and
 * close() for the ones it releases.
 *
 * Processes that take turns under `flock(fd, LOCK_EX)` (the flock(1)
 * command in scripts, Python's fcntl.flock) wait in the kernel where no
 * other wrapper sees them. A file lock is a lock of the trace (kind "file
 * lock", raw flag GTRACE_LOCKF_FILE) whose id is the file's device and inode,
 * the same in every process: tagged 0xf0 in the top byte (no user-space
 * address has it), the low 16 bits of the device in bits 40–55, the low 40
 * bits of the inode below. Shared mode (LOCK_SH) is a read hold, as an
 * rwlock's. The protocol is the mutexes': a non-blocking flock first; when
 * the file is locked elsewhere, LOCK_WAIT, the real blocking flock,
 * LOCK_ACQUIRED. Each call costs one fstat beside the lock's own syscall.
 *
 * The lock is released by LOCK_UN or when its file is closed (Python's
 * `with open(...) as f: fcntl.flock(f, LOCK_EX)` never unlocks): the fds that
 * hold one are kept in a small table, and close() of one of them (or dup2()
 * onto it) records the release. A close() while no fd holds one costs one
 * relaxed load. Not seen:
 * a lock released when the last of several duplicated fds closes (its release
 * is recorded at the close of the fd that locked it), and record locks of
 * part of a file, by fcntl() or lockf() (sqlite's byte ranges).
 *
 * fcntl() record locks of the whole file (F_SETLK, F_SETLKW and their OFD
 * forms, l_whence SEEK_SET, l_start 0, l_len 0: Python's fcntl.lockf(f, ...)
 * without length) are recorded the same way, with the same lock id: F_RDLCK
 * is shared, F_UNLCK a release. A process's record locks are its own, not
 * its threads': two threads of one process both "hold" one. And any close
 * of the file by the process releases them, which is seen only for the fd
 * that locked it.
 *
 * The first lock of a file in a process names it: its path is appended to
 * `<session>/<pid>.files` (GTRACE_META_FILE_LOCK), once per file and process.
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GT_FILE_LOCK_SLOTS 64
#define GT_FILE_LOCK_PATH 1024

/* fd + 1 (0: free), lock id and raw flags (shared or not) of each fd that holds a file lock. */
static _Atomic int gt_file_lock_fd[GT_FILE_LOCK_SLOTS];
static uint64_t gt_file_lock_id[GT_FILE_LOCK_SLOTS];
static uint16_t gt_file_lock_flags[GT_FILE_LOCK_SLOTS];
static _Atomic int gt_file_locks_held;
/* Lock ids this process has named (0: free). */
static _Atomic uint64_t gt_file_lock_named[GT_FILE_LOCK_SLOTS];

static int gt_file_lock_of(int fd, uint64_t *id) {
    struct stat st;
    if (fstat(fd, &st) != 0) return 0;
    *id = 0xf0ull << 56 | ((uint64_t)st.st_dev & 0xffffu) << 40 | ((uint64_t)st.st_ino & 0xffffffffffull);
    return 1;
}

/* Appends the file's path once per lock id and process (raw syscalls: no
 * recording, no malloc). */
static void gt_file_lock_name(int fd, uint64_t id) {
    int slot = -1;
    for (int i = 0; i < GT_FILE_LOCK_SLOTS; i++) {
        uint64_t seen = atomic_load_explicit(&gt_file_lock_named[i], memory_order_relaxed);
        if (seen == id) return;
        if (seen == 0) {
            uint64_t expected = 0;
            if (atomic_compare_exchange_strong(&gt_file_lock_named[i], &expected, id)) { slot = i; break; }
            if (expected == id) return;
        }
    }
    if (slot < 0 || gt_session_len == 0) return;
    char link[40];
    gt_put_u64(gt_put_str(link, link + sizeof link, "/proc/self/fd/"), link + sizeof link, (uint64_t)fd);
    /* Stack, not static (threads may name files at once); a longer path is cut. */
    char buf[16 + GT_FILE_LOCK_PATH];
    long length = syscall(SYS_readlink, link, buf + 16, (size_t)GT_FILE_LOCK_PATH - 1);
    if (length <= 0) return;
    buf[16 + length] = '\0';
    uint32_t kind = GTRACE_META_FILE_LOCK, body = (uint32_t)(8 + length + 1);
    __builtin_memcpy(buf, &kind, 4);
    __builtin_memcpy(buf + 4, &body, 4);
    __builtin_memcpy(buf + 8, &id, 8);
    gt_session_append(gt_pid, ".files", buf, (size_t)(8 + body));
}

/* Two threads do not lock through one fd at once (the kernel would give
 * both the same lock): a slot's id and flags are its fd's thread's. */
static void gt_file_lock_keep(int fd, uint64_t id, uint16_t flags) {
    for (int i = 0; i < GT_FILE_LOCK_SLOTS; i++)
        if (atomic_load_explicit(&gt_file_lock_fd[i], memory_order_relaxed) == fd + 1) {
            gt_file_lock_id[i] = id;
            gt_file_lock_flags[i] = flags;
            return;
        }
    for (int i = 0; i < GT_FILE_LOCK_SLOTS; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&gt_file_lock_fd[i], &expected, fd + 1)) {
            gt_file_lock_id[i] = id;
            gt_file_lock_flags[i] = flags;
            atomic_fetch_add_explicit(&gt_file_locks_held, 1, memory_order_release);
            return;
        }
    }
}

/* The lock id `fd` holds and its flags (and forgets them); 0: none. */
static uint64_t gt_file_lock_drop(int fd, uint16_t *flags) {
    for (int i = 0; i < GT_FILE_LOCK_SLOTS; i++) {
        int expected = fd + 1;
        if (atomic_load_explicit(&gt_file_lock_fd[i], memory_order_acquire) == expected) {
            uint64_t id = gt_file_lock_id[i];
            *flags = gt_file_lock_flags[i];
            if (atomic_compare_exchange_strong(&gt_file_lock_fd[i], &expected, 0)) {
                atomic_fetch_sub_explicit(&gt_file_locks_held, 1, memory_order_relaxed);
                return id;
            }
        }
    }
    return 0;
}

/* A fork child shares its parent's locked files but did not lock them: the
 * parent's close or unlock ends those holds. */
void gt_file_locks_forget_after_fork(void) {
    for (int i = 0; i < GT_FILE_LOCK_SLOTS; i++) atomic_store_explicit(&gt_file_lock_fd[i], 0, memory_order_relaxed);
    atomic_store_explicit(&gt_file_locks_held, 0, memory_order_relaxed);
}

/* A release: recorded before the real unlock (as a mutex's), in the mode the
 * fd locked it (an unlock names none; a lock taken before the recording is
 * released as exclusive). */
static void gt_file_lock_release(int fd, uint64_t id, uint64_t caller) {
    uint16_t held = GTRACE_LOCKF_FILE | GTRACE_LOCKF_RWLOCK;
    (void)gt_file_lock_drop(fd, &held);
    gt_emit_rel(GTRACE_RAW_LOCK_RELEASE, held, 0, id, caller);
}

/* The real lock call: non-blocking (`block` 0) or as the program asked. */
typedef int (*gt_file_lock_attempt)(const void *call, int block);

/* Takes a file lock the mutexes' way: a non-blocking attempt; when the file is
 * locked elsewhere (EAGAIN, EWOULDBLOCK; EACCES for fcntl), LOCK_TRY_FAILED if
 * the program asked not to block, else LOCK_WAIT, the blocking call,
 * LOCK_ACQUIRED or LOCK_FAILED. `saved`: the program's errno at the call. */
static int gt_file_lock_take(int fd, uint64_t id, uint16_t flags, int blocking, uint64_t caller, int saved,
                             gt_file_lock_attempt attempt, const void *call) {
    gt_file_lock_name(fd, id);
    errno = saved;
    int rc = attempt(call, 0);
    if (rc == 0) {
        gt_emit_acq(GTRACE_RAW_LOCK_ACQUIRE, flags, 0, id, caller);
        gt_file_lock_keep(fd, id, flags);
        errno = saved;
        return 0;
    }
    int err = errno;
    if (err != EAGAIN && err != EWOULDBLOCK && err != EACCES) return rc;
    if (!blocking) {
        gt_emit(GTRACE_RAW_LOCK_TRY_FAILED, flags, (uint32_t)err, id, caller);
        errno = err;
        return rc;
    }
    gt_emit(GTRACE_RAW_LOCK_WAIT, flags, 0, id, caller);
    errno = saved;
    rc = attempt(call, 1);
    err = errno;
    gt_after_wait((const volatile void *)(uintptr_t)id, flags, rc == 0 ? 0 : err);
    if (rc == 0) gt_file_lock_keep(fd, id, flags);
    errno = err;
    return rc;
}

struct gt_flock_args { int fd, op; };

static int gt_flock_attempt(const void *call, int block) {
    const struct gt_flock_args *a = call;
    return (int)syscall(SYS_flock, a->fd, block ? a->op : a->op | LOCK_NB);
}

GT_EXPORT int flock(int fd, int op) {
    int saved = errno; /* recording may set errno: the caller sees flock's own */
    uint64_t id;
    if (!gt_active() || !gt_file_lock_of(fd, &id)) {
        errno = saved;
        return (int)syscall(SYS_flock, fd, op);
    }
    uint64_t caller = GT_CALLER();
    if (op & LOCK_UN) {
        gt_file_lock_release(fd, id, caller);
        errno = saved;
        return (int)syscall(SYS_flock, fd, op);
    }
    uint16_t flags = GTRACE_LOCKF_FILE | GTRACE_LOCKF_RWLOCK | ((op & LOCK_SH) ? GTRACE_LOCKF_SHARED : 0);
    struct gt_flock_args args = {fd, op};
    return gt_file_lock_take(fd, id, flags, !(op & LOCK_NB), caller, saved, gt_flock_attempt, &args);
}

/* Called by the close(), dup2() and dup3() wrappers (wakers.c) before `fd`
 * is closed: the lock it holds is released. */
void gt_file_locks_closing(int fd) {
    if (GT_LIKELY(atomic_load_explicit(&gt_file_locks_held, memory_order_relaxed) == 0)) return;
    uint16_t flags = 0;
    uint64_t id = gt_file_lock_drop(fd, &flags);
    if (id == 0 || !gt_active()) return;
    int saved = errno;
    gt_emit_rel(GTRACE_RAW_LOCK_RELEASE, flags, 0, id, 0);
    errno = saved;
}

/* ---- fcntl() record locks of the whole file ------------------------------ */

typedef int (*gt_fcntl_fn)(int, int, ...);
static void *gt_fcntl_p, *gt_fcntl64_p;

/* libc's fcntl or fcntl64 (F_SETLKW is a cancellation point there); while
 * dlsym runs, or when it finds none, NULL: the caller makes the syscall. */
static gt_fcntl_fn gt_fcntl_next(void **slot, const char *name) { return (gt_fcntl_fn)gt_next_symbol(slot, name); }

static int gt_fcntl_call(gt_fcntl_fn real, int fd, int cmd, void *arg) {
    return real != NULL ? real(fd, cmd, arg) : (int)syscall(SYS_fcntl, fd, cmd, arg);
}

static int gt_is_lock_command(int cmd) {
    return cmd == F_SETLK || cmd == F_SETLKW || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
}

struct gt_fcntl_args { gt_fcntl_fn real; int fd, cmd; struct flock *fl; };

static int gt_fcntl_attempt(const void *call, int block) {
    const struct gt_fcntl_args *a = call;
    int cmd = block ? a->cmd : a->cmd == F_SETLKW ? F_SETLK : a->cmd == F_OFD_SETLKW ? F_OFD_SETLK : a->cmd;
    return gt_fcntl_call(a->real, a->fd, cmd, a->fl);
}

static int gt_fcntl_lock(gt_fcntl_fn real, int fd, int cmd, struct flock *fl) {
    int saved = errno;
    uint64_t id;
    if (fl == NULL || !gt_active() || fl->l_whence != SEEK_SET || fl->l_start != 0 || fl->l_len != 0
        || !gt_file_lock_of(fd, &id)) {
        errno = saved;
        return gt_fcntl_call(real, fd, cmd, fl);
    }
    uint64_t caller = GT_CALLER();
    if (fl->l_type == F_UNLCK) {
        gt_file_lock_release(fd, id, caller);
        errno = saved;
        return gt_fcntl_call(real, fd, cmd, fl);
    }
    uint16_t flags = GTRACE_LOCKF_FILE | GTRACE_LOCKF_RWLOCK | (fl->l_type == F_RDLCK ? GTRACE_LOCKF_SHARED : 0);
    struct gt_fcntl_args args = {real, fd, cmd, fl};
    return gt_file_lock_take(fd, id, flags, cmd == F_SETLKW || cmd == F_OFD_SETLKW, caller, saved, gt_fcntl_attempt, &args);
}

static int gt_fcntl_entry(void **slot, const char *name, int fd, int cmd, void *arg) {
    gt_fcntl_fn real = gt_fcntl_next(slot, name);
    if (GT_LIKELY(!gt_is_lock_command(cmd))) return gt_fcntl_call(real, fd, cmd, arg);
    return gt_fcntl_lock(real, fd, cmd, arg);
}

/* lockf(fd, cmd, 0) at offset 0 locks the whole file, and beyond its end (a
 * pid file's lock): the record lock fcntl's F_SETLK(W) of the whole file takes,
 * taken here through that path, since glibc's lockf calls its internal fcntl,
 * which no wrapper sees. One lseek beside it; other lengths and offsets (a
 * range) and F_TEST go to lockf as they are. */
typedef int (*gt_lockf_fn)(int, int, off_t);
static void *gt_lockf_p, *gt_lockf64_p;

static int gt_lockf_entry(void **slot, const char *name, int fd, int cmd, off_t len) {
    gt_lockf_fn real = (gt_lockf_fn)gt_next_symbol(slot, name);
    int saved = errno;
    if (real == NULL || !gt_active() || len != 0 || (cmd != F_LOCK && cmd != F_TLOCK && cmd != F_ULOCK)
        || lseek(fd, 0, SEEK_CUR) != 0) {
        errno = saved;
        return real != NULL ? real(fd, cmd, len) : (errno = ENOSYS, -1);
    }
    errno = saved;
    struct flock whole = {.l_type = cmd == F_ULOCK ? F_UNLCK : F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
    return gt_fcntl_lock(gt_fcntl_next(&gt_fcntl_p, "fcntl"), fd, cmd == F_LOCK ? F_SETLKW : F_SETLK, &whole);
}

GT_EXPORT int lockf(int fd, int cmd, off_t len) { return gt_lockf_entry(&gt_lockf_p, "lockf", fd, cmd, len); }

GT_EXPORT int lockf64(int fd, int cmd, off_t len) { return gt_lockf_entry(&gt_lockf64_p, "lockf64", fd, cmd, len); }

/* glibc reads the third argument as a pointer whatever the command. */
GT_EXPORT int fcntl(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return gt_fcntl_entry(&gt_fcntl_p, "fcntl", fd, cmd, arg);
}

GT_EXPORT int fcntl64(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return gt_fcntl_entry(&gt_fcntl64_p, "fcntl64", fd, cmd, arg);
}
