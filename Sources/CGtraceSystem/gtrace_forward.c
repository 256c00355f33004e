/* Forwarding of SIGTERM and SIGHUP sent to `gtrace record` to the traced tree.
 *
 * While the command runs, they go to it. Once it has exited, background
 * processes it left may still run (a daemon, `job &` in a shell): they were
 * reparented to the recorder, its child subreaper, and the signal goes to each
 * of them instead of to the dead command's pid, which the kernel may have
 * given to an unrelated process meanwhile (RELIABILITY.md item 9).
 *
 * The handler lists the recorder's children from /proc/self/task/<tid>/children
 * with raw system calls and stack buffers only: it is async-signal-safe. */
#define _GNU_SOURCE
#include "gtrace_system.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static pid_t forward_root;          /* the command while it runs; 0 once reaped */
static int forward_installed[8];
static int forward_count;

/* Sends `sig` to every pid listed in one task's children file. */
static void signal_children_of_task(const char *tid, int sig) {
    char path[64] = "/proc/self/task/";
    size_t used = strlen(path), length = strlen(tid);
    if (used + length + sizeof "/children" > sizeof path) return;
    memcpy(path + used, tid, length);
    memcpy(path + used + length, "/children", sizeof "/children");
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buffer[4096];
    long pid = 0;
    int digits = 0;
    for (;;) {
        long n = syscall(SYS_read, fd, buffer, sizeof buffer);
        if (n <= 0) break;
        for (long i = 0; i < n; i++) {
            if (buffer[i] >= '0' && buffer[i] <= '9') {
                pid = pid * 10 + (buffer[i] - '0');
                digits++;
            } else {
                if (digits > 0 && pid > 0) syscall(SYS_kill, (pid_t)pid, sig);
                pid = 0;
                digits = 0;
            }
        }
    }
    if (digits > 0 && pid > 0) syscall(SYS_kill, (pid_t)pid, sig);
    syscall(SYS_close, fd);
}

struct linux_dirent64 {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static void signal_children(int sig) {
    int dir = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return;
    char buffer[4096];
    for (;;) {
        long n = syscall(SYS_getdents64, dir, buffer, sizeof buffer);
        if (n <= 0) break;
        for (long offset = 0; offset < n;) {
            struct linux_dirent64 *entry = (struct linux_dirent64 *)(buffer + offset);
            if (entry->d_name[0] >= '0' && entry->d_name[0] <= '9') signal_children_of_task(entry->d_name, sig);
            offset += entry->d_reclen;
        }
    }
    syscall(SYS_close, dir);
}

static void forward(int sig) {
    int saved = errno;
    pid_t root = __atomic_load_n(&forward_root, __ATOMIC_ACQUIRE);
    if (root > 0) syscall(SYS_kill, root, sig);
    else signal_children(sig);
    errno = saved;
}

void gtrace_forward_install(pid_t root, const int *signals, int count) {
    __atomic_store_n(&forward_root, root, __ATOMIC_RELEASE);
    forward_count = 0;
    for (int i = 0; i < count && forward_count < (int)(sizeof forward_installed / sizeof *forward_installed); i++) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = forward;
        action.sa_flags = SA_RESTART;
        sigemptyset(&action.sa_mask);
        if (sigaction(signals[i], &action, NULL) == 0) forward_installed[forward_count++] = signals[i];
    }
}

void gtrace_forward_root_reaped(void) { __atomic_store_n(&forward_root, 0, __ATOMIC_RELEASE); }

void gtrace_forward_uninstall(void) {
    for (int i = 0; i < forward_count; i++) signal(forward_installed[i], SIG_DFL);
    forward_count = 0;
    __atomic_store_n(&forward_root, 0, __ATOMIC_RELEASE);
}
