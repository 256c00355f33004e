/* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320) over trace-file records.
 * In C because the reader checks every record and a table loop here is
 * several times faster than the same loop in debug-built Swift. */
#include "gtrace_crc32.h"

static uint32_t crc_table[256];
static int crc_table_ready;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    __atomic_store_n(&crc_table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t gtrace_crc32(uint32_t crc, const void *data, size_t length) {
    if (!__atomic_load_n(&crc_table_ready, __ATOMIC_ACQUIRE)) crc_init();
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < length; i++) crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}
