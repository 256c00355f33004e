#!/usr/bin/env python3
"""Seed experiment 1: a pure-Python `n += 1` loop, serial or split over threads.

CPU-bound Python: the GIL lets one thread run at a time, so 20 threads take as
long as the serial loop. gtrace should show the GIL held ~100% of the time,
handed off every ~5 ms (the switch interval), 19 threads waiting. Mode
`processes` runs the same work on processes (each with its own GIL): the run
the replay's "without the GIL" prediction of the threads trace is checked against.

    seed1_count.py serial|threads|processes [--workers 20] [--size 4000000]
"""
from seed_common import Clock, emit, parse, run_processes, run_threads


def count(iterations: int) -> int:
    n = 0
    for _ in range(iterations):
        n += 1
    return n


def main() -> None:
    args = parse(1, ["serial", "threads", "processes"], default_workers=20, default_size=4_000_000)
    clock = Clock()
    if args.mode == "serial":
        count(args.workers * args.size)
        emit(clock.result(1, "serial", 1, iterations=args.workers * args.size))
    elif args.mode == "threads":
        threads = run_threads(count, [(args.size,)] * args.workers)
        emit(clock.result(1, "threads", args.workers, iterations=args.workers * args.size, threads=threads))
    else:
        emit(clock.result(1, "processes", args.workers, iterations=args.workers * args.size,
                          **run_processes(count, [(args.size,)] * args.workers)))


if __name__ == "__main__":
    main()
