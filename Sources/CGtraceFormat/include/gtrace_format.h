/*
 * gtrace_format.h — the one source of truth for gtrace's binary layouts.
 *
 * Two layouts live here:
 *  1. The *session* layout written by the preload runtime while the target
 *     runs: one meta file per process image and per-thread buffer chunks of
 *     fixed-size 32-byte raw records (see docs/RECORDING.md).
 *  2. The *trace file* layout (format v1) written by `gtrace record` when the
 *     recording ends and read by every other command (see docs/FORMAT.md).
 *
 * This header is plain C with no dependencies, included by the runtime (C)
 * and imported by the Swift reader/writer.
 */
#ifndef GTRACE_FORMAT_H
#define GTRACE_FORMAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Session layout (runtime -> recorder)                                */
/* ------------------------------------------------------------------ */

/* Environment variables the recorder sets for every process of the tree. */
#define GTRACE_ENV_SESSION "GTRACE_SESSION" /* absolute path of the session dir */
#define GTRACE_ENV_PRELOAD "LD_PRELOAD"
/* Name of the drop box inside the session dir (a secret, random name; mode
 * 1733: any uid may create files, nobody may list it). Set when the recorder
 * runs as root: a process whose uid changed (su, sudo, setuid()) writes its
 * files there when the session itself refuses it (EACCES). */
#define GTRACE_ENV_DROP "GTRACE_DROP"
/* `<pid>.diag` (in the session or the drop box): the runtime's own messages,
 * one line each, never written to the program's fds; they become trace
 * warnings. */

/* Raw record kinds: the `kind` field of struct gtrace_raw_record. 0 = slot not
 * (yet) written: readers skip it. */
enum gtrace_raw_kind {
    GTRACE_RAW_NONE = 0,
    /* tsc + CLOCK_MONOTONIC ns (addr) + CLOCK_REALTIME ns (arg): a clock pair. */
    GTRACE_RAW_CLOCK_SYNC = 1,
    /* Process image started. u32 = ppid, addr = pid. Strings are in the meta file. */
    GTRACE_RAW_PROCESS_START = 2,
    /* Process ending. flags = gtrace_exit_kind, u32 = status,
     * addr = user CPU ns, arg = system CPU ns (getrusage at exit). */
    GTRACE_RAW_PROCESS_EXIT = 3,
    /* Thread started (recorded by the new thread). u32 = creator tid (0: none). */
    GTRACE_RAW_THREAD_START = 4,
    /* Thread ending. flags = gtrace_thread_end_kind, arg = thread CPU ns. */
    GTRACE_RAW_THREAD_END = 5,
    /* Thread name set. addr..arg hold up to 16 bytes of name (not NUL-terminated
     * when all 16 are used). u32 = tid the name applies to. */
    GTRACE_RAW_THREAD_NAME = 6,
    /* fork() returned in the parent. u32 = child pid (or 0 on failure). */
    GTRACE_RAW_FORK = 7,
    /* exec about to be attempted by this (non-vfork) process. */
    GTRACE_RAW_EXEC = 8,
    /* A CPython GIL located (or not) in this process. u32 = PY_VERSION_HEX,
     * flags = gtrace_gil_status | GIL index << 8 (0: the main interpreter's,
     * 1..7: subinterpreters with their own GIL), addr = address of its struct
     * _gil_runtime_state, arg = address of _PyRuntime. Written when the GIL is
     * found (again at the start of a fork child). */
    GTRACE_RAW_GIL_INFO = 9,
    /* CPython's own GIL counters: flags = GIL index, addr = switch_number,
     * arg = interval (microseconds). u32 = 0: read at process exit (or when a
     * subinterpreter's GIL is destroyed); u32 = 1: read at the start of a fork
     * child (the count it inherited: its baseline); u32 = 2: at process exit,
     * addr = the acquisitions that changed the thread state (last_holder)
     * without a change of thread, arg = the acquisitions by another thread
     * whose thread state had the previous one's address (the runtime's counts,
     * main GIL only: switch_number counts the first and not the second). */
    GTRACE_RAW_GIL_STATS = 10,

