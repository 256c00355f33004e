#!/usr/bin/env python3
"""A pool working through items that each sleep: the verdict's "bigger pool"
advice (Tests/EndToEndTests/PoolAdviceTests.swift).

    pool_sleep.py threads|processes WORKERS ITEMS SECONDS

Prints the wall time of the pool, in seconds, as `wall S`.
"""
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor


def item(seconds: float) -> None:
    time.sleep(seconds)


def main() -> None:
    if len(sys.argv) != 5 or sys.argv[1] not in ("threads", "processes"):
        sys.exit("usage: pool_sleep.py threads|processes WORKERS ITEMS SECONDS")
    workers, items, seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    executor = ThreadPoolExecutor if sys.argv[1] == "threads" else ProcessPoolExecutor
    start = time.perf_counter()
    with executor(workers) as pool:
        list(pool.map(item, [seconds] * items))
    print(f"wall {time.perf_counter() - start:.6f}")


if __name__ == "__main__":
    main()
