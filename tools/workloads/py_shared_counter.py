"""Workers that count under one lock (SharedObjectsTests): MODE "threads" runs WORKERS
threads that each do ITERATIONS times a little work and `with lock: counter += 1` on a
threading.Lock; "processes" does the same in processes with a multiprocessing.Lock and
Value. Prints one line of JSON with its wall time and the count."""
import json
import multiprocessing as mp
import sys
import threading
import time


def work(iterations, lock, counter):
    for _ in range(iterations):
        sum(range(20))
        with lock:
            counter.value += 1


class Counter:
    value = 0


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "threads"
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 4
    iterations = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    if mode == "threads":
        lock, counter = threading.Lock(), Counter()
        runners = [threading.Thread(target=work, args=(iterations, lock, counter)) for _ in range(workers)]
    else:
        lock, counter = mp.Lock(), mp.Value("i", 0, lock=False)
        runners = [mp.Process(target=work, args=(iterations, lock, counter)) for _ in range(workers)]
    start = time.perf_counter()
    for r in runners:
        r.start()
    for r in runners:
        r.join()
    print(json.dumps({"mode": mode, "wall_s": time.perf_counter() - start, "count": counter.value}))


if __name__ == "__main__":
    main()
