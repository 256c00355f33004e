/*
 * gtrace_runtime.h — private header of the preload runtime (libgtrace-runtime.so).
 *
 * Not part of any SwiftPM target: the library is built by build.sh with the C
 * compiler so that it links libc (and libdl) only. See docs/RECORDING.md.
 */
#ifndef GTRACE_RUNTIME_H
#define GTRACE_RUNTIME_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gtrace_format.h"

#define GT_EXPORT __attribute__((visibility("default")))
#define GT_HIDDEN __attribute__((visibility("hidden")))
#define GT_LIKELY(x) __builtin_expect(!!(x), 1)
#define GT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GT_XSTR(x) #x
#define GT_STR(x) GT_XSTR(x) /* a macro's value as a string (for assembly) */

/* Chunk sizes (bytes of the whole file, header included). */
/* 510 records; small so that a short process starts fast. The size of an arena's slot (arena.c). */
#define GT_CHUNK_FIRST_BYTES GTRACE_ARENA_SLOT_BYTES
#ifndef GT_CHUNK_MAX_BYTES
#define GT_CHUNK_MAX_BYTES (2u * 1024u * 1024u)
#endif
#define GT_HEADER_BYTES 64u

#define GT_PATH_MAX 4096

/* Per-thread state (gt_tls.state). Zero-initialised TLS = GT_UNINIT. */
enum {
    GT_UNINIT = 0,  /* no buffer yet: the first event creates one */
    GT_READY = 1,   /* hdr is a mapped chunk */
    GT_INITIALIZING = 2, /* creating the first chunk (nested events dropped) */
    GT_OFF = 3,     /* this thread does not record (setup failed / thread finished) */
};

struct gt_tls {
    struct gtrace_buffer_header *hdr; /* current chunk (the only pointer the fast path loads) */
    uint8_t state;
    uint8_t rotating;     /* inside gt_rotate with signals blocked */
    uint8_t started;      /* THREAD_START written (or will be written by the caller) */
    uint8_t broken;       /* rotation failed: count further events as lost */
    uint8_t dtor_rounds;  /* pthread key destructor rounds seen */
    uint8_t key_set;
    uint8_t gil_held;     /* bit i: this thread holds GIL i (gil.c) */
    uint8_t gil_waiting;  /* bit i: this thread asked for GIL i and does not have it yet */
    uint8_t gil_wait_unsaid; /* bit i: that request's WAIT is not written yet (gil.c) */
    int guard;            /* >0: inside the runtime (or fork): do not record */
    uint32_t tid;         /* cached gettid() (0: not yet) */
    uint32_t chunk;       /* number of the current chunk */
    size_t cur_len;       /* mapping length of hdr */
    void *retired[2];     /* the two previous chunks, still mapped */
    size_t retired_len[2];
    uint64_t gil_wait_tsc; /* when the unsaid GIL request began */
    void *slot;           /* chunk 0 when it is an arena's slot (arena.c): never unmapped alone */
    uint32_t slot_arena;  /* which arena */
};

extern __thread struct gt_tls gt_tls __attribute__((tls_model("initial-exec"))) GT_HIDDEN;

/* This thread holds the main interpreter's GIL (index 0, gil.c). */
static inline int gt_holds_main_gil(void) { return gt_tls.gil_held & 1u; }
/* The first probe slot of address a in an open-addressing table of `slots`
 * (Fibonacci hashing of the address without its low, aligned bits): the
 * runtime's fixed tables of seen locks, code objects and semaphores share it. */
static inline uint32_t gt_address_slot(uintptr_t a, uint32_t slots) { return (uint32_t)((a >> 4) * 0x9e3779b1u) % slots; }

/* Process-wide state. */
extern int gt_enabled GT_HIDDEN;   /* recording active in this process */
extern int gt_env_saved GT_HIDDEN;          /* exec must carry our environment */
extern uint32_t gt_pid GT_HIDDEN;           /* pid of this image (child resets it) */
extern uint32_t gt_image GT_HIDDEN;         /* image number of this pid */
extern char gt_session[GT_PATH_MAX] GT_HIDDEN;
extern size_t gt_session_len GT_HIDDEN;
extern size_t gt_session_root_len GT_HIDDEN; /* the session proper; longer gt_session: the drop box */
extern char gt_drop_name[80] GT_HIDDEN;
extern long gt_tid_offset GT_HIDDEN;
extern uint64_t gt_budget_bytes GT_HIDDEN;   /* chunk bytes allowed per image, 0 = unlimited */
#define GT_ENV_MAX_MB "GTRACE_MAX_MB"        /* offset of the tid in struct pthread, -1: unknown */

