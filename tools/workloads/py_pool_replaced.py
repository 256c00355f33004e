"""py_pool_replaced.py processes|replaced|threads TASKS N

A pool of 2 maps fib(N) over TASKS tasks, one task at a time (chunksize 1):
  processes  multiprocessing.Pool(2), its two workers kept for every task;
  replaced   multiprocessing.Pool(2, maxtasksperchild=1): a new forked worker per task;
  threads    multiprocessing.pool.ThreadPool(2).
Prints one JSON line: mode, wall_s (the pool's, from its creation to its end)."""
import json
import multiprocessing
import sys
import time
from multiprocessing.pool import ThreadPool


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


if __name__ == "__main__":
    mode, tasks, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    multiprocessing.set_start_method("fork")
    start = time.perf_counter()
    if mode == "threads":
        pool = ThreadPool(2)
    else:
        pool = multiprocessing.Pool(2, maxtasksperchild=1 if mode == "replaced" else None)
    with pool:
        pool.map(fib, [n] * tasks, chunksize=1)
    print(json.dumps({"mode": mode, "wall_s": time.perf_counter() - start}))
