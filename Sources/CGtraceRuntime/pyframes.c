/*
 * pyframes.c — the Python code a thread runs when it takes or gives up the GIL.
 *
 * At every GIL acquisition and release (gil.c, while the GIL's mutex is held,
 * so the holder's frames cannot change), the holder's thread state is
 * gil->last_holder. Its innermost GT_PY_DEPTH Python frames are read with this
 * version's layout (one table below: offsets in PyThreadState, the frame
 * and PyCodeObject, x86-64, default build) and written as PY_FRAME records
 * after the GIL record: code object, line, and an identity of the code object
 * (its name/filename/qualname pointers and first line) so that a freed and
 * reused code object is never given the old one's name.
 *
 * The first time a (code object, identity) is seen in a process, its
 * qualified name, file name and first line are written (PY_CODE followed by
 * PY_TEXT records of 16 bytes each). That happens while the GIL is held, so
 * the strings are stable. No syscall, no lock, no allocation: loads, a
 * line-table scan (CPython's PyCode_Addr2Line: pure, a per-thread cache of
 * the last answers) and buffer slots.
 *
 * The layout is confirmed before any location is recorded, the way the GIL's
 * is: the thread state's thread_id must be this thread's pthread_self() at
 * every event, and the first code object read must have type PyCode_Type.
 * Otherwise PY_INFO says why and no locations are recorded.
 *
 * Once the interpreter is finalising, no location is read: the finalising
 * thread frees the other threads' states and frame stacks while daemon threads
 * still run, and a daemon thread that then takes the GIL on its way out finds
 * last_holder pointing at its freed (unmapped) frames. CPython's own
 * Py_IsFinalizing (3.13+; _Py_IsFinalizing before) says so: a load. The
 * finalising flag is set, under the GIL, before any thread state is freed, so
 * a thread that holds the GIL's mutex after that sees it.
 *
 * Samples: a thread waiting for the GIL waits in pthread_cond_timedwait on
 * the GIL's condition (5 ms by default). gil.c splits that wait into slices
 * that end at one pseudo-random instant of each GT_PY_SAMPLE_NS (the same
 * deadline, the same wake-ups) and at each, holding the GIL's mutex (so the
 * holder cannot release it meanwhile), reads the holder's frames with
 * process_vm_readv (a fault-safe copy: the holder is running) and writes a
 * PY_SAMPLE of it. The holder is never interrupted, no signal is used, and a
 * program without GIL contention gets no samples.
 */
#include "gtrace_runtime.h"

#include <dlfcn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

enum { GT_INSTR_LASTI_BYTES = 0, GT_INSTR_LASTI_UNITS = 1, GT_INSTR_PREV = 2, GT_INSTR_PTR = 3 };

struct gt_py_layout {
    uint8_t minor;
    uint16_t ts_frame;       /* PyThreadState: frame (≤3.10), cframe (3.11–3.12), current_frame (3.13+) */
    int8_t cframe_current;   /* offset of current_frame in the CFrame (−1: ts_frame is the frame) */
    uint16_t ts_thread_id;   /* PyThreadState.thread_id (pthread_self()) */
    uint8_t fr_code, fr_back, fr_instr, fr_owner; /* fr_owner 0: none */
    uint8_t instr_kind;
    uint8_t co_firstlineno, co_filename, co_name, co_qualname; /* co_qualname 0: none (≤3.10) */
    uint16_t co_adaptive;    /* offset of co_code_adaptive (3.11+) */
    uint8_t str_ascii_data;  /* sizeof(PyASCIIObject) */
    uint8_t str_utf8;        /* offset of PyCompactUnicodeObject.utf8 */
    uint8_t code_tag_bits;   /* 3.14+: f_executable is a _PyStackRef, a pointer with tag bits */
};

