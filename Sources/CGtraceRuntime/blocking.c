/*
 * blocking.c — interposers that record blocking calls as BLOCK_BEGIN /
 * BLOCK_END (see gtrace_format.h for the record fields).
 *
 * Slow calls (sleeps, waits for children, semaphores, joins, select/poll/
 * epoll) record BEGIN before and END after the real call. I/O calls are hot
 * and usually do not block: they only take a timestamp on each side and
 * record a single END (arg = start timestamp) when the call took longer than
 * GT_IO_BLOCK_TICKS on a pipe or socket.
 *
 * Every interposer returns exactly what the real function returned, with
 * errno intact. Nothing is recorded in a vfork child (it shares the parent's
 * buffers) or while this thread is already inside a recorded call (a libc
 * whose sleep() goes through our nanosleep, a signal handler's I/O).
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* An I/O call that returns without sleeping costs a syscall plus a copy,
 * ~1-5 us; one that slept paid for a context switch out and back and the
 * wait itself. 10 us separates the two (30 000 TSC ticks at 3 GHz). A large
 * copy or a preemption can exceed it too: that only adds a short record. */
#if GTRACE_TIMESTAMP_IS_TSC
#define GT_IO_BLOCK_TICKS 30000u
#else
#define GT_IO_BLOCK_TICKS 10000u /* timestamps are nanoseconds */
#endif

#define GT_NS_INFINITE UINT64_MAX

/* This thread is inside a recorded blocking call: a nested one is not a
 * separate block. Left set if the call is left by longjmp (see Limits). */
static __thread uint8_t gt_in_block __attribute__((tls_model("initial-exec")));

/* ---- recording ---------------------------------------------------------- */

/* Records BEGIN and returns 1 if this call is to be recorded; the caller
 * must then call gt_block_end after the real call. */
static int gt_block_begin(uint16_t call, uint32_t small, uint64_t what) {
    if (!gt_active() || gt_in_block) return 0;
    int saved = errno;
    int ok = !gt_in_other_process(); /* getpid: vfork child? */
    if (ok) {
        gt_in_block = 1;
        gt_emit(GTRACE_RAW_BLOCK_BEGIN, call, small, what, 0);
    }
    errno = saved;
    return ok;
}

static void gt_block_end(uint16_t call, uint32_t result, uint64_t detail) {
    int saved = errno;
    gt_emit(GTRACE_RAW_BLOCK_END, call, result, detail, 0);
    gt_in_block = 0;
    errno = saved;
}

/* END of a call that returns -1 and sets errno on failure. */
static void gt_block_end_rc(uint16_t call, long rc) {
    gt_block_end(call, (uint32_t)rc, rc < 0 ? (uint64_t)errno : 0);
}

/* An I/O call took long: record it if it was on a pipe or socket. */
__attribute__((noinline, cold)) static void gt_io_blocked(uint16_t call, int fd, ssize_t rc,
                                                          uint64_t t0, uint64_t t1) {
    int saved = errno;
    uint64_t ino, dev;
    if (!gt_in_block && !gt_in_other_process() && gt_io_object(fd, &ino, &dev)) {
        /* Which object it waited on, for the replay (wakers.c); stamped
         * with the call's start, where its block begins. */
        gt_emit_ts(t0, GTRACE_RAW_WAKER, GTRACE_WAKER_IO_WAIT, (uint32_t)fd, ino, dev);
        gt_emit_ts(t1, GTRACE_RAW_BLOCK_END, call, (uint32_t)fd,
                   rc < 0 ? (uint64_t)saved : (uint64_t)rc, t0);
    }
    errno = saved;
}

/* Body of an I/O interposer: `real` is the real call (an expression). */
#define GT_IO(call, fd, real)                                                 \
    do {                                                                      \
        if (!gt_active()) return (real);                                      \
        uint64_t t0_ = gtrace_timestamp();                                    \
        ssize_t rc_ = (real);                                                 \
        uint64_t t1_ = gtrace_timestamp();                                    \
        if (GT_UNLIKELY(t1_ - t0_ > GT_IO_BLOCK_TICKS))                       \
            gt_io_blocked((call), (fd), rc_, t0_, t1_);                       \
        return rc_;                                                           \
    } while (0)

/* Body of a read-like interposer: as GT_IO, and a read that returned data
 * from a pipe, socket or eventfd without blocking is recorded too (IO_READ):
 * the data came from a write that the replay must keep before it. */