/* ---- fast path ------------------------------------------------------ */

void gt_emit_slow(uint16_t kind, uint16_t flags, uint32_t u32, uint64_t addr, uint64_t arg) GT_HIDDEN;
void gt_emit_full(struct gtrace_buffer_header *h, uint64_t tsc, uint16_t kind, uint16_t flags,
                  uint32_t u32, uint64_t addr, uint64_t arg) GT_HIDDEN;

static inline void gt_emit_ts(uint64_t tsc, uint16_t kind, uint16_t flags, uint32_t u32,
                              uint64_t addr, uint64_t arg) {
    struct gt_tls *t = &gt_tls;
    if (GT_UNLIKELY(t->state != GT_READY || t->guard != 0)) {
        gt_emit_slow(kind, flags, u32, addr, arg);
        return;
    }
    struct gtrace_buffer_header *h = t->hdr; /* loaded once: a handler may rotate */
    uint64_t i = gtrace_xadd(&h->reserved, 1); /* non-LOCKed (gtrace_format.h) */
    if (GT_UNLIKELY(i >= h->capacity)) {
        gt_emit_full(h, tsc, kind, flags, u32, addr, arg);
        return;
    }
    struct gtrace_raw_record *r = (struct gtrace_raw_record *)((char *)h + GT_HEADER_BYTES) + i;
    r->tsc = tsc;
    r->flags = flags;
    r->u32 = u32;
    r->addr = addr;
    r->arg = arg;
    __atomic_store_n(&r->kind, kind, __ATOMIC_RELEASE);
}

static inline void gt_emit(uint16_t kind, uint16_t flags, uint32_t u32, uint64_t addr, uint64_t arg) {
    gt_emit_ts(gtrace_timestamp(), kind, flags, u32, addr, arg);
}

/* Timestamps around a lock operation. rdtsc is not ordered with the locked
 * instruction of the lock; GT_ORDERED_TSC adds an lfence so that an
 * acquisition's timestamp is taken after the lock was obtained and a
 * release's before the lock is given up (cost: see docs/RECORDING.md). */
#if defined(__x86_64__) && defined(GT_ORDERED_TSC)
#define GT_LFENCE() __asm__ __volatile__("lfence" ::: "memory")
#else
#define GT_LFENCE() __asm__ __volatile__("" ::: "memory")
#endif
#ifndef GT_FENCE_ACQ
#define GT_FENCE_ACQ 1
#endif
#ifndef GT_FENCE_REL
#define GT_FENCE_REL 1
#endif

/* Event that follows an acquisition. */
static inline void gt_emit_acq(uint16_t kind, uint16_t flags, uint32_t u32, uint64_t addr, uint64_t arg) {
    if (GT_FENCE_ACQ) GT_LFENCE();
    gt_emit_ts(gtrace_timestamp(), kind, flags, u32, addr, arg);
}

/* Event that precedes a release. */
static inline void gt_emit_rel(uint16_t kind, uint16_t flags, uint32_t u32, uint64_t addr, uint64_t arg) {
    uint64_t tsc = gtrace_timestamp();
    if (GT_FENCE_REL) GT_LFENCE();
    gt_emit_ts(tsc, kind, flags, u32, addr, arg);
}

/* Should an interposer record (and pay for the recording protocol)? */
static inline int gt_active(void) {
    struct gt_tls *t = &gt_tls;
    if (GT_LIKELY(t->state == GT_READY)) return t->guard == 0;
    return t->state == GT_UNINIT && gt_enabled && t->guard == 0;
}

/* Call sites of a condition wait: the return address (in the RELEASE's arg)
 * and, when the caller keeps frame pointers, its caller's return address (in
 * the ACQUIRE's arg after the wait, else 0). HotSpot parks threads in
 * PlatformEvent::park / Parker::park, which call pthread_cond_*wait; the
 * frame above names why: ObjectMonitor::EnterI (a contended `synchronized`),
 * ObjectMonitor::wait, Unsafe_Park... libjvm keeps frame pointers.
 * The frame pointer read is taken only when it is 16-byte aligned and lies
 * less than 1 KiB above the wrapper's own frame, i.e. inside the stack
 * already in use (a caller without frame pointers fails the check and
 * gives 0). Cost: a few loads, on a call that blocks anyway. The wrapper
 * keeps a frame pointer of its own (optimize("no-omit-frame-pointer")). */
