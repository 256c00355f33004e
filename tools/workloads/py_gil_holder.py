"""One thread sorts a large list (sorted() runs in C holding the GIL, tens of
milliseconds a call) while another runs short pure-Python loops that need the
GIL between those calls. The sorter does most of the work; the other thread
spends most of its life waiting for the GIL. Prints one line of JSON with each
thread's own wall and CPU time (time.thread_time)."""
import json
import random
import sys
import threading
import time


def main():
    sorts = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    loops = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    random.seed(1)
    data = [random.random() for _ in range(300000)]
    own = {}

    def sorter():
        wall, cpu = time.perf_counter(), time.thread_time()
        for _ in range(sorts):
            sorted(data)
        own["sorter"] = {"wall_s": time.perf_counter() - wall, "cpu_s": time.thread_time() - cpu}

    def summer():
        wall, cpu = time.perf_counter(), time.thread_time()
        for _ in range(loops):
            s = 0
            for x in data[:100000]:
                s += x
        own["summer"] = {"wall_s": time.perf_counter() - wall, "cpu_s": time.thread_time() - cpu}

    threads = [threading.Thread(target=sorter), threading.Thread(target=summer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(own))


if __name__ == "__main__":
    main()