#define GT_IO_R(call, fd, real)                                               \
    do {                                                                      \
        if (!gt_active()) return (real);                                      \
        uint64_t t0_ = gtrace_timestamp();                                    \
        ssize_t rc_ = (real);                                                 \
        uint64_t t1_ = gtrace_timestamp();                                    \
        if (GT_UNLIKELY(t1_ - t0_ > GT_IO_BLOCK_TICKS)) {                     \
            gt_io_blocked((call), (fd), rc_, t0_, t1_);                       \
        } else if (rc_ > 0) {                                                 \
            int saved_ = errno;                                               \
            gt_note_io(GTRACE_WAKER_IO_READ, (fd), t1_);                      \
            errno = saved_;                                                   \
        }                                                                     \
        return rc_;                                                           \
    } while (0)

/* Body of a write-like interposer: as GT_IO, and a write that moved data to
 * a pipe, socket or eventfd is recorded (a reader may be waiting for it). */
#define GT_IO_W(call, fd, real)                                               \
    do {                                                                      \
        if (!gt_active()) return (real);                                      \
        uint64_t t0_ = gtrace_timestamp();                                    \
        ssize_t rc_ = (real);                                                 \
        uint64_t t1_ = gtrace_timestamp();                                    \
        if (rc_ > 0) { /* stamped with the start: the data may wake a reader before the call returns */ \
            int saved_ = errno;                                               \
            gt_note_io_bytes(GTRACE_WAKER_IO_WRITE, (fd), t0_, (uint64_t)rc_);  \
            errno = saved_;                                                   \
        }                                                                     \
        if (GT_UNLIKELY(t1_ - t0_ > GT_IO_BLOCK_TICKS))                       \
            gt_io_blocked((call), (fd), rc_, t0_, t1_);                       \
        return rc_;                                                           \
    } while (0)

/* The real function. NULL only while this thread is inside gt_resolve
 * (something called from dlsym) or when libc lacks the function: the
 * wrappers then make the syscall themselves, or fail with ENOSYS. */
#define GT_NEXT(var, field) __typeof__(gt_real.field) var = GT_REAL(field)

static uint64_t gt_ts_ns(const struct timespec *ts) {
    if (ts == NULL || ts->tv_sec < 0 || ts->tv_nsec < 0) return 0;
    if ((uint64_t)ts->tv_sec >= UINT64_MAX / 1000000000ull - 1) return UINT64_MAX - 1;
    return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* ---- sleeps --------------------------------------------------------------- */

GT_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem) {
    GT_NEXT(f, nanosleep);
    if (GT_UNLIKELY(f == NULL)) return (int)syscall(SYS_nanosleep, req, rem);
    if (!gt_block_begin(GTRACE_CALL_NANOSLEEP, 0, gt_ts_ns(req))) return f(req, rem);
    int rc = f(req, rem);
    gt_block_end_rc(GTRACE_CALL_NANOSLEEP, rc);
    return rc;
}

/* Returns the error number (errno untouched): END addr = that number. */
GT_EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
    GT_NEXT(f, clock_nanosleep);
    if (GT_UNLIKELY(f == NULL)) {
        int saved = errno;
        int rc = syscall(SYS_clock_nanosleep, clock, flags, req, rem) == 0 ? 0 : errno;
        errno = saved;
        return rc;
    }
    if (!gt_active()) return f(clock, flags, req, rem);
    uint64_t ns = gt_ts_ns(req);
    if (flags & TIMER_ABSTIME) { /* requested = deadline - now on that clock */
        int saved = errno;
        struct timespec now;
        uint64_t n = clock_gettime(clock, &now) == 0 ? gt_ts_ns(&now) : ns;
        ns = ns > n ? ns - n : 0;
        errno = saved;
    }
    if (!gt_block_begin(GTRACE_CALL_CLOCK_NANOSLEEP, 0, ns)) return f(clock, flags, req, rem);
    int rc = f(clock, flags, req, rem);
    gt_block_end(GTRACE_CALL_CLOCK_NANOSLEEP, (uint32_t)rc, (uint64_t)rc);
    return rc;
}

/* glibc's usleep and sleep call nanosleep internally (not through the PLT):
 * wrapped on their own. */
