/*
 * process.c — process lifetime: constructor/destructor, meta file, image
 * numbers, fork, exit/_exit/_Exit, __libc_start_main (return from main).
 */
#include "gtrace_runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int gt_enabled;
uint32_t gt_pid;
uint32_t gt_image;
char gt_session[GT_PATH_MAX];
size_t gt_session_len;
long gt_tid_offset = -1;
struct gt_real gt_real;

static int gt_exit_done;    /* PROCESS_EXIT written for this image */
/* exit() was called or main returned (kind + 1; 0: neither): the PROCESS_EXIT
 * waits for the atexit handlers, which may go on working (xargs waits for its
 * last children in one), and is written by the destructor after them. */
static int gt_exit_pending_kind, gt_exit_pending_status;
static int gt_was_enabled;  /* the constructor set recording up (fork children follow) */

void gt_disable(const char *what) {
    gt_diag(what, NULL);
    gt_enabled = 0;
}

static void *gt_sym(const char *name) { return dlsym(RTLD_NEXT, name); }

static void *gt_vsym(const char *name, const char *version) {
    void *p = dlvsym(RTLD_NEXT, name, version);
    return p != NULL ? p : dlsym(RTLD_NEXT, name);
}

/* A wrapper entered from inside dlsym (a malloc that reads a file...) finds
 * its pointer still NULL instead of recursing: blocking.c then makes the
 * syscall itself. */
static __thread int gt_resolving __attribute__((tls_model("initial-exec")));

void gt_resolve(void) {
    if (__atomic_load_n(&gt_real.resolved, __ATOMIC_ACQUIRE) || gt_resolving) return;
    gt_resolving = 1;
    struct gt_real r;
    memset(&r, 0, sizeof r);
    r.pthread_create = gt_sym("pthread_create");
    r.pthread_exit = gt_sym("pthread_exit");
    r.pthread_setname_np = gt_sym("pthread_setname_np");
    r.mutex_timedlock = gt_sym("pthread_mutex_timedlock");
    r.mutex_clocklock = gt_sym("pthread_mutex_clocklock");
    r.rw_timedrdlock = gt_sym("pthread_rwlock_timedrdlock");
    r.rw_timedwrlock = gt_sym("pthread_rwlock_timedwrlock");
    r.rw_clockrdlock = gt_sym("pthread_rwlock_clockrdlock");
    r.rw_clockwrlock = gt_sym("pthread_rwlock_clockwrlock");
    r.cond_wait = gt_vsym("pthread_cond_wait", "GLIBC_2.3.2");
    r.cond_timedwait = gt_vsym("pthread_cond_timedwait", "GLIBC_2.3.2");
    r.cond_clockwait = gt_sym("pthread_cond_clockwait");
    r.fork = gt_sym("fork");
    r.execve = gt_sym("execve");
    r.execvpe = gt_sym("execvpe");
    r.fexecve = gt_sym("fexecve");
    r.posix_spawn = gt_sym("posix_spawn");
    r.posix_spawnp = gt_sym("posix_spawnp");
    r.exit = gt_sym("exit");
    r._exit = gt_sym("_exit");
    r._Exit = gt_sym("_Exit");
    r.libc_start_main = gt_sym("__libc_start_main");
    r.nanosleep = gt_sym("nanosleep");
    r.clock_nanosleep = gt_sym("clock_nanosleep");
    r.usleep = gt_sym("usleep");
    r.sleep = gt_sym("sleep");
    r.waitpid = gt_sym("waitpid");
    r.wait = gt_sym("wait");
    r.wait4 = gt_sym("wait4");
    r.waitid = gt_sym("waitid");
    r.sem_wait = gt_sym("sem_wait");
    r.sem_timedwait = gt_sym("sem_timedwait");
    r.sem_clockwait = gt_sym("sem_clockwait");
    r.sem_trywait = gt_sym("sem_trywait");
    r.pthread_join = gt_sym("pthread_join");
    r.pthread_timedjoin_np = gt_sym("pthread_timedjoin_np");
    r.pthread_clockjoin_np = gt_sym("pthread_clockjoin_np");
    r.select = gt_sym("select");
    r.pselect = gt_sym("pselect");
    r.poll = gt_sym("poll");
    r.ppoll = gt_sym("ppoll");
    r.epoll_wait = gt_sym("epoll_wait");
    r.epoll_pwait = gt_sym("epoll_pwait");
    r.read = gt_sym("read");
    r.write = gt_sym("write");
    r.readv = gt_sym("readv");
    r.writev = gt_sym("writev");
    r.recv = gt_sym("recv");
    r.send = gt_sym("send");
    r.recvfrom = gt_sym("recvfrom");
    r.sendto = gt_sym("sendto");
    r.recvmsg = gt_sym("recvmsg");
    r.sendmsg = gt_sym("sendmsg");
    r.accept = gt_sym("accept");
    r.accept4 = gt_sym("accept4");
    r.connect = gt_sym("connect");
    r.sigsuspend = gt_sym("sigsuspend");
    r.pause = gt_sym("pause");
    r.pthread_barrier_wait = gt_sym("pthread_barrier_wait");
    r.spin_lock = gt_sym("pthread_spin_lock");
    r.spin_trylock = gt_sym("pthread_spin_trylock");
    r.spin_unlock = gt_sym("pthread_spin_unlock");
    r.thrd_create = gt_sym("thrd_create");
    r.resolved = 0;
    memcpy(&gt_real, &r, sizeof r);
    __atomic_store_n(&gt_real.resolved, 1, __ATOMIC_RELEASE);
    gt_resolving = 0;
}

