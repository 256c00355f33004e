/*
 * gil.c — CPython's GIL, exactly.
 *
 * CPython (3.8–3.15, default build) keeps its GIL in a
 * `struct _gil_runtime_state` inside `_PyRuntime` (exported in .dynsym by the
 * shared libpython and by Debian's statically linked python3.11):
 *   interval +0 (µs), last_holder +8, locked +16 (int), switch_number +24,
 *   cond +32, mutex +80, switch_cond +120, switch_mutex +168; 208 bytes.
 * It is located two independent ways (docs/RECORDING.md, "The GIL"):
 *   1. layout: this version's known offset of the struct in _PyRuntime;
 *   2. pattern: create_gil() initialises gil->mutex first; the first mutex
 *      initialised inside _PyRuntime whose `interval` (mutex − 80) reads a
 *      plausible interval and whose `locked` (mutex − 64) reads −1/0/1.
 * When both are known and disagree, nothing is traced (a wrong GIL is worse
 * than none) and GIL_INFO says so.
 *
 * Events, derived inside the GIL mutex's own lock/unlock (while owning it):
 *   lock by a thread that neither holds nor already asked → GIL_WAIT
 *   unlock with locked == 1 by a thread not yet holder, while no other
 *     thread holds it                                   → GIL_ACQUIRE
 *   unlock with locked == 0 by the holder               → GIL_RELEASE
 * "No other thread holds it" is confirmed, not inferred from the unlock: a
 * daemon thread that must exit at finalisation unlocks gil->mutex inside
 * take_gil while another thread holds the GIL (locked == 1), then exits. The
 * runtime keeps the holding thread of each GIL (and CPython's last_holder
 * when it took it), updated only while owning gil->mutex; an unlock by a
 * non-holder while that thread still holds it (and last_holder still names
 * it) is that exit path, not an acquisition.
 * The GIL's mutexes and conditions produce no generic lock records.
 */
#include "gtrace_runtime.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

__asm__(".symver gt_gil_real_lock, __pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver gt_gil_real_unlock, __pthread_mutex_unlock@GLIBC_2.2.5");
__asm__(".symver gt_gil_real_trylock, __pthread_mutex_trylock@GLIBC_2.2.5");
extern int gt_gil_real_lock(pthread_mutex_t *);
extern int gt_gil_real_unlock(pthread_mutex_t *);
extern int gt_gil_real_trylock(pthread_mutex_t *);

uintptr_t gt_gil_base;            /* the main interpreter's traced GIL (0: none) */
int gt_gil_extra_count;           /* slots 1.. of gt_gils ever used */
static uintptr_t gt_py_runtime;   /* &_PyRuntime (0: not CPython) */
static size_t gt_py_runtime_size;
static uint32_t gt_py_version;    /* PY_VERSION_HEX */
static uintptr_t gt_gil_located;  /* main GIL found (traced or not) */
static uint16_t gt_gil_status;
/* Waiters sample the GIL holder between 1 ms slices of their timed wait only
 * when GTRACE_PY_SAMPLES is set: the slices cost the waiting threads CPU time
 * (a wake-up per millisecond), which the GIL truth tests measured as a change
 * of the program (holding < 97% of thread CPU). Off by default. */
static int gt_gil_sampling;

/* Traced GILs: slot 0 the main interpreter's, slots 1.. subinterpreters with
 * their own GIL (3.12+). A slot's base is 0 once its GIL was destroyed. The
 * slot number is the GIL's index in GIL_INFO/GIL_STATS and its bit in the
 * per-thread gil_held / gil_waiting masks. */
#define GT_MAX_GILS 8
static uintptr_t gt_gils[GT_MAX_GILS];
/* Per GIL: the holding thread (&gt_tls: the same after fork, unlike the tid),
 * 0 when none; and gil->last_holder (its tstate) read when it took the GIL. */
static uintptr_t gt_gil_holder[GT_MAX_GILS];
static uintptr_t gt_gil_holder_tstate[GT_MAX_GILS];
/* Per GIL: the thread of the latest acquisition, and how many acquisitions
 * changed CPython's last_holder (the thread state) without a change of thread.
 * switch_number counts every change of thread state: a thread that runs in
 * several interpreters sharing the GIL (subinterpreters without their own GIL)
 * changes it on its own. Written only while owning gil->mutex. */
