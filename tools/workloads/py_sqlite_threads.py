"""py_sqlite_threads.py THREADS QUERIES — THREADS threads each fill an
in-memory sqlite3 table of 20 000 rows and run QUERIES scans of it. The
sqlite3 module releases the GIL around every row it steps, so the GIL changes
hands tens of thousands of times a second: on 2 CPUs 4 threads take 2-3x as
long as on one. Prints {"wall_s": ...} (time.perf_counter around the threads)."""
import json
import sqlite3
import sys
import threading
import time

threads, queries = int(sys.argv[1]), int(sys.argv[2])


def work():
    db = sqlite3.connect(":memory:")
    db.execute("create table t(a integer, b text)")
    db.executemany("insert into t values (?, ?)", [(k, str(k)) for k in range(20000)])
    for _ in range(queries):
        db.execute("select sum(a), count(*) from t where b like '%7%'").fetchone()


start = time.perf_counter()
workers = [threading.Thread(target=work) for _ in range(threads)]
for t in workers:
    t.start()
for t in workers:
    t.join()
print(json.dumps({"wall_s": time.perf_counter() - start}))
