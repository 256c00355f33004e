#!/usr/bin/env python3
"""Seed experiment 5: `sum(range(N))` on one thread, split over threads, or
split over processes that hand their partial sums back through a Queue.

Threads are serialised on the GIL; processes run in parallel.

    seed5_sum.py serial|threads|processes [--workers 2] [--size 250000000]
"""
import multiprocessing

from seed_common import Clock, emit, parse, run_threads


def partial_sum(start: int, stop: int, queue=None) -> int:
    total = sum(range(start, stop))
    if queue is not None:
        queue.put(total)
    return total


def main() -> None:
    args = parse(5, ["serial", "threads", "processes"], default_workers=2, default_size=250_000_000)
    clock = Clock()
    n = args.size
    step = n // args.workers
    bounds = [(i * step, n if i == args.workers - 1 else (i + 1) * step) for i in range(args.workers)]
    if args.mode == "serial":
        total = partial_sum(0, n)
        emit(clock.result(5, "serial", 1, total=total))
    elif args.mode == "threads":
        threads = run_threads(partial_sum, bounds)
        emit(clock.result(5, "threads", args.workers, threads=threads))
    else:
        queue = multiprocessing.Queue()
        processes = [multiprocessing.Process(target=partial_sum, args=(a, b, queue)) for a, b in bounds]
        for p in processes:
            p.start()
        total = sum(queue.get() for _ in processes)
        for p in processes:
            p.join()
        emit(clock.result(5, "processes", args.workers, total=total, exit_codes=[p.exitcode for p in processes]))


if __name__ == "__main__":
    main()