GT_EXPORT int usleep(useconds_t us) {
    GT_NEXT(f, usleep);
    if (GT_UNLIKELY(f == NULL)) {
        struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000};
        return (int)syscall(SYS_nanosleep, &ts, NULL);
    }
    if (!gt_block_begin(GTRACE_CALL_USLEEP, 0, (uint64_t)us * 1000u)) return f(us);
    int rc = f(us);
    gt_block_end_rc(GTRACE_CALL_USLEEP, rc);
    return rc;
}

/* Returns the seconds not slept (> 0: interrupted, errno EINTR). */
GT_EXPORT unsigned int sleep(unsigned int seconds) {
    GT_NEXT(f, sleep);
    if (GT_UNLIKELY(f == NULL)) {
        struct timespec ts = {(time_t)seconds, 0};
        if (syscall(SYS_nanosleep, &ts, &ts) == 0) return 0;
        return (unsigned int)ts.tv_sec + (ts.tv_nsec >= 500000000L);
    }
    if (!gt_block_begin(GTRACE_CALL_SLEEP, 0, (uint64_t)seconds * 1000000000ull)) return f(seconds);
    unsigned int rc = f(seconds);
    gt_block_end(GTRACE_CALL_SLEEP, rc, rc != 0 ? (uint64_t)errno : 0);
    return rc;
}

/* ---- waiting for children --------------------------------------------------
 * WNOHANG is a poll, not a block: only a reaped child is recorded (a WAKER
 * record, gt_note_reaped). END: u32 = the
 * child pid and addr = its wait status, or u32 = -1 and addr = errno. */

/* A WNOHANG wait that reaped a child (a make that reaps after SIGCHLD):
 * recorded once per child, for the replay. */
static void gt_note_reaped(pid_t rc, int status) {
    if (rc > 0 && gt_active()) {
        int saved = errno;
        gt_emit(GTRACE_RAW_WAKER, GTRACE_WAKER_REAPED, (uint32_t)rc, (uint64_t)(uint32_t)status, 0);
        errno = saved;
    }
}

static void gt_wait_end(uint16_t call, pid_t rc, int status) {
    if (rc < 0)
        gt_block_end(call, (uint32_t)-1, (uint64_t)errno);
    else
        gt_block_end(call, (uint32_t)rc, (uint64_t)(uint32_t)status);
}

GT_EXPORT pid_t waitpid(pid_t pid, int *status, int options) {
    GT_NEXT(f, waitpid);
    if (GT_UNLIKELY(f == NULL)) return (pid_t)syscall(SYS_wait4, pid, status, options, NULL);
    if (options & WNOHANG) {
        int st = 0;
        int *sp = status != NULL ? status : &st;
        pid_t rc = f(pid, sp, options);
        gt_note_reaped(rc, *sp);
        return rc;
    }
    if (!gt_block_begin(GTRACE_CALL_WAITPID, (uint32_t)pid, (uint64_t)(uint32_t)options))
        return f(pid, status, options);
    int st = 0; /* the status is wanted even when the caller passes NULL */
    int *sp = status != NULL ? status : &st;
    pid_t rc = f(pid, sp, options);
    gt_wait_end(GTRACE_CALL_WAITPID, rc, rc > 0 ? *sp : 0);
    return rc;
}

GT_EXPORT pid_t wait(int *status) {
    GT_NEXT(f, wait);
    if (GT_UNLIKELY(f == NULL)) return (pid_t)syscall(SYS_wait4, -1, status, 0, NULL);
    if (!gt_block_begin(GTRACE_CALL_WAIT, (uint32_t)-1, 0)) return f(status);
    int st = 0;
    int *sp = status != NULL ? status : &st;
    pid_t rc = f(sp);
    gt_wait_end(GTRACE_CALL_WAIT, rc, rc > 0 ? *sp : 0);
    return rc;
}

GT_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru) {
    GT_NEXT(f, wait4);
    if (GT_UNLIKELY(f == NULL)) return (pid_t)syscall(SYS_wait4, pid, status, options, ru);
    if (options & WNOHANG) {
        int st = 0;
        int *sp = status != NULL ? status : &st;
        pid_t rc = f(pid, sp, options, ru);
        gt_note_reaped(rc, *sp);
        return rc;
    }
    if (!gt_block_begin(GTRACE_CALL_WAIT4, (uint32_t)pid, (uint64_t)(uint32_t)options))
        return f(pid, status, options, ru);
    int st = 0;
    int *sp = status != NULL ? status : &st;
    pid_t rc = f(pid, sp, options, ru);
    gt_wait_end(GTRACE_CALL_WAIT4, rc, rc > 0 ? *sp : 0);
    return rc;
}

