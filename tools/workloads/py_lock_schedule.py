"""threading.Lock contention with the workload's own clocks (Tests/EndToEndTests/PythonLocationTests.swift).

THREADS threads each take one threading.Lock ROUNDS times and hold it HOLD
seconds (sleeping, so the GIL is free and the others queue on the lock).
With a fourth argument `nolock` they sleep the same without the lock (`lock`:
with it). A fifth, OUTSIDE seconds, adds a sleep outside the lock each round:
the threads then live long and wait little for the lock, so joining them
(waiting on each thread's `_tstate_lock` up to 3.12) waits longer than the lock's waiters.
Each thread measures its own wait (before `with` → inside) and hold (inside
→ release) with time.perf_counter. Prints one line of JSON with the totals,
the line of the `with lock:` statement and id(lock) (CPython: the object's
address; from 3.14 its PyMutex is 16 bytes in, after the object header).
"""
import json
import sys
import threading
import time

lock = threading.Lock()
CREATED_LINE = 17  # the line above


def worker(rounds, hold, out, outside=0.0):
    wait_total = hold_total = 0.0
    for _ in range(rounds):
        if outside:
            time.sleep(outside)
        t0 = time.perf_counter()
        with lock:
            t1 = time.perf_counter()
            time.sleep(hold)
            t2 = time.perf_counter()
        wait_total += t1 - t0
        hold_total += t2 - t1
    out.append((wait_total, hold_total))


WITH_LINE = worker.__code__.co_firstlineno + 6


def worker_without_lock(rounds, hold, out, outside=0.0):
    """The same sleeps with no lock around them: the run a "without lock" what-if predicts."""
    hold_total = 0.0
    for _ in range(rounds):
        if outside:
            time.sleep(outside)
        t1 = time.perf_counter()
        time.sleep(hold)
        hold_total += time.perf_counter() - t1
    out.append((0.0, hold_total))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    hold = float(sys.argv[3]) if len(sys.argv) > 3 else 0.005
    target = worker_without_lock if sys.argv[4:5] == ["nolock"] else worker
    outside = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    out = []
    ts = [threading.Thread(target=target, args=(rounds, hold, out, outside)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps({"wait_s": sum(w for w, _ in out), "hold_s": sum(h for _, h in out),
                      "with_line": WITH_LINE, "created_line": CREATED_LINE, "acquisitions": threads * rounds,
                      "lock_id": id(lock)}))


if __name__ == "__main__":
    main()