int gt_in_other_process(void) { return (uint32_t)syscall(SYS_getpid) != gt_pid; }

/* ---- meta file ---------------------------------------------------------- */

static char gt_meta_buf[8 + 16 + 8 + GT_PATH_MAX + 8 + 65536 + 24];

static size_t gt_meta_entry(size_t pos, uint32_t kind, const void *data, uint32_t len) {
    memcpy(gt_meta_buf + pos, &kind, 4);
    memcpy(gt_meta_buf + pos + 4, &len, 4);
    if (data != NULL) memcpy(gt_meta_buf + pos + 8, data, len);
    return pos + 8 + len;
}

/* Length of the meta built for this image and where its START_TSC data
 * sits (0: none yet). A fork child inherits both with the buffer: its
 * executable and argv are its parent's, so only the ids and the start time
 * change (saves a readlink and a read of /proc/self/cmdline per fork). */
static size_t gt_meta_len;
static size_t gt_meta_tsc_at;

/* Static buffers: only called single-threaded (constructor, fork child). */
static size_t gt_meta_build(uint32_t pid, uint32_t ppid) {
    if (gt_meta_len != 0) {
        uint32_t ids[2] = {pid, ppid};
        memcpy(gt_meta_buf + 16, ids, 8); /* magic, PID entry header, then its data */
        uint64_t st[2] = {gtrace_timestamp(), gt_clock_ns(CLOCK_MONOTONIC)};
        memcpy(gt_meta_buf + gt_meta_tsc_at, st, 16);
        return gt_meta_len;
    }
    size_t pos = 0;
    memcpy(gt_meta_buf, GTRACE_META_MAGIC, 8);
    pos = 8;
    uint32_t ids[2] = {pid, ppid};
    pos = gt_meta_entry(pos, GTRACE_META_PID, ids, 8);

    ssize_t n = readlink("/proc/self/exe", gt_meta_buf + pos + 8, GT_PATH_MAX);
    if (n < 0) n = 0;
    pos = gt_meta_entry(pos, GTRACE_META_EXE, NULL, (uint32_t)n);

    size_t got = 0;
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        while (got < 65536) {
            ssize_t r = gt_sys_read(fd, gt_meta_buf + pos + 8 + got, 65536 - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += (size_t)r;
        }
        close(fd);
    }
    pos = gt_meta_entry(pos, GTRACE_META_ARGV, NULL, (uint32_t)got);

    uint64_t st[2];
    st[0] = gtrace_timestamp();
    st[1] = gt_clock_ns(CLOCK_MONOTONIC);
    gt_meta_tsc_at = pos + 8;
    pos = gt_meta_entry(pos, GTRACE_META_START_TSC, st, 16);
    gt_meta_len = pos;
    return pos;
}

/* In the drop box, image n of this pid may exist in the session proper
 * (the images before the uid changed): those numbers are taken. */