    /* Lock events. addr = lock address, flags = gtrace_lock_flags; for
     * ACQUIRE and WAIT of mutexes and rwlocks, arg = the call site (the
     * return address into the program; 0 when unknown). */
    GTRACE_RAW_LOCK_ACQUIRE = 16,   /* acquired without waiting */
    GTRACE_RAW_LOCK_WAIT = 17,      /* lock was busy: waiting starts */
    GTRACE_RAW_LOCK_ACQUIRED = 18,  /* acquired after a wait */
    GTRACE_RAW_LOCK_FAILED = 19,    /* wait ended without the lock; u32 = error */
    GTRACE_RAW_LOCK_RELEASE = 20,
    GTRACE_RAW_LOCK_TRY_FAILED = 21,/* the program's own trylock found it busy */
    /* Condition variable wait. addr = cond, arg = mutex; u32 = return code on WOKE.
     * The mutex RELEASE (flag VIA_COND) precedes COND_WAIT and the mutex
     * ACQUIRE (flag VIA_COND) follows COND_WOKE. */
    GTRACE_RAW_COND_WAIT = 22,
    GTRACE_RAW_COND_WOKE = 23,

    /* The GIL: flags = GIL index, addr = its struct _gil_runtime_state. WAIT:
     * this thread asked for the GIL while not holding it; ACQUIRE: it now
     * holds it; RELEASE: it gave it up. Derived in the GIL mutex's
     * lock/unlock wrappers (docs/RECORDING.md). */
    GTRACE_RAW_GIL_WAIT = 24,
    GTRACE_RAW_GIL_ACQUIRE = 25,
    GTRACE_RAW_GIL_RELEASE = 26,

    /* A blocking call (blocking.c). flags = enum gtrace_block_call.
     * BLOCK_BEGIN: the call starts. u32 = its small argument (pid for the wait
     * calls, fd for I/O, nfds for select/poll/epoll), addr = its other
     * argument (requested nanoseconds for sleeps and timeouts, UINT64_MAX for
     * none; the semaphore/thread/epoll object otherwise).
     * BLOCK_END: the call returned. u32 = its return value (the child pid for
     * the wait calls), addr = wait status for the wait calls, else errno (0 on
     * success). arg = 0 when a BLOCK_BEGIN was recorded; for I/O calls, which
     * are recorded only once they blocked (took longer than GT_IO_BLOCK_TICKS
     * on a pipe or socket), arg = the call's start timestamp and no
     * BLOCK_BEGIN precedes it. */
    GTRACE_RAW_BLOCK_BEGIN = 27,
    GTRACE_RAW_BLOCK_END = 28,

    /* Who woke whom, for the replay (docs/METRICS.md, "Replay"). flags = enum
     * gtrace_waker_kind. IO_WAIT / IO_WRITE / IO_READY / IO_READ: u32 = fd, addr = the
     * object's st_ino, arg = its st_dev. COND_SIGNAL / COND_BROADCAST: addr =
     * the pthread_cond_t. REAPED: u32 = the child pid reaped by a WNOHANG
     * wait, addr = its wait status. KILL: u32 = the pid (as passed to kill),
     * addr = the signal. */
    GTRACE_RAW_WAKER = 29,

