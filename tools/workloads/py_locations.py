"""Python code at the GIL, with known answers (Tests/EndToEndTests/PythonLocationTests.swift).

py_locations.py [--rounds N] [--light N] [--heavy N]

Two CPU-bound workers share the GIL. Each calls `light` and `heavy` in turn;
the two functions count without calling anything, so the GIL is held in
them as long as they run, and each adds its own `time.thread_time()` to its
total. A third thread sleeps at SLEEP_LINE, so its waits for the GIL after
each sleep belong to that line; a sleep that ends while a worker still runs
asks for a GIL that worker holds, and waits (`busy_sleeps`; once the workers
are done the GIL is free and the sleeper takes it without waiting). Prints
one line of JSON: every worker's per-function CPU time, the sleeper's line,
sleep count and busy sleeps.
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


def sleeper(count, workers, out):
    for _ in range(count):
        time.sleep(0.003)
        out["busy_sleeps"] += all(w.is_alive() for w in workers)


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
    sleeps = {"busy_sleeps": 0}
    sleeping = threading.Thread(target=sleeper, args=(args.sleeps, workers, sleeps))
    for t in workers + [sleeping]:
        t.start()
    for t in workers + [sleeping]:
        t.join()
    print(json.dumps({"python": sys.version.split()[0], "workers": results, "sleep_line": SLEEP_LINE,
                      "sleeps": args.sleeps, "busy_sleeps": sleeps["busy_sleeps"], "rounds": args.rounds, "file": __file__}))


if __name__ == "__main__":
    main()