static int gt_meta_in_session_root(uint32_t pid, uint32_t n) {
    if (gt_session_len == gt_session_root_len) return 0;
    char path[GT_PATH_MAX + 64];
    char *end = path + sizeof path;
    char *p = path;
    for (size_t i = 0; i < gt_session_root_len && p + 1 < end; i++) *p++ = gt_session[i];
    p = gt_put_str(p, end, "/");
    p = gt_put_u64(p, end, pid);
    p = gt_put_str(p, end, ".");
    p = gt_put_u64(p, end, n);
    gt_put_str(p, end, ".meta");
    return syscall(SYS_faccessat, AT_FDCWD, path, F_OK) == 0;
}

/* Pick the image number (first free <pid>.<n>.meta) and write the meta file. */
static int gt_meta_write(uint32_t pid, uint32_t ppid) {
    char path[GT_PATH_MAX + 64];
    char *end = path + sizeof path;
    for (uint32_t n = 0; n < 100000; n++) {
        if (gt_meta_in_session_root(pid, n)) continue;
        char *p = gt_put_session_prefix(path, end, pid);
        p = gt_put_str(p, end, ".");
        p = gt_put_u64(p, end, n);
        p = gt_put_str(p, end, ".meta");
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST) continue;
            if (gt_session_use_drop(errno)) {
                n = (uint32_t)-1; /* start over in the drop box */
                continue;
            }
            gt_diag_err(errno == EACCES || errno == EPERM
                            ? "not recorded: uid changed and the session is not writable (no drop box)"
                            : "not recorded: cannot create the process meta file in the session directory",
                        errno);
            return 0;
        }
        gt_image = n;
        size_t len = gt_meta_build(pid, ppid);
        int ok = gt_write_all(fd, gt_meta_buf, len) == 0;
        close(fd);
        if (!ok) gt_diag_err("cannot write the process meta file", errno);
        return ok;
    }
    gt_diag("too many process images with the same pid", NULL);
    return 0;
}

/* New process image (constructor) or fork child: meta file, then
 * PROCESS_START, THREAD_START and the thread name on this thread. */
/* The process whose objects the last snapshot describes (a fork child inherits it). */
static uint32_t gt_snapshot_pid;

/* The runtime's files (rings of up to GT_CHUNK_MAX_BYTES, object snapshots)
 * stay below this; a file size limit (ulimit -f) under it would make the
 * kernel send the program SIGXFSZ for the runtime's own writes. */
#define GT_FILE_LIMIT_NEEDED (64ull << 20)

static int gt_file_limit_too_low(void) {
    struct rlimit r;
    return getrlimit(RLIMIT_FSIZE, &r) == 0 && r.rlim_cur != RLIM_INFINITY && r.rlim_cur < GT_FILE_LIMIT_NEEDED;
}

void gt_process_start(uint32_t ppid) {
    int saved = errno;
    gt_pid = (uint32_t)syscall(SYS_getpid);
    gt_exit_done = 0;
    gt_exit_pending_kind = 0;
    if (gt_file_limit_too_low()) {
        /* Not recorded rather than killed: the diag line is far below any limit. */
        gt_diag("not recorded: the file size limit (ulimit -f) is below what the runtime writes", NULL);
        gt_enabled = 0;
        errno = saved;
        return;
    }
    if (!gt_meta_write(gt_pid, ppid)) {
        gt_enabled = 0;
        errno = saved;
        return;
    }
    gt_enabled = 1;
    struct gt_tls *t = &gt_tls;
    int guard = t->guard; /* a fork wrapper suppresses recording around fork */
    t->guard = 0;
    t->started = 1;
    gt_emit(GTRACE_RAW_PROCESS_START, 0, ppid, gt_pid, 0);
    gt_emit(GTRACE_RAW_THREAD_START, 0, 0, 0, 0);
    gt_emit_own_name();
    gt_gil_process_start();
    /* A fork child has its parent's objects at the same addresses: the
     * recorder uses the parent's snapshot (a snapshot costs ~50 µs). */
    if (ppid != gt_snapshot_pid) gt_objects_snapshot();
    gt_snapshot_pid = gt_pid;
    t->guard = guard;
    errno = saved;
}