    /* Futex calls made through libc's syscall() (futex.c). flags = the futex
     * op as passed (command | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME),
     * addr = the futex word (uaddr).
     * FUTEX_WAIT: a waiting command is about to enter the kernel (WAIT,
     * WAIT_BITSET, LOCK_PI, LOCK_PI2, WAIT_REQUEUE_PI). u32 = val (the value
     * expected; unused for the PI commands), arg = the call site (return
     * address of syscall()).
     * FUTEX_WOKE: it returned. u32 = the kernel's result as int32: 0 (woken,
     * or the PI lock taken), else -errno (-EAGAIN: the word had changed,
     * -ETIMEDOUT, -EINTR...). arg = the FUTEX_WAIT's timestamp.
     * FUTEX_WAKE: a waking command (WAKE, WAKE_BITSET, WAKE_OP, REQUEUE,
     * CMP_REQUEUE, UNLOCK_PI, CMP_REQUEUE_PI); its timestamp is taken before
     * the call. u32 = the result as int32 (threads woken, plus requeued for
     * the requeue commands; -errno on failure), arg = the call site.
     * With GTRACE_FUTEX_PYMUTEX in flags (pymutex.c, CPython 3.14+): not a
     * futex call but a PyMutex's parking-lot wait (its sem wait), return, or
     * hand-over (the sem_post of a waiter); addr = the PyMutex. */
    GTRACE_RAW_FUTEX_WAIT = 32,
    GTRACE_RAW_FUTEX_WOKE = 33,
    GTRACE_RAW_FUTEX_WAKE = 34,
    /* Python locations (pyframes.c, docs/RECORDING.md "Python locations").
     * PY_FRAME: one frame of the Python stack of the preceding GIL_ACQUIRE,
     * GIL_RELEASE or PY_SAMPLE record of this thread; flags = depth (0: the
     * innermost) | GTRACE_PY_FRAME_SAMPLED when it belongs to a sample,
     * u32 = line (0: unknown; samples carry none), addr = code object,
     * arg = its identity (first line << 32 | a hash of its name, file and
     * qualified-name objects). */
    GTRACE_RAW_PY_FRAME = 36,
    /* A code object first seen in this process: addr = code object, arg =
     * identity, u32 = co_firstlineno, flags = number of PY_TEXT records that
     * follow with "qualname\0filename\0" (16 bytes each in addr, arg). */
    GTRACE_RAW_PY_CODE = 37,
    GTRACE_RAW_PY_TEXT = 38,
    /* A thread waiting for GIL `flags` (index) sampled its holder: u32 =
     * frames that follow (PY_FRAME with GTRACE_PY_FRAME_SAMPLED), addr = the
     * GIL, arg = the holder's PyThreadState. */
    GTRACE_RAW_PY_SAMPLE = 39,
    /* Python locations: flags = 1 layout confirmed (arg = a thread state),
     * 2 refused (addr = the object that was not a code object); u32 = minor version. */
    GTRACE_RAW_PY_INFO = 40,
    /* A Python lock created (sem_init in a CPython process, pylocks.c): addr =
     * the semaphore; PY_FRAME records with the creating line follow when the
     * creating thread held the GIL. */
    GTRACE_RAW_PY_LOCK_NEW = 41,
    /* posix_spawn/posix_spawnp returned an error: u32 = the error number,
     * addr = the timestamp at which the call began. glibc's child started in
     * that window, failed before its exec, exited 127 and was reaped by glibc
     * itself (an internal waitpid no wrapper sees). */
    GTRACE_RAW_SPAWN_FAILED = 42,
};

enum gtrace_waker_kind {
    GTRACE_WAKER_IO_WAIT = 1,        /* a read-like call blocked on this object (precedes its BLOCK_END) */
    GTRACE_WAKER_IO_WRITE = 2,       /* a write-like call on a pipe, socket or anonymous-inode fd */
    GTRACE_WAKER_IO_READY = 3,       /* select/poll that blocked returned with this object ready */
    GTRACE_WAKER_COND_SIGNAL = 4,
    GTRACE_WAKER_COND_BROADCAST = 5,
    GTRACE_WAKER_REAPED = 6,         /* a WNOHANG wait reaped a child */
    GTRACE_WAKER_KILL = 7,           /* kill(pid, sig) with sig != 0 */
    GTRACE_WAKER_IO_READ = 8,        /* a read-like call got data from this object without blocking */
    GTRACE_WAKER_SEM_POST = 9,       /* sem_post outside CPython's locks: addr = the semaphore */
};
#define GTRACE_PY_FRAME_SAMPLED 0x100

/* The blocking calls gtrace wraps (flags of BLOCK_BEGIN/END; also the call
 * operand of the trace file's block events). Grouped by what the thread
 * waits for: see gtrace_block_category. */
