#!/usr/bin/env python3
"""Seed experiment 6: recursive `fibo(n)` on 5 threads or 5 processes (or serially).

Like experiment 1 with threads (no speedup) and experiment 3 with processes.

    seed6_fibo.py serial|threads|processes [--workers 5] [--size 32]
"""
from seed_common import Clock, emit, parse, run_processes, run_threads


def fibo(n: int) -> int:
    return n if n < 2 else fibo(n - 1) + fibo(n - 2)


def main() -> None:
    args = parse(6, ["serial", "threads", "processes"], default_workers=5, default_size=32)
    clock = Clock()
    if args.mode == "serial":
        for _ in range(args.workers):
            fibo(args.size)
        emit(clock.result(6, "serial", 1, n=args.size))
    elif args.mode == "threads":
        threads = run_threads(fibo, [(args.size,)] * args.workers)
        emit(clock.result(6, "threads", args.workers, n=args.size, threads=threads))
    else:
        emit(clock.result(6, "processes", args.workers, n=args.size,
                          **run_processes(fibo, [(args.size,)] * args.workers)))


if __name__ == "__main__":
    main()