/* Find where glibc keeps the kernel tid in struct pthread (so that
 * pthread_setname_np on another thread can name its tid). Accepted only if
 * exactly one int in the first KiB of the main thread's descriptor equals its
 * tid; re-checked by every thread started through our trampoline. */
static void gt_find_tid_offset(void) {
    uint32_t tid = gt_gettid();
    if (tid != (uint32_t)syscall(SYS_getpid)) return; /* not on the main thread */
    const char *self = (const char *)pthread_self();
    long found = -1;
    int count = 0;
    for (long off = 0; off < 1024; off += 4) {
        int v;
        memcpy(&v, self + off, 4);
        if ((uint32_t)v == tid) {
            found = off;
            count++;
        }
    }
    gt_tid_offset = count == 1 ? found : -1;
}

static void gt_atfork_child(void) {
    if (!gt_was_enabled) return;
    uint32_t parent = gt_pid;
    gt_thread_forget_after_fork(); /* uses the parent's gt_pid */
    gt_file_locks_forget_after_fork();
    gt_process_start(parent);
}

static void gt_make_session_path(const char *s) {
    size_t n = gt_strlen(s);
    char *end = gt_session + sizeof gt_session;
    char *p = gt_session;
    if (s[0] != '/') {
        if (getcwd(gt_session, sizeof gt_session - 2) == NULL) {
            gt_session[0] = '\0';
            return;
        }
        p = gt_session + gt_strlen(gt_session);
        p = gt_put_str(p, end, "/");
    }
    if ((size_t)(end - p) < n + 128) {
        gt_session[0] = '\0';
        return;
    }
    p = gt_put_str(p, end, s);
    gt_session_len = (size_t)(p - gt_session);
    gt_session_root_len = gt_session_len;
    const char *drop = getenv(GTRACE_ENV_DROP);
    /* One path component of hex digits and '-' only. */
    size_t k = 0;
    for (; drop != NULL && drop[k] != '\0' && k + 1 < sizeof gt_drop_name; k++) {
        char c = drop[k];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')) break;
    }
    if (drop != NULL && k > 0 && drop[k] == '\0') {
        for (size_t i = 0; i <= k; i++) gt_drop_name[i] = drop[i];
    }
}

/* GTRACE_MAX_MB (0 = unlimited); default a quarter of physical memory, so
 * that a lock-hammering program cannot fill a RAM-backed session directory
 * and get itself killed by the OOM killer. */
static void gt_set_budget(void) {
    const char *v = getenv(GT_ENV_MAX_MB);
    if (v != NULL && v[0] >= '0' && v[0] <= '9') {
        uint64_t mb = 0;
        for (; *v >= '0' && *v <= '9'; v++) mb = mb * 10 + (uint64_t)(*v - '0');
        gt_budget_bytes = mb << 20;
        return;
    }
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    gt_budget_bytes = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size / 4 : 0;
}

__attribute__((constructor)) static void gt_constructor(void) {
    int saved = errno;
    gt_resolve();
    const char *s = getenv(GTRACE_ENV_SESSION);
    struct stat st;
    if (s == NULL || s[0] == '\0' || stat(s, &st) != 0 || !S_ISDIR(st.st_mode)) {
        errno = saved;
        return;
    }
    gt_make_session_path(s);
    if (gt_session[0] == '\0') {
        gt_diag("session directory path too long: recording disabled", NULL);
        errno = saved;
        return;
    }
    gt_env_save();
    gt_set_budget();
    gt_key_init();
    gt_pid = (uint32_t)syscall(SYS_getpid);
    gt_find_tid_offset();
    if (pthread_atfork(NULL, NULL, gt_atfork_child) != 0) {
        gt_diag("pthread_atfork failed: fork children are handled by the fork wrapper only", NULL);
    }
    gt_was_enabled = 1;
    gt_gil_init();
    gt_process_start((uint32_t)getppid());
    errno = saved;
}

/* ---- exit --------------------------------------------------------------- */

