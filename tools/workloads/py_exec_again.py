"""A Python program that execs Python again: the first image sums alone, then
replaces itself (same pid) with a second that runs 2 CPU-bound threads under
its GIL. The two images never run at once.

Usage: py_exec_again.py [ITEMS]   (the second image gets "again" first)
"""
import os
import sys
import threading


def count(n):
    s = 0
    for i in range(n):
        s += i
    return s


if len(sys.argv) > 1 and sys.argv[1] == "again":
    items = int(sys.argv[2])
    threads = [threading.Thread(target=count, args=(items,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
else:
    items = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000
    count(items)
    os.execv(sys.executable, [sys.executable, __file__, "again", str(items)])
