/* gtrace runtime: the two ends of a connected socket (TCP, UDP, Unix) between
 * processes of this machine as one I/O object.
 *
 * A pipe's two ends are one inode, so a write to it and a read blocked on it
 * name one object (wakers.c). The two ends of a loopback TCP connection are
 * two sockets, two inodes: a client's recv could not be tied to the server's
 * send, and the replay kept every such wait as recorded (a local HTTP server
 * and its clients: 2.5 s of waits without a waker). A connected IP socket is
 * named here by its connection instead: the two (address, port) pairs, in
 * an order both ends agree on, hashed. A connected Unix socket is named by
 * the smaller of its inode and its peer's (multiprocessing's managers and
 * Listener/Client), which the kernel's sock_diag gives. Asked once per
 * descriptor, when wakers.c first identifies it (two syscalls; four more for
 * a Unix socket); listening and unconnected sockets keep their inode. */
#include "gtrace_runtime.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A dev no filesystem has (st_dev is a 32-bit kernel encoding; wakers.c keeps
 * an IO_WRITE's bytes above it). */
#define GT_CONNECTION_DEV 0xfffffff0u

static uint64_t gt_mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

/* One end's (family, address, port) as a hash; 0 when not IPv4 or IPv6. */
static uint64_t gt_endpoint_hash(const struct sockaddr_storage *s) {
    if (s->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)s;
        return gt_mix(gt_mix(4, in->sin_addr.s_addr), in->sin_port) | 1;
    }
    if (s->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)s;
        uint64_t words[2];
        memcpy(words, &in6->sin6_addr, sizeof words);
        return gt_mix(gt_mix(gt_mix(6, words[0]), words[1]), in6->sin6_port) | 1;
    }
    return 0;
}

/* The inode of the socket at the other end of Unix socket `ino`, asked of the
 * kernel's sock_diag (what `ss -x` shows); 0 when unknown (no peer, or a
 * kernel without unix_diag). Raw syscalls: the runtime's own wrappers of
 * sendto and recvfrom must not see them. */
static uint64_t gt_unix_peer(uint64_t ino) {
    int s = (int)syscall(SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (s < 0) return 0;
    struct {
        struct nlmsghdr header;
        struct unix_diag_req request;
    } ask;
    memset(&ask, 0, sizeof ask);
    ask.header.nlmsg_len = sizeof ask;
    ask.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    ask.header.nlmsg_flags = NLM_F_REQUEST;
    ask.request.sdiag_family = AF_UNIX;
    ask.request.udiag_states = ~0u;
    ask.request.udiag_ino = (uint32_t)ino;
    ask.request.udiag_show = UDIAG_SHOW_PEER;
    ask.request.udiag_cookie[0] = ask.request.udiag_cookie[1] = ~0u; /* any socket of that inode */
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof kernel);
    kernel.nl_family = AF_NETLINK;
    uint64_t peer = 0;
    union {
        struct nlmsghdr header;
        char bytes[512];
    } answer;
    if (syscall(SYS_sendto, s, &ask, sizeof ask, 0, &kernel, sizeof kernel) == (long)sizeof ask) {
        long n = syscall(SYS_recvfrom, s, &answer, sizeof answer, 0, NULL, NULL);
        struct nlmsghdr *h = &answer.header;
        if (n > 0 && NLMSG_OK(h, (unsigned long)n) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
            struct unix_diag_msg *m = NLMSG_DATA(h);
            long left = (long)h->nlmsg_len - (long)NLMSG_LENGTH(sizeof *m);
            struct rtattr *a = (struct rtattr *)(m + 1);
            for (; left > 0 && RTA_OK(a, left); a = RTA_NEXT(a, left)) {
                if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
                    uint32_t v;
                    memcpy(&v, RTA_DATA(a), sizeof v);
                    peer = v;
                }
            }
        }
    }
    syscall(SYS_close, s);
    return peer;
}

int gt_connection_object(int fd, uint64_t *ino, uint64_t *dev) {
    struct sockaddr_storage local, peer;
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    memset(&local, 0, sizeof local);
    memset(&peer, 0, sizeof peer);
    int saved = errno;
    int named = syscall(SYS_getsockname, fd, &local, &local_len) == 0;
    if (named && local.ss_family == AF_UNIX) {
        /* Both ends are sockets of one filesystem (sockfs): the smaller inode names both. */
        uint64_t other = gt_unix_peer(*ino);
        errno = saved;
        if (other == 0) return 0;
        if (other < *ino) *ino = other;
        return 1;
    }
    named = named && syscall(SYS_getpeername, fd, &peer, &peer_len) == 0;  /* else not connected */
    errno = saved;
    if (!named) return 0;
    uint64_t a = gt_endpoint_hash(&local), b = gt_endpoint_hash(&peer);
    if (a == 0 || b == 0) return 0;
    *ino = gt_mix(a < b ? a : b, a < b ? b : a);
    *dev = GT_CONNECTION_DEV;
    return 1;
}
