/*
 * objects.c — which ELF objects are loaded where, with their build-ids, so
 * that `gtrace record` can name lock addresses and call sites afterwards
 * (and notice a file changed since). Appended to `<session>/<pid>.<image>.objects`
 * at process start, and at exit when objects were loaded since (see
 * gtrace_format.h). dlopen is deliberately not interposed: glibc resolves a
 * dlopen'ed name with the *caller's* RUNPATH, and a wrapper would become the caller.
 *
 * Not on any per-event path: dl_iterate_phdr, a stack buffer per object and
 * raw write syscalls.
 */
#include "gtrace_runtime.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GT_OBJECT_MAX_SEGMENTS 16
#define GT_OBJECT_MAX_NAME 1024
#define GT_OBJECT_MAX_BUILD_ID 64

/* The NT_GNU_BUILD_ID descriptor inside a loaded PT_NOTE segment. */
static size_t gt_build_id(const struct dl_phdr_info *info, const ElfW(Phdr) *note, uint8_t *out) {
    const uint8_t *p = (const uint8_t *)(info->dlpi_addr + note->p_vaddr);
    const uint8_t *end = p + note->p_memsz;
    while (p + sizeof(ElfW(Nhdr)) <= end) {
        const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
        const uint8_t *name = p + sizeof(ElfW(Nhdr));
        const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
        if (desc + n->n_descsz > end) return 0;
        if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0) {
            size_t len = n->n_descsz < GT_OBJECT_MAX_BUILD_ID ? n->n_descsz : GT_OBJECT_MAX_BUILD_ID;
            memcpy(out, desc, len);
            return len;
        }
        p = desc + ((n->n_descsz + 3) & ~3u);
    }
    return 0;
}

/* dlpi_adds at the last snapshot: the loader's count of objects ever added. */
static unsigned long long gt_objects_adds;

static int gt_object_entry(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    int fd = *(int *)data;
    gt_objects_adds = info->dlpi_adds;
    uint8_t buf[sizeof(struct gtrace_object_entry) + GT_OBJECT_MAX_NAME + GT_OBJECT_MAX_BUILD_ID +
                GT_OBJECT_MAX_SEGMENTS * sizeof(struct gtrace_object_segment)];
    struct gtrace_object_entry entry = {0};
    entry.tsc = gtrace_timestamp();
    entry.load_bias = (uint64_t)info->dlpi_addr;
    const char *name = info->dlpi_name != NULL ? info->dlpi_name : "";
    size_t name_len = gt_strlen(name);
    if (name_len > GT_OBJECT_MAX_NAME) name_len = GT_OBJECT_MAX_NAME;
    if (name_len > 0 && strstr(name, "linux-vdso") != NULL) return 0; /* no file behind it */
    uint8_t build_id[GT_OBJECT_MAX_BUILD_ID];
    size_t build_id_len = 0;
    struct gtrace_object_segment segments[GT_OBJECT_MAX_SEGMENTS];
    size_t nseg = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && nseg < GT_OBJECT_MAX_SEGMENTS) {
            segments[nseg].virtual_address = ph->p_vaddr;
            segments[nseg].memory_size = ph->p_memsz;
            nseg++;
        } else if (ph->p_type == PT_NOTE && build_id_len == 0) {
            build_id_len = gt_build_id(info, ph, build_id);
        }
    }
    entry.name_length = (uint16_t)name_len;
    entry.build_id_length = (uint16_t)build_id_len;
    entry.segment_count = (uint16_t)nseg;
    size_t at = 0;
    memcpy(buf + at, &entry, sizeof entry);
    at += sizeof entry;
    memcpy(buf + at, name, name_len);
    at += name_len;
    memcpy(buf + at, build_id, build_id_len);
    at += build_id_len;
    memcpy(buf + at, segments, nseg * sizeof segments[0]);
    at += nseg * sizeof segments[0];
    (void)syscall(SYS_write, fd, buf, at); /* one write per entry: appends never interleave */
    return 0;
}

void gt_objects_snapshot(void) {
    if (!gt_enabled || gt_session_len == 0) return;
    int saved = errno;
    char suffix[48];
    char *end = suffix + sizeof suffix;
    gt_put_str(gt_put_u64(gt_put_str(suffix, end, "."), end, gt_image), end, ".objects");
    long fd = gt_session_open_append(gt_pid, suffix);
    if (fd >= 0) {
        int descriptor = (int)fd;
        dl_iterate_phdr(gt_object_entry, &descriptor);
        (void)syscall(SYS_close, descriptor);
    }
    errno = saved;
}

static int gt_read_adds(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    *(unsigned long long *)data = info->dlpi_adds;
    return 1; /* the first object is enough */
}

/* At exit: a new snapshot only if objects were loaded since the last one
 * (dlopen); one callback otherwise. */
void gt_objects_snapshot_if_changed(void) {
    unsigned long long adds = 0;
    dl_iterate_phdr(gt_read_adds, &adds);
    if (adds != gt_objects_adds) gt_objects_snapshot();
}
