"""queue.Queue producer/consumer (tools/bench/gil-overhead): PRODUCERS threads put
ITEMS small tuples each into one bounded queue.Queue, CONSUMERS threads take them
and sum a little work per item. Prints one line of JSON with the totals."""
import json
import queue
import sys
import threading
import time


def main():
    producers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    consumers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    items = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    q = queue.Queue(maxsize=64)
    totals = []

    def produce(base):
        for i in range(items):
            q.put((base, i))

    def consume():
        total = 0
        while True:
            item = q.get()
            if item is None:
                break
            total += sum(range(item[1] % 50))
        totals.append(total)

    start = time.perf_counter()
    ps = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    cs = [threading.Thread(target=consume) for _ in range(consumers)]
    for t in ps + cs:
        t.start()
    for t in ps:
        t.join()
    for _ in cs:
        q.put(None)
    for t in cs:
        t.join()
    print(json.dumps({"items": producers * items, "total": sum(totals), "wall_s": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