static uintptr_t gt_gil_last_thread[GT_MAX_GILS];
static uint64_t gt_gil_same_thread_switches[GT_MAX_GILS];
/* ... and acquisitions by another thread that CPython did not count: the new
 * holder's thread state sits at the address of the previous one's (a thread
 * state freed and its memory reused, as 3.12 does for each entry into a
 * subinterpreter that shares the GIL). */
static uint64_t gt_gil_reused_tstates[GT_MAX_GILS];

/* Offset of the GIL state in _PyRuntime per minor version (x86-64, default
 * build). 3.8–3.11: `offsetof(_PyRuntimeState, ceval.gil)`, computed from each
 * version's internal headers (pycore_runtime.h / pycore_pystate.h with
 * Py_BUILD_CORE); 3.12–3.13: the main interpreter's `_gil`, stored inline in
 * _PyRuntime (from RECORDING-FACTS, confirmed by the pattern on 3.12.1/3.13.0);
 * 3.14–3.15: found by the pattern on 3.14.10/3.15.2 (Debian sid), whose
 * _Py_DebugOffsets put `locked` at +16 and `last_holder` at +8 of `_gil`, as
 * this file assumes; CPython's switch_number matched the recorded hand-offs. */
static const struct { uint8_t minor; uint32_t offset; } gt_gil_layouts[] = {
    {8, 1152}, {9, 352}, {10, 352}, {11, 360}, {12, 77432}, {13, 96104}, {14, 98536}, {15, 128064},
};

static uint32_t gt_parse_version(const char *v) {
    uint32_t part[3] = {0, 0, 0};
    int i = 0;
    for (; *v != '\0' && i < 3; v++) {
        if (*v >= '0' && *v <= '9') part[i] = part[i] * 10 + (uint32_t)(*v - '0');
        else if (*v == '.') i++;
        else break;
    }
    return part[0] << 24 | part[1] << 16 | part[2] << 8 | 0xf0;
}

void gt_gil_init(void) {
    void *rt = dlsym(RTLD_DEFAULT, "_PyRuntime");
    if (rt == NULL) return; /* not CPython: the whole cost */
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (dladdr1(rt, &info, (void **)&sym, RTLD_DL_SYMENT) == 0 || sym == NULL || sym->st_size == 0) return;
    const char *(*get)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "Py_GetVersion");
    if (get == NULL) return;
    const char *version = get(); /* a static string, safe before Py_Initialize */
    const unsigned long *hex = dlsym(RTLD_DEFAULT, "Py_Version");
    gt_py_version = hex != NULL ? (uint32_t)*hex : gt_parse_version(version);
    gt_py_runtime_size = sym->st_size;
    /* A free-threaded build says so in its version ("… experimental
     * free-threading build …"): it runs without the GIL (untested here: no
     * such build on the machine image). */
    if (strstr(version, "free-threading") != NULL) {
        gt_gil_status = GTRACE_GIL_DISABLED;
        return;
    }
    gt_py_init(gt_py_version);
    gt_pylocks_init(gt_py_version);
    gt_pymutex_init(gt_py_version, rt);
    __atomic_store_n(&gt_py_runtime, (uintptr_t)rt, __ATOMIC_RELEASE);
}

static uintptr_t gt_layout_address(void) {
    if ((gt_py_version >> 24) != 3) return 0;
    uint8_t minor = (uint8_t)(gt_py_version >> 16);
    for (size_t i = 0; i < sizeof gt_gil_layouts / sizeof gt_gil_layouts[0]; i++)
        if (gt_gil_layouts[i].minor == minor && gt_gil_layouts[i].offset != 0)
            return gt_py_runtime + gt_gil_layouts[i].offset;
    return 0;
}

static void gt_read_counters(uintptr_t gil, unsigned long *switches, unsigned long *interval) {
    memcpy(switches, (void *)(gil + 24), sizeof *switches);
    memcpy(interval, (void *)gil, sizeof *interval);
}

/* flags: status in the low byte, GIL index in the high byte. */
static void gt_emit_gil_info(int index, uint16_t status, uintptr_t gil) {
    gt_emit(GTRACE_RAW_GIL_INFO, (uint16_t)(status | index << 8), gt_py_version, gil, gt_py_runtime);
}

static void gt_emit_gil_stats(int index, uintptr_t gil, uint32_t when) {
    unsigned long switches, interval;
    gt_read_counters(gil, &switches, &interval);
    gt_emit(GTRACE_RAW_GIL_STATS, (uint16_t)index, when, switches, interval);
}