static inline __attribute__((always_inline)) uint64_t gt_outer_site(const void *own_frame, const void *caller_frame) {
    uintptr_t f = (uintptr_t)caller_frame, own = (uintptr_t)own_frame;
    if ((f & 15) != 0 || f <= own || f - own >= 1024) return 0;
    return (uint64_t)((const uintptr_t *)f)[1];
}
#define GT_OUTER_SITE() gt_outer_site(__builtin_frame_address(0), *(void *const *)__builtin_frame_address(0))

/* A lock's address as a record field, and the call site: where the program
 * called the interposer (an unused field of ACQUIRE and WAIT records, so
 * recording it costs nothing). */
#define A(p) ((uint64_t)(uintptr_t)(p))
#define GT_CALLER() ((uint64_t)(uintptr_t)__builtin_return_address(0))

/* After a blocking lock call (locks.c, spinlocks.c): it ended holding the
 * lock (0, or EOWNERDEAD for a robust mutex), or failed with `rc`. */
static inline void gt_after_wait(const volatile void *lock, uint16_t flags, int rc) {
    if (rc == 0 || rc == EOWNERDEAD)
        gt_emit_acq(GTRACE_RAW_LOCK_ACQUIRED, flags, (uint32_t)rc, A(lock), 0);
    else
        gt_emit(GTRACE_RAW_LOCK_FAILED, flags, (uint32_t)rc, A(lock), 0);
}

/* ---- locks.c, threads.c: bodies C11 threads (c11threads.c) share -------- */
/* `caller`/`outer`: the program's call site and the one above it (locks.c). */
int gt_traced_mutex_lock(pthread_mutex_t *m, uint64_t caller) GT_HIDDEN;
int gt_traced_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime,
                        uint64_t caller, uint64_t outer) GT_HIDDEN;
/* pthread_create's, for a start routine that returns int (`c11`: as glibc's thrd_create). */
int gt_thread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg, int c11) GT_HIDDEN;

/* ---- buffer.c ---------------------------------------------------------- */
uint32_t gt_gettid(void) GT_HIDDEN;
void gt_emit_clock_sync(void) GT_HIDDEN;
void gt_emit_name(uint32_t tid, const char *name) GT_HIDDEN;
void gt_emit_own_name(void) GT_HIDDEN;
uint64_t gt_thread_cpu_ns(void) GT_HIDDEN;
void gt_thread_release(void) GT_HIDDEN;       /* unmap this thread's chunks, stop recording */
void gt_thread_forget_after_fork(void) GT_HIDDEN; /* drop parent's mappings without touching them */
void gt_key_init(void) GT_HIDDEN;
/* The header of a new chunk of `len` bytes at `h`, its magic stored last. */
void gt_chunk_header_init(struct gtrace_buffer_header *h, uint32_t tid, uint32_t chunk, size_t len) GT_HIDDEN;
void gt_budget_charge(size_t len) GT_HIDDEN; /* bytes of the session that no budget refuses */

/* ---- arena.c ----------------------------------------------------------- */
/* A thread's first chunk as a slot of the process's arena, its header
 * written, and the arena's number in `*arena`; NULL when the thread should
 * make a file of its own (the process's first thread, or no arena to be had). */
struct gtrace_buffer_header *gt_arena_slot(uint32_t tid, uint32_t *arena) GT_HIDDEN;
void gt_arena_slot_ended(uint32_t arena) GT_HIDDEN; /* its thread is gone: the last unmaps the arena */
void gt_arena_forget_after_fork(void) GT_HIDDEN; /* unmap the parent's arenas */

/* ---- gil.c ------------------------------------------------------------- */
/* Address of the main interpreter's struct _gil_runtime_state when its GIL is
 * traced in this process, else 0; and how many subinterpreter GIL slots were
 * ever used. The mutex wrappers test `m - gt_gil_base < GT_GIL_SIZE` (one
 * compare; one more load while no subinterpreter has its own GIL) to divert
 * the GILs' own mutexes to gil.c. */