/* Measured on 3.8.18, 3.9.18, 3.10.13, 3.11.7 (and Debian's 3.11.2), 3.12.1,
 * 3.13.0 and from each version's headers (pystate.h/cpython/pystate.h,
 * frameobject.h/pycore_frame.h, code.h, unicodeobject.h). 3.14.10 and 3.15.2
 * (Debian sid): read from the interpreter's own _Py_DebugOffsets at the start
 * of _PyRuntime (the table it keeps for out-of-process profilers; it gives the
 * same values as this table for 3.13.0), thread_id also checked against
 * threading.get_ident() through PyThreadState_Get. Owners: frames with owner
 * 3 are shims (3.12–3.13 FRAME_OWNED_BY_CSTACK, 3.14+ the interpreter's entry
 * frames, FRAME_OWNED_BY_INTERPRETER). */
static const struct gt_py_layout gt_py_layouts[] = {
    {8, 24, -1, 176, 32, 24, 104, 0, GT_INSTR_LASTI_BYTES, 40, 104, 112, 0, 0, 48, 56, 0},
    {9, 24, -1, 176, 32, 24, 104, 0, GT_INSTR_LASTI_BYTES, 40, 104, 112, 0, 0, 48, 56, 0},
    {10, 24, -1, 176, 32, 24, 96, 0, GT_INSTR_LASTI_UNITS, 40, 104, 112, 0, 0, 48, 56, 0},
    {11, 56, 8, 152, 32, 48, 56, 0, GT_INSTR_PREV, 72, 112, 120, 128, 184, 48, 56, 0},
    {12, 56, 0, 136, 0, 8, 56, 70, GT_INSTR_PREV, 68, 112, 120, 128, 192, 40, 48, 0},
    {13, 72, -1, 152, 0, 8, 56, 70, GT_INSTR_PTR, 68, 112, 120, 128, 200, 40, 48, 0},
    {14, 72, -1, 152, 0, 8, 56, 74, GT_INSTR_PTR, 68, 112, 120, 128, 208, 40, 48, 7},
    {15, 72, -1, 176, 0, 8, 56, 74, GT_INSTR_PTR, 68, 112, 120, 128, 208, 40, 48, 7},
};

static const struct gt_py_layout *gt_py;   /* this process's layout, NULL: no locations */
static uintptr_t gt_py_code_type;          /* &PyCode_Type */
static int (*gt_py_addr2line)(void *, int);
static int (*gt_py_finalizing)(void);     /* Py_IsFinalizing */
static int gt_py_confirmed;                /* 0 unknown, 1 confirmed, −1 refused */

#define GT_PY_SEEN 4096u
#define GT_PY_PROBE 8u
static struct { uint64_t code, ident; } gt_py_seen[GT_PY_SEEN];

/* Per-thread cache of (code, instruction offset) → line. */
#define GT_PY_LINES 32u
static __thread struct { uint64_t code; int32_t offset; int32_t line; } gt_py_lines[GT_PY_LINES]
    __attribute__((tls_model("initial-exec")));

void gt_py_init(uint32_t version_hex) {
    if ((version_hex >> 24) != 3) return;
    uint8_t minor = (uint8_t)(version_hex >> 16);
    const struct gt_py_layout *layout = NULL;
    for (size_t i = 0; i < sizeof gt_py_layouts / sizeof gt_py_layouts[0]; i++)
        if (gt_py_layouts[i].minor == minor) layout = &gt_py_layouts[i];
    gt_py_code_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyCode_Type");
    gt_py_addr2line = (int (*)(void *, int))dlsym(RTLD_DEFAULT, "PyCode_Addr2Line");
    gt_py_finalizing = (int (*)(void))dlsym(RTLD_DEFAULT, minor >= 13 ? "Py_IsFinalizing" : "_Py_IsFinalizing");
    if (layout == NULL || gt_py_code_type == 0 || gt_py_addr2line == NULL || gt_py_finalizing == NULL) {
        gt_py_confirmed = -1;
        return;
    }
    gt_py = layout;
}

static uint64_t gt_load(uintptr_t a) { return *(const uint64_t *)a; }

