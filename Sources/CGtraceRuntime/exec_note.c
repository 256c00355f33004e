/*
 * exec_note.c — what each exec was asked to run, so that a program the
 * runtime cannot enter (static, setuid) still has a name and argv in the
 * trace. Appended to `<session>/<pid>.exec` as meta entries of kind
 * GTRACE_META_EXEC: {u32 kind, u32 length, u64 tsc, path NUL, argv[i] NUL...}.
 *
 * Called just before an exec, possibly in a vfork child that shares the
 * parent's memory: stack buffer and raw syscalls only (no malloc, no wrapped
 * libc I/O, no recording).
 */
#include "gtrace_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GT_EXEC_NOTE_BYTES 4096u

static uint32_t gt_append(char *buf, uint32_t at, const char *s) {
    if (s == NULL) return at;
    while (*s != '\0' && at + 1 < GT_EXEC_NOTE_BYTES) buf[at++] = *s++;
    if (at < GT_EXEC_NOTE_BYTES) buf[at++] = '\0';
    return at;
}

void gt_exec_note(uint32_t pid, const char *path, char *const argv[]) {
    if (!gt_enabled || gt_session_len == 0) return;
    int saved = errno;
    char buf[GT_EXEC_NOTE_BYTES];
    uint32_t kind = GTRACE_META_EXEC;
    uint64_t tsc = gtrace_timestamp();
    uint32_t at = 16;
    __builtin_memcpy(buf + 8, &tsc, 8);
    at = gt_append(buf, at, path);
    for (size_t i = 0; argv != NULL && argv[i] != NULL && at + 1 < GT_EXEC_NOTE_BYTES; i++) at = gt_append(buf, at, argv[i]);
    uint32_t length = at - 8;
    __builtin_memcpy(buf, &kind, 4);
    __builtin_memcpy(buf + 4, &length, 4);

    if (pid == 0) pid = (uint32_t)syscall(SYS_getpid);
    /* One write (in the drop box if the uid changed before this exec): appends of
     * one note never interleave with another's. */
    gt_session_append(pid, ".exec", buf, at);
    errno = saved;
}