/* A wait for a signal. dash waits for its jobs with wait3(WNOHANG) and, while
 * none has ended, sigsuspend until SIGCHLD: recorded as a sleep, which the
 * replay ties to the child reaped right after it (ReplayBuilder.reaped). */
GT_EXPORT int sigsuspend(const sigset_t *mask) {
    GT_NEXT(f, sigsuspend);
    if (GT_UNLIKELY(f == NULL)) return (int)syscall(SYS_rt_sigsuspend, mask, (size_t)(_NSIG / 8));
    if (!gt_block_begin(GTRACE_CALL_SIGSUSPEND, 0, UINT64_MAX)) return f(mask);
    int rc = f(mask);
    gt_block_end_rc(GTRACE_CALL_SIGSUSPEND, rc);
    return rc;
}

GT_EXPORT int pause(void) {
    GT_NEXT(f, pause);
    if (GT_UNLIKELY(f == NULL)) return (int)syscall(SYS_pause);
    if (!gt_block_begin(GTRACE_CALL_PAUSE, 0, UINT64_MAX)) return f();
    int rc = f();
    gt_block_end_rc(GTRACE_CALL_PAUSE, rc);
    return rc;
}

/* wait3 (dash waits with it) is wait4 on any child: recorded as such. */
GT_EXPORT pid_t wait3(int *status, int options, struct rusage *ru) { return wait4(-1, status, options, ru); }

/* waitid reports in a siginfo_t: rebuilt as a classic wait status. */
static int gt_siginfo_status(const siginfo_t *si) {
    switch (si->si_code) {
    case CLD_EXITED: return (si->si_status & 0xff) << 8;
    case CLD_KILLED: return si->si_status & 0x7f;
    case CLD_DUMPED: return (si->si_status & 0x7f) | 0x80;
    case CLD_STOPPED:
    case CLD_TRAPPED: return ((si->si_status & 0xff) << 8) | 0x7f;
    case CLD_CONTINUED: return 0xffff;
    default: return 0;
    }
}

GT_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options) {
    GT_NEXT(f, waitid);
    if (GT_UNLIKELY(f == NULL)) return (int)syscall(SYS_waitid, idtype, id, info, options, NULL);
    if ((options & WNOHANG) ||
        !gt_block_begin(GTRACE_CALL_WAITID, (uint32_t)id,
                        (uint64_t)(uint32_t)idtype << 32 | (uint32_t)options))
        return f(idtype, id, info, options);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    siginfo_t *sp = info != NULL ? info : &si;
    int rc = f(idtype, id, sp, options);
    if (rc < 0)
        gt_block_end(GTRACE_CALL_WAITID, (uint32_t)-1, (uint64_t)errno);
    else
        gt_block_end(GTRACE_CALL_WAITID, (uint32_t)sp->si_pid, (uint64_t)(uint32_t)gt_siginfo_status(sp));
    return rc;
}

/* ---- semaphores ------------------------------------------------------------
 * An uncontended wait (CPython's threading.Lock) must cost no record: the real
 * sem_trywait first; only when it finds the semaphore at zero is the blocking
 * call recorded (addr = the semaphore). */

/* 1: taken without waiting. */
static int gt_sem_taken(sem_t *s) {
    GT_NEXT(tryf, sem_trywait);
    int saved = errno;
    int taken = tryf != NULL && tryf(s) == 0;
    errno = saved;
    return taken;
}

#define GT_SEM_WAIT(call, s, real)                                             \
    do {                                                                       \
        if (!gt_active()) return (real);                                       \
        if (gt_sem_taken(s)) {                                                 \
            gt_pylock_taken(s, GT_CALLER());                                   \
            return 0;                                                          \
        }                                                                      \
        if (!gt_block_begin((call), 0, (uint64_t)(uintptr_t)(s))) return (real); \
        uintptr_t ret_ = (uintptr_t)__builtin_return_address(0);               \
        uintptr_t frame_ = (uintptr_t)__builtin_frame_address(0);              \
        gt_pylock_wait(s, ret_);                                               \
        gt_pymutex_wait((s), ret_, frame_);                                    \
        int rc_ = (real);                                                      \
        int err_ = errno;                                                      \
        /* The lock's end inside the call, before its BLOCK_END: nested. */    \
        gt_pymutex_woke((s), ret_, frame_, rc_, err_);                         \
        gt_pylock_woke(s, rc_, err_);                                          \
        gt_block_end_rc((call), rc_);                                          \
        errno = err_;                                                          \
        return rc_;                                                            \
    } while (0)

