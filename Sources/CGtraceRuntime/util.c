/*
 * util.c — tiny helpers that avoid stdio and malloc.
 */
#include "gtrace_runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static __thread int gt_next_resolving;

void *gt_next_symbol(void **slot, const char *name) {
    void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (p == NULL && !gt_next_resolving) {
        gt_next_resolving = 1;
        p = dlsym(RTLD_NEXT, name);
        gt_next_resolving = 0;
        __atomic_store_n(slot, p, __ATOMIC_RELEASE);
    }
    return p;
}

size_t gt_strlen(const char *s) {
    size_t n = 0;
    if (s == NULL) return 0;
    while (s[n] != '\0') n++;
    return n;
}

/* Append s at p (bounded by end, NUL kept inside); returns the new end of string. */
char *gt_put_str(char *p, char *end, const char *s) {
    while (*s != '\0' && p + 1 < end) *p++ = *s++;
    if (p < end) *p = '\0';
    return p;
}

char *gt_put_u64(char *p, char *end, uint64_t v) {
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0 && p + 1 < end) *p++ = tmp[--n];
    if (p < end) *p = '\0';
    return p;
}

/* Not read()/write(): those are our recording wrappers (blocking.c). */
ssize_t gt_sys_read(int fd, void *buf, size_t len) { return syscall(SYS_read, fd, buf, len); }

ssize_t gt_sys_write(int fd, const void *buf, size_t len) { return syscall(SYS_write, fd, buf, len); }

/* "<session>/<pid>": how every session file name starts. Returns the end of the string. */
char *gt_put_session_prefix(char *p, char *end, uint32_t pid) {
    p = gt_put_str(p, end, gt_session);
    p = gt_put_str(p, end, "/");
    return gt_put_u64(p, end, pid);
}

int gt_write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t w = gt_sys_write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (w == 0) return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

uint64_t gt_clock_ns(int clock) {
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

char gt_drop_name[80];
size_t gt_session_root_len;

int gt_session_use_drop(int err) {
    if (err != EACCES && err != EPERM) return 0;
    if (gt_session_len > gt_session_root_len) return 0; /* already there: no further retry */
    size_t n = gt_strlen(gt_drop_name);
    if (n == 0 || gt_session_root_len == 0 || gt_session_root_len + n + 2 + 128 > GT_PATH_MAX) return 0;
    /* Other threads may be building a path from gt_session: the name goes
     * after the NUL first, then one byte turns the NUL into the '/'. */
    for (size_t i = 0; i <= n; i++) gt_session[gt_session_root_len + 1 + i] = gt_drop_name[i];
    __atomic_store_n(&gt_session[gt_session_root_len], '/', __ATOMIC_RELEASE);
    gt_session_len = gt_session_root_len + 1 + n;
    return 1;
}

long gt_session_open_append(uint32_t pid, const char *suffix) {
    for (int attempt = 0; attempt < 2; attempt++) {
        char path[GT_PATH_MAX + 64];
        char *end = path + sizeof path;
        gt_put_str(gt_put_session_prefix(path, end, pid), end, suffix);
        long fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || !gt_session_use_drop(errno)) return fd;
    }
    return -1;
}

void gt_session_append(uint32_t pid, const char *suffix, const void *buf, size_t len) {
    int saved = errno;
    long fd = gt_session_open_append(pid, suffix);
    if (fd >= 0) {
        (void)syscall(SYS_write, (int)fd, buf, len);
        (void)syscall(SYS_close, (int)fd);
    }
    errno = saved;
}

/* One line "<a><b>\n" appended to <session>/<pid>.diag (the recorder turns
 * it into a trace warning); never on the program's fds. errno preserved. */
void gt_diag(const char *a, const char *b) {
    int saved = errno;
    if (gt_session_len == 0) return;
    char line[512];
    char *end = line + sizeof line - 1; /* room for the newline */
    char *p = gt_put_str(line, end, a);
    if (b != NULL) p = gt_put_str(p, end, b);
    *p++ = '\n';
    gt_session_append((uint32_t)syscall(SYS_getpid), ".diag", line, (size_t)(p - line)); /* lines never interleave */
    errno = saved;
}

/* "gtrace: <what> (errno N)". */
void gt_diag_err(const char *what, int err) {
    char num[48];
    char *p = gt_put_str(num, num + sizeof num, " (errno ");
    p = gt_put_u64(p, num + sizeof num, (uint64_t)(err < 0 ? -err : err));
    gt_put_str(p, num + sizeof num, ")");
    gt_diag(what, num);
}
