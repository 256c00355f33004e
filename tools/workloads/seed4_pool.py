#!/usr/bin/env python3
"""Seed experiment 4: a CPU-heavy function over 12 values, serial, with
`multiprocessing.Pool(workers).map`, or one `Process` per value.

The pool reuses `workers` processes (gtrace shows their pids and how the tasks
spread); one process per item starts 12 interpreters.

    seed4_pool.py serial|pool|processes [--workers 2] [--size 1500000] [--items 12]
"""
import multiprocessing

from seed_common import Clock, emit, parse, run_processes


def power_sum(x_and_size) -> int:
    x, size = x_and_size
    total = 0
    for i in range(size):
        total += (x + i) ** 5 % 7
    return total


def main() -> None:
    args = parse(4, ["serial", "pool", "processes"], default_workers=2, default_size=1_500_000,
                 extra=lambda p: p.add_argument("--items", type=int, default=12))
    clock = Clock()
    items = [(x, args.size) for x in range(args.items)]
    if args.mode == "serial":
        list(map(power_sum, items))
        emit(clock.result(4, "serial", 1, items=args.items))
    elif args.mode == "pool":
        with multiprocessing.Pool(args.workers) as pool:
            pool.map(power_sum, items)
        emit(clock.result(4, "pool", args.workers, items=args.items))
    else:
        emit(clock.result(4, "processes", len(items), items=args.items,
                          **run_processes(power_sum, [(item,) for item in items])))


if __name__ == "__main__":
    main()
