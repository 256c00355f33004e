#ifndef GTRACE_CRC32_H
#define GTRACE_CRC32_H
#include <stddef.h>
#include <stdint.h>
/* CRC-32 of `length` bytes, continuing from `crc` (start with 0). */
uint32_t gtrace_crc32(uint32_t crc, const void *data, size_t length);
#endif
