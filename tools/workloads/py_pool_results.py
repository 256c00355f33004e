"""A pool of two workers whose tasks return large results: a
ProcessPoolExecutor pickles each result and sends it through a pipe, a
ThreadPoolExecutor hands over a reference.

Usage: py_pool_results.py processes|threads TASKS RESULT_BYTES
Prints one JSON line: {"mode": ..., "wall_s": ...}.
"""
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def work(size):
    s = 0
    for i in range(300_000):
        s += i * i
    return bytes(size)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("processes", "threads"):
        sys.exit("usage: py_pool_results.py processes|threads TASKS RESULT_BYTES")
    mode, tasks, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    pool = ProcessPoolExecutor if mode == "processes" else ThreadPoolExecutor
    start = time.perf_counter()
    with pool(2) as executor:
        results = list(executor.map(work, [size] * tasks))
    assert sum(map(len, results)) == tasks * size
    print(json.dumps({"mode": mode, "wall_s": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
