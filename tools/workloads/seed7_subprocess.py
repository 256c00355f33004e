#!/usr/bin/env python3
"""Seed experiment 7: `subprocess.Popen(["sleep", S]).wait()` from 5 threads or
5 processes (or serially).

waitpid runs with the GIL released: the GIL is idle, the threads are blocked
in wait, and threads and processes take the same time.

    seed7_subprocess.py serial|threads|processes [--workers 5] [--seconds 2]
"""
import subprocess

from seed_common import Clock, emit, parse, run_processes, run_threads


def sleep_child(seconds: float) -> int:
    return subprocess.Popen(["sleep", str(seconds)]).wait()


def main() -> None:
    args = parse(7, ["serial", "threads", "processes"], default_workers=5, default_size=1,
                 extra=lambda p: p.add_argument("--seconds", type=float, default=2.0))
    clock = Clock()
    if args.mode == "serial":
        for _ in range(args.workers):
            sleep_child(args.seconds)
        emit(clock.result(7, "serial", 1, seconds=args.seconds))
    elif args.mode == "threads":
        threads = run_threads(sleep_child, [(args.seconds,)] * args.workers)
        emit(clock.result(7, "threads", args.workers, seconds=args.seconds, threads=threads))
    else:
        emit(clock.result(7, "processes", args.workers, seconds=args.seconds,
                          **run_processes(sleep_child, [(args.seconds,)] * args.workers)))


if __name__ == "__main__":
    main()