extern uintptr_t gt_gil_base GT_HIDDEN;
extern int gt_gil_extra_count GT_HIDDEN;
#define GT_GIL_SIZE 208u
#define GT_GIL_MUTEX_OFFSET 80u
int gt_gil_is_extra_mutex(const void *m) GT_HIDDEN;
static inline int gt_is_gil_mutex(const void *m) {
    if ((uintptr_t)m - gt_gil_base < GT_GIL_SIZE) return 1;
    return GT_UNLIKELY(gt_gil_extra_count != 0) && gt_gil_is_extra_mutex(m);
}
void gt_gil_init(void) GT_HIDDEN;            /* constructor: find _PyRuntime and the version */
void gt_gil_process_start(void) GT_HIDDEN;   /* fork child: GIL_INFO and the inherited switch count */
void gt_gil_process_exit(void) GT_HIDDEN;    /* GIL_STATS with CPython's counters */
void gt_gil_mutex_initialised(void *m) GT_HIDDEN; /* pthread_mutex_init of a GIL's mutex? */
void gt_gil_mutex_destroyed(void *m) GT_HIDDEN;   /* a subinterpreter's GIL goes away */
int gt_gil_lock(pthread_mutex_t *m) GT_HIDDEN;
int gt_gil_unlock(pthread_mutex_t *m) GT_HIDDEN;

/* ---- pyframes.c --------------------------------------------------------- */
#define GT_PY_DEPTH 4                      /* frames recorded per location */
#define GT_PY_FRAME_SAMPLED GTRACE_PY_FRAME_SAMPLED
#define GT_PY_SAMPLE_NS 1000000ull         /* a GIL waiter samples the holder once per such cell */
#define GT_PY_SAMPLE_LATE_NS 150000ull      /* ... unless it wakes later than this after the instant */
void gt_py_init(uint32_t version_hex) GT_HIDDEN;
void gt_py_location(uintptr_t gil) GT_HIDDEN;        /* the holder's frames, after GIL ACQUIRE/RELEASE */
void gt_py_sample(uintptr_t gil, int index) GT_HIDDEN; /* a waiter samples the holder */
void gt_py_fork_child(void) GT_HIDDEN;
/* ---- pylocks.c --------------------------------------------------------- */
void gt_pylocks_init(uint32_t version_hex) GT_HIDDEN;
void gt_pylocks_fork_child(void) GT_HIDDEN;
void gt_pylock_taken(void *s, uint64_t caller) GT_HIDDEN; /* blocking.c's sem waits */
void gt_pylock_wait(void *s, uint64_t caller) GT_HIDDEN;
void gt_pylock_woke(void *s, int rc, int err) GT_HIDDEN;
/* ---- namedsems.c ------------------------------------------------------ */
int gt_named_sem(const void *s) GT_HIDDEN;               /* opened by sem_open */
/* ---- binarysems.c ----------------------------------------------------- */
void gt_binary_sem_made(const void *s, unsigned int value) GT_HIDDEN; /* sem_init, sem_open O_CREAT */
void gt_binary_sem_closed(const void *s) GT_HIDDEN;     /* sem_close */
int gt_binary_sem(const void *s) GT_HIDDEN;              /* made with value 1 */

/* ---- pymutex.c -------------------------------------------------------- */
void gt_pymutex_init(uint32_t version_hex, void *runtime) GT_HIDDEN;
void gt_pymutex_wait(void *s, uintptr_t ret, uintptr_t frame) GT_HIDDEN;   /* blocking.c's sem waits */
void gt_pymutex_woke(void *s, uintptr_t ret, uintptr_t frame, int rc, int err) GT_HIDDEN;
void gt_pymutex_post(void *s, uintptr_t ret) GT_HIDDEN;   /* pylocks.c's sem_post */
int gt_gil_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, int clock, const struct timespec *abstime,
                          int (*wait)(void *, void *, int, const void *)) GT_HIDDEN;

/* ---- pool.c ------------------------------------------------------------ */
/* Takes a pre-allocated chunk file of `len` bytes from the recorder's pool and
 * renames it to `dest`; returns an open fd, or -1 (errno EEXIST when `dest`
 * exists, else the pool has none of that size or is absent). */