#define GT_ENOSYS(f)                                                           \
    do {                                                                       \
        if (GT_UNLIKELY((f) == NULL)) {                                        \
            errno = ENOSYS;                                                    \
            return -1;                                                         \
        }                                                                      \
    } while (0)

GT_EXPORT int sem_wait(sem_t *s) {
    GT_NEXT(f, sem_wait);
    GT_ENOSYS(f);
    GT_SEM_WAIT(GTRACE_CALL_SEM_WAIT, s, f(s));
}

GT_EXPORT int sem_timedwait(sem_t *s, const struct timespec *abstime) {
    GT_NEXT(f, sem_timedwait);
    GT_ENOSYS(f);
    GT_SEM_WAIT(GTRACE_CALL_SEM_TIMEDWAIT, s, f(s, abstime));
}

GT_EXPORT int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abstime) {
    GT_NEXT(f, sem_clockwait);
    GT_ENOSYS(f);
    GT_SEM_WAIT(GTRACE_CALL_SEM_CLOCKWAIT, s, f(s, clock, abstime));
}

/* ---- joins -----------------------------------------------------------------
 * BEGIN u32 = the joined thread's kernel tid when its offset in glibc's
 * thread descriptor is known (0: unknown or already exited), addr = the
 * pthread_t. They return the error number: END addr = that number. */

static uint32_t gt_thread_tid(pthread_t th) {
    long off = gt_tid_offset;
    if (off < 0) return 0;
    int v;
    memcpy(&v, (const char *)th + off, 4);
    return v > 0 ? (uint32_t)v : 0;
}

#define GT_JOIN(call, th, real)                                                \
    do {                                                                       \
        if (!gt_block_begin((call), gt_active() ? gt_thread_tid(th) : 0, (uint64_t)(th))) \
            return (real);                                                     \
        int rc_ = (real);                                                      \
        gt_block_end((call), (uint32_t)rc_, (uint64_t)rc_);                    \
        return rc_;                                                            \
    } while (0)

/* A barrier: every thread but the last to arrive waits for the last one (glibc's
 * futex calls inside it are not seen otherwise). The replay takes the waker by time:
 * the last arrival's own call is the event just before the others wake. */
GT_EXPORT int pthread_barrier_wait(pthread_barrier_t *b) {
    GT_NEXT(f, pthread_barrier_wait);
    if (GT_UNLIKELY(f == NULL)) return ENOSYS;
    if (!gt_block_begin(GTRACE_CALL_PTHREAD_BARRIER_WAIT, 0, (uint64_t)(uintptr_t)b)) return f(b);
    int rc = f(b);
    gt_block_end(GTRACE_CALL_PTHREAD_BARRIER_WAIT, (uint32_t)rc, 0);
    return rc;
}

GT_EXPORT int pthread_join(pthread_t th, void **ret) {
    GT_NEXT(f, pthread_join);
    if (GT_UNLIKELY(f == NULL)) return ENOSYS;
    GT_JOIN(GTRACE_CALL_PTHREAD_JOIN, th, f(th, ret));
}

GT_EXPORT int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *abstime) {
    GT_NEXT(f, pthread_timedjoin_np);
    if (GT_UNLIKELY(f == NULL)) return ENOSYS;
    GT_JOIN(GTRACE_CALL_PTHREAD_TIMEDJOIN, th, f(th, ret, abstime));
}

GT_EXPORT int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clock, const struct timespec *abstime) {
    GT_NEXT(f, pthread_clockjoin_np);
    if (GT_UNLIKELY(f == NULL)) return ENOSYS;
    GT_JOIN(GTRACE_CALL_PTHREAD_CLOCKJOIN, th, f(th, ret, clock, abstime));
}

/* ---- select / poll / epoll -------------------------------------------------
 * BEGIN u32 = nfds (maxevents for epoll), addr = the timeout in ns
 * (UINT64_MAX: none). A zero timeout is a non-blocking poll: not recorded. */

/* `ready` runs after a recorded call returned > 0 (its result in rc_): it notes the ready
 * objects (IO_READY) before the END. */