static void gt_on_exit(uint16_t kind, int status) {
    if (!gt_enabled) return;
    int saved = errno;
    if (gt_in_other_process()) { /* vfork child: the buffers are the parent's */
        errno = saved;
        return;
    }
    if (__atomic_exchange_n(&gt_exit_done, 1, __ATOMIC_ACQ_REL)) {
        errno = saved;
        return;
    }
    struct rusage ru;
    uint64_t user = 0, sys = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        user = (uint64_t)ru.ru_utime.tv_sec * 1000000000ull + (uint64_t)ru.ru_utime.tv_usec * 1000ull;
        sys = (uint64_t)ru.ru_stime.tv_sec * 1000000000ull + (uint64_t)ru.ru_stime.tv_usec * 1000ull;
    }
    gt_gil_process_exit();
    gt_objects_snapshot_if_changed();
    gt_emit(GTRACE_RAW_PROCESS_EXIT, kind, (uint32_t)status, user, sys);
    gt_emit(GTRACE_RAW_THREAD_END, GTRACE_THREAD_END_PROCESS, 0, 0, gt_thread_cpu_ns());
    gt_emit_clock_sync();
    errno = saved;
}

/* The exit() or main return that ends the image, written once its atexit
 * handlers have run (glibc runs the preloaded library's destructor after
 * them); an atexit handler's _exit() writes its own. */
static void gt_exit_pending(uint16_t kind, int status) {
    if (__atomic_load_n(&gt_exit_pending_kind, __ATOMIC_RELAXED) != 0) return;
    gt_exit_pending_status = status;
    __atomic_store_n(&gt_exit_pending_kind, kind + 1, __ATOMIC_RELEASE);
}

__attribute__((destructor)) static void gt_destructor(void) {
    /* Also the fallback when no exit path above ran (exit called inside libc). */
    int pending = __atomic_load_n(&gt_exit_pending_kind, __ATOMIC_ACQUIRE);
    gt_on_exit(pending != 0 ? (uint16_t)(pending - 1) : GTRACE_EXIT_UNKNOWN, pending != 0 ? gt_exit_pending_status : 0);
}

GT_EXPORT void exit(int status) {
    gt_exit_pending(GTRACE_EXIT_CALL, status);
    void (*f)(int) __attribute__((noreturn)) = GT_REAL(exit);
    if (f == NULL) syscall(SYS_exit_group, status);
    f(status);
}

GT_EXPORT void _exit(int status) {
    gt_on_exit(GTRACE_EXIT_UNDERSCORE, status);
    void (*f)(int) __attribute__((noreturn)) = GT_REAL(_exit);
    if (f == NULL) syscall(SYS_exit_group, status);
    f(status);
}

GT_EXPORT void _Exit(int status) {
    gt_on_exit(GTRACE_EXIT_UNDERSCORE, status);
    void (*f)(int) __attribute__((noreturn)) = GT_REAL(_Exit);
    if (f == NULL) syscall(SYS_exit_group, status);
    f(status);
}

static int (*gt_real_main)(int, char **, char **);

static int gt_main(int argc, char **argv, char **envp) {
    int r = gt_real_main(argc, argv, envp);
    gt_exit_pending(GTRACE_EXIT_MAIN_RETURN, r);
    return r;
}

GT_EXPORT int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
                                void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
                                void *stack_end) {
    int (*f)(int (*)(int, char **, char **), int, char **, void (*)(void), void (*)(void),
             void (*)(void), void *) = GT_REAL(libc_start_main);
    gt_real_main = main;
    return f(gt_main, argc, argv, init, fini, rtld_fini, stack_end);
}

/* ---- fork --------------------------------------------------------------- */

GT_EXPORT pid_t fork(void) {
    pid_t (*f)(void) = GT_REAL(fork);
    if (!gt_enabled) return f();
    struct gt_tls *t = &gt_tls;
    /* Suppress recording during fork itself: atfork handlers lock and
     * unlock mutexes in the parent and in the child. */
    t->guard++;
    uint32_t parent = gt_pid;
    pid_t r = f();
    int e = errno;
    if (r == 0) {
        if (gt_pid == parent) {
            /* The atfork child handler did not run: reset here. */
            gt_thread_forget_after_fork();
            gt_file_locks_forget_after_fork();
            gt_process_start(parent);
        }
        t = &gt_tls;
        t->guard--;
    } else {
        t->guard--;
        gt_emit(GTRACE_RAW_FORK, 0, r > 0 ? (uint32_t)r : 0, 0, 0);
    }
    errno = e;
    return r;
}
