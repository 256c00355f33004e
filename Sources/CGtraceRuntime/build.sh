#!/bin/sh
# Build the gtrace preload runtime: build.sh OUTPUT.so
# Compiled with the C compiler directly (never by SwiftPM's linker) so that the
# library links libc only; see docs/RECORDING.md.
set -eu
if [ $# -ne 1 ]; then
    echo "usage: $0 OUTPUT.so" >&2
    exit 64
fi
dir=$(cd "$(dirname "$0")" && pwd)
${CC:-cc} ${GTRACE_RUNTIME_CFLAGS:-} -std=gnu11 -O2 -g -fPIC -shared -fvisibility=hidden -fno-plt \
    -ftls-model=initial-exec -Wall -Wextra -Wno-unused-parameter \
    -I "$dir/../CGtraceFormat/include" \
    "$dir"/*.c -o "$1" -Wl,--as-needed -Wl,-z,now -ldl -pthread
