#!/bin/sh
# placeholder until runtime lands
set -e
dir=$(dirname "$0")
${CC:-cc} -O2 -fPIC -shared -fvisibility=hidden -I "$dir/../CGtraceFormat/include" "$dir"/*.c -o "$1" -ldl
