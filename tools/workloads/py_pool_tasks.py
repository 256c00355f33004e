"""A pool of two workers whose tasks are lists of ints: a
ProcessPoolExecutor pickles each list and sends it through a pipe, a
ThreadPoolExecutor hands over a reference. Each task computes fib(WORK) and
returns the list's length.

Usage: py_pool_tasks.py processes|threads TASKS ITEMS WORK
Prints one JSON line: {"mode": ..., "wall_s": ..., "task_bytes": ...}, where
task_bytes is what multiprocessing's pickler makes of the tasks' lists.
"""
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.reduction import ForkingPickler


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def task(args):
    items, work = args
    fib(work)
    return len(items)


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in ("processes", "threads"):
        sys.exit("usage: py_pool_tasks.py processes|threads TASKS ITEMS WORK")
    mode, tasks, items, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    lists = [list(range(i, i + items)) for i in range(tasks)]
    task_bytes = sum(len(ForkingPickler.dumps(l)) for l in lists)
    pool = ProcessPoolExecutor if mode == "processes" else ThreadPoolExecutor
    start = time.perf_counter()
    with pool(2) as executor:
        lengths = list(executor.map(task, [(l, work) for l in lists]))
    wall = time.perf_counter() - start
    assert lengths == [items] * tasks
    print(json.dumps({"mode": mode, "wall_s": wall, "task_bytes": task_bytes}))


if __name__ == "__main__":
    main()
