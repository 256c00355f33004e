/*
 * readiness.c — what ended an event loop's wait: socket pairs and epoll.
 *
 * asyncio's loop sleeps in epoll_wait until a worker thread (to_thread,
 * run_in_executor) writes a byte to the loop's self-pipe, a socketpair. The
 * replay ties a wait to the write that ended it by the object both name
 * (wakers.c, IO_READY and IO_WRITE), but a socket pair's two ends are two
 * inodes, and epoll_wait's ready descriptors were not noted: the loop's wait
 * was kept as recorded ("without a known waker"), and more cores could never
 * shorten it.
 *
 *  - socketpair(): both ends get one identity, the first end's inode, in the
 *    per-descriptor cache of wakers.c (inherited by fork children; an exec'd
 *    program sees each end as its own inode again). One fstat per pair.
 *  - epoll_ctl(): notes, per epoll descriptor, whether every registration's
 *    data was its fd (Python's select.epoll, libuv, Java NIO) or not (mio's
 *    tokens, pointers). Two relaxed loads, and an atomic OR the first time.
 *  - epoll_wait()/epoll_pwait() that blocked and returned events: when the
 *    epoll set's data are fds, the first GT_READY_MAX ready-to-read ones
 *    are noted as IO_READY, as poll's are.
 *  - eventfd_write(): glibc's goes through its internal write; noted as the
 *    IO_WRITE a write() of the eventfd would be.
 *
 * Every wrapper returns what the real call returned, errno intact.
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GT_EPOLL_FDS 4096

/* Per epoll descriptor, one bit each: a registration's data was its fd / was not. */
static uint64_t gt_epoll_data_fd[GT_EPOLL_FDS / 64];
static uint64_t gt_epoll_data_other[GT_EPOLL_FDS / 64];

typedef int (*gt_socketpair_fn)(int, int, int, int[2]);
typedef int (*gt_epoll_ctl_fn)(int, int, int, struct epoll_event *);
typedef int (*gt_eventfd_write_fn)(int, eventfd_t);
static void *gt_socketpair_p, *gt_epoll_ctl_p, *gt_eventfd_write_p;

static void gt_set_bit(uint64_t *bits, int n) {
    uint64_t bit = 1ull << (n % 64);
    if ((__atomic_load_n(&bits[n / 64], __ATOMIC_RELAXED) & bit) == 0)
        __atomic_fetch_or(&bits[n / 64], bit, __ATOMIC_RELAXED);
}

static int gt_bit(const uint64_t *bits, int n) {
    return (__atomic_load_n(&bits[n / 64], __ATOMIC_RELAXED) >> (n % 64)) & 1;
}

GT_EXPORT int socketpair(int domain, int type, int protocol, int sv[2]) {
    gt_socketpair_fn f = (gt_socketpair_fn)gt_next_symbol(&gt_socketpair_p, "socketpair");
    int rc = f != NULL ? f(domain, type, protocol, sv) : (int)syscall(SYS_socketpair, domain, type, protocol, sv);
    if (rc == 0 && gt_active()) {
        int saved = errno;
        /* The smaller inode of the two, as connections.c names a Unix socket
         * by its peer's too (an exec'd program that inherited one end). */
        struct stat st, st1;
        if (syscall(SYS_fstat, sv[0], &st) == 0 && syscall(SYS_fstat, sv[1], &st1) == 0) {
            uint64_t ino = st1.st_ino < st.st_ino ? (uint64_t)st1.st_ino : (uint64_t)st.st_ino;
            gt_io_alias(sv[0], ino, (uint64_t)st.st_dev);
            gt_io_alias(sv[1], ino, (uint64_t)st.st_dev);
        }
        errno = saved;
    }
    return rc;
}

/* glibc's eventfd_write writes through its internal write, which no wrapper
 * sees (Python's os.eventfd_write): the waker of a thread polling the eventfd. */
GT_EXPORT int eventfd_write(int fd, eventfd_t value) {
    gt_eventfd_write_fn f = (gt_eventfd_write_fn)gt_next_symbol(&gt_eventfd_write_p, "eventfd_write");
    uint64_t t0 = gtrace_timestamp();
    int rc = f != NULL ? f(fd, value) : (syscall(SYS_write, fd, &value, sizeof value) == sizeof value ? 0 : -1);
    if (rc == 0 && gt_active()) {
        int saved = errno;
        gt_note_io_bytes(GTRACE_WAKER_IO_WRITE, fd, t0, sizeof value);
        errno = saved;
    }
    return rc;
}

GT_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event) {
    gt_epoll_ctl_fn f = (gt_epoll_ctl_fn)gt_next_symbol(&gt_epoll_ctl_p, "epoll_ctl");
    int rc = f != NULL ? f(epfd, op, fd, event) : (int)syscall(SYS_epoll_ctl, epfd, op, fd, event);
    if (rc == 0 && event != NULL && (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && epfd >= 0 && epfd < GT_EPOLL_FDS)
        gt_set_bit(event->data.fd == fd ? gt_epoll_data_fd : gt_epoll_data_other, epfd);
    return rc;
}

void gt_epoll_ready(int epfd, const void *events, int n) {
    if (epfd < 0 || epfd >= GT_EPOLL_FDS || !gt_bit(gt_epoll_data_fd, epfd) || gt_bit(gt_epoll_data_other, epfd)) return;
    const struct epoll_event *ev = events;
    uint64_t now = gtrace_timestamp();
    int noted = 0;
    for (int i = 0; i < n && noted < GT_READY_MAX; i++) {
        if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
            gt_note_io(GTRACE_WAKER_IO_READY, ev[i].data.fd, now);
            noted++;
        }
    }
}