static uint64_t gt_py_identity(uintptr_t code) {
    const struct gt_py_layout *L = gt_py;
    uint64_t name = gt_load(code + L->co_name), file = gt_load(code + L->co_filename);
    uint64_t qual = L->co_qualname ? gt_load(code + L->co_qualname) : 0;
    uint32_t first = *(const uint32_t *)(code + L->co_firstlineno);
    uint64_t h = name * 0x9e3779b97f4a7c15ull ^ file * 0xc2b2ae3d27d4eb4full ^ qual * 0x165667b19e3779f9ull;
    return (h & 0xffffffffull) | (uint64_t)first << 32;
}

/* Text of a str object into out (at most cap−1 bytes, NUL-terminated). */
static size_t gt_py_str(uintptr_t s, char *out, size_t cap) {
    const struct gt_py_layout *L = gt_py;
    size_t n = 0;
    if (s != 0) {
        int64_t length = *(const int64_t *)(s + 16);
        uint32_t state = *(const uint32_t *)(s + 32);
        unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
        const unsigned char *data = NULL;
        if (compact && ascii) data = (const unsigned char *)(s + L->str_ascii_data);
        else if (gt_load(s + L->str_utf8) != 0) {
            data = (const unsigned char *)gt_load(s + L->str_utf8);
            length = *(const int64_t *)(s + L->str_utf8 - 8);
        } else if (compact && kind == 1) {
            const unsigned char *latin = (const unsigned char *)(s + L->str_utf8 + 8 + (L->minor <= 11 ? 8 : 0));
            for (int64_t i = 0; i < length && n + 2 < cap; i++) {
                unsigned char c = latin[i];
                if (c < 0x80) out[n++] = (char)c;
                else { out[n++] = (char)(0xc0 | c >> 6); out[n++] = (char)(0x80 | (c & 0x3f)); }
            }
            out[n] = '\0';
            return n;
        }
        if (data != NULL && length > 0)
            for (; n < (size_t)length && n + 1 < cap; n++) out[n] = (char)data[n];
        if (data == NULL) out[n++] = '?';
    }
    out[n] = '\0';
    return n;
}

/* PY_CODE + PY_TEXT records of `n` bytes of text: "qualname\0filename\0". */
static void gt_py_write_definition(uintptr_t code, uint64_t ident, uint32_t first, const char *text, size_t n) {
    uint16_t records = (uint16_t)((n + 15) / 16);
    gt_emit(GTRACE_RAW_PY_CODE, records, first, code, ident);
    for (uint16_t i = 0; i < records; i++) {
        uint64_t w[2] = {0, 0};
        size_t take = n - i * 16u < 16 ? n - i * 16u : 16;
        memcpy(w, text + i * 16u, take);
        gt_emit(GTRACE_RAW_PY_TEXT, i, 0, w[0], w[1]);
    }
}

/* A code object's definition, read while the GIL is held (its strings are stable). */
static void gt_py_define(uintptr_t code, uint64_t ident) {
    const struct gt_py_layout *L = gt_py;
    char text[512];
    size_t n = gt_py_str(gt_load(code + (L->co_qualname ? L->co_qualname : L->co_name)), text, 200);
    n += 1;
    n += gt_py_str(gt_load(code + L->co_filename), text + n, sizeof text - n) + 1;
    gt_py_write_definition(code, ident, *(const uint32_t *)(code + L->co_firstlineno), text, n);
}

/* Define the code object if this (code, identity) was not seen in this process;
 * `define` writes its records (gt_py_define, or gt_py_define_peeked for a sample). */
