"""py_queue.py's work as processes (SharedObjectsTests): PRODUCERS processes put ITEMS
small tuples each into one bounded multiprocessing.Queue, CONSUMERS processes take them
and sum a little work per item. Prints one line of JSON with the totals; its wall time is
the truth the "as processes" prediction for the threaded version is checked against."""
import json
import multiprocessing as mp
import sys
import time


def produce(q, base, items):
    for i in range(items):
        q.put((base, i))


def consume(q, out):
    total = 0
    while True:
        item = q.get()
        if item is None:
            break
        total += sum(range(item[1] % 50))
    out.put(total)


def main():
    producers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    consumers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    items = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    q, out = mp.Queue(maxsize=64), mp.Queue()
    start = time.perf_counter()
    ps = [mp.Process(target=produce, args=(q, p, items)) for p in range(producers)]
    cs = [mp.Process(target=consume, args=(q, out)) for _ in range(consumers)]
    for p in ps + cs:
        p.start()
    for p in ps:
        p.join()
    for _ in cs:
        q.put(None)
    total = sum(out.get() for _ in cs)
    for c in cs:
        c.join()
    print(json.dumps({"items": producers * items, "total": total, "wall_s": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