enum gtrace_block_call {
    GTRACE_CALL_NANOSLEEP = 1,
    GTRACE_CALL_CLOCK_NANOSLEEP = 2,
    GTRACE_CALL_USLEEP = 3,
    GTRACE_CALL_SLEEP = 4,
    GTRACE_CALL_WAITPID = 5,
    GTRACE_CALL_WAIT = 6,
    GTRACE_CALL_WAIT4 = 7,
    GTRACE_CALL_WAITID = 8,
    GTRACE_CALL_SEM_WAIT = 9,
    GTRACE_CALL_SEM_TIMEDWAIT = 10,
    GTRACE_CALL_SEM_CLOCKWAIT = 11,
    GTRACE_CALL_PTHREAD_JOIN = 12,
    GTRACE_CALL_PTHREAD_TIMEDJOIN = 13,
    GTRACE_CALL_PTHREAD_CLOCKJOIN = 14,
    GTRACE_CALL_SELECT = 15,   /* nfds 0 and no sets: a sleep (Python < 3.11's time.sleep) */
    GTRACE_CALL_PSELECT = 16,
    GTRACE_CALL_POLL = 17,     /* nfds 0: a sleep */
    GTRACE_CALL_PPOLL = 18,
    GTRACE_CALL_EPOLL_WAIT = 19,
    GTRACE_CALL_EPOLL_PWAIT = 20,
    GTRACE_CALL_READ = 21,
    GTRACE_CALL_WRITE = 22,
    GTRACE_CALL_RECV = 23,
    GTRACE_CALL_SEND = 24,
    GTRACE_CALL_ACCEPT = 25,
    GTRACE_CALL_CONNECT = 26,
    GTRACE_CALL_RECVFROM = 27,
    GTRACE_CALL_SENDTO = 28,
    GTRACE_CALL_ACCEPT4 = 29,
    GTRACE_CALL_RECVMSG = 30,
    GTRACE_CALL_SENDMSG = 31,
    GTRACE_CALL_READV = 32,
    GTRACE_CALL_WRITEV = 33,
    GTRACE_CALL_SIGSUSPEND = 34, /* a wait for a signal: a shell (dash) waits for its jobs here */
    GTRACE_CALL_PAUSE = 35,
    GTRACE_CALL_PTHREAD_BARRIER_WAIT = 36, /* what: the barrier's address */
    GTRACE_CALL_LAST = 36,
};

/* How the GIL was located (flags of GIL_INFO; also in the trace's GIL table). */
enum gtrace_gil_status {
    GTRACE_GIL_BY_LAYOUT = 0x1,     /* found at this version's known offset in _PyRuntime */
    GTRACE_GIL_BY_PATTERN = 0x2,    /* found by the header-free pthread_mutex_init pattern */
    GTRACE_GIL_DISAGREE = 0x4,      /* layout and pattern disagree: no GIL events recorded */
    GTRACE_GIL_DISABLED = 0x8,      /* free-threaded build running without the GIL */
    GTRACE_GIL_UNKNOWN_VERSION = 0x10, /* no layout known for this version */
    GTRACE_GIL_SUBINTERPRETER = 0x20,  /* a subinterpreter's own GIL (3.12+), found by pattern */
};

/* How a process ended (flags of PROCESS_EXIT; also used in trace file). */
enum gtrace_exit_kind {
    GTRACE_EXIT_UNKNOWN = 0,     /* no exit record (killed, exec'd away...) */
    GTRACE_EXIT_CALL = 1,        /* exit(status) */
    GTRACE_EXIT_UNDERSCORE = 2,  /* _exit / _Exit(status) */
    GTRACE_EXIT_MAIN_RETURN = 3, /* main returned status */
    GTRACE_EXIT_SIGNAL = 4,      /* killed by signal `status` (from wait status) */
    GTRACE_EXIT_EXEC = 5,        /* image replaced by a successful exec */
    GTRACE_EXIT_WAIT_STATUS = 6, /* no exit record; status from the recorder's waitpid */
};

/* How a thread ended. */
enum gtrace_thread_end_kind {
    GTRACE_THREAD_END_UNKNOWN = 0,      /* no record: ended with its process */
    GTRACE_THREAD_END_RETURN = 1,       /* start routine returned */
    GTRACE_THREAD_END_PTHREAD_EXIT = 2, /* pthread_exit */
    GTRACE_THREAD_END_PROCESS = 3,      /* the process ended while it ran */
};

/* Lock flags (raw `flags` field and trace-file opcode flags). */
enum gtrace_lock_flags {
    GTRACE_LOCKF_MUTEX = 0x0,
    GTRACE_LOCKF_RWLOCK = 0x1,   /* a pthread_rwlock_t */
    GTRACE_LOCKF_SHARED = 0x2,   /* read (shared) mode of a rwlock */
    GTRACE_LOCKF_VIA_COND = 0x4, /* release/acquire done by pthread_cond_*wait */
    GTRACE_LOCKF_SEMAPHORE = 0x8,/* raw records only: a Python lock (a POSIX semaphore, pylocks.c) */
    GTRACE_LOCKF_SPIN = 0x10,    /* raw records only: a pthread_spinlock_t (spinlocks.c) */
    GTRACE_LOCKF_FILE = 0x20,    /* raw records only: a file lock, flock() or fcntl() (filelocks.c) */
    GTRACE_LOCKF_BINARY_SEM = 0x40, /* raw records only: a POSIX semaphore made with value 1, not a Python lock (binarysems.c) */
};

