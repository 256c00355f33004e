"""WORKERS processes sharing a multiprocessing.Manager's dict: each increments
its own key TOTAL / WORKERS times through the proxy, a get and a set, each a
round trip over a Unix socket to the manager's process, which serves them one
at a time under its GIL.

Usage: py_manager_dict.py WORKERS TOTAL
Prints one JSON line: {"wall_s": ..., "manager_pid": ...}; wall_s is the
workers' time, from their start to the last one's end.
"""
import json
import sys
import time
from multiprocessing import Manager, Process


def work(shared, key, n):
    for _ in range(n):
        shared[key] = shared.get(key, 0) + 1


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: py_manager_dict.py WORKERS TOTAL")
    workers, total = int(sys.argv[1]), int(sys.argv[2])
    with Manager() as manager:
        shared = manager.dict()
        start = time.perf_counter()
        processes = [Process(target=work, args=(shared, k, total // workers)) for k in range(workers)]
        for p in processes:
            p.start()
        for p in processes:
            p.join()
        wall = time.perf_counter() - start
        assert sum(shared.values()) == total // workers * workers
        print(json.dumps({"wall_s": wall, "manager_pid": manager._process.pid}))


if __name__ == "__main__":
    main()
