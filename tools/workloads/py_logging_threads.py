"""py_logging_threads.py THREADS RECORDS LOGFILE — THREADS threads each log
RECORDS lines through one logging.FileHandler, with a little work between
them: the handler's lock (an RLock) and the GIL change hands tens of
thousands of times a second. Prints {"wall_ns": ...} (time.perf_counter_ns
around the threads)."""
import json
import logging
import sys
import threading
import time

threads, records, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
handler = logging.FileHandler(path, mode="w")
log = logging.getLogger("workers")
log.addHandler(handler)
log.setLevel(logging.INFO)


def work(k):
    for i in range(records):
        log.info("thread %d item %d sum %d", k, i, sum(range(50)))


start = time.perf_counter_ns()
workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
for t in workers:
    t.start()
for t in workers:
    t.join()
handler.close()
print(json.dumps({"wall_ns": time.perf_counter_ns() - start}))