/* In the flags (futex op) of raw FUTEX_* records: a CPython 3.14+ PyMutex
 * wait or hand-over seen at its parking-lot semaphore (pymutex.c), not a
 * futex call. No futex op has this bit. */
enum { GTRACE_FUTEX_PYMUTEX = 0x8000 };

/* One raw record: 32 bytes, written by one thread into its own buffer. */
struct gtrace_raw_record {
    uint64_t tsc;   /* gtrace_timestamp() */
    uint16_t kind;  /* enum gtrace_raw_kind; written last (release) */
    uint16_t flags;
    uint32_t u32;
    uint64_t addr;
    uint64_t arg;
};
_Static_assert(sizeof(struct gtrace_raw_record) == 32, "raw record is 32 bytes");

#define GTRACE_BUFFER_MAGIC "GTRBUF1"   /* 8 bytes with the NUL */
#define GTRACE_BUFFER_VERSION 1u

/* Header of one per-thread buffer chunk file `<pid>.<image>.<tid>.<chunk>.buf`.
 * Records follow at offset 64. */
struct gtrace_buffer_header {
    char magic[8];
    uint32_t version;
    uint32_t record_size;
    uint32_t pid;
    uint32_t tid;
    uint32_t image;
    uint32_t chunk;
    uint64_t capacity;  /* records that fit after the header */
    uint64_t reserved;  /* slots handed out so far (may exceed capacity) */
    uint64_t lost;      /* events dropped: nested rotation, or every event after a failed one */
    uint32_t broken_errno; /* errno of the next chunk's creation when it failed (EDQUOT: the
                              GTRACE_MAX_MB budget); the thread's later events are all in `lost` */
    uint32_t setup_ticks; /* timestamp ticks the thread spent creating this chunk (and, at a
                             rotation, unmapping a retired one); saturates at UINT32_MAX */
};
_Static_assert(sizeof(struct gtrace_buffer_header) == 64, "buffer header is 64 bytes");

/* Arenas of first chunks: `<pid>.<image>.<n>.arena` (n = 0, 1, ...), a file of
 * GTRACE_ARENA_SLOT_BYTES slots. A process's threads after its first take their
 * first chunk (chunk 0) as a slot of the image's newest arena instead of a file
 * of their own. A claimed slot is laid out as a chunk file of that size (the
 * header, its magic stored last, then records); an unclaimed slot is zeros. */
#define GTRACE_ARENA_SLOT_BYTES (16u * 1024u)

/* The chunk pool: `gtrace record` keeps spare buffer chunks of each size a
 * thread's chunks after its first take (32 KiB, 64 KiB, ... 2 MiB: the
 * sizes are in the classes' `chunk_bytes`),
 * their pages already allocated and written once, in
 * `<session>/pool/<i>.<k>.chunk` (k = 0, 1, 2, ...), and publishes how many of
 * each exist in the shared control file `<session>/pool.ctl`. A thread that
 * needs a chunk of class i takes index k = claimed++ and, when k < produced,
 * renames that file to its own chunk name. Allocating and zeroing tmpfs pages
 * costs ~2.6 us per 4 KiB on a VM; mapping pages that already exist ~0.3 us,
 * so the pool moves most of that cost out of the traced program (a 64 KiB
 * chunk: 44 us made by the thread, 16 us from the pool). */
#define GTRACE_POOL_CONTROL "pool.ctl"
#define GTRACE_POOL_DIRECTORY "pool"
#define GTRACE_POOL_MAGIC "GTRPOL2"  /* 8 bytes with the NUL */
#define GTRACE_POOL_CLASSES 8

struct gtrace_pool_class {
    uint64_t chunk_bytes; /* size of the class's files */
    uint64_t produced;    /* files 0..produced-1 were created (release-stored by the recorder) */
    uint64_t claimed;     /* indices handed out (fetch-add by the runtimes) */
    uint64_t fallbacks;   /* chunks of this size the runtimes had to create themselves */
};
_Static_assert(sizeof(struct gtrace_pool_class) == 32, "pool class is 32 bytes");

struct gtrace_pool_control {
    char magic[8];
    uint64_t classes;     /* classes in use, at most GTRACE_POOL_CLASSES */
    uint64_t padding[6];
    struct gtrace_pool_class cls[GTRACE_POOL_CLASSES];
};
_Static_assert(sizeof(struct gtrace_pool_control) == 64 + 32 * GTRACE_POOL_CLASSES, "pool control is 320 bytes");