/* A freshly created GIL of a subinterpreter (3.12+ "own GIL"): heap memory
 * initialised like the main one (same interval, locked −1, no holder yet). */
static int gt_looks_like_new_gil(uintptr_t gil) {
    unsigned long interval, main_interval, switches;
    uintptr_t holder;
    int locked;
    memcpy(&interval, (void *)gil, sizeof interval);
    memcpy(&holder, (void *)(gil + 8), sizeof holder);
    memcpy(&locked, (void *)(gil + 16), sizeof locked);
    memcpy(&switches, (void *)(gil + 24), sizeof switches);
    memcpy(&main_interval, (void *)gt_gil_base, sizeof main_interval);
    return interval == main_interval && holder == 0 && locked == -1 && switches == 0;
}

static void gt_add_subinterpreter_gil(uintptr_t gil) {
    for (int i = 1; i < GT_MAX_GILS; i++) {
        uintptr_t expected = 0;
        if (__atomic_compare_exchange_n(&gt_gils[i], &expected, gil, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            __atomic_store_n(&gt_gil_holder[i], 0, __ATOMIC_RELAXED);
            int used = __atomic_load_n(&gt_gil_extra_count, __ATOMIC_ACQUIRE);
            while (used < i && !__atomic_compare_exchange_n(&gt_gil_extra_count, &used, i, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            }
            gt_emit_gil_info(i, GTRACE_GIL_BY_PATTERN | GTRACE_GIL_SUBINTERPRETER, gil);
            return;
        }
    }
    /* More than 7 live subinterpreter GILs: the rest are not traced. */
}

void gt_gil_mutex_initialised(void *m) {
    uintptr_t rt = __atomic_load_n(&gt_py_runtime, __ATOMIC_ACQUIRE);
    uintptr_t a = (uintptr_t)m;
    if (rt == 0 || a < GT_GIL_MUTEX_OFFSET) return;
    uintptr_t gil = a - GT_GIL_MUTEX_OFFSET;
    if (a < rt + GT_GIL_MUTEX_OFFSET || a >= rt + gt_py_runtime_size) {
        /* Outside _PyRuntime: only a subinterpreter's own GIL (3.12+), once the main one is known. */
        if (gt_gil_base != 0 && (gt_py_version >> 16) >= 0x030c && gt_looks_like_new_gil(gil))
            gt_add_subinterpreter_gil(gil);
        return;
    }
    if (gt_gil_located != 0) return; /* recreated after fork / re-init: same place */
    unsigned long interval;
    int locked;
    memcpy(&interval, (void *)gil, sizeof interval);
    memcpy(&locked, (void *)(gil + 16), sizeof locked);
    if (interval == 0 || interval > 100000000ul || locked < -1 || locked > 1) return;
    uintptr_t layout = gt_layout_address();
    uint16_t status = GTRACE_GIL_BY_PATTERN;
    if (layout == 0) status |= GTRACE_GIL_UNKNOWN_VERSION;
    else if (layout == gil) status |= GTRACE_GIL_BY_LAYOUT;
    else status |= GTRACE_GIL_DISAGREE;
    gt_gil_status = status;
    gt_gil_located = gil;
    if (!(status & GTRACE_GIL_DISAGREE)) {
        gt_gils[0] = gil;
        __atomic_store_n(&gt_gil_base, gil, __ATOMIC_RELEASE);
    }
    gt_gil_sampling = getenv("GTRACE_PY_SAMPLES") != NULL;
    if (getenv("GTRACE_DEBUG_GIL") != NULL) {
        char line[96], *p = gt_put_str(line, line + sizeof line, "GIL at _PyRuntime+");
        p = gt_put_u64(p, line + sizeof line, gil - rt);
        gt_put_str(p, line + sizeof line, "");
        gt_diag(line, NULL);
    }
    gt_emit_gil_info(0, status, gil);
}

void gt_gil_mutex_destroyed(void *m) {
    uintptr_t gil = (uintptr_t)m - GT_GIL_MUTEX_OFFSET;
    for (int i = 1; i <= gt_gil_extra_count && i < GT_MAX_GILS; i++) {
        if (__atomic_load_n(&gt_gils[i], __ATOMIC_ACQUIRE) == gil) {
            gt_emit_gil_stats(i, gil, 0);
            __atomic_store_n(&gt_gils[i], 0, __ATOMIC_RELEASE); /* its memory is about to be freed */
            return;
        }
    }
}

void gt_gil_process_start(void) {
    if (gt_gil_status & GTRACE_GIL_DISABLED) {
        gt_emit_gil_info(0, gt_gil_status, 0);
        return;
    }
    if (gt_gil_located == 0) return;
    gt_py_fork_child();
    gt_pylocks_fork_child();
    gt_emit_gil_info(0, gt_gil_status, gt_gil_located);
    /* A fork child inherits CPython's switch_number: record it as the baseline.
     * Subinterpreters do not survive fork in a usable state: forget them. */
    for (int i = 1; i < GT_MAX_GILS; i++) gt_gils[i] = gt_gil_holder[i] = 0;
    /* The child's GIL is re-created with last_holder NULL: its first acquisition
     * counts in switch_number as any process's first one does, not as a change within a thread. */
    for (int i = 0; i < GT_MAX_GILS; i++) gt_gil_last_thread[i] = 0, gt_gil_same_thread_switches[i] = gt_gil_reused_tstates[i] = 0;
    if (gt_gil_base != 0) gt_emit_gil_stats(0, gt_gil_base, 1);
}

/* Set at process exit while owning the main GIL's mutex, once switch_number
 * was read: the main GIL's later events are not recorded. */
static int gt_gil_closed;

void gt_gil_process_exit(void) {
    /* Only the main GIL: it lives in _PyRuntime. A subinterpreter's GIL lives
     * in its PyInterpreterState, which CPython 3.12 frees without destroying
     * the GIL's mutex first, so at exit its memory may be gone. */
    if (gt_gil_base == 0) return;
    /* Daemon threads still take the GIL while the process exits (3.12+: to
     * leave take_gil at finalisation), and each new holder counts in
     * switch_number. Reading it and closing the record while owning
     * gil->mutex, where every acquisition is both counted and recorded,
     * keeps the two equal. The mutex is only held for a few instructions:
     * if it cannot be had (it should always be), read it without. */
    pthread_mutex_t *m = (pthread_mutex_t *)(gt_gil_base + GT_GIL_MUTEX_OFFSET);
    int owned = 0;
    for (int i = 0; i < 1000 && !owned; i++) {
        if (gt_gil_real_trylock(m) == 0) owned = 1;
        else sched_yield();
    }
    gt_emit_gil_stats(0, gt_gil_base, 0);
    gt_emit(GTRACE_RAW_GIL_STATS, 0, 2, gt_gil_same_thread_switches[0], gt_gil_reused_tstates[0]);
    __atomic_store_n(&gt_gil_closed, 1, __ATOMIC_RELAXED);
    if (owned) gt_gil_real_unlock(m);
}

/* Index of the GIL whose `mutex` is m, or −1 (its switch_mutex, or not a GIL). */
int gt_gil_index(const void *m) {
    uintptr_t gil = (uintptr_t)m - GT_GIL_MUTEX_OFFSET;
    if (gil == gt_gil_base) return 0;
    for (int i = 1; i <= gt_gil_extra_count && i < GT_MAX_GILS; i++)
        if (__atomic_load_n(&gt_gils[i], __ATOMIC_RELAXED) == gil) return i;
    return -1;
}

int gt_gil_is_extra_mutex(const void *m) {
    uintptr_t a = (uintptr_t)m;
    for (int i = 1; i <= gt_gil_extra_count && i < GT_MAX_GILS; i++) {
        uintptr_t gil = __atomic_load_n(&gt_gils[i], __ATOMIC_RELAXED);
        if (gil != 0 && a - gil < GT_GIL_SIZE) return 1;
    }
    return 0;
}

int gt_gil_lock(pthread_mutex_t *m) {
    int index = gt_gil_index(m);
    if (index == 0 && __atomic_load_n(&gt_gil_closed, __ATOMIC_RELAXED)) index = -1;
    if (index >= 0) {
        struct gt_tls *t = &gt_tls;
        uint8_t bit = (uint8_t)(1u << index);
        if (!(t->gil_held & bit) && !(t->gil_waiting & bit)) {
            t->gil_waiting |= bit;
            /* The WAIT is written only if the request blocks (gt_gil_say_wait): most
             * requests find the GIL free, and an ACQUIRE alone is an acquisition
             * that did not wait. One record fewer per GIL cycle. */
            if (gt_active()) {
                t->gil_wait_tsc = gtrace_timestamp();
                t->gil_wait_unsaid |= bit;
            }
        }
    }
    return gt_gil_real_lock(m);
}

int gt_gil_unlock(pthread_mutex_t *m) {
    int index = gt_gil_index(m);
    if (index == 0 && __atomic_load_n(&gt_gil_closed, __ATOMIC_RELAXED)) index = -1;
    if (index >= 0) {
        struct gt_tls *t = &gt_tls;
        uint8_t bit = (uint8_t)(1u << index);
        uintptr_t gil = gt_gils[index];
        int locked = __atomic_load_n((int *)(gil + 16), __ATOMIC_RELAXED);
        uintptr_t me = (uintptr_t)t;
        if (locked == 1 && !(t->gil_held & bit)) {
            uintptr_t last_holder = __atomic_load_n((uintptr_t *)(gil + 8), __ATOMIC_RELAXED);
            uintptr_t holder = __atomic_load_n(&gt_gil_holder[index], __ATOMIC_RELAXED);
            if (holder != 0 && holder != me && last_holder == gt_gil_holder_tstate[index]) {
                /* Another thread holds it: leaving take_gil without the GIL (exit at finalisation). */
            } else {
                __atomic_store_n(&gt_gil_holder[index], me, __ATOMIC_RELAXED);
                if (gt_gil_last_thread[index] == me && last_holder != gt_gil_holder_tstate[index]) gt_gil_same_thread_switches[index]++;
                if (gt_gil_last_thread[index] != 0 && gt_gil_last_thread[index] != me && last_holder == gt_gil_holder_tstate[index])
                    gt_gil_reused_tstates[index]++;
                gt_gil_last_thread[index] = me;
                gt_gil_holder_tstate[index] = last_holder;
                t->gil_held |= bit;
                t->gil_waiting &= (uint8_t)~bit;
                t->gil_wait_unsaid &= (uint8_t)~bit;
                if (gt_active()) {
                    gt_emit_acq(GTRACE_RAW_GIL_ACQUIRE, (uint16_t)index, 0, gil, 0);
                    gt_py_location(gil);
                }
            }
        } else if (locked == 0 && (t->gil_held & bit)) {
            /* drop_gil has set last_holder to the tstate it was given (3.12: not always the
             * one that took the GIL): the next take_gil compares against this value. */
            gt_gil_holder_tstate[index] = __atomic_load_n((uintptr_t *)(gil + 8), __ATOMIC_RELAXED);
            t->gil_held &= (uint8_t)~bit;
            if (__atomic_load_n(&gt_gil_holder[index], __ATOMIC_RELAXED) == me) __atomic_store_n(&gt_gil_holder[index], 0, __ATOMIC_RELAXED);
            if (gt_active()) {
                gt_emit_rel(GTRACE_RAW_GIL_RELEASE, (uint16_t)index, 0, gil, 0);
                gt_py_location(gil);
            }
        }
    }
    return gt_gil_real_unlock(m);
}

/* The sampling cell (the number of a GT_PY_SAMPLE_NS period of the wait's
 * clock) one waiter has claimed, 0 when none: one waiter samples at a time,
 * once per cell. */
static uint64_t gt_gil_claimed_tick;

/* The instant sampled in cell `tick`: a pseudo-random offset into the cell
 * (splitmix64 of its number), not its start. A fixed grid locks onto a program
 * whose hand-offs repeat at about its period: the sampler holds the GIL's
 * mutex for ~20 µs, a release that falls in that time is delayed to its end,
 * and the program's phase is pulled onto the grid. 4 threads of ~0.23 ms holds
 * (tools/workloads/py_between_waits.py, 3.14): 30% of the samples fell in the
 * last 10% of a hold, and light() got up to 1.5× its own thread_time. Instants
 * the program cannot predict see its time average, however the sampling
 * perturbs it. */
static uint64_t gt_gil_sample_instant(uint64_t tick) {
    uint64_t z = tick + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return tick * GT_PY_SAMPLE_NS + z % GT_PY_SAMPLE_NS;
}

static uint64_t gt_ts_ns(const struct timespec *t) { return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec; }

/* The thread is about to block for GIL `index`: its request's WAIT, with the
 * time the request began, unless written already. */
static void gt_gil_say_wait(int index) {
    struct gt_tls *t = &gt_tls;
    uint8_t bit = (uint8_t)(1u << index);
    if (!(t->gil_wait_unsaid & bit)) return;
    t->gil_wait_unsaid &= (uint8_t)~bit;
    if (gt_active()) gt_emit_ts(t->gil_wait_tsc, GTRACE_RAW_GIL_WAIT, (uint16_t)index, 0, gt_gils[index], 0);
}

/* A waiter's timed wait on the GIL's condition (take_gil). With sampling on,
 * the one waiter that claims the next cell of 1 ms waits until the cell's
 * instant (the others wait in one piece, as untraced); there it holds the
 * GIL's mutex (as after any wake-up), samples the holder (pyframes.c) and
 * claims the next cell. A waiter woken before its instant gives the claim
 * back, and the next thread to wait takes it: with holds shorter than a cell
 * (a queue's threads hand the GIL on every item) the waits are short, and
 * slices that had to last a whole cell from each wait's start never ended.
 * The caller sees what one wait would have given: 0 when woken, ETIMEDOUT at
 * its own deadline, and its errno unchanged. */
int gt_gil_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, int clock, const struct timespec *abstime,
                          int (*wait)(void *, void *, int, const void *)) {
    int index = gt_gil_index(m);
    if (index >= 0) gt_gil_say_wait(index);
    if (!gt_gil_sampling || index < 0 || abstime == NULL || wait == NULL) {
        if (clock < 0) return GT_REAL(cond_timedwait)(c, m, abstime);
        return wait(c, m, clock, abstime);
    }
    uint64_t deadline = gt_ts_ns(abstime);
    if (clock < 0) {
        /* pthread_cond_timedwait's clock is the condition's: the deadline is
         * within the switch interval of exactly one of them. */
        uint64_t mono = gt_clock_ns(CLOCK_MONOTONIC), real = gt_clock_ns(CLOCK_REALTIME);
        uint64_t dm = deadline > mono ? deadline - mono : mono - deadline;
        uint64_t dr = deadline > real ? deadline - real : real - deadline;
        clock = dm < dr ? CLOCK_MONOTONIC : CLOCK_REALTIME;
    }
    /* The thread's timer slack (50 µs by default) while this wait has set it to
     * 1 ns, −1 before: with slack, the kernel ends a slice at the first timer
     * interrupt within 50 µs of its instant, which is often the program's own
     * (a thread's time.sleep(0) that began at a hand-off), and the samples
     * follow the program's events again (light() 1.07–1.29× with random
     * instants alone). Restored before the caller sees the thread again. */
    long slack = -1;
    int saved_errno = errno, rc;
    for (;;) {
        uint64_t now = gt_clock_ns(clock), tick = now / GT_PY_SAMPLE_NS;
        if (gt_gil_sample_instant(tick) <= now) tick++;
        uint64_t at = gt_gil_sample_instant(tick), claimed = __atomic_load_n(&gt_gil_claimed_tick, __ATOMIC_RELAXED);
        if (at >= deadline || claimed >= tick ||
            !__atomic_compare_exchange_n(&gt_gil_claimed_tick, &claimed, tick, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
            rc = wait(c, m, clock, abstime);
            break;
        }
        if (slack < 0 && (slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)) > 1) prctl(PR_SET_TIMERSLACK, 1ul, 0, 0, 0);
        struct timespec until = {(time_t)(at / 1000000000ull), (long)(at % 1000000000ull)};
        rc = wait(c, m, clock, &until);
        if (rc != ETIMEDOUT) {
            __atomic_compare_exchange_n(&gt_gil_claimed_tick, &tick, 0, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
            break;
        }
        /* A sample taken late is not of an instant chosen by the clock: the waiter
         * got a CPU back when another thread gave one up, which depends on what the
         * threads run. A wake-up stays within the limit. */
        if (gt_clock_ns(clock) - at > GT_PY_SAMPLE_LATE_NS) continue;
        uintptr_t gil = gt_gils[index];
        if (gil != 0 && __atomic_load_n((int *)(gil + 16), __ATOMIC_RELAXED) == 1) gt_py_sample(gil, index);
    }
    if (slack > 1) prctl(PR_SET_TIMERSLACK, (unsigned long)slack, 0, 0, 0);
    errno = saved_errno;
    return rc;
}