int gt_pool_claim(const char *dest, size_t len) GT_HIDDEN;
/* True when the pool keeps chunks of `len` bytes. */
int gt_pool_has(size_t len) GT_HIDDEN;

/* ---- process.c --------------------------------------------------------- */
/* wakers.c: a pipe/socket/anonymous-inode fd's identity (cached per fd);
 * gt_note_io records a WAKER record of kind `what` for it. */
int gt_io_object(int fd, uint64_t *ino, uint64_t *dev) GT_HIDDEN;
void gt_note_io(uint16_t what, int fd, uint64_t tsc) GT_HIDDEN;
/* As gt_note_io, for a write of `bytes` (IO_WRITE records count them). */
void gt_note_io_bytes(uint16_t what, int fd, uint64_t tsc, uint64_t bytes) GT_HIDDEN;
/* wakers.c: `fd` is one end of a socket pair whose identity is (ino, dev)
 * for both ends (readiness.c), so that a write on one end and a wait on the
 * other are one object. */
void gt_io_alias(int fd, uint64_t ino, uint64_t dev) GT_HIDDEN;
/* connections.c: a connected socket's identity, the same at both ends (an IP
 * socket's two address-port pairs hashed; a Unix socket's smaller inode of
 * the two, given its own in *ino); 0 when it is not one. */
int gt_connection_object(int fd, uint64_t *ino, uint64_t *dev) GT_HIDDEN;
/* readiness.c: an epoll_wait that blocked returned `n` > 0 events: notes the
 * ready descriptors (IO_READY) when the epoll set's data are its fds. */
void gt_epoll_ready(int epfd, const void *events, int n) GT_HIDDEN;
/* At most this many ready objects are noted per select/poll/epoll call. */
#define GT_READY_MAX 4
int gt_in_other_process(void) GT_HIDDEN;     /* vfork child or un-reset fork child */
void gt_process_start(uint32_t ppid) GT_HIDDEN;
void gt_disable(const char *what) GT_HIDDEN; /* one "gtrace: ..." line, recording off */
void gt_resolve(void) GT_HIDDEN;

/* ---- exec.c ------------------------------------------------------------ */
void gt_env_save(void) GT_HIDDEN;
/* objects.c: append the loaded objects (bias, path, build-id, segments). */
void gt_objects_snapshot(void) GT_HIDDEN;
void gt_objects_snapshot_if_changed(void) GT_HIDDEN; /* at exit: only after a dlopen */
/* exec_note.c: note path and argv of an exec attempt (pid 0: this process). */
void gt_exec_note(uint32_t pid, const char *path, char *const argv[]) GT_HIDDEN;

/* ---- util.c ------------------------------------------------------------ */
size_t gt_strlen(const char *s) GT_HIDDEN;
char *gt_put_str(char *p, char *end, const char *s) GT_HIDDEN;
char *gt_put_u64(char *p, char *end, uint64_t v) GT_HIDDEN;
char *gt_put_session_prefix(char *p, char *end, uint32_t pid) GT_HIDDEN;
int gt_write_all(int fd, const void *buf, size_t len) GT_HIDDEN;
/* "<session>/<pid><suffix>" opened for appending (O_APPEND, created 0600), in the
 * drop box when the uid can no longer write the session; -1 on failure, errno set.
 * Raw syscalls and the stack only: safe in a vfork child. */
long gt_session_open_append(uint32_t pid, const char *suffix) GT_HIDDEN;
/* Appends `buf` to that file in one write (appends never interleave); errno preserved. */
void gt_session_append(uint32_t pid, const char *suffix, const void *buf, size_t len) GT_HIDDEN;
/* The runtime's own I/O: raw syscalls, never the recording wrappers. */
ssize_t gt_sys_read(int fd, void *buf, size_t len) GT_HIDDEN;
ssize_t gt_sys_write(int fd, const void *buf, size_t len) GT_HIDDEN;
uint64_t gt_clock_ns(int clock) GT_HIDDEN;
/* The next definition of `name` (dlsym RTLD_NEXT), cached in `*slot`; NULL while
 * this thread is inside dlsym (which may call the wrapper again) or when there
 * is none: the caller then makes the syscall. For wrappers outside gt_real. */
