"""Shared plumbing of the seed experiments (tools/workloads/seed*.py).

Each experiment script chooses its mode from argv[1], runs its work, and prints
ONE line of JSON on stdout with what it did and its own measurements: wall
time, CPU time of the process (and of its children in process modes), and for
thread modes each thread's CPU time read inside the thread as it ends
(`time.thread_time()`), which the end-to-end tests compare with gtrace's
per-thread GIL-held time.
"""
import argparse
import json
import multiprocessing
import os
import platform
import resource
import sys
import threading
import time


def parse(experiment: int, modes: list, default_workers: int, default_size: int, extra=None):
    parser = argparse.ArgumentParser(prog=os.path.basename(sys.argv[0]),
                                     description=f"gtrace seed experiment {experiment}")
    parser.add_argument("mode", choices=modes)
    parser.add_argument("--workers", type=int, default=default_workers)
    parser.add_argument("--size", type=int, default=default_size, help="work per worker (experiment units)")
    if extra:
        extra(parser)
    try:
        args = parser.parse_args()
    except SystemExit as e:
        sys.exit(64 if e.code else 0)
    if args.workers < 1 or args.size < 1:
        print(f"{parser.prog}: --workers and --size must be >= 1", file=sys.stderr)
        sys.exit(64)
    return args


class Clock:
    """Wall and CPU time of this process (and its reaped children)."""

    def __init__(self):
        self.wall = time.perf_counter()

    def result(self, experiment: int, mode: str, workers: int, **fields) -> dict:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
        out = {"experiment": experiment, "mode": mode, "workers": workers,
               "wall_s": round(time.perf_counter() - self.wall, 6), "cpu_s": round(cpu, 6),
               "python": platform.python_version(), "pid": os.getpid()}
        out.update(fields)
        return out


def run_threads(target, arguments: list) -> list:
    """Runs target(*args) on one thread per entry of `arguments`; returns each
    thread's name, kernel tid and CPU time measured inside it at its end."""
    results = [None] * len(arguments)

    def body(index, args):
        target(*args)
        results[index] = {"name": threading.current_thread().name,
                          "native_id": threading.get_native_id(),
                          "thread_cpu_s": round(time.thread_time(), 6)}

    threads = [threading.Thread(target=body, args=(i, a), name=f"worker-{i}") for i, a in enumerate(arguments)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def run_processes(target, arguments: list) -> dict:
    """Runs target(*args) in one multiprocessing.Process per entry of
    `arguments` (the platform's default start method); returns their pids and
    exit codes."""
    processes = [multiprocessing.Process(target=target, args=a) for a in arguments]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    return {"child_pids": [p.pid for p in processes], "exit_codes": [p.exitcode for p in processes]}


def emit(result: dict) -> None:
    print(json.dumps(result), flush=True)
