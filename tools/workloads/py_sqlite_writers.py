"""Threads that insert rows into one sqlite database file, each with its own
connection, committing every row (PoolAdviceTests): sqlite takes one writer at a
time, by byte-range fcntl locks gtrace does not record, and a writer that finds
the database locked sleeps in its busy handler and tries again. The work is
serial whatever the number of threads.

py_sqlite_writers.py THREADS ROWS DATABASE: ROWS in all, split over THREADS.
Prints `wall S`, the threads' wall time in seconds."""
import os
import sqlite3
import sys
import threading
import time


def main():
    threads, rows, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if os.path.exists(path):
        os.remove(path)
    with sqlite3.connect(path) as c:
        c.execute("create table t (a integer, b text)")

    def write(count):
        con = sqlite3.connect(path, timeout=60)
        for i in range(count):
            con.execute("insert into t values (?, ?)", (i, "x" * 100))
            con.commit()
        con.close()

    start = time.perf_counter()
    workers = [threading.Thread(target=write, args=(rows // threads,)) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    print(f"wall {time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
