/*
 * exec.c — exec family and posix_spawn: record EXEC (never in a vfork
 * child) and keep LD_PRELOAD (with this library) and every GTRACE_*
 * variable in the environment of the new image, even when the program
 * passes its own environment (subprocess.run(env={})). The new envp array
 * is built on the stack: no malloc (a vfork child shares the parent's heap).
 */
#include "gtrace_runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int gt_env_saved;

#define GT_MAX_SAVED 16
static char gt_env_store[8192];
static const char *gt_saved[GT_MAX_SAVED]; /* "GTRACE_X=value" */
static size_t gt_saved_name_len[GT_MAX_SAVED];
static int gt_nsaved;
static char gt_preload_entry[GT_PATH_MAX + 16]; /* "LD_PRELOAD=..." at start (or ours) */
static char gt_self_path[GT_PATH_MAX];

static const char gt_preload_name[] = "LD_PRELOAD=";
#define GT_PRELOAD_NAME_LEN (sizeof gt_preload_name - 1)

static int gt_starts_with(const char *s, const char *prefix, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != prefix[i]) return 0;
    return 1;
}

static int gt_contains(const char *hay, const char *needle) {
    size_t n = gt_strlen(needle);
    if (n == 0) return 0;
    for (; *hay != '\0'; hay++)
        if (*hay == *needle && gt_starts_with(hay, needle, n)) return 1;
    return 0;
}

/* Constructor: remember what every later exec must carry. */
void gt_env_save(void) {
    Dl_info info;
    if (dladdr((void *)gt_env_save, &info) != 0 && info.dli_fname != NULL)
        gt_put_str(gt_self_path, gt_self_path + sizeof gt_self_path, info.dli_fname);
    char *store = gt_env_store, *store_end = gt_env_store + sizeof gt_env_store;
    for (char **e = environ; e != NULL && *e != NULL; e++) {
        const char *s = *e;
        if (gt_starts_with(s, "GTRACE_", 7) && gt_nsaved < GT_MAX_SAVED) {
            size_t len = gt_strlen(s);
            const char *eq = s;
            while (*eq != '\0' && *eq != '=') eq++;
            if (*eq != '=' || (size_t)(store_end - store) < len + 1) continue;
            gt_put_str(store, store_end, s);
            gt_saved[gt_nsaved] = store;
            gt_saved_name_len[gt_nsaved] = (size_t)(eq - s) + 1; /* with '=' */
            gt_nsaved++;
            store += len + 1;
        } else if (gt_starts_with(s, gt_preload_name, GT_PRELOAD_NAME_LEN)) {
            if (gt_strlen(s) < sizeof gt_preload_entry)
                gt_put_str(gt_preload_entry, gt_preload_entry + sizeof gt_preload_entry, s);
        }
    }
    if (gt_preload_entry[0] == '\0' && gt_self_path[0] != '\0') {
        char *p = gt_put_str(gt_preload_entry, gt_preload_entry + sizeof gt_preload_entry, gt_preload_name);
        gt_put_str(p, gt_preload_entry + sizeof gt_preload_entry, gt_self_path);
    }
    gt_env_saved = 1;
}

struct gt_envfix {
    size_t n;                      /* entries of the original envp */
    int missing[GT_MAX_SAVED];     /* saved GTRACE_* absent from envp */
    int nmissing;
    int preload;                   /* 0 ok, 1 add ours, 2 merge with theirs */
    const char *their_preload;     /* value of their LD_PRELOAD (merge) */
};