static void gt_py_see_with(uintptr_t code, uint64_t ident, void (*define)(uintptr_t, uint64_t)) {
    uint32_t h = gt_address_slot(code, GT_PY_SEEN);
    for (uint32_t k = 0; k < GT_PY_PROBE; k++) {
        uint32_t i = (h + k) % GT_PY_SEEN;
        uint64_t c = __atomic_load_n(&gt_py_seen[i].code, __ATOMIC_ACQUIRE);
        if (c == code) {
            if (__atomic_load_n(&gt_py_seen[i].ident, __ATOMIC_RELAXED) == ident) return;
            __atomic_store_n(&gt_py_seen[i].ident, ident, __ATOMIC_RELAXED); /* reused memory */
            define(code, ident);
            return;
        }
        if (c == 0) {
            uint64_t expected = 0;
            if (__atomic_compare_exchange_n(&gt_py_seen[i].code, &expected, code, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
                __atomic_store_n(&gt_py_seen[i].ident, ident, __ATOMIC_RELAXED);
                define(code, ident);
                return;
            }
            if (expected == code) return; /* another thread (another GIL) defines it */
        }
    }
    define(code, ident); /* table crowded here: define again (rare, harmless) */
}

static void gt_py_see(uintptr_t code, uint64_t ident) { gt_py_see_with(code, ident, gt_py_define); }

/* Forget a code object a sample could not name, so that the next sample (or
 * location) names it: its slot is marked with an identity no code object has. */
static void gt_py_unsee(uintptr_t code) {
    uint32_t h = gt_address_slot(code, GT_PY_SEEN);
    for (uint32_t k = 0; k < GT_PY_PROBE; k++) {
        uint32_t i = (h + k) % GT_PY_SEEN;
        if (__atomic_load_n(&gt_py_seen[i].code, __ATOMIC_ACQUIRE) == code) {
            __atomic_store_n(&gt_py_seen[i].ident, 0, __ATOMIC_RELAXED);
            return;
        }
    }
}

static int gt_py_line(uintptr_t code, int offset) {
    uint32_t slot = (uint32_t)(((code >> 4) ^ (uint32_t)offset * 31u) % GT_PY_LINES);
    if (gt_py_lines[slot].code == code && gt_py_lines[slot].offset == offset) return gt_py_lines[slot].line;
    int line = gt_py_addr2line((void *)code, offset);
    gt_py_lines[slot].code = code;
    gt_py_lines[slot].offset = offset;
    gt_py_lines[slot].line = line;
    return line;
}

/* Byte offset of the frame's current instruction (−1: not started). */
static int gt_py_offset(uintptr_t frame, uintptr_t code) {
    const struct gt_py_layout *L = gt_py;
    switch (L->instr_kind) {
    case GT_INSTR_LASTI_BYTES: return *(const int *)(frame + L->fr_instr);
    case GT_INSTR_LASTI_UNITS: {
        int lasti = *(const int *)(frame + L->fr_instr);
        return lasti < 0 ? -1 : lasti * 2;
    }
    default: {
        intptr_t d = (intptr_t)gt_load(frame + L->fr_instr) - (intptr_t)(code + L->co_adaptive);
        return d < 0 ? -1 : (int)d;
    }
    }
}

static uintptr_t gt_py_current_frame(uintptr_t ts) {
    const struct gt_py_layout *L = gt_py;
    uintptr_t f = gt_load(ts + L->ts_frame);
    if (L->cframe_current >= 0 && f != 0) f = gt_load(f + (uintptr_t)L->cframe_current);
    return f;
}

static int gt_py_is_frame_skipped(uintptr_t frame) {
    const struct gt_py_layout *L = gt_py;
    return L->fr_owner != 0 && *(const uint8_t *)(frame + L->fr_owner) == 3; /* a C-stack shim */
}

/* The GIL's holder reads its own frames (gil.c, GIL mutex held). */
void gt_py_location(uintptr_t gil) {
    if (gt_py == NULL || gt_py_finalizing()) return;
    uintptr_t ts = (uintptr_t)gt_load(gil + 8); /* last_holder */
    if (ts == 0) return;
    if (gt_load(ts + gt_py->ts_thread_id) != (uint64_t)pthread_self()) return; /* not ours (yet) */
    uintptr_t frame = gt_py_current_frame(ts);
    int depth = 0;
    for (int steps = 0; frame != 0 && depth < GT_PY_DEPTH && steps < 4 * GT_PY_DEPTH; steps++) {
        uintptr_t code = gt_load(frame + gt_py->fr_code) & ~(uintptr_t)gt_py->code_tag_bits;
        if (!gt_py_is_frame_skipped(frame) && code != 0) {
            if (gt_load(code + 8) != gt_py_code_type) {
                if (gt_py_confirmed == 0) {
                    gt_py_confirmed = -1;
                    gt_emit(GTRACE_RAW_PY_INFO, 2, gt_py->minor, code, 0);
                    gt_py = NULL;
                    return;
                }
                frame = gt_load(frame + gt_py->fr_back);
                continue;
            }
            if (gt_py_confirmed == 0) {
                gt_py_confirmed = 1;
                gt_emit(GTRACE_RAW_PY_INFO, 1, gt_py->minor, ts, 0);
            }
            uint64_t ident = gt_py_identity(code);
            gt_py_see(code, ident);
            int offset = gt_py_offset(frame, code);
            int line = gt_py_line(code, offset);
            gt_emit(GTRACE_RAW_PY_FRAME, (uint16_t)depth, (uint32_t)(line < 0 ? 0 : line), code, ident);
            depth++;
        }
        frame = gt_load(frame + gt_py->fr_back);
    }
}

/* A fault-safe copy of another thread's memory. */
static int gt_py_peek(uintptr_t a, void *out, size_t len) {
    struct iovec local = {out, len}, remote = {(void *)a, len};
    return syscall(SYS_process_vm_readv, (long)getpid(), &local, 1ul, &remote, 1ul, 0ul) == (long)len ? 0 : -1;
}

static int gt_py_peek64(uintptr_t a, uint64_t *v) { return gt_py_peek(a, v, sizeof *v); }

/* Text of a str object copied with gt_py_peek (another thread's object): ASCII
 * or its cached UTF-8; '?' otherwise. Returns -1 when a copy failed. */
static int gt_py_peek_str(uintptr_t s, char *out, size_t cap, size_t *n) {
    const struct gt_py_layout *L = gt_py;
    unsigned char h[96];
    *n = 0;
    if (s == 0) { out[0] = '\0'; return 0; }
    if ((size_t)L->str_utf8 + 8 > sizeof h || gt_py_peek(s, h, L->str_utf8 + 8) != 0) return -1;
    int64_t length;
    uint32_t state;
    uint64_t utf8 = 0, data;
    memcpy(&length, h + 16, 8);
    memcpy(&state, h + 32, 4);
    if (((state >> 5) & 1) && ((state >> 6) & 1)) data = s + L->str_ascii_data;
    else {
        memcpy(&utf8, h + L->str_utf8, 8);
        if (utf8 == 0) { out[0] = '?'; out[1] = '\0'; *n = 1; return 0; }
        memcpy(&length, h + L->str_utf8 - 8, 8);
        data = utf8;
    }
    size_t take = length < 0 ? 0 : (size_t)length < cap - 1 ? (size_t)length : cap - 1;
    if (take > 0 && gt_py_peek(data, out, take) != 0) return -1;
    out[take] = '\0';
    *n = take;
    return 0;
}

/* gt_py_define for a code object a sample found on another thread's stack
 * (the sampler does not hold the GIL): the strings are copied fault-safe, and
 * the code object's header is read again after them, so that a code object
 * freed meanwhile is not named after what its memory held. */
static void gt_py_define_peeked(uintptr_t code, uint64_t ident) {
    const struct gt_py_layout *L = gt_py;
    unsigned char c[144];
    char text[512];
    size_t n1, n2;
    uint64_t named, file;
    uint32_t first;
    if (gt_py_peek(code, c, sizeof c) != 0) return;
    memcpy(&named, c + (L->co_qualname ? L->co_qualname : L->co_name), 8);
    memcpy(&file, c + L->co_filename, 8);
    memcpy(&first, c + L->co_firstlineno, 4);
    if (gt_py_peek_str(named, text, 200, &n1) != 0 || n1 == 0) { gt_py_unsee(code); return; }
    if (gt_py_peek_str(file, text + n1 + 1, sizeof text - n1 - 1, &n2) != 0) { gt_py_unsee(code); return; }
    /* The fields the identity rests on, again (others, such as the reference count
     * and warm-up counters, change with every call). */
    unsigned char again[144];
    if (gt_py_peek(code, again, sizeof again) != 0 || memcmp(c + 8, again + 8, 8) != 0 ||
        memcmp(c + L->co_name, again + L->co_name, 8) != 0 || memcmp(c + L->co_filename, again + L->co_filename, 8) != 0 ||
        (L->co_qualname && memcmp(c + L->co_qualname, again + L->co_qualname, 8) != 0) ||
        memcmp(c + L->co_firstlineno, again + L->co_firstlineno, 4) != 0) {
        gt_py_unsee(code);
        return;
    }
    gt_py_write_definition(code, ident, first, text, n1 + 1 + n2 + 1);
}


/* A waiter samples the GIL's holder (gil.c, GIL mutex held, GIL locked):
 * two copies per frame (the frame, the code object's header). */
void gt_py_sample(uintptr_t gil, int index) {
    if (gt_py == NULL || gt_py_confirmed != 1) return;
    const struct gt_py_layout *L = gt_py;
    uint64_t ts, frame;
    if (gt_py_peek64(gil + 8, &ts) != 0 || ts == 0) return;
    if (gt_py_peek64(ts + L->ts_frame, &frame) != 0) return;
    if (L->cframe_current >= 0 && (frame == 0 || gt_py_peek64(frame + (uintptr_t)L->cframe_current, &frame) != 0)) return;
    uint64_t codes[GT_PY_DEPTH], idents[GT_PY_DEPTH];
    int depth = 0;
    for (int steps = 0; frame != 0 && depth < GT_PY_DEPTH && steps < 4 * GT_PY_DEPTH; steps++) {
        unsigned char f[128], c[144];
        if (gt_py_peek(frame, f, 80) != 0) return;
        uint64_t code, back;
        memcpy(&code, f + L->fr_code, 8);
        code &= ~(uint64_t)L->code_tag_bits;
        memcpy(&back, f + L->fr_back, 8);
        if (!(L->fr_owner != 0 && f[L->fr_owner] == 3) && code != 0 && gt_py_peek(code, c, sizeof c) == 0) {
            uint64_t type, name, file, qual = 0;
            uint32_t first;
            memcpy(&type, c + 8, 8);
            memcpy(&name, c + L->co_name, 8);
            memcpy(&file, c + L->co_filename, 8);
            if (L->co_qualname) memcpy(&qual, c + L->co_qualname, 8);
            memcpy(&first, c + L->co_firstlineno, 4);
            if (type == gt_py_code_type) {
                uint64_t h = name * 0x9e3779b97f4a7c15ull ^ file * 0xc2b2ae3d27d4eb4full ^ qual * 0x165667b19e3779f9ull;
                codes[depth] = code;
                idents[depth] = (h & 0xffffffffull) | (uint64_t)first << 32;
                /* Code that never took or gave up the GIL (a function called
                 * between two blocking calls) is named from the sample. */
                gt_py_see_with(code, idents[depth], gt_py_define_peeked);
                depth++;
            }
        }
        frame = back;
    }
    gt_emit(GTRACE_RAW_PY_SAMPLE, (uint16_t)index, (uint32_t)depth, gil, ts);
    for (int i = 0; i < depth; i++) gt_emit(GTRACE_RAW_PY_FRAME, (uint16_t)(i | GT_PY_FRAME_SAMPLED), 0, codes[i], idents[i]);
}

/* A fork child writes its own definitions (its trace is its own). */
void gt_py_fork_child(void) {
    memset(gt_py_seen, 0, sizeof gt_py_seen);
}