void *gt_next_symbol(void **slot, const char *name) GT_HIDDEN;
void gt_diag(const char *a, const char *b) GT_HIDDEN;
/* After a session file could not be created with `err`: 1 when the uid can
 * no longer write the session and gt_session now names the drop box (retry). */
int gt_session_use_drop(int err) GT_HIDDEN;
void gt_diag_err(const char *what, int err) GT_HIDDEN;
/* filelocks.c: a fork child holds none of its parent's file locks; an fd
 * about to be closed (or replaced by dup2) releases the one it holds. */
void gt_file_locks_forget_after_fork(void) GT_HIDDEN;
void gt_file_locks_closing(int fd) GT_HIDDEN;

/* Real functions resolved with dlsym/dlvsym (process.c). */
struct gt_real {
    int (*pthread_create)(void *, const void *, void *(*)(void *), void *);
    void (*pthread_exit)(void *) __attribute__((noreturn));
    int (*pthread_setname_np)(unsigned long, const char *);
    int (*mutex_timedlock)(void *, const void *);
    int (*mutex_clocklock)(void *, int, const void *);
    int (*rw_timedrdlock)(void *, const void *);
    int (*rw_timedwrlock)(void *, const void *);
    int (*rw_clockrdlock)(void *, int, const void *);
    int (*rw_clockwrlock)(void *, int, const void *);
    int (*cond_wait)(void *, void *);
    int (*cond_timedwait)(void *, void *, const void *);
    int (*cond_clockwait)(void *, void *, int, const void *);
    pid_t (*fork)(void);
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*posix_spawn)(pid_t *, const char *, const void *, const void *, char *const[], char *const[]);
    int (*posix_spawnp)(pid_t *, const char *, const void *, const void *, char *const[], char *const[]);
    void (*exit)(int) __attribute__((noreturn));
    void (*_exit)(int) __attribute__((noreturn));
    void (*_Exit)(int) __attribute__((noreturn));
    int (*libc_start_main)(int (*)(int, char **, char **), int, char **, void (*)(void),
                           void (*)(void), void (*)(void), void *);
    /* blocking.c (struct pointers as void *: this header stays libc-neutral) */
    int (*nanosleep)(const void *, void *);
    int (*clock_nanosleep)(int, int, const void *, void *);
    int (*usleep)(unsigned int);
    unsigned int (*sleep)(unsigned int);
    pid_t (*waitpid)(pid_t, int *, int);
    pid_t (*wait)(int *);
    pid_t (*wait4)(pid_t, int *, int, void *);
    int (*waitid)(int, unsigned int, void *, int);
    int (*sem_wait)(void *);
    int (*sem_timedwait)(void *, const void *);
    int (*sem_clockwait)(void *, int, const void *);
    int (*sem_trywait)(void *);
    int (*pthread_join)(unsigned long, void **);
    int (*pthread_timedjoin_np)(unsigned long, void **, const void *);
    int (*pthread_clockjoin_np)(unsigned long, void **, int, const void *);
    int (*select)(int, void *, void *, void *, void *);
    int (*pselect)(int, void *, void *, void *, const void *, const void *);
    int (*poll)(void *, unsigned long, int);
    int (*ppoll)(void *, unsigned long, const void *, const void *);
    int (*epoll_wait)(int, void *, int, int);
    int (*epoll_pwait)(int, void *, int, int, const void *);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*readv)(int, const void *, int);
    ssize_t (*writev)(int, const void *, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, void *, void *);
    ssize_t (*sendto)(int, const void *, size_t, int, const void *, unsigned int);
    ssize_t (*recvmsg)(int, void *, int);
    ssize_t (*sendmsg)(int, const void *, int);
    int (*accept)(int, void *, void *);
    int (*accept4)(int, void *, void *, int);
    int (*connect)(int, const void *, unsigned int);
    int (*sigsuspend)(const void *);
    int (*pause)(void);
    int (*pthread_barrier_wait)(void *);
    int (*spin_lock)(volatile int *);
    int (*spin_trylock)(volatile int *);
    int (*spin_unlock)(volatile int *);
    int (*thrd_create)(unsigned long *, int (*)(void *), void *);
    int resolved;
};
extern struct gt_real gt_real GT_HIDDEN;

#define GT_REAL(f) (GT_LIKELY(gt_real.resolved) ? gt_real.f : (gt_resolve(), gt_real.f))

#endif /* GTRACE_RUNTIME_H */
