#!/usr/bin/env python3
"""Seed experiments 2 and 3: the counting loop plus `time.sleep(0.1)` per call,
serial, on threads (experiment 2) or on processes (experiment 3, also
seed3_count_sleep_processes.py).

Threads hide the sleeps: time.sleep releases the GIL, so the sleeps overlap
and the GIL is mostly free. Processes each have their own GIL and run the
counting in parallel too.

    seed2_count_sleep.py serial|threads|processes [--workers 20] [--size 20000] [--sleep 0.1]
"""
import time

from seed_common import Clock, emit, parse, run_processes, run_threads


def count_and_sleep(iterations: int, sleep_s: float) -> None:
    n = 0
    for _ in range(iterations):
        n += 1
    time.sleep(sleep_s)


def run(experiment: int, default_mode=None) -> None:
    modes = ["serial", "threads", "processes"]
    args = parse(experiment, modes, default_workers=20, default_size=20_000,
                 extra=lambda p: p.add_argument("--sleep", type=float, default=0.1))
    clock = Clock()
    work = (args.size, args.sleep)
    fields = {"iterations": args.workers * args.size, "sleep_s": args.sleep}
    if args.mode == "serial":
        for _ in range(args.workers):
            count_and_sleep(*work)
        emit(clock.result(experiment, "serial", 1, **fields))
    elif args.mode == "threads":
        threads = run_threads(count_and_sleep, [work] * args.workers)
        emit(clock.result(experiment, "threads", args.workers, threads=threads, **fields))
    else:
        fields.update(run_processes(count_and_sleep, [work] * args.workers))
        emit(clock.result(experiment, "processes", args.workers, **fields))


if __name__ == "__main__":
    run(2)
