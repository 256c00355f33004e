#!/usr/bin/env python3
"""Seed experiment 8: work done in C code that releases the GIL (hashlib's
SHA-256 over large buffers releases it), serially or on threads.

Threads do speed up here: the hashing runs outside the GIL, so gtrace should
count it as running without the GIL, in parallel, not as GIL time.

    seed8_release_gil.py serial|threads [--workers 2] [--size 64]   (size: MiB hashed per worker)
"""
import hashlib

from seed_common import Clock, emit, parse, run_threads

CHUNK = b"\x5a" * (1 << 20)


def hash_mib(mib: int) -> str:
    h = hashlib.sha256()
    for _ in range(mib):
        h.update(CHUNK)  # releases the GIL for buffers over 2 KiB
    return h.hexdigest()


def main() -> None:
    args = parse(8, ["serial", "threads"], default_workers=2, default_size=1024)
    clock = Clock()
    if args.mode == "serial":
        for _ in range(args.workers):
            hash_mib(args.size)
        emit(clock.result(8, "serial", 1, mib=args.workers * args.size))
    else:
        threads = run_threads(hash_mib, [(args.size,)] * args.workers)
        emit(clock.result(8, "threads", args.workers, mib=args.workers * args.size, threads=threads))


if __name__ == "__main__":
    main()