/* Bytes of stack the fixed environment needs, or 0 when envp is fine as is. */
static size_t gt_env_need(char *const envp[], struct gt_envfix *fx) {
    memset(fx, 0, sizeof *fx);
    int present[GT_MAX_SAVED] = {0};
    const char *preload = NULL;
    size_t n = 0;
    for (; envp != NULL && envp[n] != NULL; n++) {
        const char *s = envp[n];
        if (s[0] == 'G') {
            for (int i = 0; i < gt_nsaved; i++)
                if (gt_starts_with(s, gt_saved[i], gt_saved_name_len[i])) present[i] = 1;
        } else if (s[0] == 'L' && gt_starts_with(s, gt_preload_name, GT_PRELOAD_NAME_LEN)) {
            preload = s + GT_PRELOAD_NAME_LEN;
        }
    }
    fx->n = n;
    for (int i = 0; i < gt_nsaved; i++)
        if (!present[i]) fx->missing[fx->nmissing++] = i;
    size_t extra = 0;
    if (preload == NULL) {
        if (gt_preload_entry[0] != '\0') fx->preload = 1;
    } else if (gt_self_path[0] != '\0' && !gt_contains(preload, gt_self_path) &&
               !(gt_preload_entry[0] != '\0' &&
                 strcmp(preload, gt_preload_entry + GT_PRELOAD_NAME_LEN) == 0)) {
        fx->preload = 2;
        fx->their_preload = preload;
        extra = GT_PRELOAD_NAME_LEN + gt_strlen(gt_self_path) + 1 + gt_strlen(preload) + 1;
    }
    if (fx->nmissing == 0 && fx->preload == 0) return 0;
    return (n + (size_t)fx->nmissing + 2) * sizeof(char *) + extra;
}

static char **gt_env_build(char *const envp[], const struct gt_envfix *fx, void *mem) {
    char **out = mem;
    char *strings = (char *)(out + fx->n + (size_t)fx->nmissing + 2);
    size_t k = 0;
    for (size_t i = 0; i < fx->n; i++) {
        const char *s = envp[i];
        if (fx->preload == 2 && s[0] == 'L' && gt_starts_with(s, gt_preload_name, GT_PRELOAD_NAME_LEN) &&
            s + GT_PRELOAD_NAME_LEN == fx->their_preload) {
            char *end = strings + GT_PRELOAD_NAME_LEN + gt_strlen(gt_self_path) + 1 +
                        gt_strlen(fx->their_preload) + 1;
            char *p = gt_put_str(strings, end, gt_preload_name);
            p = gt_put_str(p, end, gt_self_path);
            p = gt_put_str(p, end, ":");
            gt_put_str(p, end, fx->their_preload);
            out[k++] = strings;
            continue;
        }
        out[k++] = (char *)s;
    }
    if (fx->preload == 1) out[k++] = gt_preload_entry;
    for (int i = 0; i < fx->nmissing; i++) out[k++] = (char *)gt_saved[fx->missing[i]];
    out[k] = NULL;
    return out;
}

/* alloca must live in the frame that calls the real exec: a macro. */
#define GT_FIX_ENV(envp, out)                                                   \
    do {                                                                        \
        struct gt_envfix fx_;                                                   \
        size_t b_ = gt_env_saved ? gt_env_need((envp), &fx_) : 0;               \
        (out) = b_ != 0 ? gt_env_build((envp), &fx_, __builtin_alloca(b_))      \
                        : (char **)(envp);                                      \
    } while (0)

/* EXEC record: never in a vfork child (it shares the parent's buffers). */
static void gt_on_exec(void) {
    if (!gt_enabled) return;
    int saved = errno;
    if (!gt_in_other_process() && gt_active()) {
        gt_emit(GTRACE_RAW_EXEC, 0, 0, 0, 0);
        gt_emit_clock_sync();
    }
    errno = saved;
}

static int gt_do_execve(const char *path, char *const argv[], char *const envp[]) {
    int (*f)(const char *, char *const[], char *const[]) = GT_REAL(execve);
    gt_on_exec();
    gt_exec_note(0, path, argv);
    char **e;
    GT_FIX_ENV(envp, e);
    return f(path, argv, e);
}

