"""Python code at the GIL, with known answers (Tests/EndToEndTests/PythonLocationTests.swift).

py_locations.py [--rounds N] [--light N] [--heavy N]

Two CPU-bound workers share the GIL. Each calls `light` and `heavy` in turn;
the two functions count without calling anything, so the GIL is held in
them as long as they run, and each adds its own `time.thread_time()` to its
total. A third thread sleeps at SLEEP_LINE, so its waits for the GIL after
each sleep belong to that line. Prints one line of JSON: every worker's
per-function CPU time, the sleeper's line and sleep count.
"""
import argparse
import json
import sys
import threading
import time

totals = {"light": 0.0, "heavy": 0.0}
totals_lock = threading.Lock()


def light(n):
    start = time.thread_time()
    x = 0
    for i in range(n):
        x += i
    return time.thread_time() - start


def heavy(n):
    start = time.thread_time()
    x = 0
    for i in range(n):
        x += i
    return time.thread_time() - start


def worker(rounds, n_light, n_heavy, out):
    mine = {"light": 0.0, "heavy": 0.0}
    for _ in range(rounds):
        mine["light"] += light(n_light)
        mine["heavy"] += heavy(n_heavy)
    out.append({"native_id": threading.get_native_id(), **mine})


def sleeper(count):
    for _ in range(count):
        time.sleep(0.003)


SLEEP_LINE = sleeper.__code__.co_firstlineno + 2  # the line of time.sleep above


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--light", type=int, default=100000)
    parser.add_argument("--heavy", type=int, default=300000)
    parser.add_argument("--sleeps", type=int, default=30)
    args = parser.parse_args()
    results = []
    workers = [threading.Thread(target=worker, args=(args.rounds, args.light, args.heavy, results)) for _ in range(2)]
    sleeping = threading.Thread(target=sleeper, args=(args.sleeps,))
    for t in workers + [sleeping]:
        t.start()
    for t in workers + [sleeping]:
        t.join()
    print(json.dumps({"python": sys.version.split()[0], "workers": results, "sleep_line": SLEEP_LINE,
                      "sleeps": args.sleeps, "rounds": args.rounds, "file": __file__}))


if __name__ == "__main__":
    main()
