/*
 * gil.c — CPython's GIL, exactly.
 *
 * CPython (3.8–3.13, default build) keeps its GIL in a
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
 *   unlock with locked == 1 by a thread not yet holder  → GIL_ACQUIRE
 *   unlock with locked == 0 by the holder               → GIL_RELEASE
 * The GIL's mutexes and conditions produce no generic lock records.
 */
#include "gtrace_runtime.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

__asm__(".symver gt_gil_real_lock, __pthread_mutex_lock@GLIBC_2.2.5");
__asm__(".symver gt_gil_real_unlock, __pthread_mutex_unlock@GLIBC_2.2.5");
extern int gt_gil_real_lock(pthread_mutex_t *);
extern int gt_gil_real_unlock(pthread_mutex_t *);

uintptr_t gt_gil_base;            /* traced GIL (0: none) */
static uintptr_t gt_py_runtime;   /* &_PyRuntime (0: not CPython) */
static size_t gt_py_runtime_size;
static uint32_t gt_py_version;    /* PY_VERSION_HEX */
static uintptr_t gt_gil_located;  /* GIL found (traced or not) */
static uint16_t gt_gil_status;

/* Offset of the GIL state in _PyRuntime per minor version (x86-64, default
 * build). 3.8–3.11: `offsetof(_PyRuntimeState, ceval.gil)`, computed from each
 * version's internal headers (pycore_runtime.h / pycore_pystate.h with
 * Py_BUILD_CORE); 3.12–3.13: the main interpreter's `_gil`, stored inline in
 * _PyRuntime (from RECORDING-FACTS, confirmed by the pattern on 3.12.1/3.13.0). */
static const struct { uint8_t minor; uint32_t offset; } gt_gil_layouts[] = {
    {8, 1152}, {9, 352}, {10, 352}, {11, 360}, {12, 77432}, {13, 96104},
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

static void gt_emit_gil_info(void) {
    gt_emit(GTRACE_RAW_GIL_INFO, gt_gil_status, gt_py_version, gt_gil_located, gt_py_runtime);
}

void gt_gil_mutex_initialised(void *m) {
    uintptr_t rt = __atomic_load_n(&gt_py_runtime, __ATOMIC_ACQUIRE);
    uintptr_t a = (uintptr_t)m;
    if (rt == 0 || a < rt + GT_GIL_MUTEX_OFFSET || a >= rt + gt_py_runtime_size) return;
    uintptr_t gil = a - GT_GIL_MUTEX_OFFSET;
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
    if (!(status & GTRACE_GIL_DISAGREE)) __atomic_store_n(&gt_gil_base, gil, __ATOMIC_RELEASE);
    if (getenv("GTRACE_DEBUG_GIL") != NULL) {
        char line[96], *p = gt_put_str(line, line + sizeof line, "GIL at _PyRuntime+");
        p = gt_put_u64(p, line + sizeof line, gil - rt);
        gt_put_str(p, line + sizeof line, "");
        gt_diag(line, NULL);
    }
    gt_emit_gil_info();
}

void gt_gil_process_start(void) {
    if (gt_gil_status & GTRACE_GIL_DISABLED) {
        gt_emit(GTRACE_RAW_GIL_INFO, gt_gil_status, gt_py_version, 0, gt_py_runtime);
        return;
    }
    if (gt_gil_located == 0) return;
    gt_emit_gil_info();
    if (gt_gil_base == 0) return;
    /* A fork child inherits CPython's switch_number: record it as the baseline. */
    unsigned long switches, interval;
    memcpy(&switches, (void *)(gt_gil_base + 24), sizeof switches);
    memcpy(&interval, (void *)gt_gil_base, sizeof interval);
    gt_emit(GTRACE_RAW_GIL_STATS, 0, 1, switches, interval);
}

void gt_gil_process_exit(void) {
    if (gt_gil_base == 0) return;
    unsigned long switches, interval;
    memcpy(&switches, (void *)(gt_gil_base + 24), sizeof switches);
    memcpy(&interval, (void *)gt_gil_base, sizeof interval);
    gt_emit(GTRACE_RAW_GIL_STATS, 0, 0, switches, interval);
}

int gt_gil_lock(pthread_mutex_t *m) {
    if ((uintptr_t)m == gt_gil_base + GT_GIL_MUTEX_OFFSET) {
        struct gt_tls *t = &gt_tls;
        if (!t->gil_held && !t->gil_waiting) {
            t->gil_waiting = 1;
            if (gt_active()) gt_emit(GTRACE_RAW_GIL_WAIT, 0, 0, 0, 0);
        }
    }
    return gt_gil_real_lock(m);
}

int gt_gil_unlock(pthread_mutex_t *m) {
    if ((uintptr_t)m == gt_gil_base + GT_GIL_MUTEX_OFFSET) {
        struct gt_tls *t = &gt_tls;
        int locked = __atomic_load_n((int *)(gt_gil_base + 16), __ATOMIC_RELAXED);
        if (locked == 1 && !t->gil_held) {
            t->gil_held = 1;
            t->gil_waiting = 0;
            if (gt_active()) gt_emit_acq(GTRACE_RAW_GIL_ACQUIRE, 0, 0, 0, 0);
        } else if (locked == 0 && t->gil_held) {
            t->gil_held = 0;
            if (gt_active()) gt_emit_rel(GTRACE_RAW_GIL_RELEASE, 0, 0, 0, 0);
        }
    }
    return gt_gil_real_unlock(m);
}