static int gt_do_execvpe(const char *file, char *const argv[], char *const envp[]) {
    int (*f)(const char *, char *const[], char *const[]) = GT_REAL(execvpe);
    gt_on_exec();
    gt_exec_note(0, file, argv);
    char **e;
    GT_FIX_ENV(envp, e);
    return f(file, argv, e);
}

GT_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
    return gt_do_execve(path, argv, envp);
}

GT_EXPORT int execv(const char *path, char *const argv[]) { return gt_do_execve(path, argv, environ); }

GT_EXPORT int execvp(const char *file, char *const argv[]) { return gt_do_execvpe(file, argv, environ); }

GT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
    return gt_do_execvpe(file, argv, envp);
}

GT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
    int (*f)(int, char *const[], char *const[]) = GT_REAL(fexecve);
    gt_on_exec();
    gt_exec_note(0, argv[0], argv);
    char **e;
    GT_FIX_ENV(envp, e);
    return f(fd, argv, e);
}

/* execl*: collect the variadic arguments into a stack argv. */
#define GT_COLLECT_ARGS(arg, ap, argv, envp_out, want_env)                 \
    do {                                                                   \
        size_t n_ = 1;                                                     \
        va_start(ap, arg);                                                 \
        while (va_arg(ap, const char *) != NULL) n_++;                     \
        va_end(ap);                                                        \
        argv = __builtin_alloca((n_ + 1) * sizeof(char *));                \
        va_start(ap, arg);                                                 \
        argv[0] = (char *)arg;                                             \
        for (size_t i_ = 1; i_ <= n_; i_++) argv[i_] = va_arg(ap, char *); \
        envp_out = (want_env) ? va_arg(ap, char **) : NULL;                \
        va_end(ap);                                                        \
    } while (0)

GT_EXPORT int execl(const char *path, const char *arg, ...) {
    va_list ap;
    char **argv, **envp;
    GT_COLLECT_ARGS(arg, ap, argv, envp, 0);
    (void)envp;
    return gt_do_execve(path, argv, environ);
}

GT_EXPORT int execlp(const char *file, const char *arg, ...) {
    va_list ap;
    char **argv, **envp;
    GT_COLLECT_ARGS(arg, ap, argv, envp, 0);
    (void)envp;
    return gt_do_execvpe(file, argv, environ);
}

GT_EXPORT int execle(const char *path, const char *arg, ...) {
    va_list ap;
    char **argv, **envp;
    GT_COLLECT_ARGS(arg, ap, argv, envp, 1); /* envp follows the NULL */
    return gt_do_execve(path, argv, envp);
}

/* A failed posix_spawn's child (SPAWN_FAILED): its end is nowhere else. */
static void gt_spawn_failed(uint64_t start, int error) {
    if (!gt_active()) return;
    int saved = errno;
    gt_emit(GTRACE_RAW_SPAWN_FAILED, 0, (uint32_t)error, start, 0);
    errno = saved;
}

/* posix_spawn: the child execs inside glibc (never reaching our code), so
 * only the environment is fixed here. */
GT_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
    int (*f)(pid_t *, const char *, const void *, const void *, char *const[], char *const[]) =
        GT_REAL(posix_spawn);
    char **e;
    GT_FIX_ENV(envp, e);
    uint64_t start = gtrace_timestamp();
    int rc = f(pid, path, fa, attr, argv, e);
    if (rc == 0 && pid != NULL) gt_exec_note((uint32_t)*pid, path, argv);
    else if (rc != 0) gt_spawn_failed(start, rc);
    return rc;
}

GT_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
    int (*f)(pid_t *, const char *, const void *, const void *, char *const[], char *const[]) =
        GT_REAL(posix_spawnp);
    char **e;
    GT_FIX_ENV(envp, e);
    uint64_t start = gtrace_timestamp();
    int rc = f(pid, file, fa, attr, argv, e);
    if (rc == 0 && pid != NULL) gt_exec_note((uint32_t)*pid, file, argv);
    else if (rc != 0) gt_spawn_failed(start, rc);
    return rc;
}