#define GT_MULTIPLEX_READY(call, small, ns, real, ready)                       \
    do {                                                                       \
        uint64_t ns_ = (ns);                                                   \
        if (ns_ == 0 || !gt_block_begin((call), (uint32_t)(small), ns_)) return (real); \
        int rc_ = (real);                                                      \
        if (rc_ > 0) {                                                         \
            int saved_ = errno;                                                \
            ready;                                                             \
            errno = saved_;                                                    \
        }                                                                      \
        gt_block_end_rc((call), rc_);                                          \
        return rc_;                                                            \
    } while (0)

static void gt_poll_ready(const struct pollfd *fds, nfds_t n) {
    uint64_t now = gtrace_timestamp();
    int noted = 0;
    for (nfds_t i = 0; i < n && noted < GT_READY_MAX; i++) {
        if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
            gt_note_io(GTRACE_WAKER_IO_READY, fds[i].fd, now);
            noted++;
        }
    }
}

static void gt_select_ready(int nfds, const fd_set *r) {
    if (r == NULL) return;
    uint64_t now = gtrace_timestamp();
    int noted = 0;
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE && noted < GT_READY_MAX; fd++) {
        if (FD_ISSET(fd, r)) {
            gt_note_io(GTRACE_WAKER_IO_READY, fd, now);
            noted++;
        }
    }
}

static uint64_t gt_ms_ns(int ms) { return ms < 0 ? GT_NS_INFINITE : (uint64_t)ms * 1000000u; }

static uint64_t gt_tv_ns(const struct timeval *tv) {
    if (tv == NULL) return GT_NS_INFINITE;
    if (tv->tv_sec < 0 || tv->tv_usec < 0) return 0; /* EINVAL: returns at once */
    if ((uint64_t)tv->tv_sec >= UINT64_MAX / 1000000000ull - 1) return UINT64_MAX - 1;
    return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000u;
}

static uint64_t gt_timeout_ns(const struct timespec *ts) { return ts == NULL ? GT_NS_INFINITE : gt_ts_ns(ts); }

GT_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv) {
    GT_NEXT(f, select);
    GT_ENOSYS(f);
    GT_MULTIPLEX_READY(GTRACE_CALL_SELECT, nfds, gt_tv_ns(tv), f(nfds, r, w, e, tv), gt_select_ready(nfds, r));
}

GT_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
                      const sigset_t *mask) {
    GT_NEXT(f, pselect);
    GT_ENOSYS(f);
    GT_MULTIPLEX_READY(GTRACE_CALL_PSELECT, nfds, gt_timeout_ns(ts), f(nfds, r, w, e, ts, mask), gt_select_ready(nfds, r));
}

GT_EXPORT int poll(struct pollfd *fds, nfds_t nfds, int ms) {
    GT_NEXT(f, poll);
    GT_ENOSYS(f);
    GT_MULTIPLEX_READY(GTRACE_CALL_POLL, nfds, gt_ms_ns(ms), f(fds, nfds, ms), gt_poll_ready(fds, nfds));
}

GT_EXPORT int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *ts, const sigset_t *mask) {
    GT_NEXT(f, ppoll);
    GT_ENOSYS(f);
    GT_MULTIPLEX_READY(GTRACE_CALL_PPOLL, nfds, gt_timeout_ns(ts), f(fds, nfds, ts, mask), gt_poll_ready(fds, nfds));
}

GT_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int maxevents, int ms) {
    GT_NEXT(f, epoll_wait);
    GT_ENOSYS(f);
    GT_MULTIPLEX_READY(GTRACE_CALL_EPOLL_WAIT, maxevents, gt_ms_ns(ms), f(epfd, ev, maxevents, ms), gt_epoll_ready(epfd, ev, rc_));
}

GT_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int maxevents, int ms, const sigset_t *mask) {
    GT_NEXT(f, epoll_pwait);
    GT_ENOSYS(f);
    GT_MULTIPLEX_READY(GTRACE_CALL_EPOLL_PWAIT, maxevents, gt_ms_ns(ms), f(epfd, ev, maxevents, ms, mask), gt_epoll_ready(epfd, ev, rc_));
}

/* ---- I/O (hot) -------------------------------------------------------------
 * No lock, no malloc, no syscall beyond the real one unless the call was
 * slow. Before gt_resolve has run (or inside it) the syscall is made here. */

