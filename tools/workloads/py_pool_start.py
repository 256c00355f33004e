#!/usr/bin/env python3
"""Small CPU tasks on a pool of 2, as threads or as processes started by a given
multiprocessing start method: the processes' start-up (a new interpreter for
spawn and forkserver, its imports) is most of such a run.

    py_pool_start.py threads|fork|forkserver|spawn [tasks] [size]

Prints {"wall_s": ...}: the pool's own wall time, start-up included.
"""
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def fibo(n):
    return n if n < 2 else fibo(n - 1) + fibo(n - 2)


if __name__ == "__main__":
    kind = sys.argv[1]
    tasks = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 23
    start = time.perf_counter()
    if kind == "threads":
        pool = ThreadPoolExecutor(2)
    else:
        pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context(kind))
    with pool:
        results = list(pool.map(fibo, [size] * tasks))
    print(json.dumps({"kind": kind, "tasks": tasks, "wall_s": time.perf_counter() - start}))
