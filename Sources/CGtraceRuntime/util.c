/*
 * util.c — tiny helpers that avoid stdio and malloc.
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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

/* One line "gtrace: <a><b>\n" on fd 2; errno preserved. */
void gt_diag(const char *a, const char *b) {
    int saved = errno;
    char line[512];
    char *end = line + sizeof line - 1; /* room for the newline */
    char *p = gt_put_str(line, end, "gtrace: ");
    p = gt_put_str(p, end, a);
    if (b != NULL) p = gt_put_str(p, end, b);
    *p++ = '\n';
    (void)!gt_sys_write(2, line, (size_t)(p - line));
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