GT_EXPORT ssize_t read(int fd, void *buf, size_t n) {
    GT_NEXT(f, read);
    if (GT_UNLIKELY(f == NULL)) return syscall(SYS_read, fd, buf, n);
    GT_IO_R(GTRACE_CALL_READ, fd, f(fd, buf, n));
}

GT_EXPORT ssize_t write(int fd, const void *buf, size_t n) {
    GT_NEXT(f, write);
    if (GT_UNLIKELY(f == NULL)) return syscall(SYS_write, fd, buf, n);
    GT_IO_W(GTRACE_CALL_WRITE, fd, f(fd, buf, n));
}

GT_EXPORT ssize_t readv(int fd, const struct iovec *iov, int n) {
    GT_NEXT(f, readv);
    if (GT_UNLIKELY(f == NULL)) return syscall(SYS_readv, fd, iov, n);
    GT_IO_R(GTRACE_CALL_READV, fd, f(fd, iov, n));
}

GT_EXPORT ssize_t writev(int fd, const struct iovec *iov, int n) {
    GT_NEXT(f, writev);
    if (GT_UNLIKELY(f == NULL)) return syscall(SYS_writev, fd, iov, n);
    GT_IO_W(GTRACE_CALL_WRITEV, fd, f(fd, iov, n));
}

/* glibc declares the sockaddr arguments as transparent unions (_GNU_SOURCE). */
GT_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags) {
    GT_NEXT(f, recv);
    if (GT_UNLIKELY(f == NULL)) return syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL);
    GT_IO_R(GTRACE_CALL_RECV, fd, f(fd, buf, n, flags));
}

GT_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags) {
    GT_NEXT(f, send);
    if (GT_UNLIKELY(f == NULL)) return syscall(SYS_sendto, fd, buf, n, flags, NULL, 0);
    GT_IO_W(GTRACE_CALL_SEND, fd, f(fd, buf, n, flags));
}

GT_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, __SOCKADDR_ARG addr, socklen_t *len) {
    GT_NEXT(f, recvfrom);
    if (GT_UNLIKELY(f == NULL)) return syscall(SYS_recvfrom, fd, buf, n, flags, addr.__sockaddr__, len);
    GT_IO_R(GTRACE_CALL_RECVFROM, fd, f(fd, buf, n, flags, addr.__sockaddr__, len));
}

GT_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, __CONST_SOCKADDR_ARG addr,
                         socklen_t len) {
    GT_NEXT(f, sendto);
    if (GT_UNLIKELY(f == NULL)) return syscall(SYS_sendto, fd, buf, n, flags, addr.__sockaddr__, len);
    GT_IO_W(GTRACE_CALL_SENDTO, fd, f(fd, buf, n, flags, addr.__sockaddr__, len));
}

GT_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
    GT_NEXT(f, recvmsg);
    if (GT_UNLIKELY(f == NULL)) return syscall(SYS_recvmsg, fd, msg, flags);
    GT_IO_R(GTRACE_CALL_RECVMSG, fd, f(fd, msg, flags));
}

GT_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
    GT_NEXT(f, sendmsg);
    if (GT_UNLIKELY(f == NULL)) return syscall(SYS_sendmsg, fd, msg, flags);
    GT_IO_W(GTRACE_CALL_SENDMSG, fd, f(fd, msg, flags));
}

GT_EXPORT int accept(int fd, __SOCKADDR_ARG addr, socklen_t *len) {
    GT_NEXT(f, accept);
    if (GT_UNLIKELY(f == NULL)) return (int)syscall(SYS_accept, fd, addr.__sockaddr__, len);
    GT_IO(GTRACE_CALL_ACCEPT, fd, f(fd, addr.__sockaddr__, len));
}

GT_EXPORT int accept4(int fd, __SOCKADDR_ARG addr, socklen_t *len, int flags) {
    GT_NEXT(f, accept4);
    if (GT_UNLIKELY(f == NULL)) return (int)syscall(SYS_accept4, fd, addr.__sockaddr__, len, flags);
    GT_IO(GTRACE_CALL_ACCEPT4, fd, f(fd, addr.__sockaddr__, len, flags));
}

GT_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len) {
    GT_NEXT(f, connect);
    if (GT_UNLIKELY(f == NULL)) return (int)syscall(SYS_connect, fd, addr.__sockaddr__, len);
    GT_IO(GTRACE_CALL_CONNECT, fd, f(fd, addr.__sockaddr__, len));
}