#define GTRACE_META_MAGIC "GTRMETA"  /* 8 bytes with the NUL */

/* `<pid>.<image>.objects`: snapshots of the loaded ELF objects (objects.c),
 * taken at start and at exit (when objects were added since), so that
 * recorded addresses can be named when the recording ends. A fork child
 * writes none: it has its parent's objects. Entries, appended: */
struct gtrace_object_entry {
    uint64_t tsc;
    uint64_t load_bias;       /* dlpi_addr: run-time address − link-time address */
    uint16_t name_length;     /* path bytes that follow (0: the main program) */
    uint16_t build_id_length; /* build-id bytes that follow the path */
    uint16_t segment_count;   /* struct gtrace_object_segment that follow */
    uint16_t reserved;
};
_Static_assert(sizeof(struct gtrace_object_entry) == 24, "object entry is 24 bytes");

struct gtrace_object_segment {
    uint64_t virtual_address; /* link-time p_vaddr of a PT_LOAD */
    uint64_t memory_size;
};

/* Meta file `<pid>.<image>.meta`: the 8-byte magic, then entries of
 * { uint32 kind; uint32 length; length bytes }. */
enum gtrace_meta_kind {
    GTRACE_META_PID = 1,       /* uint32 pid, uint32 ppid */
    GTRACE_META_EXE = 2,       /* readlink(/proc/self/exe) */
    GTRACE_META_ARGV = 3,      /* /proc/self/cmdline: NUL-separated */
    GTRACE_META_START_TSC = 4, /* uint64 tsc, uint64 CLOCK_MONOTONIC ns */
    /* Appended by the exec wrappers before each exec attempt: uint64 tsc, then
     * the path and each argv string, NUL-terminated. When no image of this pid
     * follows (a static or setuid program), the trace still names it. */
    GTRACE_META_EXEC = 5,
    /* Appended to `<pid>.files` by filelocks.c when a process first locks a
     * file (flock(), a whole-file fcntl() lock): uint64 lock id (see there), then the file's path
     * (readlink of /proc/self/fd/N), NUL-terminated. */
    GTRACE_META_FILE_LOCK = 6,
};

/* ------------------------------------------------------------------ */
/* Trace file layout, format v1 (recorder -> reader)                   */
/* ------------------------------------------------------------------ */

/* File header: 8-byte magic, uint16 version, uint16 feature flags, uint32
 * CRC-32 of the first 12 bytes (so a damaged header is an error, not a guess). */
#define GTRACE_FILE_MAGIC "\x7fGTRACE\n"
#define GTRACE_FILE_MAGIC_SIZE 8
#define GTRACE_FILE_HEADER_SIZE 16
#define GTRACE_FILE_VERSION 1u

/* Feature flags of the file header. */
enum gtrace_file_feature {
    GTRACE_FEATURE_LOCKS = 0x1,
    GTRACE_FEATURE_THREAD_CPU = 0x2,
};

/* Records: uint8 kind, varint payload length, payload, uint32 CRC-32 (LE) of
 * kind+length+payload. A reader skips kinds it does not know. */
enum gtrace_record_kind {
    GTRACE_REC_INFO = 1,    /* run facts: key/value strings */
    GTRACE_REC_CLOCK = 2,   /* epoch and clock fit */
    GTRACE_REC_STRING = 3,  /* id, bytes */
    GTRACE_REC_PROCESS = 4,
    GTRACE_REC_THREAD = 5,
    GTRACE_REC_LOCK = 6,
    GTRACE_REC_EVENTS = 7,  /* a block of one thread's events */
    GTRACE_REC_END = 8,     /* totals: proves the file is complete */
    GTRACE_REC_GIL = 9,     /* one CPython process's GIL facts (see docs/FORMAT.md) */
    GTRACE_REC_SYMBOL = 10, /* a lock's name, or one call site's totals (docs/FORMAT.md) */
    GTRACE_REC_PYTHON = 11, /* a Python code object: qualified name, file, first line (docs/FORMAT.md) */
};

/* Event opcodes inside an EVENTS block: one byte, low 5 bits the op, high 3
 * bits gtrace_lock_flags (for lock ops), followed by a varint time delta (ns
 * since the previous event of the block) and the op's varint operands. */
