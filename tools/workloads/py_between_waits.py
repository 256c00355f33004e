"""Threads whose every GIL hold runs between two blocking calls at the same line
(PythonBetweenWaitsTests): each of THREADS threads loops ITERATIONS times over
heavy() and light(), then time.sleep(0), which lets the GIL go and takes it back.
So each hold starts and ends at the sleep's line in loop(), and what ran in between
(heavy, light) is at neither end. Prints one line of JSON: each function's own
time.thread_time() summed over all threads, and the sleep's line."""
import json
import sys
import threading
import time


def heavy(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def light(n):
    total = 0
    for i in range(n):
        total += i
    return total


SLEEP_LINE = 0


def loop(iterations, out):
    global SLEEP_LINE
    heavy_s = light_s = 0.0
    for _ in range(iterations):
        a = time.thread_time()
        heavy(3000)
        b = time.thread_time()
        light(1000)
        c = time.thread_time()
        heavy_s += b - a
        light_s += c - b
        SLEEP_LINE = sys._getframe().f_lineno + 1
        time.sleep(0)
    out.append((heavy_s, light_s))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    out = []
    workers = [threading.Thread(target=loop, args=(iterations, out)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(json.dumps({"heavy_s": sum(o[0] for o in out), "light_s": sum(o[1] for o in out), "sleep_line": SLEEP_LINE}))


if __name__ == "__main__":
    main()
