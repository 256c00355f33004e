/* gtrace runtime: the two ends of a TCP or UDP connection between processes
 * of this machine as one I/O object.
 *
 * A pipe's two ends are one inode, so a write to it and a read blocked on it
 * name one object (wakers.c). The two ends of a loopback TCP connection are
 * two sockets, two inodes: a client's recv could not be tied to the server's
 * send, and the replay kept every such wait as recorded (a local HTTP server
 * and its clients: 2.5 s of waits without a waker). A connected IP socket is
 * named here by its connection instead: the two (address, port) pairs, in
 * an order both ends agree on, hashed. Asked once per descriptor, when
 * wakers.c first identifies it (two syscalls); listening and unconnected
 * sockets, and other families, keep their inode. */
#include "gtrace_runtime.h"

#include <errno.h>
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

int gt_connection_object(int fd, uint64_t *ino, uint64_t *dev) {
    struct sockaddr_storage local, peer;
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    memset(&local, 0, sizeof local);
    memset(&peer, 0, sizeof peer);
    int saved = errno;
    int named = syscall(SYS_getsockname, fd, &local, &local_len) == 0
        && syscall(SYS_getpeername, fd, &peer, &peer_len) == 0;  /* else not connected */
    errno = saved;
    if (!named) return 0;
    uint64_t a = gt_endpoint_hash(&local), b = gt_endpoint_hash(&peer);
    if (a == 0 || b == 0) return 0;
    *ino = gt_mix(a < b ? a : b, a < b ? b : a);
    *dev = GT_CONNECTION_DEV;
    return 1;
}