enum gtrace_event_op {
    GTRACE_EV_PROCESS_START = 1, /* (no operands) */
    GTRACE_EV_PROCESS_EXIT = 2,  /* exit kind, status */
    GTRACE_EV_THREAD_START = 3,  /* creator thread index + 1 (0: none) */
    GTRACE_EV_THREAD_END = 4,    /* end kind, thread CPU ns */
    GTRACE_EV_THREAD_NAME = 5,   /* string id */
    GTRACE_EV_FORK = 6,          /* child pid */
    GTRACE_EV_EXEC = 7,          /* (no operands) */
    GTRACE_EV_BLOCK_BEGIN = 8,   /* call (gtrace_block_call), small argument, argument */
    GTRACE_EV_BLOCK_END = 9,     /* call, result, detail (wait status or errno) */
    /* Scheduling from perf context-switch records (docs/RECORDING.md). */
    GTRACE_EV_CPU_IN = 10,       /* cpu */
    GTRACE_EV_CPU_OUT = 11,      /* cpu; op flag bit 0 (opcode bit 5): preempted, still runnable */
    /* Who woke whom (raw WAKER records): waker kind, object, value. Object:
     * the I/O object's id (st_ino ^ st_dev * 0x9E3779B97F4A7C15), the
     * condition's lock id, or the pid; value: the fd, the wait status or the
     * signal. */
    GTRACE_EV_WAKER = 12,
    /* Futex words (lock kind 4): a wait begins with LOCK_WAIT on the word's
     * lock id; FUTEX_WOKE ends it, FUTEX_WAKE is another thread's wake call. */
    GTRACE_EV_FUTEX_WOKE = 14,   /* lock id, result (0 woken, else -errno) */
    GTRACE_EV_FUTEX_WAKE = 15,   /* lock id, result (threads woken, or -errno) */
    GTRACE_EV_LOCK_ACQUIRE = 16, /* lock id */
    GTRACE_EV_LOCK_WAIT = 17,    /* lock id */
    GTRACE_EV_LOCK_ACQUIRED = 18,/* lock id */
    GTRACE_EV_LOCK_FAILED = 19,  /* lock id, error */
    GTRACE_EV_LOCK_RELEASE = 20, /* lock id */
    GTRACE_EV_LOCK_TRY_FAILED = 21, /* lock id */
    GTRACE_EV_COND_WAIT = 22,    /* cond lock id, mutex lock id */
    GTRACE_EV_COND_WOKE = 23,    /* cond lock id, mutex lock id, return code */
    /* Python frames at the thread's preceding GIL event (flag bit 0 clear), or
     * a sample of a GIL's holder taken by this waiting thread (flag bit 0 set:
     * a GIL lock id comes first): frame count, then per frame code id + 1
     * (PYTHON records; 0: unknown) and line (0: unknown), innermost first. */
    GTRACE_EV_PYTHON = 13,
    /* The GIL needs no ops of its own: each Python process has a lock of kind
     * GIL (LOCK record kind 3) and its waits/holds use the lock ops above. */
};
#define GTRACE_EV_OP_MASK 0x1f
#define GTRACE_EV_FLAG_SHIFT 5

/* ------------------------------------------------------------------ */
/* Timestamps                                                          */
/* ------------------------------------------------------------------ */

/* The raw timestamp of every record: the TSC on x86-64 (invariant TSC,
 * converted to CLOCK_MONOTONIC by a linear fit of CLOCK_SYNC pairs), and
 * CLOCK_MONOTONIC nanoseconds elsewhere (identity fit). */
#if defined(__x86_64__)
static inline uint64_t gtrace_timestamp(void) {
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
#define GTRACE_TIMESTAMP_IS_TSC 1
#else
#include <time.h>
static inline uint64_t gtrace_timestamp(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
#define GTRACE_TIMESTAMP_IS_TSC 0
#endif

/* A buffer's slot reservation: xadd without the LOCK prefix, one
 * instruction, so atomic with respect to a signal handler running on the
 * same thread; each buffer has a single writer. The runtime's records and
 * the recorder's timing of their least cost (gtrace_record_cost.c) use it. */
static inline uint64_t gtrace_xadd(uint64_t *p, uint64_t v) {
#if defined(__x86_64__)
    __asm__ __volatile__("xaddq %0, %1" : "+r"(v), "+m"(*p) : : "memory");
    return v;
#else
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#endif
}

#ifdef __cplusplus
}
#endif
#endif /* GTRACE_FORMAT_H */
