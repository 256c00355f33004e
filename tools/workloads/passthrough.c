/*
 * passthrough — one small program whose modes check that `gtrace record`
 * passes exit status, signals, stdin/stdout/stderr, fork and threads
 * through unchanged. Prints nothing unless the mode says so.
 *
 *   passthrough exit N      2 threads x 100 lock/unlock pairs, then exit(N)
 *   passthrough return N    same, then return N from main
 *   passthrough _exit N     same, then _exit(N)
 *   passthrough signal SIG  same, then raise(SIG) with the default action
 *                           (SIG: number, TERM or SIGTERM; SIGTERM -> shell sees 143)
 *   passthrough cat         copy stdin to stdout byte-exact (read/write), exit 0
 *   passthrough stderr      write "passthrough: to stderr\n" to stderr, exit 0
 *   passthrough sigkill N   N lock/unlock pairs on the main thread, print "done N",
 *                           fflush, then kill(getpid(), SIGKILL) (shell sees 137)
 *   passthrough fork        fork one child that does 10 pairs and exits 5;
 *                           the parent waits and exits with the child's status
 *   passthrough threads N   N threads named "worker-<i>" (i = 0..N-1), 100 pairs each
 *                           on one shared mutex; worker N-1 ends with pthread_exit,
 *                           the others return; all joined; exit 0
 * Bad arguments: usage on stderr, exit 64.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAIRS_PER_THREAD 100

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

static void usage(void) {
    fprintf(stderr,
            "usage: passthrough exit N | return N | _exit N | signal SIG | cat | stderr |\n"
            "                   sigkill N | fork | threads N\n");
    exit(64);
}

static long parse_long(const char *s, long min, long max) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) usage();
    return v;
}

static void lock_pairs(long n) {
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&shared_lock);
        pthread_mutex_unlock(&shared_lock);
    }
}

static void *pairs_thread(void *arg) {
    (void)arg;
    lock_pairs(PAIRS_PER_THREAD);
    return NULL;
}

/* Two threads doing PAIRS_PER_THREAD pairs each on shared_lock, joined. */
static void two_thread_pairs(void) {
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, pairs_thread, NULL)) {
            fprintf(stderr, "passthrough: pthread_create failed\n");
            exit(1);
        }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
}

static int parse_signal(const char *s) {
    if (s[0] >= '0' && s[0] <= '9') return (int)parse_long(s, 1, SIGRTMAX);
    if (strncmp(s, "SIG", 3) == 0) s += 3;
    static const struct { const char *name; int sig; } names[] = {
        {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ILL", SIGILL},
        {"TRAP", SIGTRAP}, {"ABRT", SIGABRT}, {"BUS", SIGBUS},   {"FPE", SIGFPE},
        {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"SEGV", SIGSEGV}, {"USR2", SIGUSR2},
        {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) return names[i].sig;
    usage();
    return 0;
}

static int copy_stdin(void) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            return 1;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR) continue;
                return 1;
            }
            off += w;
        }
    }
}

struct named_worker {
    pthread_t thread;
    int index, last;
};

static void *named_thread(void *arg) {
    struct named_worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "worker-%d", w->index);
    pthread_setname_np(pthread_self(), name);
    lock_pairs(PAIRS_PER_THREAD);
    if (w->last) pthread_exit(NULL);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    const char *mode = argv[1];
    const char *arg = argc > 2 ? argv[2] : NULL;
    int want_arg = strcmp(mode, "cat") != 0 && strcmp(mode, "stderr") != 0 && strcmp(mode, "fork") != 0;
    if (argc != (want_arg ? 3 : 2)) usage();

    if (strcmp(mode, "exit") == 0) {
        int n = (int)parse_long(arg, 0, 255);
        two_thread_pairs();
        exit(n);
    } else if (strcmp(mode, "return") == 0) {
        int n = (int)parse_long(arg, 0, 255);
        two_thread_pairs();
        return n;
    } else if (strcmp(mode, "_exit") == 0) {
        int n = (int)parse_long(arg, 0, 255);
        two_thread_pairs();
        _exit(n);
    } else if (strcmp(mode, "signal") == 0) {
        int sig = parse_signal(arg);
        two_thread_pairs();
        signal(sig, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        raise(sig);
        return 1; /* only reached if the signal's default action is to ignore it */
    } else if (strcmp(mode, "cat") == 0) {
        return copy_stdin();
    } else if (strcmp(mode, "stderr") == 0) {
        static const char line[] = "passthrough: to stderr\n";
        return write(2, line, sizeof line - 1) == (ssize_t)(sizeof line - 1) ? 0 : 1;
    } else if (strcmp(mode, "sigkill") == 0) {
        long n = parse_long(arg, 0, LONG_MAX);
        lock_pairs(n);
        printf("done %ld\n", n);
        fflush(stdout);
        kill(getpid(), SIGKILL);
        return 1;
    } else if (strcmp(mode, "fork") == 0) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            perror("passthrough: fork");
            return 1;
        }
        if (pid == 0) {
            lock_pairs(10);
            exit(5);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
            if (errno != EINTR) {
                perror("passthrough: waitpid");
                return 1;
            }
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
        return 1;
    } else if (strcmp(mode, "threads") == 0) {
        int n = (int)parse_long(arg, 1, 4096);
        struct named_worker *w = calloc((size_t)n, sizeof *w);
        if (!w) return 1;
        for (int i = 0; i < n; i++) {
            w[i].index = i;
            w[i].last = i == n - 1;
            if (pthread_create(&w[i].thread, NULL, named_thread, &w[i])) {
                fprintf(stderr, "passthrough: pthread_create failed\n");
                return 1;
            }
        }
        for (int i = 0; i < n; i++) pthread_join(w[i].thread, NULL);
        free(w);
        return 0;
    }
    usage();
    return 64;
}
